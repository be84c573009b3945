/*
 * quicklist.h — the list value: a doubly linked list of listpack nodes, as
 * Redis's quicklist (without node compression).
 *
 * Each node holds a listpack (listpack.h) of consecutive elements.  How
 * full a node may get is the `fill` given at creation, Redis's
 * list-max-listpack-size:
 *   fill < 0   a node's listpack stays within 4 KB (-1), 8 KB (-2),
 *              16 KB (-3), 32 KB (-4) or 64 KB (-5 and below);
 *   fill > 0   at most fill elements per node, and at most 8 KB per node
 *              (Redis's safety limit);
 *   fill == 0  treated as 1.
 * An element too big for any node gets a node of its own, and so does one
 * of at least the packed threshold's bytes (Redis's plain node, here a
 * listpack of one element that never takes another).
 *
 * Costs: push and pop at either end O(1) (plus a memmove inside one node);
 * index, insert and replace O(nodes + node size); iteration O(1) per step.
 *
 * Elements are byte strings; those that are canonical integers are stored
 * as integers by the listpack and read back as integers (struct ql_entry
 * with sval == NULL), which callers format when they need the text.
 */
#ifndef RC_QUICKLIST_H
#define RC_QUICKLIST_H

#include <stddef.h>
#include <stdint.h>

#include "listpack.h"

enum ql_where { QL_HEAD = 0, QL_TAIL = 1 };

struct ql_node {
    struct ql_node *prev, *next;
    unsigned char *lp;
    uint32_t count;             /* entries in lp */
    uint8_t plain;              /* holds one large element, takes no other */
};

struct quicklist {
    struct ql_node *head, *tail;
    size_t count;               /* elements in all nodes */
    size_t nodes;
    int fill;
};

/* An element read from the list: a string (sval != NULL, slen bytes,
 * valid until the list is next modified) or an integer (sval == NULL). */
struct ql_entry {
    const unsigned char *sval;
    size_t slen;
    long long lval;
};

/*
 * Iterator.  Created with ql_iter_init() (whole list from one end) or
 * ql_iter_at() (from an index); each ql_iter_next() yields the next
 * element in the iterator's direction.  The list must not be modified
 * while iterating except through ql_iter_delete() (which keeps the
 * iterator valid) or a final ql_iter_insert() / ql_iter_replace() (after
 * which the iterator must not be used).  Fields are private.
 */
struct ql_iter {
    struct quicklist *ql;
    struct ql_node *node;       /* node of the current element, or NULL */
    struct ql_node *after;      /* node to enter when node is NULL */
    size_t cur;                 /* offset of the current element, LP_NONE if none */
    size_t nxt;                 /* offset of the next element in node, LP_NONE */
    int dir;                    /* QL_HEAD: head to tail; QL_TAIL: tail to head */
};

/* A new empty list; the caller owns it (ql_destroy). */
struct quicklist *ql_create(int fill);

/* Frees the list and sets *ql to NULL (NULL allowed). */
void ql_destroy(struct quicklist **ql);

/* A deep copy owned by the caller. */
struct quicklist *ql_dup(const struct quicklist *ql);

static inline size_t ql_count(const struct quicklist *ql) { return ql->count; }

/* Bytes used by the list (structs and listpack buffers). */
size_t ql_mem(const struct quicklist *ql);

/* Number of allocations the list owns (for lazy-free decisions). */
size_t ql_allocations(const struct quicklist *ql);

/* Adds s[0..len) at the head or the tail. */
/* DEBUG QUICKLIST-PACKED-THRESHOLD: sets the size from which elements get
 * a plain node (0: the default, 1 GB); -1 if sz is above 4 GB - 1 MB. */
int ql_set_packed_threshold(unsigned long long sz);

void ql_push(struct quicklist *ql, enum ql_where where, const char *s, size_t len);

/* The element at the head or tail into *e; 0 if the list is empty. */
int ql_peek(const struct quicklist *ql, enum ql_where where, struct ql_entry *e);

/* Removes the element at the head or tail (the list must not be empty). */
void ql_del_end(struct quicklist *ql, enum ql_where where);

/* The element at index (0 first, -1 last) into *e; 0 if out of range. */
int ql_index(const struct quicklist *ql, long long index, struct ql_entry *e);

/* Replaces the element at index by s[0..len); 0 if index is out of range. */
int ql_replace_at(struct quicklist *ql, long long index, const char *s, size_t len);

/* Deletes up to n elements starting at index start (>= 0).  Returns the
 * number deleted. */
size_t ql_del_range(struct quicklist *ql, size_t start, size_t n);

/* Iteration, see struct ql_iter. */
void ql_iter_init(struct ql_iter *it, struct quicklist *ql, int dir);
/* Positions it so that the first ql_iter_next() yields the element at
 * index (negative from the tail); returns 0 (and an exhausted iterator) if
 * index is out of range. */
int ql_iter_at(struct ql_iter *it, struct quicklist *ql, long long index, int dir);
/* The next element into *e (may be NULL); 0 when exhausted. */
int ql_iter_next(struct ql_iter *it, struct ql_entry *e);
/* Nonzero when the current element equals s[0..len) as text. */
int ql_iter_equal(const struct ql_iter *it, const char *s, size_t len);
/* Deletes the current element; iteration continues with the one after it. */
void ql_iter_delete(struct ql_iter *it);
/* Inserts s[0..len) before (after == 0) or after the current element.
 * The iterator is finished afterwards. */
void ql_iter_insert(struct ql_iter *it, int after, const char *s, size_t len);

/* Text form of an entry: string bytes, or the integer formatted into buf
 * (LP_INTBUF_SIZE bytes).  Sets *len. */
const char *ql_entry_str(const struct ql_entry *e, char *buf, size_t *len);

#endif
