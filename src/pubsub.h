/*
 * pubsub.h — publish/subscribe: channel, pattern and shard-channel
 * subscriptions, message delivery, and the client-state hooks the
 * dispatcher, the connection layer and INFO call.
 *
 * A client with at least one subscription of any kind carries CF_PUBSUB.
 * Under RESP2 such a client may only run the commands
 * pubsub_allowed_in_context() accepts; under RESP3 messages arrive as push
 * replies and any command may be run.
 */
#ifndef RC_PUBSUB_H
#define RC_PUBSUB_H

#include <stddef.h>

struct client;
struct command;

/* Drop every subscription of c without notifying it: RESET, disconnect.
 * Clears CF_PUBSUB. */
void pubsub_unsubscribe_all(struct client *c);

/* Subscriptions of c: channels, patterns, shard channels (CLIENT LIST's
 * sub, psub and ssub). */
size_t pubsub_client_channels(const struct client *c);
size_t pubsub_client_patterns(const struct client *c);
size_t pubsub_client_shard_channels(const struct client *c);

/* Server-wide counts of channels, patterns and shard channels with at
 * least one subscriber (INFO's pubsub_channels, pubsub_patterns,
 * pubsubshard_channels). */
size_t pubsub_total_channels(void);
size_t pubsub_total_patterns(void);
size_t pubsub_total_shard_channels(void);

/* Nonzero if a RESP2 client in subscribed state may run cmd: (P|S)SUBSCRIBE,
 * (P|S)UNSUBSCRIBE, PING, QUIT and RESET. */
int pubsub_allowed_in_context(const struct command *cmd);

/* Deliver a message to this node's subscribers (shard: SSUBSCRIBE ones);
 * the number of receivers.  Ring mode's broadcast lands here. */
struct slice;
long long pubsub_publish(int shard, const struct slice *channel, const struct slice *msg);

#endif
