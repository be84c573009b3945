/*
 * db.c — the keyspace.
 *
 * A database is an array of RC_SLOTS hash tables, one per cluster slot,
 * each created when its first key arrives and destroyed when its last key
 * leaves.  A Fenwick tree over the per-slot key counts lets RANDOMKEY pick
 * a uniformly random key in O(log slots), and SCAN cursors carry the slot
 * in their low 14 bits and the table cursor above them.
 *
 * Keys with a TTL are also listed in a per-database `expires` table whose
 * nodes point at the entries; the active expiry cycle walks it.  Entries
 * are reallocated when their TTL is added or removed (the expire field is
 * inline), so every place that moves an entry keeps that table in step.
 */
#include "notify.h"
#include "server.h"

#include <stdio.h>
#include <string.h>

#include "bio.h"
#include "block.h"
#include "cluster.h"
#include "evict.h"
#include "hash.h"
#include "propagate.h"
#include "rand.h"
#include "repl.h"
#include "tracking.h"
#include "watch.h"

struct expire_ref {
    struct dnode node;
    struct kv *o;
};

static void kv_node_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct kv *o = (const struct kv *)n;
    *key = kv_key(o);
    *len = o->klen;
}

static void kv_node_destroy(struct dnode *n)
{
    kv_free((struct kv *)n);
}

static void ref_node_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct expire_ref *r = (const struct expire_ref *)n;
    *key = kv_key(r->o);
    *len = r->o->klen;
}

static void ref_node_destroy(struct dnode *n)
{
    rc_free(n);
}

const struct dict_type keyspace_dict_type = {
    .hash = rc_hash, .key = kv_node_key, .destroy = kv_node_destroy,
};

static const struct dict_type expires_dict_type = {
    .hash = rc_hash, .key = ref_node_key, .destroy = ref_node_destroy,
};

/* ---- Fenwick tree over slot key counts ---- */

static void fenwick_add(struct db *db, unsigned slot, long delta)
{
    for (unsigned i = slot + 1; i <= RC_SLOTS; i += i & (~i + 1))
        db->fenwick[i] = (uint32_t)((long)db->fenwick[i] + delta);
}

/* Slot holding the key with 0-based rank `target` in slot order. */
static unsigned fenwick_find(const struct db *db, unsigned long target)
{
    unsigned pos = 0;
    for (unsigned step = RC_SLOTS; step; step >>= 1) {
        unsigned next = pos + step;
        if (next <= RC_SLOTS && db->fenwick[next] <= target) {
            pos = next;
            target -= db->fenwick[next];
        }
    }
    return pos;  /* 0-based slot */
}

unsigned db_slot_of_rank(const struct db *db, unsigned long rank)
{
    return fenwick_find(db, rank);
}

struct kv *db_expire_ref_kv(struct dnode *n)
{
    return ((struct expire_ref *)n)->o;
}

/* ---- set-up ---- */

static void db_init(struct db *db, int id)
{
    memset(db, 0, sizeof(*db));
    db->id = id;
    db->fenwick = rc_calloc(sizeof(uint32_t) * (RC_SLOTS + 1));
    db->expires_dict = dict_create(&expires_dict_type);
}

void db_init_all(void)
{
    server.dbs = rc_calloc(sizeof(struct db) * (size_t)server.dbnum);
    for (int i = 0; i < server.dbnum; i++)
        db_init(&server.dbs[i], i);
}

static void db_release(struct db *db)
{
    for (unsigned s = 0; s < RC_SLOTS; s++)
        dict_destroy(&db->slots[s]);
    dict_destroy(&db->expires_dict);
    rc_free(db->fenwick);
    db->fenwick = NULL;
}

void db_free_all(void)
{
    for (int i = 0; i < server.dbnum; i++)
        db_release(&server.dbs[i]);
    rc_free(server.dbs);
    server.dbs = NULL;
}

struct dict *db_slot_dict(struct db *db, unsigned slot)
{
    return db->slots[slot];
}

size_t db_size(const struct db *db)
{
    return db->keys;
}

/* ---- expiry bookkeeping ---- */

int kv_is_expired(const struct kv *o)
{
    /* Nothing expires while the log is replayed: its records are the
     * expiries that happened (as Redis does while loading). */
    if (!(o->flags & KV_EXPIRE) || server.loading)
        return 0;
    return kv_expire(o) < server.mstime;
}

static void expires_add(struct db *db, struct kv *o)
{
    struct expire_ref *r = rc_malloc(sizeof(*r));
    r->node.next = NULL;
    r->o = o;
    dict_add(db->expires_dict, &r->node);
}

static void expires_del(struct db *db, const struct kv *o)
{
    struct dnode *n = dict_unlink(db->expires_dict, kv_key(o), o->klen);
    rc_free(n);
}

static void expires_repoint(struct db *db, struct kv *o)
{
    struct expire_ref *r =
        (struct expire_ref *)dict_find(db->expires_dict, kv_key(o), o->klen);
    if (r)
        r->o = o;
}

/* ---- lookup ---- */

/* An access of o.  While a snapshot or rewrite child runs, the access is
 * not recorded, as in Redis: writing o->lru would make the kernel copy the
 * page o lives on for the parent, and a read would cost memory. */
void kv_touch(struct kv *o)
{
    if (!server.child_active)
        evict_touch(o);
}

/* ---- the running command's key slot (db_set_slot_hint) ---- */

static struct {
    const char *key;    /* the command's argv bytes, valid while it runs */
    size_t len;
    unsigned slot;
} hint;

void db_set_slot_hint(const char *key, size_t len, unsigned slot)
{
    hint.key = key;
    hint.len = len;
    hint.slot = slot;
}

void db_clear_slot_hint(void)
{
    hint.key = NULL;
}

/* A key's slot: the hint's when it is the same key (the argv itself, or
 * a copy of it such as the key of a new entry), else computed. */
static unsigned key_slot(const char *key, size_t len)
{
    if (hint.key && len == hint.len && (key == hint.key || memcmp(key, hint.key, len) == 0))
        return hint.slot;
    return rc_key_slot(key, len);
}

struct kv *db_lookup_nostat(struct db *db, const char *key, size_t len)
{
    struct dict *d = db->slots[key_slot(key, len)];
    if (d == NULL)
        return NULL;
    return (struct kv *)dict_find(d, key, len);
}

struct kv *db_lookup(struct db *db, const char *key, size_t len)
{
    struct kv *o = db_lookup_nostat(db, key, len);
    if (o == NULL)
        return NULL;
    if (db_expire_if_needed(db, o))
        return NULL;
    kv_touch(o);
    return o;
}

struct kv *db_lookup_read(struct client *c, const struct slice *key)
{
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o) {
        server.stat_keyspace_hits++;
    } else {
        server.stat_keyspace_misses++;
        notify_event(NOTIFY_KEY_MISS, "keymiss", c->db, key->p, key->len);
    }
    return o;
}

void db_signal_modified(struct db *db, const char *key, size_t len)
{
    watch_touch_key(db, key, len);
    tracking_invalidate_key(key, len);
}

/* A list, sorted set or stream appearing under a key (RENAME, COPY, MOVE, ...) may
 * serve clients blocked on that key, as Redis's dbAdd signals. */
static void signal_ready_if_blockable(struct db *db, const struct kv *o)
{
    if (o->type == OBJ_LIST || o->type == OBJ_ZSET || o->type == OBJ_STREAM)
        block_signal_key(db, kv_key(o), o->klen);
}

/* ---- add, replace, delete ---- */

static struct dict *slot_dict_create(struct db *db, unsigned slot)
{
    struct dict *d = db->slots[slot];
    if (d == NULL)
        d = db->slots[slot] = dict_create(&keyspace_dict_type);
    return d;
}

int db_add(struct db *db, struct kv *o)
{
    unsigned slot = key_slot(kv_key(o), o->klen);
    struct dict *d = slot_dict_create(db, slot);
    evict_init_entry(o);
    if (dict_add(d, &o->node) != 0)
        return -1;
    db->keys++;
    fenwick_add(db, slot, 1);
    db_signal_modified(db, kv_key(o), o->klen);
    notify_event(NOTIFY_NEW, "new", db, kv_key(o), o->klen);
    signal_ready_if_blockable(db, o);
    if (o->flags & KV_EXPIRE) {
        db->expires++;
        expires_add(db, o);
    }
    return 0;
}

/* Put n where old is (same key) and free old. */
struct kv *db_replace(struct db *db, struct kv *old, struct kv *n)
{
    unsigned slot = key_slot(kv_key(old), old->klen);
    struct dnode **link = dict_find_link(db->slots[slot], kv_key(old), old->klen);
    /* A new value starts a new LRU life, but under LFU it inherits the
     * key's access frequency, as Redis's dbOverwrite does. */
    if (evict_policy_is_lfu())
        n->lru = old->lru;
    else
        evict_init_entry(n);
    n->node.next = old->node.next;
    *link = &n->node;
    db_signal_modified(db, kv_key(n), n->klen);
    signal_ready_if_blockable(db, n);
    int had = (old->flags & KV_EXPIRE) != 0;
    int has = (n->flags & KV_EXPIRE) != 0;
    if (had && has) {
        expires_repoint(db, n);
    } else if (had) {
        expires_del(db, old);
        db->expires--;
    } else if (has) {
        expires_add(db, n);
        db->expires++;
    }
    bio_free_kv(old, server.lazyfree_lazy_server_del);
    return n;
}

void db_overwrite(struct db *db, struct kv *o)
{
    struct kv *old = db_lookup_nostat(db, kv_key(o), o->klen);
    if (old) {
        /* The overwrite is an access of the key (Redis looks it up for
         * writing first), which counts for LFU. */
        kv_touch(old);
        db_replace(db, old, o);
    }
    else
        db_add(db, o);
}

struct kv *db_set_expire(struct db *db, struct kv *o, long long when)
{
    int had = (o->flags & KV_EXPIRE) != 0;
    unsigned slot = key_slot(kv_key(o), o->klen);
    if (!had && when < 0)
        return o;
    db_signal_modified(db, kv_key(o), o->klen);
    if (had && when >= 0) {
        memcpy(o->data, &when, 8);
        return o;
    }
    struct dnode **link = dict_find_link(db->slots[slot], kv_key(o), o->klen);
    struct dnode *next = o->node.next;
    if (had) {
        expires_del(db, o);
        db->expires--;
    }
    struct kv *n = kv_with_expire(o, when);
    n->node.next = next;
    *link = &n->node;
    if (when >= 0) {
        expires_add(db, n);
        db->expires++;
    }
    return n;
}

struct kv *db_unlink(struct db *db, const char *key, size_t len)
{
    unsigned slot = key_slot(key, len);
    struct dict *d = db->slots[slot];
    if (d == NULL)
        return NULL;
    struct kv *o = (struct kv *)dict_unlink(d, key, len);
    if (o == NULL)
        return NULL;
    db_signal_modified(db, key, len);
    db->keys--;
    fenwick_add(db, slot, -1);
    if (o->flags & KV_EXPIRE) {
        expires_del(db, o);
        db->expires--;
    }
    if (dict_size(d) == 0)
        dict_destroy(&db->slots[slot]);
    return o;
}

int db_delete(struct db *db, const char *key, size_t len, int lazy)
{
    struct kv *o = db_unlink(db, key, len);
    if (o == NULL)
        return 0;
    bio_free_kv(o, lazy);
    return 1;
}

int db_expiry_is_mine(const struct kv *o)
{
    return !server.cluster_enabled || !repl_enabled() ||
           cluster_slot_is_mine(rc_key_slot(kv_key(o), o->klen));
}

int db_expire_if_needed(struct db *db, struct kv *o)
{
    if (!kv_is_expired(o))
        return 0;
    if (!db_expiry_is_mine(o)) {
        /* A copy of another primary's slot: that primary decides when the
         * key goes (its DEL will come).  Reads here do not see it; the
         * primary's own commands, being applied, still do. */
        return repl_applying() ? 0 : 1;
    }
    server.stat_expiredkeys++;
    propagate_deletion(db->id, kv_key(o), o->klen, server.lazyfree_lazy_expire);
    notify_event(NOTIFY_EXPIRED, "expired", db, kv_key(o), o->klen);
    db_delete(db, kv_key(o), o->klen, server.lazyfree_lazy_expire);
    return 1;
}

/* ---- whole-database operations ---- */

void db_flush(struct db *db, int async)
{
    watch_touch_db(db, NULL);
    struct dict **tables = NULL;
    size_t ntables = 0;
    for (unsigned s = 0; s < RC_SLOTS; s++) {
        if (db->slots[s] == NULL)
            continue;
        if (async) {
            if (tables == NULL)
                tables = rc_malloc(sizeof(*tables) * RC_SLOTS);
            tables[ntables++] = db->slots[s];
            db->slots[s] = NULL;
        } else {
            dict_destroy(&db->slots[s]);
        }
    }
    if (async) {
        struct dict *exp = db->expires_dict;
        db->expires_dict = dict_create(&expires_dict_type);
        bio_free_tables(tables, ntables, exp);
    } else {
        dict_clear(db->expires_dict);
    }
    memset(db->fenwick, 0, sizeof(uint32_t) * (RC_SLOTS + 1));
    db->keys = 0;
    db->expires = 0;
    db->avg_ttl = 0;
    db->expire_cursor = 0;
}

void db_swap(int a, int b)
{
    watch_touch_db(&server.dbs[a], &server.dbs[b]);
    watch_touch_db(&server.dbs[b], &server.dbs[a]);
    struct db tmp = server.dbs[a];
    server.dbs[a] = server.dbs[b];
    server.dbs[b] = tmp;
    server.dbs[a].id = a;
    server.dbs[b].id = b;
}

struct kv *db_random(struct db *db)
{
    /* Keys that turn out to be expired are reclaimed and another is drawn,
     * a bounded number of times, as Redis does. */
    for (int tries = 0; tries < 100 && db->keys; tries++) {
        unsigned long rank = (unsigned long)(rc_random_u64() % db->keys);
        unsigned slot = fenwick_find(db, rank);
        struct kv *o = (struct kv *)dict_random(db->slots[slot]);
        if (o == NULL)
            continue;
        if (db->keys == db->expires && tries == 99)
            return o;   /* all volatile: give up reclaiming, return one */
        if (!db_expire_if_needed(db, o))
            return o;
    }
    return NULL;
}

struct scan_ctx {
    void (*fn)(void *priv, struct kv *o);
    void *priv;
};

static void scan_one(void *priv, struct dnode *n)
{
    struct scan_ctx *ctx = priv;
    ctx->fn(ctx->priv, (struct kv *)n);
}

unsigned long long db_scan(struct db *db, unsigned long long cursor,
                           void (*fn)(void *priv, struct kv *o), void *priv)
{
    return db_scan_range(db, cursor, RC_SLOTS - 1, fn, priv);
}

unsigned long long db_scan_range(struct db *db, unsigned long long cursor, unsigned last,
                                 void (*fn)(void *priv, struct kv *o), void *priv)
{
    /* Cursor layout: low 14 bits slot, the rest the slot table's cursor.
     * A slot that emptied since the cursor was made is skipped.  Past
     * `last` the cursor is the start of slot last + 1 (0 after the end). */
    unsigned slot = (unsigned)(cursor & (RC_SLOTS - 1));
    unsigned long dcur = (unsigned long)(cursor >> 14);
    unsigned long long past = last + 1 >= RC_SLOTS ? 0 : last + 1;
    while (slot <= last && db->slots[slot] == NULL) {
        slot++;
        dcur = 0;
    }
    if (slot > last)
        return past;
    struct scan_ctx ctx = {fn, priv};
    dcur = dict_scan(db->slots[slot], dcur, scan_one, &ctx);
    if (dcur == 0) {
        do {
            slot++;
        } while (slot <= last && db->slots[slot] == NULL);
        if (slot > last)
            return past;
    }
    return ((unsigned long long)dcur << 14) | slot;
}

unsigned long long db_scan_slot(struct db *db, unsigned slot, unsigned long dcur,
                                void (*fn)(void *priv, struct kv *o), void *priv)
{
    unsigned long long cursor = ((unsigned long long)dcur << 14) | slot;
    do {
        cursor = db_scan_range(db, cursor, slot, fn, priv);
    } while (cursor != 0 && (cursor & (RC_SLOTS - 1)) == slot);
    return cursor;
}

void db_cron(void)
{
    /* Keep the tables the right size without touching all 16384 slots of
     * every database on each tick: walk a window of slots per call,
     * shrinking tables that emptied out and, with activerehashing, moving
     * rehashes along for tables nobody is accessing.  At most ~1 ms. */
    static unsigned cursor;
    long long start = (long long)rc_monotonic_us();
    for (int i = 0; i < server.dbnum; i++) {
        struct db *db = &server.dbs[i];
        dict_try_shrink(db->expires_dict);
        if (server.activerehashing && dict_is_rehashing(db->expires_dict))
            dict_rehash_ms(db->expires_dict, 1);
    }
    for (unsigned n = 0; n < 1024; n++) {
        unsigned slot = (cursor + n) & (RC_SLOTS - 1);
        for (int i = 0; i < server.dbnum; i++) {
            struct dict *d = server.dbs[i].slots[slot];
            if (d == NULL)
                continue;
            dict_try_shrink(d);
            if (server.activerehashing && dict_is_rehashing(d))
                dict_rehash_ms(d, 1);
        }
        if ((n & 63) == 63 && (long long)rc_monotonic_us() - start > 1000) {
            cursor = (cursor + n + 1) & (RC_SLOTS - 1);
            return;
        }
    }
    cursor = (cursor + 1024) & (RC_SLOTS - 1);
}

/* ---- what a ring member counts as its own ---- */

int db_slot_counted(unsigned slot)
{
    return !cluster_enabled() || cluster_slot_is_mine(slot);
}

size_t db_size_counted(struct db *db, size_t *expires)
{
    if (!cluster_enabled()) {
        if (expires)
            *expires = db->expires;
        return db->keys;
    }
    size_t n = 0, e = 0;
    for (unsigned s = 0; s < RC_SLOTS; s++) {
        struct dict *d = db->slots[s];
        if (d == NULL || dict_size(d) == 0 || !cluster_slot_is_mine(s))
            continue;
        n += dict_size(d);
        if (expires == NULL)
            continue;
        struct dict_iter it;
        struct dnode *node;
        dict_iter_init(&it, d);
        while ((node = dict_iter_next(&it)) != NULL)
            e += (((const struct kv *)node)->flags & KV_EXPIRE) != 0;
        dict_iter_done(&it);
    }
    if (expires)
        *expires = e;
    return n;
}
