/*
 * adminsync.c — the ring's ACL users and function libraries on a member
 * that missed changes to them.
 *
 * ACL SETUSER/DELUSER and FUNCTION LOAD/DELETE/FLUSH/RESTORE run on every
 * member as they are sent (route.c).  A member that was down or cut off
 * meanwhile missed them, and a node being added never had them.  So a
 * member asks an up member for them when it rejoins, when it is added,
 * and once after it starts (it may have been down without the ring
 * noticing); rejoining and added members come up only once they have
 * them (cluster.c rejoin_step):
 *
 *   RINGNODE ADMINSTATE  ->  *2  [ACL LIST lines, the default user's left
 *                                  out, in name order]
 *                                [every library's code, in byte order]
 *
 * Where the answer differs from what this node holds, ordinary commands
 * run here make them equal - ACL SETUSER <name> reset <rules>, ACL DELUSER
 * of users the ring does not have, FUNCTION FLUSH and FUNCTION LOAD of
 * each library - so the libraries reach this node's log as any FUNCTION
 * LOAD does.  It then asks again, until an answer equals what it holds: a
 * SETUSER or LOAD sent to the ring while the answer was on its way is not
 * undone here.  The default user (requirepass) stays each node's own, as
 * in Redis Cluster.
 */
#include "adminsync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "cstate.h"
#include "function.h"
#include "link.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "util.h"

static int synced;          /* an answer equalled what this node holds */
static int asking;          /* a request is in flight */
static int rounds;          /* answers that differed since the last restart */

/* Answers that differ, each made equal here, before it gives up (a rule
 * that does not survive being described and set again would otherwise
 * recreate a user, closing its clients, forever). */
#define ADMINSYNC_MAX_ROUNDS 5

void adminsync_restart(void)
{
    synced = 0;
    rounds = 0;
}

/* ---- this node's state, as compared ---- */

struct strs {
    int n;
    char **p;
    size_t *len;
};

static void strs_add(struct strs *s, const char *p, size_t len)
{
    s->p = rc_realloc(s->p, sizeof(*s->p) * (size_t)(s->n + 1));
    s->len = rc_realloc(s->len, sizeof(*s->len) * (size_t)(s->n + 1));
    s->p[s->n] = rc_strndup(p, len);
    s->len[s->n++] = len;
}

static void strs_free(struct strs *s)
{
    for (int i = 0; i < s->n; i++)
        rc_free(s->p[i]);
    rc_free(s->p);
    rc_free(s->len);
    memset(s, 0, sizeof(*s));
}

static int strs_equal(const struct strs *a, const struct strs *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->len[i] != b->len[i] || memcmp(a->p[i], b->p[i], a->len[i]) != 0)
            return 0;
    return 1;
}

/* "user NAME RULES" for every user but the default one, in name order
 * (acl_user_at's). */
static void my_users(struct strs *out)
{
    struct acl_user *def = acl_default_user();
    for (int i = 0; i < acl_user_count(); i++) {
        const struct acl_user *u = acl_user_at(i);
        if (u == def)
            continue;
        char *rules = acl_describe_user(u);
        const char *name = acl_user_name(u);
        size_t n = strlen(name) + strlen(rules) + 7;
        char *line = rc_malloc(n);
        snprintf(line, n, "user %s %s", name, rules);
        strs_add(out, line, strlen(line));
        rc_free(line);
        rc_free(rules);
    }
}

static void my_libraries(struct strs *out)
{
    const char **codes;
    size_t *lens;
    size_t n = function_codes(&codes, &lens);
    for (size_t i = 0; i < n; i++)
        strs_add(out, codes[i], lens[i]);
    rc_free(codes);
    rc_free(lens);
}

void cmd_ringnode_adminstate(struct client *c)
{
    /* Password hashes: for nodes only. */
    if (!ringnode_need_node(c))
        return;
    struct strs users = {0}, libs = {0};
    my_users(&users);
    my_libraries(&libs);
    reply_array_len(c, 2);
    for (int k = 0; k < 2; k++) {
        const struct strs *s = k ? &libs : &users;
        reply_array_len(c, s->n);
        for (int i = 0; i < s->n; i++)
            reply_bulk(c, s->p[i], s->len[i]);
    }
    strs_free(&users);
    strs_free(&libs);
}

/* ---- the answer ---- */

/* A "*N\r\n" (type '*') or "$N\r\n" header at *p; its N, or -1. */
static long long header(const char **p, const char *e, char type)
{
    const char *q = *p;
    if (q >= e || *q != type)
        return -1;
    const char *cr = memchr(q, '\r', (size_t)(e - q));
    long long n;
    if (cr == NULL || cr + 1 >= e || cr[1] != '\n' ||
        !rc_str2ll(q + 1, (size_t)(cr - q - 1), &n) || n < 0)
        return -1;
    *p = cr + 2;
    return n;
}

/* One array of bulk strings at *p into out; 0, or -1 if malformed. */
static int read_strs(const char **p, const char *e, struct strs *out)
{
    long long n = header(p, e, '*');
    if (n < 0 || n > 1000000)
        return -1;
    for (long long i = 0; i < n; i++) {
        long long len = header(p, e, '$');
        if (len < 0 || len > e - *p - 2 || (*p)[len] != '\r' || (*p)[len + 1] != '\n')
            return -1;
        strs_add(out, *p, (size_t)len);
        *p += len + 2;
    }
    return 0;
}

/* Run one command here, as if a node sent it; 0 if it did not fail. */
static int run_here(int argc, const struct slice *argv)
{
    static struct client *fake;
    if (fake == NULL) {
        fake = conn_fake_create();
        fake->flags |= CF_CAPTURE | CF_NODE;
    }
    struct command *cmd = command_lookup_argv(argc, argv);
    if (cmd == NULL)
        return -1;
    fake->db = &server.dbs[0];
    fake->argc = argc;
    fake->argv = (struct slice *)argv;
    command_call(fake, cmd);
    fake->argv = NULL;
    fake->argc = 0;
    size_t len;
    char *reply = conn_take_reply(fake, &len);
    int ok = reply != NULL && len > 0 && reply[0] != '-';
    if (!ok)
        log_warn("Bringing the ring's users and libraries here: %.*s %.*s failed: %.*s",
                 (int)argv[0].len, argv[0].p, argc > 1 ? (int)argv[1].len : 0,
                 argc > 1 ? argv[1].p : "", reply ? (int)(len > 200 ? 200 : len) : 0,
                 reply ? reply : "");
    rc_free(reply);
    return ok ? 0 : -1;
}

/* Name of the user of line "user NAME ..." (within the line). */
static struct slice line_user(const char *line, size_t len)
{
    if (len <= 5)
        return (struct slice){line, 0};
    struct slice s = {line + 5, 0};
    while (s.len < len - 5 && s.p[s.len] != ' ')
        s.len++;
    return s;
}

static int has_user(const struct strs *lines, const struct slice *name)
{
    for (int i = 0; i < lines->n; i++) {
        struct slice u = line_user(lines->p[i], lines->len[i]);
        if (u.len == name->len && memcmp(u.p, name->p, u.len) == 0)
            return 1;
    }
    return 0;
}

/* The user of one line of the ring's, made anew here: ACL DELUSER NAME
 * (its clients here are closed, as ACL LOAD closes those of the users it
 * replaces), then ACL SETUSER NAME RULES... (not "reset", which would add
 * sanitize-payload to a user that has neither payload flag). */
static void set_user(const char *line, size_t len)
{
    int words = 1;
    for (size_t i = 0; i < len; i++)
        words += line[i] == ' ';
    struct slice *argv = rc_malloc(sizeof(*argv) * (size_t)(words + 2));
    argv[0] = (struct slice){"ACL", 3};
    argv[1] = (struct slice){"DELUSER", 7};
    argv[2] = line_user(line, len);
    run_here(3, argv);
    argv[1] = (struct slice){"SETUSER", 7};
    int argc = 2;
    const char *s = line + 5, *e = line + len;     /* past "user " */
    while (s < e) {
        const char *sp = memchr(s, ' ', (size_t)(e - s));
        const char *w = sp ? sp : e;
        argv[argc++] = (struct slice){s, (size_t)(w - s)};
        s = w + 1;
    }
    run_here(argc, argv);
    rc_free(argv);
}

static void apply_users(const struct strs *ring, const struct strs *mine)
{
    for (int i = 0; i < ring->n; i++) {
        int same = 0;
        for (int j = 0; j < mine->n && !same; j++)
            same = ring->len[i] == mine->len[j] &&
                   memcmp(ring->p[i], mine->p[j], ring->len[i]) == 0;
        if (!same && ring->len[i] > 5 && memcmp(ring->p[i], "user ", 5) == 0)
            set_user(ring->p[i], ring->len[i]);
    }
    for (int j = 0; j < mine->n; j++) {
        struct slice name = line_user(mine->p[j], mine->len[j]);
        if (!has_user(ring, &name)) {
            struct slice argv[3] = {{"ACL", 3}, {"DELUSER", 7}, name};
            run_here(3, argv);
        }
    }
}

static void apply_libraries(const struct strs *ring)
{
    struct slice flush[2] = {{"FUNCTION", 8}, {"FLUSH", 5}};
    run_here(2, flush);
    for (int i = 0; i < ring->n; i++) {
        struct slice load[3] = {{"FUNCTION", 8}, {"LOAD", 4}, {ring->p[i], ring->len[i]}};
        run_here(3, load);
    }
}

static void on_state(void *priv, const char *reply, size_t len, const char *err)
{
    (void)priv;
    asking = 0;
    if (reply == NULL || len == 0 || reply[0] != '*') {
        log_verbose("Asking a member for the ring's users and libraries failed: %.*s",
                    reply ? (int)(len > 200 ? 200 : len) : (int)strlen(err), reply ? reply : err);
        return;
    }
    const char *p = reply, *e = reply + len;
    struct strs users = {0}, libs = {0}, my_u = {0}, my_l = {0};
    if (header(&p, e, '*') != 2 || read_strs(&p, e, &users) != 0 ||
        read_strs(&p, e, &libs) != 0 || p != e) {
        log_warn("A member's answer with the ring's users and libraries is malformed: ignored");
    } else {
        my_users(&my_u);
        my_libraries(&my_l);
        int same_u = strs_equal(&users, &my_u), same_l = strs_equal(&libs, &my_l);
        if (same_u && same_l) {
            if (rounds)
                log_notice("This node has the ring's %d users and %d function libraries",
                           users.n, libs.n);
            synced = 1;
        } else if (++rounds > ADMINSYNC_MAX_ROUNDS) {
            log_warn("The ring's users (%s) and function libraries (%s) still differ from this "
                     "node's after %d rounds: giving up (compare ACL LIST and FUNCTION LIST "
                     "with an up member's)", same_u ? "same" : "differ",
                     same_l ? "same" : "differ", ADMINSYNC_MAX_ROUNDS);
            synced = 1;
        } else {
            log_notice("Bringing the ring's users (%s) and function libraries (%s) here",
                       same_u ? "same" : "differ", same_l ? "same" : "differ");
            if (!same_u)
                apply_users(&users, &my_u);
            if (!same_l)
                apply_libraries(&libs);
        }
    }
    strs_free(&users);
    strs_free(&libs);
    strs_free(&my_u);
    strs_free(&my_l);
}

int adminsync_ready(void)
{
    if (synced)
        return 1;
    if (asking)
        return 0;
    const struct cstate *s = cluster_state();
    int me = cluster_my_index(), others = 0;
    for (int i = 0; s && i < (int)s->nmembers; i++) {
        if (i == me || s->members[i].status != CSTATE_UP)
            continue;
        others++;
        struct link *l = cluster_fwd_link(i, 2, 0);
        const char *argv[] = {"RINGNODE", "ADMINSTATE"};
        size_t lens[] = {8, 10};
        const char *err;
        if (l && link_send_argv(l, 2, argv, lens, on_state, NULL, &err) == 0) {
            asking = 1;
            return 0;
        }
    }
    /* Nobody up to ask (a ring of one, or every other member down): what
     * this node holds is the ring's.  Else ask again at the next step. */
    if (others == 0)
        synced = 1;
    return synced;
}
