/*
 * paxos.c — single-decree Paxos per epoch over the cluster state: the
 * acceptor, the proposer, state spreading, and the messages' wire form.
 * The protocol and the caller's contract are described in paxos.h.
 *
 * The node never talks to itself over the network: a proposer runs its
 * own acceptor directly, so its promise and acceptance are recorded (and
 * persisted with the same output batch) like anyone else's.
 */
#include "paxos.h"

#include "holders.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "util.h"

enum phase {
    PH_IDLE,        /* nothing to propose */
    PH_BACKOFF,     /* lost or timed out; retry at backoff_until */
    PH_PREPARING,   /* phase 1 of ballot p_ballot for epoch p_epoch */
    PH_ACCEPTING    /* phase 2 */
};

struct pending {
    uint64_t token;
    uint64_t deadline;
    struct cstate_change change;
};

struct paxos_node {
    struct paxos_config cfg;
    struct cstate_record rec;       /* what nodes.conf must hold */
    uint64_t rng;
    uint64_t max_round;             /* highest round seen for the next epoch */

    /* proposer */
    enum phase phase;
    uint64_t p_epoch;
    struct cstate_ballot p_ballot;
    uint64_t p_deadline;
    uint64_t backoff_until;
    unsigned char voted[CSTATE_MEMBERS_MAX / 8];   /* by index in rec.state */
    unsigned char refused[CSTATE_MEMBERS_MAX / 8];
    size_t nvoted, nrefused;
    struct cstate_ballot best;      /* highest accepted ballot among promises */
    struct cstate *best_value;
    struct cstate *p_value;         /* the value of phase 2 */
    int p_fresh;                    /* p_value is built from our queue, not recovered */
    uint64_t solo;                  /* 0: propose every queued change; k: after k
                                     * refusals, only one, the k-th in turn */
    struct pending pend[PAXOS_PENDING_MAX];
    size_t npend;
    uint64_t next_token;

    /* output */
    struct paxos_ready rd;
    size_t msgs_cap, events_cap;
};

static void start_round(struct paxos_node *n, uint64_t now);

/* ---- small helpers ---- */

static uint64_t next_rand(struct paxos_node *n)
{
    /* splitmix64: tiny, and good enough for back-off jitter */
    uint64_t z = (n->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int bit_set(unsigned char *bits, size_t i)
{
    unsigned char mask = (unsigned char)(1u << (i % 8));

    if (bits[i / 8] & mask)
        return 0;
    bits[i / 8] |= mask;
    return 1;
}

static size_t quorum(const struct paxos_node *n)
{
    return n->rec.state->nmembers / 2 + 1;
}

static int i_am_member(const struct paxos_node *n)
{
    return cstate_find(n->rec.state, n->rec.myid) != NULL;
}

/* ---- output ---- */

/* Queue m for `to`; takes over what m owns. */
static void emit(struct paxos_node *n, const char *to, struct paxos_msg *m)
{
    struct paxos_out *o;

    if (n->rd.nmsgs == n->msgs_cap) {
        n->msgs_cap = n->msgs_cap ? n->msgs_cap * 2 : 8;
        n->rd.msgs = rc_realloc(n->rd.msgs, n->msgs_cap * sizeof(*n->rd.msgs));
    }
    o = &n->rd.msgs[n->rd.nmsgs++];
    memcpy(o->to, to, CSTATE_ID_LEN);
    o->to[CSTATE_ID_LEN] = '\0';
    o->msg = *m;
    memset(m, 0, sizeof(*m));
}

static void emit_event(struct paxos_node *n, uint64_t token, enum paxos_outcome outcome)
{
    struct paxos_event *e;

    if (n->rd.nevents == n->events_cap) {
        n->events_cap = n->events_cap ? n->events_cap * 2 : 4;
        n->rd.events = rc_realloc(n->rd.events, n->events_cap * sizeof(*n->rd.events));
    }
    e = &n->rd.events[n->rd.nevents++];
    e->token = token;
    e->outcome = outcome;
    e->epoch = n->rec.state->epoch;
}

/* A message of this node's ring for the epoch it decides next. */
static void msg_init(const struct paxos_node *n, struct paxos_msg *m, enum paxos_msg_type t,
                     const struct cstate_ballot *b)
{
    memset(m, 0, sizeof(*m));
    m->type = t;
    memcpy(m->ring, n->rec.state->ring, sizeof(m->ring));
    m->epoch = n->rec.state->epoch + 1;
    m->ballot = *b;
}

/* Send this round's message of type t (with a copy of v, if any) to every
 * other member of the current state. */
static void broadcast(struct paxos_node *n, enum paxos_msg_type t, const struct cstate *v)
{
    struct paxos_msg m;
    size_t i;

    for (i = 0; i < n->rec.state->nmembers; i++) {
        const char *id = n->rec.state->members[i].id;
        if (strcmp(id, n->rec.myid) == 0)
            continue;
        msg_init(n, &m, t, &n->p_ballot);
        m.value = v ? cstate_clone(v) : NULL;
        m.fresh = t == PAXOS_ACCEPT && n->p_fresh;
        emit(n, id, &m);
    }
}

static void send_learn(struct paxos_node *n, const char *to, const struct cstate *s)
{
    struct paxos_msg m;

    memset(&m, 0, sizeof(m));
    m.type = PAXOS_LEARN;
    memcpy(m.ring, s->ring, sizeof(m.ring));
    m.epoch = s->epoch;
    m.value = cstate_clone(s);
    emit(n, to, &m);
}

/* ---- pending changes ---- */

static void drop_pending(struct paxos_node *n, size_t i, enum paxos_outcome outcome)
{
    emit_event(n, n->pend[i].token, outcome);
    memmove(&n->pend[i], &n->pend[i + 1], (n->npend - i - 1) * sizeof(n->pend[0]));
    n->npend--;
}

/* Report and drop the changes the current state settles. */
static void resolve_pending(struct paxos_node *n)
{
    size_t i = 0;
    int member = i_am_member(n);

    while (i < n->npend) {
        enum cstate_verdict v = cstate_change_check(n->rec.state, &n->pend[i].change, NULL);
        if (!member)
            drop_pending(n, i, PAXOS_NOT_MEMBER);
        else if (v == CSTATE_DONE)
            drop_pending(n, i, PAXOS_DONE);
        else if (v == CSTATE_INVALID)
            drop_pending(n, i, PAXOS_INVALID);
        else
            i++;
    }
}

static int same_change(const struct cstate_change *a, const struct cstate_change *b)
{
    return a->kind == b->kind && a->status == b->status && a->replicas == b->replicas &&
           a->epoch == b->epoch &&
           strcmp(a->id, b->id) == 0 && strcmp(a->member.id, b->member.id) == 0;
}

/* The next state with every queued change that still applies; NULL if
 * none does.  After refusals (n->solo > 0) only one distinct applicable
 * change, taking each in turn, so that one change the acceptors refuse
 * (a stale "X failed" for a member they hear) does not hold back the
 * others until it times out. */
static struct cstate *build_value(const struct paxos_node *n)
{
    struct cstate *v = cstate_clone(n->rec.state);
    size_t pick[PAXOS_PENDING_MAX], npick = 0, i, k;
    int changed = 0;

    /* Changes are judged against the current state (a COMMIT names its
     * epoch), so the epoch moves on after they are applied. */
    if (n->solo == 0) {
        for (i = 0; i < n->npend; i++)
            if (cstate_change_apply(v, &n->pend[i].change) == 0)
                changed = 1;
    } else {
        for (i = 0; i < n->npend; i++) {
            if (cstate_change_check(n->rec.state, &n->pend[i].change, NULL) != CSTATE_APPLIES)
                continue;
            for (k = 0; k < npick && !same_change(&n->pend[pick[k]].change,
                                                  &n->pend[i].change); k++)
                ;
            if (k == npick)
                pick[npick++] = i;
        }
        if (npick > 0 &&
            cstate_change_apply(v, &n->pend[pick[(n->solo - 1) % npick]].change) == 0)
            changed = 1;
    }
    if (!changed)
        cstate_destroy(&v);
    else {
        holders_settle(n->rec.state, v);
        v->epoch++;
    }
    return v;
}

/* ---- proposer round bookkeeping ---- */

static void clear_round(struct paxos_node *n)
{
    cstate_destroy(&n->best_value);
    cstate_destroy(&n->p_value);
    memset(&n->best, 0, sizeof(n->best));
    memset(n->voted, 0, sizeof(n->voted));
    memset(n->refused, 0, sizeof(n->refused));
    n->nvoted = n->nrefused = 0;
}

static void back_off(struct paxos_node *n, uint64_t now)
{
    uint64_t span = n->cfg.backoff_max_ms - n->cfg.backoff_min_ms + 1;

    clear_round(n);
    n->phase = PH_BACKOFF;
    n->backoff_until = now + n->cfg.backoff_min_ms + next_rand(n) % span;
}

/* Take a newer state as current.  own: this node's proposal was chosen,
 * so it goes on at once with what is left; otherwise it backs off a
 * little, since every node that learns the state may have work queued. */
static void adopt(struct paxos_node *n, const struct cstate *s, int own, uint64_t now)
{
    cstate_destroy(&n->rec.state);
    n->rec.state = cstate_clone(s);
    cstate_acceptor_reset(&n->rec.acc);
    n->max_round = 0;
    n->solo = 0;
    n->rd.persist = 1;
    n->rd.state_changed = 1;
    clear_round(n);
    n->phase = PH_IDLE;
    resolve_pending(n);
    if (n->npend == 0)
        return;
    if (own)
        start_round(n, now);
    else
        back_off(n, now);
}

/* ---- acceptor ---- */

/* Answer PREPARE(b) into *r. */
static void acceptor_prepare(struct paxos_node *n, const struct cstate_ballot *b,
                             struct paxos_msg *r)
{
    struct cstate_acceptor *a = &n->rec.acc;
    int c = cstate_ballot_cmp(b, &a->promised);

    if (c > 0) {
        a->promised = *b;
        n->rd.persist = 1;
    }
    if (c >= 0) {
        msg_init(n, r, PAXOS_PROMISE, b);
        r->accepted = a->accepted;
        r->value = a->value ? cstate_clone(a->value) : NULL;
    } else {
        msg_init(n, r, PAXOS_NACK, &a->promised);
    }
}

/* Answer ACCEPT(b, v) into *r; returns 0 when there is nothing to say.
 * The content hook judges only a fresh value: a recovered one may already
 * be chosen, and Paxos obliges every later ballot to carry it (paxos.h). */
static int acceptor_accept(struct paxos_node *n, const struct cstate_ballot *b,
                           const struct cstate *v, int fresh, struct paxos_msg *r)
{
    struct cstate_acceptor *a = &n->rec.acc;
    const struct cstate *cur = n->rec.state;

    if (a->accepted.round != 0 && cstate_ballot_cmp(b, &a->accepted) == 0) {
        /* A duplicate: say it again.  Another value under the same ballot
         * would be a proposer's bug; stay silent rather than agree. */
        if (!cstate_equal(v, a->value))
            return 0;
        msg_init(n, r, PAXOS_ACCEPTED, b);
        return 1;
    }
    if (cstate_ballot_cmp(b, &a->promised) < 0 &&
        !(n->cfg.debug_bugs & PAXOS_BUG_SKIP_PROMISE_CHECK)) {
        msg_init(n, r, PAXOS_NACK, &a->promised);
        return 1;
    }
    if (v->epoch != cur->epoch + 1 || strcmp(v->ring, cur->ring) != 0 ||
        (fresh && n->cfg.validate && !n->cfg.validate(n->cfg.validate_ctx, cur, v))) {
        msg_init(n, r, PAXOS_NACK, b);
        r->rejected = 1;
        return 1;
    }
    if (cstate_ballot_cmp(b, &a->promised) > 0)
        a->promised = *b;
    a->accepted = *b;
    cstate_destroy(&a->value);
    a->value = cstate_clone(v);
    n->rd.persist = 1;
    msg_init(n, r, PAXOS_ACCEPTED, b);
    return 1;
}

/* ---- proposer ---- */

static int round_msg(const struct paxos_node *n, const struct paxos_msg *m, enum phase ph)
{
    return n->phase == ph && m->epoch == n->p_epoch &&
           cstate_ballot_cmp(&m->ballot, &n->p_ballot) == 0;
}

static void on_accepted(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                        uint64_t now);
static void on_nack(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                    uint64_t now);

static void begin_accept(struct paxos_node *n, uint64_t now)
{
    struct paxos_msg r;
    struct cstate *v;
    int fresh = 0;

    if (n->best_value) {
        v = n->best_value;
        n->best_value = NULL;
    } else {
        fresh = 1;
        v = build_value(n);
        if (v == NULL) {
            clear_round(n);
            n->phase = PH_IDLE;
            resolve_pending(n);
            return;
        }
    }
    clear_round(n);
    n->p_value = v;
    n->p_fresh = fresh;
    n->phase = PH_ACCEPTING;
    n->p_deadline = now + n->cfg.round_timeout_ms;
    broadcast(n, PAXOS_ACCEPT, v);
    if (acceptor_accept(n, &n->p_ballot, v, fresh, &r)) {
        if (r.type == PAXOS_ACCEPTED)
            on_accepted(n, n->rec.myid, &r, now);
        else
            on_nack(n, n->rec.myid, &r, now);
        paxos_msg_deinit(&r);
    }
}

static void on_promise(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                       uint64_t now)
{
    long i;

    if (!round_msg(n, m, PH_PREPARING))
        return;
    i = cstate_index(n->rec.state, from);
    if (i < 0 || !bit_set(n->voted, (size_t)i))
        return;
    n->nvoted++;
    if (m->accepted.round != 0 && m->value != NULL &&
        !(n->cfg.debug_bugs & PAXOS_BUG_IGNORE_ACCEPTED) &&
        cstate_ballot_cmp(&m->accepted, &n->best) > 0) {
        n->best = m->accepted;
        cstate_destroy(&n->best_value);
        n->best_value = cstate_clone(m->value);
    }
    if (n->nvoted >= quorum(n))
        begin_accept(n, now);
}

static void on_accepted(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                        uint64_t now)
{
    struct cstate *v, *old;
    long i;
    size_t k;

    if (!round_msg(n, m, PH_ACCEPTING))
        return;
    i = cstate_index(n->rec.state, from);
    if (i < 0 || !bit_set(n->voted, (size_t)i))
        return;
    if (++n->nvoted < quorum(n))
        return;
    /* Chosen.  Tell the members of the old and the new state. */
    v = n->p_value;
    n->p_value = NULL;
    old = n->rec.state;
    for (k = 0; k < old->nmembers; k++)
        if (strcmp(old->members[k].id, n->rec.myid) != 0)
            send_learn(n, old->members[k].id, v);
    for (k = 0; k < v->nmembers; k++)
        if (strcmp(v->members[k].id, n->rec.myid) != 0 &&
            cstate_find(old, v->members[k].id) == NULL)
            send_learn(n, v->members[k].id, v);
    adopt(n, v, 1, now);
    cstate_destroy(&v);
}

static void on_nack(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                    uint64_t now)
{
    long i;

    if (n->phase != PH_PREPARING && n->phase != PH_ACCEPTING)
        return;
    if (m->epoch != n->p_epoch)
        return;
    if (!m->rejected) {
        if (cstate_ballot_cmp(&m->ballot, &n->p_ballot) > 0)
            back_off(n, now);
        return;
    }
    if (!round_msg(n, m, PH_ACCEPTING))
        return;
    i = cstate_index(n->rec.state, from);
    if (i < 0 || !bit_set(n->refused, (size_t)i))
        return;
    n->nrefused++;
    if (n->rec.state->nmembers - n->nrefused < quorum(n)) {
        if (n->p_fresh)
            n->solo++;
        back_off(n, now);
    }
}

static void start_round(struct paxos_node *n, uint64_t now)
{
    struct paxos_msg r;
    uint64_t round;

    clear_round(n);
    n->phase = PH_IDLE;
    resolve_pending(n);
    if (n->npend == 0)
        return;
    round = n->max_round > n->rec.acc.promised.round ? n->max_round : n->rec.acc.promised.round;
    n->max_round = ++round;
    n->p_ballot.round = round;
    memcpy(n->p_ballot.id, n->rec.myid, sizeof(n->p_ballot.id));
    n->p_epoch = n->rec.state->epoch + 1;
    n->phase = PH_PREPARING;
    n->p_deadline = now + n->cfg.round_timeout_ms;
    broadcast(n, PAXOS_PREPARE, NULL);
    /* Our own promise, persisted with this batch, before the PREPAREs leave. */
    acceptor_prepare(n, &n->p_ballot, &r);
    on_promise(n, n->rec.myid, &r, now);
    paxos_msg_deinit(&r);
}

/* ---- the node's entry points ---- */

struct paxos_node *paxos_create(const struct paxos_config *cfg, const struct cstate_record *rec,
                                uint64_t now_ms)
{
    struct paxos_node *n;
    size_t i;

    if (!cstate_valid_id(rec->myid, strnlen(rec->myid, sizeof(rec->myid))) ||
        rec->state == NULL || (rec->acc.value == NULL) != (rec->acc.accepted.round == 0) ||
        (rec->acc.value && rec->acc.value->epoch != rec->state->epoch + 1))
        return NULL;
    n = rc_calloc(sizeof(*n));
    n->cfg = *cfg;
    if (n->cfg.round_timeout_ms == 0)
        n->cfg.round_timeout_ms = 500;
    if (n->cfg.backoff_min_ms == 0 && n->cfg.backoff_max_ms == 0) {
        n->cfg.backoff_min_ms = 50;
        n->cfg.backoff_max_ms = 250;
    }
    if (n->cfg.backoff_max_ms < n->cfg.backoff_min_ms)
        n->cfg.backoff_max_ms = n->cfg.backoff_min_ms;
    if (n->cfg.change_timeout_ms == 0)
        n->cfg.change_timeout_ms = 30000;
    cstate_record_copy(&n->rec, rec);
    /* Different nodes given the same seed still jitter differently. */
    n->rng = cfg->seed;
    for (i = 0; i < CSTATE_ID_LEN; i++)
        n->rng = n->rng * 31 + (unsigned char)rec->myid[i];
    n->max_round = rec->acc.promised.round;
    (void)now_ms;
    return n;
}

void paxos_destroy(struct paxos_node **np)
{
    struct paxos_node *n = *np;

    if (n == NULL)
        return;
    clear_round(n);
    cstate_record_deinit(&n->rec);
    paxos_ready_deinit(&n->rd);
    rc_free(n);
    *np = NULL;
}

void paxos_step(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                uint64_t now_ms)
{
    const struct cstate *cur = n->rec.state;
    struct paxos_msg r;

    if (m->type == PAXOS_LEARN) {
        const struct cstate *v = m->value;
        if (v == NULL)
            return;
        if (v->epoch > cur->epoch && (cur->epoch == 0 || strcmp(v->ring, cur->ring) == 0))
            adopt(n, v, 0, now_ms);
        else if (v->epoch < cur->epoch && (v->epoch == 0 || strcmp(v->ring, cur->ring) == 0))
            send_learn(n, from, cur);
        return;
    }
    if (cur->epoch == 0 || strcmp(m->ring, cur->ring) != 0)
        return;
    if (m->epoch != cur->epoch + 1) {
        send_learn(n, from, cur);   /* one of us is behind; see paxos.h */
        return;
    }
    if (cstate_find(cur, from) == NULL)
        return;
    /* A proposer speaks only for its own ballots. */
    if ((m->type == PAXOS_PREPARE || m->type == PAXOS_ACCEPT) &&
        memcmp(m->ballot.id, from, CSTATE_ID_LEN) != 0)
        return;
    if (m->ballot.round > n->max_round)
        n->max_round = m->ballot.round;
    switch (m->type) {
    case PAXOS_PREPARE:
        if (!i_am_member(n))
            return;
        acceptor_prepare(n, &m->ballot, &r);
        emit(n, from, &r);
        break;
    case PAXOS_ACCEPT:
        if (!i_am_member(n) || m->value == NULL)
            return;
        if (acceptor_accept(n, &m->ballot, m->value, m->fresh, &r))
            emit(n, from, &r);
        break;
    case PAXOS_PROMISE: on_promise(n, from, m, now_ms); break;
    case PAXOS_ACCEPTED: on_accepted(n, from, m, now_ms); break;
    case PAXOS_NACK: on_nack(n, from, m, now_ms); break;
    default: break;
    }
}

void paxos_tick(struct paxos_node *n, uint64_t now_ms)
{
    size_t i = 0;

    while (i < n->npend) {
        if (now_ms >= n->pend[i].deadline)
            drop_pending(n, i, PAXOS_GAVE_UP);
        else
            i++;
    }
    if (n->phase == PH_BACKOFF && now_ms >= n->backoff_until)
        start_round(n, now_ms);
    else if ((n->phase == PH_PREPARING || n->phase == PH_ACCEPTING) && now_ms >= n->p_deadline)
        back_off(n, now_ms);
}

uint64_t paxos_propose(struct paxos_node *n, const struct cstate_change *c, uint64_t now_ms,
                       char *err, size_t errlen)
{
    const char *why = "invalid change";
    struct pending *p;

    if (n->rec.state->epoch == 0 || !i_am_member(n)) {
        snprintf(err, errlen, "this node is not a member of the cluster state");
        return 0;
    }
    switch (cstate_change_check(n->rec.state, c, &why)) {
    case CSTATE_INVALID:
        snprintf(err, errlen, "%s", why);
        return 0;
    case CSTATE_DONE:
        emit_event(n, ++n->next_token, PAXOS_DONE);
        return n->next_token;
    case CSTATE_APPLIES:
        break;
    }
    if (n->npend == PAXOS_PENDING_MAX) {
        snprintf(err, errlen, "too many changes in progress");
        return 0;
    }
    p = &n->pend[n->npend++];
    p->token = ++n->next_token;
    p->deadline = now_ms + n->cfg.change_timeout_ms;
    p->change = *c;
    if (n->phase == PH_IDLE)
        start_round(n, now_ms);
    return p->token;
}

void paxos_observe_epoch(struct paxos_node *n, const char *from, uint64_t epoch, uint64_t now_ms)
{
    (void)now_ms;
    if (epoch != n->rec.state->epoch)
        send_learn(n, from, n->rec.state);
}

const struct cstate *paxos_state(const struct paxos_node *n)
{
    return n->rec.state;
}

const struct cstate_record *paxos_record(const struct paxos_node *n)
{
    return &n->rec;
}

int paxos_busy(const struct paxos_node *n)
{
    return n->phase != PH_IDLE || n->npend > 0;
}

int paxos_ready_pending(const struct paxos_node *n)
{
    return n->rd.persist || n->rd.state_changed || n->rd.nmsgs || n->rd.nevents;
}

void paxos_ready_take(struct paxos_node *n, struct paxos_ready *rd)
{
    *rd = n->rd;
    memset(&n->rd, 0, sizeof(n->rd));
    n->msgs_cap = n->events_cap = 0;
}

void paxos_ready_deinit(struct paxos_ready *rd)
{
    size_t i;

    for (i = 0; i < rd->nmsgs; i++)
        paxos_msg_deinit(&rd->msgs[i].msg);
    rc_free(rd->msgs);
    rc_free(rd->events);
    memset(rd, 0, sizeof(*rd));
}

/* ---- messages ---- */

void paxos_msg_deinit(struct paxos_msg *m)
{
    cstate_destroy(&m->value);
    memset(m, 0, sizeof(*m));
}

void paxos_msg_copy(struct paxos_msg *dst, const struct paxos_msg *src)
{
    *dst = *src;
    dst->value = src->value ? cstate_clone(src->value) : NULL;
}

const char *paxos_msg_type_name(enum paxos_msg_type t)
{
    switch (t) {
    case PAXOS_PREPARE: return "prepare";
    case PAXOS_PROMISE: return "promise";
    case PAXOS_ACCEPT: return "accept";
    case PAXOS_ACCEPTED: return "accepted";
    case PAXOS_NACK: return "nack";
    case PAXOS_LEARN: return "learn";
    }
    return "?";
}

static void wire_put(struct paxos_wire *w, const char *s, size_t len)
{
    w->argv[w->argc] = rc_strndup(s, len);
    w->len[w->argc] = len;
    w->argc++;
}

static void wire_u64(struct paxos_wire *w, uint64_t v)
{
    char tmp[RC_LONG_STR_SIZE];
    size_t n = rc_ull2str(tmp, sizeof(tmp), v);

    wire_put(w, tmp, n);
}

static void wire_state(struct paxos_wire *w, const struct cstate *s)
{
    size_t len;

    w->argv[w->argc] = cstate_encode(s, &len);
    w->len[w->argc] = len;
    w->argc++;
}

void paxos_msg_encode(const struct paxos_msg *m, struct paxos_wire *w)
{
    const char *name = paxos_msg_type_name(m->type);

    memset(w, 0, sizeof(*w));
    wire_put(w, name, strlen(name));
    if (m->type == PAXOS_LEARN) {
        wire_state(w, m->value);
        return;
    }
    wire_put(w, m->ring, CSTATE_ID_LEN);
    wire_u64(w, m->epoch);
    wire_u64(w, m->ballot.round);
    wire_put(w, m->ballot.id, CSTATE_ID_LEN);
    switch (m->type) {
    case PAXOS_PROMISE:
        if (m->accepted.round == 0 || m->value == NULL) {
            wire_put(w, "none", 4);
        } else {
            wire_u64(w, m->accepted.round);
            wire_put(w, m->accepted.id, CSTATE_ID_LEN);
            wire_state(w, m->value);
        }
        break;
    case PAXOS_ACCEPT:
        if (m->fresh)
            wire_put(w, "fresh", 5);
        else
            wire_put(w, "recovered", 9);
        wire_state(w, m->value);
        break;
    case PAXOS_NACK:
        if (m->rejected)
            wire_put(w, "rejected", 8);
        else
            wire_put(w, "higher", 6);
        break;
    default:
        break;
    }
}

void paxos_wire_deinit(struct paxos_wire *w)
{
    int i;

    for (i = 0; i < w->argc; i++)
        rc_free(w->argv[i]);
    memset(w, 0, sizeof(*w));
}

static int arg_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

static int arg_round(const char *s, size_t n, uint64_t *out)
{
    unsigned long long v;

    if (!rc_str2ull(s, n, &v) || v == 0)
        return 0;
    *out = v;
    return 1;
}

/* Decode argv[i] as a state of this message's epoch and ring. */
static int arg_value(const char *s, size_t n, struct paxos_msg *m, char *err, size_t errlen)
{
    char sub[128];

    m->value = cstate_decode(s, n, sub, sizeof(sub));
    if (m->value == NULL) {
        snprintf(err, errlen, "bad state: %s", sub);
        return 0;
    }
    if (m->value->epoch != m->epoch || strcmp(m->value->ring, m->ring) != 0) {
        snprintf(err, errlen, "state of another epoch or ring");
        return 0;
    }
    return 1;
}

int paxos_msg_decode(int argc, const char *const *argv, const size_t *len,
                     struct paxos_msg *m, char *err, size_t errlen)
{
    static const struct { const char *name; enum paxos_msg_type type; int argc; } kinds[] = {
        {"prepare", PAXOS_PREPARE, 5}, {"promise", PAXOS_PROMISE, 6},
        {"accept", PAXOS_ACCEPT, 7},   {"accepted", PAXOS_ACCEPTED, 5},
        {"nack", PAXOS_NACK, 6},       {"learn", PAXOS_LEARN, 2},
    };
    size_t k;
    int want = 0;

    memset(m, 0, sizeof(*m));
    if (argc < 1) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (arg_is(argv[0], len[0], kinds[k].name)) {
            m->type = kinds[k].type;
            want = kinds[k].argc;
        }
    if (want == 0) {
        snprintf(err, errlen, "unknown message type");
        return -1;
    }
    if (argc != want && !(m->type == PAXOS_PROMISE && argc == 8)) {
        snprintf(err, errlen, "wrong number of arguments for '%s'", paxos_msg_type_name(m->type));
        goto fail;
    }
    if (m->type == PAXOS_LEARN) {
        char sub[128];
        m->value = cstate_decode(argv[1], len[1], sub, sizeof(sub));
        if (m->value == NULL) {
            snprintf(err, errlen, "bad state: %s", sub);
            goto fail;
        }
        m->epoch = m->value->epoch;
        memcpy(m->ring, m->value->ring, sizeof(m->ring));
        return 0;
    }
    if (!cstate_valid_id(argv[1], len[1])) {
        snprintf(err, errlen, "bad ring id");
        goto fail;
    }
    memcpy(m->ring, argv[1], CSTATE_ID_LEN);
    if (!arg_round(argv[2], len[2], &m->epoch)) {
        snprintf(err, errlen, "bad epoch");
        goto fail;
    }
    if (!arg_round(argv[3], len[3], &m->ballot.round) || !cstate_valid_id(argv[4], len[4])) {
        snprintf(err, errlen, "bad ballot");
        goto fail;
    }
    memcpy(m->ballot.id, argv[4], CSTATE_ID_LEN);
    switch (m->type) {
    case PAXOS_PROMISE:
        if (argc == 6) {
            if (!arg_is(argv[5], len[5], "none")) {
                snprintf(err, errlen, "bad accepted ballot");
                goto fail;
            }
            break;
        }
        if (!arg_round(argv[5], len[5], &m->accepted.round) ||
            !cstate_valid_id(argv[6], len[6])) {
            snprintf(err, errlen, "bad accepted ballot");
            goto fail;
        }
        memcpy(m->accepted.id, argv[6], CSTATE_ID_LEN);
        if (cstate_ballot_cmp(&m->accepted, &m->ballot) > 0) {
            snprintf(err, errlen, "accepted ballot above the promised one");
            goto fail;
        }
        if (!arg_value(argv[7], len[7], m, err, errlen))
            goto fail;
        break;
    case PAXOS_ACCEPT:
        if (arg_is(argv[5], len[5], "fresh"))
            m->fresh = 1;
        else if (!arg_is(argv[5], len[5], "recovered")) {
            snprintf(err, errlen, "bad value origin");
            goto fail;
        }
        if (!arg_value(argv[6], len[6], m, err, errlen))
            goto fail;
        break;
    case PAXOS_NACK:
        if (arg_is(argv[5], len[5], "rejected"))
            m->rejected = 1;
        else if (!arg_is(argv[5], len[5], "higher")) {
            snprintf(err, errlen, "bad nack reason");
            goto fail;
        }
        break;
    default:
        break;
    }
    return 0;
fail:
    paxos_msg_deinit(m);
    return -1;
}
