/*
 * route.h — request routing in ring mode: the one decision per command of
 * where it runs, forwarding to the acting primary, splitting multi-key
 * commands across nodes and fanning whole-keyspace commands out to every
 * member (DESIGN.md "Request routing").
 */
#ifndef RC_ROUTE_H
#define RC_ROUTE_H

#include <stddef.h>

struct client;
struct command;

/* Called by the dispatch gate after every check, before the command runs.
 * ROUTE_LOCAL: run it here.  ROUTE_DONE: it was forwarded, split, fanned
 * out or refused (its reply, or the place for it, is queued). */
enum { ROUTE_LOCAL = 0, ROUTE_DONE = 1 };
int route_command(struct client *c, struct command *cmd);

/* c is being freed: its awaited replies go nowhere, its pinned link goes. */
void route_client_free(struct client *c);

/* Forward c's command to member and await its reply (pinned: over the
 * client's own link, holding its input until the reply).  Returns
 * ROUTE_DONE.  Command handlers may call it too (CLUSTER GETKEYSINSLOT). */
int route_forward(struct client *c, int member, int pinned);

/* Counters for INFO. */
extern long long route_stat_forwarded;
extern long long route_stat_split;
extern long long route_stat_fanout;

#endif
