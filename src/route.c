/*
 * route.c — where each command runs in ring mode (see route.h).
 *
 * One decision per command, from the command table's key specs:
 *
 *   - no keys: runs here, except the commands about the whole keyspace
 *     (DBSIZE, KEYS, RANDOMKEY, FLUSHDB, FLUSHALL: fanned out to every
 *     member and merged; SCAN: a COUNT-sized range of slots per call, each
 *     member returning its keys in it; INFO: the keyspace section summed
 *     over the members; PUBLISH: delivered here and broadcast, as Redis
 *     Cluster does; SCRIPT LOAD/FLUSH and FUNCTION LOAD/DELETE/FLUSH/
 *     RESTORE and ACL SETUSER/DELUSER: applied on every member, answered
 *     with this node's reply);
 *   - keys of one slot: runs here if this node is the slot's acting
 *     primary, else is forwarded to it;
 *   - keys of several slots: MGET, MSET, DEL, UNLINK, EXISTS and TOUCH are
 *     split by member, sent in parallel and merged; anything else gets
 *     Redis Cluster's -CROSSSLOT.
 *
 * A forwarded command reserves its place in the client's reply list
 * (reply_await) and is sent, as the client's own request bytes, over the
 * link the client always uses to that member; the peer's reply bytes fill
 * the place unchanged.  Local and forwarded replies thus leave in the
 * client's order, whatever the mix.  Commands that hold the connection
 * (blocking pops) go over a link pinned to the client, and the client's
 * further input waits for their reply, as it would on one node.  WATCH of
 * a remote key also runs on the pinned link, and so does the EXEC after
 * it.  A transaction (MULTI) is checked slot by slot as it is queued and
 * shipped whole, MULTI to EXEC, to its slot's member at EXEC.
 *
 * Every awaited reply is a struct fwd on the client's list; when the client
 * goes away the fwd is orphaned (c = NULL) and freed when its replies come.
 */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "acllog.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "cstate.h"
#include "link.h"
#include "multi.h"
#include "pubsub.h"
#include "rand.h"
#include "repl.h"
#include "wait.h"
#include "reply.h"
#include "respframe.h"
#include "ring.h"
#include "server.h"
#include "slot.h"
#include "tracking.h"

long long route_stat_forwarded;
long long route_stat_split;
long long route_stat_fanout;

enum merge { M_ONE, M_SUM, M_MGET, M_OK, M_CONCAT, M_SAMPLE, M_SCAN, M_INFO, M_LOCAL };

struct fwd;

struct part {
    struct fwd *f;
    char *reply;                /* owned copy of the reply */
    size_t len;
    const char *err;            /* link failure (static text) */
    int *pos;                   /* M_MGET: result positions of its keys */
    int npos;
    struct tracking_keys *trk;  /* keys to remember for a tracking client (tracking.h) */
};

struct fwd {
    struct fwd *next, *prev;    /* the client's list */
    struct client *c;           /* NULL once the client is gone */
    void *hole;
    enum merge merge;
    int resume;                 /* clear CF_WAIT_FWD when it completes */
    int nresult;                /* M_MGET: keys in the command */
    unsigned long long scan_next; /* M_SCAN: the cursor after the range */
    int local;                  /* M_INFO: the part run here */
    int nparts, waiting;
    struct part parts[];
};

/* ---- the client's list of awaited replies ---- */

static struct fwd *fwd_new(struct client *c, enum merge merge, int nparts)
{
    struct fwd *f = rc_calloc(sizeof(*f) + (size_t)nparts * sizeof(struct part));
    f->c = c;
    f->merge = merge;
    f->nparts = f->waiting = nparts;
    for (int i = 0; i < nparts; i++)
        f->parts[i].f = f;
    f->next = c->fwds;
    if (c->fwds)
        c->fwds->prev = f;
    c->fwds = f;
    f->hole = reply_await(c);
    return f;
}

static void fwd_free(struct fwd *f)
{
    if (f->c) {
        if (f->prev)
            f->prev->next = f->next;
        else
            f->c->fwds = f->next;
        if (f->next)
            f->next->prev = f->prev;
    }
    for (int i = 0; i < f->nparts; i++) {
        rc_free(f->parts[i].reply);
        rc_free(f->parts[i].pos);
        tracking_ring_reply(NULL, &f->parts[i].trk, 0);
    }
    rc_free(f);
}

void route_client_free(struct client *c)
{
    repl_client_gone(c);
    wait_client_gone(c);
    for (struct fwd *f = c->fwds; f; f = f->next)
        f->c = NULL;
    c->fwds = NULL;
    if (c->pinned) {
        link_tracking(c->pinned, 1);    /* what it tracked was the client's alone */
        link_destroy(&c->pinned);
    }
}

static void fill_error(struct client *c, void *hole, const char *err)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "-%s\r\n", err);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    reply_fill(c, hole, buf, (size_t)n);
    server.stat_total_error_replies++;
}

static void fwd_finish(struct fwd *f)
{
    struct client *c = f->c;
    if (c && f->resume) {
        c->flags &= ~CF_WAIT_FWD;
        conn_resume(c);
    }
    fwd_free(f);
}

/* ---- one forwarded command ---- */

static void on_one(void *priv, const char *reply, size_t len, const char *err)
{
    struct fwd *f = priv;
    if (f->c) {
        if (reply)
            reply_fill(f->c, f->hole, reply, len);
        else
            fill_error(f->c, f->hole, err);
    }
    /* The keys are remembered now: an invalidation from the peer follows
     * this reply on the link. */
    tracking_ring_reply(f->c, &f->parts[0].trk, reply != NULL);
    fwd_finish(f);
}

/* Queue on l the client's command (its request bytes when it came as a
 * multibulk, else re-encoded), after a SELECT if the link's database is
 * not the client's.  trk (may be NULL): where a tracking client's keys go
 * (tracking_ring_forward, right before the command itself). */
static int send_cmd(struct client *c, struct link *l, int argc, const struct slice *argv,
                    int whole, link_reply_fn *fn, void *priv, const char **err,
                    struct tracking_keys **trk)
{
    if (link_db(l) != c->db->id) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", c->db->id);
        const char *sa[] = {"SELECT", num};
        size_t sl[] = {6, (size_t)n};
        if (link_send_argv(l, 2, sa, sl, NULL, NULL, err) != 0)
            return -1;
        link_set_db(l, c->db->id);
    }
    /* The peer runs scripts and EXEC as the client's user (acl.h); the
     * command itself was checked here. */
    if (c->user) {
        const char *name = acl_user_name(c->user);
        const char *cur = link_user(l);
        if (cur == NULL || strcmp(cur, name) != 0) {
            const char *ua[] = {"RINGNODE", "ASUSER", name};
            size_t ul[] = {8, 6, strlen(name)};
            if (link_send_argv(l, 3, ua, ul, NULL, NULL, err) != 0)
                return -1;
            link_set_user(l, name);
        }
    }
    if (trk && tracking_is_on(c))
        *trk = tracking_ring_forward(c, command_lookup_argv(argc, argv), argc, argv, l);
    if (whole && c->qcmdlen && c->qbuf && c->qbuf[c->qpos] == '*' &&
        argv == c->argv && argv[0].p >= c->qbuf && argv[0].p < c->qbuf + c->qlen)
        return link_send(l, c->qbuf + c->qpos, c->qcmdlen, fn, priv, err);
    const char *av[argc > 0 ? argc : 1];
    size_t al[argc > 0 ? argc : 1];
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i].p;
        al[i] = argv[i].len;
    }
    return link_send_argv(l, argc, av, al, fn, priv, err);
}

int route_forward(struct client *c, int member, int pinned)
{
    const char *err = "CLUSTERDOWN the slot's primary is not reachable";
    struct link *l;
    if (pinned) {
        if (c->pinned && c->pinned_peer != member) {
            /* Its peer forgets the keys it tracked for this client, and
             * the client alone read over it: the client starts over. */
            if (link_tracking(c->pinned, 1))
                tracking_flush_client(c);
            link_destroy(&c->pinned);
            if (c->remote_watch) {
                /* The watched keys' node is no longer on the line: the
                 * transaction cannot know whether they changed. */
                c->remote_watch = 0;
                c->flags |= CF_DIRTY_CAS;
            }
        }
        if (c->pinned == NULL) {
            c->pinned = cluster_new_link(member, c->resp, 0);
            c->pinned_peer = member;
        }
        l = c->pinned;
    } else {
        l = cluster_fwd_link(member, c->resp, c->id);
    }
    if (l == NULL) {
        reply_errorf(c, "%s", err);
        return ROUTE_DONE;
    }
    if (c->lastcmd && !(c->lastcmd->flags & CMD_READONLY))
        wait_note_forward(c, member);
    struct fwd *f = fwd_new(c, M_ONE, 1);
    if (send_cmd(c, l, c->argc, c->argv, 1, on_one, f, &err, &f->parts[0].trk) != 0) {
        fill_error(c, f->hole, err);
        fwd_free(f);
        return ROUTE_DONE;
    }
    if (pinned) {
        /* The connection is held until the reply, as on one node. */
        f->resume = 1;
        c->flags |= CF_WAIT_FWD;
        /* A blocking read's keys are remembered now, as Redis remembers
         * them when the command blocks: a change that unblocks it sends
         * its invalidation before the reply, and the peer (which then
         * forgets the keys) must not leave them remembered here. */
        tracking_ring_reply(c, &f->parts[0].trk, 1);
    }
    route_stat_forwarded++;
    return ROUTE_DONE;
}

/* ---- split and fanned-out commands ---- */

/* Run cmd with argv here, on a client that captures the reply bytes. */
static char *run_local(struct client *c, struct command *cmd, int argc, struct slice *argv,
                       size_t *len)
{
    static struct client *cap;
    if (cap == NULL) {
        cap = conn_fake_create();
        cap->flags |= CF_CAPTURE | CF_NODE;
    }
    cap->db = c->db;
    cap->resp = c->resp;
    cap->argc = argc;
    cap->argv = argv;
    tracking_proxy_begin(cap, c);
    command_call(cap, cmd);
    tracking_proxy_end(cap);
    cap->argv = NULL;
    cap->argc = 0;
    return conn_take_reply(cap, len);
}

static void merge_and_fill(struct fwd *f);

static void on_part(void *priv, const char *reply, size_t len, const char *err)
{
    struct part *p = priv;
    struct fwd *f = p->f;
    tracking_ring_reply(f->c, &p->trk, reply != NULL);
    if (reply) {
        p->reply = rc_malloc(len ? len : 1);
        memcpy(p->reply, reply, len);
        p->len = len;
    } else {
        p->err = err;
    }
    if (--f->waiting == 0) {
        if (f->c)
            merge_and_fill(f);
        fwd_finish(f);
    }
}

/* Send argv to member for part p, or run it here (member < 0). */
static void start_part(struct client *c, struct part *p, int member, struct command *cmd,
                       int argc, struct slice *argv)
{
    if (member < 0) {
        size_t len;
        /* Run on a capturing client: its reads count for c. */
        p->trk = tracking_ring_forward(c, cmd, argc, argv, NULL);
        char *r = run_local(c, cmd, argc, argv, &len);
        on_part(p, r, len, NULL);
        rc_free(r);
        return;
    }
    const char *err = "CLUSTERDOWN the slot's primary is not reachable";
    struct link *l = cluster_fwd_link(member, c->resp, c->id);
    if (!(cmd->flags & CMD_READONLY)) {
        wait_note_forward(c, member);
        wait_note_slot(c, -1);
    }
    if (l == NULL || send_cmd(c, l, argc, argv, 0, on_part, p, &err, &p->trk) != 0)
        on_part(p, NULL, 0, err);
}

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t len)
{
    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < len)
            cap *= 2;
        b->p = rc_realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, len);
    b->len += len;
}

static void buf_header(struct buf *b, char type, long long n)
{
    char h[32];
    int k = snprintf(h, sizeof(h), "%c%lld\r\n", type, n);
    buf_add(b, h, (size_t)k);
}

static const char *null_reply(const struct client *c)
{
    return c->resp == 3 ? "_\r\n" : "$-1\r\n";
}

/* ---- INFO with the whole ring's keyspace ---- */

/* The text of a bulk or verbatim string reply (without "txt:"). */
static int info_text(const char *r, size_t len, const char **text, size_t *tlen)
{
    if (len < 4 || (r[0] != '$' && r[0] != '='))
        return -1;
    const char *nl = memchr(r, '\n', len);
    long long n;
    if (nl == NULL || nl - r < 3 || !rc_str2ll(r + 1, (size_t)(nl - r - 2), &n) || n < 0 ||
        (size_t)n > len - (size_t)(nl + 1 - r))
        return -1;
    *text = nl + 1;
    *tlen = (size_t)n;
    if (r[0] == '=') {
        if (*tlen < 4)
            return -1;
        *text += 4;
        *tlen -= 4;
    }
    return 0;
}

struct keyspace {
    long long *keys, *expires, *ttl_weight;   /* per database */
};

static void keyspace_free(struct keyspace *ks)
{
    rc_free(ks->keys);
    rc_free(ks->expires);
    rc_free(ks->ttl_weight);
}

static const char *find_keyspace(const char *text, size_t len)
{
    static const char mark[] = "# Keyspace\r\n";
    for (size_t i = 0; i + sizeof(mark) - 1 <= len; i++)
        if (text[i] == '#' && memcmp(text + i, mark, sizeof(mark) - 1) == 0)
            return text + i + sizeof(mark) - 1;
    return NULL;
}

/* Add the "dbN:keys=..,expires=..,avg_ttl=.." lines after "# Keyspace". */
static void keyspace_add(struct keyspace *ks, const char *text, size_t len)
{
    const char *p = find_keyspace(text, len);
    if (p == NULL)
        return;
    const char *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        char line[128];
        size_t ll = (size_t)(eol - p);
        if (ll >= sizeof(line))
            break;
        memcpy(line, p, ll);
        line[ll] = '\0';
        int db;
        long long k, e, t;
        if (sscanf(line, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld", &db, &k, &e, &t) == 4 &&
            db >= 0 && db < server.dbnum) {
            ks->keys[db] += k;
            ks->expires[db] += e;
            ks->ttl_weight[db] += t * e;
        }
        p = eol + 1;
    }
}

static const char *merge_info(struct fwd *f, struct buf *b)
{
    size_t per = sizeof(long long) * (size_t)server.dbnum;
    struct keyspace ks = {rc_calloc(per), rc_calloc(per), rc_calloc(per)};
    const char *local = NULL, *section = NULL;
    size_t local_len = 0;
    for (int i = 0; i < f->nparts; i++) {
        const char *t;
        size_t tl;
        if (f->parts[i].err)
            continue;    /* a member not reachable: INFO still answers */
        if (info_text(f->parts[i].reply, f->parts[i].len, &t, &tl) != 0) {
            keyspace_free(&ks);
            return "ERR unexpected reply from a peer node";
        }
        keyspace_add(&ks, t, tl);
        if (i == f->local) {
            local = t;
            local_len = tl;
            section = find_keyspace(t, tl);
        }
    }
    if (section == NULL) {
        /* No keyspace section asked for: the local reply as it is. */
        buf_add(b, f->parts[f->local].reply, f->parts[f->local].len);
        keyspace_free(&ks);
        return NULL;
    }
    struct buf text = {NULL, 0, 0};
    buf_add(&text, local, (size_t)(section - local));
    (void)local_len;
    for (int db = 0; db < server.dbnum; db++) {
        if (ks.keys[db] == 0)
            continue;
        char line[160];
        long long ttl = ks.expires[db] ? ks.ttl_weight[db] / ks.expires[db] : 0;
        int n = snprintf(line, sizeof(line), "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", db,
                         ks.keys[db], ks.expires[db], ttl);
        buf_add(&text, line, (size_t)n);
    }
    int verbatim = f->parts[f->local].reply[0] == '=';
    buf_header(b, verbatim ? '=' : '$', (long long)text.len + (verbatim ? 4 : 0));
    if (verbatim)
        buf_add(b, "txt:", 4);
    buf_add(b, text.p, text.len);
    buf_add(b, "\r\n", 2);
    rc_free(text.p);
    keyspace_free(&ks);
    return NULL;
}

/* Is member up in the current state?  A down member that is not up
 * (failed, joining, being added) misses the users and libraries changed
 * meanwhile and pulls them before it comes up (adminsync.c). */
static int member_up(int member)
{
    const struct cstate *s = cluster_state();
    return s && member < (int)s->nmembers && s->members[member].status == CSTATE_UP;
}

/* The merged reply of f's parts, in b; or an error text. */
static const char *merge(struct fwd *f, struct buf *b)
{
    struct client *c = f->c;
    if (f->merge == M_INFO)
        return merge_info(f, b);
    for (int i = 0; i < f->nparts; i++) {
        struct part *p = &f->parts[i];
        if (p->err && f->merge == M_LOCAL && !member_up(i))
            continue;   /* it gets users and libraries before it is up (adminsync.c) */
        if (p->err)
            return p->err;
        if (rframe_is_error(p->reply, p->len)) {
            buf_add(b, p->reply, p->len);
            return NULL;
        }
    }
    switch (f->merge) {
    case M_SUM: {
        long long sum = 0, v;
        for (int i = 0; i < f->nparts; i++) {
            if (!rframe_read_int(f->parts[i].reply, f->parts[i].len, &v))
                return "ERR unexpected reply from a peer node";
            sum += v;
        }
        buf_header(b, ':', sum);
        return NULL;
    }
    case M_OK:
        buf_add(b, "+OK\r\n", 5);
        return NULL;
    case M_LOCAL:
        /* Applied on every member; this node's reply stands for all. */
        buf_add(b, f->parts[f->local].reply, f->parts[f->local].len);
        return NULL;
    case M_MGET: {
        struct rframe_bulk *el = rc_calloc((size_t)f->nresult * sizeof(*el));
        for (int i = 0; i < f->nparts; i++) {
            struct part *p = &f->parts[i];
            struct rframe_iter it;
            if (rframe_array_open(&it, p->reply, p->len) != p->npos) {
                rc_free(el);
                return "ERR unexpected reply from a peer node";
            }
            for (int k = 0; k < p->npos; k++) {
                if (rframe_array_next(&it, &el[p->pos[k]]) != 1) {
                    rc_free(el);
                    return "ERR unexpected reply from a peer node";
                }
            }
        }
        buf_header(b, '*', f->nresult);
        for (int k = 0; k < f->nresult; k++)
            buf_add(b, el[k].raw, el[k].raw_len);
        rc_free(el);
        return NULL;
    }
    case M_CONCAT: {
        long long total = 0;
        struct rframe_iter its[f->nparts];
        for (int i = 0; i < f->nparts; i++) {
            long long n = rframe_array_open(&its[i], f->parts[i].reply, f->parts[i].len);
            if (n < 0)
                return "ERR unexpected reply from a peer node";
            total += n;
        }
        buf_header(b, '*', total);
        for (int i = 0; i < f->nparts; i++)
            buf_add(b, f->parts[i].reply + its[i].pos, f->parts[i].len - its[i].pos);
        return NULL;
    }
    case M_SAMPLE: {
        /* Each member answered [its key count, one of its keys]: pick a
         * member with probability proportional to its count. */
        long long counts[f->nparts], total = 0;
        struct rframe_bulk keys[f->nparts];
        for (int i = 0; i < f->nparts; i++) {
            struct rframe_iter it;
            struct rframe_bulk n;
            long long v = 0;
            if (rframe_array_open(&it, f->parts[i].reply, f->parts[i].len) != 2 ||
                rframe_array_next(&it, &n) != 1 || rframe_array_next(&it, &keys[i]) != 1 ||
                n.data == NULL || !rc_str2ll(n.data, n.len, &v) || v < 0)
                return "ERR unexpected reply from a peer node";
            counts[i] = keys[i].data ? v : 0;
            total += counts[i];
        }
        if (total == 0) {
            buf_add(b, null_reply(c), strlen(null_reply(c)));
            return NULL;
        }
        long long r = (long long)(rc_random_u64() % (unsigned long long)total);
        int i = 0;
        while (r >= counts[i])
            r -= counts[i++];
        buf_add(b, keys[i].raw, keys[i].raw_len);
        return NULL;
    }
    case M_SCAN: {
        /* Each member answered [cursor, keys] for its slots in the range. */
        long long total = 0;
        struct rframe_iter its[f->nparts];
        for (int i = 0; i < f->nparts; i++) {
            struct rframe_bulk cur;
            struct rframe_iter *it = &its[i];
            long long n;
            if (rframe_array_open(it, f->parts[i].reply, f->parts[i].len) != 2 ||
                rframe_array_next(it, &cur) != 1 ||
                (n = rframe_array_open(it, f->parts[i].reply + it->pos,
                                       f->parts[i].len - it->pos)) < 0)
                return "ERR unexpected reply from a peer node";
            total += n;
        }
        char num[32];
        int nl = snprintf(num, sizeof(num), "%llu", f->scan_next);
        buf_header(b, '*', 2);
        buf_header(b, '$', nl);
        buf_add(b, num, (size_t)nl);
        buf_add(b, "\r\n", 2);
        buf_header(b, '*', total);
        for (int i = 0; i < f->nparts; i++) {
            /* its[i] was reopened on the key array: skip to its first key. */
            size_t off = (size_t)(its[i].buf - f->parts[i].reply) + its[i].pos;
            buf_add(b, f->parts[i].reply + off, f->parts[i].len - off);
        }
        return NULL;
    }
    case M_INFO:
        return merge_info(f, b);
    case M_ONE:
        break;
    }
    return "ERR unexpected merge";
}

static void merge_and_fill(struct fwd *f)
{
    struct buf b = {NULL, 0, 0};
    const char *err = merge(f, &b);
    if (err)
        fill_error(f->c, f->hole, err);
    else
        reply_fill(f->c, f->hole, b.p, b.len);
    rc_free(b.p);
}

/* ---- multi-key commands across members ---- */

static int splittable(const struct command *cmd, enum merge *m, int *step)
{
    *step = 1;
    if (cmd->proc == cmd_mget) {
        *m = M_MGET;
    } else if (cmd->proc == cmd_mset) {
        *m = M_OK;
        *step = 2;
    } else if (cmd->proc == cmd_del || cmd->proc == cmd_unlink || cmd->proc == cmd_exists ||
               cmd->proc == cmd_touch) {
        *m = M_SUM;
    } else {
        return 0;
    }
    return 1;
}

/* members[i] is the member (-1 here) serving key i; split the command by
 * member, in key order. */
static int split(struct client *c, struct command *cmd, const struct key_ref *refs, int n,
                 const int *members, enum merge m, int step)
{
    int distinct[n], nd = 0;
    for (int i = 0; i < n; i++) {
        int k;
        for (k = 0; k < nd && distinct[k] != members[i]; k++)
            ;
        if (k == nd)
            distinct[nd++] = members[i];
    }
    struct fwd *f = fwd_new(c, m, nd);
    f->nresult = n;
    route_stat_split++;
    /* Build every part's arguments first: a local part runs at once and
     * must not see the others half made. */
    struct slice *args[nd];
    int argcs[nd];
    for (int d = 0; d < nd; d++) {
        struct part *p = &f->parts[d];
        args[d] = rc_malloc(sizeof(struct slice) * (size_t)(1 + n * step));
        args[d][0] = c->argv[0];
        argcs[d] = 1;
        p->pos = rc_malloc(sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) {
            if (members[i] != distinct[d])
                continue;
            p->pos[p->npos++] = i;
            for (int s = 0; s < step; s++)
                args[d][argcs[d]++] = c->argv[refs[i].pos + s];
        }
    }
    for (int d = 0; d < nd; d++) {
        start_part(c, &f->parts[d], distinct[d], cmd, argcs[d], args[d]);
        rc_free(args[d]);
    }
    return ROUTE_DONE;
}

/* ---- whole-keyspace commands ---- */

static int fanout(struct client *c, struct command *cmd, enum merge m, int argc,
                  struct slice *argv)
{
    const struct ring *r = cluster_ring();
    int me = cluster_my_index();
    if (r == NULL || me < 0)
        return ROUTE_LOCAL;
    int n = ring_members(r);
    struct fwd *f = fwd_new(c, m, n);
    f->local = me;
    route_stat_fanout++;
    struct command *run = command_lookup_argv(argc, argv);
    for (int i = 0; i < n; i++)
        start_part(c, &f->parts[i], i == me ? -1 : i, run ? run : cmd, argc, argv);
    return ROUTE_DONE;
}

/* SCAN over the ring.  The cursor is a slot (its low 14 bits) and a
 * position in that slot's table.  One call covers a range of slots sized
 * from COUNT and this node's keys per slot: the range's members each
 * return every key of their slots in it (RINGNODE SCAN, in parallel), and
 * the cursor moves past the range.  When one slot is expected to hold
 * COUNT keys, the range is that slot alone and its member scans it with
 * the in-slot cursor, bounded by COUNT, as SCAN does on one node. */
static long scan_count_hint(const struct client *c)
{
    long count = 10;
    for (int i = 2; i + 1 < c->argc; i += 2) {
        const struct slice *a = &c->argv[i];
        if (a->len == 5 && strncasecmp(a->p, "count", 5) == 0 &&
            (!rc_str2l(c->argv[i + 1].p, c->argv[i + 1].len, &count) || count < 1))
            return -1;
    }
    return count;
}

static unsigned scan_range_end(const struct client *c, unsigned slot, long count)
{
    const struct ring *r = cluster_ring();
    long long mine = ring_slots_of(r, cluster_my_index(), 0);
    long long keys = (long long)db_size(c->db);
    long long span = RC_SLOTS;
    if (keys > 0 && mine > 0)
        span = count * mine / keys;       /* slots expected to hold COUNT keys */
    if (span < 1)
        span = 1;
    long long end = (long long)slot + span - 1;
    return end >= RC_SLOTS ? RC_SLOTS - 1 : (unsigned)end;
}

static int route_scan(struct client *c)
{
    unsigned long long cursor;
    if (scan_parse_cursor(c, &c->argv[1], &cursor) != 0)
        return ROUTE_DONE;
    unsigned slot = (unsigned)(cursor & (RC_SLOTS - 1));
    long count = scan_count_hint(c);
    if (count < 0) {
        /* Let SCAN's own checks give the error. */
        scan_in_range(c, &c->argv[1], c->argc - 1, slot, NULL, 0);
        return ROUTE_DONE;
    }
    unsigned last = scan_range_end(c, slot, count);
    char lastbuf[16];
    int ll = snprintf(lastbuf, sizeof(lastbuf), "%u", last);
    struct slice args[c->argc + 3];
    args[0] = (struct slice){"RINGNODE", 8};
    args[1] = (struct slice){"SCAN", 4};
    args[2] = (struct slice){lastbuf, (size_t)ll};
    for (int i = 1; i < c->argc; i++)
        args[i + 2] = c->argv[i];
    int argc = c->argc + 2;
    if (last != slot) {
        const struct ring *r = cluster_ring();
        int me = cluster_my_index(), n = ring_members(r);
        struct command *run = command_lookup_argv(argc, args);
        struct fwd *f = fwd_new(c, M_SCAN, n);
        f->scan_next = last + 1 >= RC_SLOTS ? 0 : last + 1;
        route_stat_fanout++;
        for (int i = 0; i < n; i++)
            start_part(c, &f->parts[i], i == me ? -1 : i, run, argc, args);
        return ROUTE_DONE;
    }
    int member;
    const char *err;
    int where = cluster_slot_serve(slot, &member, &err);
    if (where == CLUSTER_DOWN) {
        reply_error(c, err);
        return ROUTE_DONE;
    }
    if (where == CLUSTER_LOCAL) {
        scan_in_range(c, args + 3, argc - 3, last, NULL, 0);
        return ROUTE_DONE;
    }
    struct link *l = cluster_fwd_link(member, c->resp, c->id);
    struct fwd *f = fwd_new(c, M_ONE, 1);
    err = "CLUSTERDOWN the slot's primary is not reachable";
    if (l == NULL || send_cmd(c, l, argc, args, 0, on_one, f, &err, NULL) != 0) {
        fill_error(c, f->hole, err);
        fwd_free(f);
    }
    return ROUTE_DONE;
}

/* INFO: the keyspace section counts the whole ring's keys; the other
 * sections are this node's. */
static int info_wants_keyspace(const struct client *c)
{
    static const char *const names[] = {"keyspace", "all", "everything", "default"};
    if (c->argc == 1)
        return 1;
    for (int i = 1; i < c->argc; i++)
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (c->argv[i].len == strlen(names[k]) &&
                strncasecmp(c->argv[i].p, names[k], c->argv[i].len) == 0)
                return 1;
    return 0;
}

static int route_info(struct client *c, struct command *cmd)
{
    const struct ring *r = cluster_ring();
    int me = cluster_my_index();
    if (r == NULL || me < 0 || ring_members(r) < 2 || !info_wants_keyspace(c))
        return ROUTE_LOCAL;
    int n = ring_members(r);
    struct fwd *f = fwd_new(c, M_INFO, n);
    f->local = me;
    struct slice args[2] = {{"INFO", 4}, {"keyspace", 8}};
    route_stat_fanout++;
    /* Members not heard from lately are left out rather than waited for;
     * this node's part runs last, once every other part is under way. */
    for (int i = 0; i < n; i++) {
        if (i == me)
            continue;
        if (cluster_member_link_ok(i))
            start_part(c, &f->parts[i], i, cmd, 2, args);
        else
            on_part(&f->parts[i], NULL, 0, "CLUSTERDOWN the member is not reachable");
    }
    start_part(c, &f->parts[me], -1, cmd, c->argc, c->argv);
    return ROUTE_DONE;
}

static int route_keyless(struct client *c, struct command *cmd)
{
    /* A cluster-aware client sends these to every primary and adds up the
     * answers; on the port CLUSTER SLOTS shows it, each node answers for
     * the slots it serves, as a Redis Cluster node does for its own. */
    if ((c->flags & CF_CLUSTER_PORT) &&
        (cmd->proc == cmd_info || cmd->proc == cmd_dbsize || cmd->proc == cmd_keys ||
         cmd->proc == cmd_scan))
        return ROUTE_LOCAL;
    if (cmd->proc == cmd_info)
        return route_info(c, cmd);
    if (cmd->proc == cmd_dbsize)
        return fanout(c, cmd, M_SUM, c->argc, c->argv);
    if (cmd->proc == cmd_keys)
        return fanout(c, cmd, M_CONCAT, c->argc, c->argv);
    if (cmd->proc == cmd_flushdb || cmd->proc == cmd_flushall || cmd->proc == cmd_swapdb)
        return fanout(c, cmd, M_OK, c->argc, c->argv);
    /* Scripts are loaded and flushed on every member, so that an EVALSHA
     * works on whichever member serves its keys. */
    if (cmd->proc == cmd_script_load || cmd->proc == cmd_script_flush ||
        cmd->proc == cmd_function_load || cmd->proc == cmd_function_delete ||
        cmd->proc == cmd_function_flush || cmd->proc == cmd_function_restore)
        return fanout(c, cmd, M_LOCAL, c->argc, c->argv);
    /* So are ACL users, so that a client may connect to any member. */
    if (cmd->proc == cmd_acl_setuser || cmd->proc == cmd_acl_deluser)
        return fanout(c, cmd, M_LOCAL, c->argc, c->argv);
    if (cmd->proc == cmd_randomkey) {
        struct slice args[2] = {{"RINGNODE", 8}, {"SAMPLE", 6}};
        return fanout(c, cmd, M_SAMPLE, 2, args);
    }
    if (cmd->proc == cmd_scan)
        return route_scan(c);
    if (cmd->proc == cmd_publish)
        cluster_broadcast_publish(0, &c->argv[1], &c->argv[2]);
    return ROUTE_LOCAL;
}

/* ---- the decision ---- */

static void reply_crossslot(struct client *c)
{
    reply_error(c, "CROSSSLOT Keys in request don't hash to the same slot");
}

/* The slot of all of cmd's keys: 0..16383, -1 if it has none, -2 if they
 * are in several slots. */
static int command_slot(struct client *c, struct command *cmd, int argc,
                        const struct slice *argv)
{
    if (!command_has_keys(cmd))
        return -1;
    struct key_ref small[16], *refs = small;
    int n = command_find_keys(cmd, argc, argv, refs, 16);
    if (n > 16) {
        refs = rc_malloc(sizeof(*refs) * (size_t)n);
        n = command_find_keys(cmd, argc, argv, refs, n);
    }
    int slot = -1;
    for (int i = 0; i < n && slot != -2; i++) {
        int s = (int)rc_key_slot(argv[refs[i].pos].p, argv[refs[i].pos].len);
        slot = slot == -1 || slot == s ? s : -2;
    }
    if (refs != small)
        rc_free(refs);
    (void)c;
    return slot;
}

/* A command queued inside MULTI: all of a transaction's keys must be in
 * one slot, checked as each command is queued (Redis Cluster's rule). */
static int route_queued(struct client *c, struct command *cmd)
{
    int s = command_slot(c, cmd, c->argc, c->argv);
    if (s == -1)
        return ROUTE_LOCAL;
    if (s == -2 || (c->txn_slot >= 0 && c->txn_slot != s)) {
        multi_flag_error(c);
        reply_crossslot(c);
        return ROUTE_DONE;
    }
    c->txn_slot = s;
    return ROUTE_LOCAL;
}

/* Drop the WATCH held on the pinned link's node, if any. */
static void route_unwatch(struct client *c)
{
    if (!c->remote_watch)
        return;
    c->remote_watch = 0;
    struct slice unwatch = {"UNWATCH", 7};
    const char *err;
    if (c->pinned)
        send_cmd(c, c->pinned, 1, &unwatch, 0, NULL, NULL, &err, NULL);
}

/* WATCH of keys another member serves: the WATCH runs there, on the link
 * pinned to this client, and EXEC later goes over the same link, so that
 * member sees whether the keys changed in between.  Keys watched on two
 * other nodes cannot be checked by one EXEC: -CROSSSLOT, as Redis Cluster
 * answers keys of several slots. */
static int route_watch(struct client *c, int where, int member)
{
    /* WATCH inside MULTI has its own error; once a watched key changed
     * EXEC fails whatever else is watched: both are answered here.  Keys
     * watched here mark the client here, so they combine with a WATCH on
     * one other node; two other nodes cannot both check one EXEC. */
    if ((c->flags & (CF_MULTI | CF_DIRTY_CAS)) || where != CLUSTER_REMOTE)
        return ROUTE_LOCAL;
    if (c->remote_watch && c->pinned_peer != member) {
        reply_crossslot(c);
        return ROUTE_DONE;
    }
    int rc = route_forward(c, member, 1);
    c->remote_watch = c->pinned != NULL;
    return rc;
}

/* EXEC of a transaction whose slot another member serves: the whole
 * transaction goes to it as MULTI, the commands and EXEC, back to back on
 * the client's link, and EXEC's reply comes back. */
static int route_exec(struct client *c)
{
    /* An aborted or WATCH-failed transaction is answered here. */
    if (c->flags & (CF_DIRTY_EXEC | CF_DIRTY_CAS)) {
        route_unwatch(c);
        return ROUTE_LOCAL;
    }
    int member = -1;
    const char *err = NULL;
    int where = CLUSTER_LOCAL;
    if (c->txn_slot >= 0)
        where = cluster_slot_serve((unsigned)c->txn_slot, &member, &err);
    struct link *l = NULL;
    if (c->remote_watch) {
        /* Watched keys live on the pinned link's node: the transaction
         * runs there, or its keys are on another node than the watch. */
        if (where != CLUSTER_DOWN && c->txn_slot >= 0 &&
            (where == CLUSTER_LOCAL || member != c->pinned_peer)) {
            route_unwatch(c);
            multi_discard(c);
            reply_crossslot(c);
            return ROUTE_DONE;
        }
        if (where != CLUSTER_DOWN) {
            where = CLUSTER_REMOTE;
            l = c->pinned;
        }
        c->remote_watch = 0;     /* EXEC ends the watch there */
    } else {
        if (c->txn_slot < 0 || where == CLUSTER_LOCAL)
            return ROUTE_LOCAL;
        if (where == CLUSTER_REMOTE)
            l = cluster_fwd_link(member, c->resp, c->id);
    }
    if (l == NULL) {
        multi_discard(c);
        reply_error(c, where == CLUSTER_DOWN ? err : "CLUSTERDOWN the slot's primary is not "
                                                     "reachable");
        return ROUTE_DONE;
    }
    if (member >= 0) {
        wait_note_forward(c, member);
        wait_note_slot(c, c->txn_slot);
    }
    struct fwd *f = fwd_new(c, M_ONE, 1);
    const struct command *qc;
    const struct slice *qargv;
    int qargc;
    if (tracking_is_on(c)) {
        /* The reads of the transaction, registered before it and
         * remembered at EXEC's reply (tracking_ring.c). */
        for (size_t i = 0; multi_queued(c, i, &qc, &qargc, &qargv); i++)
            tracking_ring_collect(&f->parts[0].trk, c, qc, qargc, qargv);
        tracking_ring_register(f->parts[0].trk, l);
    }
    struct slice multi = {"MULTI", 5};
    int rc = send_cmd(c, l, 1, &multi, 0, NULL, NULL, &err, NULL);
    for (size_t i = 0; rc == 0 && multi_queued(c, i, &qc, &qargc, &qargv); i++) {
        /* The user's rules are checked again here, as EXEC does on one
         * node; a command they no longer allow is replaced by a script
         * that answers its NOPERM error in its place. */
        int aclpos;
        int aclr = acl_check_and_log(c, qc, qargc, qargv, ACLLOG_MULTI, &aclpos);
        if (aclr != ACL_OK) {
            char msg[512];
            acl_exec_denial_text(msg, sizeof(msg), aclr);
            struct slice deny[4] = {{"EVAL", 4}, {"return {err=ARGV[1]}", 20}, {"0", 1},
                                    {msg, strlen(msg)}};
            rc = send_cmd(c, l, 4, deny, 0, NULL, NULL, &err, NULL);
            continue;
        }
        rc = send_cmd(c, l, qargc, qargv, 0, NULL, NULL, &err, NULL);
    }
    if (rc == 0)
        rc = send_cmd(c, l, 1, &c->argv[0], 0, on_one, f, &err, NULL);
    multi_discard(c);
    if (rc != 0) {
        fill_error(c, f->hole, err);
        fwd_free(f);
    }
    route_stat_forwarded++;
    return ROUTE_DONE;
}

/* A command a peer forwarded runs here only if this node serves every
 * slot it touches now: the sender routed it by its own state, which may
 * be older than ours, and a node without its lease must not act. */
static int route_from_peer(struct client *c, struct command *cmd)
{
    if (!command_has_keys(cmd))
        return ROUTE_LOCAL;
    struct key_ref small[16], *refs = small;
    int n = command_find_keys(cmd, c->argc, c->argv, refs, 16);
    if (n > 16) {
        refs = rc_malloc(sizeof(*refs) * (size_t)n);
        n = command_find_keys(cmd, c->argc, c->argv, refs, n);
    }
    int rc = ROUTE_LOCAL;
    for (int i = 0; i < n; i++) {
        int member;
        const char *err;
        unsigned slot = rc_key_slot(c->argv[refs[i].pos].p, c->argv[refs[i].pos].len);
        int where = cluster_slot_serve(slot, &member, &err);
        if (where == CLUSTER_LOCAL)
            continue;
        reply_error(c, where == CLUSTER_DOWN ? err : "CLUSTERDOWN Hash slot is served by "
                                                      "another node now: retry");
        rc = ROUTE_DONE;
        break;
    }
    if (refs != small)
        rc_free(refs);
    return rc;
}

int route_command(struct client *c, struct command *cmd)
{
    if (!server.cluster_enabled || (c->flags & CF_FAKE))
        return ROUTE_LOCAL;
    if (c->flags & CF_NODE)
        return route_from_peer(c, cmd);
    if (cmd->proc == cmd_unwatch || cmd->proc == cmd_reset ||
        (cmd->proc == cmd_discard && (c->flags & CF_MULTI)))
        route_unwatch(c);
    if (c->flags & CF_MULTI) {
        if (cmd->proc == cmd_exec)
            return route_exec(c);
        if (!multi_runs_now(cmd))
            return route_queued(c, cmd);
        return ROUTE_LOCAL;
    }
    if (cmd->proc == cmd_multi)
        c->txn_slot = -1;
    if ((cmd->flags & CMD_PUBSUB) && cmd->proc != cmd_spublish)
        return route_keyless(c, cmd);
    if (!command_has_keys(cmd))
        return route_keyless(c, cmd);

    struct key_ref small[16], *refs = small;
    int n;
    if (cmd->key_pos > 0 && cmd->key_pos < c->argc) {
        /* The common case, one key at a fixed place: no spec walk. */
        refs[0].pos = cmd->key_pos;
        n = 1;
    } else {
        n = command_find_keys(cmd, c->argc, c->argv, refs, 16);
        if (n > 16) {
            refs = rc_malloc(sizeof(*refs) * (size_t)n);
            n = command_find_keys(cmd, c->argc, c->argv, refs, n);
        }
    }
    int rc = ROUTE_LOCAL;
    if (n <= 0)
        goto out;

    unsigned slot0 = rc_key_slot(c->argv[refs[0].pos].p, c->argv[refs[0].pos].len);
    int same = 1;
    for (int i = 1; i < n && same; i++)
        same = rc_key_slot(c->argv[refs[i].pos].p, c->argv[refs[i].pos].len) == slot0;

    int member;
    const char *err;
    if (same) {
        int where = cluster_slot_serve(slot0, &member, &err);
        if (where == CLUSTER_DOWN) {
            reply_error(c, err);
            rc = ROUTE_DONE;
        } else if (where == CLUSTER_REMOTE && (c->flags & CF_READONLY) &&
                   (cmd->flags & CMD_READONLY) && !(cmd->flags & CMD_WRITE) &&
                   cluster_holds_copy(slot0)) {
            rc = ROUTE_LOCAL;   /* READONLY: this node's copy */
        } else if (where == CLUSTER_REMOTE) {
            if (cmd->proc == cmd_watch)
                rc = route_watch(c, where, member);
            else {
                if (!(cmd->flags & CMD_READONLY))
                    wait_note_slot(c, (int)slot0);
                rc = route_forward(c, member, (cmd->flags & CMD_BLOCKING) != 0);
            }
        } else if (cmd->proc == cmd_watch) {
            rc = route_watch(c, where, member);
        } else {
            /* Runs here: the keyspace need not hash the key again. */
            db_set_slot_hint(c->argv[refs[0].pos].p, c->argv[refs[0].pos].len, slot0);
        }
        goto out;
    }

    enum merge m;
    int step;
    if (!splittable(cmd, &m, &step)) {
        reply_crossslot(c);
        rc = ROUTE_DONE;
        goto out;
    }
    if ((c->argc - 1) % step != 0)
        goto out;               /* MSET a 1 b: the command's own arity error */
    int *members = rc_malloc(sizeof(int) * (size_t)n);
    int remote = 0;
    for (int i = 0; i < n; i++) {
        unsigned s = rc_key_slot(c->argv[refs[i].pos].p, c->argv[refs[i].pos].len);
        int where = cluster_slot_serve(s, &member, &err);
        if (where == CLUSTER_DOWN) {
            reply_error(c, err);
            rc = ROUTE_DONE;
            break;
        }
        members[i] = where == CLUSTER_LOCAL ? -1 : member;
        remote |= where == CLUSTER_REMOTE;
    }
    if (remote && rc != ROUTE_DONE)
        rc = split(c, cmd, refs, n, members, m, step);
    rc_free(members);
out:
    if (refs != small)
        rc_free(refs);
    return rc;
}
