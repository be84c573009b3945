/*
 * check_zskiplist.c — unit tests for zskiplist.c.
 *
 * Besides hand-written cases, a randomized test drives the skiplist and a
 * model side by side — a plain array kept sorted by (score, member) — with
 * random inserts, deletes, score updates and range deletions, and after
 * every step compares order, ranks, element-by-rank, spans (through ranks),
 * backward links and range searches.  Members are short strings over a tiny
 * alphabet, with embedded NULs and shared prefixes, and scores come from a
 * small set including infinities, so ties and lex order are exercised.
 */
#include "zskiplist.h"
#include "mem.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct melem {
    double score;
    char m[8];
    size_t mlen;
};

struct model {
    struct melem *a;
    size_t n, cap;
};

static int melem_cmp(const struct melem *x, double score, const char *m, size_t mlen)
{
    if (x->score < score)
        return -1;
    if (x->score > score)
        return 1;
    return zsl_cmp_member(x->m, x->mlen, m, mlen);
}

/* Index of the member in the model, or -1 (linear: members are unique). */
static long model_find(const struct model *md, const char *m, size_t mlen)
{
    for (size_t i = 0; i < md->n; i++)
        if (md->a[i].mlen == mlen && memcmp(md->a[i].m, m, mlen) == 0)
            return (long)i;
    return -1;
}

static void model_insert(struct model *md, double score, const char *m, size_t mlen)
{
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 64;
        md->a = rc_realloc(md->a, md->cap * sizeof(*md->a));
    }
    size_t i = 0;
    while (i < md->n && melem_cmp(&md->a[i], score, m, mlen) < 0)
        i++;
    memmove(md->a + i + 1, md->a + i, (md->n - i) * sizeof(*md->a));
    md->a[i].score = score;
    memcpy(md->a[i].m, m, mlen);
    md->a[i].mlen = mlen;
    md->n++;
}

static void model_remove_at(struct model *md, size_t i)
{
    memmove(md->a + i, md->a + i + 1, (md->n - i - 1) * sizeof(*md->a));
    md->n--;
}

static void random_member(char *m, size_t *mlen)
{
    static const char alpha[] = {'a', 'b', 'c', '\0', 'z'};
    *mlen = (size_t)(rand() % 4);
    for (size_t i = 0; i < *mlen; i++)
        m[i] = alpha[rand() % 5];
}

static double random_score(void)
{
    static const double scores[] = {-INFINITY, -2.5, -1, 0, 1, 1.5, 2, 3, 100, INFINITY};
    return scores[rand() % 10];
}

static void random_range(struct zsl_range *r)
{
    r->min = random_score();
    r->max = random_score();
    r->minex = rand() % 2;
    r->maxex = rand() % 2;
}

static void random_lexbound(struct zsl_lexbound *b, char *buf)
{
    int k = rand() % 6;
    if (k == 0) {
        b->kind = ZSL_LEX_NEG_INF;
    } else if (k == 1) {
        b->kind = ZSL_LEX_POS_INF;
    } else {
        b->kind = k % 2 ? ZSL_LEX_INCL : ZSL_LEX_EXCL;
        random_member(buf, &b->len);
        b->p = buf;
    }
}

/* Everything observable must agree with the model. */
static void check_same(const struct zsl *z, const struct model *md)
{
    ck_assert_uint_eq(zsl_length(z), md->n);
    const struct zsl_node *prev = NULL;
    size_t i = 0;
    for (struct zsl_node *x = zsl_first(z); x; x = zsl_next(x), i++) {
        ck_assert_uint_lt(i, md->n);
        ck_assert(x->score == md->a[i].score);
        ck_assert_uint_eq(x->mlen, md->a[i].mlen);
        ck_assert(memcmp(zsl_member(x), md->a[i].m, x->mlen) == 0);
        ck_assert_ptr_eq(x->backward, prev);
        ck_assert_uint_eq(zsl_rank(z, x->score, zsl_member(x), x->mlen), i + 1);
        ck_assert_ptr_eq(zsl_by_rank(z, i + 1), x);
        prev = x;
    }
    ck_assert_uint_eq(i, md->n);
    ck_assert_ptr_eq(zsl_last(z), prev);
    ck_assert_ptr_null(zsl_by_rank(z, 0));
    ck_assert_ptr_null(zsl_by_rank(z, md->n + 1));
}

static long model_first_in_range(const struct model *md, const struct zsl_range *r)
{
    for (size_t i = 0; i < md->n; i++)
        if (zsl_gte_min(md->a[i].score, r) && zsl_lte_max(md->a[i].score, r))
            return (long)i;
    return -1;
}

static long model_last_in_range(const struct model *md, const struct zsl_range *r)
{
    for (size_t i = md->n; i-- > 0;)
        if (zsl_gte_min(md->a[i].score, r) && zsl_lte_max(md->a[i].score, r))
            return (long)i;
    return -1;
}

static int model_in_lex(const struct melem *e, const struct zsl_lexrange *r)
{
    return zsl_lex_gte_min(e->m, e->mlen, r) && zsl_lex_lte_max(e->m, e->mlen, r);
}

static void check_node_is(const struct zsl *z, const struct zsl_node *x,
                          const struct model *md, long idx)
{
    if (idx < 0) {
        ck_assert_ptr_null(x);
        return;
    }
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_eq(x, zsl_by_rank(z, (size_t)idx + 1));
    ck_assert(x->score == md->a[idx].score);
}

struct delctx {
    struct model *md;
    size_t calls;
};

static void on_delete(void *arg, struct zsl_node *n)
{
    struct delctx *d = arg;
    long i = model_find(d->md, zsl_member(n), n->mlen);
    ck_assert_int_ge(i, 0);
    model_remove_at(d->md, (size_t)i);
    d->calls++;
}

START_TEST(test_random_against_model)
{
    srand(12345);
    zsl_seed(42);
    struct zsl *z = zsl_create(8);
    struct model md = {NULL, 0, 0};

    for (int step = 0; step < 8000; step++) {
        char m[8];
        size_t mlen;
        random_member(m, &mlen);
        long at = model_find(&md, m, mlen);
        int op = rand() % 100;

        if (op < 40) {                       /* insert or update */
            double s = random_score();
            if (at < 0) {
                struct zsl_node *n = zsl_insert(z, s, m, mlen);
                ck_assert(n->score == s);
                model_insert(&md, s, m, mlen);
            } else {
                struct zsl_node *n = zsl_by_rank(z, (size_t)at + 1);
                zsl_update_score(z, n, s);
                ck_assert(n->score == s);
                model_remove_at(&md, (size_t)at);
                model_insert(&md, s, m, mlen);
            }
        } else if (op < 55) {                /* delete by key */
            double s = at >= 0 ? md.a[at].score : random_score();
            int r = zsl_delete(z, s, m, mlen);
            ck_assert_int_eq(r, at >= 0);
            if (at >= 0)
                model_remove_at(&md, (size_t)at);
        } else if (op < 62) {                /* delete a node */
            if (md.n) {
                size_t i = (size_t)rand() % md.n;
                zsl_delete_node(z, zsl_by_rank(z, i + 1));
                model_remove_at(&md, i);
            }
        } else if (op < 80) {                /* score and lex range queries */
            struct zsl_range r;
            random_range(&r);
            check_node_is(z, zsl_first_in_range(z, &r), &md, model_first_in_range(&md, &r));
            check_node_is(z, zsl_last_in_range(z, &r), &md, model_last_in_range(&md, &r));
            char b1[8], b2[8];
            struct zsl_lexrange lr;
            random_lexbound(&lr.min, b1);
            random_lexbound(&lr.max, b2);
            /* Lex queries assume equal scores: check them on a copy with
             * every score 0. */
            struct zsl *lz = zsl_create(0);
            struct model lm = {NULL, 0, 0};
            for (size_t i = 0; i < md.n; i++) {
                zsl_insert(lz, 0, md.a[i].m, md.a[i].mlen);
                model_insert(&lm, 0, md.a[i].m, md.a[i].mlen);
            }
            long first = -1, last = -1;
            for (size_t i = 0; i < lm.n; i++) {
                if (model_in_lex(&lm.a[i], &lr)) {
                    if (first < 0)
                        first = (long)i;
                    last = (long)i;
                }
            }
            check_node_is(lz, zsl_first_in_lex(lz, &lr), &lm, first);
            check_node_is(lz, zsl_last_in_lex(lz, &lr), &lm, last);
            if (rand() % 4 == 0) {
                struct delctx d = {&lm, 0};
                size_t removed = zsl_delete_range_by_lex(lz, &lr, on_delete, &d);
                ck_assert_uint_eq(removed, first < 0 ? 0 : (size_t)(last - first + 1));
                ck_assert_uint_eq(d.calls, removed);
                check_same(lz, &lm);
            }
            zsl_destroy(&lz);
            ck_assert_ptr_null(lz);
            rc_free(lm.a);
        } else if (op < 85) {                /* delete by score range */
            struct zsl_range r;
            random_range(&r);
            size_t expect = 0;
            for (size_t i = 0; i < md.n; i++)
                if (zsl_gte_min(md.a[i].score, &r) && zsl_lte_max(md.a[i].score, &r))
                    expect++;
            struct delctx d = {&md, 0};
            size_t removed = zsl_delete_range_by_score(z, &r, on_delete, &d);
            ck_assert_uint_eq(removed, expect);
            ck_assert_uint_eq(d.calls, expect);
        } else if (op < 90) {                /* delete by rank range */
            size_t start = (size_t)rand() % (md.n + 2);
            size_t end = start + (size_t)rand() % 4;
            size_t expect = 0;
            if (start >= 1 && start <= end && start <= md.n)
                expect = (end > md.n ? md.n : end) - start + 1;
            struct delctx d = {&md, 0};
            size_t removed = zsl_delete_range_by_rank(z, start, end, on_delete, &d);
            ck_assert_uint_eq(removed, expect);
        } else {                             /* rank of absent members */
            if (at < 0)
                ck_assert_uint_eq(zsl_rank(z, random_score(), m, mlen), 0);
            else
                ck_assert_uint_eq(zsl_rank(z, md.a[at].score, m, mlen), (size_t)at + 1);
        }
        check_same(z, &md);
    }
    zsl_destroy(&z);
    rc_free(md.a);
}
END_TEST

START_TEST(test_basic_order_and_ties)
{
    struct zsl *z = zsl_create(0);
    zsl_insert(z, 1, "b", 1);
    zsl_insert(z, 1, "a", 1);
    zsl_insert(z, 1, "ab", 2);
    zsl_insert(z, 0, "z", 1);
    zsl_insert(z, 1, "", 0);
    const char *want[] = {"z", "", "a", "ab", "b"};
    size_t i = 0;
    for (struct zsl_node *x = zsl_first(z); x; x = zsl_next(x), i++) {
        ck_assert_uint_eq(x->mlen, strlen(want[i]));
        ck_assert(memcmp(zsl_member(x), want[i], x->mlen) == 0);
    }
    ck_assert_uint_eq(i, 5);
    ck_assert_uint_eq(zsl_rank(z, 1, "ab", 2), 4);
    ck_assert_uint_eq(zsl_rank(z, 2, "ab", 2), 0);
    ck_assert_int_eq(zsl_delete(z, 2, "ab", 2), 0);
    ck_assert_int_eq(zsl_delete(z, 1, "ab", 2), 1);
    ck_assert_uint_eq(zsl_length(z), 4);
    zsl_destroy(&z);
}
END_TEST

START_TEST(test_update_keeps_node_and_prefix)
{
    struct zsl *z = zsl_create(5);      /* rounded up for alignment */
    ck_assert_uint_eq(z->hdr % _Alignof(struct zsl_node), 0);
    ck_assert_uint_ge(z->hdr, 5);
    struct zsl_node *a = zsl_insert(z, 1, "a", 1);
    zsl_insert(z, 2, "b", 1);
    zsl_insert(z, 3, "c", 1);
    memset(zsl_node_prefix(z, a), 0x5a, 5);
    zsl_update_score(z, a, 10);
    ck_assert_ptr_eq(zsl_last(z), a);
    ck_assert_uint_eq(zsl_rank(z, 10, "a", 1), 3);
    ck_assert_ptr_eq(zsl_node_from_prefix(z->hdr, zsl_node_prefix(z, a)), a);
    ck_assert_int_eq(((unsigned char *)zsl_node_prefix(z, a))[4], 0x5a);
    zsl_update_score(z, a, 2.5);        /* stays between b and c */
    ck_assert_uint_eq(zsl_rank(z, 2.5, "a", 1), 2);
    zsl_update_score(z, a, 2);          /* tie with b: "a" sorts first */
    ck_assert_uint_eq(zsl_rank(z, 2, "a", 1), 1);
    ck_assert_uint_ge(zsl_node_alloc_size(z, a), sizeof(struct zsl_node) + 1);
    zsl_destroy(&z);
}
END_TEST

START_TEST(test_big_sequential)
{
    struct zsl *z = zsl_create(8);
    char m[16];
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(m, sizeof(m), "m%06d", i);
        zsl_insert(z, (double)(i % 1000), m, (size_t)len);
    }
    ck_assert_uint_eq(zsl_length(z), 100000);
    /* Score s holds the members i with i % 1000 == s, in member order. */
    struct zsl_node *x = zsl_by_rank(z, 100 * 7 + 1);
    ck_assert(x->score == 7);
    ck_assert(memcmp(zsl_member(x), "m000007", 7) == 0);
    struct zsl_range r = {10, 20, 0, 1};
    struct zsl_node *f = zsl_first_in_range(z, &r), *l = zsl_last_in_range(z, &r);
    size_t rf = zsl_rank(z, f->score, zsl_member(f), f->mlen);
    size_t rl = zsl_rank(z, l->score, zsl_member(l), l->mlen);
    ck_assert_uint_eq(rl - rf + 1, 1000);
    ck_assert_uint_eq(zsl_delete_range_by_rank(z, 1, 50000, NULL, NULL), 50000);
    ck_assert(zsl_first(z)->score == 500);
    ck_assert_ptr_null(zsl_first(z)->backward);
    zsl_destroy(&z);
}
END_TEST

START_TEST(test_empty_ranges)
{
    struct zsl *z = zsl_create(0);
    struct zsl_range r = {1, 1, 1, 0};
    ck_assert(zsl_range_empty(&r));
    ck_assert_ptr_null(zsl_first_in_range(z, &r));
    r.minex = 0;
    ck_assert(!zsl_range_empty(&r));
    ck_assert_ptr_null(zsl_first_in_range(z, &r));     /* empty list */
    struct zsl_lexrange lr = {{ZSL_LEX_NEG_INF, NULL, 0}, {ZSL_LEX_NEG_INF, NULL, 0}};
    ck_assert(zsl_lexrange_empty(&lr));
    lr.max.kind = ZSL_LEX_POS_INF;
    ck_assert(!zsl_lexrange_empty(&lr));
    lr.min = (struct zsl_lexbound){ZSL_LEX_INCL, "b", 1};
    lr.max = (struct zsl_lexbound){ZSL_LEX_EXCL, "b", 1};
    ck_assert(zsl_lexrange_empty(&lr));
    lr.max.kind = ZSL_LEX_INCL;
    ck_assert(!zsl_lexrange_empty(&lr));
    ck_assert_uint_eq(zsl_delete_range_by_rank(z, 0, 5, NULL, NULL), 0);
    zsl_destroy(&z);
    zsl_destroy(&z);    /* NULL is fine */
}
END_TEST

static Suite *zskiplist_suite(void)
{
    Suite *s = suite_create("zskiplist");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_basic_order_and_ties);
    tcase_add_test(tc, test_update_keeps_node_and_prefix);
    tcase_add_test(tc, test_empty_ranges);
    tcase_add_test(tc, test_big_sequential);
    tcase_add_test(tc, test_random_against_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(zskiplist_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
