/*
 * quicklist.c — doubly linked list of listpack nodes (see quicklist.h).
 *
 * Invariants: no node is empty (a node whose last element goes is freed);
 * node->count == lp_count(node->lp); ql->count is the sum of the counts.
 * Nodes are never merged after deletions (neither does Redis on pops);
 * an insertion into a full node splits it.
 */
#include "quicklist.h"

#include <string.h>

#include "mem.h"
#include "util.h"

/* Redis's SIZE_SAFETY_LIMIT: the byte cap of a node when fill counts
 * elements. */
#define QL_SAFETY_BYTES 8192

static const size_t size_classes[] = {4096, 8192, 16384, 32768, 65536};

/* Redis's packed_threshold: elements of at least this many bytes get a
 * plain node of their own (DEBUG QUICKLIST-PACKED-THRESHOLD); 1 GB by
 * default.  One setting for the whole process, as in Redis. */
#define QL_PACKED_DEFAULT ((size_t)1 << 30)
static size_t packed_threshold = QL_PACKED_DEFAULT;

int ql_set_packed_threshold(unsigned long long sz)
{
    if (sz > (1ULL << 32) - (1ULL << 20))
        return -1;
    packed_threshold = sz == 0 ? QL_PACKED_DEFAULT : (size_t)sz;
    return 0;
}

/* Upper bound of the bytes an element of len bytes adds to a listpack:
 * tag, up to 4 length bytes, payload, up to 5 backlen bytes. */
static size_t entry_cost(size_t len)
{
    size_t hdr = len <= 63 ? 1 : len <= 8191 ? 2 : 5;
    size_t body = hdr + len;
    size_t back = body < 128 ? 1 : body < 16384 ? 2 : body < 2097152 ? 3 : 5;
    return body + back;
}

/* Would node n, grown to sz bytes and cnt elements, stay within the fill? */
static int fits(const struct quicklist *ql, size_t sz, size_t cnt)
{
    if (ql->fill < 0) {
        size_t cls = (size_t)(-(long)ql->fill) - 1;
        size_t ncls = sizeof(size_classes) / sizeof(size_classes[0]);
        return sz <= size_classes[cls < ncls ? cls : ncls - 1];
    }
    size_t maxn = ql->fill > 0 ? (size_t)ql->fill : 1;
    return cnt <= maxn && sz <= QL_SAFETY_BYTES;
}

/* May an element of len bytes go into node n without exceeding the fill? */
static int node_allows(const struct quicklist *ql, const struct ql_node *n, size_t len)
{
    if (n == NULL || n->plain || len >= packed_threshold)
        return 0;
    size_t add = entry_cost(len);
    size_t cur = lp_bytes(n->lp);
    if (add > SIZE_MAX - cur)
        return 0;
    return fits(ql, cur + add, (size_t)n->count + 1);
}

/* A new node, to receive an element of len bytes (plain if it is large). */
static struct ql_node *node_new(size_t len)
{
    struct ql_node *n = rc_calloc(sizeof(*n));
    n->lp = lp_new(0);
    n->plain = len >= packed_threshold;
    return n;
}

static void node_free(struct ql_node *n)
{
    lp_free(n->lp);
    rc_free(n);
}

/* Link n after `at` (at == NULL: at the head). */
static void link_after(struct quicklist *ql, struct ql_node *at, struct ql_node *n)
{
    n->prev = at;
    n->next = at ? at->next : ql->head;
    if (n->next)
        n->next->prev = n;
    else
        ql->tail = n;
    if (at)
        at->next = n;
    else
        ql->head = n;
    ql->nodes++;
}

static void unlink_node(struct quicklist *ql, struct ql_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        ql->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        ql->tail = n->prev;
    ql->nodes--;
    ql->count -= n->count;
    node_free(n);
}

struct quicklist *ql_create(int fill)
{
    struct quicklist *ql = rc_calloc(sizeof(*ql));
    ql->fill = fill;
    return ql;
}

void ql_destroy(struct quicklist **qlp)
{
    struct quicklist *ql = *qlp;
    if (ql == NULL)
        return;
    struct ql_node *n = ql->head;
    while (n) {
        struct ql_node *next = n->next;
        node_free(n);
        n = next;
    }
    rc_free(ql);
    *qlp = NULL;
}

struct quicklist *ql_dup(const struct quicklist *ql)
{
    struct quicklist *d = ql_create(ql->fill);
    for (const struct ql_node *n = ql->head; n; n = n->next) {
        struct ql_node *c = rc_calloc(sizeof(*c));
        c->lp = lp_dup(n->lp);
        c->count = n->count;
        c->plain = n->plain;
        link_after(d, d->tail, c);
    }
    d->count = ql->count;
    return d;
}

size_t ql_mem(const struct quicklist *ql)
{
    size_t total = sizeof(*ql);
    for (const struct ql_node *n = ql->head; n; n = n->next)
        total += sizeof(*n) + lp_bytes(n->lp);
    return total;
}

size_t ql_allocations(const struct quicklist *ql)
{
    return 1 + 2 * ql->nodes;
}

void ql_push(struct quicklist *ql, enum ql_where where, const char *s, size_t len)
{
    struct ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!node_allows(ql, n, len)) {
        n = node_new(len);
        link_after(ql, where == QL_HEAD ? NULL : ql->tail, n);
    }
    n->lp = where == QL_HEAD ? lp_prepend(n->lp, s, len) : lp_append(n->lp, s, len);
    n->count++;
    ql->count++;
}

static void to_entry(const unsigned char *lp, size_t off, struct ql_entry *e)
{
    struct lp_entry le;
    lp_get(lp, off, &le);
    e->sval = le.sval;
    e->slen = le.slen;
    e->lval = le.lval;
}

int ql_peek(const struct quicklist *ql, enum ql_where where, struct ql_entry *e)
{
    const struct ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (n == NULL)
        return 0;
    to_entry(n->lp, where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp), e);
    return 1;
}

/* Delete the entry at off of node n, freeing n if it empties.  Returns the
 * offset of the entry that followed (LP_NONE if none or n was freed). */
static size_t node_delete(struct quicklist *ql, struct ql_node *n, size_t off)
{
    if (n->count == 1) {
        unlink_node(ql, n);
        return LP_NONE;
    }
    size_t nextoff;
    n->lp = lp_delete(n->lp, off, 1, &nextoff);
    n->count--;
    ql->count--;
    return nextoff;
}

void ql_del_end(struct quicklist *ql, enum ql_where where)
{
    struct ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (n == NULL)
        return;
    node_delete(ql, n, where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp));
}

/* Find the node and offset of element index (negative from the tail),
 * walking from the nearer end.  Returns 0 if out of range. */
static int locate(const struct quicklist *ql, long long index, struct ql_node **np,
                  size_t *offp)
{
    size_t idx;
    if (index < 0) {
        /* -1 - index cannot overflow for any negative long long. */
        unsigned long long back = (unsigned long long)(-(index + 1));
        if (back >= ql->count)
            return 0;
        idx = ql->count - 1 - (size_t)back;
    } else {
        if ((unsigned long long)index >= ql->count)
            return 0;
        idx = (size_t)index;
    }
    struct ql_node *n;
    size_t local;
    if (idx < ql->count / 2) {
        size_t seen = 0;
        n = ql->head;
        while (seen + n->count <= idx) {
            seen += n->count;
            n = n->next;
        }
        local = idx - seen;
    } else {
        size_t after = ql->count - 1 - idx;     /* elements after idx */
        size_t seen = 0;
        n = ql->tail;
        while (seen + n->count <= after) {
            seen += n->count;
            n = n->prev;
        }
        local = n->count - 1 - (after - seen);
    }
    *np = n;
    *offp = lp_seek(n->lp, (long long)local);
    return 1;
}

int ql_index(const struct quicklist *ql, long long index, struct ql_entry *e)
{
    struct ql_node *n;
    size_t off;
    if (!locate(ql, index, &n, &off))
        return 0;
    to_entry(n->lp, off, e);
    return 1;
}

/*
 * Insert s before (after == 0) or after the entry at off of node n,
 * respecting the fill: into n if it has room, else into the neighbour when
 * the position is at n's edge and the neighbour has room, else into a new
 * node at the edge, else by splitting n at the position.
 */
static void insert_at(struct quicklist *ql, struct ql_node *n, size_t off, int after,
                      const char *s, size_t len)
{
    if (node_allows(ql, n, len)) {
        n->lp = lp_insert(n->lp, off, after ? LP_AFTER : LP_BEFORE, s, len, NULL);
        n->count++;
        ql->count++;
        return;
    }
    int at_tail = after && off == lp_last(n->lp);
    int at_head = !after && off == lp_first(n->lp);
    if (at_tail) {
        struct ql_node *t = n->next;
        if (node_allows(ql, t, len)) {
            t->lp = lp_prepend(t->lp, s, len);
        } else {
            t = node_new(len);
            link_after(ql, n, t);
            t->lp = lp_append(t->lp, s, len);
        }
        t->count++;
        ql->count++;
        return;
    }
    if (at_head) {
        struct ql_node *h = n->prev;
        if (node_allows(ql, h, len)) {
            h->lp = lp_append(h->lp, s, len);
        } else {
            h = node_new(len);
            link_after(ql, n->prev, h);
            h->lp = lp_append(h->lp, s, len);
        }
        h->count++;
        ql->count++;
        return;
    }
    /* Split: the entries from the insertion point on move to a new node,
     * and the new element goes at the end of n (which now has room, or
     * will hold it alone beyond the fill if it is a huge element). */
    size_t from = after ? lp_next(n->lp, off) : off;
    struct ql_node *t = node_new(0);
    size_t moved = 0;
    for (size_t o = from; o != LP_NONE; o = lp_next(n->lp, o)) {
        struct lp_entry le;
        lp_get(n->lp, o, &le);
        if (le.sval)
            t->lp = lp_append(t->lp, (const char *)le.sval, le.slen);
        else
            t->lp = lp_append_int(t->lp, le.lval);
        moved++;
    }
    n->lp = lp_delete(n->lp, from, moved, NULL);
    n->lp = lp_shrink_to_fit(n->lp);
    n->count -= (uint32_t)moved;
    t->count = (uint32_t)moved;
    link_after(ql, n, t);
    if (node_allows(ql, n, len)) {
        n->lp = lp_append(n->lp, s, len);
        n->count++;
    } else {
        struct ql_node *m = node_new(len);
        link_after(ql, n, m);
        m->lp = lp_append(m->lp, s, len);
        m->count = 1;
    }
    ql->count++;
}

int ql_replace_at(struct quicklist *ql, long long index, const char *s, size_t len)
{
    struct ql_node *n;
    size_t off;
    if (!locate(ql, index, &n, &off))
        return 0;
    /* Replace in place when the node holds only this element (it becomes
     * plain or packed as the new element's size says) or stays within its
     * fill with an element below the packed threshold; otherwise delete and
     * re-insert at the same place (a large element gets a plain node). */
    size_t next = lp_next(n->lp, off);
    size_t cur_sz = (next != LP_NONE ? next : lp_bytes(n->lp)) - off;
    size_t add = entry_cost(len);
    size_t rest = lp_bytes(n->lp) - cur_sz;
    int large = len >= packed_threshold;
    if (n->count == 1 || (!large && add <= SIZE_MAX - rest && fits(ql, rest + add, n->count))) {
        n->lp = lp_replace(n->lp, off, s, len);
        n->plain = large;
        return 1;
    }
    size_t nextoff;
    n->lp = lp_delete(n->lp, off, 1, &nextoff);
    n->count--;
    ql->count--;
    if (nextoff != LP_NONE)
        insert_at(ql, n, nextoff, 0, s, len);
    else
        insert_at(ql, n, lp_last(n->lp), 1, s, len);
    return 1;
}

size_t ql_del_range(struct quicklist *ql, size_t start, size_t n)
{
    if (n == 0 || start >= ql->count)
        return 0;
    if (n > ql->count - start)
        n = ql->count - start;
    struct ql_node *node;
    size_t off;
    locate(ql, (long long)start, &node, &off);
    size_t left = n;
    while (left > 0 && node) {
        struct ql_node *next = node->next;
        /* Entries from off to the end of this node. */
        size_t local = 0;
        for (size_t o = lp_first(node->lp); o != off; o = lp_next(node->lp, o))
            local++;
        size_t avail = node->count - local;
        if (local == 0 && left >= node->count) {
            left -= node->count;
            unlink_node(ql, node);
        } else {
            size_t del = left < avail ? left : avail;
            node->lp = lp_delete(node->lp, off, del, NULL);
            node->count -= (uint32_t)del;
            ql->count -= del;
            left -= del;
        }
        node = next;
        if (node)
            off = lp_first(node->lp);
    }
    return n;
}

/* ---- iteration ---- */

void ql_iter_init(struct ql_iter *it, struct quicklist *ql, int dir)
{
    it->ql = ql;
    it->dir = dir;
    it->node = NULL;
    it->after = dir == QL_HEAD ? ql->head : ql->tail;
    it->cur = it->nxt = LP_NONE;
}

int ql_iter_at(struct ql_iter *it, struct quicklist *ql, long long index, int dir)
{
    struct ql_node *n;
    size_t off;
    it->ql = ql;
    it->dir = dir;
    it->cur = it->nxt = LP_NONE;
    it->node = NULL;
    it->after = NULL;
    if (!locate(ql, index, &n, &off))
        return 0;
    it->node = n;
    it->nxt = off;
    return 1;
}

int ql_iter_next(struct ql_iter *it, struct ql_entry *e)
{
    int fwd = it->dir == QL_HEAD;
    while (it->nxt == LP_NONE) {
        struct ql_node *n = it->node ? (fwd ? it->node->next : it->node->prev) : it->after;
        it->after = NULL;
        it->cur = LP_NONE;
        if (n == NULL) {
            it->node = NULL;
            return 0;
        }
        it->node = n;
        it->nxt = fwd ? lp_first(n->lp) : lp_last(n->lp);
    }
    it->cur = it->nxt;
    it->nxt = fwd ? lp_next(it->node->lp, it->cur) : lp_prev(it->node->lp, it->cur);
    if (e)
        to_entry(it->node->lp, it->cur, e);
    return 1;
}

int ql_iter_equal(const struct ql_iter *it, const char *s, size_t len)
{
    return lp_equal(it->node->lp, it->cur, s, len);
}

void ql_iter_delete(struct ql_iter *it)
{
    struct ql_node *n = it->node;
    int fwd = it->dir == QL_HEAD;
    if (n->count == 1) {
        it->after = fwd ? n->next : n->prev;
        it->node = NULL;
        it->nxt = it->cur = LP_NONE;
        unlink_node(it->ql, n);
        return;
    }
    size_t nextoff = node_delete(it->ql, n, it->cur);
    /* Going forward, the following entry now sits where the deleted one
     * was; going backward, the preceding entries did not move. */
    if (fwd)
        it->nxt = nextoff;
    it->cur = LP_NONE;
}

void ql_iter_insert(struct ql_iter *it, int after, const char *s, size_t len)
{
    insert_at(it->ql, it->node, it->cur, after, s, len);
    it->node = it->after = NULL;
    it->cur = it->nxt = LP_NONE;
}

const char *ql_entry_str(const struct ql_entry *e, char *buf, size_t *len)
{
    if (e->sval) {
        *len = e->slen;
        return (const char *)e->sval;
    }
    *len = rc_ll2str(buf, LP_INTBUF_SIZE, e->lval);
    return buf;
}
