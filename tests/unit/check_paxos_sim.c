/*
 * check_paxos_sim.c — paxos.c stepped by hand, then run under a
 * deterministic simulator of a whole cluster.
 *
 * The simulator (DESIGN.md, "Testing the protocol") runs 3-7 nodes, all
 * in this process, over a simulated network driven by one seeded PRNG:
 *
 *   network   per-seed loss (0-20%), duplication (0-10%), delays of 1 ms to
 *             a per-seed maximum with occasional long ones (reordering),
 *             partitions into random groups that form and heal; every
 *             message goes through the wire encoding and back;
 *   nodes     crash at any time and restart after a while from what they
 *             persisted only; some crash after a step but before its
 *             persist (the step's output is lost); each node's clock runs
 *             at its own rate (0.7x-1.4x) from its own offset; its content
 *             hook refuses some ACCEPTs at random;
 *   load      random changes (add/remove members, mark failed/up/joining,
 *             set replicas) proposed from random nodes; pings that carry
 *             epochs, as the glue's pings will.
 *
 * After every step (a delivery, a tick, a proposal) it checks:
 *   (a) one value per epoch: every state any node adopts for epoch e is
 *       equal, and equal to any value a majority of S(e-1)'s acceptors
 *       accepted under one ballot (computed from persisted acceptor
 *       records, so a value chosen but never learned counts too); also no
 *       two values are ever accepted under one ballot;
 *   (b) no node's epoch ever goes down, restarts included;
 *   (c) nothing leaves before it is persisted: a PREPARE, PROMISE or
 *       ACCEPTED is sent only when the persisted record already holds the
 *       promise/acceptance it announces, and after every drained step the
 *       node's record equals what was persisted (the persist flag is never
 *       missing).
 * Then faults stop (partitions heal, every node restarts, no loss) and one
 * more change is proposed: it must be chosen, and every member must hold
 * the same epoch, within bounded simulated time.
 *
 * PAXOS_SEEDS=n sets how many seeds run (default 3000); PAXOS_SEED=s replays seed s alone
 * with a trace on stderr.  A failing seed is printed with the invariant.
 */
#include "cstate.h"
#include "paxos.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

#define MAXN 7
#define DT 2                    /* simulated ms per step of the clock */
#define FAULT_MS 3000           /* faults and random load */
#define LIVE_MS 12000           /* then: everything must settle by this much later */

/* ---- by hand ---- */

static void make_id(char *out, unsigned v)
{
    snprintf(out, CSTATE_ID_LEN + 1, "%040x", v);
}

static struct cstate_member member_for(unsigned v)
{
    struct cstate_member m;

    memset(&m, 0, sizeof(m));
    make_id(m.id, v);
    snprintf(m.host, sizeof(m.host), "10.0.0.%u", v);
    m.port = 7000 + v;
    m.vnodes = 16;
    m.status = CSTATE_UP;
    return m;
}

/* A state of epoch 1 with members 1..k; ring id 0...0abc. */
static struct cstate *initial_state(unsigned k)
{
    char ring[CSTATE_ID_LEN + 1];
    struct cstate_member m = member_for(1);
    struct cstate *s;
    unsigned i;

    make_id(ring, 0xabc);
    s = cstate_bootstrap(ring, &m, 1);
    for (i = 2; i <= k; i++) {
        m = member_for(i);
        cstate_add(s, &m, NULL);
    }
    return s;
}

static struct paxos_node *hand_node(unsigned v, unsigned k)
{
    struct cstate_record rec;
    struct paxos_config cfg;
    struct paxos_node *n;
    char id[CSTATE_ID_LEN + 1];

    memset(&cfg, 0, sizeof(cfg));
    cfg.seed = v;
    make_id(id, v);
    cstate_record_init(&rec, id);
    cstate_destroy(&rec.state);
    rec.state = initial_state(k);
    n = paxos_create(&cfg, &rec, 0);
    cstate_record_deinit(&rec);
    return n;
}

/* Take n's output; returns the number of messages and leaves it in *rd. */
static size_t take(struct paxos_node *n, struct paxos_ready *rd)
{
    paxos_ready_take(n, rd);
    return rd->nmsgs;
}

START_TEST(test_by_hand_basic)
{
    struct paxos_node *a = hand_node(1, 3), *b = hand_node(2, 3), *c = hand_node(3, 3);
    struct paxos_ready ra, rb;
    struct cstate_change ch;
    char err[128], ida[41], idb[41];
    size_t i;

    make_id(ida, 1);
    make_id(idb, 2);
    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_SET_REPLICAS;
    ch.replicas = 2;
    ck_assert_uint_eq(paxos_propose(a, &ch, 0, err, sizeof(err)), 1);
    /* PREPARE to 2 and 3, after persisting our own promise */
    ck_assert_uint_eq(take(a, &ra), 2);
    ck_assert(ra.persist);
    ck_assert_int_eq(ra.msgs[0].msg.type, PAXOS_PREPARE);
    ck_assert_uint_eq(ra.msgs[0].msg.epoch, 2);
    ck_assert_uint_eq(paxos_record(a)->acc.promised.round, 1);
    /* B promises (persisting) */
    paxos_step(b, ida, &ra.msgs[0].msg, 1);
    ck_assert_uint_eq(take(b, &rb), 1);
    ck_assert(rb.persist);
    ck_assert_int_eq(rb.msgs[0].msg.type, PAXOS_PROMISE);
    paxos_ready_deinit(&ra);
    /* A has its majority: ACCEPT to 2 and 3, and accepted itself */
    paxos_step(a, idb, &rb.msgs[0].msg, 2);
    paxos_ready_deinit(&rb);
    ck_assert_uint_eq(take(a, &ra), 2);
    ck_assert_int_eq(ra.msgs[0].msg.type, PAXOS_ACCEPT);
    ck_assert_int_eq(ra.msgs[0].msg.value->replicas, 2);
    ck_assert_uint_eq(paxos_record(a)->acc.accepted.round, 1);
    /* B accepts; its ACCEPTED makes a quorum of two */
    paxos_step(b, ida, &ra.msgs[0].msg, 3);
    paxos_ready_deinit(&ra);
    ck_assert_uint_eq(take(b, &rb), 1);
    ck_assert_int_eq(rb.msgs[0].msg.type, PAXOS_ACCEPTED);
    paxos_step(a, idb, &rb.msgs[0].msg, 4);
    paxos_ready_deinit(&rb);
    ck_assert_uint_eq(take(a, &ra), 2);
    ck_assert(ra.state_changed && ra.persist);
    ck_assert_uint_eq(paxos_state(a)->epoch, 2);
    ck_assert_uint_eq(ra.nevents, 1);
    ck_assert_int_eq(ra.events[0].outcome, PAXOS_DONE);
    for (i = 0; i < ra.nmsgs; i++)
        ck_assert_int_eq(ra.msgs[i].msg.type, PAXOS_LEARN);
    /* C, which saw nothing, learns */
    paxos_step(c, ida, &ra.msgs[1].msg, 5);
    paxos_ready_deinit(&ra);
    ck_assert_uint_eq(take(c, &rb), 0);
    ck_assert(rb.state_changed);
    ck_assert(cstate_equal(paxos_state(a), paxos_state(c)));
    paxos_ready_deinit(&rb);
    /* B is behind: any message from it is answered with the state */
    paxos_observe_epoch(a, idb, 1, 6);
    ck_assert_uint_eq(take(a, &ra), 1);
    paxos_step(b, ida, &ra.msgs[0].msg, 7);
    paxos_ready_deinit(&ra);
    ck_assert_uint_eq(paxos_state(b)->epoch, 2);
    paxos_ready_take(b, &rb);
    paxos_ready_deinit(&rb);
    paxos_destroy(&a);
    paxos_destroy(&b);
    paxos_destroy(&c);
    ck_assert_ptr_null(a);
}
END_TEST

/* A proposer that learns of an accepted value must propose it. */
START_TEST(test_by_hand_adopts_accepted_value)
{
    struct paxos_node *a = hand_node(1, 3), *b = hand_node(2, 3), *c = hand_node(3, 3);
    struct paxos_ready ra, rb, rc;
    struct cstate_change ch;
    char err[128], ida[41], idb[41], idc[41];

    make_id(ida, 1);
    make_id(idb, 2);
    make_id(idc, 3);
    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_SET_REPLICAS;
    ch.replicas = 2;
    /* A gets B's promise and sends ACCEPT(replicas 2); only B accepts. */
    paxos_propose(a, &ch, 0, err, sizeof(err));
    take(a, &ra);
    paxos_step(b, ida, &ra.msgs[0].msg, 1);
    paxos_ready_deinit(&ra);
    take(b, &rb);
    paxos_step(a, idb, &rb.msgs[0].msg, 2);
    paxos_ready_deinit(&rb);
    take(a, &ra);
    paxos_step(b, ida, &ra.msgs[0].msg, 3);
    paxos_ready_deinit(&ra);
    take(b, &rb);
    paxos_ready_deinit(&rb);
    /* C proposes replicas 3 with a higher round; B's promise reports
     * (1, A, replicas 2), so C must propose replicas 2. */
    ch.replicas = 3;
    paxos_propose(c, &ch, 4, err, sizeof(err));
    take(c, &rc);
    ck_assert_int_eq(rc.msgs[1].msg.type, PAXOS_PREPARE);
    ck_assert_str_eq(rc.msgs[1].to, idb);
    paxos_step(b, idc, &rc.msgs[1].msg, 5);
    paxos_ready_deinit(&rc);
    take(b, &rb);
    ck_assert_int_eq(rb.msgs[0].msg.type, PAXOS_PROMISE);
    ck_assert_uint_eq(rb.msgs[0].msg.accepted.round, 1);
    paxos_step(c, idb, &rb.msgs[0].msg, 6);
    paxos_ready_deinit(&rb);
    take(c, &rc);
    ck_assert_int_eq(rc.msgs[0].msg.type, PAXOS_ACCEPT);
    ck_assert_int_eq(rc.msgs[0].msg.value->replicas, 2);
    /* A's old ACCEPT would now be refused by B (promised C's round) */
    paxos_step(b, idc, &rc.msgs[1].msg, 7);
    paxos_ready_deinit(&rc);
    take(b, &rb);
    paxos_step(c, idb, &rb.msgs[0].msg, 8);
    paxos_ready_deinit(&rb);
    take(c, &rc);
    ck_assert_uint_eq(paxos_state(c)->epoch, 2);
    ck_assert_int_eq(paxos_state(c)->replicas, 2);
    /* C's own change is not reflected: it goes on at epoch 3 */
    ck_assert(paxos_busy(c));
    ck_assert_uint_eq(paxos_record(c)->acc.promised.round, 1);
    paxos_ready_deinit(&rc);
    paxos_destroy(&a);
    paxos_destroy(&b);
    paxos_destroy(&c);
}
END_TEST

/* ---- the simulator ---- */

struct sim_msg {
    uint64_t at, seq;
    int from, to;
    int ping;                   /* 1: a ping carrying `epoch`; 0: wire */
    uint64_t epoch;
    struct paxos_wire w;
};

struct snode {
    char id[CSTATE_ID_LEN + 1];
    struct paxos_node *pn;      /* NULL while down */
    struct cstate_record disk;  /* what nodes.conf holds */
    uint64_t rate_pm, offset;   /* local clock = offset + now * rate_pm / 1000 */
    uint64_t up_at;             /* restart at this sim time */
    uint64_t next_ping;
    uint64_t last_epoch;
    int group;
};

struct accept_entry {
    uint64_t epoch;
    struct cstate_ballot ballot;
    struct cstate *value;
    unsigned mask;
};

struct sim {
    uint64_t seed, rng, now, seq;
    int n, verbose;
    unsigned bugs;
    struct snode nodes[MAXN];
    struct sim_msg *msgs;
    size_t nmsgs, msgs_cap;
    /* fault model, per seed */
    unsigned loss_pm, dup_pm, reject_pm, max_delay, crash_pm, crash_persist_pm, prop_pm;
    int faults;
    uint64_t next_partition;
    /* what was chosen */
    struct cstate **adopted;    /* by epoch: the state nodes adopted */
    struct cstate **chosen;     /* by epoch: the value a majority accepted */
    size_t hist_cap;
    struct accept_entry *acc;
    size_t nacc, acc_cap;
    /* the final liveness proposal */
    int final_node;
    uint64_t final_token;
    int final_done;
    char fail[512];
    int failed;
    unsigned long steps, delivered;
};

#include "simcore.h"

static void hist_reserve(struct sim *s, uint64_t epoch)
{
    size_t old = s->hist_cap;

    if (epoch < s->hist_cap)
        return;
    while (s->hist_cap <= epoch)
        s->hist_cap = s->hist_cap ? s->hist_cap * 2 : 64;
    s->adopted = rc_realloc(s->adopted, s->hist_cap * sizeof(*s->adopted));
    s->chosen = rc_realloc(s->chosen, s->hist_cap * sizeof(*s->chosen));
    memset(s->adopted + old, 0, (s->hist_cap - old) * sizeof(*s->adopted));
    memset(s->chosen + old, 0, (s->hist_cap - old) * sizeof(*s->chosen));
}

/* (a): a value known chosen or adopted for its epoch must match the other. */
static void note_value(struct sim *s, struct cstate **slot, struct cstate **other,
                       const struct cstate *v, const char *what)
{
    if (*slot == NULL)
        *slot = cstate_clone(v);
    else if (!cstate_equal(*slot, v))
        sim_fail(s, "two different states %s for epoch %llu", what,
                  (unsigned long long)v->epoch);
    if (*other != NULL && !cstate_equal(*other, v))
        sim_fail(s, "epoch %llu: adopted state differs from the chosen value",
                  (unsigned long long)v->epoch);
}

/* Is a majority of S(epoch-1) in mask? */
static int majority_in(const struct sim *s, uint64_t epoch, unsigned mask)
{
    const struct cstate *prev = epoch >= 1 && epoch - 1 < s->hist_cap ? s->adopted[epoch - 1] : NULL;
    size_t i, count = 0;

    if (prev == NULL)
        return 0;
    for (i = 0; i < prev->nmembers; i++) {
        int k = index_of(s, prev->members[i].id);
        if (k >= 0 && (mask & (1u << k)))
            count++;
    }
    return count > prev->nmembers / 2;
}

/* Node i persisted an acceptance: add it to the per-ballot tallies. */
static void note_acceptance(struct sim *s, int i)
{
    const struct cstate_acceptor *a = &s->nodes[i].disk.acc;
    uint64_t epoch = s->nodes[i].disk.state->epoch + 1;
    struct accept_entry *e = NULL;
    size_t k;

    if (a->accepted.round == 0)
        return;
    for (k = 0; k < s->nacc; k++)
        if (s->acc[k].epoch == epoch && cstate_ballot_cmp(&s->acc[k].ballot, &a->accepted) == 0)
            e = &s->acc[k];
    if (e == NULL) {
        if (s->nacc == s->acc_cap) {
            s->acc_cap = s->acc_cap ? s->acc_cap * 2 : 32;
            s->acc = rc_realloc(s->acc, s->acc_cap * sizeof(*s->acc));
        }
        e = &s->acc[s->nacc++];
        e->epoch = epoch;
        e->ballot = a->accepted;
        e->value = cstate_clone(a->value);
        e->mask = 0;
    } else if (!cstate_equal(e->value, a->value)) {
        sim_fail(s, "two values accepted under one ballot in epoch %llu",
                  (unsigned long long)epoch);
        return;
    }
    e->mask |= 1u << i;
    if (majority_in(s, epoch, e->mask)) {
        hist_reserve(s, epoch);
        note_value(s, &s->chosen[epoch], &s->adopted[epoch], e->value, "chosen");
    }
}

/* Ballots of acceptances recorded before S(epoch-1) was known. */
static void recheck_chosen(struct sim *s, uint64_t epoch)
{
    size_t k;

    for (k = 0; k < s->nacc; k++)
        if (s->acc[k].epoch == epoch + 1 && majority_in(s, epoch + 1, s->acc[k].mask))
            note_value(s, &s->chosen[epoch + 1], &s->adopted[epoch + 1], s->acc[k].value,
                       "chosen");
}

static void crash(struct sim *s, int i, const char *why)
{
    struct snode *nd = &s->nodes[i];

    paxos_destroy(&nd->pn);
    nd->up_at = s->now + 20 + below(s, 800);
    say(s, "node %d crashes (%s), back at %llu", i, why, (unsigned long long)nd->up_at);
}

static void send_wire(struct sim *s, int from, int to, const struct paxos_msg *m);

/* (c) for one outgoing message of node i, against its persisted record. */
static void check_sent(struct sim *s, int i, const struct paxos_msg *m)
{
    const struct cstate_record *d = &s->nodes[i].disk;
    uint64_t e = d->state->epoch + 1;

    switch (m->type) {
    case PAXOS_PREPARE:
    case PAXOS_PROMISE:
        if (m->epoch != e || cstate_ballot_cmp(&d->acc.promised, &m->ballot) < 0)
            sim_fail(s, "node %d sent %s before persisting its promise", i,
                      paxos_msg_type_name(m->type));
        if (m->type == PAXOS_PROMISE &&
            cstate_ballot_cmp(&d->acc.accepted, &m->accepted) != 0)
            sim_fail(s, "node %d promised with an accepted ballot it has not persisted", i);
        break;
    case PAXOS_ACCEPTED:
        if (m->epoch != e || cstate_ballot_cmp(&d->acc.accepted, &m->ballot) != 0)
            sim_fail(s, "node %d sent accepted before persisting its acceptance", i);
        break;
    default:
        break;
    }
}

/* The glue's job after each call into node i: persist, then send. */
static void drain(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    struct paxos_ready rd;
    uint64_t epoch;
    size_t k;

    if (nd->pn == NULL)
        return;
    paxos_ready_take(nd->pn, &rd);
    s->steps++;
    if (rd.persist) {
        if (s->faults && one_in_pm(s, s->crash_persist_pm)) {
            paxos_ready_deinit(&rd);
            crash(s, i, "before persisting");
            return;
        }
        cstate_record_deinit(&nd->disk);
        cstate_record_copy(&nd->disk, paxos_record(nd->pn));
        note_acceptance(s, i);
    }
    if (!cstate_record_equal(&nd->disk, paxos_record(nd->pn)))
        sim_fail(s, "node %d changed its record without asking to persist it", i);
    epoch = nd->disk.state->epoch;
    if (epoch < nd->last_epoch)
        sim_fail(s, "node %d went back from epoch %llu to %llu", i,
                  (unsigned long long)nd->last_epoch, (unsigned long long)epoch);
    if (epoch > nd->last_epoch) {
        say(s, "node %d adopts epoch %llu", i, (unsigned long long)epoch);
        nd->last_epoch = epoch;
        hist_reserve(s, epoch);
        note_value(s, &s->adopted[epoch], &s->chosen[epoch], nd->disk.state, "adopted");
        recheck_chosen(s, epoch);
    }
    for (k = 0; k < rd.nmsgs; k++) {
        int to = index_of(s, rd.msgs[k].to);
        check_sent(s, i, &rd.msgs[k].msg);
        if (to >= 0)
            send_wire(s, i, to, &rd.msgs[k].msg);
    }
    for (k = 0; k < rd.nevents; k++) {
        say(s, "node %d: change %llu outcome %d", i, (unsigned long long)rd.events[k].token,
              rd.events[k].outcome);
        if (i == s->final_node && rd.events[k].token == s->final_token) {
            if (rd.events[k].outcome == PAXOS_DONE)
                s->final_done = 1;
            else
                s->final_token = 0;     /* propose it again */
        }
    }
    paxos_ready_deinit(&rd);
}

static void enqueue(struct sim *s, struct sim_msg *m)
{
    uint64_t delay = 1 + below(s, s->max_delay);

    if (s->faults && one_in_pm(s, 30))
        delay += below(s, 400);     /* a straggler: reordering */
    m->at = s->now + delay;
    m->seq = s->seq++;
    if (s->nmsgs == s->msgs_cap) {
        s->msgs_cap = s->msgs_cap ? s->msgs_cap * 2 : 64;
        s->msgs = rc_realloc(s->msgs, s->msgs_cap * sizeof(*s->msgs));
    }
    s->msgs[s->nmsgs++] = *m;
}

static void send_wire(struct sim *s, int from, int to, const struct paxos_msg *pm)
{
    struct sim_msg m;
    int copies = 1, c;

    if (s->faults && one_in_pm(s, s->loss_pm))
        return;
    if (s->faults && one_in_pm(s, s->dup_pm))
        copies = 2;
    for (c = 0; c < copies; c++) {
        memset(&m, 0, sizeof(m));
        m.from = from;
        m.to = to;
        paxos_msg_encode(pm, &m.w);
        if (c == 0 && s->verbose)
            say(s, "send %d->%d %s e=%llu b=%llu", from, to, m.w.argv[0],
                  (unsigned long long)pm->epoch, (unsigned long long)pm->ballot.round);
        enqueue(s, &m);
    }
}

static void deliver(struct sim *s, struct sim_msg *m)
{
    struct snode *to = &s->nodes[m->to];
    struct paxos_msg pm;
    char err[128];

    if (to->pn == NULL || (s->faults && s->nodes[m->from].group != to->group))
        return;
    s->delivered++;
    if (m->ping) {
        paxos_observe_epoch(to->pn, s->nodes[m->from].id, m->epoch, clock_of(s, m->to));
        drain(s, m->to);
        return;
    }
    if (paxos_msg_decode(m->w.argc, (const char *const *)m->w.argv, m->w.len, &pm, err,
                         sizeof(err)) != 0) {
        sim_fail(s, "a message failed to decode: %s", err);
        return;
    }
    paxos_step(to->pn, s->nodes[m->from].id, &pm, clock_of(s, m->to));
    paxos_msg_deinit(&pm);
    drain(s, m->to);
}

static int msg_order(const void *a, const void *b)
{
    const struct sim_msg *x = a, *y = b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void deliver_due(struct sim *s)
{
    struct sim_msg *due;
    size_t i, ndue = 0;

    for (i = 0; i < s->nmsgs; i++)
        if (s->msgs[i].at <= s->now)
            ndue++;
    if (ndue == 0)
        return;
    due = rc_malloc(ndue * sizeof(*due));
    ndue = 0;
    for (i = 0; i < s->nmsgs;) {
        if (s->msgs[i].at <= s->now) {
            due[ndue++] = s->msgs[i];
            s->msgs[i] = s->msgs[--s->nmsgs];
        } else {
            i++;
        }
    }
    qsort(due, ndue, sizeof(*due), msg_order);
    for (i = 0; i < ndue; i++) {
        if (!s->failed)
            deliver(s, &due[i]);
        paxos_wire_deinit(&due[i].w);
    }
    rc_free(due);
}

static int sim_validate(void *ctx, const struct cstate *cur, const struct cstate *next)
{
    struct sim *s = ctx;

    (void)cur;
    (void)next;
    return !(s->faults && one_in_pm(s, s->reject_pm));
}

static void start_node(struct sim *s, int i)
{
    struct paxos_config cfg;
    struct snode *nd = &s->nodes[i];

    memset(&cfg, 0, sizeof(cfg));
    cfg.seed = s->seed * 131 + (uint64_t)i;
    cfg.round_timeout_ms = 150;
    cfg.backoff_min_ms = 10;
    cfg.backoff_max_ms = 120;
    cfg.change_timeout_ms = 2500;
    cfg.validate = sim_validate;
    cfg.validate_ctx = s;
    cfg.debug_bugs = s->bugs;
    nd->pn = paxos_create(&cfg, &nd->disk, clock_of(s, i));
    if (nd->pn == NULL)
        sim_fail(s, "node %d could not start from its record", i);
    else if (nd->disk.state->epoch < nd->last_epoch)
        sim_fail(s, "node %d restarted at an older epoch", i);
}

static void random_change(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    const struct cstate *st = paxos_state(nd->pn);
    struct cstate_change ch;
    char err[128];
    unsigned r = below(s, 100);
    int k = (int)below(s, (unsigned)s->n);

    if (st->nmembers == 0)
        return;
    memset(&ch, 0, sizeof(ch));
    if (r < 35) {
        static const enum cstate_status sts[] = {CSTATE_UP, CSTATE_FAILED, CSTATE_JOINING};
        ch.kind = CSTATE_SET_STATUS;
        memcpy(ch.id, st->members[below(s, (unsigned)st->nmembers)].id, CSTATE_ID_LEN);
        ch.status = sts[below(s, 3)];
    } else if (r < 55) {
        ch.kind = CSTATE_SET_REPLICAS;
        ch.replicas = (int)below(s, 4);
    } else if (r < 80) {
        ch.kind = CSTATE_ADD_MEMBER;
        ch.member = member_for((unsigned)k + 1);
        memcpy(ch.member.id, s->nodes[k].id, sizeof(ch.member.id));
        ch.member.status = CSTATE_ADDING;
        snprintf(ch.member.zone, sizeof(ch.member.zone), "z%d", k % 3);
    } else {
        if (st->nmembers <= 2)
            return;
        /* A removal goes the way the ring's does: failed, removing,
         * removed (or removed while being added). */
        const struct cstate_member *m = &st->members[below(s, (unsigned)st->nmembers)];
        memcpy(ch.id, m->id, CSTATE_ID_LEN);
        if (m->status == CSTATE_ADDING || m->status == CSTATE_REMOVING) {
            ch.kind = CSTATE_REMOVE_MEMBER;
        } else {
            ch.kind = CSTATE_SET_STATUS;
            ch.status = m->status == CSTATE_FAILED ? CSTATE_REMOVING : CSTATE_FAILED;
        }
    }
    if (paxos_propose(nd->pn, &ch, clock_of(s, i), err, sizeof(err)) != 0)
        say(s, "node %d proposes change kind %d", i, ch.kind);
    drain(s, i);
}

static void sim_init(struct sim *s, uint64_t seed, unsigned bugs, int verbose)
{
    struct cstate *init;
    int i, members;

    memset(s, 0, sizeof(*s));
    s->seed = seed;
    s->rng = seed * 0x2545f4914f6cdd1dULL + 1;
    s->bugs = bugs;
    s->verbose = verbose;
    s->final_node = -1;
    s->n = 3 + (int)below(s, MAXN - 2);
    members = s->n - (int)below(s, s->n > 3 ? 3 : 1);
    if (members < 3)
        members = 3;
    s->loss_pm = below(s, 200);
    s->dup_pm = below(s, 100);
    s->reject_pm = below(s, 100);
    s->max_delay = 5 + below(s, 60);
    s->crash_pm = below(s, 3);
    s->crash_persist_pm = below(s, 30);
    s->prop_pm = 10 + below(s, 150);
    s->faults = 1;
    s->next_partition = below(s, 500);

    /* ids in random order, so sorted order differs from node order */
    for (i = 0; i < s->n; i++)
        snprintf(s->nodes[i].id, sizeof(s->nodes[i].id), "%08x%032x",
                 (unsigned)(rnd(s) & 0xffffffffu), (unsigned)i);
    {
        char ring[CSTATE_ID_LEN + 1];
        struct cstate_member m = member_for(1);
        snprintf(ring, sizeof(ring), "%040llx", (unsigned long long)seed);
        memcpy(m.id, s->nodes[0].id, sizeof(m.id));
        init = cstate_bootstrap(ring, &m, 1);
        for (i = 1; i < members; i++) {
            m = member_for((unsigned)i + 1);
            memcpy(m.id, s->nodes[i].id, sizeof(m.id));
            cstate_add(init, &m, NULL);
        }
    }
    hist_reserve(s, 1);
    s->adopted[1] = cstate_clone(init);
    for (i = 0; i < s->n; i++) {
        struct snode *nd = &s->nodes[i];
        cstate_record_init(&nd->disk, nd->id);
        if (i < members) {
            cstate_destroy(&nd->disk.state);
            nd->disk.state = cstate_clone(init);
            nd->last_epoch = 1;
        }
        nd->rate_pm = 700 + below(s, 701);
        nd->offset = below(s, 1000000);
        start_node(s, i);
    }
    cstate_destroy(&init);
}

static void sim_deinit(struct sim *s)
{
    size_t k;
    int i;

    for (i = 0; i < s->n; i++) {
        paxos_destroy(&s->nodes[i].pn);
        cstate_record_deinit(&s->nodes[i].disk);
    }
    for (k = 0; k < s->nmsgs; k++)
        paxos_wire_deinit(&s->msgs[k].w);
    rc_free(s->msgs);
    for (k = 0; k < s->hist_cap; k++) {
        cstate_destroy(&s->adopted[k]);
        cstate_destroy(&s->chosen[k]);
    }
    rc_free(s->adopted);
    rc_free(s->chosen);
    for (k = 0; k < s->nacc; k++)
        cstate_destroy(&s->acc[k].value);
    rc_free(s->acc);
}

/* One DT of simulated time. */
static void sim_step(struct sim *s)
{
    int i;

    deliver_due(s);
    if (s->faults && s->now >= s->next_partition) {
        int split = one_in_pm(s, 500);
        int groups = 2 + (int)below(s, 2);
        for (i = 0; i < s->n; i++)
            s->nodes[i].group = split ? (int)below(s, (unsigned)groups) : 0;
        s->next_partition = s->now + 50 + below(s, 600);
        say(s, split ? "partition" : "heal");
    }
    for (i = 0; i < s->n && !s->failed; i++) {
        struct snode *nd = &s->nodes[i];
        if (nd->pn == NULL) {
            if (s->now >= nd->up_at) {
                say(s, "node %d restarts at epoch %llu", i,
                      (unsigned long long)nd->disk.state->epoch);
                start_node(s, i);
            }
            continue;
        }
        if (s->faults && one_in_pm(s, s->crash_pm)) {
            crash(s, i, "any time");
            continue;
        }
        paxos_tick(nd->pn, clock_of(s, i));
        drain(s, i);
        if (nd->pn != NULL && s->now >= nd->next_ping) {
            /* the glue pings a member of its state, carrying its epoch */
            const struct cstate *st = paxos_state(nd->pn);
            if (st->nmembers > 0) {
                int to = index_of(s, st->members[below(s, (unsigned)st->nmembers)].id);
                if (to >= 0 && to != i) {
                    struct sim_msg m;
                    memset(&m, 0, sizeof(m));
                    m.from = i;
                    m.to = to;
                    m.ping = 1;
                    m.epoch = st->epoch;
                    if (!(s->faults && one_in_pm(s, s->loss_pm)))
                        enqueue(s, &m);
                }
            }
            nd->next_ping = s->now + (20 + below(s, 60)) * 1000 / nd->rate_pm;
        }
    }
    if (s->faults && one_in_pm(s, s->prop_pm)) {
        i = (int)below(s, (unsigned)s->n);
        if (s->nodes[i].pn != NULL)
            random_change(s, i);
    }
    s->now += DT;
}

static uint64_t highest_epoch(const struct sim *s)
{
    uint64_t e = 0;
    size_t k;

    for (k = 0; k < s->hist_cap; k++)
        if (s->adopted[k])
            e = k;
    return e;
}

/* Every node that is a member of the newest state holds it. */
static int converged(const struct sim *s)
{
    uint64_t e = highest_epoch(s);
    const struct cstate *top = s->adopted[e];
    int i;

    for (i = 0; i < s->n; i++) {
        const struct snode *nd = &s->nodes[i];
        if (cstate_find(top, nd->id) == NULL)
            continue;
        if (nd->pn == NULL || paxos_state(nd->pn)->epoch != e || paxos_busy(nd->pn))
            return 0;
    }
    return 1;
}

/* Run one seed; returns 0, or -1 with s->fail set. */
static int run_seed(uint64_t seed, unsigned bugs, int verbose, int liveness,
                    unsigned long *steps, unsigned long *epochs)
{
    struct sim s;
    int i, rc;

    sim_init(&s, seed, bugs, verbose);
    while (!s.failed && s.now < FAULT_MS)
        sim_step(&s);
    if (!s.failed && liveness) {
        uint64_t end = s.now + LIVE_MS, top;
        s.faults = 0;
        say(&s, "faults stop");
        for (i = 0; i < s.n; i++) {
            s.nodes[i].group = 0;
            if (s.nodes[i].pn == NULL)
                start_node(&s, i);
        }
        /* A member of the newest state proposes replicas 7; if it turns
         * out not to be a member any more (a newer state was chosen but not
         * yet learned), another member of the newest state tries again. */
        while (!s.failed && s.now < end && !s.final_done) {
            if (s.final_token == 0) {
                struct cstate_change ch;
                top = highest_epoch(&s);
                for (i = 0; i < s.n; i++)
                    if (cstate_find(s.adopted[top], s.nodes[i].id) != NULL &&
                        below(&s, 2) == 0)
                        break;
                if (i < s.n) {
                    memset(&ch, 0, sizeof(ch));
                    ch.kind = CSTATE_SET_REPLICAS;
                    ch.replicas = 7;
                    s.final_node = i;
                    s.final_token = paxos_propose(s.nodes[i].pn, &ch, clock_of(&s, i), NULL, 0);
                    say(&s, "node %d proposes the final change: token %llu", i,
                          (unsigned long long)s.final_token);
                    drain(&s, i);
                }
            }
            sim_step(&s);
        }
        while (!s.failed && s.now < end && !(s.final_done && converged(&s)))
            sim_step(&s);
        if (!s.failed && !s.final_done)
            sim_fail(&s, "liveness: the final change was not chosen within %d ms", LIVE_MS);
        else if (!s.failed && !converged(&s))
            sim_fail(&s, "liveness: members did not converge on epoch %llu",
                      (unsigned long long)highest_epoch(&s));
    }
    rc = s.failed ? -1 : 0;
    if (s.failed)
        fprintf(stderr, "paxos sim: seed %llu (bugs %u) FAILED at %llu ms: %s\n"
                        "  replay: PAXOS_SEED=%llu PAXOS_BUGS=%u tests/unit/check_paxos_sim\n",
                (unsigned long long)seed, bugs, (unsigned long long)s.now, s.fail,
                (unsigned long long)seed, bugs);
    else if (verbose)
        fprintf(stderr, "paxos sim: seed %llu ok: %d nodes, epoch %llu, %lu steps, %lu delivered\n",
                (unsigned long long)seed, s.n, (unsigned long long)highest_epoch(&s), s.steps,
                s.delivered);
    if (steps)
        *steps += s.steps;
    if (epochs)
        *epochs += highest_epoch(&s) - 1;
    sim_deinit(&s);
    return rc;
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);

    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

START_TEST(test_sim_seeds)
{
    unsigned long nseeds = env_ul("PAXOS_SEEDS", 3000), i, steps = 0, bad = 0, epochs = 0;
    const char *one = getenv("PAXOS_SEED");
    unsigned bugs = (unsigned)env_ul("PAXOS_BUGS", 0);
    clock_t t0 = clock();

    if (one && *one) {
        ck_assert_int_eq(run_seed(strtoull(one, NULL, 10), bugs, 1, 1, &steps, NULL), 0);
        return;
    }
    for (i = 1; i <= nseeds; i++)
        if (run_seed(i, 0, 0, 1, &steps, &epochs) != 0)
            bad++;
    fprintf(stderr, "paxos sim: %lu seeds, %lu node steps, %lu states chosen, %.1f s cpu, "
                    "%lu failed\n", nseeds, steps, epochs,
            (double)(clock() - t0) / CLOCKS_PER_SEC, bad);
    ck_assert_uint_eq(bad, 0);
}
END_TEST

/* With a planted bug the simulator must find a sim_fail within budget. */
static void expect_caught(unsigned bugs)
{
    unsigned long budget = env_ul("PAXOS_BUG_SEEDS", 2000), i;

    if (getenv("PAXOS_SEED"))
        return;
    for (i = 1; i <= budget; i++)
        if (run_seed(10000 + i, bugs, 0, 0, NULL, NULL) != 0) {
            fprintf(stderr, "paxos sim: planted bug %u caught after %lu seeds\n", bugs, i);
            return;
        }
    ck_abort_msg("planted bug %u not caught in %lu seeds", bugs, budget);
}

START_TEST(test_sim_catches_skipped_promise_check)
{
    expect_caught(PAXOS_BUG_SKIP_PROMISE_CHECK);
}
END_TEST

START_TEST(test_sim_catches_ignored_accepted_value)
{
    expect_caught(PAXOS_BUG_IGNORE_ACCEPTED);
}
END_TEST

static Suite *paxos_suite(void)
{
    Suite *s = suite_create("paxos");
    TCase *hand = tcase_create("by_hand");
    TCase *sim = tcase_create("sim");

    tcase_add_test(hand, test_by_hand_basic);
    tcase_add_test(hand, test_by_hand_adopts_accepted_value);
    suite_add_tcase(s, hand);
    tcase_add_test(sim, test_sim_seeds);
    tcase_add_test(sim, test_sim_catches_skipped_promise_check);
    tcase_add_test(sim, test_sim_catches_ignored_accepted_value);
    tcase_set_timeout(sim, 600);
    suite_add_tcase(s, sim);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(paxos_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
