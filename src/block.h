/*
 * block.h — clients waiting for keys: the machinery behind BLPOP, BRPOP,
 * BLMOVE, BRPOPLPUSH, BLMPOP and (for sorted sets) BZPOPMIN, BZPOPMAX,
 * BZMPOP.  It follows Redis 7.0's blocked.c.
 *
 * Life of a blocking command:
 *
 *   1. The handler parses its timeout with block_parse_timeout() (Redis's
 *      exact errors), then tries to serve itself at once.  If it cannot and
 *      block_allowed(c) is 0 (inside MULTI/EXEC, or a fake client), it
 *      replies as Redis does for an immediate timeout and returns.
 *   2. Otherwise it calls block_client() with its keys, the deadline, a
 *      serve callback and a private block of data (a copy of whatever it
 *      needs later: direction, count, destination key...).  The client gets
 *      CF_BLOCKED, and conn.c stops reading commands from it: pipelined
 *      commands after the blocking one wait in the query buffer.
 *   3. Every command that adds elements to a key (LPUSH, LMOVE, ZADD, ...)
 *      calls block_signal_key().  That is cheap when nobody waits on the key
 *      (one hash-table probe, none at all when no client is blocked).
 *   4. After each top-level command (command.c), block_process_ready()
 *      walks the keys signalled since: for each, it offers the key to the
 *      clients waiting on it in the order they blocked (first blocked,
 *      first served), calling their serve callback, until one answers
 *      BLOCK_KEY_DONE or the waiters run out.  A served client is unblocked
 *      from all its keys.  Serving may signal more keys (BLMOVE pushes to
 *      its destination); they are processed in the same call.
 *   5. A deadline that passes makes the client reply a null array ("*-1" in
 *      RESP2, "_" in RESP3), as Redis replies to every timed-out blocking
 *      command, lists and sorted sets alike.  Deadlines are kept in a heap
 *      and a libevent timer fires at the earliest one, so they have
 *      millisecond precision.
 *   6. A client that disconnects while blocked is forgotten
 *      (block_client_free(), called by conn.c when it frees the client).
 *
 * An unblocked client resumes its pipelined input in the loop's
 * before-sleep step: conn.c drains block_next_unblocked().
 *
 * Keys are copied: nothing here points into a client's query buffer.
 */
#ifndef RC_BLOCK_H
#define RC_BLOCK_H

#include <stddef.h>

struct client;
struct db;
struct slice;

/* What a serve callback did with the key it was offered. */
enum block_serve_result {
    BLOCK_SERVED = 0,   /* c got its reply (an answer or an error): unblock it */
    BLOCK_WAIT = 1,     /* c cannot use the key now (e.g. another type): keep it
                           blocked and offer the key to the next waiter */
    BLOCK_KEY_DONE = 2, /* the key cannot serve anyone now (missing, empty):
                           keep c blocked and stop offering this key */
};

/*
 * Called when key[0..klen) of database db, which c waits on, may hold
 * data.  The callback looks the key up itself (db_lookup), checks its type
 * and, if it can, pops what it needs, replies to c and returns
 * BLOCK_SERVED.  It runs inside another client's command (server.mstime is
 * that command's time) and may modify the keyspace, signal keys and
 * increment server.stat_dirty like a command.  priv is the data given to
 * block_client(); it stays owned by block.c.
 */
typedef enum block_serve_result block_serve_fn(struct client *c, struct db *db,
                                                const char *key, size_t klen, void *priv);

/*
 * Parses a blocking command's timeout argument (seconds, fractional
 * allowed) as Redis 7.0 does: "ERR timeout is not a float or out of
 * range" if it is not a number, "ERR timeout is negative" if negative
 * (and for values too big to be milliseconds in a long long, which Redis
 * also rejects that way).  Fractions of a millisecond round up.  On
 * success stores the absolute deadline in unix ms (0 = wait forever) and
 * returns 0; on error replies to c and returns -1.
 */
int block_parse_timeout(struct client *c, const struct slice *arg, long long *deadline);

/* Zero when c must not block: inside MULTI/EXEC (CF_MULTI set while the
 * transaction runs) or a client without a connection.  The command then
 * answers as if the timeout had expired at once. */
int block_allowed(const struct client *c);

/*
 * Blocks c on keys[0..nkeys) of c->db (duplicates are ignored) until
 * deadline (unix ms, 0 = forever).  priv (may be NULL) must come from
 * rc_malloc and hold no pointers to other allocations: block.c owns it
 * from now on and rc_free()s it when c is unblocked in any way.  serve is
 * called as described above.  c must not already be blocked.
 */
void block_client(struct client *c, const struct slice *keys, int nkeys,
                  long long deadline, block_serve_fn *serve, void *priv);

/* A writer added data to key in db: clients waiting on it will be offered
 * it by the next block_process_ready(). */
void block_signal_key(struct db *db, const char *key, size_t len);

/*
 * Serves waiting clients from the keys signalled so far.  command.c calls
 * it once after every top-level command (after EXEC as a whole, never
 * between the commands of a transaction).  Nothing to do costs one test.
 */
void block_process_ready(void);

/* Next client unblocked since the last call (served or timed out) whose
 * pending input should be processed, or NULL.  conn.c drains it in
 * before-sleep. */
struct client *block_next_unblocked(void);

/* CLIENT UNBLOCK: a client blocked on keys gets the error err (without
 * its "-"), or with err NULL its timeout reply, and resumes.  Returns 0
 * if c was not blocked on keys. */
int block_unblock(struct client *c, const char *err);

/* Forget a blocked client without replying (disconnect, RESET).  No-op if
 * c is not blocked. */
void block_client_free(struct client *c);

/* Clients currently blocked (INFO blocked_clients) and those of them with
 * a deadline (INFO clients_in_timeout_table). */
size_t block_count(void);
size_t block_timeout_count(void);

/* No set-up call is needed: the registry and the timer are created when
 * the first client blocks and released when the last one is unblocked, so
 * nothing is left at shutdown once conn.c has freed every client. */

#endif
