/*
 * aof.c — the append-only log (see aof.h and DESIGN.md, "Persistence").
 *
 * Layout (Redis 7.0): <dir>/<appenddirname>/ holds <appendfilename>.manifest
 * listing an optional base file and the incremental files
 * <appendfilename>.<seq>.incr.aof in order.  Records come from
 * propagate.c already serialised; each before-sleep pass seals what
 * accumulated into one batch followed by a checksum annotation line
 * (aoffmt.h) and appends it with write(2).  Under appendfsync always the
 * batch is fdatasync'ed before any reply leaves; under everysec a
 * dedicated thread fdatasyncs about once a second, so the loop never waits
 * for the disk.
 *
 * A failed write leaves the file as it was before the batch (ftruncate)
 * and keeps the batch for a retry (every before-sleep pass and every
 * cron); until a write succeeds, write commands are refused with
 * -MISCONF, and the replies of the clients whose records are in the
 * unwritten batch wait (aof_pending_at), so a failed write is never
 * followed by an acknowledgement.  A failed background fsync (everysec)
 * refuses writes the same way until a retried fsync succeeds.  Under
 * always the process exits on either error, as Redis does.
 */
#include "aof.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "aoffmt.h"
#include "cluster.h"
#include "conn.h"
#include "loading.h"
#include "crc64.h"
#include "latency.h"
#include "log.h"
#include "multi.h"
#include "propagate.h"
#include "rdbobj.h"
#include "replpos.h"
#include "server.h"

static struct {
    int on;                     /* records are logged (to aof.path) */
    int waiting;                /* turned on at runtime: waits for its first rewrite */
    int started;                /* aof_startup() has run */
    int fd;
    char *path;                 /* the incremental file being appended to */
    off_t size;                 /* its size up to the last complete batch */
    struct aoffmt_manifest man;

    char *buf;                  /* sealed batch (with annotation), then new records */
    size_t len, cap;
    size_t sealed;              /* bytes of buf forming the batch in flight */
    size_t written;             /* bytes of that batch already in the file */

    size_t batch_records;       /* record bytes (no annotation) of the sealed batch */
    unsigned long long fed;     /* record bytes ever fed (aof_feed) */
    unsigned long long done;    /* how many of them are in the file */

    unsigned long long others_size; /* the manifest's other files (base, older incrs) */
    unsigned long long base_size;   /* whole log after the last rewrite (aof_base_size) */

    int write_failed;
    int write_errno;
    int fsync_failed_seen;      /* the main thread has logged fs_failed */
    int need_fsync;             /* data written since the last fsync request */
    long long last_fsync_ms;
    char denied[160];
} aof = {.fd = -1};

/* ---- background fsync (everysec) ---- */

static pthread_t fs_thread;
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fs_cond = PTHREAD_COND_INITIALIZER;
static int fs_running;
static int fs_req_fd = -1;      /* a requested fsync not yet started */
static int fs_busy;
static int fs_stop;
static int fs_failed;           /* the last background fsync failed */
static int fs_errno;

static void *fs_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&fs_lock);
    for (;;) {
        while (fs_req_fd < 0 && !fs_stop)
            pthread_cond_wait(&fs_cond, &fs_lock);
        if (fs_req_fd < 0 && fs_stop)
            break;
        int fd = fs_req_fd;
        fs_req_fd = -1;
        fs_busy = 1;
        pthread_mutex_unlock(&fs_lock);
        int r = fdatasync(fd);
        int e = errno;
        pthread_mutex_lock(&fs_lock);
        fs_busy = 0;
        if (r != 0) {
            fs_failed = 1;
            fs_errno = e;
        } else {
            fs_failed = 0;
        }
        pthread_cond_broadcast(&fs_cond);
    }
    pthread_mutex_unlock(&fs_lock);
    return NULL;
}

static void fs_start(void)
{
    if (fs_running)
        return;
    fs_stop = 0;
    if (pthread_create(&fs_thread, NULL, fs_worker, NULL) != 0) {
        log_warn("Can't create the AOF fsync thread: %s", strerror(errno));
        exit(1);
    }
    fs_running = 1;
}

/* Wait until no fsync is queued or running (before closing the fd). */
static void fs_drain(void)
{
    pthread_mutex_lock(&fs_lock);
    while (fs_busy || fs_req_fd >= 0)
        pthread_cond_wait(&fs_cond, &fs_lock);
    pthread_mutex_unlock(&fs_lock);
}

static void fs_join(void)
{
    if (!fs_running)
        return;
    pthread_mutex_lock(&fs_lock);
    fs_stop = 1;
    pthread_cond_broadcast(&fs_cond);
    pthread_mutex_unlock(&fs_lock);
    pthread_join(fs_thread, NULL);
    fs_running = 0;
}

static void fs_request(void)
{
    pthread_mutex_lock(&fs_lock);
    if (!fs_busy && fs_req_fd < 0) {
        fs_req_fd = aof.fd;
        pthread_cond_signal(&fs_cond);
        aof.need_fsync = 0;
        aof.last_fsync_ms = server.mstime;
    }
    pthread_mutex_unlock(&fs_lock);
}

/* ---- paths and files ---- */

/* "<appenddirname>/<name>", rc_malloc'ed (dir is the working directory). */
static char *aof_path(const char *name)
{
    size_t n = strlen(server.appenddirname) + strlen(name) + 2;
    char *p = rc_malloc(n);
    snprintf(p, n, "%s/%s", server.appenddirname, name);
    return p;
}

static char *manifest_name(void)
{
    size_t n = strlen(server.appendfilename) + sizeof(".manifest");
    char *p = rc_malloc(n);
    snprintf(p, n, "%s.manifest", server.appendfilename);
    return p;
}

static int fsync_dir(void)
{
    int fd = open(server.appenddirname, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

/* Write the manifest atomically: temp file, fsync, rename, fsync dir. */
static int manifest_write(const struct aoffmt_manifest *m)
{
    size_t len;
    char *text = aoffmt_manifest_format(m, &len);
    char *name = manifest_name();
    char *final = aof_path(name);
    size_t tn = strlen(name) + sizeof("temp-");
    char *tmpname = rc_malloc(tn);
    snprintf(tmpname, tn, "temp-%s", name);
    char *tmp = aof_path(tmpname);
    int ok = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        ok = off == len && fsync(fd) == 0;
        close(fd);
        ok = ok && rename(tmp, final) == 0 && fsync_dir() == 0;
    }
    if (!ok) {
        log_warn("Can't write the AOF manifest %s: %s", final, strerror(errno));
        unlink(tmp);
    }
    rc_free(text);
    rc_free(name);
    rc_free(final);
    rc_free(tmpname);
    rc_free(tmp);
    return ok ? 0 : -1;
}

/* ---- replay ---- */

static int arity_ok(const struct command *cmd, int argc)
{
    return (cmd->arity > 0 && argc == cmd->arity) || (cmd->arity < 0 && argc >= -cmd->arity);
}

/* An annotation line of the log: the replication stream positions
 * (replpos.h) are restored from theirs; the others (checksums, Redis's
 * timestamps) mean nothing here. */
static void note_annotation(const char *line, size_t n, const char *path)
{
    size_t pl = sizeof(REPLPOS_AOF_PREFIX) - 1;
    if (n <= pl || memcmp(line, REPLPOS_AOF_PREFIX, pl) != 0)
        return;
    if (server.cluster_debug_bugs & CLUSTER_BUG_POSITION_LATE) {
        /* The planted bug: restore the previous annotation instead. */
        static char prev[REPLPOS_LINE_MAX + 4];
        static size_t prev_len;
        if (prev_len)
            replpos_load(prev, prev_len, path);
        prev_len = n - pl < sizeof(prev) ? n - pl : 0;
        memcpy(prev, line + pl, prev_len);
        return;
    }
    replpos_load(line + pl, n - pl, path);
}

/* Run the commands of buf[0..len) through c.  *multi_off is set to the
 * offset of an unterminated MULTI (or len).  Returns 0, or -1 after
 * logging (an unknown command or a wrong argument count). */
static int replay(struct client *c, const char *path, const char *buf, size_t len,
                  size_t *multi_off)
{
    size_t cap = 16;
    const char **av = rc_malloc(cap * sizeof(*av));
    size_t *al = rc_malloc(cap * sizeof(*al));
    struct slice *sv = rc_malloc(cap * sizeof(*sv));
    size_t pos = 0;
    int rc = 0;
    *multi_off = len;
    while (pos < len) {
        size_t start = pos, argc = 0;
        int r = aoffmt_next(buf, len, &pos, av, al, cap, &argc);
        if (r == -3) {
            cap = argc;
            av = rc_realloc(av, cap * sizeof(*av));
            al = rc_realloc(al, cap * sizeof(*al));
            sv = rc_realloc(sv, cap * sizeof(*sv));
            pos = start;
            continue;
        }
        if (r == 0) {
            note_annotation(buf + start, pos - start, path);
            continue;
        }
        if (r != 1 || argc > (size_t)INT32_MAX) {
            /* aoffmt_scan() accepted these bytes: this cannot happen. */
            log_warn("Bad file format reading the append only file %s at offset %zu", path,
                     start);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < argc; i++) {
            sv[i].p = av[i];
            sv[i].len = al[i];
        }
        c->argc = (int)argc;
        c->argv = sv;
        struct command *cmd = command_lookup_argv(c->argc, c->argv);
        if (cmd == NULL || !arity_ok(cmd, c->argc)) {
            log_warn("%s command '%.*s' reading the append only file %s at offset %zu",
                     cmd ? "Wrong arity for" : "Unknown", (int)(al[0] > 64 ? 64 : al[0]),
                     av[0], path, start);
            rc = -1;
            break;
        }
        if ((c->flags & CF_MULTI) && !multi_runs_now(cmd)) {
            multi_queue(c, cmd);
        } else {
            if (cmd->proc == cmd_multi)
                *multi_off = start;
            command_call(c, cmd);
            if (!(c->flags & CF_MULTI))
                *multi_off = len;
        }
        if (loading_step(pos) != 0) {
            log_warn("Loading of the append only file %s interrupted by a shutdown request "
                     "at offset %zu", path, pos);
            rc = -1;
            break;
        }
    }
    if (c->flags & CF_MULTI)
        multi_discard(c);
    c->argc = 0;
    c->argv = NULL;
    rc_free(av);
    rc_free(al);
    rc_free(sv);
    return rc;
}

/* Load one log file.  is_last: a torn tail may be truncated (it is the
 * file we will append to).  Returns 0 and the file's kept size, or -1. */
static int load_file(struct client *c, const char *name, int is_last, off_t *kept)
{
    char *path = aof_path(name);
    int rc = -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        log_warn("Can't open the append only file %s: %s", path, strerror(errno));
        rc_free(path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        log_warn("Can't stat the append only file %s: %s", path, strerror(errno));
        close(fd);
        rc_free(path);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    const char *buf = "";
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            log_warn("Can't map the append only file %s: %s", path, strerror(errno));
            close(fd);
            rc_free(path);
            return -1;
        }
        buf = map;
    }
    close(fd);

    struct aoffmt_scan sc;
    aoffmt_scan(buf, len, &sc);
    if (sc.status == AOFFMT_CORRUPT) {
        log_warn("Bad file format reading the append only file %s: damage at byte offset "
                 "%zu (%s). Refusing to start: the damage is not at the end of the file, so "
                 "it is not a torn write. Records before offset %zu are intact.", path,
                 sc.bad_offset, sc.why, sc.valid_end);
        goto done;
    }
    size_t keep = sc.valid_end;
    if (sc.status == AOFFMT_TRUNCATED) {
        if (!is_last) {
            log_warn("Fatal error: the truncated file %s is not the last file (%s at offset "
                     "%zu)", path, sc.why, sc.valid_end);
            goto done;
        }
        if (!server.aof_load_truncated) {
            log_warn("Unexpected end of file reading the append only file %s (%s at offset "
                     "%zu). You can: 1) make a backup of your AOF file, then use "
                     "redis-check-aof --fix <filename.manifest>. 2) Alternatively you can "
                     "set the 'aof-load-truncated' configuration option to yes and restart "
                     "the server.", path, sc.why, sc.valid_end);
            goto done;
        }
    }
    size_t multi_off;
    if (replay(c, path, buf, keep, &multi_off) != 0)
        goto done;
    if (multi_off < keep) {
        if (!is_last || !server.aof_load_truncated) {
            log_warn("Unexpected end of file reading the append only file %s: a MULTI at "
                     "offset %zu has no EXEC", path, multi_off);
            goto done;
        }
        log_warn("Revert incomplete MULTI/EXEC transaction in AOF file %s", path);
        keep = multi_off;
        sc.status = AOFFMT_TRUNCATED;
        sc.why = "incomplete MULTI/EXEC transaction";
    }
    if (sc.status == AOFFMT_TRUNCATED) {
        log_warn("!!! Warning: the append only file %s ends with a torn write (%s): "
                 "truncating it from %zu to %zu bytes; the %zu discarded bytes were never "
                 "acknowledged as durable !!!", path, sc.why, len, keep, len - keep);
        if (truncate(path, (off_t)keep) != 0) {
            log_warn("Error truncating the AOF file %s: %s", path, strerror(errno));
            goto done;
        }
        int tfd = open(path, O_WRONLY);
        if (tfd < 0 || fsync(tfd) != 0) {
            log_warn("Error syncing the truncated AOF file %s: %s", path, strerror(errno));
            if (tfd >= 0)
                close(tfd);
            goto done;
        }
        close(tfd);
    }
    *kept = (off_t)keep;
    loading_file_done(len);
    rc = 0;
done:
    if (map)
        munmap(map, len);
    rc_free(path);
    return rc;
}

static int name_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n >= s && strcmp(name + n - s, suffix) == 0;
}

/* Remove what an interrupted rewrite or manifest update left behind in
 * the AOF directory: temp-* files are never referenced by a manifest. */
static void remove_temp_files(void)
{
    DIR *d = opendir(server.appenddirname);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "temp-", 5) != 0)
            continue;
        char *path = aof_path(de->d_name);
        if (unlink(path) == 0)
            log_notice("Removed the incomplete file %s", path);
        rc_free(path);
    }
    closedir(d);
}

/* Read the manifest if there is one.  Returns 1 loaded, 0 none, -1 error. */
static int manifest_read(struct aoffmt_manifest *m)
{
    char *name = manifest_name();
    char *path = aof_path(name);
    rc_free(name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            rc_free(path);
            return 0;
        }
        log_warn("Can't open the AOF manifest %s: %s", path, strerror(e));
        rc_free(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = rc_malloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > ((size_t)1 << 30)) {
                log_warn("The AOF manifest %s is too large", path);
                goto fail;
            }
            cap *= 2;
            text = rc_realloc(text, cap);
        }
        ssize_t r = read(fd, text + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            log_warn("Can't read the AOF manifest %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    char err[256];
    if (aoffmt_manifest_parse(text, len, m, err, sizeof(err)) != 0) {
        log_warn("%s (manifest %s)", err, path);
        goto fail;
    }
    close(fd);
    rc_free(text);
    rc_free(path);
    return 1;
fail:
    close(fd);
    rc_free(text);
    rc_free(path);
    return -1;
}

/* Open the incremental file to append to, creating it (and recording it
 * in the manifest) when the manifest has none. */
static int open_incr(void)
{
    struct aoffmt_manifest *m = &aof.man;
    if (m->nincr == 0) {
        long long seq = m->base ? m->base->seq : 1;
        char name[512];
        int n = snprintf(name, sizeof(name), "%s.%lld.incr.aof", server.appendfilename, seq);
        if (n < 0 || (size_t)n >= sizeof(name) || aoffmt_manifest_add(m, name, seq,
                                                                     AOFFMT_INCR) != 0) {
            log_warn("The appendfilename '%s' cannot be used in an AOF manifest",
                     server.appendfilename);
            return -1;
        }
        char *path = aof_path(name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, AOFFMT_HEADER, AOFFMT_HEADER_LEN) != (ssize_t)AOFFMT_HEADER_LEN ||
            fsync(fd) != 0) {
            log_warn("Can't create the append only file %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            rc_free(path);
            return -1;
        }
        close(fd);
        rc_free(path);
        if (manifest_write(m) != 0)
            return -1;
        aof.size = 0;
    }
    const char *name = m->incr[m->nincr - 1].name;
    aof.path = aof_path(name);
    aof.fd = open(aof.path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (aof.fd < 0) {
        log_warn("Can't open the append-only file %s: %s", aof.path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(aof.fd, &st) != 0) {
        log_warn("Can't stat the append-only file %s: %s", aof.path, strerror(errno));
        return -1;
    }
    aof.size = st.st_size;
    if (aof.size == 0) {
        /* An empty file (a torn header was cut): frame it from the start. */
        if (write(aof.fd, AOFFMT_HEADER, AOFFMT_HEADER_LEN) != (ssize_t)AOFFMT_HEADER_LEN ||
            fdatasync(aof.fd) != 0) {
            log_warn("Can't write the append-only file %s: %s", aof.path, strerror(errno));
            return -1;
        }
        aof.size = (off_t)AOFFMT_HEADER_LEN;
    }
    return 0;
}

/* Size of the log file name in the AOF directory; 0 when it is missing
 * (loading reports that). */
static unsigned long long file_size(const char *name)
{
    char *path = aof_path(name);
    struct stat st;
    unsigned long long size = 0;
    uint64_t t0 = latency_start();
    if (stat(path, &st) == 0 && st.st_size > 0)
        size = (unsigned long long)st.st_size;
    latency_add_sample_if_needed("aof-fstat", latency_ms_since(t0));
    rc_free(path);
    return size;
}

/* Bytes in the files m lists. */
static unsigned long long files_size(const struct aoffmt_manifest *m)
{
    unsigned long long total = m->base ? file_size(m->base->name) : 0;
    for (size_t i = 0; i < m->nincr; i++)
        total += file_size(m->incr[i].name);
    return total;
}

/* Recomputes aof.others_size: every file of the manifest but the
 * incremental file being appended to, whose size is aof.size. */
static void sizes_refresh(void)
{
    unsigned long long total = files_size(&aof.man);
    unsigned long long cur = (unsigned long long)aof.size;
    aof.others_size = total > cur ? total - cur : 0;
}

static unsigned long long current_size(void)
{
    return aof.others_size + (unsigned long long)aof.size;
}

int aof_startup(void)
{
    aof.started = 1;
    if (!server.appendonly)
        return 0;
    if (mkdir(server.appenddirname, 0755) != 0 && errno != EEXIST) {
        log_warn("Can't create the AOF directory %s: %s", server.appenddirname,
                 strerror(errno));
        return -1;
    }
    remove_temp_files();
    int have = manifest_read(&aof.man);
    if (have < 0)
        return -1;
    if (have) {
        struct aoffmt_manifest *m = &aof.man;
        long long t0 = (long long)rc_ustime();
        struct client *c = conn_fake_create();
        struct slice *saved_argv = c->argv;
        int saved_cap = c->argv_cap;
        loading_begin(files_size(m));
        propagate_suspend(1);
        int rc = 0;
        if (m->base) {
            if (name_has_suffix(m->base->name, ".rdb")) {
                /* An RDB base, as BGREWRITEAOF writes it (aof-use-rdb-preamble). */
                char *path = aof_path(m->base->name);
                char err[4608];
                if (rdb_load_file(path, err, sizeof(err)) != 0) {
                    log_warn("Fatal error loading the AOF base file %s: %s", path, err);
                    rc = -1;
                }
                rc_free(path);
            } else {
                off_t kept;
                rc = load_file(c, m->base->name, m->nincr == 0, &kept);
            }
        }
        for (size_t i = 0; rc == 0 && i < m->nincr; i++) {
            off_t kept;
            rc = load_file(c, m->incr[i].name, i + 1 == m->nincr, &kept);
        }
        loading_end();
        propagate_suspend(0);
        c->argv = saved_argv;
        c->argv_cap = saved_cap;
        c->argc = 0;
        conn_fake_destroy(&c);
        if (rc != 0)
            return -1;
        log_notice("DB loaded from append only file: %.3f seconds",
                   (double)((long long)rc_ustime() - t0) / 1e6);
    }
    if (open_incr() != 0)
        return -1;
    sizes_refresh();
    /* Redis does not persist the size after the last rewrite either: the
     * base file stands for it until the first rewrite. */
    aof.base_size = aof.man.base ? file_size(aof.man.base->name) : 0;
    aof.on = 1;
    aof.last_fsync_ms = server.mstime;
    propagate_reset_selected_db();
    fs_start();
    return 0;
}

/* ---- writing ---- */

int aof_enabled(void)
{
    return aof.on;
}

static void buf_reserve(size_t more)
{
    if (more > SIZE_MAX - aof.len)
        abort();
    if (aof.len + more <= aof.cap)
        return;
    size_t ncap = aof.cap ? aof.cap : 4096;
    while (ncap < aof.len + more)
        ncap = ncap > SIZE_MAX / 2 ? aof.len + more : ncap * 2;
    aof.buf = rc_realloc(aof.buf, ncap);
    aof.cap = ncap;
}

void aof_feed(const char *p, size_t n)
{
    if (!aof.on)
        return;
    buf_reserve(n);
    memcpy(aof.buf + aof.len, p, n);
    aof.len += n;
    aof.fed += n;
}

unsigned long long aof_fed_offset(void)
{
    return aof.fed;
}

int aof_pending_at(unsigned long long pos)
{
    /* Not tied to aof.on: replies held when shutdown gave up on the
     * batch stay held; turning the log off releases them explicitly. */
    return pos > aof.done;
}

/* Is a background fsync queued or running? */
static int fsync_in_progress(void)
{
    pthread_mutex_lock(&fs_lock);
    int busy = fs_busy || fs_req_fd >= 0;
    pthread_mutex_unlock(&fs_lock);
    return busy;
}

/* Write everything pending, batch by batch.  Returns 0, or -1 with errno
 * set; the file is then cut back to its last complete batch when
 * possible, else the write resumes where it stopped. */
static int write_batches(void)
{
    for (;;) {
        if (aof.sealed == 0) {
            if (aof.len == 0)
                return 0;
            char ann[AOFFMT_ANNOTATION_MAX];
            size_t an = aoffmt_annotation(ann, crc64(0, aof.buf, aof.len), aof.len);
            aof.batch_records = aof.len;
            buf_reserve(an);
            memcpy(aof.buf + aof.len, ann, an);
            aof.len += an;
            aof.sealed = aof.len;
            aof.written = 0;
        }
        while (aof.written < aof.sealed) {
            ssize_t w = write(aof.fd, aof.buf + aof.written, aof.sealed - aof.written);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = w == 0 ? ENOSPC : errno;
                if (aof.written > 0 && ftruncate(aof.fd, aof.size) == 0)
                    aof.written = 0;
                errno = e;
                return -1;
            }
            aof.written += (size_t)w;
        }
        aof.size += (off_t)aof.sealed;
        aof.done += aof.batch_records;
        memmove(aof.buf, aof.buf + aof.sealed, aof.len - aof.sealed);
        aof.len -= aof.sealed;
        aof.sealed = 0;
        aof.written = 0;
        aof.need_fsync = 1;
        if (aof.cap > (1 << 20) && aof.len < 4096) {
            aof.buf = rc_realloc(aof.buf, 4096);
            aof.cap = 4096;
        }
    }
}

/* write_batches(), timed for the latency monitor as Redis 7.0 times the
 * write of its AOF buffer: "aof-write", and the circumstance it happened
 * in (a background fsync pending under everysec, else a child running,
 * else neither). */
static int write_pending(void)
{
    if (aof.len == 0 && aof.sealed == 0)
        return 0;
    uint64_t t0 = latency_start();
    int fsync_pending = t0 && server.appendfsync == AOF_FSYNC_EVERYSEC && fsync_in_progress();
    int rc = write_batches();
    int saved = errno;
    long long ms = latency_ms_since(t0);
    if (fsync_pending)
        latency_add_sample_if_needed("aof-write-pending-fsync", ms);
    else if (server.child_active)
        latency_add_sample_if_needed("aof-write-active-child", ms);
    else
        latency_add_sample_if_needed("aof-write-alone", ms);
    latency_add_sample_if_needed("aof-write", ms);
    errno = saved;
    return rc;
}

/* The background fsync's status: 0 ok, else the errno of its failure.
 * A change since the last call is logged (here, in the main thread), so
 * the log tells of a failure before any -MISCONF reply does. */
static int fsync_status(void)
{
    pthread_mutex_lock(&fs_lock);
    int e = fs_failed ? fs_errno : 0;
    pthread_mutex_unlock(&fs_lock);
    if (e && !aof.fsync_failed_seen)
        log_warn("Fail to fsync the AOF file: %s", strerror(e));
    else if (!e && aof.fsync_failed_seen)
        log_warn("AOF fsync error looks solved, ringcache can write again.");
    aof.fsync_failed_seen = e != 0;
    return e;
}

/* no-appendfsync-on-rewrite: while a snapshot or rewrite child runs, the
 * log is written but not synced (the child's disk traffic would make each
 * fsync slow), as in Redis; the first pass after the child syncs it all.
 * The price is the one Redis documents: a crash meanwhile may lose what
 * was written since the last fsync, whatever appendfsync says. */
static int fsync_paused(void)
{
    return server.aof_no_fsync_on_rewrite && server.child_active;
}

void aof_before_write(void)
{
    if (!aof.on)
        return;
    if (aof.len > 0 || aof.sealed > 0) {
        size_t partial = aof.written;
        if (write_pending() != 0) {
            int e = errno;
            if (!aof.write_failed || server.appendfsync == AOF_FSYNC_ALWAYS) {
                log_warn("Error writing to the AOF file: %s", strerror(e));
                if (aof.written > partial)
                    log_warn("Could not remove a short write from the append only file %s: "
                             "the rest of the batch will be appended when the disk allows",
                             aof.path);
            }
            if (server.appendfsync == AOF_FSYNC_ALWAYS) {
                /* Replies to the batch's commands are queued and the
                 * dataset cannot be rolled back: never acknowledge them. */
                log_warn("Can't recover from AOF write error when the AOF fsync policy is "
                         "'always'. Exiting...");
                exit(1);
            }
            aof.write_failed = 1;
            aof.write_errno = e;
            return;
        }
        if (aof.write_failed) {
            log_warn("AOF write error looks solved, ringcache can write again.");
            aof.write_failed = 0;
        }
    }
    if (fsync_paused())
        return;
    if (server.appendfsync == AOF_FSYNC_ALWAYS) {
        if (!aof.need_fsync)
            return;
        /* A background fsync of the same fd may be running: it is harmless
         * to sync again here, and ours covers every byte written. */
        uint64_t t0 = latency_start();
        if (fdatasync(aof.fd) != 0) {
            log_warn("Can't persist AOF for fsync error when the AOF fsync policy is "
                     "'always': %s. Exiting...", strerror(errno));
            exit(1);
        }
        latency_add_sample_if_needed("aof-fsync-always", latency_ms_since(t0));
        aof.need_fsync = 0;
        aof.last_fsync_ms = server.mstime;
    } else if (server.appendfsync == AOF_FSYNC_EVERYSEC &&
               (aof.need_fsync || aof.fsync_failed_seen) &&
               server.mstime - aof.last_fsync_ms >= 1000) {
        /* After a failed background fsync, one is retried every second
         * even with nothing new written: writes stay refused until one
         * succeeds. */
        fs_request();
    }
}

int aof_cut(char *base, size_t blen, char *incr, size_t ilen, unsigned long long *size)
{
    if (!aof.on)
        return 1;
    if ((aof.len > 0 || aof.sealed > 0) && write_pending() != 0) {
        /* Left as it was: the next before-sleep pass retries (and under
         * always exits), as for any failed write. */
        log_warn("Error writing to the AOF file for a ring backup cut: %s", strerror(errno));
        return -1;
    }
    /* What follows the cut starts with its SELECT: a copy of the log from
     * this position on replays by itself. */
    propagate_reset_selected_db();
    snprintf(base, blen, "%s", aof.man.base ? aof.man.base->name : "");
    const char *slash = strrchr(aof.path, '/');
    snprintf(incr, ilen, "%s", slash ? slash + 1 : aof.path);
    *size = (unsigned long long)aof.size;
    return 0;
}

int aof_holds_replies(void)
{
    return aof.on && server.appendfsync == AOF_FSYNC_ALWAYS &&
           (aof.len > 0 || aof.sealed > 0 || (aof.need_fsync && !fsync_paused()));
}

void aof_cron(void)
{
    if (!aof.on)
        return;
    fsync_status();
    if (aof.write_failed || aof.need_fsync || aof.fsync_failed_seen)
        aof_before_write();
}

int aof_last_write_ok(void)
{
    return !aof.on || (!aof.write_failed && fsync_status() == 0);
}

void aof_shutdown(void)
{
    if (aof.on) {
        aof_before_write();
        if (aof.fd >= 0) {
            fs_drain();
            if (fsync(aof.fd) != 0)
                log_warn("Error syncing the AOF file at shutdown: %s", strerror(errno));
        }
    }
    fs_join();
    if (aof.fd >= 0)
        close(aof.fd);
    aof.fd = -1;
    aof.on = 0;
    rc_free(aof.path);
    aof.path = NULL;
    rc_free(aof.buf);
    aof.buf = NULL;
    aof.len = aof.cap = aof.sealed = aof.written = 0;
    aoffmt_manifest_free(&aof.man);
    propagate_free_all();
}

int aof_rewrite_due(long long *growth)
{
    if (!aof.on || aof.waiting || server.aof_rewrite_perc <= 0)
        return 0;
    unsigned long long cur = current_size();
    if (cur <= (unsigned long long)server.aof_rewrite_min_size)
        return 0;
    unsigned long long base = aof.base_size ? aof.base_size : 1;
    /* Growth in percent over the size after the last rewrite, computed
     * without overflow for any realistic size (cur < 2^57). */
    long long g = cur > ULLONG_MAX / 100 ? LLONG_MAX : (long long)(cur * 100 / base) - 100;
    if (g < server.aof_rewrite_perc)
        return 0;
    *growth = g;
    return 1;
}

void aof_get_info(struct aof_info *out)
{
    out->current_size = current_size();
    out->base_size = aof.base_size;
    out->buffer_length = aof.len;
    out->pending_bio_fsync = fsync_in_progress();
}

const char *aof_write_denied(void)
{
    if (!aof.on)
        return NULL;
    int e = aof.write_failed ? aof.write_errno : fsync_status();
    if (e == 0)
        return NULL;
    snprintf(aof.denied, sizeof(aof.denied), "MISCONF Errors writing to the AOF file: %s",
             strerror(e));
    return aof.denied;
}

/* Stops logging: the pending batch is written and synced, the file
 * closed, and every held reply released (nothing is pending any more). */
static void log_close(void)
{
    aof_before_write();
    if (aof.fd >= 0) {
        fs_drain();
        if (fsync(aof.fd) != 0)
            log_warn("Error syncing the AOF file: %s", strerror(errno));
        close(aof.fd);
    }
    aof.fd = -1;
    aof.on = 0;
    rc_free(aof.path);
    aof.path = NULL;
    aof.size = 0;
    aof.others_size = aof.base_size = 0;
    aof.len = aof.sealed = aof.written = 0;
    aof.done = aof.fed;
    aof.write_failed = 0;
    aof.fsync_failed_seen = 0;
    pthread_mutex_lock(&fs_lock);
    fs_failed = 0;
    pthread_mutex_unlock(&fs_lock);
    aoffmt_manifest_free(&aof.man);
}

static void close_temp_incr(void);

const char *aof_config_appendonly(int on)
{
    if (!aof.started)
        return NULL;            /* start-up configuration: aof_startup() acts on it */
    if (on && !aof.on && !aof.waiting) {
        if (mkdir(server.appenddirname, 0755) != 0 && errno != EEXIST) {
            snprintf(aof.denied, sizeof(aof.denied), "Can't create the AOF directory: %s",
                     strerror(errno));
            return aof.denied;
        }
        /* The log starts with a rewrite, as in Redis (AOF_WAIT_REWRITE):
         * its base is the dataset at the fork, and the records that
         * follow go to a temporary incremental file that the manifest
         * names once the base is complete. */
        aof.waiting = 1;
        return NULL;
    }
    if (!on && (aof.on || aof.waiting)) {
        if (aof.waiting && aof.on)
            close_temp_incr();      /* the file of an unfinished start */
        else if (aof.on)
            log_close();
        aof.waiting = 0;
        log_notice("Background append only file writing stopped (appendonly no)");
    }
    return NULL;
}

int aof_waiting(void)
{
    return aof.waiting;
}

/* The name (and sequence number) of the incremental file that follows
 * the last one m lists.  Returns 0, or -1 when it cannot be formed. */
static int next_incr_name(const struct aoffmt_manifest *m, char *name, size_t len,
                          long long *seq)
{
    long long last = m->nincr ? m->incr[m->nincr - 1].seq : 0;
    if (last >= LLONG_MAX - 1)
        return -1;
    *seq = last + 1;
    int n = snprintf(name, len, "%s.%lld.incr.aof", server.appendfilename, *seq);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A log being turned on stops before its first rewrite completed (it
 * failed, or appendonly went back to no): stop logging and drop the file
 * it appended to, under its temporary name or, when adopt_temp_incr()
 * renamed it but the manifest could not name it, its final one. */
static void close_temp_incr(void)
{
    char *path = rc_strndup(aof.path, strlen(aof.path));
    log_close();
    unlink(path);
    rc_free(path);
}

/* Name of the temporary incremental file of a log being turned on. */
static char *temp_incr_path(void)
{
    char name[512];
    snprintf(name, sizeof(name), "temp-%s.incr", server.appendfilename);
    return aof_path(name);
}

/* A log being turned on starts appending to its temporary incremental
 * file, just before the fork of the rewrite that writes its base.
 * Returns 0 or -1 (logged). */
static int open_temp_incr(void)
{
    char *path = temp_incr_path();
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, AOFFMT_HEADER, AOFFMT_HEADER_LEN) != (ssize_t)AOFFMT_HEADER_LEN) {
        log_warn("Can't create the append only file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(path);
        rc_free(path);
        return -1;
    }
    aof.fd = fd;
    aof.path = path;
    aof.size = (off_t)AOFFMT_HEADER_LEN;
    aof.others_size = 0;
    aof.base_size = 0;
    aof.need_fsync = 1;
    aof.last_fsync_ms = server.mstime;
    aof.on = 1;
    propagate_reset_selected_db();
    fs_start();
    return 0;
}


/* The base of a log being turned on is complete: its temporary
 * incremental file becomes <appendfilename>.<seq>.incr.aof, listed after
 * the new base in nm.  Returns 0 or -1 (logged; nothing renamed). */
static int adopt_temp_incr(struct aoffmt_manifest *nm, const struct aoffmt_manifest *old)
{
    long long seq;
    char name[512];
    if (next_incr_name(old, name, sizeof(name), &seq) != 0)
        return -1;
    if (write_pending() != 0 || fdatasync(aof.fd) != 0) {
        log_warn("Error syncing the new AOF file %s: %s", aof.path, strerror(errno));
        return -1;
    }
    char *path = aof_path(name);
    uint64_t t0 = latency_start();
    if (rename(aof.path, path) != 0) {
        log_warn("Can't rename %s to %s: %s", aof.path, path, strerror(errno));
        rc_free(path);
        return -1;
    }
    latency_add_sample_if_needed("aof-rename", latency_ms_since(t0));
    rc_free(aof.path);
    aof.path = path;
    aoffmt_manifest_add(nm, name, seq, AOFFMT_INCR);
    return 0;
}

/* ---- rewrite (BGREWRITEAOF) ---- */

/*
 * A rewrite replaces the base and the incremental files that precede it.
 * aof_rewrite_begin() runs in the parent just before the fork: the pending
 * batch is written and synced to the current incremental file, a new
 * incremental file is created and recorded in the manifest (so every write
 * acknowledged from now on is reachable from the manifest whatever happens
 * to the child), and appending moves to it.  The child then writes the new
 * base (an RDB).  aof_rewrite_end() runs once the child is reaped: on
 * success the manifest is replaced by one naming the new base and the
 * incremental files opened since the fork, and only then are the old files
 * deleted; on failure the new base is removed and the manifest, which
 * still names the old base and every incremental file, stays.
 */
static struct {
    int active;
    int was_on;                     /* the log was on when the rewrite began */
    struct aoffmt_manifest old;     /* files the new base supersedes */
    char *base_name;                /* the base file the child writes */
    long long base_seq;
    size_t keep_from;               /* incrs of aof.man from here on survive */
} rw;

/* Adds copies of src's entries to dst (the base, then incrs [0, n)). */
static void copy_entries(struct aoffmt_manifest *dst, const struct aoffmt_manifest *src, size_t n)
{
    if (src->base)
        aoffmt_manifest_add(dst, src->base->name, src->base->seq, AOFFMT_BASE);
    for (size_t i = 0; i < n && i < src->nincr; i++)
        aoffmt_manifest_add(dst, src->incr[i].name, src->incr[i].seq, AOFFMT_INCR);
}

/* Creates a new incremental file, records it in the manifest and appends
 * to it from now on.  The current file is synced first.  Returns 0 or -1
 * (nothing changed). */
static int switch_incr(void)
{
    struct aoffmt_manifest *m = &aof.man;
    if (write_pending() != 0) {
        log_warn("Error writing to the AOF file before a rewrite: %s", strerror(errno));
        return -1;
    }
    fs_drain();
    if (fdatasync(aof.fd) != 0) {
        log_warn("Error syncing the AOF file before a rewrite: %s", strerror(errno));
        return -1;
    }
    aof.need_fsync = 0;
    aof.last_fsync_ms = server.mstime;
    long long seq;
    char name[512];
    if (next_incr_name(m, name, sizeof(name), &seq) != 0)
        return -1;
    char *path = aof_path(name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, AOFFMT_HEADER, AOFFMT_HEADER_LEN) != (ssize_t)AOFFMT_HEADER_LEN ||
        fsync(fd) != 0) {
        log_warn("Can't create the append only file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(path);
        rc_free(path);
        return -1;
    }
    if (aoffmt_manifest_add(m, name, seq, AOFFMT_INCR) != 0 || manifest_write(m) != 0) {
        if (m->nincr && !strcmp(m->incr[m->nincr - 1].name, name)) {
            rc_free(m->incr[m->nincr - 1].name);
            m->nincr--;
        }
        close(fd);
        unlink(path);
        rc_free(path);
        return -1;
    }
    close(aof.fd);
    rc_free(aof.path);
    aof.fd = fd;
    aof.path = path;
    aof.size = (off_t)AOFFMT_HEADER_LEN;
    sizes_refresh();
    /* The new file must start with its own SELECT. */
    propagate_reset_selected_db();
    log_notice("Creating AOF incr file %s on background rewrite", name);
    return 0;
}

int aof_rewrite_begin(char *base_path, size_t len)
{
    if (rw.active)
        return -1;
    if (mkdir(server.appenddirname, 0755) != 0 && errno != EEXIST) {
        log_warn("Can't create the AOF directory %s: %s", server.appenddirname,
                 strerror(errno));
        return -1;
    }
    memset(&rw.old, 0, sizeof(rw.old));
    if (aof.on) {
        size_t before = aof.man.nincr;
        if (switch_incr() != 0)
            return -1;
        copy_entries(&rw.old, &aof.man, before);
        rw.keep_from = before;
    } else if (manifest_read(&rw.old) < 0) {
        aoffmt_manifest_free(&rw.old);
        return -1;
    } else if (aof.waiting && open_temp_incr() != 0) {
        aoffmt_manifest_free(&rw.old);
        return -1;
    }
    long long seq = rw.old.base ? rw.old.base->seq : 0;
    rw.base_seq = seq < LLONG_MAX ? seq + 1 : seq;
    char name[512];
    int n = snprintf(name, sizeof(name), "%s.%lld.base.rdb", server.appendfilename,
                     rw.base_seq);
    char *path = NULL;
    if (n > 0 && (size_t)n < sizeof(name)) {
        path = aof_path(name);
        n = snprintf(base_path, len, "%s", path);
    }
    if (path == NULL || n < 0 || (size_t)n >= len) {
        rc_free(path);
        aoffmt_manifest_free(&rw.old);
        if (aof.waiting && aof.on)
            close_temp_incr();
        return -1;
    }
    rc_free(path);
    rw.base_name = rc_strndup(name, strlen(name));
    rw.was_on = aof.on;
    rw.active = 1;
    return 0;
}

static void remove_file(const char *name)
{
    char *path = aof_path(name);
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("Can't remove the old AOF file %s: %s", path, strerror(errno));
    rc_free(path);
}

int aof_rewrite_end(int ok, long child)
{
    if (!rw.active)
        return -1;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%ld.rdb", child);
    char *tmppath = aof_path(tmp);
    unlink(tmppath);
    rc_free(tmppath);
    if (ok && rw.was_on != aof.on) {
        log_warn("appendonly changed during the AOF rewrite: discarding its result");
        ok = 0;
    }
    if (ok) {
        struct aoffmt_manifest nm;
        memset(&nm, 0, sizeof(nm));
        aoffmt_manifest_add(&nm, rw.base_name, rw.base_seq, AOFFMT_BASE);
        if (aof.on && aof.waiting)
            ok = adopt_temp_incr(&nm, &rw.old) == 0;
        else if (aof.on)
            for (size_t i = rw.keep_from; i < aof.man.nincr; i++)
                aoffmt_manifest_add(&nm, aof.man.incr[i].name, aof.man.incr[i].seq,
                                    AOFFMT_INCR);
        if (ok && manifest_write(&nm) == 0) {
            if (rw.old.base && strcmp(rw.old.base->name, rw.base_name))
                remove_file(rw.old.base->name);
            for (size_t i = 0; i < rw.old.nincr; i++)
                remove_file(rw.old.incr[i].name);
            if (aof.on) {
                aoffmt_manifest_free(&aof.man);
                aof.man = nm;
                sizes_refresh();
                aof.base_size = current_size();
                if (aof.waiting) {
                    aof.waiting = 0;
                    log_notice("Background AOF rewrite finished: the append only file is "
                               "now on");
                }
            } else {
                aoffmt_manifest_free(&nm);
            }
            log_notice("Background AOF rewrite finished successfully");
        } else {
            aoffmt_manifest_free(&nm);
            ok = 0;
        }
    }
    if (!ok) {
        remove_file(rw.base_name);
        if (aof.waiting && aof.on)
            close_temp_incr();
    }
    aoffmt_manifest_free(&rw.old);
    rc_free(rw.base_name);
    rw.base_name = NULL;
    rw.active = 0;
    return ok ? 0 : -1;
}
