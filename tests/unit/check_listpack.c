/*
 * check_listpack.c — unit tests for the compact entry sequence
 * (src/listpack.c).
 *
 * Round trips cover integers at every width boundary and strings of every
 * length class; a randomized run applies thousands of inserts, deletes and
 * replacements to a listpack and to a plain array model side by side and
 * compares them forwards, backwards and by index after every step; the
 * validation tests feed truncated, bit-flipped and hand-forged buffers to
 * lp_validate(), which must refuse them without reading out of bounds
 * (the suite runs under AddressSanitizer in debug builds).
 */
#include "listpack.h"
#include "mem.h"
#include "util.h"

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Text of the entry at off, as a NUL-terminated malloc'd copy. */
static char *entry_text(const unsigned char *lp, size_t off, size_t *len)
{
    char buf[LP_INTBUF_SIZE];
    const char *p = lp_get_str(lp, off, len, buf);
    char *copy = malloc(*len + 1);
    memcpy(copy, p, *len);
    copy[*len] = '\0';
    return copy;
}

static void assert_valid(const unsigned char *lp)
{
    ck_assert_int_eq(lp_validate(lp, lp_bytes(lp), 1), 1);
}

/* ---- round trips ---- */

static const long long int_cases[] = {
    0, 1, 63, 64, 127, 128, 129, 255, 256, -1, -2, -127, -128, -129, -255, -256,
    32767, 32768, -32768, -32769, 65535, 65536,
    8388607, 8388608, -8388608, -8388609,
    2147483647LL, 2147483648LL, -2147483648LL, -2147483649LL,
    549755813887LL, 549755813888LL, -549755813888LL, -549755813889LL,
    140737488355327LL, 140737488355328LL, -140737488355328LL, -140737488355329LL,
    36028797018963967LL, 36028797018963968LL, -36028797018963968LL, -36028797018963969LL,
    LLONG_MAX, LLONG_MAX - 1, LLONG_MIN, LLONG_MIN + 1,
};
#define NINT (sizeof(int_cases) / sizeof(int_cases[0]))

START_TEST(test_empty)
{
    unsigned char *lp = lp_new(0);
    ck_assert_uint_eq(lp_count(lp), 0);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE);
    ck_assert_uint_eq(lp_first(lp), LP_NONE);
    ck_assert_uint_eq(lp_last(lp), LP_NONE);
    ck_assert_uint_eq(lp_seek(lp, 0), LP_NONE);
    ck_assert_uint_eq(lp_seek(lp, -1), LP_NONE);
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "a", 1, 0), LP_NONE);
    assert_valid(lp);
    lp = lp_delete_range(lp, 0, 10);
    ck_assert_uint_eq(lp_count(lp), 0);
    lp_free(lp);
    lp_free(NULL);
}
END_TEST

START_TEST(test_int_roundtrip)
{
    unsigned char *lp = lp_new(16);
    for (size_t i = 0; i < NINT; i++)
        lp = lp_append_int(lp, int_cases[i]);
    /* The same values given as text must be stored as integers too. */
    for (size_t i = 0; i < NINT; i++) {
        char buf[32];
        size_t n = rc_ll2str(buf, sizeof(buf), int_cases[i]);
        lp = lp_append(lp, buf, n);
    }
    assert_valid(lp);
    ck_assert_uint_eq(lp_count(lp), 2 * NINT);
    size_t off = lp_first(lp);
    for (size_t i = 0; i < 2 * NINT; i++) {
        struct lp_entry e;
        ck_assert_uint_ne(off, LP_NONE);
        lp_get(lp, off, &e);
        ck_assert_ptr_null(e.sval);
        ck_assert(e.lval == int_cases[i % NINT]);
        size_t len;
        char *t = entry_text(lp, off, &len);
        char expect[32];
        rc_ll2str(expect, sizeof(expect), int_cases[i % NINT]);
        ck_assert_str_eq(t, expect);
        free(t);
        off = lp_next(lp, off);
    }
    ck_assert_uint_eq(off, LP_NONE);
    lp_free(lp);
}
END_TEST

START_TEST(test_int_sizes)
{
    /* Compactness: 0..127 take 2 bytes, 128 takes 4 (tag, 2 bytes, back). */
    unsigned char *lp = lp_new(0);
    lp = lp_append_int(lp, 127);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE + 2);
    lp = lp_append_int(lp, -1);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE + 2 + 3);
    lp = lp_append_int(lp, 128);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE + 2 + 3 + 4);
    lp = lp_append_int(lp, LLONG_MIN);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE + 2 + 3 + 4 + 10);
    lp = lp_append(lp, "ab", 2);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE + 2 + 3 + 4 + 10 + 4);
    lp_free(lp);
}
END_TEST

START_TEST(test_str_roundtrip)
{
    static const size_t lens[] = {0, 1, 2, 62, 63, 64, 65, 125, 126, 127, 128, 200,
                                  8190, 8191, 8192, 8193, 16383, 16384, 70000,
                                  (1u << 21) + 3};
    const size_t nlens = sizeof(lens) / sizeof(lens[0]);
    unsigned char *lp = lp_new(0);
    char *pat = malloc(lens[nlens - 1]);
    for (size_t i = 0; i < lens[nlens - 1]; i++)
        pat[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < nlens; i++) {
        pat[0] = (char)('A' + i);   /* distinct, never an integer */
        if (i % 2)
            lp = lp_append(lp, pat, lens[i]);
        else
            lp = lp_prepend(lp, pat, lens[i]);
        assert_valid(lp);
    }
    ck_assert_uint_eq(lp_count(lp), nlens);
    /* Read back by index from both ends. */
    for (size_t i = 0; i < nlens; i++) {
        /* Prepended (even i) come first in reverse order, then appended. */
        long long idx;
        size_t evens = (nlens + 1) / 2;
        if (i % 2 == 0)
            idx = (long long)(evens - 1 - i / 2);
        else
            idx = (long long)(evens + i / 2);
        size_t off = lp_seek(lp, idx);
        ck_assert_uint_eq(off, lp_seek(lp, idx - (long long)nlens));
        struct lp_entry e;
        lp_get(lp, off, &e);
        ck_assert_ptr_nonnull(e.sval);
        ck_assert_uint_eq(e.slen, lens[i]);
        if (lens[i] > 0) {
            ck_assert_int_eq(e.sval[0], 'A' + (int)i);
            ck_assert_int_eq(memcmp(e.sval + 1, pat + 1, lens[i] - 1), 0);
        }
    }
    free(pat);
    lp_free(lp);
}
END_TEST

START_TEST(test_noncanonical_ints_stay_strings)
{
    static const char *cases[] = {"01", "-0", "+1", " 1", "1 ", "1.0", "0x10",
                                  "9223372036854775808", "-9223372036854775809",
                                  "", "-", "00"};
    unsigned char *lp = lp_new(0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        lp = lp_append(lp, cases[i], strlen(cases[i]));
    size_t off = lp_first(lp);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lp_entry e;
        lp_get(lp, off, &e);
        ck_assert_ptr_nonnull(e.sval);
        ck_assert_uint_eq(e.slen, strlen(cases[i]));
        ck_assert(lp_equal(lp, off, cases[i], strlen(cases[i])));
        off = lp_next(lp, off);
    }
    /* "1" and 1 are the same entry; "01" is not 1. */
    lp = lp_append_int(lp, 1);
    ck_assert_uint_ne(lp_find(lp, lp_first(lp), "1", 1, 0), LP_NONE);
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "01", 2, 0), lp_first(lp));
    lp_free(lp);
}
END_TEST

START_TEST(test_find_skip)
{
    /* A hash-like layout: field, value, field, value.  Values equal to
     * field names must not be found when skipping values. */
    unsigned char *lp = lp_new(0);
    const char *kv[] = {"a", "b", "b", "c", "c", "a", "10", "10"};
    for (size_t i = 0; i < 8; i++)
        lp = lp_append(lp, kv[i], strlen(kv[i]));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "a", 1, 1), lp_seek(lp, 0));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "b", 1, 1), lp_seek(lp, 2));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "c", 1, 1), lp_seek(lp, 4));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "10", 2, 1), lp_seek(lp, 6));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "b", 1, 0), lp_seek(lp, 1));
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "z", 1, 1), LP_NONE);
    /* Searching values only: start at the first value. */
    ck_assert_uint_eq(lp_find(lp, lp_seek(lp, 1), "a", 1, 1), lp_seek(lp, 5));
    /* A skip larger than the rest ends the search cleanly. */
    ck_assert_uint_eq(lp_find(lp, lp_first(lp), "c", 1, 100), LP_NONE);
    lp_free(lp);
}
END_TEST

START_TEST(test_insert_replace_delete)
{
    unsigned char *lp = lp_new(0);
    size_t off;
    lp = lp_insert(lp, LP_NONE, LP_BEFORE, "b", 1, &off);     /* append */
    lp = lp_insert(lp, LP_NONE, LP_AFTER, "a", 1, &off);      /* prepend */
    ck_assert_uint_eq(off, lp_first(lp));
    lp = lp_insert(lp, lp_last(lp), LP_AFTER, "d", 1, &off);
    ck_assert_uint_eq(off, lp_last(lp));
    lp = lp_insert_int(lp, lp_last(lp), LP_BEFORE, 3, &off);
    ck_assert_uint_eq(off, lp_seek(lp, 2));
    /* a b 3 d */
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *want[] = {"a", "b", "3", "d"};
    off = lp_first(lp);
    for (int i = 0; i < 4; i++) {
        const char *s = lp_get_str(lp, off, &len, buf);
        ck_assert_uint_eq(len, 1);
        ck_assert_int_eq(s[0], want[i][0]);
        off = lp_next(lp, off);
    }
    /* Replace with bigger, smaller and same sizes. */
    char big[300];
    memset(big, 'x', sizeof(big));
    lp = lp_replace(lp, lp_seek(lp, 1), big, sizeof(big));
    assert_valid(lp);
    ck_assert(lp_equal(lp, lp_seek(lp, 1), big, sizeof(big)));
    ck_assert(lp_equal(lp, lp_seek(lp, 2), "3", 1));
    lp = lp_replace_int(lp, lp_seek(lp, 1), -5);
    assert_valid(lp);
    ck_assert(lp_equal(lp, lp_seek(lp, 1), "-5", 2));
    lp = lp_replace_int(lp, lp_seek(lp, 1), -6);
    ck_assert(lp_equal(lp, lp_seek(lp, 1), "-6", 2));
    /* Delete the middle two; the next entry takes the offset. */
    size_t next;
    off = lp_seek(lp, 1);
    lp = lp_delete(lp, off, 2, &next);
    ck_assert_uint_eq(next, off);
    ck_assert(lp_equal(lp, next, "d", 1));
    ck_assert_uint_eq(lp_count(lp), 2);
    lp = lp_delete(lp, lp_last(lp), 5, &next);
    ck_assert_uint_eq(next, LP_NONE);
    ck_assert_uint_eq(lp_count(lp), 1);
    lp = lp_delete_range(lp, -1, 1);
    ck_assert_uint_eq(lp_count(lp), 0);
    ck_assert_uint_eq(lp_bytes(lp), LP_HEADER_SIZE);
    assert_valid(lp);
    lp_free(lp);
}
END_TEST

/* ---- randomized comparison against a model ---- */

struct model {
    char **s;
    size_t *len;
    size_t n;
    size_t cap;
};

static void model_insert(struct model *m, size_t at, const char *s, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->s = realloc(m->s, m->cap * sizeof(*m->s));
        m->len = realloc(m->len, m->cap * sizeof(*m->len));
    }
    memmove(m->s + at + 1, m->s + at, (m->n - at) * sizeof(*m->s));
    memmove(m->len + at + 1, m->len + at, (m->n - at) * sizeof(*m->len));
    m->s[at] = malloc(len + 1);
    memcpy(m->s[at], s, len);
    m->len[at] = len;
    m->n++;
}

static void model_delete(struct model *m, size_t at, size_t k)
{
    if (at + k > m->n)
        k = m->n - at;
    for (size_t i = at; i < at + k; i++)
        free(m->s[i]);
    memmove(m->s + at, m->s + at + k, (m->n - at - k) * sizeof(*m->s));
    memmove(m->len + at, m->len + at + k, (m->n - at - k) * sizeof(*m->len));
    m->n -= k;
}

/* A random value: small ints, big ints, short and long strings. */
static size_t random_value(char *buf, size_t cap)
{
    switch (rng() % 6) {
    case 0:
        return rc_ll2str(buf, cap, (long long)(rng() % 200) - 50);
    case 1:
        return rc_ll2str(buf, cap, (long long)rng());
    case 2:
        return rc_ll2str(buf, cap, (long long)(rng() % 100000000));
    case 3: {
        size_t n = rng() % 70;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(rng() & 0xFF);
        return n;
    }
    case 4: {
        size_t n = 60 + rng() % 200;
        memset(buf, 'q', n);
        return n;
    }
    default: {
        size_t n = rng() % 10000;
        if (n > cap)
            n = cap;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + rng() % 3);
        return n;
    }
    }
}

static void compare(const unsigned char *lp, const struct model *m)
{
    ck_assert_uint_eq(lp_count(lp), m->n);
    size_t off = lp_first(lp);
    for (size_t i = 0; i < m->n; i++) {
        ck_assert_uint_ne(off, LP_NONE);
        ck_assert(lp_equal(lp, off, m->s[i], m->len[i]));
        off = lp_next(lp, off);
    }
    ck_assert_uint_eq(off, LP_NONE);
    off = lp_last(lp);
    for (size_t i = m->n; i-- > 0;) {
        ck_assert_uint_ne(off, LP_NONE);
        size_t len;
        char *t = entry_text(lp, off, &len);
        ck_assert_uint_eq(len, m->len[i]);
        ck_assert(len == 0 || memcmp(t, m->s[i], len) == 0);
        free(t);
        off = lp_prev(lp, off);
    }
    ck_assert_uint_eq(off, LP_NONE);
}

START_TEST(test_random_against_model)
{
    static char buf[10000];
    struct model m = {0};
    unsigned char *lp = lp_new(0);
    for (int step = 0; step < 4000; step++) {
        unsigned op = (unsigned)(rng() % 10);
        if (m.n > 200)
            op = 7;     /* keep it small enough to compare often */
        if (op <= 4) {
            size_t len = random_value(buf, sizeof(buf));
            size_t at = m.n ? rng() % (m.n + 1) : 0;
            if (op == 0) {
                lp = lp_append(lp, buf, len);
                at = m.n;
            } else if (op == 1) {
                lp = lp_prepend(lp, buf, len);
                at = 0;
            } else if (at == m.n) {
                lp = lp_insert(lp, LP_NONE, LP_BEFORE, buf, len, NULL);
            } else if (op == 2 && at > 0) {
                lp = lp_insert(lp, lp_seek(lp, (long long)at - 1), LP_AFTER, buf, len, NULL);
            } else {
                size_t newoff;
                lp = lp_insert(lp, lp_seek(lp, (long long)at), LP_BEFORE, buf, len, &newoff);
                ck_assert_uint_eq(newoff, lp_seek(lp, (long long)at));
            }
            model_insert(&m, at, buf, len);
        } else if (op == 5 && m.n) {
            size_t at = rng() % m.n;
            size_t len = random_value(buf, sizeof(buf));
            lp = lp_replace(lp, lp_seek(lp, (long long)at - (long long)m.n), buf, len);
            model_delete(&m, at, 1);
            model_insert(&m, at, buf, len);
        } else if (op == 6 && m.n) {
            size_t at = rng() % m.n;
            long long v = (long long)rng();
            char t[32];
            size_t tl = rc_ll2str(t, sizeof(t), v);
            lp = lp_replace_int(lp, lp_seek(lp, (long long)at), v);
            model_delete(&m, at, 1);
            model_insert(&m, at, t, tl);
        } else if (m.n) {
            size_t at = rng() % m.n;
            size_t k = 1 + rng() % 4;
            if (rng() % 2)
                lp = lp_delete_range(lp, (long long)at, k);
            else
                lp = lp_delete(lp, lp_seek(lp, (long long)at), k, NULL);
            model_delete(&m, at, k);
        }
        if (step % 16 == 0 || m.n < 8) {
            compare(lp, &m);
            assert_valid(lp);
        }
        if (m.n && step % 50 == 0) {
            size_t i = rng() % m.n;
            size_t f = lp_find(lp, lp_first(lp), m.s[i], m.len[i], 0);
            ck_assert_uint_ne(f, LP_NONE);
            ck_assert(lp_equal(lp, f, m.s[i], m.len[i]));
        }
    }
    compare(lp, &m);
    unsigned char *copy = lp_dup(lp);
    ck_assert_int_eq(memcmp(copy, lp, lp_bytes(lp)), 0);
    lp_free(copy);
    model_delete(&m, 0, m.n);
    free(m.s);
    free(m.len);
    lp_free(lp);
}
END_TEST

/* ---- validation ---- */

static unsigned char *sample(void)
{
    unsigned char *lp = lp_new(0);
    char big[9000];
    memset(big, 'z', sizeof(big));
    lp = lp_append(lp, "hello", 5);
    lp = lp_append_int(lp, 7);
    lp = lp_append_int(lp, -123456789);
    lp = lp_append(lp, big, 100);
    lp = lp_append(lp, big, sizeof(big));
    lp = lp_append(lp, "", 0);
    lp = lp_append_int(lp, LLONG_MIN);
    return lp;
}

/* Walks a buffer that passed deep validation in every way the API allows;
 * AddressSanitizer flags any read outside it. */
static void walk_all(const unsigned char *buf)
{
    size_t n = 0;
    char tmp[LP_INTBUF_SIZE];
    for (size_t off = lp_first(buf); off != LP_NONE; off = lp_next(buf, off)) {
        size_t len;
        (void)lp_get_str(buf, off, &len, tmp);
        n++;
    }
    ck_assert_uint_eq(n, lp_count(buf));
    for (size_t off = lp_last(buf); off != LP_NONE; off = lp_prev(buf, off))
        n--;
    ck_assert_uint_eq(n, 0);
}

START_TEST(test_validate_corruption)
{
    unsigned char *lp = sample();
    size_t size = lp_bytes(lp);
    assert_valid(lp);
    ck_assert_int_eq(lp_validate(lp, size, 0), 1);
    ck_assert_int_eq(lp_validate(NULL, 0, 1), 0);
    ck_assert_int_eq(lp_validate(lp, 7, 1), 0);

    /* Every truncation is refused (the header total no longer matches),
     * and so is every truncation with the header patched to agree. */
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *b = malloc(cut ? cut : 1);
        memcpy(b, lp, cut);
        ck_assert_int_eq(lp_validate(b, cut, 1), 0);
        if (cut >= LP_HEADER_SIZE) {
            b[0] = (unsigned char)cut;
            b[1] = (unsigned char)(cut >> 8);
            b[2] = (unsigned char)(cut >> 16);
            b[3] = (unsigned char)(cut >> 24);
            int ok = lp_validate(b, cut, 1);
            /* Only a cut exactly between entries with the right count
             * could pass, and the count is for the whole sample. */
            ck_assert_int_eq(ok, cut == size);
        }
        free(b);
    }

    /* Wrong count. */
    unsigned char *b = malloc(size);
    memcpy(b, lp, size);
    b[4]++;
    ck_assert_int_eq(lp_validate(b, size, 1), 0);
    ck_assert_int_eq(lp_validate(b, size, 0), 1);   /* shallow: header only */

    /* Random single and multiple byte flips: either refused, or (if the
     * damage happens to be well-formed, e.g. inside a payload) walkable. */
    for (int round = 0; round < 20000; round++) {
        memcpy(b, lp, size);
        int flips = 1 + (int)(rng() % 3);
        for (int f = 0; f < flips; f++) {
            size_t at = rng() % 40;         /* mostly the structured part */
            if (rng() % 4 == 0)
                at = rng() % size;
            b[at] ^= (unsigned char)(1u << (rng() % 8));
        }
        if (lp_validate(b, size, 1))
            walk_all(b);
    }
    free(b);

    /* Forged buffers. */
    static const unsigned char bad_tag[] = {10, 0, 0, 0, 1, 0, 0, 0, 0xF0, 1};
    ck_assert_int_eq(lp_validate(bad_tag, sizeof(bad_tag), 1), 0);
    static const unsigned char huge_str[] = {14, 0, 0, 0, 1, 0, 0, 0, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF, 5};
    ck_assert_int_eq(lp_validate(huge_str, sizeof(huge_str), 1), 0);
    static const unsigned char bad_back[] = {10, 0, 0, 0, 1, 0, 0, 0, 5, 2};
    ck_assert_int_eq(lp_validate(bad_back, sizeof(bad_back), 1), 0);
    static const unsigned char long_back[] = {11, 0, 0, 0, 1, 0, 0, 0, 5, 0x80, 1};
    ck_assert_int_eq(lp_validate(long_back, sizeof(long_back), 1), 0);
    static const unsigned char short_str13[] = {10, 0, 0, 0, 1, 0, 0, 0, 0xC0};
    ck_assert_int_eq(lp_validate(short_str13, 9, 1), 0);
    static const unsigned char int_cut[] = {11, 0, 0, 0, 1, 0, 0, 0, 0xE8, 1, 2};
    ck_assert_int_eq(lp_validate(int_cut, sizeof(int_cut), 1), 0);
    static const unsigned char good[] = {13, 0, 0, 0, 2, 0, 0, 0, 5, 1, 0x81, 'x', 2};
    ck_assert_int_eq(lp_validate(good, sizeof(good), 1), 1);
    walk_all(good);
    lp_free(lp);
}
END_TEST

START_TEST(test_safe_to_add)
{
    unsigned char *lp = lp_new(0);
    ck_assert(lp_safe_to_add(lp, 100));
    ck_assert(lp_safe_to_add(NULL, 100));
    ck_assert(!lp_safe_to_add(lp, LP_SAFETY_SIZE));
    ck_assert(!lp_safe_to_add(lp, SIZE_MAX));
    lp_free(lp);
}
END_TEST

static Suite *listpack_suite(void)
{
    Suite *s = suite_create("listpack");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_int_roundtrip);
    tcase_add_test(tc, test_int_sizes);
    tcase_add_test(tc, test_str_roundtrip);
    tcase_add_test(tc, test_noncanonical_ints_stay_strings);
    tcase_add_test(tc, test_find_skip);
    tcase_add_test(tc, test_insert_replace_delete);
    tcase_add_test(tc, test_random_against_model);
    tcase_add_test(tc, test_validate_corruption);
    tcase_add_test(tc, test_safe_to_add);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(listpack_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
