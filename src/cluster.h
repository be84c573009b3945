/*
 * cluster.h — ring mode: this node's id, the cluster state it holds, the
 * slot table computed from it, and the links to the other members.
 *
 * Everything here is inert unless cluster-enabled is yes.
 */
#ifndef RC_CLUSTER_H
#define RC_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct link;
struct cstate;
struct ring;

/* Start-up (after the config is read, before listening): load or create
 * nodes.conf.  Returns 0, or -1 after logging why the node cannot start. */
int cluster_init(void);
void cluster_deinit(void);
void cluster_cron(void);

/* A graceful leave before shutting down (SIGTERM or SHUTDOWN in a ring):
 * cluster_leave_begin() returns 1 if there is one to make; then the event
 * loop runs until cluster_leave_step() returns 1 (bounded in time). */
int cluster_leave_begin(void);
/* RING REMOVE of this live node (RINGNODE LEAVE): the graceful leave
 * above, then the node asks to be `removing` (its copies are remade on
 * the members that gain its slots) and shuts down.  NULL once under way,
 * else the error to reply. */
const char *cluster_leave_for_good(void);
int cluster_leave_step(void);

int cluster_enabled(void);
const char *cluster_myid(void);

/* The current state and its slot table (NULL when not in ring mode). */
const struct cstate *cluster_state(void);
const struct ring *cluster_ring(void);
/* While members are being added (status adding), the table the ring moves
 * to once they are up; else NULL (ringstate.h). */
const struct ring *cluster_ring_next(void);
/* This node's index in the ring's canonical member order (ring.h). */
int cluster_my_index(void);

/* RINGNODE subcommands: is c a peer node's link?  Else replies NOPERM
 * and returns 0 (cmd_cluster.c). */
struct client;
int ringnode_need_node(struct client *c);

/* Where slot is served.  CLUSTER_LOCAL: here.  CLUSTER_REMOTE: by member
 * *member (ring index).  CLUSTER_DOWN: by nobody now; *err is the error
 * reply text (without '-'). */
enum { CLUSTER_LOCAL, CLUSTER_REMOTE, CLUSTER_DOWN };
int cluster_slot_route(unsigned slot, int *member, const char **err);
/* Is this node in slot's preference list, and not failed (it holds a
 * copy, as primary or replica)? */
int cluster_holds_copy(unsigned slot);
/* Does this node keep its copy of slot: it holds one, or while members
 * are being added it is in the slot's list in the table the ring moves to
 * (slotdrop.c drops the rest). */
int cluster_keeps_copy(unsigned slot);
/* While members are being added or removed (returns 1): the slots this
 * node gains in the table the ring moves to, and whether it has them all
 * in step; else returns 0. */
int cluster_move_progress(unsigned *gain_slots, int *in_step);
/* Slots no node serves in this node's state: none of their list's
 * holders is up (holders.h; INFO ring_slots_unserved). */
unsigned cluster_slots_unserved(void);
/* Is this node slot's acting primary in its state (CLUSTER_LOCAL)?
 * Structural: says nothing of the lease; see cluster_slot_serve. */
int cluster_slot_is_mine(unsigned slot);
/* cluster_slot_route, and for a slot routed here, whether this node may
 * serve it now: it holds its primary lease and any hand-over wait has
 * passed (liveness.h); else CLUSTER_DOWN with the reason in *err.  Every
 * client command's keys are checked with this. */
int cluster_slot_serve(unsigned slot, int *member, const char **err);
/* The slot's acting primary in the previous state when another member,
 * still up, is it now (its last batches are welcome until its HANDOFF
 * marker); else -1. */
int cluster_prev_primary(unsigned slot);
/* Is slot this node's in its state, but not yet taken over: the member
 * handing it back has not sent its HANDOFF marker (until then this node's
 * copy may lack that member's last writes, and is not sent to others)? */
int cluster_taking_back(unsigned slot);
/* Did this node hand slot over at the last state change (it was its
 * primary; another member, up, is now)? */
int cluster_handed_back(unsigned slot);
/* Member's HANDOFF marker for this state arrived (repl.c): the slots it
 * handed to this node are taken over (their copies pushed to the other
 * holders) and served. */
void cluster_handoff_arrived(int member);
/* RINGNODE CAUGHTUP <epoch> from member `from`. */
void cluster_caught_up(const char *from, uint64_t epoch);
/* Planted bugs for the fault tests (cluster-debug-bugs, beside the
 * LIVENESS_BUG_* bits); never set outside tests. */
enum {
    /* A fault, not a bug: the primary ignores one replication ack in 4
     * (as if lost on a link that stays up): a peer whose last ack went
     * so waits for one that never comes (repl.c check_stalled()). */
    CLUSTER_FAULT_IGNORE_ACK = 0x400,
    /* A peer whose acks stopped while nothing is in flight is only
     * logged, not caught up (repl.c check_stalled()). */
    CLUSTER_BUG_STALL_WAITS = 0x200,
    CLUSTER_BUG_IGNORE_LEASE = 0x1000,  /* serve a slot without the primary lease */
    CLUSTER_BUG_ACK_UNREPLICATED = 0x2000,  /* acknowledge writes never replicated */
    CLUSTER_BUG_ACK_ANY_REPLICA = 0x4000,   /* count any replica's ack, not the successors' */
    /* A fault, not a bug: batches to each slot's first successor are
     * silently dropped (a successor lagging behind the other replicas). */
    CLUSTER_FAULT_DROP_SUCCESSOR = 0x8000,
    CLUSTER_BUG_IGNORE_ZONES = 0x10000, /* place copies as if no member had a zone */
    CLUSTER_BUG_NO_MOVE = 0x20000,      /* a member added: others gaining slots get nothing */
    CLUSTER_BUG_HALVES = 0x40000,       /* a replacement ends in two states (cstate.h) */
    /* A fault, not a bug: a replica closes the link of one replication
     * message in 50 once it applied it, instead of acknowledging it (the
     * ack is lost with the link; the primary resumes from REPLPOS). */
    CLUSTER_FAULT_DROP_REPL_ACK = 0x80000,
    CLUSTER_BUG_RESUME_FROM_ACK = 0x100000, /* partial resync from the last ack, not REPLPOS */
    /* Loading the log restores each stream position one annotation late
     * (the one before the last: a restarted replica resumes too early). */
    CLUSTER_BUG_POSITION_LATE = 0x200000,
    /* A joining node counts a slot none of whose members is up as in
     * step whatever its copy (it may come up serving a stale one). */
    CLUSTER_BUG_ANY_HOLDER = 0x400000,
    /* A slot handed back to this node is served once the member it came
     * from failed, its HANDOFF marker or not (it may lack that member's
     * last acknowledged writes). */
    CLUSTER_BUG_HANDBACK_LOST = 0x800000,
    /* A fault, not a bug: after a SYNCED marker to a member, nothing more
     * goes to it for 2T (its copy lags while it comes up). */
    CLUSTER_FAULT_HOLD_AFTER_SYNCED = 0x1000000,
    /* A joining member sent its SYNCED marker is not waited for: writes
     * are acknowledged without it (it may come up lacking them). */
    CLUSTER_BUG_JOINER_NOT_COUNTED = 0x2000000,
    /* States keep no holders (holders.h): a list's first up members serve
     * it whatever they hold. */
    CLUSTER_BUG_NO_HOLDERS = 0x4000000,
    /* A fault, not a bug: a primary's batches to each slot's second
     * successor are silently dropped (the third holder lags). */
    CLUSTER_FAULT_DROP_THIRD = 0x8000000,
    /* A replica applies the previous primary's late batches of a slot
     * even after the new primary's (repl.c from_primary()). */
    CLUSTER_BUG_LATE_AFTER_NEW = 0x10000000,
    /* A fault, not a bug: once a SYNCED marker went to a joining member,
     * nothing goes to the other members for 2T (the previous primary's
     * last batches reach them after the returning member's first). */
    CLUSTER_FAULT_HOLD_OTHERS_AFTER_SYNCED = 0x20000000,
    /* A replica refuses the previous primary's catch-up checks of a slot
     * the new primary's batches reached first, as it refuses its late
     * batches (that catch-up then starts over forever). */
    CLUSTER_BUG_REFUSE_SUPERSEDED_CHECK = 0x40000000,
    /* A write of a slot this node no longer serves counts as acknowledged
     * by a replica whose ack only the marker ending a catch-up raised
     * over it, though that catch-up did not cover the slot. */
    CLUSTER_BUG_ACK_UNCOVERED = 0x0800
};
/* Is member up and lagging (holders.h) in a list this node holds? */
int cluster_lags_behind_me(int member);

/* "lease held", "no majority (lease lapsed)" or "not a member". */
const char *cluster_serving_state(void);

/* The shared, pipelined link to member for forwarded commands of a client
 * with this id speaking resp (one client always uses the same link, so its
 * commands stay in order); NULL if member is not a peer. */
struct link *cluster_fwd_link(int member, int resp, uint64_t client_id);
/* A new link of the caller's own (a client's blocking commands). */
struct link *cluster_new_link(int member, int resp, long long timeout_ms);

/* The address clients and peers use for member, and its status word. */
const char *cluster_member_host(int member);
int cluster_member_port(int member);
/* The port cluster-aware clients are told to use for member (CLUSTER
 * SLOTS, SHARDS, NODES): its port plus cluster-client-port-offset, or its
 * port when there is no offset or the sum is past 65535 (listener.c). */
int cluster_member_client_port(int member);
const char *cluster_member_status(int member);
int cluster_member_up(int member);

/* Called by RINGNODE HELLO: may a peer with this secret and id link to us?
 * Returns NULL, or the reason it may not. */
const char *cluster_check_peer(const char *secret, size_t slen, const char *id, size_t idlen,
                               int fd_is_loopback);

/* ---- for the RINGNODE, RING and CLUSTER commands (cmd_cluster.c) ---- */

struct cstate_change;
struct cstate_member;
struct slice;

/* A peer's ping or message showed it alive, at this epoch. */
void cluster_heard(const char *id, uint64_t epoch);
/* A RINGNODE PAXOS message from peer `from` (its arguments after PAXOS);
 * err gets a message if it does not decode. */
void cluster_live_message(const char *from, int argc, const char *const *argv,
                          const size_t *lens, char *err, size_t errlen);
void cluster_paxos_message(const char *from, int argc, const char *const *argv,
                           const size_t *lens, char *err, size_t errlen);
/* Ask for a state change; the token cluster_admin_done() will name, or 0
 * with err set.  Call cluster_pump() once the token is recorded. */
uint64_t cluster_propose(const struct cstate_change *ch, char *err, size_t errlen);
/* Run the Paxos node's pending output (after recording a token). */
void cluster_pump(void);
/* Implemented by cmd_cluster.c: a proposed change finished (paxos.h's
 * outcome). */
void cluster_admin_done(uint64_t token, int outcome);
/* Implemented by cmd_cluster.c: operations waiting on the ring's state
 * (RING REMOVE of a live member) finish or time out; run by the cron. */
void cluster_admin_cron(void);
/* Make this node, not yet in a ring, the first member of a new one. */
int cluster_bootstrap(int replicas, const char **why);
/* This node as a member record (announced address, zone, vnodes). */
void cluster_my_member(struct cstate_member *m);
/* Give a link that carries one last message to be freed once it is sent. */
void cluster_defer_link_free(struct link *l);
/* Has member been heard from within cluster-node-timeout (1 for us)? */
int cluster_member_link_ok(int member);
long long cluster_member_last_heard(int member);
/* Pass a published message to every other member's subscribers. */
void cluster_broadcast_publish(int shard, const struct slice *channel, const struct slice *msg);

#endif
