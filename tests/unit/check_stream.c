/*
 * check_stream.c — unit tests for stream.c and rdbstream.c: ids, appends
 * across nodes (entry and byte limits, same-fields entries), iteration
 * both ways over ranges, deletion (tombstones, emptied nodes), trimming
 * (MAXLEN/MINID, exact and approximate, LIMIT), the radix-tree node count
 * XINFO reports, groups/consumers/PELs (random and queue-like use), the
 * last node's Redis size, lag estimates, and the RDB
 * encoding: round trips, and truncated or corrupted payloads refused
 * without reading outside the input.
 */
#include "stream.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listpack.h"
#include "mem.h"
#include "rdb.h"
#include "rdbstream.h"

static struct stream_id ID(uint64_t ms, uint64_t seq)
{
    struct stream_id id = {ms, seq};
    return id;
}

/* The value of the first key of r. */
static void *first_value(const struct rax *r, unsigned char *key)
{
    struct rax_iter it;
    rax_iter_start(&it, r);
    ck_assert(rax_seek(&it, RAX_FIRST, NULL, 0) && rax_next(&it));
    if (key)
        memcpy(key, it.key, it.key_len);
    void *v = it.data;
    rax_iter_stop(&it);
    return v;
}

/* The first id of a PEL (in a static buffer). */
static const struct stream_id *first_id(const struct rax *pel)
{
    static struct stream_id id;
    unsigned char k[16];
    first_value(pel, k);
    stream_id_decode(k, &id);
    return &id;
}

/* The first node's listpack and master. */
static unsigned char *first_node(const struct stream *s, struct stream_id *master)
{
    unsigned char k[16];
    unsigned char *lp = first_value(&s->nodes, k);
    stream_id_decode(k, master);
    return lp;
}

/* The ids of a PEL as "ms-seq," text. */
static void pel_ids(const struct rax *pel, char *out, size_t cap)
{
    struct rax_iter it;
    size_t used = 0;
    out[0] = '\0';
    stream_pel_iter(&it, pel, NULL);
    while (rax_next(&it)) {
        struct stream_id id;
        stream_id_decode(it.key, &id);
        ck_assert(used + STREAM_ID_STR_SIZE + 2 < cap);
        used += stream_id_fmt(out + used, &id);
        out[used++] = ',';
        out[used] = '\0';
    }
    rax_iter_stop(&it);
}

/* Appends ms-seq with fields "f<i>" = "<val>" (n pairs). */
static void add(struct stream *s, uint64_t ms, uint64_t seq, int n, const char *val,
                long long max_entries)
{
    char fb[8][8];
    struct stream_str fv[16];
    for (int i = 0; i < n; i++) {
        snprintf(fb[i], sizeof(fb[i]), "f%d", i);
        fv[2 * i].p = fb[i];
        fv[2 * i].len = strlen(fb[i]);
        fv[2 * i + 1].p = val;
        fv[2 * i + 1].len = strlen(val);
    }
    struct stream_id id = ID(ms, seq);
    ck_assert_int_eq(stream_append(s, &id, fv, (size_t)n, 4096, max_entries), 0);
}

/* The ids of the live entries start..end as "ms-seq," text. */
static void ids_of(const struct stream *s, const struct stream_id *start,
                   const struct stream_id *end, int rev, char *out, size_t cap)
{
    struct stream_iter it;
    struct stream_id id;
    int64_t nf;
    size_t used = 0;
    out[0] = '\0';
    stream_iter_start(&it, s, start, end, rev);
    while (stream_iter_next(&it, &id, &nf)) {
        char b[STREAM_ID_STR_SIZE];
        size_t n = stream_id_fmt(b, &id);
        ck_assert(used + n + 2 < cap);
        memcpy(out + used, b, n);
        used += n;
        out[used++] = ',';
        out[used] = '\0';
        for (int64_t i = 0; i < nf; i++) {
            char f1[LP_INTBUF_SIZE], v1[LP_INTBUF_SIZE];
            const char *f, *v;
            size_t fl, vl;
            stream_iter_field(&it, &f, &fl, f1, &v, &vl, v1);
            ck_assert(f != NULL && v != NULL);
        }
    }
}

START_TEST(test_ids)
{
    struct stream_id a = ID(1, UINT64_MAX), b = ID(2, 0);
    ck_assert_int_lt(stream_id_cmp(&a, &b), 0);
    ck_assert_int_eq(stream_id_incr(&a), 0);
    ck_assert_int_eq(stream_id_cmp(&a, &b), 0);
    ck_assert_int_eq(stream_id_decr(&a), 0);
    ck_assert(a.ms == 1 && a.seq == UINT64_MAX);
    struct stream_id max = ID(UINT64_MAX, UINT64_MAX), zero = ID(0, 0);
    ck_assert_int_eq(stream_id_incr(&max), -1);
    ck_assert_int_eq(stream_id_decr(&zero), -1);
    char buf[STREAM_ID_STR_SIZE];
    ck_assert_uint_eq(stream_id_fmt(buf, &max), 41);
    ck_assert_str_eq(buf, "18446744073709551615-18446744073709551615");
    unsigned char e[16];
    struct stream_id x = ID(0x0102030405060708ULL, 0x1112131415161718ULL), y;
    stream_id_encode(e, &x);
    ck_assert_int_eq(e[0], 1);
    ck_assert_int_eq(e[15], 0x18);
    stream_id_decode(e, &y);
    ck_assert_int_eq(stream_id_cmp(&x, &y), 0);
}
END_TEST

START_TEST(test_append_iterate)
{
    struct stream *s = stream_new();
    for (uint64_t i = 1; i <= 10; i++)
        add(s, i, i % 3, i % 2 ? 2 : 1, i % 4 ? "v" : "12345", 3);
    ck_assert_uint_eq(s->length, 10);
    ck_assert_uint_eq(rax_size(&s->nodes), 4);
    ck_assert_uint_eq(s->entries_added, 10);
    ck_assert(s->first_id.ms == 1 && s->last_id.ms == 10);
    char out[512];
    ids_of(s, NULL, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "1-1,2-2,3-0,4-1,5-2,6-0,7-1,8-2,9-0,10-1,");
    ids_of(s, NULL, NULL, 1, out, sizeof(out));
    ck_assert_str_eq(out, "10-1,9-0,8-2,7-1,6-0,5-2,4-1,3-0,2-2,1-1,");
    struct stream_id lo = ID(3, 1), hi = ID(7, 1);
    ids_of(s, &lo, &hi, 0, out, sizeof(out));
    ck_assert_str_eq(out, "4-1,5-2,6-0,7-1,");
    ids_of(s, &lo, &hi, 1, out, sizeof(out));
    ck_assert_str_eq(out, "7-1,6-0,5-2,4-1,");
    ids_of(s, &hi, &lo, 0, out, sizeof(out));
    ck_assert_str_eq(out, "");
    struct stream_id e;
    ck_assert(stream_edge_id(s, 0, &e) && e.ms == 10);
    stream_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_node_byte_limit)
{
    /* Redis's sizes: a node of one entry with a 1-field master "f0" and a
     * one-byte value is 7 + 2 (count) + 2 (deleted) + 2 (num-fields) +
     * 4 ("f0") + 2 (0) + flags, ms, seq, lp-count (2 each) + 3 ("v"). */
    struct stream *s = stream_new();
    add(s, 1, 1, 1, "v", 0);
    ck_assert_uint_eq(s->tail_rbytes, 30);
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct stream_str fv[2] = {{"f0", 2}, {big, 199}};
    struct stream_id id = ID(2, 0);
    ck_assert_int_eq(stream_append(s, &id, fv, 1, 200, 0), 0);
    ck_assert_uint_eq(rax_size(&s->nodes), 2);        /* 30 + 199 >= 200 */
    id = ID(3, 0);
    ck_assert_int_eq(stream_append(s, &id, fv, 1, 0, 0), 0);
    ck_assert_uint_eq(rax_size(&s->nodes), 2);        /* 0: only the 1 GB cap */
    stream_destroy(&s);
}
END_TEST

START_TEST(test_delete)
{
    struct stream *s = stream_new();
    for (uint64_t i = 1; i <= 6; i++)
        add(s, i, 0, 1, "v", 3);
    struct stream_id id = ID(2, 0);
    ck_assert_int_eq(stream_delete(s, &id), 1);
    ck_assert_int_eq(stream_delete(s, &id), 0);
    ck_assert(!stream_has_entry(s, &id));
    id = ID(9, 0);
    ck_assert_int_eq(stream_delete(s, &id), 0);
    char out[256];
    ids_of(s, NULL, NULL, 1, out, sizeof(out));
    ck_assert_str_eq(out, "6-0,5-0,4-0,3-0,1-0,");
    /* Emptying the second node removes it. */
    for (uint64_t i = 4; i <= 6; i++) {
        id = ID(i, 0);
        ck_assert_int_eq(stream_delete(s, &id), 1);
    }
    ck_assert_uint_eq(rax_size(&s->nodes), 1);
    ck_assert_uint_eq(s->length, 2);
    id = ID(1, 0);
    stream_delete(s, &id);
    stream_update_first(s);
    ck_assert(s->first_id.ms == 3);
    ids_of(s, NULL, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "3-0,");
    stream_destroy(&s);
}
END_TEST

START_TEST(test_trim)
{
    struct stream *s = stream_new();
    for (uint64_t i = 1; i <= 10; i++)
        add(s, i, 0, 1, "v", 3);
    long long maxlen = 8;
    /* Approximate: only whole nodes (the first holds 3). */
    ck_assert_uint_eq(stream_trim(s, &maxlen, NULL, 1, 0), 0);
    maxlen = 7;
    ck_assert_uint_eq(stream_trim(s, &maxlen, NULL, 1, 0), 3);
    ck_assert_uint_eq(s->length, 7);
    ck_assert(s->first_id.ms == 4);
    /* Exact: inside a node. */
    maxlen = 5;
    ck_assert_uint_eq(stream_trim(s, &maxlen, NULL, 0, 0), 2);
    ck_assert(s->first_id.ms == 6);
    /* MINID, exact and approximate; LIMIT stops before a node. */
    struct stream_id min = ID(8, 0);
    ck_assert_uint_eq(stream_trim(s, NULL, &min, 1, 0), 1);
    ck_assert_uint_eq(stream_trim(s, NULL, &min, 0, 0), 1);
    /* [7 deleted, 8, 9] [10]: LIMIT 2 lets the first node go, not both. */
    maxlen = 0;
    ck_assert_uint_eq(stream_trim(s, &maxlen, NULL, 1, 2), 2);
    ck_assert_uint_eq(stream_trim(s, &maxlen, NULL, 0, 0), 1);
    ck_assert_uint_eq(s->length, 0);
    ck_assert_uint_eq(rax_size(&s->nodes), 0);
    ck_assert(s->first_id.ms == 0 && s->first_id.seq == 0);
    stream_destroy(&s);
}
END_TEST

START_TEST(test_rax_nodes)
{
    struct stream *s = stream_new();
    ck_assert_uint_eq(stream_rax_nodes(s), 1);
    add(s, 1, 1, 1, "v", 1);
    ck_assert_uint_eq(stream_rax_nodes(s), 2);
    add(s, 1, 2, 1, "v", 1);       /* 15 common bytes, then a branch */
    ck_assert_uint_eq(stream_rax_nodes(s), 4);
    add(s, 2, 0, 1, "v", 1);
    ck_assert_uint_eq(rax_size(&s->nodes), 3);
    /* root (7 zero bytes), branch on ms, then for ms 1: compressed, a
     * branch on seq, two leaves; for ms 2: compressed and a leaf. */
    ck_assert_uint_eq(stream_rax_nodes(s), 8);
    stream_destroy(&s);
}
END_TEST

START_TEST(test_groups)
{
    struct stream *s = stream_new();
    struct stream_id z = ID(0, 0);
    struct stream_cg *b = stream_cg_create(s, "b", 1, &z, -1);
    struct stream_cg *a = stream_cg_create(s, "a", 1, &z, 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(stream_cg_create(s, "a", 1, &z, 0));
    ck_assert_ptr_eq(first_value(&s->groups, NULL), a);
    ck_assert_ptr_eq(stream_cg_find(s, "b", 1), b);
    struct stream_consumer *c1 = stream_consumer_create(a, "bob", 3, 5);
    struct stream_consumer *c2 = stream_consumer_create(a, "al", 2, 5);
    ck_assert_ptr_null(stream_consumer_create(a, "al", 2, 5));
    ck_assert_ptr_eq(first_value(&a->consumers, NULL), c2);
    for (uint64_t i = 5; i >= 1; i--) {
        struct stream_id id = ID(i, 0);
        ck_assert_ptr_nonnull(stream_nack_add(a, i % 2 ? c1 : c2, &id, 100));
    }
    struct stream_id three = ID(3, 0);
    ck_assert_ptr_null(stream_nack_add(a, c1, &three, 1));
    ck_assert_uint_eq(rax_size(&a->pel), 5);
    ck_assert_uint_eq(rax_size(&c1->pel), 3);
    struct stream_nack *n = stream_pel_find(&a->pel, &three);
    stream_nack_move(n, &three, c2);
    ck_assert_uint_eq(rax_size(&c1->pel), 2);
    ck_assert_uint_eq(rax_size(&c2->pel), 3);
    char ids[256];
    pel_ids(&c2->pel, ids, sizeof(ids));
    ck_assert_str_eq(ids, "2-0,3-0,4-0,");
    pel_ids(&a->pel, ids, sizeof(ids));
    ck_assert_str_eq(ids, "1-0,2-0,3-0,4-0,5-0,");
    ck_assert_int_eq(stream_nack_del(a, &three), 1);
    ck_assert_int_eq(stream_nack_del(a, &three), 0);
    ck_assert_uint_eq(rax_size(&a->pel), 4);
    struct stream *d = stream_dup(s);
    ck_assert_uint_eq(stream_consumer_delete(a, c1), 2);
    ck_assert_uint_eq(rax_size(&a->pel), 2);
    stream_cg_destroy(s, b);
    ck_assert_uint_eq(rax_size(&s->groups), 1);
    struct stream_cg *da = stream_cg_find(d, "a", 1);
    ck_assert_uint_eq(rax_size(&da->pel), 4);
    ck_assert_uint_eq(rax_size(&da->consumers), 2);
    stream_destroy(&d);
    stream_destroy(&s);
}
END_TEST

/* Random adds and deletes checked against a bitmap of what should be
 * pending (the group's and the consumer's PELs in step, in id order),
 * then the queue pattern (deliver at the end, acknowledge the oldest)
 * keeping the trees small. */
START_TEST(test_pel_random_and_queue)
{
    struct stream *s = stream_new();
    struct stream_id z = ID(0, 0);
    struct stream_cg *g = stream_cg_create(s, "g", 1, &z, 0);
    struct stream_consumer *c = stream_consumer_create(g, "c", 1, 0);
    enum { N = 600 };
    unsigned char want[N] = {0};
    size_t live = 0;
    uint32_t r = 12345;
    for (int step = 0; step < 20000; step++) {
        r = r * 1103515245u + 12345u;
        uint64_t k = (r >> 8) % N;
        struct stream_id id = ID(k + 1, 0);
        struct stream_nack *n = stream_pel_find(&g->pel, &id);
        ck_assert((n != NULL) == want[k]);
        if (n) {
            ck_assert_int_eq(stream_nack_del(g, &id), 1);
            want[k] = 0;
            live--;
        } else {
            ck_assert_ptr_nonnull(stream_nack_add(g, c, &id, 1));
            want[k] = 1;
            live++;
        }
        ck_assert_uint_eq(rax_size(&g->pel), live);
        ck_assert_uint_eq(rax_size(&c->pel), live);
    }
    ck_assert(rax_verify(&g->pel) && rax_verify(&c->pel));
    struct rax_iter gi, ci;
    stream_pel_iter(&gi, &g->pel, NULL);
    stream_pel_iter(&ci, &c->pel, NULL);
    for (uint64_t k = 0; k < N; k++) {
        if (!want[k])
            continue;
        ck_assert(rax_next(&gi) && rax_next(&ci));
        ck_assert_ptr_eq(gi.data, ci.data);
        struct stream_id id;
        stream_id_decode(gi.key, &id);
        ck_assert_uint_eq(id.ms, k + 1);
    }
    ck_assert(!rax_next(&gi) && !rax_next(&ci));
    rax_iter_stop(&gi);
    rax_iter_stop(&ci);
    while (rax_size(&g->pel))
        ck_assert_int_eq(stream_nack_del(g, first_id(&g->pel)), 1);
    for (uint64_t i = 1; i <= 100000; i++) {
        struct stream_id id = ID(N + i, 0);
        stream_nack_add(g, c, &id, 1);
        if (i > 64)
            ck_assert_int_eq(stream_nack_del(g, first_id(&g->pel)), 1);
    }
    ck_assert_uint_eq(rax_size(&g->pel), 64);
    ck_assert(rax_verify(&g->pel) && rax_verify(&c->pel));
    /* Per key: a run of the 8 seq bytes with the embedded leaf (24) and a
     * byte and pointer of the fork on ms: about 34 bytes, not growing. */
    ck_assert_uint_lt(rax_mem(&g->pel), 64 * 36);
    ck_assert_uint_eq(first_id(&g->pel)->ms, N + 100000 - 63);
    stream_destroy(&s);
}
END_TEST

/* The last node's size in Redis's encoding is kept as it grows and
 * shrinks, and recomputed when the node before becomes the last. */
START_TEST(test_tail_rbytes)
{
    struct stream *s = stream_new();
    for (uint64_t i = 1; i <= 3; i++)
        add(s, i, 0, 2, i == 2 ? "-70000" : "some text", 3);
    size_t first = s->tail_rbytes;
    struct stream_id id = ID(2, 0);
    stream_delete(s, &id);              /* counters change in the node */
    size_t first_del = s->tail_rbytes;
    ck_assert_uint_eq(first_del, first);        /* same-size counters */
    for (uint64_t i = 4; i <= 5; i++)
        add(s, i, 0, 1, "v", 3);
    ck_assert_uint_eq(rax_size(&s->nodes), 2);
    ck_assert_uint_ne(s->tail_rbytes, first);
    for (uint64_t i = 4; i <= 5; i++) {
        id = ID(i, 0);
        ck_assert_int_eq(stream_delete(s, &id), 1);
    }
    ck_assert_uint_eq(rax_size(&s->nodes), 1);
    ck_assert_uint_eq(s->tail_rbytes, first_del);
    ck_assert(s->tail_master.ms == 1);
    stream_destroy(&s);
}
END_TEST

/* Nodes trimmed from the front while new ones are appended: the index
 * stays ordered and small. */
START_TEST(test_nodes_queue)
{
    struct stream *s = stream_new();
    long long maxlen = 20;
    for (uint64_t i = 1; i <= 5000; i++) {
        add(s, i, 0, 1, "v", 2);
        stream_trim(s, &maxlen, NULL, 1, 0);
    }
    ck_assert_uint_le(s->length, 22);
    ck_assert_uint_le(rax_size(&s->nodes), 12);
    ck_assert(rax_verify(&s->nodes));
    ck_assert_uint_lt(rax_mem(&s->nodes), 12 * 64);
    char buf[512];
    struct stream_id lo = ID(4995, 0), hi = ID(5000, 0);
    ids_of(s, &lo, &hi, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "4995-0,4996-0,4997-0,4998-0,4999-0,5000-0,");
    ids_of(s, &lo, &hi, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5000-0,4999-0,4998-0,4997-0,4996-0,4995-0,");
    struct stream *d = stream_dup(s);
    ck_assert_uint_eq(d->length, s->length);
    stream_destroy(&d);
    stream_destroy(&s);
}
END_TEST

START_TEST(test_lag_estimates)
{
    struct stream *s = stream_new();
    struct stream_id id = ID(5, 0);
    ck_assert_int_eq(stream_estimate_distance(s, &id), 0);
    for (uint64_t i = 1; i <= 4; i++)
        add(s, i, 0, 1, "v", 100);
    id = ID(4, 0);
    ck_assert_int_eq(stream_estimate_distance(s, &id), 4);
    id = ID(9, 0);
    ck_assert_int_eq(stream_estimate_distance(s, &id), -1);
    id = ID(1, 0);
    ck_assert_int_eq(stream_estimate_distance(s, &id), 1);
    id = ID(0, 5);
    ck_assert_int_eq(stream_estimate_distance(s, &id), 0);
    id = ID(2, 0);
    stream_delete(s, &id);
    s->max_deleted_id = id;
    struct stream_id one = ID(1, 0);
    ck_assert(stream_range_has_tombstones(s, &one));
    id = ID(3, 0);
    ck_assert(!stream_range_has_tombstones(s, &id));
    ck_assert_int_eq(stream_estimate_distance(s, &id), -1);
    stream_destroy(&s);
}
END_TEST

/* A stream with every feature the encoding has. */
static struct stream *sample(void)
{
    struct stream *s = stream_new();
    for (uint64_t i = 1; i <= 12; i++)
        add(s, i * 1000, i, (int)(i % 3) + 1, i % 2 ? "-70000" : "text", 4);
    struct stream_id id = ID(5000, 5);
    stream_delete(s, &id);
    s->max_deleted_id = id;
    struct stream_id z = ID(0, 0), l = ID(9000, 9);
    struct stream_cg *cg = stream_cg_create(s, "grp", 3, &l, 7);
    stream_cg_create(s, "123", 3, &z, -1);
    struct stream_consumer *c = stream_consumer_create(cg, "c", 1, 1234567);
    for (uint64_t i = 2; i <= 8; i += 3) {
        id = ID(i * 1000, i);
        struct stream_nack *n = stream_nack_add(cg, c, &id, 99);
        n->delivery_count = i;
    }
    return s;
}

static void encode(const struct stream *s, struct rdb_out *out)
{
    rdb_out_init(out);
    rdb_put_stream(out, s);
}

START_TEST(test_rdb_round_trip)
{
    struct stream *s = sample();
    struct rdb_out a, b;
    encode(s, &a);
    ck_assert_int_eq(a.p[0], RDB_TYPE_STREAM_LISTPACKS_2);
    struct rdb_in in = {a.p + 1, a.len - 1, 0};
    struct stream *t = rdb_get_stream(&in, a.p[0]);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(in.pos, a.len - 1);
    ck_assert_uint_eq(t->length, s->length);
    ck_assert_uint_eq(rax_size(&t->nodes), rax_size(&s->nodes));
    ck_assert_uint_eq(t->nodes.nodes, s->nodes.nodes);
    ck_assert_uint_eq(t->tail_rbytes, s->tail_rbytes);
    encode(t, &b);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.p, b.p, a.len) == 0);
    char x[1024], y[1024];
    ids_of(s, NULL, NULL, 1, x, sizeof(x));
    ids_of(t, NULL, NULL, 1, y, sizeof(y));
    ck_assert_str_eq(x, y);
    rdb_out_free(&b);
    stream_destroy(&t);
    /* Every truncation is refused. */
    for (size_t n = 0; n < a.len - 1; n++) {
        struct rdb_in tin = {a.p + 1, n, 0};
        struct stream *u = rdb_get_stream(&tin, a.p[0]);
        ck_assert_ptr_null(u);
    }
    /* Corruptions are refused or give a stream that iterates safely. */
    srand(7);
    for (int k = 0; k < 3000; k++) {
        unsigned char *c = rc_malloc(a.len);
        memcpy(c, a.p, a.len);
        int flips = 1 + rand() % 3;
        for (int f = 0; f < flips; f++)
            c[1 + (size_t)rand() % (a.len - 1)] = (unsigned char)rand();
        struct rdb_in cin = {c + 1, a.len - 1, 0};
        struct stream *u = rdb_get_stream(&cin, c[0]);
        if (u) {
            char z[4096];
            ids_of(u, NULL, NULL, 0, z, sizeof(z));
            ids_of(u, NULL, NULL, 1, z, sizeof(z));
            stream_destroy(&u);
        }
        rc_free(c);
    }
    rdb_out_free(&a);
    stream_destroy(&s);
}
END_TEST

START_TEST(test_node_validate)
{
    struct stream *s = stream_new();
    add(s, 1, 0, 2, "v", 100);
    add(s, 1, 5, 1, "w", 100);
    struct stream_id last, master;
    uint64_t live;
    unsigned char *node = first_node(s, &master);
    ck_assert(stream_node_validate(node, &master, &last, &live));
    ck_assert(last.ms == 1 && last.seq == 5 && live == 2);
    /* A wrong live count, a wrong lp-count, ids going backwards. */
    unsigned char *lp = lp_dup(node);
    lp = lp_replace_int(lp, lp_first(lp), 5);
    ck_assert(!stream_node_validate(lp, &master, &last, &live));
    lp_free(lp);
    lp = lp_dup(node);
    lp = lp_replace_int(lp, lp_last(lp), 9);
    ck_assert(!stream_node_validate(lp, &master, &last, &live));
    lp_free(lp);
    /* Seen from another master, the second id wraps below the first. */
    struct stream_id other = ID(1, UINT64_MAX - 2);
    ck_assert(!stream_node_validate(node, &other, &last, &live));
    stream_destroy(&s);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_append_iterate);
    tcase_add_test(tc, test_node_byte_limit);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_trim);
    tcase_add_test(tc, test_rax_nodes);
    tcase_add_test(tc, test_groups);
    tcase_add_test(tc, test_pel_random_and_queue);
    tcase_add_test(tc, test_tail_rbytes);
    tcase_add_test(tc, test_nodes_queue);
    tcase_add_test(tc, test_lag_estimates);
    tcase_add_test(tc, test_rdb_round_trip);
    tcase_add_test(tc, test_node_validate);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stream_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
