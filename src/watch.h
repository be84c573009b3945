/*
 * watch.h — WATCH bookkeeping: which clients watch which keys, and marking
 * their transactions dirty when a watched key is modified.
 *
 * Every command that changes a key calls db_signal_modified() (db.c),
 * which lands here; FLUSHDB, FLUSHALL and SWAPDB touch whole databases.
 */
#ifndef RC_WATCH_H
#define RC_WATCH_H

#include <stddef.h>

struct client;
struct db;

void watch_init(void);
void watch_deinit(void);

/* WATCH one key for c (no-op if already watched). */
void watch_key(struct client *c, struct db *db, const char *key, size_t len);
/* Forget every key c watches (UNWATCH, EXEC, DISCARD, RESET, disconnect). */
void watch_unwatch_all(struct client *c);
/* Number of keys c watches. */
size_t watch_count(const struct client *c);
/* Number of distinct watched keys in the whole server. */
size_t watch_total_keys(void);

/* A key changed: every client watching it gets CF_DIRTY_CAS. */
void watch_touch_key(struct db *db, const char *key, size_t len);
/* Every key watched in db that exists in db or in other (other may be
 * NULL): before FLUSHDB/FLUSHALL, and for SWAPDB. */
void watch_touch_db(struct db *db, struct db *other);

/* Did any key c watches expire since WATCH?  (Redis 7.0 makes EXEC fail
 * when a watched key that existed at WATCH time is now logically
 * expired, even if nothing deleted it yet.) */
int watch_any_expired(struct client *c);

#endif
