/*
 * check_respframe.c — unit tests for the reply framer (src/respframe.c).
 *
 * Every input is copied into a heap block of exactly its size, and a
 * resumed scan gets a fresh copy for each call, so AddressSanitizer catches
 * any read at or past len and any pointer kept across calls.
 */
#include "respframe.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L(s) (s), (sizeof(s) - 1)

/* Heap copy of len bytes, sized exactly (at least 1 byte). */
static char *dup_exact(const char *s, size_t len)
{
    char *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    if (len)
        memcpy(b, s, len);
    return b;
}

/* Scan s[0..len) in one call with a fresh framer. */
static enum rframe_status scan_once(const char *s, size_t len,
                                    const struct rframe_limits *lim,
                                    struct rframe *f, size_t *frame_len)
{
    char *buf = dup_exact(s, len);
    enum rframe_status st;

    rframe_init(f, lim);
    st = rframe_scan(f, buf, len, frame_len);
    free(buf);
    return st;
}

/* s is exactly one reply of type `type` whose reply proper starts at body;
 * every proper prefix of it is incomplete. */
static void assert_frame(const char *s, size_t len, char type, size_t body)
{
    struct rframe f;
    size_t fl = 99;

    ck_assert_int_eq(scan_once(s, len, NULL, &f, &fl), RFRAME_OK);
    ck_assert_uint_eq(fl, len);
    ck_assert_int_eq(f.type, type);
    ck_assert_uint_eq(f.body, body);
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_eq(scan_once(s, cut, NULL, &f, &fl), RFRAME_MORE);
        ck_assert_uint_eq(fl, 0);
        ck_assert_uint_gt(rframe_need(&f), cut);
    }
}

static void assert_err(const char *s, size_t len,
                       const struct rframe_limits *lim)
{
    struct rframe f;
    size_t fl = 99;
    char *buf = dup_exact(s, len);

    rframe_init(&f, lim);
    ck_assert_msg(rframe_scan(&f, buf, len, &fl) == RFRAME_ERR,
                  "not an error: %.*s", (int)len, s);
    ck_assert_uint_eq(fl, 0);
    ck_assert_ptr_nonnull(rframe_error(&f));
    ck_assert_ptr_null(strpbrk(rframe_error(&f), "\r\n"));
    /* Sticky until reset. */
    ck_assert_int_eq(rframe_scan(&f, buf, len, &fl), RFRAME_ERR);
    rframe_reset(&f);
    ck_assert_ptr_null(rframe_error(&f));
    free(buf);
}

static void assert_more(const char *s, size_t len,
                        const struct rframe_limits *lim, size_t need)
{
    struct rframe f;
    size_t fl = 99;

    ck_assert_int_eq(scan_once(s, len, lim, &f, &fl), RFRAME_MORE);
    ck_assert_uint_eq(fl, 0);
    ck_assert_uint_eq(rframe_need(&f), need);
}

START_TEST(test_simple_types)
{
    assert_frame(L("+OK\r\n"), '+', 0);
    assert_frame(L("+\r\n"), '+', 0);
    assert_frame(L("-ERR no such key\r\n"), '-', 0);
    assert_frame(L(":0\r\n"), ':', 0);
    assert_frame(L(":-9223372036854775808\r\n"), ':', 0);
    assert_frame(L(":9223372036854775807\r\n"), ':', 0);
    assert_frame(L("_\r\n"), '_', 0);
    assert_frame(L(",3.14\r\n"), ',', 0);
    assert_frame(L(",-1.5e+17\r\n"), ',', 0);
    assert_frame(L(",10\r\n"), ',', 0);
    assert_frame(L(",inf\r\n"), ',', 0);
    assert_frame(L(",-inf\r\n"), ',', 0);
    assert_frame(L(",nan\r\n"), ',', 0);
    assert_frame(L("#t\r\n"), '#', 0);
    assert_frame(L("#f\r\n"), '#', 0);
    assert_frame(L("(3492890328409238509324850943850943825024385\r\n"), '(',
                 0);
    assert_frame(L("(-1\r\n"), '(', 0);
    /* Anything but CR and LF is fine in a simple string. */
    assert_frame(L("+a\0b \t\x7f\xff\r\n"), '+', 0);
}
END_TEST

START_TEST(test_blob_types)
{
    assert_frame(L("$3\r\nfoo\r\n"), '$', 0);
    assert_frame(L("$0\r\n\r\n"), '$', 0);
    assert_frame(L("$-1\r\n"), '$', 0);
    /* Payloads are skipped, not searched: CR, LF and NUL are data. */
    assert_frame(L("$6\r\n\r\n\0\r\n\r\r\n"), '$', 0);
    assert_frame(L("!21\r\nSYNTAX invalid syntax\r\n"), '!', 0);
    assert_frame(L("=15\r\ntxt:Some string\r\n"), '=', 0);
    assert_frame(L("=4\r\nmkd:\r\n"), '=', 0);
}
END_TEST

START_TEST(test_aggregate_types)
{
    assert_frame(L("*0\r\n"), '*', 0);
    assert_frame(L("*-1\r\n"), '*', 0);
    assert_frame(L("*2\r\n$3\r\nfoo\r\n$-1\r\n"), '*', 0);
    assert_frame(L("*3\r\n:1\r\n+two\r\n_\r\n"), '*', 0);
    assert_frame(L("%0\r\n"), '%', 0);
    assert_frame(L("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"), '%', 0);
    assert_frame(L("~0\r\n"), '~', 0);
    assert_frame(L("~3\r\n+a\r\n+b\r\n+c\r\n"), '~', 0);
    assert_frame(L(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"), '>', 0);
    /* Every type inside one array. */
    assert_frame(L("*15\r\n+s\r\n-e\r\n:1\r\n_\r\n,1.5\r\n#t\r\n(12\r\n"
                   "$1\r\nb\r\n!1\r\nE\r\n=5\r\ntxt:x\r\n*0\r\n%0\r\n~0\r\n"
                   ">0\r\n$-1\r\n"),
                 '*', 0);
}
END_TEST

START_TEST(test_nested)
{
    assert_frame(L("*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n*1\r\n*0\r\n"), '*', 0);
    assert_frame(L("%1\r\n$1\r\nk\r\n~2\r\n%1\r\n+a\r\n*-1\r\n#f\r\n"), '%',
                 0);
    /* An aggregate closing several levels at once. */
    assert_frame(L("*2\r\n*1\r\n*1\r\n*1\r\n:1\r\n:2\r\n"), '*', 0);
}
END_TEST

START_TEST(test_attributes)
{
    /* Top-level: the pairs and the reply they annotate are one frame. */
    assert_frame(L("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n"
                   "$1\r\nb\r\n,0.05\r\n*2\r\n:2039123\r\n:9543892\r\n"),
                 '*', 53);
    assert_frame(L("|0\r\n:5\r\n"), ':', 4);
    assert_frame(L("|1\r\n+k\r\n+v\r\n:5\r\n"), ':', 12);
    /* An annotated reply that is itself annotated. */
    assert_frame(L("|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n+d\r\n-ERR x\r\n"), '-',
                 24);
    /* Inside an aggregate an attribute and its reply count as one element. */
    assert_frame(L("*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n"), '*', 0);
    /* An attribute value carrying an attribute of its own. */
    assert_frame(L("|1\r\n+k\r\n|1\r\n+a\r\n+b\r\n+v\r\n$1\r\nx\r\n"), '$',
                 24);
}
END_TEST

/* Frame boundaries of a stream scanned one whole buffer at a time. */
static size_t frames_whole(const char *s, size_t len, size_t *ends,
                           size_t max, enum rframe_status *last)
{
    struct rframe f;
    size_t off = 0, n = 0, fl;
    char *buf = dup_exact(s, len);

    rframe_init(&f, NULL);
    while (n < max) {
        *last = rframe_scan(&f, buf + off, len - off, &fl);
        if (*last != RFRAME_OK)
            break;
        off += fl;
        ends[n++] = off;
    }
    free(buf);
    return n;
}

/*
 * The same, delivering chunk bytes per call; each call gets a fresh exact
 * copy of everything received since the current frame started.
 */
static size_t frames_chunked(const char *s, size_t len, size_t chunk,
                             size_t *ends, size_t max,
                             enum rframe_status *last)
{
    struct rframe f;
    size_t off = 0, have = 0, n = 0, fl;

    rframe_init(&f, NULL);
    *last = RFRAME_MORE;
    while (n < max) {
        char *buf;

        if (*last == RFRAME_MORE) {
            if (have == len)
                break;
            have = have + chunk < len ? have + chunk : len;
        }
        buf = dup_exact(s + off, have - off);
        *last = rframe_scan(&f, buf, have - off, &fl);
        free(buf);
        if (*last == RFRAME_ERR)
            break;
        if (*last == RFRAME_OK) {
            off += fl;
            ends[n++] = off;
        }
    }
    return n;
}

/* A stream of every kind of reply, about 4 KB. */
static size_t make_stream(char *out, size_t cap)
{
    static const char *const parts[] = {
        "+OK\r\n", "-ERR wrong\r\n", ":42\r\n", "$5\r\nhello\r\n",
        "$-1\r\n", "*-1\r\n", "_\r\n", ",2.5\r\n", "#t\r\n",
        "(123456789012345678901234567890\r\n", "!3\r\nbad\r\n",
        "=7\r\ntxt:abc\r\n",
        "*3\r\n$1\r\na\r\n$-1\r\n_\r\n",
        "%2\r\n+k1\r\n*2\r\n:1\r\n:2\r\n+k2\r\n~1\r\n#f\r\n",
        ">2\r\n+pubsub\r\n$2\r\n\r\n\r\n",
        "|1\r\n+ttl\r\n:100\r\n$3\r\nval\r\n",
        "*2\r\n|1\r\n+a\r\n+b\r\n*1\r\n*0\r\n%0\r\n",
        "$20\r\n01234567890123456789\r\n",
    };
    size_t len = 0;
    const size_t np = sizeof(parts) / sizeof(parts[0]);

    for (size_t i = 0; len < 4000; i++) {
        const char *p = parts[(i * 7) % np];
        size_t n = strlen(p);

        ck_assert_uint_le(len + n, cap);
        memcpy(out + len, p, n);
        len += n;
    }
    return len;
}

START_TEST(test_pipeline)
{
    static const char s[] = "+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n_\r\n:2";
    size_t ends[8];
    enum rframe_status last;
    size_t n = frames_whole(s, sizeof(s) - 1, ends, 8, &last);

    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(ends[0], 5);
    ck_assert_uint_eq(ends[1], 9);
    ck_assert_uint_eq(ends[2], 18);
    ck_assert_uint_eq(ends[3], 25);
    ck_assert_int_eq(last, RFRAME_MORE);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
    static char s[5000];
    size_t len = make_stream(s, sizeof(s));
    size_t whole[1000], parts[1000];
    enum rframe_status lw, lp;
    size_t nw = frames_whole(s, len, whole, 1000, &lw);
    size_t np;

    ck_assert_uint_gt(nw, 100);
    ck_assert_uint_eq(whole[nw - 1], len);
    ck_assert_int_eq(lw, RFRAME_MORE);
    for (size_t chunk = 1; chunk <= 17; chunk += 4) {
        np = frames_chunked(s, len, chunk, parts, 1000, &lp);
        ck_assert_uint_eq(np, nw);
        ck_assert_int_eq(lp, RFRAME_MORE);
        ck_assert_int_eq(memcmp(parts, whole, nw * sizeof(whole[0])), 0);
    }
}
END_TEST

/* One reply cut in two at every point gives the same answer. */
START_TEST(test_split_everywhere)
{
    static const char s[] =
        "|1\r\n+k\r\n+v\r\n*4\r\n$5\r\nhello\r\n%1\r\n:1\r\n~1\r\n,1e5\r\n"
        "=6\r\ntxt:ab\r\n>1\r\n(-7\r\n";
    const size_t len = sizeof(s) - 1;

    for (size_t cut = 0; cut <= len; cut++) {
        struct rframe f;
        size_t fl;
        char *a = dup_exact(s, cut);
        char *b = dup_exact(s, len);

        rframe_init(&f, NULL);
        ck_assert_int_eq(rframe_scan(&f, a, cut, &fl),
                         cut == len ? RFRAME_OK : RFRAME_MORE);
        if (cut < len)
            ck_assert_int_eq(rframe_scan(&f, b, len, &fl), RFRAME_OK);
        ck_assert_uint_eq(fl, len);
        ck_assert_int_eq(f.type, '*');
        ck_assert_uint_eq(f.body, 12);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_need_hints)
{
    assert_more(L(""), NULL, 1);
    assert_more(L("+OK"), NULL, 4);
    assert_more(L("+OK\r"), NULL, 5);
    /* Inside a payload: its end and CRLF, whatever has arrived. */
    assert_more(L("$1000000\r\n"), NULL, 10 + 1000000 + 2);
    assert_more(L("$1000000\r\nabc"), NULL, 10 + 1000000 + 2);
    assert_more(L("*2\r\n$3\r\nfoo\r\n$10\r\n"), NULL, 18 + 12);
}
END_TEST

/* A payload, here 1 MB of CRs, is never searched: the framer waits for
 * its end and checks only the CRLF after it. */
START_TEST(test_resume_skips_payload)
{
    const size_t n = 1 << 20;
    char *buf = malloc(n + 64);
    struct rframe f;
    size_t fl, hdr;

    ck_assert_ptr_nonnull(buf);
    hdr = (size_t)sprintf(buf, "*2\r\n$%zu\r\n", n);
    memset(buf + hdr, '\r', n);
    memcpy(buf + hdr + n, "\r\n:7\r\n", 6);
    rframe_init(&f, NULL);
    ck_assert_int_eq(rframe_scan(&f, buf, hdr + 10, &fl), RFRAME_MORE);
    ck_assert_uint_eq(rframe_need(&f), hdr + n + 2);
    ck_assert_int_eq(rframe_scan(&f, buf, hdr + n + 1, &fl), RFRAME_MORE);
    ck_assert_int_eq(rframe_scan(&f, buf, hdr + n + 5, &fl), RFRAME_MORE);
    ck_assert_uint_eq(rframe_need(&f), hdr + n + 6);
    ck_assert_int_eq(rframe_scan(&f, buf, hdr + n + 6, &fl), RFRAME_OK);
    ck_assert_uint_eq(fl, hdr + n + 6);
    free(buf);
}
END_TEST

START_TEST(test_limit_bulk)
{
    struct rframe_limits lim;

    rframe_limits_init(&lim);
    ck_assert_int_eq(lim.max_bulk, 512LL * 1024 * 1024);
    assert_more(L("$536870912\r\n"), &lim, 12 + 536870912 + 2);
    assert_err(L("$536870913\r\n"), &lim);
    lim.max_bulk = 3;
    assert_more(L("$3\r\n"), &lim, 9);
    assert_err(L("$4\r\nabcd\r\n"), &lim);
    assert_err(L("!4\r\nabcd\r\n"), &lim);
    assert_err(L("=8\r\ntxt:abcd\r\n"), &lim);
    assert_err(L("*1\r\n$4\r\n"), &lim);
    assert_err(L("$9223372036854775807\r\n"), NULL);
}
END_TEST

START_TEST(test_limit_elems)
{
    struct rframe_limits lim;

    rframe_limits_init(&lim);
    ck_assert_int_eq(lim.max_elems, 2147483647LL);
    assert_more(L("*2147483647\r\n"), &lim, 14);
    assert_err(L("*2147483648\r\n"), &lim);
    assert_err(L("%2147483648\r\n"), &lim);
    assert_err(L("|9223372036854775807\r\n"), &lim);
    lim.max_elems = 2;
    assert_more(L("*2\r\n"), &lim, 5);
    /* Maps and attributes are limited by pairs. */
    assert_more(L("%2\r\n"), &lim, 5);
    assert_more(L("|2\r\n"), &lim, 5);
    assert_err(L("*3\r\n"), &lim);
    assert_err(L("~3\r\n"), &lim);
    assert_err(L(">3\r\n"), &lim);
    assert_err(L("%3\r\n"), &lim);
    assert_err(L("|3\r\n"), &lim);
    assert_err(L("*1\r\n*3\r\n"), &lim);
    /* A count the limit would allow does not overflow what is owed. */
    lim.max_elems = LLONG_MAX;
    assert_more(L("%9223372036854775807\r\n"), &lim, 23);
    assert_more(L("|9223372036854775807\r\n"), &lim, 23);
}
END_TEST

START_TEST(test_limit_line)
{
    struct rframe_limits lim;
    char s[80];

    rframe_limits_init(&lim);
    ck_assert_uint_eq(lim.max_line, 64 * 1024);
    lim.max_line = 8;
    {
        struct rframe f;
        size_t fl;

        ck_assert_int_eq(scan_once(L("+12345678\r\n"), &lim, &f, &fl),
                         RFRAME_OK);
    }
    assert_err(L("+123456789\r\n"), &lim);
    /* Refused as soon as more than max_line bytes wait for their CR. */
    assert_more(L("-12345678"), &lim, 10);
    assert_err(L("-123456789"), &lim);
    assert_err(L("*1\r\n:123456789"), &lim);
    assert_err(L("$123456789"), &lim);
    /* The search for a CR stops where a valid line must have ended. */
    memset(s, 'x', sizeof(s));
    s[0] = '+';
    s[70] = '\r';
    s[71] = '\n';
    assert_err(s, 72, &lim);
}
END_TEST

static size_t nested(char *s, size_t depth, const char *open)
{
    size_t len = 0, n = strlen(open);

    for (size_t i = 0; i < depth; i++) {
        memcpy(s + len, open, n);
        len += n;
    }
    memcpy(s + len, ":1\r\n", 4);
    return len + 4;
}

START_TEST(test_limit_depth)
{
    static char s[600];
    struct rframe_limits lim;
    struct rframe f;
    size_t fl, len;

    rframe_limits_init(&lim);
    ck_assert_uint_eq(lim.max_depth, 64);
    len = nested(s, 64, "*1\r\n");
    ck_assert_int_eq(scan_once(s, len, NULL, &f, &fl), RFRAME_OK);
    ck_assert_uint_eq(fl, len);
    assert_err(s, nested(s, 65, "*1\r\n"), NULL);
    /* Attributes are levels too; so are empty aggregates. */
    assert_err(s, nested(s, 65, "|0\r\n"), NULL);
    len = nested(s, 64, "%1\r\n:1\r\n");
    ck_assert_int_eq(scan_once(s, len, NULL, &f, &fl), RFRAME_OK);
    ck_assert_uint_eq(fl, len);
    /* A larger limit is clamped to the stack the framer has. */
    lim.max_depth = 1000;
    assert_err(s, nested(s, 65, "*1\r\n"), &lim);
    lim.max_depth = 2;
    ck_assert_int_eq(scan_once(L("*1\r\n~1\r\n_\r\n"), &lim, &f, &fl),
                     RFRAME_OK);
    assert_err(L("*1\r\n~1\r\n*0\r\n"), &lim);
    ck_assert_int_eq(scan_once(L("*1\r\n~1\r\n*-1\r\n"), &lim, &f, &fl),
                     RFRAME_OK);
    lim.max_depth = 0;
    ck_assert_int_eq(scan_once(L(":1\r\n"), &lim, &f, &fl), RFRAME_OK);
    assert_err(L("*0\r\n"), &lim);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
#define B(x) { x, sizeof(x) - 1 }
        B("?x\r\n"), B("\r\n"), B("\0\r\n"), B("x"), B(" +OK\r\n"),
        B("+OK\rX"), B("+O\nK\r\n"), B("-E\nR\r\n"), B("+OK\r\r\n"),
        B(":\r\n"), B(":abc\r\n"), B(":01\r\n"), B(":+1\r\n"), B(":-0\r\n"),
        B(": 1\r\n"), B(":1 \r\n"), B(":9223372036854775808\r\n"),
        B("_x\r\n"), B("_ \r\n"), B("#\r\n"), B("#x\r\n"), B("#tt\r\n"),
        B("#T\r\n"), B(",\r\n"), B(",abc\r\n"), B(",.\r\n"), B(",1 \r\n"),
        B(",infinity\r\n"), B(",1\0\r\n"), B("(\r\n"), B("(-\r\n"),
        B("(12a\r\n"), B("(+1\r\n"),
        B("$\r\n"), B("$-2\r\n"), B("$abc\r\n"), B("$ 3\r\n"), B("$03\r\n"),
        B("$3\r\nfooXY"), B("$3\r\nfoo\n\r"), B("$3\r\nfoo\rX"),
        B("$0\r\nXY"), B("!-1\r\n"), B("=-1\r\n"), B("!x\r\n"),
        B("=3\r\ntxt\r\n"), B("=5\r\ntxtxx\r\n"), B("=0\r\n\r\n"),
        B("*\r\n"), B("*-2\r\n"), B("*x\r\n"), B("* 1\r\n"), B("*01\r\n"),
        B("%-1\r\n"), B("~-1\r\n"), B(">-1\r\n"), B("|-1\r\n"),
        B("%x\r\n"), B("|\r\n"),
        B("$?\r\n"), B("*?\r\n"), B(";3\r\nabc\r\n"), B(".\r\n"),
        B("*2\r\n:1\r\nX\r\n"), B("%1\r\n+k\r\n?\r\n"),
        B("|1\r\n+k\r\n+v\r\n:x\r\n"), B("*1\r\n$1\r\nab\r\n"),
        B("*1\r\n*1\r\n*1\r\n#\r\n"),
#undef B
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_err(bad[i].s, bad[i].len, NULL);
}
END_TEST

START_TEST(test_reset_and_reuse)
{
    struct rframe f;
    size_t fl;
    char *buf = dup_exact(L("*2\r\n:1\r\n"));
    char *next = dup_exact(L(":1\r\n"));

    rframe_init(&f, NULL);
    ck_assert_int_eq(rframe_scan(&f, buf, 8, &fl), RFRAME_MORE);
    rframe_reset(&f);
    ck_assert_int_eq(rframe_scan(&f, next, 4, &fl), RFRAME_OK);
    ck_assert_uint_eq(fl, 4);
    ck_assert_int_eq(f.type, ':');
    /* After OK the framer starts over at the next buf[0]. */
    ck_assert_int_eq(rframe_scan(&f, buf, 8, &fl), RFRAME_MORE);
    ck_assert_uint_eq(fl, 0);
    free(buf);
    free(next);
}
END_TEST

START_TEST(test_shrunk_buffer_refused)
{
    struct rframe f;
    size_t fl;
    char *buf = dup_exact(L("*2\r\n:1\r\n"));

    rframe_init(&f, NULL);
    ck_assert_int_eq(rframe_scan(&f, buf, 8, &fl), RFRAME_MORE);
    ck_assert_int_eq(rframe_scan(&f, buf, 5, &fl), RFRAME_ERR);
    ck_assert_ptr_nonnull(rframe_error(&f));
    free(buf);
}
END_TEST

START_TEST(test_helper_is_error)
{
    ck_assert_int_eq(rframe_is_error(L("-ERR x\r\n")), 1);
    ck_assert_int_eq(rframe_is_error(L("!1\r\nx\r\n")), 1);
    ck_assert_int_eq(rframe_is_error(L("+OK\r\n")), 0);
    ck_assert_int_eq(rframe_is_error(L("*1\r\n-ERR\r\n")), 0);
    ck_assert_int_eq(rframe_is_error("-", 0), 0);
}
END_TEST

START_TEST(test_helper_read_int)
{
    long long v = 77;

    ck_assert_int_eq(rframe_read_int(L(":5\r\n"), &v), 1);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(rframe_read_int(L(":-9223372036854775808\r\n"), &v), 1);
    ck_assert_int_eq(v, LLONG_MIN);
    v = 77;
    ck_assert_int_eq(rframe_read_int(L(":5\r\n:6\r\n"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L(":5\r"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L(":5\r\r"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L(":\r\n"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L(":x\r\n"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L("+5\r\n"), &v), 0);
    ck_assert_int_eq(rframe_read_int(L(":5"), &v), 0);
    ck_assert_int_eq(rframe_read_int("", 0, &v), 0);
    ck_assert_int_eq(v, 77);
}
END_TEST

/* Run the array helpers over an exact heap copy. */
static long long iter_open(struct rframe_iter *it, char **copy, const char *s,
                           size_t len)
{
    *copy = dup_exact(s, len);
    return rframe_array_open(it, *copy, len);
}

START_TEST(test_helper_array)
{
    struct rframe_iter it;
    struct rframe_bulk b;
    char *c;

    ck_assert_int_eq(iter_open(&it, &c, L("*4\r\n$3\r\nfoo\r\n$-1\r\n_\r\n"
                                          "$0\r\n\r\n")),
                     4);
    ck_assert_int_eq(rframe_array_next(&it, &b), 1);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "foo", 3), 0);
    ck_assert_ptr_eq(b.raw, c + 4);
    ck_assert_uint_eq(b.raw_len, 9);
    ck_assert_int_eq(rframe_array_next(&it, &b), 1);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.raw_len, 5);
    ck_assert_int_eq(rframe_array_next(&it, &b), 1);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.raw_len, 3);
    ck_assert_int_eq(rframe_array_next(&it, &b), 1);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(rframe_array_next(&it, &b), 0);
    ck_assert_int_eq(rframe_array_next(&it, &b), 0);
    free(c);

    ck_assert_int_eq(iter_open(&it, &c, L("*0\r\n")), 0);
    ck_assert_int_eq(rframe_array_next(&it, &b), 0);
    free(c);
}
END_TEST

START_TEST(test_helper_array_bad)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
#define B(x) { x, sizeof(x) - 1 }
        B("*1\r\n:1\r\n"),            /* not a bulk */
        B("*1\r\n*0\r\n"),
        B("*1\r\n+OK\r\n"),
        B("*1\r\n$3\r\nfo"),          /* runs past the reply */
        B("*1\r\n$3\r\nfoo\r"),
        B("*1\r\n$3\r\nfooXY"),
        B("*1\r\n$9223372036854775807\r\nx\r\n"),
        B("*1\r\n$-2\r\n"),
        B("*1\r\n$x\r\n"),
        B("*1\r\n_x\r\n"),
        B("*1\r\n$1"),
        B("*2\r\n$1\r\na\r\n"),       /* fewer elements than announced */
        B("*1\r\n$1\r\na\r\n$1\r\nb\r\n"), /* bytes after the last */
#undef B
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rframe_iter it;
        struct rframe_bulk b;
        char *c;
        int r;

        ck_assert_int_ge(iter_open(&it, &c, bad[i].s, bad[i].len), 1);
        while ((r = rframe_array_next(&it, &b)) == 1)
            ;
        ck_assert_msg(r == -1, "accepted: %.*s", (int)bad[i].len, bad[i].s);
        free(c);
    }

    {
        struct rframe_iter it;
        char *c;

        ck_assert_int_eq(iter_open(&it, &c, L("*-1\r\n")), -1);
        free(c);
        ck_assert_int_eq(iter_open(&it, &c, L("$1\r\na\r\n")), -1);
        free(c);
        ck_assert_int_eq(iter_open(&it, &c, L("*1\r")), -1);
        free(c);
        ck_assert_int_eq(iter_open(&it, &c, L("*x\r\n")), -1);
        free(c);
        ck_assert_int_eq(iter_open(&it, &c, "", 0), -1);
        free(c);
    }
}
END_TEST

static Suite *respframe_suite(void)
{
    Suite *s = suite_create("respframe");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_simple_types);
    tcase_add_test(tc, test_blob_types);
    tcase_add_test(tc, test_aggregate_types);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_attributes);
    tcase_add_test(tc, test_pipeline);
    tcase_add_test(tc, test_byte_at_a_time);
    tcase_add_test(tc, test_split_everywhere);
    tcase_add_test(tc, test_need_hints);
    tcase_add_test(tc, test_resume_skips_payload);
    tcase_add_test(tc, test_limit_bulk);
    tcase_add_test(tc, test_limit_elems);
    tcase_add_test(tc, test_limit_line);
    tcase_add_test(tc, test_limit_depth);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_reset_and_reuse);
    tcase_add_test(tc, test_shrunk_buffer_refused);
    tcase_add_test(tc, test_helper_is_error);
    tcase_add_test(tc, test_helper_read_int);
    tcase_add_test(tc, test_helper_array);
    tcase_add_test(tc, test_helper_array_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(respframe_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
