/*
 * check_rdb.c — unit tests for the RDB leaf code: crc64.c (reference
 * vectors, incremental use), lzf.c (round trips, byte-exact output of
 * redis-server for known inputs, refusal of corrupt streams) and rdb.c
 * (length and string encodings as Redis writes them, Redis-format
 * listpacks, and decoding of every supported value type — including
 * hand-built ziplists, intsets and zipmaps of older Redis versions — with
 * every truncation and many corruptions of the encoded bytes rejected
 * without reading out of bounds).
 */
#include "crc64.h"
#include "lzf.h"
#include "rdb.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* ---- crc64 ---- */

START_TEST(test_crc64_vectors)
{
    ck_assert_uint_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(crc64(0, "", 0), 0);
    /* Incremental computation over every split point agrees. */
    const char *s = "The quick brown fox jumps over the lazy dog, twice over and again.";
    size_t n = strlen(s);
    uint64_t whole = crc64(0, s, n);
    for (size_t i = 0; i <= n; i++)
        ck_assert_uint_eq(crc64(crc64(0, s, i), s + i, n - i), whole);
}
END_TEST

/* ---- lzf ---- */

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

START_TEST(test_lzf_redis_output)
{
    /* Outputs observed from redis-server 7.0.15 (DUMP of these strings). */
    static const struct {
        const char *in, *out;
    } v[] = {
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "016161e02000016161"},
        {"hello world hello world hello world hello world xyz",
         "0c68656c6c6f20776f726c642068e01a0b0278797a"},
        {"abcabcabcabcabcabcabcabcabc123123123123123123123123abcabcabc",
         "0361626361e00e0202313233e00c02a02f016263"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].in);
        unsigned char out[256];
        char h[600];
        size_t c = lzf_compress(v[i].in, n, out, n - 4);
        hex(out, c, h);
        ck_assert_str_eq(h, v[i].out);
    }
}
END_TEST

START_TEST(test_lzf_roundtrip)
{
    unsigned char in[20000], out[21000], back[20000];
    uint64_t x = 12345;
    for (int round = 0; round < 40; round++) {
        size_t n = 1 + (size_t)(x % sizeof(in));
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            /* Mix of runs, repeats and noise. */
            in[i] = (round % 3 == 0) ? (unsigned char)(x >> 60)
                    : (round % 3 == 1) ? (unsigned char)("abcdefgh"[(i / 7) % 8])
                                       : (unsigned char)(x >> 33);
        }
        size_t c = lzf_compress(in, n, out, sizeof(out));
        ck_assert_uint_gt(c, 0);
        ck_assert_uint_eq(lzf_decompress(out, c, back, n), n);
        ck_assert(memcmp(in, back, n) == 0);
        /* Too small an output buffer: refused, never overrun. */
        ck_assert_uint_eq(lzf_decompress(out, c, back, n - 1 < n ? n - 1 : 0) == n, 0);
        /* Every truncation decodes to something shorter or fails. */
        for (size_t t = 0; t < c; t += 1 + c / 50)
            ck_assert_uint_lt(lzf_decompress(out, t, back, n), n + 1);
    }
    /* Incompressible data does not fit in len - 4. */
    for (size_t i = 0; i < 64; i++)
        in[i] = (unsigned char)(i * 151 + 7);
    ck_assert_uint_eq(lzf_compress(in, 64, out, 60), 0);
}
END_TEST

START_TEST(test_lzf_corrupt)
{
    unsigned char out[64];
    /* Back reference before the start of the output. */
    static const unsigned char r1[] = {0x00, 'a', 0x20, 0x05};
    ck_assert_uint_eq(lzf_decompress(r1, sizeof(r1), out, sizeof(out)), 0);
    /* Literal run longer than the input. */
    static const unsigned char r2[] = {0x05, 'a', 'b'};
    ck_assert_uint_eq(lzf_decompress(r2, sizeof(r2), out, sizeof(out)), 0);
    /* Reference missing its offset byte / its length byte. */
    static const unsigned char r3[] = {0x00, 'a', 0x20};
    ck_assert_uint_eq(lzf_decompress(r3, sizeof(r3), out, sizeof(out)), 0);
    static const unsigned char r4[] = {0x00, 'a', 0xE0};
    ck_assert_uint_eq(lzf_decompress(r4, sizeof(r4), out, sizeof(out)), 0);
    /* Output overflow. */
    static const unsigned char r5[] = {0x00, 'a', 0xE0, 0xff, 0x00};
    ck_assert_uint_eq(lzf_decompress(r5, sizeof(r5), out, sizeof(out)), 0);
    /* A valid overlapping reference. */
    static const unsigned char ok[] = {0x00, 'a', 0x40, 0x00};
    ck_assert_uint_eq(lzf_decompress(ok, sizeof(ok), out, sizeof(out)), 5);
    ck_assert(memcmp(out, "aaaaa", 5) == 0);
}
END_TEST

/* ---- rdb primitives ---- */

static void out_hex(const struct rdb_out *o, char *buf)
{
    hex(o->p, o->len, buf);
}

START_TEST(test_rdb_len_and_strings)
{
    struct rdb_out o;
    char h[4096];
    static const struct {
        uint64_t v;
        const char *hex;
    } lens[] = {{0, "00"}, {63, "3f"}, {64, "4040"}, {16383, "7fff"}, {16384, "8000004000"},
                {4294967295ULL, "80ffffffff"}, {4294967296ULL, "810000000100000000"}};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        rdb_out_init(&o);
        rdb_out_len(&o, lens[i].v);
        out_hex(&o, h);
        ck_assert_str_eq(h, lens[i].hex);
        struct rdb_in in = {o.p, o.len, 0};
        uint64_t back;
        int enc;
        ck_assert_int_eq(rdb_in_len(&in, &back, &enc), 0);
        ck_assert_uint_eq(back, lens[i].v);
        ck_assert_int_eq(enc, 0);
        rdb_out_free(&o);
    }
    static const struct {
        const char *s, *hex;
    } strs[] = {
        {"0", "c000"},           {"-1", "c0ff"},         {"127", "c07f"},
        {"128", "c18000"},       {"-32768", "c10080"},   {"32768", "c200800000"},
        {"2147483647", "c2ffffff7f"}, {"2147483648", "0a32313437343833363438"},
        {"-0", "022d30"},        {"007", "03303037"},    {"", "00"},
        {"abc", "03616263"},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        rdb_out_init(&o);
        rdb_out_string(&o, strs[i].s, strlen(strs[i].s), 1);
        out_hex(&o, h);
        ck_assert_str_eq(h, strs[i].hex);
        struct rdb_in in = {o.p, o.len, 0};
        struct rdb_str s;
        ck_assert_int_eq(rdb_in_string(&in, &s), 0);
        ck_assert_uint_eq(s.len, strlen(strs[i].s));
        ck_assert(memcmp(s.p, strs[i].s, s.len) == 0);
        ck_assert_uint_eq(in.pos, o.len);
        rdb_str_free(&s);
        rdb_out_free(&o);
    }
    /* Long compressible string: LZF; with compression off: raw. */
    char big[300];
    memset(big, 'q', sizeof(big));
    rdb_out_init(&o);
    rdb_out_string(&o, big, sizeof(big), 1);
    ck_assert_uint_eq(o.p[0], 0xC3);
    struct rdb_in in = {o.p, o.len, 0};
    struct rdb_str s;
    ck_assert_int_eq(rdb_in_string(&in, &s), 0);
    ck_assert_uint_eq(s.len, sizeof(big));
    ck_assert(memcmp(s.p, big, sizeof(big)) == 0);
    rdb_str_free(&s);
    /* Every truncation of the compressed string is refused. */
    for (size_t t = 0; t < o.len; t++) {
        struct rdb_in tin = {o.p, t, 0};
        ck_assert_int_eq(rdb_in_string(&tin, &s), -1);
    }
    rdb_out_free(&o);
    rdb_out_init(&o);
    rdb_out_string(&o, big, sizeof(big), 0);
    ck_assert_uint_eq(o.len, 2 + sizeof(big));
    rdb_out_free(&o);
    /* rdb_out_ll_string: int encodings, digits beyond 32 bits. */
    rdb_out_init(&o);
    rdb_out_ll_string(&o, -100000);
    rdb_out_ll_string(&o, 12345678901LL);
    out_hex(&o, h);
    ck_assert_str_eq(h, "c26079feff0b3132333435363738393031");
    rdb_out_free(&o);
}
END_TEST

/* ---- value decoding ---- */

/* A sink that renders what it receives as text, for comparisons. */
struct rec {
    char text[65536];
    size_t len;
    int kind;
    int fail_at;     /* fail the n-th callback (1-based), 0: never */
    int calls;
};

static int rec_put(struct rec *r, const char *fmt, const unsigned char *p, size_t n)
{
    if (++r->calls == r->fail_at)
        return -1;
    int w = snprintf(r->text + r->len, sizeof(r->text) - r->len, fmt, (int)n, (const char *)p);
    if (w > 0 && (size_t)w < sizeof(r->text) - r->len)
        r->len += (size_t)w;
    return 0;
}

static int rec_begin(void *arg, enum rdb_kind kind, uint64_t hint)
{
    struct rec *r = arg;
    (void)hint;
    r->kind = (int)kind;
    return 0;
}

static int rec_elem(void *arg, const unsigned char *p, size_t len)
{
    return rec_put(arg, "[%.*s]", p, len);
}

static int rec_zelem(void *arg, const unsigned char *p, size_t len, double score)
{
    struct rec *r = arg;
    if (rec_put(r, "[%.*s", p, len) < 0)
        return -1;
    int w = snprintf(r->text + r->len, sizeof(r->text) - r->len, "=%.17g]", score);
    if (w > 0 && (size_t)w < sizeof(r->text) - r->len)
        r->len += (size_t)w;
    return 0;
}

static int rec_pair(void *arg, const unsigned char *f, size_t flen, const unsigned char *v,
                    size_t vlen)
{
    struct rec *r = arg;
    if (rec_put(r, "[%.*s", f, flen) < 0)
        return -1;
    return rec_put(r, ":%.*s]", v, vlen);
}

static int decode(const unsigned char *p, size_t len, struct rec *r)
{
    struct rdb_sink sink = {r, rec_begin, rec_elem, rec_zelem, rec_pair, NULL};
    r->len = 0;
    r->text[0] = '\0';
    if (len == 0)
        return -1;
    struct rdb_in in = {p + 1, len - 1, 0};
    int rc = rdb_decode_value(&in, p[0], &sink);
    if (rc == 0 && in.pos != in.len)
        return -2;
    return rc;
}

/* Decodes p and checks the rendering; then checks that every truncation
 * fails and that flipping any byte never crashes (result unchecked). */
static void expect_value(const unsigned char *p, size_t len, const char *want)
{
    struct rec *r = rc_malloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    int rc0 = decode(p, len, r);
    if (rc0 != 0)
        fprintf(stderr, "decode failed for expected %s\n", want);
    ck_assert_int_eq(rc0, 0);
    ck_assert_str_eq(r->text, want);
    int calls = r->calls;
    for (size_t t = 1; t < len; t++) {
        unsigned char *cp = rc_malloc(t);    /* exact size: ASan sees overreads */
        memcpy(cp, p, t);
        ck_assert_int_ne(decode(cp, t, r), 0);
        rc_free(cp);
    }
    unsigned char *cp = rc_malloc(len);
    for (size_t i = 1; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            memcpy(cp, p, len);
            cp[i] ^= (unsigned char)(1u << bit);
            (void)decode(cp, len, r);
        }
    }
    rc_free(cp);
    /* A sink error at any point stops decoding with an error. */
    for (int k = 1; k <= calls && k <= 3; k++) {
        memset(r, 0, sizeof(*r));
        r->fail_at = k;
        ck_assert_int_ne(decode(p, len, r), 0);
    }
    rc_free(r);
}

START_TEST(test_decode_listpack_types)
{
    /* A Redis listpack built with every entry encoding. */
    struct rlp_builder b;
    rlp_init(&b);
    rlp_add(&b, "a", 1);
    rlp_add(&b, "7", 1);
    rlp_add(&b, "-5", 2);
    rlp_add(&b, "4095", 4);
    rlp_add(&b, "-30000", 6);
    rlp_add(&b, "8000000", 7);
    rlp_add(&b, "-2000000000", 11);
    rlp_add(&b, "9223372036854775807", 19);
    char mid[100];
    memset(mid, 'm', sizeof(mid));
    rlp_add(&b, mid, sizeof(mid));
    rlp_add(&b, "00", 2);
    rlp_finish(&b);
    ck_assert(rdb_listpack_valid(b.out.p, b.out.len));
    ck_assert_uint_eq(b.out.p[4], 10);

    struct rdb_out o;
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_LIST_QUICKLIST_2);
    rdb_out_len(&o, 1);
    rdb_out_len(&o, RDB_QL_PACKED);
    rdb_out_string(&o, b.out.p, b.out.len, 1);
    char want[400];
    snprintf(want, sizeof(want),
             "[a][7][-5][4095][-30000][8000000][-2000000000][9223372036854775807][%.*s][00]",
             (int)sizeof(mid), mid);
    expect_value(o.p, o.len, want);
    rdb_out_free(&o);

    /* The same listpack as a hash (pairs) and a zset (scores). */
    struct rlp_builder h;
    rlp_init(&h);
    rlp_add(&h, "f1", 2);
    rlp_add(&h, "v1", 2);
    rlp_add(&h, "f2", 2);
    rlp_add(&h, "-12", 3);
    rlp_finish(&h);
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_HASH_LISTPACK);
    rdb_out_string(&o, h.out.p, h.out.len, 1);
    expect_value(o.p, o.len, "[f1:v1][f2:-12]");
    rdb_out_free(&o);
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_ZSET_LISTPACK);
    rdb_out_string(&o, h.out.p, h.out.len, 1);
    struct rec *r = rc_malloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    ck_assert_int_ne(decode(o.p, o.len, r), 0);     /* "v1" is not a score */
    rdb_out_free(&o);
    rlp_free(&h);

    rlp_init(&h);
    rlp_add(&h, "m", 1);
    rlp_add(&h, "1.5", 3);
    rlp_add(&h, "n", 1);
    rlp_add(&h, "-3", 2);
    rlp_finish(&h);
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_ZSET_LISTPACK);
    rdb_out_string(&o, h.out.p, h.out.len, 1);
    expect_value(o.p, o.len, "[m=1.5][n=-3]");
    rdb_out_free(&o);
    rlp_free(&h);

    /* Odd number of entries for a hash: refused. */
    rlp_free(&b);
    rlp_init(&b);
    rlp_add(&b, "f", 1);
    rlp_add(&b, "v", 1);
    rlp_add(&b, "g", 1);
    rlp_finish(&b);
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_HASH_LISTPACK);
    rdb_out_string(&o, b.out.p, b.out.len, 0);
    memset(r, 0, sizeof(*r));
    ck_assert_int_ne(decode(o.p, o.len, r), 0);
    rdb_out_free(&o);
    rlp_free(&b);

    /* An empty listpack is not a value. */
    rlp_init(&b);
    rlp_finish(&b);
    ck_assert(rdb_listpack_valid(b.out.p, b.out.len));
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_HASH_LISTPACK);
    rdb_out_string(&o, b.out.p, b.out.len, 0);
    ck_assert_int_ne(decode(o.p, o.len, r), 0);
    rdb_out_free(&o);
    rlp_free(&b);
    rc_free(r);
}
END_TEST

START_TEST(test_decode_plain_types)
{
    struct rdb_out o;
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_STRING);
    rdb_out_string(&o, "hello", 5, 1);
    expect_value(o.p, o.len, "[hello]");
    rdb_out_free(&o);

    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_SET);
    rdb_out_len(&o, 3);
    rdb_out_string(&o, "x", 1, 1);
    rdb_out_string(&o, "12", 2, 1);
    rdb_out_string(&o, "yy", 2, 1);
    expect_value(o.p, o.len, "[x][12][yy]");
    rdb_out_free(&o);

    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_ZSET_2);
    rdb_out_len(&o, 2);
    rdb_out_string(&o, "b", 1, 1);
    rdb_out_double(&o, 2.5);
    rdb_out_string(&o, "a", 1, 1);
    rdb_out_double(&o, -INFINITY);
    expect_value(o.p, o.len, "[b=2.5][a=-inf]");
    rdb_out_free(&o);

    /* NaN scores are refused. */
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_ZSET_2);
    rdb_out_len(&o, 1);
    rdb_out_string(&o, "b", 1, 1);
    rdb_out_double(&o, NAN);
    struct rec *r = rc_malloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    ck_assert_int_ne(decode(o.p, o.len, r), 0);
    rdb_out_free(&o);

    /* Old ZSET: textual scores. */
    static const unsigned char oldz[] = {RDB_TYPE_ZSET, 2, 1, 'a', 3, '1', '.', '5', 1, 'b', 254};
    expect_value(oldz, sizeof(oldz), "[a=1.5][b=inf]");

    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_HASH);
    rdb_out_len(&o, 2);
    rdb_out_string(&o, "f", 1, 1);
    rdb_out_string(&o, "v", 1, 1);
    rdb_out_string(&o, "g", 1, 1);
    rdb_out_string(&o, "100000", 6, 1);
    expect_value(o.p, o.len, "[f:v][g:100000]");
    rdb_out_free(&o);

    static const unsigned char list[] = {RDB_TYPE_LIST, 2, 1, 'a', 0xC0, 0xFB};
    expect_value(list, sizeof(list), "[a][-5]");

    /* Zero-length aggregates and unsupported types are refused. */
    static const unsigned char empty[] = {RDB_TYPE_SET, 0};
    ck_assert_int_ne(decode(empty, sizeof(empty), r), 0);
    static const unsigned char stream[] = {RDB_TYPE_STREAM_LISTPACKS, 0};
    ck_assert_int_ne(decode(stream, sizeof(stream), r), 0);
    rc_free(r);
}
END_TEST

START_TEST(test_decode_old_encodings)
{
    /* A ziplist of "ab", 5 (immediate), 300 (int16) and "xyz": entries
     * at offsets 10 (4 bytes), 14 (2), 16 (4) and 20 (5), end at 25. */
    static const unsigned char fixed[] = {
        26, 0, 0, 0,                /* zlbytes */
        20, 0, 0, 0,                /* zltail: offset of the last entry */
        4, 0,                       /* zllen */
        0, 0x02, 'a', 'b',          /* prevlen 0, 6-bit string of 2 */
        4, 0xF6,                    /* prevlen 4, immediate 5 */
        2, 0xC0, 0x2C, 0x01,        /* prevlen 2, int16 300 */
        4, 0x03, 'x', 'y', 'z',     /* prevlen 4, string of 3 */
        0xFF,
    };
    ck_assert(rdb_ziplist_valid(fixed, sizeof(fixed)));
    unsigned char broken[sizeof(fixed)];
    memcpy(broken, fixed, sizeof(fixed));
    broken[4] = 16;                 /* zltail pointing at another entry */
    ck_assert(!rdb_ziplist_valid(broken, sizeof(broken)));
    memcpy(broken, fixed, sizeof(fixed));
    broken[20] = 3;                 /* wrong prevlen */
    ck_assert(!rdb_ziplist_valid(broken, sizeof(broken)));

    struct rdb_out o;
    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_LIST_ZIPLIST);
    rdb_out_string(&o, fixed, sizeof(fixed), 0);
    expect_value(o.p, o.len, "[ab][5][300][xyz]");
    rdb_out_free(&o);

    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_LIST_QUICKLIST);
    rdb_out_len(&o, 2);
    rdb_out_string(&o, fixed, sizeof(fixed), 0);
    rdb_out_string(&o, fixed, sizeof(fixed), 1);
    expect_value(o.p, o.len, "[ab][5][300][xyz][ab][5][300][xyz]");
    rdb_out_free(&o);

    rdb_out_init(&o);
    rdb_out_byte(&o, RDB_TYPE_HASH_ZIPLIST);
    rdb_out_string(&o, fixed, sizeof(fixed), 0);
    expect_value(o.p, o.len, "[ab:5][300:xyz]");
    rdb_out_free(&o);

    /* Intset of width 4: 1, 70000. */
    static const unsigned char is[] = {RDB_TYPE_SET_INTSET, 16, 4, 0, 0, 0, 2, 0, 0, 0,
                                       1, 0, 0, 0, 0x70, 0x11, 0x01, 0};
    expect_value(is, sizeof(is), "[1][70000]");
    ck_assert(rdb_intset_valid(is + 2, 16));
    static const unsigned char unsorted[] = {2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0};
    ck_assert(!rdb_intset_valid(unsorted, sizeof(unsorted)));

    /* Zipmap (Redis < 2.6 hashes): {"k": "v", "kk": "vvv"} with a free byte. */
    static const unsigned char zm[] = {RDB_TYPE_HASH_ZIPMAP, 16, 2, 1, 'k', 1, 0, 'v',
                                       2, 'k', 'k', 3, 1, 'v', 'v', 'v', 0, 0xFF};
    expect_value(zm, sizeof(zm), "[k:v][kk:vvv]");
}
END_TEST

/* Every decoder on random bytes: must not crash (ASan/UBSan watch). */
START_TEST(test_decode_random)
{
    uint64_t x = 99;
    struct rec *r = rc_malloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < 20000; i++) {
        unsigned char buf[64];
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = 1 + (size_t)(x >> 58);
        for (size_t k = 0; k < n; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[k] = (unsigned char)(x >> 56);
        }
        buf[0] = (unsigned char)(buf[0] % 20);
        unsigned char *cp = rc_malloc(n);
        memcpy(cp, buf, n);
        (void)decode(cp, n, r);
        rc_free(cp);
    }
    rc_free(r);
}
END_TEST

static Suite *rdb_suite(void)
{
    Suite *s = suite_create("rdb");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_crc64_vectors);
    tcase_add_test(tc, test_lzf_redis_output);
    tcase_add_test(tc, test_lzf_roundtrip);
    tcase_add_test(tc, test_lzf_corrupt);
    tcase_add_test(tc, test_rdb_len_and_strings);
    tcase_add_test(tc, test_decode_listpack_types);
    tcase_add_test(tc, test_decode_plain_types);
    tcase_add_test(tc, test_decode_old_encodings);
    tcase_add_test(tc, test_decode_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed;
    SRunner *sr = srunner_create(rdb_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
