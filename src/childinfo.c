/*
 * childinfo.c — the report channel from a snapshot or AOF rewrite child to
 * its parent (see childinfo.h), giving INFO persistence the current_*
 * fields and rdb_last_cow_size / aof_last_cow_size with Redis 7.0's
 * meaning.
 *
 * Records are fixed-size structs, far smaller than PIPE_BUF, so that each
 * write is atomic: the parent reads either a whole record or nothing.
 * Both ends are non-blocking.  A child never blocks on a slow parent: a
 * record the pipe has no room for is dropped (the next one carries newer
 * values), and a parent that went away does not stop the save either —
 * the file matters more than the report.
 *
 * Copy-on-write is what the child's pages have become since the fork: a
 * page the parent (or the child) wrote to is no longer shared, so the
 * kernel counts it as Private_Dirty in the child.  Reading that walks the
 * child's page tables, which costs time in proportion to its mapped
 * memory; the child therefore reads it at most about 1% of its running
 * time (COW_DUTY_CYCLE) and reuses the last value in between.
 */
#include "childinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A progress record is sent at most this often. */
#define PROGRESS_INTERVAL_US 1000000
/* Reading the copy-on-write size takes at most 1/COW_DUTY_CYCLE of the
 * child's time. */
#define COW_DUTY_CYCLE 100

enum msg_type { MSG_PROGRESS, MSG_RDB_COW, MSG_AOF_COW };

/* One record on the pipe.  Parent and child are the same binary, so the
 * layout needs no encoding. */
struct msg {
    int type;               /* enum msg_type */
    size_t keys;            /* keys written so far (progress) */
    size_t cow;             /* private dirty bytes at cow_at_us */
    uint64_t cow_at_us;     /* monotonic time of that reading, 0: none yet */
};

/* The pipe: [0] read end (parent), [1] write end (child); -1 when closed. */
static int fds[2] = {-1, -1};

/* The parent's side. */
static struct {
    size_t cow_peak;
    size_t cow_size;
    uint64_t cow_at_us;
    size_t keys_processed;
    size_t keys_total;
    size_t rdb_last_cow;
    size_t aof_last_cow;
} par;

/* The child's side. */
static struct {
    enum childinfo_kind kind;
    uint64_t last_sent_us;  /* 0: nothing sent yet */
    uint64_t cow_at_us;     /* when cow was read, 0: never */
    uint64_t cow_cost_us;   /* how long that reading took */
    size_t cow;
    size_t cow_peak;
    unsigned long long cow_sum;
    unsigned long long cow_samples;
} kid;

static void close_fd(int *fd)
{
    if (*fd != -1) {
        close(*fd);
        *fd = -1;
    }
}

/* Adds the "Private_Dirty: N kB" lines of an smaps-format file to *sum.
 * Returns 0, or -1 when the file cannot be opened. */
static int sum_private_dirty(const char *path, size_t *sum)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        return -1;
    static const char field[] = "Private_Dirty:";
    char line[256];
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (strncmp(line, field, sizeof(field) - 1) != 0)
            continue;
        unsigned long long kb = 0;
        if (sscanf(line + sizeof(field) - 1, "%llu", &kb) == 1)
            *sum += (size_t)kb * 1024;
    }
    fclose(fp);
    return 0;
}

size_t childinfo_private_dirty(void)
{
    size_t sum = 0;
    if (sum_private_dirty("/proc/self/smaps_rollup", &sum) == 0)
        return sum;
    sum = 0;
    if (sum_private_dirty("/proc/self/smaps", &sum) == 0)
        return sum;
    return 0;
}

int childinfo_open(void)
{
    close_fd(&fds[0]);
    close_fd(&fds[1]);
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_warn("Can't open the pipe for the child's reports (%s): INFO will not show its "
                 "copy-on-write size", strerror(errno));
        fds[0] = fds[1] = -1;
        return -1;
    }
    return 0;
}

void childinfo_child_setup(enum childinfo_kind kind)
{
    close_fd(&fds[0]);
    memset(&kid, 0, sizeof(kid));
    kid.kind = kind;
}

void childinfo_parent_setup(size_t keys_total)
{
    close_fd(&fds[1]);
    par.cow_peak = par.cow_size = 0;
    par.cow_at_us = 0;
    par.keys_processed = 0;
    par.keys_total = keys_total;
}

/* Parent: applies one record, as Redis's updateChildInfo does: the peak
 * includes every reading, and the final record makes the peak the
 * child's last copy-on-write size. */
static void apply(const struct msg *m)
{
    if (m->cow > par.cow_peak)
        par.cow_peak = m->cow;
    switch (m->type) {
    case MSG_PROGRESS:
        par.cow_size = m->cow;
        par.cow_at_us = m->cow_at_us;
        par.keys_processed = m->keys;
        break;
    case MSG_RDB_COW:
        par.rdb_last_cow = par.cow_peak;
        break;
    case MSG_AOF_COW:
        par.aof_last_cow = par.cow_peak;
        break;
    default:
        break;
    }
}

void childinfo_receive(void)
{
    if (fds[0] == -1)
        return;
    struct msg m;
    for (;;) {
        ssize_t n = read(fds[0], &m, sizeof(m));
        if (n == (ssize_t)sizeof(m))
            apply(&m);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;  /* empty (EAGAIN), closed (0), or a torn record: none are written */
    }
}

void childinfo_close(int ok)
{
    if (ok)
        childinfo_receive();
    close_fd(&fds[0]);
    close_fd(&fds[1]);
    par.cow_peak = par.cow_size = 0;
    par.cow_at_us = 0;
    par.keys_processed = par.keys_total = 0;
}

void childinfo_get(struct childinfo_stats *out)
{
    out->cow_peak = par.cow_peak;
    out->cow_size = par.cow_size;
    out->cow_size_age = 0;
    if (par.cow_at_us) {
        uint64_t now = rc_monotonic_us();
        out->cow_size_age = now > par.cow_at_us ? (long long)((now - par.cow_at_us) / 1000000) : 0;
    }
    out->keys_processed = par.keys_processed;
    out->keys_total = par.keys_total;
    out->rdb_last_cow = par.rdb_last_cow;
    out->aof_last_cow = par.aof_last_cow;
}

static const char *kind_name(void)
{
    return kid.kind == CHILDINFO_RDB ? "RDB" : "AOF rewrite";
}

/* Child: reads the copy-on-write size when forced or when the duty cycle
 * allows, and logs it (at notice for the final reading, else verbose and
 * only when nonzero, as Redis does). */
static void measure_cow(int final)
{
    uint64_t start = rc_monotonic_us();
    if (!final && kid.cow_at_us && start - kid.cow_at_us <= kid.cow_cost_us * COW_DUTY_CYCLE)
        return;
    kid.cow = childinfo_private_dirty();
    kid.cow_at_us = rc_monotonic_us();
    kid.cow_cost_us = kid.cow_at_us - start;
    if (kid.cow > kid.cow_peak)
        kid.cow_peak = kid.cow;
    kid.cow_sum += kid.cow;
    kid.cow_samples++;
    if (final || kid.cow)
        log_msg(final ? LOG_NOTICE : LOG_VERBOSE,
                "Fork CoW for %s: current %zu MB, peak %zu MB, average %llu MB", kind_name(),
                kid.cow >> 20, kid.cow_peak >> 20, (kid.cow_sum / kid.cow_samples) >> 20);
}

static void send_msg(int type, size_t keys)
{
    struct msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.keys = keys;
    m.cow = kid.cow;
    m.cow_at_us = kid.cow_at_us;
    /* A failed write is dropped on purpose (see the top of the file). */
    while (write(fds[1], &m, sizeof(m)) < 0 && errno == EINTR)
        ;
}

void childinfo_progress(size_t keys)
{
    if (fds[1] == -1)
        return;
    uint64_t now = rc_monotonic_us();
    if (kid.last_sent_us && now - kid.last_sent_us < PROGRESS_INTERVAL_US)
        return;
    measure_cow(0);
    send_msg(MSG_PROGRESS, keys);
    kid.last_sent_us = now;
}

void childinfo_send_final(void)
{
    if (fds[1] == -1)
        return;
    measure_cow(1);
    send_msg(kid.kind == CHILDINFO_RDB ? MSG_RDB_COW : MSG_AOF_COW, 0);
}
