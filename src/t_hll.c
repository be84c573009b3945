/*
 * t_hll.c — the HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG,
 * PFSELFTEST.
 *
 * A HyperLogLog is a plain string value in Redis's "HYLL" representation
 * (hll.c specifies it and does all the work on the bytes); this file finds
 * the keys, checks them as Redis does, keeps the value writable and raw
 * where Redis unshares it (so OBJECT ENCODING agrees), swaps a sparse
 * buffer for a dense one when hll.c asks, and replies.  Replies, error
 * texts and the order of the checks follow Redis 7.0.
 *
 * Propagation: PFADD, PFMERGE and PFDEBUG GETREG/TODENSE count as changes
 * and are logged as themselves.  PFCOUNT of one key writes the computed
 * cardinality into the string's header when the cached one is stale; that
 * is a change of the value (GET shows it), so, as Redis does, it counts as
 * dirty and PFCOUNT itself is logged: replayed on the same value it writes
 * the same bytes.
 */
#include "notify.h"
#include "server.h"

#include <stdio.h>
#include <string.h>

#include "hll.h"
#include "mem.h"
#include "propagate.h"
#include "rand.h"
#include "reply.h"

static const char ERR_NOT_HLL[] = "WRONGTYPE Key is not a valid HyperLogLog string value.";
static const char ERR_CORRUPT[] = "INVALIDOBJ Corrupted HLL object detected";

/* Replies the error and returns 0 unless o is a string Redis would accept
 * as a sketch (isHLLObjectOrReply). */
static int value_is_hll(struct client *c, const struct kv *o)
{
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return 0;
    }
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    if (o->enc == ENC_INT || hll_check((const unsigned char *)sv.p, sv.len) != 0) {
        reply_error(c, ERR_NOT_HLL);
        return 0;
    }
    return 1;
}

static inline unsigned char *sketch(struct kv *o)
{
    return (unsigned char *)((struct rstr *)o->v.ptr)->buf;
}

/* Make o's value raw and private, as Redis's dbUnshareStringValue. */
static struct rstr *unshare(struct kv *o)
{
    return kv_make_raw(o, kv_strlen(o));
}

/* Add a key holding an empty sparse sketch (Redis's createHLLObject). */
static struct kv *create_sketch(struct client *c, const struct slice *key)
{
    struct rstr *r = rstr_new(NULL, 0, HLL_SPARSE_EMPTY_SIZE + HLL_SPARSE_SLACK);
    hll_init_sparse((unsigned char *)r->buf);
    r->len = HLL_SPARSE_EMPTY_SIZE;
    r->buf[r->len] = '\0';
    struct kv *o = kv_new_raw(key->p, key->len, r, -1);
    db_add(c->db, o);
    return o;
}

/* Replace o's sparse sketch by its dense form; -1 (o unchanged) when the
 * sparse data is corrupt. */
static int promote(struct kv *o)
{
    struct rstr *r = o->v.ptr;
    struct rstr *d = rstr_new(NULL, 0, HLL_DENSE_SIZE);
    if (hll_sparse_to_dense((const unsigned char *)r->buf, r->len, (unsigned char *)d->buf) !=
        0) {
        rc_free(d);
        return -1;
    }
    d->len = HLL_DENSE_SIZE;
    d->buf[d->len] = '\0';
    rc_free(r);
    o->v.ptr = d;
    return 0;
}

/*
 * Apply one update to o's sketch: an element to add (ele != NULL) or a
 * register to raise (reg, val).  Converts to dense when hll.c asks.
 * Returns HLL_UPDATED, HLL_UNCHANGED or HLL_INVALID.
 */
static int sketch_update(struct kv *o, const struct slice *ele, long reg, unsigned val)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct rstr *r = o->v.ptr;
        if (r->buf[4] == HLL_SPARSE)
            r = kv_make_raw(o, r->len + HLL_SPARSE_SLACK);
        unsigned char *s = (unsigned char *)r->buf;
        size_t len = r->len, max = (size_t)server.hll_sparse_max_bytes;
        int st;
        if (ele)
            st = hll_add(s, &len, r->cap, ele->p, ele->len, max);
        else if (s[4] == HLL_SPARSE)
            st = hll_sparse_set(s, &len, r->cap, reg, val, max);
        else
            st = hll_dense_set(s + HLL_HDR_SIZE, reg, val);
        if (st != HLL_PROMOTE) {
            r->len = len;   /* hll.c keeps the byte after it as Redis does */
            return st;
        }
        if (promote(o) != 0)
            return HLL_INVALID;
    }
    return HLL_INVALID;     /* a dense sketch never asks twice */
}

/* PFADD key [element ...] */
void cmd_pfadd(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    long long updated = 0;
    if (o == NULL) {
        o = create_sketch(c, key);
        updated++;
    } else {
        if (!value_is_hll(c, o))
            return;
        unshare(o);
    }
    for (int j = 2; j < c->argc; j++) {
        int st = sketch_update(o, &c->argv[j], 0, 0);
        if (st == HLL_INVALID) {
            /* As in Redis: what was added so far stays, unlogged. */
            reply_error(c, ERR_CORRUPT);
            return;
        }
        if (st == HLL_UPDATED)
            updated++;
    }
    if (updated) {
        hll_cache_invalidate(sketch(o));
        db_signal_modified(c->db, key->p, key->len);
        notify_event(NOTIFY_STRING, "pfadd", c->db, key->p, key->len);
        server.stat_dirty += updated;
    }
    reply_long(c, updated ? 1 : 0);
}

/* PFCOUNT key: the cached cardinality, or a fresh one written back into
 * the header. */
static void pfcount_one(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup_read(c, key);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (!value_is_hll(c, o))
        return;
    struct rstr *r = unshare(o);
    unsigned char *s = (unsigned char *)r->buf;
    uint64_t card;
    if (hll_cache_valid(s)) {
        card = hll_cache_get(s);
    } else {
        if (hll_count(s, r->len, &card) != 0) {
            reply_error(c, ERR_CORRUPT);
            return;
        }
        hll_cache_set(s, card);
        db_signal_modified(c->db, key->p, key->len);
        server.stat_dirty++;
    }
    reply_long(c, (long long)card);
}

/*
 * Merge the registers of the sketches at argv[first..argc) into max
 * (missing keys count as empty).  Returns 1, or 0 after replying an error;
 * *any_dense tells whether one of them was dense.
 */
static int merge_keys(struct client *c, int first, uint8_t *max, int *any_dense)
{
    memset(max, 0, HLL_REGISTERS);
    *any_dense = 0;
    for (int j = first; j < c->argc; j++) {
        struct kv *o = db_lookup_read(c, &c->argv[j]);
        if (o == NULL)
            continue;
        if (!value_is_hll(c, o))
            return 0;
        char tmp[32];
        struct strview sv = kv_strview(o, tmp);
        const unsigned char *s = (const unsigned char *)sv.p;
        if (s[4] == HLL_DENSE)
            *any_dense = 1;
        if (hll_merge(max, s, sv.len) != 0) {
            reply_error(c, ERR_CORRUPT);
            return 0;
        }
    }
    return 1;
}

/* PFCOUNT key [key ...]: with several keys, the cardinality of their
 * union; nothing is cached. */
void cmd_pfcount(struct client *c)
{
    if (c->argc == 2) {
        pfcount_one(c);
        return;
    }
    uint8_t max[HLL_REGISTERS];
    int any_dense, histo[64];
    if (!merge_keys(c, 1, max, &any_dense))
        return;
    hll_raw_histogram(max, histo);
    reply_long(c, (long long)hll_estimate(histo));
}

/* PFMERGE destkey [sourcekey ...]: destkey is a source too.  The
 * registers are raised one by one in order, so a sparse destination
 * comes out with the bytes Redis's would have. */
void cmd_pfmerge(struct client *c)
{
    uint8_t max[HLL_REGISTERS];
    int use_dense;
    if (!merge_keys(c, 1, max, &use_dense))
        return;
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL)
        o = create_sketch(c, key);
    else
        unshare(o);
    if (use_dense && sketch(o)[4] == HLL_SPARSE && promote(o) != 0) {
        reply_error(c, ERR_CORRUPT);
        return;
    }
    for (long j = 0; j < HLL_REGISTERS; j++)
        if (max[j])
            sketch_update(o, NULL, j, max[j]);
    hll_cache_invalidate(sketch(o));
    db_signal_modified(c->db, key->p, key->len);
    /* Redis 7.0 announces a merge as "pfadd". */
    notify_event(NOTIFY_STRING, "pfadd", c->db, key->p, key->len);
    server.stat_dirty++;
    reply_ok(c);
}

/* PFDEBUG DECODE: the sparse opcodes as "z:N Z:N v:VAL,N" words. */
static void pfdebug_decode(struct client *c, const unsigned char *s, size_t len)
{
    size_t cap = 256, n = 0;
    char *out = rc_malloc(cap);
    for (size_t off = HLL_HDR_SIZE; off < len;) {
        struct hll_op op;
        off = hll_sparse_op(s, len, off, &op);
        if (cap - n < 32) {
            cap *= 2;
            out = rc_realloc(out, cap);
        }
        if (op.kind == HLL_OP_VAL)
            n += (size_t)snprintf(out + n, cap - n, "v:%d,%d ", op.val, op.run);
        else
            n += (size_t)snprintf(out + n, cap - n, "%c:%d ",
                                  op.kind == HLL_OP_ZERO ? 'z' : 'Z', op.run);
    }
    if (n > 0 && out[n - 1] == ' ')
        n--;
    reply_bulk(c, out, n);
    rc_free(out);
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
void cmd_pfdebug(struct client *c)
{
    const struct slice *sub = &c->argv[1], *key = &c->argv[2];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL) {
        reply_error(c, "ERR The specified key does not exist");
        return;
    }
    if (!value_is_hll(c, o))
        return;
    unshare(o);
    int enc = sketch(o)[4];
    if (arg_is(sub, "GETREG") || arg_is(sub, "TODENSE")) {
        int converted = 0;
        if (enc == HLL_SPARSE) {
            if (promote(o) != 0) {
                reply_error(c, ERR_CORRUPT);
                return;
            }
            converted = 1;
            server.stat_dirty++;    /* the encoding changed: log it */
        }
        if (arg_is(sub, "TODENSE")) {
            reply_long(c, converted);
            return;
        }
        const unsigned char *regs = sketch(o) + HLL_HDR_SIZE;
        reply_array_len(c, HLL_REGISTERS);
        for (long i = 0; i < HLL_REGISTERS; i++)
            reply_long(c, hll_dense_get(regs, i));
    } else if (arg_is(sub, "DECODE")) {
        if (enc != HLL_SPARSE) {
            reply_error(c, "ERR HLL encoding is not sparse");
            return;
        }
        struct rstr *r = o->v.ptr;
        pfdebug_decode(c, (const unsigned char *)r->buf, r->len);
    } else if (arg_is(sub, "ENCODING")) {
        reply_status(c, enc == HLL_DENSE ? "dense" : "sparse");
    } else {
        /* Redis prints the name as a C string: up to a NUL byte. */
        reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%.*s'",
                     (int)strnlen(sub->p, sub->len), sub->p);
    }
}

/* PFSELFTEST */
void cmd_pfselftest(struct client *c)
{
    char err[256];
    if (hll_selftest(rc_random_u64(), (size_t)server.hll_sparse_max_bytes, err,
                     sizeof(err)) != 0) {
        reply_error(c, err);
        return;
    }
    reply_ok(c);
}
