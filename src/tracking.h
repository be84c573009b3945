/*
 * tracking.h — client-side caching (CLIENT TRACKING), as in Redis 7.0.
 *
 * Default mode: after a read-only command runs, its keys are remembered
 * for the client in the tracking table (key -> client ids; one table for
 * all databases, as in Redis).  When a key changes (db_signal_modified,
 * the one point every modification passes, expiry and eviction included)
 * every remembered client is sent an invalidation and the key leaves the
 * table.  BCAST mode: the client names prefixes instead; modified keys
 * matching a prefix are collected and sent once per event-loop iteration,
 * one message per prefix.  Messages are RESP3 pushes
 * (>2 "invalidate" [keys]) or, with REDIRECT to a RESP2 client subscribed
 * to anything, messages on the __redis__:invalidate channel.  FLUSHDB and
 * FLUSHALL send a null instead of the key array to every tracking client.
 * `tracking-table-max-keys` bounds the table: past it random keys are
 * dropped, each with an invalidation.
 *
 * Ring mode (tracking_ring.c): a node that forwards a tracked read
 * registers the keys on the owner (RINGNODE TRACK, on the link the read
 * goes over, just before it), and remembers them itself when the reply
 * arrives.  The owner treats that link as a tracking client of its own
 * and sends it invalidations as push frames on the same connection, after
 * the read's reply; the forwarding node hands them to its clients through
 * its own table.  BCAST prefixes are registered on every member.
 */
#ifndef RC_TRACKING_H
#define RC_TRACKING_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct command;
struct link;
struct slice;

/* Flags of struct tracking_state. */
enum {
    TRK_ON = 1 << 0,
    TRK_BCAST = 1 << 1,
    TRK_OPTIN = 1 << 2,
    TRK_OPTOUT = 1 << 3,
    TRK_CACHING = 1 << 4,       /* CLIENT CACHING yes/no, for the next command */
    TRK_NOLOOP = 1 << 5,
    TRK_BROKEN_REDIR = 1 << 6,
    TRK_NODE = 1 << 7,          /* a peer node's link (RINGNODE TRACK): ring pushes */
};

/* A client's tracking state (c->trk), created when it first enables
 * tracking; prefixes sorted by bytes. */
struct tracking_state {
    unsigned flags;
    uint64_t redir;             /* REDIRECT client id, 0 none */
    char **prefixes;
    size_t *prefix_lens;
    int nprefixes;
    uint64_t origin;            /* a node link: RINGNODE ORIGIN for its next command;
                                 * a capturing client: the client it runs for */
};

void tracking_init(void);
void tracking_deinit(void);

/* Is c tracking (CLIENT TRACKING on)? */
int tracking_is_on(const struct client *c);
/* Would a read by c be remembered now (default mode; OPTIN/OPTOUT with
 * CLIENT CACHING)?  Does cmd's read count (read-only, not a script)? */
int tracking_wants_reads(const struct client *c);
int tracking_cmd_reads(const struct command *cmd);

/* Enable with the parsed options (TRK_BCAST|OPTIN|OPTOUT|NOLOOP), prefixes
 * already checked; disable.  Disabling leaves c's entries in the table:
 * they are dropped when their keys change (as Redis does). */
void tracking_enable(struct client *c, uint64_t redir, unsigned options,
                     const struct slice *prefixes, int nprefixes);
void tracking_disable(struct client *c);
/* c is being freed (also disables). */
void tracking_client_free(struct client *c);

/* After cmd ran for c (command_call): remember its keys if c tracks in
 * default mode and the command is read-only.  Scripts' commands count
 * for the script's caller. */
void tracking_command_done(struct client *c, const struct command *cmd, int argc,
                           const struct slice *argv);
/* After a top-level command: send the invalidations held for the client
 * that ran it (they follow its reply). */
void tracking_after_command(void);
/* The end of c's command cmd (NULL if unknown): CLIENT CACHING's flag
 * lasts until the next command other than CLIENT's, outside MULTI. */
void tracking_command_end(struct client *c, const struct command *cmd);

/* A capturing client (route.c) runs a command for c: c counts as the
 * writer for NOLOOP.  End when the command returned. */
void tracking_proxy_begin(struct client *proxy, const struct client *c);
void tracking_proxy_end(struct client *proxy);

/* Remember key for c (default mode). */
void tracking_remember(struct client *c, const char *key, size_t len);

/* A key changed (db_signal_modified). */
void tracking_invalidate_key(const char *key, size_t len);
/* FLUSHDB / FLUSHALL: a null to every tracking client, the table emptied. */
void tracking_invalidate_all(void);
/* The null alone (clients drop their whole cache), the table kept. */
void tracking_flush_clients(void);
/* The same for one client (the link its remote reads were tracked on is
 * gone). */
void tracking_flush_client(struct client *c);

/* Loop hooks: BCAST messages and the table limit (before sleep); the
 * table limit (cron). */
void tracking_before_sleep(void);
void tracking_cron(void);

/* INFO. */
size_t tracking_clients(void);
size_t tracking_total_keys(void);
size_t tracking_total_items(void);
size_t tracking_total_prefixes(void);

/* Does prefix p (len) overlap (one is a prefix of the other) with q? */
int tracking_prefixes_overlap(const char *p, size_t plen, const char *q, size_t qlen);

/* Drop c from key's entry (a NOLOOP client's forwarded write). */
void tracking_forget(struct client *c, const char *key, size_t len);
/* A peer node says key changed: kind 't' for the table, 'b' for the
 * BCAST prefixes (origin: the id of this node's client that wrote it, 0
 * if another). */
void tracking_peer_invalidated(char kind, const char *key, size_t len, uint64_t origin);

/* Add one BCAST prefix to c (tracking on in BCAST mode). */
void tracking_add_prefix(struct client *c, const char *p, size_t len);

/* Ring mode (tracking_ring.c): send keys[0..n) to c, a peer node's link
 * that registered them, as a push frame (kind 't': keys of the table,
 * 'b': keys matching its prefixes, each with origins[i], the id of the
 * peer's client that wrote it or 0). */
void tracking_node_push(struct client *c, char kind, const char *const *keys,
                        const size_t *lens, const uint64_t *origins, size_t n);
/* Is the frame p (len) such a push?  Handle it (link.c calls these). */
int tracking_ring_is_push(const char *p, size_t len);
void tracking_ring_push(const char *p, size_t len);

/* The forwarding side (route.c): before forwarding cmd for c over l,
 * register its keys on the peer if it is a tracked read; the keys to
 * remember (or, for a NOLOOP client's write, to forget) when the reply
 * arrives, or NULL.  tracking_ring_reply() applies them (ok: a reply
 * came; c NULL: the client is gone) and frees them. */
struct tracking_keys;
struct tracking_keys *tracking_ring_forward(struct client *c, const struct command *cmd, int argc,
                                            const struct slice *argv, struct link *l);
void tracking_ring_reply(struct client *c, struct tracking_keys **k, int ok);
/* A transaction shipped whole: collect the keys its queued commands read
 * (*k created on the first), then register them on l before MULTI. */
void tracking_ring_collect(struct tracking_keys **k, struct client *c, const struct command *cmd,
                           int argc, const struct slice *argv);
void tracking_ring_register(struct tracking_keys *k, struct link *l);
/* CLIENT TRACKING ... BCAST: c's prefixes to every other member. */
void tracking_ring_register_prefixes(struct client *c);
/* A link that carried registrations failed (link.c). */
void tracking_ring_link_lost(void);
void tracking_ring_cron(void);

#endif
