/*
 * check_resp.c — unit tests for the RESP request parser (src/resp.c).
 *
 * The expected results were taken from redis-server 7.0.15 by sending the
 * same bytes to it: error texts, which conditions raise which, and the
 * corners (NUL bytes hiding a line end, unchecked bytes after CR and after
 * bulk data, the INT_MAX multibulk cap, inline splitting rules).
 *
 * Every input is copied into a heap block of exactly its size, so
 * AddressSanitizer catches any read past the bytes handed to the parser.
 */
#include "resp.h"

#include "mem.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Heap copy of len bytes, sized exactly (at least 1 byte). */
static char *dup_exact(const char *s, size_t len)
{
    char *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    if (len)
        memcpy(b, s, len);
    return b;
}

static struct resp_limits deflim(void)
{
    struct resp_limits lim;
    resp_limits_init(&lim);
    return lim;
}

static struct resp_limits unauthlim(void)
{
    struct resp_limits lim = deflim();
    lim.max_multibulk_unauth = RESP_UNAUTH_MAX_MULTIBULK;
    lim.max_bulk_unauth = RESP_UNAUTH_MAX_BULK;
    return lim;
}

/* Parse s[0..len) in one call with fresh parser state. */
static enum resp_status parse_once(struct resp_parser *p, char *buf,
                                   size_t len, const struct resp_limits *lim,
                                   size_t *consumed, const char **err)
{
    *err = NULL;
    return resp_parse(p, buf, len, lim, consumed, err);
}

static void assert_error(const char *s, size_t len,
                         const struct resp_limits *lim, const char *msg)
{
    struct resp_parser p;
    size_t consumed = 99;
    const char *err = NULL;
    char *buf = dup_exact(s, len);

    resp_parser_init(&p);
    ck_assert_int_eq(parse_once(&p, buf, len, lim, &consumed, &err),
                     RESP_ERROR);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, msg);
    ck_assert_uint_eq(consumed, 0);
    /* Sticky until reset. */
    err = NULL;
    ck_assert_int_eq(resp_parse(&p, buf, len, lim, &consumed, &err),
                     RESP_ERROR);
    ck_assert_str_eq(err, msg);
    resp_parser_deinit(&p);
    free(buf);
}

static void assert_more(const char *s, size_t len,
                        const struct resp_limits *lim, size_t need)
{
    struct resp_parser p;
    size_t consumed = 99;
    const char *err = NULL;
    char *buf = dup_exact(s, len);

    resp_parser_init(&p);
    ck_assert_int_eq(parse_once(&p, buf, len, lim, &consumed, &err),
                     RESP_MORE);
    ck_assert_uint_eq(consumed, 0);
    ck_assert_uint_eq(resp_parser_need(&p), need);
    resp_parser_deinit(&p);
    free(buf);
}

static void assert_arg(const struct resp_parser *p, const char *buf,
                       size_t i, const char *want, size_t wantlen)
{
    ck_assert_uint_lt(i, p->argc);
    ck_assert_uint_eq(p->argv[i].len, wantlen);
    ck_assert_mem_eq(buf + p->argv[i].off, want, wantlen);
}

#define ARG(p, buf, i, lit) assert_arg((p), (buf), (i), (lit), sizeof(lit) - 1)
#define L(lit) (lit), (sizeof(lit) - 1)

/*
 * Parse one command that must complete.  Checks *consumed and argc; the
 * parser is left holding the result, buf (returned) holds the possibly
 * decoded bytes.  Caller frees buf and deinits p.
 */
static char *parse_done(struct resp_parser *p, const char *s, size_t len,
                        size_t want_consumed, size_t want_argc)
{
    struct resp_limits lim = deflim();
    size_t consumed = 0;
    const char *err = NULL;
    char *buf = dup_exact(s, len);

    resp_parser_init(p);
    ck_assert_int_eq(parse_once(p, buf, len, &lim, &consumed, &err),
                     RESP_DONE);
    ck_assert_uint_eq(consumed, want_consumed);
    ck_assert_uint_eq(p->argc, want_argc);
    for (size_t i = 0; i < p->argc; i++)
        ck_assert_uint_le(p->argv[i].off + p->argv[i].len, consumed);
    return buf;
}

/* ------------------------------------------------------------- multibulk */

START_TEST(test_multibulk_basic)
{
    struct resp_parser p;
    char *buf = parse_done(&p, L("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n"),
                           31, 3);
    ck_assert_int_eq(p.is_inline, 0);
    ARG(&p, buf, 0, "SET");
    ARG(&p, buf, 1, "a");
    ARG(&p, buf, 2, "hello");
    ck_assert_uint_eq(p.argv[0].off, 8);
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

START_TEST(test_multibulk_binary)
{
    static const char cmd[] = "*2\r\n$3\r\nSET\r\n$9\r\n\0\r\n*1\r\n$\0\r\n";
    struct resp_parser p;
    char *buf = parse_done(&p, cmd, sizeof(cmd) - 1, sizeof(cmd) - 1, 2);
    ARG(&p, buf, 0, "SET");
    assert_arg(&p, buf, 1, "\0\r\n*1\r\n$\0", 9);
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

START_TEST(test_multibulk_empty_bulk_and_trailing_data)
{
    struct resp_parser p;
    /* Trailing bytes belong to the next command and are not consumed. */
    char *buf = parse_done(&p, L("*2\r\n$0\r\n\r\n$1\r\nx\r\nGARBAGE"), 17, 2);
    ARG(&p, buf, 0, "");
    ARG(&p, buf, 1, "x");
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

START_TEST(test_multibulk_empty_commands)
{
    struct resp_parser p;
    char *buf;

    buf = parse_done(&p, L("*0\r\n"), 4, 0);
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L("*-1\r\nPING\r\n"), 5, 0);
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L("*-9223372036854775808\r\n"), 23, 0);
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

/* Redis skips the byte after a header's CR and the two bytes after bulk
 * data without looking at them. */
START_TEST(test_multibulk_unchecked_terminators)
{
    struct resp_parser p;
    char *buf;

    buf = parse_done(&p, L("*1\rX$4\r\nPING\r\n"), 14, 1);
    ARG(&p, buf, 0, "PING");
    resp_parser_deinit(&p);
    free(buf);

    buf = parse_done(&p, L("*1\r\n$4\rXPINGab*1\r\n"), 14, 1);
    ARG(&p, buf, 0, "PING");
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

/* strchr() stops at NUL: a NUL in a header line hides its CR. */
START_TEST(test_multibulk_nul_in_header)
{
    struct resp_limits lim = deflim();
    char big[70000];

    assert_more(L("*1\0\r\n$4\r\nPING\r\n"), &lim, 16);
    assert_more(L("*1\r\n$4\0\r\nPING\r\n"), &lim, 16);

    memset(big, 'x', sizeof(big));
    memcpy(big, "*1\0\r\n", 5);
    assert_error(big, sizeof(big), &lim,
                 "Protocol error: too big mbulk count string");
    memcpy(big, "*1\r\n$1\0\r\n", 9);
    assert_error(big, sizeof(big), &lim,
                 "Protocol error: too big bulk count string");
}
END_TEST

START_TEST(test_need_hints)
{
    struct resp_limits lim = deflim();

    assert_more("", 0, &lim, 1);
    assert_more(L("*"), &lim, 2);
    assert_more(L("*1"), &lim, 3);
    assert_more(L("*1\r"), &lim, 4);            /* CR seen, one more byte */
    assert_more(L("*1\r\n"), &lim, 5);
    assert_more(L("*1\r\n$4\r"), &lim, 8);
    assert_more(L("*1\r\n$4\r\n"), &lim, 14);   /* end of bulk + 2 */
    assert_more(L("*1\r\n$4\r\nPI"), &lim, 14);
    assert_more(L("*1\r\n$4\r\nPING\r"), &lim, 14);
    assert_more(L("*2\r\n$4\r\nPING\r\n$10\r\n"), &lim, 14 + 5 + 12);
    assert_more(L("PING"), &lim, 5);
    assert_more(L("PING\r"), &lim, 6);
}
END_TEST

/* A huge announced size allocates nothing in proportion to it. */
START_TEST(test_big_headers_allocate_little)
{
    struct resp_limits lim = deflim();
    struct resp_parser p;
    size_t consumed;
    const char *err;
    size_t before = rc_used_memory();
    char *buf = dup_exact(L("*2147483647\r\n$536870912\r\n"));

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, buf, 25, &lim, &consumed, &err),
                     RESP_MORE);
    ck_assert_uint_eq(resp_parser_need(&p), 25 + 536870912 + 2);
    ck_assert_uint_le(p.argv_cap, 1024);
    ck_assert_uint_le(rc_used_memory() - before, 1024 * sizeof(struct resp_arg) + 64);
    resp_parser_deinit(&p);
    ck_assert_uint_eq(rc_used_memory(), before);
    free(buf);

    /* On a master link there is no bulk limit; the hint saturates or is
     * exact, never wraps. */
    lim.max_bulk = LLONG_MAX;
    assert_more(L("*1\r\n$9223372036854775807\r\n"), &lim,
                (unsigned long long)LLONG_MAX > SIZE_MAX - 28
                    ? SIZE_MAX
                    : (size_t)LLONG_MAX + 26 + 2);
}
END_TEST

/* argv grows with the arguments that arrive, past the first 1024. */
START_TEST(test_argv_growth)
{
    enum { N = 5000 };
    struct resp_limits lim = deflim();
    struct resp_parser p;
    size_t cap = 32 + (size_t)N * 16;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "*%d\r\n", N);
    size_t consumed;
    const char *err;
    char *buf;

    for (int i = 0; i < N; i++) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", i);
        len += (size_t)snprintf(s + len, cap - len, "$%d\r\n%s\r\n", n, num);
    }
    buf = dup_exact(s, len);
    resp_parser_init(&p);
    /* Stop half way first: capacity is bounded by what arrived. */
    ck_assert_int_eq(resp_parse(&p, buf, len / 2, &lim, &consumed, &err),
                     RESP_MORE);
    ck_assert_uint_le(p.argv_cap, 2 * p.argc + 1024);
    ck_assert_int_eq(resp_parse(&p, buf, len, &lim, &consumed, &err),
                     RESP_DONE);
    ck_assert_uint_eq(consumed, len);
    ck_assert_uint_eq(p.argc, N);
    ck_assert_uint_le(p.argv_cap, N);
    for (int i = 0; i < N; i++) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", i);
        assert_arg(&p, buf, (size_t)i, num, (size_t)n);
    }
    /* A big array is released by reset, a small one kept. */
    resp_parser_reset(&p);
    ck_assert_ptr_null(p.argv);
    ck_assert_uint_eq(p.argc, 0);
    ck_assert_int_eq(resp_parse(&p, buf, 0, &lim, &consumed, &err),
                     RESP_MORE);
    resp_parser_deinit(&p);
    free(buf);
    free(s);
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(test_error_too_big_inline)
{
    struct resp_limits lim = deflim();
    char *s = malloc(70000);

    memset(s, 'A', 70000);
    assert_more(s, 65536, &lim, 65537);
    assert_error(s, 65537, &lim, "Protocol error: too big inline request");
    /* A NUL hides the LF, as strchr() hides it in Redis. */
    memcpy(s, "PING\0", 5);
    s[69998] = '\r';
    s[69999] = '\n';
    assert_error(s, 70000, &lim, "Protocol error: too big inline request");
    assert_more(L("PING\0\r\n"), &lim, 8);
    /* A complete line is not limited (Redis checks only while waiting). */
    memset(s, 'A', 70000);
    s[69999] = '\n';
    {
        struct resp_parser p;
        char *buf = parse_done(&p, s, 70000, 70000, 1);
        ck_assert_uint_eq(p.argv[0].len, 69999);
        resp_parser_deinit(&p);
        free(buf);
    }
    free(s);
}
END_TEST

START_TEST(test_error_too_big_mbulk_count)
{
    struct resp_limits lim = deflim();
    char *s = malloc(65537);

    s[0] = '*';
    memset(s + 1, '1', 65536);
    assert_more(s, 65536, &lim, 65537);
    assert_error(s, 65537, &lim, "Protocol error: too big mbulk count string");
    free(s);
}
END_TEST

START_TEST(test_error_invalid_multibulk)
{
    static const char *const bad[] = {
        "*2147483648\r\n", "*-0\r\n", "*01\r\n", "*+1\r\n", "* 1\r\n",
        "*1 \r\n", "*\r\n", "*abc\r\n", "*-\r\n", "*1x\r\n",
        "*99999999999999999999\r\n", "*-9223372036854775809\r\n",
        "*000000000000000000000001\r\n",
    };
    struct resp_limits lim = deflim();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_error(bad[i], strlen(bad[i]), &lim,
                     "Protocol error: invalid multibulk length");
    /* Redis 7.0 caps the count at INT_MAX. */
    assert_more(L("*2147483647\r\n"), &lim, 14);
    /* A configured cap, e.g. the 1024*1024 of Redis 6. */
    lim.max_multibulk = 1024 * 1024;
    assert_error(L("*1048577\r\n"), &lim,
                 "Protocol error: invalid multibulk length");
    assert_more(L("*1048576\r\n"), &lim, 11);
}
END_TEST

START_TEST(test_error_expected_dollar)
{
    struct resp_limits lim = deflim();

    assert_error(L("*1\r\nX\r\n"), &lim,
                 "Protocol error: expected '$', got 'X'");
    assert_error(L("*2\r\n$1\r\na\r\n:1\r\n"), &lim,
                 "Protocol error: expected '$', got ':'");
    /* Redis's error replies carry CR/LF as spaces. */
    assert_error(L("*1\r\n\r\n"), &lim,
                 "Protocol error: expected '$', got ' '");
    assert_error(L("*1\r\n\n\r\n"), &lim,
                 "Protocol error: expected '$', got ' '");
    /* Only once the header line is complete. */
    assert_more(L("*1\r\nX"), &lim, 6);
}
END_TEST

START_TEST(test_error_too_big_bulk_count)
{
    struct resp_limits lim = deflim();
    size_t n = 4 + 1 + 65536;
    char *s = malloc(n);

    memcpy(s, "*1\r\n$", 5);
    memset(s + 5, '1', n - 5);
    assert_more(s, n - 1, &lim, n);
    assert_error(s, n, &lim, "Protocol error: too big bulk count string");
    free(s);
}
END_TEST

START_TEST(test_error_invalid_bulk)
{
    static const char *const bad[] = {
        "*1\r\n$-1\r\n", "*1\r\n$536870913\r\n", "*1\r\n$\r\n",
        "*1\r\n$04\r\n", "*1\r\n$+4\r\n", "*1\r\n$ 4\r\n", "*1\r\n$4 \r\n",
        "*1\r\n$9223372036854775808\r\n", "*1\r\n$-9223372036854775808\r\n",
        "*1\r\n$99999999999999999999999\r\n", "*1\r\n$-0\r\n",
        "*2\r\n$1\r\na\r\n$x\r\n",
    };
    struct resp_limits lim = deflim();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_error(bad[i], strlen(bad[i]), &lim,
                     "Protocol error: invalid bulk length");
    assert_more(L("*1\r\n$536870912\r\n"), &lim, 16 + 536870912 + 2);
    lim.max_bulk = 10;
    assert_error(L("*1\r\n$11\r\n"), &lim,
                 "Protocol error: invalid bulk length");
}
END_TEST

START_TEST(test_error_unbalanced_quotes)
{
    static const char *const bad[] = {
        "ECHO \"abc\r\n", "ECHO 'abc\r\n", "ECHO \"a\"b\r\n", "ECHO 'a'b\r\n",
        "ECHO a\"b c\"d\r\n", "ECHO \"a\\\"\r\n", "ECHO \"a\\\r\n",
        "ECHO 'a\\'\r\n", "\"\r\n",
    };
    struct resp_limits lim = deflim();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = strlen(bad[i]);
        struct resp_parser p;
        size_t consumed;
        const char *err;
        char *buf = dup_exact(bad[i], len);

        resp_parser_init(&p);
        ck_assert_int_eq(resp_parse(&p, buf, len, &lim, &consumed, &err),
                         RESP_ERROR);
        ck_assert_str_eq(err, "Protocol error: unbalanced quotes in request");
        /* A rejected line is left as it was. */
        ck_assert_mem_eq(buf, bad[i], len);
        resp_parser_deinit(&p);
        free(buf);
    }
}
END_TEST

START_TEST(test_error_unauthenticated)
{
    struct resp_limits lim = unauthlim();

    assert_error(L("*11\r\n"), &lim,
                 "Protocol error: unauthenticated multibulk length");
    assert_more(L("*10\r\n"), &lim, 6);
    /* Negative and zero counts are empty commands, allowed before AUTH. */
    {
        struct resp_parser p;
        char line[8];
        size_t consumed;
        const char *err;

        memcpy(line, "*-1\r\n", 5);
        resp_parser_init(&p);
        ck_assert_int_eq(resp_parse(&p, line, 5, &lim, &consumed, &err),
                         RESP_DONE);
        ck_assert_uint_eq(p.argc, 0);
        ck_assert_uint_eq(consumed, 5);
        resp_parser_deinit(&p);
    }
}
END_TEST

START_TEST(test_error_unauthenticated_bulk)
{
    struct resp_limits lim = unauthlim();

    assert_error(L("*10\r\n$16385\r\n"), &lim,
                 "Protocol error: unauthenticated bulk length");
    assert_more(L("*10\r\n$16384\r\n"), &lim, 13 + 16384 + 2);
    /* The normal limits are checked first. */
    assert_error(L("*2147483648\r\n"), &lim,
                 "Protocol error: invalid multibulk length");
    assert_error(L("*1\r\n$536870913\r\n"), &lim,
                 "Protocol error: invalid bulk length");
    assert_error(L("*1\r\n$-1\r\n"), &lim,
                 "Protocol error: invalid bulk length");
    /* Inline requests have no unauthenticated limit in Redis 7.0. */
    {
        struct resp_parser p;
        char line[40];
        size_t consumed;
        const char *err;

        memcpy(line, "a b c d e f g h i j k l m\r\n", 27);
        resp_parser_init(&p);
        ck_assert_int_eq(resp_parse(&p, line, 27, &lim, &consumed, &err),
                         RESP_DONE);
        ck_assert_uint_eq(p.argc, 13);
        resp_parser_deinit(&p);
    }
}
END_TEST

/* ---------------------------------------------------------------- inline */

START_TEST(test_inline_basic)
{
    struct resp_parser p;
    char *buf = parse_done(&p, L("SET a b\r\nGET a\r\n"), 9, 3);
    ck_assert_int_eq(p.is_inline, 1);
    ARG(&p, buf, 0, "SET");
    ARG(&p, buf, 1, "a");
    ARG(&p, buf, 2, "b");
    resp_parser_deinit(&p);
    free(buf);

    /* LF alone ends a line too; only one CR is dropped, and an inner CR
     * separates arguments. */
    buf = parse_done(&p, L("PING\n"), 5, 1);
    ARG(&p, buf, 0, "PING");
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L("ECHO a\r\r\n"), 9, 2);
    ARG(&p, buf, 1, "a");
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L("ECHO a\rb\r\n"), 10, 3);
    ARG(&p, buf, 2, "b");
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

START_TEST(test_inline_empty_lines)
{
    struct resp_parser p;
    char *buf;

    buf = parse_done(&p, L("\r\n"), 2, 0);
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L("\n\nPING\r\n"), 1, 0);
    resp_parser_deinit(&p);
    free(buf);
    buf = parse_done(&p, L(" \t\v\f \r\n"), 7, 0);
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

START_TEST(test_inline_quoting)
{
    struct resp_parser p;
    char *buf;

    buf = parse_done(&p, L("ECHO \"a\\x41\\n\\r\\t\\b\\a\\\\\\\"\\z\"\r\n"), 30, 2);
    ARG(&p, buf, 0, "ECHO");
    ARG(&p, buf, 1, "aA\n\r\t\b\a\\\"z");
    resp_parser_deinit(&p);
    free(buf);

    /* \x needs two hex digits, else the x is just escaped. */
    buf = parse_done(&p, L("ECHO \"\\xZZ\\x4\\xfF\"\n"), 19, 2);
    ARG(&p, buf, 1, "xZZx4\xff");
    resp_parser_deinit(&p);
    free(buf);

    /* Single quotes: only \' is an escape. */
    buf = parse_done(&p, L("ECHO 'a\\'b\\n\"c'\r\n"), 17, 2);
    ARG(&p, buf, 1, "a'b\\n\"c");
    resp_parser_deinit(&p);
    free(buf);

    /* A quote may open inside an argument; empty quoted arguments count. */
    buf = parse_done(&p, L("SET a\"b c\" '' \"\"\r\n"), 18, 4);
    ARG(&p, buf, 0, "SET");
    ARG(&p, buf, 1, "ab c");
    ARG(&p, buf, 2, "");
    ARG(&p, buf, 3, "");
    resp_parser_deinit(&p);
    free(buf);

    /* \v and \f end a closing quote and are skipped between arguments, but
     * do not split an unquoted argument (sdssplitargs's rules). */
    buf = parse_done(&p, L("ECHO a\vb \v\"c\"\f\r\n"), 16, 3);
    ARG(&p, buf, 1, "a\vb");
    ARG(&p, buf, 2, "c");
    resp_parser_deinit(&p);
    free(buf);

    /* Decoding happens in place; offsets point at the decoded bytes. */
    buf = parse_done(&p, L("X \"\\x00\\x01\" y\n"), 15, 3);
    assert_arg(&p, buf, 1, "\0\1", 2);
    ck_assert_uint_eq(p.argv[1].off, 2);
    ARG(&p, buf, 2, "y");
    ck_assert_uint_eq(p.argv[2].off, 13);
    resp_parser_deinit(&p);
    free(buf);
}
END_TEST

/* ------------------------------------------------------- streams of input */

/*
 * Pipelines: thousands of commands of both forms in one buffer, parsed by
 * advancing through it, as a connection does.
 */
START_TEST(test_pipeline)
{
    enum { N = 3000 };
    struct resp_limits lim = deflim();
    struct resp_parser p;
    size_t cap = (size_t)N * 64;
    char *s = malloc(cap);
    size_t len = 0, off = 0;
    int seen = 0;
    char *buf;

    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0:
            len += (size_t)snprintf(s + len, cap - len,
                                    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%d\r\n",
                                    snprintf(NULL, 0, "%d", i), i);
            break;
        case 1:
            len += (size_t)snprintf(s + len, cap - len, "SET k %d\r\n", i);
            break;
        case 2:
            len += (size_t)snprintf(s + len, cap - len,
                                    "*-1\r\n\r\nSET k \"%d\"\n", i);
            break;
        default:
            len += (size_t)snprintf(s + len, cap - len,
                                    "*0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%d\r\n",
                                    snprintf(NULL, 0, "%d", i), i);
            break;
        }
    }
    buf = dup_exact(s, len);
    resp_parser_init(&p);
    while (off < len) {
        size_t consumed = 0;
        const char *err = NULL;
        char num[16];

        ck_assert_int_eq(resp_parse(&p, buf + off, len - off, &lim,
                                    &consumed, &err),
                         RESP_DONE);
        ck_assert_uint_gt(consumed, 0);
        ck_assert_uint_le(consumed, len - off);
        if (p.argc > 0) {
            ck_assert_uint_eq(p.argc, 3);
            ARG(&p, buf + off, 0, "SET");
            ARG(&p, buf + off, 1, "k");
            assert_arg(&p, buf + off, 2, num,
                       (size_t)snprintf(num, sizeof(num), "%d", seen));
            seen++;
        }
        off += consumed;
        resp_parser_reset(&p);
    }
    ck_assert_int_eq(seen, N);
    ck_assert_uint_eq(off, len);
    resp_parser_deinit(&p);
    free(buf);
    free(s);
}
END_TEST

/*
 * Deliver a command one byte at a time, in a fresh buffer each time (the
 * old one freed, so a pointer kept across calls would be caught): every
 * step but the last asks for more with a hint no larger than the command,
 * and the result equals a one-shot parse.
 */
static void check_bytewise(const char *s, size_t len, size_t want_consumed)
{
    struct resp_limits lim = deflim();
    struct resp_parser whole, p;
    size_t wc, consumed = 0;
    const char *err;
    char *wbuf = dup_exact(s, len);
    char *buf = NULL;
    enum resp_status st = RESP_MORE;
    size_t n;

    resp_parser_init(&whole);
    ck_assert_int_eq(resp_parse(&whole, wbuf, len, &lim, &wc, &err),
                     RESP_DONE);
    ck_assert_uint_eq(wc, want_consumed);

    resp_parser_init(&p);
    for (n = 0; n <= len; n++) {
        char *next = dup_exact(s, n);
        free(buf);
        buf = next;
        st = resp_parse(&p, buf, n, &lim, &consumed, &err);
        if (st != RESP_MORE)
            break;
        ck_assert_uint_gt(resp_parser_need(&p), n);
        ck_assert_uint_le(resp_parser_need(&p), want_consumed);
    }
    ck_assert_int_eq(st, RESP_DONE);
    ck_assert_uint_eq(n, want_consumed);
    ck_assert_uint_eq(consumed, wc);
    ck_assert_uint_eq(p.argc, whole.argc);
    for (size_t i = 0; i < p.argc; i++) {
        ck_assert_uint_eq(p.argv[i].off, whole.argv[i].off);
        ck_assert_uint_eq(p.argv[i].len, whole.argv[i].len);
        ck_assert_mem_eq(buf + p.argv[i].off, wbuf + whole.argv[i].off,
                         p.argv[i].len);
    }
    resp_parser_deinit(&p);
    resp_parser_deinit(&whole);
    free(buf);
    free(wbuf);
}

START_TEST(test_byte_at_a_time)
{
    static const char bin[] = "*3\r\n$3\r\nSET\r\n$2\r\n\0\n\r\n$6\r\n\r\n\0*$\r\r\nNEXT";

    check_bytewise(L("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n"), 31);
    check_bytewise(bin, sizeof(bin) - 1, sizeof(bin) - 1 - 4);
    check_bytewise(L("SET \"a b\" 'c\\'d' \"\\x41\"\r\nGET"), 25);
    check_bytewise(L("*0\r\n"), 4);
    check_bytewise(L("\n"), 1);
}
END_TEST

/* Any split point gives the one-shot result, including the need hint being
 * honoured: the hint never asks for more than the command. */
START_TEST(test_split_everywhere)
{
    static const char cmd[] = "*4\r\n$4\r\nMSET\r\n$3\r\nkey\r\n$0\r\n\r\n$10\r\n0123456789\r\n";
    struct resp_limits lim = deflim();
    size_t len = sizeof(cmd) - 1;

    for (size_t cut = 0; cut < len; cut++) {
        struct resp_parser p;
        size_t consumed;
        const char *err;
        char *a = dup_exact(cmd, cut);
        char *b = dup_exact(cmd, len);

        resp_parser_init(&p);
        ck_assert_int_eq(resp_parse(&p, a, cut, &lim, &consumed, &err),
                         RESP_MORE);
        ck_assert_uint_le(resp_parser_need(&p), len);
        free(a);
        ck_assert_int_eq(resp_parse(&p, b, len, &lim, &consumed, &err),
                         RESP_DONE);
        ck_assert_uint_eq(consumed, len);
        ck_assert_uint_eq(p.argc, 4);
        ARG(&p, b, 0, "MSET");
        ARG(&p, b, 1, "key");
        ARG(&p, b, 2, "");
        ARG(&p, b, 3, "0123456789");
        resp_parser_deinit(&p);
        free(b);
    }
}
END_TEST

START_TEST(test_done_is_stable_until_reset)
{
    struct resp_limits lim = deflim();
    struct resp_parser p;
    size_t consumed;
    const char *err;
    char *buf = dup_exact(L("*1\r\n$4\r\nPING\r\n*1\r\n"));

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, buf, 18, &lim, &consumed, &err),
                     RESP_DONE);
    ck_assert_uint_eq(consumed, 14);
    ck_assert_int_eq(resp_parse(&p, buf, 18, &lim, &consumed, &err),
                     RESP_DONE);
    ck_assert_uint_eq(consumed, 14);
    resp_parser_reset(&p);
    ck_assert_ptr_nonnull(p.argv);  /* small array kept for reuse */
    ck_assert_int_eq(resp_parse(&p, buf + 14, 4, &lim, &consumed, &err),
                     RESP_MORE);
    resp_parser_deinit(&p);
    ck_assert_ptr_null(p.argv);
    free(buf);
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_multibulk_basic);
    tcase_add_test(tc, test_multibulk_binary);
    tcase_add_test(tc, test_multibulk_empty_bulk_and_trailing_data);
    tcase_add_test(tc, test_multibulk_empty_commands);
    tcase_add_test(tc, test_multibulk_unchecked_terminators);
    tcase_add_test(tc, test_multibulk_nul_in_header);
    tcase_add_test(tc, test_need_hints);
    tcase_add_test(tc, test_big_headers_allocate_little);
    tcase_add_test(tc, test_argv_growth);
    tcase_add_test(tc, test_error_too_big_inline);
    tcase_add_test(tc, test_error_too_big_mbulk_count);
    tcase_add_test(tc, test_error_invalid_multibulk);
    tcase_add_test(tc, test_error_expected_dollar);
    tcase_add_test(tc, test_error_too_big_bulk_count);
    tcase_add_test(tc, test_error_invalid_bulk);
    tcase_add_test(tc, test_error_unbalanced_quotes);
    tcase_add_test(tc, test_error_unauthenticated);
    tcase_add_test(tc, test_error_unauthenticated_bulk);
    tcase_add_test(tc, test_inline_basic);
    tcase_add_test(tc, test_inline_empty_lines);
    tcase_add_test(tc, test_inline_quoting);
    tcase_add_test(tc, test_pipeline);
    tcase_add_test(tc, test_byte_at_a_time);
    tcase_add_test(tc, test_split_everywhere);
    tcase_add_test(tc, test_done_is_stable_until_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
