/*
 * evict.c — approximated LRU and LFU, and the maxmemory eviction loop.
 *
 * As in Redis, each entry keeps 24 bits of access data in kv.lru: for the
 * LRU policies a clock in seconds (wrapping at 2^24); for the LFU policies
 * 16 bits of minutes (the time of the last decrement) and an 8-bit
 * logarithmic access counter that starts at LFU_INIT_VAL, grows with
 * probability 1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1) per access
 * and loses one per lfu-decay-time minutes of inactivity.
 *
 * Eviction (evict_perform) runs before every command that may grow memory
 * and from the cron.  For the LRU, LFU and volatile-ttl policies it samples
 * maxmemory-samples keys per database, from the key tables (allkeys-*) or
 * from the TTL table (volatile-*), merges them into a pool of the 16 best
 * candidates kept across calls, and evicts the best one; the random
 * policies evict a random key of the next non-empty database in turn.  It
 * stops when the memory freed covers the excess, or when the time budget
 * set by maxmemory-eviction-tenacity is spent: then the rest is evicted by
 * a zero-delay timer on the following loop iterations, and commands are
 * not refused meanwhile (they are refused only when nothing is left to
 * evict, or under noeviction).
 */
#include "notify.h"
#include "evict.h"

#include <event2/event.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bio.h"
#include "cluster.h"
#include "latency.h"
#include "object.h"
#include "propagate.h"
#include "rand.h"
#include "repl.h"
#include "server.h"
#include "slot.h"

#define POOL_SIZE 16
#define SAMPLE_MAX 64       /* the upper bound of maxmemory-samples */
#define KEY_INLINE 64       /* pool keys up to this length are not allocated */
#define RESAMPLE_MAX 1000   /* rounds of sampling that may find only ghosts */

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

int evict_policy_is_lru(void)
{
    return server.maxmemory_policy == MM_ALLKEYS_LRU ||
           server.maxmemory_policy == MM_VOLATILE_LRU;
}

/* The LFU time base: minutes, 16 bits, wrapping. */
static uint32_t lfu_minutes(void)
{
    return (uint32_t)((server.mstime / 1000 / 60) & 0xffff);
}

int evict_set_access(struct kv *o, long long freq, long long idle)
{
    if (evict_policy_is_lfu()) {
        if (freq < 0 || freq > 255)
            return 0;
        o->lru = (lfu_minutes() << 8) | (uint32_t)freq;
        return 1;
    }
    if (idle < 0)
        return 0;
    long long clock = lru_clock;
    long long abs = clock - idle;
    /* An idle time longer than the clock's history cannot be expressed:
     * stamp the entry half a clock period ago, the oldest safe value. */
    if (abs < 0)
        abs = (clock + LRU_CLOCK_MAX / 2) % LRU_CLOCK_MAX;
    o->lru = (uint32_t)abs;
    return 1;
}

void evict_init_entry(struct kv *o)
{
    if (evict_policy_is_lfu())
        o->lru = (lfu_minutes() << 8) | LFU_INIT_VAL;
    else
        o->lru = lru_clock;
}

/* The counter of o after the decay due since its last decrement time
 * (o is not modified). */
static unsigned lfu_decay(const struct kv *o)
{
    uint32_t ldt = o->lru >> 8;
    unsigned counter = o->lru & 0xff;
    uint32_t now = lfu_minutes();
    uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
    unsigned periods = server.lfu_decay_time > 0 ? elapsed / (uint32_t)server.lfu_decay_time : 0;
    return periods > counter ? 0 : counter - periods;
}

/* One access: the counter grows by one with a probability that falls as
 * the counter rises, so that 255 stands for about a million accesses at
 * the default lfu-log-factor of 10. */
static unsigned lfu_incr(unsigned counter)
{
    if (counter >= 255)
        return 255;
    double r = (double)(rc_random_u64() >> 11) / (double)(1ULL << 53);
    double base = counter > LFU_INIT_VAL ? (double)(counter - LFU_INIT_VAL) : 0.0;
    double p = 1.0 / (base * server.lfu_log_factor + 1.0);
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

/* ---- the candidate pool ---- */

/*
 * The pool holds the best candidates seen so far, sorted by ascending
 * score (the last one is evicted first).  Entries name keys, not entries:
 * a candidate may have been deleted, overwritten or moved since it was
 * sampled (a "ghost"); it is looked up again when popped.
 */
struct candidate {
    unsigned long long score;   /* higher = better to evict */
    int dbid;
    size_t klen;
    char key[KEY_INLINE];
    char *bigkey;               /* owned copy of keys longer than key[] */
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
        /* The sooner it expires, the better to evict. */
        return ULLONG_MAX - (unsigned long long)kv_expire(o);
    default:
        return evict_idle_seconds(o);
    }
}

static const char *cand_key(const struct candidate *c)
{
    return c->bigkey ? c->bigkey : c->key;
}

static void pool_remove(int i)
{
    rc_free(pool[i].bigkey);
    memmove(&pool[i], &pool[i + 1], sizeof(pool[0]) * (size_t)(pool_len - i - 1));
    pool_len--;
}

/* In a ring that keeps copies, only a slot's primary evicts its keys (the
 * deletion is replicated); a copy held for another primary is not this
 * node's to evict, or the copies would differ. */
static int evictable(const struct kv *o)
{
    if (!server.cluster_enabled || !repl_enabled())
        return 1;
    return cluster_slot_is_mine(rc_key_slot(kv_key(o), o->klen));
}

/* Offer o (of database dbid) to the pool with its current score.  A key
 * already pooled has its entry replaced, so that a key touched since it was
 * sampled is not evicted on the strength of its old score. */
static void pool_insert(int dbid, const struct kv *o)
{
    unsigned long long s = score_of(o);
    for (int i = 0; i < pool_len; i++) {
        if (pool[i].dbid == dbid && pool[i].klen == o->klen &&
            memcmp(cand_key(&pool[i]), kv_key(o), o->klen) == 0) {
            pool_remove(i);
            break;
        }
    }
    int pos = 0;
    while (pos < pool_len && pool[pos].score < s)
        pos++;
    if (pool_len == POOL_SIZE) {
        if (pos == 0)
            return;     /* no better than anything held */
        /* Drop the worst candidate to make room. */
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
    return server.maxmemory_policy == MM_VOLATILE_LRU ||
           server.maxmemory_policy == MM_VOLATILE_LFU ||
           server.maxmemory_policy == MM_VOLATILE_RANDOM ||
           server.maxmemory_policy == MM_VOLATILE_TTL;
}

/* Offer maxmemory-samples keys of db to the pool: keys with a TTL under
 * the volatile policies, any key otherwise. */
static void sample_db(struct db *db)
{
    struct dnode *got[SAMPLE_MAX];
    int want = server.maxmemory_samples;
    if (want > SAMPLE_MAX)
        want = SAMPLE_MAX;
    if (want < 1)
        want = 1;
    if (volatile_policy()) {
        size_t n = dict_sample(db->expires_dict, got, (size_t)want);
        for (size_t i = 0; i < n; i++)
            if (evictable(db_expire_ref_kv(got[i])))
                pool_insert(db->id, db_expire_ref_kv(got[i]));
        return;
    }
    /* The key space is split into per-slot tables: a key of uniformly
     * random rank picks the table, so that sampling is fair across slots
     * however unevenly they are filled. */
    for (int i = 0; i < want; i++) {
        unsigned long long keys = db->keys;
        if (keys == 0)
            return;
        unsigned slot = db_slot_of_rank(db, (unsigned long)(rc_random_u64() % keys));
        struct dict *d = db->slots[slot];
        if (d && dict_sample(d, got, 1) == 1 && evictable((const struct kv *)got[0]))
            pool_insert(db->id, (const struct kv *)got[0]);
    }
}

/* The next key to evict under allkeys-random / volatile-random: a random
 * key of the next non-empty database, visiting databases in turn.  NULL
 * when there is no candidate at all. */
static struct kv *pick_random(struct db **out_db)
{
    static unsigned next_db;
    for (int i = 0; i < server.dbnum; i++) {
        next_db = (next_db + 1) % (unsigned)server.dbnum;
        struct db *db = &server.dbs[next_db];
        struct kv *o = NULL;
        if (volatile_policy()) {
            for (int tries = 0; tries < 16 && db->expires && (o == NULL || !evictable(o));
                 tries++) {
                struct dnode *n = dict_random(db->expires_dict);
                o = n ? db_expire_ref_kv(n) : NULL;
            }
        } else if (db->keys) {
            /* Another primary's copies are skipped: a few draws find one
             * of this node's keys unless it holds almost none. */
            for (int tries = 0; tries < 16 && (o == NULL || !evictable(o)); tries++)
                o = db_random(db);
        }
        if (o && !evictable(o))
            o = NULL;
        if (o) {
            *out_db = db;
            return o;
        }
    }
    return NULL;
}

/* The next key to evict under the LRU, LFU and volatile-ttl policies:
 * refill the pool from every database, then pop the best candidate that
 * still exists (and still has a TTL, for the volatile policies).  When all
 * pooled candidates were ghosts, sample again.  NULL when no database has
 * a candidate key. */
static struct kv *pick_best(struct db **out_db)
{
    for (int round = 0; round < RESAMPLE_MAX; round++) {
        unsigned long long total = 0;
        for (int i = 0; i < server.dbnum; i++) {
            struct db *db = &server.dbs[i];
            unsigned long long n = volatile_policy() ? db->expires : db->keys;
            if (n > 0) {
                sample_db(db);
                total += n;
            }
        }
        if (total == 0)
            return NULL;
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
    }
    /* Only reachable if sampling keeps returning nothing from non-empty
     * tables, which dict_sample() does not do; refuse rather than spin. */
    return NULL;
}

/* ---- the eviction loop ---- */

enum evict_status { EVICT_OK, EVICT_RUNNING, EVICT_FAIL };

/* Whether used memory, less what does not count, exceeds maxmemory; if so
 * and tofree is not NULL, *tofree is the excess. */
static int over_limit(unsigned long long *tofree)
{
    if (server.maxmemory == 0)
        return 0;
    unsigned long long used = rc_used_memory();
    if (used <= server.maxmemory)
        return 0;
    unsigned long long skip = evict_not_counted();
    used = used > skip ? used - skip : 0;
    if (used <= server.maxmemory)
        return 0;
    if (tofree)
        *tofree = used - server.maxmemory;
    return 1;
}

/* The time one call may spend evicting, in microseconds, for
 * maxmemory-eviction-tenacity t: 50 us per step up to 500 us at t = 10
 * (the default), then 15% more per step (about 2 minutes at 99); -1 (no
 * limit) at 100. */
static long long time_limit_us(void)
{
    int t = server.maxmemory_eviction_tenacity;
    if (t <= 0)
        return 0;
    if (t <= 10)
        return 50LL * t;
    if (t < 100)
        return (long long)(500.0 * pow(1.15, (double)(t - 10)));
    return -1;
}

static int perform(void);

static int continuation_armed;

static void on_continue(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    continuation_armed = 0;
    perform();      /* re-arms itself while the limit is not reached */
}

/* Go on evicting on the next loop iteration (Redis's eviction time
 * proc): a zero-delay one-shot timer, armed at most once at a time. */
static void arm_continuation(void)
{
    if (continuation_armed || server.base == NULL)
        return;
    struct timeval now = {0, 0};
    if (event_base_once(server.base, -1, EV_TIMEOUT, on_continue, NULL, &now) == 0)
        continuation_armed = 1;
}

/* Evicts keys until tofree bytes are freed; see the file comment.  The
 * memory freed is measured as the drop of used memory around each
 * deletion, so that values freed by the background thread
 * (lazyfree-lazy-eviction) do not make the loop run on until the thread
 * catches up: with lazy eviction the real state is checked every 16 keys
 * instead.  The deletions and the wait for the background thread are the
 * latency monitor's "eviction-del" and "eviction-lazyfree", as in Redis. */
static int evict_keys(unsigned long long tofree)
{
    int random = server.maxmemory_policy == MM_ALLKEYS_RANDOM ||
                 server.maxmemory_policy == MM_VOLATILE_RANDOM;
    long long limit = time_limit_us();
    uint64_t start = rc_monotonic_us();
    unsigned long long freed = 0;
    unsigned long evicted = 0;
    while (freed < tofree) {
        struct db *db = NULL;
        struct kv *o = random ? pick_random(&db) : pick_best(&db);
        if (o == NULL)
            goto nothing_left;
        size_t before = rc_used_memory();
        propagate_deletion(db->id, kv_key(o), o->klen, server.lazyfree_lazy_eviction);
        notify_event(NOTIFY_EVICTED, "evicted", db, kv_key(o), o->klen);
        uint64_t del_start = latency_start();
        db_delete(db, kv_key(o), o->klen, server.lazyfree_lazy_eviction);
        latency_add_sample_if_needed("eviction-del", latency_ms_since(del_start));
        size_t after = rc_used_memory();
        if (after < before)
            freed += before - after;
        server.stat_evictedkeys++;
        evicted++;
        if (evicted % 16 == 0) {
            if (server.lazyfree_lazy_eviction && !over_limit(NULL))
                break;
            if (limit >= 0 && rc_monotonic_us() - start > (uint64_t)limit) {
                /* Enough for one call: the rest on the next iterations. */
                arm_continuation();
                return EVICT_RUNNING;
            }
        }
    }
    return EVICT_OK;

nothing_left:
    /* Values handed to the background thread may be about to be freed:
     * give it a moment before refusing commands. */
    if (bio_pending() > 0) {
        long long wait = limit < 0 || limit > 1000 ? 1000 : limit;
        uint64_t wait_start = latency_start();
        if (wait > 0)
            usleep((useconds_t)wait);
        latency_add_sample_if_needed("eviction-lazyfree", latency_ms_since(wait_start));
        if (!over_limit(NULL))
            return EVICT_OK;
    }
    return EVICT_FAIL;
}

/* One eviction run when memory is over the limit, timed as the latency
 * monitor's "eviction-cycle". */
static int perform(void)
{
    unsigned long long tofree;
    if (!over_limit(&tofree))
        return EVICT_OK;
    if (server.maxmemory_policy == MM_NOEVICTION)
        return EVICT_FAIL;
    uint64_t t0 = latency_start();
    int rc = evict_keys(tofree);
    latency_add_sample_if_needed("eviction-cycle", latency_ms_since(t0));
    return rc;
}

int evict_perform(void)
{
    return perform() == EVICT_FAIL ? -1 : 0;
}
