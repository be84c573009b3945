/*
 * check_ring.c — unit tests for ring.c (tokens, owners, preference lists,
 * table diffs).
 *
 * Member ids come from a SplitMix64 generator with fixed seeds, so every
 * run tests the same rings.  The statistical claims (balance, movement)
 * are checked on every one of many id sets, not on one lucky set.  A
 * reference implementation written from ring.h's text (brute force over
 * all tokens) checks the table and pins the documented format.
 */
#include "ring.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 16

/* ck_assert for loops over all slots: Check's asserts record a mark
 * point (a write to its pipe) even when they pass, which made the suite
 * spend its time in the kernel.  This one costs nothing until it fails. */
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond))                                                         \
            ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond);   \
    } while (0)

/* Golden values.  The token and probe numbers were checked against a
 * Python transcription of ring.h's format text; the table numbers pin
 * owner selection (A, B, C own 5443, 5483 and 5458 primaries). */
#define GOLDEN_T0 0x66a568483a7ef274ULL
#define GOLDEN_T255 0x58a8187245e4bbd6ULL
#define GOLDEN_P5_3 0xb4ad7c2dcf266864ULL
#define GOLDEN_A 5443u
#define GOLDEN_B 5483u
#define GOLDEN_S0 2
#define GOLDEN_S12345 2

/* ---- deterministic ids ---- */

static uint64_t test_rng;

static uint64_t test_next(void)
{
    uint64_t z = (test_rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct members {
    int n;
    char ids[MAXN][RING_ID_LEN + 1];
    char zones[MAXN][8];
    struct ring_member_spec spec[MAXN];
};

/* n members with random ids from seed, `vnodes` each and no zone. */
static void make_members(struct members *m, int n, uint64_t seed,
                         unsigned vnodes)
{
    int i, c;

    test_rng = seed;
    m->n = n;
    for (i = 0; i < n; i++) {
        for (c = 0; c < RING_ID_LEN; c++)
            m->ids[i][c] = "0123456789abcdef"[test_next() & 15];
        m->ids[i][RING_ID_LEN] = '\0';
        m->zones[i][0] = '\0';
        m->spec[i].id = m->ids[i];
        m->spec[i].zone = m->zones[i];
        m->spec[i].vnodes = vnodes;
    }
}

static void set_zone(struct members *m, int i, const char *zone)
{
    snprintf(m->zones[i], sizeof(m->zones[i]), "%s", zone);
}

static void assert_same_table(const struct ring *a, const struct ring *b)
{
    unsigned s;
    int i;

    ck_assert_int_eq(ring_members(a), ring_members(b));
    ck_assert_int_eq(ring_pref_len(a), ring_pref_len(b));
    for (i = 0; i < ring_members(a); i++)
        ck_assert_str_eq(ring_member_id(a, i), ring_member_id(b, i));
    for (s = 0; s < RC_SLOTS; s++)
        REQUIRE(memcmp(ring_pref(a, s), ring_pref(b, s),
                         (size_t)ring_pref_len(a) * sizeof(uint16_t)) == 0);
}

/* ---- a reference written from ring.h, slow and plain ---- */

static uint64_t ref_mix(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z;
}

static uint64_t ref_token(const char *id, unsigned v)
{
    const uint64_t g = 0x9e3779b97f4a7c15ULL;
    uint64_t h = 0x72696e6763616368ULL;
    int w, b;

    for (w = 0; w < 5; w++) {
        uint64_t word = 0;

        for (b = 0; b < 8; b++)
            word |= (uint64_t)(unsigned char)id[8 * w + b] << (8 * b);
        h = ref_mix(h ^ word) + g;
    }
    return ref_mix(h + (uint64_t)(v + 1) * g);
}

static uint64_t ref_probe(unsigned s, unsigned p)
{
    const uint64_t k = 0x736c6f7470726f62ULL;
    uint64_t a, b;

    if (p == 0)
        return (uint64_t)s << 50;
    a = ref_mix(k ^ p) | 1;
    b = ref_mix(k + p);
    return (((a * s + b) % 16384) << 50) |
           (ref_mix(k ^ ((uint64_t)s << 32 | p)) >> 14);
}

struct ref_tok {
    uint64_t pos;
    int member; /* canonical index */
};

static int ref_tok_cmp(const void *a, const void *b)
{
    const struct ref_tok *x = a, *y = b;

    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->member - y->member;
}

/*
 * Check every slot of r against the documented rules: owner token by
 * scanning all tokens for every probe, then the preference walk with the
 * zone rule and the fill pass written out separately.
 */
static void check_against_reference(const struct ring *r,
                                    const struct members *ms)
{
    int n = ring_members(r), len = ring_pref_len(r);
    struct ref_tok *tok;
    int ntok = 0, i, t, zones_total = 0;
    unsigned s, p, v;
    char zones[MAXN][8];

    ck_assert_int_eq(n, ms->n);
    tok = malloc(sizeof(*tok) * MAXN * 256);
    ck_assert_ptr_nonnull(tok);
    for (i = 0; i < n; i++) {
        int idx = ring_member_index(r, ms->spec[i].id);

        ck_assert_uint_le(ms->spec[i].vnodes, 256);
        for (v = 0; v < ms->spec[i].vnodes; v++) {
            tok[ntok].pos = ref_token(ms->spec[i].id, v);
            tok[ntok].member = idx;
            ntok++;
        }
    }
    qsort(tok, (size_t)ntok, sizeof(*tok), ref_tok_cmp);

    for (i = 0; i < n; i++) {
        int j, seen = 0;

        snprintf(zones[i], sizeof(zones[i]), "%s", ring_member_zone(r, i));
        for (j = 0; j < i; j++)
            if (zones[i][0] != '\0' && strcmp(zones[i], zones[j]) == 0)
                seen = 1;
        zones_total += !seen;
    }

    for (s = 0; s < RC_SLOTS; s++) {
        const uint16_t *got = ring_pref(r, s);
        int best = -1, list[MAXN], nlist = 0, k;
        uint64_t best_dist = 0;

        for (p = 0; p < RING_PROBES; p++) {
            uint64_t q = ref_probe(s, p);
            int first = -1;

            REQUIRE(ring_probe_position(s, p) == q);
            for (t = 0; t < ntok && first < 0; t++)
                if (tok[t].pos >= q)
                    first = t;
            if (first < 0)
                first = 0;
            if (best < 0 || tok[first].pos - q < best_dist ||
                (tok[first].pos - q == best_dist &&
                 tok[first].member < tok[best].member)) {
                best = first;
                best_dist = tok[first].pos - q;
            }
        }
        /* One full turn with the zone rule. */
        for (k = 0; k < ntok && nlist < len; k++) {
            int m = tok[(best + k) % ntok].member, j, dup = 0, zone_listed = 0;
            int zones_listed = 0;

            for (j = 0; j < nlist; j++) {
                int jj, counted = 0;

                dup |= list[j] == m;
                if (zones[m][0] != '\0' && strcmp(zones[list[j]], zones[m]) == 0)
                    zone_listed = 1;
                for (jj = 0; jj < j; jj++)
                    if (zones[list[j]][0] != '\0' &&
                        strcmp(zones[list[jj]], zones[list[j]]) == 0)
                        counted = 1;
                zones_listed += !counted;
            }
            if (dup || (zone_listed && zones_listed < zones_total))
                continue;
            list[nlist++] = m;
        }
        /* Fill from the rest in clockwise order. */
        for (k = 0; k < ntok && nlist < len; k++) {
            int m = tok[(best + k) % ntok].member, j, dup = 0;

            for (j = 0; j < nlist; j++)
                dup |= list[j] == m;
            if (!dup)
                list[nlist++] = m;
        }
        REQUIRE(nlist == len);
        for (k = 0; k < len; k++)
            REQUIRE(got[k] == list[k]);
    }
    free(tok);
}

/* ---- tests ---- */

START_TEST(test_format_golden)
{
    const char *id = "0123456789abcdef0123456789abcdef01234567";

    /* These numbers are the format: if one changes, every deployed ring
     * would disagree with the new code about where the slots are. */
    ck_assert_uint_eq(ring_token_position(id, 0), GOLDEN_T0);
    ck_assert_uint_eq(ring_token_position(id, 255), GOLDEN_T255);
    ck_assert_uint_eq(ring_probe_position(0, 0), 0);
    ck_assert_uint_eq(ring_probe_position(16383, 0), 16383ULL << 50);
    ck_assert_uint_eq(ring_probe_position(5, 3), GOLDEN_P5_3);
    ck_assert_uint_eq(ring_token_position(id, 7), ref_token(id, 7));
    ck_assert_uint_eq(ring_probe_position(77, 5), ref_probe(77, 5));
}
END_TEST

START_TEST(test_golden_table)
{
    struct ring_member_spec spec[3] = {
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", 256},
        {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "", 256},
        {"cccccccccccccccccccccccccccccccccccccccc", "", 256},
    };
    struct ring *r = ring_build(spec, 3, 1);

    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(ring_slots_of(r, 0, 0), GOLDEN_A);
    ck_assert_uint_eq(ring_slots_of(r, 1, 0), GOLDEN_B);
    ck_assert_uint_eq(ring_pref(r, 0)[0], GOLDEN_S0);
    ck_assert_uint_eq(ring_pref(r, 12345)[0], GOLDEN_S12345);
    ring_destroy(&r);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_matches_reference)
{
    struct members m;
    struct ring *r;
    uint64_t seed;

    for (seed = 1; seed <= 3; seed++) {
        make_members(&m, 5, seed, 16);
        set_zone(&m, 0, "east");
        set_zone(&m, 1, "east");
        set_zone(&m, 2, "west");
        /* members 3 and 4: no zone */
        r = ring_build(m.spec, m.n, (int)seed);
        ck_assert_ptr_nonnull(r);
        check_against_reference(r, &m);
        ring_destroy(&r);
    }
    /* No zones at all; and a list longer than the number of zones. */
    make_members(&m, 4, 9, 16);
    r = ring_build(m.spec, m.n, 2);
    check_against_reference(r, &m);
    ring_destroy(&r);
    set_zone(&m, 0, "a");
    set_zone(&m, 1, "a");
    set_zone(&m, 2, "a");
    set_zone(&m, 3, "b");
    r = ring_build(m.spec, m.n, 3);
    check_against_reference(r, &m);
    ring_destroy(&r);
    /* Zone b's only member has one token: slots whose walk meets it last
     * end their first turn short and need the fill pass. */
    m.spec[3].vnodes = 1;
    r = ring_build(m.spec, m.n, 3);
    check_against_reference(r, &m);
    ring_destroy(&r);
    /* Long runs of skipped tokens make the walk search instead of step:
     * one heavy member, and light ones competing across zones. */
    for (seed = 10; seed < 14; seed++) {
        static const unsigned vnodes[] = {256, 2, 3, 2, 1, 1};
        static const char *const zone[] = {"x", "y", "y", "z", "", "x"};
        int i;

        make_members(&m, 6, seed, 1);
        for (i = 0; i < 6; i++) {
            m.spec[i].vnodes = vnodes[i];
            set_zone(&m, i, zone[i]);
        }
        r = ring_build(m.spec, m.n, (int)(seed % 4) + 1);
        check_against_reference(r, &m);
        ring_destroy(&r);
    }
}
END_TEST

/* Slots share a list number exactly when their lists are equal, and a
 * list's first slot is the lowest slot with that list. */
START_TEST(test_list_numbers)
{
    struct members m;
    struct ring *r;
    int n, len;

    make_members(&m, 5, 4, 64);
    r = ring_build(m.spec, m.n, 2);
    ck_assert_ptr_nonnull(r);
    n = ring_nlists(r);
    len = ring_pref_len(r);
    ck_assert_int_gt(n, 1);
    ck_assert_int_le(n, 5 * 4 * 3);
    for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
        int l = ring_list_of(r, slot);
        unsigned first = ring_list_slot(r, l);
        ck_assert_int_lt(l, n);
        ck_assert_uint_le(first, slot);
        ck_assert(memcmp(ring_pref(r, slot), ring_pref(r, first), (size_t)len * 2) == 0);
        if (l > 0)
            ck_assert_uint_lt(ring_list_slot(r, l - 1), first);
    }
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            ck_assert(memcmp(ring_pref(r, ring_list_slot(r, a)), ring_pref(r, ring_list_slot(r, b)),
                             (size_t)len * 2) != 0);
    ring_destroy(&r);
}
END_TEST

START_TEST(test_deterministic)
{
    struct members m;
    struct ring *a, *b;

    make_members(&m, 10, 42, 256);
    a = ring_build(m.spec, m.n, 2);
    b = ring_build(m.spec, m.n, 2);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    assert_same_table(a, b);
    ring_destroy(&a);
    ring_destroy(&b);
}
END_TEST

START_TEST(test_order_independent)
{
    struct members m;
    struct ring_member_spec shuffled[MAXN];
    struct ring *a, *b;
    int round, i;

    make_members(&m, 10, 7, 64);
    for (i = 0; i < m.n; i++)
        set_zone(&m, i, i % 3 == 0 ? "z1" : i % 3 == 1 ? "z2" : "");
    a = ring_build(m.spec, m.n, 2);
    ck_assert_ptr_nonnull(a);
    for (i = 1; i < m.n; i++)
        ck_assert_int_lt(strcmp(ring_member_id(a, i - 1), ring_member_id(a, i)), 0);
    memcpy(shuffled, m.spec, sizeof(shuffled));
    for (round = 0; round < 8; round++) {
        for (i = m.n - 1; i > 0; i--) {
            int j = (int)(test_next() % (uint64_t)(i + 1));
            struct ring_member_spec tmp = shuffled[i];

            shuffled[i] = shuffled[j];
            shuffled[j] = tmp;
        }
        b = ring_build(shuffled, m.n, 2);
        ck_assert_ptr_nonnull(b);
        assert_same_table(a, b);
        ring_destroy(&b);
    }
    ring_destroy(&a);
}
END_TEST

/* Primary slots of every member within +/-10% of the mean, on every one
 * of BALANCE_SETS id sets, for 3, 5 and 10 members of 256 vnodes. */
#define BALANCE_SETS 100
START_TEST(test_balance)
{
    static const int sizes[] = {3, 5, 10};
    struct members m;
    double worst = 0;
    size_t k;
    int set, i;

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (set = 0; set < BALANCE_SETS; set++) {
            struct ring *r;
            double mean = (double)RC_SLOTS / sizes[k];
            unsigned total = 0;

            make_members(&m, sizes[k], 1000u * (unsigned)sizes[k] + (unsigned)set, 256);
            r = ring_build(m.spec, m.n, 0);
            ck_assert_ptr_nonnull(r);
            for (i = 0; i < m.n; i++) {
                unsigned c = ring_slots_of(r, i, 0);
                double dev = (c - mean) / mean;

                total += c;
                if (dev < 0)
                    dev = -dev;
                if (dev > worst)
                    worst = dev;
                ck_assert_msg(dev <= 0.10, "n=%d set=%d member %d: %u slots, mean %.0f",
                              sizes[k], set, i, c, mean);
            }
            ck_assert_uint_eq(total, RC_SLOTS);
            ring_destroy(&r);
        }
    }
    printf("ring balance: worst primary deviation %.1f%% over %d sets x {3,5,10}\n",
           worst * 100, BALANCE_SETS);
}
END_TEST

static void zone_of(const struct ring *r, int idx, char out[8])
{
    snprintf(out, 8, "%s", ring_member_zone(r, idx));
}

static void assert_distinct_members(const struct ring *r)
{
    unsigned s;
    int i, j, len = ring_pref_len(r);

    for (s = 0; s < RC_SLOTS; s++) {
        const uint16_t *p = ring_pref(r, s);

        for (i = 0; i < len; i++) {
            REQUIRE(p[i] < ring_members(r));
            for (j = 0; j < i; j++)
                REQUIRE(p[i] != p[j]);
        }
    }
}

START_TEST(test_zones)
{
    struct members m;
    struct ring *r;
    uint64_t seed;
    unsigned s;
    int i, j;

    for (seed = 100; seed < 110; seed++) {
        /* 3 zones of uneven size (1, 3, 5 members), 3 copies. */
        make_members(&m, 9, seed, 256);
        for (i = 0; i < m.n; i++)
            set_zone(&m, i, i == 0 ? "a" : i < 4 ? "b" : "c");
        r = ring_build(m.spec, m.n, 2);
        ck_assert_ptr_nonnull(r);
        assert_distinct_members(r);
        for (s = 0; s < RC_SLOTS; s++) {
            const uint16_t *p = ring_pref(r, s);
            char zi[8], zj[8];

            for (i = 0; i < 3; i++)
                for (j = 0; j < i; j++) {
                    zone_of(r, p[i], zi);
                    zone_of(r, p[j], zj);
                    REQUIRE(strcmp(zi, zj) != 0);
                }
        }
        /* The lone member of zone a holds a copy of every slot. */
        i = ring_member_index(r, m.ids[0]);
        ck_assert_uint_eq(ring_slots_of(r, i, -1), RC_SLOTS);
        ring_destroy(&r);

        /* 2 zones, 4 copies: still distinct members, both zones used. */
        for (i = 0; i < m.n; i++)
            set_zone(&m, i, i % 2 ? "x" : "y");
        r = ring_build(m.spec, 5, 3);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(ring_pref_len(r), 4);
        assert_distinct_members(r);
        for (s = 0; s < RC_SLOTS; s++) {
            const uint16_t *p = ring_pref(r, s);
            char z0[8], z1[8];

            zone_of(r, p[0], z0);
            zone_of(r, p[1], z1);
            REQUIRE(strcmp(z0, z1) != 0);
        }
        ring_destroy(&r);
    }
}
END_TEST

/* Same preference lists, compared by member id. */
static void assert_same_lists_by_id(const struct ring *a, const struct ring *b)
{
    unsigned s;
    int k;

    ck_assert_int_eq(ring_pref_len(a), ring_pref_len(b));
    for (s = 0; s < RC_SLOTS; s++)
        for (k = 0; k < ring_pref_len(a); k++)
            REQUIRE(strcmp(ring_member_id(a, ring_pref(a, s)[k]),
                           ring_member_id(b, ring_pref(b, s)[k])) == 0);
}

/* A member with 0 vnodes (one being added, cluster.c) changes nothing:
 * the lists are those of the ring without it, whatever its zone (one of
 * the others', or a zone of its own the others must not wait for), and
 * it holds no slot. */
START_TEST(test_tokenless_member)
{
    static const char *const zone_sets[][MAXN] = {
        {NULL},
        {"a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b"},
        {"a", "a", "b", "b", "c", "c", "a", "b", "c", "a", "b"},
    };
    static const char *const new_zones[] = {"", "a", "z"};
    struct members m;
    struct ring *without, *with;
    uint64_t seed;
    int n, replicas, zs, nz, x;

    for (seed = 700; seed < 703; seed++)
        for (n = 1; n <= 10; n += 3)
            for (zs = 0; zs < 3; zs++)
                for (replicas = 0; replicas <= 3; replicas++)
                    for (nz = 0; nz < 3; nz++) {
                        make_members(&m, n + 1, seed * 100 + (uint64_t)n, 64);
                        for (x = 0; x < n && zone_sets[zs][0] != NULL; x++)
                            set_zone(&m, x, zone_sets[zs][x]);
                        set_zone(&m, n, new_zones[nz]);
                        without = ring_build(m.spec, n, replicas);
                        m.spec[n].vnodes = 0;
                        with = ring_build(m.spec, n + 1, replicas);
                        ck_assert_ptr_nonnull(without);
                        ck_assert_ptr_nonnull(with);
                        ck_assert_int_eq(ring_members(with), n + 1);
                        assert_same_lists_by_id(without, with);
                        x = ring_member_index(with, m.ids[n]);
                        ck_assert_uint_eq(ring_slots_of(with, x, -1), 0);
                        REQUIRE(!ring_in_pref(with, (unsigned)seed % RC_SLOTS, x));
                        REQUIRE(ring_in_pref(with, (unsigned)seed % RC_SLOTS,
                                             ring_pref(with, (unsigned)seed % RC_SLOTS)[0]));
                        ring_destroy(&without);
                        ring_destroy(&with);
                    }
}
END_TEST

START_TEST(test_movement_add)
{
    struct members m;
    uint8_t flags[RC_SLOTS];
    uint64_t seed;

    for (seed = 200; seed < 230; seed++) {
        struct ring *four, *five;
        struct ring_diff_count c;
        int newcomer;
        unsigned s, moved = 0;
        double frac;

        make_members(&m, 5, seed, 256);
        four = ring_build(m.spec, 4, 1);
        five = ring_build(m.spec, 5, 1);
        ck_assert_ptr_nonnull(four);
        ck_assert_ptr_nonnull(five);
        newcomer = ring_member_index(five, m.ids[4]);
        for (s = 0; s < RC_SLOTS; s++) {
            const char *before = ring_member_id(four, ring_pref(four, s)[0]);
            const char *after = ring_member_id(five, ring_pref(five, s)[0]);

            if (strcmp(before, after) != 0) {
                moved++;
                REQUIRE(ring_pref(five, s)[0] == newcomer);
            }
        }
        frac = (double)moved / RC_SLOTS;
        ck_assert_msg(frac >= 0.17 && frac <= 0.23, "seed %llu: %.3f moved",
                      (unsigned long long)seed, frac);
        ring_diff(four, five, flags, &c);
        ck_assert_uint_eq(c.owner_changed, moved);
        ck_assert_uint_ge(c.pref_changed, moved);
        ring_destroy(&four);
        ring_destroy(&five);
    }
}
END_TEST

START_TEST(test_movement_remove)
{
    struct members m;
    uint64_t seed;

    for (seed = 300; seed < 330; seed++) {
        struct ring *all, *less;
        int gone, i;
        unsigned s, moved = 0;

        make_members(&m, 6, seed, 256);
        all = ring_build(m.spec, 6, 0);
        /* Drop member seed % 6 by moving the last one into its place. */
        i = (int)(seed % 6);
        gone = ring_member_index(all, m.ids[i]);
        m.spec[i] = m.spec[5];
        less = ring_build(m.spec, 5, 0);
        ck_assert_ptr_nonnull(less);
        ck_assert_int_eq(ring_member_index(less, m.ids[i]), -1);
        for (s = 0; s < RC_SLOTS; s++) {
            int before = ring_pref(all, s)[0];
            const char *after = ring_member_id(less, ring_pref(less, s)[0]);

            if (strcmp(ring_member_id(all, before), after) != 0) {
                moved++;
                REQUIRE(before == gone);
            } else {
                REQUIRE(before != gone);
            }
        }
        ck_assert_uint_eq(moved, ring_slots_of(all, gone, 0));
        ring_destroy(&all);
        ring_destroy(&less);
    }
}
END_TEST

START_TEST(test_diff)
{
    struct members m;
    uint8_t flags[RC_SLOTS];
    struct ring_diff_count c;
    struct ring *a, *b;
    unsigned s, owner = 0, pref = 0;
    int i;

    make_members(&m, 6, 500, 64);
    a = ring_build(m.spec, 5, 2);
    b = ring_build(m.spec, 5, 2);
    ring_diff(a, b, flags, &c);
    ck_assert_uint_eq(c.owner_changed, 0);
    ck_assert_uint_eq(c.pref_changed, 0);
    for (s = 0; s < RC_SLOTS; s++)
        REQUIRE(flags[s] == 0);
    ring_destroy(&b);

    /* Replace member 0 with member 5: compare by id, by hand. */
    m.spec[0] = m.spec[5];
    b = ring_build(m.spec, 5, 2);
    ring_diff(a, b, flags, &c);
    for (s = 0; s < RC_SLOTS; s++) {
        const uint16_t *pa = ring_pref(a, s), *pb = ring_pref(b, s);
        int same = 1;

        for (i = 0; i < 3; i++)
            same &= strcmp(ring_member_id(a, pa[i]), ring_member_id(b, pb[i])) == 0;
        if (strcmp(ring_member_id(a, pa[0]), ring_member_id(b, pb[0])) != 0) {
            owner++;
            REQUIRE(flags[s] == (RING_DIFF_OWNER | RING_DIFF_PREF));
        } else {
            REQUIRE(flags[s] == (same ? 0 : RING_DIFF_PREF));
        }
        pref += !same;
    }
    ck_assert_uint_eq(c.owner_changed, owner);
    ck_assert_uint_eq(c.pref_changed, pref);
    ck_assert_uint_gt(owner, 0);
    ck_assert_uint_gt(pref, owner);
    /* Counts alone, without flags. */
    ring_diff(b, a, NULL, &c);
    ck_assert_uint_eq(c.owner_changed, owner);
    ck_assert_uint_eq(c.pref_changed, pref);
    ring_destroy(&b);

    /* Only the replica count differs: every list changes, no owner. */
    make_members(&m, 6, 500, 64);
    b = ring_build(m.spec, 5, 1);
    ring_diff(a, b, NULL, &c);
    ck_assert_uint_eq(c.owner_changed, 0);
    ck_assert_uint_eq(c.pref_changed, RC_SLOTS);
    ring_destroy(&a);
    ring_destroy(&b);
}
END_TEST

START_TEST(test_invalid)
{
    static struct ring_member_spec many[RING_MAX_MEMBERS + 1];
    static char many_ids[RING_MAX_MEMBERS + 1][RING_ID_LEN + 1];
    struct members m;
    struct ring *r;
    int i;

    make_members(&m, 3, 600, 16);
    ck_assert_ptr_null(ring_build(NULL, 3, 0));
    ck_assert_ptr_null(ring_build(m.spec, 0, 0));
    ck_assert_ptr_null(ring_build(m.spec, -1, 0));
    ck_assert_ptr_null(ring_build(m.spec, 3, -1));
    ck_assert_ptr_null(ring_build(m.spec, 3, RING_MAX_REPLICAS + 1));
    r = ring_build(m.spec, 3, RING_MAX_REPLICAS);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(ring_pref_len(r), 3);
    ring_destroy(&r);

    m.spec[0].vnodes = m.spec[1].vnodes = m.spec[2].vnodes = 0;
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));     /* no member with tokens */
    m.spec[0].vnodes = m.spec[2].vnodes = 16;
    m.spec[1].vnodes = RING_MAX_VNODES + 1;
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[1].vnodes = RING_MAX_VNODES;
    r = ring_build(m.spec, 3, 0);
    ck_assert_ptr_nonnull(r);
    ring_destroy(&r);
    m.spec[1].vnodes = 16;

    m.spec[2].id = m.ids[0]; /* duplicate */
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = NULL;
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = "0123456789ABCDEF0123456789abcdef01234567"; /* upper case */
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = "0123456789abcdef0123456789abcdef0123456"; /* 39 */
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = "0123456789abcdef0123456789abcdef012345678"; /* 41 */
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = "0123456789abcdef0123456789abcdef0123456g";
    ck_assert_ptr_null(ring_build(m.spec, 3, 0));
    m.spec[2].id = m.ids[2];

    for (i = 0; i <= RING_MAX_MEMBERS; i++) {
        snprintf(many_ids[i], sizeof(many_ids[i]), "%040x", (unsigned)i);
        many[i].id = many_ids[i];
        many[i].zone = NULL;
        many[i].vnodes = 1;
    }
    ck_assert_ptr_null(ring_build(many, RING_MAX_MEMBERS + 1, 0));
    r = ring_build(many, RING_MAX_MEMBERS, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(ring_members(r), RING_MAX_MEMBERS);
    ring_destroy(&r);
    /* Too many tokens in all. */
    for (i = 0; i < RING_MAX_MEMBERS; i++)
        many[i].vnodes = RING_MAX_TOKENS / RING_MAX_MEMBERS + 1;
    ck_assert_ptr_null(ring_build(many, RING_MAX_MEMBERS, 0));

    ring_destroy(&r); /* NULL is fine */
}
END_TEST

START_TEST(test_lookups)
{
    struct members m;
    struct ring *r;
    unsigned total[4] = {0, 0, 0, 0};
    int i, pos;

    make_members(&m, 4, 700, 32);
    set_zone(&m, 2, "rack2");
    r = ring_build(m.spec, 4, 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(ring_members(r), 4);
    ck_assert_int_eq(ring_replicas(r), 1);
    ck_assert_int_eq(ring_pref_len(r), 2);
    for (i = 0; i < 4; i++) {
        int idx = ring_member_index(r, m.ids[i]);

        ck_assert_int_ge(idx, 0);
        ck_assert_str_eq(ring_member_id(r, idx), m.ids[i]);
        ck_assert_str_eq(ring_member_zone(r, idx), i == 2 ? "rack2" : "");
    }
    ck_assert_int_eq(ring_member_index(r, "ffffffffffffffffffffffffffffffffffffffff"), -1);
    ck_assert_int_eq(ring_member_index(r, ""), -1);
    ck_assert_ptr_null(ring_member_id(r, 4));
    ck_assert_ptr_null(ring_member_id(r, -1));
    for (i = 0; i < 4; i++) {
        for (pos = 0; pos < 2; pos++)
            total[pos] += ring_slots_of(r, i, pos);
        total[2] += ring_slots_of(r, i, -1);
        total[3] += ring_slots_of(r, i, 2); /* past the list */
    }
    ck_assert_uint_eq(total[0], RC_SLOTS);
    ck_assert_uint_eq(total[1], RC_SLOTS);
    ck_assert_uint_eq(total[2], 2 * RC_SLOTS);
    ck_assert_uint_eq(total[3], 0);
    assert_distinct_members(r);
    /* Slot numbers wrap, as key slots never exceed RC_SLOTS - 1 anyway. */
    ck_assert_ptr_eq(ring_pref(r, RC_SLOTS + 5), ring_pref(r, 5));
    ring_destroy(&r);

    /* Fewer members than copies: everyone, once. */
    r = ring_build(m.spec, 2, 3);
    ck_assert_int_eq(ring_pref_len(r), 2);
    assert_distinct_members(r);
    ring_destroy(&r);
    make_members(&m, 1, 701, 1);
    r = ring_build(m.spec, 1, 2);
    ck_assert_int_eq(ring_pref_len(r), 1);
    ck_assert_uint_eq(ring_slots_of(r, 0, 0), RC_SLOTS);
    ring_destroy(&r);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_format_golden);
    tcase_add_test(tc, test_golden_table);
    tcase_add_test(tc, test_matches_reference);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_order_independent);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_zones);
    tcase_add_test(tc, test_tokenless_member);
    tcase_add_test(tc, test_movement_add);
    tcase_add_test(tc, test_movement_remove);
    tcase_add_test(tc, test_diff);
    tcase_add_test(tc, test_invalid);
    tcase_add_test(tc, test_lookups);
    tcase_add_test(tc, test_list_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ring_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
