/*
 * check_aof.c — unit tests for aoffmt.c: the checksum annotation line, the
 * Redis 7.0 manifest parser and writer, and the log scanner's verdicts
 * (intact, torn tail at every byte, damage in the middle, files without
 * our annotations as Redis writes them).
 */
#include "aoffmt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc64.h"
#include "mem.h"

/* A log of n batches after the header, each holding one SET record;
 * ends[i] is the offset just past batch i's annotation.  Returns the rc_malloc'ed bytes. */
static char *make_log(int n, size_t *len, size_t *ends)
{
    size_t cap = 4096, used = AOFFMT_HEADER_LEN;
    char *buf = rc_malloc(cap);
    memcpy(buf, AOFFMT_HEADER, AOFFMT_HEADER_LEN);
    for (int i = 0; i < n; i++) {
        char rec[128];
        char val[32];
        int vl = snprintf(val, sizeof(val), "value-%d", i);
        int rl = snprintf(rec, sizeof(rec), "*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$%d\r\n%s\r\n",
                          i % 10, vl, val);
        ck_assert(used + (size_t)rl + AOFFMT_ANNOTATION_MAX < cap);
        memcpy(buf + used, rec, (size_t)rl);
        char ann[AOFFMT_ANNOTATION_MAX];
        size_t an = aoffmt_annotation(ann, crc64(0, rec, (size_t)rl), (size_t)rl);
        memcpy(buf + used + rl, ann, an);
        used += (size_t)rl + an;
        ends[i] = used;
    }
    *len = used;
    return buf;
}

START_TEST(test_annotation_roundtrip)
{
    char ann[AOFFMT_ANNOTATION_MAX];
    size_t n = aoffmt_annotation(ann, UINT64_C(0xe9c6d914c4b8d9ca), 12345);
    ck_assert_str_eq(ann, "#RC crc64 e9c6d914c4b8d9ca len 12345\r\n");
    ck_assert_uint_eq(n, strlen(ann));
    uint64_t crc;
    size_t len;
    ck_assert_int_eq(aoffmt_parse_annotation(ann, n - 1, &crc, &len), 0);
    ck_assert(crc == UINT64_C(0xe9c6d914c4b8d9ca));
    ck_assert_uint_eq(len, 12345);
    /* Other annotations and damaged ones are not ours. */
    ck_assert_int_eq(aoffmt_parse_annotation("#TS:1700000000", 14, &crc, &len), -1);
    ck_assert_int_eq(aoffmt_parse_annotation("#RC crc64 e9c6d914c4b8d9cZ len 1", 32, &crc,
                                             &len), -1);
    ck_assert_int_eq(aoffmt_parse_annotation("#RC crc64 e9c6d914c4b8d9ca len ", 31, &crc,
                                             &len), -1);
    ck_assert_int_eq(aoffmt_parse_annotation("#RC crc64 e9c6d914c4b8d9ca len 99999999999999999999",
                                             51, &crc, &len), -1);
    /* The CRC is Redis's CRC-64. */
    ck_assert(crc64(0, "123456789", 9) == UINT64_C(0xe9c6d914c4b8d9ca));
}
END_TEST

START_TEST(test_manifest_parse)
{
    const char *text = "file appendonly.aof.1.base.rdb seq 1 type b\n"
                       "# a comment\n"
                       "file appendonly.aof.1.incr.aof seq 1 type i\r\n"
                       "file appendonly.aof.0.base.rdb seq 0 type h\n"
                       "\n"
                       "type i seq 2 file appendonly.aof.2.incr.aof extra x\n";
    struct aoffmt_manifest m;
    char err[128];
    ck_assert_int_eq(aoffmt_manifest_parse(text, strlen(text), &m, err, sizeof(err)), -1);
    /* seq 0 is invalid, even for history: fix it and parse again. */
    text = "file appendonly.aof.1.base.rdb seq 1 type b\n"
           "# a comment\n"
           "file appendonly.aof.1.incr.aof seq 1 type i\r\n"
           "file appendonly.aof.0.base.rdb seq 3 type h\n"
           "\n"
           "type i seq 2 file appendonly.aof.2.incr.aof extra x\n";
    ck_assert_int_eq(aoffmt_manifest_parse(text, strlen(text), &m, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(m.base);
    ck_assert_str_eq(m.base->name, "appendonly.aof.1.base.rdb");
    ck_assert_uint_eq(m.nincr, 2);
    ck_assert_str_eq(m.incr[0].name, "appendonly.aof.1.incr.aof");
    ck_assert_int_eq(m.incr[1].seq, 2);
    size_t len;
    char *out = aoffmt_manifest_format(&m, &len);
    ck_assert_str_eq(out, "file appendonly.aof.1.base.rdb seq 1 type b\n"
                          "file appendonly.aof.1.incr.aof seq 1 type i\n"
                          "file appendonly.aof.2.incr.aof seq 2 type i\n");
    ck_assert_uint_eq(len, strlen(out));
    rc_free(out);
    aoffmt_manifest_free(&m);
}
END_TEST

START_TEST(test_manifest_errors)
{
    static const char *bad[] = {
        "",                                                     /* empty */
        "file a seq 1\n",                                       /* no type */
        "file a seq 1 type x\n",                                /* bad type */
        "file a seq -1 type i\n",                               /* bad seq */
        "file a seq 1 type\n",                                  /* odd fields */
        "file a seq 1 type b\nfile b seq 2 type b\n",           /* two bases */
        "file a seq 2 type i\nfile b seq 2 type i\n",           /* not increasing */
        "file \"a b\" seq 1 type i\n",                          /* quoted names */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct aoffmt_manifest m;
        char err[128];
        ck_assert_msg(aoffmt_manifest_parse(bad[i], strlen(bad[i]), &m, err, sizeof(err)) == -1,
                      "accepted: %s", bad[i]);
        ck_assert(err[0] != '\0');
    }
    struct aoffmt_manifest m = {0};
    ck_assert_int_eq(aoffmt_manifest_add(&m, "has space", 1, AOFFMT_INCR), -1);
    ck_assert_int_eq(aoffmt_manifest_add(&m, "", 1, AOFFMT_INCR), -1);
    ck_assert_int_eq(aoffmt_manifest_add(&m, "ok.aof", 1, AOFFMT_INCR), 0);
    aoffmt_manifest_free(&m);
}
END_TEST

START_TEST(test_scan_intact)
{
    size_t ends[8], len;
    char *log = make_log(8, &len, ends);
    struct aoffmt_scan sc;
    aoffmt_scan(log, len, &sc);
    ck_assert_int_eq(sc.status, AOFFMT_OK);
    ck_assert_uint_eq(sc.valid_end, len);
    ck_assert_uint_eq(sc.commands, 8);
    ck_assert(sc.framed);
    aoffmt_scan("", 0, &sc);
    ck_assert_int_eq(sc.status, AOFFMT_OK);
    rc_free(log);
}
END_TEST

START_TEST(test_scan_truncated_at_every_byte)
{
    size_t ends[6], len;
    char *log = make_log(6, &len, ends);
    for (size_t cut = 0; cut <= len; cut++) {
        struct aoffmt_scan sc;
        aoffmt_scan(log, cut, &sc);
        size_t keep = cut >= AOFFMT_HEADER_LEN ? AOFFMT_HEADER_LEN : 0, n = 0;
        for (int i = 0; i < 6; i++) {
            if (ends[i] <= cut) {
                keep = ends[i];
                n++;
            }
        }
        ck_assert_msg(sc.status != AOFFMT_CORRUPT, "cut %zu called corrupt", cut);
        ck_assert_uint_eq(sc.valid_end, keep);
        ck_assert_uint_eq(sc.commands, n);
        ck_assert_int_eq(sc.status, keep == cut ? AOFFMT_OK : AOFFMT_TRUNCATED);
    }
    rc_free(log);
}
END_TEST

START_TEST(test_scan_damage_in_the_middle)
{
    size_t ends[6], len;
    char *log = make_log(6, &len, ends);
    /* Every byte of every batch but the last: flipping it is damage
     * before a later checksum, named at the batch or the byte. */
    for (size_t off = AOFFMT_HEADER_LEN; off < ends[4]; off++) {
        char *copy = rc_malloc(len);
        memcpy(copy, log, len);
        copy[off] ^= 0x01;
        struct aoffmt_scan sc;
        aoffmt_scan(copy, len, &sc);
        ck_assert_msg(sc.status == AOFFMT_CORRUPT, "flip at %zu not detected", off);
        size_t batch = AOFFMT_HEADER_LEN;
        for (int i = 0; i < 6 && ends[i] <= off; i++)
            batch = ends[i];
        ck_assert_msg(sc.bad_offset >= batch && sc.bad_offset <= off,
                      "flip at %zu reported at %zu", off, sc.bad_offset);
        ck_assert_uint_le(sc.valid_end, batch);
        rc_free(copy);
    }
    rc_free(log);
}
END_TEST

START_TEST(test_scan_unframed_like_redis)
{
    const char *log = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n"
                      "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";
    size_t len = strlen(log);
    struct aoffmt_scan sc;
    aoffmt_scan(log, len, &sc);
    ck_assert_int_eq(sc.status, AOFFMT_OK);
    ck_assert(!sc.framed);
    ck_assert_uint_eq(sc.commands, 2);
    /* A partial last command is a torn tail... */
    aoffmt_scan(log, len - 3, &sc);
    ck_assert_int_eq(sc.status, AOFFMT_TRUNCATED);
    ck_assert_uint_eq(sc.valid_end, strlen("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n"));
    /* ...a malformed one is damage. */
    char bad[128];
    memcpy(bad, log, len);
    bad[0] = '?';
    aoffmt_scan(bad, len, &sc);
    ck_assert_int_eq(sc.status, AOFFMT_CORRUPT);
    ck_assert_uint_eq(sc.bad_offset, 0);
}
END_TEST

START_TEST(test_next_arguments)
{
    const char *log = "#x\n*3\r\n$3\r\nSET\r\n$0\r\n\r\n$2\r\nab\r\n";
    size_t len = strlen(log), pos = 0, argc;
    const char *av[3];
    size_t al[3];
    ck_assert_int_eq(aoffmt_next(log, len, &pos, av, al, 3, &argc), 0);
    size_t at = pos;
    ck_assert_int_eq(aoffmt_next(log, len, &pos, av, al, 2, &argc), -3);
    ck_assert_uint_eq(argc, 3);
    pos = at;
    ck_assert_int_eq(aoffmt_next(log, len, &pos, av, al, 3, &argc), 1);
    ck_assert_uint_eq(pos, len);
    ck_assert_uint_eq(al[1], 0);
    ck_assert(al[2] == 2 && memcmp(av[2], "ab", 2) == 0);
    /* Sizes beyond the bounds are malformed, not huge allocations. */
    const char *huge = "*1\r\n$99999999999999999999\r\n";
    pos = 0;
    ck_assert_int_eq(aoffmt_next(huge, strlen(huge), &pos, av, al, 3, &argc), -2);
}
END_TEST

static Suite *aof_suite(void)
{
    Suite *s = suite_create("aof");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_annotation_roundtrip);
    tcase_add_test(tc, test_manifest_parse);
    tcase_add_test(tc, test_manifest_errors);
    tcase_add_test(tc, test_scan_intact);
    tcase_add_test(tc, test_scan_truncated_at_every_byte);
    tcase_add_test(tc, test_scan_damage_in_the_middle);
    tcase_add_test(tc, test_scan_unframed_like_redis);
    tcase_add_test(tc, test_next_arguments);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(aof_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
