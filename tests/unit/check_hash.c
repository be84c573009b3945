/*
 * check_hash.c — unit tests for hash.c (SipHash).
 *
 * The SipHash-2-4 values are the test vectors published with the SipHash
 * paper and reference code (key 00 01 .. 0f, message 00 01 .. n-1).  They
 * pin the shared round/compression code; SipHash-1-2, which Redis and
 * ringcache use for tables, differs only in round counts and is tested for
 * the properties tables rely on.
 */
#include "hash.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t key0_15[16] = {0, 1, 2, 3, 4, 5, 6, 7,
                                    8, 9, 10, 11, 12, 13, 14, 15};

static void fill_counting(uint8_t *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        buf[i] = (uint8_t)i;
}

START_TEST(test_siphash24_paper_vector)
{
    uint8_t msg[15];

    /* Appendix A of the paper: 15-byte message, result a129ca6149be45e5. */
    fill_counting(msg, sizeof(msg));
    ck_assert_uint_eq(rc_siphash(key0_15, msg, sizeof(msg), 2, 4),
                      UINT64_C(0xa129ca6149be45e5));
}
END_TEST

START_TEST(test_siphash24_reference_vectors)
{
    /* First entries of the reference implementation's vector table (its
     * bytes read as little-endian words), messages of length 0..8, which
     * cover the empty input, every tail length and one full word. */
    static const uint64_t expect[] = {
        UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd),
        UINT64_C(0x0d6c8009d9a94f5a), UINT64_C(0x85676696d7fb7e2d),
        UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
        UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137),
        UINT64_C(0x93f5f5799a932462),
    };
    uint8_t msg[16];
    size_t n;

    fill_counting(msg, sizeof(msg));
    for (n = 0; n < sizeof(expect) / sizeof(expect[0]); n++)
        ck_assert_msg(rc_siphash(key0_15, msg, n, 2, 4) == expect[n],
                      "length %zu", n);
}
END_TEST

START_TEST(test_hash_uses_seed)
{
    static const uint8_t seed_a[16] = {1};
    static const uint8_t seed_b[16] = {2};
    const char *k = "user:1000";
    uint64_t ha, hb;

    rc_hash_set_seed(seed_a);
    ha = rc_hash(k, strlen(k));
    ck_assert_uint_eq(ha, rc_hash(k, strlen(k))); /* deterministic */
    ck_assert_uint_eq(ha, rc_siphash(seed_a, k, strlen(k), 1, 2));
    rc_hash_set_seed(seed_b);
    hb = rc_hash(k, strlen(k));
    ck_assert_uint_ne(ha, hb);
    ck_assert_uint_eq(hb, rc_siphash(seed_b, k, strlen(k), 1, 2));
}
END_TEST

START_TEST(test_hash_is_12_not_24)
{
    uint8_t msg[15];

    fill_counting(msg, sizeof(msg));
    rc_hash_set_seed(key0_15);
    ck_assert_uint_ne(rc_hash(msg, sizeof(msg)), UINT64_C(0xa129ca6149be45e5));
    ck_assert_uint_eq(rc_hash(msg, sizeof(msg)),
                      rc_siphash(key0_15, msg, sizeof(msg), 1, 2));
}
END_TEST

START_TEST(test_nocase_equals_lowercased)
{
    static const char *const words[] = {
        "", "A", "GET", "get", "GeT", "CLIENT|SETNAME", "MixedCase-Key_123",
        "exactly8", "EXACTLY16BYTES!!", "\xc0\xc1 non-ascii \xde\xdf",
        "@[`{ around the letters",
    };
    static const uint8_t seed[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    char lower[64];
    size_t i, j;

    rc_hash_set_seed(seed);
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);

        for (j = 0; j < n; j++) {
            char c = words[i][j];
            lower[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        ck_assert_msg(rc_hash_nocase(words[i], n) == rc_hash(lower, n),
                      "word %zu", i);
    }
    ck_assert_uint_eq(rc_hash_nocase("GET", 3), rc_hash_nocase("get", 3));
    ck_assert_uint_ne(rc_hash("GET", 3), rc_hash("get", 3));
    /* Only ASCII letters fold: '@' (0x40) and '[' (0x5b) stay put. */
    ck_assert_uint_ne(rc_hash_nocase("@", 1), rc_hash_nocase("`", 1));
}
END_TEST

START_TEST(test_length_matters_and_unaligned)
{
    uint8_t buf[64 + 1];
    uint64_t h0, h1;
    size_t n;

    memset(buf, 0, sizeof(buf));
    rc_hash_set_seed(key0_15);
    /* Zero-filled inputs differ only by length, carried in the last word. */
    for (n = 0; n < 40; n++)
        ck_assert_uint_ne(rc_hash(buf, n), rc_hash(buf, n + 1));
    /* The same bytes at an odd address hash the same. */
    fill_counting(buf, sizeof(buf));
    memmove(buf + 1, buf, 64);
    h0 = rc_siphash(key0_15, buf + 1, 15, 2, 4);
    ck_assert_uint_eq(h0, UINT64_C(0xa129ca6149be45e5));
    h1 = rc_hash(buf + 1, 64);
    fill_counting(buf, sizeof(buf));
    ck_assert_uint_eq(h1, rc_hash(buf, 64));
}
END_TEST

static Suite *hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_siphash24_paper_vector);
    tcase_add_test(tc, test_siphash24_reference_vectors);
    tcase_add_test(tc, test_hash_uses_seed);
    tcase_add_test(tc, test_hash_is_12_not_24);
    tcase_add_test(tc, test_nocase_equals_lowercased);
    tcase_add_test(tc, test_length_matters_and_unaligned);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hash_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
