/*
 * slowlog.c — commands slower than slowlog-log-slower-than microseconds,
 * newest first, at most slowlog-max-len of them.  Arguments are copied
 * with Redis's limits: at most 32 arguments (the last says how many more
 * there were) and 128 bytes per argument (with a "more bytes" note).
 */
#include "slowlog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reply.h"
#include "server.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

struct slowlog_entry {
    struct slowlog_entry *next;
    long long id;
    long long time;
    long long duration;
    int argc;
    struct slice *argv;         /* owned copies */
    char peer[64];
    char name[64];
};

static void entry_free(struct slowlog_entry *e)
{
    for (int i = 0; i < e->argc; i++)
        rc_free((void *)e->argv[i].p);
    rc_free(e->argv);
    rc_free(e);
}

static void copy_arg(struct slice *dst, const char *p, size_t len)
{
    dst->p = rc_strndup(p, len);
    dst->len = len;
}

void slowlog_maybe_add(struct client *c, long long duration)
{
    if (server.slowlog_log_slower_than < 0 || duration < server.slowlog_log_slower_than)
        return;
    struct slowlog_entry *e = rc_calloc(sizeof(*e));
    int argc = c->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : c->argc;
    e->argv = rc_malloc(sizeof(*e->argv) * (size_t)argc);
    e->argc = argc;
    for (int i = 0; i < argc; i++) {
        if (argc != c->argc && i == argc - 1) {
            char buf[64];
            int n = snprintf(buf, sizeof(buf), "... (%d more arguments)", c->argc - argc + 1);
            copy_arg(&e->argv[i], buf, (size_t)n);
        } else if (c->argv[i].len > SLOWLOG_MAX_ARGLEN) {
            char buf[SLOWLOG_MAX_ARGLEN + 64];
            memcpy(buf, c->argv[i].p, SLOWLOG_MAX_ARGLEN);
            int n = snprintf(buf + SLOWLOG_MAX_ARGLEN, 64, "... (%zu more bytes)",
                             c->argv[i].len - SLOWLOG_MAX_ARGLEN);
            copy_arg(&e->argv[i], buf, SLOWLOG_MAX_ARGLEN + (size_t)n);
        } else {
            copy_arg(&e->argv[i], c->argv[i].p, c->argv[i].len);
        }
    }
    e->id = server.slowlog_next_id++;
    e->time = (long long)time(NULL);
    e->duration = duration;
    snprintf(e->peer, sizeof(e->peer), "%s", c->addr);
    snprintf(e->name, sizeof(e->name), "%s", c->name ? c->name : "");
    e->next = server.slowlog_head;
    server.slowlog_head = e;
    server.slowlog_len++;
    slowlog_trim();
}

void slowlog_trim(void)
{
    if (server.slowlog_len <= server.slowlog_max_len)
        return;
    struct slowlog_entry **pp = &server.slowlog_head;
    unsigned long kept = 0;
    while (*pp && kept < server.slowlog_max_len) {
        pp = &(*pp)->next;
        kept++;
    }
    struct slowlog_entry *e = *pp;
    *pp = NULL;
    while (e) {
        struct slowlog_entry *n = e->next;
        entry_free(e);
        server.slowlog_len--;
        e = n;
    }
}

void slowlog_free_all(void)
{
    struct slowlog_entry *e = server.slowlog_head;
    while (e) {
        struct slowlog_entry *n = e->next;
        entry_free(e);
        e = n;
    }
    server.slowlog_head = NULL;
    server.slowlog_len = 0;
}

void cmd_slowlog_get(struct client *c)
{
    long long count = 10;
    if (c->argc > 3) {
        reply_error(c, "ERR unknown subcommand or wrong number of arguments for 'GET'. "
                       "Try SLOWLOG HELP.");
        return;
    }
    if (c->argc == 3) {
        if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &count) || count < -1) {
            reply_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
        if (count == -1)
            count = (long long)server.slowlog_len;
    }
    if ((unsigned long long)count > server.slowlog_len)
        count = (long long)server.slowlog_len;
    reply_array_len(c, (long)count);
    struct slowlog_entry *e = server.slowlog_head;
    for (long long i = 0; i < count && e; i++, e = e->next) {
        reply_array_len(c, 6);
        reply_long(c, e->id);
        reply_long(c, e->time);
        reply_long(c, e->duration);
        reply_array_len(c, e->argc);
        for (int j = 0; j < e->argc; j++)
            reply_bulk(c, e->argv[j].p, e->argv[j].len);
        reply_bulk_cstr(c, e->peer);
        reply_bulk_cstr(c, e->name);
    }
}

void cmd_slowlog_len(struct client *c)
{
    reply_long(c, (long long)server.slowlog_len);
}

void cmd_slowlog_reset(struct client *c)
{
    slowlog_free_all();
    reply_ok(c);
}

void cmd_slowlog_help(struct client *c)
{
    static const char *const lines[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    reply_help(c, "slowlog", lines);
}
