/*
 * t_set.h — set values (t_set.c): the hooks object.c and bio.c call for
 * OBJ_SET entries, and the element-level API a snapshot writer/loader
 * uses.
 *
 * A set has one of Redis 7.0's two encodings, named as OBJECT ENCODING
 * names them:
 *   ENC_INTSET  v.ptr is a struct intset (intset.h): every member is a
 *               canonical integer and there are at most
 *               set-max-intset-entries of them.
 *   ENC_HT      v.ptr is a struct dict whose elements are struct smember
 *               nodes: one allocation per member holding the chain link,
 *               a varint length and the member's bytes (no separate key
 *               string, no dictEntry).
 * A set is converted from intset to hashtable when a non-integer member
 * is added or it grows past the limit; never back (as Redis 7.0).
 */
#ifndef RC_T_SET_H
#define RC_T_SET_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "util.h"

struct kv;

/* ---- hooks for object.c and bio.c ---- */

/* Frees a set value of encoding enc.  Safe on the background thread. */
void set_free_value(int enc, void *ptr);

/* A deep copy of a set value, same encoding.  The caller owns it. */
void *set_dup_value(int enc, const void *ptr);

/* Bytes used by a set value (estimated from a sample for big
 * hashtables, as Redis's MEMORY USAGE does). */
size_t set_mem_usage(int enc, const void *ptr);

/* Allocations that freeing the value takes (for lazy free decisions). */
size_t set_free_effort(int enc, const void *ptr);

/* ---- element access ---- */

/* One member as the iterator or a random pick returns it: either an
 * integer (intset) or bytes owned by the set (hashtable).  Valid until the
 * set is next modified. */
struct set_elem {
    int is_int;
    int64_t iv;
    const char *p;
    size_t len;
    char buf[RC_LONG_STR_SIZE];   /* digits of iv once set_elem_bytes() ran */
};

/* The member's bytes; for an integer, its decimal form (written into
 * e->buf). */
void set_elem_bytes(struct set_elem *e, const char **p, size_t *len);

struct set_iter {
    const struct kv *o;
    uint32_t pos;                 /* intset position */
    struct dict_iter di;          /* hashtable only */
};

/* Iterate the members of set o, in encoding order (ascending for an
 * intset).  o must not be modified until set_iter_done(). */
void set_iter_init(struct set_iter *it, const struct kv *o);
int set_iter_next(struct set_iter *it, struct set_elem *e);   /* 0 at the end */
void set_iter_done(struct set_iter *it);

/* Number of members. */
size_t set_size(const struct kv *o);

/* A new entry under key holding an empty set in the encoding Redis would
 * pick for a first member m[0..mlen) (intset if it is an integer).  Add
 * the member with set_add().  The caller owns the entry. */
struct kv *set_new_for(const char *key, size_t klen, const char *m, size_t mlen);

/* Adds / removes / tests member m[0..len) of set o, converting the
 * encoding as needed.  set_add and set_remove return 1 when the set
 * changed, 0 otherwise. */
int set_add(struct kv *o, const char *m, size_t len);
int set_remove(struct kv *o, const char *m, size_t len);
int set_is_member(const struct kv *o, const char *m, size_t len);

#endif
