/*
 * slotdigest.h — a digest of one slot's keys in every database: what RING
 * DIGEST shows and what a catch-up compares between a primary and a
 * replica at one position of the replication stream (repl.c).
 */
#ifndef RC_SLOTDIGEST_H
#define RC_SLOTDIGEST_H

#include <stdint.h>

/* XOR over the slot's keys of crc64(db, key, DUMP payload, absolute
 * expiry): independent of table order; *keys gets the key count. */
uint64_t slot_digest(unsigned slot, long long *keys);

#endif
