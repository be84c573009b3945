/*
 * childinfo.h — what a snapshot or AOF rewrite child tells its parent, as
 * Redis 7.0 reports it: the child's copy-on-write size (its private dirty
 * memory) and how many keys it has written so far.
 *
 * The parent opens a pipe before fork (childinfo_open); the child writes
 * fixed-size records to it — a progress record about once a second while
 * it saves, and a final copy-on-write record once its file is complete —
 * and the parent drains them without blocking from the cron
 * (childinfo_receive) and once more when it reaps the child.  The values
 * INFO persistence prints come from childinfo_get().
 */
#ifndef RC_CHILDINFO_H
#define RC_CHILDINFO_H

#include <stddef.h>

/* What the final record of a child is about. */
enum childinfo_kind { CHILDINFO_RDB, CHILDINFO_AOF };

/* The parent's view, as INFO persistence prints it. */
struct childinfo_stats {
    size_t cow_peak;            /* current_cow_peak (bytes) */
    size_t cow_size;            /* current_cow_size (bytes) */
    long long cow_size_age;     /* current_cow_size_age (seconds) */
    size_t keys_processed;      /* current_save_keys_processed */
    size_t keys_total;          /* current_save_keys_total */
    size_t rdb_last_cow;        /* rdb_last_cow_size */
    size_t aof_last_cow;        /* aof_last_cow_size */
};

/*
 * Parent, just before fork: opens the pipe.  Returns 0, or -1 (logged)
 * when it cannot: the child then runs without reporting, as in Redis.
 */
int childinfo_open(void);

/* Child, right after fork: keeps only the write end; kind names the
 * child in its log lines ("RDB" or "AOF rewrite"). */
void childinfo_child_setup(enum childinfo_kind kind);

/* Parent, after a successful fork: keeps only the read end and starts
 * the current_* values, keys_total being the keys at fork time. */
void childinfo_parent_setup(size_t keys_total);

/*
 * Parent, when the child is gone (or the fork failed): reads what is
 * left in the pipe when the child succeeded (ok nonzero), closes the
 * pipe and resets the current_* values to 0.
 */
void childinfo_close(int ok);

/* Parent: drains the pipe without blocking. */
void childinfo_receive(void);

/* Fills *out with the parent's current values. */
void childinfo_get(struct childinfo_stats *out);

/*
 * Child (a no-op elsewhere, so that a synchronous SAVE may call it):
 * keys have been written.  Sends a progress record when a second has
 * passed since the last one; the copy-on-write size is measured at most
 * about 1% of the time, since reading it is not free.
 */
void childinfo_progress(size_t keys);

/* Child, once its file is complete: measures the copy-on-write size,
 * logs it and sends the final record. */
void childinfo_send_final(void);

/*
 * Private dirty memory of the calling process in bytes, from
 * /proc/self/smaps_rollup (or, on kernels without it, the sum over
 * /proc/self/smaps); 0 where neither exists.
 */
size_t childinfo_private_dirty(void);

#endif
