/*
 * ringstate.h — the slot table of a cluster state.
 *
 * A member being added (status `adding`, cluster.c) serves and holds
 * nothing yet: the state's table gives it no tokens (ring.h), so every
 * list is the one the ring had before.  A failed member being removed for
 * good (`removing`) keeps its tokens there.  The table the ring moves to -
 * the one being added with its tokens, the one being removed without -
 * says which members must be sent which slots before the change ends.
 * Both are pure functions of the state: every node, and the liveness
 * core, compute the same ones.
 */
#ifndef RC_RINGSTATE_H
#define RC_RINGSTATE_H

struct cstate;
struct ring;

enum {
    RINGSTATE_NEXT = 1,       /* the table the ring moves to */
    RINGSTATE_NO_ZONES = 2    /* as if no member had a zone (a planted bug) */
};

/* The table of s (NULL if s has no members or no valid table). */
struct ring *ringstate_build(const struct cstate *s, int flags);

/* How many members of s are being added or removed. */
int ringstate_changing(const struct cstate *s);

/* Same members (by id)? */
int ringstate_same_members(const struct cstate *a, const struct cstate *b);
/* Same slot table: same members, zones, vnodes and replica count, and the
 * same members being added (they have no tokens yet). */
int ringstate_same_table(const struct cstate *a, const struct cstate *b);

#endif
