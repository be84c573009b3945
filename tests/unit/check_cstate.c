/*
 * check_cstate.c — unit tests for cstate.c (the cluster state, changes,
 * nodes.conf) and for paxos.c's message wire form.
 *
 * The decoders are fed canonical text (which must round-trip byte for
 * byte), every kind of malformed text (which must be refused with a
 * message, never crash), and random mutations of valid text (which must
 * either be refused or round-trip).
 */
#include "cstate.h"
#include "holders.h"
#include "paxos.h"
#include "ring.h"
#include "ringstate.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void make_id(char *out, unsigned v)
{
    snprintf(out, CSTATE_ID_LEN + 1, "%040x", v);
}

static struct cstate_member member(unsigned v, const char *zone, enum cstate_status st)
{
    struct cstate_member m;

    memset(&m, 0, sizeof(m));
    make_id(m.id, v);
    snprintf(m.host, sizeof(m.host), "10.0.0.%u", v % 250);
    m.port = 7000 + v;
    snprintf(m.zone, sizeof(m.zone), "%s", zone);
    m.vnodes = 256;
    m.status = st;
    return m;
}

static struct cstate *three(void)
{
    char ring[CSTATE_ID_LEN + 1];
    struct cstate_member m = member(2, "", CSTATE_UP);
    struct cstate *s;

    make_id(ring, 0xabc);
    s = cstate_bootstrap(ring, &m, 1);
    ck_assert_ptr_nonnull(s);
    m = member(3, "eu-1", CSTATE_JOINING);
    ck_assert_int_eq(cstate_add(s, &m, NULL), 0);
    m = member(1, "us-2", CSTATE_FAILED);
    ck_assert_int_eq(cstate_add(s, &m, NULL), 0);
    return s;
}

static void expect_bad(const char *line, const char *errpart)
{
    char err[128] = "";
    struct cstate *s = cstate_decode(line, strlen(line), err, sizeof(err));

    ck_assert_msg(s == NULL, "accepted: %s", line);
    ck_assert_msg(strstr(err, errpart) != NULL, "'%s' gave '%s', wanted '%s'", line, err,
                  errpart);
}

START_TEST(test_state_roundtrip)
{
    struct cstate *s = three(), *d;
    char err[128];
    size_t len;
    char *line = cstate_encode(s, &len);

    ck_assert_uint_eq(len, strlen(line));
    /* sorted by id, empty zone as "-" */
    ck_assert_str_eq(line,
        "cs1 1 0000000000000000000000000000000000000abc 1 3 "
        "0000000000000000000000000000000000000001 10.0.0.1 7001 us-2 256 failed "
        "0000000000000000000000000000000000000002 10.0.0.2 7002 - 256 up "
        "0000000000000000000000000000000000000003 10.0.0.3 7003 eu-1 256 joining");
    d = cstate_decode(line, len, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert(cstate_equal(s, d));
    ck_assert_str_eq(d->members[1].zone, "");
    rc_free(line);
    cstate_destroy(&d);

    /* a member being added */
    s->members[2].status = CSTATE_ADDING;
    line = cstate_encode(s, &len);
    ck_assert_ptr_nonnull(strstr(line, "eu-1 256 adding"));
    d = cstate_decode(line, len, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert(cstate_equal(s, d));
    rc_free(line);
    cstate_destroy(&d);

    /* the empty state */
    d = cstate_create();
    line = cstate_encode(d, &len);
    ck_assert_str_eq(line, "cs1 0 0000000000000000000000000000000000000000 0 0");
    cstate_destroy(&d);
    d = cstate_decode(line, len, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->epoch, 0);
    rc_free(line);
    cstate_destroy(&d);
    cstate_destroy(&s);
}
END_TEST

START_TEST(test_state_rejects)
{
    const char *R = "0000000000000000000000000000000000000abc";
    const char *A = "0000000000000000000000000000000000000001";
    char line[1024];

    expect_bad("", "not a state line");
    expect_bad("cs2 1", "not a state line");
    expect_bad("cs1", "bad epoch");
    expect_bad("cs1 01 x", "bad epoch");
    expect_bad("cs1 -1 x", "bad epoch");
    expect_bad("cs1 18446744073709551616 x", "bad epoch");
    expect_bad("cs1 1 ABC", "bad ring");
    snprintf(line, sizeof(line), "cs1 1 %s 16 0", R);
    expect_bad(line, "bad replicas");
    snprintf(line, sizeof(line), "cs1 1 %s 1 0", R);
    expect_bad(line, "epoch 0");
    snprintf(line, sizeof(line), "cs1 0 %s 1 1 %s h 1 - 1 up", R, A);
    expect_bad(line, "epoch 0");
    snprintf(line, sizeof(line), "cs1 1 %s 1 513", R);
    expect_bad(line, "too many members");
    snprintf(line, sizeof(line), "cs1 1 %s 1 2 %s h 1 - 1 up", R, A);
    expect_bad(line, "member 2: bad member id");
    snprintf(line, sizeof(line), "cs1 1 %s 1 2 %s h 1 - 1 up %s h 1 - 1 up", R, A, A);
    expect_bad(line, "duplicate member id");
    snprintf(line, sizeof(line),
             "cs1 1 %s 1 2 0000000000000000000000000000000000000002 h 1 - 1 up %s h 1 - 1 up", R,
             A);
    expect_bad(line, "not sorted");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 1 - 1 up x", R, A);
    expect_bad(line, "trailing");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 1 - 1 up ", R, A);
    expect_bad(line, "bad status");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 1 - 1 down", R, A);
    expect_bad(line, "bad status");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 0 - 1 up", R, A);
    expect_bad(line, "bad port");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 65536 - 1 up", R, A);
    expect_bad(line, "bad port");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 1 - 4097 up", R, A);
    expect_bad(line, "bad vnodes");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h\t 1 - 1 up", R, A);
    expect_bad(line, "bad host");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s  1 - 1 up", R, A);
    expect_bad(line, "bad host");
    snprintf(line, sizeof(line), "cs1 1 %s 1 1 %s h 1 %065d 1 up", R, A, 0);
    expect_bad(line, "bad zone");
    snprintf(line, sizeof(line), "cs1  1 %s 1 0", R);
    expect_bad(line, "bad epoch");
    /* a NUL inside is just a bad byte */
    {
        char nul[] = "cs1 1\0";
        char err[64];
        ck_assert_ptr_null(cstate_decode(nul, sizeof(nul) - 1, err, sizeof(err)));
    }
}
END_TEST

START_TEST(test_last_up_epoch)
{
    const char *R = "0000000000000000000000000000000000000abc";
    const char *A = "0000000000000000000000000000000000000001";
    struct cstate *s = three(), *d;
    char err[128], line[1024];
    size_t len;
    const char *B = "0000000000000000000000000000000000000002";
    const char *C = "0000000000000000000000000000000000000003";

    /* An up member leaving up keeps the epoch of the state it left. */
    s->epoch = 7;
    ck_assert_int_eq(cstate_set_status(s, B, CSTATE_FAILED), 0);
    ck_assert_uint_eq(cstate_find(s, B)->upto, 7);
    /* failed -> joining -> failed keeps it; joining was never up. */
    s->epoch = 9;
    ck_assert_int_eq(cstate_set_status(s, B, CSTATE_JOINING), 0);
    ck_assert_int_eq(cstate_set_status(s, B, CSTATE_FAILED), 0);
    ck_assert_uint_eq(cstate_find(s, B)->upto, 7);
    ck_assert_int_eq(cstate_set_status(s, C, CSTATE_FAILED), 0);
    ck_assert_uint_eq(cstate_find(s, C)->upto, 0);
    char *enc = cstate_encode(s, &len);
    ck_assert_ptr_nonnull(strstr(enc, " 7002 - 256 failed:7 "));
    ck_assert_ptr_nonnull(strstr(enc, " eu-1 256 failed"));
    d = cstate_decode(enc, len, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert(cstate_equal(s, d));
    cstate_destroy(&d);
    rc_free(enc);
    /* Back up: it has no last up epoch again; states differing only in
     * it differ. */
    d = cstate_clone(s);
    ck_assert_int_eq(cstate_set_status(d, B, CSTATE_UP), 0);
    ck_assert_uint_eq(cstate_find(d, B)->upto, 0);
    ck_assert_int_eq(cstate_set_status(d, B, CSTATE_FAILED), 0);
    ck_assert_uint_eq(cstate_find(d, B)->upto, 9);
    ck_assert(!cstate_equal(s, d));
    cstate_destroy(&d);
    cstate_destroy(&s);

    /* Canonical only: no ":0", no leading zero, not for up or adding,
     * and before the state's epoch. */
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 failed:4", R, A);
    d = cstate_decode(line, strlen(line), err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_uint_eq(d->members[0].upto, 4);
    cstate_destroy(&d);
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 failed:0", R, A);
    expect_bad(line, "bad last up epoch");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 joining:04", R, A);
    expect_bad(line, "bad last up epoch");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 removing:", R, A);
    expect_bad(line, "bad last up epoch");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 up:3", R, A);
    expect_bad(line, "bad status");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 adding:3", R, A);
    expect_bad(line, "bad status");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 failed:5", R, A);
    expect_bad(line, "not before the state's");
    snprintf(line, sizeof(line), "cs1 5 %s 1 1 %s h 1 - 1 down:3", R, A);
    expect_bad(line, "bad status");
}
END_TEST

START_TEST(test_state_edit)
{
    struct cstate *s = three(), *c;
    struct cstate_member m = member(9, "", CSTATE_UP);
    const char *why = NULL;

    ck_assert_int_eq(cstate_add(s, &m, &why), 0);
    ck_assert_int_eq(cstate_add(s, &m, &why), -1);
    ck_assert_str_eq(why, "duplicate member id");
    ck_assert_int_eq(cstate_index(s, m.id), 3);
    c = cstate_clone(s);
    ck_assert(cstate_equal(s, c));
    ck_assert_int_eq(cstate_set_status(c, m.id, CSTATE_FAILED), 0);
    ck_assert(!cstate_equal(s, c));
    ck_assert_int_eq(cstate_find(c, m.id)->status, CSTATE_FAILED);
    ck_assert_int_eq(cstate_remove(c, m.id), 0);
    ck_assert_int_eq(cstate_remove(c, m.id), -1);
    ck_assert_ptr_null(cstate_find(c, m.id));
    ck_assert_int_eq(cstate_set_status(c, m.id, CSTATE_UP), -1);
    m.port = 0;
    ck_assert_int_eq(cstate_add(c, &m, &why), -1);
    ck_assert_str_eq(why, "bad port");
    m = member(10, "-", CSTATE_UP);
    ck_assert_int_eq(cstate_add(c, &m, &why), -1);
    ck_assert_str_eq(why, "bad zone");
    cstate_destroy(&c);
    cstate_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_too_many_members)
{
    struct cstate *s = three();
    unsigned i;
    char *line;
    size_t len;
    char err[64];
    struct cstate *d;

    for (i = 100; s->nmembers < CSTATE_MEMBERS_MAX; i++) {
        struct cstate_member m = member(i, "zone-with-a-long-name", CSTATE_UP);
        memset(m.host, 'h', CSTATE_HOST_MAX);
        ck_assert_int_eq(cstate_add(s, &m, NULL), 0);
    }
    {
        struct cstate_member m = member(99999, "", CSTATE_UP);
        const char *why;
        m.port = 1;
        ck_assert_int_eq(cstate_add(s, &m, &why), -1);
        ck_assert_str_eq(why, "too many members");
    }
    line = cstate_encode(s, &len);
    ck_assert_uint_le(len, CSTATE_LINE_MAX);
    d = cstate_decode(line, len, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert(cstate_equal(s, d));
    cstate_destroy(&d);
    rc_free(line);
    cstate_destroy(&s);
}
END_TEST

START_TEST(test_changes)
{
    struct cstate *s = three();
    struct cstate_change c;
    const char *why = NULL;

    memset(&c, 0, sizeof(c));
    c.kind = CSTATE_SET_REPLICAS;
    c.replicas = 1;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_DONE);
    c.replicas = 2;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_APPLIES);
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    ck_assert_int_eq(s->replicas, 2);
    c.replicas = 16;
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);

    c.kind = CSTATE_SET_STATUS;
    make_id(c.id, 1);
    c.status = CSTATE_FAILED;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_DONE);
    c.status = CSTATE_UP;
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    make_id(c.id, 77);
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "no such member");

    c.kind = CSTATE_ADD_MEMBER;
    c.member = member(5, "", CSTATE_JOINING);
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_DONE);
    c.member.port++;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_INVALID);

    /* Only a member being added or removed leaves the state: a removal
     * judged while it was being added must not drop it once up. */
    c.kind = CSTATE_REMOVE_MEMBER;
    make_id(c.id, 5);
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "only a member being added or removed can be removed");
    cstate_set_status(s, c.id, CSTATE_ADDING);
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_DONE);

    /* A member being added comes up, or is removed; nothing else. */
    c.kind = CSTATE_ADD_MEMBER;
    c.member = member(6, "", CSTATE_ADDING);
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    c.kind = CSTATE_SET_STATUS;
    make_id(c.id, 6);
    c.status = CSTATE_FAILED;
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "a member being added can only come up");
    c.status = CSTATE_JOINING;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_INVALID);
    c.status = CSTATE_UP;
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    c.status = CSTATE_ADDING;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_INVALID);
    /* Only a failed member is removed; once removing, only its removal. */
    c.status = CSTATE_REMOVING;
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "only a failed member can be removed");
    c.status = CSTATE_FAILED;
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    c.status = CSTATE_REMOVING;
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);
    c.status = CSTATE_UP;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_INVALID);
    c.status = CSTATE_FAILED;
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_INVALID);
    c.kind = CSTATE_REMOVE_MEMBER;
    ck_assert_int_eq(cstate_change_apply(s, &c), 0);

    while (s->nmembers > 1)
        cstate_remove(s, s->members[0].id);
    memcpy(c.id, s->members[0].id, sizeof(c.id));
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "cannot remove the last member");
    cstate_destroy(&s);
}
END_TEST

/* One state takes a failed member to removing and adds its replacement;
 * once chosen (or after the new member came up, or the old one went) the
 * change is done, and it applies to nothing else. */
START_TEST(test_replace_change)
{
    struct cstate *s = three(), *v;
    struct cstate_change c;
    const char *why = NULL;

    memset(&c, 0, sizeof(c));
    c.kind = CSTATE_REPLACE_MEMBER;
    make_id(c.id, 1);                       /* member 1 is failed in three() */
    c.member = member(8, "", CSTATE_ADDING);
    ck_assert_int_eq(cstate_change_check(s, &c, NULL), CSTATE_APPLIES);
    v = cstate_clone(s);
    ck_assert_int_eq(cstate_change_apply(v, &c), 0);
    ck_assert_int_eq(v->nmembers, 4);
    ck_assert_int_eq(cstate_find(v, c.id)->status, CSTATE_REMOVING);
    ck_assert_int_eq(cstate_find(v, c.member.id)->status, CSTATE_ADDING);
    ck_assert_int_eq(cstate_change_check(v, &c, NULL), CSTATE_DONE);
    ck_assert_int_eq(cstate_change_apply(v, &c), -1);
    ck_assert_int_eq(cstate_set_status(v, c.member.id, CSTATE_UP), 0);
    ck_assert_int_eq(cstate_change_check(v, &c, NULL), CSTATE_DONE);
    ck_assert_int_eq(cstate_remove(v, c.id), 0);
    ck_assert_int_eq(cstate_change_check(v, &c, NULL), CSTATE_DONE);
    /* The same id at another address is another node. */
    c.member.port++;
    ck_assert_int_eq(cstate_change_check(v, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "a member with that id exists with other settings");
    c.member.port--;
    cstate_destroy(&v);

    /* Only a failed member is replaced, never by itself or a member. */
    make_id(c.id, 2);                       /* up */
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "only a failed member can be replaced");
    make_id(c.id, 77);
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "no such member");
    make_id(c.id, 1);
    c.member = member(1, "", CSTATE_ADDING);
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "a member cannot replace itself");
    c.member = member(3, "eu-1", CSTATE_JOINING);
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "the new member is already in the ring");
    c.member = member(8, "", CSTATE_ADDING);
    c.member.port = 0;
    ck_assert_int_eq(cstate_change_check(s, &c, &why), CSTATE_INVALID);
    ck_assert_str_eq(why, "bad port");
    cstate_destroy(&s);
}
END_TEST

static struct cstate_record full_record(void)
{
    struct cstate_record r;
    char id[CSTATE_ID_LEN + 1];

    make_id(id, 2);
    cstate_record_init(&r, id);
    cstate_destroy(&r.state);
    r.state = three();
    r.acc.promised.round = 7;
    make_id(r.acc.promised.id, 3);
    r.acc.accepted.round = 5;
    make_id(r.acc.accepted.id, 1);
    r.acc.value = cstate_clone(r.state);
    r.acc.value->epoch = 2;
    r.acc.value->replicas = 3;
    return r;
}

START_TEST(test_record_roundtrip)
{
    struct cstate_record r = full_record(), d, fresh;
    char err[128];
    size_t len;
    char *text = cstate_record_encode(&r, &len);

    ck_assert_int_eq(cstate_record_decode(text, len, &d, err, sizeof(err)), 0);
    ck_assert(cstate_record_equal(&r, &d));
    ck_assert(strncmp(text, "ringcache-nodes 1\nmyid ", 23) == 0);
    ck_assert(strstr(text, "\npromised 7 0000000000000000000000000000000000000003\n") != NULL);
    ck_assert(strstr(text, "\naccepted 5 0000000000000000000000000000000000000001 cs1 2 ") != NULL);
    cstate_record_deinit(&d);
    rc_free(text);

    make_id(err, 9);
    cstate_record_init(&fresh, err);
    text = cstate_record_encode(&fresh, &len);
    ck_assert(strstr(text, "\npromised none\naccepted none\n") != NULL);
    ck_assert_int_eq(cstate_record_decode(text, len, &d, err, sizeof(err)), 0);
    ck_assert(cstate_record_equal(&fresh, &d));
    cstate_record_deinit(&d);
    cstate_record_deinit(&fresh);
    rc_free(text);
    cstate_record_deinit(&r);
}
END_TEST

START_TEST(test_record_rejects)
{
    struct cstate_record r = full_record(), d;
    char err[128];
    size_t len, i;
    char *text = cstate_record_encode(&r, &len);
    char *copy = malloc(len + 8);

    /* every strict prefix is refused */
    for (i = 0; i < len; i++)
        ck_assert_int_eq(cstate_record_decode(text, i, &d, err, sizeof(err)), -1);
    /* trailing bytes */
    memcpy(copy, text, len);
    memcpy(copy + len, "x\n", 2);
    ck_assert_int_eq(cstate_record_decode(copy, len + 2, &d, err, sizeof(err)), -1);
    ck_assert(strstr(err, "trailing") != NULL);
    rc_free(text);

    /* accepted above promised */
    r.acc.accepted.round = 8;
    text = cstate_record_encode(&r, &len);
    ck_assert_int_eq(cstate_record_decode(text, len, &d, err, sizeof(err)), -1);
    ck_assert(strstr(err, "above") != NULL);
    rc_free(text);

    /* accepted value of the wrong epoch */
    r.acc.accepted.round = 5;
    r.acc.value->epoch = 3;
    text = cstate_record_encode(&r, &len);
    ck_assert_int_eq(cstate_record_decode(text, len, &d, err, sizeof(err)), -1);
    ck_assert(strstr(err, "next state") != NULL);
    rc_free(text);
    free(copy);
    cstate_record_deinit(&r);
}
END_TEST

/* Round-trip a message through the wire form. */
static void wire_roundtrip(const struct paxos_msg *m)
{
    struct paxos_wire w;
    struct paxos_msg d;
    char err[128];
    struct paxos_wire w2;
    int i;

    paxos_msg_encode(m, &w);
    ck_assert_int_eq(paxos_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                      sizeof(err)), 0);
    paxos_msg_encode(&d, &w2);
    ck_assert_int_eq(w.argc, w2.argc);
    for (i = 0; i < w.argc; i++) {
        ck_assert_uint_eq(w.len[i], w2.len[i]);
        ck_assert(memcmp(w.argv[i], w2.argv[i], w.len[i]) == 0);
    }
    ck_assert_int_eq(d.type, m->type);
    ck_assert_uint_eq(d.epoch, m->epoch);
    if (m->type != PAXOS_LEARN)
        ck_assert_int_eq(cstate_ballot_cmp(&d.ballot, &m->ballot), 0);
    /* drop each argument in turn: always refused */
    for (i = 1; i < w.argc; i++) {
        struct paxos_msg x;
        ck_assert_int_eq(paxos_msg_decode(i, (const char *const *)w.argv, w.len, &x, err,
                                          sizeof(err)), -1);
    }
    paxos_wire_deinit(&w);
    paxos_wire_deinit(&w2);
    paxos_msg_deinit(&d);
}

START_TEST(test_msg_wire)
{
    struct paxos_msg m;
    struct cstate *s = three();
    char err[128];

    memset(&m, 0, sizeof(m));
    memcpy(m.ring, s->ring, sizeof(m.ring));
    m.epoch = 2;
    m.ballot.round = 4;
    make_id(m.ballot.id, 3);
    m.type = PAXOS_PREPARE;
    wire_roundtrip(&m);
    m.type = PAXOS_ACCEPTED;
    wire_roundtrip(&m);
    m.type = PAXOS_NACK;
    wire_roundtrip(&m);
    m.rejected = 1;
    wire_roundtrip(&m);
    m.type = PAXOS_PROMISE;
    wire_roundtrip(&m);
    m.value = cstate_clone(s);
    m.value->epoch = 2;
    m.accepted.round = 2;
    make_id(m.accepted.id, 1);
    wire_roundtrip(&m);
    m.type = PAXOS_ACCEPT;
    wire_roundtrip(&m);
    m.fresh = 1;
    wire_roundtrip(&m);
    {
        /* the origin word is strict: fresh|recovered, in its place */
        struct paxos_wire w;
        struct paxos_msg d;
        paxos_msg_encode(&m, &w);
        ck_assert_int_eq(w.argc, 7);
        ck_assert_str_eq(w.argv[5], "fresh");
        ck_assert_int_eq(paxos_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                          sizeof(err)), 0);
        ck_assert_int_eq(d.fresh, 1);
        paxos_msg_deinit(&d);
        w.argv[5][0] = 'F';
        ck_assert_int_eq(paxos_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                          sizeof(err)), -1);
        ck_assert_str_eq(err, "bad value origin");
        paxos_wire_deinit(&w);
    }
    m.fresh = 0;
    m.type = PAXOS_LEARN;
    wire_roundtrip(&m);

    /* a value of another epoch is refused */
    {
        struct paxos_wire w;
        struct paxos_msg d;
        m.type = PAXOS_ACCEPT;
        m.epoch = 3;
        paxos_msg_encode(&m, &w);
        ck_assert_int_eq(paxos_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                          sizeof(err)), -1);
        ck_assert(strstr(err, "another epoch") != NULL);
        paxos_wire_deinit(&w);
    }
    /* a promise's accepted ballot above its ballot is refused */
    {
        struct paxos_wire w;
        struct paxos_msg d;
        m.type = PAXOS_PROMISE;
        m.epoch = 2;
        m.accepted.round = 9;
        paxos_msg_encode(&m, &w);
        ck_assert_int_eq(paxos_msg_decode(w.argc, (const char *const *)w.argv, w.len, &d, err,
                                          sizeof(err)), -1);
        paxos_wire_deinit(&w);
    }
    {
        const char *argv[] = {"prepare", "x", "1", "1", "y"};
        size_t len[] = {7, 1, 1, 1, 1};
        struct paxos_msg d;
        ck_assert_int_eq(paxos_msg_decode(5, argv, len, &d, err, sizeof(err)), -1);
        ck_assert_int_eq(paxos_msg_decode(0, argv, len, &d, err, sizeof(err)), -1);
        argv[0] = "bogus";
        len[0] = 5;
        ck_assert_int_eq(paxos_msg_decode(5, argv, len, &d, err, sizeof(err)), -1);
        ck_assert_str_eq(err, "unknown message type");
    }
    paxos_msg_deinit(&m);
    cstate_destroy(&s);
}
END_TEST

/* Random byte mutations of valid text: refused, or canonical. */
/* Three members up at replicas 2: every list holds all three. */
static struct cstate *three_up(void)
{
    struct cstate *s = three();
    for (size_t k = 0; k < s->nmembers; k++)
        s->members[k].status = CSTATE_UP;
    s->replicas = 2;
    return s;
}

/* The next state: prev with member m's status set, holders settled. */
static struct cstate *next_with(const struct cstate *prev, uint16_t m, enum cstate_status st)
{
    struct cstate *n = cstate_clone(prev);
    ck_assert_int_eq(cstate_set_status(n, prev->members[m].id, st), 0);
    holders_settle(prev, n);
    n->epoch++;
    return n;
}

static int primary_of(const struct cstate *s, unsigned slot)
{
    struct ring *r = ringstate_build(s, 0);
    int p = holders_primary(s, r, slot);
    ring_destroy(&r);
    return p;
}

static void expect_roundtrip(const struct cstate *s)
{
    char err[128] = "";
    size_t len;
    char *line = cstate_encode(s, &len);
    struct cstate *d = cstate_decode(line, len, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s: %s", line, err);
    ck_assert(cstate_equal(s, d));
    cstate_destroy(&d);
    rc_free(line);
}

/* The pair cut (holders.h): the primary p0 and its first successor p1
 * of a list are marked failed one after the other.  p2 lags (it may lack
 * writes p0 and p1 acknowledged): it must not serve, until p1 is back
 * and p2 has p1's SYNCED marker. */
START_TEST(test_holders_pair_cut)
{
    struct cstate *s0 = three_up(), *s1, *s2, *s3, *s4, *s3b;
    struct ring *r = ringstate_build(s0, 0);
    const unsigned slot = 1234;
    uint16_t p[3], h[2];
    struct cstate_change c;
    const char *why;

    memcpy(p, ring_pref(r, slot), sizeof(p));
    ck_assert_int_eq(ring_pref_len(r), 3);
    ring_destroy(&r);
    ck_assert_int_eq(s0->nholds, 0);
    ck_assert_int_eq(primary_of(s0, slot), p[0]);

    /* p0 fails: p1 serves, and is the list's only holder. */
    s1 = next_with(s0, p[0], CSTATE_FAILED);
    ck_assert_int_eq(primary_of(s1, slot), p[1]);
    ck_assert_uint_eq(s1->nholds, 4);   /* the lists with p0 among their first two */
    ck_assert_int_eq(cstate_holders(s1, p, 3, h), 1);
    ck_assert_int_eq(h[0], p[1]);
    expect_roundtrip(s1);

    /* p1 fails too: p2 is up but holds nothing it can vouch for. */
    s2 = next_with(s1, p[1], CSTATE_FAILED);
    ck_assert_int_eq(primary_of(s2, slot), -1);
    ck_assert_int_eq(cstate_holders(s2, p, 3, h), 1);
    ck_assert_int_eq(h[0], p[1]);
    /* The planted bug keeps no entries: p2 would serve. */
    cstate_debug_bugs = CSTATE_BUG_NO_HOLDERS;
    struct cstate *bug = next_with(s1, p[1], CSTATE_FAILED);
    cstate_debug_bugs = 0;
    ck_assert_int_eq(primary_of(bug, slot), p[2]);
    cstate_destroy(&bug);

    /* p1 back: it serves; p2 still lags. */
    s3 = next_with(s2, p[1], CSTATE_UP);
    ck_assert_int_eq(primary_of(s3, slot), p[1]);
    ck_assert_int_eq(cstate_holders(s3, p, 3, h), 1);

    /* p2 got p1's SYNCED marker at s3's epoch: it becomes a holder, and
     * the entry, now the default, goes. */
    memset(&c, 0, sizeof(c));
    c.kind = CSTATE_ADD_HOLDER;
    memcpy(c.id, s3->members[p[2]].id, sizeof(c.id));
    memcpy(c.member.id, s3->members[p[1]].id, sizeof(c.member.id));
    c.epoch = s3->epoch - 1;
    ck_assert_int_eq(cstate_change_check(s3, &c, &why), CSTATE_INVALID);
    c.epoch = s3->epoch;
    ck_assert_int_eq(cstate_change_check(s3, &c, &why), CSTATE_APPLIES);
    memcpy(c.member.id, s3->members[p[0]].id, sizeof(c.member.id));
    ck_assert_int_eq(cstate_change_check(s3, &c, &why), CSTATE_INVALID);   /* p0 not up */
    memcpy(c.member.id, s3->members[p[1]].id, sizeof(c.member.id));
    s4 = cstate_clone(s3);
    ck_assert_int_eq(cstate_change_apply(s4, &c), 0);
    holders_settle(s3, s4);
    s4->epoch++;
    ck_assert_int_eq(s4->nholds, 0);
    ck_assert_int_eq(cstate_holders(s4, p, 3, h), 2);
    ck_assert_int_eq(primary_of(s4, slot), p[1]);
    c.epoch = s4->epoch;
    ck_assert_int_eq(cstate_change_check(s4, &c, &why), CSTATE_DONE);

    /* Instead, p0 back (caught up from p1): it is among the first two up,
     * so a holder again, and serves. */
    s3b = next_with(s3, p[0], CSTATE_UP);
    ck_assert_int_eq(s3b->nholds, 0);
    ck_assert_int_eq(primary_of(s3b, slot), p[0]);

    cstate_destroy(&s0);
    cstate_destroy(&s1);
    cstate_destroy(&s2);
    cstate_destroy(&s3);
    cstate_destroy(&s4);
    cstate_destroy(&s3b);
}
END_TEST

/* Entries survive a member added or removed (indexes move), and the
 * decoder refuses malformed ones. */
START_TEST(test_holders_wire)
{
    struct cstate *s0 = three_up(), *s1;
    struct cstate_member m = member(0, "", CSTATE_JOINING);
    uint16_t p[3], h[2];
    char ids[3][CSTATE_ID_LEN + 1];
    struct ring *r = ringstate_build(s0, 0);

    memcpy(p, ring_pref(r, 77), sizeof(p));
    ring_destroy(&r);
    s1 = next_with(s0, p[0], CSTATE_FAILED);
    ck_assert_uint_eq(s1->nholds, 4);
    for (int k = 0; k < 3; k++)
        memcpy(ids[k], s1->members[p[k]].id, sizeof(ids[k]));
    /* A new member sorts first (id 0): every index moves up by one. */
    ck_assert_int_eq(cstate_add(s1, &m, NULL), 0);
    ck_assert_uint_eq(s1->nholds, 4);
    uint16_t q[3];
    for (int k = 0; k < 3; k++)
        q[k] = (uint16_t)cstate_index(s1, ids[k]);
    ck_assert_int_eq(cstate_holders(s1, q, 3, h), 1);
    ck_assert_int_eq(h[0], q[1]);
    expect_roundtrip(s1);
    /* Removing a member drops the entries of the lists holding it. */
    ck_assert_int_eq(cstate_remove(s1, ids[2]), 0);
    ck_assert_uint_eq(s1->nholds, 0);

    const char *head = "cs1 3 0000000000000000000000000000000000000abc 2 3 "
                       "0000000000000000000000000000000000000001 h 1 - 1 up "
                       "0000000000000000000000000000000000000002 h 2 - 1 up "
                       "0000000000000000000000000000000000000003 h 3 - 1 up";
    static const struct {
        const char *tail, *err;
    } bad[] = {
        {" holders 0", "bad count"},
        {" holders 1", "missing entry"},
        {" holders 1 0.1.2", "without '/'"},
        {" holders 1 0.1.3/1", "bad entry"},
        {" holders 1 0.1./1", "bad entry"},
        {" holders 1 0.1.1/1", "twice"},
        {" holders 1 0.1.2/2.1", "order"},
        {" holders 1 0.1.2/0.1.2", "bad entry"},
        {" holders 2 1.0.2/0 0.1.2/1", "ascending"},
        {" holders 1 0.1.2/1 x", "trailing"},
        {" holder 1 0.1.2/1", "trailing"},
    };
    char line[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(line, sizeof(line), "%s%s", head, bad[i].tail);
        expect_bad(line, bad[i].err);
    }
    snprintf(line, sizeof(line), "%s holders 2 0.1.2/1 1.0.2/0.2", head);
    char err[128] = "";
    struct cstate *d = cstate_decode(line, strlen(line), err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_int_eq(d->nholds, 2);
    expect_roundtrip(d);
    cstate_destroy(&d);
    cstate_destroy(&s0);
    cstate_destroy(&s1);
}
END_TEST

START_TEST(test_mutations)
{
    struct cstate_record r = full_record(), d;
    size_t len, i;
    char *text = cstate_record_encode(&r, &len);
    char *buf = malloc(len + 1);
    char err[128];
    uint64_t x = 88172645463325252ULL;
    static const char alphabet[] = " \n0a9fgz-_AZ\0\377";

    for (i = 0; i < 20000; i++) {
        size_t pos, k, nmut;
        memcpy(buf, text, len);
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        nmut = 1 + x % 3;
        for (k = 0; k < nmut; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            pos = x % len;
            buf[pos] = alphabet[(x >> 32) % (sizeof(alphabet) - 1)];
        }
        if (cstate_record_decode(buf, len, &d, err, sizeof(err)) == 0) {
            size_t l2;
            char *again = cstate_record_encode(&d, &l2);
            ck_assert_uint_eq(l2, len);
            ck_assert(memcmp(again, buf, len) == 0);
            rc_free(again);
            cstate_record_deinit(&d);
        } else {
            ck_assert(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        }
    }
    free(buf);
    rc_free(text);
    cstate_record_deinit(&r);
}
END_TEST

static Suite *cstate_suite(void)
{
    Suite *s = suite_create("cstate");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_state_roundtrip);
    tcase_add_test(tc, test_state_rejects);
    tcase_add_test(tc, test_last_up_epoch);
    tcase_add_test(tc, test_state_edit);
    tcase_add_test(tc, test_too_many_members);
    tcase_add_test(tc, test_changes);
    tcase_add_test(tc, test_replace_change);
    tcase_add_test(tc, test_record_roundtrip);
    tcase_add_test(tc, test_record_rejects);
    tcase_add_test(tc, test_msg_wire);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_holders_pair_cut);
    tcase_add_test(tc, test_holders_wire);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cstate_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
