/*
 * aof.h — the append-only log: Redis 7.0's multi-part layout (a manifest,
 * an optional base file and incremental RESP logs in appenddirname),
 * written in checksummed batches before replies go out, fsynced per
 * appendfsync, and replayed at start-up through a fake client.
 */
#ifndef RC_AOF_H
#define RC_AOF_H

#include <stddef.h>

enum { AOF_FSYNC_ALWAYS = 0, AOF_FSYNC_EVERYSEC = 1, AOF_FSYNC_NO = 2 };

/* Is the log being written? */
int aof_enabled(void);

/* Append serialised records (propagate.c) to the pending batch. */
void aof_feed(const char *p, size_t n);

/* Start-up, after the keyspace and the loop exist and before listening:
 * with appendonly yes, load the log (replaying it) and open it for
 * appending.  Returns 0, or -1 after logging why the node must not start. */
int aof_startup(void);

/* Write the pending batch (and fsync it with appendfsync always).  Runs
 * in before-sleep before any reply is written; exits the process when a
 * write or fsync fails under always, as Redis does.  Under everysec and
 * no a failed write keeps the batch for the next call (aof_write_denied
 * refuses writes meanwhile). */
void aof_before_write(void);

/* Nonzero while records not yet durable under appendfsync always are
 * pending: replies must not be written now. */
int aof_holds_replies(void);

/* The log position just past every record fed so far (a count of bytes
 * that only grows): a command whose records end at or before it is
 * acknowledged by its reply. */
unsigned long long aof_fed_offset(void);

/* Nonzero while the records up to position pos (aof_fed_offset) are not
 * all in the file, because a write failed: a reply acknowledging them
 * must wait.  Turning the log off (CONFIG SET appendonly no) drops the
 * pending records and releases the replies; shutdown does not. */
int aof_pending_at(unsigned long long pos);

/* RING CUT (ringcut.c): writes every record fed so far (not synced: the
 * next before-sleep pass syncs under always), so that the position is
 * the end of a complete checksummed batch, and makes the next record
 * start with its SELECT.  Copies the log's base file name ("" without
 * one) to base and the incremental file's name to incr, and sets *size to
 * that file's size.  Returns 0; 1 when the log is off; -1 (logged) when
 * the write failed. */
int aof_cut(char *base, size_t blen, char *incr, size_t ilen, unsigned long long *size);

/* Periodic: everysec fsync in the background, retry a failed write or a
 * failed background fsync. */
void aof_cron(void);

/* INFO's aof_last_write_status: nonzero unless the last write or the last
 * background fsync failed (Redis 7.0 reports both as err). */
int aof_last_write_ok(void);

/* Flush, fsync and close (shutdown). */
void aof_shutdown(void);

/* What INFO persistence prints while the log is on (aof_current_size,
 * aof_base_size, aof_buffer_length, aof_pending_bio_fsync). */
struct aof_info {
    unsigned long long current_size;   /* base + incremental files, as written */
    unsigned long long base_size;      /* the log's size when the last rewrite ended */
    unsigned long long buffer_length;  /* records not yet written */
    int pending_bio_fsync;             /* an fsync is queued or running */
};
void aof_get_info(struct aof_info *out);

/* 1 when auto-aof-rewrite-percentage and auto-aof-rewrite-min-size call for
 * a rewrite now (the log grew by at least the percentage over its size
 * after the last rewrite, and is larger than the minimum), with *growth
 * set to that growth in percent; else 0. */
int aof_rewrite_due(long long *growth);

/* NULL when writes may proceed, else the error to refuse them with. */
const char *aof_write_denied(void);

/*
 * BGREWRITEAOF, in the parent just before the fork: syncs the current
 * incremental file, opens a new one and records it in the manifest.  On
 * success copies to base_path[len] the path of the base file the child
 * must write (an RDB) and returns 0; returns -1 when the rewrite cannot
 * start (logged).
 */
int aof_rewrite_begin(char *base_path, size_t len);

/*
 * The rewrite child (pid child) finished: ok nonzero when it wrote the
 * base.  Replaces the manifest (new base + the incremental files opened
 * since the fork) and removes the superseded files; on failure removes the
 * partial base.  Returns 0 when the new base is in the manifest, else -1.
 */
int aof_rewrite_end(int ok, long child);

/* CONFIG SET appendonly: NULL when accepted, else the reason. */
const char *aof_config_appendonly(int on);

/* 1 while a log turned on at runtime waits for the rewrite that writes
 * its base (Redis's AOF_WAIT_REWRITE): INFO already says aof_enabled:1,
 * and snapshot.c keeps a rewrite scheduled until one succeeds.  Records
 * are logged (aof_enabled()) only once that rewrite's child is forked. */
int aof_waiting(void);

#endif
