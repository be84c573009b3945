/*
 * slotdrop.c — deleting a slot's keys as a whole (slotdrop.h).
 */
#include "slotdrop.h"

#include "cluster.h"
#include "cstate.h"
#include "log.h"
#include "mem.h"
#include "object.h"
#include "propagate.h"
#include "server.h"
#include "slot.h"

#include <string.h>

/* Slots looked at per cron turn: a full pass over RC_SLOTS takes 16 turns. */
#define DROP_SCAN_SLOTS 1024
/* At most this many slots dropped per turn (each is few keys). */
#define DROP_SLOTS_PER_TURN 32

struct keylist {
    char **keys;
    size_t *lens;
    size_t n, cap;
};

static struct {
    unsigned cursor;
    long long slots, keys;
    long long pass_slots, pass_keys;    /* this pass, for one log line */
} sd;

static void collect_key(void *priv, struct kv *o)
{
    struct keylist *kl = priv;
    if (kl->n == kl->cap) {
        kl->cap = kl->cap ? kl->cap * 2 : 16;
        kl->keys = rc_realloc(kl->keys, kl->cap * sizeof(*kl->keys));
        kl->lens = rc_realloc(kl->lens, kl->cap * sizeof(*kl->lens));
    }
    kl->keys[kl->n] = rc_malloc(o->klen ? o->klen : 1);
    memcpy(kl->keys[kl->n], kv_key(o), o->klen);
    kl->lens[kl->n++] = o->klen;
}

long long slot_flush(unsigned slot)
{
    long long n = 0;
    for (int dbi = 0; dbi < server.dbnum; dbi++) {
        struct db *db = &server.dbs[dbi];
        struct keylist kl = {NULL, NULL, 0, 0};
        db_scan_slot(db, slot, 0, collect_key, &kl);
        for (size_t i = 0; i < kl.n; i++) {
            if (db_delete(db, kl.keys[i], kl.lens[i], 0)) {
                propagate_deletion(db->id, kl.keys[i], kl.lens[i], 0);
                server.stat_dirty++;
                n++;
            }
            rc_free(kl.keys[i]);
        }
        rc_free(kl.keys);
        rc_free(kl.lens);
    }
    return n;
}

static int slot_has_keys(unsigned slot)
{
    for (int dbi = 0; dbi < server.dbnum; dbi++) {
        struct dict *d = db_slot_dict(&server.dbs[dbi], slot);
        if (d != NULL && dict_size(d) > 0)
            return 1;
    }
    return 0;
}

/* Only a member that is up drops anything: a node marked failed or still
 * joining keeps what it has (its catch-up compares it with the primaries'
 * copies), and a node outside any ring drops nothing. */
static int may_drop(void)
{
    const struct cstate *s = cluster_state();
    int me = cluster_my_index();
    return s != NULL && cluster_ring() != NULL && me >= 0 && (size_t)me < s->nmembers &&
           s->members[me].status == CSTATE_UP && !server.loading;
}

void slotdrop_cron(void)
{
    if (!may_drop())
        return;
    int dropped = 0;
    for (int i = 0; i < DROP_SCAN_SLOTS && dropped < DROP_SLOTS_PER_TURN; i++) {
        unsigned slot = sd.cursor;
        sd.cursor = (sd.cursor + 1) % RC_SLOTS;
        if (cluster_keeps_copy(slot) || !slot_has_keys(slot))
            continue;
        long long n = slot_flush(slot);
        sd.slots++;
        sd.keys += n;
        sd.pass_slots++;
        sd.pass_keys += n;
        dropped++;
        if (sd.cursor == 0)
            break;
    }
    if (sd.cursor == 0 && sd.pass_slots > 0) {
        log_notice("Dropped %lld keys of %lld slots this node no longer holds a copy of",
                   sd.pass_keys, sd.pass_slots);
        sd.pass_slots = sd.pass_keys = 0;
    }
}

long long slotdrop_slots(void)
{
    return sd.slots;
}

long long slotdrop_keys(void)
{
    return sd.keys;
}
