/*
 * snapshot.h — background snapshots, as Redis 7.0 takes them: BGSAVE and
 * the `save` rules fork a child that writes dir/dbfilename from the
 * copy-on-write image of the keyspace (through rdb_save_file(), which
 * writes temp-<childpid>.rdb, fsyncs it, renames it over the target and
 * fsyncs the directory); the parent reaps the child from the cron without
 * ever blocking and keeps the statistics INFO persistence shows.  A failed
 * background save makes write commands fail with -MISCONF while
 * stop-writes-on-bgsave-error is on and save rules exist, as in Redis.
 *
 * BGREWRITEAOF uses the same machinery: one child at a time, of either
 * kind; the child writes the log's new RDB base, and aof.c switches the
 * incremental file before the fork and the manifest after it
 * (aof_rewrite_begin / aof_rewrite_end).
 */
#ifndef RC_SNAPSHOT_H
#define RC_SNAPSHOT_H

#include <sys/types.h>

#include "childinfo.h"

struct client;

/* stop-writes-on-bgsave-error (config.c points its table entry here). */
extern int snapshot_stop_writes_on_error;

/* What INFO persistence and INFO stats print about snapshots. */
struct snapshot_info {
    long long changes_since_save;   /* rdb_changes_since_last_save */
    int in_progress;                /* rdb_bgsave_in_progress */
    long long last_save_time;       /* rdb_last_save_time (unix seconds) */
    int last_bgsave_ok;             /* rdb_last_bgsave_status ok/err */
    long long last_bgsave_time_sec; /* -1 before the first one */
    long long current_bgsave_time_sec; /* -1 when none runs */
    long long saves;                /* rdb_saves */
    long long latest_fork_usec;
    long long total_forks;
    int aof_in_progress;            /* aof_rewrite_in_progress */
    int aof_scheduled;              /* aof_rewrite_scheduled */
    int aof_last_ok;                /* aof_last_bgrewrite_status */
    long long aof_rewrites;
    long long aof_failures;         /* aof_rewrites_consecutive_failures */
    long long aof_last_time_sec;    /* aof_last_rewrite_time_sec */
    long long aof_current_time_sec; /* aof_current_rewrite_time_sec */
    struct childinfo_stats child;   /* current_cow_*, *_last_cow_size, ... */
    double fork_perc;               /* current_fork_perc: keys written / at fork */
};

/* Start-up: lastsave is the start time, as in Redis. */
void snapshot_init(void);

/* Periodic (loop.c cron): reap a finished child (never blocks), start a
 * scheduled BGSAVE, and apply the save rules. */
void snapshot_cron(void);

/* Shutdown: kill a running child (SIGUSR1), wait for it and remove its
 * temporary file. */
void snapshot_shutdown(void);

/* How SHUTDOWN asked to stop (SIGTERM and SIGINT ask with no flag). */
enum { SNAPSHOT_SAVE = 1, SNAPSHOT_NOSAVE = 2, SNAPSHOT_FORCE = 4 };

/*
 * The snapshot taken on the way out, as Redis's prepareForShutdown: a
 * running child is killed; then dbfilename is written synchronously with
 * SNAPSHOT_SAVE, or when save rules exist and SNAPSHOT_NOSAVE is not
 * given.  Nothing is saved while the start-up load runs.  Returns 0 when
 * the node may exit, -1 when the save failed (logged) and SNAPSHOT_FORCE
 * was not given: the node then keeps running.
 */
int snapshot_final_save(int flags);

/* CONFIG SET appendonly yes was accepted (aof_waiting()): starts the
 * rewrite that writes the log's base now, or schedules it when a BGSAVE
 * runs (a running rewrite, which lacks the new log's incremental file, is
 * killed and started again), as Redis's startAppendOnly.  Returns 0, or
 * -1 when the rewrite could not start (logged). */
int snapshot_aof_turned_on(void);

/* FLUSHALL emptied every database: a running BGSAVE child (now saving a
 * stale image) is killed and, with save rules, the empty dataset is saved
 * at once, as Redis 7.0 does. */
void snapshot_after_flushall(void);

/* Pid of the BGSAVE child, or -1 when there is none (an AOF rewrite
 * child does not count: SAVE may run meanwhile, as in Redis). */
pid_t snapshot_child_pid(void);

/* SAVE: writes dbfilename synchronously and, on success, updates
 * lastsave, the change counter and the status as Redis's rdbSave does.
 * Returns 0, or -1 (logged). */
int snapshot_save_now(void);

/*
 * RING CUT SNAPSHOT (ringcut.c): forks a child writing path (relative to
 * dir), an RDB file holding only the keys of the slots s with mask[s]
 * nonzero (mask: RC_SLOTS bytes, read by the child from its copy of
 * memory) and the functions.  Not a save of the node's own: LASTSAVE, the
 * save rules' counter and the bgsave status are untouched.  Returns 0 with
 * the fork's duration in *fork_usec, or -1 with errno (EBUSY: a child
 * already runs; else the fork failed, logged).
 */
int snapshot_start_cut(const char *path, const unsigned char *mask, long long *fork_usec);

/* How the last RING CUT SNAPSHOT child fared. */
enum snapshot_cut_state {
    SNAPSHOT_CUT_NONE,          /* none since start-up */
    SNAPSHOT_CUT_RUNNING,
    SNAPSHOT_CUT_OK,            /* its file is complete and synced */
    SNAPSHOT_CUT_ERR            /* it failed or was killed: no file */
};
int snapshot_cut_state(void);

/* Is a child (of any kind) running? */
int snapshot_child_busy(void);

/* NULL when writes may proceed, else the -MISCONF error (without '-'). */
const char *snapshot_write_denied(void);

/* Fills *out with the current values. */
void snapshot_get_info(struct snapshot_info *out);

/*
 * Validates and canonicalises a `save` value: words are "seconds changes"
 * pairs (seconds >= 1, changes >= 0), or the single word "" for none.
 * Returns a new string "s1 c1 s2 c2 ..." ("" for none) owned by the
 * caller, or NULL when the words are invalid.
 */
char *snapshot_parse_save(int argc, char **argv);

void cmd_bgsave(struct client *c);
void cmd_lastsave(struct client *c);
void cmd_bgrewriteaof(struct client *c);

#endif
