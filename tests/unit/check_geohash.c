/*
 * check_geohash.c — unit tests for geohash.c: cell encoding at the edges
 * of the ranges, decoding of any score (including ones no GEOADD makes),
 * the standard geohash strings, neighbours and their wrap-around,
 * distances, shapes, the search step estimate, and that the cells a
 * search visits cover its shape.
 *
 * Expected scores, coordinates (printed as GEOPOS prints them), strings
 * and distances were taken from redis-server 7.0.15 (GEOADD + ZSCORE,
 * GEOPOS, GEOHASH, GEODIST of the same positions), so these tests pin
 * byte compatibility.
 */
#include "geohash.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "util.h"

static uint64_t score_of(double lon, double lat)
{
    struct geohash h;
    ck_assert_int_eq(geohash_encode(lon, lat, GEO_STEP_MAX, &h), 0);
    return geohash_align52(h);
}

/* GEOPOS's text for a coordinate. */
static const char *coord_text(double v, char buf[RC_MAX_LONG_DOUBLE_CHARS])
{
    rc_ld2str(buf, RC_MAX_LONG_DOUBLE_CHARS, (long double)v, 1);
    return buf;
}

static void check_pos(double score, const char *lon, const char *lat)
{
    static char a[RC_MAX_LONG_DOUBLE_CHARS], b[RC_MAX_LONG_DOUBLE_CHARS];
    double x, y;
    geohash_score_to_lonlat(score, &x, &y);
    ck_assert_str_eq(coord_text(x, a), lon);
    ck_assert_str_eq(coord_text(y, b), lat);
}

static void check_dist(double lon1, double lat1, double lon2, double lat2, double unit,
                       const char *want)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.4f", geo_distance(lon1, lat1, lon2, lat2) / unit);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_encode_known)
{
    ck_assert_uint_eq(score_of(13.361389, 38.115556), 3479099956230698ULL);
    ck_assert_uint_eq(score_of(15.087269, 37.502669), 3479447370796909ULL);
    ck_assert_uint_eq(score_of(-179.9999, 0), 1125899906843144ULL);
    ck_assert_uint_eq(score_of(179.9999, 0), 4128299658422434ULL);
    ck_assert_uint_eq(score_of(0, -85.05112878), 2251799813685248ULL);
    ck_assert_uint_eq(score_of(0, 0), 3377699720527872ULL);
    ck_assert_uint_eq(score_of(-180, -85.05112878), 0);
    /* The upper edges are one past the last cell: bit 52 or 53. */
    ck_assert_uint_eq(score_of(180, 0), 10133099161583616ULL);
    ck_assert_uint_eq(score_of(0, 85.05112878), 6755399441055744ULL);
}
END_TEST

START_TEST(test_encode_rejects)
{
    struct geohash h;
    ck_assert_int_eq(geohash_encode(180.0000001, 0, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(-181, 0, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(0, 85.06, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(0, -85.0511288, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(NAN, 0, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(0, INFINITY, 26, &h), -1);
    ck_assert_int_eq(geohash_encode(0, 0, 0, &h), -1);
    ck_assert_int_eq(geohash_encode(0, 0, 33, &h), -1);
    ck_assert(geo_lonlat_valid(-180, -85.05112878));
    ck_assert(geo_lonlat_valid(180, 85.05112878));
    ck_assert(!geo_lonlat_valid(0, 90));
}
END_TEST

START_TEST(test_decode_known)
{
    check_pos(3479099956230698.0, "13.36138933897018433", "38.11555639549629859");
    check_pos(3479447370796909.0, "15.08726745843887329", "37.50266842333162032");
    check_pos(10133099161583616.0, "180", "0.00000126736058093");
    check_pos(6755399441055744.0, "0.00000268220901489", "85.0511287799999991");
    check_pos(0, "-179.99999731779098511", "-85.05112751263942528");
}
END_TEST

START_TEST(test_decode_any_score)
{
    /* Scores no GEOADD makes decode as Redis's double -> uint64_t
     * conversion on x86-64 makes them, then clamp. */
    ck_assert_uint_eq(geo_score_bits(-5), 0xFFFFFFFFFFFFFFFBULL);
    ck_assert_uint_eq(geo_score_bits(1e300), 0);
    ck_assert_uint_eq(geo_score_bits(INFINITY), 0);
    ck_assert_uint_eq(geo_score_bits(-INFINITY), 0x8000000000000000ULL);
    ck_assert_uint_eq(geo_score_bits(-1e300), 0x8000000000000000ULL);
    ck_assert_uint_eq(geo_score_bits(9223372036854775808.0), 0x8000000000000000ULL);
    ck_assert_uint_eq(geo_score_bits(3.5), 3);
    check_pos(-5, "180", "85.0511287799999991");
    check_pos(1e300, "-179.99999731779098511", "-85.05112751263942528");
    check_pos(INFINITY, "-179.99999731779098511", "-85.05112751263942528");
    check_pos(-INFINITY, "180", "-85.05112751263942528");
    check_pos(9.3e18, "180", "85.0511287799999991");
    check_pos(4503599627370496.0, "-179.99999731779098511", "85.0511287799999991");
}
END_TEST

START_TEST(test_strings)
{
    static const struct {
        double score;
        const char *want;
    } cases[] = {
        {3479099956230698.0, "sqc8b49rny0"}, {3479447370796909.0, "sqdtr74hyu0"},
        {1125899906843144.0, "80000000420"}, {4128299658422434.0, "xbpbpbpbj80"},
        {2251799813685248.0, "h0bh0hbj200"}, {3377699720527872.0, "s0000000000"},
        {0, "00bh0hbj200"},                  {-5, "bp05b5048p0"},
        {INFINITY, "00bh0hbj200"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double lon, lat;
        char buf[12];
        geohash_score_to_lonlat(cases[i].score, &lon, &lat);
        ck_assert_int_eq(geohash_to_string(lon, lat, buf), 0);
        ck_assert_str_eq(buf, cases[i].want);
    }
}
END_TEST

START_TEST(test_distance)
{
    /* GEODIST measures between the stored (decoded) positions. */
    double p1, pl1, p2, pl2;
    geohash_score_to_lonlat(3479099956230698.0, &p1, &pl1);
    geohash_score_to_lonlat(3479447370796909.0, &p2, &pl2);
    check_dist(p1, pl1, p2, pl2, 1, "166274.1516");
    check_dist(p1, pl1, p2, pl2, 1000, "166.2742");
    /* Across the antimeridian: the short way round. */
    double w, wl, e, el;
    geohash_score_to_lonlat(1125899906843144.0, &w, &wl);
    geohash_score_to_lonlat(4128299658422434.0, &e, &el);
    check_dist(w, wl, e, el, 1, "22.0766");
    /* Same meridian: the arc along it. */
    ck_assert(fabs(geo_distance(10, 0, 10, 1) - GEO_EARTH_RADIUS_M * M_PI / 180) < 1e-6);
    ck_assert(geo_distance(10, 20, 10, 20) == 0);
    ck_assert(fabs(geo_lat_distance(-10, 10) - GEO_EARTH_RADIUS_M * M_PI / 9) < 1e-6);
    /* Symmetric. */
    ck_assert(geo_distance(1, 2, 3, 4) == geo_distance(3, 4, 1, 2));
}
END_TEST

START_TEST(test_neighbors)
{
    struct geohash h, nb[GEO_NNEIGHBORS];
    struct geo_area a, b;
    ck_assert_int_eq(geohash_encode(10, 10, 8, &h), 0);
    geohash_neighbors(h, nb);
    geohash_decode(h, &a);
    geohash_decode(nb[GEO_N], &b);
    ck_assert(b.lat_min == a.lat_max && b.lon_min == a.lon_min);
    geohash_decode(nb[GEO_S], &b);
    ck_assert(b.lat_max == a.lat_min && b.lon_min == a.lon_min);
    geohash_decode(nb[GEO_E], &b);
    ck_assert(b.lon_min == a.lon_max && b.lat_min == a.lat_min);
    geohash_decode(nb[GEO_W], &b);
    ck_assert(b.lon_max == a.lon_min && b.lat_min == a.lat_min);
    geohash_decode(nb[GEO_NE], &b);
    ck_assert(b.lon_min == a.lon_max && b.lat_min == a.lat_max);
    geohash_decode(nb[GEO_SW], &b);
    ck_assert(b.lon_max == a.lon_min && b.lat_max == a.lat_min);
    for (int i = 0; i < GEO_NNEIGHBORS; i++)
        ck_assert_int_eq(nb[i].step, 8);

    /* Moving back returns to the cell. */
    struct geohash back[GEO_NNEIGHBORS];
    geohash_neighbors(nb[GEO_N], back);
    ck_assert_uint_eq(back[GEO_S].bits, h.bits);
    geohash_neighbors(nb[GEO_NE], back);
    ck_assert_uint_eq(back[GEO_SW].bits, h.bits);

    /* East of the last column is the first column (the antimeridian). */
    ck_assert_int_eq(geohash_encode(179.99, 0, 8, &h), 0);
    geohash_neighbors(h, nb);
    geohash_decode(nb[GEO_E], &b);
    ck_assert(b.lon_min == -180);
    ck_assert_int_eq(geohash_encode(-179.99, 0, 8, &h), 0);
    geohash_neighbors(h, nb);
    geohash_decode(nb[GEO_W], &b);
    ck_assert(b.lon_max == 180);
    /* North of the top row wraps to the bottom row. */
    ck_assert_int_eq(geohash_encode(0, 85, 8, &h), 0);
    geohash_neighbors(h, nb);
    geohash_decode(nb[GEO_N], &b);
    ck_assert(b.lat_min == GEO_LAT_MIN);
}
END_TEST

START_TEST(test_score_range)
{
    struct geohash h;
    uint64_t min, max;
    ck_assert_int_eq(geohash_encode(13.361389, 38.115556, 10, &h), 0);
    geohash_score_range(h, &min, &max);
    ck_assert_uint_eq(max - min, 1ULL << 32);
    uint64_t s = score_of(13.361389, 38.115556);
    ck_assert(s >= min && s < max);
    ck_assert_uint_eq(min >> 32, h.bits);
}
END_TEST

START_TEST(test_estimate_step)
{
    ck_assert_int_eq(geo_estimate_step(0, 0), 26);
    ck_assert_int_eq(geo_estimate_step(1, 0), 24);
    ck_assert_int_eq(geo_estimate_step(1e9, 0), 1);
    ck_assert_int_eq(geo_estimate_step(1000, 0), 14);
    ck_assert_int_eq(geo_estimate_step(1000, 70), 13);
    ck_assert_int_eq(geo_estimate_step(1000, -81), 12);
    ck_assert_int_eq(geo_estimate_step(1e-30, 0), 26);
}
END_TEST

START_TEST(test_shapes)
{
    struct geo_shape c = {.type = GEO_CIRCLE, .lon = 15, .lat = 37, .radius = 100, .to_m = 1000};
    double d;
    ck_assert(geo_shape_contains(&c, 15.087269, 37.502669, &d));
    ck_assert(fabs(d - geo_distance(15, 37, 15.087269, 37.502669)) == 0);
    ck_assert(!geo_shape_contains(&c, 13.361389, 38.115556, &d));
    c.radius = 0;
    ck_assert(geo_shape_contains(&c, 15, 37, &d));
    ck_assert(d == 0);

    /* A 400 km x 100 km box: 190 km east is in, 60 km north is not. */
    struct geo_shape b = {.type = GEO_BOX, .lon = 15, .lat = 37, .width = 400, .height = 100,
                          .to_m = 1000};
    double east = 15 + 190000 / (GEO_EARTH_RADIUS_M * cos(37 * M_PI / 180)) * 180 / M_PI;
    double north = 37 + 60000 / GEO_EARTH_RADIUS_M * 180 / M_PI;
    ck_assert(geo_shape_contains(&b, east, 37, &d));
    ck_assert(!geo_shape_contains(&b, 15, north, &d));
    ck_assert(geo_shape_contains(&b, 15, 37.4, &d));
}
END_TEST

/* A uniform double in [0, 1). */
static double unit_rand(void)
{
    return (double)(rc_random_u64() >> 11) / 9007199254740992.0;
}

/* The circle test equals the bare haversine comparison, its cheap
 * latitude rejection notwithstanding, also for points on the boundary. */
START_TEST(test_circle_prefilter_exact)
{
    rc_random_seed(99);
    int inside = 0, outside = 0;
    for (int i = 0; i < 200000; i++) {
        struct geo_shape s = {.type = GEO_CIRCLE, .to_m = 1};
        s.lon = unit_rand() * 360 - 180;
        s.lat = unit_rand() * 170 - 85;
        /* A third of them almost on the centre's meridian, where the
         * distance is nearly the latitude distance the rejection uses. */
        double dlon = (unit_rand() * 2 - 1) * (i % 3 == 0 ? 1e-9 : 0.5);
        double lon = s.lon + dlon;
        double lat = s.lat + (unit_rand() * 2 - 1) * 0.5;
        double exact = geo_distance(s.lon, s.lat, lon, lat);
        /* Radii at, just below and just above the exact distance. */
        static const double scale[] = {1, 1 - 1e-15, 1 + 1e-15, 0.5, 2};
        s.radius = exact * scale[i % 5];
        double d;
        int got = geo_shape_contains(&s, lon, lat, &d);
        ck_assert_int_eq(got, exact <= s.radius);
        if (got)
            inside++;
        else
            outside++;
    }
    ck_assert_int_gt(inside, 1000);
    ck_assert_int_gt(outside, 1000);
}
END_TEST

/* Every position inside a shape has its score inside one of the cells the
 * search visits (the search would otherwise miss it). */
START_TEST(test_cells_cover_shape)
{
    rc_random_seed(12);
    int checked = 0;
    for (int iter = 0; iter < 3000; iter++) {
        struct geo_shape s = {0};
        s.lon = unit_rand() * 340 - 170;
        s.lat = unit_rand() * 120 - 60;
        s.to_m = 1;
        double size = pow(10, 1 + unit_rand() * 5);    /* 10 m .. 1000 km */
        if (iter % 2) {
            s.type = GEO_CIRCLE;
            s.radius = size;
        } else {
            s.type = GEO_BOX;
            s.width = size * (0.2 + unit_rand() * 2);
            s.height = size * (0.2 + unit_rand() * 2);
        }
        struct geohash cells[GEO_SEARCH_CELLS];
        geo_search_cells(&s, cells);
        ck_assert_int_ne(cells[0].step, 0);
        for (int p = 0; p < 40; p++) {
            /* A random position near the shape, by offsets in metres. */
            double dx = (unit_rand() * 2 - 1) * size;
            double dy = (unit_rand() * 2 - 1) * size;
            double lat = s.lat + dy / GEO_EARTH_RADIUS_M * 180 / M_PI;
            double lon = s.lon + dx / (GEO_EARTH_RADIUS_M * cos(lat * M_PI / 180)) * 180 / M_PI;
            if (!geo_lonlat_valid(lon, lat))
                continue;
            uint64_t score = score_of(lon, lat);
            double x, y, d;
            geohash_score_to_lonlat((double)score, &x, &y);
            if (!geo_shape_contains(&s, x, y, &d))
                continue;
            int found = 0;
            for (int i = 0; i < GEO_SEARCH_CELLS && !found; i++) {
                uint64_t min, max;
                if (cells[i].step == 0)
                    continue;
                geohash_score_range(cells[i], &min, &max);
                found = score >= min && score < max;
            }
            ck_assert_msg(found, "(%f,%f) in shape at (%f,%f) size %f missed", lon, lat, s.lon,
                          s.lat, size);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 10000);
}
END_TEST

static Suite *geohash_suite(void)
{
    Suite *s = suite_create("geohash");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_encode_known);
    tcase_add_test(tc, test_encode_rejects);
    tcase_add_test(tc, test_decode_known);
    tcase_add_test(tc, test_decode_any_score);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_distance);
    tcase_add_test(tc, test_neighbors);
    tcase_add_test(tc, test_score_range);
    tcase_add_test(tc, test_estimate_step);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_circle_prefilter_exact);
    tcase_add_test(tc, test_cells_cover_shape);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed;
    SRunner *sr = srunner_create(geohash_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
