/*
 * ring.c — the slot table: vnode tokens, owners and preference lists.
 *
 * See ring.h for the semantics and the token format.  A build does, in
 * order: check and sort the members by id; give each member a zone number
 * (members sharing a non-empty zone string share one); place and sort all
 * tokens; for every slot pick the owner token with RING_PROBES probes; walk
 * clockwise from it to fill the slot's preference list.  Lookups then read
 * the finished table.  Nothing here depends on the order the members were
 * given in, only on their ids, zones and vnode counts.
 */
#include "ring.h"

#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RING_GOLDEN 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio, odd */
#define RING_ID_SEED 0x72696e6763616368ULL /* "ringcach" */
#define RING_PROBE_SEED 0x736c6f7470726f62ULL /* "slotprob" */

struct ring_token {
    uint64_t pos;
    uint32_t member; /* canonical member index */
};

struct ring_member {
    char id[RING_ID_LEN + 1];
    char *zone;       /* NULL for no zone */
    unsigned vnodes;
    uint32_t zone_no; /* equal for members sharing a zone string */
};

struct ring {
    int nmembers;
    int replicas;
    int pref_len;
    struct ring_member *members; /* sorted by id */
    uint16_t *pref;              /* RC_SLOTS rows of pref_len indexes */
    int nlists;                  /* distinct rows */
    uint16_t *list_of;           /* slot -> its row's list number */
    uint16_t *list_slot;         /* list number -> its first slot */
};

static void ring_number_lists(struct ring *r);

/* ---- the token format (ring.h: never change once shipped) ---- */

static uint64_t ring_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The 40 id characters as five little-endian 64-bit words. */
static uint64_t ring_id_digest(const char *id)
{
    uint64_t h = RING_ID_SEED;
    int w, b;

    for (w = 0; w < RING_ID_LEN / 8; w++) {
        uint64_t word = 0;

        for (b = 7; b >= 0; b--)
            word = (word << 8) | (unsigned char)id[w * 8 + b];
        h = ring_mix64(h ^ word) + RING_GOLDEN;
    }
    return h;
}

/* Token vnode of the member whose id digest is digest: SplitMix64's
 * output number vnode + 1 from the state digest. */
static uint64_t ring_token_of(uint64_t digest, unsigned vnode)
{
    return ring_mix64(digest + (uint64_t)(vnode + 1) * RING_GOLDEN);
}

uint64_t ring_token_position(const char *id, unsigned vnode)
{
    return ring_token_of(ring_id_digest(id), vnode);
}

/*
 * Probe p >= 1 of all slots together visits every slot's arc exactly once
 * (the top 14 bits are a permutation of the slots, a * s + b mod 2^14 with
 * odd a), so no arc gets more or fewer probes than its length earns; the
 * permutation differs per probe, so a slot's probes land far apart; the low
 * 50 bits place the probe at a random point inside its arc.  Independent
 * random probes measured worse (ring.h).
 */
uint64_t ring_probe_position(unsigned slot, unsigned probe)
{
    uint64_t a, b, arc, within;

    if (probe == 0)
        return (uint64_t)slot << RING_SLOT_SHIFT;
    a = ring_mix64(RING_PROBE_SEED ^ probe) | 1;
    b = ring_mix64(RING_PROBE_SEED + probe);
    arc = ((uint64_t)slot * a + b) & (RC_SLOTS - 1);
    within = ring_mix64(RING_PROBE_SEED ^ ((uint64_t)slot << 32 | probe)) >>
             (64 - RING_SLOT_SHIFT);
    return arc << RING_SLOT_SHIFT | within;
}

/* ---- building ---- */

static int ring_valid_id(const char *id)
{
    int i;

    if (id == NULL)
        return 0;
    for (i = 0; i < RING_ID_LEN; i++) {
        char c = id[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return id[RING_ID_LEN] == '\0';
}

static int ring_member_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ring_member *)a)->id,
                  ((const struct ring_member *)b)->id);
}

static int ring_token_cmp(const void *a, const void *b)
{
    const struct ring_token *x = a, *y = b;

    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    /* Same position: the smaller id comes first, so it wins the tie.  Two
     * tokens of one member at one position are interchangeable. */
    return (x->member > y->member) - (x->member < y->member);
}

/* The sorted tokens and what the slot loop needs besides: "listed" marks
 * of the preference-list walks are generation numbers, so no array is
 * cleared between slots. */
struct ring_scratch {
    const struct ring_token *tok;
    size_t ntok;
    uint32_t *arc_first; /* [a]: first token at or after a << 50; [RC_SLOTS] = ntok */
    const struct ring_member *members;
    int nmembers;
    uint32_t nzones;
    uint32_t gen;
    uint32_t *member_gen;
    uint32_t *zone_gen;
    /* Token indexes grouped by member, ascending within a group; member
     * m's are by_member[member_first[m] .. member_first[m + 1]). */
    uint32_t *by_member;
    uint32_t *member_first;
};

/* Index of the first token at or after pos, wrapping past the top.  The
 * arc index narrows the search to the tokens of pos's arc. */
static size_t ring_token_at(const struct ring_scratch *sc, uint64_t pos)
{
    size_t arc = (size_t)(pos >> RING_SLOT_SHIFT);
    size_t lo = sc->arc_first[arc], hi = sc->arc_first[arc + 1];

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sc->tok[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == sc->ntok ? 0 : lo;
}

/* The owner token of a slot: over all probes, the token with the smallest
 * clockwise distance from its probe; ties by member id, then probe index
 * (the earlier probe is kept). */
static size_t ring_owner_token(const struct ring_scratch *sc, unsigned slot)
{
    size_t best = 0;
    uint64_t best_dist = 0;
    unsigned p;

    for (p = 0; p < RING_PROBES; p++) {
        uint64_t q = ring_probe_position(slot, p);
        size_t t = ring_token_at(sc, q);
        uint64_t dist = sc->tok[t].pos - q; /* modulo 2^64: clockwise */

        if (p == 0 || dist < best_dist ||
            (dist == best_dist && sc->tok[t].member < sc->tok[best].member)) {
            best = t;
            best_dist = dist;
        }
    }
    return best;
}

/* Number the zones: members with the same non-empty zone string share a
 * number, a member with no zone gets one of its own.  Members without
 * tokens are left out (zone 0, never looked at): a zone only they are in
 * must not count as one the walk still has to list.  Returns the count. */
static uint32_t ring_number_zones(struct ring_member *m, int n)
{
    uint32_t next = 0;
    int i, j;

    for (i = 0; i < n; i++) {
        m[i].zone_no = UINT32_MAX;
        if (m[i].vnodes == 0) {
            m[i].zone_no = 0;
            continue;
        }
        if (m[i].zone != NULL) {
            for (j = 0; j < i; j++) {
                if (m[j].vnodes > 0 && m[j].zone != NULL && strcmp(m[j].zone, m[i].zone) == 0) {
                    m[i].zone_no = m[j].zone_no;
                    break;
                }
            }
        }
        if (m[i].zone_no == UINT32_MAX)
            m[i].zone_no = next++;
    }
    return next;
}

/* Rejected tokens in a row after which a walk stops stepping and
 * searches (see ring_next_acceptable). */
#define RING_JUMP_AFTER 32

static int ring_acceptable(const struct ring_scratch *sc, uint32_t m,
                           uint32_t zones_left)
{
    if (sc->member_gen[m] == sc->gen)
        return 0; /* listed */
    return zones_left == 0 || sc->zone_gen[sc->members[m].zone_no] != sc->gen;
}

/*
 * The first token at or after t (wrapping) whose member is acceptable,
 * found by a binary search in each acceptable member's tokens rather than
 * by stepping.  Stepping costs up to a full turn when the members still
 * wanted own few tokens (one member alone in its zone, with one vnode,
 * among a million tokens); this costs O(members * log tokens).  There is
 * always an acceptable member while the list is short (see below).
 */
static size_t ring_next_acceptable(const struct ring_scratch *sc, size_t t,
                                   uint32_t zones_left)
{
    size_t best = SIZE_MAX;
    int m;

    for (m = 0; m < sc->nmembers; m++) {
        size_t lo = sc->member_first[m], hi = sc->member_first[m + 1];
        size_t first = lo, end = hi, idx;

        if (lo == hi || !ring_acceptable(sc, (uint32_t)m, zones_left))
            continue;   /* no tokens, or not wanted */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (sc->by_member[mid] < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        idx = lo < end ? sc->by_member[lo] : sc->by_member[first] + sc->ntok;
        if (idx < best)
            best = idx;
    }
    return best % sc->ntok;
}

/*
 * Fill out[0..len) with the preference list starting at token t0: walk
 * clockwise, skip listed members and, while some zone is still unlisted,
 * members of listed zones.  While the list is short an acceptable member
 * exists (an unlisted zone's members are all unlisted; with every zone
 * listed any unlisted member will do), so the walk ends within a turn of
 * its last addition.  A member skipped by the zone rule is taken on a
 * later pass of its tokens, which past the first turn is ring.h's "fill
 * from the remaining members in clockwise order".
 */
static void ring_walk_pref(struct ring_scratch *sc, size_t t0, uint16_t *out,
                           int len)
{
    uint32_t zones_left = sc->nzones;
    size_t t = t0;
    int got = 0, rejected = 0;

    sc->gen++;
    while (got < len) {
        uint32_t m = sc->tok[t].member;
        uint32_t z = sc->members[m].zone_no;

        if (!ring_acceptable(sc, m, zones_left)) {
            if (++rejected == RING_JUMP_AFTER) {
                t = ring_next_acceptable(sc, t, zones_left);
                rejected = 0;
            } else {
                t = t + 1 == sc->ntok ? 0 : t + 1;
            }
            continue;
        }
        sc->member_gen[m] = sc->gen;
        if (sc->zone_gen[z] != sc->gen) {
            sc->zone_gen[z] = sc->gen;
            zones_left--;
        }
        out[got++] = (uint16_t)m;
        rejected = 0;
        t = t + 1 == sc->ntok ? 0 : t + 1;
    }
}

static void ring_fill_table(struct ring *r, const struct ring_token *tok,
                            size_t ntok, uint32_t nzones)
{
    struct ring_scratch sc;
    /* first_slot[t]: a slot whose owner token is t, or -1; slots with the
     * same owner token have the same list, so it is walked once. */
    int32_t *first_slot = rc_malloc(ntok * sizeof(*first_slot));
    unsigned s, arc;
    size_t t;
    int m;

    sc.tok = tok;
    sc.ntok = ntok;
    sc.arc_first = rc_malloc((RC_SLOTS + 1) * sizeof(*sc.arc_first));
    sc.members = r->members;
    sc.nmembers = r->nmembers;
    sc.nzones = nzones;
    sc.gen = 0;
    sc.member_gen = rc_calloc((size_t)r->nmembers * sizeof(uint32_t));
    sc.zone_gen = rc_calloc((size_t)nzones * sizeof(uint32_t));
    for (t = 0, arc = 0; arc <= RC_SLOTS; arc++) {
        while (t < ntok && arc < RC_SLOTS &&
               tok[t].pos < (uint64_t)arc << RING_SLOT_SHIFT)
            t++;
        sc.arc_first[arc] = (uint32_t)(arc < RC_SLOTS ? t : ntok);
    }
    /* Group the token indexes by member: offsets from the vnode counts,
     * then one ascending pass (member_gen, still all zero, is the cursor). */
    sc.by_member = rc_malloc(ntok * sizeof(*sc.by_member));
    sc.member_first = rc_malloc(((size_t)r->nmembers + 1) * sizeof(*sc.member_first));
    sc.member_first[0] = 0;
    for (m = 0; m < r->nmembers; m++)
        sc.member_first[m + 1] = sc.member_first[m] + r->members[m].vnodes;
    for (t = 0; t < ntok; t++) {
        uint32_t owner = tok[t].member;

        sc.by_member[sc.member_first[owner] + sc.member_gen[owner]++] = (uint32_t)t;
    }
    memset(sc.member_gen, 0, (size_t)r->nmembers * sizeof(uint32_t));
    for (t = 0; t < ntok; t++)
        first_slot[t] = -1;

    for (s = 0; s < RC_SLOTS; s++) {
        uint16_t *row = r->pref + (size_t)s * r->pref_len;

        t = ring_owner_token(&sc, s);
        if (first_slot[t] >= 0) {
            memcpy(row, r->pref + (size_t)first_slot[t] * r->pref_len,
                   (size_t)r->pref_len * sizeof(*row));
        } else {
            first_slot[t] = (int32_t)s;
            ring_walk_pref(&sc, t, row, r->pref_len);
        }
    }
    rc_free(sc.arc_first);
    rc_free(sc.by_member);
    rc_free(sc.member_first);
    rc_free(sc.member_gen);
    rc_free(sc.zone_gen);
    rc_free(first_slot);
}

struct ring *ring_build(const struct ring_member_spec *spec, int n,
                        int replicas)
{
    struct ring *r;
    struct ring_token *tok;
    size_t ntok = 0, k;
    uint32_t nzones;
    int i;
    unsigned v;

    if (spec == NULL || n <= 0 || n > RING_MAX_MEMBERS || replicas < 0 ||
        replicas > RING_MAX_REPLICAS)
        return NULL;
    int placed = 0;
    for (i = 0; i < n; i++) {
        if (!ring_valid_id(spec[i].id) || spec[i].vnodes > RING_MAX_VNODES)
            return NULL;
        ntok += spec[i].vnodes;
        placed += spec[i].vnodes > 0;
    }
    if (ntok > RING_MAX_TOKENS || placed == 0)
        return NULL;

    r = rc_calloc(sizeof(*r));
    r->nmembers = n;
    r->replicas = replicas;
    r->pref_len = replicas + 1 < placed ? replicas + 1 : placed;
    r->members = rc_calloc((size_t)n * sizeof(*r->members));
    for (i = 0; i < n; i++) {
        const char *zone = spec[i].zone;

        memcpy(r->members[i].id, spec[i].id, RING_ID_LEN + 1);
        r->members[i].vnodes = spec[i].vnodes;
        if (zone != NULL && zone[0] != '\0')
            r->members[i].zone = rc_strndup(zone, strlen(zone));
    }
    qsort(r->members, (size_t)n, sizeof(*r->members), ring_member_cmp);
    for (i = 1; i < n; i++) {
        if (strcmp(r->members[i - 1].id, r->members[i].id) == 0) {
            ring_destroy(&r);
            return NULL;
        }
    }
    nzones = ring_number_zones(r->members, n);

    tok = rc_malloc(ntok * sizeof(*tok));
    k = 0;
    for (i = 0; i < n; i++) {
        uint64_t digest = ring_id_digest(r->members[i].id);

        for (v = 0; v < r->members[i].vnodes; v++) {
            tok[k].pos = ring_token_of(digest, v);
            tok[k].member = (uint32_t)i;
            k++;
        }
    }
    qsort(tok, ntok, sizeof(*tok), ring_token_cmp);

    r->pref = rc_malloc((size_t)RC_SLOTS * r->pref_len * sizeof(*r->pref));
    ring_fill_table(r, tok, ntok, nzones);
    rc_free(tok);
    ring_number_lists(r);
    return r;
}

/* Number the distinct preference lists (an open-addressing table of
 * list numbers keyed by the row, 2 x RC_SLOTS buckets). */
static void ring_number_lists(struct ring *r)
{
    const size_t cap = 2 * RC_SLOTS;
    const size_t row = (size_t)r->pref_len * sizeof(*r->pref);
    int32_t *tab = rc_malloc(cap * sizeof(*tab));
    unsigned slot;

    for (size_t b = 0; b < cap; b++)
        tab[b] = -1;
    r->list_of = rc_malloc(RC_SLOTS * sizeof(*r->list_of));
    r->list_slot = rc_malloc(RC_SLOTS * sizeof(*r->list_slot));
    r->nlists = 0;
    for (slot = 0; slot < RC_SLOTS; slot++) {
        const uint16_t *p = r->pref + (size_t)slot * r->pref_len;
        uint64_t h = 0;
        for (int k = 0; k < r->pref_len; k++)
            h = ring_mix64(h ^ p[k]);
        size_t b = (size_t)(h & (cap - 1));
        while (tab[b] >= 0 &&
               memcmp(r->pref + (size_t)r->list_slot[tab[b]] * r->pref_len, p, row) != 0)
            b = (b + 1) & (cap - 1);
        if (tab[b] < 0) {
            tab[b] = r->nlists;
            r->list_slot[r->nlists++] = (uint16_t)slot;
        }
        r->list_of[slot] = (uint16_t)tab[b];
    }
    rc_free(tab);
}

int ring_nlists(const struct ring *r)
{
    return r->nlists;
}

int ring_list_of(const struct ring *r, unsigned slot)
{
    return r->list_of[slot & (RC_SLOTS - 1)];
}

unsigned ring_list_slot(const struct ring *r, int list)
{
    return r->list_slot[list];
}

void ring_destroy(struct ring **rp)
{
    struct ring *r = *rp;
    int i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nmembers; i++)
        rc_free(r->members[i].zone);
    rc_free(r->members);
    rc_free(r->pref);
    rc_free(r->list_of);
    rc_free(r->list_slot);
    rc_free(r);
    *rp = NULL;
}

/* ---- lookups ---- */

int ring_members(const struct ring *r)
{
    return r->nmembers;
}

int ring_replicas(const struct ring *r)
{
    return r->replicas;
}

const char *ring_member_id(const struct ring *r, int idx)
{
    if (idx < 0 || idx >= r->nmembers)
        return NULL;
    return r->members[idx].id;
}

const char *ring_member_zone(const struct ring *r, int idx)
{
    if (idx < 0 || idx >= r->nmembers)
        return NULL;
    return r->members[idx].zone != NULL ? r->members[idx].zone : "";
}

int ring_member_index(const struct ring *r, const char *id)
{
    int lo = 0, hi = r->nmembers;

    if (id == NULL)
        return -1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(r->members[mid].id, id);

        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int ring_pref_len(const struct ring *r)
{
    return r->pref_len;
}

const uint16_t *ring_pref(const struct ring *r, unsigned slot)
{
    return r->pref + (size_t)(slot & (RC_SLOTS - 1)) * r->pref_len;
}

int ring_in_pref(const struct ring *r, unsigned slot, int idx)
{
    const uint16_t *row = ring_pref(r, slot);
    int i;

    for (i = 0; i < r->pref_len; i++)
        if (row[i] == idx)
            return 1;
    return 0;
}

unsigned ring_slots_of(const struct ring *r, int idx, int position)
{
    unsigned s, count = 0;
    int i;

    if (idx < 0 || idx >= r->nmembers || position >= r->pref_len)
        return 0;
    for (s = 0; s < RC_SLOTS; s++) {
        const uint16_t *row = ring_pref(r, s);

        for (i = 0; i < r->pref_len; i++) {
            if ((position < 0 || i == position) && row[i] == idx) {
                count++;
                break;
            }
        }
    }
    return count;
}

/* ---- comparing two tables ---- */

void ring_diff(const struct ring *a, const struct ring *b, uint8_t *flags,
               struct ring_diff_count *count) /* a: from, b: to */
{
    /* b's member indexes translated to a's (-1: not a member of a). */
    int *b_to_a = rc_malloc((size_t)b->nmembers * sizeof(*b_to_a));
    struct ring_diff_count c = {0, 0};
    unsigned s;
    int i;

    for (i = 0; i < b->nmembers; i++)
        b_to_a[i] = ring_member_index(a, b->members[i].id);
    for (s = 0; s < RC_SLOTS; s++) {
        const uint16_t *pa = ring_pref(a, s), *pb = ring_pref(b, s);
        uint8_t f = 0;

        if (b_to_a[pb[0]] != pa[0])
            f |= RING_DIFF_OWNER | RING_DIFF_PREF;
        else if (a->pref_len != b->pref_len)
            f |= RING_DIFF_PREF;
        else
            for (i = 1; i < a->pref_len; i++)
                if (b_to_a[pb[i]] != pa[i]) {
                    f |= RING_DIFF_PREF;
                    break;
                }
        if (f & RING_DIFF_OWNER)
            c.owner_changed++;
        if (f & RING_DIFF_PREF)
            c.pref_changed++;
        if (flags != NULL)
            flags[s] = f;
    }
    rc_free(b_to_a);
    if (count != NULL)
        *count = c;
}
