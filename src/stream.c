/*
 * stream.c — the stream value (layout in stream.h): node index, appends,
 * deletion, trimming, iteration, consumer groups and their PELs.
 */
#include "stream.h"

#include <string.h>

#include "listpack.h"
#include "mem.h"
#include "rax.h"
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

/* ---- keys ---- */

/* Nodes and nacks are keyed by the id's 16 big-endian bytes (byte order is
 * id order); groups and consumers by their names. */

struct stream_nack *stream_pel_find(const struct rax *pel, const struct stream_id *id)
{
    unsigned char k[16];
    void *v;
    stream_id_encode(k, id);
    return rax_find(pel, k, 16, &v) ? v : NULL;
}

void stream_pel_iter(struct rax_iter *it, const struct rax *pel, const struct stream_id *start)
{
    unsigned char k[16];
    rax_iter_start(it, pel);
    if (start) {
        stream_id_encode(k, start);
        rax_seek(it, RAX_GE, k, 16);
    } else {
        rax_seek(it, RAX_FIRST, NULL, 0);
    }
}

static void *name_find(const struct rax *r, const char *name, size_t len)
{
    void *v;
    return rax_find(r, (const unsigned char *)name, len, &v) ? v : NULL;
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
    struct stream *s = rc_calloc(sizeof(struct stream));
    rax_init(&s->nodes);
    rax_init(&s->groups);
    return s;
}

static void free_lp(void *lp)
{
    lp_free(lp);
}

static void consumer_free(void *p)
{
    struct stream_consumer *cons = p;
    rax_deinit(&cons->pel, NULL);
    rc_free(cons->name);
    rc_free(cons);
}

static void cg_free(void *p)
{
    struct stream_cg *cg = p;
    rax_deinit(&cg->pel, rc_free);          /* the group PEL owns the nacks */
    rax_deinit(&cg->consumers, consumer_free);
    rc_free(cg->name);
    rc_free(cg);
}

void stream_destroy(struct stream **sp)
{
    struct stream *s = *sp;
    if (s == NULL)
        return;
    rax_deinit(&s->nodes, free_lp);
    rax_deinit(&s->groups, cg_free);
    rc_free(s);
    *sp = NULL;
}

void stream_push_node(struct stream *s, const struct stream_id *master, unsigned char *lp,
                      size_t rbytes)
{
    unsigned char k[16];
    stream_id_encode(k, master);
    rax_insert(&s->nodes, k, 16, lp, NULL);
    s->tail_master = *master;
    s->tail_rbytes = rbytes;
}

struct stream *stream_dup(const struct stream *s)
{
    struct stream *d = stream_new();
    d->length = s->length;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted_id = s->max_deleted_id;
    d->entries_added = s->entries_added;
    struct rax_iter it, ci, pi;
    rax_iter_start(&it, &s->nodes);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        struct stream_id master;
        stream_id_decode(it.key, &master);
        stream_push_node(d, &master, lp_dup(it.data), 0);
    }
    d->tail_rbytes = s->tail_rbytes;
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        const struct stream_cg *cg = it.data;
        struct stream_cg *ncg =
            stream_cg_create(d, cg->name, cg->nlen, &cg->last_id, cg->entries_read);
        rax_iter_start(&ci, &cg->consumers);
        rax_seek(&ci, RAX_FIRST, NULL, 0);
        while (rax_next(&ci)) {
            const struct stream_consumer *cons = ci.data;
            struct stream_consumer *nc =
                stream_consumer_create(ncg, cons->name, cons->nlen, cons->seen_time);
            stream_pel_iter(&pi, &cons->pel, NULL);
            while (rax_next(&pi)) {
                const struct stream_nack *n = pi.data;
                struct stream_id id;
                stream_id_decode(pi.key, &id);
                struct stream_nack *nn = stream_nack_add(ncg, nc, &id, n->delivery_time);
                nn->delivery_count = n->delivery_count;
            }
            rax_iter_stop(&pi);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
    return d;
}

size_t stream_free_effort(const struct stream *s)
{
    size_t n = rax_size(&s->nodes);
    struct rax_iter it;
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        const struct stream_cg *cg = it.data;
        n += 1 + rax_size(&cg->pel) + rax_size(&cg->consumers);
    }
    rax_iter_stop(&it);
    return n;
}

size_t stream_mem(const struct stream *s)
{
    size_t m = sizeof(*s) + rax_mem(&s->nodes) + rax_mem(&s->groups);
    struct rax_iter it, ci;
    rax_iter_start(&it, &s->nodes);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it))
        m += lp_bytes(it.data);
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        const struct stream_cg *cg = it.data;
        m += sizeof(*cg) + cg->nlen + rax_mem(&cg->pel) +
             rax_size(&cg->pel) * sizeof(struct stream_nack) + rax_mem(&cg->consumers);
        rax_iter_start(&ci, &cg->consumers);
        rax_seek(&ci, RAX_FIRST, NULL, 0);
        while (rax_next(&ci)) {
            const struct stream_consumer *cons = ci.data;
            m += sizeof(*cons) + cons->nlen + rax_mem(&cons->pel);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
    return m;
}

/* Size of a node in Redis's listpack encoding: header, entries, end. */
static size_t node_rbytes(const unsigned char *lp)
{
    size_t rb = 7;
    for (size_t p = lp_first(lp); p != LP_NONE; p = lp_next(lp, p)) {
        struct lp_entry e;
        lp_get(lp, p, &e);
        rb += e.sval ? rlp_entry_size(e.sval, e.slen) : rlp_entry_size_int(e.lval);
    }
    return rb;
}

/* The last node became another (its successor was removed): the tail
 * record follows. */
static void tail_reset(struct stream *s)
{
    struct rax_iter it;
    rax_iter_start(&it, &s->nodes);
    if (rax_seek(&it, RAX_LAST, NULL, 0) && rax_prev(&it)) {
        stream_id_decode(it.key, &s->tail_master);
        s->tail_rbytes = node_rbytes(it.data);
    } else {
        s->tail_master = (struct stream_id){0, 0};
        s->tail_rbytes = 0;
    }
    rax_iter_stop(&it);
}

/* Removes the node master from the index and frees its listpack. */
static void node_remove(struct stream *s, const struct stream_id *master)
{
    unsigned char k[16];
    void *lp;
    stream_id_encode(k, master);
    if (rax_remove(&s->nodes, k, 16, &lp))
        lp_free(lp);
    if (stream_id_cmp(master, &s->tail_master) == 0)
        tail_reset(s);
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

    /* The last node, unless it is full. */
    void **tail = NULL;
    if (rax_size(&s->nodes)) {
        unsigned char k[16];
        stream_id_encode(k, &s->tail_master);
        tail = rax_find_ref(&s->nodes, k, 16);
        const unsigned char *tlp = rax_ref_get(tail);
        size_t maxb = node_max_bytes;
        if (maxb == 0 || maxb > STREAM_NODE_HARD_MAX_BYTES)
            maxb = STREAM_NODE_HARD_MAX_BYTES;
        size_t p = lp_first(tlp);
        if (s->tail_rbytes + tot >= maxb)
            tail = NULL;
        else if (node_max_entries > 0 &&
                 lp_int(tlp, p) + lp_int(tlp, lp_next(tlp, p)) >= node_max_entries)
            tail = NULL;
    }
    unsigned char *lp;
    struct stream_id master;
    size_t rb;
    if (tail == NULL) {
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
        lp = rax_ref_get(tail);
        master = s->tail_master;
        size_t p = lp_first(lp);
        int64_t cnt = lp_int(lp, p);
        lp = lp_replace_int(lp, p, cnt + 1);
        rb = s->tail_rbytes + rlp_entry_size_int(cnt + 1) - rlp_entry_size_int(cnt);
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

    if (tail == NULL) {
        stream_push_node(s, &master, lp, rb);
    } else {
        rax_ref_set(tail, lp);
        s->tail_rbytes = rb;
    }
    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1)
        s->first_id = *id;
    return 0;
}

/* ---- iteration ---- */

/* Iterator node states. */
enum { NODE_NONE, NODE_IN, NODE_PAST, NODE_END };

/* Makes the node op finds from id (NULL: first / last) current. */
static int iter_seek_node(struct stream_iter *it, enum rax_seek_op op, const struct stream_id *id)
{
    unsigned char k[16];
    struct rax_iter ri;
    if (id)
        stream_id_encode(k, id);
    rax_iter_start(&ri, &it->s->nodes);
    int ok = rax_seek(&ri, op, k, id ? 16 : 0) && rax_next(&ri);
    if (ok) {
        stream_id_decode(ri.key, &it->master);
        it->ref = ri.ref;
    }
    rax_iter_stop(&ri);
    return ok;
}

/* Moves to the first node to read (NODE_NONE) or the one after the
 * current node (NODE_PAST), in the iterator's direction. */
static int iter_next_node(struct stream_iter *it)
{
    static const struct stream_id zero = {0, 0};
    if (it->node_state == NODE_PAST)
        return iter_seek_node(it, it->rev ? RAX_LT : RAX_GT, &it->master);
    if (it->first_known) {
        /* Rewound: the walk starts where it started before. */
        it->master = it->first_master;
        it->ref = it->first_ref;
        return it->first_known > 0;
    }
    int ok;
    if (it->rev)
        ok = iter_seek_node(it, RAX_LE, &it->end);
    else if (stream_id_cmp(&it->start, &zero) == 0)
        ok = iter_seek_node(it, RAX_FIRST, NULL);
    else        /* the node holding start, or the first after it */
        ok = iter_seek_node(it, RAX_LE, &it->start) || iter_seek_node(it, RAX_FIRST, NULL);
    it->first_known = ok ? 1 : -1;
    it->first_master = it->master;
    it->first_ref = it->ref;
    return ok;
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
    it->node_state = NODE_NONE;
}

void stream_iter_rewind(struct stream_iter *it)
{
    it->node_state = NODE_NONE;
    it->entry = 0;
}

static void iter_open(struct stream_iter *it)
{
    it->lp = rax_ref_get(it->ref);
    node_layout(it->lp, &it->master_fields, &it->master_nfields, &it->first_entry);
    it->pos = it->rev ? lp_last(it->lp) : it->first_entry;
    it->node_state = NODE_IN;
}

static void iter_read(struct stream_iter *it, struct stream_id *id)
{
    const unsigned char *lp = it->lp;
    const struct stream_id *m = &it->master;
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
        if (it->node_state == NODE_END)
            return 0;
        if (it->node_state != NODE_IN) {
            if (!iter_next_node(it)) {
                it->node_state = NODE_END;
                return 0;
            }
            iter_open(it);
        }
        if (!it->rev && it->entry && it->pos == 0) {
            /* Finish skipping the previous entry, then its lp-count. */
            size_t p = lp_skip(it->lp, it->fv, it->fv_left);
            it->pos = lp_next(it->lp, p);
            it->entry = 0;
            if (it->pos == LP_NONE) {
                it->node_state = NODE_PAST;
                continue;
            }
        }
        if (it->rev) {
            if (it->pos == LP_NONE || it->pos < it->first_entry) {
                it->node_state = NODE_PAST;
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
    unsigned char *lp = rax_ref_get(it->ref);
    lp = lp_replace_int(lp, it->entry, it->flags | STREAM_ITEM_DELETED);
    size_t before = lp_bytes(lp);
    size_t p = lp_first(lp);
    int64_t live = lp_int(lp, p) - 1;
    lp = lp_replace_int(lp, p, live);
    p = lp_next(lp, p);
    int64_t dead = lp_int(lp, p);
    lp = lp_replace_int(lp, p, dead + 1);
    rax_ref_set(it->ref, lp);
    if (stream_id_cmp(&it->master, &s->tail_master) == 0)
        s->tail_rbytes += rlp_entry_size_int(live) + rlp_entry_size_int(dead + 1) -
                          rlp_entry_size_int(live + 1) - rlp_entry_size_int(dead);
    s->length--;
    if (live == 0 && !keep_empty) {
        node_remove(s, &it->master);
        it->node_state = NODE_PAST;
        it->entry = 0;
        return;
    }
    /* The counters may have changed size: every offset we hold is after
     * them. */
    ptrdiff_t d = (ptrdiff_t)lp_bytes(lp) - (ptrdiff_t)before;
    it->lp = lp;
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

/* Last id (deleted or not) of the node lp with this master. */
static void node_last_id(const unsigned char *lp, const struct stream_id *master,
                         struct stream_id *id)
{
    size_t p = lp_last(lp);
    int64_t cnt = lp_int(lp, p);
    for (int64_t k = 0; k < cnt; k++)
        p = lp_prev(lp, p);
    p = lp_next(lp, p);
    id->ms = master->ms + (uint64_t)lp_int(lp, p);
    p = lp_next(lp, p);
    id->seq = master->seq + (uint64_t)lp_int(lp, p);
}

uint64_t stream_trim(struct stream *s, const long long *maxlen, const struct stream_id *minid,
                     int approx, long long limit)
{
    uint64_t removed = 0;
    struct stream_iter it;
    stream_iter_start(&it, s, NULL, NULL, 0);
    while (!(maxlen && s->length <= (uint64_t)*maxlen) && iter_seek_node(&it, RAX_FIRST, NULL)) {
        const unsigned char *lp = rax_ref_get(it.ref);
        int64_t live = lp_int(lp, lp_first(lp));
        if (limit > 0 && (long long)removed + live > limit)
            break;
        int whole;
        if (maxlen) {
            whole = s->length - (uint64_t)live >= (uint64_t)*maxlen;
        } else {
            struct stream_id last;
            node_last_id(lp, &it.master, &last);
            whole = stream_id_cmp(&last, minid) < 0;
        }
        if (whole) {
            s->length -= (uint64_t)live;
            removed += (uint64_t)live;
            node_remove(s, &it.master);
            continue;
        }
        if (approx)
            break;
        /* Flag entries of this node, oldest first, until done. */
        struct stream_id id, master = it.master;
        void **ref = it.ref;
        int64_t nf;
        stream_iter_start(&it, s, &master, NULL, 0);
        it.first_known = 1;     /* this node: no need to seek it again */
        it.first_master = master;
        it.first_ref = ref;
        while (stream_iter_next(&it, &id, &nf)) {
            if (stream_id_cmp(&it.master, &master) != 0)
                break;
            if (maxlen ? s->length <= (uint64_t)*maxlen : stream_id_cmp(&id, minid) >= 0)
                break;
            iter_delete(&it, 1);
            removed++;
        }
        break;
    }
    stream_update_first(s);
    return removed;
}

size_t stream_rax_nodes(const struct stream *s)
{
    return (size_t)s->nodes.nodes;
}

/* ---- groups, consumers, PELs ---- */

struct stream_cg *stream_cg_find(const struct stream *s, const char *name, size_t len)
{
    return name_find(&s->groups, name, len);
}

struct stream_cg *stream_cg_create(struct stream *s, const char *name, size_t len,
                                   const struct stream_id *last_id, long long entries_read)
{
    if (name_find(&s->groups, name, len))
        return NULL;
    struct stream_cg *cg = rc_calloc(sizeof(*cg));
    cg->name = rc_strndup(name, len);
    cg->nlen = len;
    cg->last_id = *last_id;
    cg->entries_read = entries_read;
    rax_init(&cg->pel);
    rax_init(&cg->consumers);
    rax_insert(&s->groups, (const unsigned char *)name, len, cg, NULL);
    return cg;
}

void stream_cg_destroy(struct stream *s, struct stream_cg *cg)
{
    rax_remove(&s->groups, (const unsigned char *)cg->name, cg->nlen, NULL);
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
    if (name_find(&cg->consumers, name, len))
        return NULL;
    struct stream_consumer *c = rc_calloc(sizeof(*c));
    c->name = rc_strndup(name, len);
    c->nlen = len;
    c->seen_time = now;
    rax_init(&c->pel);
    rax_insert(&cg->consumers, (const unsigned char *)name, len, c, NULL);
    return c;
}

size_t stream_consumer_delete(struct stream_cg *cg, struct stream_consumer *cons)
{
    size_t pending = rax_size(&cons->pel);
    struct rax_iter it;
    stream_pel_iter(&it, &cons->pel, NULL);
    while (rax_next(&it)) {
        rax_remove(&cg->pel, it.key, 16, NULL);
        rc_free(it.data);
    }
    rax_iter_stop(&it);
    rax_remove(&cg->consumers, (const unsigned char *)cons->name, cons->nlen, NULL);
    consumer_free(cons);
    return pending;
}

struct stream_nack *stream_nack_load(struct stream_cg *cg, const struct stream_id *id,
                                     long long delivery_time, uint64_t delivery_count)
{
    unsigned char k[16];
    struct stream_nack *n = rc_malloc(sizeof(*n));
    n->delivery_time = delivery_time;
    n->delivery_count = delivery_count;
    n->consumer = NULL;
    stream_id_encode(k, id);
    if (!rax_try_insert(&cg->pel, k, 16, n, NULL)) {
        rc_free(n);
        return NULL;
    }
    return n;
}

void stream_nack_own(struct stream_nack *nack, const struct stream_id *id,
                     struct stream_consumer *cons)
{
    unsigned char k[16];
    stream_id_encode(k, id);
    nack->consumer = cons;
    rax_insert(&cons->pel, k, 16, nack, NULL);
}

struct stream_nack *stream_nack_add(struct stream_cg *cg, struct stream_consumer *cons,
                                    const struct stream_id *id, long long now)
{
    struct stream_nack *n = stream_nack_load(cg, id, now, 1);
    if (n)
        stream_nack_own(n, id, cons);
    return n;
}

void stream_nack_move(struct stream_nack *nack, const struct stream_id *id,
                      struct stream_consumer *to)
{
    struct stream_consumer *from = nack->consumer;
    unsigned char k[16];
    if (from == to)
        return;
    stream_id_encode(k, id);
    rax_remove(&from->pel, k, 16, NULL);
    rax_insert(&to->pel, k, 16, nack, NULL);
    nack->consumer = to;
}

int stream_nack_del(struct stream_cg *cg, const struct stream_id *id)
{
    unsigned char k[16];
    void *v;
    stream_id_encode(k, id);
    if (!rax_remove(&cg->pel, k, 16, &v))
        return 0;
    struct stream_nack *nack = v;
    rax_remove(&nack->consumer->pel, k, 16, NULL);
    rc_free(nack);
    return 1;
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
