/*
 * t_zset.h — sorted-set values, for the modules that handle values of
 * every type (object.c: free, copy, memory; bio.c: lazy-free effort).
 *
 * A sorted set is stored in one of two encodings, as in Redis 7.0:
 *   ENC_LISTPACK  v.ptr is a listpack (listpack.h) of member, score,
 *                 member, score, ... sorted by (score, member); scores are
 *                 kept as the text rc_d2str() produces.  Used while the set
 *                 has at most zset-max-listpack-entries members of at most
 *                 zset-max-listpack-value bytes.
 *   ENC_SKIPLIST  v.ptr is a struct zset: a skiplist (zskiplist.h) for
 *                 order and ranks plus a dict for member lookups, sharing
 *                 one allocation per member.
 * The commands are in t_zset.c (handlers declared by command.h).
 */
#ifndef RC_T_ZSET_H
#define RC_T_ZSET_H

#include <stddef.h>

/* Frees a sorted-set value of encoding enc.  Safe on the background
 * thread: it touches nothing but the value. */
void zset_free_value(int enc, void *ptr);

/* A deep copy of a sorted-set value, same encoding, owned by the caller. */
void *zset_dup_value(int enc, const void *ptr);

/* Bytes allocated for the value (not counting the struct kv). */
size_t zset_mem(int enc, const void *ptr);

/* Allocations a free of the value performs (lazy-free threshold). */
size_t zset_free_effort(int enc, const void *ptr);

#endif
