/*
 * rand.h — fast non-cryptographic PRNG (xoshiro256**) for sampling:
 * RANDOMKEY, eviction and expiry sampling.  Seeded from /dev/urandom.
 */
#ifndef RC_RAND_H
#define RC_RAND_H

#include <stdint.h>

void rc_random_seed(uint64_t seed);
uint64_t rc_random_u64(void);

#endif
