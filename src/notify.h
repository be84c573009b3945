/*
 * notify.h — keyspace notifications (`notify-keyspace-events`).
 *
 * Commands announce what they did to a key with notify_event(); when the
 * event's class is enabled it is published on this node, through the
 * ordinary pub/sub delivery, as Redis 7.0 does:
 *   K: "__keyspace@<db>__:<key>"   with the event name as the message,
 *   E: "__keyevent@<db>__:<event>" with the key as the message.
 * In a ring each node publishes the events of the keys it owns (the
 * commands run there), as Redis Cluster does: subscribers listen on the
 * node that owns the keys.
 */
#ifndef RC_NOTIFY_H
#define RC_NOTIFY_H

#include <stddef.h>

struct db;

enum {
    NOTIFY_KEYSPACE = 1 << 0,   /* K */
    NOTIFY_KEYEVENT = 1 << 1,   /* E */
    NOTIFY_GENERIC = 1 << 2,    /* g */
    NOTIFY_STRING = 1 << 3,     /* $ */
    NOTIFY_LIST = 1 << 4,       /* l */
    NOTIFY_SET = 1 << 5,        /* s */
    NOTIFY_HASH = 1 << 6,       /* h */
    NOTIFY_ZSET = 1 << 7,       /* z */
    NOTIFY_EXPIRED = 1 << 8,    /* x */
    NOTIFY_EVICTED = 1 << 9,    /* e */
    NOTIFY_STREAM = 1 << 10,    /* t */
    NOTIFY_KEY_MISS = 1 << 11,  /* m (excluded from A) */
    NOTIFY_LOADED = 1 << 12,    /* module only */
    NOTIFY_MODULE = 1 << 13,    /* d */
    NOTIFY_NEW = 1 << 14,       /* n (excluded from A) */
};
/* "A": g$lshzxetd */
#define NOTIFY_ALL (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | \
                    NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

/* The class letters as flags; -1 if a character is not a class. */
int notify_flags_parse(const char *s, size_t len);

/* The flags as Redis writes them ("A" for every class of A, then K, E, m);
 * returns the length written (buf of at least 16 bytes). */
size_t notify_flags_format(int flags, char *buf, size_t len);

/* Publish event of class cls for key in db, if enabled. */
void notify_event(int cls, const char *event, const struct db *db, const char *key, size_t len);

/* Is any class of cls enabled (and K or E)?  For callers that would
 * build something only to notify. */
int notify_enabled(int cls);

#endif
