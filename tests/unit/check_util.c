/*
 * check_util.c — unit tests for util.c (number parsing and formatting,
 * clocks, random hex ids).
 *
 * The three tables were produced by a real redis-server 7.0.15:
 *  - ll_cases:  SET x 0; INCRBY x <input>          (string2ll + ll2string)
 *  - ld_cases:  SET x 0; INCRBYFLOAT x <input>     (string2ld + ld2string)
 *  - d_cases:   ZADD z <input> m; ZSCORE z m, skiplist encoding
 *                                                  (string2d + addReplyDouble)
 * NULL means the server answered with a "not an integer / not a valid
 * float" error.
 */
#include "util.h"
#include "mem.h"

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct num_case {
    const char *in;
    size_t len;
    const char *out;
};

/* Marks an INCRBYFLOAT input that parses but gives an infinite result
 * ("ERR increment would produce NaN or Infinity"). */
static const char NANINF[] = "nan-or-inf";

/* INCRBY key-holding-0 by the input; NULL = -ERR not an integer. */
static const struct num_case ll_cases[] = {
    {"0", 1, "0"},
    {"-0", 2, NULL},
    {"1", 1, "1"},
    {"-1", 2, "-1"},
    {"+1", 2, NULL},
    {" 1", 2, NULL},
    {"1 ", 2, NULL},
    {"01", 2, NULL},
    {"-01", 3, NULL},
    {"00", 2, NULL},
    {"", 0, NULL},
    {"-", 1, NULL},
    {"9223372036854775807", 19, "9223372036854775807"},
    {"9223372036854775808", 19, NULL},
    {"-9223372036854775808", 20, "-9223372036854775808"},
    {"-9223372036854775809", 20, NULL},
    {"18446744073709551616", 20, NULL},
    {"99999999999999999999", 20, NULL},
    {"1e3", 3, NULL},
    {"1.0", 3, NULL},
    {"0x10", 4, NULL},
    {"12a", 3, NULL},
    {"a12", 3, NULL},
    {"--1", 3, NULL},
    {"-+1", 3, NULL},
    {"\0111", 2, NULL},
    {"123456789", 9, "123456789"},
    {"-123456789012345678", 19, "-123456789012345678"},
    {"000000000000000000001", 21, NULL},
    {"1\000", 2, NULL},
};

/* INCRBYFLOAT key-holding-0 by the input; NULL = not a valid float. */
static const struct num_case ld_cases[] = {
    {"0", 1, "0"},
    {"-0", 2, "0"},
    {"1", 1, "1"},
    {"1.5", 3, "1.5"},
    {"0.1", 3, "0.1"},
    {"-0.1", 4, "-0.1"},
    {"1e10", 4, "10000000000"},
    {"1e20", 4, "100000000000000000000"},
    {"1.1", 3, "1.1"},
    {"3.0", 3, "3"},
    {"-3.00", 5, "-3"},
    {".5", 2, "0.5"},
    {"5.", 2, "5"},
    {"+2", 2, "2"},
    {" 1", 2, NULL},
    {"1 ", 2, NULL},
    {"inf", 3, NANINF},
    {"-inf", 4, NANINF},
    {"+inf", 4, NANINF},
    {"Infinity", 8, NANINF},
    {"nan", 3, NULL},
    {"NaN", 3, NULL},
    {"-nan", 4, NULL},
    {"0x10", 4, "16"},
    {"0x1p-2", 6, "0.25"},
    {"1e-5", 4, "0.00001"},
    {"1e-20", 5, "0"},
    {"1e4933", 6, NULL},
    {"1e-5000", 7, NULL},
    {"4.9e-4950", 9, "0"},
    {"123456789.123456789", 19, "123456789.12345678899873747"},
    {"0.30000000000000004", 19, "0.30000000000000004"},
    {"", 0, NULL},
    {"abc", 3, NULL},
    {"1e", 2, NULL},
    {"1.2.3", 5, NULL},
    {"-", 1, NULL},
    {"0.0000000000000000001", 21, "0"},
    {"1\000", 2, NULL},
    {"99999999999999999999999", 23, "100000000000000000000000"},
};

/* ZADD z <input> m, then ZSCORE z m; NULL = not a valid float. */
static const struct num_case d_cases[] = {
    {"0", 1, "0"},
    {"-0", 2, "-0"},
    {"1", 1, "1"},
    {"1.1", 3, "1.1000000000000001"},
    {"0.1", 3, "0.10000000000000001"},
    {"-0.1", 4, "-0.10000000000000001"},
    {"1e17", 4, "1e+17"},
    {"1e16", 4, "10000000000000000"},
    {"123456789012345678", 18, "1.2345678901234568e+17"},
    {"9007199254740993", 16, "9007199254740992"},
    {"4611686018427387904", 19, "4.6116860184273879e+18"},
    {"1e300", 5, "1.0000000000000001e+300"},
    {"1e-300", 6, "1e-300"},
    {"5e-324", 6, "4.9406564584124654e-324"},
    {"2.5e-320", 8, "2.4999721679567075e-320"},
    {"1e-400", 6, NULL},
    {"1e400", 5, NULL},
    {"inf", 3, "inf"},
    {"-inf", 4, "-inf"},
    {"+inf", 4, "inf"},
    {"infinity", 8, "inf"},
    {"nan", 3, NULL},
    {"+nan", 4, NULL},
    {" 1", 2, NULL},
    {"1 ", 2, NULL},
    {"", 0, NULL},
    {"0x1A", 4, "26"},
    {"1.7976931348623157e308", 22, "1.7976931348623157e+308"},
    {"3.14159", 7, "3.1415899999999999"},
    {"-2.5", 4, "-2.5"},
    {"100", 3, "100"},
    {".5", 2, "0.5"},
    {"1e", 2, NULL},
    {"1\000", 2, NULL},
    {"+1.5", 4, "1.5"},
    {"00012", 5, "12"},
    {"1_0", 3, NULL},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_str2ll_redis_table)
{
    size_t i;

    for (i = 0; i < NELEM(ll_cases); i++) {
        long long v = 12345;
        char buf[RC_LONG_STR_SIZE];
        int ok = rc_str2ll(ll_cases[i].in, ll_cases[i].len, &v);

        if (ll_cases[i].out == NULL) {
            ck_assert_msg(!ok, "case %zu should be rejected", i);
            ck_assert_int_eq(v, 12345); /* untouched on failure */
            continue;
        }
        ck_assert_msg(ok, "case %zu should parse", i);
        ck_assert_uint_eq(rc_ll2str(buf, sizeof(buf), v),
                          strlen(ll_cases[i].out));
        ck_assert_str_eq(buf, ll_cases[i].out);
    }
}
END_TEST

START_TEST(test_str2l_and_str2ull)
{
    long l;
    unsigned long long u;

    ck_assert(rc_str2l("-42", 3, &l) && l == -42);
    ck_assert(rc_str2l("9223372036854775807", 19, &l) && l == LONG_MAX);
    ck_assert(!rc_str2l("9223372036854775808", 19, &l));
    ck_assert(!rc_str2l("+1", 2, &l));

    ck_assert(rc_str2ull("0", 1, &u) && u == 0);
    ck_assert(rc_str2ull("18446744073709551615", 20, &u) && u == ULLONG_MAX);
    ck_assert(rc_str2ull("9223372036854775808", 19, &u) &&
              u == 9223372036854775808ULL);
    ck_assert(!rc_str2ull("18446744073709551616", 20, &u));
    ck_assert(!rc_str2ull("99999999999999999999", 20, &u));
    ck_assert(!rc_str2ull("-1", 2, &u));
    ck_assert(!rc_str2ull("-0", 2, &u));
    ck_assert(!rc_str2ull("+1", 2, &u));
    ck_assert(!rc_str2ull(" 1", 2, &u));
    ck_assert(!rc_str2ull("01", 2, &u));
    ck_assert(!rc_str2ull("", 0, &u));
    ck_assert(!rc_str2ull("000000000000000000001", 21, &u));
    /* Length bounds the parse: "12" out of "123". */
    ck_assert(rc_str2ull("123", 2, &u) && u == 12);
}
END_TEST

START_TEST(test_ll2str_matches_printf)
{
    static const long long fixed[] = {
        0, 1, -1, 9, 10, 11, 99, 100, 101, -99, -100, 999, 1000, 12345,
        INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1,
        1000000000000000000LL, -1000000000000000000LL, 999999999999999999LL,
    };
    char want[32], got[RC_LONG_STR_SIZE];
    unsigned long long x = 88172645463325252ULL;
    size_t i;
    int p;

    for (i = 0; i < NELEM(fixed); i++) {
        snprintf(want, sizeof(want), "%lld", fixed[i]);
        ck_assert_uint_eq(rc_ll2str(got, sizeof(got), fixed[i]), strlen(want));
        ck_assert_str_eq(got, want);
    }
    /* Every power of ten and its neighbours, then random values of every
     * magnitude (xorshift, shifted so all digit counts appear). */
    for (p = 0; p < 64; p++) {
        unsigned long long v = 1ULL << p;
        long long sv;

        snprintf(want, sizeof(want), "%llu", v);
        ck_assert_uint_eq(rc_ull2str(got, sizeof(got), v), strlen(want));
        ck_assert_str_eq(got, want);
        snprintf(want, sizeof(want), "%llu", v - 1);
        rc_ull2str(got, sizeof(got), v - 1);
        ck_assert_str_eq(got, want);
        sv = -(long long)(v >> 1);
        snprintf(want, sizeof(want), "%lld", sv);
        rc_ll2str(got, sizeof(got), sv);
        ck_assert_str_eq(got, want);
    }
    for (i = 0; i < 200000; i++) {
        unsigned long long v;
        size_t n;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = x >> (i % 64);
        /* Plain comparisons in the loop: Check's asserts are slow. */
        snprintf(want, sizeof(want), "%llu", v);
        n = rc_ull2str(got, sizeof(got), v);
        if (n != strlen(want) || strcmp(got, want) != 0)
            ck_abort_msg("%llu formatted as %s", v, got);
        snprintf(want, sizeof(want), "%lld", (long long)v);
        n = rc_ll2str(got, sizeof(got), (long long)v);
        if (n != strlen(want) || strcmp(got, want) != 0)
            ck_abort_msg("%lld formatted as %s", (long long)v, got);
    }
    ck_assert_uint_eq(rc_ull2str(got, sizeof(got), ULLONG_MAX), 20);
    ck_assert_str_eq(got, "18446744073709551615");
}
END_TEST

START_TEST(test_ll2str_buffer_too_small)
{
    char buf[8];

    memset(buf, 'X', sizeof(buf));
    ck_assert_uint_eq(rc_ll2str(buf, 4, 1234), 0); /* needs 5 with NUL */
    ck_assert_int_eq(buf[4], 'X');
    ck_assert_uint_eq(rc_ll2str(buf, 5, 1234), 4);
    ck_assert_str_eq(buf, "1234");
    ck_assert_uint_eq(rc_ll2str(buf, 5, -1234), 0);
    ck_assert_uint_eq(rc_ll2str(buf, 6, -1234), 5);
    ck_assert_str_eq(buf, "-1234");
    ck_assert_uint_eq(rc_ll2str(buf, 0, 0), 0);
    ck_assert_uint_eq(rc_ll2str(buf, 1, 0), 0);
    ck_assert_uint_eq(rc_ll2str(buf, 1, -1), 0);
    ck_assert_uint_eq(rc_ll2str(buf, 2, 7), 1);
    ck_assert_uint_eq(rc_digits10(0), 1);
    ck_assert_uint_eq(rc_digits10(UINT64_MAX), 20);
}
END_TEST

START_TEST(test_str2ld_ld2str_redis_table)
{
    size_t i;

    for (i = 0; i < NELEM(ld_cases); i++) {
        long double v = 42;
        char buf[RC_MAX_LONG_DOUBLE_CHARS];
        int ok = rc_str2ld(ld_cases[i].in, ld_cases[i].len, &v);

        if (ld_cases[i].out == NULL) {
            ck_assert_msg(!ok, "case %zu should be rejected", i);
            continue;
        }
        ck_assert_msg(ok, "case %zu should parse", i);
        v = 0.0L + v; /* what INCRBYFLOAT computes on a key holding 0 */
        if (ld_cases[i].out == NANINF) {
            ck_assert_msg(isinf(v), "case %zu should be infinite", i);
            continue;
        }
        ck_assert_uint_eq(rc_ld2str(buf, sizeof(buf), v, 1),
                          strlen(ld_cases[i].out));
        ck_assert_msg(strcmp(buf, ld_cases[i].out) == 0,
                      "case %zu: got %s want %s", i, buf, ld_cases[i].out);
    }
}
END_TEST

START_TEST(test_str2ld_limits)
{
    size_t max = RC_MAX_LONG_DOUBLE_CHARS;
    char *s = rc_malloc(max + 1);
    long double v;

    /* "0.1000...0" exactly max-1 bytes long is fine; max bytes is not. */
    memset(s, '0', max + 1);
    s[1] = '.';
    s[2] = '1';
    ck_assert(rc_str2ld(s, max - 1, &v));
    ck_assert(v == 0.1L);
    ck_assert(!rc_str2ld(s, max, &v));
    /* Underflow to zero is rejected, a denormal is kept. */
    ck_assert(!rc_str2ld("1e-5000", 7, &v));
    ck_assert(rc_str2ld("4e-4950", 7, &v) && v > 0);
    rc_free(s);
    ck_assert(rc_str2ld("12", 1, &v) && v == 1.0L);
    ck_assert(!rc_str2ld("\n1", 2, &v));
    ck_assert(rc_str2ld("-inf", 4, &v) && isinf(v) && v < 0);
}
END_TEST

START_TEST(test_ld2str_modes)
{
    char buf[RC_MAX_LONG_DOUBLE_CHARS];

    ck_assert_uint_eq(rc_ld2str(buf, sizeof(buf), 1.5L, 0), 3);
    ck_assert_str_eq(buf, "1.5");
    rc_ld2str(buf, sizeof(buf), 0.1L, 0);
    ck_assert_str_eq(buf, "0.1");
    rc_ld2str(buf, sizeof(buf), (long double)0.1, 0); /* the double 0.1 */
    ck_assert_str_eq(buf, "0.10000000000000001");
    rc_ld2str(buf, sizeof(buf), 1e20L, 0);
    ck_assert_str_eq(buf, "1e+20");
    rc_ld2str(buf, sizeof(buf), 0.1L, 1);
    ck_assert_str_eq(buf, "0.1");
    rc_ld2str(buf, sizeof(buf), -0.0L, 1);
    ck_assert_str_eq(buf, "0");
    rc_ld2str(buf, sizeof(buf), 100.0L, 1);
    ck_assert_str_eq(buf, "100");
    ck_assert_uint_eq(rc_ld2str(buf, sizeof(buf), INFINITY, 1), 3);
    ck_assert_str_eq(buf, "inf");
    ck_assert_uint_eq(rc_ld2str(buf, sizeof(buf), -INFINITY, 0), 4);
    ck_assert_str_eq(buf, "-inf");
    /* Too small: needs room for "-inf\0" even for "inf", and for the
     * untrimmed "%.17Lf" text in human mode. */
    ck_assert_uint_eq(rc_ld2str(buf, 4, INFINITY, 1), 0);
    ck_assert_uint_eq(rc_ld2str(buf, 5, INFINITY, 1), 3);
    ck_assert_uint_eq(rc_ld2str(buf, 19, 1.0L, 1), 0);
    ck_assert_uint_eq(rc_ld2str(buf, 20, 1.0L, 1), 1);
    ck_assert_str_eq(buf, "1");
    /* The largest long double fits in the documented buffer size. */
    ck_assert_uint_gt(rc_ld2str(buf, sizeof(buf), -LDBL_MAX, 1), 4900);
}
END_TEST

START_TEST(test_str2d_reply_redis_table)
{
    size_t i;

    for (i = 0; i < NELEM(d_cases); i++) {
        double v = 42;
        char buf[RC_MAX_D2STRING_CHARS];
        int ok = rc_str2d(d_cases[i].in, d_cases[i].len, &v);

        if (d_cases[i].out == NULL) {
            ck_assert_msg(!ok, "case %zu should be rejected", i);
            ck_assert(v == 42);
            continue;
        }
        ck_assert_msg(ok, "case %zu should parse", i);
        ck_assert_uint_eq(rc_d2str_reply(buf, sizeof(buf), v),
                          strlen(d_cases[i].out));
        ck_assert_msg(strcmp(buf, d_cases[i].out) == 0,
                      "case %zu: got %s want %s", i, buf, d_cases[i].out);
    }
}
END_TEST

START_TEST(test_str2d_long_input)
{
    /* Longer than the stack buffer: takes the heap path. */
    size_t n = 3000;
    char *s = rc_malloc(n);
    double v;

    memset(s, '0', n);
    s[0] = '1';
    s[1] = '.';
    ck_assert(rc_str2d(s, n, &v) && v == 1.0);
    s[n - 1] = 'x';
    ck_assert(!rc_str2d(s, n, &v));
    rc_free(s);
    ck_assert(rc_str2d("2.5e", 3, &v) && v == 2.5);
}
END_TEST

START_TEST(test_d2str)
{
    static const struct {
        double v;
        const char *out;
    } t[] = {
        /* Integral values take the integer path within +/- 2^62: Redis
         * 7.0 stores 1e17 in a listpack as the integer 100000000000000000
         * (seen in DUMP output), where "%.17g" would say "1e+17". */
        {0.0, "0"},
        {1.0, "1"},
        {-1.0, "-1"},
        {1e17, "100000000000000000"},
        {-1e17, "-100000000000000000"},
        {9007199254740993.0, "9007199254740992"},
        {4611686018427387904.0, "4611686018427387904"},
        {-4611686018427387904.0, "-4611686018427387904"},
        {9223372036854775808.0, "9.2233720368547758e+18"},
        {1e19, "1e+19"},
        {1.1, "1.1000000000000001"},
        {0.5, "0.5"},
        {-2.5, "-2.5"},
        {1e-300, "1e-300"},
        {5e-324, "4.9406564584124654e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
    };
    char buf[RC_MAX_D2STRING_CHARS];
    size_t i;

    for (i = 0; i < NELEM(t); i++) {
        ck_assert_uint_eq(rc_d2str(buf, sizeof(buf), t[i].v), strlen(t[i].out));
        ck_assert_msg(strcmp(buf, t[i].out) == 0, "case %zu: got %s want %s",
                      i, buf, t[i].out);
    }
    rc_d2str(buf, sizeof(buf), -0.0);
    ck_assert_str_eq(buf, "-0");
    rc_d2str(buf, sizeof(buf), NAN);
    ck_assert_str_eq(buf, "nan");
    rc_d2str(buf, sizeof(buf), INFINITY);
    ck_assert_str_eq(buf, "inf");
    rc_d2str(buf, sizeof(buf), -INFINITY);
    ck_assert_str_eq(buf, "-inf");
    /* The wire format differs for large integral values. */
    rc_d2str_reply(buf, sizeof(buf), 1e17);
    ck_assert_str_eq(buf, "1e+17");
    rc_d2str_reply(buf, sizeof(buf), -0.0);
    ck_assert_str_eq(buf, "-0");
    /* Too small a buffer gives 0, never a truncated number. */
    ck_assert_uint_eq(rc_d2str(buf, 3, 1.1), 0);
    ck_assert_uint_eq(rc_d2str(buf, 3, 100.0), 0);
    ck_assert_uint_eq(rc_d2str(buf, 4, 100.0), 3);
    ck_assert_uint_eq(rc_d2str(buf, 3, -INFINITY), 0);
    ck_assert_uint_eq(rc_d2str_reply(buf, 18, 1.1), 0);
    ck_assert_uint_eq(rc_d2str_reply(buf, 19, 1.1), 18);
}
END_TEST

START_TEST(test_double2ll)
{
    long long ll = 7;

    ck_assert(rc_double2ll(3.0, &ll) && ll == 3);
    ck_assert(rc_double2ll(-0.0, &ll) && ll == 0);
    ck_assert(!rc_double2ll(3.5, &ll));
    ck_assert(!rc_double2ll(NAN, &ll));
    ck_assert(!rc_double2ll(INFINITY, &ll));
    ck_assert(!rc_double2ll(9223372036854775807.0, &ll));
    ck_assert(rc_double2ll(4611686018427387904.0, &ll) &&
              ll == 4611686018427387904LL);
    ck_assert(!rc_double2ll(4611686018427387904.0 * 2, &ll));
}
END_TEST

START_TEST(test_clocks)
{
    uint64_t us = rc_ustime(), ms = rc_mstime();
    uint64_t m0 = rc_monotonic_us(), m1;

    /* After 2020-01-01 and consistent with each other. */
    ck_assert_uint_gt(ms, UINT64_C(1577836800000));
    ck_assert_uint_le(us / 1000, ms);
    ck_assert_uint_lt(ms - us / 1000, 1000);
    m1 = rc_monotonic_us();
    ck_assert_uint_ge(m1, m0);
}
END_TEST

START_TEST(test_random_hex)
{
    char a[41], b[41];
    size_t i;

    memset(a, '!', sizeof(a));
    memset(b, '!', sizeof(b));
    ck_assert_int_eq(rc_random_hex(a, 40), 0);
    ck_assert_int_eq(rc_random_hex(b, 40), 0);
    ck_assert_int_eq(a[40], '!'); /* exactly len bytes written */
    for (i = 0; i < 40; i++)
        ck_assert(strchr("0123456789abcdef", a[i]) != NULL && a[i] != '\0');
    ck_assert(memcmp(a, b, 40) != 0);
    /* Odd lengths and lengths beyond one internal chunk. */
    {
        char big[301];

        big[299] = '#';
        ck_assert_int_eq(rc_random_hex(big, 299), 0);
        for (i = 0; i < 299; i++)
            ck_assert(big[i] != '\0' &&
                      strchr("0123456789abcdef", big[i]) != NULL);
        ck_assert_int_eq(big[299], '#');
    }
    ck_assert_int_eq(rc_random_hex(a, 0), 0);
}
END_TEST

/* Memory values as Redis's memtoull reads them. */
START_TEST(test_memtoull)
{
    static const struct {
        const char *in;
        int ok;
        unsigned long long v;
    } t[] = {
        {"100", 1, 100},   {"1k", 1, 1000},         {"1KB", 1, 1024},
        {"2m", 1, 2000000}, {"2Mb", 1, 2097152},    {"1g", 1, 1000000000ULL},
        {"1gb", 1, 1073741824ULL}, {"007", 1, 7},   {"", 1, 0},
        {"kb", 1, 0},      {"0b", 1, 0},            {"-1", 0, 0},
        {"+5", 0, 0},      {" 10", 0, 0},           {"10 ", 0, 0},
        {"0x10", 0, 0},    {"5tb", 0, 0},           {"1.5gb", 0, 0},
        {"18446744073709551615", 1, 18446744073709551615ULL},
        {"18446744073709551616", 0, 0},             {"17179869184gb", 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        unsigned long long v = 12345;
        ck_assert_msg(rc_memtoull(t[i].in, &v) == t[i].ok, "%s", t[i].in);
        if (t[i].ok)
            ck_assert_msg(v == t[i].v, "%s gave %llu", t[i].in, v);
    }
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_str2ll_redis_table);
    tcase_add_test(tc, test_str2l_and_str2ull);
    tcase_add_test(tc, test_ll2str_matches_printf);
    tcase_add_test(tc, test_ll2str_buffer_too_small);
    tcase_add_test(tc, test_str2ld_ld2str_redis_table);
    tcase_add_test(tc, test_str2ld_limits);
    tcase_add_test(tc, test_ld2str_modes);
    tcase_add_test(tc, test_str2d_reply_redis_table);
    tcase_add_test(tc, test_str2d_long_input);
    tcase_add_test(tc, test_d2str);
    tcase_add_test(tc, test_double2ll);
    tcase_add_test(tc, test_clocks);
    tcase_add_test(tc, test_random_hex);
    tcase_add_test(tc, test_memtoull);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(util_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
