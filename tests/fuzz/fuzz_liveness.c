/*
 * fuzz_liveness.c — libFuzzer target for the wire form of liveness pings
 * and pongs (src/liveness.c, RINGLIVE arguments).
 *
 *   make fuzz && tests/fuzz/fuzz_liveness tests/fuzz/corpus/liveness
 *
 * The input is the arguments separated by NUL bytes, each copied into an
 * exact-size heap buffer so AddressSanitizer sees any read past it.
 * Whatever decodes must encode back to exactly the bytes it came from (the
 * encoding is canonical), and a refusal must come with a message.
 */
#include "liveness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *argv[LIVENESS_WIRE_MAXARGS + 2];
    size_t lens[LIVENESS_WIRE_MAXARGS + 2];
    char *copies[LIVENESS_WIRE_MAXARGS + 2];
    const char *buf = (const char *)data;
    int argc = 0, i;
    size_t pos = 0;
    char err[128] = "";
    struct liveness_msg m;

    while (argc < LIVENESS_WIRE_MAXARGS + 2) {
        const char *nul = memchr(buf + pos, '\0', size - pos);
        size_t n = nul ? (size_t)(nul - (buf + pos)) : size - pos;
        copies[argc] = malloc(n ? n : 1);
        check(copies[argc] != NULL);
        memcpy(copies[argc], buf + pos, n);
        argv[argc] = copies[argc];
        lens[argc] = n;
        argc++;
        if (!nul)
            break;
        pos += n + 1;
    }
    if (liveness_msg_decode(argc, argv, lens, &m, err, sizeof(err)) == 0) {
        struct paxos_wire w;
        liveness_msg_encode(&m, &w);
        check(w.argc == argc);
        for (i = 0; i < argc; i++)
            check(w.len[i] == lens[i] && memcmp(w.argv[i], argv[i], lens[i]) == 0);
        paxos_wire_deinit(&w);
    } else {
        check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    }
    for (i = 0; i < argc; i++)
        free(copies[i]);
    return 0;
}
