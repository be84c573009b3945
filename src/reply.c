/*
 * reply.c — RESP2/RESP3 encoders writing into the client's obuf list.
 *
 * The list is a chain of chunks (struct obuf).  Small replies are appended
 * to the tail chunk; a reply bigger than a chunk gets a chunk of its own
 * size.  Deferred lengths are a tiny chunk of their own, left empty until
 * the handler knows the count; nothing is written to the socket before the
 * handler returns, so a hole is always filled before it could be sent.
 */
#include "reply.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "server.h"
#include "stats.h"

#define CHUNK_BYTES (16 * 1024)
#define SMALL_CHUNK_BYTES 1024

const char *const ERR_SYNTAX = "ERR syntax error";
const char *const ERR_WRONGTYPE =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
const char *const ERR_NOT_INT = "ERR value is not an integer or out of range";
const char *const ERR_NOT_FLOAT = "ERR value is not a valid float";
const char *const ERR_OVERFLOW = "ERR increment or decrement would overflow";
const char *const ERR_NO_SUCH_KEY = "ERR no such key";
const char *const ERR_OUT_OF_RANGE = "ERR index out of range";
const char *const ERR_DB_INDEX = "ERR DB index is out of range";

static int reply_suppressed(const struct client *c)
{
    return (c->flags & (CF_REPLY_OFF | CF_REPLY_SKIP | CF_CLOSE_ASAP)) != 0 ||
           (c->flags & (CF_FAKE | CF_CAPTURE)) == CF_FAKE;
}

static struct obuf *obuf_new(struct client *c, size_t size)
{
    struct obuf *b = rc_malloc(sizeof(*b) + size);
    b->size = rc_usable(b) - sizeof(*b);
    b->used = 0;
    b->waiting = 0;
    b->next = NULL;
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    return b;
}

/* Queue bytes, without the suppression check (callers did it). */
static void queue(struct client *c, const char *p, size_t len)
{
    struct obuf *t = c->reply_tail;
    c->reply_bytes += len;
    if (t && t->size - t->used >= len) {
        memcpy(t->buf + t->used, p, len);
        t->used += len;
        return;
    }
    if (t && t->size > t->used) {
        size_t n = t->size - t->used;
        memcpy(t->buf + t->used, p, n);
        t->used += n;
        p += n;
        len -= n;
    }
    /* Replies that go between forwarded ones come in small pieces, each
     * after a hole: small chunks for them, not a full one per reply. */
    size_t chunk = (t && t->waiting) ? SMALL_CHUNK_BYTES : CHUNK_BYTES;
    t = obuf_new(c, len > chunk ? len : chunk);
    memcpy(t->buf, p, len);
    t->used = len;
    conn_check_obuf_limits(c);
    conn_want_write(c);
}

void reply_raw(struct client *c, const char *p, size_t len)
{
    if (reply_suppressed(c))
        return;
    if (c->reply_head == NULL)
        conn_want_write(c);
    queue(c, p, len);
}

/* "<prefix><n>\r\n" */
static void reply_header(struct client *c, char prefix, long long n)
{
    char buf[RC_RESP_HEADER_MAX];
    reply_raw(c, buf, rc_resp_header(buf, prefix, n));
}

void reply_status(struct client *c, const char *s)
{
    if (reply_suppressed(c))
        return;
    size_t len = strlen(s);
    char buf[256];
    if (len + 3 <= sizeof(buf)) {
        buf[0] = '+';
        memcpy(buf + 1, s, len);
        buf[len + 1] = '\r';
        buf[len + 2] = '\n';
        reply_raw(c, buf, len + 3);
    } else {
        reply_raw(c, "+", 1);
        reply_raw(c, s, len);
        reply_raw(c, "\r\n", 2);
    }
}

void reply_ok(struct client *c)
{
    reply_raw(c, "+OK\r\n", 5);
}

void reply_error(struct client *c, const char *msg)
{
    stats_count_error(msg);
    if (c->cmd)
        stats_command_failed(c->cmd);
    if (reply_suppressed(c))
        return;
    /* An error line may not contain newlines: Redis turns them into spaces. */
    size_t len = strlen(msg);
    char stackbuf[512];
    char *buf = len + 3 <= sizeof(stackbuf) ? stackbuf : rc_malloc(len + 3);
    buf[0] = '-';
    for (size_t i = 0; i < len; i++)
        buf[i + 1] = (msg[i] == '\r' || msg[i] == '\n') ? ' ' : msg[i];
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    reply_raw(c, buf, len + 3);
    if (buf != stackbuf)
        rc_free(buf);
}

void reply_errorf(struct client *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_error(c, msg);
}

void reply_long(struct client *c, long long v)
{
    if (v == 0) {
        reply_raw(c, ":0\r\n", 4);
        return;
    }
    if (v == 1) {
        reply_raw(c, ":1\r\n", 4);
        return;
    }
    reply_header(c, ':', v);
}

void reply_bulk(struct client *c, const char *p, size_t len)
{
    if (reply_suppressed(c))
        return;
    char hdr[RC_RESP_HEADER_MAX];
    size_t n = rc_resp_header(hdr, '$', (long long)len);
    if (c->reply_head == NULL)
        conn_want_write(c);
    struct obuf *t = c->reply_tail;
    if (t && t->size - t->used >= n + len + 2) {
        /* Fast path: the whole reply fits in the tail chunk. */
        char *d = t->buf + t->used;
        memcpy(d, hdr, n);
        memcpy(d + n, p, len);
        d[n + len] = '\r';
        d[n + len + 1] = '\n';
        t->used += n + len + 2;
        c->reply_bytes += n + len + 2;
        return;
    }
    queue(c, hdr, n);
    queue(c, p, len);
    queue(c, "\r\n", 2);
}

void reply_bulk_cstr(struct client *c, const char *s)
{
    if (s == NULL)
        reply_null(c);
    else
        reply_bulk(c, s, strlen(s));
}

void reply_bulk_long(struct client *c, long long v)
{
    char buf[32];
    size_t n = rc_ll2str(buf, sizeof(buf), v);
    reply_bulk(c, buf, n);
}

void reply_bulk_double(struct client *c, double d)
{
    char buf[128];
    size_t n = rc_d2str_reply(buf, sizeof(buf), d);
    reply_bulk(c, buf, n);
}

void reply_double(struct client *c, double d)
{
    if (c->resp == 2) {
        reply_bulk_double(c, d);
        return;
    }
    char buf[130];
    buf[0] = ',';
    size_t n;
    if (isinf(d))
        n = (size_t)snprintf(buf + 1, sizeof(buf) - 1, "%s", d > 0 ? "inf" : "-inf");
    else
        n = rc_d2str_reply(buf + 1, sizeof(buf) - 1, d);
    buf[n + 1] = '\r';
    buf[n + 2] = '\n';
    reply_raw(c, buf, n + 3);
}

void reply_null(struct client *c)
{
    if (c->resp == 2)
        reply_raw(c, "$-1\r\n", 5);
    else
        reply_raw(c, "_\r\n", 3);
}

void reply_null_array(struct client *c)
{
    if (c->resp == 2)
        reply_raw(c, "*-1\r\n", 5);
    else
        reply_raw(c, "_\r\n", 3);
}

void reply_bool(struct client *c, int b)
{
    if (c->resp == 2)
        reply_raw(c, b ? ":1\r\n" : ":0\r\n", 4);
    else
        reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
}

void reply_array_len(struct client *c, long n)
{
    reply_header(c, '*', n);
}

void reply_empty_array(struct client *c)
{
    reply_raw(c, "*0\r\n", 4);
}

void reply_map_len(struct client *c, long n)
{
    if (c->resp == 2)
        reply_header(c, '*', 2 * (long long)n);
    else
        reply_header(c, '%', n);
}

void reply_set_len(struct client *c, long n)
{
    reply_header(c, c->resp == 2 ? '*' : '~', n);
}

void reply_push_len(struct client *c, long n)
{
    reply_header(c, c->resp == 2 ? '*' : '>', n);
}

void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext)
{
    if (c->resp == 2) {
        reply_bulk(c, p, len);
        return;
    }
    reply_header(c, '=', (long long)len + 4);
    reply_raw(c, ext, 3);
    reply_raw(c, ":", 1);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_kv_string(struct client *c, const struct kv *o)
{
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    reply_bulk(c, sv.p, sv.len);
}

void reply_help(struct client *c, const char *cmd, const char *const *lines)
{
    char up[64];
    size_t i;
    for (i = 0; cmd[i] && i < sizeof(up) - 1; i++)
        up[i] = (char)((cmd[i] >= 'a' && cmd[i] <= 'z') ? cmd[i] - 32 : cmd[i]);
    up[i] = '\0';
    long n = 0;
    while (lines[n])
        n++;
    reply_array_len(c, n + 3);
    char first[128];
    snprintf(first, sizeof(first), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", up);
    reply_status(c, first);
    for (long j = 0; j < n; j++)
        reply_status(c, lines[j]);
    reply_status(c, "HELP");
    reply_status(c, "    Prints this help.");
}

/* ---- deferred lengths ---- */

void *reply_defer_len(struct client *c)
{
    if (reply_suppressed(c))
        return NULL;
    if (c->reply_head == NULL)
        conn_want_write(c);
    struct obuf *hole = obuf_new(c, RC_RESP_HEADER_MAX);
    /* The hole looks full, so later replies go into a fresh chunk after it;
     * fill_hole() writes the length and sets the real fill. */
    hole->used = hole->size;
    return hole;
}

static void fill_hole(struct client *c, void *hole, char prefix, long long n)
{
    struct obuf *b = hole;
    if (b == NULL)
        return;
    size_t len = rc_resp_header(b->buf, prefix, n);
    b->used = len;
    c->reply_bytes += len;
}

void reply_set_array_len(struct client *c, void *hole, long n)
{
    fill_hole(c, hole, '*', n);
}

void reply_set_map_len(struct client *c, void *hole, long n)
{
    if (c->resp == 2)
        fill_hole(c, hole, '*', 2 * (long long)n);
    else
        fill_hole(c, hole, '%', n);
}

void reply_set_set_len(struct client *c, void *hole, long n)
{
    fill_hole(c, hole, c->resp == 2 ? '*' : '~', n);
}

/* ---- replies that come later (forwarded commands) ---- */

void *reply_await(struct client *c)
{
    if (reply_suppressed(c))
        return NULL;
    struct obuf *hole = obuf_new(c, 0);
    hole->used = hole->size;    /* looks full: later replies go after it */
    hole->waiting = 1;
    return hole;
}

void reply_mark(const struct client *c, struct reply_mark *m)
{
    m->tail = c->reply_tail;
    m->used = c->reply_tail ? c->reply_tail->used : 0;
}

void *reply_hold_since(struct client *c, const struct reply_mark *m, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    struct obuf *first = m->tail ? m->tail->next : c->reply_head;
    size_t total = m->tail ? m->tail->used - m->used : 0;
    for (struct obuf *b = first; b; b = b->next)
        total += b->used;
    if (total == 0 || reply_suppressed(c))
        return NULL;
    char *buf = rc_malloc(total);
    size_t off = 0;
    if (m->tail) {
        memcpy(buf, m->tail->buf + m->used, m->tail->used - m->used);
        off = m->tail->used - m->used;
        m->tail->used = m->used;
        m->tail->next = NULL;
    } else {
        c->reply_head = NULL;
    }
    while (first) {
        struct obuf *b = first;
        first = b->next;
        memcpy(buf + off, b->buf, b->used);
        off += b->used;
        rc_free(b);
    }
    c->reply_tail = m->tail;
    c->reply_bytes -= total;
    *out = buf;
    *len = total;
    return reply_await(c);
}

void reply_fill(struct client *c, void *hole, const char *p, size_t len)
{
    struct obuf *h = hole;
    if (h == NULL)
        return;
    struct obuf *b = rc_malloc(sizeof(*b) + len);
    b->size = rc_usable(b) - sizeof(*b);
    b->used = len;
    b->waiting = 0;
    memcpy(b->buf, p, len);
    b->next = h->next;
    h->next = b;
    if (c->reply_tail == h)
        c->reply_tail = b;
    h->used = 0;
    h->waiting = 0;
    c->reply_bytes += len;
    conn_check_obuf_limits(c);
    conn_want_write(c);
}

/* ---- common errors ---- */

void reply_err_arity(struct client *c, const char *cmdname)
{
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmdname);
}

void reply_err_syntax(struct client *c)
{
    reply_error(c, ERR_SYNTAX);
}

void reply_err_wrongtype(struct client *c)
{
    reply_error(c, ERR_WRONGTYPE);
}

void reply_err_not_int(struct client *c)
{
    reply_error(c, ERR_NOT_INT);
}

void reply_err_not_float(struct client *c)
{
    reply_error(c, ERR_NOT_FLOAT);
}
