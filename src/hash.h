/*
 * hash.h — keyed hashing for hash tables: SipHash-1-2, as Redis's dict uses.
 *
 * SipHash keyed with a per-process random seed makes bucket placement
 * unpredictable to clients, so nobody can send keys crafted to collide
 * (hash flooding).  1 compression and 2 finalization rounds are Redis's
 * trade-off between speed and that protection; the full-strength 2-4
 * variant is available through rc_siphash() for other uses and for testing
 * against the published test vectors.
 */
#ifndef RC_HASH_H
#define RC_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Set the 16-byte key used by rc_hash and rc_hash_nocase.  Call once at
 * start-up, before any table is filled (changing it later would scatter
 * existing entries); until then the key is all zeros.  Not thread-safe
 * against concurrent hashing.
 */
void rc_hash_set_seed(const uint8_t seed[16]);

/* SipHash-1-2 of data[0..len) under the process seed. */
uint64_t rc_hash(const void *data, size_t len);

/*
 * As rc_hash, but ASCII letters are lowercased first, so the result equals
 * rc_hash of the lowercased bytes (for case-insensitive tables such as the
 * command table).
 */
uint64_t rc_hash_nocase(const void *data, size_t len);

/*
 * General SipHash-c-d of data[0..len) under key, as specified by Aumasson
 * and Bernstein: rc_siphash(k, m, n, 2, 4) is standard SipHash-2-4.
 */
uint64_t rc_siphash(const uint8_t key[16], const void *data, size_t len,
                    unsigned crounds, unsigned drounds);

#endif
