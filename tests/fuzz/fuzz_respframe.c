/*
 * fuzz_respframe.c — libFuzzer target for the reply framer
 * (src/respframe.c).
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_respframe.c src/respframe.c src/util.c \
 *       src/mem.c -o fuzz_respframe
 *   ./fuzz_respframe tests/fuzz/corpus/respframe
 *
 * Input layout: byte 0 picks the limits (so every limit is reachable with
 * short inputs), byte 1 seeds the split points, the rest is a stream of
 * replies framed as a peer link would frame it: reply after reply until one
 * is incomplete or invalid.
 *
 * The stream is framed twice: whole, and delivered in chunks of random
 * size, where every call gets a fresh exact-size heap copy of what has
 * arrived (so AddressSanitizer sees any read past len and any pointer kept
 * across calls).  Both must find the same frame boundaries and end with
 * the same verdict, error and need hint.  Each frame must also be a frame
 * on its own (no look-ahead) and not one byte earlier, and the merge
 * helpers are run over it.
 */
#include "respframe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 512

struct outcome {
    size_t n;
    size_t ends[MAX_FRAMES];
    enum rframe_status last;
    const char *err;
    size_t need;
};

static void check(int cond)
{
    if (!cond)
        abort();
}

static char *copy(const uint8_t *data, size_t len)
{
    char *b = malloc(len ? len : 1);
    check(b != NULL);
    if (len)
        memcpy(b, data, len);
    return b;
}

static void pick_limits(uint8_t sel, struct rframe_limits *lim)
{
    rframe_limits_init(lim);
    if (sel & 1)
        lim->max_line = 2 + (size_t)(sel >> 4);
    if (sel & 2)
        lim->max_bulk = (sel >> 4) * 4;
    if (sel & 4)
        lim->max_elems = sel >> 4;
    if (sel & 8)
        lim->max_depth = sel >> 4;
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The helpers must stay within the reply and agree with the framer. */
static void check_helpers(const char *reply, size_t len, char type)
{
    struct rframe_iter it;
    struct rframe_bulk b;
    long long v, n;
    int r;

    check(rframe_is_error(reply, len) == (type == '-' || type == '!'));
    if (rframe_read_int(reply, len, &v))
        check(type == ':');
    else
        check(type != ':');
    n = rframe_array_open(&it, reply, len);
    if (n < 0)
        return;
    check(type == '*');
    while ((r = rframe_array_next(&it, &b)) == 1) {
        check(b.raw >= reply && b.raw_len <= len - (size_t)(b.raw - reply));
        if (b.data != NULL)
            check(b.data > b.raw && b.data + b.len < b.raw + b.raw_len);
        n--;
    }
    check(r == -1 || n == 0);
}

/* Checks on one RFRAME_OK over buf[0 .. len). */
static void check_frame(const struct rframe *f, const char *buf, size_t len,
                        size_t fl, const struct rframe_limits *lim)
{
    struct rframe alone;
    size_t fl2 = 0;
    char *own;

    check(fl > 0 && fl <= len);
    check(f->body < fl && buf[f->body] == f->type);
    check_helpers(buf + f->body, fl - f->body, f->type);

    /* The frame alone is the same frame. */
    own = copy((const uint8_t *)buf, fl);
    rframe_init(&alone, lim);
    check(rframe_scan(&alone, own, fl, &fl2) == RFRAME_OK && fl2 == fl);
    check(alone.type == f->type && alone.body == f->body);
    free(own);

    /* One byte short of it is not a frame yet. */
    own = copy((const uint8_t *)buf, fl - 1);
    rframe_init(&alone, lim);
    check(rframe_scan(&alone, own, fl - 1, &fl2) == RFRAME_MORE);
    check(rframe_need(&alone) == fl);
    free(own);
}

static void check_other(const struct rframe *f, enum rframe_status st,
                        size_t len, size_t fl)
{
    check(fl == 0);
    if (st == RFRAME_MORE) {
        check(rframe_need(f) > len);
        check(rframe_error(f) == NULL);
    } else {
        check(st == RFRAME_ERR);
        check(rframe_error(f) != NULL);
        check(strpbrk(rframe_error(f), "\r\n") == NULL);
    }
}

static void frame_whole(const uint8_t *data, size_t size,
                        const struct rframe_limits *lim, struct outcome *o)
{
    struct rframe f;
    size_t off = 0, fl;
    char *buf = copy(data, size);

    rframe_init(&f, lim);
    o->n = 0;
    for (;;) {
        o->last = rframe_scan(&f, buf + off, size - off, &fl);
        if (o->last != RFRAME_OK) {
            check_other(&f, o->last, size - off, fl);
            break;
        }
        check_frame(&f, buf + off, size - off, fl, lim);
        off += fl;
        o->ends[o->n++] = off;
        if (o->n == MAX_FRAMES)
            break;
    }
    o->err = rframe_error(&f);
    o->need = rframe_need(&f);
    free(buf);
}

static void frame_chunked(const uint8_t *data, size_t size,
                          const struct rframe_limits *lim, uint32_t seed,
                          struct outcome *o)
{
    struct rframe f;
    size_t off = 0, have = 0, fl;

    rframe_init(&f, lim);
    o->n = 0;
    o->last = RFRAME_OK; /* the first call gets no bytes at all */
    for (;;) {
        char *buf;

        if (o->last == RFRAME_MORE) {
            size_t step;

            if (have == size)
                break;
            /* Mostly small steps, sometimes a big one. */
            step = next_rand(&seed) % 8 == 0 ? next_rand(&seed) % 256
                                             : next_rand(&seed) % 4;
            have = step < size - have ? have + step : size;
        }
        buf = copy(data + off, have - off);
        o->last = rframe_scan(&f, buf, have - off, &fl);
        if (o->last == RFRAME_OK) {
            check_frame(&f, buf, have - off, fl, lim);
            off += fl;
            o->ends[o->n++] = off;
        } else {
            check_other(&f, o->last, have - off, fl);
        }
        free(buf);
        if (o->last == RFRAME_ERR || o->n == MAX_FRAMES)
            break;
    }
    o->err = rframe_error(&f);
    o->need = rframe_need(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct outcome whole, chunked;
    struct rframe_limits lim;
    uint32_t seed;

    if (size < 2)
        return 0;
    pick_limits(data[0], &lim);
    seed = 0x9e3779b9u ^ data[1];
    data += 2;
    size -= 2;

    frame_whole(data, size, &lim, &whole);
    frame_chunked(data, size, &lim, seed, &chunked);

    check(whole.n == chunked.n);
    check(memcmp(whole.ends, chunked.ends, whole.n * sizeof(size_t)) == 0);
    if (whole.n < MAX_FRAMES) {
        check(whole.last == chunked.last);
        check(whole.err == chunked.err);
        check(whole.need == chunked.need);
    }
    return 0;
}
