/*
 * dict.h — intrusive chained hash table with incremental rehashing.
 *
 * This is the table behind the keyspace (one dict per cluster slot per
 * database) and behind large hashes and sets.  It follows the behaviour of
 * Redis's dict.c, with one structural difference: it is intrusive.  Every
 * element embeds a struct dnode as its FIRST member and the table links
 * those nodes directly, so the dict never allocates per element; the only
 * allocations are the dict itself and its bucket arrays.
 *
 * Keys are binary-safe byte strings.  The dict never stores a key: it asks
 * the type's key() callback for the key bytes of an element and compares
 * two keys by length and then memcmp.
 *
 * Sizing.  Bucket arrays are powers of two.  A new dict owns no array at all;
 * the first add allocates DICT_MIN_BUCKETS buckets.  An add grows the table
 * when the element count reaches the bucket count (load factor 1); growth is
 * refused while resizing is disabled (dict_set_resize_policy(0), used while a
 * fork child is alive) unless the load factor exceeds DICT_FORCE_RATIO.
 * Removals never shrink the table: the owner calls dict_try_shrink() (the
 * server cron does, and data types may after deleting elements), which
 * starts a shrink when fewer than DICT_MIN_FILL percent of the buckets are
 * used, and releases the array entirely when the dict is empty.
 *
 * Incremental rehashing.  A resize allocates the new array and then moves
 * the old one a bucket at a time: every dict_find, dict_find_link, dict_add,
 * dict_add_or_get and dict_unlink call moves one bucket (visiting at most
 * 10 empty ones), dict_sample and dict_random one per element sampled,
 * unless rehashing is paused; dict_rehash_ms() lets the cron spend a time
 * budget on it.  dict_size, dict_scan and iteration never move elements.
 * While resizing is disabled, a rehash already in progress is also held
 * still (Redis 7.2's "avoid" policy, so the fork child's copy-on-write
 * pages stay shared) unless the two arrays differ in size by a factor of
 * DICT_FORCE_RATIO or more.  A held rehash also blocks further growth, so
 * chains in the new array lengthen until the child exits.
 *
 * Threading.  A dict is not thread-safe.  The resize policy and the random
 * generator are process-wide and belong to the event-loop thread; a
 * background thread may dict_destroy() a dict nobody else can reach, which
 * touches neither.
 */
#ifndef RC_DICT_H
#define RC_DICT_H

#include <stddef.h>
#include <stdint.h>

#define DICT_MIN_BUCKETS 1  /* size of the first bucket array: one, because a
                              * database has 16384 per-slot tables and most hold
                              * few keys */
#define DICT_FORCE_RATIO 5  /* load factor that forces a grow when disabled */
#define DICT_MIN_FILL 10    /* percent; below it dict_try_shrink() shrinks */

/* Embedded as the first member of every element. */
struct dnode {
    struct dnode *next;
};

/*
 * How a family of dicts treats its elements.  One static const instance per
 * use; dicts point at it, so elements carry no function pointers.
 *   hash     hash of a key's bytes.
 *   key      sets *key and *len to the key bytes of element n; the bytes
 *            must stay unchanged while n is in a dict.
 *   destroy  frees element n; may be NULL.  Called by dict_clear() and
 *            dict_destroy() on every element; it must not touch the dict.
 */
struct dict_type {
    uint64_t (*hash)(const void *key, size_t len);
    void (*key)(const struct dnode *n, const char **key, size_t *len);
    void (*destroy)(struct dnode *n);
};

struct dict;

/*
 * Safe iterator; see dict_iter_init().  The fields are private, exposed only
 * so that iterators can live on the stack.
 */
struct dict_iter {
    struct dict *d;
    struct dnode *next; /* element to return next in the current bucket */
    size_t index;       /* next bucket to load */
    int table;          /* which bucket array index refers to */
};

typedef void dict_scan_fn(void *priv, struct dnode *n);

/* A new empty dict of type t (which must outlive it).  No bucket array is
 * allocated until the first add.  The caller owns the result. */
struct dict *dict_create(const struct dict_type *t);

/* Destroys every element (type->destroy), frees the dict and sets *d to
 * NULL.  Does nothing when *d is NULL. */
void dict_destroy(struct dict **d);

/* Destroys every element and frees the bucket arrays; the dict stays usable
 * and empty.  Must not be called while an iterator or scan is live. */
void dict_clear(struct dict *d);

/* The element whose key is key[0..len), or NULL.  The dict keeps it. */
struct dnode *dict_find(struct dict *d, const char *key, size_t len);

/*
 * The address of the pointer that points at the element with this key —
 * a bucket head or the previous element's next field — or NULL if absent.
 * It lets the caller replace an element by a reallocated copy in place:
 * the copy must carry the original's next pointer and the same key, and is
 * stored with *link = copy.  The link is valid only until the next call
 * that may move elements (any call listed under "Incremental rehashing"
 * above, dict_add, dict_unlink, resizes); store through it at once.
 */
struct dnode **dict_find_link(struct dict *d, const char *key, size_t len);

/* Inserts n, which must not be in any dict.  Returns 0 on success, -1 if an
 * element with the same key is already present (n is not added and stays
 * the caller's).  On success the dict holds n until it is unlinked. */
int dict_add(struct dict *d, struct dnode *n);

/* Like dict_add(), but returns NULL when n was added and the existing
 * element with the same key otherwise (n is then not added). */
struct dnode *dict_add_or_get(struct dict *d, struct dnode *n);

/* Removes the element with this key and returns it, not destroyed: the
 * caller owns it again.  NULL if absent.  Never resizes the table. */
struct dnode *dict_unlink(struct dict *d, const char *key, size_t len);

/* Number of elements. */
size_t dict_size(const struct dict *d);

/* Bucket slots in both arrays (0 for a dict that never had an element or
 * was released); for memory accounting. */
size_t dict_buckets(const struct dict *d);

/* Bytes used by the dict struct and its bucket arrays (elements excluded). */
size_t dict_mem_usage(const struct dict *d);

/* Nonzero while a rehash is in progress (two bucket arrays exist). */
int dict_is_rehashing(const struct dict *d);

/*
 * Makes room for at least n elements without growing, e.g. before loading
 * a hash of known size.  Returns 0 if a new array was allocated (directly,
 * or as the target of a rehash that then proceeds incrementally), -1 if
 * nothing was done: a rehash is in progress, n is below the element count,
 * the size would not change, or n is too large to address.
 */
int dict_expand(struct dict *d, size_t n);

/*
 * Shrinks the table if fewer than DICT_MIN_FILL percent of its buckets are
 * used (to the smallest power of two >= max(size, DICT_MIN_BUCKETS)), or
 * frees the bucket array if the dict is empty.  Does nothing while resizing
 * is disabled, while rehashing or paused.  Returns 1 if it started a shrink
 * or released the array, 0 otherwise.  Intended for the server cron, and
 * for data types after they delete elements.
 */
int dict_try_shrink(struct dict *d);

/*
 * Rehashes in batches of 100 buckets for about ms milliseconds.  Returns
 * the number of buckets worked on (a multiple of 100, 0 if there was no
 * rehash in progress, rehashing was paused or held by the resize policy).
 */
int dict_rehash_ms(struct dict *d, int ms);

/* Nested pause of incremental rehashing: while paused, no call moves
 * elements between buckets.  Each pause needs one resume. */
void dict_pause_rehash(struct dict *d);
void dict_resume_rehash(struct dict *d);

/*
 * A random element, NULL if the dict is empty.  Approximately fair, as
 * Redis's dictGetFairRandomKey: a handful of elements is sampled with
 * dict_sample() and one of them is chosen uniformly, so elements in long
 * chains are not favoured much.
 */
struct dnode *dict_random(struct dict *d);

/*
 * Stores up to count elements taken from consecutive buckets starting at a
 * random one (Redis's dictGetSomeKeys) into out[] and returns how many.
 * It may return fewer than count, and on rare occasions the same element
 * twice; it is meant for eviction and active-expiry sampling, not exact
 * statistics.
 */
size_t dict_sample(struct dict *d, struct dnode **out, size_t count);

/*
 * Stateless cursor scan (Redis's reverse-binary cursor).  Start with
 * cursor 0; each call calls fn(priv, element) for the elements of one or a
 * few buckets and returns the cursor for the next call, 0 when done.
 * Every element present from the first call to the last is returned at
 * least once, even when the table grows, shrinks or rehashes between calls;
 * some may be returned more than once.  The dict may be modified freely
 * between calls but not from inside fn (rehashing is paused during the
 * call).  Any cursor value is safe to pass (clients supply them); a value
 * no call returned just makes the scan start part-way.
 */
unsigned long dict_scan(struct dict *d, unsigned long cursor, dict_scan_fn *fn,
                        void *priv);

/*
 * Safe iteration.  dict_iter_init() pauses rehashing until dict_iter_done(),
 * so during the iteration the caller may dict_unlink() (and then free) the
 * element dict_iter_next() just returned, and may add elements (which may or
 * may not be returned).  Unlinking any other element, dict_clear() and
 * dict_destroy() are not allowed until dict_iter_done().  Every element
 * present throughout is returned exactly once.
 */
void dict_iter_init(struct dict_iter *it, struct dict *d);
struct dnode *dict_iter_next(struct dict_iter *it);
void dict_iter_done(struct dict_iter *it);

/* Process-wide: enable (nonzero) or disable optional resizes; see above. */
void dict_set_resize_policy(int enable);
int dict_resize_policy(void);

/*
 * Seeds the generator used by dict_random() and dict_sample() (splitmix64).
 * Without a call it seeds itself once, on first use, from the time, the
 * process's CPU clock and an address (which varies with ASLR).  Tests call
 * it for reproducible runs.
 */
void dict_seed_random(uint64_t seed);

#endif
