/*
 * dict.c — intrusive chained hash table with incremental rehashing.
 *
 * See dict.h for the contract.  Layout: table[0] is the live bucket array;
 * during a rehash table[1] is the new one and buckets [0, rehashidx) of
 * table[0] are already empty.  An element lives in exactly one bucket of
 * one array.  Lookups look in table[0] and, while rehashing, in table[1];
 * additions during a rehash go to table[1] so table[0] only ever drains.
 *
 * One struct dict exists per non-empty cluster slot per database (up to
 * 16384 per database), so it is kept at 56 bytes on LP64 and a dict with no
 * elements may own no bucket array.
 */
#include "dict.h"

#include "mem.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest array exponent: keeps (1 << exp) * sizeof(pointer) representable
 * in size_t with room to spare (60 on LP64, 28 on ILP32). */
#define DICT_MAX_EXP ((unsigned)(sizeof(size_t) * CHAR_BIT - 4))

#define DICT_MIN_EXP 0          /* 1 << 0 == DICT_MIN_BUCKETS */
#define DICT_EMPTY_VISITS 10    /* empty buckets one rehash step may skip */
#define DICT_MS_BATCH 100       /* buckets per batch in dict_rehash_ms() */
#define DICT_FAIR_SAMPLE 20     /* elements dict_random() chooses among */

struct dict {
    const struct dict_type *type;
    struct dnode **table[2];
    uint32_t used[2];  /* a table holds fewer than 2^32 elements (see dict_add) */
    size_t rehashidx;  /* next bucket of table[0] to move, if table[1] exists */
    uint32_t pause;    /* nested dict_pause_rehash() count */
    uint8_t exp[2];    /* log2 of each array's size, when it exists */
};

_Static_assert(DICT_MIN_BUCKETS == 1 << DICT_MIN_EXP, "DICT_MIN_BUCKETS");
_Static_assert(100 % DICT_MIN_FILL == 0 && 100 / DICT_MIN_FILL <= 16,
               "dict_try_shrink()'s fill test relies on this");
_Static_assert(sizeof(unsigned long) >= sizeof(size_t),
               "scan cursors must be able to address every bucket");
_Static_assert(sizeof(void *) != 8 || sizeof(struct dict) <= 48,
               "struct dict exists per slot: keep it in jemalloc's 48-byte class");

static int resize_enabled = 1;

static uint64_t rng_state;
static int rng_seeded;

/* ---- small helpers ------------------------------------------------------ */

static inline size_t tsize(const struct dict *d, int t)
{
    return d->table[t] != NULL ? (size_t)1 << d->exp[t] : 0;
}

static inline size_t tmask(const struct dict *d, int t)
{
    return ((size_t)1 << d->exp[t]) - 1;
}

static inline int rehashing(const struct dict *d)
{
    return d->table[1] != NULL;
}

static uint64_t node_hash(const struct dict *d, const struct dnode *n)
{
    const char *k;
    size_t len;
    d->type->key(n, &k, &len);
    return d->type->hash(k, len);
}

static int key_equal(const struct dict *d, const struct dnode *n,
                     const char *key, size_t len)
{
    const char *k;
    size_t klen;
    d->type->key(n, &k, &klen);
    return klen == len && (len == 0 || memcmp(k, key, len) == 0);
}

/* splitmix64: tiny, fast, full period, good enough for sampling. */
static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        int local;
        uint64_t seed = (uint64_t)time(NULL);
        seed ^= (uint64_t)clock() << 32;
        seed ^= (uint64_t)(uintptr_t)&local;
        seed ^= (uint64_t)(uintptr_t)&rng_state << 17;
        dict_seed_random(seed);
    }
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform-enough value in [0, n), n > 0.  The modulo bias is below
 * n / 2^64, irrelevant for table sizes. */
static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

void dict_seed_random(uint64_t seed)
{
    rng_state = seed;
    rng_seeded = 1;
}

void dict_set_resize_policy(int enable)
{
    resize_enabled = enable != 0;
}

int dict_resize_policy(void)
{
    return resize_enabled;
}

/* ---- resizing and rehashing --------------------------------------------- */

/* Whether rehash steps may run now: not paused, and either resizing is
 * enabled or the arrays differ so much that waiting would hurt lookups. */
static int rehash_allowed(const struct dict *d)
{
    if (d->pause > 0)
        return 0;
    if (resize_enabled)
        return 1;
    size_t s0 = tsize(d, 0), s1 = tsize(d, 1);
    size_t ratio = s1 > s0 ? s1 / s0 : s0 / s1;
    return ratio >= DICT_FORCE_RATIO;
}

/* Swaps the finished new array in when table[0] has drained. */
static void rehash_finish(struct dict *d)
{
    rc_free(d->table[0]);
    d->table[0] = d->table[1];
    d->exp[0] = d->exp[1];
    d->used[0] = d->used[1];
    d->table[1] = NULL;
    d->exp[1] = 0;
    d->used[1] = 0;
    d->rehashidx = 0;
}

/*
 * Moves up to n buckets of table[0] into table[1], visiting at most
 * n * DICT_EMPTY_VISITS empty buckets.  Returns 1 if the rehash is still in
 * progress afterwards, 0 if it completed or none was in progress.  The
 * caller has checked rehash_allowed().
 */
static int rehash(struct dict *d, size_t n)
{
    if (!rehashing(d))
        return 0;
    size_t empty_visits = n > SIZE_MAX / DICT_EMPTY_VISITS
                              ? SIZE_MAX : n * DICT_EMPTY_VISITS;
    size_t mask1 = tmask(d, 1);
    struct dnode **from = d->table[0];
    struct dnode **to = d->table[1];

    while (n-- > 0 && d->used[0] != 0) {
        /* used[0] != 0 guarantees a non-empty bucket at or after
         * rehashidx, so this cannot run off the array. */
        assert(d->rehashidx < tsize(d, 0));
        while (from[d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--empty_visits == 0)
                return 1;
        }
        struct dnode *e = from[d->rehashidx];
        while (e != NULL) {
            struct dnode *next = e->next;
            size_t idx = (size_t)node_hash(d, e) & mask1;
            e->next = to[idx];
            to[idx] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        from[d->rehashidx] = NULL;
        d->rehashidx++;
    }
    if (d->used[0] == 0) {
        rehash_finish(d);
        return 0;
    }
    return 1;
}

/* One incremental step, done by lookups and updates. */
static void rehash_step(struct dict *d)
{
    if (rehashing(d) && rehash_allowed(d))
        rehash(d, 1);
}

/* Smallest exponent >= DICT_MIN_EXP whose array holds n buckets, or -1 if
 * that exceeds DICT_MAX_EXP. */
static int exp_for(size_t n)
{
    unsigned e = DICT_MIN_EXP;
    while (e < DICT_MAX_EXP && ((size_t)1 << e) < n)
        e++;
    return ((size_t)1 << e) < n ? -1 : (int)e;
}

/* Allocates an array of 2^exp buckets: as table[0] if there is none, as the
 * rehash target otherwise.  Returns 0, or -1 if nothing was done. */
static int resize_to(struct dict *d, size_t n)
{
    if (rehashing(d) || n < d->used[0])
        return -1;
    int e = exp_for(n);
    if (e < 0)
        return -1;
    if (d->table[0] != NULL && (unsigned)e == d->exp[0])
        return -1;
    struct dnode **t = rc_calloc(((size_t)1 << e) * sizeof(*t));
    if (d->table[0] == NULL) {
        d->table[0] = t;
        d->exp[0] = (uint8_t)e;
        d->used[0] = 0;
    } else {
        d->table[1] = t;
        d->exp[1] = (uint8_t)e;
        d->used[1] = 0;
        d->rehashidx = 0;
    }
    return 0;
}

int dict_expand(struct dict *d, size_t n)
{
    if (n <= tsize(d, 0))
        return -1; /* would not grow; shrinking is dict_try_shrink()'s job */
    return resize_to(d, n);
}

/* Called before every insertion. */
static void grow_if_needed(struct dict *d)
{
    if (rehashing(d))
        return;
    if (d->table[0] == NULL) {
        resize_to(d, DICT_MIN_BUCKETS);
        return;
    }
    size_t size = tsize(d, 0);
    if (d->used[0] >= size &&
        (resize_enabled || d->used[0] / size > DICT_FORCE_RATIO)) {
        /* used[0] + 1 cannot overflow: each element is at least a pointer. */
        resize_to(d, d->used[0] + 1);
    }
}

int dict_try_shrink(struct dict *d)
{
    if (!resize_enabled || rehashing(d) || d->pause > 0 || d->table[0] == NULL)
        return 0;
    if (d->used[0] == 0) {
        rc_free(d->table[0]);
        d->table[0] = NULL;
        d->exp[0] = 0;
        return 1;
    }
    size_t size = tsize(d, 0);
    if (size <= DICT_MIN_BUCKETS)
        return 0;
    /* used * 100 / size < DICT_MIN_FILL, i.e. used * (100 / DICT_MIN_FILL)
     * < size.  Once used <= size <= 2^DICT_MAX_EXP, the product stays below
     * 2^(DICT_MAX_EXP + 4) and cannot overflow. */
    if (d->used[0] > size || d->used[0] * (100 / DICT_MIN_FILL) >= size)
        return 0;
    size_t want = d->used[0] < DICT_MIN_BUCKETS ? DICT_MIN_BUCKETS : d->used[0];
    return resize_to(d, want) == 0;
}

int dict_rehash_ms(struct dict *d, int ms)
{
    if (!rehashing(d) || !rehash_allowed(d))
        return 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int done = 0;
    while (rehash(d, DICT_MS_BATCH)) {
        if (done <= INT_MAX - DICT_MS_BATCH)
            done += DICT_MS_BATCH;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long elapsed_ms = (long long)(now.tv_sec - start.tv_sec) * 1000 +
                               (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed_ms > ms)
            return done;
    }
    if (done <= INT_MAX - DICT_MS_BATCH)
        done += DICT_MS_BATCH;
    return done;
}

void dict_pause_rehash(struct dict *d)
{
    assert(d->pause < UINT32_MAX);
    d->pause++;
}

void dict_resume_rehash(struct dict *d)
{
    assert(d->pause > 0);
    d->pause--;
}

/* ---- create, destroy, size ---------------------------------------------- */

struct dict *dict_create(const struct dict_type *t)
{
    struct dict *d = rc_calloc(sizeof(*d));
    d->type = t;
    return d;
}

void dict_clear(struct dict *d)
{
    for (int t = 0; t < 2; t++) {
        struct dnode **table = d->table[t];
        if (table == NULL)
            continue;
        if (d->type->destroy != NULL) {
            size_t size = tsize(d, t);
            for (size_t i = 0; i < size && d->used[t] > 0; i++) {
                struct dnode *e = table[i];
                while (e != NULL) {
                    struct dnode *next = e->next;
                    d->type->destroy(e);
                    d->used[t]--;
                    e = next;
                }
            }
        }
        rc_free(table);
        d->table[t] = NULL;
        d->used[t] = 0;
        d->exp[t] = 0;
    }
    d->rehashidx = 0;
}

void dict_destroy(struct dict **dp)
{
    if (*dp == NULL)
        return;
    dict_clear(*dp);
    rc_free(*dp);
    *dp = NULL;
}

size_t dict_size(const struct dict *d)
{
    return d->used[0] + d->used[1];
}

size_t dict_buckets(const struct dict *d)
{
    return tsize(d, 0) + tsize(d, 1);
}

size_t dict_mem_usage(const struct dict *d)
{
    return sizeof(*d) + dict_buckets(d) * sizeof(struct dnode *);
}

int dict_is_rehashing(const struct dict *d)
{
    return rehashing(d);
}

/* ---- lookup, insert, remove --------------------------------------------- */

/* The link to the element with this key, or NULL; *table_out receives the
 * array holding it.  Does one rehash step first. */
static struct dnode **lookup(struct dict *d, const char *key, size_t len,
                             int *table_out)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_step(d);
    uint64_t h = d->type->hash(key, len);
    for (int t = 0; t < 2 && d->table[t] != NULL; t++) {
        struct dnode **link = &d->table[t][(size_t)h & tmask(d, t)];
        while (*link != NULL) {
            if (key_equal(d, *link, key, len)) {
                *table_out = t;
                return link;
            }
            link = &(*link)->next;
        }
    }
    return NULL;
}

struct dnode *dict_find(struct dict *d, const char *key, size_t len)
{
    int t;
    struct dnode **link = lookup(d, key, len, &t);
    return link != NULL ? *link : NULL;
}

struct dnode **dict_find_link(struct dict *d, const char *key, size_t len)
{
    int t;
    return lookup(d, key, len, &t);
}

struct dnode *dict_add_or_get(struct dict *d, struct dnode *n)
{
    const char *key;
    size_t len;

    rehash_step(d);
    grow_if_needed(d);
    d->type->key(n, &key, &len);
    uint64_t h = d->type->hash(key, len);
    for (int t = 0; t < 2 && d->table[t] != NULL; t++) {
        for (struct dnode *e = d->table[t][(size_t)h & tmask(d, t)]; e != NULL;
             e = e->next) {
            if (key_equal(d, e, key, len))
                return e;
        }
    }
    int t = rehashing(d) ? 1 : 0;
    if (d->used[0] + (size_t)d->used[1] >= UINT32_MAX - 1) {
        /* 4 billion elements in one table (hundreds of GB): a limit we
         * state rather than a counter we let wrap. */
        fprintf(stderr, "ringcached: hash table element limit (2^32) reached\n");
        abort();
    }
    struct dnode **bucket = &d->table[t][(size_t)h & tmask(d, t)];
    n->next = *bucket;
    *bucket = n;
    d->used[t]++;
    return NULL;
}

int dict_add(struct dict *d, struct dnode *n)
{
    return dict_add_or_get(d, n) == NULL ? 0 : -1;
}

struct dnode *dict_unlink(struct dict *d, const char *key, size_t len)
{
    int t;
    struct dnode **link = lookup(d, key, len, &t);
    if (link == NULL)
        return NULL;
    struct dnode *n = *link;
    *link = n->next;
    n->next = NULL;
    d->used[t]--;
    return n;
}

/* ---- random sampling ---------------------------------------------------- */

size_t dict_sample(struct dict *d, struct dnode **out, size_t count)
{
    size_t size = dict_size(d);
    if (count > size)
        count = size;
    if (count == 0)
        return 0;
    /* Help a rehash along in proportion to the work asked for. */
    for (size_t j = 0; j < count && rehashing(d); j++)
        rehash_step(d);

    int tables = rehashing(d) ? 2 : 1;
    size_t maxmask = tmask(d, 0);
    if (tables == 2 && tmask(d, 1) > maxmask)
        maxmask = tmask(d, 1);
    size_t maxsteps = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;
    size_t i = (size_t)rng_next() & maxmask;
    size_t emptylen = 0;
    size_t stored = 0;

    while (stored < count && maxsteps-- > 0) {
        for (int t = 0; t < tables; t++) {
            if (tables == 2 && t == 0 && i < d->rehashidx) {
                /* Buckets below rehashidx of table[0] are empty.  If i is
                 * also past the end of table[1] (a shrink), jump ahead. */
                if (i >= tsize(d, 1))
                    i = d->rehashidx;
                else
                    continue;
            }
            if (i >= tsize(d, t))
                continue;
            struct dnode *e = d->table[t][i];
            if (e == NULL) {
                /* A long run of empty buckets: restart somewhere else. */
                if (++emptylen >= 5 && emptylen > count) {
                    i = (size_t)rng_next() & maxmask;
                    emptylen = 0;
                }
                continue;
            }
            emptylen = 0;
            for (; e != NULL && stored < count; e = e->next)
                out[stored++] = e;
            if (stored == count)
                return stored;
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}

/* A random non-empty bucket, then a random position in its chain.  Biased
 * towards elements in short chains; dict_random() corrects most of that. */
static struct dnode *random_plain(struct dict *d)
{
    rehash_step(d);
    struct dnode *head;
    if (rehashing(d)) {
        size_t s0 = tsize(d, 0), s1 = tsize(d, 1);
        size_t span = s0 + s1 - d->rehashidx;
        do {
            size_t i = d->rehashidx + rng_below(span);
            head = i >= s0 ? d->table[1][i - s0] : d->table[0][i];
        } while (head == NULL);
    } else {
        size_t mask = tmask(d, 0);
        do {
            head = d->table[0][(size_t)rng_next() & mask];
        } while (head == NULL);
    }
    size_t len = 0;
    for (struct dnode *e = head; e != NULL; e = e->next)
        len++;
    size_t pos = rng_below(len);
    while (pos-- > 0)
        head = head->next;
    return head;
}

struct dnode *dict_random(struct dict *d)
{
    if (dict_size(d) == 0)
        return NULL;
    struct dnode *sample[DICT_FAIR_SAMPLE];
    size_t n = dict_sample(d, sample, DICT_FAIR_SAMPLE);
    if (n == 0)
        return random_plain(d);
    return sample[rng_below(n)];
}

/* ---- scanning and iteration --------------------------------------------- */

/* Bit reversal of a whole unsigned long. */
static unsigned long rev_bits(unsigned long v)
{
#if ULONG_MAX == 0xffffffffffffffffUL
    v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
    v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fUL) | ((v & 0x0f0f0f0f0f0f0f0fUL) << 4);
    v = ((v >> 8) & 0x00ff00ff00ff00ffUL) | ((v & 0x00ff00ff00ff00ffUL) << 8);
    v = ((v >> 16) & 0x0000ffff0000ffffUL) | ((v & 0x0000ffff0000ffffUL) << 16);
    v = (v >> 32) | (v << 32);
#elif ULONG_MAX == 0xffffffffUL
    v = ((v >> 1) & 0x55555555UL) | ((v & 0x55555555UL) << 1);
    v = ((v >> 2) & 0x33333333UL) | ((v & 0x33333333UL) << 2);
    v = ((v >> 4) & 0x0f0f0f0fUL) | ((v & 0x0f0f0f0fUL) << 4);
    v = ((v >> 8) & 0x00ff00ffUL) | ((v & 0x00ff00ffUL) << 8);
    v = (v >> 16) | (v << 16);
#else
#error "unsupported unsigned long width"
#endif
    return v;
}

/*
 * Adds one to the cursor counting from its high bits down, within the bits
 * of mask: the bits above mask are set first so the carry runs through
 * them and out.  Successive cursors visit each bucket index once, and an
 * index of a smaller table covers exactly the indexes of a larger table
 * that share its low bits, which is what makes the scan survive resizes.
 */
static unsigned long cursor_next(unsigned long v, unsigned long mask)
{
    v |= ~mask;
    v = rev_bits(v);
    v++;
    return rev_bits(v);
}

static void scan_bucket(struct dnode *e, dict_scan_fn *fn, void *priv)
{
    while (e != NULL) {
        struct dnode *next = e->next;
        fn(priv, e);
        e = next;
    }
}

unsigned long dict_scan(struct dict *d, unsigned long cursor, dict_scan_fn *fn,
                        void *priv)
{
    if (dict_size(d) == 0)
        return 0;
    dict_pause_rehash(d);
    unsigned long v = cursor;
    if (!rehashing(d)) {
        unsigned long m = tmask(d, 0);
        scan_bucket(d->table[0][v & m], fn, priv);
        v = cursor_next(v, m);
    } else {
        int small = tsize(d, 0) <= tsize(d, 1) ? 0 : 1;
        int large = 1 - small;
        unsigned long m0 = tmask(d, small), m1 = tmask(d, large);
        /* The small table's bucket, then every bucket of the large table
         * whose index ends with the same low bits. */
        scan_bucket(d->table[small][v & m0], fn, priv);
        do {
            scan_bucket(d->table[large][v & m1], fn, priv);
            v = cursor_next(v, m1);
        } while (v & (m0 ^ m1));
    }
    dict_resume_rehash(d);
    return v;
}

void dict_iter_init(struct dict_iter *it, struct dict *d)
{
    it->d = d;
    it->next = NULL;
    it->index = 0;
    it->table = 0;
    dict_pause_rehash(d);
}

struct dnode *dict_iter_next(struct dict_iter *it)
{
    struct dict *d = it->d;
    if (d == NULL)
        return NULL;
    for (;;) {
        struct dnode *n = it->next;
        if (n != NULL) {
            /* Read ahead so the caller may unlink or free n. */
            it->next = n->next;
            return n;
        }
        if (it->index >= tsize(d, it->table)) {
            /* table[1] may appear during the iteration (an add started a
             * grow); it then holds only elements added since. */
            if (it->table == 0 && rehashing(d)) {
                it->table = 1;
                it->index = 0;
                continue;
            }
            return NULL;
        }
        it->next = d->table[it->table][it->index++];
    }
}

void dict_iter_done(struct dict_iter *it)
{
    if (it->d == NULL)
        return;
    dict_resume_rehash(it->d);
    it->d = NULL;
}
