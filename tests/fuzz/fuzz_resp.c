/*
 * fuzz_resp.c — libFuzzer target for the RESP request parser (src/resp.c).
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_resp.c src/resp.c src/mem.c -o fuzz_resp
 *   ./fuzz_resp tests/fuzz/corpus/resp
 *
 * Input layout: byte 0 picks the limits (so the small-limit error paths are
 * reachable with short inputs), byte 1 picks where each command is split in
 * two deliveries, the rest is a stream of requests parsed as a connection
 * would parse it: command after command until one is incomplete or invalid.
 *
 * Each command is parsed twice, in separate exact-size heap copies (so
 * AddressSanitizer sees any read past the bytes handed over): once whole,
 * once as a prefix followed by the whole, with the buffer moved between the
 * two calls.  Both must agree, and the results must satisfy the parser's
 * contract: consumed within the input, arguments within the command, a need
 * hint beyond what was passed, errors from the known set.
 */
#include "resp.h"

#include "mem.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMMANDS 256

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

static void pick_limits(uint8_t sel, struct resp_limits *lim)
{
    resp_limits_init(lim);
    if (sel & 1) {
        lim->max_multibulk_unauth = RESP_UNAUTH_MAX_MULTIBULK;
        lim->max_bulk_unauth = 16 + (sel >> 4);
    }
    if (sel & 2)
        lim->max_inline = 4 + (size_t)(sel >> 4) * 4;
    if (sel & 4)
        lim->max_bulk = (sel >> 4) * 8;
    if (sel & 8)
        lim->max_multibulk = sel >> 4;
    if (sel == 0xff)
        lim->max_bulk = LLONG_MAX; /* master link: no bulk limit */
}

static int is_known_error(const char *err)
{
    static const char *const known[] = {
        "Protocol error: too big inline request",
        "Protocol error: too big mbulk count string",
        "Protocol error: invalid multibulk length",
        "Protocol error: too big bulk count string",
        "Protocol error: invalid bulk length",
        "Protocol error: unbalanced quotes in request",
        "Protocol error: unauthenticated multibulk length",
        "Protocol error: unauthenticated bulk length",
    };
    static const char dollar[] = "Protocol error: expected '$', got '";

    if (err == NULL || strchr(err, '\r') || strchr(err, '\n'))
        return 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(err, known[i]) == 0)
            return 1;
    /* The prefix, the offending byte (never NUL), a closing quote. */
    return strncmp(err, dollar, sizeof(dollar) - 1) == 0 &&
           strlen(err) == sizeof(dollar) + 1 && err[sizeof(dollar)] == '\'';
}

static int is_too_big(const char *err)
{
    return strstr(err, "too big") != NULL;
}

/* The contract of one resp_parse() result. */
static void check_result(const struct resp_parser *p, enum resp_status st,
                         size_t len, size_t consumed, const char *err)
{
    switch (st) {
    case RESP_DONE:
        check(consumed > 0 && consumed <= len);
        for (size_t i = 0; i < p->argc; i++) {
            check(p->argv[i].off <= consumed);
            check(p->argv[i].len <= consumed - p->argv[i].off);
        }
        break;
    case RESP_MORE:
        check(consumed == 0);
        check(resp_parser_need(p) > len);
        break;
    case RESP_ERROR:
        check(consumed == 0);
        check(is_known_error(err));
        break;
    default:
        check(0);
    }
}

static void check_same(const struct resp_parser *a, const char *abuf,
                       const struct resp_parser *b, const char *bbuf)
{
    check(a->argc == b->argc);
    check(a->is_inline == b->is_inline);
    for (size_t i = 0; i < a->argc; i++) {
        check(a->argv[i].off == b->argv[i].off);
        check(a->argv[i].len == b->argv[i].len);
        check(memcmp(abuf + a->argv[i].off, bbuf + b->argv[i].off,
                     a->argv[i].len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_limits lim;
    struct resp_parser whole, split;
    uint8_t cutsel;
    size_t off = 0;

    if (size < 2)
        return 0;
    pick_limits(data[0], &lim);
    cutsel = data[1];
    data += 2;
    size -= 2;

    /* Both parsers live across commands, as on a connection, so reset and
     * the reuse of a kept argv array are exercised too. */
    resp_parser_init(&whole);
    resp_parser_init(&split);
    for (int n = 0; n < MAX_COMMANDS; n++) {
        size_t len = size - off;
        size_t cut = (size_t)(((unsigned long long)len * cutsel) / 255);
        char *wbuf = copy(data + off, len);
        char *pbuf = copy(data + off, cut);
        char *sbuf = NULL;
        const char *werr = NULL, *serr = NULL;
        size_t wc = 0, sc = 0;
        enum resp_status ws, ss;
        const char *sres;

        ws = resp_parse(&whole, wbuf, len, &lim, &wc, &werr);
        check_result(&whole, ws, len, wc, werr);

        ss = resp_parse(&split, pbuf, cut, &lim, &sc, &serr);
        check_result(&split, ss, cut, sc, serr);
        sres = pbuf;
        if (ss == RESP_MORE) {
            /* Deliver the rest in a moved buffer. */
            free(pbuf);
            pbuf = NULL;
            sbuf = copy(data + off, len);
            ss = resp_parse(&split, sbuf, len, &lim, &sc, &serr);
            check_result(&split, ss, len, sc, serr);
            sres = sbuf;
        } else if (ss == RESP_ERROR) {
            /* Only a "too big" verdict may depend on where input stops;
             * any other error is in the whole input as well. */
            check(is_too_big(serr) || (ws == RESP_ERROR &&
                                       strcmp(serr, werr) == 0));
        }
        if (ss != RESP_ERROR) {
            check(ss == ws);
            if (ws == RESP_DONE) {
                check(sc == wc);
                check_same(&whole, wbuf, &split, sres);
            } else if (ws == RESP_ERROR) {
                check(strcmp(serr, werr) == 0);
            } else {
                check(resp_parser_need(&split) == resp_parser_need(&whole));
            }
        }

        free(wbuf);
        free(pbuf);
        free(sbuf);
        if (ws != RESP_DONE)
            break;
        off += wc;
        resp_parser_reset(&whole);
        resp_parser_reset(&split);
    }
    resp_parser_deinit(&whole);
    resp_parser_deinit(&split);
    check(rc_used_memory() == 0);
    return 0;
}
