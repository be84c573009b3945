/*
 * intset.c — sorted integer array with width upgrade; see intset.h for the
 * layout and the cost model.
 *
 * All multi-byte fields are little endian whatever the host, so the block
 * is also the serialised form.  They are read and written byte-wise
 * through the helpers below, which with a constant width compile to one
 * plain load or store on little-endian hosts and need no alignment.
 */
#include "intset.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct intset {
    unsigned char width[4];     /* uint32 LE: 2, 4 or 8 */
    unsigned char length[4];    /* uint32 LE */
    unsigned char data[];       /* length * width bytes, ascending */
};

/* ---- little-endian access ---- */

static inline uint64_t load_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void store_le(unsigned char *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Two's complement reinterpretation without implementation-defined
 * conversions. */
static inline int64_t u2i(uint64_t u)
{
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static inline uint32_t hdr_get(const unsigned char f[4])
{
    return (uint32_t)load_le(f, 4);
}

static inline void hdr_set(unsigned char f[4], uint32_t v)
{
    store_le(f, v, 4);
}

/* Element i of a block of the given width, sign-extended.  The switch
 * gives load_le a constant width in each arm. */
static inline int64_t elem_get(const unsigned char *data, unsigned width, uint32_t i)
{
    const unsigned char *p = data + (size_t)i * width;
    switch (width) {
    case 2: {
        uint64_t u = load_le(p, 2);
        return u < 0x8000 ? (int64_t)u : (int64_t)u - 0x10000;
    }
    case 4: {
        uint64_t u = load_le(p, 4);
        return u < 0x80000000u ? (int64_t)u : (int64_t)u - 0x100000000LL;
    }
    default:
        return u2i(load_le(p, 8));
    }
}

static inline void elem_set(unsigned char *data, unsigned width, uint32_t i, int64_t v)
{
    unsigned char *p = data + (size_t)i * width;
    switch (width) {
    case 2: store_le(p, (uint64_t)v, 2); break;
    case 4: store_le(p, (uint64_t)v, 4); break;
    default: store_le(p, (uint64_t)v, 8); break;
    }
}

static unsigned width_for(int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX)
        return 8;
    if (v < INT16_MIN || v > INT16_MAX)
        return 4;
    return 2;
}

/* Bytes of a block holding len elements of width bytes; aborts if that
 * cannot be addressed (only reachable on 32-bit hosts). */
static size_t block_size(uint32_t len, unsigned width)
{
    if ((size_t)len > (SIZE_MAX - INTSET_HDR - sizeof(struct intset)) / width)
        abort();
    return INTSET_HDR + (size_t)len * width;
}

/* ---- accessors ---- */

uint32_t intset_len(const struct intset *is)
{
    return hdr_get(is->length);
}

unsigned intset_width(const struct intset *is)
{
    return hdr_get(is->width);
}

size_t intset_blob_len(const struct intset *is)
{
    return block_size(intset_len(is), intset_width(is));
}

const void *intset_blob(const struct intset *is)
{
    return is;
}

/* ---- lifecycle ---- */

struct intset *intset_new(void)
{
    struct intset *is = rc_malloc(INTSET_HDR);
    hdr_set(is->width, 2);
    hdr_set(is->length, 0);
    return is;
}

void intset_destroy(struct intset **is)
{
    if (*is == NULL)
        return;
    rc_free(*is);
    *is = NULL;
}

struct intset *intset_dup(const struct intset *is)
{
    size_t n = intset_blob_len(is);
    struct intset *c = rc_malloc(n);
    memcpy(c, is, n);
    return c;
}

static struct intset *resize(struct intset *is, uint32_t len)
{
    return rc_realloc(is, block_size(len, intset_width(is)));
}

/*
 * Binary search.  Returns 1 and sets *pos to v's position when present;
 * otherwise returns 0 and sets *pos to where v would be inserted.
 */
static int search(const struct intset *is, int64_t v, uint32_t *pos)
{
    uint32_t len = intset_len(is);
    unsigned w = intset_width(is);
    if (len == 0) {
        *pos = 0;
        return 0;
    }
    /* Appending ascending values and prepending descending ones are the
     * common cases when a set is filled in order. */
    if (v > elem_get(is->data, w, len - 1)) {
        *pos = len;
        return 0;
    }
    if (v < elem_get(is->data, w, 0)) {
        *pos = 0;
        return 0;
    }
    uint32_t lo = 0, hi = len;   /* answer in [lo, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t cur = elem_get(is->data, w, mid);
        if (cur == v) {
            *pos = mid;
            return 1;
        }
        if (cur < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

/* Widens every element to width nw and adds v, which does not fit the
 * old width and so is either below every element or above all of them. */
static struct intset *upgrade_and_add(struct intset *is, int64_t v, unsigned nw)
{
    uint32_t len = intset_len(is);
    unsigned ow = intset_width(is);
    int prepend = v < 0;

    is = rc_realloc(is, block_size(len + 1, nw));
    hdr_set(is->width, nw);
    /* Back to front so that no element is overwritten before it is read:
     * the new position of element i is never below its old one. */
    for (uint32_t i = len; i-- > 0;)
        elem_set(is->data, nw, i + (prepend ? 1 : 0), elem_get(is->data, ow, i));
    elem_set(is->data, nw, prepend ? 0 : len, v);
    hdr_set(is->length, len + 1);
    return is;
}

struct intset *intset_add(struct intset *is, int64_t v, int *added)
{
    uint32_t len = intset_len(is);
    unsigned w = intset_width(is);
    unsigned need = width_for(v);

    if (len >= INTSET_MAX_LEN)
        abort();
    if (need > w) {
        if (added)
            *added = 1;
        return upgrade_and_add(is, v, need);
    }
    uint32_t pos;
    if (search(is, v, &pos)) {
        if (added)
            *added = 0;
        return is;
    }
    is = resize(is, len + 1);
    if (pos < len)
        memmove(is->data + (size_t)(pos + 1) * w, is->data + (size_t)pos * w,
                (size_t)(len - pos) * w);
    elem_set(is->data, w, pos, v);
    hdr_set(is->length, len + 1);
    if (added)
        *added = 1;
    return is;
}

struct intset *intset_remove(struct intset *is, int64_t v, int *removed)
{
    uint32_t len = intset_len(is);
    unsigned w = intset_width(is);
    uint32_t pos;

    if (removed)
        *removed = 0;
    /* A value wider than the set's width cannot be in it. */
    if (width_for(v) > w || !search(is, v, &pos))
        return is;
    if (pos + 1 < len)
        memmove(is->data + (size_t)pos * w, is->data + (size_t)(pos + 1) * w,
                (size_t)(len - pos - 1) * w);
    hdr_set(is->length, len - 1);
    is = resize(is, len - 1);
    if (removed)
        *removed = 1;
    return is;
}

int intset_find(const struct intset *is, int64_t v)
{
    uint32_t pos;
    return width_for(v) <= intset_width(is) && search(is, v, &pos);
}

int intset_get(const struct intset *is, uint32_t pos, int64_t *out)
{
    if (pos >= intset_len(is))
        return 0;
    *out = elem_get(is->data, intset_width(is), pos);
    return 1;
}

int64_t intset_random(const struct intset *is, uint64_t r)
{
    uint32_t len = intset_len(is);
    return elem_get(is->data, intset_width(is), (uint32_t)(r % len));
}

/* ---- serialised form ---- */

int intset_validate(const void *p, size_t size, int deep)
{
    const unsigned char *b = p;
    if (size < INTSET_HDR)
        return 0;
    uint32_t w = (uint32_t)load_le(b, 4);
    uint32_t len = (uint32_t)load_le(b + 4, 4);
    if (w != 2 && w != 4 && w != 8)
        return 0;
    if (len == 0 || len > INTSET_MAX_LEN)
        return 0;
    /* size - HDR is exact arithmetic; compare as a quotient to avoid an
     * overflowing product. */
    if ((size - INTSET_HDR) % w != 0 || (size - INTSET_HDR) / w != len)
        return 0;
    if (!deep)
        return 1;
    int64_t prev = elem_get(b + INTSET_HDR, w, 0);
    for (uint32_t i = 1; i < len; i++) {
        int64_t cur = elem_get(b + INTSET_HDR, w, i);
        if (cur <= prev)
            return 0;
        prev = cur;
    }
    return 1;
}

struct intset *intset_from_blob(const void *p, size_t size)
{
    struct intset *is = rc_malloc(size);
    memcpy(is, p, size);
    return is;
}
