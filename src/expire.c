/*
 * expire.c — the active expiry cycle.
 *
 * Keys with a TTL are reclaimed in two ways.  Lazily: any lookup of a
 * logically expired key deletes it (db.c).  Actively: this cycle walks the
 * per-database table of keys that carry a TTL and deletes the expired ones,
 * so keys nobody touches again do not hold memory forever.
 *
 * The algorithm is Redis's activeExpireCycle(), adapted to ringcache's
 * tables:
 *
 *   - Each database keeps a dict_scan() cursor into its expires table
 *     (db->expire_cursor), so successive rounds continue where the last one
 *     stopped and every key with a TTL is visited in turn.
 *   - One round of one database examines about KEYS_PER_LOOP keys (visiting
 *     at most 20 buckets per wanted key, since buckets may be empty) and
 *     deletes the expired ones.  Rounds repeat on the same database while
 *     the share of expired keys among those examined is above the
 *     acceptable stale percentage: then many more are probably waiting.
 *   - The slow cycle runs from the cron, hz times a second, and may use
 *     SLOW_TIME_PERC percent of a cron period.  The fast cycle runs before
 *     the loop sleeps, only when the previous cycle ran out of time or the
 *     estimated stale share is high, for at most FAST_DURATION us and not
 *     more often than every 2 * FAST_DURATION us.
 *   - active-expire-effort (1..10) scales the keys per round, the time
 *     budgets and the acceptable stale share, as in Redis.
 *
 * Expired entries cannot be deleted from inside a dict_scan() callback, so
 * the callback copies their keys into a small batch and the deletions run
 * after dict_scan() returns.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "latency.h"
#include "propagate.h"

#define KEYS_PER_LOOP 20        /* keys examined per round and database */
#define FAST_DURATION 1000      /* us, fast cycle budget */
#define SLOW_TIME_PERC 25       /* percent of a cron period for the slow cycle */
#define ACCEPTABLE_STALE 10     /* percent of expired keys that ends the rounds */
#define DBS_PER_CALL 16         /* databases visited per cycle normally */

/* Keys copied out of one dict_scan() call.  Short keys are stored in the
 * arena; longer ones (and any once the arena is full) get an allocation of
 * their own.  More than BATCH_MAX expired keys in one call's buckets is
 * possible only with extremely long chains; the rest are then left for a
 * later round. */
#define BATCH_MAX 64
#define BATCH_ARENA 2048

struct expire_batch {
    long long now;              /* ms; keys with expire < now are expired */
    unsigned long sampled;
    long long ttl_sum;          /* sum of remaining TTLs of live keys */
    unsigned long ttl_samples;
    size_t n;
    size_t arena_used;
    struct {
        char *key;
        size_t len;
        int heap;               /* key was allocated, not in the arena */
    } keys[BATCH_MAX];
    char arena[BATCH_ARENA];
};

/* Cycle state kept between calls, as Redis keeps its statics. */
static unsigned current_db;         /* next database to visit */
static int timelimit_exit;          /* did the last cycle run out of time? */
static long long last_fast_cycle;   /* monotonic us of the last fast cycle start */
static double stale_ratio;          /* running estimate, 0..1 */

static void batch_collect(void *priv, struct dnode *n)
{
    struct expire_batch *b = priv;
    const struct kv *o = db_expire_ref_kv(n);
    long long when = kv_expire(o);

    b->sampled++;
    if (when > b->now) {
        /* Average the TTL of keys not yet expired, for INFO's avg_ttl;
         * both operands are positive and the sum of a round's few samples
         * cannot realistically overflow, but saturate anyway. */
        long long ttl = when - b->now;
        b->ttl_sum = ttl > LLONG_MAX - b->ttl_sum ? LLONG_MAX : b->ttl_sum + ttl;
        b->ttl_samples++;
    }
    if (when >= b->now || b->n == BATCH_MAX)
        return;
    size_t len = o->klen;
    char *dst;
    int heap = 0;
    if (len <= BATCH_ARENA - b->arena_used) {
        dst = b->arena + b->arena_used;
        b->arena_used += len;
    } else {
        dst = rc_malloc(len ? len : 1);
        heap = 1;
    }
    memcpy(dst, kv_key(o), len);
    b->keys[b->n].key = dst;
    b->keys[b->n].len = len;
    b->keys[b->n].heap = heap;
    b->n++;
}

/* Delete the batch's keys; returns how many were deleted.  A key deleted
 * meanwhile (it cannot be, but the lookup costs nothing) is skipped, and a
 * key whose TTL was extended is not deleted. */
static unsigned long batch_expire(struct db *db, struct expire_batch *b)
{
    unsigned long expired = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct kv *o = db_lookup_nostat(db, b->keys[i].key, b->keys[i].len);
        if (o != NULL && (o->flags & KV_EXPIRE) && kv_expire(o) < b->now &&
            db_expiry_is_mine(o)) {
            propagate_deletion(db->id, b->keys[i].key, b->keys[i].len,
                               server.lazyfree_lazy_expire);
            notify_event(NOTIFY_EXPIRED, "expired", db, b->keys[i].key, b->keys[i].len);
            db_delete(db, b->keys[i].key, b->keys[i].len, server.lazyfree_lazy_expire);
            server.stat_expiredkeys++;
            expired++;
        }
        if (b->keys[i].heap)
            rc_free(b->keys[i].key);
    }
    b->n = 0;
    b->arena_used = 0;
    return expired;
}

/* Effort-scaled parameters, as Redis derives them from
 * active-expire-effort (1..10, rescaled to 0..9). */
struct expire_params {
    unsigned long keys_per_loop;
    long long fast_duration;
    long long slow_time_perc;
    long long acceptable_stale;
};

static struct expire_params expire_params(void)
{
    int e = server.active_expire_effort;
    if (e < 1)
        e = 1;
    if (e > 10)
        e = 10;
    unsigned long effort = (unsigned long)(e - 1);
    struct expire_params p = {
        .keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort,
        .fast_duration = FAST_DURATION + FAST_DURATION / 4 * (long long)effort,
        .slow_time_perc = SLOW_TIME_PERC + 2 * (long long)effort,
        .acceptable_stale = ACCEPTABLE_STALE - (long long)effort,
    };
    return p;
}

static int clients_paused(void)
{
    /* While clients are paused the dataset must stay still, expiry
     * included (Redis does the same for both pause kinds). */
    return server.pause_end_ms != 0 && server.mstime < server.pause_end_ms;
}

static int active_expire_off;      /* DEBUG SET-ACTIVE-EXPIRE 0 */

void expire_set_active(int on)
{
    active_expire_off = !on;
}

void expire_active_cycle(int fast)
{
    if (active_expire_off)
        return;
    struct expire_params p = expire_params();
    long long start = (long long)rc_monotonic_us();

    if (server.dbnum <= 0 || clients_paused())
        return;

    if (fast) {
        /* Redis compares its stale ratio (0..1) with a percentage here, so
         * there the second test never holds; the comparison is done in
         * percent as intended. */
        if (!timelimit_exit && stale_ratio * 100.0 < (double)p.acceptable_stale)
            return;
        if (start < last_fast_cycle + p.fast_duration * 2)
            return;
        last_fast_cycle = start;
    }

    int dbs_per_call = DBS_PER_CALL;
    if (dbs_per_call > server.dbnum || timelimit_exit)
        dbs_per_call = server.dbnum;

    int hz = server.hz > 0 ? server.hz : 10;
    long long timelimit = p.slow_time_perc * 1000000 / hz / 100;
    if (timelimit <= 0)
        timelimit = 1;
    if (fast)
        timelimit = p.fast_duration;
    timelimit_exit = 0;

    unsigned long total_sampled = 0;
    unsigned long total_expired = 0;
    unsigned iteration = 0;
    struct expire_batch batch;
    batch.n = 0;
    batch.arena_used = 0;

    for (int j = 0; j < dbs_per_call && !timelimit_exit; j++) {
        struct db *db = &server.dbs[current_db % (unsigned)server.dbnum];
        /* Advance now, so that running out of time in this database makes
         * the next cycle start with the following one. */
        current_db++;

        unsigned long sampled, expired;
        do {
            iteration++;
            struct dict *d = db->expires_dict;
            size_t num = dict_size(d);
            if (num == 0) {
                db->avg_ttl = 0;
                break;
            }
            /* A very sparse table is expensive to sample: start shrinking
             * it (the cron's incremental rehash finishes the job) and wait
             * for better times, as Redis does. */
            size_t buckets = dict_buckets(d);
            if (buckets > DICT_MIN_BUCKETS && num * 100 / buckets < 1) {
                dict_try_shrink(d);
                break;
            }
            if (num > p.keys_per_loop)
                num = p.keys_per_loop;

            batch.now = (long long)rc_mstime();
            batch.sampled = 0;
            batch.ttl_sum = 0;
            batch.ttl_samples = 0;
            expired = 0;
            unsigned long max_buckets = (unsigned long)num * 20;
            unsigned long checked = 0;
            while (batch.sampled < num && checked < max_buckets) {
                db->expire_cursor = dict_scan(d, db->expire_cursor, batch_collect, &batch);
                checked++;
                if (batch.n > 0) {
                    expired += batch_expire(db, &batch);
                    /* Deleting may have emptied the table. */
                    if (dict_size(d) == 0)
                        break;
                }
            }
            sampled = batch.sampled;
            total_expired += expired;
            total_sampled += sampled;

            if (batch.ttl_samples) {
                long long avg = batch.ttl_sum / (long long)batch.ttl_samples;
                /* Running average: 2% new sample, 98% previous estimate. */
                if (db->avg_ttl == 0)
                    db->avg_ttl = avg;
                db->avg_ttl = (db->avg_ttl / 50) * 49 + avg / 50;
            }

            /* Check the clock every 16 rounds only: it is not free. */
            if ((iteration & 0xf) == 0) {
                long long elapsed = (long long)rc_monotonic_us() - start;
                if (elapsed > timelimit) {
                    timelimit_exit = 1;
                    server.stat_expired_time_cap_reached_count++;
                    break;
                }
            }
        } while (sampled == 0 ||
                 (long long)(expired * 100 / sampled) > p.acceptable_stale);
    }

    long long elapsed = (long long)rc_monotonic_us() - start;
    server.stat_expire_cycle_time_used += elapsed;
    latency_add_sample_if_needed("expire-cycle", elapsed / 1000);

    /* Running estimate of the share of keys that are logically expired
     * but still present; this sample weighs 5%.  INFO reads it in
     * hundredths of a percent. */
    double current = total_sampled ? (double)total_expired / (double)total_sampled : 0.0;
    stale_ratio = current * 0.05 + stale_ratio * 0.95;
    server.stat_expired_stale_perc = llround(stale_ratio * 10000.0);
}
