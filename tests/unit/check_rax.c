/*
 * check_rax.c — unit tests for rax.c.
 *
 * Hand-written cases pin the node shapes (splits, forks, runs, merges on
 * removal) and the node counts redis-server's rax has for the same keys.
 * Randomized tests drive the tree and a model — a sorted array of keys —
 * side by side with insertions, replacements, removals and lookups, and
 * after every step check the tree's invariants (rax_verify: canonical
 * form, key/node/byte counts), its node count against one computed from
 * the model's keys alone, and every seek (=, >=, >, <=, <, first, last)
 * followed by a few steps forwards and backwards.  Three key families:
 * 16-byte big-endian stream ids with shared prefixes, short strings over
 * a tiny alphabet (keys that are prefixes of others, the empty key) and
 * long strings (iterator buffers past their inline size, deep chains).
 * Memory: rax_mem matches the nodes (leaves below the root embedded in
 * their parent, costing nothing), is at most what the allocator gave, and
 * everything is returned at the end.
 */
#include "rax.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* ---- the model: keys kept sorted, each with its value ---- */

#define MAXK 200

struct mkey {
    unsigned char k[MAXK];
    size_t len;
    uintptr_t val;
};

struct model {
    struct mkey *a;
    size_t n;
};

static int key_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = memcmp(a, b, m);
    if (c)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Index of the first key >= k. */
static size_t m_lower(const struct model *m, const unsigned char *k, size_t len)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp(m->a[mid].k, m->a[mid].len, k, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int m_has(const struct model *m, const unsigned char *k, size_t len, size_t *at)
{
    *at = m_lower(m, k, len);
    return *at < m->n && key_cmp(m->a[*at].k, m->a[*at].len, k, len) == 0;
}

/* Nodes of the canonical compressed tree over keys [lo, hi), which share
 * their first d bytes (counted independently of rax.c). */
static uint64_t canon_nodes(const struct mkey *a, size_t lo, size_t hi, size_t d)
{
    if (lo < hi && a[lo].len == d)
        lo++;               /* the key ending here: a flag on this node */
    if (lo == hi)
        return 1;
    size_t l = a[lo].len;   /* common prefix of what follows */
    for (size_t i = lo + 1; i < hi; i++) {
        size_t k = d;
        while (k < l && k < a[i].len && a[i].k[k] == a[lo].k[k])
            k++;
        l = k;
    }
    if (l > d)
        return 1 + canon_nodes(a, lo, hi, l);
    uint64_t n = 1;
    for (size_t i = lo; i < hi;) {
        size_t j = i + 1;
        while (j < hi && a[j].k[d] == a[i].k[d])
            j++;
        n += canon_nodes(a, i, j, d + 1);
        i = j;
    }
    return n;
}

static uint64_t model_nodes(const struct model *m)
{
    return m->n ? canon_nodes(m->a, 0, m->n, 0) : 1;
}

/* ---- key families ---- */

static unsigned rnd(unsigned n)
{
    return (unsigned)rand() % n;
}

static void id_key(unsigned char *k, size_t *len)
{
    /* ms from a few clusters, seq mostly small: long shared prefixes. */
    static const uint64_t base[] = {0, 1700000000000ULL, 1700000001000ULL, UINT64_MAX - 5};
    uint64_t ms = base[rnd(4)] + rnd(6), seq = rnd(4) == 0 ? (uint64_t)rand() << 20 : rnd(40);
    for (int i = 0; i < 8; i++) {
        k[i] = (unsigned char)(ms >> (56 - 8 * i));
        k[8 + i] = (unsigned char)(seq >> (56 - 8 * i));
    }
    *len = 16;
}

static void short_key(unsigned char *k, size_t *len)
{
    static const unsigned char alpha[] = {'a', 'b', 'c', 0, 0xff};
    *len = rnd(6);
    for (size_t i = 0; i < *len; i++)
        k[i] = alpha[rnd(5)];
}

static void long_key(unsigned char *k, size_t *len)
{
    *len = rnd(4) == 0 ? 1 + rnd(MAXK) : 30 + rnd(60);
    for (size_t i = 0; i < *len; i++)
        k[i] = rnd(8) == 0 ? (unsigned char)('a' + rnd(3)) : 'a';
}

/* ---- checks ---- */

static void check_entry(const struct rax_iter *it, const struct model *m, size_t at)
{
    ck_assert_uint_lt(at, m->n);
    ck_assert_uint_eq(it->key_len, m->a[at].len);
    ck_assert(memcmp(it->key, m->a[at].k, it->key_len) == 0);
    ck_assert_ptr_eq(it->data, (void *)m->a[at].val);
    ck_assert_ptr_eq(rax_ref_get(it->ref), it->data);
}

/* Seeks op/k in the tree and the model, then walks a few steps. */
static void check_seek(const struct rax *r, const struct model *m, enum rax_seek_op op,
                       const unsigned char *k, size_t len)
{
    size_t at;
    int has = m_has(m, k, len, &at);
    long want;          /* model index of the answer, -1 for none */
    switch (op) {
    case RAX_FIRST: want = m->n ? 0 : -1; break;
    case RAX_LAST: want = (long)m->n - 1; break;
    case RAX_EQ: want = has ? (long)at : -1; break;
    case RAX_GE: want = at < m->n ? (long)at : -1; break;
    case RAX_GT: want = at + (size_t)has < m->n ? (long)(at + (size_t)has) : -1; break;
    case RAX_LE: want = has ? (long)at : (long)at - 1; break;
    default: want = (long)at - 1; break;
    }
    struct rax_iter it;
    rax_iter_start(&it, r);
    ck_assert_int_eq(rax_seek(&it, op, k, len), want >= 0);
    int fwd = rnd(2);
    if (want < 0) {
        ck_assert(!rax_next(&it));
        ck_assert(!rax_prev(&it));
        rax_iter_stop(&it);
        return;
    }
    ck_assert(fwd ? rax_next(&it) : rax_prev(&it));
    check_entry(&it, m, (size_t)want);
    /* A few steps one way, then back the other. */
    long pos = want;
    for (int step = 0; step < 6; step++) {
        if (step == 3)
            fwd = !fwd;
        pos += fwd ? 1 : -1;
        int got = fwd ? rax_next(&it) : rax_prev(&it);
        if (pos < 0 || pos >= (long)m->n) {
            ck_assert(!got);
            break;
        }
        ck_assert(got);
        check_entry(&it, m, (size_t)pos);
    }
    rax_iter_stop(&it);
}

static void check_all(const struct rax *r, const struct model *m)
{
    ck_assert(rax_verify(r));
    ck_assert_uint_eq(rax_size(r), m->n);
    ck_assert_uint_eq(r->nodes, model_nodes(m));
}

/* Full walks both ways. */
static void check_walks(const struct rax *r, const struct model *m)
{
    struct rax_iter it;
    rax_iter_start(&it, r);
    size_t i = 0;
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it))
        check_entry(&it, m, i++);
    ck_assert_uint_eq(i, m->n);
    rax_seek(&it, RAX_LAST, NULL, 0);
    while (rax_prev(&it))
        check_entry(&it, m, --i);
    ck_assert_uint_eq(i, 0);
    rax_iter_stop(&it);
}

static void random_run(void (*gen)(unsigned char *, size_t *), int steps, unsigned seed)
{
    srand(seed);
    size_t mem0 = rc_used_memory();
    struct rax r;
    struct model m = {rc_malloc(sizeof(struct mkey) * (size_t)steps), 0};
    rax_init(&r);
    for (int step = 0; step < steps; step++) {
        unsigned char k[MAXK];
        size_t len, at;
        gen(k, &len);
        /* Most removals and lookups target present keys. */
        if (m.n && rnd(3) == 0) {
            const struct mkey *e = &m.a[rnd((unsigned)m.n)];
            memcpy(k, e->k, e->len);
            len = e->len;
        }
        int has = m_has(&m, k, len, &at);
        uintptr_t val = (uintptr_t)step * 16 + 8;
        void *old = NULL;
        switch (rnd(8)) {
        case 0:
        case 1:
        case 2:
            ck_assert_int_eq(rax_insert(&r, k, len, (void *)val, &old), !has);
            if (has) {
                ck_assert_ptr_eq(old, (void *)m.a[at].val);
                m.a[at].val = val;
            }
            break;
        case 3:
            ck_assert_int_eq(rax_try_insert(&r, k, len, (void *)val, &old), !has);
            if (has)
                ck_assert_ptr_eq(old, (void *)m.a[at].val);
            break;
        case 4:
        case 5:
        case 6:
            ck_assert_int_eq(rax_remove(&r, k, len, &old), has);
            if (has) {
                ck_assert_ptr_eq(old, (void *)m.a[at].val);
                memmove(&m.a[at], &m.a[at + 1], (m.n - at - 1) * sizeof(*m.a));
                m.n--;
            }
            break;
        default: {
            void *v = NULL;
            ck_assert_int_eq(rax_find(&r, k, len, &v), has);
            if (has)
                ck_assert_ptr_eq(v, (void *)m.a[at].val);
            void **ref = rax_find_ref(&r, k, len);
            ck_assert_int_eq(ref != NULL, has);
            if (has) {
                /* Replaced in place, through the reference. */
                ck_assert_ptr_eq(rax_ref_get(ref), (void *)m.a[at].val);
                rax_ref_set(ref, (void *)val);
                m.a[at].val = val;
            }
            break;
        }
        }
        if (!has && rax_find(&r, k, len, NULL)) {
            /* Inserted: the model takes it. */
            memmove(&m.a[at + 1], &m.a[at], (m.n - at) * sizeof(*m.a));
            memcpy(m.a[at].k, k, len);
            m.a[at].len = len;
            m.a[at].val = val;
            m.n++;
        }
        check_all(&r, &m);
        check_seek(&r, &m, (enum rax_seek_op)rnd(7), k, len);
        gen(k, &len);
        check_seek(&r, &m, (enum rax_seek_op)rnd(7), k, len);
        if (step % 97 == 0)
            check_walks(&r, &m);
    }
    check_walks(&r, &m);
    ck_assert_uint_le(rax_mem(&r), rc_used_memory() - mem0);
    /* Remove everything in random order: back to the empty tree. */
    while (m.n) {
        size_t at = rnd((unsigned)m.n);
        ck_assert(rax_remove(&r, m.a[at].k, m.a[at].len, NULL));
        memmove(&m.a[at], &m.a[at + 1], (m.n - at - 1) * sizeof(*m.a));
        m.n--;
        check_all(&r, &m);
    }
    ck_assert_uint_eq(r.nodes, 1);
    ck_assert_uint_eq(rax_mem(&r), 8);
    rax_deinit(&r, NULL);
    rc_free(m.a);
    ck_assert_uint_eq(rc_used_memory(), mem0);
}

START_TEST(test_random_ids)
{
    random_run(id_key, 4000, 1);
}
END_TEST

START_TEST(test_random_short)
{
    random_run(short_key, 4000, 2);
}
END_TEST

START_TEST(test_random_long)
{
    random_run(long_key, 1500, 3);
}
END_TEST

/* ---- hand-written shapes ---- */

static void put(struct rax *r, const char *k)
{
    ck_assert(rax_insert(r, (const unsigned char *)k, strlen(k), (void *)k, NULL));
}

static void del(struct rax *r, const char *k)
{
    ck_assert(rax_remove(r, (const unsigned char *)k, strlen(k), NULL));
    ck_assert(rax_verify(r));
}

START_TEST(test_shapes)
{
    struct rax r;
    rax_init(&r);
    ck_assert_uint_eq(r.nodes, 1);
    put(&r, "annibale");            /* run "annibale" -> leaf */
    ck_assert_uint_eq(r.nodes, 2);
    put(&r, "annientare");          /* "anni" -> fork b/e -> "ale", "ntare" */
    ck_assert_uint_eq(r.nodes, 6);
    put(&r, "anni");                /* a key on the fork */
    ck_assert_uint_eq(r.nodes, 6);
    put(&r, "ann");                 /* splits "anni": "ann" -> "i" (key) */
    ck_assert_uint_eq(r.nodes, 7);
    ck_assert(rax_verify(&r));
    del(&r, "ann");                 /* merged back */
    ck_assert_uint_eq(r.nodes, 6);
    del(&r, "anni");
    ck_assert_uint_eq(r.nodes, 6);
    del(&r, "annientare");          /* "anni"+"b"+"ale" merge into one run */
    ck_assert_uint_eq(r.nodes, 2);
    put(&r, "");                    /* the empty key: the root's flag */
    ck_assert_uint_eq(r.nodes, 2);
    struct rax_iter it;
    rax_iter_start(&it, &r);
    ck_assert(rax_seek(&it, RAX_FIRST, NULL, 0) && rax_next(&it));
    ck_assert_uint_eq(it.key_len, 0);
    ck_assert(rax_next(&it) && it.key_len == 8);
    ck_assert(!rax_next(&it));
    rax_iter_stop(&it);
    del(&r, "annibale");
    ck_assert_uint_eq(r.nodes, 1);
    del(&r, "");
    ck_assert_uint_eq(rax_size(&r), 0);
    ck_assert(!rax_remove(&r, (const unsigned char *)"", 0, NULL));
    rax_iter_start(&it, &r);
    ck_assert(!rax_seek(&it, RAX_FIRST, NULL, 0));
    ck_assert(!rax_next(&it));
    rax_iter_stop(&it);
    rax_deinit(&r, NULL);
}
END_TEST

static void free_counted(void *p)
{
    (*(int *)p)++;
}

START_TEST(test_deinit_frees_values_and_deep_trees)
{
    /* "a", "aa", "aaa", ...: every node a key, the tree as deep as it is
     * big; iterating and tearing it down must not recurse per level. */
    enum { N = 3000 };
    size_t mem0 = rc_used_memory();
    unsigned char *k = rc_malloc(N);
    memset(k, 'a', N);
    int freed = 0;
    struct rax r;
    rax_init(&r);
    for (size_t i = 1; i <= N; i++)
        ck_assert(rax_insert(&r, k, i, &freed, NULL));
    ck_assert_uint_eq(r.nodes, N + 1);
    struct rax_iter it;
    rax_iter_start(&it, &r);
    ck_assert(rax_seek(&it, RAX_LAST, NULL, 0) && rax_prev(&it));
    ck_assert_uint_eq(it.key_len, N);
    ck_assert(rax_seek(&it, RAX_LT, k, N / 2) && rax_prev(&it));
    ck_assert_uint_eq(it.key_len, N / 2 - 1);
    rax_iter_stop(&it);
    rax_deinit(&r, free_counted);
    ck_assert_int_eq(freed, N);
    rc_free(k);
    ck_assert_uint_eq(rc_used_memory(), mem0);
}
END_TEST

START_TEST(test_sequential_ids_memory)
{
    /* 100,000 consecutive ids, as a PEL filled by deliveries: removed
     * oldest first, then refilled and removed newest first. */
    size_t mem0 = rc_used_memory();
    struct rax r;
    rax_init(&r);
    unsigned char k[16];
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t i = 0; i < 100000; i++) {
            uint64_t ms = 1700000000000ULL + i / 8, seq = i % 8;
            for (int b = 0; b < 8; b++) {
                k[b] = (unsigned char)(ms >> (56 - 8 * b));
                k[8 + b] = (unsigned char)(seq >> (56 - 8 * b));
            }
            ck_assert(rax_insert(&r, k, 16, (void *)(uintptr_t)(i + 1), NULL));
        }
        ck_assert(rax_verify(&r));
        ck_assert_uint_le(rax_mem(&r), rc_used_memory() - mem0);
        /* Per key: the run of the last 7 seq bytes (24 bytes; the leaf is
         * embedded in it) and a share of the forks above. */
        ck_assert_uint_lt(rax_mem(&r) / rax_size(&r), 32);
        struct rax_iter it;
        rax_iter_start(&it, &r);
        while (rax_seek(&it, pass ? RAX_LAST : RAX_FIRST, NULL, 0) && rax_next(&it)) {
            memcpy(k, it.key, 16);
            ck_assert(rax_remove(&r, k, 16, NULL));
        }
        rax_iter_stop(&it);
        ck_assert(rax_verify(&r));
        ck_assert_uint_eq(r.nodes, 1);
    }
    rax_deinit(&r, NULL);
    ck_assert_uint_eq(rc_used_memory(), mem0);
}
END_TEST

static Suite *rax_suite(void)
{
    Suite *s = suite_create("rax");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_deinit_frees_values_and_deep_trees);
    tcase_add_test(tc, test_sequential_ids_memory);
    tcase_add_test(tc, test_random_ids);
    tcase_add_test(tc, test_random_short);
    tcase_add_test(tc, test_random_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rax_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
