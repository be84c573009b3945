/*
 * faultinj.c — an LD_PRELOAD interposer for tests that need a system call
 * to fail or to be slow on demand, which no file system does.
 *
 * Failing fsyncs (tests/integration/test_diskerr.py): while the file named
 * by $FAULTINJ_TRIGGER exists, fsync(2) and fdatasync(2) fail with EIO
 * without syncing anything.
 *
 * Slow calls (tests/integration/test_latency_events.py, the latency
 * monitor's events): while the file named by $FAULTINJ_SLOW exists, each
 * of its lines "<call> <ms> [<substring>]" makes <call> sleep <ms>
 * milliseconds before doing its work, and with a substring only when it
 * acts on a file whose path contains it.  The calls: fsync, fdatasync,
 * write (regular files only), rename (either path), stat, unlink, fork.
 *
 * Otherwise, and with both variables unset, each call is the C library's.
 * The test creates, rewrites and removes the files to switch faults on
 * and off while the process runs.
 *
 * Built by `make check` as tests/faultinj.so (see Makefile.am).  Under
 * ASan the runtime insists on coming first in the library list: run with
 * ASAN_OPTIONS=verify_asan_link_order=0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* Stores in *fnptr (a function pointer of the caller's type) the C
 * library's definition of name; the process aborts if there is none. */
static void resolve(void *fnptr, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        abort();
    memcpy(fnptr, &sym, sizeof(sym));   /* POSIX: object to function pointer */
}

/* The path fd refers to, in buf (empty when unknown). */
static const char *fd_path(int fd, char *buf, size_t len)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/*
 * How many milliseconds call should sleep, per $FAULTINJ_SLOW's file; 0
 * when it does not exist or has no line for call.  The file is read
 * again on every call, so a test changes it at any time.  The call acts
 * on path and path2 (NULL: none), or on fd (< 0: none), whose path is
 * looked up only if a line needs it.
 */
static long slow_ms(const char *call, const char *path, const char *path2, int fd)
{
    const char *cfg = getenv("FAULTINJ_SLOW");
    if (cfg == NULL || cfg[0] == '\0')
        return 0;
    int f = open(cfg, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    char text[2048];
    ssize_t n = read(f, text, sizeof(text) - 1);
    close(f);
    text[n > 0 ? n : 0] = '\0';
    char fdbuf[4096];
    long ms = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[32], sub[256];
        long v;
        int k = sscanf(line, "%31s %ld %255s", name, &v, sub);
        if (k < 2 || strcmp(name, call) != 0)
            continue;
        if (k == 3) {
            if (path == NULL && fd >= 0)
                path = fd_path(fd, fdbuf, sizeof(fdbuf));
            if ((path == NULL || strstr(path, sub) == NULL) &&
                (path2 == NULL || strstr(path2, sub) == NULL))
                continue;
        }
        ms = v;
        break;
    }
    return ms;
}

/* Sleeps as $FAULTINJ_SLOW asks for call (see slow_ms); errno is kept. */
static void maybe_slow(const char *call, const char *path, const char *path2, int fd)
{
    int saved = errno;
    long ms = slow_ms(call, path, path2, fd);
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    errno = saved;
}

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
    maybe_slow(name, NULL, NULL, fd);
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

ssize_t write(int fd, const void *buf, size_t len)
{
    ssize_t (*next)(int, const void *, size_t);
    resolve(&next, "write");
    struct stat st;
    if (getenv("FAULTINJ_SLOW") && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        maybe_slow("write", NULL, NULL, fd);
    return next(fd, buf, len);
}

int rename(const char *from, const char *to)
{
    int (*next)(const char *, const char *);
    resolve(&next, "rename");
    maybe_slow("rename", from, to, -1);
    return next(from, to);
}

int unlink(const char *path)
{
    int (*next)(const char *);
    resolve(&next, "unlink");
    maybe_slow("unlink", path, NULL, -1);
    return next(path);
}

int stat64(const char *path, struct stat64 *st)
{
    int (*next)(const char *, struct stat64 *);
    resolve(&next, "stat64");
    maybe_slow("stat", path, NULL, -1);
    return next(path, st);
}

int stat(const char *path, struct stat *st)
{
    int (*next)(const char *, struct stat *);
    resolve(&next, "stat");
    maybe_slow("stat", path, NULL, -1);
    return next(path, st);
}

pid_t fork(void)
{
    pid_t (*next)(void);
    resolve(&next, "fork");
    maybe_slow("fork", NULL, NULL, -1);
    return next();
}
