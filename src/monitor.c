/*
 * monitor.c — MONITOR.  Each executed command is sent to every monitoring
 * client as a status line in redis-server's format:
 *   +1700000000.123456 [0 127.0.0.1:50000] "set" "k" "v"
 * with non-printable bytes escaped as \xHH and quotes/backslashes escaped.
 */
#include "monitor.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "conn.h"
#include "reply.h"
#include "server.h"

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap *= 2;
        *buf = rc_realloc(*buf, *cap);
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

static void append_repr(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    append(buf, len, cap, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char tmp[8];
        switch (ch) {
        case '\\': append(buf, len, cap, "\\\\", 2); break;
        case '"': append(buf, len, cap, "\\\"", 2); break;
        case '\n': append(buf, len, cap, "\\n", 2); break;
        case '\r': append(buf, len, cap, "\\r", 2); break;
        case '\t': append(buf, len, cap, "\\t", 2); break;
        case '\a': append(buf, len, cap, "\\a", 2); break;
        case '\b': append(buf, len, cap, "\\b", 2); break;
        default:
            if (ch >= 32 && ch < 127) {
                append(buf, len, cap, (const char *)&ch, 1);
            } else {
                snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
                append(buf, len, cap, tmp, 4);
            }
        }
    }
    append(buf, len, cap, "\"", 1);
}

void monitor_feed(struct client *c)
{
    size_t cap = 256, len = 0;
    char *buf = rc_malloc(cap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char head[160];
    int n = snprintf(head, sizeof(head), "+%ld.%06ld [%d %s] ", (long)tv.tv_sec,
                     (long)tv.tv_usec, c->db->id,
                     (c->flags & CF_UNIX) ? "unix" : c->addr);
    append(&buf, &len, &cap, head, (size_t)n);
    for (int i = 0; i < c->argc; i++) {
        if (i)
            append(&buf, &len, &cap, " ", 1);
        append_repr(&buf, &len, &cap, c->argv[i].p, c->argv[i].len);
    }
    append(&buf, &len, &cap, "\r\n", 2);
    for (struct client *m = server.clients; m; m = m->next) {
        if ((m->flags & CF_MONITOR) && m != c)
            reply_raw(m, buf, len);
    }
    rc_free(buf);
}

void cmd_monitor(struct client *c)
{
    if (c->flags & CF_MONITOR)
        return;
    c->flags |= CF_MONITOR;
    server.monitors++;
    reply_ok(c);
}
