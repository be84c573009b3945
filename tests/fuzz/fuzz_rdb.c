/*
 * fuzz_rdb.c — libFuzzer target for the RDB value decoder (rdb.c) and the
 * LZF decompressor it uses.
 *
 * The first input byte is the RDB value type, the rest the serialized
 * value, as in a DUMP payload without its footer.  The decoder must never
 * read outside the input; whatever it accepts is re-encoded element by
 * element (strings with rdb_out_string, listpack entries with the Redis
 * listpack builder) and the re-encoding must decode to the same elements.
 * Any disagreement aborts; out-of-bounds accesses are caught by the
 * sanitizers.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *            tests/fuzz/fuzz_rdb.c src/rdb.c src/lzf.c src/mem.c \
 *            -o fuzz_rdb
 * Seeds: tests/fuzz/corpus/rdb (DUMP payloads of redis-server 7.0 values
 * of every type and encoding, footers removed).
 */
#include "rdb.h"
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

/* Collects every callback as a flat byte record: tag, length, bytes. */
struct collect {
    struct rdb_out rec;
    enum rdb_kind kind;
};

static void rec_bytes(struct collect *c, unsigned char tag, const unsigned char *p, size_t len)
{
    rdb_out_byte(&c->rec, tag);
    rdb_out_len(&c->rec, len);
    rdb_out_bytes(&c->rec, p, len);
}

static int c_begin(void *arg, enum rdb_kind kind, uint64_t hint)
{
    struct collect *c = arg;
    (void)hint;
    c->kind = kind;
    return 0;
}

static int c_elem(void *arg, const unsigned char *p, size_t len)
{
    rec_bytes(arg, 'e', p, len);
    return 0;
}

static int c_zelem(void *arg, const unsigned char *p, size_t len, double score)
{
    struct collect *c = arg;
    check(score == score);          /* never NaN */
    rec_bytes(c, 'z', p, len);
    rdb_out_double(&c->rec, score);
    return 0;
}

static int c_pair(void *arg, const unsigned char *f, size_t flen, const unsigned char *v,
                  size_t vlen)
{
    rec_bytes(arg, 'f', f, flen);
    rec_bytes(arg, 'v', v, vlen);
    return 0;
}

static int run(const unsigned char *p, size_t len, struct collect *c)
{
    struct rdb_sink sink = {c, c_begin, c_elem, c_zelem, c_pair, NULL};
    rdb_out_init(&c->rec);
    struct rdb_in in = {p + 1, len - 1, 0};
    int rc = rdb_decode_value(&in, p[0], &sink);
    check(in.pos <= in.len);
    return rc;
}

/* Re-encodes the collected elements of a list, set or hash in the plain
 * RDB forms, which must decode to the same record. */
static void reencode(const struct collect *c, struct rdb_out *o)
{
    struct rdb_in in = {c->rec.p, c->rec.len, 0};
    size_t n = 0;
    struct rdb_out body;
    rdb_out_init(&body);
    while (in.pos < in.len) {
        unsigned char tag;
        uint64_t l;
        const unsigned char *b;
        check(rdb_in_byte(&in, &tag) == 0);
        check(rdb_in_len(&in, &l, NULL) == 0);
        check(rdb_in_bytes(&in, &b, (size_t)l) == 0);
        rdb_out_string(&body, b, (size_t)l, 1);
        if (tag == 'z') {
            const unsigned char *d;
            check(rdb_in_bytes(&in, &d, 8) == 0);
            rdb_out_bytes(&body, d, 8);
        }
        if (tag != 'f')
            n++;
    }
    static const unsigned char types[] = {
        [RDB_KIND_STRING] = RDB_TYPE_STRING, [RDB_KIND_LIST] = RDB_TYPE_LIST,
        [RDB_KIND_SET] = RDB_TYPE_SET,       [RDB_KIND_ZSET] = RDB_TYPE_ZSET_2,
        [RDB_KIND_HASH] = RDB_TYPE_HASH,
    };
    rdb_out_byte(o, types[c->kind]);
    if (c->kind != RDB_KIND_STRING)
        rdb_out_len(o, n);
    rdb_out_bytes(o, body.p, body.len);
    rdb_out_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Exact-size copy so that any overread is caught. */
    unsigned char *p = rc_malloc(size);
    memcpy(p, data, size);
    struct collect a;
    if (run(p, size, &a) == 0) {
        struct rdb_out o;
        rdb_out_init(&o);
        reencode(&a, &o);
        struct collect b;
        check(run(o.p, o.len, &b) == 0);
        check(b.kind == a.kind);
        check(b.rec.len == a.rec.len && memcmp(b.rec.p, a.rec.p, a.rec.len) == 0);
        rdb_out_free(&b.rec);
        rdb_out_free(&o);
    }
    rdb_out_free(&a.rec);
    rc_free(p);
    return 0;
}
