/*
 * liveness.h — failure detection and primary leases, as an I/O-free state
 * machine next to paxos.h (STYLE.md pattern 13): events in (a ping or pong
 * arrived, time passed), actions out (pings and pongs to send, changes to
 * propose), time passed in as milliseconds of the node's own monotonic
 * clock.  No server state, no sockets, no wall-clock time.
 *
 * T below is the node timeout (cluster-node-timeout).
 *
 * FAILURE DETECTION.  The node pings every member of its state (whatever
 * its status) every T/10; a ping carries the sender's epoch and a nonce,
 * the pong carries the replier's epoch, the nonce and a grant flag.  A
 * member is "heard" when a ping or pong of it arrives.  A member not heard
 * for T is suspected; when the node suspects a member that is `up` or
 * `joining` in its state, and has held its own lease for T, it outputs the
 * change "SET_STATUS X failed" (again every T while it stays suspected and
 * up or joining).  A joining member is marked too: once sent a primary's
 * SYNCED marker its acknowledgements are waited for (repl.c), and a
 * joining member cut off and back must catch up again, at a new epoch,
 * rather than come up with what it had before the cut.
 * Without the lease it cannot tell "X is gone" from "I am cut off" (nor
 * just after regaining it: the silence may date from its own cut), and a
 * minority's fresh marks, accepted by its own side's acceptors once the
 * cut heals, would be recovered and chosen by the next proposer (below):
 * healthy members marked failed in a cascade.  A failed member that is heard again is no
 * longer suspected; proposing it `up` is the glue's call once X reports
 * its slots caught up (liveness_alive() and liveness_set_caught_up()).
 *
 * ACCEPTOR FILTER (liveness_validate, plugged into paxos_config.validate).
 * Paxos runs it on FRESH values only (a proposer's own changes applied to
 * its state), never on a value recovered from promises (paxos.h): a fresh
 * value marking X failed (X up or joining before) is accepted only if this
 * node has not heard X for T; one marking X up only if the glue said X
 * caught up and X is heard within T.  Everything else is accepted.  This
 * keeps nodes from failing members they can hear; it is NOT what makes
 * leases safe (below), so a value a minority accepted during a partition
 * is re-proposed as recovered and taken by everyone, and the epoch moves.
 * A value accepted for T without becoming the state is asked for again
 * (its status changes go out as changes), so some proposer finishes it.
 *
 * LEASE.  L = T/2.  The node holds its lease at local time t iff a
 * majority of the members of its state, itself included, granted pings it
 * sent at or after t - L and stamped with its current epoch e or with e-1
 * (so adopting a state does not drop the lease until new grants come: a
 * grant for an (e-1)-stamped ping was given by an acceptor still at e-1,
 * before it accepted S_{e+1}, and A and B below bound it the same way; a
 * slot gained at e is served only after W > L anyway).  The node
 * counts for itself while it is `up` in its state and not a loser (below)
 * in its own accepted value.  A node G grants a ping from P stamped e iff
 *   - e is G's own epoch, and P is `up` in G's state, and
 *   - G has not accepted (paxos acceptor record, for epoch e+1) a value in
 *     which P is a "loser": P is not `up` there, or P is the acting
 *     primary of a slot in G's state whose acting primary differs in the
 *     value, or the value's member set differs (then everyone loses).
 * The grant rule reads paxos's acceptor record directly (liveness_bind),
 * so it holds from the instant paxos accepts, before the ACCEPTED leaves,
 * and across restarts (the record is persisted).
 *
 * SERVING.  The acting primary of a slot is the first `up` member of its
 * preference list in the node's state.  The node serves slot s at local
 * time t iff it is that primary, holds its lease at t, and its hand-over
 * wait for s has passed.  On adopting state S_b the wait is:
 *   - kept: b = a+1 for its previous state S_a and the node was primary of
 *     s in S_a too (its earlier wait, if running, continues);
 *   - otherwise (it gains s from anyone, failed or not; epochs skipped; a
 *     restart): W = ceil(L * RATE_MAX / RATE_MIN) of its own clock from
 *     adoption, liveness_handover_ms() (T = 1000: L = 500, W = 612).
 *
 * WHY AT MOST ONE NODE SERVES A SLOT.  Assume every clock's rate lies in
 * [RATE_MIN, RATE_MAX] = [0.9, 1.1] of true time (DESIGN.md's +-10%).  A
 * lease from a ping sent at true time p ends by p + L/RATE_MIN; a wait of
 * W local lasts >= W/RATE_MAX = L/RATE_MIN true.  Let c_k be the true
 * time S_k is chosen, by a majority Q_k of S_{k-1} at one ballot.
 *   A. A lease at epoch e is dead from c_{e+2} + L/RATE_MIN on: every q
 *      in Q_{e+2} is at epoch >= e+1 before c_{e+2} and grants only pings
 *      stamped with its own epoch (if S_{e+1}'s members differ, B's Q_{e+1}
 *      already stopped granting everyone).
 *   B. If P is primary of s in S_e but not in S_{e+1}, P's epoch-e lease is
 *      dead from c_{e+1} + L/RATE_MIN on: each q in Q_{e+1} stopped
 *      granting P when it accepted S_{e+1} at the choosing ballot (any
 *      value it accepts for e+1 later is S_{e+1} again: Paxos), so every
 *      grant by q to P came for a ping sent before c_{e+1}, and every
 *      lease majority of P at epoch e meets Q_{e+1}.
 *   No content check appears in A or B: failed or not, heard or not.
 * A node G gaining s in S_b adopts it at true time >= c_b and serves from
 * >= c_b + L/RATE_MIN; any other primary P of s at an epoch < b lost s at
 * some epoch j <= b, so by B (epoch j-1) and A (older ones) its leases are
 * dead by then; while G keeps s (kept case) nobody else is primary of s.
 * RELEASE.  A node that adopted S_{k+1} directly from S_k tells every
 * member "release k" once the hand-over waits of every slot it was primary
 * of in S_k have passed.  A member G that adopted S_{k+1} directly from
 * S_k (same members) and gained slot s from P, s's primary in S_k, serves
 * s at once when P released k, instead of after W.  Why that is safe: P's
 * wait for s passed while it was at S_k, so (the argument below, applied
 * to the epoch P gained s at) no other primary of s at an older epoch had
 * a lease left by then; P kept s up to S_k; and P serves nothing at epoch
 * k any more, restarts included, since it holds S_{k+1} (epochs never go
 * down).  So when the old primary is alive - a handback, a graceful leave,
 * a node marked failed that is still running - the slot moves in a
 * message's time; only a dead or cut-off one costs W.
 *
 * LEAVING (a graceful shutdown).  liveness_release() makes the node serve
 * nothing from then on and tell every member "leaving e" (its epoch, again
 * after each adoption); the glue then proposes its own failure, which the
 * acceptor filter takes while the node is heard if it said it is leaving
 * at the current epoch.
 *
 * Liveness cost: failover = T (suspicion) + a Paxos round + W, e.g. about
 * 1.65 s for T = 1000 ms; and after every state change a node is without
 * lease until a majority answered a ping stamped with the new epoch (it
 * pings everyone at once on adoption).
 *
 * CALLER CONTRACT (the glue):
 *   lv = liveness_create(&cfg, myid, now);
 *   px = paxos_create(&pcfg with validate = liveness_validate,
 *                      validate_ctx = lv, ...);
 *   liveness_bind(lv, px, now);
 *   every loop turn: liveness_tick(lv, now);
 *   RINGLIVE <args> from an authenticated peer: liveness_msg_decode(), then
 *       liveness_step(lv, from, &msg, now) and paxos_observe_epoch(px,
 *       from, msg.epoch, now);
 *   then drain liveness_ready_take(): send msgs[] as RINGLIVE, pass
 *       changes[] to paxos_propose() (an error there is harmless);
 *   serve a slot only if liveness_can_serve(lv, slot, now) == LIVENESS_SERVE,
 *       checked when the reply is produced (a read) or acknowledged;
 *   when a failed member X reports every slot caught up:
 *       liveness_set_caught_up(lv, X, 1), and propose X up if
 *       liveness_alive(lv, X, now).
 * liveness_destroy() before paxos_destroy().
 */
#ifndef RC_LIVENESS_H
#define RC_LIVENESS_H

#include <stddef.h>
#include <stdint.h>

#include "cstate.h"
#include "paxos.h"

/* ---- messages ---- */

enum liveness_msg_type { LIVENESS_PING = 1, LIVENESS_PONG, LIVENESS_RELEASE, LIVENESS_LEAVING };

struct liveness_msg {
    enum liveness_msg_type type;
    char ring[CSTATE_ID_LEN + 1];
    uint64_t epoch;     /* the sender's state epoch (RELEASE: the one released) */
    uint64_t nonce;     /* PING: fresh; PONG: the ping's, echoed; else 0 */
    int grant;          /* PONG only: 1 grants the lease for the ping */
};

/*
 * Wire form: the arguments of one RESP command, which the glue sends as
 * RINGLIVE <argv...> (the command name is not part of argv):
 *
 *   ping <ring> <epoch> <nonce>
 *   pong <ring> <epoch> <nonce> 0|1
 *   release <ring> <epoch>
 *   leaving <ring> <epoch>
 *
 * ring: 40 lowercase hex; epoch, nonce: decimal 0 .. 2^64-1, canonical (no
 * sign, no leading zeros).  The encoding is canonical: what decodes
 * encodes back to the same bytes.
 */
#define LIVENESS_WIRE_MAXARGS 5

/* Fill w (free with paxos_wire_deinit). */
void liveness_msg_encode(const struct liveness_msg *m, struct paxos_wire *w);

/* Decode argc binary-safe arguments.  Returns 0 and fills *m, or -1 with a
 * message in err.  Any input is safe. */
int liveness_msg_decode(int argc, const char *const *argv, const size_t *len,
                        struct liveness_msg *m, char *err, size_t errlen);

/* ---- the node ---- */

/* Test-only switches that break the rules on purpose, so the simulator can
 * show it notices.  Never set outside tests. */
enum {
    LIVENESS_BUG_LONG_LEASE = 1,        /* lease T instead of T/2 (W still from T/2) */
    LIVENESS_BUG_GRANT_ACCEPTED = 4,    /* grant despite an accepted value */
    LIVENESS_BUG_NO_WAIT = 8,           /* serve gained slots at once */
    LIVENESS_BUG_RELEASE_CURRENT = 16,  /* RELEASE the epoch it still holds */
    LIVENESS_BUG_UP_UNCAUGHT = 32       /* accept "X up" before X caught up */
};

/* The clock-rate bound the hand-over wait assumes, per mille of true time. */
#define LIVENESS_RATE_MIN_PM 900
#define LIVENESS_RATE_MAX_PM 1100

/* W for node timeout T: ceil((T/2) * RATE_MAX / RATE_MIN) ms. */
uint64_t liveness_handover_ms(uint64_t node_timeout_ms);

struct liveness_config {
    uint64_t node_timeout_ms;   /* T; 0: 15000 (Redis's cluster-node-timeout) */
    uint64_t seed;              /* for ping nonces: must differ per process start */
    unsigned debug_bugs;        /* LIVENESS_BUG_* (tests only) */
};

struct liveness;

/* Create the detector for node myid (40 hex).  NULL if myid is invalid. */
struct liveness *liveness_create(const struct liveness_config *cfg, const char *myid,
                                 uint64_t now_ms);
void liveness_destroy(struct liveness **l);

/* Attach the node's Paxos instance, whose state and acceptor record the
 * liveness rules read from then on; px must outlive l. */
void liveness_bind(struct liveness *l, const struct paxos_node *px, uint64_t now_ms);

/* A paxos_validate_fn: ctx is the struct liveness. */
int liveness_validate(void *ctx, const struct cstate *cur, const struct cstate *next);

/* Time passed: pings due, suspicions to report. */
void liveness_tick(struct liveness *l, uint64_t now_ms);

/* A ping or pong arrived from member `from` (40 hex, as the link
 * authenticated it).  A ping is answered with a pong in the output. */
void liveness_step(struct liveness *l, const char *from, const struct liveness_msg *m,
                   uint64_t now_ms);

/* The glue's word that member id has (1) or has not (0) reported every
 * slot caught up; consulted when accepting a state marking it up. */
void liveness_set_caught_up(struct liveness *l, const char *id, int yes);

/* Stop serving for good and say so (a graceful leave, see LEAVING above). */
void liveness_release(struct liveness *l, uint64_t now_ms);

/* 1 when the node sent the RELEASE of the state before its current one,
 * or has none to send (it did not adopt the current state from the one
 * before). */
int liveness_release_sent(struct liveness *l);

/* ---- queries ---- */

/* 1 if member id was heard within T (this node itself always is). */
int liveness_alive(struct liveness *l, const char *id, uint64_t now_ms);

/* 1 if the node holds its lease at local time now. */
int liveness_holds_lease(struct liveness *l, uint64_t now_ms);

/* Index in the state's members (= ring index) of slot's acting primary in
 * this node's state, or -1 if no member of its preference list is up. */
int liveness_acting_primary(struct liveness *l, unsigned slot);

enum liveness_serve {
    LIVENESS_SERVE = 0,         /* serve it */
    LIVENESS_NOT_PRIMARY,       /* another member (or none) is the primary */
    LIVENESS_NO_LEASE,          /* primary, but no majority answered lately */
    LIVENESS_HANDOVER,          /* primary, waiting out the previous one's lease */
    LIVENESS_RELEASED           /* this node is leaving and serves nothing */
};

enum liveness_serve liveness_can_serve(struct liveness *l, unsigned slot, uint64_t now_ms);
const char *liveness_serve_name(enum liveness_serve v);

/* ---- output ---- */

struct liveness_out {
    char to[CSTATE_ID_LEN + 1];
    struct liveness_msg msg;
};

struct liveness_ready {
    struct liveness_out *msgs;
    size_t nmsgs;
    struct cstate_change *changes;  /* to pass to paxos_propose() */
    size_t nchanges;
};

void liveness_ready_take(struct liveness *l, struct liveness_ready *rd);
void liveness_ready_deinit(struct liveness_ready *rd);

#endif
