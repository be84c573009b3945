/*
 * fuzz_stream.c — libFuzzer target for the stream RDB decoder
 * (rdbstream.c) and the stream structure it builds (stream.c).
 *
 * The first input byte is the RDB value type (15 or 19 are streams), the
 * rest the serialized value, as in a DUMP payload without its footer.
 * The decoder must never read outside the input.  Whatever it accepts
 * must then be safe to use: it is walked both ways with every field read,
 * its edges and radix-tree node count taken, re-encoded (the re-encoding
 * must decode to the same bytes again), and modified as commands modify
 * it (append after the last id, delete, trim, consumer deletion).
 *
 * Build: `make fuzz` (clang, -fsanitize=fuzzer,address,undefined).
 * Seeds: tests/fuzz/corpus/stream (DUMP payloads of redis-server 7.0
 * streams with groups, PELs, tombstones and several nodes, footers
 * removed).
 */
#include "listpack.h"
#include "mem.h"
#include "rdb.h"
#include "rdbstream.h"
#include "stream.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
    if (!cond)
        abort();
}

static void walk(const struct stream *s, int rev)
{
    struct stream_iter it;
    struct stream_id id, prev = {0, 0};
    int64_t nf;
    uint64_t n = 0;
    stream_iter_start(&it, s, NULL, NULL, rev);
    while (stream_iter_next(&it, &id, &nf)) {
        if (n++)
            check(rev ? stream_id_cmp(&id, &prev) < 0 : stream_id_cmp(&id, &prev) > 0);
        prev = id;
        for (int64_t i = 0; i < nf; i++) {
            char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
            const char *f, *v;
            size_t fl, vl;
            stream_iter_field(&it, &f, &fl, fb, &v, &vl, vb);
        }
    }
    check(n == s->length);
}

static void encode(const struct stream *s, struct rdb_out *out)
{
    rdb_out_init(out);
    rdb_put_stream(out, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || !rdb_is_stream_type(data[0]))
        return 0;
    struct rdb_in in = {data + 1, size - 1, 0};
    struct stream *s = rdb_get_stream(&in, data[0]);
    if (s == NULL)
        return 0;
    walk(s, 0);
    walk(s, 1);
    struct stream_id first, last;
    if (stream_edge_id(s, 1, &first)) {
        check(stream_edge_id(s, 0, &last));
        check(stream_id_cmp(&first, &last) <= 0);
        check(stream_id_cmp(&last, &s->last_id) <= 0);
    }
    (void)stream_rax_nodes(s);

    /* The re-encoding decodes, and encodes again to the same bytes. */
    struct rdb_out a, b;
    encode(s, &a);
    struct rdb_in ain = {a.p + 1, a.len - 1, 0};
    struct stream *t = rdb_get_stream(&ain, a.p[0]);
    check(t != NULL);
    encode(t, &b);
    check(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
    rdb_out_free(&a);
    rdb_out_free(&b);
    stream_destroy(&t);

    /* Used as the commands use it. */
    struct rax_iter it, ci;
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        struct stream_cg *cg = it.data;
        check(rax_verify(&cg->pel) && rax_verify(&cg->consumers));
        stream_pel_iter(&ci, &cg->pel, NULL);
        while (rax_next(&ci))
            check(((struct stream_nack *)ci.data)->consumer != NULL);
        rax_iter_start(&ci, &cg->consumers);
        if (rax_seek(&ci, RAX_FIRST, NULL, 0) && rax_next(&ci))
            stream_consumer_delete(cg, ci.data);
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
    check(rax_verify(&s->nodes) && rax_verify(&s->groups));
    if (stream_edge_id(s, 1, &first))
        stream_delete(s, &first);
    struct stream_id next = s->last_id;
    if (stream_id_incr(&next) == 0) {
        struct stream_str fv[2] = {{"f", 1}, {"v", 1}};
        check(stream_append(s, &next, fv, 1, 64, 3) == 0);
    }
    walk(s, 0);
    long long maxlen = (long long)(s->length / 2);
    stream_trim(s, &maxlen, NULL, 0, 0);
    check(s->length == (uint64_t)maxlen);
    walk(s, 1);
    stream_destroy(&s);
    return 0;
}
