/*
 * stream.h — the stream value: entries in listpack nodes, consumer groups,
 * their consumers and pending entries lists (PELs).
 *
 * Entries are kept exactly as Redis 7.0 keeps them, so that a node's
 * listpack is byte for byte the one redis-server builds for the same
 * commands (and RDB/DUMP payloads match):
 *
 *   - The nodes form a radix tree (rax.h) keyed by the node's master ID as
 *     16 big-endian bytes, holding the node's listpack, as Redis's does;
 *     the tree has the nodes redis-server's has (XINFO's
 *     radix-tree-nodes).
 *   - A node's listpack starts with the master entry
 *         count | deleted | num-fields | field_1 ... field_N | 0
 *     (count: live entries, deleted: entries flagged deleted), followed by
 *     the entries, each
 *         flags | ms-diff | seq-diff | [num-fields | f_1 v_1 ... ] | lp-count
 *     or, when the entry has the master's fields in the same order (flag
 *     SAMEFIELDS), flags | ms-diff | seq-diff | v_1 ... v_N | lp-count.
 *     The diffs are relative to the master ID; lp-count is the number of
 *     listpack elements of the entry before it (so the node can be walked
 *     backwards).  Deleting an entry only sets its DELETED flag; a node
 *     whose live count drops to zero is removed.
 *   - A new node starts when the last one holds node_max_entries entries
 *     (live and deleted) or would reach node_max_bytes with the new entry
 *     (stream-node-max-entries / stream-node-max-bytes; 0 means no limit,
 *     bytes are capped at 1 GB as in Redis).  Our listpacks encode entries
 *     differently from Redis's (listpack.c), so each node also keeps the
 *     size Redis's listpack of the same entries has, and the byte limit
 *     is checked against that: nodes split where redis-server splits
 *     them.  Only the last node grows, so only its size is kept
 *     (tail_rbytes; recomputed from the entries when the last node is
 *     removed and the one before becomes last).  RDB and DUMP convert the
 *     nodes to Redis's encoding.
 *   - Consumer groups (by name), each group's consumers (by name) and PEL
 *     (by id) and each consumer's PEL are radix trees too, as in Redis.
 *
 * This file knows nothing of clients or replies: t_stream.c does the
 * commands, rdbstream.c the RDB encoding.
 */
#ifndef RC_STREAM_H
#define RC_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "rax.h"

struct stream_id {
    uint64_t ms;
    uint64_t seq;
};

/* Entry flags. */
#define STREAM_ITEM_DELETED 1
#define STREAM_ITEM_SAMEFIELDS 2

/* Cap of a node's size, as Redis's STREAM_LISTPACK_MAX_SIZE. */
#define STREAM_NODE_HARD_MAX_BYTES (1UL << 30)

/* An entries-read counter that is not known (SCG_INVALID_ENTRIES_READ). */
#define STREAM_ENTRIES_READ_INVALID (-1LL)

struct stream_consumer;

/* A delivered, not yet acknowledged entry (one per group and ID; the
 * group's PEL and its consumer's PEL point to the same nack, under its
 * id: the nack does not repeat it, as in Redis). */
struct stream_nack {
    long long delivery_time;            /* unix ms of the last delivery */
    uint64_t delivery_count;
    struct stream_consumer *consumer;
};

struct stream_consumer {
    char *name;
    size_t nlen;
    long long seen_time;                /* unix ms */
    struct rax pel;                     /* id -> its nack */
};

struct stream_cg {
    char *name;
    size_t nlen;
    struct stream_id last_id;
    long long entries_read;             /* or STREAM_ENTRIES_READ_INVALID */
    struct rax pel;                     /* id -> nack; owns the nacks */
    struct rax consumers;               /* name -> struct stream_consumer */
};

struct stream {
    struct rax nodes;                   /* master id -> listpack */
    struct stream_id tail_master;       /* the last node (if any) */
    size_t tail_rbytes;                 /* its size in Redis's listpack encoding */
    uint64_t length;                    /* live entries */
    struct stream_id last_id;           /* last id ever added */
    struct stream_id first_id;          /* first live entry (see stream_update_first) */
    struct stream_id max_deleted_id;    /* greatest id ever XDELed */
    uint64_t entries_added;             /* entries ever added */
    struct rax groups;                  /* name -> struct stream_cg */
};

/* A field or value given to stream_append. */
struct stream_str {
    const char *p;
    size_t len;
};

/* ---- ids ---- */

int stream_id_cmp(const struct stream_id *a, const struct stream_id *b);
/* Next / previous id; -1 when there is none (max / 0-0). */
int stream_id_incr(struct stream_id *id);
int stream_id_decr(struct stream_id *id);
/* "ms-seq" into buf (at least STREAM_ID_STR_SIZE bytes); returns length. */
#define STREAM_ID_STR_SIZE 44
size_t stream_id_fmt(char *buf, const struct stream_id *id);
void stream_id_encode(unsigned char out[16], const struct stream_id *id);
void stream_id_decode(const unsigned char in[16], struct stream_id *id);

/* ---- the stream ---- */

struct stream *stream_new(void);
void stream_destroy(struct stream **s);
struct stream *stream_dup(const struct stream *s);
size_t stream_mem(const struct stream *s);
/* Allocations freeing s takes (lazy free decides by it, as Redis's
 * lazyfreeGetFreeEffort: nodes, plus groups and their PELs). */
size_t stream_free_effort(const struct stream *s);

/*
 * Appends an entry of nfields field/value pairs (fv[0..2*nfields)) under
 * id, which the caller has checked is greater than s->last_id.  Returns 0,
 * or -1 if the fields are too large for a node (nothing changed).
 */
int stream_append(struct stream *s, const struct stream_id *id, const struct stream_str *fv,
                  size_t nfields, size_t node_max_bytes, long long node_max_entries);

/* Deletes the live entry id; returns 1 if it was there, else 0.  Does
 * not update first_id / max_deleted_id (XDEL does). */
int stream_delete(struct stream *s, const struct stream_id *id);

/* Is there a live entry with this id? */
int stream_has_entry(const struct stream *s, const struct stream_id *id);

/*
 * Trims from the head: to at most maxlen live entries (minid NULL) or
 * every entry below *minid.  approx: only whole nodes go.  limit > 0:
 * stop before removing more than limit entries (approx only).  Updates
 * length and first_id; returns the number of entries removed.
 */
uint64_t stream_trim(struct stream *s, const long long *maxlen, const struct stream_id *minid,
                     int approx, long long limit);

/* First (first = 1) or last live id; 0 if the stream has none. */
int stream_edge_id(const struct stream *s, int first, struct stream_id *id);

/* Nodes of the node tree (XINFO's radix-tree-nodes). */
size_t stream_rax_nodes(const struct stream *s);

/* Sets first_id from the entries (Redis's streamGetEdgeID semantics: an
 * empty stream gets 0-0). */
void stream_update_first(struct stream *s);

/* ---- iterating entries ---- */

struct stream_iter {
    const struct stream *s;
    struct stream_id start, end;
    int rev;
    int node_state;         /* before the first node, in one, past one, done */
    struct stream_id master; /* the current node */
    void **ref;             /* its listpack in the node tree (rax_ref_get) */
    int first_known;        /* the first node was sought: 1 found, -1 none */
    struct stream_id first_master;
    void **first_ref;
    const unsigned char *lp;
    size_t master_fields;   /* offset of the first master field */
    int64_t master_nfields;
    size_t first_entry;     /* offset of the first entry's flags */
    size_t pos;             /* fwd: next entry's flags; rev: next entry's lp-count */
    /* current entry */
    size_t entry;           /* offset of its flags */
    int64_t flags;
    size_t fv;              /* offset of its first field (or value) */
    int64_t nfields;
    size_t mf;              /* field cursor in the master (SAMEFIELDS) */
    int64_t fv_left;
};

/* Iterate the live entries with start <= id <= end, ascending (rev = 0)
 * or descending.  The stream must not change during the walk, except by
 * stream_iter_delete() of the current entry. */
void stream_iter_start(struct stream_iter *it, const struct stream *s,
                       const struct stream_id *start, const struct stream_id *end, int rev);
/* Starts the same walk again, without looking for the first node again:
 * the stream must not have changed since stream_iter_start. */
void stream_iter_rewind(struct stream_iter *it);
/* Next entry: 1 with its id and field count, 0 at the end. */
int stream_iter_next(struct stream_iter *it, struct stream_id *id, int64_t *nfields);
/* The next field and value of the current entry (call nfields times).
 * Integers are formatted into fbuf/vbuf (LP_INTBUF_SIZE bytes). */
void stream_iter_field(struct stream_iter *it, const char **f, size_t *flen, char *fbuf,
                       const char **v, size_t *vlen, char *vbuf);
/* Positions it on the live entry id: 1 (with its field count) or 0. */
int stream_iter_find(struct stream_iter *it, const struct stream *s, const struct stream_id *id,
                     int64_t *nfields);
/* Deletes the current entry (see stream_delete). */
void stream_iter_delete(struct stream_iter *it);

/* ---- groups, consumers, PELs ---- */

struct stream_cg *stream_cg_find(const struct stream *s, const char *name, size_t len);
/* NULL if a group of this name exists. */
struct stream_cg *stream_cg_create(struct stream *s, const char *name, size_t len,
                                   const struct stream_id *last_id, long long entries_read);
void stream_cg_destroy(struct stream *s, struct stream_cg *cg);

struct stream_consumer *stream_consumer_find(const struct stream_cg *cg, const char *name,
                                             size_t len);
/* NULL if it exists. */
struct stream_consumer *stream_consumer_create(struct stream_cg *cg, const char *name,
                                               size_t len, long long now);
/* Deletes the consumer and its pending entries; returns how many. */
size_t stream_consumer_delete(struct stream_cg *cg, struct stream_consumer *cons);

struct stream_nack *stream_pel_find(const struct rax *pel, const struct stream_id *id);
/* Starts it (rax_next gives the nacks in id order) at the first nack of
 * pel with id >= *start (all if start is NULL); rax_iter_stop it after. */
void stream_pel_iter(struct rax_iter *it, const struct rax *pel, const struct stream_id *start);
/* Adds a new nack for id owned by cons to the group and consumer PELs;
 * NULL if the group already has one. */
struct stream_nack *stream_nack_add(struct stream_cg *cg, struct stream_consumer *cons,
                                    const struct stream_id *id, long long now);
/* RDB loading: a nack in the group PEL only, without a consumer (NULL if
 * the group has one for id), then given to its consumer. */
struct stream_nack *stream_nack_load(struct stream_cg *cg, const struct stream_id *id,
                                     long long delivery_time, uint64_t delivery_count);
void stream_nack_own(struct stream_nack *nack, const struct stream_id *id,
                     struct stream_consumer *cons);
/* Gives the nack of id to another consumer. */
void stream_nack_move(struct stream_nack *nack, const struct stream_id *id,
                      struct stream_consumer *to);
/* Removes the nack of id from the group and its consumer and frees it:
 * 1, or 0 if id was not pending. */
int stream_nack_del(struct stream_cg *cg, const struct stream_id *id);

/* ---- lag and entries-read (Redis 7.0) ---- */

int stream_range_has_tombstones(const struct stream *s, const struct stream_id *start);
long long stream_estimate_distance(const struct stream *s, const struct stream_id *id);

/*
 * Checks a node listpack (already validated as a listpack) against the
 * stream entry layout: master entry, entry structure, flags, lp-counts,
 * counters, ids strictly increasing from master (stored in *last, the
 * node's last id).  Sets *live to the live entries.  1 if valid.
 */
int stream_node_validate(const unsigned char *lp, const struct stream_id *master,
                         struct stream_id *last, uint64_t *live);

/* Adds a node as loaded, after every other (the caller validated it and
 * keeps the order); it becomes the last node, of rbytes bytes in Redis's
 * encoding. */
void stream_push_node(struct stream *s, const struct stream_id *master, unsigned char *lp,
                      size_t rbytes);

#endif
