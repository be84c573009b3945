/*
 * zskiplist.c — skiplist ordered by (score, member) with rank spans; see
 * zskiplist.h for the contract.
 *
 * The structure is William Pugh's skiplist with the two additions Redis's
 * sorted sets made popular: every forward link records how many level-0
 * nodes it jumps over (its span), so the rank of a node is the sum of the
 * spans followed to reach it, and level 0 is doubly linked (backward) for
 * reverse walks.  Every search below descends from the highest level and,
 * on each level, moves forward while the next node sorts before the target;
 * `update[i]` remembers the last node visited on level i (the node whose
 * link on that level must change), `rank[i]` how many nodes precede it.
 */
#include "zskiplist.h"

#include <stdlib.h>

#include "mem.h"

/* ---- level generator ---- */

static uint64_t zsl_rng = 0x9E3779B97F4A7C15ull;

void zsl_seed(uint64_t seed)
{
    zsl_rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

/* xorshift64*: plenty for choosing levels. */
static uint64_t zsl_rand(void)
{
    uint64_t x = zsl_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    zsl_rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* 1 + the number of consecutive successes of a 1/4 coin, capped. */
static int zsl_random_level(void)
{
    uint64_t r = zsl_rand();
    int level = 1;
    while (level < ZSL_MAXLEVEL && (r & 3) == 0) {
        level++;
        r >>= 2;
        if (r == 0)
            r = zsl_rand();
    }
    return level;
}

/* ---- nodes ---- */

static size_t node_bytes(int level, size_t mlen)
{
    size_t fixed = sizeof(struct zsl_node) + (size_t)level * sizeof(struct zsl_level);
    if (mlen > SIZE_MAX - fixed)
        abort();    /* members are bounded by the protocol's bulk limit */
    return fixed + mlen;
}

size_t zsl_node_alloc_size(const struct zsl *z, const struct zsl_node *n)
{
    return z->hdr + node_bytes((int)n->level, n->mlen);
}

static struct zsl_node *node_new(const struct zsl *z, int level, double score,
                                 const char *m, size_t mlen)
{
    size_t bytes = node_bytes(level, mlen);
    if (bytes > SIZE_MAX - z->hdr)
        abort();
    char *block = rc_malloc(z->hdr + bytes);
    struct zsl_node *n = (struct zsl_node *)(void *)(block + z->hdr);
    n->score = score;
    n->backward = NULL;
    n->mlen = mlen;
    n->level = (uint32_t)level;
    if (mlen)
        memcpy((char *)(n->lvl + level), m, mlen);
    return n;
}

static void node_free(const struct zsl *z, struct zsl_node *n)
{
    rc_free((char *)n - z->hdr);
}

/* Does node n sort before (score, m)? */
static int node_before(const struct zsl_node *n, double score, const char *m, size_t mlen)
{
    if (n->score < score)
        return 1;
    if (n->score > score)
        return 0;
    return zsl_cmp_member(zsl_member(n), n->mlen, m, mlen) < 0;
}

/* ---- whole list ---- */

struct zsl *zsl_create(size_t hdr)
{
    size_t align = _Alignof(struct zsl_node);
    struct zsl *z = rc_malloc(sizeof(*z));
    z->hdr = (hdr + align - 1) / align * align;
    z->length = 0;
    z->level = 1;
    z->tail = NULL;
    z->head = rc_malloc(node_bytes(ZSL_MAXLEVEL, 0));
    z->head->score = 0;
    z->head->backward = NULL;
    z->head->mlen = 0;
    z->head->level = ZSL_MAXLEVEL;
    for (int i = 0; i < ZSL_MAXLEVEL; i++) {
        z->head->lvl[i].forward = NULL;
        z->head->lvl[i].span = 0;
    }
    return z;
}

void zsl_destroy(struct zsl **zp)
{
    struct zsl *z = *zp;
    if (z == NULL)
        return;
    struct zsl_node *n = z->head->lvl[0].forward;
    while (n != NULL) {
        struct zsl_node *next = n->lvl[0].forward;
        node_free(z, n);
        n = next;
    }
    rc_free(z->head);
    rc_free(z);
    *zp = NULL;
}

/* ---- linking ---- */

/* Fills update[] / rank[] with the insertion path of (score, m). */
static void find_path(const struct zsl *z, double score, const char *m, size_t mlen,
                      struct zsl_node **update, size_t *rank)
{
    struct zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--) {
        if (rank)
            rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->lvl[i].forward && node_before(x->lvl[i].forward, score, m, mlen)) {
            if (rank)
                rank[i] += x->lvl[i].span;
            x = x->lvl[i].forward;
        }
        update[i] = x;
    }
}

/* Links node x (level, score and member set; not in the list). */
static void link_node(struct zsl *z, struct zsl_node *x)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    size_t rank[ZSL_MAXLEVEL];
    int level = (int)x->level;

    find_path(z, x->score, zsl_member(x), x->mlen, update, rank);
    if (level > z->level) {
        for (int i = z->level; i < level; i++) {
            rank[i] = 0;
            update[i] = z->head;
            update[i]->lvl[i].span = z->length;
        }
        z->level = level;
    }
    for (int i = 0; i < level; i++) {
        x->lvl[i].forward = update[i]->lvl[i].forward;
        update[i]->lvl[i].forward = x;
        /* update[i] used to span to its old successor; x now sits
         * (rank[0] - rank[i]) + 1 nodes after update[i]. */
        x->lvl[i].span = update[i]->lvl[i].span - (rank[0] - rank[i]);
        update[i]->lvl[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < z->level; i++)
        update[i]->lvl[i].span++;
    x->backward = update[0] == z->head ? NULL : update[0];
    if (x->lvl[0].forward)
        x->lvl[0].forward->backward = x;
    else
        z->tail = x;
    z->length++;
}

/* Unlinks x given its path update[] (not freed). */
static void unlink_node(struct zsl *z, struct zsl_node *x, struct zsl_node **update)
{
    for (int i = 0; i < z->level; i++) {
        if (update[i]->lvl[i].forward == x) {
            update[i]->lvl[i].span += x->lvl[i].span - 1;
            update[i]->lvl[i].forward = x->lvl[i].forward;
        } else {
            update[i]->lvl[i].span -= 1;
        }
    }
    if (x->lvl[0].forward)
        x->lvl[0].forward->backward = x->backward;
    else
        z->tail = x->backward;
    while (z->level > 1 && z->head->lvl[z->level - 1].forward == NULL)
        z->level--;
    z->length--;
}

/* ---- elements ---- */

struct zsl_node *zsl_insert(struct zsl *z, double score, const char *m, size_t mlen)
{
    struct zsl_node *x = node_new(z, zsl_random_level(), score, m, mlen);
    link_node(z, x);
    return x;
}

void zsl_delete_node(struct zsl *z, struct zsl_node *n)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    find_path(z, n->score, zsl_member(n), n->mlen, update, NULL);
    if (update[0]->lvl[0].forward != n)
        abort();    /* n is not in z: a caller bug that would corrupt the list */
    unlink_node(z, n, update);
    node_free(z, n);
}

int zsl_delete(struct zsl *z, double score, const char *m, size_t mlen)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    find_path(z, score, m, mlen, update, NULL);
    struct zsl_node *x = update[0]->lvl[0].forward;
    if (x == NULL || x->score != score || zsl_cmp_member(zsl_member(x), x->mlen, m, mlen) != 0)
        return 0;
    unlink_node(z, x, update);
    node_free(z, x);
    return 1;
}

void zsl_update_score(struct zsl *z, struct zsl_node *n, double newscore)
{
    /* Still between its neighbours: only the score changes.  (Equal scores
     * on either side would need the member order checked; relinking is
     * always right, so only the clear case is short-cut.) */
    if ((n->backward == NULL || n->backward->score < newscore) &&
        (n->lvl[0].forward == NULL || n->lvl[0].forward->score > newscore)) {
        n->score = newscore;
        return;
    }
    struct zsl_node *update[ZSL_MAXLEVEL];
    find_path(z, n->score, zsl_member(n), n->mlen, update, NULL);
    if (update[0]->lvl[0].forward != n)
        abort();
    unlink_node(z, n, update);
    n->score = newscore;
    link_node(z, n);
}

size_t zsl_rank(const struct zsl *z, double score, const char *m, size_t mlen)
{
    const struct zsl_node *x = z->head;
    size_t rank = 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lvl[i].forward) {
            const struct zsl_node *f = x->lvl[i].forward;
            if (f->score < score ||
                (f->score == score && zsl_cmp_member(zsl_member(f), f->mlen, m, mlen) <= 0)) {
                rank += x->lvl[i].span;
                x = f;
            } else {
                break;
            }
        }
        /* x may be the element itself: its rank is then known. */
        if (x != z->head && x->score == score &&
            zsl_cmp_member(zsl_member(x), x->mlen, m, mlen) == 0)
            return rank;
    }
    return 0;
}

struct zsl_node *zsl_by_rank(const struct zsl *z, size_t rank)
{
    if (rank == 0 || rank > z->length)
        return NULL;
    struct zsl_node *x = z->head;
    size_t traversed = 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lvl[i].forward && traversed + x->lvl[i].span <= rank) {
            traversed += x->lvl[i].span;
            x = x->lvl[i].forward;
        }
        if (traversed == rank)
            return x;
    }
    return NULL;
}

/* ---- ranges ---- */

int zsl_range_empty(const struct zsl_range *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

int zsl_lex_gte_min(const char *s, size_t len, const struct zsl_lexrange *r)
{
    switch (r->min.kind) {
    case ZSL_LEX_NEG_INF: return 1;
    case ZSL_LEX_POS_INF: return 0;
    case ZSL_LEX_INCL: return zsl_cmp_member(s, len, r->min.p, r->min.len) >= 0;
    default: return zsl_cmp_member(s, len, r->min.p, r->min.len) > 0;
    }
}

int zsl_lex_lte_max(const char *s, size_t len, const struct zsl_lexrange *r)
{
    switch (r->max.kind) {
    case ZSL_LEX_NEG_INF: return 0;
    case ZSL_LEX_POS_INF: return 1;
    case ZSL_LEX_INCL: return zsl_cmp_member(s, len, r->max.p, r->max.len) <= 0;
    default: return zsl_cmp_member(s, len, r->max.p, r->max.len) < 0;
    }
}

int zsl_lexrange_empty(const struct zsl_lexrange *r)
{
    if (r->min.kind == ZSL_LEX_POS_INF || r->max.kind == ZSL_LEX_NEG_INF)
        return 1;
    if (r->min.kind == ZSL_LEX_NEG_INF || r->max.kind == ZSL_LEX_POS_INF)
        return 0;
    int c = zsl_cmp_member(r->min.p, r->min.len, r->max.p, r->max.len);
    return c > 0 || (c == 0 && (r->min.kind == ZSL_LEX_EXCL || r->max.kind == ZSL_LEX_EXCL));
}

/* Could any node of z be in r?  (Cheap test against both ends.) */
static int in_range(const struct zsl *z, const struct zsl_range *r)
{
    if (zsl_range_empty(r) || z->tail == NULL)
        return 0;
    return zsl_gte_min(z->tail->score, r) && zsl_lte_max(z->head->lvl[0].forward->score, r);
}

static int in_lex_range(const struct zsl *z, const struct zsl_lexrange *r)
{
    if (zsl_lexrange_empty(r) || z->tail == NULL)
        return 0;
    const struct zsl_node *f = z->head->lvl[0].forward;
    return zsl_lex_gte_min(zsl_member(z->tail), z->tail->mlen, r) &&
           zsl_lex_lte_max(zsl_member(f), f->mlen, r);
}

struct zsl_node *zsl_first_in_range(const struct zsl *z, const struct zsl_range *r)
{
    if (!in_range(z, r))
        return NULL;
    struct zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lvl[i].forward && !zsl_gte_min(x->lvl[i].forward->score, r))
            x = x->lvl[i].forward;
    x = x->lvl[0].forward;    /* not NULL: the tail is >= min */
    return zsl_lte_max(x->score, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_range(const struct zsl *z, const struct zsl_range *r)
{
    if (!in_range(z, r))
        return NULL;
    struct zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lvl[i].forward && zsl_lte_max(x->lvl[i].forward->score, r))
            x = x->lvl[i].forward;
    /* x is not the head: the first node is <= max. */
    return zsl_gte_min(x->score, r) ? x : NULL;
}

struct zsl_node *zsl_first_in_lex(const struct zsl *z, const struct zsl_lexrange *r)
{
    if (!in_lex_range(z, r))
        return NULL;
    struct zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lvl[i].forward &&
               !zsl_lex_gte_min(zsl_member(x->lvl[i].forward), x->lvl[i].forward->mlen, r))
            x = x->lvl[i].forward;
    x = x->lvl[0].forward;
    return zsl_lex_lte_max(zsl_member(x), x->mlen, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_lex(const struct zsl *z, const struct zsl_lexrange *r)
{
    if (!in_lex_range(z, r))
        return NULL;
    struct zsl_node *x = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lvl[i].forward &&
               zsl_lex_lte_max(zsl_member(x->lvl[i].forward), x->lvl[i].forward->mlen, r))
            x = x->lvl[i].forward;
    return zsl_lex_gte_min(zsl_member(x), x->mlen, r) ? x : NULL;
}

/* ---- range deletions ---- */

size_t zsl_delete_range_by_score(struct zsl *z, const struct zsl_range *r,
                                 zsl_delete_fn *fn, void *arg)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    struct zsl_node *x = z->head;
    size_t removed = 0;

    if (zsl_range_empty(r))
        return 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lvl[i].forward && !zsl_gte_min(x->lvl[i].forward->score, r))
            x = x->lvl[i].forward;
        update[i] = x;
    }
    x = x->lvl[0].forward;
    while (x && zsl_lte_max(x->score, r)) {
        struct zsl_node *next = x->lvl[0].forward;
        unlink_node(z, x, update);
        if (fn)
            fn(arg, x);
        node_free(z, x);
        removed++;
        x = next;
    }
    return removed;
}

size_t zsl_delete_range_by_lex(struct zsl *z, const struct zsl_lexrange *r,
                               zsl_delete_fn *fn, void *arg)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    struct zsl_node *x = z->head;
    size_t removed = 0;

    if (zsl_lexrange_empty(r))
        return 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lvl[i].forward &&
               !zsl_lex_gte_min(zsl_member(x->lvl[i].forward), x->lvl[i].forward->mlen, r))
            x = x->lvl[i].forward;
        update[i] = x;
    }
    x = x->lvl[0].forward;
    while (x && zsl_lex_lte_max(zsl_member(x), x->mlen, r)) {
        struct zsl_node *next = x->lvl[0].forward;
        unlink_node(z, x, update);
        if (fn)
            fn(arg, x);
        node_free(z, x);
        removed++;
        x = next;
    }
    return removed;
}

size_t zsl_delete_range_by_rank(struct zsl *z, size_t start, size_t end,
                                zsl_delete_fn *fn, void *arg)
{
    struct zsl_node *update[ZSL_MAXLEVEL];
    struct zsl_node *x = z->head;
    size_t traversed = 0, removed = 0;

    if (start == 0 || start > end)
        return 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lvl[i].forward && traversed + x->lvl[i].span < start) {
            traversed += x->lvl[i].span;
            x = x->lvl[i].forward;
        }
        update[i] = x;
    }
    traversed++;
    x = x->lvl[0].forward;
    while (x && traversed <= end) {
        struct zsl_node *next = x->lvl[0].forward;
        unlink_node(z, x, update);
        if (fn)
            fn(arg, x);
        node_free(z, x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}
