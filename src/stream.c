/*
 * stream.c — the stream value (layout in stream.h): node index, appends,
 * deletion, trimming, iteration, consumer groups and their PELs.
 */
#include "stream.h"

#include <string.h>

#include "listpack.h"
#include "mem.h"
#include "rdb.h"
#include "util.h"

/* ---- ids ---- */

int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

int stream_id_incr(struct stream_id *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX)
            return -1;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 0;
}

int stream_id_decr(struct stream_id *id)
{
    if (id->seq == 0) {
        if (id->ms == 0)
            return -1;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 0;
}

size_t stream_id_fmt(char *buf, const struct stream_id *id)
{
    size_t n = rc_ull2str(buf, 21, id->ms);
    buf[n++] = '-';
    n += rc_ull2str(buf + n, 21, id->seq);
    return n;
}

void stream_id_encode(unsigned char out[16], const struct stream_id *id)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        out[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
}

void stream_id_decode(const unsigned char in[16], struct stream_id *id)
{
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = id->ms << 8 | in[i];
        id->seq = id->seq << 8 | in[8 + i];
    }
}

/* ---- arrays with room at both ends ----
 *
 * The node index and the sorted pointer arrays keep free slots in front of
 * their first element (head) as well as after the last, so removing near
 * the front (trimming, acknowledging the oldest pending entries) and
 * inserting at the end are O(1); elsewhere the shorter side moves.  v
 * points at the first element, v - head * esz at the allocation. */

static char *garr_base(char *v, size_t head, size_t esz)
{
    return head ? v - head * esz : v;
}

/* Opens a slot at index i of the n elements at v; returns the new v (the
 * slot is v + i * esz) and updates n, cap and head. */
static char *garr_open(char *v, size_t *n, size_t *cap, size_t *head, size_t esz, size_t i)
{
    int front = *head > 0 && i < (*n + 1) / 2;
    if (!front && *cap - *head - *n == 0) {
        char *base = garr_base(v, *head, esz);
        if (*head > *n) {
            /* Mostly free in front (a queue: appended at the end, removed
             * at the front): move down instead of growing. */
            memmove(base, v, *n * esz);
        } else {
            *cap = *cap ? *cap * 2 : 4;
            base = rc_realloc(base, *cap * esz);
            base += *head * esz;
        }
        v = base;
        if (*head > *n)
            *head = 0;
    }
    if (front) {
        memmove(v - esz, v, i * esz);
        v -= esz;
        (*head)--;
    } else {
        memmove(v + (i + 1) * esz, v + i * esz, (*n - i) * esz);
    }
    (*n)++;
    return v;
}

/* Removes k elements from index i; returns the new v. */
static char *garr_close(char *v, size_t *n, size_t *head, size_t esz, size_t i, size_t k)
{
    if (i < *n - i - k) {
        memmove(v + k * esz, v, i * esz);
        v += k * esz;
        *head += k;
    } else {
        memmove(v + i * esz, v + (i + k) * esz, (*n - i - k) * esz);
    }
    *n -= k;
    if (*n == 0) {
        v = garr_base(v, *head, esz);
        *head = 0;
    }
    return v;
}

void stream_parr_insert(struct stream_parr *arr, size_t i, void *p)
{
    arr->v = (void **)garr_open((char *)arr->v, &arr->n, &arr->cap, &arr->head,
                                sizeof(void *), i);
    arr->v[i] = p;
}

static void parr_remove(struct stream_parr *arr, size_t i)
{
    arr->v = (void **)garr_close((char *)arr->v, &arr->n, &arr->head, sizeof(void *), i, 1);
}

static void parr_free(struct stream_parr *arr)
{
    rc_free(garr_base((char *)arr->v, arr->head, sizeof(void *)));
    arr->v = NULL;
    arr->n = arr->cap = arr->head = 0;
}

/* Removes k nodes from index i of the node index (their listpacks are the
 * caller's). */
static void nodes_remove(struct stream *s, size_t i, size_t k)
{
    s->nodes = (struct stream_node *)garr_close((char *)s->nodes, &s->nnodes, &s->nodes_head,
                                                sizeof(*s->nodes), i, k);
}

size_t stream_pel_lower(const struct stream_parr *pel, const struct stream_id *id)
{
    size_t lo = 0, hi = pel->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct stream_nack *n = pel->v[mid];
        if (stream_id_cmp(&n->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct stream_nack *stream_pel_find(const struct stream_parr *pel, const struct stream_id *id)
{
    size_t i = stream_pel_lower(pel, id);
    if (i < pel->n && stream_id_cmp(&((struct stream_nack *)pel->v[i])->id, id) == 0)
        return pel->v[i];
    return NULL;
}

/* Groups and consumers both start with their name, so one search serves
 * both arrays; the order is a radix tree's (bytes, then length). */
struct named {
    char *name;
    size_t nlen;
};

static int name_cmp(const struct named *a, const char *name, size_t len)
{
    size_t m = a->nlen < len ? a->nlen : len;
    int r = memcmp(a->name, name, m);
    if (r)
        return r;
    return a->nlen < len ? -1 : a->nlen > len ? 1 : 0;
}

static size_t name_lower(const struct stream_parr *arr, const char *name, size_t len)
{
    size_t lo = 0, hi = arr->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (name_cmp(arr->v[mid], name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *name_find(const struct stream_parr *arr, const char *name, size_t len)
{
    size_t i = name_lower(arr, name, len);
    if (i < arr->n && name_cmp(arr->v[i], name, len) == 0)
        return arr->v[i];
    return NULL;
}

/* A zeroed object of size bytes starting with a struct named, inserted in
 * arr; NULL if the name is taken. */
static void *name_insert(struct stream_parr *arr, const char *name, size_t len, size_t size)
{
    size_t i = name_lower(arr, name, len);
    if (i < arr->n && name_cmp(arr->v[i], name, len) == 0)
        return NULL;
    struct named *n = rc_calloc(size);
    n->name = rc_strndup(name, len);
    n->nlen = len;
    stream_parr_insert(arr, i, n);
    return n;
}

/* ---- listpack helpers ---- */

static int64_t lp_int(const unsigned char *lp, size_t off)
{
    struct lp_entry e;
    lp_get(lp, off, &e);
    if (e.sval) {
        long long v = 0;
        rc_str2ll((const char *)e.sval, e.slen, &v);
        return v;
    }
    return e.lval;
}

static size_t lp_skip(const unsigned char *lp, size_t off, int64_t n)
{
    while (n-- > 0 && off != LP_NONE)
        off = lp_next(lp, off);
    return off;
}

/* ---- the stream ---- */

struct stream *stream_new(void)
{
    return rc_calloc(sizeof(struct stream));
}

static void consumer_free(struct stream_consumer *cons)
{
    parr_free(&cons->pel);
    rc_free(cons->name);
    rc_free(cons);
}

static void cg_free(struct stream_cg *cg)
{
    for (size_t i = 0; i < cg->pel.n; i++)
        rc_free(cg->pel.v[i]);
    for (size_t i = 0; i < cg->consumers.n; i++)
        consumer_free(cg->consumers.v[i]);
    parr_free(&cg->pel);
    parr_free(&cg->consumers);
    rc_free(cg->name);
    rc_free(cg);
}

void stream_destroy(struct stream **sp)
{
    struct stream *s = *sp;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        lp_free(s->nodes[i].lp);
    rc_free(garr_base((char *)s->nodes, s->nodes_head, sizeof(*s->nodes)));
    for (size_t i = 0; i < s->groups.n; i++)
        cg_free(s->groups.v[i]);
    parr_free(&s->groups);
    rc_free(s);
    *sp = NULL;
}

void stream_push_node(struct stream *s, const struct stream_id *master, unsigned char *lp,
                      size_t rbytes)
{
    size_t i = s->nnodes;
    s->nodes = (struct stream_node *)garr_open((char *)s->nodes, &s->nnodes, &s->nodes_cap,
                                               &s->nodes_head, sizeof(*s->nodes), i);
    s->nodes[i].master = *master;
    s->nodes[i].lp = lp;
    s->nodes[i].rbytes = rbytes;
}

struct stream *stream_dup(const struct stream *s)
{
    struct stream *d = stream_new();
    *d = *s;
    d->nodes = NULL;
    d->nnodes = d->nodes_cap = d->nodes_head = 0;
    memset(&d->groups, 0, sizeof(d->groups));
    for (size_t i = 0; i < s->nnodes; i++)
        stream_push_node(d, &s->nodes[i].master, lp_dup(s->nodes[i].lp), s->nodes[i].rbytes);
    for (size_t g = 0; g < s->groups.n; g++) {
        const struct stream_cg *cg = s->groups.v[g];
        struct stream_cg *ncg =
            stream_cg_create(d, cg->name, cg->nlen, &cg->last_id, cg->entries_read);
        for (size_t k = 0; k < cg->consumers.n; k++) {
            const struct stream_consumer *cons = cg->consumers.v[k];
            struct stream_consumer *nc =
                stream_consumer_create(ncg, cons->name, cons->nlen, cons->seen_time);
            for (size_t j = 0; j < cons->pel.n; j++) {
                const struct stream_nack *n = cons->pel.v[j];
                struct stream_nack *nn = stream_nack_add(ncg, nc, &n->id, n->delivery_time);
                nn->delivery_count = n->delivery_count;
            }
        }
    }
    return d;
}

size_t stream_free_effort(const struct stream *s)
{
    size_t n = s->nnodes;
    for (size_t g = 0; g < s->groups.n; g++) {
        const struct stream_cg *cg = s->groups.v[g];
        n += 1 + cg->pel.n + cg->consumers.n;
    }
    return n;
}

size_t stream_mem(const struct stream *s)
{
    size_t m = sizeof(*s) + s->nodes_cap * sizeof(*s->nodes);
    for (size_t i = 0; i < s->nnodes; i++)
        m += lp_bytes(s->nodes[i].lp);
    for (size_t g = 0; g < s->groups.n; g++) {
        const struct stream_cg *cg = s->groups.v[g];
        m += sizeof(*cg) + cg->nlen + cg->pel.cap * sizeof(void *) +
             cg->pel.n * sizeof(struct stream_nack);
        for (size_t k = 0; k < cg->consumers.n; k++) {
            const struct stream_consumer *cons = cg->consumers.v[k];
            m += sizeof(*cons) + cons->nlen + cons->pel.cap * sizeof(void *);
        }
    }
    return m;
}

/* Offset of the master's first field and of the node's first entry. */
static void node_layout(const unsigned char *lp, size_t *mfields, int64_t *mnf, size_t *first)
{
    size_t p = lp_first(lp);        /* count */
    p = lp_next(lp, p);             /* deleted */
    p = lp_next(lp, p);             /* num-fields */
    *mnf = lp_int(lp, p);
    p = lp_next(lp, p);
    *mfields = p;
    p = lp_skip(lp, p, *mnf);       /* the 0 terminator */
    *first = lp_next(lp, p);
}

int stream_append(struct stream *s, const struct stream_id *id, const struct stream_str *fv,
                  size_t nfields, size_t node_max_bytes, long long node_max_entries)
{
    size_t tot = 0;
    for (size_t i = 0; i < nfields * 2; i++)
        tot += fv[i].len;
    if (tot > STREAM_NODE_HARD_MAX_BYTES)
        return -1;

    struct stream_node *n = s->nnodes ? &s->nodes[s->nnodes - 1] : NULL;
    if (n) {
        size_t maxb = node_max_bytes;
        if (maxb == 0 || maxb > STREAM_NODE_HARD_MAX_BYTES)
            maxb = STREAM_NODE_HARD_MAX_BYTES;
        size_t p = lp_first(n->lp);
        if (n->rbytes + tot >= maxb)
            n = NULL;
        else if (node_max_entries > 0 &&
                 lp_int(n->lp, p) + lp_int(n->lp, lp_next(n->lp, p)) >= node_max_entries)
            n = NULL;
    }
    unsigned char *lp;
    struct stream_id master;
    size_t rb;
    if (n == NULL) {
        lp = lp_new(0);
        lp = lp_append_int(lp, 1);
        lp = lp_append_int(lp, 0);
        lp = lp_append_int(lp, (long long)nfields);
        rb = 7 + rlp_entry_size_int(1) + rlp_entry_size_int(0) +
             rlp_entry_size_int((long long)nfields) + rlp_entry_size_int(0);
        for (size_t i = 0; i < nfields; i++) {
            lp = lp_append(lp, fv[2 * i].p, fv[2 * i].len);
            rb += rlp_entry_size(fv[2 * i].p, fv[2 * i].len);
        }
        lp = lp_append_int(lp, 0);
        master = *id;
    } else {
        lp = n->lp;
        master = n->master;
        size_t p = lp_first(lp);
        int64_t cnt = lp_int(lp, p);
        lp = lp_replace_int(lp, p, cnt + 1);
        rb = n->rbytes + rlp_entry_size_int(cnt + 1) - rlp_entry_size_int(cnt);
    }

    size_t mf, first;
    int64_t mnf;
    node_layout(lp, &mf, &mnf, &first);
    int same = (int64_t)nfields == mnf;
    for (size_t i = 0; same && i < nfields; i++, mf = lp_next(lp, mf))
        same = lp_equal(lp, mf, fv[2 * i].p, fv[2 * i].len);

    long long head[4] = {same ? STREAM_ITEM_SAMEFIELDS : 0, (long long)(id->ms - master.ms),
                         (long long)(id->seq - master.seq), (long long)nfields};
    long long lpcount = (long long)(nfields + 3 + (same ? 0 : nfields + 1));
    for (int i = 0; i < (same ? 3 : 4); i++) {
        lp = lp_append_int(lp, head[i]);
        rb += rlp_entry_size_int(head[i]);
    }
    for (size_t i = 0; i < nfields; i++) {
        if (!same) {
            lp = lp_append(lp, fv[2 * i].p, fv[2 * i].len);
            rb += rlp_entry_size(fv[2 * i].p, fv[2 * i].len);
        }
        lp = lp_append(lp, fv[2 * i + 1].p, fv[2 * i + 1].len);
        rb += rlp_entry_size(fv[2 * i + 1].p, fv[2 * i + 1].len);
    }
    lp = lp_append_int(lp, lpcount);
    rb += rlp_entry_size_int(lpcount);

    if (n == NULL) {
        stream_push_node(s, &master, lp, rb);
    } else {
        n->lp = lp;
        n->rbytes = rb;
    }
    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1)
        s->first_id = *id;
    return 0;
}

/* ---- iteration ---- */

/* Index of the last node whose master id is <= id, or -1. */
static long node_floor(const struct stream *s, const struct stream_id *id)
{
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (stream_id_cmp(&s->nodes[mid].master, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

void stream_iter_start(struct stream_iter *it, const struct stream *s,
                       const struct stream_id *start, const struct stream_id *end, int rev)
{
    static const struct stream_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->start = start ? *start : lo;
    it->end = end ? *end : hi;
    it->rev = rev;
    if (!rev) {
        long f = node_floor(s, &it->start);
        it->node = f < 0 ? 0 : (size_t)f;
    } else {
        it->node = (size_t)(node_floor(s, &it->end) + 1);   /* index + 1; 0: none */
    }
}

static void iter_open(struct stream_iter *it)
{
    size_t idx = it->rev ? it->node - 1 : it->node;
    it->lp = it->s->nodes[idx].lp;
    node_layout(it->lp, &it->master_fields, &it->master_nfields, &it->first_entry);
    it->pos = it->rev ? lp_last(it->lp) : it->first_entry;
    it->started = 1;
}

static void iter_read(struct stream_iter *it, struct stream_id *id)
{
    const unsigned char *lp = it->lp;
    const struct stream_id *m = &it->s->nodes[it->rev ? it->node - 1 : it->node].master;
    size_t p = it->entry;
    it->flags = lp_int(lp, p);
    p = lp_next(lp, p);
    id->ms = m->ms + (uint64_t)lp_int(lp, p);
    p = lp_next(lp, p);
    id->seq = m->seq + (uint64_t)lp_int(lp, p);
    p = lp_next(lp, p);
    if (it->flags & STREAM_ITEM_SAMEFIELDS) {
        it->nfields = it->master_nfields;
        it->fv_left = it->nfields;
    } else {
        it->nfields = lp_int(lp, p);
        p = lp_next(lp, p);
        it->fv_left = it->nfields * 2;
    }
    it->fv = p;
    it->mf = it->master_fields;
}

int stream_iter_next(struct stream_iter *it, struct stream_id *id, int64_t *nfields)
{
    for (;;) {
        if (!it->started) {
            if (it->rev ? it->node == 0 : it->node >= it->s->nnodes)
                return 0;
            iter_open(it);
        }
        if (!it->rev && it->entry && it->pos == 0) {
            /* Finish skipping the previous entry, then its lp-count. */
            size_t p = lp_skip(it->lp, it->fv, it->fv_left);
            it->pos = lp_next(it->lp, p);
            it->entry = 0;
            if (it->pos == LP_NONE) {
                it->started = 0;
                it->node++;
                continue;
            }
        }
        if (it->rev) {
            if (it->pos == LP_NONE || it->pos < it->first_entry) {
                it->started = 0;
                it->node--;
                continue;
            }
            int64_t cnt = lp_int(it->lp, it->pos);
            size_t p = it->pos;
            for (int64_t i = 0; i < cnt; i++)
                p = lp_prev(it->lp, p);
            it->entry = p;
            it->pos = p == it->first_entry ? LP_NONE : lp_prev(it->lp, p);
        } else {
            it->entry = it->pos;
            it->pos = 0;
        }
        iter_read(it, id);
        if (!it->rev) {
            if (stream_id_cmp(id, &it->end) > 0)
                return 0;
            if (stream_id_cmp(id, &it->start) < 0)
                continue;
        } else {
            if (stream_id_cmp(id, &it->start) < 0)
                return 0;
            if (stream_id_cmp(id, &it->end) > 0)
                continue;
        }
        if (it->flags & STREAM_ITEM_DELETED)
            continue;
        *nfields = it->nfields;
        return 1;
    }
}

void stream_iter_field(struct stream_iter *it, const char **f, size_t *flen, char *fbuf,
                       const char **v, size_t *vlen, char *vbuf)
{
    const unsigned char *lp = it->lp;
    if (it->flags & STREAM_ITEM_SAMEFIELDS) {
        *f = lp_get_str(lp, it->mf, flen, fbuf);
        it->mf = lp_next(lp, it->mf);
        it->fv_left--;
    } else {
        *f = lp_get_str(lp, it->fv, flen, fbuf);
        it->fv = lp_next(lp, it->fv);
        it->fv_left -= 2;
    }
    *v = lp_get_str(lp, it->fv, vlen, vbuf);
    it->fv = lp_next(lp, it->fv);
}

/* Flags the current entry deleted.  A node left without live entries is
 * removed, unless keep_empty: Redis's exact trimming (XTRIM/XADD MINID
 * inside a node whose last entry, deleted, is not below the limit) keeps
 * such a node, and it stays visible in XINFO's radix-tree-keys, in DUMP
 * and in where the next XADD starts a node. */
static void iter_delete(struct stream_iter *it, int keep_empty)
{
    /* The iterator only reads; deleting is its one write, on the stream
     * the caller owns. */
    struct stream *s = (struct stream *)it->s;
    size_t idx = it->rev ? it->node - 1 : it->node;
    struct stream_node *n = &s->nodes[idx];
    n->lp = lp_replace_int(n->lp, it->entry, it->flags | STREAM_ITEM_DELETED);
    size_t before = lp_bytes(n->lp);
    size_t p = lp_first(n->lp);
    int64_t live = lp_int(n->lp, p) - 1;
    n->lp = lp_replace_int(n->lp, p, live);
    p = lp_next(n->lp, p);
    int64_t dead = lp_int(n->lp, p);
    n->lp = lp_replace_int(n->lp, p, dead + 1);
    n->rbytes += rlp_entry_size_int(live) + rlp_entry_size_int(dead + 1) -
                 rlp_entry_size_int(live + 1) - rlp_entry_size_int(dead);
    s->length--;
    if (live == 0 && !keep_empty) {
        lp_free(n->lp);
        nodes_remove(s, idx, 1);
        it->started = 0;
        it->entry = 0;
        if (it->rev)
            it->node--;
        return;
    }
    /* The counters may have changed size: every offset we hold is after
     * them. */
    ptrdiff_t d = (ptrdiff_t)lp_bytes(n->lp) - (ptrdiff_t)before;
    it->lp = n->lp;
    it->master_fields += d;
    it->first_entry += d;
    it->entry += d;
    it->fv += d;
    it->mf += d;
    if (it->pos != LP_NONE)
        it->pos += d;
    it->flags |= STREAM_ITEM_DELETED;
}

void stream_iter_delete(struct stream_iter *it)
{
    iter_delete(it, 0);
}

int stream_iter_find(struct stream_iter *it, const struct stream *s, const struct stream_id *id,
                     int64_t *nfields)
{
    struct stream_id got;
    stream_iter_start(it, s, id, id, 0);
    return stream_iter_next(it, &got, nfields);
}

int stream_delete(struct stream *s, const struct stream_id *id)
{
    struct stream_iter it;
    int64_t nf;
    if (!stream_iter_find(&it, s, id, &nf))
        return 0;
    stream_iter_delete(&it);
    return 1;
}

int stream_has_entry(const struct stream *s, const struct stream_id *id)
{
    struct stream_iter it;
    int64_t nf;
    return stream_iter_find(&it, s, id, &nf);
}

int stream_edge_id(const struct stream *s, int first, struct stream_id *id)
{
    struct stream_iter it;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, !first);
    return stream_iter_next(&it, id, &nf);
}

void stream_update_first(struct stream *s)
{
    if (!stream_edge_id(s, 1, &s->first_id))
        s->first_id = (struct stream_id){0, 0};
}

/* Last id (deleted or not) of node i. */
static void node_last_id(const struct stream *s, size_t i, struct stream_id *id)
{
    const unsigned char *lp = s->nodes[i].lp;
    size_t p = lp_last(lp);
    int64_t cnt = lp_int(lp, p);
    for (int64_t k = 0; k < cnt; k++)
        p = lp_prev(lp, p);
    p = lp_next(lp, p);
    id->ms = s->nodes[i].master.ms + (uint64_t)lp_int(lp, p);
    p = lp_next(lp, p);
    id->seq = s->nodes[i].master.seq + (uint64_t)lp_int(lp, p);
}

uint64_t stream_trim(struct stream *s, const long long *maxlen, const struct stream_id *minid,
                     int approx, long long limit)
{
    uint64_t removed = 0;
    size_t drop = 0;        /* whole nodes removed from the front */
    while (drop < s->nnodes) {
        if (maxlen && s->length <= (uint64_t)*maxlen)
            break;
        struct stream_node *n = &s->nodes[drop];
        size_t p0 = lp_first(n->lp);
        int64_t live = lp_int(n->lp, p0);
        if (limit > 0 && (long long)removed + live > limit)
            break;
        int whole;
        if (maxlen) {
            whole = s->length - (uint64_t)live >= (uint64_t)*maxlen;
        } else {
            struct stream_id last;
            node_last_id(s, drop, &last);
            whole = stream_id_cmp(&last, minid) < 0;
        }
        if (whole) {
            lp_free(n->lp);
            s->length -= (uint64_t)live;
            removed += (uint64_t)live;
            drop++;
            continue;
        }
        if (approx)
            break;
        /* Flag entries of this node, oldest first, until done. */
        struct stream_iter it;
        struct stream_id id;
        int64_t nf;
        stream_iter_start(&it, s, &n->master, NULL, 0);
        it.node = drop;
        while (stream_iter_next(&it, &id, &nf)) {
            if (it.node != drop)
                break;
            if (maxlen ? s->length <= (uint64_t)*maxlen : stream_id_cmp(&id, minid) >= 0)
                break;
            iter_delete(&it, 1);
            removed++;
        }
        break;
    }
    if (drop)
        nodes_remove(s, 0, drop);
    stream_update_first(s);
    return removed;
}

/* Nodes of the compressed radix tree below the node reached by the common
 * prefix keys[lo..hi)[0..d). */
static size_t rax_count(unsigned char (*keys)[16], size_t lo, size_t hi, size_t d)
{
    if (d == 16)
        return 1;       /* a key leaf (keys are distinct) */
    size_t l = 16;      /* common prefix of the range, from d */
    for (size_t i = lo + 1; i < hi; i++) {
        size_t k = d;
        while (k < l && keys[i][k] == keys[lo][k])
            k++;
        l = k;
    }
    if (l > d)          /* a compressed node, then what follows it */
        return 1 + rax_count(keys, lo, hi, l);
    size_t n = 1;       /* a branching node, a child per distinct byte */
    for (size_t i = lo; i < hi;) {
        size_t j = i + 1;
        while (j < hi && keys[j][d] == keys[i][d])
            j++;
        n += rax_count(keys, i, j, d + 1);
        i = j;
    }
    return n;
}

size_t stream_rax_nodes(const struct stream *s)
{
    if (s->nnodes == 0)
        return 1;
    unsigned char (*keys)[16] = rc_malloc(s->nnodes * 16);
    for (size_t i = 0; i < s->nnodes; i++)
        stream_id_encode(keys[i], &s->nodes[i].master);
    size_t n = rax_count(keys, 0, s->nnodes, 0);
    rc_free(keys);
    return n;
}

/* ---- groups, consumers, PELs ---- */

struct stream_cg *stream_cg_find(const struct stream *s, const char *name, size_t len)
{
    return name_find(&s->groups, name, len);
}

struct stream_cg *stream_cg_create(struct stream *s, const char *name, size_t len,
                                   const struct stream_id *last_id, long long entries_read)
{
    struct stream_cg *cg = name_insert(&s->groups, name, len, sizeof(*cg));
    if (cg) {
        cg->last_id = *last_id;
        cg->entries_read = entries_read;
    }
    return cg;
}

void stream_cg_destroy(struct stream *s, struct stream_cg *cg)
{
    size_t i = name_lower(&s->groups, cg->name, cg->nlen);
    parr_remove(&s->groups, i);
    cg_free(cg);
}

struct stream_consumer *stream_consumer_find(const struct stream_cg *cg, const char *name,
                                             size_t len)
{
    return name_find(&cg->consumers, name, len);
}

struct stream_consumer *stream_consumer_create(struct stream_cg *cg, const char *name,
                                               size_t len, long long now)
{
    struct stream_consumer *c = name_insert(&cg->consumers, name, len, sizeof(*c));
    if (c)
        c->seen_time = now;
    return c;
}

size_t stream_consumer_delete(struct stream_cg *cg, struct stream_consumer *cons)
{
    size_t pending = cons->pel.n;
    for (size_t j = 0; j < cons->pel.n; j++) {
        struct stream_nack *n = cons->pel.v[j];
        parr_remove(&cg->pel, stream_pel_lower(&cg->pel, &n->id));
        rc_free(n);
    }
    parr_remove(&cg->consumers, name_lower(&cg->consumers, cons->name, cons->nlen));
    consumer_free(cons);
    return pending;
}

struct stream_nack *stream_nack_add(struct stream_cg *cg, struct stream_consumer *cons,
                                    const struct stream_id *id, long long now)
{
    size_t i = stream_pel_lower(&cg->pel, id);
    if (i < cg->pel.n && stream_id_cmp(&((struct stream_nack *)cg->pel.v[i])->id, id) == 0)
        return NULL;
    struct stream_nack *n = rc_malloc(sizeof(*n));
    n->id = *id;
    n->delivery_time = now;
    n->delivery_count = 1;
    n->consumer = cons;
    stream_parr_insert(&cg->pel, i, n);
    stream_parr_insert(&cons->pel, stream_pel_lower(&cons->pel, id), n);
    return n;
}

void stream_nack_move(struct stream_nack *nack, struct stream_consumer *to)
{
    struct stream_consumer *from = nack->consumer;
    if (from == to)
        return;
    parr_remove(&from->pel, stream_pel_lower(&from->pel, &nack->id));
    stream_parr_insert(&to->pel, stream_pel_lower(&to->pel, &nack->id), nack);
    nack->consumer = to;
}

void stream_nack_del(struct stream_cg *cg, struct stream_nack *nack)
{
    struct stream_consumer *c = nack->consumer;
    parr_remove(&c->pel, stream_pel_lower(&c->pel, &nack->id));
    parr_remove(&cg->pel, stream_pel_lower(&cg->pel, &nack->id));
    rc_free(nack);
}

/* ---- lag and entries-read ---- */

static int id_is_zero(const struct stream_id *id)
{
    return id->ms == 0 && id->seq == 0;
}

int stream_range_has_tombstones(const struct stream *s, const struct stream_id *start)
{
    if (s->length == 0 || id_is_zero(&s->max_deleted_id))
        return 0;
    if (stream_id_cmp(&s->first_id, &s->max_deleted_id) > 0)
        return 0;
    return stream_id_cmp(start, &s->max_deleted_id) <= 0;
}

long long stream_estimate_distance(const struct stream *s, const struct stream_id *id)
{
    if (s->entries_added == 0)
        return 0;
    int cmp_last = stream_id_cmp(id, &s->last_id);
    if (s->length == 0 && cmp_last < 1)
        return (long long)s->entries_added;
    if (cmp_last == 0)
        return (long long)s->entries_added;
    if (cmp_last > 0)
        return STREAM_ENTRIES_READ_INVALID;
    int cmp_first = stream_id_cmp(id, &s->first_id);
    if (id_is_zero(&s->max_deleted_id) || stream_id_cmp(&s->max_deleted_id, &s->first_id) < 0) {
        if (cmp_first < 0)
            return (long long)(s->entries_added - s->length);
        if (cmp_first == 0)
            return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}

/* ---- validation of foreign nodes ---- */

/* The integer at *p (which must be an integer entry), moving *p on. */
static int take_int(const unsigned char *lp, size_t *p, int64_t *v)
{
    struct lp_entry e;
    if (*p == LP_NONE)
        return 0;
    lp_get(lp, *p, &e);
    if (e.sval)
        return 0;
    *v = e.lval;
    *p = lp_next(lp, *p);
    return 1;
}

int stream_node_validate(const unsigned char *lp, const struct stream_id *master,
                         struct stream_id *last, uint64_t *live)
{
    size_t p = lp_first(lp);
    int64_t count, deleted, mnf, zero;
    if (!take_int(lp, &p, &count) || !take_int(lp, &p, &deleted) || !take_int(lp, &p, &mnf))
        return 0;
    if (count < 0 || deleted < 0 || mnf < 0 || (size_t)mnf > lp_count(lp))
        return 0;
    p = lp_skip(lp, p, mnf);
    if (!take_int(lp, &p, &zero) || zero != 0 || p == LP_NONE)
        return 0;
    int64_t seen_live = 0, seen_deleted = 0;
    struct stream_id prev = *master;
    int first = 1;
    while (p != LP_NONE) {
        int64_t flags, dms, dseq, nf, lpcount;
        if (!take_int(lp, &p, &flags) || !take_int(lp, &p, &dms) || !take_int(lp, &p, &dseq))
            return 0;
        if (flags < 0 || flags > 3)
            return 0;
        struct stream_id id = {master->ms + (uint64_t)dms, master->seq + (uint64_t)dseq};
        int c = stream_id_cmp(&id, &prev);
        if (first ? c < 0 : c <= 0)
            return 0;
        if (!first && stream_id_cmp(&id, master) < 0)
            return 0;
        first = 0;
        prev = id;
        int64_t elems;
        if (flags & STREAM_ITEM_SAMEFIELDS) {
            nf = mnf;
            elems = nf;
        } else {
            if (!take_int(lp, &p, &nf) || nf < 0 || (size_t)nf > lp_count(lp))
                return 0;
            elems = nf * 2;
        }
        for (int64_t i = 0; i < elems; i++) {
            if (p == LP_NONE)
                return 0;
            p = lp_next(lp, p);
        }
        if (!take_int(lp, &p, &lpcount))
            return 0;
        if (lpcount != nf + 3 + ((flags & STREAM_ITEM_SAMEFIELDS) ? 0 : nf + 1))
            return 0;
        if (flags & STREAM_ITEM_DELETED)
            seen_deleted++;
        else
            seen_live++;
    }
    if (seen_live != count || seen_deleted != deleted)
        return 0;
    *last = prev;
    *live = (uint64_t)count;
    return 1;
}
