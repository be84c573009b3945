/*
 * t_bit.c — the bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD and BITFIELD_RO.
 *
 * A bitmap is an ordinary string value.  Bit 0 is the most significant bit
 * of byte 0, so bit n lives in byte n/8 under the mask 0x80 >> (n%8);
 * bitfields are big-endian runs of bits in that same order.  Writes grow
 * the string with zero bytes (string_grow_zero); reads past the end see
 * zeros.  Behaviour, replies and error order follow Redis 7.0.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "t_string.h"

static const char ERR_BIT_OFFSET[] = "ERR bit offset is not an integer or out of range";
static const char ERR_BIT_VALUE[] = "ERR bit is not an integer or out of range";
static const char ERR_BF_TYPE[] =
    "ERR Invalid bitfield type. Use something like i16 u8. "
    "Note that u64 is not supported but i64 is.";

/* ---- helpers ---- */

static int arg_ll(struct client *c, const struct slice *a, long long *out)
{
    if (!rc_str2ll(a->p, a->len, out)) {
        reply_err_not_int(c);
        return -1;
    }
    return 0;
}

/*
 * Parses a bit offset.  With field_bits > 0 the form "#N" is accepted and
 * means N * field_bits (BITFIELD).  The offset must be non-negative and
 * address a byte below proto-max-bulk-len (clients that must be obeyed are
 * not limited).  Returns 0, or -1 after replying the error.
 */
static int parse_bit_offset(struct client *c, const struct slice *a, int field_bits,
                            uint64_t *out)
{
    int hash = field_bits > 0 && a->len > 0 && a->p[0] == '#';
    long long v;
    if (!rc_str2ll(a->p + hash, a->len - (size_t)hash, &v) ||
        (hash && __builtin_mul_overflow(v, (long long)field_bits, &v)) || v < 0 ||
        (!(c->flags & CF_FAKE) && (v >> 3) >= server.proto_max_bulk_len)) {
        reply_error(c, ERR_BIT_OFFSET);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/*
 * The string at argv[1] for a write reaching bit `maxbit`: created as zero
 * bytes when missing, else made raw and zero-padded up to that bit's byte.
 * Sets *grew when it created or lengthened the string (Redis then counts
 * every write as a change).  Returns NULL after replying WRONGTYPE.  The
 * returned entry stays valid until the next keyspace change.
 */
static struct kv *string_for_bit_write(struct client *c, uint64_t maxbit, int *grew)
{
    const struct slice *key = &c->argv[1];
    size_t need = (size_t)(maxbit >> 3) + 1;
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL) {
        struct rstr *r = rstr_new(NULL, 0, need);
        memset(r->buf, 0, need + 1);
        r->len = need;
        o = kv_new_raw(key->p, key->len, r, -1);
        db_add(c->db, o);
        *grew = 1;
        return o;
    }
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return NULL;
    }
    *grew = kv_strlen(o) < need;
    string_grow_zero(o, need);
    db_signal_modified(c->db, key->p, key->len);
    return o;
}

/* Set bits in p[0..n-1]: whole 64-bit words through the popcount
 * instruction, then the tail. */
static unsigned long long popcount(const unsigned char *p, size_t n)
{
    unsigned long long count = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof(w));
        count += (unsigned long long)(__builtin_popcountll(w[0]) + __builtin_popcountll(w[1]) +
                                      __builtin_popcountll(w[2]) + __builtin_popcountll(w[3]));
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        count += (unsigned long long)__builtin_popcountll(w);
    }
    for (; i < n; i++)
        count += (unsigned long long)__builtin_popcount(p[i]);
    return count;
}

/*
 * Resolves a BITCOUNT/BITPOS range to inclusive bit positions, the way
 * Redis 7.0 does: negative indexes count from the end, then both are
 * clamped into the value.  `isbit` says the indexes are bits, else bytes.
 * Returns 0 when the range is empty.
 */
static int resolve_range(long long len, long long start, long long end, int isbit,
                         long long *sbit, long long *ebit)
{
    long long total = isbit ? len * 8 : len;   /* len <= LLONG_MAX / 8 */
    if (start < 0)
        start = total + start;
    if (end < 0)
        end = total + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= total)
        end = total - 1;
    if (start > end)
        return 0;
    *sbit = isbit ? start : start * 8;
    *ebit = isbit ? end : end * 8 + 7;
    return 1;
}

/* Mask of the bits of byte `byte` that lie within [sbit, ebit]. */
static unsigned char range_mask(long long byte, long long sbit, long long ebit)
{
    unsigned mask = 0xff;
    if (byte == sbit >> 3)
        mask &= 0xffu >> (sbit & 7);
    if (byte == ebit >> 3)
        mask &= 0xffu << (7 - (ebit & 7));
    return (unsigned char)mask;
}

/* Set bits of p within the inclusive bit range [sbit, ebit]. */
static unsigned long long count_range(const unsigned char *p, long long sbit, long long ebit)
{
    long long first = sbit >> 3, last = ebit >> 3;
    unsigned char fm = range_mask(first, sbit, ebit);
    unsigned long long n = (unsigned long long)__builtin_popcount(p[first] & fm);
    if (last == first)
        return n;
    n += popcount(p + first + 1, (size_t)(last - first - 1));
    n += (unsigned long long)__builtin_popcount(p[last] & range_mask(last, sbit, ebit));
    return n;
}

/* First bit equal to `bit` within [sbit, ebit] of p, or -1. */
static long long find_bit(const unsigned char *p, long long sbit, long long ebit, int bit)
{
    long long byte = sbit >> 3, last = ebit >> 3;
    const unsigned char flip = bit ? 0x00 : 0xff;   /* turn the sought bits into 1s */
    while (byte <= last) {
        if (byte != sbit >> 3 && byte != last && last - byte >= 8) {
            /* Skip whole words holding no sought bit. */
            const uint64_t skip = bit ? 0 : UINT64_MAX;
            uint64_t w;
            memcpy(&w, p + byte, sizeof(w));
            if (w == skip) {
                byte += 8;
                continue;
            }
        }
        unsigned b = (unsigned)(p[byte] ^ flip) & range_mask(byte, sbit, ebit);
        if (b)
            return byte * 8 + (__builtin_clz(b) - (int)(sizeof(unsigned) * 8 - 8));
        byte++;
    }
    return -1;
}

/* ---- SETBIT / GETBIT ---- */

/* SETBIT key offset value: returns the bit's previous value. */
void cmd_setbit(struct client *c)
{
    uint64_t off;
    if (parse_bit_offset(c, &c->argv[2], 0, &off) != 0)
        return;
    long on;
    if (!rc_str2l(c->argv[3].p, c->argv[3].len, &on) || (on & ~1L)) {
        reply_error(c, ERR_BIT_VALUE);
        return;
    }
    int grew = 0;
    struct kv *o = string_for_bit_write(c, off, &grew);
    if (o == NULL)
        return;
    struct rstr *r = o->v.ptr;
    unsigned char *byte = (unsigned char *)r->buf + (off >> 3);
    unsigned char mask = (unsigned char)(0x80u >> (off & 7));
    int old = (*byte & mask) != 0;
    if (on)
        *byte |= mask;
    else
        *byte &= (unsigned char)~mask;
    /* Redis 7.0 announces a SETBIT only when the bit or the length changed. */
    if (grew || old != (int)on)
        notify_event(NOTIFY_STRING, "setbit", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    reply_long(c, old);
}

/* GETBIT key offset: bits past the end read as 0. */
void cmd_getbit(struct client *c)
{
    uint64_t off;
    if (parse_bit_offset(c, &c->argv[2], 0, &off) != 0)
        return;
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return;
    }
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    int bit = 0;
    if ((off >> 3) < sv.len)
        bit = (((const unsigned char *)sv.p)[off >> 3] & (0x80u >> (off & 7))) != 0;
    reply_long(c, bit);
}

/* ---- BITCOUNT / BITPOS ---- */

/* Parses the optional BYTE|BIT unit at argv[i]; 0 or -1 after replying. */
static int parse_unit(struct client *c, int i, int *isbit)
{
    if (arg_is(&c->argv[i], "BIT")) {
        *isbit = 1;
    } else if (arg_is(&c->argv[i], "BYTE")) {
        *isbit = 0;
    } else {
        reply_err_syntax(c);
        return -1;
    }
    return 0;
}

/*
 * BITCOUNT key [start end [BYTE|BIT]]
 * As in Redis 7.0 the key is looked up before the arguments are parsed,
 * so a missing key answers 0 whatever follows it.
 */
void cmd_bitcount(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return;
    }
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    long long len = (long long)sv.len;
    long long start = 0, end = -1;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (arg_ll(c, &c->argv[2], &start) != 0 || arg_ll(c, &c->argv[3], &end) != 0)
            return;
        if (start < 0 && end < 0 && start > end) {
            reply_long(c, 0);
            return;
        }
        if (c->argc == 5 && parse_unit(c, 4, &isbit) != 0)
            return;
    } else if (c->argc != 2) {
        reply_err_syntax(c);
        return;
    }
    long long sbit, ebit;
    if (!resolve_range(len, start, end, isbit, &sbit, &ebit)) {
        reply_long(c, 0);
        return;
    }
    reply_long(c, (long long)count_range((const unsigned char *)sv.p, sbit, ebit));
}

/*
 * BITPOS key bit [start [end [BYTE|BIT]]]
 * A missing key is an endless run of zeros (0 for bit 0, -1 for bit 1).
 * Looking for 0 in a range of ones answers the first bit after the range
 * when no end was given (the value is seen as zero-padded), -1 otherwise.
 */
void cmd_bitpos(struct client *c)
{
    long bit;
    if (!rc_str2l(c->argv[2].p, c->argv[2].len, &bit)) {
        reply_err_not_int(c);
        return;
    }
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, bit ? -1 : 0);
        return;
    }
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return;
    }
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    long long len = (long long)sv.len;
    long long start = 0, end = -1;
    int isbit = 0, end_given = 0;
    if (c->argc >= 4 && c->argc <= 6) {
        if (arg_ll(c, &c->argv[3], &start) != 0)
            return;
        if (c->argc == 6 && parse_unit(c, 5, &isbit) != 0)
            return;
        if (c->argc >= 5) {
            if (arg_ll(c, &c->argv[4], &end) != 0)
                return;
            end_given = 1;
        }
    } else if (c->argc != 3) {
        reply_err_syntax(c);
        return;
    }
    long long sbit, ebit;
    if (!resolve_range(len, start, end, isbit, &sbit, &ebit)) {
        reply_long(c, -1);
        return;
    }
    long long pos = find_bit((const unsigned char *)sv.p, sbit, ebit, (int)bit);
    if (pos < 0 && bit == 0 && !end_given)
        pos = ebit + 1;
    reply_long(c, pos);
}

/* ---- BITOP ---- */

enum bitop { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

struct bitop_src {
    const unsigned char *p;
    size_t len;
    char scratch[32];       /* digits of an int-encoded value */
};

/*
 * BITOP AND|OR|XOR|NOT destkey key [key ...]
 * Missing sources are empty strings, shorter sources are zero-padded to
 * the longest.  The result is stored as a raw string (its TTL dropped);
 * an empty result deletes destkey.  Returns the result's length.
 */
void cmd_bitop(struct client *c)
{
    const struct slice *opname = &c->argv[1], *dest = &c->argv[2];
    enum bitop op;
    if (arg_is(opname, "AND"))
        op = BITOP_AND;
    else if (arg_is(opname, "OR"))
        op = BITOP_OR;
    else if (arg_is(opname, "XOR"))
        op = BITOP_XOR;
    else if (arg_is(opname, "NOT"))
        op = BITOP_NOT;
    else {
        reply_err_syntax(c);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }

    size_t nsrc = (size_t)c->argc - 3, maxlen = 0;
    struct bitop_src *src = rc_malloc(sizeof(*src) * nsrc);
    for (size_t j = 0; j < nsrc; j++) {
        struct kv *o = db_lookup_read(c, &c->argv[j + 3]);
        src[j].p = NULL;
        src[j].len = 0;
        if (o == NULL)
            continue;
        if (o->type != OBJ_STRING) {
            rc_free(src);
            reply_err_wrongtype(c);
            return;
        }
        struct strview sv = kv_strview(o, src[j].scratch);
        src[j].p = (const unsigned char *)sv.p;
        src[j].len = sv.len;
        if (sv.len > maxlen)
            maxlen = sv.len;
    }

    if (maxlen == 0) {
        rc_free(src);
        if (db_delete(c->db, dest->p, dest->len, server.lazyfree_lazy_server_del)) {
            notify_event(NOTIFY_GENERIC, "del", c->db, dest->p, dest->len);
            server.stat_dirty++;
        }
        reply_long(c, 0);
        return;
    }

    /* The sources point into live entries: compute before storing. */
    struct rstr *r = rstr_new(NULL, 0, maxlen);
    unsigned char *res = (unsigned char *)r->buf;
    if (src[0].len)
        memcpy(res, src[0].p, src[0].len);
    memset(res + src[0].len, 0, maxlen - src[0].len);
    if (op == BITOP_NOT) {
        for (size_t i = 0; i < maxlen; i++)
            res[i] = (unsigned char)~res[i];
    }
    for (size_t j = 1; j < nsrc; j++) {
        const unsigned char *s = src[j].p;
        size_t n = src[j].len;
        switch (op) {
        case BITOP_AND:
            for (size_t i = 0; i < n; i++)
                res[i] &= s[i];
            memset(res + n, 0, maxlen - n);
            break;
        case BITOP_OR:
            for (size_t i = 0; i < n; i++)
                res[i] |= s[i];
            break;
        case BITOP_XOR:
            for (size_t i = 0; i < n; i++)
                res[i] ^= s[i];
            break;
        case BITOP_NOT:
            break;  /* a single source, handled above */
        }
    }
    r->len = maxlen;
    r->buf[maxlen] = '\0';
    rc_free(src);
    db_overwrite(c->db, kv_new_raw(dest->p, dest->len, r, -1));
    notify_event(NOTIFY_STRING, "set", c->db, dest->p, dest->len);
    server.stat_dirty++;
    reply_long(c, (long long)maxlen);
}

/* ---- BITFIELD ---- */

enum bf_opcode { BF_GET, BF_SET, BF_INCRBY };
enum bf_overflow { BF_WRAP, BF_SAT, BF_FAIL };

struct bf_op {
    uint64_t offset;        /* first bit of the field */
    long long arg;          /* SET value or INCRBY increment */
    enum bf_opcode opcode;
    enum bf_overflow overflow;
    int bits;               /* 1..64 signed, 1..63 unsigned */
    int sign;
};

/* Parses "i<bits>" (1..64) or "u<bits>" (1..63); 0 or -1 after replying. */
static int parse_bf_type(struct client *c, const struct slice *a, int *sign, int *bits)
{
    long long n;
    if (a->len < 1 || (a->p[0] != 'i' && a->p[0] != 'u') ||
        !rc_str2ll(a->p + 1, a->len - 1, &n) || n < 1 || n > (a->p[0] == 'i' ? 64 : 63)) {
        reply_error(c, ERR_BF_TYPE);
        return -1;
    }
    *sign = a->p[0] == 'i';
    *bits = (int)n;
    return 0;
}

/*
 * A field is at most 64 bits at any bit offset, so it lies within 9 bytes.
 * Those bytes are copied to a zero-padded window (avail bytes of p exist
 * from the field's first byte on), read or written there as a big-endian
 * 72-bit number, and copied back.
 */
static uint64_t bf_window_get(const unsigned char *w, unsigned shift, int bits)
{
    uint64_t hi = 0;
    for (int i = 0; i < 8; i++)
        hi = (hi << 8) | w[i];
    uint64_t v = shift ? (hi << shift) | (uint64_t)(w[8] >> (8 - shift)) : hi;
    return bits == 64 ? v : v >> (64 - bits);
}

static void bf_window_set(unsigned char *w, unsigned shift, int bits, uint64_t value)
{
    uint64_t mask = bits == 64 ? UINT64_MAX : ((UINT64_C(1) << bits) - 1) << (64 - bits);
    uint64_t v = bits == 64 ? value : value << (64 - bits);
    /* Place the 64-bit aligned field at bit `shift` of the 72-bit window. */
    uint64_t hi = 0;
    for (int i = 0; i < 8; i++)
        hi = (hi << 8) | w[i];
    unsigned lo = w[8];
    hi = (hi & ~(mask >> shift)) | ((v & mask) >> shift);
    if (shift) {
        unsigned lomask = (unsigned)(mask << (64 - shift) >> 56);
        unsigned lov = (unsigned)((v & mask) << (64 - shift) >> 56);
        lo = (lo & ~lomask) | lov;
    }
    for (int i = 7; i >= 0; i--) {
        w[i] = (unsigned char)hi;
        hi >>= 8;
    }
    w[8] = (unsigned char)lo;
}

static uint64_t bf_read(const unsigned char *p, size_t len, uint64_t offset, int bits)
{
    unsigned char w[9] = {0};
    uint64_t byte = offset >> 3;
    for (size_t i = 0; i < 9 && byte + i < len; i++)
        w[i] = p[byte + i];
    return bf_window_get(w, (unsigned)(offset & 7), bits);
}

static void bf_write(unsigned char *p, size_t len, uint64_t offset, int bits, uint64_t value)
{
    unsigned char w[9] = {0};
    uint64_t byte = offset >> 3;
    size_t n = 0;
    for (; n < 9 && byte + n < len; n++)
        w[n] = p[byte + n];
    bf_window_set(w, (unsigned)(offset & 7), bits, value);
    memcpy(p + byte, w, n);
}

/* Sign-extends the low `bits` bits of v. */
static long long bf_sign_extend(uint64_t v, int bits)
{
    if (bits < 64) {
        uint64_t msb = UINT64_C(1) << (bits - 1);
        uint64_t low = v & ((UINT64_C(1) << bits) - 1);
        v = (low ^ msb) - msb;  /* two's complement extension, no UB */
    }
    long long out;
    memcpy(&out, &v, sizeof(out));
    return out;
}

/*
 * value + incr for a signed field of `bits` bits.  Returns 0 and the sum
 * in *res when it fits; otherwise 1 (overflow) or -1 (underflow), with
 * *res set to the wrapped or saturated result as `ow` asks (untouched for
 * FAIL).
 */
static int bf_signed_add(long long value, long long incr, int bits, enum bf_overflow ow,
                         long long *res)
{
    long long max = bits == 64 ? LLONG_MAX : (long long)((UINT64_C(1) << (bits - 1)) - 1);
    long long min = -max - 1;
    long long sum;
    int dir;
    if (__builtin_add_overflow(value, incr, &sum))
        dir = incr > 0 ? 1 : -1;
    else
        dir = sum > max ? 1 : sum < min ? -1 : 0;
    if (dir == 0) {
        *res = sum;
        return 0;
    }
    if (ow == BF_WRAP)
        *res = bf_sign_extend((uint64_t)value + (uint64_t)incr, bits);
    else if (ow == BF_SAT)
        *res = dir > 0 ? max : min;
    return dir;
}

/* value + incr for an unsigned field of `bits` (< 64) bits; as above. */
static int bf_unsigned_add(uint64_t value, long long incr, int bits, enum bf_overflow ow,
                           uint64_t *res)
{
    uint64_t max = (UINT64_C(1) << bits) - 1;
    uint64_t mag = incr < 0 ? -(uint64_t)incr : (uint64_t)incr;
    int dir = 0;
    if (value > max || (incr > 0 && mag > max - value))
        dir = 1;
    else if (incr < 0 && mag > value)
        dir = -1;
    if (dir == 0) {
        *res = value + (uint64_t)incr;
        return 0;
    }
    if (ow == BF_WRAP)
        *res = (value + (uint64_t)incr) & max;
    else if (ow == BF_SAT)
        *res = dir > 0 ? max : 0;
    return dir;
}

/* Runs one SET or INCRBY on the raw buffer r and replies its result. */
/* Returns 1 if the field's bits changed, 0 if the write left them as they
 * were, -1 if it failed (OVERFLOW FAIL). */
static int bf_exec_write(struct client *c, struct rstr *r, const struct bf_op *op)
{
    unsigned char *p = (unsigned char *)r->buf;
    uint64_t raw = bf_read(p, r->len, op->offset, op->bits);
    int overflow;
    long long reply;
    uint64_t store;
    if (op->sign) {
        long long old = bf_sign_extend(raw, op->bits), nv = 0;
        if (op->opcode == BF_INCRBY) {
            overflow = bf_signed_add(old, op->arg, op->bits, op->overflow, &nv);
            reply = nv;
        } else {
            overflow = bf_signed_add(op->arg, 0, op->bits, op->overflow, &nv);
            reply = old;
        }
        store = (uint64_t)nv;
    } else {
        uint64_t nv = 0;
        if (op->opcode == BF_INCRBY) {
            overflow = bf_unsigned_add(raw, op->arg, op->bits, op->overflow, &nv);
            reply = (long long)nv;
        } else {
            overflow = bf_unsigned_add((uint64_t)op->arg, 0, op->bits, op->overflow, &nv);
            reply = (long long)raw;
        }
        store = nv;
    }
    if (overflow && op->overflow == BF_FAIL) {
        reply_null(c);
        return -1;
    }
    if (op->bits < 64)
        store &= (UINT64_C(1) << op->bits) - 1;
    bf_write(p, r->len, op->offset, op->bits, store);
    reply_long(c, reply);
    return store != raw;
}

/*
 * BITFIELD key [GET type offset] [SET type offset value]
 *              [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
 * All operations are parsed (and every error reported) before the key is
 * touched; OVERFLOW applies to the SET/INCRBY operations after it.  With
 * readonly set (BITFIELD_RO) only GET is allowed.
 */
static void bitfield_generic(struct client *c, int readonly_cmd)
{
    int maxops = (c->argc - 2) / 3 + 1;
    struct bf_op *ops = rc_malloc(sizeof(*ops) * (size_t)maxops);
    int nops = 0, writes = 0;
    enum bf_overflow ow = BF_WRAP;
    uint64_t highest = 0;   /* last bit any write touches */

    for (int j = 2; j < c->argc; j++) {
        const struct slice *sub = &c->argv[j];
        int rem = c->argc - j - 1;
        enum bf_opcode opcode;
        if (arg_is(sub, "GET") && rem >= 2) {
            opcode = BF_GET;
        } else if (arg_is(sub, "SET") && rem >= 3) {
            opcode = BF_SET;
        } else if (arg_is(sub, "INCRBY") && rem >= 3) {
            opcode = BF_INCRBY;
        } else if (arg_is(sub, "OVERFLOW") && rem >= 1) {
            const struct slice *t = &c->argv[++j];
            if (arg_is(t, "WRAP")) {
                ow = BF_WRAP;
            } else if (arg_is(t, "SAT")) {
                ow = BF_SAT;
            } else if (arg_is(t, "FAIL")) {
                ow = BF_FAIL;
            } else {
                reply_error(c, "ERR Invalid OVERFLOW type specified");
                goto out;
            }
            continue;
        } else {
            reply_err_syntax(c);
            goto out;
        }

        struct bf_op *op = &ops[nops];
        if (parse_bf_type(c, &c->argv[j + 1], &op->sign, &op->bits) != 0 ||
            parse_bit_offset(c, &c->argv[j + 2], op->bits, &op->offset) != 0)
            goto out;
        op->arg = 0;
        if (opcode != BF_GET) {
            writes++;
            uint64_t lastbit = op->offset + (uint64_t)op->bits - 1;
            if (lastbit > highest)
                highest = lastbit;
            if (arg_ll(c, &c->argv[j + 3], &op->arg) != 0)
                goto out;
        }
        op->opcode = opcode;
        op->overflow = ow;
        nops++;
        j += opcode == BF_GET ? 2 : 3;
    }

    struct kv *o;
    int grew = 0, changes = 0;
    if (writes == 0) {
        o = db_lookup_read(c, &c->argv[1]);
        if (o != NULL && o->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto out;
        }
    } else {
        if (readonly_cmd) {
            reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto out;
        }
        o = string_for_bit_write(c, highest, &grew);
        if (o == NULL)
            goto out;
    }

    reply_array_len(c, nops);
    for (int i = 0; i < nops; i++) {
        const struct bf_op *op = &ops[i];
        if (op->opcode != BF_GET) {
            /* Redis counts a write that changed the bits, or any
             * completed write when the string was created or grown. */
            int changed = bf_exec_write(c, o->v.ptr, op);
            if (changed > 0 || (changed == 0 && grew))
                changes++;
            continue;
        }
        uint64_t raw = 0;
        if (o != NULL) {
            char tmp[32];
            struct strview sv = kv_strview(o, tmp);
            raw = bf_read((const unsigned char *)sv.p, sv.len, op->offset, op->bits);
        }
        reply_long(c, op->sign ? bf_sign_extend(raw, op->bits) : (long long)raw);
    }
    server.stat_dirty += writes;
    if (changes)
        notify_event(NOTIFY_STRING, "setbit", c->db, c->argv[1].p, c->argv[1].len);
out:
    rc_free(ops);
}

void cmd_bitfield(struct client *c)
{
    bitfield_generic(c, 0);
}

void cmd_bitfield_ro(struct client *c)
{
    bitfield_generic(c, 1);
}
