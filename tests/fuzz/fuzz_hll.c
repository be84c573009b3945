/*
 * fuzz_hll.c — libFuzzer target for hll.c.
 *
 * The input (after one control byte) is a string value as a client could
 * store it with SET or RESTORE.  With control bit 0 set, a sparse "HYLL"
 * header is put in front, so that most inputs reach the opcode decoder.
 * Every string goes through the header check, the sparse decoder, count,
 * merge and sparse-to-dense; strings that pass the header check then get
 * elements added and registers raised (with promotion, under a limit the
 * control byte picks).  Invariants checked:
 *   - count, merge and sparse-to-dense agree on whether a sketch is valid;
 *   - a valid sparse sketch counts the same as its dense form;
 *   - an update of a valid sketch leaves it valid, and its count equals
 *     that of a dense sketch given the same updates (unless the sketch
 *     only covers its registers thanks to the tail byte, see hll.c).
 * Each buffer is an exact-size heap copy plus the one tail byte the API
 * may read, so AddressSanitizer reports any access beyond it.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *            tests/fuzz/fuzz_hll.c src/hll.c src/mem.c src/util.c \
 *            -lm -o fuzz_hll
 */
#include "hll.h"
#include "mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
    if (!cond)
        abort();
}

/* A copy of s[0..len) in a buffer of cap + 1 bytes (cap >= len), tail 0. */
static unsigned char *copy_of(const unsigned char *s, size_t len, size_t cap)
{
    unsigned char *b = rc_malloc(cap + 1);
    memcpy(b, s, len);
    memset(b + len, 0, cap + 1 - len);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;

    size_t len = size + ((ctl & 1) ? HLL_HDR_SIZE : 0);
    unsigned char *s = rc_malloc(len + 1);
    if (ctl & 1) {
        memset(s, 0, HLL_HDR_SIZE);
        memcpy(s, "HYLL", 4);
        s[4] = HLL_SPARSE;
        memcpy(s + HLL_HDR_SIZE, data, size);
    } else {
        memcpy(s, data, size);
    }
    s[len] = (ctl & 2) ? 0x5a : 0;  /* the tail byte need not be NUL */

    /* Readers: must be safe on anything, and agree. */
    uint8_t *max = rc_calloc(HLL_REGISTERS);
    unsigned char *dense = rc_malloc(HLL_DENSE_SIZE + 1);
    int valid_hdr = hll_check(s, len) == 0, uses_tail = 0;
    uint64_t card = 0, dcard = 0;
    int counted = len >= HLL_HDR_SIZE ? hll_count(s, len, &card) : -1;
    int merged = len >= HLL_HDR_SIZE ? hll_merge(max, s, len) : -1;
    if (valid_hdr) {
        check(counted == merged);
        if (hll_encoding_of(s) == HLL_SPARSE) {
            size_t ops = 0;
            for (size_t off = HLL_HDR_SIZE; off < len; ops++) {
                struct hll_op op;
                size_t next = hll_sparse_op(s, len, off, &op);
                check(next > off && next <= len + 1);
                check(op.run >= 1 && op.run <= HLL_REGISTERS);
                uses_tail = next > len;
                off = next;
            }
            check(ops <= len);
            int conv = hll_sparse_to_dense(s, len, dense);
            check(conv == counted);
            if (conv == 0) {
                check(hll_count(dense, HLL_DENSE_SIZE, &dcard) == 0);
                check(dcard == card);
            }
        }
    }
    if (!valid_hdr) {
        rc_free(dense);
        rc_free(max);
        rc_free(s);
        return 0;
    }

    /* Writers: add elements and raise registers on a private copy. */
    static const size_t limits[] = {0, 40, 3000, 1 << 20};
    size_t max_bytes = limits[(ctl >> 2) & 3];
    size_t cap = (len > HLL_DENSE_SIZE ? len : HLL_DENSE_SIZE) + 8 * HLL_SPARSE_SLACK;
    unsigned char *w = copy_of(s, len, cap);
    w[len] = s[len];
    size_t wlen = len;
    /* A sketch whose last XZERO takes its second byte from the tail is
     * valid only while the tail byte stays: any update rewrites the tail
     * (as Redis rewrites its NUL), so such sketches are not expected to
     * stay valid. */
    int was_valid = counted == 0 && !uses_tail;
    /* A dense model of the same sketch, when it is valid. */
    unsigned char *model = NULL;
    if (was_valid) {
        model = rc_calloc(HLL_DENSE_SIZE + 1);
        memcpy(model, "HYLL", 4);
        for (long i = 0; i < HLL_REGISTERS; i++)
            if (max[i])
                hll_dense_set(model + HLL_HDR_SIZE, i, max[i]);
    }
    for (int k = 0; k < 8; k++) {
        unsigned char ele[9];
        ele[0] = (unsigned char)k;
        memcpy(ele + 1, data, size < 8 ? size : 8);
        size_t elen = 1 + (size < 8 ? size : 8);
        long reg = 0;
        unsigned val = (unsigned)hll_pattern(ele, elen, &reg);
        if (k & 1) {
            /* Raise a register picked by the input, sometimes above 32. */
            reg = (long)(((size_t)ctl * 131 + (size_t)k * 977 + size) % HLL_REGISTERS);
            val = 1 + (unsigned)((ctl + k) % 40);
        }
        int st = HLL_INVALID;
        if (hll_encoding_of(w) == HLL_SPARSE) {
            st = (k & 1) ? hll_sparse_set(w, &wlen, cap, reg, val, max_bytes)
                         : hll_add(w, &wlen, cap, ele, elen, max_bytes);
            if (st == HLL_PROMOTE) {
                unsigned char *d = rc_malloc(cap + 1);
                if (hll_sparse_to_dense(w, wlen, d) != 0) {
                    check(!was_valid);
                    rc_free(d);
                    break;
                }
                d[HLL_DENSE_SIZE] = 0;
                rc_free(w);
                w = d;
                wlen = HLL_DENSE_SIZE;
            }
        }
        if (hll_encoding_of(w) == HLL_DENSE)
            st = hll_dense_set(w + HLL_HDR_SIZE, reg, val);
        check(wlen <= cap);
        if (was_valid) {
            check(st != HLL_INVALID);
            hll_dense_set(model + HLL_HDR_SIZE, reg, val);
            uint64_t a, b;
            check(hll_count(w, wlen, &a) == 0);
            check(hll_count(model, HLL_DENSE_SIZE, &b) == 0);
            check(a == b);
        } else {
            uint64_t a;
            (void)hll_count(w, wlen, &a);
        }
    }
    rc_free(model);
    rc_free(w);
    rc_free(dense);
    rc_free(max);
    rc_free(s);
    return 0;
}
