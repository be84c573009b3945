/*
 * repl.h — the replication stream of ring mode (DESIGN.md "Replication").
 *
 * Every write this node makes as the acting primary of a slot becomes a
 * batch of this node's stream: the records of one command (or transaction)
 * for one slot, as RESP, starting with a SELECT of their database.  The
 * stream has a replication id (made at start-up) and byte offsets; recent
 * batches are kept in a backlog of `repl-backlog-size` bytes.  Each member
 * that holds a copy of a slot (the other up or joining members of its
 * preference list) gets that slot's batches, in stream order, over a link
 * of its own:
 *
 *   RINGNODE REPL <replid> <epoch> <end offset> <slot> <payload>
 *
 * and answers with the end offset once it applied the batch, which is the
 * acknowledgement (INFO replication shows both offsets per peer).  A
 * member applies a batch only when the sender is the slot's acting primary
 * in its own state and the sender's epoch is not older than its own;
 * otherwise it refuses with -STALE and its epoch, so a primary that was
 * replaced cannot have its writes applied.
 *
 * What is not here yet (issue 9): a peer that falls behind the backlog or
 * whose link drops loses batches until catch-up, which is not built; the
 * node logs it.  Writes do not wait for acknowledgements.
 */
#ifndef RC_REPL_H
#define RC_REPL_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct command;
struct reply_mark;
struct slice;

/* One record of a propagated command, as propagate.c holds it. */
struct repl_rec {
    int dbid;
    const char *p;          /* one RESP command */
    size_t len;
};

void repl_init(void);
void repl_deinit(void);
/* Is there a stream to feed (ring mode with copies to make)? */
int repl_enabled(void);
/* The records of one top-level command; wrap: they ran as a transaction. */
void repl_feed(const struct repl_rec *recs, size_t n, int wrap);
/* Send what peers have not been sent; before the loop sleeps. */
void repl_before_sleep(void);
/* The cluster state changed: peers and slot copies may differ. */
/* A new state was adopted; gained_from_failed: this node became primary of
 * slots whose primary failed (their other copies may each miss a different
 * tail of its stream: they are sent this node's copy). */
void repl_state_changed(int gained_from_failed);
/* Is a received batch being applied now? */
int repl_applying(void);
/* RINGNODE REPL, from a node link. */
void repl_apply(struct client *c);
/* RINGNODE REPLPOS <replid>, from a node link (a partial resync). */
void repl_pos(struct client *c);
/* This node became slot's primary by handback (the previous primary's
 * HANDOFF arrived): its copy goes to every other holder. */
void repl_took_back(unsigned slot);
/* RINGNODE SYNCED|HANDOFF <epoch> from peer `from` (repl.c's markers). */
void repl_marker(const char *from, int handoff, uint64_t epoch);
/* The last HANDOFF (handoff 1) or SYNCED (0) epoch received from member. */
uint64_t repl_marker_epoch(int member, int handoff);
/* min-replica-acks (DESIGN.md "Replication").  Before a write runs
 * here: does every slot it writes have enough up replicas?  0 with *err
 * set (the -NOREPLICAS reply) if not. */
int repl_enough_replicas(struct client *c, const struct command *cmd, const char **err);
/* The stream offset: compare before and after a command to learn whether
 * it made batches. */
uint64_t repl_offset(void);

/* The client's command just ran (stream offset `before` it): note the
 * offset and slots of the batches it made, for WAIT (wait.c). */
void repl_note_writes(struct client *c, uint64_t before);

/* For WAIT: how many replicas hold everything up to stream offset off of
 * the slots given that this node is primary of (if none, or nslots < 0:
 * every slot it is primary of): the least, over those slots, number of
 * the slot's next up members after this node, in order, that
 * acknowledged it. */
int repl_acked_count(uint64_t off, const uint16_t *slots, int nslots);

/* RINGNODE SLOTCHECK found this node's copy of slot different from the
 * primary's: the batch's acknowledgement asks for a dump of it. */
void repl_note_mismatch(unsigned slot);

/* 1 when no client waits for replica acks and every peer with a working
 * link acknowledged everything sent to it (a leaving node waits for it). */
int repl_drained(void);
/* After a command that made batches past `before`: hold c's reply until
 * min-replica-acks replicas acknowledged them (or the timeout). */
void repl_hold_reply(struct client *c, const struct reply_mark *m, uint64_t before);
/* The client is going away: its held replies are dropped. */
void repl_client_gone(struct client *c);
/* Timeouts of held replies. */
void repl_cron(void);

/* The stream's figures for INFO replication's Redis fields. */
struct repl_summary {
    const char *replid;
    uint64_t offset, first_byte, histlen;
    int peers_up;
};
void repl_summary(struct repl_summary *s);
/* Replication's part of Redis's replica clients (INFO mem_clients_slaves,
 * MEMORY STATS and DOCTOR): the bytes queued on peers' replication links
 * and not yet written; *replicas: how many peers have such a link. */
size_t repl_replica_output(size_t *replicas);
/* INFO lines about the stream and each peer (rc_free the result). */
char *repl_info(void);

#endif
