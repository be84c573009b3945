/*
 * wait.h — WAIT numreplicas timeout, on one node and through the ring
 * (how the count is made: wait.c).
 */
#ifndef RC_WAIT_H
#define RC_WAIT_H

struct client;

void cmd_wait(struct client *c);
void cmd_ringnode_waitoff(struct client *c);
void cmd_ringnode_ackcount(struct client *c);

/* route.c: c forwarded a command that may write to ring member `member`. */
void wait_note_forward(struct client *c, int member);
/* c wrote (or may have written) to slot (-1: unknown, count every slot). */
void wait_note_slot(struct client *c, int slot);
/* The client is being freed. */
void wait_client_gone(struct client *c);
/* At exit, after cluster_deinit(). */
void wait_deinit(void);

#endif
