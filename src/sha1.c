/*
 * sha1.c — SHA-1 over one buffer (see sha1.h).  Scripts are hashed whole,
 * so there is no streaming interface.
 */
#include "sha1.h"

#include <stdint.h>
#include <string.h>

static uint32_t rol(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static void block(uint32_t h[5], const unsigned char *b)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(bb, 30);
        bb = a;
        a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void rc_sha1(unsigned char out[20], const void *p, size_t len)
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    for (; len - i >= 64; i += 64)
        block(h, s + i);
    unsigned char tail[128];
    size_t rest = len - i;
    if (rest)
        memcpy(tail, s + i, rest);
    tail[rest] = 0x80;
    size_t tlen = rest + 1 + 8 <= 64 ? 64 : 128;
    memset(tail + rest + 1, 0, tlen - rest - 1);
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++)
        tail[tlen - 1 - j] = (unsigned char)(bits >> (8 * j));
    block(h, tail);
    if (tlen == 128)
        block(h, tail + 64);
    for (int j = 0; j < 20; j++)
        out[j] = (unsigned char)(h[j / 4] >> (24 - 8 * (j % 4)));
}

void rc_sha1hex(char out[41], const char *p, size_t len)
{
    unsigned char d[20];
    rc_sha1(d, p, len);
    static const char hex[] = "0123456789abcdef";
    for (int j = 0; j < 20; j++) {
        out[2 * j] = hex[d[j] >> 4];
        out[2 * j + 1] = hex[d[j] & 15];
    }
    out[40] = '\0';
}
