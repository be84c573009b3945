/*
 * check_intset.c — unit tests for intset.c: ordering and uniqueness, width
 * upgrades at every boundary, removal, positional access, the serialised
 * layout (byte for byte as Redis writes an intset into an RDB file),
 * validation of hostile blobs, and a randomised comparison against a
 * plain sorted array.
 */
#include "intset.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Every element in order, checked strictly ascending. */
static void assert_sorted(const struct intset *is)
{
    int64_t prev = 0, cur;
    for (uint32_t i = 0; i < intset_len(is); i++) {
        ck_assert(intset_get(is, i, &cur));
        if (i > 0)
            ck_assert(cur > prev);
        prev = cur;
    }
    ck_assert(!intset_get(is, intset_len(is), &cur));
}

START_TEST(test_empty)
{
    struct intset *is = intset_new();
    int64_t v;
    ck_assert_uint_eq(intset_len(is), 0);
    ck_assert_uint_eq(intset_width(is), 2);
    ck_assert_uint_eq(intset_blob_len(is), INTSET_HDR);
    ck_assert(!intset_find(is, 0));
    ck_assert(!intset_get(is, 0, &v));
    int removed = 7;
    is = intset_remove(is, 5, &removed);
    ck_assert_int_eq(removed, 0);
    intset_destroy(&is);
    ck_assert_ptr_null(is);
    intset_destroy(&is);   /* NULL is fine */
}
END_TEST

START_TEST(test_add_order_and_duplicates)
{
    struct intset *is = intset_new();
    static const int64_t vals[] = {5, 1, 9, 3, 7, 1, 5, -2, 0, 9};
    int added;
    int expect_added[] = {1, 1, 1, 1, 1, 0, 0, 1, 1, 0};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        is = intset_add(is, vals[i], &added);
        ck_assert_int_eq(added, expect_added[i]);
    }
    ck_assert_uint_eq(intset_len(is), 7);
    assert_sorted(is);
    int64_t v;
    ck_assert(intset_get(is, 0, &v));
    ck_assert_int_eq(v, -2);
    ck_assert(intset_get(is, 6, &v));
    ck_assert_int_eq(v, 9);
    ck_assert(intset_find(is, 3));
    ck_assert(!intset_find(is, 4));
    ck_assert(!intset_find(is, 100000));          /* wider than the set */
    ck_assert(!intset_find(is, INT64_MIN));
    is = intset_add(is, 2, NULL);                  /* NULL out-param is fine */
    intset_destroy(&is);
}
END_TEST

/* Each boundary of the three widths, on both sides, in both directions. */
START_TEST(test_upgrade_boundaries)
{
    static const struct { int64_t v; unsigned width; } cases[] = {
        {INT16_MAX, 2}, {INT16_MIN, 2},
        {(int64_t)INT16_MAX + 1, 4}, {(int64_t)INT16_MIN - 1, 4},
        {INT32_MAX, 4}, {INT32_MIN, 4},
        {(int64_t)INT32_MAX + 1, 8}, {(int64_t)INT32_MIN - 1, 8},
        {INT64_MAX, 8}, {INT64_MIN, 8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct intset *is = intset_new();
        is = intset_add(is, 1, NULL);
        is = intset_add(is, -1, NULL);
        is = intset_add(is, cases[i].v, NULL);
        ck_assert_uint_eq(intset_width(is), cases[i].width);
        ck_assert_uint_eq(intset_len(is), 3);
        ck_assert(intset_find(is, cases[i].v));
        ck_assert(intset_find(is, 1));
        ck_assert(intset_find(is, -1));
        assert_sorted(is);
        ck_assert_uint_eq(intset_blob_len(is), INTSET_HDR + 3 * cases[i].width);
        intset_destroy(&is);
    }
}
END_TEST

START_TEST(test_upgrade_prepend_and_append)
{
    struct intset *is = intset_new();
    for (int64_t i = -50; i <= 50; i++)
        is = intset_add(is, i * 100, NULL);
    is = intset_add(is, -5000000000LL, NULL);     /* prepend, 2 -> 8 */
    ck_assert_uint_eq(intset_width(is), 8);
    is = intset_add(is, 5000000000LL, NULL);      /* append, same width */
    ck_assert_uint_eq(intset_len(is), 103);
    assert_sorted(is);
    int64_t v;
    ck_assert(intset_get(is, 0, &v));
    ck_assert_int_eq(v, -5000000000LL);
    ck_assert(intset_get(is, 1, &v));
    ck_assert_int_eq(v, -5000);
    ck_assert(intset_get(is, 102, &v));
    ck_assert_int_eq(v, 5000000000LL);
    for (int64_t i = -50; i <= 50; i++)
        ck_assert(intset_find(is, i * 100));
    intset_destroy(&is);

    /* Upgrade by appending a positive value. */
    is = intset_new();
    is = intset_add(is, -3, NULL);
    is = intset_add(is, 3, NULL);
    is = intset_add(is, 70000, NULL);
    ck_assert_uint_eq(intset_width(is), 4);
    ck_assert(intset_get(is, 2, &v));
    ck_assert_int_eq(v, 70000);
    ck_assert(intset_get(is, 0, &v));
    ck_assert_int_eq(v, -3);
    intset_destroy(&is);
}
END_TEST

START_TEST(test_remove)
{
    struct intset *is = intset_new();
    for (int64_t i = 0; i < 10; i++)
        is = intset_add(is, i, NULL);
    int removed;
    is = intset_remove(is, 0, &removed);          /* head */
    ck_assert_int_eq(removed, 1);
    is = intset_remove(is, 9, &removed);          /* tail */
    ck_assert_int_eq(removed, 1);
    is = intset_remove(is, 5, &removed);          /* middle */
    ck_assert_int_eq(removed, 1);
    is = intset_remove(is, 5, &removed);          /* gone */
    ck_assert_int_eq(removed, 0);
    is = intset_remove(is, 1LL << 40, &removed);  /* wider than the set */
    ck_assert_int_eq(removed, 0);
    ck_assert_uint_eq(intset_len(is), 7);
    ck_assert_uint_eq(intset_blob_len(is), INTSET_HDR + 7 * 2);
    assert_sorted(is);
    ck_assert(!intset_find(is, 5));
    ck_assert(intset_find(is, 4));
    while (intset_len(is) > 0) {
        int64_t v;
        ck_assert(intset_get(is, 0, &v));
        is = intset_remove(is, v, NULL);
    }
    ck_assert_uint_eq(intset_len(is), 0);
    /* The width stays after removals. */
    is = intset_add(is, 1LL << 40, NULL);
    is = intset_remove(is, 1LL << 40, NULL);
    is = intset_add(is, 1, NULL);
    ck_assert_uint_eq(intset_width(is), 8);
    intset_destroy(&is);
}
END_TEST

START_TEST(test_random_and_dup)
{
    struct intset *is = intset_new();
    for (int64_t i = 0; i < 16; i++)
        is = intset_add(is, i * 3, NULL);
    int seen[16] = {0};
    for (uint64_t r = 0; r < 64; r++) {
        int64_t v = intset_random(is, r * 7919);
        ck_assert(intset_find(is, v));
        seen[v / 3] = 1;
    }
    for (int i = 0; i < 16; i++)
        ck_assert(seen[i]);
    ck_assert_int_eq(intset_random(is, UINT64_MAX), (int64_t)(UINT64_MAX % 16) * 3);

    struct intset *c = intset_dup(is);
    ck_assert_uint_eq(intset_blob_len(c), intset_blob_len(is));
    ck_assert_mem_eq(intset_blob(c), intset_blob(is), intset_blob_len(is));
    c = intset_add(c, 1000, NULL);
    ck_assert(!intset_find(is, 1000));
    intset_destroy(&c);
    intset_destroy(&is);
}
END_TEST

/* The bytes are Redis's RDB intset encoding: LE header and elements. */
START_TEST(test_blob_layout)
{
    struct intset *is = intset_new();
    is = intset_add(is, 2, NULL);
    is = intset_add(is, -1, NULL);
    static const unsigned char w2[] = {2, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 2, 0};
    ck_assert_uint_eq(intset_blob_len(is), sizeof(w2));
    ck_assert_mem_eq(intset_blob(is), w2, sizeof(w2));
    is = intset_add(is, 65536, NULL);
    static const unsigned char w4[] = {4, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                       2, 0, 0, 0, 0, 0, 1, 0};
    ck_assert_uint_eq(intset_blob_len(is), sizeof(w4));
    ck_assert_mem_eq(intset_blob(is), w4, sizeof(w4));
    ck_assert(intset_validate(w4, sizeof(w4), 1));

    struct intset *c = intset_from_blob(w4, sizeof(w4));
    int64_t v;
    ck_assert(intset_get(c, 2, &v));
    ck_assert_int_eq(v, 65536);
    ck_assert(intset_find(c, -1));
    intset_destroy(&c);
    intset_destroy(&is);
}
END_TEST

START_TEST(test_validate)
{
    unsigned char b[64];
    memset(b, 0, sizeof(b));
    ck_assert(!intset_validate(b, 0, 1));
    ck_assert(!intset_validate(b, 7, 1));
    /* Empty set: rejected. */
    b[0] = 2;
    ck_assert(!intset_validate(b, 8, 1));
    /* Bad widths. */
    static const unsigned bad_widths[] = {0, 1, 3, 5, 16, 0x100 | 2};
    for (size_t i = 0; i < sizeof(bad_widths) / sizeof(bad_widths[0]); i++) {
        memset(b, 0, sizeof(b));
        b[0] = (unsigned char)bad_widths[i];
        b[1] = (unsigned char)(bad_widths[i] >> 8);
        b[4] = 1;
        ck_assert(!intset_validate(b, 8 + 8, 1));
    }
    /* Length vs size. */
    memset(b, 0, sizeof(b));
    b[0] = 4;
    b[4] = 2;
    b[8] = 1;
    b[12] = 2;
    ck_assert(intset_validate(b, 16, 1));
    ck_assert(!intset_validate(b, 15, 1));
    ck_assert(!intset_validate(b, 17, 1));
    ck_assert(!intset_validate(b, 20, 1));
    /* A length whose byte count overflows 32 bits must not wrap. */
    b[4] = 0x00;
    b[5] = 0x00;
    b[6] = 0x00;
    b[7] = 0x40;   /* 2^30 elements of 4 bytes = 2^32 bytes */
    ck_assert(!intset_validate(b, 16, 1));
    /* Order: equal and descending rejected only by the deep check. */
    memset(b, 0, sizeof(b));
    b[0] = 2;
    b[4] = 3;
    b[8] = 1;
    b[10] = 3;
    b[12] = 2;
    ck_assert(intset_validate(b, 14, 0));
    ck_assert(!intset_validate(b, 14, 1));
    b[12] = 3;
    ck_assert(!intset_validate(b, 14, 1));
    b[12] = 4;
    ck_assert(intset_validate(b, 14, 1));
    /* Negative values order correctly: -1 (ffff) < 0. */
    memset(b, 0, sizeof(b));
    b[0] = 2;
    b[4] = 2;
    b[8] = 0xff;
    b[9] = 0xff;
    ck_assert(intset_validate(b, 12, 1));
    /* A wider width than needed is valid. */
    memset(b, 0, sizeof(b));
    b[0] = 8;
    b[4] = 1;
    b[8] = 7;
    ck_assert(intset_validate(b, 16, 1));
}
END_TEST

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Random adds and removes against a reference sorted array. */
START_TEST(test_random_against_model)
{
    srand(12345);
    enum { N = 4000 };
    int64_t *model = malloc(N * sizeof(*model));
    size_t mlen = 0;
    struct intset *is = intset_new();
    for (int step = 0; step < 20000; step++) {
        int64_t v;
        int range = rand() % 4;
        if (range == 0)
            v = rand() % 200 - 100;
        else if (range == 1)
            v = (rand() % 200000) - 100000;
        else if (range == 2)
            v = ((int64_t)rand() << 20) * ((rand() & 1) ? 1 : -1);
        else
            v = (int64_t)((uint64_t)rand() << 40 | (uint64_t)rand());
        int present = bsearch(&v, model, mlen, sizeof(*model), cmp64) != NULL;
        ck_assert_int_eq(intset_find(is, v), present);
        if (rand() % 3 != 0 && mlen < N) {
            int added;
            is = intset_add(is, v, &added);
            ck_assert_int_eq(added, !present);
            if (!present) {
                model[mlen++] = v;
                qsort(model, mlen, sizeof(*model), cmp64);
            }
        } else {
            int removed;
            is = intset_remove(is, v, &removed);
            ck_assert_int_eq(removed, present);
            if (present) {
                int64_t *p = bsearch(&v, model, mlen, sizeof(*model), cmp64);
                memmove(p, p + 1, (size_t)(model + mlen - p - 1) * sizeof(*model));
                mlen--;
            }
        }
        ck_assert_uint_eq(intset_len(is), mlen);
    }
    for (size_t i = 0; i < mlen; i++) {
        int64_t v;
        ck_assert(intset_get(is, (uint32_t)i, &v));
        ck_assert_int_eq(v, model[i]);
    }
    if (mlen > 0)
        ck_assert(intset_validate(intset_blob(is), intset_blob_len(is), 1));
    intset_destroy(&is);
    free(model);
}
END_TEST

static Suite *intset_suite(void)
{
    Suite *s = suite_create("intset");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_add_order_and_duplicates);
    tcase_add_test(tc, test_upgrade_boundaries);
    tcase_add_test(tc, test_upgrade_prepend_and_append);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_random_and_dup);
    tcase_add_test(tc, test_blob_layout);
    tcase_add_test(tc, test_validate);
    tcase_add_test(tc, test_random_against_model);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(intset_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
