/*
 * holders.c — the holders of each preference list (holders.h).
 */
#include "holders.h"

#include <stdlib.h>
#include <string.h>

#include "cstate.h"
#include "mem.h"
#include "ring.h"
#include "ringstate.h"
#include "slot.h"

static int is_up(const struct cstate *s, uint16_t m)
{
    return s->members[m].status == CSTATE_UP;
}

static int in(const uint16_t *set, int n, uint16_t m)
{
    for (int k = 0; k < n; k++)
        if (set[k] == m)
            return 1;
    return 0;
}

static int cmp_hold(const void *a, const void *b)
{
    return cstate_hold_cmp(a, b);
}

/* The holders of one list in next (same table as prev), into e->h. */
static void settle_list(const struct cstate *prev, const struct cstate *next,
                        struct cstate_hold *e)
{
    uint16_t hp[2], keep[2], def[2];
    const struct cstate_hold *old = cstate_hold_find(next, e->list, e->n);
    int nhp, nkeep = 0, ndef, was_served = 0;

    /* Before the change: the entry (carried, perhaps with a holder
     * added), or prev's first two up members. */
    if (old) {
        nhp = old->nh;
        memcpy(hp, old->h, sizeof(hp));
    } else {
        nhp = cstate_holders(prev, e->list, e->n, hp);
    }
    for (int k = 0; k < nhp; k++) {
        if (is_up(next, hp[k]))
            keep[nkeep++] = hp[k];
        was_served |= is_up(prev, hp[k]);
    }
    ndef = cstate_default_holders(next, e->list, e->n, def);
    e->nh = 0;
    if (nkeep == 0 && nhp > 0) {
        /* No holder up: they stay, and the list waits for one. */
        e->nh = (uint8_t)nhp;
        memcpy(e->h, hp, sizeof(hp));
        return;
    }
    /* The holders still up, and the members that came up among the
     * first two up (in list order, at most two) while a holder was up:
     * they caught up from it (cluster.c).  One that came up while none
     * was has not: it joined counting on the holders (cluster.c). */
    for (int k = 0; k < e->n && e->nh < 2; k++) {
        uint16_t m = e->list[k];
        int came_up = was_served && is_up(next, m) && !is_up(prev, m) && in(def, ndef, m);
        if (in(keep, nkeep, m) || came_up)
            e->h[e->nh++] = m;
    }
}

/* next's table differs from prev's: keep the entries of its lists. */
static const struct ring *table_of(const struct cstate *s);

static void keep_listed(struct cstate *next)
{
    if (next->nholds == 0)
        return;
    const struct ring *r = table_of(next);
    struct cstate_hold *kept = next->nholds ? rc_malloc(next->nholds * sizeof(*kept)) : NULL;
    char *used = rc_calloc(next->nholds ? next->nholds : 1);
    size_t n = 0;

    for (int l = 0; r && l < ring_nlists(r); l++) {
        unsigned slot = ring_list_slot(r, l);
        const struct cstate_hold *e = cstate_hold_find(next, ring_pref(r, slot), ring_pref_len(r));
        if (e)
            used[e - next->holds] = 1;
    }
    for (size_t i = 0; i < next->nholds; i++)
        if (used[i])
            kept[n++] = next->holds[i];
    cstate_set_holds(next, kept, n);
    rc_free(kept);
    rc_free(used);
}

static int same_statuses(const struct cstate *a, const struct cstate *b)
{
    for (size_t i = 0; i < a->nmembers; i++)
        if (a->members[i].status != b->members[i].status)
            return 0;
    return 1;
}

/* The table of the last state settled: proposers settle every value
 * they build, mostly of one table. */
static struct cstate *cached_state;
static struct ring *cached_ring;

static const struct ring *table_of(const struct cstate *s)
{
    if (cached_state && ringstate_same_table(cached_state, s))
        return cached_ring;
    cstate_destroy(&cached_state);
    ring_destroy(&cached_ring);
    cached_ring = ringstate_build(s, 0);
    if (cached_ring)
        cached_state = cstate_clone(s);
    return cached_ring;
}

void holders_settle(const struct cstate *prev, struct cstate *next)
{
    if (cstate_debug_bugs & CSTATE_BUG_NO_HOLDERS) {
        cstate_set_holds(next, NULL, 0);
        return;
    }
    if (!ringstate_same_table(prev, next)) {
        keep_listed(next);
        return;
    }
    /* No status changed (ADD_HOLDER alone, say): each entry's holders
     * stay; those that now say the default go. */
    if (same_statuses(prev, next)) {
        cstate_set_holds(next, next->holds, next->nholds);
        return;
    }
    const struct ring *r = table_of(next);
    if (r == NULL)
        return;
    struct cstate_hold *out = rc_malloc((size_t)ring_nlists(r) * sizeof(*out));
    size_t n = 0;
    int len = ring_pref_len(r);
    for (int l = 0; l < ring_nlists(r); l++) {
        const uint16_t *list = ring_pref(r, ring_list_slot(r, l));
        struct cstate_hold *e = &out[n];
        memset(e, 0, sizeof(*e));
        e->n = (uint8_t)len;
        memcpy(e->list, list, e->n * sizeof(*e->list));
        settle_list(prev, next, e);
        if (e->nh > 0)
            n++;
    }
    /* One entry per distinct list; cstate_set_holds drops those that
     * say what the default says. */
    qsort(out, n, sizeof(*out), cmp_hold);
    cstate_set_holds(next, out, n);
    rc_free(out);
}

int holders_primary(const struct cstate *s, const struct ring *r, unsigned slot)
{
    uint16_t h[2];
    if (r == NULL)
        return -1;
    int nh = cstate_holders(s, ring_pref(r, slot), ring_pref_len(r), h);
    for (int k = 0; k < nh; k++)
        if (is_up(s, h[k]))
            return h[k];
    return -1;
}

void holders_primaries(const struct cstate *s, const struct ring *r, int16_t *out)
{
    if (r == NULL) {
        for (unsigned slot = 0; slot < RC_SLOTS; slot++)
            out[slot] = -1;
        return;
    }
    int16_t *of = rc_malloc((size_t)ring_nlists(r) * sizeof(*of));
    for (int l = 0; l < ring_nlists(r); l++)
        of[l] = (int16_t)holders_primary(s, r, ring_list_slot(r, l));
    for (unsigned slot = 0; slot < RC_SLOTS; slot++)
        out[slot] = of[ring_list_of(r, slot)];
    rc_free(of);
}

int holders_entry_primary(const struct cstate *s, const struct cstate_hold *e)
{
    for (int k = 0; k < e->nh; k++)
        if (is_up(s, e->h[k]))
            return e->h[k];
    return -1;
}
