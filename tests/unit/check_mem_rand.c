/*
 * check_mem_rand.c — unit tests for the allocator shim (mem.c) and the
 * sampling PRNG (rand.c).
 *
 * mem.c must count exactly the usable bytes it hands out, through every
 * path (malloc, calloc, realloc growing and shrinking, strndup, free), so
 * that used_memory and maxmemory are right.  rand.c must be repeatable
 * for a seed and spread its output evenly.
 */
#include "mem.h"
#include "rand.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_counts_usable_bytes)
{
    size_t before = rc_used_memory();
    void *p = rc_malloc(100);
    ck_assert_uint_eq(rc_used_memory() - before, rc_usable(p));
    ck_assert_uint_ge(rc_usable(p), 100);
    rc_free(p);
    ck_assert_uint_eq(rc_used_memory(), before);
}
END_TEST

START_TEST(test_calloc_zeroes_and_counts)
{
    size_t before = rc_used_memory();
    unsigned char *p = rc_calloc(4096);
    for (size_t i = 0; i < 4096; i++)
        ck_assert_uint_eq(p[i], 0);
    ck_assert_uint_eq(rc_used_memory() - before, rc_usable(p));
    rc_free(p);
    ck_assert_uint_eq(rc_used_memory(), before);
}
END_TEST

START_TEST(test_realloc_grow_and_shrink)
{
    size_t before = rc_used_memory();
    char *p = rc_realloc(NULL, 16);         /* NULL acts as malloc */
    memcpy(p, "0123456789abcdef", 16);
    for (size_t n = 32; n <= (1u << 20); n *= 2) {
        p = rc_realloc(p, n);
        ck_assert_uint_eq(rc_used_memory() - before, rc_usable(p));
        ck_assert(memcmp(p, "0123456789abcdef", 16) == 0);
    }
    p = rc_realloc(p, 24);
    ck_assert_uint_eq(rc_used_memory() - before, rc_usable(p));
    ck_assert(memcmp(p, "0123456789abcdef", 16) == 0);
    rc_free(p);
    ck_assert_uint_eq(rc_used_memory(), before);
}
END_TEST

START_TEST(test_strndup_and_zero_sizes)
{
    size_t before = rc_used_memory();
    char *s = rc_strndup("hello\0world", 11);
    ck_assert(memcmp(s, "hello\0world", 11) == 0);
    ck_assert_int_eq(s[11], '\0');
    void *z = rc_malloc(0);                 /* a real, freeable block */
    ck_assert_ptr_nonnull(z);
    rc_free(z);
    rc_free(NULL);
    rc_free(s);
    ck_assert_uint_eq(rc_used_memory(), before);
    ck_assert_uint_eq(rc_usable(NULL), 0);
}
END_TEST

START_TEST(test_random_repeatable)
{
    uint64_t a[8], b[8];
    rc_random_seed(42);
    for (int i = 0; i < 8; i++)
        a[i] = rc_random_u64();
    rc_random_seed(42);
    for (int i = 0; i < 8; i++)
        b[i] = rc_random_u64();
    ck_assert(memcmp(a, b, sizeof(a)) == 0);
    rc_random_seed(43);
    ck_assert(rc_random_u64() != a[0]);
}
END_TEST

START_TEST(test_random_spread)
{
    /* 160k draws into 16 buckets: each within 5% of the mean, and every
     * output bit set about half the time. */
    enum { N = 160000, B = 16 };
    unsigned buckets[B] = {0};
    unsigned bits[64] = {0};
    rc_random_seed(7);
    for (int i = 0; i < N; i++) {
        uint64_t v = rc_random_u64();
        buckets[v % B]++;
        for (int k = 0; k < 64; k++)
            bits[k] += (unsigned)((v >> k) & 1);
    }
    for (int i = 0; i < B; i++)
        ck_assert(buckets[i] > N / B * 95 / 100 && buckets[i] < N / B * 105 / 100);
    for (int k = 0; k < 64; k++)
        ck_assert(bits[k] > N * 48 / 100 && bits[k] < N * 52 / 100);
}
END_TEST

static Suite *mem_rand_suite(void)
{
    Suite *s = suite_create("mem_rand");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_counts_usable_bytes);
    tcase_add_test(tc, test_calloc_zeroes_and_counts);
    tcase_add_test(tc, test_realloc_grow_and_shrink);
    tcase_add_test(tc, test_strndup_and_zero_sizes);
    tcase_add_test(tc, test_random_repeatable);
    tcase_add_test(tc, test_random_spread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mem_rand_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
