/*
 * hll.h — HyperLogLog sketches in Redis's "HYLL" string representation.
 *
 * A HyperLogLog is an ordinary string value; its bytes are exactly the
 * ones redis-server 7.0 keeps (so GET, DUMP/RESTORE and RDB files carry
 * them unchanged between the two servers).  The format is specified at the
 * top of hll.c.
 *
 * This is a leaf library: it allocates nothing while working on a sketch
 * (only hll_selftest() uses the allocator shim) and knows nothing of the
 * keyspace.  Callers own the buffers:
 *
 *   - every function that reads a sketch takes (s, len) and reads at most
 *     s[0..len]: s[len] is the "tail" byte that follows a Redis string
 *     (normally its NUL; hll.c explains why it matters), so it must be
 *     readable.  A sparse sketch is decoded with bounds checks, so
 *     arbitrary bytes are safe to give it (the string may come from
 *     RESTORE, SETRANGE or a foreign RDB file);
 *   - hll_sparse_set()/hll_add() edit a sparse sketch in place, tail byte
 *     included, in a buffer of cap + 1 bytes, cap >= len +
 *     HLL_SPARSE_SLACK; when the sketch
 *     must become dense they change nothing and answer HLL_PROMOTE, and the
 *     caller converts it with hll_sparse_to_dense() into a buffer of
 *     HLL_DENSE_SIZE bytes and repeats the operation on that.
 */
#ifndef RC_HLL_H
#define RC_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 14                            /* index bits of the hash */
#define HLL_Q (64 - HLL_P)                  /* bits left for the run of zeros */
#define HLL_REGISTERS (1 << HLL_P)          /* 16384 */
#define HLL_BITS 6                          /* bits per dense register */
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_SPARSE_EMPTY_SIZE (HLL_HDR_SIZE + 2)
#define HLL_SPARSE_SLACK 3                  /* growth of one sparse update */
#define HLL_SPARSE_VAL_MAX 32               /* largest value a VAL opcode holds */
#define HLL_HASH_SEED 0xadc83b19ULL         /* Redis's MurmurHash64A seed */

enum hll_encoding { HLL_DENSE = 0, HLL_SPARSE = 1 };

/* Results of the functions that may modify a sketch. */
enum hll_status {
    HLL_INVALID = -1,       /* the sparse data is corrupt; nothing changed */
    HLL_UNCHANGED = 0,      /* the register already held that much */
    HLL_UPDATED = 1,
    HLL_PROMOTE = 2,        /* convert to dense, then retry; nothing changed */
};

/* Austin Appleby's MurmurHash64A (64-bit platforms' variant), reading the
 * input as little-endian words as Redis does on every platform. */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);

/* The register an element selects and the value it offers: the length
 * (1..HLL_Q+1) of the run of zero bits above the index bits, plus one. */
int hll_pattern(const void *ele, size_t len, long *reg);

/* 0 if (s, len) passes the checks Redis makes before using a string as a
 * sketch: at least a header, the "HYLL" magic, a known encoding and, when
 * dense, exactly HLL_DENSE_SIZE bytes; -1 otherwise.  The sparse opcodes
 * are not checked here (Redis does not either): the functions below
 * report them as HLL_INVALID / -1 when they find them wrong. */
int hll_check(const unsigned char *s, size_t len);

/* Write an empty sparse sketch (HLL_SPARSE_EMPTY_SIZE bytes and a zero
 * tail byte), cached cardinality 0 and valid, as Redis's
 * createHLLObject(). */
void hll_init_sparse(unsigned char *out);

static inline int hll_encoding_of(const unsigned char *s) { return s[4]; }

/* The cached cardinality in the header: valid unless the top bit of its
 * last byte is set. */
int hll_cache_valid(const unsigned char *s);
uint64_t hll_cache_get(const unsigned char *s);
void hll_cache_set(unsigned char *s, uint64_t card);
void hll_cache_invalidate(unsigned char *s);

/* Dense registers (regs points just past the header). */
unsigned hll_dense_get(const unsigned char *regs, long i);
/* Raise register i to v if it is lower: HLL_UPDATED or HLL_UNCHANGED. */
int hll_dense_set(unsigned char *regs, long i, unsigned v);

/*
 * Raise register `reg` of the sparse sketch s[0..*len) to `count`, as
 * Redis's hllSparseSet() does, opcode for opcode, so the bytes come out
 * identical: the covering opcode is split and adjacent VAL opcodes are
 * merged again.  The buffer holds cap + 1 bytes, cap >= *len +
 * HLL_SPARSE_SLACK; the tail byte s[*len] is kept as Redis leaves it.
 * HLL_PROMOTE when count does not fit a VAL opcode or the sketch would
 * grow past max_bytes (hll-sparse-max-bytes, header included).
 */
int hll_sparse_set(unsigned char *s, size_t *len, size_t cap, long reg, unsigned count,
                   size_t max_bytes);

/* Add one element to a sketch of either encoding (HLL_PROMOTE only for a
 * sparse one).  Does not touch the cached cardinality. */
int hll_add(unsigned char *s, size_t *len, size_t cap, const void *ele, size_t elen,
            size_t max_bytes);

/* Decode the sparse sketch s[0..len) into dense form in out[0..
 * HLL_DENSE_SIZE): header copied, encoding set to dense.  0, or -1 when
 * the opcodes do not describe exactly HLL_REGISTERS registers. */
int hll_sparse_to_dense(const unsigned char *s, size_t len, unsigned char *out);

/* max[i] = MAX(max[i], register i of the sketch) for every register.  0,
 * or -1 when a sparse sketch is corrupt (max may then be half-updated). */
int hll_merge(uint8_t *max, const unsigned char *s, size_t len);

/* Histogram of register values (64 slots) of a sketch, or of a plain array
 * of HLL_REGISTERS one-byte registers.  hll_histogram() answers -1 for a
 * corrupt sparse sketch. */
int hll_histogram(const unsigned char *s, size_t len, int histo[64]);
void hll_raw_histogram(const uint8_t *regs, int histo[64]);

/* Ertl's improved raw estimator ("New cardinality estimation algorithms
 * for HyperLogLog sketches", 2017) over a register histogram, rounded as
 * Redis 5+ rounds it. */
uint64_t hll_estimate(const int histo[64]);

/* Cardinality of a sketch, ignoring the cache: 0 and *card, or -1 when a
 * sparse sketch is corrupt. */
int hll_count(const unsigned char *s, size_t len, uint64_t *card);

/* One sparse opcode, as PFDEBUG DECODE prints it. */
enum hll_op_kind { HLL_OP_ZERO, HLL_OP_XZERO, HLL_OP_VAL };
struct hll_op {
    int kind;
    int run;        /* registers covered */
    int val;        /* HLL_OP_VAL only */
};

/* Decode the opcode at offset off (< len) of a sparse sketch and return
 * the offset of the next one, which is len + 1 when the last opcode is a
 * truncated XZERO (its second byte is then the tail byte s[len]). */
size_t hll_sparse_op(const unsigned char *s, size_t len, size_t off, struct hll_op *op);

/* Self-test of the register layout, sparse/dense agreement and the
 * estimator's error (PFSELFTEST).  0, or -1 with a reason in err. */
int hll_selftest(uint64_t seed, size_t max_bytes, char *err, size_t errlen);

#endif
