/*
 * crc64.h — the 64-bit CRC that Redis appends to RDB files and DUMP
 * payloads: the "Jones" polynomial 0xad93d23594c935a9, bit-reflected input
 * and output, initial value 0, no final xor.  crc64(0, "123456789", 9) is
 * 0xe9c6d914c4b8d9ca.
 */
#ifndef RC_CRC64_H
#define RC_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues the CRC crc (0 to start) over p[0..len) and returns it.
 * Thread-safe; the lookup table is built once on first use. */
uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
