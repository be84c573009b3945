/*
 * t_hash.h — the hash type: value lifecycle hooks for object.c and bio.c,
 * and encoding-independent access for the modules that serialize or copy
 * hashes (snapshots, log rewriting, digests).
 *
 * A hash value (struct kv with type OBJ_HASH) is in one of two encodings:
 *   ENC_LISTPACK  v.ptr is a listpack (listpack.h) of field, value, field,
 *                 value, ... in insertion order; used while the hash has at
 *                 most hash-max-listpack-entries fields and every field and
 *                 value is at most hash-max-listpack-value bytes.
 *   ENC_HT        v.ptr is a struct dict of hash_node elements, each holding
 *                 its field and value in one allocation.
 * A hash converts from listpack to hashtable when a limit is crossed and
 * never back, as in Redis.
 */
#ifndef RC_T_HASH_H
#define RC_T_HASH_H

#include <stddef.h>

#include "dict.h"
#include "listpack.h"

struct kv;

/* ---- lifecycle (object.c, bio.c) ---- */

/* Frees a hash value of encoding enc. */
void hash_free_value(int enc, void *ptr);

/* A deep copy of a hash value of encoding enc, owned by the caller. */
void *hash_dup_value(int enc, const void *ptr);

/* Bytes allocated for a hash value (listpack, or dict and its nodes). */
size_t hash_mem(int enc, const void *ptr);

/* Allocations a free of this value costs (for lazy-free decisions). */
size_t hash_free_effort(int enc, const void *ptr);

/* ---- access ---- */

/* Number of fields of a hash entry. */
size_t hash_length(const struct kv *o);

/*
 * Sets field f to value v, creating the field if needed, converting the
 * encoding when the new field or value is too long for a listpack or the
 * field count exceeds hash-max-listpack-entries.  Returns 1 if the field
 * existed (its value was replaced), 0 if it was added.  The entry o is not
 * moved; its value pointer may change.
 */
int hash_set(struct kv *o, const char *f, size_t flen, const char *v, size_t vlen);

/*
 * Iteration over fields and values, in storage order.  The hash must not
 * be modified while an iterator is live.  The field and value bytes are
 * valid until the next hash_iter_next() call.
 */
struct hash_iter {
    const struct kv *o;
    size_t off;                     /* listpack: offset of the next field */
    struct dict_iter di;            /* hashtable */
    char fbuf[LP_INTBUF_SIZE];
    char vbuf[LP_INTBUF_SIZE];
};

void hash_iter_init(struct hash_iter *it, const struct kv *o);
/* Returns 1 and sets the field and value, or 0 at the end. */
int hash_iter_next(struct hash_iter *it, const char **f, size_t *flen,
                   const char **v, size_t *vlen);
void hash_iter_done(struct hash_iter *it);

/* Field f's value: 1 and its bytes (into the hash or buf), or 0 if absent. */
int hash_field_get(const struct kv *o, const char *f, size_t flen, const char **p,
                   size_t *len, char buf[LP_INTBUF_SIZE]);

#endif
