/*
 * t_geo.c — the geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS,
 * GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO
 * forms.
 *
 * A geospatial index is an ordinary sorted set whose scores are 52-bit
 * geohashes (geohash.h), so there is no value type of its own: TYPE says
 * zset, RDB and the log carry a sorted set, and every sorted-set command
 * works on it.  GEOADD is ZADD with computed scores and is logged as that
 * ZADD, as Redis does; the STORE forms are logged as themselves (the
 * search is deterministic on the same data).
 *
 * A search visits the cells geo_search_cells() picks (the centre's cell
 * and up to eight neighbours), walks the members whose scores fall in
 * each cell's range in score order, keeps those inside the shape, then
 * sorts by distance if asked.  Without ASC/DESC the results come in that
 * visiting order, which is therefore part of the reply and follows Redis.
 * Replies, error texts and the order of the checks follow Redis 7.0.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geohash.h"
#include "notify.h"
#include "propagate.h"
#include "reply.h"
#include "t_zset.h"

/* ---- argument helpers ---- */

/* Option words are compared as Redis's strcasecmp() compares its
 * NUL-terminated arguments: an argument matches if it is the word, or the
 * word followed by a NUL byte and anything. */
static int word_is(const struct slice *a, const char *w)
{
    size_t n = strlen(w);
    if (a->len < n || strncasecmp(a->p, w, n) != 0)
        return 0;
    return a->len == n || a->p[n] == '\0';
}

static int arg_double(struct client *c, const struct slice *a, double *out, const char *err)
{
    if (!rc_str2d(a->p, a->len, out)) {
        if (err)
            reply_error(c, err);
        else
            reply_err_not_float(c);
        return -1;
    }
    return 0;
}

/* argv[0], argv[1]: longitude and latitude of a position GEOADD accepts. */
static int arg_lonlat(struct client *c, const struct slice *argv, double *lon, double *lat)
{
    if (arg_double(c, &argv[0], lon, NULL) != 0 || arg_double(c, &argv[1], lat, NULL) != 0)
        return -1;
    if (!geo_lonlat_valid(*lon, *lat)) {
        reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return -1;
    }
    return 0;
}

/* A distance unit: *to_m gets metres per unit; -1 after replying the
 * error. */
static int arg_unit(struct client *c, const struct slice *a, double *to_m)
{
    static const struct {
        const char *name;
        double to_m;
    } units[] = {{"m", 1}, {"km", 1000}, {"ft", 0.3048}, {"mi", 1609.34}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (word_is(a, units[i].name)) {
            *to_m = units[i].to_m;
            return 0;
        }
    }
    reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* argv[0] radius, argv[1] unit. */
static int arg_radius(struct client *c, const struct slice *argv, struct geo_shape *s)
{
    double r;
    if (arg_double(c, &argv[0], &r, "ERR need numeric radius") != 0)
        return -1;
    if (r < 0) {
        reply_error(c, "ERR radius cannot be negative");
        return -1;
    }
    if (arg_unit(c, &argv[1], &s->to_m) != 0)
        return -1;
    s->type = GEO_CIRCLE;
    s->radius = r;
    return 0;
}

/* argv[0] width, argv[1] height, argv[2] unit. */
static int arg_box(struct client *c, const struct slice *argv, struct geo_shape *s)
{
    double w, h;
    if (arg_double(c, &argv[0], &w, "ERR need numeric width") != 0 ||
        arg_double(c, &argv[1], &h, "ERR need numeric height") != 0)
        return -1;
    if (h < 0 || w < 0) {
        reply_error(c, "ERR height or width cannot be negative");
        return -1;
    }
    if (arg_unit(c, &argv[2], &s->to_m) != 0)
        return -1;
    s->type = GEO_BOX;
    s->width = w;
    s->height = h;
    return 0;
}

/* The sorted set at key for reading: *o is NULL if there is none.  -1
 * after a WRONGTYPE reply. */
static int lookup_zset(struct client *c, const struct slice *key, struct kv **o)
{
    *o = db_lookup_read(c, key);
    if (*o != NULL && (*o)->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        return -1;
    }
    return 0;
}

/* Position of member m of o; 0 if m is not a member. */
static int member_lonlat(const struct kv *o, const struct slice *m, double *lon, double *lat)
{
    double score;
    if (!zset_member_score(o, m->p, m->len, &score))
        return 0;
    geohash_score_to_lonlat(score, lon, lat);
    return 1;
}

/* ---- reply helpers ---- */

/* A distance: a bulk string with four decimals, in RESP2 and RESP3. */
static void reply_distance(struct client *c, double d)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    reply_bulk(c, buf, (size_t)n);
}

/* A coordinate: "%.17Lf" without trailing zeros, as a bulk string in
 * RESP2 and a double in RESP3. */
static void reply_coord(struct client *c, double v)
{
    char buf[RC_MAX_LONG_DOUBLE_CHARS + 3];
    size_t n = rc_ld2str(buf + 1, RC_MAX_LONG_DOUBLE_CHARS, (long double)v, 1);
    if (c->resp == 2) {
        reply_bulk(c, buf + 1, n);
        return;
    }
    buf[0] = ',';
    buf[n + 1] = '\r';
    buf[n + 2] = '\n';
    reply_raw(c, buf, n + 3);
}

static void reply_position(struct client *c, double lon, double lat)
{
    reply_array_len(c, 2);
    reply_coord(c, lon);
    reply_coord(c, lat);
}

/* ---- GEOADD ---- */

#define SCORE_CHARS 24      /* a 52-bit score in decimal, and a NUL */
#define GEOADD_SMALL 4      /* positions converted without allocating */

void cmd_geoadd(struct client *c)
{
    static const struct slice opt_nx = {"NX", 2}, opt_xx = {"XX", 2}, opt_ch = {"CH", 2};
    int nx = 0, xx = 0, first = 2;
    for (; first < c->argc; first++) {
        const struct slice *a = &c->argv[first];
        if (word_is(a, "nx"))
            nx = 1;
        else if (word_is(a, "xx"))
            xx = 1;
        else if (!word_is(a, "ch"))
            break;
    }
    if ((c->argc - first) % 3 || (nx && xx)) {
        reply_err_syntax(c);
        return;
    }

    /* The equivalent ZADD: the options, then score member pairs. */
    int n = (c->argc - first) / 3;
    int zargc = first + 2 * n;
    /* Room on the stack for the usual few positions. */
    struct slice zargv_small[2 + 3 + 2 * GEOADD_SMALL];
    char scores_small[GEOADD_SMALL * SCORE_CHARS];
    int small = n <= GEOADD_SMALL &&
                (size_t)zargc <= sizeof(zargv_small) / sizeof(zargv_small[0]);
    struct slice *zargv = small ? zargv_small : rc_malloc(sizeof(*zargv) * (size_t)zargc);
    char *scores = small ? scores_small : rc_malloc((size_t)n * SCORE_CHARS);
    zargv[0] = (struct slice){"ZADD", 4};
    zargv[1] = c->argv[1];
    /* The options as words ZADD's stricter parsing takes ("nx\0..." is
     * NX to Redis's strcasecmp). */
    for (int i = 2; i < first; i++) {
        const struct slice *a = &c->argv[i];
        zargv[i] = word_is(a, "nx") ? opt_nx : word_is(a, "xx") ? opt_xx : opt_ch;
    }
    for (int i = 0; i < n; i++) {
        const struct slice *triple = &c->argv[first + 3 * i];
        double lon, lat;
        struct geohash h;
        if (arg_lonlat(c, triple, &lon, &lat) != 0)
            goto done;
        geohash_encode(lon, lat, GEO_STEP_MAX, &h);
        char *text = scores + (size_t)i * SCORE_CHARS;
        size_t len = rc_ull2str(text, SCORE_CHARS, (unsigned long long)geohash_align52(h));
        zargv[first + 2 * i] = (struct slice){text, len};
        zargv[first + 2 * i + 1] = triple[2];
    }
    zset_zadd_argv(c, zargc, zargv);
    propagate_replace(c, zargc, zargv);     /* logged only if it changed something */
done:
    if (!small) {
        rc_free(scores);
        rc_free(zargv);
    }
}

/* ---- GEODIST, GEOHASH, GEOPOS ---- */

void cmd_geodist(struct client *c)
{
    double to_m = 1;
    if (c->argc == 5) {
        if (arg_unit(c, &c->argv[4], &to_m) != 0)
            return;
    } else if (c->argc > 5) {
        reply_err_syntax(c);
        return;
    }
    struct kv *o;
    if (lookup_zset(c, &c->argv[1], &o) != 0)
        return;
    double lon1, lat1, lon2, lat2;
    if (o == NULL || !member_lonlat(o, &c->argv[2], &lon1, &lat1) ||
        !member_lonlat(o, &c->argv[3], &lon2, &lat2)) {
        reply_null(c);
        return;
    }
    reply_distance(c, geo_distance(lon1, lat1, lon2, lat2) / to_m);
}

void cmd_geohash(struct client *c)
{
    struct kv *o;
    if (lookup_zset(c, &c->argv[1], &o) != 0)
        return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double lon, lat;
        char buf[12];
        /* Our cells span latitudes +/-85.05; the standard geohash spans
         * +/-90: decode and encode again. */
        if (o == NULL || !member_lonlat(o, &c->argv[j], &lon, &lat) ||
            geohash_to_string(lon, lat, buf) != 0)
            reply_null(c);
        else
            reply_bulk(c, buf, 11);
    }
}

void cmd_geopos(struct client *c)
{
    struct kv *o;
    if (lookup_zset(c, &c->argv[1], &o) != 0)
        return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double lon, lat;
        if (o == NULL || !member_lonlat(o, &c->argv[j], &lon, &lat))
            reply_null_array(c);
        else
            reply_position(c, lon, lat);
    }
}

/* ---- searching ---- */

struct geo_point {
    size_t moff, mlen;          /* member bytes in the result's arena */
    double dist;                /* metres from the centre, then in units */
    double score;
    double lon, lat;
};

struct geo_result {
    const struct geo_shape *shape;
    size_t limit;               /* stop after this many (COUNT ANY); 0: no limit */
    struct geo_point *v;
    size_t used, cap;
    char *arena;
    size_t alen, acap;
};

static void result_free(struct geo_result *r)
{
    rc_free(r->v);
    rc_free(r->arena);
}

static int collect(void *arg, const char *m, size_t mlen, double score)
{
    struct geo_result *r = arg;
    double lon, lat, dist;
    geohash_score_to_lonlat(score, &lon, &lat);
    if (!geo_shape_contains(r->shape, lon, lat, &dist))
        return 1;
    if (r->used == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = rc_realloc(r->v, sizeof(*r->v) * r->cap);
    }
    if (r->alen + mlen > r->acap) {
        r->acap = r->acap * 2 > r->alen + mlen ? r->acap * 2 : r->alen + mlen + 256;
        r->arena = rc_realloc(r->arena, r->acap);
    }
    if (mlen)
        memcpy(r->arena + r->alen, m, mlen);
    r->v[r->used++] = (struct geo_point){r->alen, mlen, dist, score, lon, lat};
    r->alen += mlen;
    return !(r->limit && r->used >= r->limit);
}

/* Fill r with the members of o inside r->shape, in visiting order. */
static void search(const struct kv *o, struct geo_result *r)
{
    struct geohash cells[GEO_SEARCH_CELLS];
    geo_search_cells(r->shape, cells);
    int last = 0;
    for (int i = 0; i < GEO_SEARCH_CELLS; i++) {
        if (cells[i].step == 0)
            continue;
        /* With very large shapes neighbouring cells can be the same cell:
         * do not visit one twice in a row.  (Like Redis, a neighbour equal
         * to the centre cell is not caught.) */
        if (last && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step)
            continue;
        if (r->used && r->limit && r->used >= r->limit)
            break;
        uint64_t min, max;
        geohash_score_range(cells[i], &min, &max);
        zset_walk_score_range(o, (double)min, (double)max, collect, r);
        last = i;
    }
}

static int by_dist_asc(const void *a, const void *b)
{
    const struct geo_point *x = a, *y = b;
    return x->dist > y->dist ? 1 : x->dist == y->dist ? 0 : -1;
}

static int by_dist_desc(const void *a, const void *b)
{
    return by_dist_asc(b, a);
}

/* ---- partial sort ----
 *
 * When COUNT keeps fewer results than were found, Redis sorts only as far
 * as needed, with the Bentley-McIlroy quicksort ("Engineering a Sort
 * Function", 1993, without the later already-sorted shortcut) that skips
 * partitions wholly outside the wanted range.
 * Members at equal distances may then come out in another order than a
 * full (stable) sort gives, and COUNT may keep a different one of them, so
 * the same algorithm is used here: the same pivots, partitioning and
 * fallback to insertion sort give the same order. */

typedef int cmp_fn(const void *, const void *);

static inline void pt_swap(struct geo_point *a, struct geo_point *b)
{
    struct geo_point t = *a;
    *a = *b;
    *b = t;
}

static void pt_vecswap(struct geo_point *a, struct geo_point *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pt_swap(&a[i], &b[i]);
}

static struct geo_point *med3(struct geo_point *a, struct geo_point *b, struct geo_point *c,
                              cmp_fn *cmp)
{
    if (cmp(a, b) < 0)
        return cmp(b, c) < 0 ? b : (cmp(a, c) < 0 ? c : a);
    return cmp(b, c) > 0 ? b : (cmp(a, c) < 0 ? a : c);
}

static void insertion_sort(struct geo_point *a, size_t n, cmp_fn *cmp)
{
    for (size_t m = 1; m < n; m++)
        for (size_t l = m; l > 0 && cmp(&a[l - 1], &a[l]) > 0; l--)
            pt_swap(&a[l], &a[l - 1]);
}

/* Sort so that positions [lo, hi] of base hold what a full sort would put
 * there (the elements before lo are all <= and those after hi all >=, in
 * no particular order). */
static void partial_sort(struct geo_point *base, struct geo_point *a, size_t n, cmp_fn *cmp,
                         size_t lo, size_t hi)
{
    for (;;) {
        if (n < 7) {
            insertion_sort(a, n, cmp);
            return;
        }
        struct geo_point *pm = a + n / 2;
        if (n > 7) {
            struct geo_point *pl = a, *pn = a + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = med3(pl, pl + d, pl + 2 * d, cmp);
                pm = med3(pm - d, pm, pm + d, cmp);
                pn = med3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(pl, pm, pn, cmp);
        }
        pt_swap(a, pm);
        /* Split-end partitioning: [a, pa) and (pd, end) equal the pivot,
         * [pa, pb) less, (pc, pd] greater. */
        struct geo_point *pa = a + 1, *pb = a + 1;
        struct geo_point *pc = a + n - 1, *pd = a + n - 1;
        int r;
        for (;;) {
            while (pb <= pc && (r = cmp(pb, a)) <= 0) {
                if (r == 0) {
                    pt_swap(pa, pb);
                    pa++;
                }
                pb++;
            }
            while (pb <= pc && (r = cmp(pc, a)) >= 0) {
                if (r == 0) {
                    pt_swap(pc, pd);
                    pd--;
                }
                pc--;
            }
            if (pb > pc)
                break;
            pt_swap(pb, pc);
            pb++;
            pc--;
        }
        struct geo_point *pn = a + n;
        size_t s = (size_t)(pa - a) < (size_t)(pb - pa) ? (size_t)(pa - a) : (size_t)(pb - pa);
        pt_vecswap(a, pb - s, s);
        s = (size_t)(pd - pc) < (size_t)(pn - pd - 1) ? (size_t)(pd - pc) : (size_t)(pn - pd - 1);
        pt_vecswap(pb, pn - s, s);

        /* The smaller-than part is [a, a + nl), the greater part the last
         * ng elements; recurse into the first, loop on the second, each
         * only if it overlaps [lo, hi]. */
        size_t nl = (size_t)(pb - pa), ng = (size_t)(pd - pc);
        if (nl > 1) {
            size_t l = (size_t)(a - base), rr = l + nl - 1;
            if (!(hi < l || lo > rr))
                partial_sort(base, a, nl, cmp, lo, hi);
        }
        if (ng <= 1)
            return;
        a = pn - ng;
        n = ng;
        size_t l = (size_t)(a - base), rr = l + ng - 1;
        if (hi < l || lo > rr)
            return;
    }
}

enum { SORT_NONE, SORT_ASC, SORT_DESC };

/* Which command is being run, Redis's georadiusGeneric flags. */
enum {
    GF_RADIUS_COORDS = 1,       /* GEORADIUS[_RO]: centre from lon lat */
    GF_RADIUS_MEMBER = 2,       /* GEORADIUSBYMEMBER[_RO]: centre from a member */
    GF_NOSTORE = 4,             /* the _RO forms */
    GF_SEARCH = 8,              /* GEOSEARCH[STORE] */
    GF_SEARCHSTORE = 16,
};

/* Store the first n results of r at key as a sorted set (scores: the
 * geohash, or the distance in units when storedist), replacing it; an
 * empty result deletes key. */
/* An empty result (or a missing source) deletes the destination. */
static void store_empty(struct client *c, const struct slice *key)
{
    if (db_delete(c->db, key->p, key->len, server.lazyfree_lazy_server_del)) {
        server.stat_dirty++;
        notify_event(NOTIFY_GENERIC, "del", c->db, key->p, key->len);
    }
    reply_long(c, 0);
}

static void store_results(struct client *c, const struct slice *key, struct geo_result *r,
                          size_t n, int storedist, const char *event)
{
    if (n == 0) {
        store_empty(c, key);
        return;
    }
    struct kv *dst = zset_new_skiplist_entry(key->p, key->len);
    size_t maxlen = 0, totlen = 0;
    for (size_t i = 0; i < n; i++) {
        const struct geo_point *p = &r->v[i];
        zset_skiplist_add(dst, r->arena + p->moff, p->mlen, storedist ? p->dist : p->score);
        if (p->mlen > maxlen)
            maxlen = p->mlen;
        totlen += p->mlen;
    }
    zset_loaded(dst, maxlen, totlen);
    db_overwrite(c->db, dst);
    server.stat_dirty += (long long)n;
    notify_event(NOTIFY_ZSET, event, c->db, key->p, key->len);
    reply_long(c, (long long)n);
}

static void reply_results(struct client *c, const struct geo_result *r, size_t n, int withdist,
                          int withhash, int withcoord)
{
    int extra = withdist + withhash + withcoord;
    reply_array_len(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        const struct geo_point *p = &r->v[i];
        if (extra)
            reply_array_len(c, extra + 1);
        reply_bulk(c, r->arena + p->moff, p->mlen);
        if (withdist)
            reply_distance(c, p->dist);
        if (withhash)
            reply_long(c, (long long)p->score);
        if (withcoord)
            reply_position(c, p->lon, p->lat);
    }
}

/*
 * GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH and GEOSEARCHSTORE and the _RO
 * forms.  srcidx is the argv position of the source key; flags GF_*.
 */
static void georadius_generic(struct client *c, int srcidx, int flags)
{
    const struct slice *storekey = NULL;
    int storedist = 0;
    struct kv *o;
    struct geo_shape shape = {0};
    int base;

    if (lookup_zset(c, &c->argv[srcidx], &o) != 0)
        return;

    if (flags & GF_RADIUS_COORDS) {
        base = 6;
        if (arg_lonlat(c, &c->argv[2], &shape.lon, &shape.lat) != 0 ||
            arg_radius(c, &c->argv[base - 2], &shape) != 0)
            return;
    } else if (flags & GF_RADIUS_MEMBER) {
        base = 5;
        /* Without a source key the options are still parsed, for the
         * right reply. */
        if (o != NULL) {
            if (!member_lonlat(o, &c->argv[2], &shape.lon, &shape.lat)) {
                reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            if (arg_radius(c, &c->argv[base - 2], &shape) != 0)
                return;
        }
    } else {
        base = 2;
        if (flags & GF_SEARCHSTORE) {
            base = 3;
            storekey = &c->argv[1];
        }
    }

    int withdist = 0, withhash = 0, withcoord = 0;
    int frommember = 0, fromlonlat = 0, byradius = 0, bybox = 0;
    int sort = SORT_NONE, any = 0;
    long long count = 0;
    int left = c->argc - base;
    for (int i = 0; i < left; i++) {
        const struct slice *a = &c->argv[base + i];
        const struct slice *next = &c->argv[base + i + 1];
        if (word_is(a, "withdist")) {
            withdist = 1;
        } else if (word_is(a, "withhash")) {
            withhash = 1;
        } else if (word_is(a, "withcoord")) {
            withcoord = 1;
        } else if (word_is(a, "any")) {
            any = 1;
        } else if (word_is(a, "asc")) {
            sort = SORT_ASC;
        } else if (word_is(a, "desc")) {
            sort = SORT_DESC;
        } else if (word_is(a, "count") && i + 1 < left) {
            if (!rc_str2ll(next->p, next->len, &count)) {
                reply_err_not_int(c);
                return;
            }
            if (count <= 0) {
                reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            i++;
        } else if ((word_is(a, "store") || word_is(a, "storedist")) && i + 1 < left &&
                   !(flags & (GF_NOSTORE | GF_SEARCH))) {
            storekey = next;
            storedist = word_is(a, "storedist");
            i++;
        } else if (word_is(a, "storedist") && (flags & GF_SEARCHSTORE)) {
            storedist = 1;
        } else if (word_is(a, "frommember") && i + 1 < left && (flags & GF_SEARCH) &&
                   !fromlonlat) {
            if (o != NULL && !member_lonlat(o, next, &shape.lon, &shape.lat)) {
                reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            frommember = 1;
            i++;
        } else if (word_is(a, "fromlonlat") && i + 2 < left && (flags & GF_SEARCH) &&
                   !frommember) {
            if (arg_lonlat(c, next, &shape.lon, &shape.lat) != 0)
                return;
            fromlonlat = 1;
            i += 2;
        } else if (word_is(a, "byradius") && i + 2 < left && (flags & GF_SEARCH) && !bybox) {
            if (arg_radius(c, next, &shape) != 0)
                return;
            byradius = 1;
            i += 2;
        } else if (word_is(a, "bybox") && i + 3 < left && (flags & GF_SEARCH) && !byradius) {
            if (arg_box(c, next, &shape) != 0)
                return;
            bybox = 1;
            i += 3;
        } else {
            reply_err_syntax(c);
            return;
        }
    }

    if (storekey && (withdist || withhash || withcoord)) {
        reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & GF_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & GF_SEARCH) && !(frommember || fromlonlat)) {
        reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if ((flags & GF_SEARCH) && !(byradius || bybox)) {
        reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if (any && !count) {
        reply_error(c, "ERR the ANY argument requires COUNT argument");
        return;
    }

    if (o == NULL) {
        if (storekey) {
            store_empty(c, storekey);
        } else {
            reply_empty_array(c);
        }
        return;
    }

    /* COUNT means the nearest ones, unless ANY says any will do. */
    if (count && sort == SORT_NONE && !any)
        sort = SORT_ASC;

    struct geo_result r = {.shape = &shape, .limit = any ? (size_t)count : 0};
    search(o, &r);
    if (r.used == 0 && storekey == NULL) {
        reply_empty_array(c);
        result_free(&r);
        return;
    }
    size_t n = count == 0 || r.used < (unsigned long long)count ? r.used : (size_t)count;
    if (sort != SORT_NONE && r.used > 1) {
        cmp_fn *cmp = sort == SORT_ASC ? by_dist_asc : by_dist_desc;
        if (n == r.used)
            qsort(r.v, r.used, sizeof(*r.v), cmp);
        else
            partial_sort(r.v, r.v, r.used, cmp, 0, n - 1);
    }
    for (size_t i = 0; i < n; i++)
        r.v[i].dist /= shape.to_m;
    if (storekey)
        store_results(c, storekey, &r, n, storedist,
                      (flags & GF_SEARCHSTORE) ? "geosearchstore" : "georadiusstore");
    else
        reply_results(c, &r, n, withdist, withhash, withcoord);
    result_free(&r);
}

void cmd_georadius(struct client *c)
{
    georadius_generic(c, 1, GF_RADIUS_COORDS);
}

void cmd_georadius_ro(struct client *c)
{
    georadius_generic(c, 1, GF_RADIUS_COORDS | GF_NOSTORE);
}

void cmd_georadiusbymember(struct client *c)
{
    georadius_generic(c, 1, GF_RADIUS_MEMBER);
}

void cmd_georadiusbymember_ro(struct client *c)
{
    georadius_generic(c, 1, GF_RADIUS_MEMBER | GF_NOSTORE);
}

void cmd_geosearch(struct client *c)
{
    georadius_generic(c, 1, GF_SEARCH);
}

void cmd_geosearchstore(struct client *c)
{
    georadius_generic(c, 2, GF_SEARCH | GF_SEARCHSTORE);
}
