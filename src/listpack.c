/*
 * listpack.c — compact serialized sequence of strings and integers.
 *
 * FORMAT (all multi-byte numbers little-endian)
 *
 *   listpack := header entry*
 *   header   := total:u32 count:u32           (LP_HEADER_SIZE = 8 bytes)
 *
 * `total` is the size of the whole listpack in bytes, header included;
 * `count` the number of entries.  There is no terminator: the last entry
 * ends exactly at offset `total`.  An empty listpack is the 8-byte header.
 *
 *   entry    := body backlen
 *   body     := tag [length] [payload]
 *
 * The tag byte says what the body holds:
 *
 *   0xxxxxxx             integer 0..127, the value is the low 7 bits; no
 *                        payload (body: 1 byte)
 *   10LLLLLL             string of 0..63 bytes, L is the length; payload
 *                        follows (body: 1 + L bytes)
 *   110LLLLL llllllll    string of 64..8191 bytes, the length is the 13-bit
 *                        number L:l (high bits in the tag); payload follows
 *                        (body: 2 + length bytes)
 *   11100000 len:u32     string of up to 2^32-1 bytes (body: 5 + len bytes)
 *   111000NN ... for tag 0xE1..0xE8: signed integer in n = tag - 0xE0
 *                        payload bytes, two's complement, sign-extended to
 *                        64 bits on reading (body: 1 + n bytes)
 *   0xE9..0xFF           invalid
 *
 * Writers always pick the shortest form: integers 0..127 use the 7-bit
 * form, other integers the fewest bytes that hold them; strings the
 * smallest length class.  Readers accept any valid form.  Strings that are
 * canonical decimal integers (as rc_str2ll accepts) are stored as integers.
 *
 * `backlen` is the size of `body` written so that it can be read from its
 * last byte backwards, which is what makes walking from the tail possible:
 * it is 1 to 5 bytes; its last byte holds bits 0..6 of the size, the byte
 * before it bits 7..13, and so on; every byte except the first (leftmost)
 * has its top bit set, meaning "more bytes to the left".  Writers use the
 * fewest bytes; validation requires exactly that canonical form, so that a
 * validated buffer reads the same in both directions.
 *
 * Example: the entries "a", 5, -1000 are
 *   11 00 00 00  03 00 00 00             header: total 17, count 3
 *   81 61 02                             "a": tag, payload, backlen 2
 *   05 01                                5: tag, backlen 1
 *   E2 18 FC 03                          -1000 in 2 bytes, backlen 3
 *
 * This layout is ringcache's own.  It is not Redis's listpack byte format;
 * the RDB writer re-encodes when it needs Redis's.
 */
#include "listpack.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "util.h"

#define TAG_INT7_MAX 0x7F
#define TAG_STR6 0x80       /* 10LLLLLL */
#define TAG_STR13 0xC0      /* 110LLLLL */
#define TAG_STR32 0xE0
#define TAG_INT_BASE 0xE0   /* 0xE1..0xE8: integer in 1..8 bytes */
#define TAG_INT_MAXB 8

#define STR6_MAX 63
#define STR13_MAX 8191

/* The largest encoded entry header: tag and 4 length bytes. */
#define ENC_HDR_MAX 5
/* The largest backlen. */
#define BACKLEN_MAX 5

/* ---- header access ---- */

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static size_t hdr_total(const unsigned char *lp) { return rd32(lp); }
static size_t hdr_count(const unsigned char *lp) { return rd32(lp + 4); }

static void set_total(unsigned char *lp, size_t v) { wr32(lp, (uint32_t)v); }
static void set_count(unsigned char *lp, size_t v) { wr32(lp + 4, (uint32_t)v); }

/* ---- encoding sizes ---- */

/* Bytes needed by the backlen of a body of this size. */
static size_t backlen_size(size_t body)
{
    if (body < (1u << 7))
        return 1;
    if (body < (1u << 14))
        return 2;
    if (body < (1u << 21))
        return 3;
    if (body < (1u << 28))
        return 4;
    return 5;
}

/* Writes the backlen of `body` at dst; returns its size. */
static size_t backlen_write(unsigned char *dst, size_t body)
{
    size_t k = backlen_size(body);
    for (size_t i = 0; i < k; i++) {
        unsigned char b = (unsigned char)((body >> (7 * i)) & 0x7F);
        if (i != k - 1)
            b |= 0x80;
        dst[k - 1 - i] = b;
    }
    return k;
}

/* Payload bytes of integer v in the n-byte form (v outside 0..127). */
static unsigned int_bytes(long long v)
{
    for (unsigned n = 1; n < TAG_INT_MAXB; n++) {
        long long lim = 1LL << (8 * n - 1);
        if (v >= -lim && v < lim)
            return n;
    }
    return TAG_INT_MAXB;
}

/*
 * An encoded body ready to be copied in: hdr[0..hlen) is the tag and length
 * (or the whole integer), followed by plen bytes from payload (strings).
 */
struct enc {
    unsigned char hdr[1 + TAG_INT_MAXB];
    size_t hlen;
    const char *payload;
    size_t plen;
};

static void enc_int(struct enc *e, long long v)
{
    e->payload = NULL;
    e->plen = 0;
    if (v >= 0 && v <= TAG_INT7_MAX) {
        e->hdr[0] = (unsigned char)v;
        e->hlen = 1;
        return;
    }
    unsigned n = int_bytes(v);
    unsigned long long u = (unsigned long long)v;
    e->hdr[0] = (unsigned char)(TAG_INT_BASE + n);
    for (unsigned i = 0; i < n; i++)
        e->hdr[1 + i] = (unsigned char)(u >> (8 * i));
    e->hlen = 1 + n;
}

static void enc_str(struct enc *e, const char *s, size_t len)
{
    long long v;
    if (len > 0 && len < LP_INTBUF_SIZE && rc_str2ll(s, len, &v)) {
        enc_int(e, v);
        return;
    }
    if (len > UINT32_MAX)
        abort();    /* a caller ignored lp_safe_to_add() */
    e->payload = s;
    e->plen = len;
    if (len <= STR6_MAX) {
        e->hdr[0] = (unsigned char)(TAG_STR6 | len);
        e->hlen = 1;
    } else if (len <= STR13_MAX) {
        e->hdr[0] = (unsigned char)(TAG_STR13 | (len >> 8));
        e->hdr[1] = (unsigned char)(len & 0xFF);
        e->hlen = 2;
    } else {
        e->hdr[0] = TAG_STR32;
        wr32(e->hdr + 1, (uint32_t)len);
        e->hlen = 5;
    }
}

/* Size of the whole entry (body and backlen) of an encoded body. */
static size_t enc_size(const struct enc *e)
{
    size_t body = e->hlen + e->plen;
    return body + backlen_size(body);
}

/* Writes the entry at dst (which has room for enc_size(e) bytes). */
static void enc_write(unsigned char *dst, const struct enc *e)
{
    memcpy(dst, e->hdr, e->hlen);
    if (e->plen)
        memcpy(dst + e->hlen, e->payload, e->plen);
    backlen_write(dst + e->hlen + e->plen, e->hlen + e->plen);
}

/* ---- decoding trusted entries ---- */

/* Size of the body that starts at p.  The listpack is trusted (built here
 * or validated). */
static size_t body_size(const unsigned char *p)
{
    unsigned t = p[0];
    if (t <= TAG_INT7_MAX)
        return 1;
    if (t < TAG_STR13)
        return 1 + (t & 0x3F);
    if (t < TAG_STR32)
        return 2 + (((size_t)(t & 0x1F) << 8) | p[1]);
    if (t == TAG_STR32)
        return 5 + (size_t)rd32(p + 1);
    return 1 + (size_t)(t - TAG_INT_BASE);
}

static size_t entry_size(const unsigned char *p)
{
    size_t body = body_size(p);
    return body + backlen_size(body);
}

/* Reads the backlen whose last byte is at p[-1]; sets *nbytes to its size. */
static size_t backlen_read(const unsigned char *end, size_t *nbytes)
{
    size_t v = 0;
    size_t k = 0;
    const unsigned char *q = end - 1;
    for (;;) {
        v |= (size_t)(*q & 0x7F) << (7 * k);
        k++;
        if (!(*q & 0x80))
            break;
        q--;
    }
    *nbytes = k;
    return v;
}

/* ---- creation and size ---- */

unsigned char *lp_new(size_t capacity)
{
    size_t cap = LP_HEADER_SIZE;
    if (capacity <= LP_MAX_BYTES - LP_HEADER_SIZE)
        cap += capacity;
    unsigned char *lp = rc_malloc(cap);
    set_total(lp, LP_HEADER_SIZE);
    set_count(lp, 0);
    return lp;
}

void lp_free(unsigned char *lp)
{
    rc_free(lp);
}

unsigned char *lp_dup(const unsigned char *lp)
{
    size_t n = hdr_total(lp);
    unsigned char *c = rc_malloc(n);
    memcpy(c, lp, n);
    return c;
}

unsigned char *lp_shrink_to_fit(unsigned char *lp)
{
    size_t n = hdr_total(lp);
    if (rc_usable(lp) > n)
        lp = rc_realloc(lp, n);
    return lp;
}

size_t lp_count(const unsigned char *lp)
{
    return hdr_count(lp);
}

size_t lp_bytes(const unsigned char *lp)
{
    return hdr_total(lp);
}

int lp_safe_to_add(const unsigned char *lp, size_t add)
{
    size_t len = lp ? hdr_total(lp) : 0;
    return add <= LP_SAFETY_SIZE && len + add <= LP_SAFETY_SIZE;
}

/* ---- walking ---- */

size_t lp_first(const unsigned char *lp)
{
    return hdr_total(lp) > LP_HEADER_SIZE ? LP_HEADER_SIZE : LP_NONE;
}

size_t lp_last(const unsigned char *lp)
{
    size_t total = hdr_total(lp);
    if (total == LP_HEADER_SIZE)
        return LP_NONE;
    size_t k;
    size_t body = backlen_read(lp + total, &k);
    return total - k - body;
}

size_t lp_next(const unsigned char *lp, size_t off)
{
    size_t n = off + entry_size(lp + off);
    return n < hdr_total(lp) ? n : LP_NONE;
}

size_t lp_prev(const unsigned char *lp, size_t off)
{
    if (off <= LP_HEADER_SIZE)
        return LP_NONE;
    size_t k;
    size_t body = backlen_read(lp + off, &k);
    return off - k - body;
}

size_t lp_seek(const unsigned char *lp, long long index)
{
    size_t count = hdr_count(lp);
    unsigned long long i;
    if (index < 0) {
        /* -index without overflow for LLONG_MIN. */
        unsigned long long back = (unsigned long long)(-(index + 1)) + 1;
        if (back > count)
            return LP_NONE;
        i = count - back;
    } else {
        i = (unsigned long long)index;
        if (i >= count)
            return LP_NONE;
    }
    size_t off;
    if (i < count / 2) {
        off = lp_first(lp);
        while (i-- > 0)
            off = lp_next(lp, off);
    } else {
        unsigned long long steps = count - 1 - i;
        off = lp_last(lp);
        while (steps-- > 0)
            off = lp_prev(lp, off);
    }
    return off;
}

/* ---- reading ---- */

void lp_get(const unsigned char *lp, size_t off, struct lp_entry *e)
{
    const unsigned char *p = lp + off;
    unsigned t = p[0];
    if (t <= TAG_INT7_MAX) {
        e->sval = NULL;
        e->slen = 0;
        e->lval = (long long)t;
    } else if (t < TAG_STR13) {
        e->sval = p + 1;
        e->slen = t & 0x3F;
        e->lval = 0;
    } else if (t < TAG_STR32) {
        e->sval = p + 2;
        e->slen = ((size_t)(t & 0x1F) << 8) | p[1];
        e->lval = 0;
    } else if (t == TAG_STR32) {
        e->sval = p + 5;
        e->slen = rd32(p + 1);
        e->lval = 0;
    } else {
        unsigned n = t - TAG_INT_BASE;
        unsigned long long u = 0;
        for (unsigned i = 0; i < n; i++)
            u |= (unsigned long long)p[1 + i] << (8 * i);
        if (n < 8 && (u >> (8 * n - 1)) & 1)
            u |= ~0ULL << (8 * n);      /* sign-extend */
        e->sval = NULL;
        e->slen = 0;
        /* Two's complement conversion without implementation-defined casts. */
        e->lval = u <= (unsigned long long)LLONG_MAX ? (long long)u
                                                     : -(long long)(~u) - 1;
    }
}

const char *lp_get_str(const unsigned char *lp, size_t off, size_t *len,
                       char buf[LP_INTBUF_SIZE])
{
    struct lp_entry e;
    lp_get(lp, off, &e);
    if (e.sval) {
        *len = e.slen;
        return (const char *)e.sval;
    }
    *len = rc_ll2str(buf, LP_INTBUF_SIZE, e.lval);
    return buf;
}

/* A search key prepared once: its bytes, and its integer value if it is a
 * canonical integer (then it can only equal an integer entry). */
struct key {
    const char *s;
    size_t len;
    int is_int;
    long long v;
};

static void key_init(struct key *k, const char *s, size_t len)
{
    k->s = s;
    k->len = len;
    k->is_int = len > 0 && len < LP_INTBUF_SIZE && rc_str2ll(s, len, &k->v);
}

static int key_equal(const unsigned char *lp, size_t off, const struct key *k)
{
    struct lp_entry e;
    lp_get(lp, off, &e);
    if (e.sval)
        return e.slen == k->len && (k->len == 0 || memcmp(e.sval, k->s, k->len) == 0);
    /* An integer's text is always canonical. */
    return k->is_int && k->v == e.lval;
}

int lp_equal(const unsigned char *lp, size_t off, const char *s, size_t len)
{
    struct key k;
    key_init(&k, s, len);
    return key_equal(lp, off, &k);
}

size_t lp_find(const unsigned char *lp, size_t off, const char *s, size_t len,
               unsigned skip)
{
    struct key k;
    key_init(&k, s, len);
    size_t total = hdr_total(lp);
    while (off != LP_NONE && off < total) {
        if (key_equal(lp, off, &k))
            return off;
        off += entry_size(lp + off);
        for (unsigned i = 0; i < skip && off < total; i++)
            off += entry_size(lp + off);
    }
    return LP_NONE;
}

/* ---- modifying ---- */

/* Makes room for a listpack of newtotal bytes. */
static unsigned char *reserve(unsigned char *lp, size_t newtotal)
{
    if (rc_usable(lp) < newtotal)
        lp = rc_realloc(lp, newtotal);
    return lp;
}

/* Opens a gap of `size` bytes at off (moving what follows) and writes e. */
static unsigned char *insert_at(unsigned char *lp, size_t off, const struct enc *e)
{
    size_t total = hdr_total(lp);
    size_t size = enc_size(e);
    if (size > LP_MAX_BYTES - total)
        abort();    /* a caller ignored lp_safe_to_add() */
    lp = reserve(lp, total + size);
    memmove(lp + off + size, lp + off, total - off);
    enc_write(lp + off, e);
    set_total(lp, total + size);
    set_count(lp, hdr_count(lp) + 1);
    return lp;
}

static unsigned char *insert_enc(unsigned char *lp, size_t off, enum lp_where where,
                                 const struct enc *e, size_t *newoff)
{
    size_t at;
    if (off == LP_NONE)
        at = where == LP_BEFORE ? hdr_total(lp) : LP_HEADER_SIZE;
    else
        at = where == LP_BEFORE ? off : off + entry_size(lp + off);
    lp = insert_at(lp, at, e);
    if (newoff)
        *newoff = at;
    return lp;
}

unsigned char *lp_insert(unsigned char *lp, size_t off, enum lp_where where,
                         const char *s, size_t len, size_t *newoff)
{
    struct enc e;
    enc_str(&e, s, len);
    return insert_enc(lp, off, where, &e, newoff);
}

unsigned char *lp_insert_int(unsigned char *lp, size_t off, enum lp_where where,
                             long long v, size_t *newoff)
{
    struct enc e;
    enc_int(&e, v);
    return insert_enc(lp, off, where, &e, newoff);
}

unsigned char *lp_append(unsigned char *lp, const char *s, size_t len)
{
    struct enc e;
    enc_str(&e, s, len);
    return insert_at(lp, hdr_total(lp), &e);
}

unsigned char *lp_prepend(unsigned char *lp, const char *s, size_t len)
{
    struct enc e;
    enc_str(&e, s, len);
    return insert_at(lp, LP_HEADER_SIZE, &e);
}

unsigned char *lp_append_int(unsigned char *lp, long long v)
{
    struct enc e;
    enc_int(&e, v);
    return insert_at(lp, hdr_total(lp), &e);
}

unsigned char *lp_prepend_int(unsigned char *lp, long long v)
{
    struct enc e;
    enc_int(&e, v);
    return insert_at(lp, LP_HEADER_SIZE, &e);
}

static unsigned char *replace_enc(unsigned char *lp, size_t off, const struct enc *e)
{
    size_t total = hdr_total(lp);
    size_t oldsz = entry_size(lp + off);
    size_t newsz = enc_size(e);
    size_t tail = off + oldsz;
    if (newsz > oldsz) {
        if (newsz - oldsz > LP_MAX_BYTES - total)
            abort();
        size_t newtotal = total + (newsz - oldsz);
        lp = reserve(lp, newtotal);
        memmove(lp + off + newsz, lp + tail, total - tail);
        set_total(lp, newtotal);
    } else if (newsz < oldsz) {
        memmove(lp + off + newsz, lp + tail, total - tail);
        set_total(lp, total - (oldsz - newsz));
        lp = lp_shrink_to_fit(lp);
    }
    enc_write(lp + off, e);
    return lp;
}

unsigned char *lp_replace(unsigned char *lp, size_t off, const char *s, size_t len)
{
    struct enc e;
    enc_str(&e, s, len);
    return replace_enc(lp, off, &e);
}

unsigned char *lp_replace_int(unsigned char *lp, size_t off, long long v)
{
    struct enc e;
    enc_int(&e, v);
    return replace_enc(lp, off, &e);
}

unsigned char *lp_delete(unsigned char *lp, size_t off, size_t n, size_t *nextoff)
{
    size_t total = hdr_total(lp);
    size_t end = off;
    size_t deleted = 0;
    while (deleted < n && end < total) {
        end += entry_size(lp + end);
        deleted++;
    }
    memmove(lp + off, lp + end, total - end);
    set_total(lp, total - (end - off));
    set_count(lp, hdr_count(lp) - deleted);
    if (nextoff)
        *nextoff = off < total - (end - off) ? off : LP_NONE;
    return lp_shrink_to_fit(lp);
}

unsigned char *lp_delete_range(unsigned char *lp, long long index, size_t n)
{
    size_t off = lp_seek(lp, index);
    if (off == LP_NONE || n == 0)
        return lp;
    return lp_delete(lp, off, n, NULL);
}

/* ---- validation ---- */

/*
 * Checks the entry at buf[off..total) without trusting anything; on success
 * stores the full entry size in *size and returns 1.
 */
static int validate_entry(const unsigned char *buf, size_t off, size_t total, size_t *size)
{
    size_t avail = total - off;     /* off < total is guaranteed by the caller */
    const unsigned char *p = buf + off;
    unsigned t = p[0];
    size_t body;
    if (t <= TAG_INT7_MAX) {
        body = 1;
    } else if (t < TAG_STR13) {
        body = 1 + (t & 0x3F);
    } else if (t < TAG_STR32) {
        if (avail < 2)
            return 0;
        body = 2 + (((size_t)(t & 0x1F) << 8) | p[1]);
    } else if (t == TAG_STR32) {
        if (avail < 5)
            return 0;
        size_t len = rd32(p + 1);
        if (len > avail - 5)
            return 0;
        body = 5 + len;
    } else if (t <= TAG_INT_BASE + TAG_INT_MAXB) {
        body = 1 + (size_t)(t - TAG_INT_BASE);
    } else {
        return 0;
    }
    if (body > avail)
        return 0;
    size_t bl = backlen_size(body);
    if (bl > avail - body)
        return 0;
    unsigned char expect[BACKLEN_MAX];
    backlen_write(expect, body);
    if (memcmp(p + body, expect, bl) != 0)
        return 0;
    *size = body + bl;
    return 1;
}

int lp_validate(const unsigned char *buf, size_t size, int deep)
{
    if (buf == NULL || size < LP_HEADER_SIZE)
        return 0;
    size_t total = rd32(buf);
    size_t count = rd32(buf + 4);
    if (total != size)
        return 0;
    if (!deep)
        return 1;

    size_t off = LP_HEADER_SIZE;
    size_t seen = 0;
    while (off < total) {
        size_t esz;
        if (!validate_entry(buf, off, total, &esz))
            return 0;
        off += esz;
        seen++;
    }
    if (seen != count)
        return 0;
    /* Entries are contiguous and every backlen is the canonical encoding of
     * its body's size, so the backward walk is now known to retrace the
     * forward one; the loop below checks it anyway, cheaply. */
    off = total;
    size_t back = 0;
    while (off > LP_HEADER_SIZE) {
        size_t k;
        size_t body = backlen_read(buf + off, &k);
        if (body + k > off - LP_HEADER_SIZE)
            return 0;
        off -= body + k;
        back++;
    }
    return off == LP_HEADER_SIZE && back == count;
}
