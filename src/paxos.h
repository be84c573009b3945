/*
 * paxos.h — single-decree Paxos per epoch over the cluster state, as an
 * I/O-free state machine (STYLE.md pattern 13, after etcd raft's
 * Step/Tick/Ready).
 *
 * Each node holds the chosen state S of epoch e (cstate.h).  The state of
 * epoch e+1 is chosen by one instance of classic Paxos whose acceptors are
 * ALL members of S, whatever their status: a failed member still counts in
 * the majority (DESIGN.md: "a majority of the members of the current
 * state").  Counting only up members would let two sides of a partition,
 * each having marked the other failed in different histories, form
 * "majorities" of different sets; a fixed set per epoch keeps every two
 * quorums intersecting.  The cost is that marking members failed never
 * shrinks the quorum: with 2 of 3 members down nothing can change until one
 * returns or an operator removes members with a majority present.
 *
 * The caller (the glue) owns all I/O and time:
 *
 *   paxos_step(n, from, msg, now)   a message arrived from member `from`
 *   paxos_tick(n, now)              time passed (call every ~10-100 ms)
 *   paxos_propose(n, change, now)   ask for a change to the state
 *   paxos_observe_epoch(n, from, e) a ping showed peer `from` at epoch e
 *
 * and then drains the output with paxos_ready_take():
 *
 *   1. if rd.persist: write paxos_record(n) to nodes.conf (atomically,
 *      fsynced) BEFORE sending anything: a promise or acceptance may leave
 *      the node only once it is on disk;
 *   2. send rd.msgs[i].msg to rd.msgs[i].to;
 *   3. if rd.state_changed: paxos_state(n) is a newer state to act on;
 *   4. rd.events[] report the outcome of earlier paxos_propose() calls.
 *
 * If the process dies between a step and the write, nothing of that step
 * happened: at restart paxos_create() is given what nodes.conf holds.
 *
 * Messages (struct paxos_msg), for epoch E = the sender's state epoch + 1
 * unless noted:
 *   PREPARE(E, b)                  phase 1a
 *   PROMISE(E, b, ab, av)          phase 1b; ab/av the highest accepted
 *                                  ballot/value, ab.round 0 if none
 *   ACCEPT(E, b, v, fresh)         phase 2a; fresh: v is the proposer's own
 *                                  value, else recovered from promises
 *   ACCEPTED(E, b)                 phase 2b
 *   NACK(E, b, rejected)           rejected == 0: b is the higher ballot the
 *                                  acceptor promised; rejected == 1: the
 *                                  acceptor's validate hook refused the
 *                                  fresh value of ballot b
 *   LEARN(v)                       a chosen state, epoch v->epoch
 * A node at epoch c answers any message for an epoch other than c+1 (and
 * a LEARN older than c) with LEARN(its state): a laggard so receives the
 * newer state, and a node that is behind so asks the sender, which then
 * answers with its newer state.  A node adopts a LEARN only when it is
 * newer than its own state and of the same ring (or it has no state).
 * Messages of another ring are dropped.
 *
 * Proposer: paxos_propose() queues a change (cstate.h); the value proposed
 * for epoch c+1 is the current state with every queued change that still
 * applies applied in order.  If a promise reports an accepted value, the
 * highest such value is proposed instead, marked recovered: acceptors
 * take a recovered value on the ballot rules alone (the validate hook
 * judges fresh values only), since it may already be chosen and every
 * later ballot must carry it; judging it again could hold the epoch for
 * ever.  After any state is adopted, the
 * queued changes it reflects are reported done; the rest are proposed at
 * the next epoch.  When acceptors refuse a fresh value, the following
 * fresh values of that epoch carry one distinct queued change each, in
 * turn, so one change they refuse does not hold back the others.  A round that meets a higher ballot, is refused by too
 * many acceptors, or gets no quorum within round_timeout_ms is retried with
 * a higher round after a random back-off.  A change still not reflected
 * after change_timeout_ms is dropped with PAXOS_GAVE_UP.  Only a member of
 * the current state may propose; a fresh node asks a member to add it.
 * A change is checked against the states the node adopts; if it adopts
 * several epochs at once (it was behind), a change reverted in between is
 * not noticed and is proposed again.
 *
 * Ballot uniqueness across restarts: a proposer first promises its own
 * ballot as an acceptor, and that promise is persisted before the PREPAREs
 * leave, so a restarted proposer always picks a higher round.
 */
#ifndef RC_PAXOS_H
#define RC_PAXOS_H

#include <stddef.h>
#include <stdint.h>

#include "cstate.h"

enum paxos_msg_type {
    PAXOS_PREPARE = 1,
    PAXOS_PROMISE,
    PAXOS_ACCEPT,
    PAXOS_ACCEPTED,
    PAXOS_NACK,
    PAXOS_LEARN
};

struct paxos_msg {
    enum paxos_msg_type type;
    char ring[CSTATE_ID_LEN + 1];   /* all but LEARN (whose value has it) */
    uint64_t epoch;                 /* the epoch being decided; LEARN: value->epoch */
    struct cstate_ballot ballot;
    struct cstate_ballot accepted;  /* PROMISE only; round 0: none */
    int rejected;                   /* NACK only */
    int fresh;                      /* ACCEPT only: 1 the proposer's own value (its
                                     * queued changes applied to its state), 0 a
                                     * value recovered from promises */
    struct cstate *value;           /* PROMISE (if accepted), ACCEPT, LEARN; owned */
};

/* Free what a message owns (its value) and clear it. */
void paxos_msg_deinit(struct paxos_msg *m);
/* Deep copy into dst. */
void paxos_msg_copy(struct paxos_msg *dst, const struct paxos_msg *src);
const char *paxos_msg_type_name(enum paxos_msg_type t);

/*
 * Wire form: the arguments of one RESP command, which the glue sends as
 * RINGPAXOS <argv...> (the command name is not part of argv):
 *
 *   prepare  <ring> <epoch> <round> <bid>
 *   promise  <ring> <epoch> <round> <bid> none
 *   promise  <ring> <epoch> <round> <bid> <around> <aid> <state line>
 *   accept   <ring> <epoch> <round> <bid> fresh|recovered <state line>
 *   accepted <ring> <epoch> <round> <bid>
 *   nack     <ring> <epoch> <round> <bid> higher|rejected
 *   learn    <state line>
 *
 * ring, bid, aid: 40 lowercase hex; epoch, round, around: decimal, rounds
 * >= 1; state line: cstate.h's encoding, whose epoch must equal <epoch>
 * and ring <ring>; a promise's accepted ballot is at most its ballot.
 */
#define PAXOS_WIRE_MAXARGS 8

struct paxos_wire {
    int argc;
    char *argv[PAXOS_WIRE_MAXARGS];     /* rc_malloc'd, NUL-terminated */
    size_t len[PAXOS_WIRE_MAXARGS];
};

void paxos_msg_encode(const struct paxos_msg *m, struct paxos_wire *w);
void paxos_wire_deinit(struct paxos_wire *w);

/* Decode argc arguments (binary-safe: argv[i] has len[i] bytes, no NUL
 * needed).  Returns 0 and fills *m (free with paxos_msg_deinit), or -1
 * with a message in err.  Any input is safe. */
int paxos_msg_decode(int argc, const char *const *argv, const size_t *len,
                     struct paxos_msg *m, char *err, size_t errlen);

/* ---- the node ---- */

/*
 * The acceptor's content check (DESIGN.md: accept "X failed" only if this
 * node suspects X, "X up" only once X has caught up).  Called when an
 * ACCEPT of a FRESH value for a new ballot arrives (the proposer's own
 * changes; never for a value recovered from promises, which Paxos obliges
 * everyone to accept), with the current state and the proposed next
 * state; return 1 to accept, 0 to refuse.  NULL accepts everything.  So
 * the hook is a filter on what gets proposed, not a safety rule: a value
 * one acceptor validated may be chosen without the others judging it.
 * A function pointer because this is the boundary to the glue.
 */
typedef int (*paxos_validate_fn)(void *ctx, const struct cstate *cur, const struct cstate *next);

/* Test-only switches that break the protocol on purpose, so the simulator
 * can show it notices.  Never set outside tests. */
enum {
    PAXOS_BUG_SKIP_PROMISE_CHECK = 1,   /* acceptor accepts below its promise */
    PAXOS_BUG_IGNORE_ACCEPTED = 2       /* proposer ignores promised accepted values */
};

struct paxos_config {
    uint64_t seed;              /* for back-off jitter; any value */
    uint64_t round_timeout_ms;  /* no quorum by then: retry (0: 500) */
    uint64_t backoff_min_ms;    /* retry back-off range (0,0: 50 .. 250) */
    uint64_t backoff_max_ms;
    uint64_t change_timeout_ms; /* give up on a change (0: 30000) */
    paxos_validate_fn validate;
    void *validate_ctx;
    unsigned debug_bugs;        /* PAXOS_BUG_* (tests only) */
};

struct paxos_node;

/* Create a node from its persistent record (copied; fresh nodes use
 * cstate_record_init).  Returns NULL if rec is inconsistent. */
struct paxos_node *paxos_create(const struct paxos_config *cfg, const struct cstate_record *rec,
                                uint64_t now_ms);
void paxos_destroy(struct paxos_node **n);

/* Feed a received message.  `from` is the sender's 40-hex id as the link
 * authenticated it; m is only read. */
void paxos_step(struct paxos_node *n, const char *from, const struct paxos_msg *m,
                uint64_t now_ms);
void paxos_tick(struct paxos_node *n, uint64_t now_ms);

/* Queue a change.  Returns a token (>= 1) that later events name, or 0
 * with a message in err (which may be NULL if errlen is 0): not a member, invalid for the current state, or
 * too many queued changes.  A change already reflected gets PAXOS_DONE at
 * once. */
#define PAXOS_PENDING_MAX 32
uint64_t paxos_propose(struct paxos_node *n, const struct cstate_change *c, uint64_t now_ms,
                       char *err, size_t errlen);

/* A ping or other traffic showed that peer `from` holds epoch e. */
void paxos_observe_epoch(struct paxos_node *n, const char *from, uint64_t epoch, uint64_t now_ms);

const struct cstate *paxos_state(const struct paxos_node *n);
/* What nodes.conf must hold (write it when rd.persist is set). */
const struct cstate_record *paxos_record(const struct paxos_node *n);
/* 1 while a proposal round or back-off is in progress or changes are queued. */
int paxos_busy(const struct paxos_node *n);

/* ---- output ---- */

enum paxos_outcome {
    PAXOS_DONE = 1,     /* the state reflects the change (epoch says since when) */
    PAXOS_INVALID,      /* a newer state made it impossible (member gone, ...) */
    PAXOS_GAVE_UP,      /* change_timeout_ms passed */
    PAXOS_NOT_MEMBER    /* this node is no longer a member and cannot propose */
};

struct paxos_event {
    uint64_t token;
    enum paxos_outcome outcome;
    uint64_t epoch;     /* the node's epoch when it was decided */
};

struct paxos_out {
    char to[CSTATE_ID_LEN + 1];
    struct paxos_msg msg;
};

struct paxos_ready {
    int persist;        /* write paxos_record() before sending msgs */
    int state_changed;  /* a newer state was adopted */
    struct paxos_out *msgs;
    size_t nmsgs;
    struct paxos_event *events;
    size_t nevents;
};

/* 1 when paxos_ready_take() would hand anything over. */
int paxos_ready_pending(const struct paxos_node *n);
/* Move the accumulated output into *rd (which the caller frees with
 * paxos_ready_deinit) and start a new, empty one. */
void paxos_ready_take(struct paxos_node *n, struct paxos_ready *rd);
void paxos_ready_deinit(struct paxos_ready *rd);

#endif
