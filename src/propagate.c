/*
 * propagate.c — the single propagation point (see propagate.h).
 *
 * Records are kept serialised: each pending record is a database id and a
 * RESP multi-bulk in one growing byte buffer.  A frame per command_call()
 * nesting level remembers where its records start and whether its handler
 * replaced or suppressed its own record.
 */
#include "propagate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "repl.h"
#include "server.h"

#define MAX_FRAMES 8

struct frame {
    int prevented;
    int replaced;
    char *repl;             /* owned RESP of the replacement record */
    size_t repl_len;
    size_t repl_cap;
};

struct rec {
    int dbid;
    size_t off;
    size_t len;
};

static struct frame frames[MAX_FRAMES];
static int depth;
static int wrap_exec;               /* EXEC ran in this top-level command */

static char *pbuf;                  /* pending records' bytes */
static size_t plen, pcap;
static struct rec *recs;
static size_t nrecs, reccap;

static char *notes;                 /* propagate_aof_note()'s lines, pending */
static size_t notes_len, notes_cap;

static int suspended;
static int selected_db = -1;

/* Is anybody listening?  Without a log nothing is serialised. */
static int active(void)
{
    return !suspended && (aof_enabled() || repl_enabled());
}

static void buf_reserve(char **buf, size_t *cap, size_t used, size_t more)
{
    if (more > SIZE_MAX - used)
        abort();            /* more than the address space */
    size_t need = used + more;
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    *buf = rc_realloc(*buf, ncap);
    *cap = ncap;
}

static void buf_put(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    buf_reserve(buf, cap, *len, n);
    if (n)
        memcpy(*buf + *len, p, n);
    *len += n;
}

static void buf_header(char **buf, size_t *len, size_t *cap, char type, size_t n)
{
    char hdr[RC_RESP_HEADER_MAX];
    buf_put(buf, len, cap, hdr, rc_resp_header(hdr, type, (long long)n));
}

static void buf_bulk(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    buf_header(buf, len, cap, '$', n);
    buf_put(buf, len, cap, p, n);
    buf_put(buf, len, cap, "\r\n", 2);
}

/* Append one record for dbid to the pending list. */
static void pending_add(int dbid, int argc, const struct slice *argv)
{
    if (nrecs == reccap) {
        reccap = reccap ? reccap * 2 : 16;
        recs = rc_realloc(recs, reccap * sizeof(*recs));
    }
    struct rec *r = &recs[nrecs++];
    r->dbid = dbid;
    r->off = plen;
    buf_header(&pbuf, &plen, &pcap, '*', (size_t)argc);
    for (int i = 0; i < argc; i++)
        buf_bulk(&pbuf, &plen, &pcap, argv[i].p, argv[i].len);
    r->len = plen - r->off;
}

static void pending_add_raw(int dbid, const char *p, size_t n)
{
    if (nrecs == reccap) {
        reccap = reccap ? reccap * 2 : 16;
        recs = rc_realloc(recs, reccap * sizeof(*recs));
    }
    struct rec *r = &recs[nrecs++];
    r->dbid = dbid;
    r->off = plen;
    buf_put(&pbuf, &plen, &pcap, p, n);
    r->len = n;
}

/* Feed bytes of a record for dbid to the consumers, selecting the
 * database first when it differs from the last one fed. */
static void emit(int dbid, const char *p, size_t n)
{
    if (dbid >= 0 && dbid != selected_db) {
        char sel[64], num[24];
        int nl = snprintf(num, sizeof(num), "%d", dbid);
        int k = snprintf(sel, sizeof(sel), "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", nl, num);
        aof_feed(sel, (size_t)k);
        selected_db = dbid;
    }
    aof_feed(p, n);
}

/* Hand the pending records to the replication stream (repl.h). */
static void feed_repl(int wrap)
{
    if (!repl_enabled())
        return;
    struct repl_rec *rr = rc_malloc(sizeof(*rr) * nrecs);
    for (size_t i = 0; i < nrecs; i++)
        rr[i] = (struct repl_rec){recs[i].dbid, pbuf + recs[i].off, recs[i].len};
    repl_feed(rr, nrecs, wrap);
    rc_free(rr);
}

/* Emit every pending record, wrapped in MULTI/EXEC when there are several
 * or they came from EXEC, and empty the list. */
static void pending_flush(void)
{
    if (nrecs > 0 && !aof_enabled()) {
        feed_repl(nrecs > 1 || wrap_exec);
    } else if (nrecs > 0) {
        int wrap = nrecs > 1 || wrap_exec;
        feed_repl(wrap);
        if (wrap)
            emit(recs[0].dbid, "*1\r\n$5\r\nMULTI\r\n", 15);
        for (size_t i = 0; i < nrecs; i++)
            emit(recs[i].dbid, pbuf + recs[i].off, recs[i].len);
        if (wrap)
            emit(-1, "*1\r\n$4\r\nEXEC\r\n", 14);
    }
    if (notes_len > 0 && aof_enabled())
        aof_feed(notes, notes_len);
    notes_len = 0;
    nrecs = 0;
    plen = 0;
    wrap_exec = 0;
}

void propagate_frame_begin(struct client *c)
{
    (void)c;
    if (depth < MAX_FRAMES) {
        struct frame *f = &frames[depth];
        f->prevented = 0;
        f->replaced = 0;
        f->repl_len = 0;
    }
    depth++;
}

void propagate_frame_end(struct client *c, const struct command *cmd, long long dirty_before)
{
    depth--;
    struct frame *f = depth < MAX_FRAMES ? &frames[depth] : NULL;
    if (active()) {
        if (cmd->proc == cmd_exec) {
            if (nrecs > 0)
                wrap_exec = 1;
        } else if (server.stat_dirty != dirty_before && f && !f->prevented) {
            int dbid = c->db ? c->db->id : 0;
            if (f->replaced)
                pending_add_raw(dbid, f->repl, f->repl_len);
            else
                pending_add(dbid, c->argc, c->argv);
        }
    }
    if (f && f->repl_cap > 4096) {
        rc_free(f->repl);
        f->repl = NULL;
        f->repl_cap = 0;
    }
    if (depth == 0)
        pending_flush();
}

static struct frame *current_frame(void)
{
    return depth > 0 && depth <= MAX_FRAMES ? &frames[depth - 1] : NULL;
}

void propagate_replace(struct client *c, int argc, const struct slice *argv)
{
    (void)c;
    struct frame *f = current_frame();
    if (f == NULL || !active())
        return;
    f->repl_len = 0;
    buf_header(&f->repl, &f->repl_len, &f->repl_cap, '*', (size_t)argc);
    for (int i = 0; i < argc; i++)
        buf_bulk(&f->repl, &f->repl_len, &f->repl_cap, argv[i].p, argv[i].len);
    f->replaced = 1;
}

void propagate_replace_str(struct client *c, int argc, const char *const *argv)
{
    struct slice v[8];
    if (argc > 8)
        abort();            /* callers pass fixed, small vectors */
    for (int i = 0; i < argc; i++) {
        v[i].p = argv[i];
        v[i].len = strlen(argv[i]);
    }
    propagate_replace(c, argc, v);
}

void propagate_replace_pexpireat(struct client *c, const struct slice *key, long long when)
{
    char num[24];
    struct slice v[3] = {{"PEXPIREAT", 9}, *key, {num, rc_ll2str(num, sizeof(num), when)}};
    propagate_replace(c, 3, v);
}

void propagate_replace_del(struct client *c, const struct slice *key, int lazy)
{
    struct slice v[2] = {{lazy ? "UNLINK" : "DEL", lazy ? 6 : 3}, *key};
    propagate_replace(c, 2, v);
}

void propagate_replace_set_pxat(struct client *c, const struct slice *key,
                                const struct slice *val, long long when)
{
    char num[24];
    struct slice v[5] = {{"SET", 3}, *key, *val, {"PXAT", 4},
                         {num, rc_ll2str(num, sizeof(num), when)}};
    propagate_replace(c, 5, v);
}

void propagate_effect(struct client *c, int dbid, int argc, const struct slice *argv)
{
    if (depth > 0 && server.current_client == c)
        propagate_replace(c, argc, argv);
    else
        propagate_add(dbid, argc, argv);
}

void propagate_prevent(struct client *c)
{
    (void)c;
    struct frame *f = current_frame();
    if (f)
        f->prevented = 1;
}

void propagate_add(int dbid, int argc, const struct slice *argv)
{
    if (!active())
        return;
    pending_add(dbid, argc, argv);
    if (depth == 0)
        pending_flush();
}

void propagate_deletion(int dbid, const char *key, size_t len, int lazy)
{
    if (!active())
        return;
    struct slice v[2] = {{lazy ? "UNLINK" : "DEL", lazy ? 6 : 3}, {key, len}};
    propagate_add(dbid, 2, v);
}

void propagate_aof_note(const char *line, size_t n)
{
    if (suspended || !aof_enabled())
        return;
    buf_put(&notes, &notes_len, &notes_cap, line, n);
    if (depth == 0)
        pending_flush();
}

void propagate_suspend(int on)
{
    suspended = on;
}

int propagate_suspended(void)
{
    return suspended;
}

void propagate_reset_selected_db(void)
{
    selected_db = -1;
}

void propagate_free_all(void)
{
    rc_free(notes);
    notes = NULL;
    notes_len = notes_cap = 0;
    rc_free(pbuf);
    pbuf = NULL;
    plen = pcap = 0;
    rc_free(recs);
    recs = NULL;
    nrecs = reccap = 0;
    for (int i = 0; i < MAX_FRAMES; i++) {
        rc_free(frames[i].repl);
        frames[i].repl = NULL;
        frames[i].repl_cap = 0;
    }
}
