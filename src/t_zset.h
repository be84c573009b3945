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

/* ---- snapshot access (rdbobj.c: DUMP, RESTORE, RDB files) ---- */

struct kv;
struct zsl;

/* The skiplist of a sorted set in the ENC_SKIPLIST encoding, for walking
 * its members in order. */
const struct zsl *zset_skiplist(const struct kv *o);

/* A new entry under key holding an empty sorted set in the skiplist
 * encoding, owned by the caller. */
struct kv *zset_new_skiplist_entry(const char *key, size_t klen);

/* Adds member m with score (not NaN) to a skiplist-encoded set.  Returns
 * 0 if the member is already there (nothing changes), 1 if added. */
int zset_skiplist_add(struct kv *o, const char *m, size_t mlen, double score);

/* After loading: converts a skiplist-encoded set to a listpack when it is
 * within zset-max-listpack-entries/-value (maxelelen: longest member,
 * totelelen: bytes of all members), as Redis does after loading. */
void zset_loaded(struct kv *o, size_t maxelelen, size_t totelelen);

/* ---- access for the GEO commands (t_geo.c) ---- */

struct client;
struct slice;

/* ZADD with the arguments argv[0..argc) (argv[0] is the command name)
 * instead of c's own: checks, replies and changes exactly as ZADD. */
void zset_zadd_argv(struct client *c, int argc, const struct slice *argv);

/* 1 and *score set if m is a member of the sorted set o, else 0. */
int zset_member_score(const struct kv *o, const char *m, size_t mlen, double *score);

/* Calls fn for each member of o with min <= score < max, in (score,
 * member) order, until fn returns 0.  The member bytes are valid only
 * during the call. */
typedef int zset_walk_fn(void *arg, const char *m, size_t mlen, double score);
void zset_walk_score_range(const struct kv *o, double min, double max, zset_walk_fn *fn,
                           void *arg);
/* The same over every member, +inf and -inf scores included. */
void zset_walk_all(const struct kv *o, zset_walk_fn *fn, void *arg);

#endif
