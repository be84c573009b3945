/*
 * rdb.c — RDB primitives, Redis-format listpacks and the value decoder
 * (see rdb.h).
 *
 * Byte formats handled here, all as Redis 7.0 defines them:
 *   length     00xxxxxx (6 bits) | 01xxxxxx xxxxxxxx (14 bits, big endian)
 *              | 0x80 + 4 bytes BE | 0x81 + 8 bytes BE | 11xxxxxx: a special
 *              string encoding follows (0 int8, 1 int16, 2 int32, 3 LZF).
 *   listpack   u32 total bytes, u16 count (65535: unknown), entries, 0xFF.
 *              Entry: encoding byte(s) and data, then its length
 *              (encoding + data) as a "back-length" of 1-5 bytes, written
 *              most significant 7-bit group first, every byte but the
 *              first with bit 7 set.  Encodings: 0xxxxxxx 7-bit uint;
 *              10xxxxxx 6-bit string length; 110xxxxx + 1 byte 13-bit
 *              signed int; 1110xxxx + 1 byte 12-bit string length; 0xF0 +
 *              u32 string length; 0xF1/F2/F3/F4 16/24/32/64-bit signed
 *              int, little endian.
 *   ziplist    u32 total bytes, u32 offset of the last entry, u16 count,
 *              entries, 0xFF.  Entry: previous entry's length (1 byte, or
 *              0xFE + u32), encoding: 00xxxxxx / 01xxxxxx+1 byte (BE) /
 *              0x80+u32 BE string length; 0xC0 int16, 0xD0 int32, 0xE0
 *              int64, 0xF0 int24, 0xFE int8, 0xF1..0xFD immediate 0..12.
 *   intset     u32 element width (2, 4, 8), u32 count, ascending elements,
 *              all little endian.
 *   zipmap     u8 count, then key length, key, value length, free byte
 *              count, value, free bytes...; lengths are 1 byte, or 0xFE +
 *              u32; 0xFF ends it.
 */
#include "rdb.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lzf.h"
#include "mem.h"

/* ---- little helpers ---- */

static uint64_t get_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_be(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Sign-extends the low `bits` bits of u. */
static int64_t sign_extend(uint64_t u, unsigned bits)
{
    if (bits < 64 && (u >> (bits - 1)) & 1)
        u |= ~(uint64_t)0 << bits;
    return (int64_t)u;
}

/* Parses s[0..len) as a canonical decimal long long: what Redis's
 * string2ll accepts and ll2string prints back identically (no sign other
 * than a leading '-', no leading zeros, no "-0", at most 20 chars). */
static int canon_ll(const unsigned char *s, size_t len, long long *out)
{
    if (len == 0 || len > 20)
        return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

/* ---- output ---- */

void rdb_out_init(struct rdb_out *o)
{
    o->p = NULL;
    o->len = 0;
    o->cap = 0;
}

void rdb_out_free(struct rdb_out *o)
{
    rc_free(o->p);
    rdb_out_init(o);
}

static void out_reserve(struct rdb_out *o, size_t n)
{
    if (n <= o->cap - o->len)
        return;
    if (n > SIZE_MAX / 2 - o->len)
        abort();
    size_t want = o->len + n;
    size_t cap = o->cap ? o->cap : 64;
    while (cap < want)
        cap *= 2;
    o->p = rc_realloc(o->p, cap);
    o->cap = cap;
}

void rdb_out_bytes(struct rdb_out *o, const void *p, size_t len)
{
    if (len == 0)
        return;
    out_reserve(o, len);
    memcpy(o->p + o->len, p, len);
    o->len += len;
}

void rdb_out_byte(struct rdb_out *o, unsigned char b)
{
    rdb_out_bytes(o, &b, 1);
}

static void out_le(struct rdb_out *o, uint64_t v, unsigned n)
{
    unsigned char b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    rdb_out_bytes(o, b, n);
}

void rdb_out_u64le(struct rdb_out *o, uint64_t v)
{
    out_le(o, v, 8);
}

void rdb_out_len(struct rdb_out *o, uint64_t len)
{
    unsigned char b[9];
    if (len < (1u << 6)) {
        rdb_out_byte(o, (unsigned char)len);
    } else if (len < (1u << 14)) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)(len & 0xff);
        rdb_out_bytes(o, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        rdb_out_bytes(o, b, 5);
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++)
            b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        rdb_out_bytes(o, b, 9);
    }
}

/* The int8/16/32 special encodings; returns 0 when v needs more. */
static int out_int_encoded(struct rdb_out *o, long long v)
{
    if (v >= INT8_MIN && v <= INT8_MAX) {
        rdb_out_byte(o, 0xC0);
        out_le(o, (uint64_t)v, 1);
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        rdb_out_byte(o, 0xC1);
        out_le(o, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        rdb_out_byte(o, 0xC2);
        out_le(o, (uint64_t)v, 4);
    } else {
        return 0;
    }
    return 1;
}

void rdb_out_string(struct rdb_out *o, const void *p, size_t len, int compress)
{
    long long v;
    if (len <= 11 && canon_ll(p, len, &v) && out_int_encoded(o, v))
        return;
    if (compress && len > 20) {
        size_t outlen = len - 4;
        unsigned char *buf = rc_malloc(outlen + 1);
        size_t clen = lzf_compress(p, len, buf, outlen);
        if (clen > 0) {
            rdb_out_byte(o, 0xC3);
            rdb_out_len(o, clen);
            rdb_out_len(o, len);
            rdb_out_bytes(o, buf, clen);
            rc_free(buf);
            return;
        }
        rc_free(buf);
    }
    rdb_out_len(o, len);
    rdb_out_bytes(o, p, len);
}

void rdb_out_ll_string(struct rdb_out *o, long long v)
{
    if (out_int_encoded(o, v))
        return;
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    rdb_out_len(o, (uint64_t)n);
    rdb_out_bytes(o, buf, (size_t)n);
}

void rdb_out_double(struct rdb_out *o, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    out_le(o, u, 8);
}

/* ---- Redis listpacks: writing ---- */

/* Bytes of the back-length of an entry of l bytes, as lpEncodeBacklen. */
static unsigned backlen_size(uint64_t l)
{
    if (l <= 127)
        return 1;
    if (l < 16383)
        return 2;
    if (l < 2097151)
        return 3;
    if (l < 268435455)
        return 4;
    return 5;
}

static unsigned backlen_encode(unsigned char *b, uint64_t l)
{
    unsigned n = backlen_size(l);
    for (unsigned i = 0; i < n; i++) {
        unsigned shift = 7 * (n - 1 - i);
        b[i] = (unsigned char)((l >> shift) & 127);
        if (i > 0)
            b[i] |= 128;
    }
    return n;
}

void rlp_init(struct rlp_builder *b)
{
    rdb_out_init(&b->out);
    b->count = 0;
    static const unsigned char hdr[6] = {0};
    rdb_out_bytes(&b->out, hdr, sizeof(hdr));
}

static void rlp_backlen(struct rlp_builder *b, uint64_t entrylen)
{
    unsigned char bl[5];
    unsigned n = backlen_encode(bl, entrylen);
    rdb_out_bytes(&b->out, bl, n);
    b->count++;
}

void rlp_add_int(struct rlp_builder *b, long long v)
{
    unsigned char e[9];
    unsigned n;
    if (v >= 0 && v <= 127) {
        e[0] = (unsigned char)v;
        n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t u = v < 0 ? (uint64_t)((1 << 13) + v) : (uint64_t)v;
        e[0] = (unsigned char)(0xC0 | (u >> 8));
        e[1] = (unsigned char)(u & 0xff);
        n = 2;
    } else {
        unsigned w;
        if (v >= INT16_MIN && v <= INT16_MAX) {
            e[0] = 0xF1;
            w = 2;
        } else if (v >= -8388608 && v <= 8388607) {
            e[0] = 0xF2;
            w = 3;
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            e[0] = 0xF3;
            w = 4;
        } else {
            e[0] = 0xF4;
            w = 8;
        }
        uint64_t u = (uint64_t)v;
        for (unsigned i = 0; i < w; i++)
            e[1 + i] = (unsigned char)(u >> (8 * i));
        n = 1 + w;
    }
    rdb_out_bytes(&b->out, e, n);
    rlp_backlen(b, n);
}

void rlp_add(struct rlp_builder *b, const void *p, size_t len)
{
    long long v;
    if (canon_ll(p, len, &v)) {
        rlp_add_int(b, v);
        return;
    }
    unsigned char h[5];
    unsigned n;
    if (len < 64) {
        h[0] = (unsigned char)(0x80 | len);
        n = 1;
    } else if (len < 4096) {
        h[0] = (unsigned char)(0xE0 | (len >> 8));
        h[1] = (unsigned char)(len & 0xff);
        n = 2;
    } else {
        if (len > UINT32_MAX)
            abort();        /* callers keep listpacks far below this */
        h[0] = 0xF0;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (unsigned char)(len >> (8 * i));
        n = 5;
    }
    rdb_out_bytes(&b->out, h, n);
    rdb_out_bytes(&b->out, p, len);
    rlp_backlen(b, n + len);
}

void rlp_finish(struct rlp_builder *b)
{
    rdb_out_byte(&b->out, 0xFF);
    if (b->out.len > UINT32_MAX)
        abort();
    uint64_t total = b->out.len;
    uint64_t cnt = b->count < 65535 ? b->count : 65535;
    for (int i = 0; i < 4; i++)
        b->out.p[i] = (unsigned char)(total >> (8 * i));
    b->out.p[4] = (unsigned char)(cnt & 0xff);
    b->out.p[5] = (unsigned char)(cnt >> 8);
}

void rlp_free(struct rlp_builder *b)
{
    rdb_out_free(&b->out);
}

/* ---- input ---- */

int rdb_in_byte(struct rdb_in *in, unsigned char *b)
{
    if (in->pos >= in->len)
        return -1;
    *b = in->p[in->pos++];
    return 0;
}

int rdb_in_bytes(struct rdb_in *in, const unsigned char **p, size_t n)
{
    if (n > in->len - in->pos)
        return -1;
    *p = in->p + in->pos;
    in->pos += n;
    return 0;
}

int rdb_in_len(struct rdb_in *in, uint64_t *len, int *encoded)
{
    unsigned char b;
    const unsigned char *p;
    if (encoded)
        *encoded = 0;
    if (rdb_in_byte(in, &b) < 0)
        return -1;
    switch (b >> 6) {
    case 0:
        *len = b & 0x3f;
        return 0;
    case 1:
        if (rdb_in_bytes(in, &p, 1) < 0)
            return -1;
        *len = (uint64_t)(b & 0x3f) << 8 | p[0];
        return 0;
    case 2:
        if (b == 0x80) {
            if (rdb_in_bytes(in, &p, 4) < 0)
                return -1;
            *len = get_be(p, 4);
            return 0;
        }
        if (b == 0x81) {
            if (rdb_in_bytes(in, &p, 8) < 0)
                return -1;
            *len = get_be(p, 8);
            return 0;
        }
        return -1;
    default:
        if (encoded == NULL)
            return -1;
        *encoded = 1;
        *len = b & 0x3f;
        return 0;
    }
}

/* Largest expansion an LZF stream can achieve: a 3-byte reference yields
 * at most 264 bytes. */
#define LZF_MAX_RATIO 89

int rdb_in_string(struct rdb_in *in, struct rdb_str *s)
{
    uint64_t len;
    int enc;
    const unsigned char *p;
    s->owned = NULL;
    s->p = NULL;
    s->len = 0;
    if (rdb_in_len(in, &len, &enc) < 0)
        return -1;
    if (!enc) {
        if (len > in->len - in->pos)
            return -1;
        s->p = in->p + in->pos;
        s->len = (size_t)len;
        in->pos += (size_t)len;
        return 0;
    }
    if (len <= 2) {
        unsigned w = 1u << len;
        if (rdb_in_bytes(in, &p, w) < 0)
            return -1;
        long long v = sign_extend(get_le(p, w), 8 * w);
        int n = snprintf(s->ibuf, sizeof(s->ibuf), "%lld", v);
        s->p = (const unsigned char *)s->ibuf;
        s->len = (size_t)n;
        return 0;
    }
    if (len != 3)
        return -1;
    uint64_t clen, ulen;
    if (rdb_in_len(in, &clen, NULL) < 0 || rdb_in_len(in, &ulen, NULL) < 0)
        return -1;
    if (clen == 0 || ulen == 0 || clen > in->len - in->pos)
        return -1;
    if (ulen > clen * LZF_MAX_RATIO || ulen > ((uint64_t)1 << 32))
        return -1;
    p = in->p + in->pos;
    in->pos += (size_t)clen;
    s->owned = rc_malloc((size_t)ulen);
    if (lzf_decompress(p, (size_t)clen, s->owned, (size_t)ulen) != ulen) {
        rc_free(s->owned);
        s->owned = NULL;
        return -1;
    }
    s->p = s->owned;
    s->len = (size_t)ulen;
    return 0;
}

void rdb_str_free(struct rdb_str *s)
{
    rc_free(s->owned);
    s->owned = NULL;
}

int rdb_in_u64le(struct rdb_in *in, uint64_t *v)
{
    const unsigned char *p;
    if (rdb_in_bytes(in, &p, 8) < 0)
        return -1;
    *v = get_le(p, 8);
    return 0;
}

int rdb_in_double(struct rdb_in *in, double *d)
{
    uint64_t u;
    if (rdb_in_u64le(in, &u) < 0)
        return -1;
    memcpy(d, &u, 8);
    return 0;
}

/* The textual double of the old ZSET type: a length byte (253 NaN, 254
 * +inf, 255 -inf) and that many ASCII characters. */
static int in_old_double(struct rdb_in *in, double *d)
{
    unsigned char n;
    const unsigned char *p;
    char buf[256];
    if (rdb_in_byte(in, &n) < 0)
        return -1;
    if (n == 253)
        return -1;      /* NaN is not a valid score */
    if (n == 254 || n == 255) {
        *d = n == 254 ? INFINITY : -INFINITY;
        return 0;
    }
    if (rdb_in_bytes(in, &p, n) < 0)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    *d = strtod(buf, &end);
    if (n == 0 || end != buf + n || isnan(*d))
        return -1;
    return 0;
}

/* A score kept as text in a ziplist or listpack. */
static int parse_score(const unsigned char *p, size_t len, double *d)
{
    char buf[128];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    *d = strtod(buf, &end);
    if (end != buf + len || isnan(*d))
        return -1;
    return 0;
}

/* ---- walking embedded blobs ---- */

/* Called for every element of a blob, integers as decimal text. */
typedef int walk_fn(void *arg, const unsigned char *p, size_t len);

static int emit_int(walk_fn *fn, void *arg, long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return fn(arg, (const unsigned char *)buf, (size_t)n);
}

/* Walks a Redis listpack, validating it fully; fn may be NULL.  Returns
 * the number of elements, or -1 if malformed or fn failed. */
static long long lp_walk(const unsigned char *p, size_t len, walk_fn *fn, void *arg)
{
    if (len < 7 || get_le(p, 4) != len || p[len - 1] != 0xFF)
        return -1;
    uint64_t num = get_le(p + 4, 2);
    size_t pos = 6, end = len - 1;
    long long count = 0;
    while (pos < end) {
        unsigned b = p[pos];
        size_t avail = end - pos;
        size_t hdr, slen = 0;
        int is_int = 0;
        long long v = 0;
        if ((b & 0x80) == 0) {
            hdr = 1;
            is_int = 1;
            v = b & 0x7f;
        } else if ((b & 0xC0) == 0x80) {
            hdr = 1;
            slen = b & 0x3f;
        } else if ((b & 0xE0) == 0xC0) {
            hdr = 2;
            if (avail < 2)
                return -1;
            is_int = 1;
            v = sign_extend((uint64_t)(b & 0x1f) << 8 | p[pos + 1], 13);
        } else if ((b & 0xF0) == 0xE0) {
            hdr = 2;
            if (avail < 2)
                return -1;
            slen = (size_t)(b & 0x0f) << 8 | p[pos + 1];
        } else if (b == 0xF0) {
            hdr = 5;
            if (avail < 5)
                return -1;
            slen = (size_t)get_le(p + pos + 1, 4);
        } else if (b >= 0xF1 && b <= 0xF4) {
            static const unsigned widths[] = {2, 3, 4, 8};
            unsigned w = widths[b - 0xF1];
            hdr = 1 + w;
            if (avail < hdr)
                return -1;
            is_int = 1;
            v = sign_extend(get_le(p + pos + 1, w), 8 * w);
        } else {
            return -1;          /* 0xF5..0xFE are unused, 0xFF is the end */
        }
        if (slen > avail - hdr)
            return -1;
        size_t entry = hdr + slen;
        unsigned char bl[5];
        unsigned bn = backlen_encode(bl, entry);
        if (bn > avail - entry || memcmp(p + pos + entry, bl, bn) != 0)
            return -1;
        if (fn) {
            int r = is_int ? emit_int(fn, arg, v) : fn(arg, p + pos + hdr, slen);
            if (r < 0)
                return -1;
        }
        pos += entry + bn;
        count++;
    }
    if (num != 65535 && num != (uint64_t)count)
        return -1;
    return count;
}

/* Walks a ziplist, validating it fully; same contract as lp_walk. */
static long long zl_walk(const unsigned char *p, size_t len, walk_fn *fn, void *arg)
{
    if (len < 11 || get_le(p, 4) != len || p[len - 1] != 0xFF)
        return -1;
    uint64_t tail = get_le(p + 4, 4);
    uint64_t num = get_le(p + 8, 2);
    size_t pos = 10, end = len - 1, last = 10, prev = 0;
    long long count = 0;
    while (pos < end) {
        size_t avail = end - pos;
        size_t plen, prevlen;
        if (p[pos] < 254) {
            plen = 1;
            prevlen = p[pos];
        } else if (p[pos] == 254) {
            plen = 5;
            if (avail < 5)
                return -1;
            prevlen = (size_t)get_le(p + pos + 1, 4);
        } else {
            return -1;
        }
        if (prevlen != prev || avail < plen + 1)
            return -1;
        unsigned enc = p[pos + plen];
        size_t hl, dlen = 0;
        int is_int = 0;
        long long v = 0;
        const unsigned char *d;
        switch (enc >> 6) {
        case 0:
            hl = 1;
            dlen = enc & 0x3f;
            break;
        case 1:
            hl = 2;
            if (avail < plen + 2)
                return -1;
            dlen = (size_t)(enc & 0x3f) << 8 | p[pos + plen + 1];
            break;
        case 2:
            if (enc != 0x80)
                return -1;
            hl = 5;
            if (avail < plen + 5)
                return -1;
            dlen = (size_t)get_be(p + pos + plen + 1, 4);
            break;
        default: {
            unsigned w;
            hl = 1;
            is_int = 1;
            if (enc == 0xC0) {
                w = 2;
            } else if (enc == 0xD0) {
                w = 4;
            } else if (enc == 0xE0) {
                w = 8;
            } else if (enc == 0xF0) {
                w = 3;
            } else if (enc == 0xFE) {
                w = 1;
            } else if (enc >= 0xF1 && enc <= 0xFD) {
                w = 0;
                v = (long long)(enc & 0x0f) - 1;
            } else {
                return -1;
            }
            if (w > avail - plen - hl)
                return -1;
            if (w > 0)
                v = sign_extend(get_le(p + pos + plen + hl, w), 8 * w);
            dlen = w;
            break;
        }
        }
        if (dlen > avail - plen - hl)
            return -1;
        d = p + pos + plen + hl;
        if (fn) {
            int r = is_int ? emit_int(fn, arg, v) : fn(arg, d, dlen);
            if (r < 0)
                return -1;
        }
        last = pos;
        prev = plen + hl + dlen;
        pos += prev;
        count++;
    }
    if (tail != last)
        return -1;
    if (num != 65535 && num != (uint64_t)count)
        return -1;
    return count;
}

long long rdb_listpack_walk(const unsigned char *p, size_t len,
                           int (*fn)(void *arg, const unsigned char *p, size_t len), void *arg)
{
    return lp_walk(p, len, fn, arg);
}

size_t rlp_entry_size_int(long long v)
{
    size_t n;
    if (v >= 0 && v <= 127)
        n = 1;
    else if (v >= -4096 && v <= 4095)
        n = 2;
    else if (v >= INT16_MIN && v <= INT16_MAX)
        n = 3;
    else if (v >= -8388608 && v <= 8388607)
        n = 4;
    else if (v >= INT32_MIN && v <= INT32_MAX)
        n = 5;
    else
        n = 9;
    return n + backlen_size(n);
}

size_t rlp_entry_size(const void *p, size_t len)
{
    long long v;
    if (canon_ll(p, len, &v))
        return rlp_entry_size_int(v);
    size_t n = len + (len < 64 ? 1 : len < 4096 ? 2 : 5);
    return n + backlen_size(n);
}

int rdb_listpack_valid(const unsigned char *p, size_t len)
{
    return lp_walk(p, len, NULL, NULL) >= 0;
}

int rdb_ziplist_valid(const unsigned char *p, size_t len)
{
    return zl_walk(p, len, NULL, NULL) >= 0;
}

int rdb_intset_valid(const unsigned char *p, size_t len)
{
    if (len < 8)
        return 0;
    uint64_t w = get_le(p, 4), n = get_le(p + 4, 4);
    if (w != 2 && w != 4 && w != 8)
        return 0;
    if (n == 0 || (len - 8) / w != n || (len - 8) % w != 0)
        return 0;
    int64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t v = sign_extend(get_le(p + 8 + i * w, (unsigned)w), (unsigned)(8 * w));
        if (i > 0 && v <= prev)
            return 0;
        prev = v;
    }
    return 1;
}

/* ---- value decoding ---- */

/* State for turning a flat element sequence into pairs (hash fields and
 * values, zset members and scores). */
struct pairing {
    const struct rdb_sink *sink;
    int zset;
    int have_first;
    const unsigned char *fp;
    size_t flen;
    char fbuf[24];
    long long elems;
};

static int pair_elem(void *arg, const unsigned char *p, size_t len)
{
    struct pairing *pr = arg;
    pr->elems++;
    if (!pr->have_first) {
        /* Integer text lives in the walker's stack buffer: copy it. */
        if (len < sizeof(pr->fbuf)) {
            memcpy(pr->fbuf, p, len);
            pr->fp = (const unsigned char *)pr->fbuf;
        } else {
            pr->fp = p;
        }
        pr->flen = len;
        pr->have_first = 1;
        return 0;
    }
    pr->have_first = 0;
    const struct rdb_sink *s = pr->sink;
    if (pr->zset) {
        double score;
        if (parse_score(p, len, &score) < 0)
            return -1;
        return s->zelem(s->arg, pr->fp, pr->flen, score);
    }
    return s->pair(s->arg, pr->fp, pr->flen, p, len);
}

static int sink_elem(void *arg, const unsigned char *p, size_t len)
{
    const struct rdb_sink *s = arg;
    return s->elem(s->arg, p, len);
}

/* Decodes a ziplist or listpack (is_lp) of pairs. */
static int decode_pairs_blob(const unsigned char *p, size_t len, int is_lp, int zset,
                             const struct rdb_sink *sink)
{
    struct pairing pr = {.sink = sink, .zset = zset};
    long long n = is_lp ? lp_walk(p, len, pair_elem, &pr) : zl_walk(p, len, pair_elem, &pr);
    if (n <= 0 || pr.have_first)
        return -1;
    return 0;
}

/* Zipmap length: 1 byte, or 0xFE + u32 LE. */
static int zm_len(const unsigned char *p, size_t end, size_t *pos, size_t *len)
{
    if (*pos >= end)
        return -1;
    if (p[*pos] < 254) {
        *len = p[(*pos)++];
        return 0;
    }
    if (p[*pos] != 254 || end - *pos < 5)
        return -1;
    *len = (size_t)get_le(p + *pos + 1, 4);
    *pos += 5;
    return 0;
}

static int decode_zipmap(const unsigned char *p, size_t len, const struct rdb_sink *sink)
{
    if (len < 2 || p[len - 1] != 0xFF)
        return -1;
    size_t pos = 1, end = len - 1, n = 0;
    while (pos < end) {
        size_t klen, vlen;
        if (zm_len(p, end, &pos, &klen) < 0 || klen > end - pos)
            return -1;
        const unsigned char *k = p + pos;
        pos += klen;
        if (zm_len(p, end, &pos, &vlen) < 0 || pos >= end)
            return -1;
        size_t freeb = p[pos++];
        if (vlen > end - pos || freeb > end - pos - vlen)
            return -1;
        if (sink->pair(sink->arg, k, klen, p + pos, vlen) < 0)
            return -1;
        pos += vlen + freeb;
        n++;
    }
    return n > 0 ? 0 : -1;
}

int rdb_type_supported(int type)
{
    switch (type) {
    case RDB_TYPE_STRING:
    case RDB_TYPE_LIST:
    case RDB_TYPE_SET:
    case RDB_TYPE_ZSET:
    case RDB_TYPE_HASH:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_LIST_QUICKLIST_2:
        return 1;
    default:
        return 0;
    }
}

static enum rdb_kind kind_of(int type)
{
    switch (type) {
    case RDB_TYPE_STRING:
        return RDB_KIND_STRING;
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        return RDB_KIND_LIST;
    case RDB_TYPE_SET:
    case RDB_TYPE_SET_INTSET:
        return RDB_KIND_SET;
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        return RDB_KIND_ZSET;
    default:
        return RDB_KIND_HASH;
    }
}

/* Plain aggregates: a count, then strings (and scores). */
static int decode_plain(struct rdb_in *in, int type, const struct rdb_sink *sink, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        struct rdb_str a, b;
        int r = -1;
        if (rdb_in_string(in, &a) < 0)
            return -1;
        switch (type) {
        case RDB_TYPE_LIST:
        case RDB_TYPE_SET:
            r = sink->elem(sink->arg, a.p, a.len);
            break;
        case RDB_TYPE_ZSET:
        case RDB_TYPE_ZSET_2: {
            double score;
            int ok = type == RDB_TYPE_ZSET ? in_old_double(in, &score) : rdb_in_double(in, &score);
            if (ok == 0 && !isnan(score))
                r = sink->zelem(sink->arg, a.p, a.len, score);
            break;
        }
        default:
            if (rdb_in_string(in, &b) == 0) {
                r = sink->pair(sink->arg, a.p, a.len, b.p, b.len);
                rdb_str_free(&b);
            }
            break;
        }
        rdb_str_free(&a);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* The quicklist forms: a count of nodes, each a ziplist (v1) or a
 * container kind and a listpack or plain element (v2). */
static int decode_quicklist(struct rdb_in *in, int type, const struct rdb_sink *sink,
                            uint64_t nodes)
{
    long long total = 0;
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = RDB_QL_PACKED;
        struct rdb_str s;
        long long n;
        if (type == RDB_TYPE_LIST_QUICKLIST_2 &&
            (rdb_in_len(in, &container, NULL) < 0 ||
             (container != RDB_QL_PLAIN && container != RDB_QL_PACKED)))
            return -1;
        if (rdb_in_string(in, &s) < 0)
            return -1;
        if (container == RDB_QL_PLAIN) {
            n = sink->elem(sink->arg, s.p, s.len) < 0 ? -1 : 1;
        } else if (type == RDB_TYPE_LIST_QUICKLIST_2) {
            n = lp_walk(s.p, s.len, sink_elem, (void *)sink);
        } else {
            n = zl_walk(s.p, s.len, sink_elem, (void *)sink);
            if (n == 0)
                n = -1;     /* Redis refuses empty ziplist nodes */
        }
        rdb_str_free(&s);
        if (n < 0)
            return -1;
        total += n;
    }
    return total > 0 ? 0 : -1;
}

int rdb_decode_value(struct rdb_in *in, int type, const struct rdb_sink *sink)
{
    if (!rdb_type_supported(type))
        return -1;
    enum rdb_kind kind = kind_of(type);
    uint64_t n = 1;
    struct rdb_str s;
    int r;

    switch (type) {
    case RDB_TYPE_STRING:
        if (rdb_in_string(in, &s) < 0)
            return -1;
        r = sink->begin(sink->arg, kind, 1);
        if (r == 0)
            r = sink->elem(sink->arg, s.p, s.len);
        rdb_str_free(&s);
        return r < 0 ? -1 : 0;
    case RDB_TYPE_LIST:
    case RDB_TYPE_SET:
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_HASH:
        if (rdb_in_len(in, &n, NULL) < 0 || n == 0)
            return -1;
        if (sink->begin(sink->arg, kind, n) < 0)
            return -1;
        return decode_plain(in, type, sink, n);
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        if (rdb_in_len(in, &n, NULL) < 0 || n == 0)
            return -1;
        if (sink->begin(sink->arg, kind, n) < 0)
            return -1;
        return decode_quicklist(in, type, sink, n);
    default:
        break;
    }

    /* One blob. */
    if (rdb_in_string(in, &s) < 0)
        return -1;
    r = -1;
    switch (type) {
    case RDB_TYPE_SET_INTSET:
        if (!rdb_intset_valid(s.p, s.len))
            break;
        n = get_le(s.p + 4, 4);
        if (sink->begin(sink->arg, kind, n) < 0)
            break;
        if (sink->intset) {
            r = sink->intset(sink->arg, s.p, s.len);
            break;
        }
        {
            unsigned w = (unsigned)get_le(s.p, 4);
            r = 0;
            for (uint64_t i = 0; i < n && r == 0; i++)
                r = emit_int(sink_elem, (void *)sink,
                             sign_extend(get_le(s.p + 8 + i * w, w), 8 * w));
        }
        break;
    case RDB_TYPE_LIST_ZIPLIST:
        if (sink->begin(sink->arg, kind, 0) < 0)
            break;
        r = zl_walk(s.p, s.len, sink_elem, (void *)sink) > 0 ? 0 : -1;
        break;
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_HASH_LISTPACK:
        if (sink->begin(sink->arg, kind, 0) < 0)
            break;
        r = decode_pairs_blob(s.p, s.len,
                              type == RDB_TYPE_ZSET_LISTPACK || type == RDB_TYPE_HASH_LISTPACK,
                              kind == RDB_KIND_ZSET, sink);
        break;
    case RDB_TYPE_HASH_ZIPMAP:
        if (sink->begin(sink->arg, kind, 0) < 0)
            break;
        r = decode_zipmap(s.p, s.len, sink);
        break;
    default:
        break;
    }
    rdb_str_free(&s);
    return r;
}
