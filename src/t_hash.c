/*
 * t_hash.c — the hash type and its commands: HSET, HSETNX, HMSET, HGET,
 * HMGET, HDEL, HEXISTS, HLEN, HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY,
 * HINCRBYFLOAT, HRANDFIELD and HSCAN.
 *
 * Encodings (see t_hash.h): a listpack of alternating fields and values
 * while the hash is small, a dict of hash_node elements otherwise.  The
 * conversion rules are Redis 7.0's, so OBJECT ENCODING answers the same for
 * the same command sequence:
 *   - before a multi-field write (HSET, HMSET, HSETNX) every argument is
 *     checked: one longer than hash-max-listpack-value, or a total that
 *     would take the listpack past its safety size, converts first;
 *   - every single set converts if its field or value is too long (this
 *     catches HINCRBY/HINCRBYFLOAT results and fields);
 *   - after a set adds a field, more than hash-max-listpack-entries fields
 *     converts.
 * A hashtable never goes back to a listpack.
 *
 * Reply bytes, error texts and the order in which errors are detected
 * follow Redis 7.0.  Every in-place modification signals the key
 * (db_signal_modified) and counts in server.stat_dirty; a hash emptied by
 * HDEL is deleted.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "hash.h"
#include "listpack.h"
#include "propagate.h"
#include "rand.h"
#include "reply.h"
#include "t_hash.h"

/* ---- hashtable nodes ---- */

/* One field of a hashtable-encoded hash: field bytes then value bytes. */
struct hash_node {
    struct dnode node;      /* must be first */
    size_t flen;
    size_t vlen;
    char data[];
};

static void hnode_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct hash_node *h = (const struct hash_node *)n;
    *key = h->data;
    *len = h->flen;
}

static void hnode_destroy(struct dnode *n)
{
    rc_free(n);
}

static const struct dict_type hash_dict_type = {
    rc_hash,
    hnode_key,
    hnode_destroy,
};

static inline const char *hnode_val(const struct hash_node *h)
{
    return h->data + h->flen;
}

static struct hash_node *hnode_new(const char *f, size_t flen, const char *v, size_t vlen)
{
    /* Both lengths come from arguments or listpacks already in memory, so
     * their sum cannot overflow size_t. */
    struct hash_node *h = rc_malloc(sizeof(*h) + flen + vlen);
    h->node.next = NULL;
    h->flen = flen;
    h->vlen = vlen;
    memcpy(h->data, f, flen);
    memcpy(h->data + flen, v, vlen);
    return h;
}

/* ---- value lifecycle ---- */

void hash_free_value(int enc, void *ptr)
{
    if (enc == ENC_LISTPACK) {
        lp_free(ptr);
    } else {
        struct dict *d = ptr;
        dict_destroy(&d);
    }
}

void *hash_dup_value(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return lp_dup(ptr);
    struct dict *src = (struct dict *)ptr;
    struct dict *d = dict_create(&hash_dict_type);
    dict_expand(d, dict_size(src));
    struct dict_iter it;
    struct dnode *n;
    dict_iter_init(&it, src);
    while ((n = dict_iter_next(&it)) != NULL) {
        const struct hash_node *h = (const struct hash_node *)n;
        dict_add(d, &hnode_new(h->data, h->flen, hnode_val(h), h->vlen)->node);
    }
    dict_iter_done(&it);
    return d;
}

size_t hash_mem(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return rc_usable((void *)ptr);
    struct dict *d = (struct dict *)ptr;
    size_t n = dict_mem_usage(d);
    struct dict_iter it;
    struct dnode *e;
    dict_iter_init(&it, d);
    while ((e = dict_iter_next(&it)) != NULL)
        n += rc_usable(e);
    dict_iter_done(&it);
    return n;
}

size_t hash_free_effort(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK)
        return 1;
    /* One allocation per node, plus the dict and its bucket arrays. */
    return dict_size(ptr) + 2;
}

/* ---- encoding-independent access ---- */

size_t hash_length(const struct kv *o)
{
    if (o->enc == ENC_LISTPACK)
        return lp_count(o->v.ptr) / 2;
    return dict_size(o->v.ptr);
}

/* Converts a listpack-encoded hash to a hashtable in place. */
static void hash_convert(struct kv *o)
{
    unsigned char *lp = o->v.ptr;
    struct dict *d = dict_create(&hash_dict_type);
    dict_expand(d, lp_count(lp) / 2);
    char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
    for (size_t off = lp_first(lp); off != LP_NONE;) {
        size_t voff = lp_next(lp, off);
        size_t flen, vlen;
        const char *f = lp_get_str(lp, off, &flen, fb);
        const char *v = lp_get_str(lp, voff, &vlen, vb);
        struct hash_node *h = hnode_new(f, flen, v, vlen);
        if (dict_add(d, &h->node) != 0)
            abort();    /* duplicate field: the listpack was corrupt */
        off = lp_next(lp, voff);
    }
    lp_free(lp);
    o->v.ptr = d;
    o->enc = ENC_HT;
}

/*
 * Before writing the arguments argv[start..end] into a listpack hash:
 * convert when one is too long or all of them would take the listpack past
 * its safety size (Redis's hashTypeTryConversion).
 */
static void hash_try_conversion(struct kv *o, const struct slice *argv, int start, int end)
{
    if (o->enc != ENC_LISTPACK)
        return;
    size_t sum = 0;
    for (int i = start; i <= end; i++) {
        if (argv[i].len > server.hash_max_listpack_value) {
            hash_convert(o);
            return;
        }
        sum += argv[i].len;     /* bounded by the query buffer */
    }
    if (!lp_safe_to_add(o->v.ptr, sum))
        hash_convert(o);
}

/* Offset of the value of field f in a listpack hash, LP_NONE if absent. */
static size_t lp_hash_find(const unsigned char *lp, const char *f, size_t flen)
{
    size_t off = lp_first(lp);
    if (off == LP_NONE)
        return LP_NONE;
    off = lp_find(lp, off, f, flen, 1);
    return off == LP_NONE ? LP_NONE : lp_next(lp, off);
}

int hash_set(struct kv *o, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (o->enc == ENC_LISTPACK &&
        (flen > server.hash_max_listpack_value || vlen > server.hash_max_listpack_value))
        hash_convert(o);

    if (o->enc == ENC_LISTPACK) {
        unsigned char *lp = o->v.ptr;
        size_t voff = lp_hash_find(lp, f, flen);
        if (voff != LP_NONE) {
            o->v.ptr = lp_replace(lp, voff, v, vlen);
            return 1;
        }
        lp = lp_append(lp, f, flen);
        lp = lp_append(lp, v, vlen);
        o->v.ptr = lp;
        if (lp_count(lp) / 2 > server.hash_max_listpack_entries)
            hash_convert(o);
        return 0;
    }

    struct dict *d = o->v.ptr;
    struct dnode **link = dict_find_link(d, f, flen);
    if (link != NULL) {
        struct hash_node *h = (struct hash_node *)*link;
        if (h->vlen != vlen) {
            /* Reallocation keeps the node's chain pointer; relink at once. */
            h = rc_realloc(h, sizeof(*h) + flen + vlen);
            h->vlen = vlen;
            *link = &h->node;
        }
        memcpy(h->data + flen, v, vlen);
        return 1;
    }
    dict_add(d, &hnode_new(f, flen, v, vlen)->node);
    return 0;
}

/* A field's value as text: a pointer to its bytes (into the hash, or into
 * buf for a listpack integer) and its length. */
struct hval {
    const char *p;
    size_t len;
    int is_int;         /* listpack integer: lval holds it */
    long long lval;
};

/* Looks field f up; returns 1 and fills *out if present, 0 if not. */
static int hash_get(const struct kv *o, const char *f, size_t flen, struct hval *out,
                    char buf[LP_INTBUF_SIZE])
{
    if (o->enc == ENC_LISTPACK) {
        const unsigned char *lp = o->v.ptr;
        size_t voff = lp_hash_find(lp, f, flen);
        if (voff == LP_NONE)
            return 0;
        struct lp_entry e;
        lp_get(lp, voff, &e);
        if (e.sval) {
            out->p = (const char *)e.sval;
            out->len = e.slen;
            out->is_int = 0;
        } else {
            out->len = rc_ll2str(buf, LP_INTBUF_SIZE, e.lval);
            out->p = buf;
            out->is_int = 1;
            out->lval = e.lval;
        }
        return 1;
    }
    const struct hash_node *h = (const struct hash_node *)dict_find(o->v.ptr, f, flen);
    if (h == NULL)
        return 0;
    out->p = hnode_val(h);
    out->len = h->vlen;
    out->is_int = 0;
    return 1;
}

/* Field f's value as bytes (into the hash, or into buf for a listpack
 * integer); 1 if present, 0 if not.  For SORT's "key->field" patterns. */
int hash_field_get(const struct kv *o, const char *f, size_t flen, const char **p,
                   size_t *len, char buf[LP_INTBUF_SIZE])
{
    struct hval v;
    if (!hash_get(o, f, flen, &v, buf))
        return 0;
    *p = v.p;
    *len = v.len;
    return 1;
}

/* Deletes field f; returns 1 if it was there. */
static int hash_delete(struct kv *o, const char *f, size_t flen)
{
    if (o->enc == ENC_LISTPACK) {
        unsigned char *lp = o->v.ptr;
        size_t off = lp_first(lp);
        if (off == LP_NONE)
            return 0;
        off = lp_find(lp, off, f, flen, 1);
        if (off == LP_NONE)
            return 0;
        o->v.ptr = lp_delete(lp, off, 2, NULL);
        return 1;
    }
    struct dnode *n = dict_unlink(o->v.ptr, f, flen);
    if (n == NULL)
        return 0;
    rc_free(n);
    return 1;
}

void hash_iter_init(struct hash_iter *it, const struct kv *o)
{
    it->o = o;
    if (o->enc == ENC_LISTPACK)
        it->off = lp_first(o->v.ptr);
    else
        dict_iter_init(&it->di, o->v.ptr);
}

int hash_iter_next(struct hash_iter *it, const char **f, size_t *flen,
                   const char **v, size_t *vlen)
{
    if (it->o->enc == ENC_LISTPACK) {
        const unsigned char *lp = it->o->v.ptr;
        if (it->off == LP_NONE)
            return 0;
        size_t voff = lp_next(lp, it->off);
        *f = lp_get_str(lp, it->off, flen, it->fbuf);
        *v = lp_get_str(lp, voff, vlen, it->vbuf);
        it->off = lp_next(lp, voff);
        return 1;
    }
    const struct hash_node *h = (const struct hash_node *)dict_iter_next(&it->di);
    if (h == NULL)
        return 0;
    *f = h->data;
    *flen = h->flen;
    *v = hnode_val(h);
    *vlen = h->vlen;
    return 1;
}

void hash_iter_done(struct hash_iter *it)
{
    if (it->o->enc != ENC_LISTPACK)
        dict_iter_done(&it->di);
}

/* ---- command helpers ---- */

/* Replies WRONGTYPE and returns 1 when o exists and is not a hash. */
static int wrong_type(struct client *c, const struct kv *o)
{
    if (o != NULL && o->type != OBJ_HASH) {
        reply_err_wrongtype(c);
        return 1;
    }
    return 0;
}

/* The hash at argv[1] for writing, created empty (and added to the
 * keyspace) if missing; NULL after replying WRONGTYPE.  Callers must not
 * leave a created hash empty. */
static struct kv *lookup_write_or_create(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o != NULL)
        return wrong_type(c, o) ? NULL : o;
    o = kv_new_ptr(key->p, key->len, OBJ_HASH, ENC_LISTPACK, lp_new(0), -1);
    db_add(c->db, o);
    return o;
}

static void signal_key(struct client *c)
{
    db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
}

static void reply_hval(struct client *c, const struct hval *v)
{
    if (v->is_int)
        reply_bulk_long(c, v->lval);
    else
        reply_bulk(c, v->p, v->len);
}

/* ---- HSET, HMSET, HSETNX ---- */

static void hset_generic(struct client *c, int is_hmset)
{
    if (c->argc % 2 == 1) {
        reply_err_arity(c, is_hmset ? "hmset" : "hset");
        return;
    }
    struct kv *o = lookup_write_or_create(c);
    if (o == NULL)
        return;
    hash_try_conversion(o, c->argv, 2, c->argc - 1);
    long long created = 0;
    for (int i = 2; i < c->argc; i += 2)
        created += !hash_set(o, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p,
                             c->argv[i + 1].len);
    if (is_hmset)
        reply_ok(c);
    else
        reply_long(c, created);
    signal_key(c);
    notify_event(NOTIFY_HASH, "hset", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty += (c->argc - 2) / 2;
}

void cmd_hset(struct client *c)
{
    hset_generic(c, 0);
}

void cmd_hmset(struct client *c)
{
    hset_generic(c, 1);
}

void cmd_hsetnx(struct client *c)
{
    struct kv *o = lookup_write_or_create(c);
    if (o == NULL)
        return;
    char buf[LP_INTBUF_SIZE];
    struct hval v;
    if (hash_get(o, c->argv[2].p, c->argv[2].len, &v, buf)) {
        reply_long(c, 0);
        return;
    }
    hash_try_conversion(o, c->argv, 2, 3);
    hash_set(o, c->argv[2].p, c->argv[2].len, c->argv[3].p, c->argv[3].len);
    reply_long(c, 1);
    signal_key(c);
    notify_event(NOTIFY_HASH, "hset", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
}

/* ---- reads ---- */

void cmd_hget(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    char buf[LP_INTBUF_SIZE];
    struct hval v;
    if (hash_get(o, c->argv[2].p, c->argv[2].len, &v, buf))
        reply_hval(c, &v);
    else
        reply_null(c);
}

void cmd_hmget(struct client *c)
{
    /* A missing key is an empty hash: one null per field. */
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (wrong_type(c, o))
        return;
    reply_array_len(c, c->argc - 2);
    char buf[LP_INTBUF_SIZE];
    for (int i = 2; i < c->argc; i++) {
        struct hval v;
        if (o != NULL && hash_get(o, c->argv[i].p, c->argv[i].len, &v, buf))
            reply_hval(c, &v);
        else
            reply_null(c);
    }
}

/* The hash at argv[1] for a read that answers missing keys with an integer
 * 0; NULL after replying. */
static struct kv *lookup_read_or_zero(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, 0);
        return NULL;
    }
    return wrong_type(c, o) ? NULL : o;
}

void cmd_hexists(struct client *c)
{
    struct kv *o = lookup_read_or_zero(c);
    if (o == NULL)
        return;
    char buf[LP_INTBUF_SIZE];
    struct hval v;
    reply_long(c, hash_get(o, c->argv[2].p, c->argv[2].len, &v, buf));
}

void cmd_hlen(struct client *c)
{
    struct kv *o = lookup_read_or_zero(c);
    if (o == NULL)
        return;
    reply_long(c, (long long)hash_length(o));
}

void cmd_hstrlen(struct client *c)
{
    struct kv *o = lookup_read_or_zero(c);
    if (o == NULL)
        return;
    char buf[LP_INTBUF_SIZE];
    struct hval v;
    long long len = 0;
    if (hash_get(o, c->argv[2].p, c->argv[2].len, &v, buf))
        len = (long long)v.len;
    reply_long(c, len);
}

enum { WANT_FIELDS = 1, WANT_VALUES = 2 };

static void getall_generic(struct client *c, int want)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    int both = want == (WANT_FIELDS | WANT_VALUES);
    if (o == NULL) {
        if (both)
            reply_map_len(c, 0);
        else
            reply_empty_array(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    long n = (long)hash_length(o);
    if (both)
        reply_map_len(c, n);
    else
        reply_array_len(c, n);
    struct hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    hash_iter_init(&it, o);
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        if (want & WANT_FIELDS)
            reply_bulk(c, f, flen);
        if (want & WANT_VALUES)
            reply_bulk(c, v, vlen);
    }
    hash_iter_done(&it);
}

void cmd_hkeys(struct client *c)
{
    getall_generic(c, WANT_FIELDS);
}

void cmd_hvals(struct client *c)
{
    getall_generic(c, WANT_VALUES);
}

void cmd_hgetall(struct client *c)
{
    getall_generic(c, WANT_FIELDS | WANT_VALUES);
}

/* ---- HDEL ---- */

void cmd_hdel(struct client *c)
{
    struct kv *o = db_lookup(c->db, c->argv[1].p, c->argv[1].len);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (wrong_type(c, o))
        return;
    long long deleted = 0;
    int removed = 0;
    for (int i = 2; i < c->argc; i++) {
        if (!hash_delete(o, c->argv[i].p, c->argv[i].len))
            continue;
        deleted++;
        if (hash_length(o) == 0) {
            db_delete(c->db, c->argv[1].p, c->argv[1].len, 0);
            removed = 1;
            break;
        }
    }
    if (deleted) {
        if (!removed) {
            if (o->enc == ENC_HT)
                dict_try_shrink(o->v.ptr);
            signal_key(c);
        }
        notify_event(NOTIFY_HASH, "hdel", c->db, c->argv[1].p, c->argv[1].len);
        if (removed)
            notify_event(NOTIFY_GENERIC, "del", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty += deleted;
    }
    reply_long(c, deleted);
}

/* ---- HINCRBY, HINCRBYFLOAT ---- */

void cmd_hincrby(struct client *c)
{
    long long incr;
    if (!rc_str2ll(c->argv[3].p, c->argv[3].len, &incr)) {
        reply_err_not_int(c);
        return;
    }
    struct kv *o = lookup_write_or_create(c);
    if (o == NULL)
        return;
    long long value = 0;
    char buf[LP_INTBUF_SIZE];
    struct hval v;
    if (hash_get(o, c->argv[2].p, c->argv[2].len, &v, buf)) {
        if (v.is_int) {
            value = v.lval;
        } else if (!rc_str2ll(v.p, v.len, &value)) {
            reply_error(c, "ERR hash value is not an integer");
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;
    size_t n = rc_ll2str(buf, sizeof(buf), value);
    hash_set(o, c->argv[2].p, c->argv[2].len, buf, n);
    reply_long(c, value);
    signal_key(c);
    notify_event(NOTIFY_HASH, "hincrby", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
}

void cmd_hincrbyfloat(struct client *c)
{
    long double incr, value = 0;
    if (!rc_str2ld(c->argv[3].p, c->argv[3].len, &incr)) {
        reply_err_not_float(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    struct kv *o = lookup_write_or_create(c);
    if (o == NULL)
        return;
    char ibuf[LP_INTBUF_SIZE];
    struct hval v;
    if (hash_get(o, c->argv[2].p, c->argv[2].len, &v, ibuf)) {
        if (v.is_int) {
            value = (long double)v.lval;
        } else if (!rc_str2ld(v.p, v.len, &value)) {
            reply_error(c, "ERR hash value is not a float");
            return;
        }
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[RC_MAX_LONG_DOUBLE_CHARS];
    size_t n = rc_ld2str(buf, sizeof(buf), value, 1);
    hash_set(o, c->argv[2].p, c->argv[2].len, buf, n);
    reply_bulk(c, buf, n);
    signal_key(c);
    notify_event(NOTIFY_HASH, "hincrbyfloat", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    /* Logged as the value it produced (Redis: HSET key field value). */
    struct slice rec[4] = {{"HSET", 4}, c->argv[1], c->argv[2], {buf, n}};
    propagate_replace(c, 4, rec);
}

/* ---- HRANDFIELD ---- */

/* Above this, HRANDFIELD with a positive count copies the whole hash and
 * removes random fields instead of picking random fields (Redis's
 * HRANDFIELD_SUB_STRATEGY_MUL). */
#define RAND_SUB_STRATEGY_MUL 3

/* A field of either encoding: a listpack field offset or a node. */
union href {
    size_t off;
    const struct hash_node *node;
};

static void reply_href(struct client *c, const struct kv *o, union href r, int withvalues)
{
    if (withvalues && c->resp > 2)
        reply_array_len(c, 2);
    if (o->enc == ENC_LISTPACK) {
        const unsigned char *lp = o->v.ptr;
        char buf[LP_INTBUF_SIZE];
        size_t len;
        const char *s = lp_get_str(lp, r.off, &len, buf);
        reply_bulk(c, s, len);
        if (withvalues) {
            s = lp_get_str(lp, lp_next(lp, r.off), &len, buf);
            reply_bulk(c, s, len);
        }
    } else {
        reply_bulk(c, r.node->data, r.node->flen);
        if (withvalues)
            reply_bulk(c, hnode_val(r.node), r.node->vlen);
    }
}

/* All fields of a hash, in storage order; the caller frees the array. */
static union href *collect_all(const struct kv *o, size_t size)
{
    union href *all = rc_malloc((size ? size : 1) * sizeof(*all));
    size_t i = 0;
    if (o->enc == ENC_LISTPACK) {
        const unsigned char *lp = o->v.ptr;
        for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, lp_next(lp, off)))
            all[i++].off = off;
    } else {
        struct dict_iter it;
        struct dnode *n;
        dict_iter_init(&it, o->v.ptr);
        while ((n = dict_iter_next(&it)) != NULL)
            all[i++].node = (const struct hash_node *)n;
        dict_iter_done(&it);
    }
    return all;
}

static uint64_t rand_below(uint64_t n)
{
    /* Modulo bias is negligible for the sizes involved (n < 2^40). */
    return rc_random_u64() % n;
}

/* A set of node pointers, for picking distinct random fields of a big
 * hashtable (open addressing, linear probing, never full). */
struct ptrset {
    const void **slot;
    size_t mask;
};

static void ptrset_init(struct ptrset *s, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    s->slot = rc_calloc(cap * sizeof(*s->slot));
    s->mask = cap - 1;
}

/* Adds p; returns 1 if it was new. */
static int ptrset_add(struct ptrset *s, const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    for (size_t i = (size_t)h & s->mask;; i = (i + 1) & s->mask) {
        if (s->slot[i] == p)
            return 0;
        if (s->slot[i] == NULL) {
            s->slot[i] = p;
            return 1;
        }
    }
}

static void hrandfield_count(struct client *c, long l, int withvalues)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_empty_array(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    size_t size = hash_length(o);
    int uniq = l >= 0;
    unsigned long count = l >= 0 ? (unsigned long)l : (unsigned long)-l;
    if (count == 0) {
        reply_empty_array(c);
        return;
    }

    /* Repetitions allowed (negative count), or a single field. */
    if (!uniq || count == 1) {
        long n = (long)count;
        reply_array_len(c, withvalues && c->resp == 2 ? n * 2 : n);
        if (o->enc == ENC_LISTPACK) {
            union href *all = collect_all(o, size);
            while (count-- > 0 && !(c->flags & CF_CLOSE_ASAP))
                reply_href(c, o, all[rand_below(size)], withvalues);
            rc_free(all);
        } else {
            while (count-- > 0 && !(c->flags & CF_CLOSE_ASAP)) {
                union href r;
                r.node = (const struct hash_node *)dict_random(o->v.ptr);
                reply_href(c, o, r, withvalues);
            }
        }
        return;
    }

    long n = (long)(count < size ? count : size);
    reply_array_len(c, withvalues && c->resp == 2 ? n * 2 : n);

    /* The whole hash. */
    if (count >= size) {
        struct hash_iter it;
        const char *f, *v;
        size_t flen, vlen;
        hash_iter_init(&it, o);
        while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
            if (withvalues && c->resp > 2)
                reply_array_len(c, 2);
            reply_bulk(c, f, flen);
            if (withvalues)
                reply_bulk(c, v, vlen);
        }
        hash_iter_done(&it);
        return;
    }

    /* Most of the hash, or a listpack (cheap to copy): shuffle the first
     * `count` positions of the array of all fields (partial Fisher-Yates). */
    if (count * RAND_SUB_STRATEGY_MUL > size || o->enc == ENC_LISTPACK) {
        union href *all = collect_all(o, size);
        for (size_t i = 0; i < count; i++) {
            size_t j = i + (size_t)rand_below(size - i);
            union href t = all[i];
            all[i] = all[j];
            all[j] = t;
            reply_href(c, o, all[i], withvalues);
        }
        rc_free(all);
        return;
    }

    /* A small sample of a big hashtable: random picks, skipping repeats. */
    struct ptrset seen;
    ptrset_init(&seen, count);
    unsigned long added = 0;
    while (added < count) {
        union href r;
        r.node = (const struct hash_node *)dict_random(o->v.ptr);
        if (!ptrset_add(&seen, r.node))
            continue;
        added++;
        reply_href(c, o, r, withvalues);
    }
    rc_free(seen.slot);
}

void cmd_hrandfield(struct client *c)
{
    if (c->argc >= 3) {
        long l;
        if (!rc_str2l(c->argv[2].p, c->argv[2].len, &l)) {
            reply_err_not_int(c);
            return;
        }
        if (l < -LONG_MAX) {
            /* Redis's getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX). */
            reply_errorf(c, "ERR value is out of range, value must between %ld and %ld",
                         -LONG_MAX, LONG_MAX);
            return;
        }
        int withvalues = 0;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withvalues"))) {
            reply_err_syntax(c);
            return;
        }
        if (c->argc == 4) {
            withvalues = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                reply_error(c, "ERR value is out of range");
                return;
            }
        }
        hrandfield_count(c, l, withvalues);
        return;
    }

    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    union href r;
    if (o->enc == ENC_LISTPACK)
        r.off = lp_seek(o->v.ptr, 2 * (long long)rand_below(hash_length(o)));
    else
        r.node = (const struct hash_node *)dict_random(o->v.ptr);
    reply_href(c, o, r, 0);
}

/* ---- HSCAN ---- */

struct scan_nodes {
    const struct hash_node **items;
    size_t len;
    size_t cap;
};

static void scan_collect(void *priv, struct dnode *n)
{
    struct scan_nodes *sn = priv;
    if (sn->len == sn->cap) {
        size_t cap = sn->cap ? sn->cap * 2 : 16;
        sn->items = rc_realloc(sn->items, cap * sizeof(*sn->items));
        sn->cap = cap;
    }
    sn->items[sn->len++] = (const struct hash_node *)n;
}

void cmd_hscan(struct client *c)
{
    unsigned long long cursor;   /* unsigned long: the same width here */
    if (scan_parse_cursor(c, &c->argv[2], &cursor) != 0)
        return;
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    if (wrong_type(c, o))
        return;

    long count = 10;
    const struct slice *pat = NULL;
    for (int i = 3; i < c->argc;) {
        int more = c->argc - i;
        const struct slice *a = &c->argv[i];
        if (arg_is(a, "count") && more >= 2) {
            if (!rc_str2l(c->argv[i + 1].p, c->argv[i + 1].len, &count)) {
                reply_err_not_int(c);
                return;
            }
            if (count < 1) {
                reply_err_syntax(c);
                return;
            }
            i += 2;
        } else if (arg_is(a, "match") && more >= 2) {
            pat = &c->argv[i + 1];
            if (pat->len == 1 && pat->p[0] == '*')
                pat = NULL;
            i += 2;
        } else {
            reply_err_syntax(c);
            return;
        }
    }

    if (o->enc == ENC_LISTPACK) {
        /* Small hashes are returned whole, with cursor 0. */
        const unsigned char *lp = o->v.ptr;
        void *hole;
        long n = 0;
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        hole = reply_defer_len(c);
        char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
        for (size_t off = lp_first(lp); off != LP_NONE;) {
            size_t voff = lp_next(lp, off);
            size_t flen, vlen;
            const char *f = lp_get_str(lp, off, &flen, fb);
            off = lp_next(lp, voff);
            if (pat && !rc_glob_match(pat->p, pat->len, f, flen, 0))
                continue;
            const char *v = lp_get_str(lp, voff, &vlen, vb);
            reply_bulk(c, f, flen);
            reply_bulk(c, v, vlen);
            n += 2;
        }
        reply_set_array_len(c, hole, n);
        return;
    }

    /* Each field counts twice toward COUNT (field and value), as in Redis;
     * at most count*10 buckets are visited so a sparse table stays fast. */
    struct scan_nodes sn = {NULL, 0, 0};
    long maxiter = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = dict_scan(o->v.ptr, cursor, scan_collect, &sn);
    } while (cursor != 0 && maxiter-- > 0 && sn.len * 2 < (unsigned long)count);

    size_t kept = 0;
    for (size_t i = 0; i < sn.len; i++) {
        const struct hash_node *h = sn.items[i];
        if (pat && !rc_glob_match(pat->p, pat->len, h->data, h->flen, 0))
            continue;
        sn.items[kept++] = h;
    }
    char buf[RC_LONG_STR_SIZE];
    size_t blen = rc_ull2str(buf, sizeof(buf), cursor);
    reply_array_len(c, 2);
    reply_bulk(c, buf, blen);
    reply_array_len(c, (long)(kept * 2));
    for (size_t i = 0; i < kept; i++) {
        reply_bulk(c, sn.items[i]->data, sn.items[i]->flen);
        reply_bulk(c, hnode_val(sn.items[i]), sn.items[i]->vlen);
    }
    rc_free(sn.items);
}
