/*
 * fuzz_aof.c — libFuzzer target for the append-only log's parsing
 * (src/aoffmt.c): the framing scanner that decides what start-up replays,
 * the command reader replay uses, and the manifest parser.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_aof.c src/aoffmt.c src/crc64.c src/mem.c \
 *       -ljemalloc -lpthread -o fuzz_aof
 *   ./fuzz_aof tests/fuzz/corpus/aof
 *
 * Byte 0 chooses the mode: even, the rest is a log file; odd, a manifest.
 * The input is copied into an exact-size heap buffer so AddressSanitizer
 * sees any read past it.  For logs the contract is checked: the kept
 * prefix is within the input, scanning it again finds it intact with the
 * same number of commands, and replaying it with aoffmt_next() reads
 * exactly those commands, with every argument inside the buffer.
 */
#include "aoffmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Replay buf[0..len) as start-up does; returns the commands read. */
static size_t replay(const char *buf, size_t len)
{
    size_t cap = 4, pos = 0, n = 0;
    const char **av = malloc(cap * sizeof(*av));
    size_t *al = malloc(cap * sizeof(*al));
    check(av && al);
    while (pos < len) {
        size_t start = pos, argc = 0;
        int r = aoffmt_next(buf, len, &pos, av, al, cap, &argc);
        if (r == -3) {
            check(argc > cap && pos > start);
            pos = start;
            cap = argc;
            av = realloc(av, cap * sizeof(*av));
            al = realloc(al, cap * sizeof(*al));
            check(av && al);
            continue;
        }
        check(r == 0 || r == 1);        /* the scanner vouched for these bytes */
        check(pos > start && pos <= len);
        if (r == 1) {
            for (size_t i = 0; i < argc; i++)
                check(av[i] >= buf + start && av[i] + al[i] <= buf + pos);
            n++;
        }
    }
    free(av);
    free(al);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] & 1;
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    check(buf != NULL);
    memcpy(buf, data + 1, len);

    if (mode == 1) {
        struct aoffmt_manifest m;
        char err[256];
        if (aoffmt_manifest_parse(buf, len, &m, err, sizeof(err)) == 0) {
            check(m.base != NULL || m.nincr > 0);
            size_t tl;
            char *text = aoffmt_manifest_format(&m, &tl);
            struct aoffmt_manifest again;
            check(aoffmt_manifest_parse(text, tl, &again, err, sizeof(err)) == 0);
            check(again.nincr == m.nincr && (again.base != NULL) == (m.base != NULL));
            aoffmt_manifest_free(&again);
            rc_free(text);
            aoffmt_manifest_free(&m);
        } else {
            check(memchr(err, '\0', sizeof(err)) != NULL);
        }
        free(buf);
        return 0;
    }

    struct aoffmt_scan sc;
    aoffmt_scan(buf, len, &sc);
    check(sc.status == AOFFMT_OK || sc.status == AOFFMT_TRUNCATED ||
          sc.status == AOFFMT_CORRUPT);
    check(sc.valid_end <= len);
    if (sc.status == AOFFMT_OK)
        check(sc.valid_end == len);
    if (sc.status == AOFFMT_CORRUPT)
        check(sc.bad_offset <= len);
    if (sc.status != AOFFMT_CORRUPT) {
        char *prefix = malloc(sc.valid_end ? sc.valid_end : 1);
        check(prefix != NULL);
        memcpy(prefix, buf, sc.valid_end);
        struct aoffmt_scan again;
        aoffmt_scan(prefix, sc.valid_end, &again);
        check(again.status == AOFFMT_OK);
        check(again.commands == sc.commands);
        check(replay(prefix, sc.valid_end) == sc.commands);
        free(prefix);
    }
    free(buf);
    return 0;
}
