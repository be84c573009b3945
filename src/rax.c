/*
 * rax.c — the compressed radix tree (shape and rules in rax.h).
 *
 * Node layout (one allocation):
 *
 *   hdr: key flag (bit 0), compressed flag (bit 1), size (bits 2..31)
 *   size bytes: the sorted child bytes, or the compressed run
 *   padding up to a multiple of 8 bytes from the node's start
 *   child pointers: size of them (branching), 1 (compressed)
 *   value pointer, if the key flag is set
 *
 * A branching node's children sit in the order of its bytes.  Changing a
 * node may move it (realloc), so every function that changes one returns
 * its new address and the caller stores it in the parent's slot (the
 * "link": the address of the pointer to the node, &r->root for the root).
 *
 * Embedded leaves.  Most keys end in a leaf: a node with no bytes, no
 * children and only the value (16 bytes with its header).  Such a leaf is
 * not allocated: its parent's child slot holds the value itself with the
 * lowest bit set (values are even, rax.h).  It still counts as a node (it
 * is one in the tree's shape, and in redis-server's); it costs no memory
 * of its own.  The root is always a real node, and a leaf becomes real
 * when it gets a child.
 */
#include "rax.h"

#include <string.h>

#include "mem.h"

#define F_KEY 1u
#define F_COMPR 2u
#define SIZE_SHIFT 2
#define MAX_RUN ((1u << 30) - 1)    /* longest compressed run */

struct rax_node {
    uint32_t hdr;
    unsigned char data[];
};

/* ---- embedded leaves ---- */

static inline int emb(const struct rax_node *n)
{
    return ((uintptr_t)n & 1) != 0;
}

static inline struct rax_node *emb_make(void *val)
{
    return (struct rax_node *)((uintptr_t)val | 1);
}

static inline void *emb_val(const struct rax_node *n)
{
    return (void *)((uintptr_t)n & ~(uintptr_t)1);
}

/* ---- node accessors (any node: real or embedded) ---- */

static inline size_t n_size(const struct rax_node *n)
{
    return emb(n) ? 0 : n->hdr >> SIZE_SHIFT;
}

static inline int n_key(const struct rax_node *n)
{
    return emb(n) || (n->hdr & F_KEY) != 0;
}

static inline int n_compr(const struct rax_node *n)
{
    return !emb(n) && (n->hdr & F_COMPR) != 0;
}

static inline size_t n_nchild(const struct rax_node *n)
{
    return n_compr(n) ? 1 : n_size(n);
}

/* One child: compressed, or branching on a single byte. */
static inline int n_single(const struct rax_node *n)
{
    return n_compr(n) || n_size(n) == 1;
}

/* Offset of the child pointers from the node's start. */
static inline size_t ptr_off(size_t size)
{
    return (sizeof(uint32_t) + size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

static inline size_t node_bytes(size_t size, int compr, int key)
{
    return ptr_off(size) + sizeof(void *) * ((compr ? 1 : size) + (key ? 1 : 0));
}

/* (Real nodes only, from here to n_value.) */
static inline size_t n_bytes(const struct rax_node *n)
{
    return node_bytes(n_size(n), n_compr(n), n_key(n));
}

static inline struct rax_node **n_children(const struct rax_node *n)
{
    return (struct rax_node **)(void *)((char *)(uintptr_t)n + ptr_off(n_size(n)));
}

static inline void **n_value(const struct rax_node *n)
{
    return (void **)(void *)(n_children(n) + n_nchild(n));
}

/* The slot holding the value of the key node at *link. */
static inline void **value_ref(struct rax_node **link)
{
    return emb(*link) ? (void **)(void *)link : n_value(*link);
}

/* The value of a key node. */
static inline void *n_val(const struct rax_node *n)
{
    return emb(n) ? emb_val(n) : *n_value(n);
}

void *rax_ref_get(void *const *ref)
{
    void *v;
    memcpy(&v, ref, sizeof(v));
    return emb_val((const struct rax_node *)v);
}

void rax_ref_set(void **ref, void *val)
{
    void *v;
    memcpy(&v, ref, sizeof(v));
    if (emb((const struct rax_node *)v))
        val = emb_make(val);
    memcpy(ref, &val, sizeof(val));
}

static inline uint32_t make_hdr(size_t size, int compr, int key)
{
    return (uint32_t)(size << SIZE_SHIFT) | (compr ? F_COMPR : 0) | (key ? F_KEY : 0);
}

/* ---- node allocation ---- */

/* A node of size bytes (a run if compr; a run of one byte is kept as a
 * branching node) with key and value val if key; bytes and children are
 * the caller's to fill. */
static struct rax_node *node_new(struct rax *r, size_t size, int compr, int key, void *val)
{
    if (size < 2)
        compr = 0;
    size_t b = node_bytes(size, compr, key);
    struct rax_node *n = rc_malloc(b);
    n->hdr = make_hdr(size, compr, key);
    if (key)
        *n_value(n) = val;
    r->bytes += b;
    r->nodes++;
    return n;
}

static void node_free(struct rax *r, struct rax_node *n)
{
    r->nodes--;
    if (emb(n))
        return;
    r->bytes -= n_bytes(n);
    rc_free(n);
}

/* A leaf with key and val: embedded unless it is the root. */
static struct rax_node *leaf_new(struct rax *r, int key, void *val, int root)
{
    if (key && !root) {
        r->nodes++;
        return emb_make(val);
    }
    return node_new(r, 0, 0, key, val);
}

/* n as a real node (an embedded leaf about to get a child). */
static struct rax_node *node_real(struct rax *r, struct rax_node *n)
{
    if (!emb(n))
        return n;
    struct rax_node *real = node_new(r, 0, 0, 1, emb_val(n));
    r->nodes--;         /* it replaces the embedded one */
    return real;
}

static struct rax_node *node_realloc(struct rax *r, struct rax_node *n, size_t old, size_t b)
{
    r->bytes = r->bytes - old + b;
    return rc_realloc(n, b);
}

/* Flags n a key holding val (n is not one). */
static struct rax_node *node_set_key(struct rax *r, struct rax_node *n, void *val)
{
    size_t old = n_bytes(n);
    n = node_realloc(r, n, old, old + sizeof(void *));
    n->hdr |= F_KEY;
    *n_value(n) = val;
    return n;
}

static struct rax_node *node_unset_key(struct rax *r, struct rax_node *n)
{
    size_t old = n_bytes(n);
    n->hdr &= ~F_KEY;
    return node_realloc(r, n, old, old - sizeof(void *));
}

/* Adds child under byte c to branching node n (which has no child for c);
 * *slot gets the index of the new child. */
static struct rax_node *node_add_child(struct rax *r, struct rax_node *n, unsigned char c,
                                       struct rax_node *child, size_t *slot)
{
    size_t s = n_size(n), k = 0;
    int key = n_key(n);
    while (k < s && n->data[k] < c)
        k++;
    size_t co = ptr_off(s), nco = ptr_off(s + 1), p = sizeof(void *);
    n = node_realloc(r, n, node_bytes(s, 0, key), node_bytes(s + 1, 0, key));
    char *b = (char *)n;
    /* Everything after the bytes moves right: the last part first. */
    if (key)
        memmove(b + nco + p * (s + 1), b + co + p * s, p);
    memmove(b + nco + p * (k + 1), b + co + p * k, p * (s - k));
    memmove(b + nco, b + co, p * k);
    memmove(n->data + k + 1, n->data + k, s - k);
    n->data[k] = c;
    n->hdr = make_hdr(s + 1, 0, key);
    n_children(n)[k] = child;
    *slot = k;
    return n;
}

/* Removes child k of branching node n. */
static struct rax_node *node_del_child(struct rax *r, struct rax_node *n, size_t k)
{
    size_t s = n_size(n);
    int key = n_key(n);
    size_t co = ptr_off(s), nco = ptr_off(s - 1), p = sizeof(void *);
    char *b = (char *)n;
    /* Everything moves left: the first part first. */
    memmove(n->data + k, n->data + k + 1, s - k - 1);
    memmove(b + nco, b + co, p * k);
    memmove(b + nco + p * k, b + co + p * (k + 1), p * (s - k - 1));
    if (key)
        memmove(b + nco + p * (s - 1), b + co + p * s, p);
    n->hdr = make_hdr(s - 1, 0, key);
    return node_realloc(r, n, node_bytes(s, 0, key), node_bytes(s - 1, 0, key));
}

/* The index of byte b among a branching node's s sorted bytes c. */
static inline int child_index(const unsigned char *c, size_t s, unsigned char b, size_t *k)
{
    if (s > 32) {
        /* Wide nodes (a byte of ids that varies a lot): memchr's speed
         * pays for its call. */
        const unsigned char *at = memchr(c, b, s);
        *k = at ? (size_t)(at - c) : 0;
        return at != NULL;
    }
    for (size_t i = 0; i < s && c[i] <= b; i++) {
        if (c[i] == b) {
            *k = i;
            return 1;
        }
    }
    return 0;
}

/* ---- set-up ---- */

void rax_init(struct rax *r)
{
    r->keys = 0;
    r->nodes = 0;
    r->bytes = 0;
    r->root = node_new(r, 0, 0, 0, NULL);
}

void rax_deinit(struct rax *r, void (*free_value)(void *))
{
    /* Depth-first with an explicit stack: keys such as "a", "aa", "aaa"
     * ... make a tree as deep as it has keys. */
    size_t n = 0, cap = 64;
    struct rax_node **todo = rc_malloc(cap * sizeof(*todo));
    if (r->root)
        todo[n++] = r->root;
    while (n > 0) {
        struct rax_node *h = todo[--n];
        if (emb(h)) {
            if (free_value)
                free_value(emb_val(h));
            continue;
        }
        size_t nc = n_nchild(h);
        if (n + nc > cap) {
            cap = (n + nc) * 2;
            todo = rc_realloc(todo, cap * sizeof(*todo));
        }
        memcpy(todo + n, n_children(h), nc * sizeof(*todo));
        n += nc;
        if (n_key(h) && free_value)
            free_value(*n_value(h));
        node_free(r, h);
    }
    rc_free(todo);
    r->root = NULL;
    r->keys = 0;
}

/* ---- lookup ---- */

/* Links of the ancestors of a node, root first (removal climbs them). */
struct path {
    struct rax_node ***v;
    size_t n, cap;
    struct rax_node **inline_v[RAX_ITER_INLINE_STACK];
};

static void path_init(struct path *p)
{
    p->v = p->inline_v;
    p->n = 0;
    p->cap = RAX_ITER_INLINE_STACK;
}

static void path_push(struct path *p, struct rax_node **link)
{
    if (p->n == p->cap) {
        size_t cap = p->cap * 2;
        struct rax_node ***v = rc_malloc(cap * sizeof(*v));
        memcpy(v, p->v, p->n * sizeof(*v));
        if (p->v != p->inline_v)
            rc_free(p->v);
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = link;
}

static void path_deinit(struct path *p)
{
    if (p->v != p->inline_v)
        rc_free(p->v);
}

/*
 * Follows key down from the root as far as it matches.  Returns the bytes
 * matched; *linkp is the link of the node where the walk stopped and
 * *runp, when that node is compressed, how many of its bytes matched.
 * The key is present iff all of it matched, the walk did not stop inside
 * a run (*runp == 0) and the node is a key.  path, if not NULL, gets the
 * links of the stop node's ancestors.
 */
static size_t walk(const struct rax *r, const unsigned char *key, size_t len,
                   struct rax_node ***linkp, size_t *runp, struct path *path)
{
    /* The walk only reads; the links it hands out are for the callers
     * that change the tree they own. */
    struct rax_node **link = (struct rax_node **)(uintptr_t)&r->root;
    struct rax_node *h = *link;
    size_t i = 0, j = 0;
    while (i < len && n_size(h) > 0) {
        size_t s = n_size(h), k = 0;
        const unsigned char *c = h->data;
        if (n_compr(h)) {
            while (j < s && i < len && c[j] == key[i]) {
                j++;
                i++;
            }
            if (j < s)
                break;
            j = 0;
        } else {
            if (!child_index(c, s, key[i], &k))
                break;
            i++;
        }
        if (path)
            path_push(path, link);
        link = &n_children(h)[k];
        h = *link;
    }
    *linkp = link;
    *runp = j;
    return i;
}

static int found(const struct rax_node *h, size_t i, size_t len, size_t j)
{
    return i == len && j == 0 && n_key(h);
}

void **rax_find_ref(const struct rax *r, const unsigned char *key, size_t len)
{
    struct rax_node **link;
    size_t j, i = walk(r, key, len, &link, &j, NULL);
    return found(*link, i, len, j) ? value_ref(link) : NULL;
}

int rax_find(const struct rax *r, const unsigned char *key, size_t len, void **val)
{
    void **ref = rax_find_ref(r, key, len);
    if (ref && val)
        *val = rax_ref_get(ref);
    return ref != NULL;
}

/* ---- insertion ---- */

/* Splits the compressed node *link, whose first j bytes matched, for a key
 * that continues with byte c (c < 0: the key ends there).  Returns the
 * link of the node where the key now ends (c < 0) or the empty (NULL)
 * slot of the new child under c. */
static struct rax_node **split_run(struct rax *r, struct rax_node **link, size_t j, int c)
{
    struct rax_node *h = *link;
    size_t s = n_size(h);
    struct rax_node *tail = n_children(h)[0];
    int key = n_key(h);
    void *val = key ? n_val(h) : NULL;
    struct rax_node **out;
    if (c < 0) {
        /* h's first j bytes, then a node for the key with the rest. */
        struct rax_node *pre = node_new(r, j, 1, key, val);
        struct rax_node *post = node_new(r, s - j, 1, 0, NULL);
        memcpy(pre->data, h->data, j);
        memcpy(post->data, h->data + j, s - j);
        n_children(post)[0] = tail;
        n_children(pre)[0] = post;
        *link = pre;
        out = &n_children(pre)[0];
    } else {
        /* [h's first j bytes] -> a fork on h's byte j and c. */
        unsigned char hc = h->data[j];
        if (s - j - 1 > 0) {
            struct rax_node *post = node_new(r, s - j - 1, 1, 0, NULL);
            memcpy(post->data, h->data + j + 1, s - j - 1);
            n_children(post)[0] = tail;
            tail = post;
        }
        struct rax_node *fork = node_new(r, 2, 0, j == 0 && key, val);
        int lo = (unsigned char)c < hc;
        fork->data[0] = lo ? (unsigned char)c : hc;
        fork->data[1] = lo ? hc : (unsigned char)c;
        n_children(fork)[lo ? 1 : 0] = tail;
        n_children(fork)[lo ? 0 : 1] = NULL;
        out = &n_children(fork)[lo ? 0 : 1];
        if (j > 0) {
            struct rax_node *pre = node_new(r, j, 1, key, val);
            memcpy(pre->data, h->data, j);
            n_children(pre)[0] = fork;
            *link = pre;
        } else {
            *link = fork;
        }
    }
    node_free(r, h);
    return out;
}

/* Adds key[i..len) at *link: a branching node with no child for key[i],
 * or nothing yet (NULL).  Returns the link where the key ends, empty
 * (NULL) for the caller to fill. */
static struct rax_node **add_tail(struct rax *r, struct rax_node **link, const unsigned char *key,
                                  size_t i, size_t len)
{
    while (i < len) {
        struct rax_node *h = *link;
        if ((h == NULL || n_size(h) == 0) && len - i > 1) {
            /* A run holding as much of the rest as fits (taking over the
             * leaf that was there, if any). */
            size_t m = len - i < MAX_RUN ? len - i : MAX_RUN;
            int key_h = h && n_key(h);
            struct rax_node *run = node_new(r, m, 1, key_h, key_h ? n_val(h) : NULL);
            memcpy(run->data, key + i, m);
            if (h)
                node_free(r, h);
            *link = run;
            i += m;
        } else if (h == NULL) {
            h = node_new(r, 1, 0, 0, NULL);
            h->data[0] = key[i];
            *link = h;
            i++;
        } else {
            size_t k;
            h = node_add_child(r, node_real(r, h), key[i], NULL, &k);
            *link = h;
            link = &n_children(h)[k];
            i++;
            continue;
        }
        link = &n_children(*link)[0];
        *link = NULL;
    }
    return link;
}

static int insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old,
                  int replace)
{
    struct rax_node **link;
    size_t j, i = walk(r, key, len, &link, &j, NULL);
    struct rax_node *h = *link;
    if (found(h, i, len, j)) {
        void **v = value_ref(link);
        if (old)
            *old = rax_ref_get(v);
        if (replace)
            rax_ref_set(v, val);
        return 0;
    }
    if (n_compr(h) && (i < len || j > 0)) {
        link = split_run(r, link, j, i < len ? key[i] : -1);
        if (i < len)
            i++;            /* the byte the split forked on */
    }
    if (i < len)
        link = add_tail(r, link, key, i, len);
    if (*link == NULL)
        *link = leaf_new(r, 1, val, 0);     /* a new leaf: embedded */
    else
        *link = node_set_key(r, *link, val);    /* an inner node, or the root */
    r->keys++;
    return 1;
}

int rax_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old)
{
    return insert(r, key, len, val, old, 1);
}

int rax_try_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old)
{
    return insert(r, key, len, val, old, 0);
}

/* ---- removal ---- */

/*
 * The node at *link has one child and just changed (it lost its key or
 * children): merges it with its parent and its child where the canonical
 * form asks for it.  path holds the links of its ancestors.
 */
static void recompress(struct rax *r, struct path *path, struct rax_node **link)
{
    size_t up = path->n;
    /* Climb while the node is not a key and its parent has one child. */
    while (up > 0 && !n_key(*link) && n_single(*path->v[up - 1])) {
        up--;
        link = path->v[up];
    }
    struct rax_node *head = *link, *last = head;
    size_t total = n_size(head), count = 1;
    for (;;) {
        struct rax_node *c = n_children(last)[0];
        if (n_key(c) || !n_single(c) || total + n_size(c) > MAX_RUN)
            break;
        total += n_size(c);
        count++;
        last = c;
    }
    if (count == 1)
        return;
    int key = n_key(head);
    struct rax_node *run = node_new(r, total, 1, key, key ? n_val(head) : NULL);
    size_t off = 0;
    struct rax_node *n = head;
    for (size_t k = 0; k < count; k++) {
        struct rax_node *next = n_children(n)[0];
        memcpy(run->data + off, n->data, n_size(n));
        off += n_size(n);
        if (k == count - 1)
            n_children(run)[0] = next;
        node_free(r, n);
        n = next;
    }
    *link = run;
}

int rax_remove(struct rax *r, const unsigned char *key, size_t len, void **old)
{
    struct path path;
    struct rax_node **link;
    size_t j;
    path_init(&path);
    size_t i = walk(r, key, len, &link, &j, &path);
    struct rax_node *h = *link;
    if (!found(h, i, len, j)) {
        path_deinit(&path);
        return 0;
    }
    if (old)
        *old = n_val(h);
    r->keys--;
    if (n_nchild(h) > 0 || path.n == 0) {
        *link = h = node_unset_key(r, h);
        if (n_nchild(h) == 1)
            recompress(r, &path, link);
        path_deinit(&path);
        return 1;
    }
    /* A leaf: remove it, and the ancestors left with nothing. */
    for (;;) {
        struct rax_node **plink = path.v[--path.n];
        struct rax_node *p = *plink;
        size_t k = 0;
        if (!n_compr(p))
            while (n_children(p)[k] != h)
                k++;
        node_free(r, h);
        if (n_compr(p)) {
            if (n_key(p) || path.n == 0) {
                /* The run has nothing after it: p becomes a leaf. */
                int key_p = n_key(p);
                struct rax_node *leaf = leaf_new(r, key_p, key_p ? n_val(p) : NULL, path.n == 0);
                node_free(r, p);
                *plink = leaf;
                break;
            }
        } else {
            *plink = p = node_del_child(r, p, k);
            if (n_size(p) == 0 && n_key(p) && path.n > 0) {
                /* A key left without children: a leaf, embedded. */
                struct rax_node *leaf = leaf_new(r, 1, n_val(p), 0);
                node_free(r, p);
                *plink = leaf;
                break;
            }
            if (n_size(p) > 0 || n_key(p) || path.n == 0) {
                if (n_size(p) == 1)
                    recompress(r, &path, plink);
                break;
            }
        }
        /* p has no child and is not a key: it goes too. */
        h = p;
        link = plink;
    }
    path_deinit(&path);
    return 1;
}

/* ---- iteration ---- */

enum { IT_EOF = 0, IT_AT = 1, IT_SEEKED = 2 };

void rax_iter_start(struct rax_iter *it, const struct rax *r)
{
    it->r = r;
    it->key = it->key_inline;
    it->key_len = 0;
    it->key_cap = RAX_ITER_INLINE_KEY;
    it->data = NULL;
    it->ref = NULL;
    it->link = (struct rax_node **)(uintptr_t)&r->root;
    it->stack = it->stack_inline;
    it->depth = 0;
    it->stack_cap = RAX_ITER_INLINE_STACK;
    it->state = IT_EOF;
}

void rax_iter_stop(struct rax_iter *it)
{
    if (it->key != it->key_inline)
        rc_free(it->key);
    if (it->stack != it->stack_inline)
        rc_free(it->stack);
    it->key = it->key_inline;
    it->stack = it->stack_inline;
    it->key_cap = RAX_ITER_INLINE_KEY;
    it->stack_cap = RAX_ITER_INLINE_STACK;
    it->state = IT_EOF;
}

static void key_append(struct rax_iter *it, const unsigned char *p, size_t n)
{
    if (it->key_len + n > it->key_cap) {
        size_t cap = (it->key_len + n) * 2;
        unsigned char *k = rc_malloc(cap);
        memcpy(k, it->key, it->key_len);
        if (it->key != it->key_inline)
            rc_free(it->key);
        it->key = k;
        it->key_cap = cap;
    }
    memcpy(it->key + it->key_len, p, n);
    it->key_len += n;
}

/* Moves to child k of the current node. */
static void descend(struct rax_iter *it, size_t k)
{
    struct rax_node *n = *it->link;
    if (it->depth == it->stack_cap) {
        size_t cap = it->stack_cap * 2;
        struct rax_node ***s = rc_malloc(cap * sizeof(*s));
        memcpy(s, it->stack, it->depth * sizeof(*s));
        if (it->stack != it->stack_inline)
            rc_free(it->stack);
        it->stack = s;
        it->stack_cap = cap;
    }
    it->stack[it->depth++] = it->link;
    if (n_compr(n))
        key_append(it, n->data, n_size(n));
    else
        key_append(it, n->data + k, 1);
    it->link = &n_children(n)[k];
}

/* Moves to the parent; returns the index of the child we came from. */
static size_t ascend(struct rax_iter *it)
{
    it->link = it->stack[--it->depth];
    struct rax_node *p = *it->link;
    if (n_compr(p)) {
        it->key_len -= n_size(p);
        return 0;
    }
    unsigned char c = it->key[--it->key_len];
    return (size_t)((const unsigned char *)memchr(p->data, c, n_size(p)) - p->data);
}

/* The first key at or below the current node (which has one). */
static void leftmost(struct rax_iter *it)
{
    while (!n_key(*it->link))
        descend(it, 0);
}

/* The last key at or below the current node. */
static void rightmost(struct rax_iter *it)
{
    while (n_nchild(*it->link) > 0)
        descend(it, n_nchild(*it->link) - 1);
}

/* The next key after the current node's whole subtree. */
static int after_subtree(struct rax_iter *it)
{
    while (it->depth > 0) {
        size_t k = ascend(it);
        if (!n_compr(*it->link) && k + 1 < n_size(*it->link)) {
            descend(it, k + 1);
            leftmost(it);
            return 1;
        }
    }
    return 0;
}

/* The key before the current node. */
static int before(struct rax_iter *it)
{
    while (it->depth > 0) {
        size_t k = ascend(it);
        if (!n_compr(*it->link) && k > 0) {
            descend(it, k - 1);
            rightmost(it);
            return 1;
        }
        if (n_key(*it->link))
            return 1;
    }
    return 0;
}

static int step_next(struct rax_iter *it)
{
    if (n_nchild(*it->link) > 0) {
        descend(it, 0);
        leftmost(it);
        return 1;
    }
    return after_subtree(it);
}

/* Seeking key that is not in the tree; the walk stopped at the current
 * node after i bytes (j of its run).  Finds the neighbour op asks for. */
static int seek_missing(struct rax_iter *it, int greater, const unsigned char *key, size_t len,
                        size_t i, size_t j)
{
    struct rax_node *h = (*it->link);
    size_t s = n_size(h);
    /* Where the key falls: below the whole subtree under h's bytes
     * (below = -1), above it (1), or (branching, i < len) between the
     * children before and after key[i] (0). */
    int where;
    if (i == len)
        where = -1;
    else if (n_compr(h))
        where = key[i] < h->data[j] ? -1 : 1;
    else
        where = 0;
    if (greater) {
        if (where == -1) {
            descend(it, 0);
            leftmost(it);
            return 1;
        }
        if (where == 0) {
            for (size_t k = 0; k < s; k++) {
                if (h->data[k] > key[i]) {
                    descend(it, k);
                    leftmost(it);
                    return 1;
                }
            }
        }
        return after_subtree(it);
    }
    /* h's own key, if any, is a proper prefix of key: smaller. */
    if (where == 1) {
        rightmost(it);
        return 1;
    }
    if (where == 0) {
        for (size_t k = s; k-- > 0;) {
            if (h->data[k] < key[i]) {
                descend(it, k);
                rightmost(it);
                return 1;
            }
        }
    }
    return n_key(h) ? 1 : before(it);
}

int rax_seek(struct rax_iter *it, enum rax_seek_op op, const unsigned char *key, size_t len)
{
    it->link = (struct rax_node **)(uintptr_t)&it->r->root;
    it->depth = 0;
    it->key_len = 0;
    it->state = IT_EOF;
    if (it->r->keys == 0)
        return 0;
    int ok;
    if (op == RAX_FIRST) {
        leftmost(it);
        ok = 1;
    } else if (op == RAX_LAST) {
        rightmost(it);
        ok = 1;
    } else {
        size_t i = 0, j = 0;
        while (i < len && n_size(*it->link) > 0) {
            struct rax_node *h = (*it->link);
            size_t s = n_size(h);
            if (n_compr(h)) {
                while (j < s && i < len && h->data[j] == key[i]) {
                    j++;
                    i++;
                }
                if (j < s)
                    break;
                j = 0;
                descend(it, 0);
            } else {
                size_t k;
                if (!child_index(h->data, s, key[i], &k))
                    break;
                i++;
                descend(it, k);
            }
        }
        if (found((*it->link), i, len, j)) {
            if (op == RAX_GT)
                ok = step_next(it);
            else if (op == RAX_LT)
                ok = before(it);
            else
                ok = 1;
        } else if (op == RAX_EQ) {
            ok = 0;
        } else {
            ok = seek_missing(it, op == RAX_GE || op == RAX_GT, key, len, i, j);
        }
    }
    if (ok)
        it->state = IT_SEEKED;
    return ok;
}

static int iter_step(struct rax_iter *it, int fwd)
{
    if (it->state == IT_EOF)
        return 0;
    if (it->state == IT_AT && !(fwd ? step_next(it) : before(it))) {
        it->state = IT_EOF;
        return 0;
    }
    it->state = IT_AT;
    it->ref = value_ref(it->link);
    it->data = rax_ref_get(it->ref);
    return 1;
}

int rax_next(struct rax_iter *it)
{
    return iter_step(it, 1);
}

int rax_prev(struct rax_iter *it)
{
    return iter_step(it, 0);
}

/* ---- checking ---- */

struct tally {
    uint64_t keys, nodes;
    size_t bytes;
};

static int verify_node(const struct rax_node *n, int root, struct tally *t)
{
    t->nodes++;
    if (emb(n)) {
        t->keys++;
        return !root;
    }
    size_t s = n_size(n), nc = n_nchild(n);
    t->bytes += n_bytes(n);
    if (nc == 0 && n_key(n) && !root)
        return 0;           /* a leaf below the root is embedded */
    if (n_key(n))
        t->keys++;
    if (n_compr(n) && s < 2)
        return 0;
    if (nc == 0 && !n_key(n) && !root)
        return 0;
    for (size_t k = 1; !n_compr(n) && k < s; k++)
        if (n->data[k - 1] >= n->data[k])
            return 0;
    struct rax_node **ch = n_children(n);
    if (n_single(n)) {
        /* Canonical: a one-child node is not followed by a non-key
         * one-child node (unless the run would be too long). */
        const struct rax_node *c = ch[0];
        if (!n_key(c) && n_single(c) && s + n_size(c) <= MAX_RUN)
            return 0;
    }
    for (size_t k = 0; k < nc; k++)
        if (!verify_node(ch[k], 0, t))
            return 0;
    return 1;
}

int rax_verify(const struct rax *r)
{
    struct tally t = {0, 0, 0};
    if (!verify_node(r->root, 1, &t))
        return 0;
    return t.keys == r->keys && t.nodes == r->nodes && t.bytes == r->bytes;
}
