/*
 * snapshot.c — background snapshots (BGSAVE, the `save` rules, LASTSAVE,
 * stop-writes-on-bgsave-error), following Redis 7.0's rdbSaveBackground
 * and backgroundSaveDoneHandler.
 *
 * The child is a plain fork(): it closes the listening sockets (so that a
 * restarted node can bind while an orphaned child still writes), restores
 * the default signal dispositions, calls rdb_save_file() — which writes
 * temp-<childpid>.rdb in the working directory (dir), fsyncs it, renames
 * it over dbfilename and fsyncs the directory, exactly as Redis's child
 * does — and leaves with _exit(): 0 on success, 1 on failure.  Whatever
 * kills the child before the rename leaves dbfilename untouched; the
 * parent then removes temp-<childpid>.rdb.  A temp file is never loaded:
 * start-up reads dbfilename only.
 *
 * While a child exists the dicts do not resize (dict_set_resize_policy)
 * and lookups leave the keys' LRU/LFU data alone (server.child_active,
 * see kv_touch), so that copy-on-write copies as few pages as possible.
 * The child reports its copy-on-write size and progress through
 * childinfo.c; its log lines carry the role "C", as Redis's do.
 *
 * The parent never waits: the cron polls waitpid(WNOHANG).  Only shutdown
 * waits, for a child it has just killed.
 *
 * BGREWRITEAOF forks the same kind of child, writing the append-only
 * log's new base (an RDB file in appenddirname) instead of dbfilename;
 * aof.c prepares the log before the fork and installs the new manifest
 * once the child succeeded.  Only one child runs at a time, as in Redis:
 * a BGSAVE during a rewrite is refused or, with SCHEDULE, deferred, and a
 * BGREWRITEAOF during a BGSAVE is deferred.
 *
 * RING CUT SNAPSHOT (ringcut.c) forks a third kind: a child writing a
 * backup file of some slots only.  It is not a save of the node's own:
 * LASTSAVE, the change counter, the bgsave status and dbfilename stay as
 * they are; its outcome is kept apart (snapshot_cut_state).
 */
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aof.h"
#include "childinfo.h"
#include "dict.h"
#include "latency.h"
#include "log.h"
#include "mem.h"
#include "rdbobj.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* Seconds to wait before retrying an automatic save after a failure
 * (Redis's CONFIG_BGSAVE_RETRY_DELAY). */
#define BGSAVE_RETRY_DELAY 5

int snapshot_stop_writes_on_error = 1;

enum { CHILD_RDB, CHILD_AOF, CHILD_CUT };

static struct {
    pid_t child;                 /* -1: none */
    int kind;                    /* CHILD_RDB or CHILD_AOF */
    char aof_base[4096];         /* the base file an AOF child writes */
    time_t start;                /* when the running child was forked */
    time_t last_try;             /* last attempt to start a BGSAVE */
    time_t lastsave;             /* last successful save */
    long long dirty_at_save;     /* stat_dirty when the last save began */
    long long dirty_at_fork;     /* stat_dirty when the running child forked */
    int last_ok;                 /* status of the last background save */
    int scheduled;               /* BGSAVE asked for while it could not run */
    long long last_time_sec;     /* duration of the last background save */
    long long saves;
    long long latest_fork_usec;
    long long total_forks;
    int aof_scheduled;           /* BGREWRITEAOF waiting for the cron */
    int aof_last_ok;
    long long aof_rewrites;
    long long aof_last_time_sec;
    long long aof_failures;      /* consecutive failed rewrites */
    int aof_delay_minutes;       /* current back-off of automatic rewrites */
    time_t aof_next_auto;        /* no automatic rewrite before this time */
    const unsigned char *cut_mask;  /* CHILD_CUT: the slots its file holds */
    int cut_state;               /* enum snapshot_cut_state of the last cut child */
} snap = {.child = -1, .last_ok = 1, .last_time_sec = -1, .aof_last_ok = 1,
          .aof_last_time_sec = -1};

static const char misconf_msg[] =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";

static int have_save_rules(void)
{
    return server.save_params && server.save_params[0];
}

void snapshot_init(void)
{
    snap.lastsave = server.start_time;
    snap.dirty_at_save = server.stat_dirty;
}

pid_t snapshot_child_pid(void)
{
    return snap.kind == CHILD_RDB ? snap.child : -1;
}

static const char *db_filename(void)
{
    return server.dbfilename && server.dbfilename[0] ? server.dbfilename : "dump.rdb";
}

static void remove_temp_file(pid_t pid)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%ld.rdb", (long)pid);
    unlink(tmp);
}

/* The temp file of a BGSAVE child stopped by a signal is removed by the
 * parent: the latency monitor's "rdb-unlink-temp-file", as in Redis. */
static void remove_killed_temp_file(pid_t pid)
{
    uint64_t t0 = latency_start();
    remove_temp_file(pid);
    latency_add_sample_if_needed("rdb-unlink-temp-file", latency_ms_since(t0));
}

/* Runs in the child: writes path (dbfilename, or the new AOF base) and
 * never returns. */
static void child_main(const char *path)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    for (int i = 0; i < server.listen_count; i++)
        if (server.listen_fds[i] >= 0)
            close(server.listen_fds[i]);
    server.pid = getpid();
    log_set_role('C');
    childinfo_child_setup(snap.kind == CHILD_AOF ? CHILDINFO_AOF : CHILDINFO_RDB);
    char err[512];
    int flags = snap.kind == CHILD_AOF ? RDB_SAVE_AOF_BASE : 0;
    const unsigned char *mask = snap.kind == CHILD_CUT ? snap.cut_mask : NULL;
    if (rdb_save_file_slots(path, flags, mask, err, sizeof(err)) != 0) {
        log_warn("%s", err);
        _exit(1);
    }
    log_notice(snap.kind == CHILD_RDB   ? "DB saved on disk"
               : snap.kind == CHILD_CUT ? "Ring backup snapshot saved on disk"
                                        : "Successfully created the temporary AOF base file");
    childinfo_send_final();
    _exit(0);
}

/* Forks a child writing path; returns its pid, or -1 (errno set). */
static pid_t fork_child(int kind, const char *path)
{
    long long t0 = (long long)rc_ustime();
    snap.kind = kind;
    childinfo_open();
    pid_t pid = fork();
    if (pid == 0)
        child_main(path);
    if (pid < 0) {
        int saved = errno;
        childinfo_close(0);
        errno = saved;
        return -1;
    }
    snap.latest_fork_usec = (long long)rc_ustime() - t0;
    latency_fork_done(snap.latest_fork_usec);
    snap.total_forks++;
    snap.child = pid;
    snap.start = time(NULL);
    size_t keys = 0;
    for (int i = 0; i < server.dbnum; i++)
        keys += server.dbs[i].keys;
    childinfo_parent_setup(keys);
    server.child_active = 1;
    dict_set_resize_policy(0);
    return pid;
}

/* The child is gone (ok: it succeeded): back to normal running, as
 * Redis's resetChildState. */
static void child_gone(int ok)
{
    snap.child = -1;
    childinfo_close(ok);
    server.child_active = 0;
    dict_set_resize_policy(1);
}

/*
 * Forks the snapshot child.  Returns 0 when it runs, -1 when the fork
 * failed (logged; the status becomes err, as in Redis) or a child already
 * exists.
 */
static int start_bgsave(void)
{
    if (snap.child != -1)
        return -1;
    snap.saves++;
    snap.dirty_at_fork = server.stat_dirty;
    snap.last_try = time(NULL);
    pid_t pid = fork_child(CHILD_RDB, db_filename());
    if (pid < 0) {
        snap.last_ok = 0;
        log_warn("Can't save in background: fork: %s", strerror(errno));
        return -1;
    }
    snap.scheduled = 0;
    log_notice("Background saving started by pid %ld", (long)pid);
    return 0;
}

/* A rewrite failed: its status is err, and automatic rewrites back off
 * after several in a row (auto_rewrite_limited). */
static void rewrite_failed(void)
{
    snap.aof_last_ok = 0;
    snap.aof_failures++;
}

/* Starts an AOF rewrite (aof.h); 0 when the child runs, else -1. */
static int start_rewrite(void)
{
    if (snap.child != -1)
        return -1;
    if (aof_rewrite_begin(snap.aof_base, sizeof(snap.aof_base)) != 0) {
        rewrite_failed();
        return -1;
    }
    pid_t pid = fork_child(CHILD_AOF, snap.aof_base);
    if (pid < 0) {
        log_warn("Can't rewrite append only file in background: fork: %s", strerror(errno));
        aof_rewrite_end(0, -1);
        rewrite_failed();
        return -1;
    }
    snap.aof_scheduled = 0;
    log_notice("Background append only file rewriting started by pid %ld", (long)pid);
    return 0;
}

/* The AOF rewrite child finished with wait status st. */
static void rewrite_done(int st)
{
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok)
        log_notice("Background AOF rewrite terminated with success");
    else if (WIFEXITED(st))
        log_warn("Background AOF rewrite terminated with error");
    else
        log_warn("Background AOF rewrite terminated by signal %d",
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (aof_rewrite_end(ok, (long)snap.child) == 0) {
        snap.aof_rewrites++;
        snap.aof_last_ok = 1;
        snap.aof_failures = 0;
    } else if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1)) {
        rewrite_failed();
    }
    snap.aof_last_time_sec = (long long)(time(NULL) - snap.start);
    child_gone(ok);
    /* A log turned on at runtime keeps trying until it has its base. */
    if (aof_waiting())
        snap.aof_scheduled = 1;
}

/* The ring backup child finished with wait status st. */
static void cut_done(int st)
{
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok) {
        log_notice("Ring backup snapshot terminated with success");
    } else {
        if (WIFEXITED(st))
            log_warn("Ring backup snapshot error");
        else
            log_warn("Ring backup snapshot terminated by signal %d",
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        remove_temp_file(snap.child);
    }
    snap.cut_state = ok ? SNAPSHOT_CUT_OK : SNAPSHOT_CUT_ERR;
    child_gone(ok);
}

/* The child pid finished with wait status st. */
static void child_done(int st)
{
    if (snap.kind == CHILD_AOF) {
        rewrite_done(st);
        return;
    }
    if (snap.kind == CHILD_CUT) {
        cut_done(st);
        return;
    }
    pid_t pid = snap.child;
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok) {
        log_notice("Background saving terminated with success");
        snap.dirty_at_save = snap.dirty_at_fork;
        snap.lastsave = time(NULL);
        snap.last_ok = 1;
    } else if (WIFEXITED(st)) {
        log_warn("Background saving error");
        snap.last_ok = 0;
        remove_temp_file(pid);
    } else {
        int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        log_warn("Background saving terminated by signal %d", sig);
        remove_killed_temp_file(pid);
        /* SIGUSR1 is how a child is stopped on purpose: not an error. */
        if (sig != SIGUSR1)
            snap.last_ok = 0;
    }
    snap.last_time_sec = (long long)(time(NULL) - snap.start);
    child_gone(ok);
}

static void reap_child(void)
{
    int st;
    pid_t r = waitpid(snap.child, &st, WNOHANG);
    if (r == snap.child) {
        child_done(st);
    } else if (r < 0 && errno == ECHILD) {
        /* Someone else reaped it: its fate is unknown, count a failure. */
        log_warn("Snapshot child %ld vanished", (long)snap.child);
        child_done(1 << 8);
    }
}

/*
 * Automatic rewrites back off after AOF_FAILURES_BEFORE_DELAY consecutive
 * failures, as Redis 7.0 does: the next attempt waits one minute, then
 * twice as long each time, up to an hour.  Returns 1 while waiting.
 */
#define AOF_FAILURES_BEFORE_DELAY 3
#define AOF_MAX_DELAY_MINUTES 60

static int auto_rewrite_limited(time_t now)
{
    if (snap.aof_failures < AOF_FAILURES_BEFORE_DELAY) {
        snap.aof_delay_minutes = 0;
        snap.aof_next_auto = 0;
        return 0;
    }
    if (snap.aof_next_auto != 0) {
        if (now < snap.aof_next_auto)
            return 1;
        snap.aof_next_auto = 0;
        return 0;
    }
    snap.aof_delay_minutes = snap.aof_delay_minutes ? snap.aof_delay_minutes * 2 : 1;
    if (snap.aof_delay_minutes > AOF_MAX_DELAY_MINUTES)
        snap.aof_delay_minutes = AOF_MAX_DELAY_MINUTES;
    snap.aof_next_auto = now + (time_t)snap.aof_delay_minutes * 60;
    log_warn("Background AOF rewrite has repeatedly failed and triggered the limit, will "
             "retry in %d minutes", snap.aof_delay_minutes);
    return 1;
}

void snapshot_cron(void)
{
    if (snap.child != -1) {
        childinfo_receive();
        reap_child();
        return;
    }
    time_t now = time(NULL);
    /* One attempt per request: a failure is logged, not retried, except
     * for a log waiting to be turned on (with the automatic back-off). */
    if (snap.aof_scheduled && !(aof_waiting() && auto_rewrite_limited(now))) {
        snap.aof_scheduled = 0;
        if (start_rewrite() == 0)
            return;
        if (aof_waiting())
            snap.aof_scheduled = 1;
    }
    int may_retry = snap.last_ok || now - snap.last_try > BGSAVE_RETRY_DELAY;
    if (snap.scheduled && may_retry) {
        start_bgsave();
        return;
    }
    const char *p = server.save_params;
    long long changes = server.stat_dirty - snap.dirty_at_save;
    while (p && *p) {
        char *end;
        long long secs = strtoll(p, &end, 10);
        if (end == p)
            break;
        p = end;
        long long need = strtoll(p, &end, 10);
        if (end == p)
            break;
        p = end;
        if (changes >= need && (long long)(now - snap.lastsave) > secs && may_retry) {
            log_notice("%lld changes in %lld seconds. Saving...", need, secs);
            if (start_bgsave() == 0)
                return;
            break;
        }
    }
    long long growth;
    if (aof_rewrite_due(&growth) && !auto_rewrite_limited(now)) {
        log_notice("Starting automatic rewriting of AOF on %lld%% growth", growth);
        start_rewrite();
    }
}

void snapshot_shutdown(void)
{
    if (snap.child == -1)
        return;
    if (snap.kind == CHILD_AOF)
        log_warn("There is a child rewriting the AOF. Killing it!");
    else
        log_warn("There is a child saving an .rdb. Killing it!");
    kill(snap.child, SIGUSR1);
    int st;
    while (waitpid(snap.child, &st, 0) < 0 && errno == EINTR)
        ;
    if (snap.kind == CHILD_AOF) {
        aof_rewrite_end(0, (long)snap.child);
    } else if (snap.kind == CHILD_RDB) {
        remove_killed_temp_file(snap.child);
    } else {
        remove_temp_file(snap.child);
        snap.cut_state = SNAPSHOT_CUT_ERR;
    }
    child_gone(0);
}

int snapshot_save_now(void)
{
    char err[512];
    if (rdb_save_file(db_filename(), 0, err, sizeof(err)) != 0) {
        log_warn("%s", err);
        return -1;
    }
    log_notice("DB saved on disk");
    snap.dirty_at_save = server.stat_dirty;
    snap.lastsave = time(NULL);
    snap.last_ok = 1;
    snap.saves++;
    return 0;
}

int snapshot_final_save(int flags)
{
    int rules = have_save_rules();
    /* A node still loading holds part of the data: it never saves. */
    if (server.loading)
        return 0;
    snapshot_shutdown();
    if (!(flags & SNAPSHOT_SAVE) && !(rules && !(flags & SNAPSHOT_NOSAVE)))
        return 0;
    log_notice("Saving the final RDB snapshot before exiting.");
    if (snapshot_save_now() == 0)
        return 0;
    if (flags & SNAPSHOT_FORCE) {
        log_warn("Error trying to save the DB. Exit anyway.");
        return 0;
    }
    log_warn("Error trying to save the DB, can't exit.");
    return -1;
}

int snapshot_aof_turned_on(void)
{
    if (snap.child != -1 && snap.kind == CHILD_AOF) {
        /* Its base would have no incremental file for what follows. */
        log_notice("Killing running AOF rewrite child: %ld", (long)snap.child);
        snapshot_shutdown();
    }
    if (snap.child != -1) {
        snap.aof_scheduled = 1;
        log_warn("AOF was enabled but there is already another background operation. An "
                 "AOF background was scheduled to start when possible.");
        return 0;
    }
    if (start_rewrite() != 0) {
        log_warn("ringcache needs to enable the AOF but can't trigger a background AOF "
                 "rewrite operation. Check the above logs for more info about the error.");
        return -1;
    }
    return 0;
}

int snapshot_start_cut(const char *path, const unsigned char *mask, long long *fork_usec)
{
    if (snap.child != -1) {
        errno = EBUSY;
        return -1;
    }
    snap.cut_mask = mask;
    pid_t pid = fork_child(CHILD_CUT, path);
    if (pid < 0) {
        int saved = errno;
        log_warn("Can't start the ring backup snapshot: fork: %s", strerror(saved));
        snap.cut_state = SNAPSHOT_CUT_ERR;
        errno = saved;
        return -1;
    }
    snap.cut_state = SNAPSHOT_CUT_RUNNING;
    *fork_usec = snap.latest_fork_usec;
    log_notice("Ring backup snapshot started by pid %ld", (long)pid);
    return 0;
}

int snapshot_cut_state(void)
{
    return snap.cut_state;
}

int snapshot_child_busy(void)
{
    return snap.child != -1;
}

void snapshot_after_flushall(void)
{
    if (snap.child != -1 && snap.kind == CHILD_RDB)
        snapshot_shutdown();
    if (have_save_rules())
        snapshot_save_now();
}

const char *snapshot_write_denied(void)
{
    if (snapshot_stop_writes_on_error && !snap.last_ok && have_save_rules())
        return misconf_msg;
    return NULL;
}

void snapshot_get_info(struct snapshot_info *out)
{
    out->changes_since_save = server.stat_dirty - snap.dirty_at_save;
    out->in_progress = snap.child != -1 && snap.kind == CHILD_RDB;
    out->last_save_time = (long long)snap.lastsave;
    out->last_bgsave_ok = snap.last_ok;
    out->last_bgsave_time_sec = snap.last_time_sec;
    out->current_bgsave_time_sec =
        out->in_progress ? (long long)(time(NULL) - snap.start) : -1;
    out->aof_in_progress = snap.child != -1 && snap.kind == CHILD_AOF;
    out->aof_scheduled = snap.aof_scheduled;
    out->aof_last_ok = snap.aof_last_ok;
    out->aof_rewrites = snap.aof_rewrites;
    out->aof_failures = snap.aof_failures;
    out->aof_last_time_sec = snap.aof_last_time_sec;
    out->aof_current_time_sec =
        out->aof_in_progress ? (long long)(time(NULL) - snap.start) : -1;
    out->saves = snap.saves;
    out->latest_fork_usec = snap.latest_fork_usec;
    out->total_forks = snap.total_forks;
    childinfo_get(&out->child);
    out->fork_perc = 0;
    if (snap.child != -1 && out->child.keys_total)
        out->fork_perc = (double)out->child.keys_processed / (double)out->child.keys_total * 100;
}

/* Parses a decimal as Redis's strtoll check does: the whole word must be
 * a number; the empty word counts as 0. */
static int parse_word(const char *w, size_t len, long long *v)
{
    if (len == 0) {
        *v = 0;
        return 0;
    }
    return rc_str2ll(w, len, v) ? 0 : -1;
}

char *snapshot_parse_save(int argc, char **argv)
{
    /* Gather the words: a single argument is split on single spaces, as
     * CONFIG SET splits it. */
    const char *wp[256];
    size_t wl[256];
    int n = 0;
    if (argc == 1) {
        const char *s = argv[0];
        if (*s != '\0') {
            for (;;) {
                const char *sp = strchr(s, ' ');
                size_t len = sp ? (size_t)(sp - s) : strlen(s);
                if (n == 256)
                    return NULL;
                wp[n] = s;
                wl[n++] = len;
                if (sp == NULL)
                    break;
                s = sp + 1;
            }
        }
    } else {
        if (argc > 256)
            return NULL;
        for (int i = 0; i < argc; i++) {
            wp[n] = argv[i];
            wl[n++] = strlen(argv[i]);
        }
    }
    if (n % 2 != 0)
        return NULL;
    long long vals[256];
    for (int i = 0; i < n; i++) {
        if (parse_word(wp[i], wl[i], &vals[i]) != 0)
            return NULL;
        if ((i % 2 == 0 && vals[i] < 1) || (i % 2 == 1 && vals[i] < 0))
            return NULL;
        if (vals[i] > INT_MAX)
            return NULL;
    }
    /* Each pair needs at most 2 * 11 characters plus two spaces. */
    size_t cap = (size_t)n * 12 + 1;
    char *out = rc_malloc(cap);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s%lld", i ? " " : "", vals[i]);
        if (w < 0 || (size_t)w >= cap - used) {
            rc_free(out);
            return NULL;
        }
        used += (size_t)w;
    }
    return out;
}

void cmd_bgsave(struct client *c)
{
    /* SCHEDULE: wait for a running AOF rewrite instead of failing. */
    if (c->argc > 1 &&
        (c->argc != 2 || c->argv[1].len != 8 || strncasecmp(c->argv[1].p, "schedule", 8))) {
        reply_err_syntax(c);
        return;
    }
    if (snap.child != -1 && snap.kind == CHILD_RDB) {
        reply_error(c, "ERR Background save already in progress");
    } else if (snap.child != -1 || (c->flags & CF_MULTI)) {
        /* Inside EXEC the fork waits for the cron, as in Redis. */
        if (c->argc == 2 || (c->flags & CF_MULTI)) {
            snap.scheduled = 1;
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right "
                        "now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever "
                        "possible.");
        }
    } else if (start_bgsave() == 0) {
        reply_status(c, "Background saving started");
    } else {
        reply_error(c, "ERR");
    }
}

void cmd_lastsave(struct client *c)
{
    reply_long(c, (long long)snap.lastsave);
}

void cmd_bgrewriteaof(struct client *c)
{
    if (snap.child != -1 && snap.kind == CHILD_AOF) {
        reply_error(c, "ERR Background append only file rewriting already in progress");
    } else if (snap.child != -1 || (c->flags & CF_MULTI)) {
        snap.aof_scheduled = 1;
        reply_status(c, "Background append only file rewriting scheduled");
    } else if (start_rewrite() == 0) {
        reply_status(c, "Background append only file rewriting started");
    } else {
        reply_error(c, "ERR Can't execute an AOF background rewriting. Please check the server "
                    "logs for more information.");
    }
}
