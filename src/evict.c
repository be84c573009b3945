/*
 * evict.c — approximated LRU and LFU, and the maxmemory eviction loop.
 *
 * As in Redis, each entry keeps 24 bits of access data: for LRU a clock in
 * seconds; for LFU 16 bits of minutes (last decrement time) and an 8-bit
 * logarithmic counter.  Eviction samples maxmemory-samples keys per
 * database from the key tables (allkeys-*) or from the TTL table
 * (volatile-*), keeps the best candidates in a small pool across rounds,
 * and evicts the best one, until memory is under the limit.
 */
#include "evict.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "rand.h"
#include "server.h"

#define POOL_SIZE 16
#define SAMPLE_MAX 64

static uint32_t lru_clock;

uint32_t evict_lru_clock(void)
{
    return lru_clock;
}

void evict_update_clock(void)
{
    lru_clock = (uint32_t)((server.mstime / 1000) & LRU_CLOCK_MAX);
}

int evict_policy_is_lfu(void)
{
    return server.maxmemory_policy == MM_ALLKEYS_LFU ||
           server.maxmemory_policy == MM_VOLATILE_LFU;
}

static uint32_t lfu_minutes(void)
{
    return (uint32_t)((server.mstime / 1000 / 60) & 0xffff);
}

void evict_init_entry(struct kv *o)
{
    if (evict_policy_is_lfu())
        o->lru = (lfu_minutes() << 8) | LFU_INIT_VAL;
    else
        o->lru = lru_clock;
}

static unsigned lfu_decay(const struct kv *o)
{
    uint32_t ldt = o->lru >> 8;
    unsigned counter = o->lru & 0xff;
    uint32_t now = lfu_minutes();
    uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
    unsigned periods = server.lfu_decay_time ? elapsed / (uint32_t)server.lfu_decay_time : 0;
    return periods > counter ? 0 : counter - periods;
}

static unsigned lfu_incr(unsigned counter)
{
    if (counter == 255)
        return 255;
    double r = (double)(rc_random_u64() >> 11) / (double)(1ULL << 53);
    double base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
    double p = 1.0 / (base * server.lfu_log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void evict_touch(struct kv *o)
{
    if (evict_policy_is_lfu()) {
        unsigned counter = lfu_incr(lfu_decay(o));
        o->lru = (lfu_minutes() << 8) | counter;
    } else {
        o->lru = lru_clock;
    }
}

unsigned long long evict_idle_seconds(const struct kv *o)
{
    uint32_t now = lru_clock;
    uint32_t t = o->lru & LRU_CLOCK_MAX;
    return now >= t ? now - t : (LRU_CLOCK_MAX - t) + now;
}

unsigned evict_lfu_freq(const struct kv *o)
{
    return lfu_decay(o);
}

unsigned long long evict_not_counted(void)
{
    return 0;
}

/* ---- the pool ---- */

struct candidate {
    unsigned long long score;   /* higher = better to evict */
    int dbid;
    size_t klen;
    char key[64];
    char *bigkey;               /* keys longer than the inline buffer */
};

static struct candidate pool[POOL_SIZE];
static int pool_len;

static unsigned long long score_of(const struct kv *o)
{
    switch (server.maxmemory_policy) {
    case MM_ALLKEYS_LFU:
    case MM_VOLATILE_LFU:
        return 255 - lfu_decay(o);
    case MM_VOLATILE_TTL:
        return ULLONG_MAX - (unsigned long long)kv_expire(o);
    default:
        return evict_idle_seconds(o);
    }
}

static const char *cand_key(const struct candidate *c)
{
    return c->bigkey ? c->bigkey : c->key;
}

static void pool_insert(int dbid, const struct kv *o)
{
    unsigned long long s = score_of(o);
    /* Already in the pool? */
    for (int i = 0; i < pool_len; i++) {
        if (pool[i].dbid == dbid && pool[i].klen == o->klen &&
            memcmp(cand_key(&pool[i]), kv_key(o), o->klen) == 0)
            return;
    }
    int pos = 0;
    while (pos < pool_len && pool[pos].score < s)
        pos++;
    if (pool_len == POOL_SIZE) {
        if (pos == 0)
            return;     /* worse than everything we hold */
        rc_free(pool[0].bigkey);
        memmove(&pool[0], &pool[1], sizeof(pool[0]) * (size_t)(pos - 1));
        pos--;
    } else {
        memmove(&pool[pos + 1], &pool[pos], sizeof(pool[0]) * (size_t)(pool_len - pos));
        pool_len++;
    }
    struct candidate *c = &pool[pos];
    c->score = s;
    c->dbid = dbid;
    c->klen = o->klen;
    if (o->klen < sizeof(c->key)) {
        memcpy(c->key, kv_key(o), o->klen);
        c->bigkey = NULL;
    } else {
        c->bigkey = rc_strndup(kv_key(o), o->klen);
    }
}

static int volatile_policy(void)
{
    return server.maxmemory_policy <= MM_VOLATILE_TTL;
}

static void sample_db(struct db *db)
{
    struct dnode *got[SAMPLE_MAX];
    int want = server.maxmemory_samples;
    if (want > SAMPLE_MAX)
        want = SAMPLE_MAX;
    size_t n;
    if (volatile_policy()) {
        n = dict_sample(db->expires_dict, got, (size_t)want);
        for (size_t i = 0; i < n; i++) {
            struct kv *o = db_expire_ref_kv(got[i]);
            pool_insert(db->id, o);
        }
        return;
    }
    /* allkeys: draw from random non-empty slots. */
    for (int i = 0; i < want; i++) {
        struct kv *o = NULL;
        unsigned long long keys = db->keys;
        if (keys == 0)
            return;
        unsigned slot = db_slot_of_rank(db, (unsigned long)(rc_random_u64() % keys));
        struct dict *d = db->slots[slot];
        if (d && dict_sample(d, got, 1) == 1)
            o = (struct kv *)got[0];
        if (o)
            pool_insert(db->id, o);
    }
}

static struct kv *pick_random(struct db **out_db)
{
    for (int i = 0; i < server.dbnum; i++) {
        struct db *db = &server.dbs[(int)(rc_random_u64() % (uint64_t)server.dbnum)];
        struct dnode *got[1];
        if (volatile_policy()) {
            if (dict_sample(db->expires_dict, got, 1) == 1) {
                *out_db = db;
                return db_expire_ref_kv(got[0]);
            }
        } else if (db->keys) {
            struct kv *o = db_random(db);
            if (o) {
                *out_db = db;
                return o;
            }
        }
    }
    return NULL;
}

static struct kv *pick_best(struct db **out_db)
{
    for (int i = 0; i < server.dbnum; i++) {
        struct db *db = &server.dbs[i];
        if ((volatile_policy() ? db->expires : db->keys) > 0)
            sample_db(db);
    }
    while (pool_len > 0) {
        struct candidate *c = &pool[--pool_len];
        struct db *db = &server.dbs[c->dbid];
        struct kv *o = db_lookup_nostat(db, cand_key(c), c->klen);
        rc_free(c->bigkey);
        c->bigkey = NULL;
        if (o && (!volatile_policy() || (o->flags & KV_EXPIRE))) {
            *out_db = db;
            return o;
        }
    }
    return NULL;
}

int evict_perform(void)
{
    if (server.maxmemory == 0)
        return 0;
    if (rc_used_memory() <= server.maxmemory + evict_not_counted())
        return 0;
    if (server.maxmemory_policy == MM_NOEVICTION)
        return -1;
    /* Like Redis's maxmemory-eviction-tenacity: at 10 (default) a call
     * may spend 500 us evicting; each step above 10 doubles that, 100
     * means no limit.  What is left is evicted on the next call. */
    long long budget_us = server.maxmemory_eviction_tenacity >= 100
                              ? -1
                              : 50LL * server.maxmemory_eviction_tenacity;
    for (int t = 10; t < server.maxmemory_eviction_tenacity && budget_us > 0; t++)
        budget_us = budget_us * 115 / 100;
    long long start = (long long)rc_monotonic_us();
    int evicted = 0;
    while (rc_used_memory() > server.maxmemory) {
        struct db *db = NULL;
        struct kv *o;
        if (server.maxmemory_policy == MM_ALLKEYS_RANDOM ||
            server.maxmemory_policy == MM_VOLATILE_RANDOM)
            o = pick_random(&db);
        else
            o = pick_best(&db);
        if (o == NULL)
            return -1;
        db_delete(db, kv_key(o), o->klen, server.lazyfree_lazy_eviction);
        server.stat_evictedkeys++;
        if ((++evicted & 15) == 0 && budget_us >= 0 &&
            (long long)rc_monotonic_us() - start > budget_us)
            return rc_used_memory() > server.maxmemory ? -1 : 0;
    }
    return 0;
}
