/*
 * ringstate.c — the slot table of a cluster state (ringstate.h).
 */
#include "ringstate.h"

#include "cstate.h"
#include "mem.h"
#include "ring.h"

#include <string.h>

struct ring *ringstate_build(const struct cstate *s, int flags)
{
    if (s == NULL || s->nmembers == 0)
        return NULL;
    struct ring_member_spec *spec = rc_calloc(s->nmembers * sizeof(*spec));
    for (size_t i = 0; i < s->nmembers; i++) {
        const struct cstate_member *m = &s->members[i];
        spec[i].id = m->id;
        spec[i].zone = (flags & RINGSTATE_NO_ZONES) ? "" : m->zone;
        int placed = (flags & RINGSTATE_NEXT) ? m->status != CSTATE_REMOVING
                                               : m->status != CSTATE_ADDING;
        spec[i].vnodes = placed ? m->vnodes : 0;
    }
    struct ring *r = ring_build(spec, (int)s->nmembers, s->replicas);
    rc_free(spec);
    return r;
}

int ringstate_changing(const struct cstate *s)
{
    int n = 0;
    for (size_t i = 0; s != NULL && i < s->nmembers; i++)
        n += s->members[i].status == CSTATE_ADDING || s->members[i].status == CSTATE_REMOVING;
    return n;
}

int ringstate_same_members(const struct cstate *a, const struct cstate *b)
{
    if (a->nmembers != b->nmembers)
        return 0;
    for (size_t i = 0; i < a->nmembers; i++)
        if (strcmp(a->members[i].id, b->members[i].id) != 0)
            return 0;
    return 1;
}

int ringstate_same_table(const struct cstate *a, const struct cstate *b)
{
    if (!ringstate_same_members(a, b) || a->replicas != b->replicas)
        return 0;
    for (size_t i = 0; i < a->nmembers; i++)
        if (a->members[i].vnodes != b->members[i].vnodes ||
            strcmp(a->members[i].zone, b->members[i].zone) != 0 ||
            (a->members[i].status == CSTATE_ADDING) != (b->members[i].status == CSTATE_ADDING))
            return 0;
    return 1;
}
