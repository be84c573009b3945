/*
 * rand.c — xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 * Not for secrets: run ids and hash seeds come from /dev/urandom directly.
 */
#include "rand.h"

static uint64_t st[4] = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
                         0x94d049bb133111ebULL, 0x2545f4914f6cdd1dULL};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rc_random_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        st[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rc_random_u64(void)
{
    uint64_t result = rotl(st[1] * 5, 7) * 9;
    uint64_t t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return result;
}
