/*
 * rax.h — a compressed radix tree (compact trie) mapping byte-string keys
 * to pointers, kept in key order.
 *
 * Streams use it where Redis uses its rax: the index of a stream's
 * listpack nodes and the pending entries lists (keys: 16-byte big-endian
 * stream ids, so byte order is id order), and the maps of consumer groups
 * and consumers (keys: names of any length, ordered bytewise, a prefix
 * before the longer keys).
 *
 * Shape.  Every node stands for the key spelled by the path from the root
 * to it.  A node is either
 *   - a branching node: `size` sorted distinct bytes, one child per byte
 *     (a leaf is a branching node of size 0), or
 *   - a compressed node: a run of `size` >= 2 bytes and one child after
 *     the run;
 * and is flagged "key" when the key ending at it (before its own bytes)
 * is in the tree, then it also holds the value.  The tree is kept in its
 * canonical (maximally compressed) form: a node with one child is merged
 * with that child whenever the child is not a key and has one child
 * itself, after insertions and removals alike, so the node count depends
 * only on the set of keys.  It is the count redis-server's rax has for
 * the same keys (XINFO STREAM's radix-tree-nodes).
 *
 * Memory: a node is one allocation of a 4-byte header, its bytes, padding
 * to pointer alignment, its child pointers and the value pointer if it is
 * a key; except leaves below the root (a key and nothing else), which
 * live in their parent's child slot and cost nothing more.  The tree
 * counts the bytes it requested (rax_mem).
 *
 * Iterators see the tree as it was when they were positioned: after any
 * insertion or removal, seek again.  Value references (rax_find_ref,
 * rax_iter.ref) also stay valid only until the tree next changes.
 */
#ifndef RC_RAX_H
#define RC_RAX_H

#include <stddef.h>
#include <stdint.h>

struct rax_node;

/* Embedded in its owner: set up with rax_init, torn down with rax_deinit. */
struct rax {
    struct rax_node *root;
    uint64_t keys;              /* keys held */
    uint64_t nodes;             /* nodes, the root included */
    size_t bytes;               /* bytes requested for the nodes */
};

void rax_init(struct rax *r);
/* Frees every node; free_value (may be NULL) is called on each value. */
void rax_deinit(struct rax *r, void (*free_value)(void *));

static inline uint64_t rax_size(const struct rax *r)
{
    return r->keys;
}

/* Memory of the tree's nodes (what it asked the allocator for). */
static inline size_t rax_mem(const struct rax *r)
{
    return r->bytes;
}

/*
 * Adds key -> val (val must be even: any object pointer or NULL; the tree
 * uses the lowest bit of its slots).  Returns 1 if the key was new; 0 if it was there, in
 * which case rax_insert replaces the value and rax_try_insert leaves it;
 * either way *old (if old is not NULL) gets the value found.
 */
int rax_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old);
int rax_try_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old);

/* Removes key: 1 (and *old, if not NULL, gets its value) or 0 if absent. */
int rax_remove(struct rax *r, const unsigned char *key, size_t len, void **old);

/* 1 and *val set if key is present, else 0. */
int rax_find(const struct rax *r, const unsigned char *key, size_t len, void **val);

/* A reference to key's value (NULL if absent), to read or replace it in
 * place with rax_ref_get / rax_ref_set (not by dereferencing it: the slot
 * may hold the value tagged). */
void **rax_find_ref(const struct rax *r, const unsigned char *key, size_t len);
void *rax_ref_get(void *const *ref);
void rax_ref_set(void **ref, void *val);

/* ---- iteration ---- */

enum rax_seek_op {
    RAX_FIRST,      /* the smallest key */
    RAX_LAST,       /* the greatest key */
    RAX_EQ,         /* key itself */
    RAX_GE,         /* the smallest key >= key */
    RAX_GT,         /* the smallest key > key */
    RAX_LE,         /* the greatest key <= key */
    RAX_LT          /* the greatest key < key */
};

#define RAX_ITER_INLINE_KEY 32
#define RAX_ITER_INLINE_STACK 32

/*
 * An iterator holds the current key and the path to it.  Keys up to
 * RAX_ITER_INLINE_KEY bytes in trees of depth up to RAX_ITER_INLINE_STACK
 * (stream ids always) need no allocation; longer ones are allocated and
 * rax_iter_stop frees them.  The iterator points into itself: do not copy
 * it.  Read key, key_len, data and ref after a call that returned 1.
 */
struct rax_iter {
    const struct rax *r;
    unsigned char *key;
    size_t key_len;
    void *data;
    void **ref;                 /* reference to data (rax_ref_get/set) */
    /* private */
    size_t key_cap;
    struct rax_node **link;     /* the slot pointing to the current node */
    struct rax_node ***stack;   /* the slots of its ancestors, root first */
    size_t depth, stack_cap;
    int state;
    unsigned char key_inline[RAX_ITER_INLINE_KEY];
    struct rax_node **stack_inline[RAX_ITER_INLINE_STACK];
};

void rax_iter_start(struct rax_iter *it, const struct rax *r);
void rax_iter_stop(struct rax_iter *it);

/*
 * Positions it on the key op designates (key and len are ignored for
 * RAX_FIRST and RAX_LAST).  Returns 1 if there is one; the next call of
 * rax_next or rax_prev then returns it, and later calls step from it.
 * Returns 0 if there is none (rax_next and rax_prev then return 0).
 */
int rax_seek(struct rax_iter *it, enum rax_seek_op op, const unsigned char *key, size_t len);

/* The next / previous key: 1 with key, key_len, data and ref set, 0 at
 * the end. */
int rax_next(struct rax_iter *it);
int rax_prev(struct rax_iter *it);

/*
 * Walks the whole tree checking its invariants: children bytes sorted,
 * compressed runs of 2 bytes or more, leaves are keys, canonical form,
 * and the key, node and byte counts.  1 if all hold (for tests).
 */
int rax_verify(const struct rax *r);

#endif
