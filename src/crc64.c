/*
 * crc64.c — Redis's CRC-64 (see crc64.h), computed eight bytes at a time
 * with eight 256-entry tables ("slicing by eight").  The tables are
 * derived at first use from the reflected polynomial; they are built under
 * a pthread_once so that concurrent first callers are safe.
 */
#include "crc64.h"

#include <pthread.h>

/* 0xad93d23594c935a9 with its bits reversed. */
#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc64_build(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xff] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
}

uint64_t crc64(uint64_t crc, const void *p, size_t len)
{
    const unsigned char *s = p;
    pthread_once(&crc_once, crc64_build);
    while (len >= 8) {
        uint64_t w = (uint64_t)s[0] | (uint64_t)s[1] << 8 | (uint64_t)s[2] << 16 |
                     (uint64_t)s[3] << 24 | (uint64_t)s[4] << 32 | (uint64_t)s[5] << 40 |
                     (uint64_t)s[6] << 48 | (uint64_t)s[7] << 56;
        w ^= crc;
        crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
              crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
              crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
              crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
        s += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_table[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}
