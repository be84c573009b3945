/*
 * respframe.c — I/O-free framer for RESP2/RESP3 replies (see respframe.h).
 *
 * The framer is a loop over two states: at a header line (type byte, text,
 * CRLF) or inside a payload being skipped.  Every value that completes pays
 * one off the innermost open aggregate; an aggregate that has received all
 * its values completes in turn, and when nothing is open the reply is
 * whole.  An attribute "|n" is an aggregate owed 2n + 1 values: its pairs,
 * then the reply it annotates, so the pair and the reply complete together
 * as one value of the enclosing level.
 *
 * Only a whole header line is acted upon, so resuming after RFRAME_MORE
 * never has to undo half a header: the position stays at the line's type
 * byte and only the CR search resumes where it stopped.
 */
#include "respframe.h"

#include "util.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

enum {
    ST_LINE, /* at f->pos: a type byte and its line */
    ST_DATA, /* at f->pos: f->bulk payload bytes, then CRLF */
    ST_ERR
};

static const char err_type[] = "unknown reply type byte";
static const char err_crlf[] = "line or payload not ended by CRLF";
static const char err_line[] = "line longer than max_line";
static const char err_len[] = "invalid length or count";
static const char err_bulk[] = "payload longer than max_bulk";
static const char err_elems[] = "aggregate count over max_elems";
static const char err_depth[] = "aggregates nested deeper than max_depth";
static const char err_value[] = "malformed value in a line";
static const char err_verbatim[] = "verbatim string without its format";
static const char err_shrunk[] = "buffer shorter than in the last call";

void rframe_limits_init(struct rframe_limits *lim)
{
    lim->max_bulk = RFRAME_DEFAULT_MAX_BULK;
    lim->max_elems = RFRAME_DEFAULT_MAX_ELEMS;
    lim->max_line = RFRAME_DEFAULT_MAX_LINE;
    lim->max_depth = RFRAME_MAX_DEPTH;
}

void rframe_init(struct rframe *f, const struct rframe_limits *lim)
{
    memset(f, 0, sizeof(*f));
    if (lim != NULL)
        f->lim = *lim;
    else
        rframe_limits_init(&f->lim);
    if (f->lim.max_depth > RFRAME_MAX_DEPTH)
        f->lim.max_depth = RFRAME_MAX_DEPTH;
    f->state = ST_LINE;
}

void rframe_reset(struct rframe *f)
{
    struct rframe_limits lim = f->lim;

    rframe_init(f, &lim);
}

size_t rframe_need(const struct rframe *f)
{
    return f->need;
}

const char *rframe_error(const struct rframe *f)
{
    return f->state == ST_ERR ? f->err : NULL;
}

/* Saturating a + b. */
static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static enum rframe_status fail(struct rframe *f, const char *msg)
{
    f->state = ST_ERR;
    f->err = msg;
    f->need = 0;
    return RFRAME_ERR;
}

static enum rframe_status more(struct rframe *f, size_t need)
{
    f->need = need;
    return RFRAME_MORE;
}

/* ------------------------------------------------------- line contents */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "inf" or "nan" after an optional sign, as Redis writes them. */
static int is_double_word(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        s++;
        n--;
    }
    return n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0);
}

static int valid_double(const char *s, size_t n)
{
    int digit = 0;

    if (is_double_word(s, n))
        return 1;
    for (size_t i = 0; i < n; i++) {
        if (is_digit(s[i]))
            digit = 1;
        else if (!strchr("+-.eE", s[i]) || s[i] == '\0')
            return 0;
    }
    return digit;
}

static int valid_bignum(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-' ? 1 : 0;

    if (i == n)
        return 0;
    for (; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* Is s[0 .. n) a valid line for a value of this simple type? */
static int valid_simple(char type, const char *s, size_t n)
{
    long long ll;

    switch (type) {
    case '+':
    case '-':
        return memchr(s, '\n', n) == NULL;
    case ':':
        return rc_str2ll(s, n, &ll);
    case '_':
        return n == 0;
    case ',':
        return valid_double(s, n);
    case '#':
        return n == 1 && (s[0] == 't' || s[0] == 'f');
    case '(':
        return valid_bignum(s, n);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ scanning */

/* Is every open level an attribute owed only its reply?  Then the value
 * starting here is the reply proper of the frame. */
static int at_reply_proper(const struct rframe *f)
{
    for (unsigned i = 0; i < f->depth; i++)
        if (!(f->attr >> i & 1) || f->left[i] != 1)
            return 0;
    return 1;
}

/*
 * Find the CR ending the line whose type byte is at f->pos, and check the
 * LF after it.  Returns RFRAME_OK with the CR's offset in *cr, or the
 * verdict RFRAME_MORE or RFRAME_ERR.  The search never looks further than a
 * max_line line could reach, so a peer sending megabytes without a CR
 * costs one bounded scan.
 */
static enum rframe_status line_end(struct rframe *f, const char *buf,
                                   size_t len, size_t *cr)
{
    size_t text = f->pos + 1;
    size_t from = f->scan > text ? f->scan : text;
    size_t stop = add_sat(add_sat(text, f->lim.max_line), 1);
    const char *hit;

    if (stop > len)
        stop = len;
    hit = from < stop ? memchr(buf + from, '\r', stop - from) : NULL;
    if (hit == NULL) {
        f->scan = stop;
        if (len - text > f->lim.max_line)
            return fail(f, err_line);
        return more(f, add_sat(len, 1));
    }
    f->scan = (size_t)(hit - buf);
    if (len - f->scan < 2)
        return more(f, add_sat(f->scan, 2));
    if (hit[1] != '\n')
        return fail(f, err_crlf);
    *cr = f->scan;
    return RFRAME_OK;
}

/* One value has completed: pay it off the open levels. */
static void value_done(struct rframe *f)
{
    while (f->depth > 0) {
        if (--f->left[f->depth - 1] > 0)
            return;
        f->depth--;
    }
}

/*
 * Act on a whole header line: buf[f->pos] is the type byte, s[0 .. n) the
 * text, next the offset after its CRLF.  Returns RFRAME_OK when the header
 * was taken (f updated), RFRAME_ERR otherwise.
 */
static enum rframe_status header(struct rframe *f, const char *buf,
                                 size_t next)
{
    char type = buf[f->pos];
    const char *s = buf + f->pos + 1;
    size_t n = next - 2 - (f->pos + 1);
    long long ll;
    long long owed;

    if (at_reply_proper(f)) {
        f->type = type;
        f->body = f->pos;
    }
    switch (type) {
    case '$':
    case '!':
    case '=':
        if (!rc_str2ll(s, n, &ll) || ll < -1 || (ll == -1 && type != '$'))
            return fail(f, err_len);
        if (ll > f->lim.max_bulk)
            return fail(f, err_bulk);
        f->pos = next;
        if (ll == -1) {
            value_done(f);
            return RFRAME_OK;
        }
        f->bulk = ll;
        f->bulk_type = type;
        f->state = ST_DATA;
        return RFRAME_OK;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|':
        if (!rc_str2ll(s, n, &ll) || ll < -1 || (ll == -1 && type != '*'))
            return fail(f, err_len);
        f->pos = next;
        if (ll == -1) {
            value_done(f);
            return RFRAME_OK;
        }
        if (ll > f->lim.max_elems)
            return fail(f, err_elems);
        if (f->depth >= f->lim.max_depth)
            return fail(f, err_depth);
        /* 2n + 1 overflows only for counts near LLONG_MAX, which a
         * max_elems that high lets through; such a reply never completes
         * anyway, so saturating is as good as exact. */
        owed = ll;
        if (type == '%' || type == '|')
            owed = ll > (LLONG_MAX - 1) / 2 ? LLONG_MAX - 1 : 2 * ll;
        if (type == '|')
            owed++;
        if (owed == 0) {
            value_done(f);
            return RFRAME_OK;
        }
        if (type == '|')
            f->attr |= (uint64_t)1 << f->depth;
        else
            f->attr &= ~((uint64_t)1 << f->depth);
        f->left[f->depth++] = owed;
        return RFRAME_OK;
    default:
        if (!valid_simple(type, s, n))
            return fail(f, err_value);
        f->pos = next;
        value_done(f);
        return RFRAME_OK;
    }
}

static int is_type_byte(char c)
{
    return c != '\0' && strchr("+-:_,#($!=*~>%|", c) != NULL;
}

enum rframe_status rframe_scan(struct rframe *f, const char *buf, size_t len,
                               size_t *frame_len)
{
    enum rframe_status st;

    *frame_len = 0;
    if (f->state == ST_ERR)
        return RFRAME_ERR;
    /* A caller bug, but cheap to refuse rather than read out of bounds. */
    if (len < f->pos || len < f->scan)
        return fail(f, err_shrunk);

    for (;;) {
        if (f->state == ST_LINE) {
            size_t cr = 0;

            if (f->pos >= len)
                return more(f, add_sat(f->pos, 1));
            if (!is_type_byte(buf[f->pos]))
                return fail(f, err_type);
            st = line_end(f, buf, len, &cr);
            if (st != RFRAME_OK)
                return st;
            if (header(f, buf, cr + 2) != RFRAME_OK)
                return RFRAME_ERR;
        } else {
            /* ST_DATA: the payload, then CRLF. */
            size_t body = (unsigned long long)f->bulk > SIZE_MAX - 2
                              ? SIZE_MAX /* cannot arrive; only need counts */
                              : (size_t)f->bulk + 2;
            size_t end;

            if (len - f->pos < body)
                return more(f, add_sat(f->pos, body));
            end = f->pos + body;
            if (buf[end - 2] != '\r' || buf[end - 1] != '\n')
                return fail(f, err_crlf);
            if (f->bulk_type == '=' && (f->bulk < 4 || buf[f->pos + 3] != ':'))
                return fail(f, err_verbatim);
            f->pos = end;
            f->state = ST_LINE;
            value_done(f);
        }
        f->scan = f->pos;
        /* Whole once nothing is open, unless a payload is still owed. */
        if (f->depth == 0 && f->state == ST_LINE) {
            char type = f->type;
            size_t body = f->body;

            *frame_len = f->pos;
            rframe_reset(f);
            f->type = type;
            f->body = body;
            return RFRAME_OK;
        }
    }
}

/* ------------------------------------------------------------- helpers */

int rframe_is_error(const char *reply, size_t len)
{
    return len > 0 && (reply[0] == '-' || reply[0] == '!');
}

/*
 * The line starting at reply[pos] with type byte t: its text is
 * reply[pos + 1 .. *cr).  Returns 1 if it is there and ends in CRLF.
 */
static int helper_line(const char *reply, size_t len, size_t pos, char t,
                       size_t *cr)
{
    const char *p;

    if (pos >= len || reply[pos] != t)
        return 0;
    p = memchr(reply + pos + 1, '\r', len - pos - 1);
    if (p == NULL || (size_t)(p - reply) + 1 >= len || p[1] != '\n')
        return 0;
    *cr = (size_t)(p - reply);
    return 1;
}

int rframe_read_int(const char *reply, size_t len, long long *out)
{
    size_t cr;

    if (!helper_line(reply, len, 0, ':', &cr) || cr + 2 != len)
        return 0;
    return rc_str2ll(reply + 1, cr - 1, out);
}

long long rframe_array_open(struct rframe_iter *it, const char *reply,
                            size_t len)
{
    size_t cr;
    long long n;

    it->buf = reply;
    it->len = len;
    it->pos = len;
    it->left = 0;
    if (!helper_line(reply, len, 0, '*', &cr) ||
        !rc_str2ll(reply + 1, cr - 1, &n) || n < 0)
        return -1;
    it->pos = cr + 2;
    it->left = n;
    return n;
}

int rframe_array_next(struct rframe_iter *it, struct rframe_bulk *out)
{
    const char *b = it->buf;
    size_t start = it->pos;
    size_t cr;
    long long n;

    if (it->left == 0)
        return start == it->len ? 0 : -1;
    out->raw = b + start;
    out->data = NULL;
    out->len = 0;
    if (helper_line(b, it->len, start, '_', &cr)) {
        if (cr != start + 1)
            return -1;
    } else if (helper_line(b, it->len, start, '$', &cr)) {
        if (!rc_str2ll(b + start + 1, cr - start - 1, &n) || n < -1)
            return -1;
        if (n >= 0) {
            size_t data = cr + 2;

            if ((unsigned long long)n > it->len - data ||
                it->len - data - (size_t)n < 2 || b[data + (size_t)n] != '\r' ||
                b[data + (size_t)n + 1] != '\n')
                return -1;
            out->data = b + data;
            out->len = (size_t)n;
            cr = data + (size_t)n;
        }
    } else {
        return -1;
    }
    it->pos = cr + 2;
    it->left--;
    out->raw_len = it->pos - start;
    return 1;
}
