/*
 * check_memdoctor.c — unit tests for memdoctor.c: each of Redis 7.0's
 * memory doctor rules at its threshold, alone and together, and the shape
 * of the report.  The words themselves are compared with redis-server's
 * in tests/integration/test_introspect.py.
 */
#include "memdoctor.h"
#include "mem.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MB ((size_t)1024 * 1024)

/* Every entry's opening, in the order a report lists them. */
static const char *const entries[] = {
    " * Peak memory:", " * High total RSS:", " * High allocator fragmentation:",
    " * High allocator RSS overhead:", " * High process RSS overhead:",
    " * Big replica buffers:", " * Big client buffers:", " * Many scripts:",
};
enum { PEAK, TOTAL_RSS, ALLOC_FRAG, ALLOC_RSS, PROC_RSS, REPLICAS, CLIENTS, SCRIPTS, NENTRIES };

/* A healthy 100 MB instance: nothing to report. */
static struct memdoc_figures healthy(void)
{
    struct memdoc_figures f = {
        .used = 100 * MB,
        .peak = 100 * MB,
        .rss = 110 * MB,
        .allocated = 101 * MB,
        .active = 102 * MB,
        .resident = 105 * MB,
        .clients_normal = 20000,
        .nclients = 1,
        .clients_slaves = 0,
        .nreplicas = 0,
        .scripts = 0,
        .allocator = "jemalloc-5.3.0",
    };
    return f;
}

static char *report(const struct memdoc_figures *f)
{
    size_t len;
    char *r = memdoc_report(f, &len);
    ck_assert_uint_eq(len, strlen(r));
    return r;
}

/* Which entries the report names, as a bit mask; checks that those it
 * names come in order, between the heading and the sign-off. */
static unsigned named(const char *r)
{
    static const char head[] = "Sam, I detected a few issues in this Redis instance memory "
                               "implants:\n\n";
    static const char tail[] = "\n\nI'm here to keep you safe, Sam. I want to help you.\n";
    ck_assert_msg(strncmp(r, head, strlen(head)) == 0, "%s", r);
    ck_assert(strlen(r) > strlen(tail));
    ck_assert_str_eq(r + strlen(r) - strlen(tail), tail);
    unsigned mask = 0;
    const char *after = r;
    for (int i = 0; i < NENTRIES; i++) {
        const char *at = strstr(r, entries[i]);
        if (at == NULL)
            continue;
        ck_assert_msg(at >= after, "%s out of order", entries[i]);
        ck_assert_msg(at[-1] == '\n' && at[-2] == '\n', "%s", entries[i]);
        after = at + 1;
        mask |= 1u << i;
    }
    return mask;
}

/* The entries f gets (0: the all-fine text). */
static unsigned verdict(const struct memdoc_figures *f)
{
    char *r = report(f);
    unsigned mask;
    if (strncmp(r, "Hi Sam, I can't find any memory issue", 37) == 0)
        mask = 0;
    else
        mask = named(r);
    rc_free(r);
    return mask;
}

START_TEST(test_empty_below_5mb)
{
    struct memdoc_figures f = healthy();
    f.used = 5 * MB - 1;
    f.peak = 100 * MB;
    f.scripts = 5000;
    char *r = report(&f);
    ck_assert_msg(strncmp(r, "Hi Sam, this instance is empty or is using very little memory",
                          61) == 0, "%s", r);
    ck_assert(strstr(r, "finished rebooting.\n") == r + strlen(r) - 20);
    rc_free(r);
    f.used = 5 * MB;
    f.rss = f.resident = f.active = f.allocated = 5 * MB;
    f.peak = 5 * MB;
    f.scripts = 0;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_fine)
{
    struct memdoc_figures f = healthy();
    char *r = report(&f);
    ck_assert_str_eq(r, "Hi Sam, I can't find any memory issue in your instance. I can only "
                        "account for what occurs on this base.\n");
    rc_free(r);
}
END_TEST

START_TEST(test_peak)
{
    struct memdoc_figures f = healthy();
    f.peak = 150 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
    f.peak = 150 * MB + 64 * 1024;
    ck_assert_uint_eq(verdict(&f), 1u << PEAK);
}
END_TEST

START_TEST(test_total_rss)
{
    struct memdoc_figures f = healthy();
    /* Over the ratio but only 10 MB over: nothing (resident follows so
     * that the process-RSS rule stays quiet). */
    f.used = f.peak = 20 * MB;
    f.rss = f.resident = f.active = 30 * MB;
    f.allocated = 28 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
    f.rss = f.resident = f.active = 30 * MB + 1;
    ck_assert_uint_eq(verdict(&f), 1u << TOTAL_RSS);
    char *r = report(&f);
    ck_assert_ptr_nonnull(strstr(r, "Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n"));
    rc_free(r);
    /* 10 MB+ over but a ratio under 1.4: nothing. */
    f = healthy();
    f.rss = f.resident = f.active = 139 * MB;
    f.allocated = 130 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_allocator_fragmentation)
{
    struct memdoc_figures f = healthy();
    f.allocated = 100 * MB;
    f.active = f.resident = f.rss = 110 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
    f.active = f.resident = f.rss = 111 * MB;
    ck_assert_uint_eq(verdict(&f), 1u << ALLOC_FRAG);
}
END_TEST

START_TEST(test_allocator_rss)
{
    struct memdoc_figures f = healthy();
    f.active = 100 * MB;
    f.resident = f.rss = 111 * MB;
    ck_assert_uint_eq(verdict(&f), 1u << ALLOC_RSS);
    f.resident = f.rss = 110 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_process_rss)
{
    struct memdoc_figures f = healthy();
    f.resident = 100 * MB;
    f.rss = 111 * MB;
    ck_assert_uint_eq(verdict(&f), 1u << PROC_RSS);
    f.rss = 110 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
    /* RSS below the allocator's resident: a negative overhead, nothing. */
    f.rss = 50 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_replica_buffers)
{
    struct memdoc_figures f = healthy();
    f.clients_slaves = 10 * MB + 1;
    ck_assert_uint_eq(verdict(&f), 0);          /* no replica */
    f.nreplicas = 3;
    ck_assert_uint_eq(verdict(&f), 1u << REPLICAS);   /* the total, as 7.0 */
    f.clients_slaves = 10 * MB;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_client_buffers)
{
    struct memdoc_figures f = healthy();
    f.nclients = 4;
    f.clients_normal = 4 * 200 * 1024 + 3;      /* averages 200K in whole bytes */
    ck_assert_uint_eq(verdict(&f), 0);
    f.clients_normal = 4 * 200 * 1024 + 4;
    ck_assert_uint_eq(verdict(&f), 1u << CLIENTS);
    f.nclients = 0;
    ck_assert_uint_eq(verdict(&f), 0);
}
END_TEST

START_TEST(test_scripts)
{
    struct memdoc_figures f = healthy();
    f.scripts = 1000;
    ck_assert_uint_eq(verdict(&f), 0);
    f.scripts = 1001;
    ck_assert_uint_eq(verdict(&f), 1u << SCRIPTS);
}
END_TEST

START_TEST(test_everything_in_order)
{
    struct memdoc_figures f = healthy();
    f.used = 10 * MB;
    f.allocated = 12 * MB;
    f.active = 30 * MB;
    f.resident = 60 * MB;
    f.clients_normal = 1 * MB;
    f.nclients = 2;
    f.clients_slaves = 20 * MB;
    f.nreplicas = 1;
    f.scripts = 2000;
    f.allocator = "libc";
    ck_assert_uint_eq(verdict(&f), (1u << NENTRIES) - 1);
    char *r = report(&f);
    ck_assert_ptr_nonnull(strstr(r, "allocator is \"libc\".\n\n * High allocator fragmentation:"));
    rc_free(r);
}
END_TEST

static Suite *memdoctor_suite(void)
{
    Suite *s = suite_create("memdoctor");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_empty_below_5mb);
    tcase_add_test(tc, test_fine);
    tcase_add_test(tc, test_peak);
    tcase_add_test(tc, test_total_rss);
    tcase_add_test(tc, test_allocator_fragmentation);
    tcase_add_test(tc, test_allocator_rss);
    tcase_add_test(tc, test_process_rss);
    tcase_add_test(tc, test_replica_buffers);
    tcase_add_test(tc, test_client_buffers);
    tcase_add_test(tc, test_scripts);
    tcase_add_test(tc, test_everything_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(memdoctor_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
