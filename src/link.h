/*
 * link.h — outgoing RESP links from this node to a peer node.
 *
 * A link is one TCP connection to a peer's client port that opens with the
 * node handshake (RINGNODE HELLO <secret> <my id> <resp>) and then carries
 * pipelined requests: each request's reply comes back in order and is
 * handed, as the raw bytes of one RESP reply, to the callback given with
 * the request.  Nothing is re-encoded on the way: a forwarded command's
 * reply bytes go to the client as the peer wrote them.
 *
 * Links connect lazily (on the first request) and again after a failure.
 * A failure — connect refused, the peer closed, a protocol error, or the
 * oldest request unanswered for longer than the link's timeout — fails
 * every queued request: each callback runs once with reply NULL and an
 * error text (without the leading '-').  Queues are bounded: link_send()
 * refuses a request instead of letting memory pile up for a peer that never
 * answers.
 */
#ifndef RC_LINK_H
#define RC_LINK_H

#include <stddef.h>

struct link;

/* One reply (reply, len) or a failure (reply NULL, err set). */
typedef void link_reply_fn(void *priv, const char *reply, size_t len, const char *err);

/* Limits per link: requests queued and bytes not yet written. */
#define LINK_MAX_PENDING 65536
#define LINK_MAX_OUTPUT (64u * 1024 * 1024)

/* A link to host:port speaking RESP version resp (2 or 3); timeout_ms 0
 * means requests never time out (links pinned to a blocked client).  The
 * name is used in log lines only. */
struct link *link_create(const char *host, int port, int resp, long long timeout_ms,
                         const char *name);
/* The node id the link means to reach: its handshake names it, and a
 * node with another id (another node now on that address, e.g. one that
 * replaced it) refuses the link.  Unset: any node. */
void link_set_peer_id(struct link *l, const char *id);
/* Fail what is queued and free the link (deferred if inside a callback). */
void link_destroy(struct link **l);

/* Queue one request (complete RESP bytes).  Returns 0, or -1 with *err set
 * when the link refuses it (queue full, or reconnecting too soon after a
 * failure); fn is then not called. */
int link_send(struct link *l, const char *req, size_t len, link_reply_fn *fn, void *priv,
              const char **err);
/* The same for a command given as argument strings. */
int link_send_argv(struct link *l, int argc, const char *const *argv, const size_t *lens,
                   link_reply_fn *fn, void *priv, const char **err);

/* Requests queued with this priv will not call back (their owner is gone);
 * their replies are read and dropped. */
void link_forget(struct link *l, void *priv);

/* The database the peer's side of the link has selected (forwarding keeps
 * it equal to each client's), and setting it after queueing a SELECT. */
int link_db(const struct link *l);
void link_set_db(struct link *l, int db);
/* The ACL user the peer runs this connection's scripts and transactions
 * as (route.c sends RINGNODE ASUSER when it changes); NULL after connect. */
const char *link_user(const struct link *l);
void link_set_user(struct link *l, const char *name);

int link_connected(const struct link *l);
/* The peer acknowledged client-side caching registrations on l: when l
 * fails, tracking_ring_link_lost() is told. */
void link_mark_tracking(struct link *l);
/* Did l carry registrations?  With clear, forget that it did: a link
 * closed on purpose whose loss the caller handles itself. */
int link_tracking(struct link *l, int clear);
size_t link_pending(const struct link *l);
/* Bytes queued on the link and not yet written to its socket. */
size_t link_output(const struct link *l);
long long link_last_reply_ms(const struct link *l);
void link_set_timeout(struct link *l, long long timeout_ms);
/* The peer is known to answer again (pings): reconnect at the next request
 * instead of after the reconnect delay. */
void link_clear_backoff(struct link *l);

/* Loop hooks: write queued output (before sleep), check timeouts (cron). */
void links_before_sleep(void);
void links_cron(void);
/* Memory held by all links' buffers (INFO mem_cluster_links). */
size_t links_memory(void);

#endif
