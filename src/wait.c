/*
 * wait.c — WAIT numreplicas timeout, on one node and through the ring.
 *
 * Redis answers WAIT with the number of replicas that acknowledged every
 * write the connection made before it, blocking until numreplicas did or
 * the timeout (ms, 0 = forever) passed.  In the ring a connection's writes
 * run on several primaries: the ones it ran here (repl.c notes the stream
 * offset and the slots of their batches in the client) and the ones
 * forwarded to other members (route.c marks those members in c->wpeers).
 *
 *   - Here: repl_acked_count(c->woff, slots) - for each slot written, how
 *     many of its next up members after this node, in failover order,
 *     acknowledged the offset; the least of them.
 *   - Each member B written through: `RINGNODE WAITOFF` goes over the
 *     client's own forwarding link, so B answers it after every command the
 *     client sent there before, with B's stream offset then; from then on
 *     `RINGNODE ACKCOUNT <offset>` asks B how many replicas hold all of B's
 *     writes up to it (B does not know which slots were the client's, so
 *     it counts over every slot it is primary of: never more than the
 *     truth).
 * The answer is the least count over those parts, as Redis Cluster's
 * response policy for WAIT (agg_min) combines shards.  The parts are
 * polled every few milliseconds while a WAIT is blocked; the connection's
 * input is held meanwhile (CF_WAIT_FWD), as Redis blocks the client.
 *
 * A connection that wrote nothing counts the replicas of every slot this
 * node is primary of; standalone, or with cluster-replicas 0, the count is
 * 0 and WAIT n>0 waits out its timeout as Redis does without replicas.
 */
#include "wait.h"

#include <event2/event.h>
#include <string.h>

#include "block.h"
#include "cluster.h"
#include "conn.h"
#include "link.h"
#include "mem.h"
#include "repl.h"
#include "reply.h"
#include "server.h"
#include "slot.h"
#include "util.h"

#define WAIT_POLL_MS 5
#define WAIT_MAX_PARTS 64

struct wpart {
    struct waitreq *w;
    int member;
    int have_off;       /* WAITOFF answered */
    uint64_t off;
    int count;          /* last ACKCOUNT answer, -1: none yet */
    int asking;         /* a request is in flight */
    int failed;         /* the member could not be asked: counts 0 */
};

struct waitreq {
    struct waitreq *next;
    struct client *c;           /* NULL once the client is gone */
    long long numreplicas;
    long long deadline;         /* unix ms, 0: none */
    int local;                  /* the client wrote here */
    uint64_t woff;
    uint16_t slots[8];
    int nslots;
    int nparts, inflight;       /* inflight: callbacks still to come */
    int listed;                 /* on reqs */
    struct wpart parts[];
};

static struct waitreq *reqs;
static struct event *poll_ev;

static void arm(void);

static int current_count(const struct waitreq *w)
{
    int least = -1;
    if (w->local || w->nparts == 0) {
        least = w->local ? repl_acked_count(w->woff, w->slots, w->nslots)
                         : repl_acked_count(0, NULL, -1);
    }
    for (int i = 0; i < w->nparts; i++) {
        const struct wpart *p = &w->parts[i];
        int k = p->failed ? 0 : p->count < 0 ? 0 : p->count;
        least = least < 0 || k < least ? k : least;
    }
    return least < 0 ? 0 : least;
}

/* Free w once nothing refers to it (off the list, no callback pending). */
static void maybe_free(struct waitreq *w)
{
    if (w->c == NULL && w->inflight == 0 && !w->listed)
        rc_free(w);
}

static void finish(struct waitreq **pp, int n)
{
    struct waitreq *w = *pp;
    *pp = w->next;
    w->listed = 0;
    if (w->c) {
        struct client *c = w->c;
        c->waitreq = NULL;
        reply_long(c, n);
        c->flags &= ~CF_WAIT_FWD;
        conn_resume(c);
        w->c = NULL;
    }
    maybe_free(w);
}

static void on_count(void *priv, const char *reply, size_t len, const char *err)
{
    (void)err;
    struct wpart *p = priv;
    struct waitreq *w = p->w;
    long long v;
    w->inflight--;
    p->asking = 0;
    if (reply && len > 3 && reply[0] == ':' && rc_str2ll(reply + 1, len - 3, &v) && v >= 0)
        p->count = (int)v;
    else
        p->failed = 1;
    maybe_free(w);
}

static void on_off(void *priv, const char *reply, size_t len, const char *err)
{
    (void)err;
    struct wpart *p = priv;
    struct waitreq *w = p->w;
    unsigned long long v;
    w->inflight--;
    p->asking = 0;
    if (reply && len > 3 && reply[0] == ':' && rc_str2ull(reply + 1, len - 3, &v)) {
        p->have_off = 1;
        p->off = v;
    } else {
        p->failed = 1;
    }
    maybe_free(w);
}

static void ask(struct waitreq *w, struct wpart *p, int argc, const char **argv,
                link_reply_fn *fn)
{
    size_t lens[4];
    const char *err;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    struct link *l = cluster_fwd_link(p->member, w->c->resp, w->c->id);
    if (l == NULL || link_send_argv(l, argc, argv, lens, fn, p, &err) != 0) {
        p->failed = 1;
        return;
    }
    p->asking = 1;
    w->inflight++;
}

static void ask_counts(struct waitreq *w)
{
    for (int i = 0; i < w->nparts; i++) {
        struct wpart *p = &w->parts[i];
        if (p->asking || p->failed || !p->have_off)
            continue;
        char off[24], slots[8 * 6 + 1] = "";
        snprintf(off, sizeof(off), "%llu", (unsigned long long)p->off);
        for (int k = 0; k < w->nslots; k++)
            snprintf(slots + strlen(slots), sizeof(slots) - strlen(slots), "%s%u",
                     k ? "," : "", (unsigned)w->slots[k]);
        const char *argv[] = {"RINGNODE", "ACKCOUNT", off, slots};
        ask(w, p, w->nslots > 0 ? 4 : 3, argv, on_count);
    }
}

/* Answer every WAIT whose count is reached or whose time is up. */
static void check(void)
{
    for (struct waitreq **pp = &reqs; *pp;) {
        struct waitreq *w = *pp;
        if (w->c == NULL) {
            *pp = w->next;
            w->listed = 0;
            maybe_free(w);
            continue;
        }
        int n = current_count(w);
        int pending = 0;
        for (int i = 0; i < w->nparts; i++)
            pending |= !w->parts[i].failed && w->parts[i].count < 0;
        if ((!pending && n >= w->numreplicas) ||
            (w->deadline && server.mstime >= w->deadline)) {
            finish(pp, n);
            continue;
        }
        ask_counts(w);
        pp = &w->next;
    }
    if (reqs)
        arm();
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    server.mstime = rc_mstime();
    check();
}

static void arm(void)
{
    if (poll_ev == NULL)
        poll_ev = evtimer_new(server.base, on_poll, NULL);
    if (!evtimer_pending(poll_ev, NULL)) {
        struct timeval tv = {0, WAIT_POLL_MS * 1000};
        evtimer_add(poll_ev, &tv);
    }
}

void cmd_wait(struct client *c)
{
    long long timeout, numreplicas;
    if (!rc_str2ll(c->argv[1].p, c->argv[1].len, &numreplicas)) {
        reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &timeout)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    int nparts = 0;
    int members[WAIT_MAX_PARTS];
    for (int m = 0; m < WAIT_MAX_PARTS && cluster_enabled(); m++)
        if ((c->wpeers >> m) & 1)
            members[nparts++] = m;
    struct waitreq *w = rc_calloc(sizeof(*w) + (size_t)nparts * sizeof(struct wpart));
    w->c = c;
    w->numreplicas = numreplicas;
    w->local = c->woff != 0;
    w->woff = c->woff;
    w->nslots = c->nwslots;
    memcpy(w->slots, c->wslots, sizeof(w->slots));
    w->nparts = nparts;
    for (int i = 0; i < nparts; i++) {
        w->parts[i].w = w;
        w->parts[i].member = members[i];
        w->parts[i].count = -1;
    }
    int n = current_count(w);
    if ((nparts == 0 && n >= numreplicas) || !block_allowed(c)) {
        rc_free(w);
        reply_long(c, n);
        return;
    }
    for (int i = 0; i < nparts; i++) {
        const char *argv[] = {"RINGNODE", "WAITOFF"};
        ask(w, &w->parts[i], 2, argv, on_off);
    }
    if (timeout > 0)
        w->deadline = server.mstime + timeout;
    w->next = reqs;
    w->listed = 1;
    reqs = w;
    c->waitreq = w;
    c->flags |= CF_WAIT_FWD;
    arm();
}

void wait_client_gone(struct client *c)
{
    if (c->waitreq) {
        c->waitreq->c = NULL;
        c->waitreq = NULL;
    }
}

void wait_note_slot(struct client *c, int slot)
{
    int i = 0;
    if (c->nwslots < 0)
        return;
    if (slot < 0) {
        c->nwslots = -1;
        return;
    }
    while (i < c->nwslots && c->wslots[i] != slot)
        i++;
    if (i < c->nwslots)
        return;
    if (i == (int)(sizeof(c->wslots) / sizeof(c->wslots[0]))) {
        c->nwslots = -1;
        return;
    }
    c->wslots[i] = (uint16_t)slot;
    c->nwslots = i + 1;
}

void wait_note_forward(struct client *c, int member)
{
    if (member >= 0 && member < WAIT_MAX_PARTS)
        c->wpeers |= 1ull << member;
}

/* RINGNODE WAITOFF: this node's stream offset, after every command the
 * link sent before. */
void cmd_ringnode_waitoff(struct client *c)
{
    reply_long(c, (long long)repl_offset());
}

/* RINGNODE ACKCOUNT <offset> [slot,slot,...]: replicas holding
 * everything up to offset of those slots (repl_acked_count()). */
void cmd_ringnode_ackcount(struct client *c)
{
    unsigned long long off, v;
    uint16_t slots[8];
    int n = -1;
    if (!rc_str2ull(c->argv[2].p, c->argv[2].len, &off)) {
        reply_error(c, "ERR bad offset");
        return;
    }
    if (c->argc == 4) {
        const char *p = c->argv[3].p, *end = p + c->argv[3].len;
        for (n = 0; p < end && n < 8; n++) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            if (!rc_str2ull(p, (size_t)(stop - p), &v) || v >= RC_SLOTS) {
                reply_error(c, "ERR bad slot list");
                return;
            }
            slots[n] = (uint16_t)v;
            p = comma ? comma + 1 : end;
        }
        if (p < end) {
            reply_error(c, "ERR bad slot list");
            return;
        }
    }
    reply_long(c, repl_acked_count(off, slots, n));
}

void wait_deinit(void)
{
    if (poll_ev)
        event_free(poll_ev);
    poll_ev = NULL;
    /* After cluster_deinit(): every link callback has run. */
    while (reqs) {
        struct waitreq *w = reqs;
        reqs = w->next;
        w->listed = 0;
        w->c = NULL;
        maybe_free(w);
    }
}
