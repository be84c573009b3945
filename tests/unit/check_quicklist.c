/*
 * check_quicklist.c — unit tests for quicklist.c.
 *
 * Besides targeted tests, a model test drives a quicklist and a plain
 * array of strings with the same random operations (pushes and pops at
 * both ends, index, replace, insert, range delete, iterator deletes) for
 * several fills, and after every step compares contents and checks the
 * structural invariants: no empty node, cached counts agree with the
 * listpacks, links are consistent both ways, and no node exceeds its fill
 * unless it holds a single element.
 */
#include "quicklist.h"
#include "mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model: an array of owned strings ---- */

struct model {
    char **v;
    size_t *len;
    size_t n, cap;
};

static void model_insert(struct model *m, size_t at, const char *s, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
        m->len = realloc(m->len, m->cap * sizeof(*m->len));
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    memmove(m->len + at + 1, m->len + at, (m->n - at) * sizeof(*m->len));
    m->v[at] = malloc(len + 1);
    memcpy(m->v[at], s, len);
    m->len[at] = len;
    m->n++;
}

static void model_delete(struct model *m, size_t at)
{
    free(m->v[at]);
    memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof(*m->v));
    memmove(m->len + at, m->len + at + 1, (m->n - at - 1) * sizeof(*m->len));
    m->n--;
}

static void model_free(struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i]);
    free(m->v);
    free(m->len);
    memset(m, 0, sizeof(*m));
}

static int entry_is(const struct ql_entry *e, const char *s, size_t len)
{
    char buf[LP_INTBUF_SIZE];
    size_t elen;
    const char *p = ql_entry_str(e, buf, &elen);
    return elen == len && memcmp(p, s, len) == 0;
}

static size_t limit_bytes(int fill)
{
    static const size_t cls[] = {4096, 8192, 16384, 32768, 65536};
    if (fill < 0)
        return cls[(-fill - 1) < 5 ? -fill - 1 : 4];
    return 8192;
}

/* Structure and contents agree with the model. */
static void check_same(struct quicklist *ql, const struct model *m)
{
    ck_assert_uint_eq(ql_count(ql), m->n);
    size_t total = 0, nodes = 0;
    const struct ql_node *prev = NULL;
    for (const struct ql_node *n = ql->head; n; n = n->next) {
        ck_assert_ptr_eq(n->prev, prev);
        ck_assert_uint_gt(n->count, 0);
        ck_assert_uint_eq(n->count, lp_count(n->lp));
        if (n->count > 1) {
            ck_assert_uint_le(lp_bytes(n->lp), limit_bytes(ql->fill));
            if (ql->fill > 0)
                ck_assert_uint_le(n->count, (unsigned)ql->fill);
        }
        total += n->count;
        nodes++;
        prev = n;
    }
    ck_assert_ptr_eq(ql->tail, prev);
    ck_assert_uint_eq(total, m->n);
    ck_assert_uint_eq(nodes, ql->nodes);

    struct ql_iter it;
    struct ql_entry e;
    size_t i = 0;
    ql_iter_init(&it, ql, QL_HEAD);
    while (ql_iter_next(&it, &e)) {
        ck_assert(i < m->n);
        ck_assert(entry_is(&e, m->v[i], m->len[i]));
        i++;
    }
    ck_assert_uint_eq(i, m->n);
    ql_iter_init(&it, ql, QL_TAIL);
    while (ql_iter_next(&it, &e)) {
        ck_assert(i > 0);
        i--;
        ck_assert(entry_is(&e, m->v[i], m->len[i]));
    }
    ck_assert_uint_eq(i, 0);
}

static size_t random_value(char *buf, unsigned *seed)
{
    int kind = rand_r(seed) % 10;
    if (kind < 4)
        return (size_t)snprintf(buf, 64, "%d", rand_r(seed) % 100000 - 50000);
    size_t len = kind < 9 ? (size_t)(rand_r(seed) % 40) : (size_t)(rand_r(seed) % 3000);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rand_r(seed) % 26);
    return len;
}

static void model_run(int fill, unsigned seed, int steps)
{
    struct quicklist *ql = ql_create(fill);
    struct model m = {0};
    static char buf[4096];
    for (int step = 0; step < steps; step++) {
        int op = rand_r(&seed) % 100;
        size_t len = random_value(buf, &seed);
        struct ql_entry e;
        if (op < 30) {
            ql_push(ql, QL_TAIL, buf, len);
            model_insert(&m, m.n, buf, len);
        } else if (op < 50) {
            ql_push(ql, QL_HEAD, buf, len);
            model_insert(&m, 0, buf, len);
        } else if (op < 58) {
            if (ql_peek(ql, QL_HEAD, &e)) {
                ck_assert(entry_is(&e, m.v[0], m.len[0]));
                ql_del_end(ql, QL_HEAD);
                model_delete(&m, 0);
            } else {
                ck_assert_uint_eq(m.n, 0);
            }
        } else if (op < 66) {
            if (ql_peek(ql, QL_TAIL, &e)) {
                ck_assert(entry_is(&e, m.v[m.n - 1], m.len[m.n - 1]));
                ql_del_end(ql, QL_TAIL);
                model_delete(&m, m.n - 1);
            }
        } else if (op < 72) {
            long long idx = (long long)(rand_r(&seed) % (m.n + 3)) - (long long)(m.n / 2) - 1;
            int ok = ql_index(ql, idx, &e);
            long long norm = idx < 0 ? (long long)m.n + idx : idx;
            ck_assert_int_eq(ok, norm >= 0 && norm < (long long)m.n);
            if (ok)
                ck_assert(entry_is(&e, m.v[norm], m.len[norm]));
        } else if (op < 80) {
            if (m.n) {
                size_t at = (size_t)rand_r(&seed) % m.n;
                ck_assert(ql_replace_at(ql, (long long)at, buf, len));
                model_delete(&m, at);
                model_insert(&m, at, buf, len);
            }
        } else if (op < 90) {
            if (m.n) {
                size_t at = (size_t)rand_r(&seed) % m.n;
                int after = rand_r(&seed) % 2;
                struct ql_iter it;
                ck_assert(ql_iter_at(&it, ql, (long long)at, QL_HEAD));
                ck_assert(ql_iter_next(&it, NULL));
                ql_iter_insert(&it, after, buf, len);
                model_insert(&m, at + (size_t)after, buf, len);
            }
        } else if (op < 94) {
            if (m.n) {
                size_t start = (size_t)rand_r(&seed) % m.n;
                size_t cnt = (size_t)rand_r(&seed) % 50;
                size_t exp = cnt < m.n - start ? cnt : m.n - start;
                ck_assert_uint_eq(ql_del_range(ql, start, cnt), exp);
                for (size_t i = 0; i < exp; i++)
                    model_delete(&m, start);
            }
        } else {
            /* Delete every element whose text starts with a chosen byte,
             * walking in a random direction. */
            char first = (char)('a' + rand_r(&seed) % 26);
            int dir = rand_r(&seed) % 2 ? QL_TAIL : QL_HEAD;
            struct ql_iter it;
            ql_iter_init(&it, ql, dir);
            while (ql_iter_next(&it, &e)) {
                if (e.sval && e.slen > 0 && e.sval[0] == (unsigned char)first)
                    ql_iter_delete(&it);
            }
            for (size_t i = m.n; i-- > 0;)
                if (m.len[i] > 0 && m.v[i][0] == first && !(m.v[i][0] >= '0' && m.v[i][0] <= '9'))
                    model_delete(&m, i);
        }
        check_same(ql, &m);
    }
    struct quicklist *d = ql_dup(ql);
    check_same(d, &m);
    ql_destroy(&d);
    ck_assert_ptr_null(d);
    ql_destroy(&ql);
    model_free(&m);
}

START_TEST(test_model_fills)
{
    static const int fills[] = {-2, -1, -5, 1, 2, 5, 128, 0};
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
        model_run(fills[i], 1000u + (unsigned)i, 1000);
}
END_TEST

START_TEST(test_push_pop_order)
{
    struct quicklist *ql = ql_create(-2);
    char buf[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(buf, sizeof(buf), "v%d", i);
        ql_push(ql, QL_TAIL, buf, (size_t)n);
    }
    ck_assert_uint_eq(ql_count(ql), 10000);
    ck_assert_uint_gt(ql->nodes, 1);
    struct ql_entry e;
    for (int i = 0; i < 10000; i++) {
        ck_assert(ql_peek(ql, QL_HEAD, &e));
        int n = snprintf(buf, sizeof(buf), "v%d", i);
        ck_assert(entry_is(&e, buf, (size_t)n));
        ql_del_end(ql, QL_HEAD);
    }
    ck_assert_uint_eq(ql_count(ql), 0);
    ck_assert_ptr_null(ql->head);
    ck_assert(!ql_peek(ql, QL_TAIL, &e));
    ql_destroy(&ql);
}
END_TEST

START_TEST(test_integers_and_index)
{
    struct quicklist *ql = ql_create(3);
    ql_push(ql, QL_TAIL, "1", 1);
    ql_push(ql, QL_TAIL, "-9223372036854775808", 20);
    ql_push(ql, QL_TAIL, "007", 3);
    ql_push(ql, QL_HEAD, "", 0);
    struct ql_entry e;
    ck_assert(ql_index(ql, 1, &e));
    ck_assert_ptr_null(e.sval);
    ck_assert_int_eq(e.lval, 1);
    ck_assert(ql_index(ql, -2, &e));
    ck_assert(entry_is(&e, "-9223372036854775808", 20));
    ck_assert(ql_index(ql, -1, &e));
    ck_assert(entry_is(&e, "007", 3));
    ck_assert(ql_index(ql, 0, &e));
    ck_assert(entry_is(&e, "", 0));
    ck_assert(!ql_index(ql, 4, &e));
    ck_assert(!ql_index(ql, -5, &e));
    ck_assert(!ql_index(ql, -9223372036854775807LL - 1, &e));
    ck_assert(!ql_replace_at(ql, 9, "x", 1));
    ck_assert_uint_eq(ql->nodes, 2);
    ql_destroy(&ql);
}
END_TEST

START_TEST(test_huge_element_own_node)
{
    struct quicklist *ql = ql_create(-1);
    size_t big = 100000;
    char *p = rc_malloc(big);
    memset(p, 'x', big);
    ql_push(ql, QL_TAIL, "a", 1);
    ql_push(ql, QL_TAIL, p, big);
    ql_push(ql, QL_TAIL, "b", 1);
    ck_assert_uint_eq(ql->nodes, 3);
    struct ql_entry e;
    ck_assert(ql_index(ql, 1, &e));
    ck_assert_uint_eq(e.slen, big);
    /* Replacing a small element by a huge one in a shared node moves it. */
    ql_push(ql, QL_TAIL, "c", 1);
    ck_assert(ql_replace_at(ql, 2, p, big));
    ck_assert(ql_index(ql, 3, &e));
    ck_assert(entry_is(&e, "c", 1));
    ck_assert(ql_index(ql, 2, &e));
    ck_assert_uint_eq(e.slen, big);
    ck_assert_uint_gt(ql_mem(ql), 2 * big);
    rc_free(p);
    ql_destroy(&ql);
}
END_TEST

/* DEBUG QUICKLIST-PACKED-THRESHOLD: elements of at least the threshold
 * get a plain node of their own, which takes no other element; replacing
 * makes a node plain or packed by the new element's size. */
START_TEST(test_packed_threshold_plain_nodes)
{
    ck_assert_int_eq(ql_set_packed_threshold((1ULL << 32) - (1ULL << 20) + 1), -1);
    ck_assert_int_eq(ql_set_packed_threshold(4), 0);
    struct quicklist *ql = ql_create(-2);
    ql_push(ql, QL_TAIL, "a", 1);
    ql_push(ql, QL_TAIL, "bbbb", 4);        /* plain */
    ql_push(ql, QL_TAIL, "c", 1);
    ql_push(ql, QL_HEAD, "dddd", 4);        /* plain */
    ck_assert_uint_eq(ql->nodes, 4);
    ck_assert(ql->head->plain && ql->head->next->next->plain);
    ck_assert(!ql->head->next->plain && !ql->tail->plain);
    /* A large element replacing one of a shared node gets its own node. */
    ql_push(ql, QL_TAIL, "e", 1);           /* joins "c" */
    ck_assert_uint_eq(ql->nodes, 4);
    ck_assert(ql_replace_at(ql, 4, "eeeee", 5));
    ck_assert_uint_eq(ql->nodes, 5);
    ck_assert(ql->tail->plain);
    /* A small element replacing a plain one leaves the node packed. */
    ck_assert(ql_replace_at(ql, 0, "d", 1));
    ck_assert(!ql->head->plain);
    struct ql_entry e;
    const char *want[] = {"d", "a", "bbbb", "c", "eeeee"};
    for (int i = 0; i < 5; i++) {
        ck_assert(ql_index(ql, i, &e));
        ck_assert(entry_is(&e, want[i], strlen(want[i])));
    }
    struct quicklist *d = ql_dup(ql);
    ck_assert(d->tail->plain && !d->head->plain);
    ql_destroy(&d);
    ql_destroy(&ql);
    ck_assert_int_eq(ql_set_packed_threshold(0), 0);
    ql = ql_create(-2);
    ql_push(ql, QL_TAIL, "a", 1);
    ql_push(ql, QL_TAIL, "bbbb", 4);
    ck_assert_uint_eq(ql->nodes, 1);
    ql_destroy(&ql);
}
END_TEST

static Suite *quicklist_suite(void)
{
    Suite *s = suite_create("quicklist");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_push_pop_order);
    tcase_add_test(tc, test_integers_and_index);
    tcase_add_test(tc, test_huge_element_own_node);
    tcase_add_test(tc, test_packed_threshold_plain_nodes);
    tcase_add_test(tc, test_model_fills);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(quicklist_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
