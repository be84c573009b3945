/*
 * acllog.c — ACL LOG entries: reason, context, object, username, the
 * client's CLIENT LIST line and a count of repeats.  A denial equal to an
 * entry (same reason, context, object and user) less than 60 s younger
 * updates that entry and moves it to the front, as Redis 7.0 groups them.
 * The list is trimmed to acllog-max-len.
 */
#include "acllog.h"

#include <string.h>

#include "acl.h"
#include "conn.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define GROUP_MS 60000

struct entry {
    struct entry *next;
    long long count;
    int reason;
    enum acllog_ctx ctx;
    char *object;
    size_t objlen;
    char *username;
    char *cinfo;
    unsigned long long ctime;   /* ms */
};

static struct entry *head;
static unsigned long nentries;

static void entry_free(struct entry *e)
{
    rc_free(e->object);
    rc_free(e->username);
    rc_free(e->cinfo);
    rc_free(e);
}

static void trim(void)
{
    unsigned long keep = server.acllog_max_len;
    struct entry **pp = &head;
    unsigned long i = 0;
    while (*pp && i < keep) {
        pp = &(*pp)->next;
        i++;
    }
    while (*pp) {
        struct entry *e = *pp;
        *pp = e->next;
        entry_free(e);
        nentries--;
    }
}

void acllog_add(struct client *c, int reason, enum acllog_ctx ctx, const char *object,
                size_t objlen, const char *username)
{
    char cinfo[1024];
    size_t clen = conn_describe(c, cinfo, sizeof(cinfo));
    unsigned long long now = rc_mstime();
    struct entry **pp = &head;
    for (; *pp; pp = &(*pp)->next) {
        struct entry *e = *pp;
        if (e->reason == reason && e->ctx == ctx && e->objlen == objlen &&
            memcmp(e->object, object, objlen) == 0 && strcmp(e->username, username) == 0 &&
            now - e->ctime < GROUP_MS) {
            e->count++;
            e->ctime = now;
            rc_free(e->cinfo);
            e->cinfo = rc_strndup(cinfo, clen);
            *pp = e->next;
            e->next = head;
            head = e;
            return;
        }
    }
    struct entry *e = rc_calloc(sizeof(*e));
    e->count = 1;
    e->reason = reason;
    e->ctx = ctx;
    e->object = rc_strndup(object, objlen);
    e->objlen = objlen;
    e->username = rc_strndup(username, strlen(username));
    e->cinfo = rc_strndup(cinfo, clen);
    e->ctime = now;
    e->next = head;
    head = e;
    nentries++;
    trim();
}

void acllog_reset(void)
{
    while (head) {
        struct entry *e = head;
        head = e->next;
        entry_free(e);
    }
    nentries = 0;
}

static const char *reason_name(int r)
{
    switch (r) {
    case ACL_DENIED_CMD: return "command";
    case ACL_DENIED_KEY: return "key";
    case ACL_DENIED_AUTH: return "auth";
    case ACL_DENIED_CHANNEL: return "channel";
    default: return "unknown";
    }
}

static const char *ctx_name(enum acllog_ctx x)
{
    switch (x) {
    case ACLLOG_MULTI: return "multi";
    case ACLLOG_LUA: return "lua";
    default: return "toplevel";
    }
}

void acllog_reply(struct client *c, long long count)
{
    /* A negative count lists everything, as in Redis. */
    unsigned long long n = 0;
    for (struct entry *e = head; e && (count < 0 || (long long)n < count); e = e->next)
        n++;
    reply_array_len(c, (long)n);
    unsigned long long now = rc_mstime();
    struct entry *e = head;
    for (unsigned long long i = 0; i < n; i++, e = e->next) {
        reply_map_len(c, 7);
        reply_bulk_cstr(c, "count");
        reply_long(c, e->count);
        reply_bulk_cstr(c, "reason");
        reply_bulk_cstr(c, reason_name(e->reason));
        reply_bulk_cstr(c, "context");
        reply_bulk_cstr(c, ctx_name(e->ctx));
        reply_bulk_cstr(c, "object");
        reply_bulk(c, e->object, e->objlen);
        reply_bulk_cstr(c, "username");
        reply_bulk_cstr(c, e->username);
        reply_bulk_cstr(c, "age-seconds");
        reply_double(c, (double)(now - e->ctime) / 1000.0);
        reply_bulk_cstr(c, "client-info");
        reply_bulk_cstr(c, e->cinfo);
    }
}
