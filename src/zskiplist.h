/*
 * zskiplist.h — a skiplist ordered by (score, member), with span counters
 * so that ranks are found in O(log n): the ordered half of a big sorted set
 * (t_zset.c pairs it with a dict for member lookups).
 *
 * Order: by score (a double, never NaN), then by member bytes compared with
 * memcmp and, on a common prefix, the shorter member first — the order
 * Redis's sorted sets use, so ranges and ranks agree with Redis.  A member
 * appears at most once; keeping it so is the caller's job.
 *
 * Nodes.  One allocation per element: an optional caller-owned prefix of
 * `hdr` bytes (given at creation; t_zset.c keeps its dict link there, so a
 * node is at the same time a dict element), the node, its level array and
 * the member bytes.  A node never moves while it is in the list, even when
 * its score changes (zsl_update_score relinks the same node).
 *
 * Ranks are 1-based here, as in the classic algorithm (rank 0 = absent);
 * the command layer converts to Redis's 0-based ranks.
 *
 * Levels are drawn with probability 1/4 per extra level, up to
 * ZSL_MAXLEVEL, from a small generator private to this file (seed it with
 * zsl_seed() for reproducible tests).  Not thread-safe: a skiplist belongs
 * to one thread, except that zsl_destroy() may run on any thread that owns
 * the list outright (background freeing).
 */
#ifndef RC_ZSKIPLIST_H
#define RC_ZSKIPLIST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZSL_MAXLEVEL 32

struct zsl_node;

struct zsl_level {
    struct zsl_node *forward;
    size_t span;                 /* nodes passed by following forward */
};

struct zsl_node {
    double score;
    struct zsl_node *backward;   /* previous node on level 0, NULL for the first */
    size_t mlen;                 /* member length */
    uint32_t level;              /* entries in lvl[] */
    struct zsl_level lvl[];      /* followed by the member bytes */
};

struct zsl {
    size_t length;
    size_t hdr;                  /* caller prefix bytes before each node */
    int level;                   /* highest level in use, >= 1 */
    struct zsl_node *tail;
    struct zsl_node *head;       /* sentinel with ZSL_MAXLEVEL levels */
};

/* A score interval; minex/maxex make an end exclusive. */
struct zsl_range {
    double min, max;
    int minex, maxex;
};

/* One end of a lex interval: "-" (below everything), "+" (above
 * everything), or a member that is included or not. */
enum zsl_lex_kind { ZSL_LEX_NEG_INF, ZSL_LEX_POS_INF, ZSL_LEX_INCL, ZSL_LEX_EXCL };

struct zsl_lexbound {
    int kind;                    /* enum zsl_lex_kind */
    const char *p;               /* bytes of the member for INCL/EXCL */
    size_t len;
};

struct zsl_lexrange {
    struct zsl_lexbound min, max;
};

/* Called for each node a range deletion removes, before it is freed. */
typedef void zsl_delete_fn(void *arg, struct zsl_node *n);

/* ---- nodes ---- */

static inline const char *zsl_member(const struct zsl_node *n)
{
    return (const char *)(n->lvl + n->level);
}

static inline struct zsl_node *zsl_next(const struct zsl_node *n)
{
    return n->lvl[0].forward;
}

/* The caller's prefix of node n (hdr bytes) and the way back. */
static inline void *zsl_node_prefix(const struct zsl *z, struct zsl_node *n)
{
    return (char *)n - z->hdr;
}

static inline struct zsl_node *zsl_node_from_prefix(size_t hdr, void *prefix)
{
    return (struct zsl_node *)(void *)((char *)prefix + hdr);
}

/* Compare members as sorted sets do: memcmp, then length. */
static inline int zsl_cmp_member(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* ---- whole list ---- */

/* Rounds hdr up so that nodes stay aligned.  The caller owns the result. */
struct zsl *zsl_create(size_t hdr);

/* Frees every node and the list; *z becomes NULL.  NULL is allowed. */
void zsl_destroy(struct zsl **z);

static inline size_t zsl_length(const struct zsl *z) { return z->length; }
static inline struct zsl_node *zsl_first(const struct zsl *z) { return z->head->lvl[0].forward; }
static inline struct zsl_node *zsl_last(const struct zsl *z) { return z->tail; }

/* Bytes of the allocation of node n including the prefix (for memory
 * accounting without asking the allocator). */
size_t zsl_node_alloc_size(const struct zsl *z, const struct zsl_node *n);

/* Seeds the level generator (tests). */
void zsl_seed(uint64_t seed);

/* ---- elements ---- */

/*
 * Inserts member m[0..mlen) with score (not NaN); the member must not be in
 * the list.  Returns the new node, owned by the list.
 */
struct zsl_node *zsl_insert(struct zsl *z, double score, const char *m, size_t mlen);

/* Unlinks node n (which must be in z) and frees it. */
void zsl_delete_node(struct zsl *z, struct zsl_node *n);

/* Finds the element (score, m) and frees it; 1 if found, 0 if not. */
int zsl_delete(struct zsl *z, double score, const char *m, size_t mlen);

/*
 * Changes the score of node n (in z) to newscore (not NaN), moving it if the
 * order requires.  The node keeps its address.
 */
void zsl_update_score(struct zsl *z, struct zsl_node *n, double newscore);

/* 1-based rank of the element (score, m), 0 if absent. */
size_t zsl_rank(const struct zsl *z, double score, const char *m, size_t mlen);

/* The node with 1-based rank, NULL if rank is 0 or > length. */
struct zsl_node *zsl_by_rank(const struct zsl *z, size_t rank);

/* ---- ranges ---- */

static inline int zsl_gte_min(double v, const struct zsl_range *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

static inline int zsl_lte_max(double v, const struct zsl_range *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

/* Nonzero when no score can be inside r (min > max, or equal with an
 * exclusive end). */
int zsl_range_empty(const struct zsl_range *r);

/* Lex tests of member s[0..len) against one end of a lex range. */
int zsl_lex_gte_min(const char *s, size_t len, const struct zsl_lexrange *r);
int zsl_lex_lte_max(const char *s, size_t len, const struct zsl_lexrange *r);

/* Nonzero when no member can be inside r. */
int zsl_lexrange_empty(const struct zsl_lexrange *r);

/* First / last node whose score is in r, NULL if none. */
struct zsl_node *zsl_first_in_range(const struct zsl *z, const struct zsl_range *r);
struct zsl_node *zsl_last_in_range(const struct zsl *z, const struct zsl_range *r);

/* First / last node whose member is in r, NULL if none.  Lex ranges are
 * meaningful when all scores are equal, as in Redis. */
struct zsl_node *zsl_first_in_lex(const struct zsl *z, const struct zsl_lexrange *r);
struct zsl_node *zsl_last_in_lex(const struct zsl *z, const struct zsl_lexrange *r);

/*
 * Range deletions.  Each calls fn(arg, node) (if fn is not NULL) for every
 * removed node just before freeing it and returns the number removed.
 * Ranks are 1-based and inclusive; start <= end is not required (nothing
 * happens otherwise).
 */
size_t zsl_delete_range_by_score(struct zsl *z, const struct zsl_range *r,
                                 zsl_delete_fn *fn, void *arg);
size_t zsl_delete_range_by_lex(struct zsl *z, const struct zsl_lexrange *r,
                               zsl_delete_fn *fn, void *arg);
size_t zsl_delete_range_by_rank(struct zsl *z, size_t start, size_t end,
                                zsl_delete_fn *fn, void *arg);

#endif
