/*
 * watch.c — the WATCH registry.
 *
 * One hash table for the whole server maps (database id, key) to the
 * clients watching it; each client keeps the list of its own entries so
 * that UNWATCH and disconnects are O(keys watched).  Touching a key marks
 * every watcher CF_DIRTY_CAS, which makes its EXEC fail.
 */
#include "watch.h"

#include <string.h>

#include "hash.h"
#include "server.h"

struct wkey {
    struct dnode node;
    struct client **clients;
    size_t nclients;
    size_t cap;
    int dbid;
    size_t klen;                /* of the composite key below */
    char key[];                 /* 4-byte db id, then the key bytes */
};

/* What a client remembers of each key it watches. */
struct watch_ref {
    struct wkey *wk;
    int expired_at_watch;       /* the key was logically expired at WATCH */
};

static struct dict *registry;

static void wkey_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct wkey *w = (const struct wkey *)n;
    *key = w->key;
    *len = w->klen;
}

static void wkey_destroy(struct dnode *n)
{
    struct wkey *w = (struct wkey *)n;
    rc_free(w->clients);
    rc_free(w);
}

static const struct dict_type registry_type = {
    .hash = rc_hash, .key = wkey_key, .destroy = wkey_destroy,
};

void watch_init(void)
{
    if (registry == NULL)
        registry = dict_create(&registry_type);
}

void watch_deinit(void)
{
    dict_destroy(&registry);
}

/* Composite key into buf (at least 4 + len bytes); returns its length. */
static size_t composite(char *buf, int dbid, const char *key, size_t len)
{
    uint32_t id = (uint32_t)dbid;
    memcpy(buf, &id, 4);
    memcpy(buf + 4, key, len);
    return len + 4;
}

static struct wkey *lookup(int dbid, const char *key, size_t len)
{
    if (registry == NULL || dict_size(registry) == 0)
        return NULL;
    char stackbuf[256];
    char *buf = len + 4 <= sizeof(stackbuf) ? stackbuf : rc_malloc(len + 4);
    size_t n = composite(buf, dbid, key, len);
    struct wkey *w = (struct wkey *)dict_find(registry, buf, n);
    if (buf != stackbuf)
        rc_free(buf);
    return w;
}

void watch_key(struct client *c, struct db *db, const char *key, size_t len)
{
    watch_init();
    struct wkey *w = lookup(db->id, key, len);
    struct watch_ref *refs = c->watched;
    if (w) {
        for (size_t i = 0; i < c->nwatched; i++)
            if (refs[i].wk == w)
                return;
    } else {
        w = rc_calloc(sizeof(*w) + 4 + len);
        w->dbid = db->id;
        w->klen = composite(w->key, db->id, key, len);
        dict_add(registry, &w->node);
    }
    if (w->nclients == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 2;
        w->clients = rc_realloc(w->clients, sizeof(*w->clients) * w->cap);
    }
    w->clients[w->nclients++] = c;
    if (c->nwatched == c->watched_cap) {
        c->watched_cap = c->watched_cap ? c->watched_cap * 2 : 4;
        c->watched = rc_realloc(c->watched, sizeof(struct watch_ref) * c->watched_cap);
        refs = c->watched;
    }
    struct kv *o = db_lookup_nostat(db, key, len);
    refs[c->nwatched].wk = w;
    refs[c->nwatched].expired_at_watch = o != NULL && kv_is_expired(o);
    c->nwatched++;
}

void watch_unwatch_all(struct client *c)
{
    struct watch_ref *refs = c->watched;
    for (size_t i = 0; i < c->nwatched; i++) {
        struct wkey *w = refs[i].wk;
        for (size_t j = 0; j < w->nclients; j++) {
            if (w->clients[j] == c) {
                w->clients[j] = w->clients[--w->nclients];
                break;
            }
        }
        if (w->nclients == 0) {
            dict_unlink(registry, w->key, w->klen);
            wkey_destroy(&w->node);
        }
    }
    rc_free(c->watched);
    c->watched = NULL;
    c->nwatched = c->watched_cap = 0;
}

size_t watch_count(const struct client *c)
{
    return c->nwatched;
}

size_t watch_total_keys(void)
{
    return registry ? dict_size(registry) : 0;
}

static void mark_dirty(struct wkey *w)
{
    for (size_t j = 0; j < w->nclients; j++)
        w->clients[j]->flags |= CF_DIRTY_CAS;
}

/* If c watched w while its key was already logically expired, forget that
 * and return 1: the key's deletion (by expiry, or a DEL that finds it
 * expired) is then no change for c, as in Redis 7.0's touchWatchedKey. */
static int clear_expired_at_watch(struct client *c, const struct wkey *w)
{
    struct watch_ref *refs = c->watched;
    for (size_t i = 0; i < c->nwatched; i++) {
        if (refs[i].wk == w && refs[i].expired_at_watch) {
            refs[i].expired_at_watch = 0;
            return 1;
        }
    }
    return 0;
}

void watch_touch_key(struct db *db, const char *key, size_t len)
{
    struct wkey *w = lookup(db->id, key, len);
    if (w == NULL)
        return;
    int gone = db_lookup_nostat(db, key, len) == NULL;
    for (size_t j = 0; j < w->nclients; j++) {
        if (gone && clear_expired_at_watch(w->clients[j], w))
            continue;
        w->clients[j]->flags |= CF_DIRTY_CAS;
    }
}

void watch_touch_db(struct db *db, struct db *other)
{
    if (registry == NULL || dict_size(registry) == 0)
        return;
    struct dict_iter it;
    dict_iter_init(&it, registry);
    struct dnode *n;
    while ((n = dict_iter_next(&it)) != NULL) {
        struct wkey *w = (struct wkey *)n;
        if (w->dbid != db->id)
            continue;
        const char *k = w->key + 4;
        size_t kl = w->klen - 4;
        if (db_lookup_nostat(db, k, kl) != NULL ||
            (other && db_lookup_nostat(other, k, kl) != NULL))
            mark_dirty(w);
    }
    dict_iter_done(&it);
}

int watch_any_expired(struct client *c)
{
    const struct watch_ref *refs = c->watched;
    for (size_t i = 0; i < c->nwatched; i++) {
        if (refs[i].expired_at_watch)
            continue;
        const struct wkey *w = refs[i].wk;
        struct kv *o = db_lookup_nostat(&server.dbs[w->dbid], w->key + 4, w->klen - 4);
        if (o && kv_is_expired(o))
            return 1;
    }
    return 0;
}
