/*
 * lzf.c — LZF compression and decompression (format in lzf.h).
 *
 * The compressor is a greedy single-pass matcher: a hash of the next three
 * bytes indexes a table of the most recent position with that hash; a
 * candidate is taken when it lies within 8 KB behind, is not the very first
 * input byte, and its first three bytes match.  Matches never extend into
 * the last two input bytes and are at most 264 bytes long.  After a match
 * the two positions just before its end are entered in the table.  These
 * choices, the hash function and the points where it gives up for lack of
 * output space are those of liblzf 3.6 as configured by Redis, so the
 * output (and the decision to store a string uncompressed) matches
 * redis-server's.
 */
#include "lzf.h"

#include <stdint.h>
#include <string.h>


#define LZF_HLOG 16
#define LZF_HSIZE (1u << LZF_HLOG)
#define LZF_MAX_LIT 32u
#define LZF_MAX_OFF 8192u
#define LZF_MAX_REF 264u

/*
 * The hash table: the most recent position (plus one) for each hash value.
 * Kept per thread and all zero between calls (each call clears the slots
 * it used), so a call costs time proportional to its input only.
 */
static _Thread_local uint32_t lzf_htab[LZF_HSIZE];

static inline uint32_t lzf_first(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t lzf_next(uint32_t h, const unsigned char *p)
{
    return h << 8 | p[2];
}

static inline uint32_t lzf_idx(uint32_t h)
{
    return ((h >> (24 - LZF_HLOG)) - h * 5) & (LZF_HSIZE - 1);
}

size_t lzf_compress(const void *in_data, size_t in_len, void *out_data, size_t out_len)
{
    const unsigned char *in = in_data;
    unsigned char *out = out_data;
    if (in_len == 0 || out_len == 0 || in_len >= UINT32_MAX)
        return 0;
    if (in_len < 3) {
        /* Too short for any reference: one literal run. */
        if (out_len < 4)
            return 0;
        out[0] = (unsigned char)(in_len - 1);
        memcpy(out + 1, in, in_len);
        return in_len + 1;
    }

    /* Positions are stored plus one; 0 means "no position yet". */
    uint32_t *htab = lzf_htab;
    size_t ip = 0, op = 1;          /* op: past the reserved run header */
    size_t lit = 0;
    size_t result = 0;
    uint32_t hval = lzf_first(in);

    while (ip < in_len - 2) {
        hval = lzf_next(hval, in + ip);
        uint32_t slot = lzf_idx(hval);
        size_t refp1 = htab[slot];
        htab[slot] = (uint32_t)(ip + 1);

        if (refp1 > 1 && refp1 - 1 < ip && ip - refp1 < LZF_MAX_OFF) {
            size_t ref = refp1 - 1;
            size_t off = ip - ref - 1;
            if (in[ref] == in[ip] && in[ref + 1] == in[ip + 1] && in[ref + 2] == in[ip + 2]) {
                size_t maxlen = in_len - ip - 2;
                if (maxlen > LZF_MAX_REF)
                    maxlen = LZF_MAX_REF;
                /* Room for the reference and the next run header. */
                if (op + 4 >= out_len && op - (lit == 0) + 4 >= out_len)
                    goto done;
                out[op - lit - 1] = (unsigned char)(lit - 1);   /* close the run */
                if (lit == 0)
                    op--;                                       /* drop an empty run */
                size_t len = 2;
                do
                    len++;
                while (len < maxlen && in[ref + len] == in[ip + len]);
                len -= 2;                                       /* encoded length */
                if (len < 7) {
                    out[op++] = (unsigned char)((off >> 8) + (len << 5));
                } else {
                    out[op++] = (unsigned char)((off >> 8) + (7u << 5));
                    out[op++] = (unsigned char)(len - 7);
                }
                out[op++] = (unsigned char)(off & 0xff);
                lit = 0;
                op++;                                           /* open a run */
                ip += len + 2;
                if (ip >= in_len - 2)
                    break;
                ip -= 2;
                hval = lzf_first(in + ip);
                hval = lzf_next(hval, in + ip);
                htab[lzf_idx(hval)] = (uint32_t)(ip + 1);
                ip++;
                hval = lzf_next(hval, in + ip);
                htab[lzf_idx(hval)] = (uint32_t)(ip + 1);
                ip++;
                continue;
            }
        }
        if (op >= out_len)
            goto done;
        lit++;
        out[op++] = in[ip++];
        if (lit == LZF_MAX_LIT) {
            out[op - lit - 1] = (unsigned char)(lit - 1);
            lit = 0;
            op++;
        }
    }

    if (op + 3 > out_len)
        goto done;
    while (ip < in_len) {
        lit++;
        out[op++] = in[ip++];
        if (lit == LZF_MAX_LIT) {
            out[op - lit - 1] = (unsigned char)(lit - 1);
            lit = 0;
            op++;
            if (ip < in_len && op >= out_len)
                goto done;
        }
    }
    if (lit == 0) {
        op--;
    } else {
        out[op - lit - 1] = (unsigned char)(lit - 1);
    }
    result = op;
done:
    /* Every slot written belongs to the hash of some position: zero them
     * again so that the table is clean for the next call. */
    for (size_t p = 0; p + 2 < in_len; p++)
        htab[lzf_idx(lzf_next(lzf_first(in + p), in + p))] = 0;
    return result;
}

size_t lzf_decompress(const void *in_data, size_t in_len, void *out_data, size_t out_len)
{
    const unsigned char *in = in_data;
    unsigned char *out = out_data;
    size_t ip = 0, op = 0;

    while (ip < in_len) {
        unsigned ctrl = in[ip++];
        if (ctrl < 32) {
            size_t n = (size_t)ctrl + 1;
            if (n > in_len - ip || n > out_len - op)
                return 0;
            memcpy(out + op, in + ip, n);
            op += n;
            ip += n;
        } else {
            size_t len = ctrl >> 5;
            if (len == 7) {
                if (ip >= in_len)
                    return 0;
                len += in[ip++];
            }
            if (ip >= in_len)
                return 0;
            size_t back = ((size_t)(ctrl & 0x1f) << 8 | in[ip++]) + 1;
            len += 2;
            if (back > op || len > out_len - op)
                return 0;
            /* Byte by byte: the source may overlap the destination. */
            for (size_t k = 0; k < len; k++, op++)
                out[op] = out[op - back];
        }
    }
    return op;
}
