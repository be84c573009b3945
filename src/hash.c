/*
 * hash.c — SipHash-c-d, written from the SipHash paper (Aumasson, Bernstein,
 * "SipHash: a fast short-input PRF", 2012).
 *
 * The state is four 64-bit words initialised from the key and four ASCII
 * constants.  The message is absorbed 8 bytes at a time (little-endian);
 * the last word carries the remaining 0-7 bytes and, in its top byte, the
 * message length mod 256.  Each word is xored into v3, mixed with c rounds
 * of SipRound, then xored into v0.  Finalisation xors 0xff into v2, runs d
 * rounds and returns v0 ^ v1 ^ v2 ^ v3.  Words are assembled byte by byte,
 * so the code is alignment- and endianness-independent.
 */
#include "hash.h"

static uint64_t seed_k0, seed_k1;

static inline uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
           (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Load up to 8 bytes little-endian, optionally lowercasing them. */
static inline uint64_t load_word(const uint8_t *p, size_t n, int nocase)
{
    uint64_t w = 0;
    size_t i;

    if (n == 8 && !nocase)
        return load_le64(p);
    for (i = 0; i < n; i++)
        w |= (uint64_t)(nocase ? lower(p[i]) : p[i]) << (8 * i);
    return w;
}

/* One SipRound: the ARX mixing step of the paper, applied to the state. */
static inline void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

/* The whole algorithm; inlined into callers with constant round counts. */
static inline uint64_t siphash_core(uint64_t k0, uint64_t k1,
                                    const uint8_t *p, size_t len,
                                    unsigned crounds, unsigned drounds,
                                    int nocase)
{
    uint64_t v[4];
    size_t full = len & ~(size_t)7;
    uint64_t m;
    size_t off;
    unsigned r;

    v[0] = k0 ^ UINT64_C(0x736f6d6570736575); /* "somepseu" */
    v[1] = k1 ^ UINT64_C(0x646f72616e646f6d); /* "dorandom" */
    v[2] = k0 ^ UINT64_C(0x6c7967656e657261); /* "lygenera" */
    v[3] = k1 ^ UINT64_C(0x7465646279746573); /* "tedbytes" */

    for (off = 0; off < full; off += 8) {
        m = load_word(p + off, 8, nocase);
        v[3] ^= m;
        for (r = 0; r < crounds; r++)
            sipround(v);
        v[0] ^= m;
    }
    /* Last word: the 0-7 remaining bytes, length mod 256 on top. */
    m = load_word(p + full, len - full, nocase) | (uint64_t)(len & 0xff) << 56;
    v[3] ^= m;
    for (r = 0; r < crounds; r++)
        sipround(v);
    v[0] ^= m;

    v[2] ^= 0xff;
    for (r = 0; r < drounds; r++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void rc_hash_set_seed(const uint8_t seed[16])
{
    seed_k0 = load_le64(seed);
    seed_k1 = load_le64(seed + 8);
}

uint64_t rc_hash(const void *data, size_t len)
{
    return siphash_core(seed_k0, seed_k1, data, len, 1, 2, 0);
}

uint64_t rc_hash_nocase(const void *data, size_t len)
{
    return siphash_core(seed_k0, seed_k1, data, len, 1, 2, 1);
}

uint64_t rc_siphash(const uint8_t key[16], const void *data, size_t len,
                    unsigned crounds, unsigned drounds)
{
    return siphash_core(load_le64(key), load_le64(key + 8), data, len,
                        crounds, drounds, 0);
}
