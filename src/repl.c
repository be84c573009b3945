/*
 * repl.c — the replication stream of ring mode (see repl.h).
 *
 * The backlog is a FIFO of batches, oldest first, trimmed to
 * repl-backlog-size bytes.  Each peer has a cursor: the next batch to look
 * at.  A peer whose cursor batch is trimmed before it was sent has lost
 * batches (logged once per episode), and a catch-up (digests, then dumps
 * of the slots that differ) repairs them.  A peer whose link failed may
 * have applied any prefix of what was sent: nothing more goes to it until
 * it says (RINGNODE REPLPOS) where its copy of this stream ends, and the
 * stream resumes from there when the backlog still holds it (a partial
 * resync), else it too is caught up by digests.  A replica applies a
 * sender's messages from one connection at a time, the newest that asked
 * REPLPOS, so nothing from the failed link lands after that answer.
 */
#include "repl.h"
#include "replpos.h"
#include "slotdigest.h"
#include "wait.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aof.h"
#include "aoffmt.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "cstate.h"
#include "link.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "rand.h"
#include "object.h"
#include "propagate.h"
#include "rdb.h"
#include "rdbobj.h"
#include "reply.h"
#include "ring.h"
#include "server.h"
#include "slot.h"
#include "util.h"

struct batch {
    struct batch *next;
    uint64_t end;               /* stream offset after this batch */
    unsigned slot;
    char only[CSTATE_ID_LEN + 1];   /* a slot dump for one member; "" for all */
    int marker;                 /* 0: data; MARK_SYNCED or MARK_HANDOFF (for `only`) */
    uint64_t marker_epoch;
    size_t len;
    char data[];
};

struct rpeer {
    char id[CSTATE_ID_LEN + 1];
    char host[CSTATE_HOST_MAX + 1];
    int port;
    int member;                 /* ring index in the current state */
    struct link *link;
    struct batch *cursor;       /* next batch to consider; NULL: at the end */
    uint64_t scanned;           /* stream offset up to which batches were looked at */
    uint64_t sent, acked;       /* end offsets of the last batch sent to it, acked by it */
    uint64_t ack_cap;           /* acks count up to here only: the acked offset when
                                 * batches were lost, until a catch-up repairs them */
    long long acked_ms;
    int lost;                   /* lost batches since the last catch-up */
    long long lost_ms;          /* when the loss was noticed */
    int resyncing;              /* 1: checking slot digests; 2: dumping those that differ */
    int resync_mine;            /* it covers only slots this node is primary of (took back) */
    unsigned resync_slot;       /* the next slot to check or dump */
    uint64_t check_end;         /* stream offset after the last SLOTCHECK sent */
    unsigned char need[RC_SLOTS / 8];   /* slots its copy differs in: to dump */
    long long resync_checked, resync_differ;
    long long resync_keys, resync_bytes, resyncs;
    long long batches_sent;
    int sync_due;               /* it is joining: end its dumps with a SYNCED marker */
    /* Joining, and sent a SYNCED marker at epoch counted_epoch: writes after
     * stream offset counted_from to slots it holds are acknowledged only
     * once it has them too, so it holds every acknowledged write when it
     * comes up (and may then take a slot over at once). */
    uint64_t counted_epoch, counted_from;
    uint64_t synced_epoch;      /* received: the last SYNCED marker's epoch from it */
    uint64_t handoff_epoch;     /* received: the last HANDOFF marker's epoch from it */
    uint64_t handoff_acked;     /* sent: the last epoch whose HANDOFF it acknowledged */
    uint64_t repair_end;        /* stream offset of the marker ending the last catch-up */
    /* (hole_from, hole_to]: the stream between the ack cap of a loss and
     * the marker ending its catch-up.  That marker's ack raised acked over
     * it, but the catch-up repaired only the slots it covered (those this
     * node was primary of): a batch in it of a slot this node no longer
     * serves may never have reached the peer (refused, as a newer state
     * there no longer named this node its primary).  hole_loss: the cap
     * of the loss being repaired. */
    uint64_t hole_from, hole_to, hole_loss;
    int relink;                 /* its link failed: 1 ask it REPLPOS, 2 asked */
    long long relink_ms;        /* when the link failed */
    long long partial_resyncs;  /* times the stream resumed from its REPLPOS */
    /* As a sender to this node: the connection its messages are taken
     * from (client id, the newest that asked REPLPOS or sent a message).
     * Where this node's copy of its stream ends is in replpos.h. */
    uint64_t in_conn;
    long long obuf_soft_since;  /* over the soft output limit since (ms), 0: not */
    long long obuf_cutoffs;     /* times cut off for its output buffer */
    long long hold_until_ms;    /* CLUSTER_FAULT_HOLD_*: nothing goes out before */
    long long behind_ms;        /* since when sent > acked (cron's view), 0: not */
    int stall_told;             /* check_stalled() logged its stall */
};

/* In-stream markers (DESIGN.md "Rejoin and handback"), sent to one peer
 * after every batch before them:
 *   SYNCED e:  every slot the peer holds and this node is primary of at
 *              epoch e was dumped to it before this point (catch-up done);
 *   HANDOFF e: this node adopted epoch e; every write it made as primary
 *              before that is before this point. */
enum { MARK_SYNCED = 1, MARK_HANDOFF = 2 };

struct waiter {
    struct waiter *next;
    struct client *c;           /* NULL once the client is gone */
    void *hole;
    char *reply;
    size_t len;
    uint64_t before, after;     /* the batches it waits for: ends in (before, after] */
    struct batch *first;        /* the first of them (valid while not trimmed) */
    long long deadline;
};

static struct waiter *waiters;

static struct {
    char replid[41];
    uint64_t offset;            /* stream offset: bytes of all batches made */
    struct batch *head, *tail;
    size_t bytes;               /* payload bytes in the backlog */
    struct rpeer **peers;
    int npeers;
    struct batch *mark;         /* the tail when repl_offset() was last asked */
    uint64_t mark_off;
    struct client *applier;     /* fake client that runs received batches */
    long long applied, refused;
    long long superseded_checks;   /* late checks answered in step, not applied */
    long long dumped_slots, dumped_keys, dumped_bytes;   /* sent as dumps, in all */
    long long move_tokens;      /* cluster-move-rate's bucket: bytes that may go now */
    long long move_ms;          /* when it was last filled */
} rs;

void repl_init(void)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 40; i++)
        rs.replid[i] = hex[rc_random_u64() & 15];
    rs.replid[40] = '\0';
}

static void peer_free(struct rpeer *p)
{
    if (p == NULL)
        return;     /* this node's own place in the member order */
    link_destroy(&p->link);
    rc_free(p);
}

/* Catch-up of p (DESIGN.md "Rejoin and handback"): first every slot it
 * holds is checked - a SLOTCHECK with this node's digest of the slot goes
 * in the stream, and p compares it with its own copy at that same position
 * - then the slots whose copies differ are dumped in the stream, then the
 * markers.  A copy already in step costs one digest, not a dump. */
/* Keys digested per loop turn by catch-up checks. */
#define RESYNC_CHECK_KEYS 20000

static void start_resync(struct rpeer *p)
{
    p->resyncing = 1;
    p->resync_mine = 0;
    p->resync_slot = 0;
    p->resync_keys = p->resync_bytes = 0;
    p->resync_checked = p->resync_differ = 0;
    memset(p->need, 0, sizeof(p->need));
}

void repl_deinit(void)
{
    while (waiters) {
        struct waiter *w = waiters;
        waiters = w->next;
        rc_free(w->reply);
        rc_free(w);
    }
    for (int i = 0; i < rs.npeers; i++) {
        struct rpeer *o = rs.peers[i];
        rs.peers[i] = NULL;     /* its link's callbacks look peers up */
        peer_free(o);
    }
    rc_free(rs.peers);
    rs.peers = NULL;
    rs.npeers = 0;
    while (rs.head) {
        struct batch *b = rs.head;
        rs.head = b->next;
        rc_free(b);
    }
    rs.tail = NULL;
    rs.bytes = 0;
}

int repl_enabled(void)
{
    const struct cstate *s = cluster_state();
    return cluster_enabled() && s && s->replicas > 0 && s->nmembers > 1;
}

/* Is member (not this node) in slot's preference list, and not failed?
 * While members are being added, the list in the table the ring moves to
 * counts too: those members are sent the slot's batches and its copy
 * (catch-up) before the new member comes up (cluster.c). */
static int holds(unsigned slot, int member)
{
    const struct ring *r = cluster_ring(), *next = cluster_ring_next();
    const struct cstate *s = cluster_state();
    if (r == NULL || member == cluster_my_index())
        return 0;
    if (!ring_in_pref(r, slot, member) &&
        (next == NULL || (server.cluster_debug_bugs & CLUSTER_BUG_NO_MOVE) ||
         !ring_in_pref(next, slot, member)))
        return 0;
    return s->members[member].status != CSTATE_FAILED &&
           s->members[member].status != CSTATE_REMOVING;
}

/* Does member hold a copy of slot that this node, its primary, sends?
 * Not while the slot is being handed back to this node: its copy is sent
 * (checked, and dumped where it differs) only once taken over. */
static int copy_holder(unsigned slot, int member)
{
    return cluster_slot_is_mine(slot) && holds(slot, member) &&
           ((server.cluster_debug_bugs & CLUSTER_BUG_HANDBACK_LOST) || !cluster_taking_back(slot));
}

/* The k-th (from 0) up member after this node in slot's preference list:
 * the one a failover of this node hands the slot to first is k = 0.  -1
 * if there is none. */
static int successor(unsigned slot, int k)
{
    const struct ring *r = cluster_ring();
    const struct cstate *s = cluster_state();
    const uint16_t *pref = ring_pref(r, slot);
    int me = cluster_my_index(), seen_me = 0;
    /* The other holder when the state names two (holders.h). */
    uint16_t h[2];
    if (k == 0 && cstate_holders(s, pref, ring_pref_len(r), h) == 2 && (h[0] == me || h[1] == me)) {
        int other = h[0] == me ? h[1] : h[0];
        if (s->members[other].status == CSTATE_UP)
            return other;
    }
    for (int j = 0; j < ring_pref_len(r); j++) {
        int m = pref[j];
        if (m == me)
            seen_me = 1;
        else if (seen_me && s->members[m].status == CSTATE_UP && k-- == 0)
            return m;
    }
    return -1;
}

/* p's link, made on first use: it reaches p's node id only (link.h). */
static struct link *repl_link(struct rpeer *p)
{
    if (p->link == NULL) {
        p->link = link_create(p->host, p->port, 2, server.cluster_node_timeout, "repl");
        link_set_peer_id(p->link, p->id);
    }
    return p->link;
}

static struct rpeer *peer_of(int member)
{
    return member >= 0 && member < rs.npeers ? rs.peers[member] : NULL;
}

/* The offset up to which everything sent to p is acknowledged. */
static uint64_t acked_upto(const struct rpeer *p)
{
    return p->acked < p->ack_cap ? p->acked : p->ack_cap;
}

static struct batch *append_marker(const struct rpeer *p, int kind);
static int is_joining(const struct rpeer *p);

void repl_state_changed(int gained_from_failed)
{
    const struct cstate *s = cluster_state();
    int n = s ? (int)s->nmembers : 0;
    struct rpeer **np = rc_calloc(sizeof(*np) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        if (i == cluster_my_index())
            continue;
        const struct cstate_member *m = &s->members[i];
        for (int k = 0; k < rs.npeers; k++) {
            struct rpeer *o = rs.peers[k];
            if (o && strcmp(o->id, m->id) == 0 && strcmp(o->host, m->host) == 0 &&
                o->port == (int)m->port) {
                np[i] = o;
                rs.peers[k] = NULL;
            }
        }
        if (np[i] == NULL) {
            struct rpeer *p = rc_calloc(sizeof(*p));
            memcpy(p->id, m->id, sizeof(p->id));
            snprintf(p->host, sizeof(p->host), "%s", m->host);
            p->port = (int)m->port;
            /* A new peer starts at the end of the stream: earlier writes
             * reach it by catch-up, not from the backlog. */
            p->scanned = p->sent = p->acked = rs.offset;
            p->ack_cap = UINT64_MAX;
            np[i] = p;
        }
        np[i]->member = i;
        /* Marked failed: whatever it applied of what was sent, nothing
         * more goes to it until it says where its copy ends (a restarted
         * node resumes from its logged position, replpos.h). */
        if (m->status == CSTATE_FAILED && !np[i]->relink && !np[i]->lost) {
            np[i]->relink = 1;
            np[i]->relink_ms = server.mstime;
        }
    }
    for (int k = 0; k < rs.npeers; k++) {
        struct rpeer *o = rs.peers[k];
        rs.peers[k] = NULL;     /* its link's callbacks look peers up */
        peer_free(o);
    }
    rc_free(rs.peers);
    rs.peers = np;
    rs.npeers = n;
    if (!repl_enabled())
        return;
    for (int i = 0; i < n; i++) {
        struct rpeer *p = np[i];
        if (p == NULL)
            continue;
        /* Whatever slots moved, every member learns where this node's
         * writes as a primary end. */
        append_marker(p, MARK_HANDOFF);
        /* A joining member gets every slot it holds that this node is
         * primary of, again at each new state (the primaries may have
         * changed), then SYNCED; after a failover every member gets this
         * node's copies of its slots, so all copies agree again. */
        if (is_joining(p) || gained_from_failed || cluster_lags_behind_me(i))
            start_resync(p);
    }
}

uint64_t repl_marker_epoch(int member, int handoff)
{
    if (member < 0 || member >= rs.npeers || rs.peers[member] == NULL)
        return 0;
    return handoff ? rs.peers[member]->handoff_epoch : rs.peers[member]->synced_epoch;
}

/* The peer with this node id, or NULL (callbacks find their peer this
 * way: the peer array may have been rebuilt since they were queued). */
static struct rpeer *peer_by_id(const char *id)
{
    for (int i = 0; id && i < rs.npeers; i++)
        if (rs.peers[i] && strcmp(rs.peers[i]->id, id) == 0)
            return rs.peers[i];
    return NULL;
}

void repl_marker(const char *from, int handoff, uint64_t epoch)
{
    struct rpeer *p = peer_by_id(from);
    if (p == NULL)
        return;
    uint64_t *e = handoff ? &p->handoff_epoch : &p->synced_epoch;
    if (epoch > *e)
        *e = epoch;
    if (handoff)
        cluster_handoff_arrived(p->member);
}

/* ---- making batches ---- */

/* The slot of a record's keys: 0..16383, -1 if it has none, -2 if they
 * are in several slots. */
static int record_slot(const char *p, size_t len, int *argc_out, const char **av, size_t *al,
                       size_t cap)
{
    size_t pos = 0, argc = 0;
    if (aoffmt_next(p, len, &pos, av, al, cap, &argc) != 1)
        return -3;
    *argc_out = (int)argc;
    struct slice sv[argc];
    for (size_t i = 0; i < argc; i++)
        sv[i] = (struct slice){av[i], al[i]};
    struct command *cmd = command_lookup_argv((int)argc, sv);
    if (cmd == NULL || !command_has_keys(cmd))
        return -1;
    struct key_ref refs[64];
    int n = command_find_keys(cmd, (int)argc, sv, refs, 64);
    if (n <= 0)
        return -1;
    if (n > 64)
        return -2;
    int slot = -1;
    for (int i = 0; i < n; i++) {
        int s = (int)rc_key_slot(sv[refs[i].pos].p, sv[refs[i].pos].len);
        if (slot != -1 && s != slot)
            return -2;
        slot = s;
    }
    return slot;
}

static void put(char **b, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*cap - *len < n) {
        size_t c = *cap ? *cap : 256;
        while (c - *len < n)
            c *= 2;
        *b = rc_realloc(*b, c);
        *cap = c;
    }
    memcpy(*b + *len, p, n);
    *len += n;
}

static void put_bulk(char **b, size_t *len, size_t *cap, const char *p, size_t n)
{
    char h[RC_RESP_HEADER_MAX];
    put(b, len, cap, h, rc_resp_header(h, '$', (long long)n));
    put(b, len, cap, p, n);
    put(b, len, cap, "\r\n", 2);
}

static void put_select(char **b, size_t *len, size_t *cap, int db)
{
    char num[RC_LONG_STR_SIZE];
    size_t k = rc_ll2str(num, sizeof(num), db);
    put(b, len, cap, "*2\r\n", 4);
    put_bulk(b, len, cap, "SELECT", 6);
    put_bulk(b, len, cap, num, k);
}

/* p lost batches: acknowledgements of later batches no longer say that
 * everything before them arrived, so they stop counting (ack_cap) until
 * the catch-up that repairs the loss is acknowledged. */
static void note_lost(struct rpeer *p)
{
    if (!p->lost && p->ack_cap == UINT64_MAX) {
        p->ack_cap = p->acked;
        p->hole_loss = p->acked;
    }
    p->lost = 1;
    p->lost_ms = server.mstime;
}

static void trim(void)
{
    while (rs.head && rs.head != rs.tail && rs.bytes > (size_t)server.repl_backlog_size) {
        struct batch *b = rs.head;
        for (int i = 0; i < rs.npeers; i++) {
            struct rpeer *p = rs.peers[i];
            if (p && p->cursor == b) {
                if (!p->lost)
                    log_warn("Replica %.40s fell behind the replication backlog "
                             "(repl-backlog-size %lld): its copies are stale until catch-up",
                             p->id, server.repl_backlog_size);
                note_lost(p);
                p->cursor = b->next;
            }
        }
        rs.head = b->next;
        rs.bytes -= b->len;
        if (rs.mark == b)
            rs.mark = NULL;
        rc_free(b);
    }
}

static struct batch *append(unsigned slot, const char *only, const char *p, size_t len)
{
    struct batch *b = rc_malloc(sizeof(*b) + len);
    b->next = NULL;
    b->marker = 0;
    b->marker_epoch = 0;
    b->slot = slot;
    size_t ol = only ? strnlen(only, sizeof(b->only) - 1) : 0;
    memcpy(b->only, only ? only : "", ol);
    b->only[ol] = '\0';
    b->len = len;
    memcpy(b->data, p, len);
    rs.offset += len;
    b->end = rs.offset;
    if (rs.tail)
        rs.tail->next = b;
    else
        rs.head = b;
    rs.tail = b;
    rs.bytes += len;
    for (int i = 0; i < rs.npeers; i++) {
        struct rpeer *p2 = rs.peers[i];
        if (p2 && p2->cursor == NULL && p2->scanned == b->end - len)
            p2->cursor = b;
    }
    trim();
    return b;
}

static struct batch *append_marker(const struct rpeer *p, int kind)
{
    struct batch *b = append(0, p->id, "", 0);
    b->marker = kind;
    b->marker_epoch = cluster_state()->epoch;
    return b;
}

static int is_joining(const struct rpeer *p)
{
    enum cstate_status st = cluster_state()->members[p->member].status;
    return st == CSTATE_JOINING || st == CSTATE_ADDING;
}

/* A record whose keys span slots (a split MSET, DEL or UNLINK ran here
 * for several of this node's slots): one record per slot. */
static void feed_split(int dbid, int argc, const char **av, const size_t *al)
{
    int step = (al[0] == 4 && strncasecmp(av[0], "mset", 4) == 0) ? 2 : 1;
    int done[argc];
    memset(done, 0, sizeof(done));
    for (int i = 1; i < argc; i += step) {
        if (done[i])
            continue;
        unsigned slot = rc_key_slot(av[i], al[i]);
        char *b = NULL;
        size_t len = 0, cap = 0;
        int count = 1;
        for (int j = i; j < argc; j += step)
            if (!done[j] && rc_key_slot(av[j], al[j]) == slot)
                count += step;
        put_select(&b, &len, &cap, dbid);
        char h[RC_RESP_HEADER_MAX];
        put(&b, &len, &cap, h, rc_resp_header(h, '*', count));
        put_bulk(&b, &len, &cap, av[0], al[0]);
        for (int j = i; j < argc; j += step) {
            if (done[j] || rc_key_slot(av[j], al[j]) != slot)
                continue;
            done[j] = 1;
            for (int s = 0; s < step && j + s < argc; s++)
                put_bulk(&b, &len, &cap, av[j + s], al[j + s]);
        }
        if (cluster_slot_is_mine(slot))
            append(slot, NULL, b, len);
        rc_free(b);
    }
}

void repl_feed(const struct repl_rec *recs, size_t n, int wrap)
{
    if (n == 0 || !repl_enabled() || (server.cluster_debug_bugs & CLUSTER_BUG_ACK_UNREPLICATED))
        return;
    const char *av[1024];
    size_t al[1024];
    int argc = 0;
    int slot = -1;
    for (size_t i = 0; i < n; i++) {
        int s = record_slot(recs[i].p, recs[i].len, &argc, av, al, 1024);
        if (s == -2 && n == 1 && !wrap) {
            feed_split(recs[i].dbid, argc, av, al);
            return;
        }
        if (s < -1 || (s >= 0 && slot >= 0 && s != slot)) {
            /* A replica applying a message of several slots' batches
             * (catch-up dumps) has nothing to replicate: no warning. */
            if ((slot >= 0 && cluster_slot_is_mine((unsigned)slot)) ||
                (s >= 0 && cluster_slot_is_mine((unsigned)s)))
                log_warn("A write touched keys of several slots and was not replicated");
            return;
        }
        if (s >= 0)
            slot = s;
    }
    /* Keyless writes (FLUSHALL, FLUSHDB, SWAPDB) run on every member by
     * themselves; batches are the writes of one slot. */
    if (slot < 0 || !cluster_slot_is_mine((unsigned)slot))
        return;
    /* One buffer kept across calls: a write costs no allocation here
     * (a large one is given back once copied into its batch). */
    static char *b;
    static size_t cap;
    size_t len = 0;
    int db = -1;
    int multi = wrap || n > 1;
    if (multi)
        put(&b, &len, &cap, "*1\r\n$5\r\nMULTI\r\n", 15);
    for (size_t i = 0; i < n; i++) {
        if (recs[i].dbid != db) {
            put_select(&b, &len, &cap, recs[i].dbid);
            db = recs[i].dbid;
        }
        put(&b, &len, &cap, recs[i].p, recs[i].len);
    }
    if (multi)
        put(&b, &len, &cap, "*1\r\n$4\r\nEXEC\r\n", 14);
    append((unsigned)slot, NULL, b, len);
    if (cap > 65536) {
        rc_free(b);
        b = NULL;
        cap = 0;
    }
}

/* ---- catch-up: dumps of a peer's slots inside the stream ---- */

struct dump_ctx {
    char **b;
    size_t *len, *cap;
    long long keys;
    int db, selected;
};

static void dump_one(void *priv, struct kv *o)
{
    struct dump_ctx *d = priv;
    if (!d->selected) {
        put_select(d->b, d->len, d->cap, d->db);
        d->selected = 1;
    }
    struct rdb_out out;
    rdb_out_init(&out);
    rdb_dump_payload(&out, o);
    long long when = kv_expire(o);
    char ttl[24];
    int tl = snprintf(ttl, sizeof(ttl), "%lld", when < 0 ? 0 : when);
    put(d->b, d->len, d->cap, when < 0 ? "*5\r\n" : "*6\r\n", 4);
    put_bulk(d->b, d->len, d->cap, "RESTORE", 7);
    put_bulk(d->b, d->len, d->cap, kv_key(o), o->klen);
    put_bulk(d->b, d->len, d->cap, ttl, (size_t)tl);
    put_bulk(d->b, d->len, d->cap, (const char *)out.p, out.len);
    put_bulk(d->b, d->len, d->cap, "REPLACE", 7);
    if (when >= 0)
        put_bulk(d->b, d->len, d->cap, "ABSTTL", 6);
    rdb_out_free(&out);
    d->keys++;
}

/* One batch for peer p holding the whole of slot: the slot emptied in
 * every database, then every key restored (a SELECT only before the keys
 * of a database that has some).  Returns the bytes made. */
static size_t dump_slot(struct rpeer *p, unsigned slot)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    char num[8];
    int nl = snprintf(num, sizeof(num), "%u", slot);
    struct dump_ctx d = {&b, &len, &cap, 0, 0, 0};
    put(&b, &len, &cap, "*3\r\n", 4);
    put_bulk(&b, &len, &cap, "RINGNODE", 8);
    put_bulk(&b, &len, &cap, "SLOTFLUSH", 9);
    put_bulk(&b, &len, &cap, num, (size_t)nl);
    for (int db = 0; db < server.dbnum; db++) {
        d.db = db;
        d.selected = 0;
        db_scan_slot(&server.dbs[db], slot, 0, dump_one, &d);
    }
    append(slot, p->id, b, len);
    p->resync_keys += d.keys;
    p->resync_bytes += (long long)len;
    rs.dumped_slots++;
    rs.dumped_keys += d.keys;
    rs.dumped_bytes += (long long)len;
    rc_free(b);
    return len;
}

/* Slots a catch-up of p covers: those this node is primary of, and those
 * it just handed back (cluster_handed_back) while p may lack their last
 * batches (its HANDOFF marker for this state was not acknowledged). */
static int resync_covers(const struct rpeer *p, unsigned slot)
{
    if (copy_holder(slot, p->member))
        return 1;
    return !p->resync_mine && p->handoff_acked < cluster_state()->epoch &&
           cluster_handed_back(slot) && holds(slot, p->member);
}

/* This node has just become the primary of slot after the previous one
 * handed it back (its HANDOFF marker arrived): every other holder is
 * caught up from this node - its copy checked against this one's digest,
 * and sent where they differ - so copies that missed part of the previous
 * primary's stream agree again.  Not a dump of the slot to each holder on
 * the spot: a node taking back a quarter of the ring then made more in
 * one turn than the backlog holds (every replica fell behind it), ignored
 * cluster-move-rate and held the loop for a few hundred ms.  Such a
 * catch-up covers only the slots this node is primary of: checks of the
 * slots it handed over itself come after its HANDOFF marker, and holders
 * that have the marker refuse them, which would start the catch-up over
 * (a catch-up of a peer that lost batches, the marker perhaps among
 * them, covers those too, as before). */
void repl_took_back(unsigned slot)
{
    if (!repl_enabled())
        return;
    for (int i = 0; i < rs.npeers; i++) {
        struct rpeer *p = rs.peers[i];
        if (p == NULL || !copy_holder(slot, p->member))
            continue;
        /* Checks that have not reached slot yet will cover it. */
        if (p->resyncing == 1 && p->resync_slot <= slot)
            continue;
        int mine = p->resyncing ? p->resync_mine : 1;
        start_resync(p);
        p->resync_mine = mine;
    }
}

/* How every catch-up check in the stream starts (is_slot_check()). */
#define SLOTCHECK_HEAD "*5\r\n$8\r\nRINGNODE\r\n$9\r\nSLOTCHECK\r\n"

/* A SLOTCHECK of slot for peer p in the stream: this node's digest of it
 * now.  Returns the slot's key count (the work it took); adds the bytes
 * made to *made. */
static long long check_slot(struct rpeer *p, unsigned slot, size_t *made)
{
    long long keys;
    uint64_t d = slot_digest(slot, &keys);
    char num[8], hex[17], kn[24];
    int nl = snprintf(num, sizeof(num), "%u", slot);
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)d);
    int kl = snprintf(kn, sizeof(kn), "%lld", keys);
    char *b = NULL;
    size_t len = 0, cap = 0;
    put(&b, &len, &cap, SLOTCHECK_HEAD, sizeof(SLOTCHECK_HEAD) - 1);
    put_bulk(&b, &len, &cap, num, (size_t)nl);
    put_bulk(&b, &len, &cap, hex, 16);
    put_bulk(&b, &len, &cap, kn, (size_t)kl);
    p->check_end = append(slot, p->id, b, len)->end;
    rc_free(b);
    *made += len;
    p->resync_checked++;
    return keys;
}

/* Bytes of dumps this turn may send: a quarter of the backlog, and with
 * cluster-move-rate no more than the bucket holds (it fills at that rate,
 * up to one second's worth; a slot dumped beyond it is paid back later). */
static size_t move_budget(void)
{
    size_t per_turn = (size_t)server.repl_backlog_size / 4;
    long long rate = (long long)server.cluster_move_rate, now = server.mstime;
    if (rate <= 0) {
        rs.move_tokens = 0;
        rs.move_ms = now;
        return per_turn;
    }
    if (now > rs.move_ms) {
        long long add = (now - rs.move_ms) * rate / 1000;
        rs.move_tokens = rs.move_tokens + add > rate ? rate : rs.move_tokens + add;
        rs.move_ms = now;
    }
    if (rs.move_tokens <= 0)
        return 0;
    return (size_t)rs.move_tokens < per_turn ? (size_t)rs.move_tokens : per_turn;
}

/* A peer that lost batches and is reachable again, a joining one, or
 * every peer after a failover, is caught up (start_resync()): checks, then
 * dumps, in stream order, a bounded amount per turn and only once every
 * peer has been sent the stream so far (so they never push unsent batches
 * out of the backlog). */
static void resync_step(void)
{
    for (int i = 0; i < rs.npeers; i++)
        if (rs.peers[i] && rs.peers[i]->cursor)
            return;
    size_t budget = move_budget();
    /* Checks cost a digest each and a SLOTCHECK in the backlog: bounded
     * per turn, over all peers, by keys digested and by bytes made (a
     * quarter of the backlog, as dumps are; sparse slots make many checks
     * per key, and a turn's checks beyond the backlog push their peers
     * out of it, which starts their catch-ups over, forever). */
    long long check_keys = 0;
    size_t check_bytes = 0, check_cap = (size_t)server.repl_backlog_size / 4;
    for (int i = 0; i < rs.npeers && budget > 0; i++) {
        struct rpeer *p = rs.peers[i];
        if (p == NULL)
            continue;
        /* Only once it answered a ping after the loss: a peer that is
         * going down would lose the dumps too. */
        if (p->lost && p->resyncing == 1) {
            p->resyncing = 0;   /* a check answer may be lost: check again */
        }
        if (p->lost && !p->resyncing && cluster_member_last_heard(p->member) > p->lost_ms) {
            p->lost = 0;
            start_resync(p);
            log_notice("Replica %.40s missed batches: checking its slots", p->id);
        }
        if (p->resyncing == 1) {
            while (p->resync_slot < RC_SLOTS && check_keys < RESYNC_CHECK_KEYS &&
                   check_bytes < check_cap) {
                unsigned slot = p->resync_slot++;
                if (resync_covers(p, slot))
                    check_keys += check_slot(p, slot, &check_bytes) + 1;
            }
            if (p->resync_slot < RC_SLOTS || p->acked < p->check_end)
                continue;       /* every answer is in once the last check is acked */
            p->resyncing = 2;
            p->resync_slot = 0;
        }
        if (p->resyncing != 2)
            continue;
        while (p->resync_slot < RC_SLOTS && budget > 0) {
            unsigned slot = p->resync_slot++;
            if ((p->need[slot / 8] >> (slot % 8)) & 1) {
                size_t n = dump_slot(p, slot);
                budget = n >= budget ? 0 : budget - n;
                rs.move_tokens -= (long long)n;
            }
        }
        if (p->resync_slot >= RC_SLOTS && p->lost) {
            /* A check or dump was lost or refused: no marker may say it is
             * in step; the catch-up starts over once it answers. */
            p->resyncing = 0;
        } else if (p->resync_slot >= RC_SLOTS) {
            p->resyncing = 0;
            p->resyncs++;
            /* While members are being added, members gaining slots wait
             * for it too (cluster.c caught_up_next). */
            if (is_joining(p) || cluster_ring_next() || cluster_lags_behind_me(p->member)) {
                struct batch *m = append_marker(p, MARK_SYNCED);
                if (cluster_state()->members[p->member].status == CSTATE_JOINING) {
                    p->counted_epoch = m->marker_epoch;
                    p->counted_from = m->end;
                }
            }
            p->repair_end = append_marker(p, MARK_HANDOFF)->end;
            log_notice("Replica %.40s is in step again: %lld slots checked, %lld differed and "
                       "were sent (%lld keys, %lld bytes)", p->id, p->resync_checked,
                       p->resync_differ, p->resync_keys, p->resync_bytes);
        }
    }
}

/* ---- sending ---- */

static void check_waiters(int timeouts);

struct ack {
    struct rpeer *p;
    uint64_t end;
};

/* A REPL acknowledgement with slot checks that failed: *N :end :slot...
 * Marks the slots for a dump; returns the end offset, or 0 if malformed. */
static uint64_t ack_with_mismatches(struct rpeer *p, const char *reply, size_t len)
{
    const char *e = reply + len, *q = memchr(reply, '\n', len);
    long long n;
    unsigned long long end = 0, v;
    if (q == NULL || !rc_str2ll(reply + 1, (size_t)(q - reply - 2), &n) || n < 1)
        return 0;
    for (long long i = 0; i < n; i++) {
        const char *s = q + 1;
        q = s < e ? memchr(s, '\n', (size_t)(e - s)) : NULL;
        if (q == NULL || *s != ':' || !rc_str2ull(s + 1, (size_t)(q - s - 2), &v))
            return 0;
        if (i == 0)
            end = v;
        else if (v < RC_SLOTS && p->resyncing == 1 && !((p->need[v / 8] >> (v % 8)) & 1)) {
            p->need[v / 8] |= (unsigned char)(1u << (v % 8));
            p->resync_differ++;
        }
    }
    return end;
}

static void mark_lost(struct rpeer *p, const char *why);

/* p's link failed (err): it applied some prefix of what was sent.  Stop
 * sending until it says which (partial_resync_ask()). */
static void link_failed(struct rpeer *p, const char *err)
{
    if (p->lost || p->relink)
        return;
    log_notice("Replication link to %.40s failed (%s): asking where its copy stands before "
               "sending more", p->id, err);
    p->relink = 1;
    p->relink_ms = server.mstime;
}

/* The first batch to send to a peer whose copy of the stream ends at off:
 * the first that ends after off, or a marker at off (it may not have
 * arrived; markers are idempotent).  NULL if off is the end of the stream;
 * *ok 0 if the backlog no longer holds what follows off. */
static struct batch *resume_point(uint64_t off, int *ok)
{
    uint64_t start = rs.head ? rs.head->end - rs.head->len : rs.offset;
    *ok = off >= start && off <= rs.offset;
    struct batch *b = rs.head;
    while (*ok && b && b->end < off)
        b = b->next;
    while (*ok && b && b->end == off && !b->marker)
        b = b->next;
    return *ok ? b : NULL;
}

static void on_replpos(void *priv, const char *reply, size_t len, const char *err)
{
    struct rpeer *p = peer_by_id(priv);
    rc_free(priv);
    (void)err;
    if (p == NULL || p->relink != 2)
        return;
    if (reply == NULL || (len > 8 && memcmp(reply, "-LOADING", 8) == 0)) {
        /* The link failed again, or it is still loading its data (its
         * position is known once the whole log is read): ask again once
         * it answers a ping. */
        p->relink = 1;
        p->relink_ms = server.mstime;
        return;
    }
    p->relink = 0;
    long long off = -1;
    int ok = 0;
    struct batch *from = NULL;
    const char *why = "its copy of this stream is unknown";
    if (len > 3 && reply[0] == ':' && rc_str2ll(reply + 1, len - 3, &off) && off >= 0) {
        if ((uint64_t)off < p->acked || (uint64_t)off > p->scanned)
            why = "its copy ends outside what it acknowledged and what was sent";
        else if (p->lost)
            why = "it had lost batches before";
        else if ((from = resume_point((uint64_t)off, &ok)), !ok)
            why = "the backlog no longer holds what it misses";
    }
    if (ok && (server.cluster_debug_bugs & CLUSTER_BUG_RESUME_FROM_ACK)) {
        off = (long long)p->acked;
        from = resume_point(p->acked, &ok);
    }
    if (!ok) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: offset %lld, acknowledged %llu, sent %llu", why, off,
                 (unsigned long long)p->acked, (unsigned long long)p->scanned);
        mark_lost(p, msg);
        return;
    }
    log_notice("Replica %.40s holds this stream up to offset %lld: the stream goes on from "
               "there, %llu bytes of it already in the backlog (partial resync)", p->id, off,
               (unsigned long long)(p->scanned - (uint64_t)off));
    p->cursor = from;
    p->scanned = p->sent = (uint64_t)off;
    if ((uint64_t)off > p->acked) {
        p->acked = (uint64_t)off;
        p->acked_ms = server.mstime;
        if (waiters)
            check_waiters(0);
    }
    p->partial_resyncs++;
}

/* Ask a peer whose link failed where its copy of the stream ends, once it
 * answered a ping since (as a catch-up waits). */
static void partial_resync_ask(struct rpeer *p)
{
    if (p->relink != 1 || cluster_member_last_heard(p->member) <= p->relink_ms)
        return;
    /* Not while it is failed in this node's state: the batches sent to it
     * would skip its slots (holds()); a restarted node asks to rejoin
     * first, and then the stream resumes with them. */
    if (cluster_state()->members[p->member].status == CSTATE_FAILED)
        return;
    repl_link(p);
    const char *argv[] = {"RINGNODE", "REPLPOS", rs.replid};
    size_t lens[] = {8, 7, 40};
    const char *err;
    char *id = rc_strndup(p->id, strlen(p->id));
    if (link_send_argv(p->link, 3, argv, lens, on_replpos, id, &err) != 0) {
        rc_free(id);
        return;         /* reconnecting too soon: next turn */
    }
    p->relink = 2;
}

static void on_ack(void *priv, const char *reply, size_t len, const char *err)
{
    struct rpeer *p = priv;
    if (reply && (reply[0] == ':' || reply[0] == '*') &&
        (server.cluster_debug_bugs & CLUSTER_FAULT_IGNORE_ACK) && rc_random_u64() % 4 == 0)
        return;     /* the fault knob: an ack lost, the link up */
    if (reply && len > 1 && reply[0] == '*') {
        uint64_t end = ack_with_mismatches(p, reply, len);
        if (end > p->acked) {
            p->acked = end;
            p->acked_ms = server.mstime;
            if (waiters)
                check_waiters(0);
        }
        if (end)
            return;
    }
    if (reply && len > 1 && reply[0] == ':') {
        unsigned long long v;
        if (rc_str2ull(reply + 1, len - 3, &v) && v > p->acked) {
            p->acked = v;
            p->acked_ms = server.mstime;
            if (waiters)
                check_waiters(0);
        }
        return;
    }
    if (reply == NULL) {
        link_failed(p, err);
        return;
    }
    if (!p->lost)
        log_warn("Replica %.40s did not apply a batch (%.*s): its copies are stale until "
                 "catch-up", p->id, (int)(len > 200 ? 200 : len - 2), reply);
    note_lost(p);
}

static void mark_lost(struct rpeer *p, const char *why)
{
    if (!p->lost)
        log_warn("Replication to %.40s failed (%s): its copies are stale until catch-up",
                 p->id, why);
    note_lost(p);
}

struct marker_ack {
    char id[CSTATE_ID_LEN + 1];
    int kind;
    uint64_t epoch, end;
};

static void on_marker(void *priv, const char *reply, size_t len, const char *err)
{
    struct marker_ack *m = priv;
    struct rpeer *p = peer_by_id(m->id);
    if (p == NULL) {
        rc_free(m);     /* gone since the marker was sent */
        return;
    }
    if (reply == NULL)
        link_failed(p, err);
    else if (len == 0 || reply[0] != '+')
        mark_lost(p, "a marker was refused");
    else if (m->kind == MARK_HANDOFF) {
        if (m->epoch > p->handoff_acked)
            p->handoff_acked = m->epoch;
        /* The marker that ends a catch-up: everything before it is
         * on the peer again, and its acks count in full. */
        if (m->end == p->repair_end && !p->lost && !p->resyncing) {
            if (p->ack_cap != UINT64_MAX) {
                /* An older hole stays in it while a reply may still wait
                 * on a batch there. */
                int older = waiters != NULL && waiters->before < p->hole_to;
                p->hole_from = older && p->hole_from < p->hole_loss ? p->hole_from
                                                                    : p->hole_loss;
                p->hole_to = m->end;
            }
            p->ack_cap = UINT64_MAX;
            if (m->end > p->acked)
                p->acked = m->end;
            if (waiters)
                check_waiters(0);
        }
    }
    rc_free(m);
}

/* Consecutive data batches for one peer go out as one RINGNODE REPL
 * message (one request, one ack), up to REPL_MSG_BATCHES batches or
 * REPL_MSG_BYTES of payload. */
#define REPL_MSG_BATCHES 128
#define REPL_MSG_BYTES (1024 * 1024)

struct repl_msg {
    int n;
    size_t bytes;
    uint64_t end;
    char slots[REPL_MSG_BATCHES][8];
    const char *argv[5 + 2 * REPL_MSG_BATCHES];
    size_t lens[5 + 2 * REPL_MSG_BATCHES];
};

static void msg_flush(struct rpeer *p, struct repl_msg *m)
{
    const struct cstate *s = cluster_state();
    if (m->n == 0 || p->relink) {
        /* After a failed send nothing may follow it on a new connection:
         * the stream resumes from where the peer's copy ends. */
        m->n = 0;
        m->bytes = 0;
        return;
    }
    char ep[24], end[24];
    snprintf(ep, sizeof(ep), "%llu", (unsigned long long)s->epoch);
    snprintf(end, sizeof(end), "%llu", (unsigned long long)m->end);
    m->argv[0] = "RINGNODE";
    m->argv[1] = "REPL";
    m->argv[2] = rs.replid;
    m->argv[3] = ep;
    m->argv[4] = end;
    m->lens[0] = 8;
    m->lens[1] = 4;
    m->lens[2] = 40;
    m->lens[3] = strlen(ep);
    m->lens[4] = strlen(end);
    repl_link(p);
    const char *err;
    /* Not sent (the link is down or its queue full): the stream resumes
     * with these batches once it says where its copy ends. */
    if (link_send_argv(p->link, 5 + 2 * m->n, m->argv, m->lens, on_ack, p, &err) != 0)
        link_failed(p, err);
    m->n = 0;
    m->bytes = 0;
}

static void msg_add(struct rpeer *p, struct repl_msg *m, const struct batch *b)
{
    if (m->n == REPL_MSG_BATCHES || (m->n && m->bytes + b->len > REPL_MSG_BYTES))
        msg_flush(p, m);
    m->argv[5 + 2 * m->n] = m->slots[m->n];
    m->lens[5 + 2 * m->n] = rc_ull2str(m->slots[m->n], sizeof(m->slots[0]), b->slot);
    m->argv[6 + 2 * m->n] = b->data;
    m->lens[6 + 2 * m->n] = b->len;
    m->n++;
    m->bytes += b->len;
    m->end = b->end;
}

static void send_to(struct rpeer *p)
{
    static struct repl_msg msg;
    msg.n = 0;
    msg.bytes = 0;
    if (p->relink) {
        /* Nothing goes out until it says where its copy ends; the cursor
         * still moves on (the resume point is found from that answer), so
         * that catch-ups of the other peers, which wait for every cursor,
         * are not held up by one that may be gone. */
        for (; p->cursor; p->cursor = p->cursor->next)
            p->scanned = p->cursor->end;
        partial_resync_ask(p);
        return;
    }
    if (p->hold_until_ms > server.mstime)
        return;
    while (p->cursor && !p->relink) {
        if (p->link && link_pending(p->link) >= LINK_MAX_PENDING / 2)
            break;      /* back-pressure: go on when it has drained */
        struct batch *b = p->cursor;
        if (b->marker && strcmp(b->only, p->id) == 0) {
            msg_flush(p, &msg);     /* a marker comes after every batch before it */
            repl_link(p);
            char ep[24];
            snprintf(ep, sizeof(ep), "%llu", (unsigned long long)b->marker_epoch);
            const char *verb = b->marker == MARK_SYNCED ? "SYNCED" : "HANDOFF";
            const char *argv[] = {"RINGNODE", verb, ep};
            size_t lens[] = {8, strlen(verb), strlen(ep)};
            const char *err;
            /* A marker that does not arrive would leave the peer waiting:
             * a failure counts as lost batches, and the catch-up that
             * follows ends with the markers again. */
            struct marker_ack *m = rc_malloc(sizeof(*m));
            memcpy(m->id, p->id, sizeof(m->id));
            m->kind = b->marker;
            m->epoch = b->marker_epoch;
            m->end = b->end;
            /* After a loss not yet repaired the markers wait for the
             * catch-up, which ends with them: a marker must never
             * overtake a lost batch. */
            if (p->lost)
                rc_free(m);
            else if (link_send_argv(p->link, 3, argv, lens, on_marker, m, &err) != 0) {
                /* Not sent (the link is down): the stream resumes at
                 * this marker once it says where its copy ends. */
                rc_free(m);
                link_failed(p, err);
                break;
            } else if (b->marker == MARK_SYNCED &&
                       (server.cluster_debug_bugs & CLUSTER_FAULT_HOLD_OTHERS_AFTER_SYNCED)) {
                for (int i = 0; i < rs.npeers; i++)
                    if (rs.peers[i] && rs.peers[i] != p && !is_joining(rs.peers[i]))
                        rs.peers[i]->hold_until_ms =
                            server.mstime + 2LL * server.cluster_node_timeout;
            } else if (b->marker == MARK_SYNCED &&
                       (server.cluster_debug_bugs & CLUSTER_FAULT_HOLD_AFTER_SYNCED)) {
                p->hold_until_ms = server.mstime + 2LL * server.cluster_node_timeout;
                p->scanned = b->end;
                p->cursor = b->next;
                break;
            }
        } else if (!b->marker && b->only[0] == 0 &&
                   (((server.cluster_debug_bugs & CLUSTER_FAULT_DROP_SUCCESSOR) &&
                     successor(b->slot, 0) == p->member) ||
                    ((server.cluster_debug_bugs & CLUSTER_FAULT_DROP_THIRD) &&
                     successor(b->slot, 1) == p->member))) {
            /* The fault knobs: dropped without a trace. */
        } else if (!b->marker && holds(b->slot, p->member) &&
                   (b->only[0] == 0 || strcmp(b->only, p->id) == 0)) {
            /* holds(), not copy_holder(): a batch made while this node was
             * the slot's primary still goes out after it stopped being it
             * (before the HANDOFF marker). */
            msg_add(p, &msg, b);
            p->batches_sent++;
            p->sent = b->end;
        }
        p->scanned = b->end;
        p->cursor = b->next;
    }
    msg_flush(p, &msg);
}

/* client-output-buffer-limit replica, as Redis applies it to a replica's
 * connection: a peer whose link holds more unwritten bytes than the hard
 * limit, or more than the soft limit for soft-seconds, is cut off.  Its
 * copies are then stale (lost batches) and a catch-up sends them again
 * once it answers; the primary's memory for it stays bounded. */
static void check_obuf(struct rpeer *p)
{
    const struct obuf_limit *lim = &server.obuf_limits[1];
    size_t out = p->link ? link_output(p->link) : 0;
    int over_soft = lim->soft && out > lim->soft;
    if (!over_soft)
        p->obuf_soft_since = 0;
    else if (p->obuf_soft_since == 0)
        p->obuf_soft_since = server.mstime;
    if (!(lim->hard && out > lim->hard) &&
        !(over_soft && server.mstime - p->obuf_soft_since >= lim->soft_seconds * 1000))
        return;
    log_warn("Replica %.40s closed for overcoming of output buffer limits (%zu bytes queued; "
             "client-output-buffer-limit replica %llu %llu %lld): its copies are stale until "
             "catch-up", p->id, out, lim->hard, lim->soft, lim->soft_seconds);
    note_lost(p);
    p->obuf_soft_since = 0;
    p->obuf_cutoffs++;
    link_destroy(&p->link);
}

static void send_all(void)
{
    for (int i = 0; i < rs.npeers; i++)
        if (rs.peers[i]) {
            send_to(rs.peers[i]);
            check_obuf(rs.peers[i]);
        }
}

/* The stream so far goes out first: catch-up dumps start only when every
 * peer's cursor is at the end, which under steady writes is true only
 * right after sending. */
void repl_before_sleep(void)
{
    send_all();
    resync_step();
    send_all();
}

/* ---- min-replica-acks: replies held until replicas acknowledge ---- */


int repl_drained(void)
{
    if (waiters != NULL)
        return 0;
    for (int i = 0; i < rs.npeers; i++) {
        const struct rpeer *p = rs.peers[i];
        if (p && !p->lost && !p->relink && (p->cursor != NULL || acked_upto(p) < p->sent))
            return 0;
    }
    return 1;
}

uint64_t repl_offset(void)
{
    rs.mark = rs.tail;
    rs.mark_off = rs.offset;
    return rs.offset;
}

/* Up replicas of slot (members of its preference list other than this
 * node, status up, heard from lately). */
static int up_replicas(unsigned slot)
{
    const struct ring *r = cluster_ring();
    const struct cstate *s = cluster_state();
    int me = cluster_my_index(), n = 0;
    const uint16_t *pref = ring_pref(r, slot);
    for (int k = 0; k < ring_pref_len(r); k++) {
        int m = pref[k];
        n += m != me && s->members[m].status == CSTATE_UP && cluster_member_link_ok(m);
    }
    return n;
}

int repl_enough_replicas(struct client *c, const struct command *cmd, const char **err)
{
    if (server.min_replica_acks <= 0 || !(cmd->flags & CMD_WRITE) || !cluster_enabled() ||
        cluster_ring() == NULL)
        return 1;
    struct key_ref refs[64];
    int n = command_find_keys(cmd, c->argc, c->argv, refs, 64);
    for (int i = 0; i < n && i < 64; i++) {
        unsigned slot = rc_key_slot(c->argv[refs[i].pos].p, c->argv[refs[i].pos].len);
        if (cluster_slot_is_mine(slot) && up_replicas(slot) < server.min_replica_acks) {
            *err = "NOREPLICAS Not enough good replicas to write.";
            return 0;
        }
    }
    return 1;
}

/* Is the write ending at `end` on slot acknowledged by min-replica-acks
 * replicas?  The replicas that count are the slot's next up members after
 * this node, in preference order: a failover hands the slot to the first
 * of them, which therefore holds every acknowledged write (an ack from a
 * later replica while the successor lags would let the failover lose it). */
static int acked_enough(unsigned slot, uint64_t end)
{
    if (server.cluster_debug_bugs & CLUSTER_BUG_ACK_ANY_REPLICA) {
        int n = 0;
        for (int i = 0; i < rs.npeers; i++) {
            struct rpeer *p = rs.peers[i];
            if (p && acked_upto(p) >= end && copy_holder(slot, p->member))
                n++;
        }
        return n >= server.min_replica_acks;
    }
    int mine = -1;
    for (int k = 0; k < server.min_replica_acks; k++) {
        struct rpeer *p = peer_of(successor(slot, k));
        if (p == NULL || acked_upto(p) < end)
            return 0;
        /* Acked only by a catch-up's marker, and that catch-up did not
         * cover the slot: the write may be missing there (seed 210 of
         * the flapping partitions lost a SET so). */
        if (end > p->hole_from && end <= p->hole_to &&
            !(server.cluster_debug_bugs & CLUSTER_BUG_ACK_UNCOVERED)) {
            if (mine < 0)
                mine = cluster_slot_is_mine(slot);
            if (!mine)
                return 0;
        }
    }
    if (server.cluster_debug_bugs & CLUSTER_BUG_JOINER_NOT_COUNTED)
        return 1;
    uint64_t epoch = cluster_state()->epoch;
    for (int i = 0; i < rs.npeers; i++) {
        struct rpeer *p = rs.peers[i];
        if (p && p->counted_epoch == epoch && end > p->counted_from && acked_upto(p) < end &&
            cluster_state()->members[p->member].status == CSTATE_JOINING &&
            holds(slot, p->member))
            return 0;
    }
    return 1;
}

/* Have the batches of w been acknowledged enough?  1 yes, 0 not yet, -1
 * never (a batch left the backlog unacknowledged). */
static int satisfied(const struct waiter *w)
{
    uint64_t start = rs.head ? rs.head->end - rs.head->len : rs.offset;
    if (w->before < start)
        return -1;
    /* Not trimmed: w->first, which starts at w->before, is still there. */
    for (struct batch *b = w->first; b; b = b->next) {
        if (b->end > w->after)
            break;
        if (!acked_enough(b->slot, b->end))
            return 0;
    }
    return 1;
}

static void release(struct waiter *w, int ok)
{
    if (w->c) {
        if (ok) {
            reply_fill(w->c, w->hole, w->reply, w->len);
        } else {
            static const char err[] =
                "-NOREPLICAS The write ran on the primary but was not acknowledged by "
                "min-replica-acks replicas within min-replica-acks-timeout\r\n";
            reply_fill(w->c, w->hole, err, sizeof(err) - 1);
        }
    }
    rc_free(w->reply);
    rc_free(w);
}

static void check_waiters(int timeouts)
{
    for (struct waiter **pp = &waiters; *pp;) {
        struct waiter *w = *pp;
        int st = w->c ? satisfied(w) : 1;
        if (st == 0 && !(timeouts && server.mstime >= w->deadline)) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        release(w, st == 1);
    }
}

void repl_note_writes(struct client *c, uint64_t before)
{
    if (rs.offset == before)
        return;
    struct batch *b = rs.mark_off == before && rs.mark ? rs.mark->next : rs.head;
    for (; b; b = b->next) {
        if (b->end <= before || b->marker || b->only[0])
            continue;
        wait_note_slot(c, (int)b->slot);
    }
    c->woff = rs.offset;
}

/* Replicas, in successor order, that acknowledged off on slot. */
static int slot_acked(unsigned slot, uint64_t off)
{
    int k = 0;
    for (;; k++) {
        struct rpeer *p = peer_of(successor(slot, k));
        if (p == NULL || acked_upto(p) < off)
            return k;
    }
}

int repl_acked_count(uint64_t off, const uint16_t *slots, int nslots)
{
    if (!repl_enabled() || cluster_ring() == NULL)
        return 0;
    int least = -1;
    for (int i = 0; i < nslots; i++)
        if (cluster_slot_is_mine(slots[i])) {
            int k = slot_acked(slots[i], off);
            least = least < 0 || k < least ? k : least;
        }
    if (least < 0) {
        for (unsigned s = 0; s < RC_SLOTS; s++)
            if (cluster_slot_is_mine(s)) {
                int k = slot_acked(s, off);
                least = least < 0 || k < least ? k : least;
            }
    }
    return least < 0 ? 0 : least;
}

void repl_hold_reply(struct client *c, const struct reply_mark *m, uint64_t before)
{
    repl_note_writes(c, before);
    if (server.min_replica_acks <= 0 || rs.offset == before)
        return;
    struct waiter *w = rc_calloc(sizeof(*w));
    w->hole = reply_hold_since(c, m, &w->reply, &w->len);
    if (w->hole == NULL) {
        rc_free(w);
        return;
    }
    w->c = c;
    w->before = before;
    w->after = rs.offset;
    /* The batch after offset `before`: found from the tail seen then, so
     * that acknowledgements cost the waiter's batches, not the backlog's. */
    if (rs.mark_off == before && rs.mark)
        w->first = rs.mark->next;
    else
        for (w->first = rs.head; w->first && w->first->end <= before; w->first = w->first->next)
            ;
    w->deadline = server.mstime + server.min_replica_acks_timeout;
    /* Appended at the end: replies are released in the order made. */
    struct waiter **pp = &waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
}

void repl_client_gone(struct client *c)
{
    for (struct waiter *w = waiters; w; w = w->next)
        if (w->c == c)
            w->c = NULL;
}

/* p was sent batches that it has not acknowledged for a while although
 * nothing is in flight on its link and no partial resync is under way:
 * they were dropped somewhere between the stream and the link, and an ack
 * will never come.  Logged with what the stream knows of p, and treated as
 * a loss (a catch-up repairs it), so writes never wait on it for good.  (A
 * ring just formed in CI kept one peer 87 kB behind for 10 s this way,
 * with its link up; the cause is not known yet.)  A partial resync that
 * does not end is only logged. */
static void check_stalled(struct rpeer *p)
{
    if (p->lost || p->sent <= p->acked) {
        p->behind_ms = 0;
        p->stall_told = 0;
        return;
    }
    if (p->behind_ms == 0)
        p->behind_ms = server.mstime;
    long long since = p->acked_ms > p->behind_ms ? p->acked_ms : p->behind_ms;
    long long quiet = server.mstime - since, limit = 3LL * server.cluster_node_timeout;
    if (quiet < limit)
        return;
    size_t pending = p->link ? link_pending(p->link) : 0;
    if (!p->stall_told)
        log_warn("Replica %.40s acknowledged nothing for %lld ms: sent %llu, acked %llu, "
                 "%zu requests in flight, link %s, relink %d (since %lld ms), resyncing %d "
                 "(slot %u, checks end %llu), last heard %lld ms ago", p->id, quiet,
                 (unsigned long long)p->sent, (unsigned long long)p->acked, pending,
                 p->link && link_connected(p->link) ? "up" : "down", p->relink,
                 p->relink ? server.mstime - p->relink_ms : 0LL, p->resyncing, p->resync_slot,
                 (unsigned long long)p->check_end,
                 server.mstime - cluster_member_last_heard(p->member));
    p->stall_told = 1;
    if (!p->relink && pending == 0 && !(server.cluster_debug_bugs & CLUSTER_BUG_STALL_WAITS))
        mark_lost(p, "batches sent were never acknowledged");
}

void repl_cron(void)
{
    for (int i = 0; i < rs.npeers; i++)
        if (rs.peers[i]) {
            check_obuf(rs.peers[i]);
            check_stalled(rs.peers[i]);
        }
    check_waiters(1);
}

/* ---- receiving ---- */

static void refuse(struct client *c, const char *why)
{
    const struct cstate *s = cluster_state();
    rs.refused++;
    reply_errorf(c, "STALE %s (my state epoch %llu)", why,
                 (unsigned long long)(s ? s->epoch : 0));
}

static int applying;

int repl_applying(void)
{
    return applying;
}

/* Per slot: the sender whose batch of it this node applied last (the
 * first 8 hex digits of its id; 0: none yet). */
static uint32_t applied_from[RC_SLOTS];

static uint32_t id_tag(const char *id)
{
    uint32_t t = 0;
    for (int i = 0; i < 8 && id[i]; i++) {
        char ch = id[i];
        t = t << 4 | (uint32_t)(ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 : ch - '0');
    }
    return t | 1;       /* never 0 */
}

/* Is the sender c the acting primary of slot in my state (or its previous
 * primary, whose last batches come before its HANDOFF marker)?  May its
 * batch of slot be applied, then?  From the slot's acting primary in
 * this node's state, or late from the previous one (its batches before
 * its HANDOFF marker) - but only until this node applied a batch of the
 * slot from the new primary: the previous one's older batches after it
 * would undo newer writes.  The new primary took the slot over once it
 * had all of them, and catches up the other holders itself
 * (repl_took_back()); a late batch refused makes the previous primary
 * catch up this node for the slots it still holds.  (Applied after the
 * new primary's, a catch-up dump from the previous one replaced a counter
 * with its older value and list elements came back out of order: flapping
 * partitions, RC_FAULT_SEED=104.)  Returns 1 yes, 0 no, FROM_SUPERSEDED
 * for such a refused late batch. */
#define FROM_SUPERSEDED 2
static int from_primary(struct client *c, unsigned slot)
{
    const struct cstate *s = cluster_state();
    const struct ring *r = cluster_ring();
    int member;
    const char *err;
    int where = cluster_slot_route(slot, &member, &err);
    int prev = cluster_prev_primary(slot);
    int late = prev >= 0 && c->peer_id && strcmp(ring_member_id(r, prev), c->peer_id) == 0 &&
               repl_marker_epoch(prev, 1) < s->epoch;
    if (late && where == CLUSTER_REMOTE && applied_from[slot] == id_tag(ring_member_id(r, member))) {
        static uint64_t told_epoch;
        if (told_epoch != s->epoch) {
            told_epoch = s->epoch;
            log_notice("Slot %u: member %.40s's batches from before its HANDOFF marker come after "
                       "those of the slot's new primary %.40s: %s", slot, c->peer_id,
                       ring_member_id(r, member),
                       (server.cluster_debug_bugs & CLUSTER_BUG_LATE_AFTER_NEW)
                           ? "applied anyway (cluster-debug-bugs)"
                           : "refused (the new primary catches this node up)");
        }
        if (!(server.cluster_debug_bugs & CLUSTER_BUG_LATE_AFTER_NEW))
            return FROM_SUPERSEDED;
    }
    /* A sender whose stamp is older than my state is still welcome if my
     * newer state names it the slot's primary: it is not fenced. */
    return late || (where == CLUSTER_REMOTE && c->peer_id != NULL &&
                    strcmp(ring_member_id(r, member), c->peer_id) == 0);
}

static int apply_payload(struct client *c, const char *payload, size_t len);

/* Is this batch one SLOTCHECK of a catch-up (check_slot())? */
static int is_slot_check(const struct slice *payload)
{
    size_t n = sizeof(SLOTCHECK_HEAD) - 1;
    return payload->len > n && memcmp(payload->p, SLOTCHECK_HEAD, n) == 0;
}

/* This node's copy of sender id's stream now ends at end: remembered,
 * and logged after the message's records, in the same batch of the log
 * (replpos.h), so that a restart resumes the stream from there. */
static void note_position(const char *id, const char *replid, uint64_t end)
{
    replpos_set(id, replid, end);
    if (!aof_enabled())
        return;
    char line[sizeof(REPLPOS_AOF_PREFIX) + REPLPOS_LINE_MAX + 2];
    size_t n = sizeof(REPLPOS_AOF_PREFIX) - 1;
    memcpy(line, REPLPOS_AOF_PREFIX, n);
    n += replpos_line(line + n, id, replid, end);
    memcpy(line + n, "\r\n", 2);
    propagate_aof_note(line, n + 2);
}

/* Slots RINGNODE SLOTCHECK found different while one message was applied
 * (at most one check per batch, so at most REPL_MSG_BATCHES). */
static unsigned mismatch[REPL_MSG_BATCHES];
static int nmismatch;

/* RINGNODE REPL <replid> <epoch> <end> <slot> <payload> [<slot> <payload>
 * ...]: consecutive batches of the sender's stream, in order; <end> is the
 * stream offset after the last.  All or nothing: a message with a slot
 * the sender may not write is refused whole. */
void repl_apply(struct client *c)
{
    unsigned long long epoch, end, slot;
    if ((c->argc - 5) % 2 != 0 || !rc_str2ull(c->argv[3].p, c->argv[3].len, &epoch) ||
        !rc_str2ull(c->argv[4].p, c->argv[4].len, &end)) {
        reply_error(c, "ERR malformed replication batch");
        return;
    }
    (void)epoch;
    struct rpeer *from = peer_by_id(c->peer_id);
    if (from && c->id < from->in_conn) {
        /* A link its sender gave up on: what it still carries may not
         * land after the REPLPOS answered on the newer one. */
        refuse(c, "the sender's newer link replaced this one");
        return;
    }
    /* skip[j]: batch j is a check from the previous primary of a slot the
     * new primary's batches reached first.  It is answered as in step and
     * not applied: the new primary catches this copy up (repl_took_back),
     * and a refusal would start the previous primary's catch-up of this
     * node over forever, since it covers the slots it handed back until its
     * HANDOFF marker is acknowledged and that marker waits for the
     * catch-up.  (A ring just formed stayed so for good: a preload write
     * answered NOREPLICAS in CI.)  Any other such batch is refused. */
    int nb = (c->argc - 5) / 2, skipped = 0;
    int sl[REPL_MSG_BATCHES];   /* each batch's slot, -1: skip it */
    if (nb > REPL_MSG_BATCHES) {
        /* A sender makes no more (msg_add()); one check per batch is at
         * most one mismatch each, and mismatch[] holds that many. */
        reply_error(c, "ERR malformed replication batch (too many batches)");
        return;
    }
    for (int j = 0; j < nb; j++) {
        const struct slice *num = &c->argv[5 + 2 * j];
        if (!rc_str2ull(num->p, num->len, &slot) || slot >= RC_SLOTS) {
            reply_error(c, "ERR malformed replication batch");
            return;
        }
        int ok = from_primary(c, (unsigned)slot);
        sl[j] = (int)slot;
        if (ok == FROM_SUPERSEDED && is_slot_check(num + 1) &&
            !(server.cluster_debug_bugs & CLUSTER_BUG_REFUSE_SUPERSEDED_CHECK)) {
            sl[j] = -1;
            skipped++;
        } else if (ok != 1) {
            refuse(c, "the sender is not the slot's acting primary in my cluster state");
            return;
        }
    }
    nmismatch = 0;
    for (int j = 0; j < nb; j++)
        if (sl[j] >= 0)
            applied_from[sl[j]] = id_tag(c->peer_id);
    for (int j = 0; j < nb; j++) {
        const struct slice *payload = &c->argv[6 + 2 * j];
        if (sl[j] >= 0 && apply_payload(c, payload->p, payload->len) != 0) {
            reply_error(c, "ERR malformed replication batch");
            return;
        }
    }
    rs.applied += nb - skipped;
    rs.superseded_checks += skipped;
    if (from && c->argv[2].len == 40) {
        note_position(c->peer_id, c->argv[2].p, end);
        from->in_conn = c->id;
    }
    if ((server.cluster_debug_bugs & CLUSTER_FAULT_DROP_REPL_ACK) && rc_random_u64() % 50 == 0) {
        conn_close_async(c);    /* the fault knob: applied, never acknowledged */
        return;
    }
    if (nmismatch == 0) {
        reply_long(c, (long long)end);
        return;
    }
    /* [end, slots whose copy differs from the primary's SLOTCHECK] */
    reply_array_len(c, 1 + nmismatch);
    reply_long(c, (long long)end);
    for (int i = 0; i < nmismatch; i++)
        reply_long(c, mismatch[i]);
}

/* RINGNODE REPLPOS <replid>: where this node's copy of the sender's
 * stream ends (the end offset of the last message applied), -1 if it
 * holds none of that stream.  From now on only this connection's
 * messages are applied (repl_apply). */
void repl_pos(struct client *c)
{
    struct rpeer *from = peer_by_id(c->peer_id);
    const struct slice *id = &c->argv[2];
    if (from == NULL) {
        reply_long(c, -1);
        return;
    }
    if (c->id > from->in_conn)
        from->in_conn = c->id;
    const char *replid;
    uint64_t end;
    int same = replpos_get(c->peer_id, &replid, &end) && id->len == 40 &&
               memcmp(id->p, replid, 40) == 0;
    reply_long(c, same ? (long long)end : -1);
}

void repl_note_mismatch(unsigned slot)
{
    if (nmismatch < REPL_MSG_BATCHES)
        mismatch[nmismatch++] = slot;
}

/* Run one batch's commands on the applier; -1 (logged) if malformed. */
static int apply_payload(struct client *c, const char *payload, size_t len)
{
    if (rs.applier == NULL) {
        rs.applier = conn_fake_create();
        rs.applier->flags |= CF_NODE;
    }
    struct client *a = rs.applier;
    size_t pos = 0;
    const char *av[1024];
    size_t al[1024];
    struct slice sv[1024];
    applying = 1;
    while (pos < len) {
        size_t start = pos, argc = 0;
        int rc = aoffmt_next(payload, len, &pos, av, al, 1024, &argc);
        if (rc == 0)
            continue;
        struct command *cmd = NULL;
        if (rc == 1) {
            for (size_t i = 0; i < argc; i++)
                sv[i] = (struct slice){av[i], al[i]};
            a->argc = (int)argc;
            a->argv = sv;
            cmd = command_lookup_argv(a->argc, a->argv);
        }
        if (rc != 1 || cmd == NULL || !(cmd->arity > 0 ? (int)argc == cmd->arity
                                                       : (int)argc >= -cmd->arity)) {
            log_warn("A replication batch from %.40s is malformed at byte %zu: not applied "
                     "further", c->peer_id, start);
            if (a->flags & CF_MULTI)
                multi_discard(a);
            a->argc = 0;
            a->argv = NULL;
            applying = 0;
            return -1;
        }
        if ((a->flags & CF_MULTI) && !multi_runs_now(cmd))
            multi_queue(a, cmd);
        else
            command_call(a, cmd);
    }
    applying = 0;
    if (a->flags & CF_MULTI)
        multi_discard(a);
    a->argc = 0;
    a->argv = NULL;
    size_t rlen;
    rc_free(conn_take_reply(a, &rlen));     /* the applied commands' replies */
    return 0;
}

/* ---- INFO ---- */

static void addf(char **b, size_t *len, size_t *cap, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (k > 0)
        put(b, len, cap, tmp, (size_t)k < sizeof(tmp) ? (size_t)k : sizeof(tmp) - 1);
}

void repl_summary(struct repl_summary *out)
{
    out->replid = rs.replid;
    out->offset = rs.offset;
    out->histlen = rs.bytes;
    out->first_byte = rs.offset - rs.bytes + 1;
    out->peers_up = 0;
    for (int i = 0; i < rs.npeers; i++)
        out->peers_up += rs.peers[i] && rs.peers[i]->link && link_connected(rs.peers[i]->link);
}

size_t repl_replica_output(size_t *replicas)
{
    size_t out = 0;
    *replicas = 0;
    for (int i = 0; i < rs.npeers; i++)
        if (rs.peers[i] && rs.peers[i]->link) {
            (*replicas)++;
            out += link_output(rs.peers[i]->link);
        }
    return out;
}

char *repl_info(void)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    addf(&b, &len, &cap,
         "ring_replid:%s\r\nring_repl_offset:%llu\r\nring_repl_backlog_bytes:%zu\r\n"
         "ring_repl_backlog_size:%lld\r\nring_repl_backlog_first_byte_offset:%llu\r\n"
         "ring_repl_batches_applied:%lld\r\nring_repl_batches_refused:%lld\r\n"
         "ring_repl_checks_superseded:%lld\r\n"
         "ring_repl_dumped_slots:%lld\r\nring_repl_dumped_keys:%lld\r\n"
         "ring_repl_dumped_bytes:%lld\r\n",
         rs.replid, (unsigned long long)rs.offset, rs.bytes, server.repl_backlog_size,
         (unsigned long long)(rs.head ? rs.head->end - rs.head->len + 1 : rs.offset + 1),
         rs.applied, rs.refused, rs.superseded_checks, rs.dumped_slots, rs.dumped_keys,
         rs.dumped_bytes);
    int k = 0;
    for (int i = 0; i < rs.npeers; i++) {
        struct rpeer *p = rs.peers[i];
        if (p == NULL)
            continue;
        addf(&b, &len, &cap,
             "ring_peer%d:id=%.40s,addr=%s:%d,link=%s,sent=%llu,acked=%llu,lag=%llu,"
             "lag_ms=%lld,stale=%d,resyncing=%d,resync_slot=%u,resyncs=%lld,"
             "partial_resyncs=%lld,obuf=%zu,obuf_cutoffs=%lld,relink=%d,in_flight=%zu\r\n",
             k++, p->id, p->host, p->port, p->link && link_connected(p->link) ? "up" : "down",
             (unsigned long long)p->sent, (unsigned long long)p->acked,
             (unsigned long long)(p->sent > p->acked ? p->sent - p->acked : 0),
             p->sent > p->acked && p->acked_ms ? server.mstime - p->acked_ms : 0LL, p->lost,
             p->resyncing, p->resyncing ? p->resync_slot : 0u, p->resyncs,
             p->partial_resyncs, p->link ? link_output(p->link) : (size_t)0, p->obuf_cutoffs,
             p->relink, p->link ? link_pending(p->link) : (size_t)0);
    }
    put(&b, &len, &cap, "", 1);
    return b;
}
