/*
 * latency.c — LATENCY and the two latency measures behind it, as Redis 7.0
 * has them.
 *
 * The monitor.  With `latency-monitor-threshold` N > 0, every event that
 * takes N ms or more is a sample of its event class.  The classes are
 * Redis 7.0's, sampled at the same points: "command" and "fast-command"
 * (a command call, command.c), "fork" (snapshot.c), "aof-write" with one
 * of "aof-write-alone", "aof-write-active-child" or
 * "aof-write-pending-fsync", "aof-fsync-always", "aof-fstat" and
 * "aof-rename" (aof.c), "rdb-unlink-temp-file" (snapshot.c),
 * "expire-cycle" (expire.c), "eviction-cycle", "eviction-del" and
 * "eviction-lazyfree" (evict.c).  Each class keeps the last 160 samples,
 * one per second (a later sample in the same second raises that second's
 * value), and its all-time maximum: LATENCY LATEST, HISTORY, RESET and
 * GRAPH read them, and LATENCY DOCTOR gives Redis's report and advice.
 *
 * Tracking.  With `latency-tracking yes` every command's call times go
 * into a histogram with the layout of the HdrHistogram Redis uses (values
 * in ns from 1 to 10^9, two significant digits: 256 sub-buckets, value
 * ranges doubling per bucket), so that the percentiles INFO latencystats
 * prints (the highest value equivalent to the one at the percentile) and
 * the bucket bounds LATENCY HISTOGRAM reports (1, 2, 4, 8, 16, 33, 66, ...
 * microseconds, cumulative counts) come out as Redis's.
 */
#include "latency.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aof.h"
#include "reply.h"
#include "server.h"

/* ---- the monitor ---- */

#define TS_LEN 160
#define MAX_EVENTS 32
#define GRAPH_COLS 80

struct sample {
    int32_t time;       /* unix seconds, 0 = unused */
    uint32_t latency;   /* ms */
};

struct series {
    const char *event;  /* static string; NULL = slot unused */
    int idx;            /* next sample to write */
    uint32_t max;
    struct sample samples[TS_LEN];
};

static struct series *events[MAX_EVENTS];
static int nevents;

static struct series *find_series(const char *event, size_t len)
{
    for (int i = 0; i < nevents; i++)
        if (strlen(events[i]->event) == len && memcmp(events[i]->event, event, len) == 0)
            return events[i];
    return NULL;
}

static void add_sample(const char *event, long long ms)
{
    struct series *ts = find_series(event, strlen(event));
    if (!ts) {
        if (nevents == MAX_EVENTS)
            return;
        ts = rc_malloc(sizeof(*ts));
        memset(ts, 0, sizeof(*ts));
        ts->event = event;
        events[nevents++] = ts;
    }
    uint32_t lat = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    int32_t now = (int32_t)time(NULL);
    if (lat > ts->max)
        ts->max = lat;
    struct sample *prev = &ts->samples[(ts->idx + TS_LEN - 1) % TS_LEN];
    if (prev->time == now) {
        if (lat > prev->latency)
            prev->latency = lat;
        return;
    }
    ts->samples[ts->idx].time = now;
    ts->samples[ts->idx].latency = lat;
    ts->idx = (ts->idx + 1) % TS_LEN;
}

void latency_add_sample_if_needed(const char *event, long long ms)
{
    if (server.latency_monitor_threshold && ms >= server.latency_monitor_threshold)
        add_sample(event, ms);
}

uint64_t latency_start(void)
{
    return server.latency_monitor_threshold ? rc_monotonic_us() : 0;
}

long long latency_ms_since(uint64_t start)
{
    return start ? (long long)((rc_monotonic_us() - start) / 1000) : 0;
}

/* GB of used memory per second of the last fork (Redis's stat_fork_rate),
 * which LATENCY DOCTOR grades. */
static double fork_rate;

void latency_fork_done(long long usec)
{
    fork_rate = (double)rc_used_memory() * 1000000 / (double)(usec > 0 ? usec : 1) /
                (1024.0 * 1024 * 1024);
    latency_add_sample_if_needed("fork", usec / 1000);
}

/* Forgets one event class (or all with event NULL); returns how many. */
static int reset_events(const struct slice *event)
{
    int n = 0;
    for (int i = 0; i < nevents;) {
        if (event == NULL || (strlen(events[i]->event) == event->len &&
                              memcmp(events[i]->event, event->p, event->len) == 0)) {
            rc_free(events[i]);
            events[i] = events[--nevents];
            n++;
        } else {
            i++;
        }
    }
    return n;
}

/* ---- the sparkline of LATENCY GRAPH ---- */

struct spark {
    uint32_t value;
    char label[16];
};

struct text_buf {
    char *p;
    size_t len, cap;
};

static void tb_add(struct text_buf *t, const char *p, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->p = rc_realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, p, len);
    t->len += len;
    t->p[t->len] = '\0';
}

static void tb_printf(struct text_buf *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tb_printf(struct text_buf *t, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        tb_add(t, small, (size_t)n);
        return;
    }
    char *big = rc_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tb_add(t, big, (size_t)n);
    rc_free(big);
}

/* Renders samples s[0..n) as four rows of "_o#" (value steps, '|' below
 * the top), then, after a blank line, each label top to bottom one
 * character a line; 80 samples per block. */
static void spark_render(struct text_buf *out, const struct spark *s, int n, uint32_t min,
                         uint32_t max)
{
    static const char fill[] = "_o#";
    const int rows = 4, charset_len = 3, steps = charset_len * rows;
    double relmax = (double)max - (double)min;
    if (relmax == 0)
        relmax = 1;
    char line[GRAPH_COLS];
    for (int off = 0; off < n; off += GRAPH_COLS) {
        int len = n - off < GRAPH_COLS ? n - off : GRAPH_COLS;
        if (off != 0)
            tb_add(out, "\n", 1);
        for (int row = 0;; row++) {
            int more = 0;
            memset(line, ' ', (size_t)len);
            for (int j = 0; j < len; j++) {
                const struct spark *e = &s[off + j];
                double relval = (double)e->value - (double)min;
                int step = (int)((double)(int)(relval * steps) / relmax);
                if (step < 0)
                    step = 0;
                if (step >= steps)
                    step = steps - 1;
                if (row < rows) {
                    int ci = step - (rows - row - 1) * charset_len;
                    more = 1;
                    if (ci >= 0 && ci < charset_len)
                        line[j] = fill[ci];
                    else if (ci >= charset_len)
                        line[j] = '|';
                } else if (row - rows < 1) {
                    more = 1;       /* the blank line above the labels */
                    break;
                } else {
                    int lc = row - rows - 1;
                    if ((int)strlen(e->label) > lc) {
                        more = 1;
                        line[j] = e->label[lc];
                    }
                }
            }
            if (!more)
                break;
            tb_add(out, line, (size_t)len);
            tb_add(out, "\n", 1);
        }
    }
}

static void reply_graph(struct client *c, const struct series *ts)
{
    struct spark sp[TS_LEN];
    int n = 0;
    uint32_t min = 0, max = 0;
    time_t now = time(NULL);
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *s = &ts->samples[(ts->idx + j) % TS_LEN];
        if (s->time == 0)
            continue;
        if (n == 0) {
            min = max = s->latency;
        } else {
            if (s->latency > max)
                max = s->latency;
            if (s->latency < min)
                min = s->latency;
        }
        int elapsed = (int)(now - s->time);
        sp[n].value = s->latency;
        if (elapsed < 60)
            snprintf(sp[n].label, sizeof(sp[n].label), "%ds", elapsed);
        else if (elapsed < 3600)
            snprintf(sp[n].label, sizeof(sp[n].label), "%dm", elapsed / 60);
        else if (elapsed < 3600 * 24)
            snprintf(sp[n].label, sizeof(sp[n].label), "%dh", elapsed / 3600);
        else
            snprintf(sp[n].label, sizeof(sp[n].label), "%dd", elapsed / (3600 * 24));
        n++;
    }
    struct text_buf t = {NULL, 0, 0};
    tb_printf(&t, "%s - high %lu ms, low %lu ms (all time high %lu ms)\n", ts->event,
              (unsigned long)max, (unsigned long)min, (unsigned long)ts->max);
    char dashes[GRAPH_COLS + 1];
    memset(dashes, '-', GRAPH_COLS);
    dashes[GRAPH_COLS] = '\n';
    tb_add(&t, dashes, sizeof(dashes));
    spark_render(&t, sp, n, min, max);
    reply_verbatim(c, t.p, t.len, "txt");
    rc_free(t.p);
}

/* ---- per-command histograms ---- */

/* HdrHistogram layout for lowest 1, highest 10^9, 2 significant digits. */
#define H_SUB_HALF_MAG 7
#define H_SUB_HALF (1 << H_SUB_HALF_MAG)      /* 128 */
#define H_SUB_COUNT (2 * H_SUB_HALF)          /* 256 */
#define H_BUCKETS 23
#define H_COUNTS ((H_BUCKETS + 1) * H_SUB_HALF)
#define H_HIGHEST 1000000000LL

struct latency_hist {
    long long total;
    long long counts[H_COUNTS];
};

static int h_bucket(long long v)
{
    return 63 - __builtin_clzll((unsigned long long)v | (H_SUB_COUNT - 1)) - H_SUB_HALF_MAG;
}

static int h_index(long long v)
{
    int b = h_bucket(v);
    long long sub = v >> b;
    return ((b + 1) << H_SUB_HALF_MAG) + (int)(sub - H_SUB_HALF);
}

static long long h_value_at(int idx)
{
    int b = (idx >> H_SUB_HALF_MAG) - 1;
    long long sub = (idx & (H_SUB_HALF - 1)) + H_SUB_HALF;
    if (b < 0) {
        sub -= H_SUB_HALF;
        b = 0;
    }
    return sub << b;
}

static long long h_lowest_equiv(long long v)
{
    int b = h_bucket(v);
    return (v >> b) << b;
}

static long long h_highest_equiv(long long v)
{
    int b = h_bucket(v);
    long long sub = v >> b;
    int adj = sub >= H_SUB_COUNT ? b + 1 : b;
    return h_lowest_equiv(v) + (1LL << adj) - 1;
}

static void hist_record(struct latency_hist *h, long long ns)
{
    if (ns < 1)
        ns = 1;
    if (ns > H_HIGHEST)
        ns = H_HIGHEST;
    h->counts[h_index(ns)]++;
    h->total++;
}

static long long hist_percentile(const struct latency_hist *h, double p)
{
    double req = p < 100.0 ? p : 100.0;
    long long want = (long long)((req / 100) * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    long long seen = 0, v = 0;
    for (int i = 0; i < H_COUNTS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            v = h_value_at(i);
            break;
        }
    }
    return p == 0.0 ? h_lowest_equiv(v) : h_highest_equiv(v);
}

/* {"calls": n, "histogram_usec": {bound: cumulative count, ...}} */
static void reply_hist(struct client *c, const struct latency_hist *h)
{
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_long(c, h->total);
    reply_bulk_cstr(c, "histogram_usec");
    void *hole = reply_defer_len(c);
    long n = 0;
    long long cum = 0, prev = 0;
    int i = -1;
    for (long long level = 1024;; level *= 2) {
        int li = h_index(level);
        if (li >= H_COUNTS)
            break;
        while (i < li)
            cum += h->counts[++i];
        if (cum > prev) {
            reply_long(c, h_highest_equiv(level) / 1000);
            reply_long(c, cum);
            n++;
        }
        prev = cum;
        if (cum == h->total)
            break;
    }
    reply_set_map_len(c, hole, n);
}

static double *percentiles;
static int npercentiles = 3;
static double default_percentiles[] = {50.0, 99.0, 99.9};

static const double *pct(void)
{
    return percentiles ? percentiles : default_percentiles;
}

void latency_command_done(struct command *cmd, long long usec)
{
    latency_add_sample_if_needed((cmd->flags & CMD_FAST) ? "fast-command" : "command",
                                 usec / 1000);
    if (!server.latency_tracking)
        return;
    if (!cmd->latency) {
        cmd->latency = rc_malloc(sizeof(*cmd->latency));
        memset(cmd->latency, 0, sizeof(*cmd->latency));
    }
    hist_record(cmd->latency, usec * 1000);
}

static void reset_hist(struct command *cmd)
{
    rc_free(cmd->latency);
    cmd->latency = NULL;
}

void latency_reset_histograms(void)
{
    for (int i = 0; i < command_count(); i++) {
        struct command *cmd = command_at(i);
        reset_hist(cmd);
        for (int j = 0; j < cmd->nsubs; j++)
            reset_hist(cmd->subs[j]);
    }
}

void latency_deinit(void)
{
    latency_reset_histograms();
    reset_events(NULL);
    rc_free(percentiles);
    percentiles = NULL;
}

/* A percentile as Redis prints it: "%f" without trailing zeros or dot. */
static int fmt_pct(char *buf, size_t len, double p)
{
    int n = snprintf(buf, len, "%f", p);
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
        buf[n] = '\0';
    }
    return n;
}

static void info_line(struct text_buf *t, const struct command *cmd)
{
    if (!cmd->latency)
        return;
    tb_printf(t, "latency_percentiles_usec_%s:", cmd->fullname);
    for (int j = 0; j < npercentiles; j++) {
        char p[64];
        fmt_pct(p, sizeof(p), pct()[j]);
        tb_printf(t, "p%s=%.3f%s", p, (double)hist_percentile(cmd->latency, pct()[j]) / 1000.0,
                  j != npercentiles - 1 ? "," : "");
    }
    tb_add(t, "\r\n", 2);
}

char *latency_info(void)
{
    struct text_buf t = {NULL, 0, 0};
    tb_add(&t, "", 0);
    for (int i = 0; i < command_count(); i++) {
        const struct command *cmd = command_at(i);
        info_line(&t, cmd);
        for (int j = 0; j < cmd->nsubs; j++)
            info_line(&t, cmd->subs[j]);
    }
    return t.p;
}

const char *latency_set_percentiles(int argc, char **argv)
{
    /* CONFIG SET gives one string: its words are the percentiles. */
    double vals[64];
    int n = 0;
    for (int a = 0; a < argc; a++) {
        const char *s = argv[a];
        while (*s) {
            while (*s == ' ' || *s == '\t')
                s++;
            if (!*s)
                break;
            size_t w = strcspn(s, " \t");
            double d;
            if (n == (int)(sizeof(vals) / sizeof(vals[0])) || !rc_str2d(s, w, &d))
                return "Invalid latency-tracking-info-percentiles parameters";
            if (d > 100.0 || d < 0.0)
                return "latency-tracking-info-percentiles parameters should sit between "
                       "[0.0,100.0]";
            vals[n++] = d;
            s += w;
        }
    }
    rc_free(percentiles);
    percentiles = rc_malloc(sizeof(double) * (size_t)(n ? n : 1));
    memcpy(percentiles, vals, sizeof(double) * (size_t)n);
    npercentiles = n;
    return NULL;
}

size_t latency_get_percentiles(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int j = 0; j < npercentiles && used + 1 < len; j++) {
        char p[64];
        fmt_pct(p, sizeof(p), pct()[j]);
        int n = snprintf(buf + used, len - used, "%s%s", j ? " " : "", p);
        if (n < 0)
            break;
        used += (size_t)n < len - used ? (size_t)n : len - used - 1;
    }
    return used;
}

/* ---- LATENCY ---- */

void cmd_latency_latest(struct client *c)
{
    reply_array_len(c, nevents);
    for (int i = 0; i < nevents; i++) {
        const struct series *ts = events[i];
        const struct sample *last = &ts->samples[(ts->idx + TS_LEN - 1) % TS_LEN];
        reply_array_len(c, 4);
        reply_bulk_cstr(c, ts->event);
        reply_long(c, last->time);
        reply_long(c, last->latency);
        reply_long(c, ts->max);
    }
}

void cmd_latency_history(struct client *c)
{
    const struct series *ts = find_series(c->argv[2].p, c->argv[2].len);
    if (!ts) {
        reply_array_len(c, 0);
        return;
    }
    void *hole = reply_defer_len(c);
    long n = 0;
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *s = &ts->samples[(ts->idx + j) % TS_LEN];
        if (s->time == 0)
            continue;
        reply_array_len(c, 2);
        reply_long(c, s->time);
        reply_long(c, s->latency);
        n++;
    }
    reply_set_array_len(c, hole, n);
}

void cmd_latency_reset(struct client *c)
{
    if (c->argc == 2) {
        reply_long(c, reset_events(NULL));
        return;
    }
    long long n = 0;
    for (int j = 2; j < c->argc; j++)
        n += reset_events(&c->argv[j]);
    reply_long(c, n);
}

void cmd_latency_graph(struct client *c)
{
    const struct series *ts = find_series(c->argv[2].p, c->argv[2].len);
    if (!ts) {
        size_t n = strnlen(c->argv[2].p, c->argv[2].len);
        reply_errorf(c, "ERR No samples available for event '%.*s'", (int)n, c->argv[2].p);
        return;
    }
    reply_graph(c, ts);
}

static void reply_named_hist(struct client *c, const struct command *cmd, long *n)
{
    if (!cmd->latency)
        return;
    reply_bulk_cstr(c, cmd->fullname);
    reply_hist(c, cmd->latency);
    (*n)++;
}

void cmd_latency_histogram(struct client *c)
{
    void *hole = reply_defer_len(c);
    long n = 0;
    if (c->argc == 2) {
        for (int i = 0; i < command_count(); i++) {
            const struct command *cmd = command_at(i);
            reply_named_hist(c, cmd, &n);
            for (int j = 0; j < cmd->nsubs; j++)
                reply_named_hist(c, cmd->subs[j], &n);
        }
    } else {
        for (int a = 2; a < c->argc; a++) {
            const struct command *cmd = command_lookup(c->argv[a].p, c->argv[a].len);
            if (!cmd)
                continue;
            reply_named_hist(c, cmd, &n);
            for (int j = 0; j < cmd->nsubs; j++)
                reply_named_hist(c, cmd->subs[j], &n);
        }
    }
    reply_set_map_len(c, hole, n);
}

/* ---- LATENCY DOCTOR ---- */

struct event_stats {
    int samples;
    uint32_t avg, mad;
    long long period;   /* seconds since the oldest sample (at least 1) */
};

static void analyze(const struct series *ts, struct event_stats *st)
{
    unsigned long long sum = 0;
    long long oldest = 0;
    memset(st, 0, sizeof(*st));
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *s = &ts->samples[j];
        if (s->time == 0)
            continue;
        st->samples++;
        sum += s->latency;
        if (oldest == 0 || s->time < oldest)
            oldest = s->time;
    }
    if (!st->samples)
        return;
    st->avg = (uint32_t)(sum / (unsigned)st->samples);
    st->period = (long long)time(NULL) - oldest;
    if (st->period == 0)
        st->period = 1;
    unsigned long long dev = 0;
    for (int j = 0; j < TS_LEN; j++) {
        const struct sample *s = &ts->samples[j];
        if (s->time == 0)
            continue;
        long long d = (long long)st->avg - (long long)s->latency;
        dev += (unsigned long long)(d < 0 ? -d : d);
    }
    st->mad = (uint32_t)(dev / (unsigned)st->samples);
}

/* The advice LATENCY DOCTOR may give (advice_texts words it). */
enum {
    ADV_BETTER_VM = 1 << 0,
    ADV_SLOWLOG_ENABLE = 1 << 1,
    ADV_SLOWLOG_TUNE = 1 << 2,
    ADV_SLOWLOG_INSPECT = 1 << 3,
    ADV_SCHEDULER = 1 << 4,
    ADV_LOCAL_DISK = 1 << 5,
    ADV_SSD = 1 << 6,
    ADV_DATA_WRITEBACK = 1 << 7,
    ADV_DISK_CONTENTION = 1 << 8,
    ADV_NO_APPENDFSYNC = 1 << 9,
    ADV_RELAX_FSYNC = 1 << 10,
    ADV_WRITE_LOAD_INFO = 1 << 11,
    ADV_HZ = 1 << 12,
    ADV_LARGE_OBJECTS = 1 << 13,
    ADV_MASS_EVICTION = 1 << 14,
};

/* The advice each event class calls for, as Redis 7.0's report decides
 * it; "command" and "fork" depend on the configuration and the fork rate
 * (event_advice).  Redis also lists "aof-rewrite-diff-write", which its
 * 7.0 no longer records and neither does ringcache. */
static const struct {
    const char *event;
    unsigned advice;
} event_advices[] = {
    {"fast-command", ADV_SCHEDULER},
    {"aof-write-pending-fsync",
     ADV_LOCAL_DISK | ADV_DISK_CONTENTION | ADV_SSD | ADV_DATA_WRITEBACK},
    {"aof-write-active-child", ADV_NO_APPENDFSYNC | ADV_DATA_WRITEBACK | ADV_SSD},
    {"aof-write-alone", ADV_LOCAL_DISK | ADV_DATA_WRITEBACK | ADV_SSD},
    {"aof-fsync-always", ADV_RELAX_FSYNC},
    {"aof-fstat", ADV_DISK_CONTENTION | ADV_LOCAL_DISK},
    {"rdb-unlink-temp-file", ADV_DISK_CONTENTION | ADV_LOCAL_DISK},
    {"aof-rename", ADV_WRITE_LOAD_INFO | ADV_DATA_WRITEBACK | ADV_SSD | ADV_LOCAL_DISK},
    {"expire-cycle", ADV_HZ | ADV_LARGE_OBJECTS},
    {"eviction-del", ADV_LARGE_OBJECTS},
    {"eviction-cycle", ADV_MASS_EVICTION},
};

/* The advice event calls for.  For "fork" the grade of the fork rate is
 * appended to t (the end of the event's line). */
static unsigned event_advice(const char *event, struct text_buf *t)
{
    if (strcmp(event, "command") == 0) {
        unsigned a = ADV_SLOWLOG_INSPECT | ADV_LARGE_OBJECTS;
        if (server.slowlog_log_slower_than < 0)
            a |= ADV_SLOWLOG_ENABLE;
        else if (server.slowlog_log_slower_than / 1000 > server.latency_monitor_threshold)
            a |= ADV_SLOWLOG_TUNE;
        return a;
    }
    if (strcmp(event, "fork") == 0) {
        const char *grade = fork_rate < 10    ? "terrible"
                            : fork_rate < 25  ? "poor"
                            : fork_rate < 100 ? "good"
                                              : "excellent";
        tb_printf(t, " Fork rate is %.2f GB/sec (%s).", fork_rate, grade);
        return fork_rate < 25 ? ADV_BETTER_VM : 0;
    }
    for (size_t i = 0; i < sizeof(event_advices) / sizeof(event_advices[0]); i++)
        if (strcmp(event, event_advices[i].event) == 0)
            return event_advices[i].advice;
    return 0;
}

/* The advice paragraphs, in the order redis-server 7.0 prints them and
 * in its words.  Where `after` is set, latency-monitor-threshold in
 * microseconds goes between text and after. */
static const struct {
    unsigned advice;
    const char *text, *after;
} advice_texts[] = {
    {ADV_BETTER_VM,
     "- If you are using a virtual machine, consider upgrading it with a faster one using a "
     "hypervisior that provides less latency during fork() calls. Xen is known to have poor "
     "fork() performance. Even in the context of the same VM provider, certain kinds of "
     "instances can execute fork faster than others.\n", NULL},
    {ADV_SLOWLOG_ENABLE,
     "- There are latency issues with potentially slow commands you are using. Try to enable "
     "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ",
     "'. If the Slow log is disabled Redis is not able to log slow commands execution for "
     "you.\n"},
    {ADV_SLOWLOG_TUNE,
     "- Your current Slow Log configuration only logs events that are slower than your "
     "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ",
     "'.\n"},
    {ADV_SLOWLOG_INSPECT,
     "- Check your Slow Log to understand what are the commands you are running which are too "
     "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
     NULL},
    {ADV_SCHEDULER,
     "- The system is slow to execute Redis code paths not containing system calls. This "
     "usually means the system does not provide Redis CPU time to run for long periods. You "
     "should try to:\n"
     "  1) Lower the system load.\n"
     "  2) Use a computer / VM just for Redis if you are running other software in the same "
     "system.\n"
     "  3) Check if you have a \"noisy neighbour\" problem.\n"
     "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
     "your system.\n"
     "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if "
     "you are using Jemalloc. However this may create fragmentation problems.\n", NULL},
    {ADV_LOCAL_DISK,
     "- It is strongly advised to use local disks for persistence, especially if you are using "
     "AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n",
     NULL},
    {ADV_SSD,
     "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and "
     "AOF log rewriting (resulting in smaller memory usage). With extremely high write load "
     "SSD disks can be a good option. However Redis should perform reasonably with high load "
     "using normal disks. Use this advice as a last resort.\n", NULL},
    {ADV_DATA_WRITEBACK,
     "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost "
     "compared to data=ordered, however this mode of operation provides less guarantees, and "
     "sometimes it can happen that after a hard crash the AOF file will have a half-written "
     "command at the end and will require to be repaired before Redis restarts.\n", NULL},
    {ADV_DISK_CONTENTION,
     "- Try to lower the disk contention. This is often caused by other disk intensive "
     "processes running in the same computer (including other Redis instances).\n", NULL},
    {ADV_NO_APPENDFSYNC,
     "- Assuming from the point of view of data safety this is viable in your environment, "
     "you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not "
     "be performed while there is a child rewriting the AOF file or producing an RDB file "
     "(the moment where there is high disk contention).\n", NULL},
    {ADV_RELAX_FSYNC,
     "- Your fsync policy is set to 'always'. It is very hard to get good performances with "
     "such a setup, if possible try to relax the fsync policy to 'onesec'.\n", NULL},
    {ADV_WRITE_LOAD_INFO,
     "- Latency during the AOF atomic rename operation or when the final difference is "
     "flushed to the AOF file at the end of the rewrite, sometimes is caused by very high "
     "write load, causing the AOF buffer to get very large. If possible try to send less "
     "commands to accomplish the same work, or use Lua scripts to group multiple operations "
     "into a single EVALSHA call.\n", NULL},
    {ADV_HZ,
     "- In order to make the Redis keys expiring process more incremental, try to set the "
     "'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n", NULL},
    {ADV_LARGE_OBJECTS,
     "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
     "blocking operation. If you have very large objects that are often deleted, expired, or "
     "evicted, try to fragment those objects into multiple smaller objects.\n", NULL},
    {ADV_MASS_EVICTION,
     "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large "
     "objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster "
     "large keys migrations (RESTORE command), may create sudden memory pressure forcing the "
     "server to block trying to evict keys. \n", NULL},
};

/* The advice section for the advice a calls for (not 0). */
static void advise(struct text_buf *t, unsigned a)
{
    unsigned long long us = (unsigned long long)server.latency_monitor_threshold * 1000;
    /* Two are given only while they still apply, as in Redis (which has
     * printed the heading all the same). */
    if (server.appendfsync != AOF_FSYNC_ALWAYS)
        a &= ~(unsigned)ADV_RELAX_FSYNC;
    if (server.hz >= 100)
        a &= ~(unsigned)ADV_HZ;
    tb_printf(t, "\nI have a few advices for you:\n\n");
    for (size_t i = 0; i < sizeof(advice_texts) / sizeof(advice_texts[0]); i++) {
        if (!(a & advice_texts[i].advice))
            continue;
        tb_add(t, advice_texts[i].text, strlen(advice_texts[i].text));
        if (advice_texts[i].after)
            tb_printf(t, "%llu%s", us, advice_texts[i].after);
    }
}

/* Redis 7.0's latency report: one line per event class recorded, then the
 * advice they call for.  Redis's advice on transparent huge pages (given
 * when its process has some) is not given. */
void cmd_latency_doctor(struct client *c)
{
    struct text_buf t = {NULL, 0, 0};
    tb_add(&t, "", 0);
    if (nevents == 0 && server.latency_monitor_threshold == 0) {
        tb_printf(&t, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                      "Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                      "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                      "mission I'd suggest to take a look at "
                      "https://redis.io/topics/latency-monitor.\n");
        reply_verbatim(c, t.p, t.len, "txt");
        rc_free(t.p);
        return;
    }
    unsigned advice = 0;
    for (int i = 0; i < nevents; i++) {
        const struct series *ts = events[i];
        struct event_stats st;
        analyze(ts, &st);
        if (i == 0)
            tb_printf(&t, "Dave, I have observed latency spikes in this Redis instance. You don't "
                          "mind talking about it, do you Dave?\n\n");
        tb_printf(&t, "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period "
                      "%.2f sec). Worst all time event %lums.",
                  i + 1, ts->event, st.samples, (unsigned long)st.avg, (unsigned long)st.mad,
                  st.samples ? (double)st.period / st.samples : 0.0, (unsigned long)ts->max);
        advice |= event_advice(ts->event, &t);
        tb_add(&t, "\n", 1);
    }
    if (nevents == 0)
        tb_printf(&t, "Dave, no latency spike was observed during the lifetime of this Redis "
                      "instance, not in the slightest bit. I honestly think you ought to sit down "
                      "calmly, take a stress pill, and think things over.\n");
    else if (advice == 0)
        tb_printf(&t, "\nWhile there are latency events logged, I'm not able to suggest any easy "
                      "fix. Please use the Redis community to get some help, providing this "
                      "report in your help request.\n");
    else
        advise(&t, advice);
    reply_verbatim(c, t.p, t.len, "txt");
    rc_free(t.p);
}

void cmd_latency_help(struct client *c)
{
    static const char *const lines[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for "
        "the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL,
    };
    reply_help(c, "latency", lines);
}
