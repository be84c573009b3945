/*
 * check_liveness_sim.c — liveness.c (pings, suspicion, the acceptor rule,
 * primary leases) by hand, then 3-5 nodes running paxos.c + liveness.c
 * under a deterministic simulator driven by one seeded PRNG.
 *
 *   network   per-seed loss (0-15%), duplication (0-8%), delays of 1 ms to
 *             a per-seed maximum, stragglers (reordering); partitions that
 *             form and heal: random groups, one node isolated, or random
 *             one-way cuts (asymmetric); in half the seeds one node
 *             gets LEARNs up to 10-90 ms late (it keeps the old epoch
 *             while its pings and pongs flow), and in every fourth seed
 *             of those all its Paxos messages 10-90 ms late, with the
 *             adversary of heal_on_accept(); every message goes through
 *             its wire encoding and back;
 *   nodes     crash and restart from their persisted nodes.conf record;
 *             leave gracefully (liveness_release(), propose their own
 *             failure, crash T/2 .. 5T/2 later and come back);
 *             pause (SIGSTOP: no steps, nothing received, for T/2 .. 3T)
 *             and resume with a stale view; each clock runs at its own
 *             rate within +/-10% (the bound liveness.h assumes) from its
 *             own offset;
 *   load      suspicion-driven "X failed" proposals from liveness.c; the
 *             glue's "X up" once X is alive and caught up (X runs, is not
 *             paused and holds the newest epoch); spurious "X failed" / "X
 *             up" proposals from random nodes that acceptors must judge;
 *   members   in half the seeds of 4-5 nodes the ring starts one short and
 *             an operator adds the last node (`adding`: no tokens yet, the
 *             glue sends it the state and proposes it up once caught up;
 *             kept down at the end, its addition is rolled back); once per
 *             seed at most, a failed member of 4 or more is forgotten
 *             (crashed for good, `removing`, then removed by the glue);
 *             in a third of the seeds the spare is instead added only by
 *             replacing a failed member (RING REPLACE: one state makes it
 *             `adding` and the failed one `removing`; the glue removes the
 *             old one only once the new one came up, as cluster.c does).
 *
 * Checked after every 2 ms step of simulated time:
 *   (a) one state per epoch: every node adopting epoch e holds the same one;
 *   (b) no node's epoch goes down, restarts included;
 *   (c) at that instant at most one node (running or paused, evaluated on
 *       its own clock and its possibly stale view) can serve each slot:
 *       liveness_can_serve() == LIVENESS_SERVE.  Slots are checked one per
 *       distinct preference list of the first table and of the table with
 *       every node, and every 1024th slot (the tables after a removal).
 *   (d) a member that becomes a slot's primary held a copy of it in the
 *       state before (in its table or, during a change, the next one);
 *   (e) a node never serves a slot it has not caught up: once a state
 *       marks it failed it may serve under that state or a newer one
 *       only after its catch-up (modelled:
 *       it runs, holds the newest epoch, and 0-3 T, a hash of the seed,
 *       passed since it was marked or restarted) was reported.
 * Then faults stop (heal, resume, restart all but a minority kept down,
 * no loss) and within LIVE_MS: every running member holds the newest
 * epoch, the members kept down are failed in it, the running ones are up,
 * a forgotten node is no member, and every slot has exactly one node that
 * serves it.
 *
 * Then a serving primary is crashed on the clean network and the failover
 * (crash -> its slots served by another node) is timed; a separate test
 * times it with T = 1000 ms and paxos's default timeouts.
 *
 * LIVE_SEEDS=n seeds (default 2000) from seed LIVE_FIRST (default 1: a long
 * run splits into ranges run side by side), LIVE_SEED=s replays seed s alone with
 * a trace on stderr (LIVE_VERBOSE=2: every Paxos message too), LIVE_BUGS=
 * mask plants bugs (LIVENESS_BUG_*, 0x100: paxos accepts below its
 * promise) in that replay; LIVE_BUG_SEEDS bounds the planted-bug hunts
 * (default 2000); LIVE_FAILOVER_SEEDS the T = 1000 test (default 100).
 * Safety and liveness failures both fail the test (LIVE_STRICT=0 only
 * counts liveness failures).
 */
#include "cstate.h"
#include "holders.h"
#include "liveness.h"
#include "paxos.h"
#include "ring.h"
#include "ringstate.h"
#include "slot.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

#define MAXN 5
#define T_MS 200                /* node timeout of every node (local ms) */
#define SIM_LIVENESS_BUGS 0xffu /* LIVENESS_BUG_* */
#define SIM_BUG_PAXOS_PROMISE 0x100u    /* paxos accepts below its promise */
#define SIM_BUG_HALVES 0x200u   /* a replacement ends in halves: the new member up, then
                                 * the old one removed (cstate.h CSTATE_BUG_HALVES) */
#define DT 2                    /* simulated ms per step */
#define FAULT_MS 3000
#define LIVE_MS 6000
#define NEVER UINT64_MAX

/* ---- by hand ---- */

static void id_of(char *out, unsigned v)
{
    snprintf(out, CSTATE_ID_LEN + 1, "%040x", v);
}

START_TEST(test_wire_round_trip)
{
    struct liveness_msg m, d;
    struct paxos_wire w;
    char err[128];

    memset(&m, 0, sizeof(m));
    m.type = LIVENESS_PONG;
    id_of(m.ring, 0xabc);
    m.epoch = 42;
    m.nonce = UINT64_MAX;
    m.grant = 1;
    liveness_msg_encode(&m, &w);
    ck_assert_int_eq(w.argc, 5);
    ck_assert_str_eq(w.argv[0], "pong");
    ck_assert_str_eq(w.argv[3], "18446744073709551615");
    ck_assert_int_eq(liveness_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), 0);
    ck_assert(memcmp(&m, &d, sizeof(m)) == 0);
    /* strict: leading zero, wrong flag, wrong count, bad ring */
    w.argv[2][0] = '0';
    ck_assert_int_eq(liveness_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), -1);
    w.argv[2][0] = '4';
    w.argv[4][0] = '2';
    ck_assert_int_eq(liveness_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), -1);
    ck_assert_str_eq(err, "bad grant flag");
    ck_assert_int_eq(liveness_msg_decode(4, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), -1);
    w.argv[1][0] = 'A';
    w.argv[4][0] = '0';
    ck_assert_int_eq(liveness_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), -1);
    paxos_wire_deinit(&w);
    /* release: type, ring, epoch */
    memset(&m, 0, sizeof(m));
    m.type = LIVENESS_RELEASE;
    id_of(m.ring, 0xdef);
    m.epoch = 7;
    liveness_msg_encode(&m, &w);
    ck_assert_int_eq(w.argc, 3);
    ck_assert_str_eq(w.argv[0], "release");
    ck_assert_int_eq(liveness_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), 0);
    ck_assert(memcmp(&m, &d, sizeof(m)) == 0);
    ck_assert_int_eq(liveness_msg_decode(2, (const char *const *)w.argv, w.len, &d, err,
                                         sizeof(err)), -1);
    paxos_wire_deinit(&w);
}
END_TEST

/* Three nodes by hand: A's lease needs one pong with a grant; B accepts a
 * fresh "A failed" only after T of silence from A, does not ask for it
 * without having held its own lease for T, takes a recovered one at once, and refuses to
 * grant A once it accepted it. */
START_TEST(test_by_hand_lease)
{
    struct liveness_config cfg = {.node_timeout_ms = 1000, .seed = 7};
    struct paxos_config pc;
    struct cstate_record rec;
    struct cstate_member mm;
    struct liveness *la, *lb;
    struct paxos_node *pa, *pb;
    struct liveness_ready rd, rb;
    struct cstate *next;
    char ida[41], idb[41], ring[41];
    unsigned i, slot;

    id_of(ida, 1);
    id_of(idb, 2);
    id_of(ring, 0xabc);
    memset(&mm, 0, sizeof(mm));
    strcpy(mm.host, "h");
    mm.port = 1;
    mm.vnodes = 8;
    cstate_record_init(&rec, ida);
    cstate_destroy(&rec.state);
    for (i = 1; i <= 3; i++) {
        id_of(mm.id, i);
        if (i == 1)
            rec.state = cstate_bootstrap(ring, &mm, 2);
        else
            cstate_add(rec.state, &mm, NULL);
    }
    la = liveness_create(&cfg, ida, 0);
    lb = liveness_create(&cfg, idb, 0);
    memset(&pc, 0, sizeof(pc));
    pc.validate = liveness_validate;
    pc.validate_ctx = la;
    pa = paxos_create(&pc, &rec, 0);
    memcpy(rec.myid, idb, sizeof(rec.myid));
    pc.validate_ctx = lb;
    pb = paxos_create(&pc, &rec, 0);
    liveness_bind(la, pa, 0);
    liveness_bind(lb, pb, 0);
    ck_assert(!liveness_holds_lease(la, 0));
    /* A pings B and C at once */
    liveness_tick(la, 0);
    liveness_ready_take(la, &rd);
    ck_assert_uint_eq(rd.nmsgs, 2);
    ck_assert_str_eq(rd.msgs[0].to, idb);
    ck_assert_int_eq(rd.msgs[0].msg.type, LIVENESS_PING);
    liveness_step(lb, ida, &rd.msgs[0].msg, 5);
    liveness_ready_take(lb, &rb);
    ck_assert_uint_eq(rb.nmsgs, 1);
    ck_assert(rb.msgs[0].msg.grant);
    liveness_step(la, idb, &rb.msgs[0].msg, 10);
    liveness_ready_deinit(&rb);
    liveness_ready_deinit(&rd);
    ck_assert(liveness_holds_lease(la, 10));
    ck_assert(liveness_holds_lease(la, 500));      /* L = T/2 from the ping's send */
    ck_assert(!liveness_holds_lease(la, 501));
    /* A serves its primary slots only after the hand-over wait (restart) */
    for (slot = 0; slot < RC_SLOTS && liveness_acting_primary(la, slot) != 0; slot++)
        ;
    ck_assert_uint_lt(slot, RC_SLOTS);
    ck_assert_int_eq(liveness_can_serve(la, slot, 10), LIVENESS_HANDOVER);
    ck_assert_int_eq(liveness_can_serve(la, slot, 501), LIVENESS_NO_LEASE);
    /* B refuses "A failed" while it hears A, and accepts after T */
    next = cstate_clone(paxos_state(pb));
    next->epoch++;
    cstate_set_status(next, ida, CSTATE_FAILED);
    liveness_tick(lb, 1004);
    ck_assert(!liveness_validate(lb, paxos_state(pb), next));
    liveness_tick(lb, 1005);
    ck_assert(liveness_validate(lb, paxos_state(pb), next));
    ck_assert(!liveness_alive(lb, ida, 1005));
    /* ... but B asks for "A failed" only once it has held its lease for
     * T: alone it may be the one cut off.  C grants B's ping: it holds
     * the lease, and asks nothing yet. */
    liveness_ready_take(lb, &rb);
    ck_assert_uint_eq(rb.nchanges, 0);
    {
        struct liveness_msg pong;
        char idc[41];
        int found = 0;
        id_of(idc, 3);
        memset(&pong, 0, sizeof(pong));
        for (i = 0; i < rb.nmsgs; i++) {
            if (strcmp(rb.msgs[i].to, idc) == 0 && rb.msgs[i].msg.type == LIVENESS_PING) {
                pong = rb.msgs[i].msg;      /* its ring, epoch and nonce */
                pong.type = LIVENESS_PONG;
                pong.grant = 1;
                found = 1;
            }
        }
        ck_assert(found);
        liveness_ready_deinit(&rb);
        liveness_step(lb, idc, &pong, 1006);
    }
    ck_assert(liveness_holds_lease(lb, 1006));
    liveness_tick(lb, 1007);
    liveness_ready_take(lb, &rb);
    ck_assert_uint_eq(rb.nchanges, 0);
    liveness_ready_deinit(&rb);
    /* B never accepts its own failure as a fresh value */
    cstate_set_status(next, ida, CSTATE_UP);
    cstate_set_status(next, idb, CSTATE_FAILED);
    ck_assert(!liveness_validate(lb, paxos_state(pb), next));
    cstate_set_status(next, idb, CSTATE_UP);
    cstate_set_status(next, ida, CSTATE_FAILED);
    /* B hears A again: a FRESH "A failed" from C is refused, the same value
     * RECOVERED from promises is taken on the ballot rules alone, and from
     * then on B grants A nothing */
    {
        struct paxos_msg m;
        struct paxos_ready pr;
        struct liveness_msg ping;
        char idc[41];
        id_of(idc, 3);
        memset(&ping, 0, sizeof(ping));
        ping.type = LIVENESS_PING;
        memcpy(ping.ring, paxos_state(pb)->ring, sizeof(ping.ring));
        ping.epoch = paxos_state(pb)->epoch;
        ping.nonce = 77;
        liveness_step(lb, ida, &ping, 1010);
        liveness_ready_take(lb, &rb);
        ck_assert_uint_eq(rb.nmsgs, 1);
        ck_assert(rb.msgs[0].msg.grant);
        liveness_ready_deinit(&rb);
        memset(&m, 0, sizeof(m));
        m.type = PAXOS_ACCEPT;
        memcpy(m.ring, next->ring, sizeof(m.ring));
        m.epoch = next->epoch;
        m.ballot.round = 1;
        memcpy(m.ballot.id, idc, sizeof(m.ballot.id));
        m.value = next;
        m.fresh = 1;
        paxos_step(pb, idc, &m, 1011);
        paxos_ready_take(pb, &pr);
        ck_assert_uint_eq(pr.nmsgs, 1);
        ck_assert_int_eq(pr.msgs[0].msg.type, PAXOS_NACK);
        ck_assert(pr.msgs[0].msg.rejected);
        paxos_ready_deinit(&pr);
        m.ballot.round = 2;
        m.fresh = 0;
        paxos_step(pb, idc, &m, 1012);
        paxos_ready_take(pb, &pr);
        ck_assert_uint_eq(pr.nmsgs, 1);
        ck_assert_int_eq(pr.msgs[0].msg.type, PAXOS_ACCEPTED);
        paxos_ready_deinit(&pr);
        ping.nonce = 78;
        liveness_step(lb, ida, &ping, 1013);
        liveness_ready_take(lb, &rb);
        ck_assert_uint_eq(rb.nmsgs, 1);
        ck_assert(!rb.msgs[0].msg.grant);
        liveness_ready_deinit(&rb);
    }
    ck_assert_uint_eq(liveness_handover_ms(1000), 612);
    cstate_destroy(&next);
    liveness_destroy(&la);
    liveness_destroy(&lb);
    paxos_destroy(&pa);
    paxos_destroy(&pb);
    cstate_record_deinit(&rec);
    ck_assert_ptr_null(la);
}
END_TEST

/* ---- the simulator ---- */

enum { K_PAXOS, K_LIVE };

struct smsg {
    uint64_t at, seq;
    int from, to, kind;
    struct paxos_wire w;
};

struct snode {
    char id[CSTATE_ID_LEN + 1];
    struct paxos_node *pn;          /* NULL while crashed */
    struct liveness *lv;
    struct cstate_record disk;
    uint64_t rate_pm, offset;
    uint64_t up_at;                 /* crashed: restart then (NEVER: stays down) */
    uint64_t paused_until;          /* 0: running */
    uint64_t leave_at;              /* leaving: crashes then (0: not leaving) */
    uint64_t last_epoch;
    int caught_up;
    /* The catch-up model (e): a node marked failed in an adopted state is
     * stale until its catch-up, which takes sync_need ms from sync_from
     * (when it was marked or restarted, the later), while it runs and
     * holds the newest epoch, is done. */
    int stale;
    uint64_t stale_epoch;           /* the first state that marked it failed */
    uint64_t sync_from, sync_need;
    int removed;                    /* forgotten by the operator: down for good */
};

struct sim {
    uint64_t seed, rng, now, seq;
    uint64_t t_ms;                  /* node timeout T */
    int prod_timing;                /* paxos's default timeouts, not the sim's short ones */
    int n, verbose, faults;
    unsigned bugs;
    struct snode nodes[MAXN];
    unsigned char cut[MAXN][MAXN];  /* cut[a][b]: a's messages to b are lost */
    struct smsg *msgs;
    size_t nmsgs, cap;
    unsigned loss_pm, dup_pm, max_delay, crash_pm, pause_pm, spurious_pm, leave_pm;
    int slow;                       /* this node's inbound messages lag (-1: none) */
    unsigned slow_ms;
    int heal_on_accept;             /* heal the network when the slow node accepts a loss */
    struct cstate_ballot healed;    /* the accepted ballot it last healed for */
    int healed_loser;               /* that loser, cut off again once the slow node */
    uint64_t healed_epoch;          /* holds this epoch (0: nothing pending) */
    uint64_t next_partition;
    struct cstate **adopted;        /* by epoch */
    size_t hist_cap;
    unsigned reps[RC_SLOTS];        /* one slot per distinct preference list */
    unsigned nreps;
    uint64_t serv_epoch;            /* servable() of this epoch (0: none yet) */
    int serv_n;
    char fail[512];
    int failed;
    int spare;                      /* a node the ring adds during the run (-1: none) */
    unsigned long steps, delivered, crashes, pauses, partitions, leaves, removals;
};

#include "simcore.h"

static int running(const struct sim *s, int i)
{
    return s->nodes[i].pn != NULL && s->nodes[i].paused_until == 0;
}

static void post(struct sim *s, int from, int to, int kind, struct paxos_wire *w)
{
    struct smsg *m;
    uint64_t delay = 1 + below(s, s->max_delay);

    if (s->faults && (s->cut[from][to] || one_in_pm(s, s->loss_pm))) {
        paxos_wire_deinit(w);
        return;
    }
    if (s->faults && one_in_pm(s, 20))
        delay += below(s, 150);     /* a straggler */
    if (s->faults && to == s->slow && kind == K_PAXOS && w->argc > 0) {
        /* A node that learns new states late (LEARNs up to slow_ms late).
         * With the heal-on-accept adversary every Paxos message to it is
         * slow_ms late: it asks again on each newer ping it hears, and its
         * own proposals would learn the state through their acceptances,
         * so a lag on LEARNs alone would rarely keep it behind. */
        uint64_t lag = strcmp(w->argv[0], "learn") == 0 ? below(s, s->slow_ms) : 0;
        delay += s->heal_on_accept ? s->slow_ms : lag;
    }
    if (s->nmsgs == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->msgs = rc_realloc(s->msgs, s->cap * sizeof(*s->msgs));
    }
    m = &s->msgs[s->nmsgs++];
    m->at = s->now + delay;
    m->seq = s->seq++;
    m->from = from;
    m->to = to;
    m->kind = kind;
    m->w = *w;
    memset(w, 0, sizeof(*w));
}

/* Send with the per-seed chance of a duplicate. */
static void post_copies(struct sim *s, int from, int to, int kind, struct paxos_wire *w)
{
    if (s->faults && one_in_pm(s, s->dup_pm)) {
        struct paxos_wire copy;
        int k;
        memset(&copy, 0, sizeof(copy));
        for (k = 0; k < w->argc; k++) {
            copy.argv[k] = rc_strndup(w->argv[k], w->len[k]);
            copy.len[k] = w->len[k];
        }
        copy.argc = w->argc;
        post(s, from, to, kind, &copy);
    }
    post(s, from, to, kind, w);
}


/* (d) A member that becomes a slot's primary in state st held a copy of
 * it in the state before: it was in the slot's list of that state's table
 * or, while members were being added or removed, of the table the ring
 * moved to (the slots the glue's members are sent before the change
 * ends).  Else it would serve a slot it never got: a replacement ended in
 * two halves did that (the table of its intermediate state is neither). */
static void check_primaries_had_copies(struct sim *s, const struct cstate *prev,
                                       const struct cstate *st)
{
    struct ring *rp = ringstate_build(prev, 0), *rn = ringstate_build(prev, RINGSTATE_NEXT);
    struct ring *r = ringstate_build(st, 0);
    unsigned slot;

    int16_t *pp = rc_malloc(RC_SLOTS * sizeof(*pp)), *np = rc_malloc(RC_SLOTS * sizeof(*np));
    holders_primaries(prev, rp, pp);
    holders_primaries(st, r, np);
    for (slot = 0; r && rp && slot < RC_SLOTS; slot++) {
        long was, old_primary = pp[slot];
        int p = np[slot];
        if (p < 0)
            continue;
        was = cstate_index(prev, st->members[p].id);
        if (was < 0 || prev->members[was].status == CSTATE_FAILED)
            continue;       /* a new member without data to get, or a failed one back */
        if (old_primary == was || ring_in_pref(rp, slot, (int)was) ||
            (ringstate_changing(prev) > 0 && rn && ring_in_pref(rn, slot, (int)was)))
            continue;
        sim_fail(s, "epoch %llu: node %d serves slot %u without having held it in epoch %llu",
                 (unsigned long long)st->epoch, index_of(s, st->members[p].id), slot,
                 (unsigned long long)prev->epoch);
        break;
    }
    rc_free(pp);
    rc_free(np);
    ring_destroy(&rp);
    ring_destroy(&rn);
    ring_destroy(&r);
}

static void note_epoch(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    const struct cstate *st = nd->disk.state;
    size_t old = s->hist_cap;

    if (st->epoch < nd->last_epoch)
        sim_fail(s, "node %d went back from epoch %llu to %llu", i,
             (unsigned long long)nd->last_epoch, (unsigned long long)st->epoch);
    if (st->epoch <= nd->last_epoch)
        return;
    nd->last_epoch = st->epoch;
    /* As cluster.c does on adopting a state: a member failed in it is not
     * caught up until it says so again. */
    for (size_t k = 0; k < st->nmembers && nd->lv; k++)
        if (st->members[k].status == CSTATE_FAILED ||
            st->members[k].status == CSTATE_REMOVING)
            liveness_set_caught_up(nd->lv, st->members[k].id, 0);
    if (s->verbose) {
        char who[4 * MAXN + 1];
        size_t k, w = 0;
        for (k = 0; k < st->nmembers && w + 4 < sizeof(who); k++)
            w += (size_t)snprintf(who + w, sizeof(who) - w, " %d%c",
                                  index_of(s, st->members[k].id),
                                  cstate_status_name(st->members[k].status)[0]);
        who[w] = '\0';
        say(s, "node %d adopts epoch %llu:%s", i, (unsigned long long)st->epoch, who);
    }
    if (st->epoch >= s->hist_cap) {
        while (s->hist_cap <= st->epoch)
            s->hist_cap = s->hist_cap ? s->hist_cap * 2 : 64;
        s->adopted = rc_realloc(s->adopted, s->hist_cap * sizeof(*s->adopted));
        memset(s->adopted + old, 0, (s->hist_cap - old) * sizeof(*s->adopted));
    }
    if (s->adopted[st->epoch] == NULL) {
        size_t k;
        s->adopted[st->epoch] = cstate_clone(st);
        for (k = 0; k < st->nmembers; k++) {
            int x = index_of(s, st->members[k].id);
            if (x >= 0 && st->members[k].status == CSTATE_FAILED && !s->nodes[x].stale) {
                s->nodes[x].stale = 1;
                s->nodes[x].stale_epoch = st->epoch;
                s->nodes[x].sync_from = s->now;
                s->nodes[x].caught_up = 0;
            }
        }
        if (st->epoch > 1 && s->adopted[st->epoch - 1] != NULL)
            check_primaries_had_copies(s, s->adopted[st->epoch - 1], st);
    } else if (!cstate_equal(s->adopted[st->epoch], st))
        sim_fail(s, "two different states for epoch %llu", (unsigned long long)st->epoch);
}

/* The glue after any call into node i: persist, then send; liveness's
 * wishes go to paxos, whose output is drained again. */
static void drain(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    int again = 1;
    size_t k;

    while (again && nd->pn != NULL) {
        struct paxos_ready rd;
        struct liveness_ready lr;
        again = 0;
        paxos_ready_take(nd->pn, &rd);
        if (rd.persist) {
            cstate_record_deinit(&nd->disk);
            cstate_record_copy(&nd->disk, paxos_record(nd->pn));
            note_epoch(s, i);
        }
        for (k = 0; k < rd.nmsgs; k++) {
            int to = index_of(s, rd.msgs[k].to);
            struct paxos_wire w;
            if (to < 0)
                continue;
            paxos_msg_encode(&rd.msgs[k].msg, &w);
            post_copies(s, i, to, K_PAXOS, &w);
        }
        paxos_ready_deinit(&rd);
        liveness_ready_take(nd->lv, &lr);
        for (k = 0; k < lr.nmsgs; k++) {
            int to = index_of(s, lr.msgs[k].to);
            struct paxos_wire w;
            if (to < 0)
                continue;
            liveness_msg_encode(&lr.msgs[k].msg, &w);
            post_copies(s, i, to, K_LIVE, &w);
        }
        for (k = 0; k < lr.nchanges; k++) {
            if (paxos_propose(nd->pn, &lr.changes[k], clock_of(s, i), NULL, 0) != 0)
                say(s, "node %d proposes node %d %s", i, index_of(s, lr.changes[k].id),
                    cstate_status_name(lr.changes[k].status));
            again = 1;
        }
        liveness_ready_deinit(&lr);
    }
}

static void start_node(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    struct liveness_config lc;
    struct paxos_config pc;
    uint64_t now = clock_of(s, i);

    /* Its catch-up takes up to 3 T from now (a hash, not rnd(): the
     * seeds' other draws stay as they were). */
    nd->sync_from = s->now;
    nd->sync_need = mix64(s->seed * 131 + (uint64_t)i * 7919 + s->crashes) % (3 * s->t_ms);
    memset(&lc, 0, sizeof(lc));
    lc.node_timeout_ms = s->t_ms;
    lc.seed = rnd(s);
    lc.debug_bugs = s->bugs & SIM_LIVENESS_BUGS;
    nd->lv = liveness_create(&lc, nd->id, now);
    memset(&pc, 0, sizeof(pc));
    pc.seed = rnd(s);
    if (!s->prod_timing) {
        pc.round_timeout_ms = 60;
        pc.backoff_min_ms = 5;
        pc.backoff_max_ms = 50;
        pc.change_timeout_ms = 2000;
    }   /* else paxos's defaults: 500, 50 .. 250, 30000 */
    if (s->bugs & SIM_BUG_PAXOS_PROMISE)
        pc.debug_bugs = PAXOS_BUG_SKIP_PROMISE_CHECK;
    pc.validate = liveness_validate;
    pc.validate_ctx = nd->lv;
    nd->pn = paxos_create(&pc, &nd->disk, now);
    if (nd->pn == NULL) {
        sim_fail(s, "node %d could not start from its record", i);
        liveness_destroy(&nd->lv);
        return;
    }
    liveness_bind(nd->lv, nd->pn, now);
    nd->paused_until = 0;
    note_epoch(s, i);
}

static void crash(struct sim *s, int i, uint64_t back_at)
{
    struct snode *nd = &s->nodes[i];

    liveness_destroy(&nd->lv);
    paxos_destroy(&nd->pn);
    nd->up_at = back_at;
    nd->paused_until = 0;
    nd->leave_at = 0;
    s->crashes++;
    say(s, "node %d crashes, back at %llu", i, (unsigned long long)back_at);
}

static void deliver(struct sim *s, struct smsg *m)
{
    struct snode *to = &s->nodes[m->to];
    const char *from = s->nodes[m->from].id;
    char err[128];
    uint64_t now = clock_of(s, m->to);

    s->delivered++;
    if (m->kind == K_PAXOS) {
        struct paxos_msg pm;
        if (paxos_msg_decode(m->w.argc, (const char *const *)m->w.argv, m->w.len, &pm, err,
                             sizeof(err)) != 0) {
            sim_fail(s, "a paxos message failed to decode: %s", err);
            return;
        }
        if (s->verbose > 1)
            say(s, "paxos %s %d -> %d round %llu%s", paxos_msg_type_name(pm.type), m->from,
                m->to, (unsigned long long)pm.ballot.round,
                pm.type == PAXOS_ACCEPT ? (pm.fresh ? " fresh" : " recovered")
                : pm.type == PAXOS_NACK ? (pm.rejected ? " rejected" : " higher") : "");
        paxos_step(to->pn, from, &pm, now);
        paxos_msg_deinit(&pm);
    } else {
        struct liveness_msg lm;
        if (liveness_msg_decode(m->w.argc, (const char *const *)m->w.argv, m->w.len, &lm, err,
                                sizeof(err)) != 0) {
            sim_fail(s, "a liveness message failed to decode: %s", err);
            return;
        }
        if (s->verbose > 1 && (lm.type == LIVENESS_RELEASE || lm.type == LIVENESS_LEAVING))
            say(s, "%s %llu %d -> %d", lm.type == LIVENESS_RELEASE ? "release" : "leaving",
                (unsigned long long)lm.epoch, m->from, m->to);
        liveness_step(to->lv, from, &lm, now);
        paxos_observe_epoch(to->pn, from, lm.epoch, now);
    }
    drain(s, m->to);
}

static int by_time(const void *a, const void *b)
{
    const struct smsg *x = a, *y = b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Deliver what is due; a paused node's messages wait for it (the kernel
 * buffers them), a crashed node's are lost. */
static void deliver_due(struct sim *s)
{
    struct smsg *due;
    size_t i, n = 0;

    for (i = 0; i < s->nmsgs;) {
        struct smsg *m = &s->msgs[i];
        if (m->at <= s->now && s->nodes[m->to].paused_until != 0)
            m->at = s->nodes[m->to].paused_until;
        if (m->at <= s->now)
            n++;
        i++;
    }
    if (n == 0)
        return;
    due = rc_malloc(n * sizeof(*due));
    n = 0;
    for (i = 0; i < s->nmsgs;) {
        if (s->msgs[i].at <= s->now) {
            due[n++] = s->msgs[i];
            s->msgs[i] = s->msgs[--s->nmsgs];
        } else {
            i++;
        }
    }
    qsort(due, n, sizeof(*due), by_time);
    for (i = 0; i < n; i++) {
        if (!s->failed && s->nodes[due[i].to].pn != NULL)
            deliver(s, &due[i]);
        paxos_wire_deinit(&due[i].w);
    }
    rc_free(due);
}

static uint64_t newest_epoch(const struct sim *s)
{
    uint64_t e = 0;
    size_t k;

    for (k = 0; k < s->hist_cap; k++)
        if (s->adopted[k])
            e = k;
    return e;
}

/* The glue's catch-up reports: a node is caught up while it runs and holds
 * the newest epoch, once its catch-up (the model of (e)) had time to end;
 * every running node hears of it. */
static void report_catch_up(struct sim *s)
{
    uint64_t top = newest_epoch(s);
    int i, j;

    for (i = 0; i < s->n; i++) {
        struct snode *nd = &s->nodes[i];
        nd->caught_up = running(s, i) && paxos_state(nd->pn)->epoch == top &&
                        s->now - nd->sync_from >= nd->sync_need;
        if (nd->caught_up)
            nd->stale = 0;
    }
    for (j = 0; j < s->n; j++)
        if (running(s, j))
            for (i = 0; i < s->n; i++)
                liveness_set_caught_up(s->nodes[j].lv, s->nodes[i].id, s->nodes[i].caught_up);
}

static void propose_status(struct sim *s, int i, int x, enum cstate_status st)
{
    struct cstate_change ch;

    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_SET_STATUS;
    memcpy(ch.id, s->nodes[x].id, CSTATE_ID_LEN);
    ch.status = st;
    if (paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0) != 0)
        say(s, "node %d proposes node %d %s", i, x, cstate_status_name(st));
    drain(s, i);
}

static void propose_removal(struct sim *s, int i, int x)
{
    struct cstate_change ch;

    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_REMOVE_MEMBER;
    memcpy(ch.id, s->nodes[x].id, CSTATE_ID_LEN);
    if (paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0) != 0)
        say(s, "node %d proposes removing node %d", i, x);
    drain(s, i);
}

static int status_any(const struct cstate *st, enum cstate_status status)
{
    size_t k;

    for (k = 0; k < st->nmembers; k++)
        if (st->members[k].status == status)
            return 1;
    return 0;
}

static int adding_any(const struct cstate *st)
{
    return status_any(st, CSTATE_ADDING);
}

static int removing_any(const struct cstate *st)
{
    return status_any(st, CSTATE_REMOVING);
}

/* A replacement ends whole: the new member up and the old one gone in
 * one state (cstate.h, CSTATE_COMMIT). */
static void propose_commit(struct sim *s, int i)
{
    struct cstate_change ch;

    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_COMMIT;
    ch.epoch = paxos_state(s->nodes[i].pn)->epoch;
    if (paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0) != 0)
        say(s, "node %d proposes the change ends", i);
    drain(s, i);
}

/* The glue of node i: propose a failed member up once it is back; as
 * cluster.c does for membership changes, send a member being added the
 * state, propose it up once it is caught up (or, down for good, roll its
 * addition back), and remove a member being removed (the sim moves no
 * data: its copies are remade at once). */
static void glue_returns(struct sim *s, int i)
{
    const struct cstate *st = paxos_state(s->nodes[i].pn);
    size_t k;

    for (k = 0; k < st->nmembers; k++) {
        int x = index_of(s, st->members[k].id);
        enum cstate_status stx = st->members[k].status;
        if (x < 0)
            continue;
        if (stx == CSTATE_ADDING && removing_any(st) && !(s->bugs & SIM_BUG_HALVES) &&
            s->nodes[x].caught_up &&
            liveness_alive(s->nodes[i].lv, st->members[k].id, clock_of(s, i)))
            propose_commit(s, i);
        else if ((stx == CSTATE_FAILED || stx == CSTATE_ADDING) && s->nodes[x].caught_up &&
            liveness_alive(s->nodes[i].lv, st->members[k].id, clock_of(s, i)))
            propose_status(s, i, x, CSTATE_UP);
        else if (stx == CSTATE_ADDING && s->nodes[x].pn == NULL && s->nodes[x].up_at == NEVER)
            propose_removal(s, i, x);
        else if (stx == CSTATE_REMOVING && (!adding_any(st) || (s->bugs & SIM_BUG_HALVES)))
            propose_removal(s, i, x);
        if (stx == CSTATE_ADDING && x != i) {
            paxos_observe_epoch(s->nodes[i].pn, st->members[k].id, 0, clock_of(s, i));
            drain(s, i);
        }
    }
}

/* The glue of node i for holders (holders.h): up and caught up at its
 * state's epoch (the sim's model of having the SYNCED marker of that
 * epoch from every primary it replicates), it asks to become a holder of
 * the lists whose only up holder is another member. */
static void glue_holders(struct sim *s, int i)
{
    const struct cstate *st = paxos_state(s->nodes[i].pn);
    long me = cstate_index(st, s->nodes[i].id);
    size_t k;

    if (me < 0 || st->members[me].status != CSTATE_UP || !s->nodes[i].caught_up)
        return;
    for (k = 0; k < st->nholds; k++) {
        int p = holders_entry_primary(st, &st->holds[k]);
        struct cstate_change ch;
        const char *why;
        if (p < 0 || p == me)
            continue;
        memset(&ch, 0, sizeof(ch));
        ch.kind = CSTATE_ADD_HOLDER;
        memcpy(ch.id, s->nodes[i].id, CSTATE_ID_LEN);
        memcpy(ch.member.id, st->members[p].id, CSTATE_ID_LEN);
        ch.epoch = st->epoch;
        if (cstate_change_check(st, &ch, &why) != CSTATE_APPLIES)
            continue;
        if (paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0) != 0)
            say(s, "node %d proposes becoming a holder beside node %d", i,
                index_of(s, st->members[p].id));
        drain(s, i);
        return;
    }
}

/* Membership changes an operator makes during the faults: add the spare
 * node (as `adding`), and at most once forget a failed member for good
 * (it is crashed and stays down; `removing`, then removed by the glue). */
static void operator_step(struct sim *s)
{
    int i = (int)below(s, (unsigned)s->n), x, spare_out;
    const struct cstate *st;
    struct cstate_change ch;

    if (!running(s, i) || i == s->spare)
        return;
    st = paxos_state(s->nodes[i].pn);
    if (st->epoch == 0 || cstate_index(st, s->nodes[i].id) < 0)
        return;
    memset(&ch, 0, sizeof(ch));
    /* In a third of the seeds the spare joins only by replacing a member. */
    spare_out = s->spare >= 0 && cstate_index(st, s->nodes[s->spare].id) < 0;
    if (spare_out && s->seed % 3 != 0 && one_in_pm(s, 2)) {
        ch.kind = CSTATE_ADD_MEMBER;
        ch.member = st->members[0];
        memcpy(ch.member.id, s->nodes[s->spare].id, CSTATE_ID_LEN);
        ch.member.status = CSTATE_ADDING;
        if (paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0) != 0)
            say(s, "node %d proposes adding node %d", i, s->spare);
        drain(s, i);
        return;
    }
    if (s->removals > 0 || st->nmembers < (spare_out ? 3u : 4u) ||
        !one_in_pm(s, spare_out ? 10 : 1))
        return;
    /* Not the spare: a stale proposal to add it, still queued, could
     * bring it back as a member that never runs again. */
    x = (int)below(s, (unsigned)s->n);
    if (x == i || x == s->spare || cstate_index(st, s->nodes[x].id) < 0 ||
        st->members[cstate_index(st, s->nodes[x].id)].status != CSTATE_FAILED)
        return;
    if (s->nodes[x].pn != NULL)
        crash(s, x, NEVER);
    s->nodes[x].up_at = NEVER;
    s->nodes[x].removed = 1;
    s->removals++;
    if (spare_out) {
        /* RING REPLACE: one state takes x to removing and adds the spare;
         * the glue removes x only after the spare came up. */
        say(s, "operator replaces node %d by node %d", x, s->spare);
        ch.kind = CSTATE_REPLACE_MEMBER;
        memcpy(ch.id, s->nodes[x].id, CSTATE_ID_LEN);
        ch.member = st->members[0];
        memcpy(ch.member.id, s->nodes[s->spare].id, CSTATE_ID_LEN);
        ch.member.status = CSTATE_ADDING;
        paxos_propose(s->nodes[i].pn, &ch, clock_of(s, i), NULL, 0);
        drain(s, i);
        return;
    }
    say(s, "operator forgets node %d", x);
    propose_status(s, i, x, CSTATE_REMOVING);
}

/* A graceful leave, as the server's shutdown does it: stop serving, then
 * propose its own failure (again while it is not chosen), then exit. */
static void leave_step(struct sim *s, int i)
{
    struct snode *nd = &s->nodes[i];
    const struct cstate *st = paxos_state(nd->pn);
    long me = cstate_index(st, nd->id);

    if (nd->leave_at == 0) {
        nd->leave_at = s->now + s->t_ms / 2 + below(s, 2 * s->t_ms);
        s->leaves++;
        say(s, "node %d leaves, exits at %llu", i, (unsigned long long)nd->leave_at);
        liveness_release(nd->lv, clock_of(s, i));
        drain(s, i);
    }
    if (me >= 0 && st->members[me].status != CSTATE_FAILED)
        propose_status(s, i, i, CSTATE_FAILED);
}

/* The adversary of the grant rule (liveness.h, LEASE).  The slow node X
 * has just accepted a value in which a member L it cannot hear loses (not
 * up there while up in X's state): heal the link between L and X alone, so
 * that L's pings reach X while X, learning late, still holds the old
 * epoch, and L hears the new state from nobody else; once X adopts the new
 * state, cut that link again, so that L keeps what X granted it without
 * learning the new state from X.  X must not grant (in a 3-node ring L
 * and X are a majority): else L serves on until its lease ends while the
 * slot's new primary, granted by X at the new epoch, serves too.  Random
 * partitions rarely heal and cut inside those windows. */
static void heal_on_accept(struct sim *s)
{
    const struct cstate_record *rec;
    int x = s->slow, l;

    if (!s->heal_on_accept || x < 0 || s->nodes[x].pn == NULL)
        return;
    rec = paxos_record(s->nodes[x].pn);
    if (s->healed_epoch != 0 && rec->state->epoch >= s->healed_epoch) {
        l = s->healed_loser;
        s->cut[l][x] = s->cut[x][l] = 1;
        s->healed_epoch = 0;
        say(s, "node %d adopted epoch %llu: its link to node %d cut again", x,
            (unsigned long long)rec->state->epoch, l);
    }
    /* X's own proposal is learnt from the acceptances, not late. */
    if (rec->acc.value == NULL || rec->acc.value->epoch != rec->state->epoch + 1 ||
        cstate_ballot_cmp(&rec->acc.accepted, &s->healed) == 0 ||
        strcmp(rec->acc.accepted.id, s->nodes[x].id) == 0)
        return;
    for (l = 0; l < s->n; l++) {
        const struct cstate_member *was = cstate_find(rec->state, s->nodes[l].id);
        const struct cstate_member *now = cstate_find(rec->acc.value, s->nodes[l].id);
        if (l == x || was == NULL || was->status != CSTATE_UP ||
            (now != NULL && now->status == CSTATE_UP) || (!s->cut[l][x] && !s->cut[x][l]))
            continue;
        s->healed = rec->acc.accepted;
        s->healed_loser = l;
        s->healed_epoch = rec->acc.value->epoch;
        s->cut[l][x] = s->cut[x][l] = 0;
        say(s, "node %d accepted epoch %llu, where node %d loses: their link healed", x,
            (unsigned long long)rec->acc.value->epoch, l);
        return;
    }
}

static void new_partition(struct sim *s)
{
    int a, b, shape = (int)below(s, 4);

    memset(s->cut, 0, sizeof(s->cut));
    if (shape == 1) {           /* random groups */
        int g[MAXN];
        for (a = 0; a < s->n; a++)
            g[a] = (int)below(s, 2 + below(s, 2));
        for (a = 0; a < s->n; a++)
            for (b = 0; b < s->n; b++)
                s->cut[a][b] = g[a] != g[b];
    } else if (shape == 2) {    /* one node isolated */
        int x = (int)below(s, (unsigned)s->n);
        for (a = 0; a < s->n; a++)
            s->cut[a][x] = s->cut[x][a] = a != x;
    } else if (shape == 3) {    /* one-way cuts */
        for (a = 0; a < s->n; a++)
            for (b = 0; b < s->n; b++)
                s->cut[a][b] = a != b && one_in_pm(s, 300);
    }
    if (shape != 0)
        s->partitions++;
    s->next_partition = s->now + 100 + below(s, 900);
    say(s, "network shape %d", shape);
}

/* (c): at most one node can serve each slot at this instant; returns how
 * many slots have exactly one server. */
static unsigned check_serving(struct sim *s)
{
    unsigned r, single = 0;
    int i;

    for (r = 0; r < s->nreps; r++) {
        int server = -1;
        for (i = 0; i < s->n; i++) {
            struct snode *nd = &s->nodes[i];
            if (nd->pn == NULL)
                continue;
            if (liveness_can_serve(nd->lv, s->reps[r], clock_of(s, i)) != LIVENESS_SERVE)
                continue;
            /* In an older state its lease is what (c) checks: it ends
             * before anyone else serves the slot. */
            if (nd->stale && paxos_state(nd->pn)->epoch >= nd->stale_epoch) {
                sim_fail(s, "slot %u served by node %d (epoch %llu), marked failed in epoch "
                         "%llu and not caught up since", s->reps[r], i,
                         (unsigned long long)paxos_state(nd->pn)->epoch,
                         (unsigned long long)nd->stale_epoch);
                return 0;
            }
            if (server >= 0) {
                sim_fail(s, "slot %u served by node %d (epoch %llu) and node %d (epoch %llu)",
                     s->reps[r], server,
                     (unsigned long long)paxos_state(s->nodes[server].pn)->epoch, i,
                     (unsigned long long)paxos_state(nd->pn)->epoch);
                return 0;
            }
            server = i;
        }
        if (server >= 0)
            single++;
    }
    return single;
}

static void sim_step(struct sim *s)
{
    int i;

    deliver_due(s);
    if (s->faults && s->now >= s->next_partition)
        new_partition(s);
    if (s->faults)
        heal_on_accept(s);
    for (i = 0; i < s->n && !s->failed; i++) {
        struct snode *nd = &s->nodes[i];
        uint64_t now = clock_of(s, i);
        if (nd->pn == NULL) {
            if (s->now >= nd->up_at) {
                say(s, "node %d restarts at epoch %llu", i,
                    (unsigned long long)nd->disk.state->epoch);
                start_node(s, i);
            }
            continue;
        }
        if (nd->paused_until != 0) {
            if (s->now < nd->paused_until)
                continue;
            nd->paused_until = 0;
            say(s, "node %d resumes", i);
        }
        if (nd->leave_at != 0 && s->now >= nd->leave_at) {
            crash(s, i, s->now + 20 + below(s, 4 * s->t_ms));
            continue;
        }
        if (s->faults && one_in_pm(s, s->crash_pm)) {
            crash(s, i, s->now + 20 + below(s, 4 * s->t_ms));
            continue;
        }
        if ((s->faults && nd->leave_at == 0 && one_in_pm(s, s->leave_pm)) ||
            (nd->leave_at != 0 && one_in_pm(s, 50)))
            leave_step(s, i);
        if (s->faults && one_in_pm(s, s->pause_pm)) {
            nd->paused_until = s->now + s->t_ms / 2 + below(s, 3 * s->t_ms);
            s->pauses++;
            say(s, "node %d pauses until %llu", i, (unsigned long long)nd->paused_until);
            continue;
        }
        paxos_tick(nd->pn, now);
        liveness_tick(nd->lv, now);
        drain(s, i);
        if (one_in_pm(s, 20))
            glue_returns(s, i);
        if (one_in_pm(s, 20))
            glue_holders(s, i);
    }
    if (s->faults)
        operator_step(s);
    if (s->faults && one_in_pm(s, s->spurious_pm)) {
        i = (int)below(s, (unsigned)s->n);
        if (running(s, i))
            propose_status(s, i, (int)below(s, (unsigned)s->n),
                           below(s, 2) ? CSTATE_FAILED : CSTATE_UP);
    }
    if (s->steps++ % 8 == 0)
        report_catch_up(s);
    if (!s->failed)
        check_serving(s);
    s->now += DT;
}

static void sim_init(struct sim *s, uint64_t seed, unsigned bugs, int verbose, uint64_t t_ms,
                     int prod_timing)
{
    struct cstate_member m;
    struct cstate *init = NULL;
    struct ring *ring;
    struct ring_member_spec spec[MAXN];
    char ring_id[CSTATE_ID_LEN + 1];
    unsigned slot, r;
    int i;

    memset(s, 0, sizeof(*s));
    s->seed = seed;
    s->rng = seed * 0x2545f4914f6cdd1dULL + 1;
    s->bugs = bugs;
    cstate_debug_bugs = (bugs & SIM_BUG_HALVES) ? CSTATE_BUG_HALVES : 0;
    s->verbose = verbose;
    s->t_ms = t_ms;
    s->prod_timing = prod_timing;
    s->faults = 1;
    s->n = 3 + (int)below(s, MAXN - 2);
    s->loss_pm = below(s, 150);
    s->dup_pm = below(s, 80);
    s->max_delay = 2 + below(s, 20);
    s->crash_pm = below(s, 2);
    s->pause_pm = 1 + below(s, 3);
    s->spurious_pm = below(s, 20);
    s->leave_pm = below(s, 2);
    s->next_partition = below(s, 600);
    s->slow = below(s, 2) ? (int)below(s, (unsigned)s->n) : -1;
    s->slow_ms = 10 + below(s, 80);
    /* Every fourth seed with a slow node (from the seed, so that the
     * random draws of every seed stay as they were); every such seed
     * when hunting the bug it is aimed at. */
    s->heal_on_accept = seed % 4 == 3 || (bugs & LIVENESS_BUG_GRANT_ACCEPTED);
    if (s->slow < 0 && (bugs & LIVENESS_BUG_GRANT_ACCEPTED))
        s->slow = (int)(seed % (uint64_t)s->n);
    memset(&s->healed, 0, sizeof(s->healed));
    s->healed_epoch = 0;
    snprintf(ring_id, sizeof(ring_id), "%040llx", (unsigned long long)seed);
    memset(&m, 0, sizeof(m));
    strcpy(m.host, "10.0.0.1");
    m.port = 7000;
    m.vnodes = 4 + below(s, 8);
    /* Half the seeds with 4 or more nodes start one short: the ring adds
     * the last node during the faults (operator_step). */
    s->spare = s->n > 3 && below(s, 2) ? s->n - 1 : -1;
    for (i = 0; i < s->n; i++) {
        snprintf(s->nodes[i].id, sizeof(s->nodes[i].id), "%08x%032x",
                 (unsigned)(rnd(s) & 0xffffffffu), (unsigned)i);
        memcpy(m.id, s->nodes[i].id, sizeof(m.id));
        if (i == s->spare)
            continue;
        if (i == 0)
            init = cstate_bootstrap(ring_id, &m, 2);
        else
            cstate_add(init, &m, NULL);
    }
    /* The slots checked: one per distinct preference list of the first
     * table and of the table with every node, and every 1024th slot (the
     * tables after removals). */
    for (i = 0; i < s->n; i++) {
        spec[i].id = s->nodes[i].id;
        spec[i].zone = NULL;
        spec[i].vnodes = init->members[0].vnodes;
    }
    for (int full = 0; full < 2; full++) {
        int nspec = full || s->spare < 0 ? s->n : s->n - 1;
        ring = ring_build(spec, nspec, init->replicas);
        for (slot = 0; slot < RC_SLOTS; slot++) {
            const uint16_t *p = ring_pref(ring, slot);
            for (r = 0; r < s->nreps; r++)
                if (memcmp(ring_pref(ring, s->reps[r]), p,
                           (size_t)ring_pref_len(ring) * sizeof(*p)) == 0)
                    break;
            if (r == s->nreps)
                s->reps[s->nreps++] = slot;
        }
        ring_destroy(&ring);
    }
    for (slot = 0; slot < RC_SLOTS; slot += 1024) {
        for (r = 0; r < s->nreps && s->reps[r] != slot; r++)
            ;
        if (r == s->nreps)
            s->reps[s->nreps++] = slot;
    }
    for (i = 0; i < s->n; i++) {
        struct snode *nd = &s->nodes[i];
        cstate_record_init(&nd->disk, nd->id);
        if (i == s->spare) {        /* a fresh node: no ring yet */
            nd->rate_pm = 900 + below(s, 201);
            nd->offset = below(s, 1000000);
            start_node(s, i);
            continue;
        }
        cstate_destroy(&nd->disk.state);
        nd->disk.state = cstate_clone(init);
        nd->rate_pm = 900 + below(s, 201);
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
        liveness_destroy(&s->nodes[i].lv);
        paxos_destroy(&s->nodes[i].pn);
        cstate_record_deinit(&s->nodes[i].disk);
    }
    for (k = 0; k < s->nmsgs; k++)
        paxos_wire_deinit(&s->msgs[k].w);
    rc_free(s->msgs);
    for (k = 0; k < s->hist_cap; k++)
        cstate_destroy(&s->adopted[k]);
    rc_free(s->adopted);
}

/* After the faults: is everything where it must end up? */
/* How many representative slots st can serve: those whose list has an up
 * holder (holders.h).  A list whose holders are all down serves nothing
 * until one is back: the other members may lack acknowledged writes.
 * -1 while some up member could still become a holder (glue_holders()):
 * the ring has not settled. */
static int servable(struct sim *s, const struct cstate *st)
{
    struct ring *r;
    unsigned k;
    int n = 0;
    size_t e;

    if (s->serv_epoch == st->epoch)
        return s->serv_n;
    r = ringstate_build(st, 0);

    for (k = 0; r && k < s->nreps; k++)
        n += holders_primary(st, r, s->reps[k]) >= 0;
    for (e = 0; e < st->nholds; e++) {
        const struct cstate_hold *h = &st->holds[e];
        int up = 0, holders_up = 0;
        for (int j = 0; j < h->n; j++)
            up += st->members[h->list[j]].status == CSTATE_UP;
        for (int j = 0; j < h->nh; j++)
            holders_up += st->members[h->h[j]].status == CSTATE_UP;
        if (holders_up == 1 && up > 1)
            n = -1;
    }
    ring_destroy(&r);
    s->serv_epoch = st->epoch;
    s->serv_n = n;
    return n;
}

static int settled(struct sim *s)
{
    uint64_t top = newest_epoch(s);
    const struct cstate *st = s->adopted[top];
    int i;

    for (i = 0; i < s->n; i++) {
        const struct snode *nd = &s->nodes[i];
        const struct cstate_member *m = cstate_find(st, nd->id);
        /* Not a member: the spare never added (or its addition rolled
         * back), or a node forgotten for good.  A forgotten node must be
         * gone from the state, not still being removed. */
        if (m == NULL && (i == s->spare || nd->removed))
            continue;
        if (nd->pn != NULL && paxos_state(nd->pn)->epoch != top)
            return 0;
        /* A value accepted for the next epoch is still to be chosen: its
         * acceptor asks for it again after T (liveness.c redrive()), so
         * the state can still move (seed 8708: a leaving node's own
         * "failed", accepted before it crashed, chosen after the faults
         * stopped, while the failover was being timed). */
        if (nd->pn != NULL && paxos_record(nd->pn)->acc.value != NULL &&
            paxos_record(nd->pn)->acc.value->epoch > top)
            return 0;
        if (m == NULL || m->status != (nd->pn != NULL ? CSTATE_UP : CSTATE_FAILED))
            return 0;
    }
    return (int)check_serving(s) == servable(s, st);
}

/* The node that can serve slot at this instant (check_serving() already
 * makes sure there is at most one), or -1. */
static int server_of(struct sim *s, unsigned slot)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (s->nodes[i].pn != NULL &&
            liveness_can_serve(s->nodes[i].lv, slot, clock_of(s, i)) == LIVENESS_SERVE)
            return i;
    return -1;
}

/* Failover on a clean network: crash a node that serves some slots (if a
 * majority stays up without it) and return the true ms until every slot
 * it served is served by another node; -1 if no node could be crashed.
 * More than 10 T is a failure. */
static long measure_failover(struct sim *s)
{
    unsigned char mine[RC_SLOTS];
    unsigned r;
    int i, k, x = -1, alive = 0, start = (int)below(s, (unsigned)s->n);
    uint64_t t0, deadline;

    const struct cstate *top = s->adopted[newest_epoch(s)];
    for (i = 0; i < s->n; i++)
        alive += running(s, i) && cstate_find(top, s->nodes[i].id) != NULL;
    if (alive - 1 < (int)top->nmembers / 2 + 1)
        return -1;
    /* no other work in flight: let queued changes, and a membership
     * change a late proposal started, finish (up to 20 T) */
    deadline = s->now + 20 * s->t_ms;
    while (!s->failed && s->now < deadline) {
        int busy = ringstate_changing(s->adopted[newest_epoch(s)]) > 0;
        for (i = 0; i < s->n; i++)
            busy |= running(s, i) && paxos_busy(s->nodes[i].pn);
        /* A member marked failed late (a leftover of the faults) must be
         * back first: with it down, the crash below may take a list's
         * last up holder, and that list then waits for it (holders.h). */
        busy |= !settled(s);
        if (!busy)
            break;
        sim_step(s);
    }
    memset(mine, 0, sizeof(mine));
    for (k = 0; k < s->n && x < 0; k++) {
        i = (start + k) % s->n;
        if (!running(s, i))
            continue;
        for (r = 0; r < s->nreps; r++)
            if (server_of(s, s->reps[r]) == i) {
                mine[r] = 1;
                x = i;
            }
    }
    if (x < 0)
        return -1;
    say(s, "failover: crash node %d", x);
    crash(s, x, NEVER);
    t0 = s->now;
    deadline = t0 + 10 * s->t_ms;
    while (!s->failed && s->now < deadline) {
        int done = 1;
        sim_step(s);
        for (r = 0; r < s->nreps && done; r++)
            if (mine[r] && server_of(s, s->reps[r]) < 0)
                done = 0;
        if (done) {
            say(s, "failover: done after %llu ms", (unsigned long long)(s->now - t0));
            return (long)(s->now - t0);
        }
    }
    sim_fail(s, "failover: node %d's slots not served %llu ms after its crash", x,
             (unsigned long long)(s->now - t0));
    return -1;
}

struct totals {
    unsigned long seeds, steps, crashes, leaves, pauses, partitions, epochs;
    unsigned long adds, adds_up, removals;      /* membership changes chosen */
    unsigned long replaces;     /* states that added a member and began removing one */
    uint64_t settle_max;
    long *fo;               /* failover times, true ms */
    size_t nfo, fo_cap;
    long fo_worst;          /* the longest, and its seed (replay with LIVE_SEED) */
    uint64_t fo_worst_seed;
};

static void note_failover(struct totals *t, long ms, uint64_t seed)
{
    if (t == NULL || ms < 0)
        return;
    if (ms > t->fo_worst) {
        t->fo_worst = ms;
        t->fo_worst_seed = seed;
    }
    if (t->nfo == t->fo_cap) {
        t->fo_cap = t->fo_cap ? t->fo_cap * 2 : 256;
        t->fo = rc_realloc(t->fo, t->fo_cap * sizeof(*t->fo));
    }
    t->fo[t->nfo++] = ms;
}

static int by_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return x < y ? -1 : x > y;
}

/* Sort the failover times; max and median (0 if none). */
static void failover_stats(struct totals *t, long *max, long *median)
{
    *max = *median = 0;
    if (t->nfo == 0)
        return;
    qsort(t->fo, t->nfo, sizeof(*t->fo), by_long);
    *max = t->fo[t->nfo - 1];
    *median = t->fo[t->nfo / 2];
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);

    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* Run one seed; returns 0, -1 with a safety failure printed, or -2 with a
 * liveness failure (not settled, or a failover that never completed). */
/* Membership changes chosen in the run, from the states adopted: members
 * added (as `adding`), added members that came up, members removed. */
static void count_changes(const struct sim *s, struct totals *t)
{
    const struct cstate *prev = NULL;
    size_t e, k;

    for (e = 1; e < s->hist_cap; e++) {
        const struct cstate *st = s->adopted[e];
        if (st == NULL)
            continue;
        int added = 0, removing = 0;
        for (k = 0; prev && k < st->nmembers; k++) {
            const struct cstate_member *was = cstate_find(prev, st->members[k].id);
            if (was == NULL && st->members[k].status == CSTATE_ADDING)
                t->adds++, added = 1;
            if (was && was->status != CSTATE_REMOVING && st->members[k].status == CSTATE_REMOVING)
                removing = 1;
            if (was && was->status == CSTATE_ADDING && st->members[k].status == CSTATE_UP)
                t->adds_up++;
        }
        t->replaces += added && removing;
        for (k = 0; prev && k < prev->nmembers; k++)
            t->removals += cstate_find(st, prev->members[k].id) == NULL;
        prev = st;
    }
}

static int run_seed(uint64_t seed, unsigned bugs, int verbose, int liveness, struct totals *t)
{
    struct sim s;
    int i, rc, down = 0, live_fail = 0;
    uint64_t end, stop;

    sim_init(&s, seed, bugs, verbose, T_MS, 0);
    while (!s.failed && s.now < FAULT_MS)
        sim_step(&s);
    if (!s.failed && liveness) {
        /* Members that may stay down: a minority of the newest state's,
         * less those forgotten (down for good, members until removed). */
        const struct cstate *top = s.adopted[newest_epoch(&s)];
        int members = (int)top->nmembers, gone = 0, keep_down;
        for (i = 0; i < s.n; i++)
            gone += s.nodes[i].removed && cstate_find(top, s.nodes[i].id) != NULL;
        keep_down = (members - 1) / 2 - gone > 0 ?
                    (int)below(&s, (unsigned)((members - 1) / 2 - gone) + 1) : 0;
        s.faults = 0;
        memset(s.cut, 0, sizeof(s.cut));
        say(&s, "faults stop; %d node(s) stay down (epoch %llu: %d members, %d forgotten)",
            keep_down, (unsigned long long)top->epoch, members, gone);
        for (i = 0; i < s.n; i++) {
            struct snode *nd = &s.nodes[i];
            if (nd->removed)
                continue;
            if (cstate_find(top, nd->id) == NULL) {
                if (nd->pn == NULL)         /* the spare, not a member: back */
                    start_node(&s, i);
                continue;
            }
            if (down < keep_down && (nd->pn == NULL || below(&s, 3) == 0)) {
                if (nd->pn != NULL)
                    crash(&s, i, NEVER);
                nd->up_at = NEVER;
                down++;
            } else if (nd->pn == NULL) {
                start_node(&s, i);
            } else {
                nd->paused_until = 0;
            }
        }
        stop = s.now;
        end = s.now + LIVE_MS;
        while (!s.failed && s.now < end && !settled(&s))
            sim_step(&s);
        if (!s.failed && s.now >= end && verbose)
            for (i = 0; i < s.n; i++) {
                unsigned r;
                if (s.nodes[i].pn == NULL)
                    continue;
                fprintf(stderr, "node %d: epoch %llu lease %d accepted %llu:", i,
                        (unsigned long long)paxos_state(s.nodes[i].pn)->epoch,
                        liveness_holds_lease(s.nodes[i].lv, clock_of(&s, i)),
                        (unsigned long long)paxos_record(s.nodes[i].pn)->acc.accepted.round);
                for (r = 0; r < s.nreps; r++)
                    fprintf(stderr, " %d", (int)liveness_can_serve(s.nodes[i].lv, s.reps[r],
                                                                   clock_of(&s, i)));
                fputc('\n', stderr);
            }
        if (!s.failed && s.now >= end) {
            live_fail = 1;
            sim_fail(&s, "liveness: not settled %d ms after the faults stopped "
                     "(epoch %llu)", LIVE_MS, (unsigned long long)newest_epoch(&s));
        }
        if (t && s.now - stop > t->settle_max)
            t->settle_max = s.now - stop;
        if (!s.failed) {
            long ms = measure_failover(&s);
            if (s.failed)
                live_fail = 1;
            if (getenv("LIVE_FO_SHOW") && ms > (long)env_ul("LIVE_FO_SHOW", 0))
                fprintf(stderr, "failover seed %llu: %ld ms\n", (unsigned long long)seed, ms);
            note_failover(t, ms, seed);
        }
    }
    rc = !s.failed ? 0 : live_fail ? -2 : -1;
    if (s.failed && (verbose || bugs == 0))
        fprintf(stderr, "liveness sim: seed %llu (bugs %u) FAILED at %llu ms: %s\n"
                        "  replay: LIVE_SEED=%llu LIVE_BUGS=%u tests/unit/check_liveness_sim\n",
                (unsigned long long)seed, bugs, (unsigned long long)s.now, s.fail,
                (unsigned long long)seed, bugs);
    else if (verbose)
        fprintf(stderr, "liveness sim: seed %llu ok: %d nodes, epoch %llu, %lu steps\n",
                (unsigned long long)seed, s.n, (unsigned long long)newest_epoch(&s), s.steps);
    if (t) {
        t->seeds++;
        t->steps += s.steps;
        t->crashes += s.crashes;
        t->leaves += s.leaves;
        count_changes(&s, t);
        t->pauses += s.pauses;
        t->partitions += s.partitions;
        t->epochs += newest_epoch(&s) - 1;
    }
    sim_deinit(&s);
    return rc;
}


/* Failover bound under no other faults, in true ms, for node timeout T
 * and the paxos back-off ceiling B: suspicion at the slowest clock
 * (T/RATE_MIN, plus a ping period), one refused round and back-off (B +
 * round), a round, the wait W/RATE_MIN, and a ping round trip; below 2T
 * plus this margin. */
#define FAILOVER_BOUND(t) (2 * (t) + (t) / 5)
/* Right after the fault phase the sim's short timeouts (round 60 ms,
 * back-off 5-50 ms) and leftover work make it looser. */
#define FAILOVER_BOUND_AFTER_FAULTS(t) (5 * (t))

START_TEST(test_sim_seeds)
{
    unsigned long nseeds = env_ul("LIVE_SEEDS", 2000), first = env_ul("LIVE_FIRST", 1);
    unsigned long i, bad = 0, stuck = 0;
    int strict = env_ul("LIVE_STRICT", 1) != 0, rc;
    const char *one = getenv("LIVE_SEED");
    struct totals t;
    long fo_max, fo_median;
    clock_t t0 = clock();

    memset(&t, 0, sizeof(t));
    if (one && *one) {
        ck_assert_int_eq(run_seed(strtoull(one, NULL, 10), (unsigned)env_ul("LIVE_BUGS", 0),
                                  (int)env_ul("LIVE_VERBOSE", 1), 1, &t), 0);
        rc_free(t.fo);
        return;
    }
    for (i = first; i < first + nseeds; i++) {
        rc = run_seed(i, 0, 0, 1, &t);
        if (rc == -1)
            bad++;
        else if (rc == -2)
            stuck++;
    }
    failover_stats(&t, &fo_max, &fo_median);
    fprintf(stderr, "liveness sim: %lu seeds, %lu steps, %lu crashes, %lu leaves, %lu pauses, "
                    "%lu partitions, %lu additions (%lu came up), %lu removals, %lu replacements, "
                    "%lu states chosen, "
                    "%.1f s cpu; "
                    "%lu safety failures, "
                    "%lu liveness failures%s; settle max %llu ms; failover (T = %d ms, "
                    "%zu seeds) max %ld ms (seed %llu), median %ld ms\n",
            t.seeds, t.steps, t.crashes, t.leaves, t.pauses, t.partitions, t.adds, t.adds_up,
            t.removals, t.replaces,
            t.epochs,
            (double)(clock() - t0) / CLOCKS_PER_SEC, bad, stuck,
            strict ? "" : " (not counted: LIVE_STRICT=0)", (unsigned long long)t.settle_max,
            T_MS, t.nfo, fo_max, (unsigned long long)t.fo_worst_seed, fo_median);
    rc_free(t.fo);
    ck_assert_uint_eq(bad, 0);
    if (strict)
        ck_assert_uint_eq(stuck, 0);
    ck_assert_int_lt(fo_max, FAILOVER_BOUND_AFTER_FAULTS(T_MS));
}
END_TEST

/* Failover with T = 1000 ms and paxos's default timeouts on a clean
 * network (clock rates still differ): start, settle, crash a primary. */
START_TEST(test_sim_failover_t1000)
{
    unsigned long nseeds = env_ul("LIVE_FAILOVER_SEEDS", 100), i;
    struct totals t;
    long fo_max, fo_median;
    clock_t t0 = clock();

    if (getenv("LIVE_SEED"))
        return;
    memset(&t, 0, sizeof(t));
    for (i = 1; i <= nseeds; i++) {
        struct sim s;
        uint64_t end;
        sim_init(&s, 500000 + i, 0, 0, 1000, 1);
        s.faults = 0;
        memset(s.cut, 0, sizeof(s.cut));
        end = s.now + 10000;
        while (!s.failed && s.now < end && !settled(&s))
            sim_step(&s);
        if (!s.failed && s.now >= end)
            sim_fail(&s, "did not settle before the crash");
        if (!s.failed)
            note_failover(&t, measure_failover(&s), 500000 + i);
        if (s.failed)
            fprintf(stderr, "liveness failover: seed %llu FAILED: %s\n",
                    (unsigned long long)s.seed, s.fail);
        ck_assert(!s.failed);
        sim_deinit(&s);
    }
    failover_stats(&t, &fo_max, &fo_median);
    fprintf(stderr, "liveness failover: T = 1000 ms, W = %llu ms, %zu crashes of a primary: "
                    "max %ld ms, median %ld ms (%.1f s cpu)\n",
            (unsigned long long)liveness_handover_ms(1000), t.nfo, fo_max, fo_median,
            (double)(clock() - t0) / CLOCKS_PER_SEC);
    rc_free(t.fo);
    ck_assert_uint_gt(t.nfo, 0);
    ck_assert_int_lt(fo_max, FAILOVER_BOUND(1000));
}
END_TEST

/* With a planted bug the simulator must find a violation within budget. */
static void expect_caught(unsigned bugs)
{
    unsigned long budget = env_ul("LIVE_BUG_SEEDS", 2000), i;

    if (getenv("LIVE_SEED"))
        return;
    for (i = 1; i <= budget; i++)
        if (run_seed(100000 + i, bugs, 0, 0, NULL) == -1) {
            fprintf(stderr, "liveness sim: planted bug %#x caught after %lu seeds\n", bugs, i);
            return;
        }
    ck_abort_msg("planted bug %#x not caught in %lu seeds", bugs, budget);
}

START_TEST(test_sim_catches_long_lease)
{
    expect_caught(LIVENESS_BUG_LONG_LEASE);
}
END_TEST

START_TEST(test_sim_catches_replacement_in_halves)
{
    expect_caught(SIM_BUG_HALVES);
    cstate_debug_bugs = 0;
}
END_TEST

START_TEST(test_sim_catches_accept_below_promise)
{
    expect_caught(SIM_BUG_PAXOS_PROMISE);
}
END_TEST

/* Granting despite an accepted value breaks safety only while an acceptor
 * of the new state still holds the old epoch W - L after the gainer
 * adopted it, and the loser, granted by it, does not learn the new state:
 * heal_on_accept() makes that happen. */
START_TEST(test_sim_catches_grant_accepted)
{
    expect_caught(LIVENESS_BUG_GRANT_ACCEPTED);
}
END_TEST

START_TEST(test_sim_catches_no_wait)
{
    expect_caught(LIVENESS_BUG_NO_WAIT);
}
END_TEST

/* (e): a member marked failed comes back up, and serves, before its
 * catch-up ended: the acceptors' "caught up" filter is all that stops the
 * spurious and eager proposals of its return. */
START_TEST(test_sim_catches_up_uncaught)
{
    expect_caught(LIVENESS_BUG_UP_UNCAUGHT);
}
END_TEST

START_TEST(test_sim_catches_release_current)
{
    expect_caught(LIVENESS_BUG_RELEASE_CURRENT);
}
END_TEST

static Suite *liveness_suite(void)
{
    Suite *s = suite_create("liveness");
    TCase *hand = tcase_create("by_hand");
    TCase *sim = tcase_create("sim");

    tcase_add_test(hand, test_wire_round_trip);
    tcase_add_test(hand, test_by_hand_lease);
    suite_add_tcase(s, hand);
    tcase_add_test(sim, test_sim_seeds);
    tcase_add_test(sim, test_sim_failover_t1000);
    tcase_add_test(sim, test_sim_catches_long_lease);
    tcase_add_test(sim, test_sim_catches_accept_below_promise);
    tcase_add_test(sim, test_sim_catches_replacement_in_halves);
    tcase_add_test(sim, test_sim_catches_grant_accepted);
    tcase_add_test(sim, test_sim_catches_no_wait);
    tcase_add_test(sim, test_sim_catches_release_current);
    tcase_add_test(sim, test_sim_catches_up_uncaught);
    /* 600 s covers the default 2000 seeds under ASan; a long run
     * (LIVE_SEEDS) gets about 20 times its CPU time at 0.05 s a seed. */
    tcase_set_timeout(sim, 600.0 + env_ul("LIVE_SEEDS", 0));
    suite_add_tcase(s, sim);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(liveness_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
