/*
 * geohash.c — geohash cells, distances and search areas (see geohash.h for
 * the encoding).
 *
 * Everything here is arithmetic on doubles whose results end up on the
 * wire (coordinates with 17 decimals, distances with 4), so expressions
 * are written in the order that gives redis-server 7.0's bits: an offset
 * is (ilat * 1.0 / 2^step) * scale, not ilat * (scale / 2^step), and so
 * on.  Do not "simplify" them.
 */
#include "geohash.h"

#include <math.h>
#include <stddef.h>

#define DEG_TO_RAD (M_PI / 180.0)

static inline double deg_rad(double d)
{
    return d * DEG_TO_RAD;
}

static inline double rad_deg(double r)
{
    return r / DEG_TO_RAD;
}

/* ---- bit interleaving ---- */

/* Spread the 32 bits of v to the even positions of a 64-bit word. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* Gather the even bits of x into 32 bits (the inverse of spread). */
static uint32_t gather(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static inline uint64_t interleave(uint32_t lat, uint32_t lon)
{
    return spread(lat) | (spread(lon) << 1);
}

/* ---- cells ---- */

int geo_lonlat_valid(double lon, double lat)
{
    return lon >= GEO_LONG_MIN && lon <= GEO_LONG_MAX && lat >= GEO_LAT_MIN &&
           lat <= GEO_LAT_MAX;
}

int geohash_encode_range(double lon, double lat, int step, double lon_min, double lon_max,
                         double lat_min, double lat_max, struct geohash *h)
{
    if (step < 1 || step > 32 || !geo_lonlat_valid(lon, lat))
        return -1;
    if (lat < lat_min || lat > lat_max || lon < lon_min || lon > lon_max)
        return -1;
    double lat_off = (lat - lat_min) / (lat_max - lat_min);
    double lon_off = (lon - lon_min) / (lon_max - lon_min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    /* The offsets are in [0, 2^step]; 2^32 only at step 32 on an upper
     * edge, which no caller asks for. */
    h->bits = interleave((uint32_t)lat_off, (uint32_t)lon_off);
    h->step = step;
    return 0;
}

int geohash_encode(double lon, double lat, int step, struct geohash *h)
{
    return geohash_encode_range(lon, lat, step, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN,
                                GEO_LAT_MAX, h);
}

void geohash_decode(struct geohash h, struct geo_area *a)
{
    uint32_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    double cells = (double)(1ULL << h.step);
    double lat_scale = GEO_LAT_MAX - GEO_LAT_MIN, lon_scale = GEO_LONG_MAX - GEO_LONG_MIN;
    /* ilat + 1 is 32-bit arithmetic, wrapping as Redis's does. */
    a->lat_min = GEO_LAT_MIN + (ilat * 1.0 / cells) * lat_scale;
    a->lat_max = GEO_LAT_MIN + ((uint32_t)(ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon_min = GEO_LONG_MIN + (ilon * 1.0 / cells) * lon_scale;
    a->lon_max = GEO_LONG_MIN + ((uint32_t)(ilon + 1) * 1.0 / cells) * lon_scale;
}

uint64_t geohash_align52(struct geohash h)
{
    return h.bits << (52 - 2 * h.step);
}

void geohash_score_range(struct geohash h, uint64_t *min, uint64_t *max)
{
    *min = geohash_align52(h);
    h.bits++;
    *max = geohash_align52(h);
}

/* Signed truncation as x86-64's cvttsd2si: out of range or NaN gives the
 * "integer indefinite" value 2^63. */
static uint64_t cvt_signed(double x)
{
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return 0x8000000000000000ULL;
    return (uint64_t)(int64_t)x;
}

uint64_t geo_score_bits(double score)
{
    if (score < 9223372036854775808.0)
        return cvt_signed(score);
    return cvt_signed(score - 9223372036854775808.0) ^ 0x8000000000000000ULL;
}

static void area_center(const struct geo_area *a, double *lon, double *lat)
{
    double x = (a->lon_min + a->lon_max) / 2;
    double y = (a->lat_min + a->lat_max) / 2;
    if (x > GEO_LONG_MAX)
        x = GEO_LONG_MAX;
    if (x < GEO_LONG_MIN)
        x = GEO_LONG_MIN;
    if (y > GEO_LAT_MAX)
        y = GEO_LAT_MAX;
    if (y < GEO_LAT_MIN)
        y = GEO_LAT_MIN;
    *lon = x;
    *lat = y;
}

void geohash_score_to_lonlat(double score, double *lon, double *lat)
{
    struct geohash h = {geo_score_bits(score), GEO_STEP_MAX};
    struct geo_area a;
    geohash_decode(h, &a);
    area_center(&a, lon, lat);
}

int geohash_to_string(double lon, double lat, char out[12])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    struct geohash h;
    if (geohash_encode_range(lon, lat, GEO_STEP_MAX, -180, 180, -90, 90, &h) != 0)
        return -1;
    /* 52 bits make ten 5-bit characters and two bits over; the 11th
     * character, which the classic 55-bit form has, is always '0'. */
    for (int i = 0; i < 10; i++)
        out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = '0';
    out[11] = '\0';
    return 0;
}

/* The cell d steps away along one axis, wrapping around modulo 2^step on
 * that axis (east of the last column is the first one).  Bits of the
 * other axis are kept as they are, including an offset of 2^step from a
 * position on the upper edge; the moved axis is reduced modulo 2^step. */
static struct geohash move(struct geohash h, int dlon, int dlat)
{
    uint64_t mask = (1ULL << h.step) - 1;
    uint64_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    if (dlon)
        ilon = (ilon + (uint64_t)(int64_t)dlon) & mask;
    if (dlat)
        ilat = (ilat + (uint64_t)(int64_t)dlat) & mask;
    h.bits = interleave((uint32_t)ilat, (uint32_t)ilon);
    return h;
}

void geohash_neighbors(struct geohash h, struct geohash out[GEO_NNEIGHBORS])
{
    out[GEO_N] = move(h, 0, 1);
    out[GEO_S] = move(h, 0, -1);
    out[GEO_E] = move(h, 1, 0);
    out[GEO_W] = move(h, -1, 0);
    out[GEO_NE] = move(h, 1, 1);
    out[GEO_NW] = move(h, -1, 1);
    out[GEO_SE] = move(h, 1, -1);
    out[GEO_SW] = move(h, -1, -1);
}

/* ---- distances ---- */

double geo_lat_distance(double lat1, double lat2)
{
    /* On a meridian the haversine reduces to the arc: asin(sin(x)) = x for
     * x in [-pi/2, pi/2], which every latitude difference / 2 is. */
    return GEO_EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double v = sin((deg_rad(lon2) - deg_rad(lon1)) / 2);
    if (v == 0.0)
        return geo_lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

int geo_shape_contains(const struct geo_shape *s, double lon, double lat, double *dist)
{
    if (s->type == GEO_CIRCLE) {
        double r_m = s->radius * s->to_m;
        /* Most candidates of the 3x3 cells lie above or below the circle:
         * reject them without trigonometry.  A great-circle distance is at
         * least the distance between the two latitudes along a meridian;
         * the margin (far above the rounding of either formula) keeps the
         * test from rejecting a point the haversine would accept, so the
         * results are those of the haversine alone. */
        if (geo_lat_distance(lat, s->lat) > r_m * (1 + 1e-9) + 1e-6)
            return 0;
        double d = geo_distance(s->lon, s->lat, lon, lat);
        if (d > r_m)
            return 0;
        *dist = d;
        return 1;
    }
    double width_m = s->width * s->to_m, height_m = s->height * s->to_m;
    /* The cheaper meridian test first. */
    if (geo_lat_distance(lat, s->lat) > height_m / 2)
        return 0;
    if (geo_distance(lon, lat, s->lon, lat) > width_m / 2)
        return 0;
    *dist = geo_distance(s->lon, s->lat, lon, lat);
    return 1;
}

/* ---- search areas ---- */

/* Half the circumference along the equator of the Mercator plane. */
#define MERCATOR_MAX 20037726.37

int geo_estimate_step(double range_m, double lat)
{
    if (range_m == 0)
        return GEO_STEP_MAX;
    int step = 1;
    /* Bounded: range_m doubles each time (a positive finite value reaches
     * the limit in at most ~1100 doublings). */
    while (range_m < MERCATOR_MAX) {
        range_m *= 2;
        step++;
    }
    step -= 2;      /* so that the shape fits in the 3x3 cells in most cases */
    /* Meridians converge towards the poles: cells get narrower there. */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    if (step < 1)
        step = 1;
    if (step > GEO_STEP_MAX)
        step = GEO_STEP_MAX;
    return step;
}

/* The shape's bounding box in degrees: bounds = {lon_min, lat_min,
 * lon_max, lat_max}.  The longitude extent is taken at the box's edge
 * nearer the pole (wider), which is the top in the northern hemisphere
 * and the bottom in the southern one. */
static void bounding_box(const struct geo_shape *s, double bounds[4])
{
    double half_h, half_w;
    if (s->type == GEO_CIRCLE) {
        half_h = half_w = s->to_m * s->radius;
    } else {
        half_h = s->to_m * (s->height / 2);
        half_w = s->to_m * (s->width / 2);
    }
    double lat_delta = rad_deg(half_h / GEO_EARTH_RADIUS_M);
    double lon_delta_top = rad_deg(half_w / GEO_EARTH_RADIUS_M / cos(deg_rad(s->lat + lat_delta)));
    double lon_delta_bottom =
        rad_deg(half_w / GEO_EARTH_RADIUS_M / cos(deg_rad(s->lat - lat_delta)));
    double lon_delta = s->lat < 0 ? lon_delta_bottom : lon_delta_top;
    bounds[0] = s->lon - lon_delta;
    bounds[2] = s->lon + lon_delta;
    bounds[1] = s->lat - lat_delta;
    bounds[3] = s->lat + lat_delta;
}

void geo_search_cells(const struct geo_shape *s, struct geohash out[GEO_SEARCH_CELLS])
{
    double b[4];
    bounding_box(s, b);
    double min_lon = b[0], min_lat = b[1], max_lon = b[2], max_lat = b[3];

    /* The radius of the circle around the shape, in metres. */
    double r_m;
    if (s->type == GEO_CIRCLE)
        r_m = s->radius;
    else
        r_m = sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    r_m *= s->to_m;

    int step = geo_estimate_step(r_m, s->lat);
    struct geohash center, nb[GEO_NNEIGHBORS];
    struct geo_area area;
    /* The centre was validated when the shape was made. */
    geohash_encode(s->lon, s->lat, step, &center);
    geohash_neighbors(center, nb);

    /* Near the edge of its cell the centre's neighbours may not reach the
     * whole bounding box at this step: use cells twice as big. */
    struct geo_area n, so, e, w;
    geohash_decode(nb[GEO_N], &n);
    geohash_decode(nb[GEO_S], &so);
    geohash_decode(nb[GEO_E], &e);
    geohash_decode(nb[GEO_W], &w);
    int coarser = n.lat_max < max_lat || so.lat_min > min_lat || e.lon_max < max_lon ||
                  w.lon_min > min_lon;
    if (step > 1 && coarser) {
        step--;
        geohash_encode(s->lon, s->lat, step, &center);
        geohash_neighbors(center, nb);
    }
    geohash_decode(center, &area);

    /* Drop the neighbours on a side where the centre cell already reaches
     * past the bounding box. */
    if (step >= 2) {
        static const struct geohash none = {0, 0};
        if (area.lat_min < min_lat)
            nb[GEO_S] = nb[GEO_SW] = nb[GEO_SE] = none;
        if (area.lat_max > max_lat)
            nb[GEO_N] = nb[GEO_NE] = nb[GEO_NW] = none;
        if (area.lon_min < min_lon)
            nb[GEO_W] = nb[GEO_SW] = nb[GEO_NW] = none;
        if (area.lon_max > max_lon)
            nb[GEO_E] = nb[GEO_SE] = nb[GEO_NE] = none;
    }
    out[0] = center;
    for (int i = 0; i < GEO_NNEIGHBORS; i++)
        out[i + 1] = nb[i];
}
