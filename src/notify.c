/*
 * notify.c — keyspace notifications: the class flags of
 * `notify-keyspace-events` and publishing events (notify.h).
 */
#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "pubsub.h"
#include "server.h"

static const struct {
    char ch;
    int flags;
} classes[] = {
    {'A', NOTIFY_ALL},     {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING},  {'l', NOTIFY_LIST},
    {'s', NOTIFY_SET},     {'h', NOTIFY_HASH},    {'z', NOTIFY_ZSET},    {'x', NOTIFY_EXPIRED},
    {'e', NOTIFY_EVICTED}, {'t', NOTIFY_STREAM},  {'d', NOTIFY_MODULE},  {'n', NOTIFY_NEW},
    {'K', NOTIFY_KEYSPACE}, {'E', NOTIFY_KEYEVENT}, {'m', NOTIFY_KEY_MISS},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

int notify_flags_parse(const char *s, size_t len)
{
    int flags = 0;
    for (size_t i = 0; i < len; i++) {
        size_t j;
        for (j = 0; j < NCLASSES && classes[j].ch != s[i]; j++)
            ;
        if (j == NCLASSES)
            return -1;
        flags |= classes[j].flags;
    }
    return flags;
}

size_t notify_flags_format(int flags, char *buf, size_t len)
{
    /* Redis's order: "A" standing for its letters (or each of them, and
     * n, which Redis prints only in that branch), then K, E, m. */
    static const char order[] = "g$lshzxetdn";
    size_t n = 0;
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        buf[n++] = 'A';
    } else {
        for (const char *p = order; *p; p++)
            if (flags & notify_flags_parse(p, 1))
                buf[n++] = *p;
    }
    if (flags & NOTIFY_KEYSPACE)
        buf[n++] = 'K';
    if (flags & NOTIFY_KEYEVENT)
        buf[n++] = 'E';
    if (flags & NOTIFY_KEY_MISS)
        buf[n++] = 'm';
    (void)len; /* at most 14 letters: callers pass 16 or more */
    buf[n] = '\0';
    return n;
}

int notify_enabled(int cls)
{
    int f = server.notify_keyspace_events;
    return (f & cls) && (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT));
}

void notify_event(int cls, const char *event, const struct db *db, const char *key, size_t len)
{
    if (!notify_enabled(cls))
        return;
    int f = server.notify_keyspace_events;
    size_t elen = strlen(event);
    char head[64];
    struct slice ch, msg;
    if (f & NOTIFY_KEYSPACE) {
        /* The channel is "__keyspace@<db>__:" followed by the key; keys
         * may be large, so the channel is built in a heap buffer. */
        int hn = snprintf(head, sizeof(head), "__keyspace@%d__:", db->id);
        char *buf = rc_malloc((size_t)hn + len);
        memcpy(buf, head, (size_t)hn);
        memcpy(buf + hn, key, len);
        ch = (struct slice){buf, (size_t)hn + len};
        msg = (struct slice){event, elen};
        pubsub_publish(0, &ch, &msg);
        rc_free(buf);
    }
    if (f & NOTIFY_KEYEVENT) {
        char buf[128];
        int hn = snprintf(buf, sizeof(buf), "__keyevent@%d__:%s", db->id, event);
        ch = (struct slice){buf, (size_t)hn};
        msg = (struct slice){key, len};
        pubsub_publish(0, &ch, &msg);
    }
}
