/*
 * t_sort.c — SORT and SORT_RO: the elements of a list, set or sorted set,
 * sorted numerically or (ALPHA) as strings, by themselves or by the values
 * of other keys (BY pattern, "*" replaced by the element, "key->field" for
 * a hash field), cut by LIMIT, mapped through GET patterns ("#" is the
 * element itself), replied or STOREd as a list, as redis-server 7.0.15 does.
 *
 * Order.  Numeric ties are broken by comparing the elements' bytes, so the
 * result is a total order except for ALPHA with BY where two elements have
 * equal (or both missing) BY values: those keep the order they were loaded
 * in (qsort from glibc, a merge sort, as Redis's own call; Redis switches
 * to its partial quicksort with BY and LIMIT, where such ties may come out
 * in another order).  Without sorting (BY a pattern without '*'), lists
 * and sorted sets keep their own order (reversed by DESC) and sets their
 * iteration order, except that SORT ... STORE and SORT from a script sort
 * a set ALPHA, so that the stored result is deterministic (the log and the
 * ring's copies replay the command itself).
 *
 * Ring mode follows Redis Cluster 7.0: a BY pattern with '*' and every GET
 * are refused, since the keys they name may live in any slot.
 *
 * Memory: the elements are copied into one vector while they are sorted;
 * a key's size bounds it.
 */
#include "t_sort.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "quicklist.h"
#include "reply.h"
#include "script.h"
#include "notify.h"
#include "server.h"
#include "t_hash.h"

struct sort_item {
    char *p;            /* element bytes, NUL-terminated copy */
    size_t len;
    double score;       /* numeric sort key */
    char *cmp;          /* ALPHA with BY: the BY value (NUL-terminated), or NULL */
    size_t cmplen;
};

struct sort_opts {
    int desc, alpha, dontsort, store_given;
    long long limit_start, limit_count;
    const struct slice *by;         /* NULL: the element itself */
    const struct slice *store;
    int ngets;
    const struct slice **gets;
};

/* Settings of one sort, read by the comparator (qsort has no context
 * argument in C11). */
static struct {
    int desc, alpha, bypattern, store;
} cmpctx;

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int r = memcmp(a, b, n);
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int item_cmp(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    int r;
    if (!cmpctx.alpha) {
        if (a->score > b->score)
            r = 1;
        else if (a->score < b->score)
            r = -1;
        else
            r = bytes_cmp(a->p, a->len, b->p, b->len);
    } else if (cmpctx.bypattern) {
        if (!a->cmp || !b->cmp)
            r = a->cmp == b->cmp ? 0 : a->cmp == NULL ? -1 : 1;
        else if (cmpctx.store)
            r = bytes_cmp(a->cmp, a->cmplen, b->cmp, b->cmplen);
        else
            r = strcoll(a->cmp, b->cmp);
    } else {
        r = cmpctx.store ? bytes_cmp(a->p, a->len, b->p, b->len) : strcoll(a->p, b->p);
    }
    return cmpctx.desc ? -r : r;
}

static char *dup_bytes(const char *p, size_t len)
{
    char *s = rc_malloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* The value a BY/GET pattern names for element e: 1 and its bytes in
 * *p, *len (buf holds integer digits), or 0 when there is none (no '*' in
 * the pattern, a missing key, a key of the wrong type, a missing field).
 * "#" is the element itself.  The pattern is read up to its first NUL, as
 * Redis reads it. */
static int pattern_value(struct db *db, const struct slice *pat, const struct sort_item *e,
                         const char **p, size_t *len, char buf[32])
{
    size_t plen = strnlen(pat->p, pat->len);
    if (plen == 1 && pat->p[0] == '#') {
        *p = e->p;
        *len = e->len;
        return 1;
    }
    const char *star = memchr(pat->p, '*', plen);
    if (!star)
        return 0;
    const char *field = NULL;
    size_t fieldlen = 0;
    for (const char *q = star + 1; q + 1 < pat->p + plen; q++) {
        if (q[0] == '-' && q[1] == '>') {
            if (q + 2 < pat->p + plen) {
                field = q + 2;
                fieldlen = (size_t)(pat->p + plen - field);
            }
            break;
        }
    }
    size_t prefix = (size_t)(star - pat->p);
    size_t postfix = plen - prefix - 1 - (field ? fieldlen + 2 : 0);
    size_t klen = prefix + e->len + postfix;
    char small[128];
    char *key = klen <= sizeof(small) ? small : rc_malloc(klen);
    memcpy(key, pat->p, prefix);
    memcpy(key + prefix, e->p, e->len);
    memcpy(key + prefix + e->len, star + 1, postfix);
    struct kv *o = db_lookup(db, key, klen);
    if (key != small)
        rc_free(key);
    if (!o)
        return 0;
    if (field) {
        if (o->type != OBJ_HASH)
            return 0;
        return hash_field_get(o, field, fieldlen, p, len, buf);
    }
    if (o->type != OBJ_STRING)
        return 0;
    struct strview v = kv_strview(o, buf);
    *p = v.p;
    *len = v.len;
    return 1;
}

/* Parses the options after the key; replies the error and returns -1 on a
 * bad one. */
static int parse_opts(struct client *c, int readonly, struct sort_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->limit_count = -1;
    o->gets = rc_malloc(sizeof(*o->gets) * (size_t)c->argc);
    for (int j = 2; j < c->argc; j++) {
        const struct slice *a = &c->argv[j];
        int left = c->argc - j - 1;
        if (arg_is(a, "asc")) {
            o->desc = 0;
        } else if (arg_is(a, "desc")) {
            o->desc = 1;
        } else if (arg_is(a, "alpha")) {
            o->alpha = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (!rc_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &o->limit_start) ||
                !rc_str2ll(c->argv[j + 2].p, c->argv[j + 2].len, &o->limit_count)) {
                reply_err_not_int(c);
                return -1;
            }
            j += 2;
        } else if (!readonly && arg_is(a, "store") && left >= 1) {
            o->store = &c->argv[j + 1];
            j++;
        } else if (arg_is(a, "by") && left >= 1) {
            o->by = &c->argv[j + 1];
            if (!memchr(o->by->p, '*', strnlen(o->by->p, o->by->len))) {
                o->dontsort = 1;
            } else if (server.cluster_enabled) {
                reply_error(c, "ERR BY option of SORT denied in Cluster mode.");
                return -1;
            }
            j++;
        } else if (arg_is(a, "get") && left >= 1) {
            if (server.cluster_enabled) {
                reply_error(c, "ERR GET option of SORT denied in Cluster mode.");
                return -1;
            }
            o->gets[o->ngets++] = &c->argv[j + 1];
            j++;
        } else {
            reply_err_syntax(c);
            return -1;
        }
    }
    return 0;
}

struct loader {
    struct sort_item *v;
    size_t n, cap;
};

static void load_one(void *arg, const char *p, size_t len)
{
    struct loader *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = rc_realloc(l->v, l->cap * sizeof(*l->v));
    }
    struct sort_item *e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->p = dup_bytes(p, len);
    e->len = len;
}

/* The numeric sort key of bytes p[0..len), as Redis's strtod() check:
 * the text must parse up to its end (or its first NUL) and not be NaN or
 * out of range.  Returns 0 on a conversion error. */
static int parse_score(const char *p, size_t len, double *out)
{
    char small[64];
    char *s = len < sizeof(small) ? small : rc_malloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    int ok = end[0] == '\0' && errno != ERANGE && !isnan(*out);
    if (s != small)
        rc_free(s);
    return ok;
}

/* Loads the sort keys: scores, or with ALPHA and BY the BY values.
 * Returns 0 if some score is not a number. */
static int load_keys(struct db *db, const struct sort_opts *o, struct sort_item *v, size_t n)
{
    int ok = 1;
    for (size_t j = 0; j < n; j++) {
        const char *p = v[j].p;
        size_t len = v[j].len;
        char buf[32];
        if (o->by && !pattern_value(db, o->by, &v[j], &p, &len, buf))
            continue;
        if (o->alpha) {
            if (o->by) {
                v[j].cmp = dup_bytes(p, len);
                v[j].cmplen = len;
            }
        } else if (!parse_score(p, len, &v[j].score)) {
            ok = 0;
        }
    }
    return ok;
}

static void free_items(struct sort_item *v, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        rc_free(v[j].p);
        rc_free(v[j].cmp);
    }
    rc_free(v);
}

/* Replies (or stores) v[start..end] mapped through the GET patterns. */
static void emit(struct client *c, const struct sort_opts *o, struct sort_item *v, long start,
                 long end)
{
    long outlen = (o->ngets ? o->ngets : 1) * (end - start + 1);
    if (!o->store) {
        reply_array_len(c, outlen);
        for (long j = start; j <= end; j++) {
            if (!o->ngets)
                reply_bulk(c, v[j].p, v[j].len);
            for (int g = 0; g < o->ngets; g++) {
                const char *p;
                size_t len;
                char buf[32];
                if (pattern_value(c->db, o->gets[g], &v[j], &p, &len, buf))
                    reply_bulk(c, p, len);
                else
                    reply_null(c);
            }
        }
        return;
    }
    if (outlen > 0) {
        struct quicklist *ql = ql_create(server.list_max_listpack_size);
        for (long j = start; j <= end; j++) {
            if (!o->ngets)
                ql_push(ql, QL_TAIL, v[j].p, v[j].len);
            for (int g = 0; g < o->ngets; g++) {
                const char *p = "";
                size_t len = 0;
                char buf[32];
                pattern_value(c->db, o->gets[g], &v[j], &p, &len, buf);
                ql_push(ql, QL_TAIL, p, len);
            }
        }
        struct kv *n = kv_new_ptr(o->store->p, o->store->len, OBJ_LIST, ENC_QUICKLIST, ql, -1);
        db_overwrite(c->db, n);     /* drops a TTL, as Redis's setKey */
        server.stat_dirty += outlen;
        notify_event(NOTIFY_LIST, "sortstore", c->db, o->store->p, o->store->len);
    } else if (db_delete(c->db, o->store->p, o->store->len, server.lazyfree_lazy_server_del)) {
        server.stat_dirty++;
        notify_event(NOTIFY_GENERIC, "del", c->db, o->store->p, o->store->len);
    }
    reply_long(c, outlen);
}

static void sort_generic(struct client *c, int readonly)
{
    struct sort_opts o;
    if (parse_opts(c, readonly, &o) != 0) {
        rc_free(o.gets);
        return;
    }
    const struct slice *key = &c->argv[1];
    struct kv *src = o.store ? db_lookup(c->db, key->p, key->len) : db_lookup_read(c, key);
    if (src && src->type != OBJ_SET && src->type != OBJ_LIST && src->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        rc_free(o.gets);
        return;
    }
    /* An unsorted set would store (or hand a script) an arbitrary order. */
    if (o.dontsort && src && src->type == OBJ_SET &&
        (o.store || script_is_script_client(c))) {
        o.dontsort = 0;
        o.alpha = 1;
        o.by = NULL;
    }

    struct loader l = {NULL, 0, 0};
    if (src)
        elements_walk(src, load_one, &l);     /* in the key's own order */
    long n = (long)l.n;
    /* Redis's LIMIT clamping, without its overflow for huge values. */
    long start, end;
    if (o.limit_start >= (long long)n) {
        start = n - 1;
        end = n - 2;
    } else {
        start = o.limit_start < 0 ? 0 : (long)o.limit_start;
        if (o.limit_count < 0 || o.limit_count >= (long long)n - start)
            end = n - 1;
        else
            end = start + (long)o.limit_count - 1;
    }

    int ok = 1;
    if (o.dontsort) {
        /* Lists and sorted sets in their own order, DESC reversed. */
        if (o.desc && src && src->type != OBJ_SET) {
            for (long i = 0, k = n - 1; i < k; i++, k--) {
                struct sort_item t = l.v[i];
                l.v[i] = l.v[k];
                l.v[k] = t;
            }
        }
    } else {
        ok = load_keys(c->db, &o, l.v, l.n);
        cmpctx.desc = o.desc;
        cmpctx.alpha = o.alpha;
        cmpctx.bypattern = o.by != NULL;
        cmpctx.store = o.store != NULL;
        if (l.n > 1)
            qsort(l.v, l.n, sizeof(*l.v), item_cmp);
    }
    if (!ok)
        reply_error(c, "ERR One or more scores can't be converted into double");
    else
        emit(c, &o, l.v, start, end);
    free_items(l.v, l.n);
    rc_free(o.gets);
}

void cmd_sort(struct client *c)
{
    sort_generic(c, 0);
}

void cmd_sort_ro(struct client *c)
{
    sort_generic(c, 1);
}

int sort_find_keys(const struct command *cmd, int argc, const struct slice *argv,
                   struct key_ref *out, int max)
{
    int n = 0, store = 0;
    if (max > 0) {
        out[0].pos = 1;
        out[0].flags = KS_RO | KS_ACCESS;
    }
    n = 1;
    if (strcmp(cmd->name, "sort_ro") == 0)
        return n;
    /* As Redis's sortGetKeys(): LIMIT, GET and BY skip their arguments,
     * the last STORE names the destination. */
    for (int i = 2; i < argc; i++) {
        if (arg_is(&argv[i], "limit")) {
            i += 2;
        } else if (arg_is(&argv[i], "get") || arg_is(&argv[i], "by")) {
            i += 1;
        } else if (arg_is(&argv[i], "store") && i + 1 < argc) {
            store = i + 1;
        }
    }
    if (store) {
        if (max > 1) {
            out[1].pos = store;
            out[1].flags = KS_OW | KS_UPDATE;
        }
        n++;
    }
    return n;
}
