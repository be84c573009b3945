/*
 * resp.c — I/O-free parser for client requests (see resp.h).
 *
 * The parser is a small state machine over offsets into the caller's
 * buffer.  Its behaviour follows redis-server 7.0 byte for byte, including
 * the corners that a from-the-spec parser would get "wrong":
 *
 *  - A line end is searched for the way Redis does it, with strchr() on a
 *    NUL-terminated buffer: the search stops at a NUL byte.  A NUL before the
 *    terminator therefore means "no line yet", and the request is rejected
 *    only once the unread bytes exceed max_inline.  (Bulk data may contain
 *    anything; it is never searched.)
 *  - Multibulk header lines end at the first CR; the byte after it must be
 *    present but is not checked, and neither are the two bytes after a
 *    bulk's data.
 *  - Inline lines end at the first LF; one CR before it is dropped.  The
 *    line is split as sdssplitargs() splits it.
 *  - Numbers follow Redis's string2ll(): optional '-', no '+', no spaces,
 *    no leading zeros, at most 20 characters, no overflow.
 *
 * Error precedence is Redis's too: a count or length that fails the normal
 * limit is "invalid ...", and only a valid one is then checked against the
 * unauthenticated limit.
 */
#include "resp.h"

#include "mem.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

enum {
    ST_START,       /* nothing examined yet */
    ST_INLINE,      /* looking for the LF that ends an inline line */
    ST_COUNT,       /* looking for the end of "*<count>" */
    ST_BULK_HEADER, /* looking for the end of "$<len>" */
    ST_BULK_DATA,   /* waiting for <len> bytes and two more */
    ST_DONE,
    ST_ERROR
};

/* argv arrays up to this many entries survive resp_parser_reset(). */
#define ARGV_KEEP 16
/* First argv size for a multibulk: never more than this, whatever the
 * announced count. */
#define ARGV_FIRST_MAX 1024
/* Longest number string2ll() accepts, "-9223372036854775808". */
#define NUM_MAX_CHARS 20

static const char err_inline_too_big[] =
    "Protocol error: too big inline request";
static const char err_mbulk_count_too_big[] =
    "Protocol error: too big mbulk count string";
static const char err_mbulk_invalid[] =
    "Protocol error: invalid multibulk length";
static const char err_bulk_count_too_big[] =
    "Protocol error: too big bulk count string";
static const char err_bulk_invalid[] = "Protocol error: invalid bulk length";
static const char err_unbalanced[] =
    "Protocol error: unbalanced quotes in request";
static const char err_mbulk_unauth[] =
    "Protocol error: unauthenticated multibulk length";
static const char err_bulk_unauth[] =
    "Protocol error: unauthenticated bulk length";

void resp_limits_init(struct resp_limits *lim)
{
    lim->max_bulk = RESP_DEFAULT_MAX_BULK;
    lim->max_multibulk = RESP_DEFAULT_MAX_MULTIBULK;
    lim->max_bulk_unauth = 0;
    lim->max_inline = RESP_DEFAULT_MAX_INLINE;
    lim->max_multibulk_unauth = 0;
}

void resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = ST_START;
    p->bulklen = -1;
}

void resp_parser_reset(struct resp_parser *p)
{
    struct resp_arg *argv = p->argv;
    size_t cap = p->argv_cap;

    if (cap > ARGV_KEEP) {
        rc_free(argv);
        argv = NULL;
        cap = 0;
    }
    resp_parser_init(p);
    p->argv = argv;
    p->argv_cap = cap;
}

void resp_parser_deinit(struct resp_parser *p)
{
    rc_free(p->argv);
    resp_parser_init(p);
}

size_t resp_parser_need(const struct resp_parser *p)
{
    return p->need;
}

/* Saturating a + b. */
static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/*
 * Parse s[0 .. len) as a signed decimal with Redis's string2ll() rules.
 * Returns 1 and stores *out on success, 0 on any malformed or out of range
 * input.
 */
static int parse_ll(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    int negative = 0;
    unsigned long long v = 0;
    unsigned long long limit;

    if (len == 0 || len > NUM_MAX_CHARS)
        return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (i == len || s[i] < '1' || s[i] > '9')
        return 0;
    limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    for (; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return 0;
        d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (negative)
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
                                                      : -(long long)v;
    else
        *out = (long long)v;
    return 1;
}

/*
 * Search buf[from .. len) for byte c as strchr() on a NUL-terminated copy
 * would: a NUL byte ends the search.  Returns the offset of c, or SIZE_MAX
 * when it is not there yet; then *resume is where a later search must
 * start: len, or the NUL, where a later search stops at once.
 */
static size_t find_line_end(const char *buf, size_t from, size_t len, char c,
                            size_t *resume)
{
    const char *hit;
    size_t end;

    *resume = len;
    if (from >= len)
        return SIZE_MAX;
    /* Stopped at a NUL last time: it still hides whatever follows. */
    if (buf[from] == '\0') {
        *resume = from;
        return SIZE_MAX;
    }
    hit = memchr(buf + from, c, len - from);
    end = hit ? (size_t)(hit - buf) : len;
    /* A NUL before the terminator hides it, as it does from strchr(). */
    if (end > from) {
        const char *nul = memchr(buf + from, '\0', end - from);
        if (nul) {
            *resume = (size_t)(nul - buf);
            return SIZE_MAX;
        }
    }
    return hit ? end : SIZE_MAX;
}

/*
 * Make room for at least want entries in p->argv.  Returns 0, or -1 when the
 * array size would not fit in size_t (only possible on 32-bit targets).
 */
static int argv_reserve(struct resp_parser *p, size_t want)
{
    if (want <= p->argv_cap)
        return 0;
    if (want > SIZE_MAX / sizeof(struct resp_arg))
        return -1;
    p->argv = rc_realloc(p->argv, want * sizeof(struct resp_arg));
    p->argv_cap = want;
    return 0;
}

static enum resp_status fail(struct resp_parser *p, const char *msg,
                             const char **err)
{
    p->state = ST_ERROR;
    p->err = msg;
    p->need = 0;
    *err = msg;
    return RESP_ERROR;
}

static enum resp_status more(struct resp_parser *p, size_t need)
{
    p->need = need;
    return RESP_MORE;
}

static enum resp_status done(struct resp_parser *p, size_t *consumed)
{
    p->state = ST_DONE;
    p->consumed = p->pos;
    p->need = 0;
    *consumed = p->pos;
    return RESP_DONE;
}

/* ---------------------------------------------------------------- inline */

/* The blanks of isspace() in the C locale. */
static int is_blank(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static int is_hex(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static unsigned hex_value(unsigned c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* Byte k of a line ending at end, or 0 past it: the line's terminator as
 * sdssplitargs() sees it. */
static inline unsigned byte_at(const char *buf, size_t k, size_t end)
{
    return k < end ? (unsigned char)buf[k] : 0u;
}

/*
 * Split the line buf[start .. end) into arguments with sdssplitargs()'s
 * rules: blanks separate arguments; "double quotes" know \n \r \t \b \a,
 * \xHH and backslash before any other byte; 'single quotes' know only \';
 * a quote may open inside an argument, but a closing quote must be followed
 * by a blank or the end of the line.  The line holds no NUL (the LF search
 * stops at one), so the end of the line plays the role of the terminator.
 *
 * With argv == NULL this only validates and counts.  Otherwise each argument
 * is decoded in place, at its own first byte (decoding never lengthens, and
 * the write position never passes the read position), and recorded in argv,
 * which must have room for the count the validating pass returned.
 *
 * Returns the number of arguments, or SIZE_MAX for unbalanced quotes.
 */
static size_t split_inline(char *buf, size_t start, size_t end,
                           struct resp_arg *argv)
{
    size_t i = start;
    size_t n = 0;

    for (;;) {
        size_t arg_start;
        size_t w;
        int in_dq = 0;
        int in_sq = 0;
        int finished = 0;

        while (i < end && is_blank((unsigned char)buf[i]))
            i++;
        if (i >= end)
            break;

        arg_start = i;
        w = i;
        while (!finished) {
            unsigned c = byte_at(buf, i, end);
            unsigned next = byte_at(buf, i + 1, end);
            int out = -1;

            if (in_dq) {
                if (c == '\\' && next == 'x' && is_hex(byte_at(buf, i + 2, end)) &&
                    is_hex(byte_at(buf, i + 3, end))) {
                    out = (int)(hex_value(byte_at(buf, i + 2, end)) * 16 +
                                hex_value(byte_at(buf, i + 3, end)));
                    i += 3;
                } else if (c == '\\' && next != 0) {
                    i++;
                    switch (next) {
                    case 'n': out = '\n'; break;
                    case 'r': out = '\r'; break;
                    case 't': out = '\t'; break;
                    case 'b': out = '\b'; break;
                    case 'a': out = '\a'; break;
                    default: out = (int)next; break;
                    }
                } else if (c == '"') {
                    if (next != 0 && !is_blank(next))
                        return SIZE_MAX;
                    finished = 1;
                } else if (c == 0) {
                    return SIZE_MAX;
                } else {
                    out = (int)c;
                }
            } else if (in_sq) {
                if (c == '\\' && next == '\'') {
                    i++;
                    out = '\'';
                } else if (c == '\'') {
                    if (next != 0 && !is_blank(next))
                        return SIZE_MAX;
                    finished = 1;
                } else if (c == 0) {
                    return SIZE_MAX;
                } else {
                    out = (int)c;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case 0:
                    finished = 1;
                    break;
                case '"':
                    in_dq = 1;
                    break;
                case '\'':
                    in_sq = 1;
                    break;
                default:
                    out = (int)c;
                    break;
                }
            }
            if (out >= 0) {
                if (argv != NULL)
                    buf[w] = (char)out;
                w++;
            }
            if (i < end)
                i++;
        }
        if (argv != NULL) {
            argv[n].off = arg_start;
            argv[n].len = w - arg_start;
        }
        n++;
    }
    return n;
}

static enum resp_status parse_inline(struct resp_parser *p, char *buf,
                                     size_t len, const struct resp_limits *lim,
                                     size_t *consumed, const char **err)
{
    size_t resume;
    size_t lf = find_line_end(buf, p->scan, len, '\n', &resume);
    size_t line_end;
    size_t argc;

    if (lf == SIZE_MAX) {
        p->scan = resume;
        if (len > lim->max_inline)
            return fail(p, err_inline_too_big, err);
        return more(p, add_sat(len, 1));
    }

    line_end = lf;
    if (line_end > 0 && buf[line_end - 1] == '\r')
        line_end--;

    /* Validate first so that a bad line is left untouched, and so that argv
     * is sized exactly. */
    argc = split_inline(buf, 0, line_end, NULL);
    if (argc == SIZE_MAX)
        return fail(p, err_unbalanced, err);
    if (argc > 0) {
        if (argv_reserve(p, argc) != 0)
            return fail(p, err_inline_too_big, err);
        split_inline(buf, 0, line_end, p->argv);
    }
    p->argc = argc;
    p->pos = lf + 1;
    return done(p, consumed);
}

/* ------------------------------------------------------------- multibulk */

/*
 * Find the CR that ends the header line starting at p->pos.  Returns its
 * offset, or SIZE_MAX with p->need set when the line, or the byte after the
 * CR, has not fully arrived.  *too_big is set when the unread bytes hold no
 * CR and exceed max_inline.
 */
static size_t header_end(struct resp_parser *p, const char *buf, size_t len,
                         const struct resp_limits *lim, int *too_big)
{
    size_t resume;
    size_t from = p->scan > p->pos ? p->scan : p->pos;
    size_t cr = find_line_end(buf, from, len, '\r', &resume);

    *too_big = 0;
    if (cr == SIZE_MAX) {
        p->scan = resume;
        if (len - p->pos > lim->max_inline)
            *too_big = 1;
        p->need = add_sat(len, 1);
        return SIZE_MAX;
    }
    /* Found: the search resumes here until the line is consumed. */
    p->scan = cr;
    /* Redis wants the byte after CR too, but does not look at it. */
    if (len - cr < 2) {
        p->need = add_sat(cr, 2);
        return SIZE_MAX;
    }
    return cr;
}

static enum resp_status parse_multibulk(struct resp_parser *p, char *buf,
                                        size_t len,
                                        const struct resp_limits *lim,
                                        size_t *consumed, const char **err)
{
    size_t cr;
    size_t body;
    int too_big;
    long long ll;

    if (p->state == ST_COUNT) {
        cr = header_end(p, buf, len, lim, &too_big);
        if (cr == SIZE_MAX) {
            if (too_big)
                return fail(p, err_mbulk_count_too_big, err);
            return RESP_MORE;
        }
        if (!parse_ll(buf + p->pos + 1, cr - p->pos - 1, &ll) ||
            ll > lim->max_multibulk)
            return fail(p, err_mbulk_invalid, err);
        if (lim->max_multibulk_unauth > 0 && ll > lim->max_multibulk_unauth)
            return fail(p, err_mbulk_unauth, err);
        p->pos = cr + 2;
        p->scan = p->pos;
        if (ll <= 0) {
            p->argc = 0;
            return done(p, consumed);
        }
        p->pending = ll;
        /* Never trust the announced count for the allocation. */
        if (argv_reserve(p, ll < ARGV_FIRST_MAX ? (size_t)ll
                                                : ARGV_FIRST_MAX) != 0)
            return fail(p, err_mbulk_invalid, err);
        p->state = ST_BULK_HEADER;
    }

    while (p->pending > 0) {
        if (p->state == ST_BULK_HEADER) {
            cr = header_end(p, buf, len, lim, &too_big);
            if (cr == SIZE_MAX) {
                if (too_big)
                    return fail(p, err_bulk_count_too_big, err);
                return RESP_MORE;
            }
            if (buf[p->pos] != '$') {
                static const char prefix[] = "Protocol error: expected '$', got '";
                char got = buf[p->pos];

                /* Redis's error replies turn CR and LF into spaces. */
                if (got == '\r' || got == '\n')
                    got = ' ';
                memcpy(p->errbuf, prefix, sizeof(prefix) - 1);
                p->errbuf[sizeof(prefix) - 1] = got;
                p->errbuf[sizeof(prefix)] = '\'';
                p->errbuf[sizeof(prefix) + 1] = '\0';
                return fail(p, p->errbuf, err);
            }
            if (!parse_ll(buf + p->pos + 1, cr - p->pos - 1, &ll) || ll < 0 ||
                ll > lim->max_bulk)
                return fail(p, err_bulk_invalid, err);
            if (lim->max_bulk_unauth > 0 && ll > lim->max_bulk_unauth)
                return fail(p, err_bulk_unauth, err);
            p->pos = cr + 2;
            p->scan = p->pos;
            p->bulklen = ll;
            p->state = ST_BULK_DATA;
        }

        /* ST_BULK_DATA: the data and the two bytes after it, which Redis
         * skips without checking that they are CRLF. */
        if ((unsigned long long)p->bulklen > SIZE_MAX - 2)
            body = SIZE_MAX; /* cannot arrive; only the hint matters */
        else
            body = (size_t)p->bulklen + 2;
        if (len - p->pos < body)
            return more(p, add_sat(p->pos, body));
        if (p->argc == p->argv_cap) {
            /* Double, but never beyond what the header still promises. */
            size_t grow = p->argv_cap;
            size_t cap = p->argv_cap;

            if ((unsigned long long)p->pending < grow)
                grow = (size_t)p->pending;
            cap = add_sat(cap, grow);
            if (argv_reserve(p, cap) != 0)
                return fail(p, err_mbulk_invalid, err);
        }
        p->argv[p->argc].off = p->pos;
        p->argv[p->argc].len = (size_t)p->bulklen;
        p->argc++;
        p->pos += body;
        p->scan = p->pos;
        p->bulklen = -1;
        p->pending--;
        p->state = ST_BULK_HEADER;
    }
    return done(p, consumed);
}

/* ------------------------------------------------------------ entry point */

enum resp_status resp_parse(struct resp_parser *p, char *buf, size_t len,
                            const struct resp_limits *lim, size_t *consumed,
                            const char **err)
{
    *consumed = 0;
    assert(len >= p->scan && len >= p->pos);

    switch (p->state) {
    case ST_DONE:
        *consumed = p->consumed;
        return RESP_DONE;
    case ST_ERROR:
        *err = p->err;
        return RESP_ERROR;
    case ST_START:
        if (len == 0)
            return more(p, 1);
        if (buf[0] == '*') {
            p->state = ST_COUNT;
            p->scan = 1;
        } else {
            p->state = ST_INLINE;
            p->is_inline = 1;
        }
        break;
    default:
        break;
    }

    if (p->state == ST_INLINE)
        return parse_inline(p, buf, len, lim, consumed, err);
    return parse_multibulk(p, buf, len, lim, consumed, err);
}
