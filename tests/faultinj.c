/*
 * faultinj.c — an LD_PRELOAD interposer for the disk-error tests
 * (tests/integration/test_diskerr.py): no file system makes fsync fail on
 * demand, so this one does.
 *
 * While the file named by $FAULTINJ_TRIGGER exists, fsync(2) and
 * fdatasync(2) fail with EIO without syncing anything; otherwise they
 * call the C library's.  The test creates and removes the trigger file to
 * switch faults on and off while the node runs.  With $FAULTINJ_TRIGGER
 * unset the interposer changes nothing.
 *
 * Built by `make check` as tests/faultinj.so (see Makefile.am).  Under
 * ASan the runtime insists on coming first in the library list: run with
 * ASAN_OPTIONS=verify_asan_link_order=0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* Nonzero when faults are switched on.  Keeps errno as it was. */
static int fault_on(void)
{
    const char *trigger = getenv("FAULTINJ_TRIGGER");
    if (trigger == NULL || trigger[0] == '\0')
        return 0;
    int saved = errno;
    int on = access(trigger, F_OK) == 0;
    errno = saved;
    return on;
}

/* Calls the next definition of name (the C library's) on fd, or fails
 * with EIO while faults are on. */
static int call_sync(const char *name, int fd)
{
    if (fault_on()) {
        errno = EIO;
        return -1;
    }
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL) {
        errno = ENOSYS;
        return -1;
    }
    sync_fn next;
    memcpy(&next, &sym, sizeof(next));   /* POSIX: object to function pointer */
    return next(fd);
}

int fsync(int fd)
{
    return call_sync("fsync", fd);
}

int fdatasync(int fd)
{
    return call_sync("fdatasync", fd);
}
