/*
 * slot.h — key to cluster slot mapping, exactly as Redis Cluster does it.
 *
 * A key's slot is CRC16 (XMODEM variant) of the key, or of its hash tag,
 * modulo RC_SLOTS.  Keeping Redis's function lets cluster-aware clients
 * route by slot and lets users co-locate keys with {hash tags}.
 */
#ifndef RC_SLOT_H
#define RC_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define RC_SLOTS 16384

/*
 * CRC16-CCITT, XMODEM variant: polynomial 0x1021, initial value 0, no
 * reflection, no final xor.  rc_crc16("123456789", 9) == 0x31C3.
 */
uint16_t rc_crc16(const char *buf, size_t len);

/*
 * The slot (0 .. RC_SLOTS-1) of a binary-safe key.  If the key contains a
 * '{' and, after that first '{', a '}' with at least one byte between
 * them, only the bytes between that first '{' and the first '}' after it
 * are hashed; otherwise the whole key is.
 */
unsigned rc_key_slot(const char *key, size_t len);

#endif
