/*
 * t_zset.c — the sorted-set commands and the two sorted-set encodings.
 *
 * Encodings (see t_zset.h):
 *   listpack  member, score, member, score, ... sorted by (score, member),
 *             scores as rc_d2str() text.  Small sets: at most
 *             zset-max-listpack-entries members, none longer than
 *             zset-max-listpack-value bytes.
 *   skiplist  struct zset: a zskiplist for order and ranks and a dict for
 *             member -> node.  Each member is one allocation: the dict link
 *             (struct dnode) sits in the skiplist node's caller prefix, so
 *             the node is the dict element and its member bytes are the
 *             dict key.
 * A set moves from listpack to skiplist when an insertion would break the
 * limits, as Redis 7.0 does; it moves back only where Redis does
 * (results of ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE that fit).  ZADD on a new
 * key picks the encoding from the first member, as 7.0's ZADD does.
 *
 * Command behaviour, reply shapes (RESP2 flat arrays, RESP3 nested
 * [member, score] pairs and doubles), error texts and the order of checks
 * follow Redis 7.0.15.  Score arguments of ZADD/ZINCRBY/WEIGHTS use
 * rc_str2d (Redis's string2d); range bounds use strtod on the argument as
 * Redis's zslParseRange does (so " 1", "" and "1e400" are accepted there).
 *
 * Read-only walks over either encoding go through struct zit, a cursor
 * that hides the encoding; writes go through zset_add()/zset_del() and the
 * range deletions, which keep both encodings' invariants.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "block.h"
#include "glob.h"
#include "hash.h"
#include "listpack.h"
#include "propagate.h"
#include "rand.h"
#include "reply.h"
#include "t_set.h"
#include "t_zset.h"
#include "zskiplist.h"

/* ---- the skiplist encoding ---- */

struct zset {
    struct dict *dict;      /* member -> node (the node's prefix is the dnode) */
    struct zsl *zsl;
};

/* The dict link lives in the node's prefix. */
#define ZNODE_HDR sizeof(struct dnode)
_Static_assert(ZNODE_HDR % _Alignof(struct zsl_node) == 0, "prefix keeps nodes aligned");

static struct zsl_node *dn_node(const struct dnode *dn)
{
    return zsl_node_from_prefix(ZNODE_HDR, (void *)(uintptr_t)dn);
}

static struct dnode *node_dn(struct zset *zs, struct zsl_node *n)
{
    return zsl_node_prefix(zs->zsl, n);
}

static uint64_t zdict_hash(const void *key, size_t len)
{
    return rc_hash(key, len);
}

static void zdict_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct zsl_node *z = dn_node(n);
    *key = zsl_member(z);
    *len = z->mlen;
}

/* Nodes are freed by the skiplist, never by the dict. */
static const struct dict_type zset_dict_type = {zdict_hash, zdict_key, NULL};

static struct zset *zset_new(void)
{
    struct zset *zs = rc_malloc(sizeof(*zs));
    zs->dict = dict_create(&zset_dict_type);
    zs->zsl = zsl_create(ZNODE_HDR);
    return zs;
}

static void zset_destroy(struct zset *zs)
{
    dict_destroy(&zs->dict);        /* no destroy callback: nodes stay */
    zsl_destroy(&zs->zsl);
    rc_free(zs);
}

static struct zsl_node *zs_find(struct zset *zs, const char *m, size_t mlen)
{
    struct dnode *dn = dict_find(zs->dict, m, mlen);
    return dn ? dn_node(dn) : NULL;
}

/* Inserts a member known to be absent. */
static struct zsl_node *zs_insert(struct zset *zs, double score, const char *m, size_t mlen)
{
    struct zsl_node *n = zsl_insert(zs->zsl, score, m, mlen);
    dict_add(zs->dict, node_dn(zs, n));
    return n;
}

static void zs_delete_node(struct zset *zs, struct zsl_node *n)
{
    dict_unlink(zs->dict, zsl_member(n), n->mlen);
    zsl_delete_node(zs->zsl, n);
}

/* Range-deletion callback: drop the node from the dict before it is freed. */
static void zs_unlink_cb(void *arg, struct zsl_node *n)
{
    struct zset *zs = arg;
    dict_unlink(zs->dict, zsl_member(n), n->mlen);
}

/* ---- the listpack encoding ---- */

/* Score of the score entry at off. */
static double zl_score(const unsigned char *lp, size_t off)
{
    struct lp_entry e;
    lp_get(lp, off, &e);
    if (e.sval == NULL)
        return (double)e.lval;
    char buf[RC_MAX_D2STRING_CHARS];
    size_t n = e.slen < sizeof(buf) - 1 ? e.slen : sizeof(buf) - 1;
    memcpy(buf, e.sval, n);
    buf[n] = '\0';
    return strtod(buf, NULL);
}

static size_t zl_len(const unsigned char *lp)
{
    return lp_count(lp) / 2;
}

/* Offset of member m, LP_NONE if absent; *score receives its score. */
static size_t zl_find(const unsigned char *lp, const char *m, size_t mlen, double *score)
{
    size_t first = lp_first(lp);
    if (first == LP_NONE)
        return LP_NONE;
    size_t off = lp_find(lp, first, m, mlen, 1);
    if (off != LP_NONE && score)
        *score = zl_score(lp, lp_next(lp, off));
    return off;
}

/* Compare the member entry at off with m. */
static int zl_cmp_member(const unsigned char *lp, size_t off, const char *m, size_t mlen)
{
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *p = lp_get_str(lp, off, &len, buf);
    return zsl_cmp_member(p, len, m, mlen);
}

/* The text a listpack keeps for a score.  Redis 7.0.15 stores a negative
 * zero as "0" in listpacks (its skiplists keep the sign). */
static size_t zl_score_text(char buf[RC_MAX_D2STRING_CHARS], double score)
{
    if (score == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    return rc_d2str(buf, RC_MAX_D2STRING_CHARS, score);
}

/* Inserts (m, score) before the member entry at off (LP_NONE: at the end). */
static unsigned char *zl_insert_at(unsigned char *lp, size_t off, const char *m, size_t mlen,
                                   double score)
{
    char sbuf[RC_MAX_D2STRING_CHARS];
    size_t slen = zl_score_text(sbuf, score);
    size_t moff;
    lp = lp_insert(lp, off, LP_BEFORE, m, mlen, &moff);
    return lp_insert(lp, moff, LP_AFTER, sbuf, slen, NULL);
}

/* Inserts a member known to be absent at its place in the order. */
static unsigned char *zl_insert(unsigned char *lp, const char *m, size_t mlen, double score)
{
    size_t off = lp_first(lp);
    while (off != LP_NONE) {
        size_t soff = lp_next(lp, off);
        double s = zl_score(lp, soff);
        if (s > score || (s == score && zl_cmp_member(lp, off, m, mlen) > 0))
            break;
        off = lp_next(lp, soff);
    }
    return zl_insert_at(lp, off, m, mlen, score);
}

/* ---- values for object.c / bio.c ---- */

void zset_free_value(int enc, void *ptr)
{
    if (ptr == NULL)
        return;
    if (enc == ENC_LISTPACK)
        lp_free(ptr);
    else
        zset_destroy(ptr);
}

void *zset_dup_value(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return lp_dup(ptr);
    const struct zset *src = ptr;
    struct zset *zs = zset_new();
    dict_expand(zs->dict, zsl_length(src->zsl));
    /* From the greatest to the smallest: every insertion stops at the head. */
    for (struct zsl_node *n = zsl_last(src->zsl); n; n = n->backward)
        zs_insert(zs, n->score, zsl_member(n), n->mlen);
    return zs;
}

size_t zset_mem(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return rc_usable((void *)(uintptr_t)ptr);
    const struct zset *zs = ptr;
    size_t total = rc_usable((void *)(uintptr_t)zs) + dict_mem_usage(zs->dict) +
                   rc_usable(zs->zsl) + rc_usable(zs->zsl->head);
    for (const struct zsl_node *n = zsl_first(zs->zsl); n; n = zsl_next(n))
        total += zsl_node_alloc_size(zs->zsl, n);
    return total;
}

size_t zset_free_effort(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return 1;
    return zsl_length(((const struct zset *)ptr)->zsl) + 1;
}

/* ---- encoding-independent operations on a sorted-set entry ---- */

static size_t zset_len(const struct kv *o)
{
    if (o->enc == ENC_LISTPACK)
        return zl_len(o->v.ptr);
    return zsl_length(((const struct zset *)o->v.ptr)->zsl);
}

static int zset_score(const struct kv *o, const char *m, size_t mlen, double *score)
{
    if (o->enc == ENC_LISTPACK)
        return zl_find(o->v.ptr, m, mlen, score) != LP_NONE;
    struct zsl_node *n = zs_find(o->v.ptr, m, mlen);
    if (n == NULL)
        return 0;
    *score = n->score;
    return 1;
}

static void zset_to_skiplist(struct kv *o)
{
    unsigned char *lp = o->v.ptr;
    struct zset *zs = zset_new();
    char buf[LP_INTBUF_SIZE];
    /* Walk from the tail so that each insertion stops at the head. */
    for (size_t soff = lp_last(lp); soff != LP_NONE;) {
        size_t moff = lp_prev(lp, soff);
        size_t mlen;
        const char *m = lp_get_str(lp, moff, &mlen, buf);
        zs_insert(zs, zl_score(lp, soff), m, mlen);
        soff = lp_prev(lp, moff);
    }
    lp_free(lp);
    o->v.ptr = zs;
    o->enc = ENC_SKIPLIST;
}

static void zset_to_listpack(struct kv *o)
{
    struct zset *zs = o->v.ptr;
    unsigned char *lp = lp_new(0);
    char sbuf[RC_MAX_D2STRING_CHARS];
    for (struct zsl_node *n = zsl_first(zs->zsl); n; n = zsl_next(n)) {
        lp = lp_append(lp, zsl_member(n), n->mlen);
        size_t slen = zl_score_text(sbuf, n->score);
        lp = lp_append(lp, sbuf, slen);
    }
    zset_destroy(zs);
    o->v.ptr = lp;
    o->enc = ENC_LISTPACK;
}

/* Redis's zsetConvertToListpackIfNeeded, for computed results. */
static void zset_maybe_listpack(struct kv *o, size_t maxelelen, size_t totelelen)
{
    if (o->enc == ENC_LISTPACK)
        return;
    if (zset_len(o) <= server.zset_max_listpack_entries &&
        maxelelen <= server.zset_max_listpack_value && lp_safe_to_add(NULL, totelelen))
        zset_to_listpack(o);
}

/* A new entry for key with an empty sorted set in the encoding Redis 7.0's
 * ZADD picks for a first member of mlen bytes. */
static struct kv *zset_entry_for(const char *key, size_t klen, size_t mlen)
{
    if (server.zset_max_listpack_entries == 0 || server.zset_max_listpack_value < mlen)
        return kv_new_ptr(key, klen, OBJ_ZSET, ENC_SKIPLIST, zset_new(), -1);
    return kv_new_ptr(key, klen, OBJ_ZSET, ENC_LISTPACK, lp_new(0), -1);
}

enum { ZA_INCR = 1, ZA_NX = 2, ZA_XX = 4, ZA_GT = 8, ZA_LT = 16 };
enum { ZO_NAN = 1, ZO_ADDED = 2, ZO_UPDATED = 4, ZO_NOP = 8 };

/*
 * Adds m with score, or updates it, under the ZA_* flags (Redis's zsetAdd).
 * Sets *out to ZO_* flags and, unless NULL, *newscore to the resulting
 * score.  Returns 0 when the score is or becomes NaN (nothing changed),
 * 1 otherwise.  May convert o to the skiplist encoding.
 */
static int zset_add(struct kv *o, double score, const char *m, size_t mlen, int in, int *out,
                    double *newscore)
{
    int incr = in & ZA_INCR, nx = in & ZA_NX, xx = in & ZA_XX, gt = in & ZA_GT, lt = in & ZA_LT;
    double cur;

    *out = 0;
    if (isnan(score)) {
        *out = ZO_NAN;
        return 0;
    }
    if (o->enc == ENC_LISTPACK) {
        unsigned char *lp = o->v.ptr;
        size_t off = zl_find(lp, m, mlen, &cur);
        if (off != LP_NONE) {
            if (nx) {
                *out |= ZO_NOP;
                return 1;
            }
            if (incr) {
                score += cur;
                if (isnan(score)) {
                    *out |= ZO_NAN;
                    return 0;
                }
            }
            if ((lt && score >= cur) || (gt && score <= cur)) {
                *out |= ZO_NOP;
                return 1;
            }
            if (newscore)
                *newscore = score;
            if (score != cur) {
                lp = lp_delete(lp, off, 2, NULL);
                o->v.ptr = zl_insert(lp, m, mlen, score);
                *out |= ZO_UPDATED;
            }
            return 1;
        }
        if (xx) {
            *out |= ZO_NOP;
            return 1;
        }
        if (zl_len(lp) + 1 > server.zset_max_listpack_entries ||
            mlen > server.zset_max_listpack_value || !lp_safe_to_add(lp, mlen)) {
            zset_to_skiplist(o);
        } else {
            o->v.ptr = zl_insert(lp, m, mlen, score);
            if (newscore)
                *newscore = score;
            *out |= ZO_ADDED;
            return 1;
        }
    }

    struct zset *zs = o->v.ptr;
    struct zsl_node *n = zs_find(zs, m, mlen);
    if (n != NULL) {
        if (nx) {
            *out |= ZO_NOP;
            return 1;
        }
        cur = n->score;
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *out |= ZO_NAN;
                return 0;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *out |= ZO_NOP;
            return 1;
        }
        if (newscore)
            *newscore = score;
        if (score != cur) {
            zsl_update_score(zs->zsl, n, score);
            *out |= ZO_UPDATED;
        }
        return 1;
    }
    if (xx) {
        *out |= ZO_NOP;
        return 1;
    }
    zs_insert(zs, score, m, mlen);
    if (newscore)
        *newscore = score;
    *out |= ZO_ADDED;
    return 1;
}

/* Removes m; 1 if it was there. */
static int zset_del(struct kv *o, const char *m, size_t mlen)
{
    if (o->enc == ENC_LISTPACK) {
        size_t off = zl_find(o->v.ptr, m, mlen, NULL);
        if (off == LP_NONE)
            return 0;
        o->v.ptr = lp_delete(o->v.ptr, off, 2, NULL);
        return 1;
    }
    struct zset *zs = o->v.ptr;
    struct zsl_node *n = zs_find(zs, m, mlen);
    if (n == NULL)
        return 0;
    zs_delete_node(zs, n);
    return 1;
}

/* 0-based rank of m (from the top when reverse), -1 if absent. */
static long long zset_rank(const struct kv *o, const char *m, size_t mlen, int reverse)
{
    size_t len = zset_len(o);
    if (o->enc == ENC_LISTPACK) {
        const unsigned char *lp = o->v.ptr;
        size_t rank = 0;
        for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, lp_next(lp, off))) {
            if (lp_equal(lp, off, m, mlen))
                return reverse ? (long long)(len - 1 - rank) : (long long)rank;
            rank++;
        }
        return -1;
    }
    struct zset *zs = o->v.ptr;
    struct zsl_node *n = zs_find(zs, m, mlen);
    if (n == NULL)
        return -1;
    size_t r = zsl_rank(zs->zsl, n->score, m, mlen);
    return reverse ? (long long)(len - r) : (long long)(r - 1);
}

/* ---- a read cursor over either encoding ---- */

struct zit {
    const unsigned char *lp;    /* listpack encoding, else NULL */
    size_t off;                 /* listpack: member entry, LP_NONE at the end */
    struct zsl_node *n;         /* skiplist: current node, NULL at the end */
};

static void zit_init(struct zit *it, const struct kv *o)
{
    it->lp = o->enc == ENC_LISTPACK ? o->v.ptr : NULL;
    it->off = LP_NONE;
    it->n = NULL;
}

static struct zsl *obj_zsl(const struct kv *o)
{
    return ((struct zset *)o->v.ptr)->zsl;
}

static int zit_valid(const struct zit *it)
{
    return it->lp ? it->off != LP_NONE : it->n != NULL;
}

static void zit_next(struct zit *it)
{
    if (it->lp) {
        size_t s = lp_next(it->lp, it->off);
        it->off = s == LP_NONE ? LP_NONE : lp_next(it->lp, s);
    } else {
        it->n = zsl_next(it->n);
    }
}

static void zit_prev(struct zit *it)
{
    if (it->lp) {
        size_t s = lp_prev(it->lp, it->off);
        it->off = s == LP_NONE ? LP_NONE : lp_prev(it->lp, s);
    } else {
        it->n = it->n->backward;
    }
}

static void zit_move(struct zit *it, int reverse)
{
    if (reverse)
        zit_prev(it);
    else
        zit_next(it);
}

static const char *zit_member(const struct zit *it, char buf[LP_INTBUF_SIZE], size_t *len)
{
    if (it->lp)
        return lp_get_str(it->lp, it->off, len, buf);
    *len = it->n->mlen;
    return zsl_member(it->n);
}

static double zit_score(const struct zit *it)
{
    if (it->lp)
        return zl_score(it->lp, lp_next(it->lp, it->off));
    return it->n->score;
}

/* Positions it on the element of 0-based rank idx (from the top if rev). */
static void zit_at_rank(struct zit *it, const struct kv *o, size_t idx, int rev)
{
    zit_init(it, o);
    size_t len = zset_len(o);
    if (idx >= len)
        return;
    if (it->lp) {
        it->off = lp_seek(it->lp, rev ? -2 - 2 * (long long)idx : 2 * (long long)idx);
    } else {
        struct zsl *z = obj_zsl(o);
        if (rev)
            it->n = idx == 0 ? zsl_last(z) : zsl_by_rank(z, len - idx);
        else
            it->n = idx == 0 ? zsl_first(z) : zsl_by_rank(z, idx + 1);
    }
}

/* Positions it on the first (last if rev) element with a score in r. */
static void zit_score_range(struct zit *it, const struct kv *o, const struct zsl_range *r,
                            int rev)
{
    zit_init(it, o);
    if (!it->lp) {
        it->n = rev ? zsl_last_in_range(obj_zsl(o), r) : zsl_first_in_range(obj_zsl(o), r);
        return;
    }
    if (zsl_range_empty(r))
        return;
    const unsigned char *lp = it->lp;
    if (!rev) {
        for (size_t off = lp_first(lp); off != LP_NONE;) {
            size_t soff = lp_next(lp, off);
            double s = zl_score(lp, soff);
            if (zsl_gte_min(s, r)) {
                if (zsl_lte_max(s, r))
                    it->off = off;
                return;
            }
            off = lp_next(lp, soff);
        }
    } else {
        for (size_t soff = lp_last(lp); soff != LP_NONE;) {
            size_t off = lp_prev(lp, soff);
            double s = zl_score(lp, soff);
            if (zsl_lte_max(s, r)) {
                if (zsl_gte_min(s, r))
                    it->off = off;
                return;
            }
            soff = lp_prev(lp, off);
        }
    }
}

/* Positions it on the first (last if rev) member in the lex range r. */
static void zit_lex_range(struct zit *it, const struct kv *o, const struct zsl_lexrange *r,
                          int rev)
{
    zit_init(it, o);
    if (!it->lp) {
        it->n = rev ? zsl_last_in_lex(obj_zsl(o), r) : zsl_first_in_lex(obj_zsl(o), r);
        return;
    }
    if (zsl_lexrange_empty(r))
        return;
    const unsigned char *lp = it->lp;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *m;
    size_t first = lp_first(lp), last = lp_seek(lp, -2);
    if (first == LP_NONE)
        return;
    /* The quick test against both ends that Redis makes first (it decides
     * the outcome when scores differ, where lex order is not the set's
     * order). */
    m = lp_get_str(lp, last, &len, buf);
    if (!zsl_lex_gte_min(m, len, r))
        return;
    m = lp_get_str(lp, first, &len, buf);
    if (!zsl_lex_lte_max(m, len, r))
        return;
    if (!rev) {
        for (size_t off = first; off != LP_NONE; off = lp_next(lp, lp_next(lp, off))) {
            m = lp_get_str(lp, off, &len, buf);
            if (zsl_lex_gte_min(m, len, r)) {
                if (zsl_lex_lte_max(m, len, r))
                    it->off = off;
                return;
            }
        }
    } else {
        for (size_t soff = lp_last(lp); soff != LP_NONE;) {
            size_t off = lp_prev(lp, soff);
            m = lp_get_str(lp, off, &len, buf);
            if (zsl_lex_lte_max(m, len, r)) {
                if (zsl_lex_gte_min(m, len, r))
                    it->off = off;
                return;
            }
            soff = lp_prev(lp, off);
        }
    }
}

/* ---- argument parsing ---- */

/* A score argument (ZADD, ZINCRBY): Redis's getDoubleFromObjectOrReply. */
static int arg_score(struct client *c, const struct slice *a, double *out, const char *err)
{
    if (!rc_str2d(a->p, a->len, out)) {
        reply_error(c, err ? err : ERR_NOT_FLOAT);
        return -1;
    }
    return 0;
}

static int arg_long(struct client *c, const struct slice *a, long *out)
{
    if (!rc_str2l(a->p, a->len, out)) {
        reply_err_not_int(c);
        return -1;
    }
    return 0;
}

/* strtod over the argument up to its first NUL, which must consume it all
 * (Redis passes the argument's C string to strtod). */
static int parse_strtod(const char *p, size_t len, double *out)
{
    size_t n = strnlen(p, len);
    char small[128];
    char *buf = n < sizeof(small) ? small : rc_malloc(n + 1);
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    int ok = *end == '\0' && !isnan(v);
    if (buf != small)
        rc_free(buf);
    if (ok)
        *out = v;
    return ok;
}

/* One end of a score range: "(" makes it exclusive. */
static int parse_score_bound(const struct slice *a, double *v, int *ex)
{
    if (a->len > 0 && a->p[0] == '(') {
        *ex = 1;
        return parse_strtod(a->p + 1, a->len - 1, v);
    }
    *ex = 0;
    return parse_strtod(a->p, a->len, v);
}

static int parse_range(const struct slice *min, const struct slice *max, struct zsl_range *r)
{
    return parse_score_bound(min, &r->min, &r->minex) &&
           parse_score_bound(max, &r->max, &r->maxex);
}

/* One end of a lex range: "-", "+", "[member" or "(member". */
static int parse_lex_bound(const struct slice *a, struct zsl_lexbound *b)
{
    if (a->len == 0)
        return 0;
    switch (a->p[0]) {
    case '+':
    case '-':
        if (a->len > 1 && a->p[1] != '\0')
            return 0;
        b->kind = a->p[0] == '+' ? ZSL_LEX_POS_INF : ZSL_LEX_NEG_INF;
        b->p = NULL;
        b->len = 0;
        return 1;
    case '(':
    case '[':
        b->kind = a->p[0] == '(' ? ZSL_LEX_EXCL : ZSL_LEX_INCL;
        b->p = a->p + 1;
        b->len = a->len - 1;
        return 1;
    default:
        return 0;
    }
}

static int parse_lex_range(const struct slice *min, const struct slice *max,
                           struct zsl_lexrange *r)
{
    return parse_lex_bound(min, &r->min) && parse_lex_bound(max, &r->max);
}

static const char ERR_MINMAX_FLOAT[] = "ERR min or max is not a float";
static const char ERR_MINMAX_LEX[] = "ERR min or max not valid string range item";

/* ---- key access ---- */

/* Looks key up for reading.  Returns -1 after replying WRONGTYPE when it
 * holds another type; else 0 with *o set (NULL if missing). */
static int lookup_read(struct client *c, const struct slice *key, struct kv **o)
{
    *o = db_lookup_read(c, key);
    if (*o != NULL && (*o)->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        return -1;
    }
    return 0;
}

static int lookup_write(struct client *c, const struct slice *key, struct kv **o)
{
    *o = db_lookup(c->db, key->p, key->len);
    if (*o != NULL && (*o)->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        return -1;
    }
    return 0;
}

/* After elements were removed from o (key[0..klen) of db): delete the
 * key if it is empty (returns 1), else signal the change. */
static int after_removal(struct db *db, struct kv *o, const char *key, size_t klen)
{
    if (zset_len(o) == 0) {
        notify_event(NOTIFY_GENERIC, "del", db, key, klen);
        db_delete(db, key, klen, server.lazyfree_lazy_server_del);
        return 1;
    }
    if (o->enc == ENC_SKIPLIST)
        dict_try_shrink(((struct zset *)o->v.ptr)->dict);
    db_signal_modified(db, key, klen);
    return 0;
}

/* ---- reply helpers ---- */

/* member (and score) of a WITHSCORES reply: a [member, score] pair in
 * RESP3, two flat elements in RESP2. */
static void reply_member_score(struct client *c, const char *m, size_t mlen, double score,
                               int withscores)
{
    if (withscores && c->resp > 2)
        reply_array_len(c, 2);
    reply_bulk(c, m, mlen);
    if (withscores)
        reply_double(c, score);
}

static long pairs_len(const struct client *c, long n, int withscores)
{
    return withscores && c->resp == 2 ? n * 2 : n;
}

/* ---- ZADD, ZINCRBY ---- */

/* ZADD and ZINCRBY on the arguments argv[0..argc) (argv[0] the command
 * name), which need not be c's own: GEOADD passes a ZADD it built. */
static void zadd_generic(struct client *c, int argc, const struct slice *argv, int flags)
{
    const struct slice *key = &argv[1];
    int ch = 0, scoreidx = 2;

    for (; scoreidx < argc; scoreidx++) {
        const struct slice *a = &argv[scoreidx];
        if (arg_is(a, "nx"))
            flags |= ZA_NX;
        else if (arg_is(a, "xx"))
            flags |= ZA_XX;
        else if (arg_is(a, "ch"))
            ch = 1;
        else if (arg_is(a, "incr"))
            flags |= ZA_INCR;
        else if (arg_is(a, "gt"))
            flags |= ZA_GT;
        else if (arg_is(a, "lt"))
            flags |= ZA_LT;
        else
            break;
    }
    int incr = flags & ZA_INCR, nx = flags & ZA_NX, xx = flags & ZA_XX;
    int gt = flags & ZA_GT, lt = flags & ZA_LT;
    int elements = argc - scoreidx;
    if (elements % 2 || elements == 0) {
        reply_err_syntax(c);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }

    /* All scores are checked before anything changes. */
    double one, *scores = elements == 1 ? &one : rc_malloc(sizeof(double) * (size_t)elements);
    for (int j = 0; j < elements; j++) {
        if (arg_score(c, &argv[scoreidx + j * 2], &scores[j], NULL) != 0)
            goto done;
    }

    struct kv *o;
    if (lookup_write(c, key, &o) != 0)
        goto done;
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    if (o == NULL) {
        if (xx)
            goto reply;
        o = zset_entry_for(key->p, key->len, argv[scoreidx + 1].len);
        db_add(c->db, o);
        block_signal_key(c->db, key->p, key->len);
    }
    for (int j = 0; j < elements; j++) {
        const struct slice *m = &argv[scoreidx + 1 + j * 2];
        double newscore = scores[j];
        int out;
        if (!zset_add(o, scores[j], m->p, m->len, flags, &out, &newscore)) {
            reply_error(c, "ERR resulting score is not a number (NaN)");
            goto changed;
        }
        if (out & ZO_ADDED)
            added++;
        if (out & ZO_UPDATED)
            updated++;
        if (!(out & ZO_NOP))
            processed++;
        score = newscore;
    }
    server.stat_dirty += added + updated;
reply:
    if (incr) {
        if (processed)
            reply_double(c, score);
        else
            reply_null(c);
    } else {
        reply_long(c, ch ? added + updated : added);
    }
changed:
    if (added || updated) {
        db_signal_modified(c->db, key->p, key->len);
        notify_event(NOTIFY_ZSET, incr ? "zincr" : "zadd", c->db, key->p, key->len);
    }
done:
    if (scores != &one)
        rc_free(scores);
}

void cmd_zadd(struct client *c)
{
    zadd_generic(c, c->argc, c->argv, 0);
}

void cmd_zincrby(struct client *c)
{
    zadd_generic(c, c->argc, c->argv, ZA_INCR);
}

void zset_zadd_argv(struct client *c, int argc, const struct slice *argv)
{
    zadd_generic(c, argc, argv, 0);
}

/* ---- ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK ---- */

void cmd_zrem(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o;
    long long deleted = 0;

    if (lookup_write(c, key, &o) != 0)
        return;
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    for (int j = 2; j < c->argc; j++) {
        deleted += zset_del(o, c->argv[j].p, c->argv[j].len);
        if (zset_len(o) == 0)
            break;
    }
    if (deleted) {
        notify_event(NOTIFY_ZSET, "zrem", c->db, key->p, key->len);
        after_removal(c->db, o, key->p, key->len);
        server.stat_dirty += deleted;
    }
    reply_long(c, deleted);
}

void cmd_zcard(struct client *c)
{
    struct kv *o;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    reply_long(c, o ? (long long)zset_len(o) : 0);
}

void cmd_zscore(struct client *c)
{
    struct kv *o;
    double score;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    if (o == NULL || !zset_score(o, c->argv[2].p, c->argv[2].len, &score))
        reply_null(c);
    else
        reply_double(c, score);
}

void cmd_zmscore(struct client *c)
{
    struct kv *o;
    double score;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        if (o == NULL || !zset_score(o, c->argv[j].p, c->argv[j].len, &score))
            reply_null(c);
        else
            reply_double(c, score);
    }
}

static void zrank_generic(struct client *c, int reverse)
{
    struct kv *o;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    long long rank = o ? zset_rank(o, c->argv[2].p, c->argv[2].len, reverse) : -1;
    if (rank >= 0)
        reply_long(c, rank);
    else
        reply_null(c);
}

void cmd_zrank(struct client *c)
{
    zrank_generic(c, 0);
}

void cmd_zrevrank(struct client *c)
{
    zrank_generic(c, 1);
}

/* ---- ZCOUNT, ZLEXCOUNT ---- */

/*
 * Elements from first to last (skiplist encoding) counted by rank, as
 * Redis does it: unsigned arithmetic, the first node alone decides when no
 * last node is found.  (Both can only disagree for lex ranges over a set
 * with different scores, where Redis's answer is whatever this gives.)
 */
static long long skiplist_count(const struct kv *o, const struct zsl_node *first,
                                const struct zsl_node *last)
{
    const struct zsl *z = obj_zsl(o);
    if (first == NULL)
        return 0;
    unsigned long len = (unsigned long)zsl_length(z);
    unsigned long count = len - (zsl_rank(z, first->score, zsl_member(first), first->mlen) - 1);
    if (last != NULL)
        count -= len - zsl_rank(z, last->score, zsl_member(last), last->mlen);
    return (long long)count;
}

void cmd_zcount(struct client *c)
{
    struct zsl_range r;
    struct kv *o;
    if (!parse_range(&c->argv[2], &c->argv[3], &r)) {
        reply_error(c, ERR_MINMAX_FLOAT);
        return;
    }
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    long long count = 0;
    if (o != NULL) {
        struct zit it;
        zit_score_range(&it, o, &r, 0);
        if (o->enc == ENC_SKIPLIST) {
            struct zit last;
            zit_score_range(&last, o, &r, 1);
            count = skiplist_count(o, it.n, last.n);
        } else {
            for (; zit_valid(&it) && zsl_lte_max(zit_score(&it), &r); zit_next(&it))
                count++;
        }
    }
    reply_long(c, count);
}

void cmd_zlexcount(struct client *c)
{
    struct zsl_lexrange r;
    struct kv *o;
    if (!parse_lex_range(&c->argv[2], &c->argv[3], &r)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    long long count = 0;
    if (o != NULL) {
        struct zit it;
        zit_lex_range(&it, o, &r, 0);
        if (o->enc == ENC_SKIPLIST) {
            struct zit last;
            zit_lex_range(&last, o, &r, 1);
            count = skiplist_count(o, it.n, last.n);
        } else {
            char buf[LP_INTBUF_SIZE];
            size_t len;
            for (; zit_valid(&it); zit_next(&it)) {
                const char *m = zit_member(&it, buf, &len);
                if (!zsl_lex_lte_max(m, len, &r))
                    break;
                count++;
            }
        }
    }
    reply_long(c, count);
}

/* ---- ZRANGE family ---- */

/* Where range results go: the client, or a destination being built
 * (ZRANGESTORE). */
struct zsink {
    struct client *c;
    int withscores;
    struct kv *dst;             /* ZRANGESTORE: the new destination entry */
    const struct slice *dstkey;
    void *hole;                 /* deferred array length */
    size_t count;
};

static void sink_begin(struct zsink *s, long len)
{
    s->count = 0;
    s->hole = NULL;
    if (s->dstkey) {
        s->dst = kv_new_ptr(s->dstkey->p, s->dstkey->len, OBJ_ZSET, ENC_LISTPACK, lp_new(0), -1);
        return;
    }
    if (len > 0)
        reply_array_len(s->c, pairs_len(s->c, len, s->withscores));
    else
        s->hole = reply_defer_len(s->c);
}

static void sink_emit(struct zsink *s, const char *m, size_t mlen, double score)
{
    s->count++;
    if (s->dst) {
        int out;
        zset_add(s->dst, score, m, mlen, 0, &out, NULL);
        return;
    }
    reply_member_score(s->c, m, mlen, score, s->withscores);
}

static void sink_end(struct zsink *s)
{
    struct client *c = s->c;
    if (!s->dstkey) {
        if (s->hole)
            reply_set_array_len(c, s->hole, pairs_len(c, (long)s->count, s->withscores));
        return;
    }
    if (s->count) {
        db_overwrite(c->db, s->dst);
        notify_event(NOTIFY_ZSET, "zrangestore", c->db, s->dstkey->p, s->dstkey->len);
        block_signal_key(c->db, s->dstkey->p, s->dstkey->len);
        reply_long(c, (long long)s->count);
        server.stat_dirty++;
    } else {
        kv_free(s->dst);
        reply_long(c, 0);
        if (db_delete(c->db, s->dstkey->p, s->dstkey->len, server.lazyfree_lazy_server_del)) {
            notify_event(NOTIFY_GENERIC, "del", c->db, s->dstkey->p, s->dstkey->len);
            server.stat_dirty++;
        }
    }
    s->dst = NULL;
}

static void range_by_rank(struct zsink *s, const struct kv *o, long start, long end, int rev)
{
    long llen = (long)zset_len(o);
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        sink_begin(s, 0);
        sink_end(s);
        return;
    }
    if (end >= llen)
        end = llen - 1;
    long n = end - start + 1;
    sink_begin(s, n);
    struct zit it;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    zit_at_rank(&it, o, (size_t)start, rev);
    for (; n > 0 && zit_valid(&it); n--, zit_move(&it, rev)) {
        const char *m = zit_member(&it, buf, &len);
        sink_emit(s, m, len, s->withscores || s->dst ? zit_score(&it) : 0);
    }
    sink_end(s);
}

/* offset < 0 skips everything (as Redis's counting loop does); limit < 0
 * means no limit. */
static void range_by_score(struct zsink *s, const struct kv *o, const struct zsl_range *r,
                           long offset, long limit, int rev)
{
    sink_begin(s, -1);
    if (offset > 0 && (size_t)offset >= zset_len(o)) {
        sink_end(s);
        return;
    }
    struct zit it;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    zit_score_range(&it, o, r, rev);
    if (offset < 0)
        it.off = LP_NONE, it.n = NULL;
    for (; offset > 0 && zit_valid(&it); offset--)
        zit_move(&it, rev);
    for (; limit != 0 && zit_valid(&it); limit--, zit_move(&it, rev)) {
        double score = zit_score(&it);
        if (rev ? !zsl_gte_min(score, r) : !zsl_lte_max(score, r))
            break;
        const char *m = zit_member(&it, buf, &len);
        sink_emit(s, m, len, score);
    }
    sink_end(s);
}

static void range_by_lex(struct zsink *s, const struct kv *o, const struct zsl_lexrange *r,
                         long offset, long limit, int rev)
{
    sink_begin(s, -1);
    struct zit it;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    zit_lex_range(&it, o, r, rev);
    if (offset < 0)
        it.off = LP_NONE, it.n = NULL;
    for (; offset > 0 && zit_valid(&it); offset--)
        zit_move(&it, rev);
    for (; limit != 0 && zit_valid(&it); limit--, zit_move(&it, rev)) {
        const char *m = zit_member(&it, buf, &len);
        if (rev ? !zsl_lex_gte_min(m, len, r) : !zsl_lex_lte_max(m, len, r))
            break;
        sink_emit(s, m, len, s->withscores || s->dst ? zit_score(&it) : 0);
    }
    sink_end(s);
}

enum { RANGE_AUTO, RANGE_RANK, RANGE_SCORE, RANGE_LEX };
enum { DIR_AUTO, DIR_FORWARD, DIR_REVERSE };

/*
 * ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX]: argv[first]
 * is the source key, then min and max, then options.  store: ZRANGESTORE
 * (argv[1] is the destination).
 */
static void zrange_generic(struct client *c, int first, int store, int type, int dir)
{
    const struct slice *key = &c->argv[first];
    int minidx = first + 1, maxidx = first + 2;
    long start = 0, end = 0, offset = 0, limit = -1;
    int withscores = 0;

    for (int j = first + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const struct slice *a = &c->argv[j];
        if (!store && arg_is(a, "withscores")) {
            withscores = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (arg_long(c, &c->argv[j + 1], &offset) != 0 ||
                arg_long(c, &c->argv[j + 2], &limit) != 0)
                return;
            j += 2;
        } else if (dir == DIR_AUTO && arg_is(a, "rev")) {
            dir = DIR_REVERSE;
        } else if (type == RANGE_AUTO && arg_is(a, "bylex")) {
            type = RANGE_LEX;
        } else if (type == RANGE_AUTO && arg_is(a, "byscore")) {
            type = RANGE_SCORE;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (dir == DIR_AUTO)
        dir = DIR_FORWARD;
    if (type == RANGE_AUTO)
        type = RANGE_RANK;
    if (limit != -1 && type == RANGE_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with "
                       "either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == RANGE_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int rev = dir == DIR_REVERSE;
    if (rev && type != RANGE_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }

    struct zsl_range range;
    struct zsl_lexrange lex;
    if (type == RANGE_RANK) {
        if (arg_long(c, &c->argv[minidx], &start) != 0 ||
            arg_long(c, &c->argv[maxidx], &end) != 0)
            return;
    } else if (type == RANGE_SCORE) {
        if (!parse_range(&c->argv[minidx], &c->argv[maxidx], &range)) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!parse_lex_range(&c->argv[minidx], &c->argv[maxidx], &lex)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }

    struct zsink s = {c, withscores, NULL, store ? &c->argv[1] : NULL, NULL, 0};
    struct kv *o = db_lookup_read(c, key);
    if (o == NULL) {
        if (store) {
            sink_begin(&s, -1);
            sink_end(&s);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    if (o->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        return;
    }
    if (type == RANGE_RANK)
        range_by_rank(&s, o, start, end, rev);
    else if (type == RANGE_SCORE)
        range_by_score(&s, o, &range, offset, limit, rev);
    else
        range_by_lex(&s, o, &lex, offset, limit, rev);
}

void cmd_zrange(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_AUTO, DIR_AUTO);
}

void cmd_zrangestore(struct client *c)
{
    zrange_generic(c, 2, 1, RANGE_AUTO, DIR_AUTO);
}

void cmd_zrevrange(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_RANK, DIR_REVERSE);
}

void cmd_zrangebyscore(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_SCORE, DIR_FORWARD);
}

void cmd_zrevrangebyscore(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_SCORE, DIR_REVERSE);
}

void cmd_zrangebylex(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_LEX, DIR_FORWARD);
}

void cmd_zrevrangebylex(struct client *c)
{
    zrange_generic(c, 1, 0, RANGE_LEX, DIR_REVERSE);
}

/* ---- ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX ---- */

/* Listpack: deletes n elements starting with the member entry at off. */
static void zl_delete_run(struct kv *o, size_t off, size_t n)
{
    if (n)
        o->v.ptr = lp_delete(o->v.ptr, off, 2 * n, NULL);
}

static void zremrange_generic(struct client *c, int type)
{
    const struct slice *key = &c->argv[1];
    long start = 0, end = 0;
    struct zsl_range range;
    struct zsl_lexrange lex;
    struct kv *o;

    if (type == RANGE_RANK) {
        if (arg_long(c, &c->argv[2], &start) != 0 || arg_long(c, &c->argv[3], &end) != 0)
            return;
    } else if (type == RANGE_SCORE) {
        if (!parse_range(&c->argv[2], &c->argv[3], &range)) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!parse_lex_range(&c->argv[2], &c->argv[3], &lex)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    if (lookup_write(c, key, &o) != 0)
        return;
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (type == RANGE_RANK) {
        long llen = (long)zset_len(o);
        if (start < 0)
            start = llen + start;
        if (end < 0)
            end = llen + end;
        if (start < 0)
            start = 0;
        if (start > end || start >= llen) {
            reply_long(c, 0);
            return;
        }
        if (end >= llen)
            end = llen - 1;
    }

    size_t deleted = 0;
    if (o->enc == ENC_LISTPACK) {
        struct zit it;
        if (type == RANGE_RANK) {
            deleted = (size_t)(end - start + 1);
            zl_delete_run(o, lp_seek(o->v.ptr, 2 * (long long)start), deleted);
        } else {
            char buf[LP_INTBUF_SIZE];
            size_t len;
            if (type == RANGE_SCORE)
                zit_score_range(&it, o, &range, 0);
            else
                zit_lex_range(&it, o, &lex, 0);
            size_t first = it.off;
            for (; zit_valid(&it); zit_next(&it)) {
                if (type == RANGE_SCORE) {
                    if (!zsl_lte_max(zit_score(&it), &range))
                        break;
                } else {
                    /* The member first: its length is set by zit_member,
                     * and argument evaluation order is unspecified. */
                    const char *m = zit_member(&it, buf, &len);
                    if (!zsl_lex_lte_max(m, len, &lex))
                        break;
                }
                deleted++;
            }
            zl_delete_run(o, first, deleted);
        }
    } else {
        struct zset *zs = o->v.ptr;
        if (type == RANGE_RANK)
            deleted = zsl_delete_range_by_rank(zs->zsl, (size_t)start + 1, (size_t)end + 1,
                                               zs_unlink_cb, zs);
        else if (type == RANGE_SCORE)
            deleted = zsl_delete_range_by_score(zs->zsl, &range, zs_unlink_cb, zs);
        else
            deleted = zsl_delete_range_by_lex(zs->zsl, &lex, zs_unlink_cb, zs);
    }
    if (deleted) {
        static const char *const names[] = {
            [RANGE_RANK] = "zremrangebyrank", [RANGE_SCORE] = "zremrangebyscore",
            [RANGE_LEX] = "zremrangebylex"};
        notify_event(NOTIFY_ZSET, names[type], c->db, key->p, key->len);
        after_removal(c->db, o, key->p, key->len);
    }
    server.stat_dirty += (long long)deleted;
    reply_long(c, (long long)deleted);
}

void cmd_zremrangebyrank(struct client *c)
{
    zremrange_generic(c, RANGE_RANK);
}

void cmd_zremrangebyscore(struct client *c)
{
    zremrange_generic(c, RANGE_SCORE);
}

void cmd_zremrangebylex(struct client *c)
{
    zremrange_generic(c, RANGE_LEX);
}

/* ---- ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms ---- */

enum { ZSET_MIN, ZSET_MAX };

static void zpop_reply(struct client *c, struct db *db, struct kv *o, const char *key,
                       size_t klen, int where, int emitkey, long count, int nested);

/*
 * Pops from the first existing key of keys[0..nkeys) (Redis's
 * genericZpopCommand).  count -1 is a plain single pop.  nested: pairs as
 * [member, score] arrays; emitkey: the reply is [key, [...]] (ZMPOP);
 * nil_when_empty: no key gives a null array instead of an empty one.
 */
static void zpop_generic(struct client *c, const struct slice *keys, int nkeys, int where,
                         int emitkey, long count, int nested, int nil_when_empty)
{
    struct kv *o = NULL;
    const struct slice *key = NULL;

    for (int i = 0; i < nkeys; i++) {
        if (lookup_write(c, &keys[i], &o) != 0)
            return;
        if (o != NULL) {
            key = &keys[i];
            break;
        }
    }
    if (o == NULL) {
        if (nil_when_empty)
            reply_null_array(c);
        else
            reply_empty_array(c);
        return;
    }
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    zpop_reply(c, c->db, o, key->p, key->len, where, emitkey, count, nested);
}

/*
 * Pops up to count (-1: one, plain form) elements of the non-empty sorted
 * set o (key[0..klen) of db) from the `where` end and replies to c in the
 * shape zpop_generic() describes; deletes the key when it empties.
 */
static void zpop_reply(struct client *c, struct db *db, struct kv *o, const char *key,
                       size_t klen, int where, int emitkey, long count, int nested)
{
    if (count == -1)
        count = 1;
    long llen = (long)zset_len(o);
    long n = count > llen ? llen : count;
    /* Logged as the plain pop it was (BZPOPMIN, BZMPOP, ZMPOP included). */
    char num[24];
    struct slice rec[3] = {{where == ZSET_MAX ? "ZPOPMAX" : "ZPOPMIN", 7}, {key, klen},
                           {num, rc_ll2str(num, sizeof(num), n)}};
    propagate_effect(c, db->id, 3, rec);

    if (!nested && !emitkey) {
        reply_array_len(c, n * 2);
    } else if (nested && !emitkey) {
        reply_array_len(c, n);
    } else if (!nested && emitkey) {
        reply_array_len(c, n * 2 + 1);
        reply_bulk(c, key, klen);
    } else {
        reply_array_len(c, 2);
        reply_bulk(c, key, klen);
        reply_array_len(c, n);
    }
    for (long i = 0; i < n; i++) {
        if (nested)
            reply_array_len(c, 2);
        if (o->enc == ENC_LISTPACK) {
            unsigned char *lp = o->v.ptr;
            size_t off = lp_seek(lp, where == ZSET_MAX ? -2 : 0);
            char buf[LP_INTBUF_SIZE];
            size_t len;
            const char *m = lp_get_str(lp, off, &len, buf);
            reply_bulk(c, m, len);
            reply_double(c, zl_score(lp, lp_next(lp, off)));
            o->v.ptr = lp_delete(lp, off, 2, NULL);
        } else {
            struct zset *zs = o->v.ptr;
            struct zsl_node *nd = where == ZSET_MAX ? zsl_last(zs->zsl) : zsl_first(zs->zsl);
            reply_bulk(c, zsl_member(nd), nd->mlen);
            reply_double(c, nd->score);
            zs_delete_node(zs, nd);
        }
    }
    server.stat_dirty += n;
    if (n > 0)
        notify_event(NOTIFY_ZSET, where == ZSET_MAX ? "zpopmax" : "zpopmin", db, key, klen);
    after_removal(db, o, key, klen);
}

static void zpop_minmax(struct client *c, int where)
{
    long count = -1;
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3) {
        /* Redis's getPositiveLongFromObjectOrReply: one message for both. */
        if (!rc_str2l(c->argv[2].p, c->argv[2].len, &count) || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    zpop_generic(c, &c->argv[1], 1, where, 0, count, c->resp > 2 && count != -1, 0);
}

void cmd_zpopmin(struct client *c)
{
    zpop_minmax(c, ZSET_MIN);
}

void cmd_zpopmax(struct client *c)
{
    zpop_minmax(c, ZSET_MAX);
}

/* What a client blocked in BZPOPMIN/BZPOPMAX/BZMPOP waits to do. */
struct zpop_wait {
    int where;
    long count;     /* -1: BZPOPMIN/BZPOPMAX; else BZMPOP's count */
};

static enum block_serve_result zpop_serve(struct client *c, struct db *db, const char *key,
                                          size_t klen, void *priv)
{
    const struct zpop_wait *w = priv;
    struct kv *o = db_lookup(db, key, klen);
    if (o == NULL || (o->type == OBJ_ZSET && zset_len(o) == 0))
        return BLOCK_KEY_DONE;
    if (o->type != OBJ_ZSET)
        return BLOCK_WAIT;
    /* BZMPOP answers [key, [[member, score], ...]], BZPOPMIN/MAX a flat
     * [key, member, score]. */
    zpop_reply(c, db, o, key, klen, w->where, 1, w->count, w->count != -1);
    return BLOCK_SERVED;
}

/* Redis's blockingGenericZpopCommand: pop from the first non-empty key or
 * block on all of them. */
static void blocking_zpop(struct client *c, const struct slice *keys, int nkeys, int where,
                          long count, long long deadline)
{
    for (int i = 0; i < nkeys; i++) {
        struct kv *o;
        if (lookup_write(c, &keys[i], &o) != 0)
            return;
        if (o == NULL || zset_len(o) == 0)
            continue;
        zpop_reply(c, c->db, o, keys[i].p, keys[i].len, where, 1, count, count != -1);
        return;
    }
    if (!block_allowed(c)) {
        reply_null_array(c);
        return;
    }
    struct zpop_wait *w = rc_malloc(sizeof(*w));
    w->where = where;
    w->count = count;
    block_client(c, keys, nkeys, deadline, zpop_serve, w);
}

static void bzpop_minmax(struct client *c, int where)
{
    long long deadline;
    if (block_parse_timeout(c, &c->argv[c->argc - 1], &deadline) != 0)
        return;
    blocking_zpop(c, &c->argv[1], c->argc - 2, where, -1, deadline);
}

void cmd_bzpopmin(struct client *c)
{
    bzpop_minmax(c, ZSET_MIN);
}

void cmd_bzpopmax(struct client *c)
{
    bzpop_minmax(c, ZSET_MAX);
}

/* ZMPOP (numkeys at argv[1]) and BZMPOP (timeout at argv[1], numkeys at
 * argv[2]): options are checked before the timeout, as in Redis. */
static void zmpop_generic(struct client *c, int numkeys_idx, int blocking)
{
    long numkeys, count = -1;
    int where;

    /* Redis's getRangeLongFromObjectOrReply with a message: it is used for
     * a non-number too. */
    if (!rc_str2l(c->argv[numkeys_idx].p, c->argv[numkeys_idx].len, &numkeys) ||
        numkeys < 1) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - numkeys_idx - 2) {     /* the MIN|MAX argument must exist */
        reply_err_syntax(c);
        return;
    }
    int where_idx = numkeys_idx + (int)numkeys + 1;
    if (arg_is(&c->argv[where_idx], "min")) {
        where = ZSET_MIN;
    } else if (arg_is(&c->argv[where_idx], "max")) {
        where = ZSET_MAX;
    } else {
        reply_err_syntax(c);
        return;
    }
    for (int j = where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (count == -1 && arg_is(&c->argv[j], "count") && more) {
            j++;
            if (!rc_str2l(c->argv[j].p, c->argv[j].len, &count) || count < 1) {
                reply_error(c, "ERR count should be greater than 0");
                return;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (count == -1)
        count = 1;
    if (blocking) {
        long long deadline;
        if (block_parse_timeout(c, &c->argv[1], &deadline) != 0)
            return;
        blocking_zpop(c, &c->argv[numkeys_idx + 1], (int)numkeys, where, count, deadline);
        return;
    }
    zpop_generic(c, &c->argv[numkeys_idx + 1], (int)numkeys, where, 1, count, 1, 1);
}

void cmd_zmpop(struct client *c)
{
    zmpop_generic(c, 1, 0);
}

void cmd_bzmpop(struct client *c)
{
    zmpop_generic(c, 2, 1);
}

/* ---- ZRANDMEMBER ---- */

static uint64_t rand_below(uint64_t n)
{
    return rc_random_u64() % n;
}

/* Listpack member offsets, for random access. */
static size_t *zl_offsets(const unsigned char *lp, size_t n)
{
    size_t *offs = rc_malloc(sizeof(size_t) * (n ? n : 1));
    size_t i = 0;
    for (size_t off = lp_first(lp); off != LP_NONE && i < n; off = lp_next(lp, lp_next(lp, off)))
        offs[i++] = off;
    return offs;
}

static void reply_lp_elem(struct client *c, const unsigned char *lp, size_t off, int withscores)
{
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *m = lp_get_str(lp, off, &len, buf);
    reply_member_score(c, m, len, withscores ? zl_score(lp, lp_next(lp, off)) : 0, withscores);
}

static void reply_node(struct client *c, const struct zsl_node *n, int withscores)
{
    reply_member_score(c, zsl_member(n), n->mlen, n->score, withscores);
}

/* A small open-addressing set of node pointers (distinct random picks). */
struct ptrset {
    const void **slots;
    size_t mask;
};

static int ptrset_add(struct ptrset *ps, const void *p)
{
    size_t h = (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull) & ps->mask;
    while (ps->slots[h] != NULL) {
        if (ps->slots[h] == p)
            return 0;
        h = (h + 1) & ps->mask;
    }
    ps->slots[h] = p;
    return 1;
}

static void zrandmember_count(struct client *c, long l, int withscores)
{
    struct kv *o;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    if (o == NULL) {
        reply_empty_array(c);
        return;
    }
    size_t size = zset_len(o);
    int uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)(-l);
    if (count == 0) {
        reply_empty_array(c);
        return;
    }

    /* Negative count (or 1): independent picks, repetitions allowed. */
    if (!uniq || count == 1) {
        reply_array_len(c, pairs_len(c, (long)count, withscores));
        if (o->enc == ENC_SKIPLIST) {
            struct zset *zs = o->v.ptr;
            while (count--)
                reply_node(c, dn_node(dict_random(zs->dict)), withscores);
        } else {
            size_t *offs = zl_offsets(o->v.ptr, size);
            while (count--)
                reply_lp_elem(c, o->v.ptr, offs[rand_below(size)], withscores);
            rc_free(offs);
        }
        return;
    }

    size_t n = count < size ? count : size;
    reply_array_len(c, pairs_len(c, (long)n, withscores));

    /* The whole set, walked from the tail as Redis's ZRANDMEMBER does. */
    if (count >= size) {
        struct zit it;
        zit_at_rank(&it, o, 0, 1);
        char buf[LP_INTBUF_SIZE];
        size_t len;
        for (; zit_valid(&it); zit_prev(&it)) {
            const char *m = zit_member(&it, buf, &len);
            reply_member_score(c, m, len, withscores ? zit_score(&it) : 0, withscores);
        }
        return;
    }

    if (o->enc == ENC_LISTPACK || count * 3 > size) {
        /* Partial Fisher-Yates over all positions. */
        size_t *idx = rc_malloc(sizeof(size_t) * size);
        for (size_t i = 0; i < size; i++)
            idx[i] = i;
        for (size_t i = 0; i < n; i++) {
            size_t j = i + (size_t)rand_below(size - i);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        if (o->enc == ENC_LISTPACK) {
            size_t *offs = zl_offsets(o->v.ptr, size);
            for (size_t i = 0; i < n; i++)
                reply_lp_elem(c, o->v.ptr, offs[idx[i]], withscores);
            rc_free(offs);
        } else {
            /* Walk once, marking the chosen ranks. */
            unsigned char *pick = rc_calloc(size);
            for (size_t i = 0; i < n; i++)
                pick[idx[i]] = 1;
            size_t r = 0;
            for (struct zsl_node *x = zsl_first(obj_zsl(o)); x; x = zsl_next(x), r++)
                if (pick[r])
                    reply_node(c, x, withscores);
            rc_free(pick);
        }
        rc_free(idx);
        return;
    }

    /* Big set, few picks: random nodes until enough distinct ones. */
    struct zset *zs = o->v.ptr;
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    struct ptrset ps = {rc_calloc(cap * sizeof(void *)), cap - 1};
    size_t added = 0;
    while (added < n) {
        struct zsl_node *x = dn_node(dict_random(zs->dict));
        if (!ptrset_add(&ps, x))
            continue;
        added++;
        reply_node(c, x, withscores);
    }
    rc_free(ps.slots);
}

void cmd_zrandmember(struct client *c)
{
    if (c->argc >= 3) {
        long l;
        if (arg_long(c, &c->argv[2], &l) != 0)
            return;
        if (l == LONG_MIN) {
            reply_errorf(c, "ERR value is out of range, value must between %ld and %ld",
                         -LONG_MAX, LONG_MAX);
            return;
        }
        int withscores = 0;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withscores"))) {
            reply_err_syntax(c);
            return;
        }
        if (c->argc == 4) {
            withscores = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                reply_error(c, "ERR value is out of range");
                return;
            }
        }
        zrandmember_count(c, l, withscores);
        return;
    }
    struct kv *o;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (o->enc == ENC_SKIPLIST) {
        reply_node(c, dn_node(dict_random(((struct zset *)o->v.ptr)->dict)), 0);
    } else {
        size_t size = zset_len(o);
        const unsigned char *lp = o->v.ptr;
        reply_lp_elem(c, lp, lp_seek(lp, 2 * (long long)rand_below(size)), 0);
    }
}

/* ---- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD ---- */

/* An input of the set operations: a sorted set, a plain set (every score
 * 1.0) or a missing key (empty). */
struct zsrc {
    struct kv *o;
    double weight;
};

static size_t zsrc_len(const struct zsrc *s)
{
    if (s->o == NULL)
        return 0;
    return s->o->type == OBJ_ZSET ? zset_len(s->o) : set_size(s->o);
}

/* Is m in source s?  Sets *score (1.0 for plain sets). */
static int zsrc_find(const struct zsrc *s, const char *m, size_t mlen, double *score)
{
    if (s->o == NULL)
        return 0;
    if (s->o->type == OBJ_ZSET)
        return zset_score(s->o, m, mlen, score);
    if (!set_is_member(s->o, m, mlen))
        return 0;
    *score = 1.0;
    return 1;
}

/* Calls fn(arg, member, len, score) for every element of s.  Sorted sets
 * are walked from the tail, as Redis walks them. */
typedef int zsrc_fn(void *arg, const char *m, size_t mlen, double score);

static void zsrc_each(const struct zsrc *s, zsrc_fn *fn, void *arg)
{
    if (s->o == NULL)
        return;
    if (s->o->type == OBJ_ZSET) {
        struct zit it;
        char buf[LP_INTBUF_SIZE];
        size_t len;
        zit_at_rank(&it, s->o, 0, 1);
        for (; zit_valid(&it); zit_prev(&it)) {
            const char *m = zit_member(&it, buf, &len);
            if (fn(arg, m, len, zit_score(&it)))
                return;
        }
        return;
    }
    struct set_iter si;
    struct set_elem e;
    set_iter_init(&si, s->o);
    while (set_iter_next(&si, &e)) {
        const char *m;
        size_t len;
        set_elem_bytes(&e, &m, &len);
        if (fn(arg, m, len, 1.0))
            break;
    }
    set_iter_done(&si);
}

enum { AGGR_SUM, AGGR_MIN, AGGR_MAX };
enum { OP_UNION, OP_INTER, OP_DIFF };

static double aggregate(double target, double val, int aggr)
{
    if (aggr == AGGR_SUM) {
        target += val;
        /* inf + -inf: Redis keeps the convention that the sum is 0. */
        return isnan(target) ? 0.0 : target;
    }
    if (aggr == AGGR_MIN)
        return val < target ? val : target;
    return val > target ? val : target;
}

struct setop {
    struct zsrc *src;
    long nsrc;
    int aggr;
    struct zset *dst;
    size_t maxelelen, totelelen;
    int cardinality_only;
    unsigned long cardinality, limit;
    long cur;               /* index of the source being walked */
};

static void setop_insert(struct setop *op, const char *m, size_t mlen, double score)
{
    zs_insert(op->dst, score, m, mlen);
    op->totelelen += mlen;
    if (mlen > op->maxelelen)
        op->maxelelen = mlen;
}

static int union_cb(void *arg, const char *m, size_t mlen, double score)
{
    struct setop *op = arg;
    double v = op->src[op->cur].weight * score;
    if (isnan(v))
        v = 0;
    struct zsl_node *n = zs_find(op->dst, m, mlen);
    if (n == NULL) {
        setop_insert(op, m, mlen, v);
    } else {
        double nv = aggregate(n->score, v, op->aggr);
        if (nv == n->score)
            n->score = nv;      /* same place; keeps the sign of a zero as Redis */
        else
            zsl_update_score(op->dst->zsl, n, nv);
    }
    return 0;
}

static int inter_cb(void *arg, const char *m, size_t mlen, double s0)
{
    struct setop *op = arg;
    double score = op->src[0].weight * s0;
    if (isnan(score))
        score = 0;
    for (long j = 1; j < op->nsrc; j++) {
        double v;
        if (op->src[j].o == op->src[0].o) {
            v = s0 * op->src[j].weight;
        } else if (zsrc_find(&op->src[j], m, mlen, &v)) {
            v *= op->src[j].weight;
        } else {
            return 0;
        }
        score = aggregate(score, v, op->aggr);
    }
    if (op->cardinality_only) {
        op->cardinality++;
        return op->limit && op->cardinality >= op->limit;
    }
    setop_insert(op, m, mlen, score);
    return 0;
}

static int diff_cb(void *arg, const char *m, size_t mlen, double s0)
{
    struct setop *op = arg;
    double v;
    for (long j = 1; j < op->nsrc; j++)
        if (op->src[j].o == op->src[0].o || zsrc_find(&op->src[j], m, mlen, &v))
            return 0;
    setop_insert(op, m, mlen, s0);
    return 0;
}

/* Stable sort of the sources by cardinality (ascending), as the order of
 * SUM aggregation is visible in the last bits of the scores. */
static void sort_by_card(struct zsrc *src, long n)
{
    for (long i = 1; i < n; i++) {
        struct zsrc t = src[i];
        size_t tl = zsrc_len(&t);
        long j = i;
        while (j > 0 && zsrc_len(&src[j - 1]) > tl) {
            src[j] = src[j - 1];
            j--;
        }
        src[j] = t;
    }
}

static void setop_generic(struct client *c, const struct slice *dstkey, int numkeys_idx,
                          int opkind, int cardinality_only)
{
    long setnum;
    int withscores = 0;
    struct setop op;
    memset(&op, 0, sizeof(op));
    op.aggr = AGGR_SUM;
    op.cardinality_only = cardinality_only;

    if (arg_long(c, &c->argv[numkeys_idx], &setnum) != 0)
        return;
    if (setnum < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command",
                     c->cmd ? c->cmd->fullname : "zunion");
        return;
    }
    if (setnum > c->argc - (numkeys_idx + 1)) {
        reply_err_syntax(c);
        return;
    }
    struct zsrc *src = rc_calloc(sizeof(*src) * (size_t)setnum);
    int j = numkeys_idx + 1;
    for (long i = 0; i < setnum; i++, j++) {
        struct kv *o = db_lookup_read(c, &c->argv[j]);
        if (o != NULL && o->type != OBJ_ZSET && o->type != OBJ_SET) {
            rc_free(src);
            reply_err_wrongtype(c);
            return;
        }
        src[i].o = o;
        src[i].weight = 1.0;
    }
    int remaining = c->argc - j;
    while (remaining) {
        const struct slice *a = &c->argv[j];
        if (opkind != OP_DIFF && !cardinality_only && remaining >= setnum + 1 &&
            arg_is(a, "weights")) {
            j++;
            remaining--;
            for (long i = 0; i < setnum; i++, j++, remaining--) {
                if (arg_score(c, &c->argv[j], &src[i].weight,
                              "ERR weight value is not a float") != 0) {
                    rc_free(src);
                    return;
                }
            }
        } else if (opkind != OP_DIFF && !cardinality_only && remaining >= 2 &&
                   arg_is(a, "aggregate")) {
            const struct slice *v = &c->argv[j + 1];
            if (arg_is(v, "sum")) {
                op.aggr = AGGR_SUM;
            } else if (arg_is(v, "min")) {
                op.aggr = AGGR_MIN;
            } else if (arg_is(v, "max")) {
                op.aggr = AGGR_MAX;
            } else {
                rc_free(src);
                reply_err_syntax(c);
                return;
            }
            j += 2;
            remaining -= 2;
        } else if (dstkey == NULL && !cardinality_only && arg_is(a, "withscores")) {
            j++;
            remaining--;
            withscores = 1;
        } else if (cardinality_only && remaining >= 2 && arg_is(a, "limit")) {
            long limit;
            if (!rc_str2l(c->argv[j + 1].p, c->argv[j + 1].len, &limit) || limit < 0) {
                rc_free(src);
                reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
            op.limit = (unsigned long)limit;
            j += 2;
            remaining -= 2;
        } else {
            rc_free(src);
            reply_err_syntax(c);
            return;
        }
    }

    if (opkind != OP_DIFF)
        sort_by_card(src, setnum);
    op.src = src;
    op.nsrc = setnum;
    struct kv *dst = kv_new_ptr(dstkey ? dstkey->p : "", dstkey ? dstkey->len : 0, OBJ_ZSET,
                                ENC_SKIPLIST, zset_new(), -1);
    op.dst = dst->v.ptr;

    if (opkind == OP_INTER) {
        if (zsrc_len(&src[0]) > 0) {
            op.cur = 0;
            zsrc_each(&src[0], inter_cb, &op);
        }
    } else if (opkind == OP_UNION) {
        for (long i = 0; i < setnum; i++) {
            op.cur = i;
            zsrc_each(&src[i], union_cb, &op);
        }
    } else if (zsrc_len(&src[0]) > 0) {
        op.cur = 0;
        zsrc_each(&src[0], diff_cb, &op);
    }

    if (dstkey) {
        if (zsl_length(op.dst->zsl)) {
            zset_maybe_listpack(dst, op.maxelelen, op.totelelen);
            size_t len = zset_len(dst);
            db_overwrite(c->db, dst);
            /* zunionstore, zinterstore, zdiffstore: the command's name. */
            notify_event(NOTIFY_ZSET, c->cmd->name, c->db, dstkey->p, dstkey->len);
            block_signal_key(c->db, dstkey->p, dstkey->len);
            reply_long(c, (long long)len);
            server.stat_dirty++;
        } else {
            kv_free(dst);
            reply_long(c, 0);
            if (db_delete(c->db, dstkey->p, dstkey->len, server.lazyfree_lazy_server_del)) {
                notify_event(NOTIFY_GENERIC, "del", c->db, dstkey->p, dstkey->len);
                server.stat_dirty++;
            }
        }
    } else if (cardinality_only) {
        reply_long(c, (long long)op.cardinality);
        kv_free(dst);
    } else {
        reply_array_len(c, pairs_len(c, (long)zsl_length(op.dst->zsl), withscores));
        for (struct zsl_node *n = zsl_first(op.dst->zsl); n; n = zsl_next(n))
            reply_node(c, n, withscores);
        kv_free(dst);
    }
    rc_free(src);
}

void cmd_zunionstore(struct client *c)
{
    setop_generic(c, &c->argv[1], 2, OP_UNION, 0);
}

void cmd_zinterstore(struct client *c)
{
    setop_generic(c, &c->argv[1], 2, OP_INTER, 0);
}

void cmd_zdiffstore(struct client *c)
{
    setop_generic(c, &c->argv[1], 2, OP_DIFF, 0);
}

void cmd_zunion(struct client *c)
{
    setop_generic(c, NULL, 1, OP_UNION, 0);
}

void cmd_zinter(struct client *c)
{
    setop_generic(c, NULL, 1, OP_INTER, 0);
}

void cmd_zdiff(struct client *c)
{
    setop_generic(c, NULL, 1, OP_DIFF, 0);
}

void cmd_zintercard(struct client *c)
{
    setop_generic(c, NULL, 1, OP_INTER, 1);
}

/* ---- ZSCAN ---- */

struct scan_nodes {
    struct zsl_node **v;
    size_t n, cap;
};

static void scan_collect(void *priv, struct dnode *dn)
{
    struct scan_nodes *sn = priv;
    if (sn->n == sn->cap) {
        sn->cap = sn->cap ? sn->cap * 2 : 16;
        sn->v = rc_realloc(sn->v, sn->cap * sizeof(*sn->v));
    }
    sn->v[sn->n++] = dn_node(dn);
}

void cmd_zscan(struct client *c)
{
    unsigned long long cursor;   /* unsigned long: the same width here */
    struct kv *o;
    long count = 10;
    const struct slice *pat = NULL;

    if (scan_parse_cursor(c, &c->argv[2], &cursor) != 0)
        return;
    if (lookup_read(c, &c->argv[1], &o) != 0)
        return;
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_array_len(c, 0);
        return;
    }
    for (int i = 3; i < c->argc; i += 2) {
        const struct slice *a = &c->argv[i];
        if (arg_is(a, "count") && i + 1 < c->argc) {
            if (arg_long(c, &c->argv[i + 1], &count) != 0)
                return;
            if (count < 1) {
                reply_err_syntax(c);
                return;
            }
        } else if (arg_is(a, "match") && i + 1 < c->argc) {
            pat = &c->argv[i + 1];
            if (pat->len == 1 && pat->p[0] == '*')
                pat = NULL;
        } else {
            reply_err_syntax(c);
            return;
        }
    }

    char cbuf[RC_LONG_STR_SIZE];
    if (o->enc == ENC_LISTPACK) {
        /* Small sets are returned whole, with cursor 0. */
        const unsigned char *lp = o->v.ptr;
        void *hole;
        long n = 0;
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        hole = reply_defer_len(c);
        char mbuf[LP_INTBUF_SIZE], sbuf[LP_INTBUF_SIZE];
        for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, lp_next(lp, off))) {
            size_t mlen, slen;
            const char *m = lp_get_str(lp, off, &mlen, mbuf);
            if (pat && !rc_glob_match(pat->p, pat->len, m, mlen, 0))
                continue;
            const char *s = lp_get_str(lp, lp_next(lp, off), &slen, sbuf);
            reply_bulk(c, m, mlen);
            reply_bulk(c, s, slen);
            n += 2;
        }
        reply_set_array_len(c, hole, n);
        return;
    }

    struct zset *zs = o->v.ptr;
    struct scan_nodes sn = {NULL, 0, 0};
    long maxiter = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = dict_scan(zs->dict, cursor, scan_collect, &sn);
    } while (cursor != 0 && maxiter-- > 0 && sn.n < (size_t)count);

    size_t clen = rc_ull2str(cbuf, sizeof(cbuf), cursor);
    reply_array_len(c, 2);
    reply_bulk(c, cbuf, clen);
    void *hole = reply_defer_len(c);
    long n = 0;
    char sbuf[RC_MAX_LONG_DOUBLE_CHARS];
    for (size_t i = 0; i < sn.n; i++) {
        struct zsl_node *x = sn.v[i];
        if (pat && !rc_glob_match(pat->p, pat->len, zsl_member(x), x->mlen, 0))
            continue;
        reply_bulk(c, zsl_member(x), x->mlen);
        size_t slen = rc_ld2str(sbuf, sizeof(sbuf), (long double)x->score, 0);
        reply_bulk(c, sbuf, slen);
        n += 2;
    }
    reply_set_array_len(c, hole, n);
    rc_free(sn.v);
}

/* ---- snapshot access ---- */

const struct zsl *zset_skiplist(const struct kv *o)
{
    const struct zset *zs = o->v.ptr;
    return zs->zsl;
}

struct kv *zset_new_skiplist_entry(const char *key, size_t klen)
{
    return kv_new_ptr(key, klen, OBJ_ZSET, ENC_SKIPLIST, zset_new(), -1);
}

int zset_skiplist_add(struct kv *o, const char *m, size_t mlen, double score)
{
    struct zset *zs = o->v.ptr;
    if (zs_find(zs, m, mlen) != NULL)
        return 0;
    zs_insert(zs, score, m, mlen);
    return 1;
}

void zset_loaded(struct kv *o, size_t maxelelen, size_t totelelen)
{
    zset_maybe_listpack(o, maxelelen, totelelen);
}

/* ---- access for the GEO commands (t_geo.c) ---- */

int zset_member_score(const struct kv *o, const char *m, size_t mlen, double *score)
{
    return zset_score(o, m, mlen, score);
}

void zset_walk_score_range(const struct kv *o, double min, double max, zset_walk_fn *fn,
                           void *arg)
{
    struct zsl_range r = {min, max, 0, 1};
    struct zit it;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    for (zit_score_range(&it, o, &r, 0); zit_valid(&it); zit_next(&it)) {
        double score = zit_score(&it);
        if (!zsl_lte_max(score, &r))
            break;
        const char *m = zit_member(&it, buf, &len);
        if (!fn(arg, m, len, score))
            break;
    }
}

void zset_walk_all(const struct kv *o, zset_walk_fn *fn, void *arg)
{
    struct zsl_range r = {-INFINITY, INFINITY, 0, 0};
    struct zit it;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    for (zit_score_range(&it, o, &r, 0); zit_valid(&it); zit_next(&it)) {
        const char *m = zit_member(&it, buf, &len);
        if (!fn(arg, m, len, zit_score(&it)))
            break;
    }
}
