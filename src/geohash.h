/*
 * geohash.h — geohash cells, distances and search areas for the GEO
 * commands (t_geo.c).  A leaf library: no server state, no I/O.
 *
 * A position is stored as the score of a sorted-set member: a 52-bit
 * geohash, 26 bits of latitude and 26 of longitude interleaved, latitude
 * in the even bit positions and longitude in the odd ones (bit 0 is the
 * lowest latitude bit).  The latitude range is the one of Web Mercator,
 * +/-85.05112878 degrees, not +/-90, so that the cells are squares on a
 * Mercator map; the longitude range is +/-180.  The cell of a position at
 * precision `step` (1..26 bits per axis) is the position's offset into each
 * range scaled by 2^step and truncated; a cell at a coarser step is the
 * range of finer cells sharing its high bits, i.e. the 52-bit scores in
 * [bits << (52 - 2*step), (bits + 1) << (52 - 2*step)).
 *
 * Distances are great-circle distances on a sphere of radius
 * GEO_EARTH_RADIUS_M metres (haversine).  All the arithmetic follows the
 * order of operations redis-server 7.0 uses, so that positions, distances
 * and the cells a search visits (and so the order of unsorted results) are
 * bit-for-bit the same.
 */
#ifndef RC_GEOHASH_H
#define RC_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN (-85.05112878)
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN (-180.0)
#define GEO_LONG_MAX 180.0
#define GEO_EARTH_RADIUS_M 6372797.560856

/* A cell: the interleaved bits and the number of bits per axis.  A search
 * box that is not to be visited has step 0. */
struct geohash {
    uint64_t bits;
    int step;
};

/* The cell's extent in degrees. */
struct geo_area {
    double lon_min, lon_max;
    double lat_min, lat_max;
};

/* Nonzero if (lon, lat) is a position GEOADD accepts. */
int geo_lonlat_valid(double lon, double lat);

/*
 * The cell of (lon, lat) at precision step (1..32 bits per axis) over the
 * ranges [lon_min, lon_max] x [lat_min, lat_max].  Returns 0 and sets *h,
 * or -1 when the position is outside those ranges or outside the ones
 * GEOADD accepts.  A position on the upper edge of a range gets the offset
 * 2^step there, one past the last cell, as in Redis.
 */
int geohash_encode_range(double lon, double lat, int step, double lon_min, double lon_max,
                         double lat_min, double lat_max, struct geohash *h);

/* geohash_encode_range over the GEO ranges. */
int geohash_encode(double lon, double lat, int step, struct geohash *h);

/* The extent of cell h over the GEO ranges. */
void geohash_decode(struct geohash h, struct geo_area *a);

/* The 52-bit score of cell h: its bits shifted to step 26. */
uint64_t geohash_align52(struct geohash h);

/* The scores [*min, *max) of the positions inside cell h. */
void geohash_score_range(struct geohash h, uint64_t *min, uint64_t *max);

/* The position a sorted-set score stands for: the centre of its step-26
 * cell, clamped to the GEO ranges.  Any score decodes (scores that no
 * GEOADD produced give some position), as in Redis. */
void geohash_score_to_lonlat(double score, double *lon, double *lat);

/* The standard 11-character base-32 geohash of a position (over
 * latitude +/-90, the 11th character always '0'), as GEOHASH prints it.
 * Writes 11 bytes and a NUL; returns -1 (nothing written) if the position
 * cannot be encoded. */
int geohash_to_string(double lon, double lat, char out[12]);

/* The eight neighbours of h, in this order. */
enum {
    GEO_N, GEO_S, GEO_E, GEO_W, GEO_NE, GEO_NW, GEO_SE, GEO_SW, GEO_NNEIGHBORS
};
void geohash_neighbors(struct geohash h, struct geohash out[GEO_NNEIGHBORS]);

/* Great-circle distance in metres between two positions in degrees. */
double geo_distance(double lon1, double lat1, double lon2, double lat2);

/* Distance in metres along a meridian between two latitudes. */
double geo_lat_distance(double lat1, double lat2);

/* ---- search shapes ---- */

enum geo_shape_type { GEO_CIRCLE = 1, GEO_BOX };

struct geo_shape {
    enum geo_shape_type type;
    double lon, lat;            /* centre, degrees */
    double radius;              /* GEO_CIRCLE, in units */
    double width, height;       /* GEO_BOX, in units */
    double to_m;                /* metres per unit */
};

/* Nonzero if (lon, lat) lies in shape s; *dist is then its distance from
 * the centre in metres. */
int geo_shape_contains(const struct geo_shape *s, double lon, double lat, double *dist);

/*
 * The cells a search for shape s visits, in visiting order: the centre's
 * cell then its N, S, E, W, NE, NW, SE, SW neighbours, at a step chosen
 * from the shape's size so that together they cover it.  Neighbours that
 * lie wholly outside the shape's bounding box have step 0 (skip them).
 */
#define GEO_SEARCH_CELLS 9
void geo_search_cells(const struct geo_shape *s, struct geohash out[GEO_SEARCH_CELLS]);

/* The search precision for a radius of range_m metres at latitude lat
 * (exposed for the unit tests). */
int geo_estimate_step(double range_m, double lat);

/* x86-64's conversion of a double to uint64_t, defined for every input
 * (negative values wrap through int64_t; NaN, infinities and values out
 * of range give 2^63 or 0 as the hardware does), which is how Redis turns
 * a score into geohash bits. */
uint64_t geo_score_bits(double score);

#endif
