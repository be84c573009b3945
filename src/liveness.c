/*
 * liveness.c — pings, suspicion, the acceptor's content check, primary
 * leases and the hand-over wait; the rules and the argument for them are
 * in liveness.h.
 *
 * Per member of the current state the node keeps when it last heard it,
 * when it pings it next, the last few pings sent to it (nonce, send time,
 * epoch stamped) so a pong is matched to a ping this process really sent,
 * and the newest granted ping.  Per slot it keeps the acting primary's
 * index and the local time from which it may serve the slot if it is that
 * primary.  Everything derived from Paxos (state, ring, losers of the
 * accepted value) is recomputed lazily when paxos's state or acceptor
 * record differs from what was last seen (sync()).
 */
#include "liveness.h"

#include <stdio.h>
#include <string.h>

#include "holders.h"
#include "mem.h"
#include "ring.h"
#include "ringstate.h"
#include "slot.h"
#include "util.h"

#define SENT_KEEP 8     /* pings remembered per peer: 8 * T/10 > L */

struct sent_ping {
    uint64_t nonce, at, epoch;
    int used;
};

struct peer {
    char id[CSTATE_ID_LEN + 1];
    uint64_t last_heard;
    uint64_t last_granted;      /* last pong with a grant sent to it */
    uint64_t next_ping;
    uint64_t asked_at;          /* last time "failed" was asked for */
    int asked;
    int caught_up;
    int has_grant;
    uint64_t grant_at, grant_epoch;     /* newest granted ping: send time, epoch */
    int released;               /* it said it released epoch released_at */
    uint64_t released_at;
    int leaving;                /* it said it is leaving at epoch leaving_at */
    uint64_t leaving_at;
    struct sent_ping sent[SENT_KEEP];
    unsigned sent_pos;
};

struct liveness {
    struct liveness_config cfg;
    char myid[CSTATE_ID_LEN + 1];
    const struct paxos_node *px;
    uint64_t now;               /* latest time passed in */
    uint64_t rng;

    struct cstate *state;       /* copy of paxos's state as last seen */
    struct ring *ring;          /* its slot table; NULL if it has none */
    uint64_t adopted_at;
    long me;                    /* my index in state, or -1 */
    struct peer *peers;         /* parallel to state->members */
    int16_t *primary;           /* RC_SLOTS: acting primary index or -1 */
    uint64_t *ready_at;         /* RC_SLOTS: may serve from (if primary) */
    int16_t *gained_from;       /* RC_SLOTS: the previous state's primary (same
                                 * members, adopted from the epoch before) if it
                                 * was another member and this node gained the
                                 * slot from it; else -1 */

    int leaving;                /* liveness_release() was called: serves nothing */
    uint64_t leaving_told;      /* epoch + 1 of the last LEAVING sent; 0: none */
    /* The state before this one, if adopted directly from it: its epoch and
     * when the waits of the slots this node was primary of there end. */
    int prev_valid;
    uint64_t prev_epoch, prev_ready;
    int release_told;           /* RELEASE prev_epoch sent to everyone */

    /* losers of the accepted value for epoch state->epoch + 1 */
    int acc_seen;
    uint64_t acc_epoch;
    struct cstate_ballot acc_ballot;
    int all_lose;
    unsigned char *loser;       /* by member index */
    struct cstate *acc_value;   /* a copy of it */
    uint64_t acc_since;         /* when that value was first seen accepted */
    uint64_t redrive_at;        /* last time its changes were asked again */
    uint64_t lease_since;       /* 1 + when the lease held now was gained; 0: none */

    struct liveness_ready rd;
    size_t msgs_cap, changes_cap;
};

/* ---- helpers ---- */

static uint64_t next_rand(struct liveness *l)
{
    uint64_t z = (l->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* L as the holder uses it (the planted bug lengthens only this, not W). */
static uint64_t lease_ms(const struct liveness *l)
{
    if (l->cfg.debug_bugs & LIVENESS_BUG_LONG_LEASE)
        return l->cfg.node_timeout_ms;
    return l->cfg.node_timeout_ms / 2;
}

uint64_t liveness_handover_ms(uint64_t node_timeout_ms)
{
    uint64_t lease = node_timeout_ms / 2;

    return (lease * LIVENESS_RATE_MAX_PM + LIVENESS_RATE_MIN_PM - 1) / LIVENESS_RATE_MIN_PM;
}

/* now - then, 0 if then is later (times from one clock never are, but a
 * caller may pass an older now). */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static struct peer *peer_find(const struct liveness *l, const char *id)
{
    long i;

    if (l->state == NULL)
        return NULL;
    i = cstate_index(l->state, id);
    return i < 0 ? NULL : &l->peers[i];
}

/* The state's table: a member being added has no tokens (ringstate.h). */
static struct ring *build_ring(const struct cstate *s)
{
    return ringstate_build(s, 0);
}


/* ---- output ---- */

static void emit(struct liveness *l, const char *to, const struct liveness_msg *m)
{
    struct liveness_out *o;

    if (l->rd.nmsgs == l->msgs_cap) {
        l->msgs_cap = l->msgs_cap ? l->msgs_cap * 2 : 8;
        l->rd.msgs = rc_realloc(l->rd.msgs, l->msgs_cap * sizeof(*l->rd.msgs));
    }
    o = &l->rd.msgs[l->rd.nmsgs++];
    memcpy(o->to, to, CSTATE_ID_LEN);
    o->to[CSTATE_ID_LEN] = '\0';
    o->msg = *m;
}

static struct cstate_change *ask_change(struct liveness *l, int kind)
{
    struct cstate_change *c;

    if (l->rd.nchanges == l->changes_cap) {
        l->changes_cap = l->changes_cap ? l->changes_cap * 2 : 4;
        l->rd.changes = rc_realloc(l->rd.changes, l->changes_cap * sizeof(*l->rd.changes));
    }
    c = &l->rd.changes[l->rd.nchanges++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    return c;
}

static void ask(struct liveness *l, const char *id, enum cstate_status st)
{
    struct cstate_change *c = ask_change(l, CSTATE_SET_STATUS);

    memcpy(c->id, id, CSTATE_ID_LEN);
    c->status = st;
}

/* ---- following paxos ---- */

/* Hand-over wait for the slots of a newly adopted state s (see liveness.h):
 * fills prim[] and ready[] from the old ones in l. */
static void plan_slots(struct liveness *l, const struct cstate *s, const struct ring *r,
                       int16_t *prim, uint64_t *ready, int16_t *from, uint64_t now)
{
    const struct cstate *old = l->state;
    long me = cstate_index(s, l->myid);
    long old_me = old ? cstate_index(old, l->myid) : -1;
    int next = old && old->epoch > 0 && s->epoch == old->epoch + 1;
    int same = next && ringstate_same_members(old, s);
    uint64_t wait = liveness_handover_ms(l->cfg.node_timeout_ms);
    unsigned slot;

    /* The member serving each slot: its list's first up holder. */
    holders_primaries(s, r, prim);
    for (slot = 0; slot < RC_SLOTS; slot++) {
        int p = prim[slot];
        int q = old ? l->primary[slot] : -1;
        ready[slot] = 0;
        from[slot] = -1;
        if (p < 0 || p != me)
            continue;
        if (same && q >= 0 && q != old_me)
            from[slot] = (int16_t)q;
        if (l->cfg.debug_bugs & LIVENESS_BUG_NO_WAIT)
            ready[slot] = now;
        else if (next && q >= 0 && q == old_me)
            ready[slot] = l->ready_at[slot];     /* kept: keep serving, or keep waiting */
        else if (from[slot] >= 0 && l->peers[q].released && l->peers[q].released_at == old->epoch)
            ready[slot] = now;                   /* its primary released it at old */
        else
            ready[slot] = now + wait;            /* gained (or restarted): wait W */
    }
}

static void adopt(struct liveness *l, const struct cstate *s, uint64_t now)
{
    struct peer *peers = rc_calloc((s->nmembers ? s->nmembers : 1) * sizeof(*peers));
    int16_t *prim = rc_malloc(RC_SLOTS * sizeof(*prim));
    uint64_t *ready = rc_malloc(RC_SLOTS * sizeof(*ready));
    int16_t *from = rc_malloc(RC_SLOTS * sizeof(*from));
    struct ring *r;
    size_t i;

    if (l->state && ringstate_same_table(l->state, s)) {
        r = l->ring;
        l->ring = NULL;
    } else {
        r = build_ring(s);
    }
    l->prev_valid = l->state && l->state->epoch > 0 && s->epoch == l->state->epoch + 1 &&
                    l->me >= 0;
    if (l->prev_valid) {
        unsigned slot;
        l->prev_epoch = l->state->epoch;
        l->prev_ready = 0;
        for (slot = 0; slot < RC_SLOTS; slot++)
            if (l->primary[slot] == l->me && l->ready_at[slot] > l->prev_ready)
                l->prev_ready = l->ready_at[slot];
    }
    l->release_told = 0;
    plan_slots(l, s, r, prim, ready, from, now);
    for (i = 0; i < s->nmembers; i++) {
        struct peer *old = peer_find(l, s->members[i].id);
        if (old) {
            peers[i] = *old;
        } else {
            memcpy(peers[i].id, s->members[i].id, sizeof(peers[i].id));
            peers[i].last_heard = now;  /* silence counts from now */
            peers[i].last_granted = now;    /* as if granted just before a restart */
        }
        peers[i].next_ping = now;       /* tell everyone the new epoch at once */
        peers[i].asked = 0;
    }
    ring_destroy(&l->ring);
    l->ring = r;
    rc_free(l->peers);
    l->peers = peers;
    rc_free(l->primary);
    l->primary = prim;
    rc_free(l->ready_at);
    l->ready_at = ready;
    rc_free(l->gained_from);
    l->gained_from = from;
    cstate_destroy(&l->state);
    l->state = cstate_clone(s);
    l->me = cstate_index(s, l->myid);
    l->adopted_at = now;
    l->acc_seen = 0;
    rc_free(l->loser);
    l->loser = rc_calloc(s->nmembers ? s->nmembers : 1);
    l->all_lose = 0;
}

/* Who loses by the accepted value v (epoch state+1): see liveness.h. */
static void compute_losers(struct liveness *l, const struct cstate *v)
{
    const struct cstate *s = l->state;
    struct ring *vr = NULL;
    const struct ring *r = l->ring;
    unsigned slot;
    size_t i;

    memset(l->loser, 0, s->nmembers ? s->nmembers : 1);
    l->all_lose = !ringstate_same_members(s, v);
    if (l->all_lose)
        return;
    for (i = 0; i < s->nmembers; i++)
        if (v->members[i].status != CSTATE_UP)
            l->loser[i] = 1;
    if (!ringstate_same_table(s, v)) {
        vr = build_ring(v);
        r = vr;
    }
    int16_t *vp = rc_malloc(RC_SLOTS * sizeof(*vp));
    holders_primaries(v, r, vp);
    for (slot = 0; slot < RC_SLOTS; slot++) {
        int p = l->primary[slot];
        if (p >= 0 && !l->loser[p] && vp[slot] != p)
            l->loser[p] = 1;
    }
    rc_free(vp);
    ring_destroy(&vr);
}

/* Catch up with paxos: a newer state, or a new accepted value. */
static void sync(struct liveness *l, uint64_t now)
{
    const struct cstate_record *rec;

    if (now > l->now)
        l->now = now;
    if (l->px == NULL)
        return;
    if (l->state == NULL || paxos_state(l->px)->epoch != l->state->epoch)
        adopt(l, paxos_state(l->px), l->now);
    rec = paxos_record(l->px);
    if (rec->acc.value == NULL) {
        l->acc_seen = 0;
        l->all_lose = 0;
        memset(l->loser, 0, l->state->nmembers ? l->state->nmembers : 1);
        return;
    }
    if (l->acc_seen && l->acc_epoch == rec->acc.value->epoch &&
        cstate_ballot_cmp(&l->acc_ballot, &rec->acc.accepted) == 0)
        return;
    if (!l->acc_seen || l->acc_epoch != rec->acc.value->epoch ||
        !cstate_equal(rec->acc.value, l->acc_value)) {
        l->acc_since = l->now;
        l->redrive_at = l->now;
        cstate_destroy(&l->acc_value);
        l->acc_value = cstate_clone(rec->acc.value);
    }
    l->acc_seen = 1;
    l->acc_epoch = rec->acc.value->epoch;
    l->acc_ballot = rec->acc.accepted;
    compute_losers(l, rec->acc.value);
}

/* Would this node grant member i now (itself included)? */
static int grants(const struct liveness *l, long i)
{
    if (i < 0 || l->state->members[i].status != CSTATE_UP)
        return 0;
    if (l->cfg.debug_bugs & LIVENESS_BUG_GRANT_ACCEPTED)
        return 1;
    return !l->all_lose && !l->loser[i];
}

/* ---- entry points ---- */

struct liveness *liveness_create(const struct liveness_config *cfg, const char *myid,
                                 uint64_t now_ms)
{
    struct liveness *l;
    size_t i;

    if (!cstate_valid_id(myid, strnlen(myid, CSTATE_ID_LEN + 1)))
        return NULL;
    l = rc_calloc(sizeof(*l));
    l->cfg = *cfg;
    if (l->cfg.node_timeout_ms == 0)
        l->cfg.node_timeout_ms = 15000;
    if (l->cfg.node_timeout_ms < 10)
        l->cfg.node_timeout_ms = 10;
    memcpy(l->myid, myid, CSTATE_ID_LEN);
    l->me = -1;
    l->now = now_ms;
    l->rng = cfg->seed ^ (now_ms * 0x2545f4914f6cdd1dULL);
    for (i = 0; i < CSTATE_ID_LEN; i++)
        l->rng = l->rng * 31 + (unsigned char)myid[i];
    return l;
}

void liveness_destroy(struct liveness **lp)
{
    struct liveness *l = *lp;

    if (l == NULL)
        return;
    cstate_destroy(&l->state);
    ring_destroy(&l->ring);
    rc_free(l->peers);
    rc_free(l->primary);
    rc_free(l->ready_at);
    rc_free(l->gained_from);
    rc_free(l->loser);
    cstate_destroy(&l->acc_value);
    liveness_ready_deinit(&l->rd);
    rc_free(l);
    *lp = NULL;
}

void liveness_bind(struct liveness *l, const struct paxos_node *px, uint64_t now_ms)
{
    l->px = px;
    sync(l, now_ms);
}

int liveness_validate(void *ctx, const struct cstate *cur, const struct cstate *next)
{
    struct liveness *l = ctx;
    size_t i;

    /* Paxos calls this for fresh values only (paxos.h); it filters what
     * gets proposed and is no safety rule: liveness.h.  Members added or
     * removed are the operator's, not judged here; the status changes of
     * the members in both states are, also when a value carries both
     * (a proposer's pending changes go in one value: a member's return
     * slipped through beside a removal, and the simulator's invariant (e)
     * saw it serve before it caught up). */
    for (i = 0; i < cur->nmembers; i++) {
        const char *id = cur->members[i].id;
        long j = cstate_index(next, id);
        if (j < 0)
            continue;
        enum cstate_status was = cur->members[i].status, will = next->members[j].status;
        const struct peer *p = peer_find(l, id);
        int me = strcmp(id, l->myid) == 0;
        int quiet = !me && p != NULL && since(l->now, p->last_heard) >= l->cfg.node_timeout_ms;

        int left = me ? l->leaving
                      : p != NULL && p->leaving && p->leaving_at == cur->epoch;

        if (will == CSTATE_FAILED && was != CSTATE_FAILED && !quiet && !left)
            return 0;
        int caught = p != NULL && (p->caught_up || (l->cfg.debug_bugs & LIVENESS_BUG_UP_UNCAUGHT));
        if (will == CSTATE_UP && was != CSTATE_UP && (!caught || (!me && quiet)))
            return 0;
    }
    return 1;
}

/* Is v the state s with its change committed (every member being added
 * up, every member being removed gone, the rest alike)?  Its halves alone
 * are refused (cstate.h), so it is asked for whole. */
static int is_commit(const struct cstate *s, const struct cstate *v)
{
    struct cstate_change c;
    struct cstate *w;
    int same;

    memset(&c, 0, sizeof(c));
    c.kind = CSTATE_COMMIT;
    c.epoch = s->epoch;
    if (cstate_change_check(s, &c, NULL) != CSTATE_APPLIES)
        return 0;
    w = cstate_clone(s);
    cstate_change_apply(w, &c);
    holders_settle(s, w);
    w->epoch = v->epoch;
    same = cstate_equal(w, v);
    cstate_destroy(&w);
    return same;
}

/* A value this node accepted for the next epoch that has not become the
 * state within T: ask again for what it changes, so some proposer finishes
 * the epoch (Paxos proposes the accepted value again).  Membership changes
 * too (an operator's MEET or FORGET whose proposer died after a majority
 * accepted it): while such a value stands accepted nobody grants leases
 * (every member loses by it), so left alone it would stop the ring. */
static void redrive(struct liveness *l, uint64_t now_ms)
{
    const struct cstate *v = l->acc_value, *s = l->state;
    struct cstate_change *c;
    size_t i;

    if (!l->acc_seen || v == NULL || v->epoch != s->epoch + 1 ||
        since(now_ms, l->acc_since) < l->cfg.node_timeout_ms ||
        since(now_ms, l->redrive_at) < l->cfg.node_timeout_ms)
        return;
    l->redrive_at = now_ms;
    if (is_commit(s, v)) {
        c = ask_change(l, CSTATE_COMMIT);
        c->epoch = s->epoch;
        return;
    }
    for (i = 0; i < v->nmembers; i++) {
        const struct cstate_member *was = cstate_find(s, v->members[i].id);
        if (was == NULL) {
            c = ask_change(l, CSTATE_ADD_MEMBER);
            c->member = v->members[i];
        } else if (was->status != v->members[i].status) {
            ask(l, v->members[i].id, v->members[i].status);
        }
    }
    for (i = 0; i < s->nmembers; i++)
        if (cstate_find(v, s->members[i].id) == NULL) {
            c = ask_change(l, CSTATE_REMOVE_MEMBER);
            memcpy(c->id, s->members[i].id, CSTATE_ID_LEN);
        }
    if (v->replicas != s->replicas) {
        c = ask_change(l, CSTATE_SET_REPLICAS);
        c->replicas = v->replicas;
    }
}

/* Every slot this node is primary of has its hand-over wait behind it. */
static int waits_passed(const struct liveness *l, uint64_t now_ms)
{
    unsigned slot;

    for (slot = 0; slot < RC_SLOTS; slot++)
        if (l->primary[slot] == l->me && now_ms < l->ready_at[slot])
            return 0;
    return 1;
}

static void tell_all(struct liveness *l, enum liveness_msg_type type, uint64_t epoch)
{
    struct liveness_msg m;
    size_t i;

    memset(&m, 0, sizeof(m));
    m.type = type;
    memcpy(m.ring, l->state->ring, sizeof(m.ring));
    m.epoch = epoch;
    for (i = 0; i < l->state->nmembers; i++)
        if ((long)i != l->me)
            emit(l, l->peers[i].id, &m);
}

/* RELEASE and LEAVING, each once per state (liveness.h). */
static void tell_peers(struct liveness *l, uint64_t now_ms)
{
    if (l->state == NULL || l->me < 0 || l->state->epoch == 0)
        return;
    if (l->cfg.debug_bugs & LIVENESS_BUG_RELEASE_CURRENT) {
        if (!l->release_told && waits_passed(l, now_ms)) {
            tell_all(l, LIVENESS_RELEASE, l->state->epoch);
            l->release_told = 1;
        }
    } else if (l->prev_valid && !l->release_told && now_ms >= l->prev_ready) {
        tell_all(l, LIVENESS_RELEASE, l->prev_epoch);
        l->release_told = 1;
    }
    if (l->leaving && l->leaving_told != l->state->epoch + 1) {
        tell_all(l, LIVENESS_LEAVING, l->state->epoch);
        l->leaving_told = l->state->epoch + 1;
    }
}

int liveness_release_sent(struct liveness *l)
{
    sync(l, l->now);
    return !l->prev_valid || l->release_told;
}

void liveness_release(struct liveness *l, uint64_t now_ms)
{
    sync(l, now_ms);
    l->leaving = 1;
    tell_peers(l, now_ms);
}

/* Member i released at epoch k: the slots this node gained from it in the
 * state after k are served at once. */
static void on_release(struct liveness *l, long i, struct peer *p, uint64_t k, uint64_t now_ms)
{
    unsigned slot;

    p->released = 1;
    p->released_at = k;
    if (l->state->epoch != k + 1 || l->gained_from == NULL)
        return;
    for (slot = 0; slot < RC_SLOTS; slot++)
        if (l->gained_from[slot] == i && l->primary[slot] == l->me && l->ready_at[slot] > now_ms)
            l->ready_at[slot] = now_ms;
}
static int lease_held(const struct liveness *l, uint64_t now_ms);

void liveness_tick(struct liveness *l, uint64_t now_ms)
{
    uint64_t period = l->cfg.node_timeout_ms / 10;
    size_t i;
    int judge;

    sync(l, now_ms);
    if (l->state == NULL || l->me < 0)
        return;
    if (period == 0)
        period = 1;
    redrive(l, now_ms);
    tell_peers(l, now_ms);
    /* Only a node that has held its lease (a majority answers it) for T
     * asks to fail members it does not hear: a silence that began while
     * this node was itself cut off says nothing of them, and the first
     * pings after a heal can take a while (a connect begun during the cut
     * waits for its SYN to be sent again).  Asked for fresh once the cut
     * heals and accepted by the acceptors of its own side (they did not
     * hear those members either), "X failed" would be recovered by the
     * next proposer whose promise quorum included one of them, and chosen:
     * healthy members failed, epoch after epoch, in the partition tests
     * down to every member (README "Fault tests"). */
    if (!lease_held(l, now_ms))
        l->lease_since = 0;
    else if (l->lease_since == 0)
        l->lease_since = now_ms + 1;
    judge = l->lease_since != 0 && since(now_ms, l->lease_since - 1) >= l->cfg.node_timeout_ms;
    for (i = 0; i < l->state->nmembers; i++) {
        struct peer *p = &l->peers[i];
        if ((long)i == l->me)
            continue;
        if (now_ms >= p->next_ping) {
            struct liveness_msg m;
            struct sent_ping *sp = &p->sent[p->sent_pos++ % SENT_KEEP];
            memset(&m, 0, sizeof(m));
            m.type = LIVENESS_PING;
            memcpy(m.ring, l->state->ring, sizeof(m.ring));
            m.epoch = l->state->epoch;
            m.nonce = next_rand(l);
            sp->nonce = m.nonce;
            sp->at = now_ms;
            sp->epoch = m.epoch;
            sp->used = 1;
            emit(l, p->id, &m);
            p->next_ping = now_ms + period;
        }
        if (judge && (l->state->members[i].status == CSTATE_UP ||
                      l->state->members[i].status == CSTATE_JOINING) &&
            since(now_ms, p->last_heard) >= l->cfg.node_timeout_ms &&
            (!p->asked || since(now_ms, p->asked_at) >= l->cfg.node_timeout_ms)) {
            ask(l, p->id, CSTATE_FAILED);
            p->asked = 1;
            p->asked_at = now_ms;
        }
    }
}

static void on_pong(struct liveness *l, struct peer *p, const struct liveness_msg *m)
{
    size_t k;

    if (!m->grant)
        return;
    for (k = 0; k < SENT_KEEP; k++) {
        const struct sent_ping *sp = &p->sent[k];
        if (!sp->used || sp->nonce != m->nonce || sp->epoch != l->state->epoch)
            continue;
        if (!p->has_grant || p->grant_epoch != sp->epoch || sp->at > p->grant_at) {
            p->has_grant = 1;
            p->grant_at = sp->at;
            p->grant_epoch = sp->epoch;
        }
        return;
    }
}

void liveness_step(struct liveness *l, const char *from, const struct liveness_msg *m,
                   uint64_t now_ms)
{
    struct peer *p;
    long i;

    sync(l, now_ms);
    if (l->state == NULL)
        return;
    if (l->state->epoch != 0 && m->epoch != 0 && strcmp(m->ring, l->state->ring) != 0)
        return;     /* another ring's traffic */
    i = cstate_index(l->state, from);
    p = i >= 0 ? &l->peers[i] : NULL;
    if (p && i != l->me && now_ms > p->last_heard)
        p->last_heard = now_ms;
    if (m->type == LIVENESS_PING) {
        struct liveness_msg r;
        memset(&r, 0, sizeof(r));
        r.type = LIVENESS_PONG;
        memcpy(r.ring, l->state->ring, sizeof(r.ring));
        r.epoch = l->state->epoch;
        r.nonce = m->nonce;
        r.grant = l->state->epoch != 0 && m->epoch == l->state->epoch && i != l->me &&
                  grants(l, i);
        if (r.grant)
            p->last_granted = now_ms;
        emit(l, from, &r);
    } else if (m->type == LIVENESS_RELEASE) {
        if (p && i != l->me)
            on_release(l, i, p, m->epoch, now_ms);
    } else if (m->type == LIVENESS_LEAVING) {
        if (p && i != l->me) {
            p->leaving = 1;
            p->leaving_at = m->epoch;
        }
    } else if (p && i != l->me) {
        on_pong(l, p, m);
    }
}

void liveness_set_caught_up(struct liveness *l, const char *id, int yes)
{
    struct peer *p;

    sync(l, l->now);
    p = peer_find(l, id);
    if (p)
        p->caught_up = yes != 0;
}

int liveness_alive(struct liveness *l, const char *id, uint64_t now_ms)
{
    const struct peer *p;

    sync(l, now_ms);
    if (strncmp(id, l->myid, CSTATE_ID_LEN) == 0)
        return 1;
    p = peer_find(l, id);
    return p != NULL && since(now_ms, p->last_heard) < l->cfg.node_timeout_ms;
}

/* The lease at now from what is known, without looking at paxos again. */
static int lease_held(const struct liveness *l, uint64_t now_ms)
{
    uint64_t lease = lease_ms(l);
    size_t i, count = 0;

    if (l->state == NULL || l->state->epoch == 0 || l->me < 0)
        return 0;
    for (i = 0; i < l->state->nmembers; i++) {
        const struct peer *p = &l->peers[i];
        if ((long)i == l->me)
            count += (size_t)grants(l, l->me);
        else if (p->has_grant &&
                 (p->grant_epoch == l->state->epoch || p->grant_epoch + 1 == l->state->epoch) &&
                 p->grant_at + lease >= now_ms)
            count++;
    }
    return count > l->state->nmembers / 2;
}

int liveness_holds_lease(struct liveness *l, uint64_t now_ms)
{
    sync(l, now_ms);
    return lease_held(l, now_ms);
}

int liveness_acting_primary(struct liveness *l, unsigned slot)
{
    sync(l, l->now);
    if (l->primary == NULL)
        return -1;
    return l->primary[slot % RC_SLOTS];
}

enum liveness_serve liveness_can_serve(struct liveness *l, unsigned slot, uint64_t now_ms)
{
    int p = liveness_acting_primary(l, slot);

    sync(l, now_ms);
    if (p < 0 || p != l->me)
        return LIVENESS_NOT_PRIMARY;
    if (l->leaving)
        return LIVENESS_RELEASED;
    if (!liveness_holds_lease(l, now_ms))
        return LIVENESS_NO_LEASE;
    if (now_ms < l->ready_at[slot % RC_SLOTS])
        return LIVENESS_HANDOVER;
    return LIVENESS_SERVE;
}

const char *liveness_serve_name(enum liveness_serve v)
{
    switch (v) {
    case LIVENESS_SERVE: return "serve";
    case LIVENESS_NOT_PRIMARY: return "not the primary";
    case LIVENESS_NO_LEASE: return "lease lapsed (no majority)";
    case LIVENESS_HANDOVER: return "waiting for the previous primary's lease";
    case LIVENESS_RELEASED: return "released (leaving)";
    }
    return "?";
}

void liveness_ready_take(struct liveness *l, struct liveness_ready *rd)
{
    *rd = l->rd;
    memset(&l->rd, 0, sizeof(l->rd));
    l->msgs_cap = l->changes_cap = 0;
}

void liveness_ready_deinit(struct liveness_ready *rd)
{
    rc_free(rd->msgs);
    rc_free(rd->changes);
    memset(rd, 0, sizeof(*rd));
}

/* ---- wire form ---- */

static void put(struct paxos_wire *w, const char *s, size_t len)
{
    w->argv[w->argc] = rc_strndup(s, len);
    w->len[w->argc] = len;
    w->argc++;
}

static void put_u64(struct paxos_wire *w, uint64_t v)
{
    char tmp[RC_LONG_STR_SIZE];

    put(w, tmp, rc_ull2str(tmp, sizeof(tmp), v));
}

void liveness_msg_encode(const struct liveness_msg *m, struct paxos_wire *w)
{
    memset(w, 0, sizeof(*w));
    if (m->type == LIVENESS_PING)
        put(w, "ping", 4);
    else if (m->type == LIVENESS_PONG)
        put(w, "pong", 4);
    else if (m->type == LIVENESS_RELEASE)
        put(w, "release", 7);
    else
        put(w, "leaving", 7);
    put(w, m->ring, CSTATE_ID_LEN);
    put_u64(w, m->epoch);
    if (m->type == LIVENESS_PING || m->type == LIVENESS_PONG)
        put_u64(w, m->nonce);
    if (m->type == LIVENESS_PONG)
        put(w, m->grant ? "1" : "0", 1);
}

static int word_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

int liveness_msg_decode(int argc, const char *const *argv, const size_t *len,
                        struct liveness_msg *m, char *err, size_t errlen)
{
    unsigned long long v;

    memset(m, 0, sizeof(*m));
    if (argc < 1) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    if (word_is(argv[0], len[0], "ping"))
        m->type = LIVENESS_PING;
    else if (word_is(argv[0], len[0], "pong"))
        m->type = LIVENESS_PONG;
    else if (word_is(argv[0], len[0], "release"))
        m->type = LIVENESS_RELEASE;
    else if (word_is(argv[0], len[0], "leaving"))
        m->type = LIVENESS_LEAVING;
    else {
        snprintf(err, errlen, "unknown message type");
        return -1;
    }
    static const int want[] = {0, 4, 5, 3, 3};
    static const char *const names[] = {"", "ping", "pong", "release", "leaving"};
    if (argc != want[m->type]) {
        snprintf(err, errlen, "wrong number of arguments for '%s'", names[m->type]);
        return -1;
    }
    if (!cstate_valid_id(argv[1], len[1])) {
        snprintf(err, errlen, "bad ring id");
        return -1;
    }
    memcpy(m->ring, argv[1], CSTATE_ID_LEN);
    if (!rc_str2ull(argv[2], len[2], &v)) {
        snprintf(err, errlen, "bad epoch");
        return -1;
    }
    m->epoch = v;
    if (m->type == LIVENESS_RELEASE || m->type == LIVENESS_LEAVING)
        return 0;
    if (!rc_str2ull(argv[3], len[3], &v)) {
        snprintf(err, errlen, "bad nonce");
        return -1;
    }
    m->nonce = v;
    if (m->type == LIVENESS_PONG) {
        if (word_is(argv[4], len[4], "1"))
            m->grant = 1;
        else if (!word_is(argv[4], len[4], "0")) {
            snprintf(err, errlen, "bad grant flag");
            return -1;
        }
    }
    return 0;
}
