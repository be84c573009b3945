/*
 * check_hll.c — unit tests for hll.c: the hash and register selection,
 * the dense register layout at every byte boundary, sparse updates (split,
 * merge, promotion by value and by size), sparse/dense agreement, the
 * estimator, merging, the checks on hostile strings (truncated opcodes,
 * run lengths that overflow, the CVE-2025-32023 shape) and the self-test.
 *
 * Expected bytes and counts were taken from redis-server 7.0.15 (GET and
 * PFCOUNT of the same PFADDs), so these tests pin byte compatibility.
 */
#include "hll.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* A sparse sketch in a buffer big enough for any sparse size. */
#define BUF_CAP (HLL_HDR_SIZE + 2 * HLL_REGISTERS + HLL_SPARSE_SLACK)

struct sk {
    unsigned char *s;
    size_t len, cap;
};

static struct sk sk_new(void)
{
    struct sk k;
    k.cap = BUF_CAP > HLL_DENSE_SIZE ? BUF_CAP : HLL_DENSE_SIZE;
    k.s = rc_calloc(k.cap + 1);
    hll_init_sparse(k.s);
    k.len = HLL_SPARSE_EMPTY_SIZE;
    return k;
}

/* Add with promotion, as the server does. */
static int sk_add(struct sk *k, const void *ele, size_t len, size_t max_bytes)
{
    int st = hll_add(k->s, &k->len, k->cap, ele, len, max_bytes);
    if (st == HLL_PROMOTE) {
        unsigned char *d = rc_calloc(k->cap + 1);
        ck_assert_int_eq(hll_sparse_to_dense(k->s, k->len, d), 0);
        rc_free(k->s);
        k->s = d;
        k->len = HLL_DENSE_SIZE;
        st = hll_add(k->s, &k->len, k->cap, ele, len, max_bytes);
        ck_assert_int_eq(st, HLL_UPDATED);
    }
    return st;
}

static void sk_add_str(struct sk *k, const char *e, size_t max_bytes)
{
    sk_add(k, e, strlen(e), max_bytes);
}

/* The sparse opcodes as PFDEBUG DECODE prints them. */
static void decode(const unsigned char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t off = HLL_HDR_SIZE; off < len;) {
        struct hll_op op;
        off = hll_sparse_op(s, len, off, &op);
        if (op.kind == HLL_OP_VAL)
            n += (size_t)snprintf(out + n, outlen - n, "%sv:%d,%d", n ? " " : "", op.val, op.run);
        else
            n += (size_t)snprintf(out + n, outlen - n, "%s%c:%d", n ? " " : "",
                                  op.kind == HLL_OP_ZERO ? 'z' : 'Z', op.run);
        ck_assert(n < outlen);
    }
}

static uint64_t count_of(const struct sk *k)
{
    uint64_t card = 0;
    ck_assert_int_eq(hll_count(k->s, k->len, &card), 0);
    return card;
}

START_TEST(test_empty_sketch)
{
    static const unsigned char want[] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff";
    struct sk k = sk_new();
    ck_assert_uint_eq(k.len, HLL_SPARSE_EMPTY_SIZE);
    ck_assert(memcmp(k.s, want, HLL_SPARSE_EMPTY_SIZE) == 0);
    ck_assert_int_eq(hll_check(k.s, k.len), 0);
    ck_assert(hll_cache_valid(k.s));
    ck_assert_uint_eq(count_of(&k), 0);
    char text[64];
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:16384");
    rc_free(k.s);
}
END_TEST

/* Register and value of single elements, as DECODE shows them in Redis. */
START_TEST(test_pattern_matches_redis)
{
    static const struct {
        const char *ele;
        size_t len;
        const char *decoded;
    } cases[] = {
        {"", 0, "Z:5938 v:2,1 Z:10445"},
        {"a", 1, "Z:12711 v:2,1 Z:3672"},
        {"hello", 5, "Z:9216 v:1,1 Z:7167"},
        {"foobar12", 8, "Z:15489 v:2,1 Z:894"},
        {"0123456789abcdef!", 17, "Z:13940 v:1,1 Z:2443"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk k = sk_new();
        ck_assert_int_eq(sk_add(&k, cases[i].ele, cases[i].len, 3000), HLL_UPDATED);
        ck_assert_int_eq(sk_add(&k, cases[i].ele, cases[i].len, 3000), HLL_UNCHANGED);
        char text[128];
        decode(k.s, k.len, text, sizeof(text));
        ck_assert_str_eq(text, cases[i].decoded);
        rc_free(k.s);
    }
}
END_TEST

START_TEST(test_bytes_match_redis)
{
    /* PFADD t a b c; GET t; PFCOUNT t; GET t on redis-server 7.0.15. */
    static const unsigned char stale[] =
        "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80`\xf3\x80P\xb1\x84K\xfb\x80" "BZ";
    static const unsigned char fresh[] =
        "HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0`\xf3\x80P\xb1\x84K\xfb\x80" "BZ";
    struct sk k = sk_new();
    sk_add_str(&k, "a", 3000);
    sk_add_str(&k, "b", 3000);
    sk_add_str(&k, "c", 3000);
    hll_cache_invalidate(k.s);
    ck_assert_uint_eq(k.len, sizeof(stale) - 1);
    ck_assert(memcmp(k.s, stale, k.len) == 0);
    ck_assert(!hll_cache_valid(k.s));
    uint64_t card = count_of(&k);
    ck_assert_uint_eq(card, 3);
    hll_cache_set(k.s, card);
    ck_assert(memcmp(k.s, fresh, k.len) == 0);
    ck_assert(hll_cache_valid(k.s));
    ck_assert_uint_eq(hll_cache_get(k.s), 3);
    rc_free(k.s);
}
END_TEST

START_TEST(test_counts_match_redis)
{
    char e[32];
    struct sk k = sk_new(), u = sk_new();
    for (int i = 0; i < 1000; i++) {
        snprintf(e, sizeof(e), "e%d", i);
        sk_add_str(&k, e, 3000);
    }
    ck_assert_int_eq(hll_encoding_of(k.s), HLL_SPARSE);
    ck_assert_uint_eq(k.len, 1906);
    ck_assert_uint_eq(count_of(&k), 1008);
    for (int i = 1000; i < 100000; i++) {
        snprintf(e, sizeof(e), "e%d", i);
        sk_add_str(&k, e, 3000);
    }
    ck_assert_int_eq(hll_encoding_of(k.s), HLL_DENSE);
    ck_assert_uint_eq(k.len, HLL_DENSE_SIZE);
    ck_assert_uint_eq(count_of(&k), 100853);

    /* PFCOUNT t u: the union through one-byte registers. */
    for (int i = 0; i < 50000; i++) {
        snprintf(e, sizeof(e), "f%d", i);
        sk_add_str(&u, e, 3000);
    }
    uint8_t *max = rc_calloc(HLL_REGISTERS);
    ck_assert_int_eq(hll_merge(max, k.s, k.len), 0);
    ck_assert_int_eq(hll_merge(max, u.s, u.len), 0);
    int histo[64];
    hll_raw_histogram(max, histo);
    ck_assert_uint_eq(hll_estimate(histo), 151391);
    rc_free(max);
    rc_free(k.s);
    rc_free(u.s);
}
END_TEST

/* Every register keeps its value and leaves its neighbours alone, across
 * all eight bit offsets, including the last register. */
START_TEST(test_dense_layout)
{
    unsigned char *regs = rc_calloc(HLL_DENSE_SIZE - HLL_HDR_SIZE);
    for (long i = 0; i < HLL_REGISTERS; i++)
        ck_assert_int_eq(hll_dense_set(regs, i, (unsigned)((i * 7 + 3) & 63)),
                         ((i * 7 + 3) & 63) ? HLL_UPDATED : HLL_UNCHANGED);
    for (long i = 0; i < HLL_REGISTERS; i++)
        ck_assert_uint_eq(hll_dense_get(regs, i), (unsigned)((i * 7 + 3) & 63));
    /* Lowering is refused, raising to the maximum is not. */
    ck_assert_int_eq(hll_dense_set(regs, 5, 1), HLL_UNCHANGED);
    ck_assert_int_eq(hll_dense_set(regs, HLL_REGISTERS - 1, 63), HLL_UPDATED);
    ck_assert_uint_eq(hll_dense_get(regs, HLL_REGISTERS - 1), 63);
    ck_assert_uint_eq(hll_dense_get(regs, HLL_REGISTERS - 2),
                      (unsigned)(((HLL_REGISTERS - 2) * 7 + 3) & 63));
    /* Register 0 is the low six bits of byte 0, register 1 starts at bit 6. */
    memset(regs, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    hll_dense_set(regs, 0, 0x3f);
    ck_assert_uint_eq(regs[0], 0x3f);
    hll_dense_set(regs, 1, 0x3f);
    ck_assert_uint_eq(regs[0], 0xff);
    ck_assert_uint_eq(regs[1], 0x0f);
    rc_free(regs);
}
END_TEST

/* Build a sparse sketch from opcode bytes. */
static struct sk sk_from_ops(const unsigned char *ops, size_t n)
{
    struct sk k = sk_new();
    memcpy(k.s + HLL_HDR_SIZE, ops, n);
    k.len = HLL_HDR_SIZE + n;
    k.s[k.len] = 0;
    return k;
}

START_TEST(test_sparse_split_and_merge)
{
    struct sk k = sk_new();
    char text[256];
    /* XZERO split in the middle: XZERO VAL XZERO. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 100, 3, 3000), HLL_UPDATED);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:100 v:3,1 Z:16283");
    /* Neighbours with the same value merge into one VAL. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 101, 3, 3000), HLL_UPDATED);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:100 v:3,2 Z:16282");
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 99, 3, 3000), HLL_UPDATED);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:99 v:3,3 Z:16282");
    /* Lower or equal values change nothing. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 100, 2, 3000), HLL_UNCHANGED);
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 100, 3, 3000), HLL_UNCHANGED);
    /* Raising the middle of a VAL run splits it in three. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 100, 5, 3000), HLL_UPDATED);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:99 v:3,1 v:5,1 v:3,1 Z:16282");
    /* Short zero runs use ZERO, long ones XZERO. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 30, 1, 3000), HLL_UPDATED);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "z:30 v:1,1 Z:68 v:3,1 v:5,1 v:3,1 Z:16282");
    ck_assert_uint_eq(count_of(&k), 4);
    rc_free(k.s);
}
END_TEST

START_TEST(test_sparse_promotion)
{
    struct sk k = sk_new();
    /* A value above 32 cannot be sparse. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 7, 33, 3000), HLL_PROMOTE);
    ck_assert_uint_eq(k.len, HLL_SPARSE_EMPTY_SIZE);
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 7, 32, 3000), HLL_UPDATED);
    /* Growth past max_bytes promotes; growth within it does not. */
    size_t before = k.len;
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 5000, 1, before), HLL_PROMOTE);
    ck_assert_uint_eq(k.len, before);
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 5000, 1, before + 3), HLL_UPDATED);
    /* An in-place update never promotes, whatever the limit. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 5000, 4, 0), HLL_UPDATED);

    unsigned char *d = rc_calloc(HLL_DENSE_SIZE + 1);
    ck_assert_int_eq(hll_sparse_to_dense(k.s, k.len, d), 0);
    ck_assert_int_eq(hll_check(d, HLL_DENSE_SIZE), 0);
    ck_assert_int_eq(hll_encoding_of(d), HLL_DENSE);
    ck_assert_uint_eq(hll_dense_get(d + HLL_HDR_SIZE, 7), 32);
    ck_assert_uint_eq(hll_dense_get(d + HLL_HDR_SIZE, 5000), 4);
    ck_assert_uint_eq(hll_dense_get(d + HLL_HDR_SIZE, 5001), 0);
    uint64_t a, b;
    ck_assert_int_eq(hll_count(d, HLL_DENSE_SIZE, &a), 0);
    ck_assert_int_eq(hll_count(k.s, k.len, &b), 0);
    ck_assert_uint_eq(a, b);
    rc_free(d);
    rc_free(k.s);
}
END_TEST

/* Random elements: sparse (with promotion at several limits) and dense
 * sketches of the same elements always agree. */
START_TEST(test_sparse_dense_agree)
{
    static const size_t limits[] = {0, 20, 300, 3000, 100000};
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        struct sk k = sk_new();
        unsigned char *d = rc_calloc(HLL_DENSE_SIZE + 1);
        memcpy(d, "HYLL", 4);
        uint64_t x = 88172645463325252ULL + l;
        for (int i = 1; i <= 20000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            long reg;
            unsigned cnt = (unsigned)hll_pattern(&x, sizeof(x), &reg);
            hll_dense_set(d + HLL_HDR_SIZE, reg, cnt);
            sk_add(&k, &x, sizeof(x), limits[l]);
            if (i % 997 == 0 || i < 50) {
                uint64_t cs, cd;
                ck_assert_int_eq(hll_count(k.s, k.len, &cs), 0);
                ck_assert_int_eq(hll_count(d, HLL_DENSE_SIZE, &cd), 0);
                ck_assert_uint_eq(cs, cd);
                if (hll_encoding_of(k.s) == HLL_SPARSE)
                    ck_assert(k.len <= limits[l] || k.len == HLL_SPARSE_EMPTY_SIZE);
            }
        }
        rc_free(d);
        rc_free(k.s);
    }
}
END_TEST

START_TEST(test_check_header)
{
    struct sk k = sk_new();
    ck_assert_int_eq(hll_check(k.s, k.len), 0);
    ck_assert_int_eq(hll_check(k.s, HLL_HDR_SIZE), 0);     /* no opcodes: header ok */
    ck_assert_int_eq(hll_check(k.s, HLL_HDR_SIZE - 1), -1);
    k.s[4] = 2;
    ck_assert_int_eq(hll_check(k.s, k.len), -1);
    k.s[4] = HLL_DENSE;
    ck_assert_int_eq(hll_check(k.s, k.len), -1);            /* dense but short */
    k.s[4] = HLL_SPARSE;
    k.s[0] = 'h';
    ck_assert_int_eq(hll_check(k.s, k.len), -1);
    ck_assert_int_eq(hll_check((const unsigned char *)"HYLL", 4), -1);
    rc_free(k.s);
}
END_TEST

START_TEST(test_corrupt_sparse)
{
    uint64_t card;
    uint8_t *max = rc_calloc(HLL_REGISTERS);
    unsigned char *d = rc_calloc(HLL_DENSE_SIZE + 1);

    /* Too few registers. */
    static const unsigned char few[] = {0x7f, 0xfe};
    struct sk k = sk_from_ops(few, sizeof(few));
    ck_assert_int_eq(hll_count(k.s, k.len, &card), -1);
    ck_assert_int_eq(hll_merge(max, k.s, k.len), -1);
    ck_assert_int_eq(hll_sparse_to_dense(k.s, k.len, d), -1);
    /* Setting a register the opcodes do not reach is refused. */
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, HLL_REGISTERS - 1, 1, 3000),
                     HLL_INVALID);
    rc_free(k.s);

    /* Too many: a VAL past the last register must not be written. */
    static const unsigned char many[] = {0x7f, 0xff, 0x83};
    k = sk_from_ops(many, sizeof(many));
    ck_assert_int_eq(hll_count(k.s, k.len, &card), -1);
    ck_assert_int_eq(hll_merge(max, k.s, k.len), -1);
    ck_assert_int_eq(hll_sparse_to_dense(k.s, k.len, d), -1);
    rc_free(k.s);

    /* A header alone covers no register. */
    k = sk_new();
    k.len = HLL_HDR_SIZE;
    k.s[k.len] = 0;
    ck_assert_int_eq(hll_count(k.s, k.len, &card), -1);
    ck_assert_int_eq(hll_sparse_set(k.s, &k.len, k.cap, 0, 1, 3000), HLL_INVALID);
    rc_free(k.s);
    rc_free(d);
    rc_free(max);
}
END_TEST

/* The shape of CVE-2025-32023: enough XZERO opcodes to overflow a 32-bit
 * register index, then a VAL.  Nothing may be written (ASan builds check
 * the "nothing out of bounds" part). */
START_TEST(test_cve_2025_32023_shape)
{
    size_t nx = (1UL << 31) / HLL_REGISTERS + 10;
    size_t len = HLL_HDR_SIZE + 2 * nx + 1;
    unsigned char *s = rc_calloc(len + 1);
    memcpy(s, "HYLL", 4);
    s[4] = HLL_SPARSE;
    for (size_t i = 0; i < nx; i++) {
        s[HLL_HDR_SIZE + 2 * i] = 0x7f;
        s[HLL_HDR_SIZE + 2 * i + 1] = 0xff;
    }
    s[len - 1] = 0xfc;     /* VAL 32 x 1 */
    uint8_t *max = rc_calloc(HLL_REGISTERS);
    unsigned char *d = rc_calloc(HLL_DENSE_SIZE + 1);
    uint64_t card;
    ck_assert_int_eq(hll_check(s, len), 0);
    ck_assert_int_eq(hll_merge(max, s, len), -1);
    ck_assert_int_eq(hll_count(s, len, &card), -1);
    ck_assert_int_eq(hll_sparse_to_dense(s, len, d), -1);
    for (long i = 0; i < HLL_REGISTERS; i++)
        ck_assert_uint_eq(max[i], 0);
    rc_free(d);
    rc_free(max);
    rc_free(s);
}
END_TEST

/* A trailing XZERO cut in half reads its second byte from the tail byte,
 * and splitting it leaves the spilled byte there, as in Redis. */
START_TEST(test_truncated_xzero)
{
    char text[128];
    /* 'X' = XZERO whose high bits give (0x18 << 8) + 1 = 6145 registers. */
    struct sk k = sk_new();
    k.s[HLL_HDR_SIZE] = 0x58;
    k.len = HLL_HDR_SIZE + 1;
    k.s[k.len] = 0;
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:6145");
    uint64_t card;
    ck_assert_int_eq(hll_count(k.s, k.len, &card), -1);  /* 6145 != 16384 */
    /* Redis (PFADD y426259 on such a value) wrote "Q\xe5\x84F" and kept
     * the XZERO's second byte after the string. */
    ck_assert_int_eq(sk_add(&k, "y426259", 7, 3000), HLL_UPDATED);
    ck_assert_uint_eq(k.len, HLL_HDR_SIZE + 4);
    ck_assert(memcmp(k.s + HLL_HDR_SIZE, "Q\xe5\x84" "F", 4) == 0);
    decode(k.s, k.len, text, sizeof(text));
    ck_assert_str_eq(text, "Z:4582 v:2,1 Z:1562");
    ck_assert_uint_eq(k.s[k.len], 0x19);
    rc_free(k.s);
}
END_TEST

START_TEST(test_estimator_edges)
{
    int histo[64] = {0};
    histo[0] = HLL_REGISTERS;
    ck_assert_uint_eq(hll_estimate(histo), 0);
    memset(histo, 0, sizeof(histo));
    histo[HLL_Q + 1] = HLL_REGISTERS;   /* every register saturated */
    ck_assert(hll_estimate(histo) > 0);
    /* Registers above Q+1 (only a crafted dense string has them) are
     * ignored by the estimator, not an error. */
    unsigned char *d = rc_calloc(HLL_DENSE_SIZE + 1);
    memcpy(d, "HYLL", 4);
    for (long i = 0; i < HLL_REGISTERS; i++)
        hll_dense_set(d + HLL_HDR_SIZE, i, 63);
    uint64_t card;
    ck_assert_int_eq(hll_count(d, HLL_DENSE_SIZE, &card), 0);
    rc_free(d);
}
END_TEST

START_TEST(test_murmur_tail_lengths)
{
    /* Every tail length 0..7 contributes; equal prefixes of different
     * lengths hash differently. */
    unsigned char buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (unsigned char)(i * 37 + 1);
    uint64_t seen[17];
    for (size_t n = 0; n <= 16; n++) {
        seen[n] = hll_murmur64a(buf, n, HLL_HASH_SEED);
        for (size_t m = 0; m < n; m++)
            ck_assert(seen[m] != seen[n]);
    }
}
END_TEST

START_TEST(test_selftest)
{
    char err[256] = "";
    ck_assert_msg(hll_selftest(12345, 3000, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(hll_selftest(777, 0, err, sizeof(err)) == 0, "%s", err);
}
END_TEST

static Suite *hll_suite(void)
{
    Suite *s = suite_create("hll");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_empty_sketch);
    tcase_add_test(tc, test_pattern_matches_redis);
    tcase_add_test(tc, test_bytes_match_redis);
    tcase_add_test(tc, test_counts_match_redis);
    tcase_add_test(tc, test_dense_layout);
    tcase_add_test(tc, test_sparse_split_and_merge);
    tcase_add_test(tc, test_sparse_promotion);
    tcase_add_test(tc, test_sparse_dense_agree);
    tcase_add_test(tc, test_check_header);
    tcase_add_test(tc, test_corrupt_sparse);
    tcase_add_test(tc, test_cve_2025_32023_shape);
    tcase_add_test(tc, test_truncated_xzero);
    tcase_add_test(tc, test_estimator_edges);
    tcase_add_test(tc, test_murmur_tail_lengths);
    tcase_add_test(tc, test_selftest);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hll_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
