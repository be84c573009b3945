/*
 * fuzz_cstate.c — libFuzzer target for the cluster state's decoders
 * (src/cstate.c: the state line and nodes.conf) and for Paxos messages'
 * wire form (src/paxos.c).
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_cstate.c src/cstate.c src/paxos.c src/util.c src/mem.c \
 *       -o fuzz_cstate
 *   ./fuzz_cstate tests/fuzz/corpus/cstate
 *
 * Byte 0 chooses the mode: 0 mod 3, the rest is a state line; 1, nodes.conf
 * content; 2, a RINGPAXOS message whose arguments are separated by NUL
 * bytes.  The input is copied into exact-size heap buffers so
 * AddressSanitizer sees any read past them.  Whatever decodes must encode
 * back to exactly the bytes it came from (the encodings are canonical),
 * and a refusal must come with a message.
 */
#include "cstate.h"
#include "paxos.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void fuzz_state(const char *buf, size_t len)
{
    char err[128] = "";
    size_t elen;
    struct cstate *s = cstate_decode(buf, len, err, sizeof(err));

    if (s == NULL) {
        check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return;
    }
    char *again = cstate_encode(s, &elen);
    check(elen == len && memcmp(again, buf, len) == 0);
    struct cstate *c = cstate_clone(s);
    check(cstate_equal(s, c));
    rc_free(again);
    cstate_destroy(&c);
    cstate_destroy(&s);
}

static void fuzz_record(const char *buf, size_t len)
{
    char err[128] = "";
    size_t elen;
    struct cstate_record r;

    if (cstate_record_decode(buf, len, &r, err, sizeof(err)) != 0) {
        check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return;
    }
    char *again = cstate_record_encode(&r, &elen);
    check(elen == len && memcmp(again, buf, len) == 0);
    rc_free(again);
    cstate_record_deinit(&r);
}

static void fuzz_msg(const char *buf, size_t len)
{
    const char *argv[PAXOS_WIRE_MAXARGS + 1];
    size_t lens[PAXOS_WIRE_MAXARGS + 1];
    char *copies[PAXOS_WIRE_MAXARGS + 1];
    int argc = 0, i;
    size_t pos = 0;
    char err[128] = "";
    struct paxos_msg m;

    while (argc <= PAXOS_WIRE_MAXARGS) {
        const char *nul = memchr(buf + pos, '\0', len - pos);
        size_t n = nul ? (size_t)(nul - (buf + pos)) : len - pos;
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
    if (paxos_msg_decode(argc, argv, lens, &m, err, sizeof(err)) == 0) {
        struct paxos_wire w;
        paxos_msg_encode(&m, &w);
        check(w.argc == argc);
        for (i = 0; i < argc; i++)
            check(w.len[i] == lens[i] && memcmp(w.argv[i], argv[i], lens[i]) == 0);
        paxos_wire_deinit(&w);
        paxos_msg_deinit(&m);
    } else {
        check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    }
    for (i = 0; i < argc; i++)
        free(copies[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] % 3;
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    check(buf != NULL);
    memcpy(buf, data + 1, len);
    if (mode == 0)
        fuzz_state(buf, len);
    else if (mode == 1)
        fuzz_record(buf, len);
    else
        fuzz_msg(buf, len);
    free(buf);
    return 0;
}
