/*
 * evict.h — LRU/LFU access tracking and maxmemory eviction.
 */
#ifndef RC_EVICT_H
#define RC_EVICT_H

#include <stdint.h>

struct kv;

#define LRU_CLOCK_MAX ((1u << 24) - 1)
#define LFU_INIT_VAL 5

/* Current LRU clock (seconds, 24 bits), refreshed by the cron. */
uint32_t evict_lru_clock(void);
void evict_update_clock(void);

/* Stamp a new entry / an access, according to the maxmemory policy. */
void evict_init_entry(struct kv *o);
void evict_touch(struct kv *o);

/* Idle seconds of o (LRU policies) and its decayed LFU counter. */
unsigned long long evict_idle_seconds(const struct kv *o);
unsigned evict_lfu_freq(const struct kv *o);
int evict_policy_is_lfu(void);
int evict_policy_is_lru(void);      /* allkeys-lru or volatile-lru */

/*
 * Sets o's access data from a saved LFU counter freq (0..255) under an
 * LFU policy, or else from an idle time in seconds, as RESTORE and RDB
 * loading do (a negative value: none given).  Returns 1 when o was
 * changed, 0 when the relevant value was not given.
 */
int evict_set_access(struct kv *o, long long freq, long long idle);

/* Free memory until used memory is under maxmemory.  Returns 0 when under
 * the limit, when there is no limit, or when eviction ran out of its time
 * budget and goes on in the next loop iteration; -1 when it cannot get
 * there (noeviction, or nothing left to evict). */
int evict_perform(void);

/* Memory that does not count against maxmemory (output buffers of
 * replicas, later). */
unsigned long long evict_not_counted(void);

#endif
