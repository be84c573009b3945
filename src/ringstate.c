/*
 * ringstate.c — the slot table of a cluster state (ringstate.h).
 */
#include "ringstate.h"

#include "cstate.h"
#include "mem.h"
#include "ring.h"

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
