/*
 * adminsync.h — the ring's ACL users and function libraries brought to a
 * member that missed changes to them (adminsync.c).
 */
#ifndef RC_ADMINSYNC_H
#define RC_ADMINSYNC_H

struct client;

/* Called from cluster.c's rejoin step.  Until this node has pulled the
 * users and libraries from an up member and found them equal to its own,
 * it asks (at most one request in flight) and returns 0; then 1.  A node
 * with no other up member to ask returns 1. */
int adminsync_ready(void);
/* This node is about to rejoin or be added: pull again. */
void adminsync_restart(void);

/* RINGNODE ADMINSTATE: this node's users (but the default one) and
 * libraries, as adminsync compares them. */
void cmd_ringnode_adminstate(struct client *c);

#endif
