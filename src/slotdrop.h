/*
 * slotdrop.h — deleting a slot's keys as a whole: the catch-up's
 * RINGNODE SLOTFLUSH, and the copies a node no longer holds once the ring
 * changed shape (cluster-replicas lowered, a member added): dropped in the
 * background, a bounded number of slots per cron turn, logged as DELs.
 */
#ifndef RC_SLOTDROP_H
#define RC_SLOTDROP_H

/* Delete every key of slot in every database, each deletion recorded in
 * the log as a DEL; returns how many keys were deleted. */
long long slot_flush(unsigned slot);

/* One cron turn: look at the next slots (a cursor over all of them) and
 * drop those holding keys here that this node, up in its ring, no longer
 * holds a copy of. */
void slotdrop_cron(void);

/* Slots and keys dropped so far (INFO cluster). */
long long slotdrop_slots(void);
long long slotdrop_keys(void);

#endif
