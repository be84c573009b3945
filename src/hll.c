/*
 * hll.c — HyperLogLog sketches in Redis's "HYLL" string representation.
 *
 * The format (Redis 2.8.9 and later; byte for byte what redis-server 7.0
 * stores, so the strings travel through GET/SET, DUMP/RESTORE and RDB):
 *
 *   Header, 16 bytes:
 *     0..3   "HYLL"
 *     4      encoding: 0 dense, 1 sparse
 *     5..7   unused, zero
 *     8..15  cached cardinality, 64-bit little-endian; the top bit of
 *            byte 15 set means "stale, recompute" (written by every
 *            change, cleared by PFCOUNT of the key)
 *
 *   Registers: m = 2^14 = 16384 of them.  An element is hashed with
 *   MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the register,
 *   and the register may rise to 1 + the number of trailing zero bits of
 *   the remaining 50 bits (bit 50 forced to one, so at most 51).
 *
 *   Dense (exactly 16 + 12288 bytes): 6 bits per register, register i at
 *   bit offset 6*i, least significant bits first: its low bits are the
 *   high bits of byte 6i/8 and any rest are the low bits of the next byte.
 *
 *   Sparse: a run-length code of the registers in order, three opcodes:
 *     ZERO   00xxxxxx            xxxxxx+1 (1..64) registers at 0
 *     XZERO  01xxxxxx yyyyyyyy   xxxxxxyyyyyyyy+1 (1..16384) registers at 0
 *     VAL    1vvvvvxx            xx+1 (1..4) registers at vvvvv+1 (1..32)
 *   A valid sketch covers exactly 16384 registers.  An empty one is a
 *   single XZERO of 16384.  A sketch becomes dense when a register needs
 *   a value above 32 or when an update would make the string longer than
 *   hll-sparse-max-bytes (header included), and never goes back.
 *
 * Updates are made the way Redis makes them (split the covering opcode
 * into at most three, then merge equal neighbouring VALs over the next
 * few opcodes), because the resulting bytes are visible through GET and
 * must match redis-server's.  The cardinality is Otmar Ertl's improved
 * raw estimator over the histogram of register values, as in Redis 5+.
 *
 * Everything that decodes sparse opcodes is bounds-checked against the
 * string's length (CVE-2025-32023 was an out-of-bounds write in this kind
 * of code): run lengths are summed in a size_t and checked against the
 * register count before any register is touched.
 *
 * The byte after the string.  Redis's strings are followed by one more
 * byte, normally the NUL terminator, and its sparse code reads it as the
 * second byte of an XZERO opcode that the string cuts in half (a corrupt
 * sketch).  Splitting such an opcode writes the last byte of the new
 * opcodes there instead of inside the string, where later reads find it.
 * To give byte-identical results on such strings too, this file uses the
 * same model: every sketch buffer s[0..len) is followed by a readable
 * "tail" byte s[len] (string values keep one: rstr's terminator slot), a
 * truncated XZERO reads its second byte from it, and the updates set it
 * exactly as Redis's leave it (0 after a normal split or a merge, the
 * spilled byte after splitting a truncated XZERO, untouched otherwise).
 * Nothing ever reads or writes beyond s[len].
 */
#include "hll.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define SP_IS_ZERO(b) (((b) & 0xc0) == 0x00)
#define SP_IS_XZERO(b) (((b) & 0xc0) == 0x40)
#define SP_IS_VAL(b) (((b) & 0x80) != 0)
#define SP_ZERO_MAX 64
#define SP_VAL_MAX_RUN 4
#define SP_XZERO_MAX HLL_REGISTERS

/* Largest size a sparse sketch can reach: every register its own opcode. */
#define SPARSE_MAX_POSSIBLE (HLL_HDR_SIZE + 2 * HLL_REGISTERS)

/* 1 / (2 ln 2): the estimator's alpha for m -> infinity. */
#define ALPHA_INF 0.721347520444481703680

/* ---- hashing ---- */

static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const unsigned char *p = key;
    uint64_t h = seed ^ ((uint64_t)len * m);

    for (size_t left = len; left >= 8; left -= 8, p += 8) {
        uint64_t k = load_le64(p);
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t i = tail; i-- > 0;)
            h ^= (uint64_t)p[i] << (8 * i);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_pattern(const void *ele, size_t len, long *reg)
{
    uint64_t h = hll_murmur64a(ele, len, HLL_HASH_SEED);
    *reg = (long)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= 1ULL << HLL_Q;     /* the run ends by bit Q: count <= Q + 1 */
    return __builtin_ctzll(h) + 1;
}

/* ---- header ---- */

int hll_check(const unsigned char *s, size_t len)
{
    if (len < HLL_HDR_SIZE || memcmp(s, "HYLL", 4) != 0)
        return -1;
    if (s[4] > HLL_SPARSE)
        return -1;
    if (s[4] == HLL_DENSE && len != HLL_DENSE_SIZE)
        return -1;
    return 0;
}

void hll_init_sparse(unsigned char *out)
{
    memset(out, 0, HLL_SPARSE_EMPTY_SIZE + 1);
    memcpy(out, "HYLL", 4);
    out[4] = HLL_SPARSE;
    out[HLL_HDR_SIZE] = (unsigned char)(0x40 | ((SP_XZERO_MAX - 1) >> 8));
    out[HLL_HDR_SIZE + 1] = (unsigned char)((SP_XZERO_MAX - 1) & 0xff);
}

int hll_cache_valid(const unsigned char *s)
{
    return (s[15] & 0x80) == 0;
}

uint64_t hll_cache_get(const unsigned char *s)
{
    return load_le64(s + 8);
}

void hll_cache_set(unsigned char *s, uint64_t card)
{
    for (int i = 0; i < 8; i++)
        s[8 + i] = (unsigned char)(card >> (8 * i));
}

void hll_cache_invalidate(unsigned char *s)
{
    s[15] |= 0x80;
}

/* ---- dense registers ---- */

unsigned hll_dense_get(const unsigned char *regs, long i)
{
    size_t bit = (size_t)i * HLL_BITS, b = bit >> 3;
    unsigned fb = (unsigned)(bit & 7);
    unsigned v = (unsigned)regs[b] >> fb;
    if (fb > 8 - HLL_BITS)      /* the register continues in the next byte */
        v |= (unsigned)regs[b + 1] << (8 - fb);
    return v & HLL_REGISTER_MAX;
}

static void dense_put(unsigned char *regs, long i, unsigned v)
{
    size_t bit = (size_t)i * HLL_BITS, b = bit >> 3;
    unsigned fb = (unsigned)(bit & 7);
    regs[b] = (unsigned char)((regs[b] & ~(HLL_REGISTER_MAX << fb)) | (v << fb));
    if (fb > 8 - HLL_BITS)
        regs[b + 1] = (unsigned char)((regs[b + 1] & ~(HLL_REGISTER_MAX >> (8 - fb))) |
                                      (v >> (8 - fb)));
}

int hll_dense_set(unsigned char *regs, long i, unsigned v)
{
    if (v <= hll_dense_get(regs, i))
        return HLL_UNCHANGED;
    dense_put(regs, i, v);
    return HLL_UPDATED;
}

/* ---- sparse opcodes ---- */

size_t hll_sparse_op(const unsigned char *s, size_t len, size_t off, struct hll_op *op)
{
    unsigned b = s[off];
    op->val = 0;
    if (SP_IS_ZERO(b)) {
        op->kind = HLL_OP_ZERO;
        op->run = (int)(b & 0x3f) + 1;
        return off + 1;
    }
    if (SP_IS_XZERO(b)) {
        unsigned lo = s[off + 1];   /* off + 1 <= len: at worst the tail byte */
        op->kind = HLL_OP_XZERO;
        op->run = (int)(((b & 0x3f) << 8) | lo) + 1;
        return off + 2;
    }
    op->kind = HLL_OP_VAL;
    op->val = (int)((b >> 2) & 0x1f) + 1;
    op->run = (int)(b & 0x3) + 1;
    return off + 1;
}

static inline unsigned char val_op(unsigned val, unsigned run)
{
    return (unsigned char)(0x80 | ((val - 1) << 2) | (run - 1));
}

/* Write a run of n (1..16384) zero registers as Redis chooses to: ZERO up
 * to 64, XZERO beyond.  Returns the bytes written. */
static size_t put_zeros(unsigned char *p, long n)
{
    if (n > SP_ZERO_MAX) {
        p[0] = (unsigned char)(0x40 | ((n - 1) >> 8));
        p[1] = (unsigned char)((n - 1) & 0xff);
        return 2;
    }
    p[0] = (unsigned char)(n - 1);
    return 1;
}

/* After an update, merge equal adjacent VAL opcodes whose runs fit in one,
 * looking at up to five opcodes from `from` (Redis's window).  Returns the
 * new end. */
static size_t merge_vals(unsigned char *s, size_t from, size_t end)
{
    size_t q = from;
    int budget = 5;
    while (q < end && budget-- > 0) {
        unsigned b = s[q];
        if (SP_IS_XZERO(b)) {
            q += 2;
            continue;
        }
        if (SP_IS_ZERO(b)) {
            q++;
            continue;
        }
        if (q + 1 < end && SP_IS_VAL(s[q + 1])) {
            unsigned n = s[q + 1];
            unsigned v1 = ((b >> 2) & 0x1f) + 1, v2 = ((n >> 2) & 0x1f) + 1;
            unsigned run = (b & 3) + 1 + (n & 3) + 1;
            if (v1 == v2 && run <= SP_VAL_MAX_RUN) {
                s[q + 1] = val_op(v1, run);
                memmove(s + q, s + q + 1, end - q);
                end--;
                s[end] = 0;
                continue;       /* the merged opcode may merge again */
            }
        }
        q++;
    }
    return end;
}

int hll_sparse_set(unsigned char *s, size_t *len, size_t cap, long reg, unsigned count,
                   size_t max_bytes)
{
    if (reg < 0 || reg >= HLL_REGISTERS)
        return HLL_INVALID;
    if (count > HLL_SPARSE_VAL_MAX)
        return HLL_PROMOTE;
    if (count == 0)
        return HLL_UNCHANGED;
    size_t end = *len;
    if (end < HLL_HDR_SIZE || cap < end + HLL_SPARSE_SLACK)
        return HLL_INVALID;

    /* Find the opcode covering reg: it starts at p and covers registers
     * first .. first + op.run - 1; prev is the opcode before it. */
    size_t p = HLL_HDR_SIZE, prev = 0, next = 0;
    int have_prev = 0, found = 0;
    long first = 0;
    struct hll_op op = {0, 0, 0};
    while (p < end) {
        next = hll_sparse_op(s, end, p, &op);
        if (reg < first + op.run) {
            found = 1;
            break;
        }
        prev = p;
        have_prev = 1;
        p = next;
        first += op.run;
    }
    if (!found)
        return HLL_INVALID;

    if (op.kind == HLL_OP_VAL) {
        if ((unsigned)op.val >= count)
            return HLL_UNCHANGED;
        if (op.run == 1) {
            s[p] = val_op(count, 1);
            goto merge;
        }
    } else if (op.kind == HLL_OP_ZERO && op.run == 1) {
        s[p] = val_op(count, 1);
        goto merge;
    }

    /* Split the opcode around reg: at most XZERO VAL XZERO, 5 bytes. */
    unsigned char seq[5];
    size_t n = 0;
    long last = first + op.run - 1;
    if (op.kind == HLL_OP_VAL) {
        if (reg != first)
            seq[n++] = val_op((unsigned)op.val, (unsigned)(reg - first));
        seq[n++] = val_op(count, 1);
        if (reg != last)
            seq[n++] = val_op((unsigned)op.val, (unsigned)(last - reg));
    } else {
        if (reg != first)
            n += put_zeros(seq + n, reg - first);
        seq[n++] = val_op(count, 1);
        if (reg != last)
            n += put_zeros(seq + n, last - reg);
    }
    size_t oldlen = next - p;
    if (n > oldlen && end + (n - oldlen) > max_bytes)
        return HLL_PROMOTE;
    if (next > end) {
        /* A truncated XZERO (its second byte was the tail): as in Redis the
         * string grows by n - 2, so the last new byte becomes the tail. */
        memcpy(s + p, seq, n);
        end = p + n - 1;
    } else {
        memmove(s + p + n, s + next, end - next);
        memcpy(s + p, seq, n);
        end = end - oldlen + n;
        s[end] = 0;
    }

merge:
    *len = merge_vals(s, have_prev ? prev : HLL_HDR_SIZE, end);
    return HLL_UPDATED;
}

int hll_add(unsigned char *s, size_t *len, size_t cap, const void *ele, size_t elen,
            size_t max_bytes)
{
    long reg;
    unsigned count = (unsigned)hll_pattern(ele, elen, &reg);
    if (*len < HLL_HDR_SIZE)
        return HLL_INVALID;
    if (s[4] == HLL_DENSE)
        return *len == HLL_DENSE_SIZE ? hll_dense_set(s + HLL_HDR_SIZE, reg, count)
                                      : HLL_INVALID;
    if (s[4] == HLL_SPARSE)
        return hll_sparse_set(s, len, cap, reg, count, max_bytes);
    return HLL_INVALID;
}

/* ---- decoding whole sketches ---- */

/*
 * Walk the sparse opcodes of s[0..len) and call back for every VAL run
 * (registers reg .. reg+run-1 at val).  No run is reported that would pass
 * the last register.  0 when the opcodes cover exactly HLL_REGISTERS
 * registers, else -1 (the walk stops at the first overflow).
 */
typedef void val_run_fn(void *ctx, long reg, int run, int val);

static int sparse_walk(const unsigned char *s, size_t len, val_run_fn *fn, void *ctx)
{
    size_t idx = 0, off = HLL_HDR_SIZE;
    while (off < len) {
        struct hll_op op;
        off = hll_sparse_op(s, len, off, &op);
        if ((size_t)op.run > HLL_REGISTERS - idx)
            return -1;
        if (op.kind == HLL_OP_VAL)
            fn(ctx, (long)idx, op.run, op.val);
        idx += (size_t)op.run;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

static void run_to_dense(void *ctx, long reg, int run, int val)
{
    for (int i = 0; i < run; i++)
        dense_put(ctx, reg + i, (unsigned)val);
}

int hll_sparse_to_dense(const unsigned char *s, size_t len, unsigned char *out)
{
    if (len < HLL_HDR_SIZE)
        return -1;
    memcpy(out, s, HLL_HDR_SIZE);
    out[4] = HLL_DENSE;
    memset(out + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    return sparse_walk(s, len, run_to_dense, out + HLL_HDR_SIZE);
}

static void run_to_max(void *ctx, long reg, int run, int val)
{
    uint8_t *max = ctx;
    for (int i = 0; i < run; i++)
        if (max[reg + i] < val)
            max[reg + i] = (uint8_t)val;
}

int hll_merge(uint8_t *max, const unsigned char *s, size_t len)
{
    if (len < HLL_HDR_SIZE)
        return -1;
    if (s[4] == HLL_DENSE) {
        if (len != HLL_DENSE_SIZE)
            return -1;
        for (long i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = hll_dense_get(s + HLL_HDR_SIZE, i);
            if (max[i] < v)
                max[i] = (uint8_t)v;
        }
        return 0;
    }
    if (s[4] != HLL_SPARSE)
        return -1;
    return sparse_walk(s, len, run_to_max, max);
}

static void run_to_histo(void *ctx, long reg, int run, int val)
{
    (void)reg;
    ((int *)ctx)[val] += run;
}

int hll_histogram(const unsigned char *s, size_t len, int histo[64])
{
    memset(histo, 0, 64 * sizeof(int));
    if (len < HLL_HDR_SIZE)
        return -1;
    if (s[4] == HLL_DENSE) {
        if (len != HLL_DENSE_SIZE)
            return -1;
        /* Four registers in every three bytes. */
        const unsigned char *r = s + HLL_HDR_SIZE;
        for (long i = 0; i < HLL_REGISTERS; i += 4, r += 3) {
            unsigned w = (unsigned)r[0] | (unsigned)r[1] << 8 | (unsigned)r[2] << 16;
            histo[w & 63]++;
            histo[(w >> 6) & 63]++;
            histo[(w >> 12) & 63]++;
            histo[(w >> 18) & 63]++;
        }
        return 0;
    }
    if (s[4] != HLL_SPARSE)
        return -1;
    if (sparse_walk(s, len, run_to_histo, histo) != 0)
        return -1;
    /* The walk reports only VAL runs: the rest are zeros. */
    int nonzero = 0;
    for (int v = 1; v < 64; v++)
        nonzero += histo[v];
    histo[0] = HLL_REGISTERS - nonzero;
    return 0;
}

void hll_raw_histogram(const uint8_t *regs, int histo[64])
{
    memset(histo, 0, 64 * sizeof(int));
    for (long i = 0; i < HLL_REGISTERS; i++)
        histo[regs[i] & 63]++;
}

/* ---- the estimator (Ertl 2017, algorithms 4 and 6) ---- */

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for the registers at zero. */
static double ertl_sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for the
 * registers at the maximum. */
static double ertl_tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1.0 - x, 2) * y;
    } while (z != prev);
    return z / 3.0;
}

uint64_t hll_estimate(const int histo[64])
{
    const double m = HLL_REGISTERS;
    double z = m * ertl_tau((m - histo[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += histo[k];
        z *= 0.5;
    }
    z += m * ertl_sigma(histo[0] / m);
    return (uint64_t)llround(ALPHA_INF * m * m / z);
}

int hll_count(const unsigned char *s, size_t len, uint64_t *card)
{
    int histo[64];
    if (hll_histogram(s, len, histo) != 0)
        return -1;
    *card = hll_estimate(histo);
    return 0;
}

/* ---- self-test ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define SELFTEST_LAYOUT_ROUNDS 1000
#define SELFTEST_ELEMENTS 10000000

int hll_selftest(uint64_t seed, size_t max_bytes, char *err, size_t errlen)
{
    int rc = -1;
    unsigned char *dense = rc_calloc(HLL_DENSE_SIZE);
    uint8_t *expect = rc_malloc(HLL_REGISTERS);
    size_t cap = (max_bytes < SPARSE_MAX_POSSIBLE ? max_bytes : SPARSE_MAX_POSSIBLE);
    if (cap < HLL_SPARSE_EMPTY_SIZE)
        cap = HLL_SPARSE_EMPTY_SIZE;
    cap += HLL_SPARSE_SLACK;
    size_t bufsize = cap > HLL_DENSE_SIZE ? cap : HLL_DENSE_SIZE;
    unsigned char *sk = rc_malloc(bufsize + 1), *spare = rc_malloc(bufsize + 1);
    unsigned char *regs = dense + HLL_HDR_SIZE;
    uint64_t rng = seed;

    /* 1. Every register keeps its own value and leaves its neighbours'. */
    for (int round = 0; round < SELFTEST_LAYOUT_ROUNDS; round++) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            expect[i] = (uint8_t)(splitmix64(&rng) & HLL_REGISTER_MAX);
            dense_put(regs, i, expect[i]);
        }
        for (long i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = hll_dense_get(regs, i);
            if (v != expect[i]) {
                snprintf(err, errlen, "TESTFAILED Register %ld should be %d but is %u", i,
                         expect[i], v);
                goto done;
            }
        }
    }

    /* 2. The same elements added to a dense and a sparse sketch give the
     *    same estimate, the sparse one stays sparse while it is small, and
     *    the estimate stays within a few standard errors. */
    memset(regs, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    hll_init_sparse(sk);
    size_t len = HLL_SPARSE_EMPTY_SIZE;
    const double relerr = 1.04 / sqrt((double)HLL_REGISTERS);
    uint64_t base = splitmix64(&rng);
    long checkpoint = 1;
    for (long j = 1; j <= SELFTEST_ELEMENTS; j++) {
        unsigned char ele[8];
        uint64_t v = (uint64_t)j ^ base;
        for (int b = 0; b < 8; b++)
            ele[b] = (unsigned char)(v >> (8 * b));
        long reg;
        unsigned count = (unsigned)hll_pattern(ele, sizeof(ele), &reg);
        hll_dense_set(regs, reg, count);
        int st = hll_add(sk, &len, cap, ele, sizeof(ele), max_bytes);
        if (st == HLL_PROMOTE) {
            if (hll_sparse_to_dense(sk, len, spare) != 0) {
                snprintf(err, errlen, "TESTFAILED sparse sketch corrupted itself");
                goto done;
            }
            unsigned char *t = sk;
            sk = spare;
            spare = t;
            len = HLL_DENSE_SIZE;
            st = hll_add(sk, &len, cap, ele, sizeof(ele), max_bytes);
        }
        if (st == HLL_INVALID) {
            snprintf(err, errlen, "TESTFAILED sparse update failed");
            goto done;
        }
        if (j != checkpoint)
            continue;
        if (HLL_SPARSE_EMPTY_SIZE + 3 * (size_t)j <= max_bytes && sk[4] != HLL_SPARSE) {
            snprintf(err, errlen, "TESTFAILED sparse encoding not used");
            goto done;
        }
        uint64_t cd, cs;
        if (hll_count(dense, HLL_DENSE_SIZE, &cd) != 0 || hll_count(sk, len, &cs) != 0 ||
            cd != cs) {
            snprintf(err, errlen, "TESTFAILED dense/sparse disagree");
            goto done;
        }
        double tol = 5 * relerr * (double)checkpoint;
        if (tol < 1)
            tol = 1;
        if (fabs((double)cd - (double)checkpoint) > tol) {
            snprintf(err, errlen, "TESTFAILED Too big error. card:%llu abserr:%f",
                     (unsigned long long)cd, tol);
            goto done;
        }
        checkpoint *= 10;
    }
    rc = 0;
done:
    rc_free(spare);
    rc_free(sk);
    rc_free(expect);
    rc_free(dense);
    return rc;
}
