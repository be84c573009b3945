/*
 * check_dict.c — unit tests for the intrusive hash table (src/dict.c).
 *
 * The tests drive the table through every rehash state: lookups and updates
 * are checked after each single operation while a grow or shrink is half
 * done, scans run while the table grows and shrinks between calls, and the
 * safe iterator deletes as it goes.  Elements carry a flexible key so that
 * dict_find_link() replacement by a reallocated copy can be exercised.
 *
 * The hash is a local FNV-1a; a second type masks it to 3 bits so that
 * chains are long and unlinking from the middle of a chain is covered.
 */
#include "dict.h"
#include "mem.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct elem {
    struct dnode node; /* must be first */
    unsigned id;
    unsigned seen;
    unsigned value;
    size_t len;
    char key[];
};

static unsigned long destroyed;

static uint64_t fnv1a(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* Only 8 distinct hash values: long chains at every table size. */
static uint64_t collide_hash(const void *key, size_t len)
{
    return fnv1a(key, len) & 7;
}

static void elem_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct elem *e = (const struct elem *)n;
    *key = e->key;
    *len = e->len;
}

static void elem_destroy(struct dnode *n)
{
    destroyed++;
    rc_free(n);
}

static const struct dict_type fnv_type = {fnv1a, elem_key, elem_destroy};
static const struct dict_type collide_type = {collide_hash, elem_key,
                                              elem_destroy};
static const struct dict_type nodestroy_type = {fnv1a, elem_key, NULL};

/* "key:<id>" without snprintf: the consistency checks format millions. */
static size_t key_of(unsigned id, char *buf, size_t cap)
{
    char digits[16];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + id % 10);
        id /= 10;
    } while (id != 0);
    if (cap < 4 + nd)
        ck_abort_msg("key buffer too small");
    memcpy(buf, "key:", 4);
    for (size_t i = 0; i < nd; i++)
        buf[4 + i] = digits[nd - 1 - i];
    return 4 + nd;
}

static struct elem *elem_new_key(unsigned id, const char *key, size_t len)
{
    struct elem *e = rc_malloc(sizeof(*e) + len);
    e->node.next = NULL;
    e->id = id;
    e->seen = 0;
    e->value = id;
    e->len = len;
    if (len > 0)
        memcpy(e->key, key, len);
    return e;
}

static struct elem *elem_new(unsigned id)
{
    char buf[32];
    size_t len = key_of(id, buf, sizeof(buf));
    return elem_new_key(id, buf, len);
}

static struct elem *find_id(struct dict *d, unsigned id)
{
    char buf[32];
    size_t len = key_of(id, buf, sizeof(buf));
    return (struct elem *)dict_find(d, buf, len);
}

static struct elem *unlink_id(struct dict *d, unsigned id)
{
    char buf[32];
    size_t len = key_of(id, buf, sizeof(buf));
    return (struct elem *)dict_unlink(d, buf, len);
}

/* Every id below n is found iff by_id[id] is non-NULL, and is that element.
 * Rehashing is paused meanwhile so that the state being checked is the one
 * the last operation left, typically half-way through a rehash. */
static void check_all(struct dict *d, struct elem **by_id, unsigned n)
{
    size_t expect = 0;
    dict_pause_rehash(d);
    for (unsigned i = 0; i < n; i++) {
        /* Plain test first: every ck_assert records a checkpoint through a
         * pipe, which dominates the run time at millions of calls. */
        struct elem *e = find_id(d, i);
        if (e != by_id[i])
            ck_abort_msg("id %u: found %p, expected %p", i, (void *)e,
                         (void *)by_id[i]);
        if (by_id[i] != NULL)
            expect++;
    }
    dict_resume_rehash(d);
    ck_assert_uint_eq(dict_size(d), expect);
}

/* ---- basics -------------------------------------------------------------- */

START_TEST(test_empty)
{
    struct dict *d = dict_create(&fnv_type);
    ck_assert_uint_eq(dict_size(d), 0);
    ck_assert_uint_eq(dict_buckets(d), 0);
    ck_assert_uint_le(dict_mem_usage(d), 56);
    ck_assert_ptr_null(dict_find(d, "a", 1));
    ck_assert_ptr_null(dict_find_link(d, "a", 1));
    ck_assert_ptr_null(dict_unlink(d, "a", 1));
    ck_assert_ptr_null(dict_random(d));
    struct dnode *out[4];
    ck_assert_uint_eq(dict_sample(d, out, 4), 0);
    ck_assert_uint_eq(dict_scan(d, 0, NULL, NULL), 0);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    ck_assert_int_eq(dict_rehash_ms(d, 1), 0);
    struct dict_iter it;
    dict_iter_init(&it, d);
    ck_assert_ptr_null(dict_iter_next(&it));
    dict_iter_done(&it);
    dict_iter_done(&it); /* idempotent */
    /* Lookups on an empty dict allocate nothing. */
    ck_assert_uint_eq(dict_buckets(d), 0);
    dict_destroy(&d);
    ck_assert_ptr_null(d);
    dict_destroy(&d);
}
END_TEST

START_TEST(test_binary_keys)
{
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    static const char *keys[] = {"", "\0", "\0\0", "a\0b", "a\0c", "a"};
    static const size_t lens[] = {0, 1, 2, 3, 3, 1};
    for (unsigned i = 0; i < 6; i++) {
        struct elem *e = elem_new_key(i, keys[i], lens[i]);
        ck_assert_int_eq(dict_add(d, &e->node), 0);
    }
    ck_assert_uint_eq(dict_size(d), 6);
    for (unsigned i = 0; i < 6; i++) {
        struct elem *e = (struct elem *)dict_find(d, keys[i], lens[i]);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->id, i);
    }
    ck_assert_ptr_null(dict_find(d, "a\0d", 3));
    ck_assert_ptr_null(dict_find(d, "\0\0\0", 3));
    /* Duplicates are refused and the existing element is reported. */
    struct elem *dup = elem_new_key(99, "a\0b", 3);
    ck_assert_int_eq(dict_add(d, &dup->node), -1);
    ck_assert_ptr_eq(dict_add_or_get(d, &dup->node), dict_find(d, "a\0b", 3));
    rc_free(dup);
    struct elem *e = (struct elem *)dict_unlink(d, "", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->id, 0);
    ck_assert_ptr_null(e->node.next);
    rc_free(e);
    ck_assert_ptr_null(dict_find(d, "", 0));
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, 5);
}
END_TEST

/* Add, find and unlink with a full consistency check after every single
 * operation, so every intermediate rehash state is observed. */
static void add_find_unlink(const struct dict_type *type, unsigned n)
{
    destroyed = 0;
    struct dict *d = dict_create(type);
    struct elem **by_id = calloc(n, sizeof(*by_id));
    unsigned rehash_seen = 0;

    for (unsigned i = 0; i < n; i++) {
        by_id[i] = elem_new(i);
        ck_assert_int_eq(dict_add(d, &by_id[i]->node), 0);
        if (dict_is_rehashing(d))
            rehash_seen++;
        check_all(d, by_id, n);
    }
    /* A grow from S to 2S buckets moves one bucket per operation and the
     * next grow is S adds later, so about half the adds see a rehash (with
     * the colliding hash only 8 buckets are ever occupied, so far fewer). */
    ck_assert_uint_gt(rehash_seen, type == &fnv_type ? n / 4 : 0);

    /* Re-adding any key fails, rehashing or not. */
    for (unsigned i = 0; i < n; i += 7) {
        struct elem *dup = elem_new(i);
        ck_assert_int_eq(dict_add(d, &dup->node), -1);
        rc_free(dup);
    }
    ck_assert_uint_eq(dict_size(d), n);

    /* Remove odd ids, then shrink and remove the even ones: removals run
     * while the shrink is half done. */
    rehash_seen = 0;
    for (unsigned i = 1; i < n; i += 2) {
        struct elem *e = unlink_id(d, i);
        ck_assert_ptr_eq(e, by_id[i]);
        ck_assert_ptr_null(unlink_id(d, i));
        rc_free(e);
        by_id[i] = NULL;
        if (i % 64 == 1)
            check_all(d, by_id, n);
    }
    check_all(d, by_id, n);
    for (unsigned i = 0; i < n; i += 2) {
        if (i % 32 == 0)
            dict_try_shrink(d);
        struct elem *e = unlink_id(d, i);
        ck_assert_ptr_eq(e, by_id[i]);
        rc_free(e);
        by_id[i] = NULL;
        if (dict_is_rehashing(d))
            rehash_seen++;
        check_all(d, by_id, n);
    }
    ck_assert_uint_gt(rehash_seen, 0);
    ck_assert_uint_eq(dict_size(d), 0);
    ck_assert_int_eq(dict_rehash_ms(d, 1000) >= 0, 1);
    dict_try_shrink(d);
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, 0);
    free(by_id);
}

START_TEST(test_add_find_unlink)
{
    add_find_unlink(&fnv_type, 1000);
}
END_TEST

START_TEST(test_add_find_unlink_collide)
{
    add_find_unlink(&collide_type, 400);
}
END_TEST

/* A mixed random workload checked against a shadow array. */
START_TEST(test_random_ops)
{
    enum { N = 1500, OPS = 60000 };
    destroyed = 0;
    dict_seed_random(42);
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(N, sizeof(*by_id));
    uint64_t x = 88172645463325252ULL;
    for (unsigned op = 0; op < OPS; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned id = (unsigned)(x % N);
        /* Bias the phases: mostly adds, then mostly removals. */
        int add = ((x >> 32) % 10) < ((op / 10000) % 2 == 0 ? 7u : 3u);
        if (add && by_id[id] == NULL) {
            by_id[id] = elem_new(id);
            ck_assert_int_eq(dict_add(d, &by_id[id]->node), 0);
        } else if (!add && by_id[id] != NULL) {
            struct elem *e = unlink_id(d, id);
            ck_assert_ptr_eq(e, by_id[id]);
            rc_free(e);
            by_id[id] = NULL;
        } else {
            ck_assert_ptr_eq(find_id(d, id), by_id[id]);
        }
        if (op % 97 == 0)
            dict_try_shrink(d);
        if (op % 1000 == 0)
            check_all(d, by_id, N);
    }
    check_all(d, by_id, N);
    size_t left = dict_size(d);
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, left);
    free(by_id);
}
END_TEST

/* ---- dict_find_link ------------------------------------------------------ */

START_TEST(test_find_link_replace)
{
    enum { N = 800 };
    destroyed = 0;
    struct dict *d = dict_create(&collide_type);
    for (unsigned i = 0; i < N; i++)
        ck_assert_int_eq(dict_add(d, &elem_new(i)->node), 0);

    /* Replace every element by a grown copy; half of them while a rehash
     * is in progress (started by dict_expand). */
    unsigned during_rehash = 0;
    for (unsigned i = 0; i < N; i++) {
        if (i == N / 2)
            ck_assert_int_eq(dict_expand(d, 4 * N), 0);
        if (dict_is_rehashing(d))
            during_rehash++;
        char buf[32];
        size_t len = key_of(i, buf, sizeof(buf));
        struct dnode **link = dict_find_link(d, buf, len);
        ck_assert_ptr_nonnull(link);
        struct elem *old = (struct elem *)*link;
        ck_assert_uint_eq(old->id, i);
        /* A reallocated copy carries the original's next pointer. */
        struct elem *copy = rc_realloc(old, sizeof(*copy) + len + 4096);
        copy->value = i + 1000000;
        *link = &copy->node;
    }
    ck_assert_uint_gt(during_rehash, 0);
    ck_assert_uint_eq(dict_size(d), N);
    for (unsigned i = 0; i < N; i++) {
        struct elem *e = find_id(d, i);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->value, i + 1000000);
    }
    ck_assert_ptr_null(dict_find_link(d, "nope", 4));
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, N);
}
END_TEST

/* ---- scan ---------------------------------------------------------------- */

static void mark_seen(void *priv, struct dnode *n)
{
    unsigned long *calls = priv;
    (*calls)++;
    ((struct elem *)n)->seen++;
}

START_TEST(test_scan_static)
{
    enum { N = 3000 };
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(N, sizeof(*by_id));
    for (unsigned i = 0; i < N; i++) {
        by_id[i] = elem_new(i);
        dict_add(d, &by_id[i]->node);
    }
    /* Without changes between calls every element comes back exactly once,
     * rehashing or not. */
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            dict_rehash_ms(d, 1000);
            ck_assert_int_eq(dict_expand(d, 1 << 14), 0);
            ck_assert(dict_is_rehashing(d));
        }
        for (unsigned i = 0; i < N; i++)
            by_id[i]->seen = 0;
        unsigned long calls = 0, cursor = 0;
        do {
            cursor = dict_scan(d, cursor, mark_seen, &calls);
        } while (cursor != 0);
        ck_assert_uint_eq(calls, N);
        for (unsigned i = 0; i < N; i++)
            ck_assert_uint_eq(by_id[i]->seen, 1);
    }
    dict_destroy(&d);
    free(by_id);
}
END_TEST

/*
 * Stable elements (ids below stable) stay throughout; transient ones are
 * added or removed between scan calls, together with shrinks and rehash
 * work, so the table changes size under the cursor.
 */
static void scan_while_resizing(int grow)
{
    enum { STABLE = 700, TRANSIENT = 30000 };
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(STABLE + TRANSIENT, sizeof(*by_id));
    for (unsigned i = 0; i < STABLE; i++) {
        by_id[i] = elem_new(i);
        dict_add(d, &by_id[i]->node);
    }
    unsigned next_transient = STABLE;
    if (!grow) {
        for (; next_transient < STABLE + TRANSIENT; next_transient++) {
            by_id[next_transient] = elem_new(next_transient);
            dict_add(d, &by_id[next_transient]->node);
        }
    }
    size_t start_buckets = dict_buckets(d);
    unsigned long calls = 0, cursor = 0;
    unsigned resizes_seen = 0, rehashing_seen = 0;
    unsigned victim = STABLE;
    do {
        cursor = dict_scan(d, cursor, mark_seen, &calls);
        if (dict_is_rehashing(d))
            rehashing_seen++;
        if (grow) {
            for (int k = 0; k < 40 && next_transient < STABLE + TRANSIENT;
                 k++) {
                by_id[next_transient] = elem_new(next_transient);
                dict_add(d, &by_id[next_transient]->node);
                next_transient++;
            }
        } else {
            for (int k = 0; k < 400 && victim < STABLE + TRANSIENT;
                 k++, victim++) {
                struct elem *e = unlink_id(d, victim);
                ck_assert_ptr_eq(e, by_id[victim]);
                rc_free(e);
                by_id[victim] = NULL;
            }
            if (dict_try_shrink(d))
                resizes_seen++;
        }
        /* Sometimes finish a rehash at once, sometimes leave it half done. */
        if (calls % 3 == 0)
            dict_rehash_ms(d, 5);
    } while (cursor != 0);

    for (unsigned i = 0; i < STABLE; i++)
        ck_assert_uint_ge(by_id[i]->seen, 1);
    if (grow)
        ck_assert_uint_gt(dict_buckets(d), start_buckets);
    else
        ck_assert_uint_gt(resizes_seen, 0);
    ck_assert_uint_gt(rehashing_seen, 0);
    size_t left = dict_size(d);
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, left);
    free(by_id);
}

START_TEST(test_scan_growing)
{
    scan_while_resizing(1);
}
END_TEST

START_TEST(test_scan_shrinking)
{
    scan_while_resizing(0);
}
END_TEST

/* Grow and shrink alternately under one scan. */
START_TEST(test_scan_grow_and_shrink)
{
    enum { STABLE = 300, POOL = 5000 };
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(STABLE + POOL, sizeof(*by_id));
    for (unsigned i = 0; i < STABLE; i++) {
        by_id[i] = elem_new(i);
        dict_add(d, &by_id[i]->node);
    }
    unsigned long calls = 0, cursor = 0, step = 0;
    do {
        cursor = dict_scan(d, cursor, mark_seen, &calls);
        step++;
        int filling = (step / 25) % 2 == 0;
        for (unsigned k = 0; k < 100; k++) {
            unsigned id = STABLE + (unsigned)((step * 100 + k) % POOL);
            if (filling && by_id[id] == NULL) {
                by_id[id] = elem_new(id);
                dict_add(d, &by_id[id]->node);
            } else if (!filling && by_id[id] != NULL) {
                rc_free(unlink_id(d, id));
                by_id[id] = NULL;
            }
        }
        dict_try_shrink(d);
    } while (cursor != 0);
    for (unsigned i = 0; i < STABLE; i++)
        ck_assert_uint_ge(by_id[i]->seen, 1);
    dict_destroy(&d);
    free(by_id);
}
END_TEST

/* ---- safe iterator ------------------------------------------------------- */

static void iter_delete(int start_rehashing)
{
    enum { N = 3000 };
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(N + N, sizeof(*by_id));
    for (unsigned i = 0; i < N; i++) {
        by_id[i] = elem_new(i);
        dict_add(d, &by_id[i]->node);
    }
    if (start_rehashing) {
        dict_rehash_ms(d, 1000);
        ck_assert_int_eq(dict_expand(d, 4 * N), 0);
        for (int k = 0; k < 100; k++)
            find_id(d, (unsigned)k); /* move a few buckets */
        ck_assert(dict_is_rehashing(d));
    }
    struct dict_iter it;
    struct dnode *n;
    unsigned returned = 0;
    unsigned added = 0;
    dict_iter_init(&it, d);
    while ((n = dict_iter_next(&it)) != NULL) {
        struct elem *e = (struct elem *)n;
        ck_assert_uint_lt(e->id, N + N);
        e->seen++;
        returned++;
        if (e->id % 2 == 0) {
            ck_assert_ptr_eq(unlink_id(d, e->id), e);
            by_id[e->id] = NULL;
            rc_free(e);
        }
        /* Lookups and adds are allowed too; they move nothing. */
        if (returned % 10 == 0 && added < N) {
            unsigned id = N + added++;
            by_id[id] = elem_new(id);
            ck_assert_int_eq(dict_add(d, &by_id[id]->node), 0);
        }
        ck_assert_ptr_null(find_id(d, N + N + 1));
    }
    dict_iter_done(&it);
    /* Every original element was returned exactly once. */
    for (unsigned i = 1; i < N; i += 2)
        ck_assert_uint_eq(by_id[i]->seen, 1);
    ck_assert_uint_ge(returned, N);
    ck_assert_uint_le(returned, N + added);
    check_all(d, by_id, N + N); /* also checks dict_size() */
    dict_destroy(&d);
    free(by_id);
}

START_TEST(test_iter_delete)
{
    iter_delete(0);
}
END_TEST

START_TEST(test_iter_delete_rehashing)
{
    iter_delete(1);
}
END_TEST

START_TEST(test_iter_delete_all)
{
    enum { N = 1000 };
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    for (unsigned i = 0; i < N; i++)
        dict_add(d, &elem_new(i)->node);
    struct dict_iter it;
    struct dnode *n;
    dict_iter_init(&it, d);
    while ((n = dict_iter_next(&it)) != NULL) {
        struct elem *e = (struct elem *)n;
        ck_assert_ptr_eq(unlink_id(d, e->id), e);
        elem_destroy(n);
    }
    dict_iter_done(&it);
    ck_assert_uint_eq(destroyed, N);
    ck_assert_uint_eq(dict_size(d), 0);
    /* The table survives until shrunk; then nothing is allocated. */
    ck_assert_uint_gt(dict_buckets(d), 0);
    ck_assert_int_eq(dict_try_shrink(d), 1);
    ck_assert_uint_eq(dict_buckets(d), 0);
    dict_destroy(&d);
}
END_TEST

/* ---- random and sample --------------------------------------------------- */

START_TEST(test_random_sample)
{
    enum { N = 1000, DRAWS = 200000 };
    dict_seed_random(7);
    struct dict *d = dict_create(&fnv_type);
    struct elem **by_id = calloc(N, sizeof(*by_id));
    for (unsigned i = 0; i < N; i++) {
        by_id[i] = elem_new(i);
        dict_add(d, &by_id[i]->node);
    }
    for (unsigned i = 0; i < DRAWS; i++) {
        struct elem *e = (struct elem *)dict_random(d);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_eq(by_id[e->id], e);
        e->seen++;
    }
    unsigned min = DRAWS, max = 0;
    for (unsigned i = 0; i < N; i++) {
        if (by_id[i]->seen < min)
            min = by_id[i]->seen;
        if (by_id[i]->seen > max)
            max = by_id[i]->seen;
    }
    /* Mean is 200; a fair-ish sampler stays well inside these bounds. */
    ck_assert_uint_gt(min, 40);
    ck_assert_uint_lt(max, 800);

    struct dnode *out[64];
    for (int round = 0; round < 2000; round++) {
        size_t got = dict_sample(d, out, 16);
        ck_assert_uint_ge(got, 1);
        ck_assert_uint_le(got, 16);
        for (size_t k = 0; k < got; k++) {
            struct elem *e = (struct elem *)out[k];
            ck_assert_ptr_eq(find_id(d, e->id), e);
        }
    }
    /* During a rehash samples are still valid elements.  Right after a big
     * grow the populated old array is a small part of the index range, so
     * a sample may come back empty now and then (as in Redis). */
    dict_rehash_ms(d, 1000);
    ck_assert_int_eq(dict_expand(d, 1 << 13), 0);
    size_t total = 0;
    for (int round = 0; round < 500; round++) {
        size_t got = dict_sample(d, out, 10);
        total += got;
        for (size_t k = 0; k < got; k++)
            ck_assert_ptr_eq(&by_id[((struct elem *)out[k])->id]->node,
                             out[k]);
        ck_assert_ptr_nonnull(dict_random(d));
    }
    ck_assert_uint_gt(total, 500);
    dict_rehash_ms(d, 1000);
    ck_assert(!dict_is_rehashing(d));
    for (unsigned i = 0; i < N - 20; i++) {
        rc_free(unlink_id(d, i));
        by_id[i] = NULL;
    }
    ck_assert_int_eq(dict_try_shrink(d), 1);
    ck_assert(dict_is_rehashing(d));
    for (int round = 0; round < 200; round++) {
        struct elem *e = (struct elem *)dict_random(d);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_ge(e->id, N - 20);
    }
    /* Asking for more than there is returns at most everything. */
    size_t got = dict_sample(d, out, 64);
    ck_assert_uint_le(got, 20);
    dict_destroy(&d);
    free(by_id);
}
END_TEST

START_TEST(test_random_single)
{
    struct dict *d = dict_create(&fnv_type);
    struct elem *e = elem_new(5);
    dict_add(d, &e->node);
    /* A large sparse table: the sampler must still find the element. */
    ck_assert_int_eq(dict_expand(d, 1 << 16), 0);
    dict_rehash_ms(d, 1000);
    for (int i = 0; i < 50; i++)
        ck_assert_ptr_eq(dict_random(d), &e->node);
    struct dnode *out[4];
    size_t got = dict_sample(d, out, 4);
    ck_assert_uint_le(got, 1);
    dict_destroy(&d);
}
END_TEST

/* ---- destroy, clear, sizing, policy -------------------------------------- */

START_TEST(test_destroy_counts)
{
    enum { N = 5000 };
    destroyed = 0;
    struct dict *d = dict_create(&fnv_type);
    for (unsigned i = 0; i < N; i++)
        dict_add(d, &elem_new(i)->node);
    dict_clear(d);
    ck_assert_uint_eq(destroyed, N);
    ck_assert_uint_eq(dict_size(d), 0);
    ck_assert_uint_eq(dict_buckets(d), 0);
    ck_assert_ptr_null(find_id(d, 3));

    /* Destroy while both tables hold elements. */
    destroyed = 0;
    for (unsigned i = 0; i < N; i++)
        dict_add(d, &elem_new(i)->node);
    dict_rehash_ms(d, 1000);
    ck_assert_int_eq(dict_expand(d, 4 * N), 0);
    for (unsigned i = 0; i < 50; i++)
        find_id(d, i);
    ck_assert(dict_is_rehashing(d));
    dict_destroy(&d);
    ck_assert_ptr_null(d);
    ck_assert_uint_eq(destroyed, N);

    /* A type without destroy leaves the elements to their owner. */
    struct elem **all = calloc(100, sizeof(*all));
    d = dict_create(&nodestroy_type);
    for (unsigned i = 0; i < 100; i++) {
        all[i] = elem_new(i);
        dict_add(d, &all[i]->node);
    }
    destroyed = 0;
    dict_destroy(&d);
    ck_assert_uint_eq(destroyed, 0);
    for (unsigned i = 0; i < 100; i++)
        rc_free(all[i]);
    free(all);
}
END_TEST

START_TEST(test_sizing)
{
    struct dict *d = dict_create(&fnv_type);
    size_t base = dict_mem_usage(d);
    dict_add(d, &elem_new(0)->node);
    ck_assert_uint_eq(dict_buckets(d), DICT_MIN_BUCKETS);
    ck_assert_uint_eq(dict_mem_usage(d),
                      base + DICT_MIN_BUCKETS * sizeof(void *));
    /* Load factor 1: the add past DICT_MIN_BUCKETS starts a grow to twice
     * that. */
    for (unsigned i = 1; i < DICT_MIN_BUCKETS; i++)
        dict_add(d, &elem_new(i)->node);
    ck_assert(!dict_is_rehashing(d));
    dict_add(d, &elem_new(DICT_MIN_BUCKETS)->node);
    ck_assert_uint_eq(dict_buckets(d), DICT_MIN_BUCKETS + 2 * DICT_MIN_BUCKETS);
    dict_rehash_ms(d, 100);
    ck_assert(!dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 2 * DICT_MIN_BUCKETS);

    /* dict_expand sizes ahead: no grow while filling up to it. */
    dict_clear(d);
    ck_assert_int_eq(dict_expand(d, 1000), 0);
    ck_assert_uint_eq(dict_buckets(d), 1024);
    for (unsigned i = 0; i < 1024; i++) {
        dict_add(d, &elem_new(i)->node);
        ck_assert(!dict_is_rehashing(d));
    }
    ck_assert_uint_eq(dict_buckets(d), 1024);
    ck_assert_int_eq(dict_expand(d, 10), -1); /* below the element count */
    ck_assert_int_eq(dict_expand(d, 1024), -1); /* no change */

    /* Shrink: only below 10% fill, to the next power of two >= size. */
    for (unsigned i = 0; i < 1024 - 103; i++)
        rc_free(unlink_id(d, i));
    ck_assert_int_eq(dict_try_shrink(d), 0); /* 103/1024 is 10% */
    rc_free(unlink_id(d, 1024 - 103));
    ck_assert_int_eq(dict_try_shrink(d), 1);
    ck_assert_int_eq(dict_try_shrink(d), 0); /* already rehashing */
    ck_assert_int_gt(dict_rehash_ms(d, 1000), 0);
    ck_assert_uint_eq(dict_buckets(d), 128);
    for (unsigned i = 1024 - 102; i < 1024; i++)
        ck_assert_ptr_nonnull(find_id(d, i));

    /* Paused: no shrink, no rehash work. */
    for (unsigned i = 1024 - 102; i < 1024 - 2; i++)
        rc_free(unlink_id(d, i));
    dict_pause_rehash(d);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    dict_resume_rehash(d);
    ck_assert_int_eq(dict_try_shrink(d), 1);
    dict_pause_rehash(d);
    ck_assert_int_eq(dict_rehash_ms(d, 10), 0);
    for (int k = 0; k < 100; k++)
        find_id(d, 1023);
    ck_assert(dict_is_rehashing(d));
    dict_resume_rehash(d);
    for (int k = 0; k < 100; k++)
        find_id(d, 1023);
    ck_assert(!dict_is_rehashing(d));
    /* Two elements left: the smallest power of two that holds them. */
    ck_assert_uint_eq(dict_buckets(d), DICT_MIN_BUCKETS > 2 ? DICT_MIN_BUCKETS : 2);
    ck_assert_int_eq(dict_try_shrink(d), 0); /* full enough */

    /* Empty: the array is released and re-created on demand. */
    rc_free(unlink_id(d, 1022));
    rc_free(unlink_id(d, 1023));
    ck_assert_int_eq(dict_try_shrink(d), 1);
    ck_assert_uint_eq(dict_buckets(d), 0);
    ck_assert_uint_eq(dict_mem_usage(d), base);
    dict_add(d, &elem_new(7)->node);
    ck_assert_ptr_nonnull(find_id(d, 7));
    dict_destroy(&d);
}
END_TEST

START_TEST(test_rehash_ms)
{
    enum { N = 20000 };
    struct dict *d = dict_create(&fnv_type);
    for (unsigned i = 0; i < N; i++)
        dict_add(d, &elem_new(i)->node);
    dict_rehash_ms(d, 1000);
    ck_assert_int_eq(dict_expand(d, 1 << 17), 0);
    ck_assert(dict_is_rehashing(d));
    int done = dict_rehash_ms(d, 10000);
    ck_assert_int_gt(done, 0);
    ck_assert_int_eq(done % 100, 0);
    ck_assert(!dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 1 << 17);
    ck_assert_int_eq(dict_rehash_ms(d, 10), 0);
    for (unsigned i = 0; i < N; i++)
        ck_assert_ptr_nonnull(find_id(d, i));
    dict_destroy(&d);
}
END_TEST

START_TEST(test_resize_policy)
{
    struct dict *d = dict_create(&fnv_type);
    dict_set_resize_policy(0);
    ck_assert_int_eq(dict_resize_policy(), 0);

    /* The first array is always created. */
    const unsigned b = DICT_MIN_BUCKETS;
    size_t forced = 1;
    while (forced < 6 * b + 1)
        forced <<= 1;
    dict_add(d, &elem_new(0)->node);
    ck_assert_uint_eq(dict_buckets(d), b);
    /* No optional grow up to a load factor of 5 ... */
    unsigned id = 1;
    for (; id < 6 * b; id++)
        dict_add(d, &elem_new(id)->node);
    ck_assert_uint_eq(dict_size(d), 6 * b);
    ck_assert_uint_eq(dict_buckets(d), b);
    ck_assert(!dict_is_rehashing(d));
    /* ... then a forced one (6b / b > 5), to a power of two >= 6b + 1, and
     * its rehash proceeds because the sizes differ by more than the ratio. */
    dict_add(d, &elem_new(id++)->node);
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), b + forced);
    ck_assert_int_gt(dict_rehash_ms(d, 100), 0);
    ck_assert(!dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), forced);

    /* No shrink while disabled. */
    while (id > 2) {
        id--;
        rc_free(unlink_id(d, id));
    }
    ck_assert_int_eq(dict_try_shrink(d), 0);
    ck_assert_uint_eq(dict_buckets(d), forced);

    /* A 2x rehash in progress is held while disabled ... */
    dict_set_resize_policy(1);
    dict_clear(d);
    for (id = 0; id < 5; id++)
        dict_add(d, &elem_new(id)->node);
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 4 + 8);
    dict_set_resize_policy(0);
    for (int k = 0; k < 100; k++)
        ck_assert_ptr_nonnull(find_id(d, 1));
    ck_assert_int_eq(dict_rehash_ms(d, 10), 0);
    ck_assert(dict_is_rehashing(d));
    /* ... while the dict keeps working: adds go to the new array. */
    for (; id < 40; id++)
        ck_assert_int_eq(dict_add(d, &elem_new(id)->node), 0);
    ck_assert(dict_is_rehashing(d));
    for (unsigned i = 0; i < 40; i++)
        ck_assert_ptr_nonnull(find_id(d, i));
    ck_assert_uint_eq(dict_size(d), 40);
    /* ... and resumes once enabled. */
    dict_set_resize_policy(1);
    for (int k = 0; k < 100; k++)
        find_id(d, 1);
    ck_assert(!dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 8);
    dict_add(d, &elem_new(id++)->node); /* 40 >= 8: grows again */
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 8 + 64);
    dict_destroy(&d);
}
END_TEST

/* One case per test, so CK_RUN_CASE=test_name runs a single test. */
#define ADD_CASE(s, t)                                                        \
    do {                                                                      \
        TCase *tc_ = tcase_create(#t);                                        \
        tcase_set_timeout(tc_, 300);                                          \
        tcase_add_test(tc_, t);                                               \
        suite_add_tcase(s, tc_);                                              \
    } while (0)

static Suite *dict_suite(void)
{
    Suite *s = suite_create("dict");
    ADD_CASE(s, test_empty);
    ADD_CASE(s, test_binary_keys);
    ADD_CASE(s, test_add_find_unlink);
    ADD_CASE(s, test_add_find_unlink_collide);
    ADD_CASE(s, test_random_ops);
    ADD_CASE(s, test_find_link_replace);
    ADD_CASE(s, test_scan_static);
    ADD_CASE(s, test_scan_growing);
    ADD_CASE(s, test_scan_shrinking);
    ADD_CASE(s, test_scan_grow_and_shrink);
    ADD_CASE(s, test_iter_delete);
    ADD_CASE(s, test_iter_delete_rehashing);
    ADD_CASE(s, test_iter_delete_all);
    ADD_CASE(s, test_random_sample);
    ADD_CASE(s, test_random_single);
    ADD_CASE(s, test_destroy_counts);
    ADD_CASE(s, test_sizing);
    ADD_CASE(s, test_rehash_ms);
    ADD_CASE(s, test_resize_policy);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dict_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
