/*
 * holders.h — which members of each preference list hold every
 * acknowledged write of its slots (cstate.h, HOLDERS).
 *
 * A write is acknowledged (min-replica-acks 1) once a slot's primary and
 * the up member after it in the list have it; those two are the list's
 * holders.  A failover leaves one of them: the member after it in the
 * list may lack the last writes the two acknowledged, and a second
 * failover to it (the primary and its first successor cut off together,
 * one marked failed after the other) would serve its stale copy.  So the
 * state keeps, per list, the holders whenever they are not the first two
 * up members, and only a holder serves:
 *
 *   - a holder leaving `up` stops being one while another holder is up;
 *     when none is, the holders stay as they are (the list serves nothing
 *     until one of them is back: the others may lack writes);
 *   - a member coming up while a holder was up (so caught up from it:
 *     cluster.c) is a holder if it is among the first two up members;
 *     one coming up while none was becomes a holder only if it was one;
 *   - an up member that lagged becomes a holder once it received, at the
 *     current epoch, the SYNCED marker of the list's only up holder
 *     (CSTATE_ADD_HOLDER, proposed by that member: cluster.c).
 *
 * Pure functions of states: the proposer settles the holders of each
 * value it builds (paxos.c), so every node adopts the same ones.
 */
#ifndef RC_HOLDERS_H
#define RC_HOLDERS_H

#include <stdint.h>

struct cstate;
struct ring;

/* Rewrite next's holder entries (next as built from prev by a change:
 * its entries are prev's, perhaps with a holder added) by the rules
 * above.  When next's table differs from prev's (members or replicas
 * changed), only the entries of lists still in next's table are kept. */
void holders_settle(const struct cstate *prev, struct cstate *next);

/* The member serving slot in state s with table r: its list's first up
 * holder, or -1 (none is up). */
int holders_primary(const struct cstate *s, const struct ring *r, unsigned slot);

/* holders_primary() of every slot, into out[RC_SLOTS] (slots share
 * lists: each distinct list is looked up once). */
void holders_primaries(const struct cstate *s, const struct ring *r, int16_t *out);

/* The first up holder of entry e of s, or -1. */
struct cstate_hold;
int holders_entry_primary(const struct cstate *s, const struct cstate_hold *e);

#endif
