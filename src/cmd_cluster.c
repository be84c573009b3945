/*
 * cmd_cluster.c — CLUSTER, RING and RINGNODE (commands_cluster.def).
 *
 * CLUSTER answers Redis Cluster's introspection from the ring's slot
 * table, in Redis Cluster's formats, so cluster-aware clients route by
 * slot on their own.  The ring has no shards in Redis's sense (a member is
 * primary for some slot ranges and replica for others), so CLUSTER SLOTS
 * lists each contiguous range with its preference list (primary first),
 * and CLUSTER NODES / SHARDS present every member as a master holding the
 * ranges it is acting primary for: what clients need to route writes.
 *
 * RING is ringcache's own: CREATE, MEET, OWNERS, STATE, HELP.  RINGNODE is
 * what nodes say to each other; every verb but HELLO needs a link that
 * presented the cluster secret in HELLO.
 */
#include <stdio.h>
#include <string.h>

#include "crc64.h"
#include "object.h"
#include "propagate.h"
#include "rdb.h"
#include "rdbobj.h"
#include "acl.h"
#include "cluster.h"
#include "conn.h"
#include "cstate.h"
#include "link.h"
#include "netutil.h"
#include "paxos.h"
#include "pubsub.h"
#include "repl.h"
#include "slotdigest.h"
#include "slotdrop.h"
#include "reply.h"
#include "respframe.h"
#include "ring.h"
#include "ringstate.h"
#include "route.h"
#include "server.h"

static int need_ring_mode(struct client *c)
{
    if (cluster_enabled())
        return 1;
    reply_error(c, "ERR This instance has cluster support disabled");
    return 0;
}

int ringnode_need_node(struct client *c)
{
    if (c->flags & CF_NODE)
        return 1;
    reply_error(c, "NOPERM RINGNODE commands are for ring nodes only (RINGNODE HELLO first)");
    return 0;
}

static int parse_slot(struct client *c, const struct slice *a, unsigned *slot)
{
    long long v;
    if (!rc_str2ll(a->p, a->len, &v) || v < 0 || v >= RC_SLOTS) {
        reply_error(c, "ERR Invalid or out of range slot");
        return -1;
    }
    *slot = (unsigned)v;
    return 0;
}

/* ---- operations that wait for the ring (MEET) ---- */

struct admin_op {
    struct admin_op *next;
    uint64_t client_id;
    void *hole;
    uint64_t token;
    struct link *probe;         /* MEET: link to the node being met */
    char host[CSTATE_HOST_MAX + 1];
    int port;
    /* MEET: the member to add, and the members asked whether they hold
     * keys (the new one is then added as `adding`, to be sent its slots
     * before it serves, else as `up`). */
    struct cstate_change ch;
    struct link **asks;
    int nasks, pending, ring_keys;
    /* REPLACE: the failed member the node being met replaces. */
    char replace_id[CSTATE_ID_LEN + 1];
    /* REMOVE of a live member: it was asked to leave; the op ends once
     * the ring shows it removing (or gone), or fails at the deadline. */
    char await_id[CSTATE_ID_LEN + 1];
    long long await_deadline_ms;
};

static struct admin_op *ops;

static struct client *client_by_id(uint64_t id)
{
    for (struct client *c = server.clients; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static struct admin_op *op_start(struct client *c)
{
    struct admin_op *op = rc_calloc(sizeof(*op));
    op->client_id = c->id;
    op->hole = reply_await(c);
    c->flags |= CF_WAIT_FWD;
    op->next = ops;
    ops = op;
    return op;
}

/* Give the waiting client its reply (a complete RESP reply) and forget op. */
static void op_finish(struct admin_op *op, const char *reply)
{
    struct client *c = client_by_id(op->client_id);
    if (c) {
        reply_fill(c, op->hole, reply, strlen(reply));
        c->flags &= ~CF_WAIT_FWD;
        conn_resume(c);
    }
    for (struct admin_op **pp = &ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    if (op->probe)
        cluster_defer_link_free(op->probe);
    for (int i = 0; i < op->nasks; i++)
        if (op->asks[i])
            cluster_defer_link_free(op->asks[i]);
    rc_free(op->asks);
    rc_free(op);
}

static void op_fail(struct admin_op *op, const char *err)
{
    char buf[600];
    snprintf(buf, sizeof(buf), "-%s\r\n", err);
    op_finish(op, buf);
}

void cluster_admin_done(uint64_t token, int outcome)
{
    for (struct admin_op *op = ops; op; op = op->next) {
        if (op->token != token)
            continue;
        if (outcome == PAXOS_DONE)
            op_finish(op, "+OK\r\n");
        else
            op_fail(op, outcome == PAXOS_INVALID ? "ERR the ring changed and the change no "
                                                   "longer applies"
                                                 : "ERR the ring did not agree on the change in "
                                                   "time (is a majority of members up?)");
        return;
    }
}

static long long total_keys(void)
{
    long long n = 0;
    for (int i = 0; i < server.dbnum; i++)
        n += (long long)db_size(&server.dbs[i]);
    return n;
}

/* The ring member's answer to "meet me": its CLUSTER MEET reply. */
static void on_meet_back(void *priv, const char *reply, size_t len, const char *err)
{
    struct admin_op *op = priv;
    if (reply == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "ERR cannot reach %s:%d: %s", op->host, op->port, err);
        op_fail(op, msg);
        return;
    }
    char *copy = rc_malloc(len + 1);
    memcpy(copy, reply, len);
    copy[len] = '\0';
    op_finish(op, copy);
    rc_free(copy);
}

static void meet_from_outside(struct admin_op *op)
{
    struct cstate_member me;
    cluster_my_member(&me);
    char port[16];
    snprintf(port, sizeof(port), "%u", me.port);
    const char *argv[] = {"CLUSTER", "MEET", me.host, port};
    size_t lens[] = {7, 4, strlen(me.host), strlen(port)};
    const char *err;
    link_set_timeout(op->probe, 0);     /* the ring's agreement takes its time */
    if (link_send_argv(op->probe, 4, argv, lens, on_meet_back, op, &err) != 0)
        op_fail(op, err);
}

#define CHANGING_ERR "ERR a membership change is in progress (a member is being added or " \
                     "removed): wait until it ends"

/* Propose the MEET's change: the new member as `adding` when the ring
 * holds keys (cluster.c moves the slots it and others gain before it
 * comes up), else `up` at once. */
static void meet_propose(struct admin_op *op)
{
    if (ringstate_changing(cluster_state()) > 0) {
        op_fail(op, CHANGING_ERR);
        return;
    }
    if (op->ring_keys) {
        if (cluster_state()->replicas == 0) {
            op_fail(op, "ERR adding a node to a ring that holds keys needs cluster-replicas 1 "
                        "or more: its slots are moved by the replication stream (RING REPLICAS "
                        "1 first)");
            return;
        }
        op->ch.member.status = CSTATE_ADDING;
        log_notice("Adding node %.40s at %s:%d: the ring holds keys, so it is sent the slots it "
                   "will hold before it serves", op->ch.member.id, op->host, op->port);
    }
    if (op->replace_id[0])
        log_notice("Replacing failed member %.40s by node %.40s at %s:%d", op->replace_id,
                   op->ch.member.id, op->host, op->port);
    char perr[256];
    op->token = cluster_propose(&op->ch, perr, sizeof(perr));
    if (op->token == 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "ERR %s", perr);
        op_fail(op, msg);
        return;
    }
    cluster_pump();
}

/* A member's RINGNODE INFO reply (id ring epoch members keys ...): does
 * it hold keys?  No answer counts as yes (the safe way to add). */
static void on_ring_keys(void *priv, const char *reply, size_t len, const char *err)
{
    (void)err;
    struct admin_op *op = priv;
    struct rframe_iter it;
    struct rframe_bulk f[5];
    unsigned long long keys = 1;
    int ok = reply != NULL && rframe_array_open(&it, reply, len) >= 5;
    for (int i = 0; ok && i < 5; i++)
        ok = rframe_array_next(&it, &f[i]) == 1 && f[i].data != NULL;
    if (!ok || !rc_str2ull(f[4].data, f[4].len, &keys))
        keys = 1;
    op->ring_keys |= keys > 0;
    if (--op->pending == 0)
        meet_propose(op);
}

/* Ask every other member of this node's ring whether it holds keys. */
static void ask_ring_keys(struct admin_op *op)
{
    const struct cstate *s = cluster_state();
    int me = cluster_my_index();
    op->asks = rc_calloc(sizeof(*op->asks) * (s->nmembers ? s->nmembers : 1));
    const char *argv[] = {"RINGNODE", "INFO"};
    size_t lens[] = {8, 4};
    for (size_t i = 0; i < s->nmembers; i++) {
        if ((int)i == me)
            continue;
        struct link *l = cluster_new_link((int)i, 2, server.cluster_node_timeout);
        const char *err;
        if (l == NULL) {
            op->ring_keys = 1;
            continue;
        }
        op->asks[op->nasks++] = l;
        op->pending++;
        if (link_send_argv(l, 2, argv, lens, on_ring_keys, op, &err) != 0) {
            op->pending--;
            op->ring_keys = 1;
        }
    }
}

/* RINGNODE INFO's reply from the node being met:
 * id ring epoch members keys zone vnodes host port */
static void on_meet_info(void *priv, const char *reply, size_t len, const char *err)
{
    struct admin_op *op = priv;
    struct rframe_iter it;
    struct rframe_bulk f[9];
    if (reply == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "ERR cannot reach %s:%d: %s", op->host, op->port, err);
        op_fail(op, msg);
        return;
    }
    if (rframe_is_error(reply, len)) {
        char msg[400];
        snprintf(msg, sizeof(msg), "ERR %s:%d refused: %.*s", op->host, op->port,
                 (int)(len > 300 ? 300 : len - 3), reply + 1);
        op_fail(op, msg);
        return;
    }
    int ok = rframe_array_open(&it, reply, len) == 9;
    for (int i = 0; ok && i < 9; i++)
        ok = rframe_array_next(&it, &f[i]) == 1 && f[i].data != NULL;
    unsigned long long epoch = 0, members = 0, keys = 0, vnodes = 0, port = 0;
    ok = ok && rc_str2ull(f[2].data, f[2].len, &epoch) && rc_str2ull(f[3].data, f[3].len, &members) &&
         rc_str2ull(f[4].data, f[4].len, &keys) && rc_str2ull(f[6].data, f[6].len, &vnodes) &&
         rc_str2ull(f[8].data, f[8].len, &port);
    struct cstate_change ch;
    memset(&ch, 0, sizeof(ch));
    ok = ok && f[0].len == CSTATE_ID_LEN && f[5].len <= CSTATE_ZONE_MAX &&
         f[7].len <= CSTATE_HOST_MAX && f[7].len > 0;
    if (!ok) {
        op_fail(op, "ERR unexpected RINGNODE INFO reply from the node");
        return;
    }
    const struct cstate *s = cluster_state();
    if (epoch != 0 && s->epoch == 0) {
        /* This node has no ring and met a member of one: that ring adds
         * this node, as when the member is told to meet it. */
        meet_from_outside(op);
        return;
    }
    if (s->epoch == 0) {
        const char *why;
        if (cluster_bootstrap(server.cluster_replicas, &why) != 0) {
            op_fail(op, why);
            return;
        }
        s = cluster_state();
    }
    if (epoch != 0) {
        if (f[1].len == CSTATE_ID_LEN && memcmp(f[1].data, s->ring, CSTATE_ID_LEN) == 0) {
            if (op->replace_id[0])
                op_fail(op, "ERR the new node is already a member of this ring");
            else
                op_finish(op, "+OK\r\n");   /* already a member of this ring */
            return;
        }
        char msg[400];
        snprintf(msg, sizeof(msg), "ERR %s:%d is a member of another ring (%.*s, epoch %llu): "
                 "two rings never merge", op->host, op->port, (int)f[1].len, f[1].data, epoch);
        log_warn("Refused to meet %s:%d: it belongs to ring %.*s", op->host, op->port,
                 (int)f[1].len, f[1].data);
        op_fail(op, msg);
        return;
    }
    if (keys > 0) {
        op_fail(op, "ERR a node joins a ring only while it holds no keys");
        return;
    }
    ch.kind = CSTATE_ADD_MEMBER;
    memcpy(ch.member.id, f[0].data, CSTATE_ID_LEN);
    memcpy(ch.member.host, f[7].data, f[7].len);
    ch.member.port = (unsigned)port;
    memcpy(ch.member.zone, f[5].data, f[5].len);
    ch.member.vnodes = (unsigned)vnodes;
    ch.member.status = CSTATE_UP;
    if (op->replace_id[0]) {
        ch.kind = CSTATE_REPLACE_MEMBER;
        memcpy(ch.id, op->replace_id, sizeof(ch.id));
    }
    op->ch = ch;
    op->ring_keys = total_keys() > 0;
    if (!op->ring_keys)
        ask_ring_keys(op);
    if (op->pending == 0)
        meet_propose(op);
}

/* Ask the node at host:port who it is (RINGNODE INFO, on_meet_info()),
 * for a MEET or for a REPLACE of member replace_id. */
static void meet_start(struct client *c, const struct slice *host, int port,
                       const char *replace_id)
{
    struct admin_op *op = op_start(c);
    memcpy(op->host, host->p, host->len);
    op->port = port;
    if (replace_id)
        memcpy(op->replace_id, replace_id, CSTATE_ID_LEN);
    op->probe = link_create(op->host, op->port, 2, server.cluster_node_timeout, "meet");
    const char *argv[] = {"RINGNODE", "INFO"};
    size_t lens[] = {8, 4};
    const char *err;
    if (link_send_argv(op->probe, 2, argv, lens, on_meet_info, op, &err) != 0)
        op_fail(op, err);
}

/* CLUSTER MEET ip port [cport] and RING MEET ip port: add that node to
 * this node's ring (creating the ring first if this node has none).  The
 * reply comes once the ring has agreed. */
void cmd_cluster_meet(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    long long port;
    if (!rc_str2ll(c->argv[3].p, c->argv[3].len, &port) || port <= 0 || port > 65535) {
        reply_errorf(c, "ERR Invalid base port specified: %.*s", (int)c->argv[3].len,
                     c->argv[3].p);
        return;
    }
    if (c->argv[2].len == 0 || c->argv[2].len > CSTATE_HOST_MAX) {
        reply_error(c, "ERR Invalid node address specified");
        return;
    }
    meet_start(c, &c->argv[2], (int)port, NULL);
}


/* ---- CLUSTER ---- */

void cmd_cluster_help(struct client *c)
{
    static const char *const lines[] = {
        "COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>", "    Return key names stored in <slot>.",
        "INFO", "    Return information about the cluster.",
        "KEYSLOT <key>", "    Return the hash slot for <key>.",
        "MEET <ip> <port> [<bus-port>]", "    Add the node at <ip>:<port> to the ring.",
        "MYID", "    Return the node id.",
        "NODES", "    Return the members and the slots each serves as primary.",
        "SHARDS", "    Return each member's primary slot ranges, as Redis's shards.",
        "SLOTS", "    Return the slot ranges and their preference lists (primary first).",
        NULL};
    reply_help(c, "CLUSTER", lines);
}

void cmd_cluster_myid(struct client *c)
{
    if (need_ring_mode(c))
        reply_bulk(c, cluster_myid(), strlen(cluster_myid()));
}

void cmd_cluster_keyslot(struct client *c)
{
    if (need_ring_mode(c))
        reply_long(c, rc_key_slot(c->argv[2].p, c->argv[2].len));
}

/* COUNTKEYSINSLOT and GETKEYSINSLOT run on the slot's node. */
static int on_slot_node(struct client *c, unsigned slot)
{
    int member;
    const char *err;
    int where = cluster_slot_route(slot, &member, &err);
    if (where == CLUSTER_LOCAL || (c->flags & CF_NODE))
        return 1;
    if (where == CLUSTER_DOWN)
        reply_error(c, err);
    else
        route_forward(c, member, 0);
    return 0;
}

void cmd_cluster_countkeysinslot(struct client *c)
{
    unsigned slot;
    if (!need_ring_mode(c) || parse_slot(c, &c->argv[2], &slot) != 0 || !on_slot_node(c, slot))
        return;
    struct dict *d = db_slot_dict(c->db, slot);
    reply_long(c, d ? (long long)dict_size(d) : 0);
}

struct keys_out {
    struct client *c;
    long long left;
    long long n;
};

static void emit_key(void *priv, struct kv *o)
{
    struct keys_out *k = priv;
    if (k->left-- > 0) {
        reply_bulk(k->c, kv_key(o), o->klen);
        k->n++;
    }
}

void cmd_cluster_getkeysinslot(struct client *c)
{
    unsigned slot;
    long long count;
    if (!need_ring_mode(c) || parse_slot(c, &c->argv[2], &slot) != 0)
        return;
    if (!rc_str2ll(c->argv[3].p, c->argv[3].len, &count) || count < 0) {
        reply_error(c, "ERR Invalid number of keys");
        return;
    }
    if (!on_slot_node(c, slot))
        return;
    void *hole = reply_defer_len(c);
    struct keys_out k = {c, count, 0};
    unsigned long long cur = slot;
    do {
        cur = db_scan_range(c->db, cur, slot, emit_key, &k);
    } while (k.left > 0 && cur != 0 && (cur & (RC_SLOTS - 1)) == slot);
    reply_set_array_len(c, hole, (long)k.n);
}

static const char *state_ok(void)
{
    const struct ring *r = cluster_ring();
    if (r == NULL || strcmp(cluster_serving_state(), "lease held") != 0)
        return "fail";
    for (unsigned s = 0; s < RC_SLOTS; s++) {
        int m;
        const char *err;
        if (cluster_slot_serve(s, &m, &err) == CLUSTER_DOWN)
            return "fail";
    }
    return "ok";
}

void cmd_cluster_info(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct cstate *s = cluster_state();
    const struct ring *r = cluster_ring();
    unsigned served = 0;
    int with_slots = 0;
    for (unsigned slot = 0; r && slot < RC_SLOTS; slot++) {
        int m;
        const char *err;
        served += cluster_slot_route(slot, &m, &err) != CLUSTER_DOWN;
    }
    for (int i = 0; r && i < ring_members(r); i++)
        with_slots += ring_slots_of(r, i, 0) > 0;
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "cluster_state:%s\r\ncluster_slots_assigned:%u\r\ncluster_slots_ok:%u\r\n"
                     "cluster_slots_pfail:0\r\ncluster_slots_fail:%u\r\n"
                     "cluster_known_nodes:%zu\r\ncluster_size:%d\r\n"
                     "cluster_current_epoch:%llu\r\ncluster_my_epoch:%llu\r\n"
                     "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
                     "total_cluster_links_buffer_limit_exceeded:0\r\n",
                     state_ok(), r ? RC_SLOTS : 0, served, (r ? RC_SLOTS : 0) - served,
                     s->nmembers, with_slots, (unsigned long long)s->epoch,
                     (unsigned long long)s->epoch);
    reply_verbatim(c, buf, (size_t)n, "txt");
}

/* A member as CLUSTER SLOTS lists it: ip, port, id, metadata. */
static void reply_node_entry(struct client *c, int member)
{
    const char *host = cluster_member_host(member);
    const struct ring *r = cluster_ring();
    const char *id = ring_member_id(r, member);
    reply_array_len(c, 4);
    reply_bulk(c, host, strlen(host));
    reply_long(c, cluster_member_client_port(member));
    reply_bulk(c, id, strlen(id));
    reply_map_len(c, 0);
}

static int same_pref(const struct ring *r, unsigned a, unsigned b)
{
    return memcmp(ring_pref(r, a), ring_pref(r, b), sizeof(uint16_t) * (size_t)ring_pref_len(r)) == 0;
}

void cmd_cluster_slots(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct ring *r = cluster_ring();
    if (r == NULL) {
        reply_empty_array(c);
        return;
    }
    void *hole = reply_defer_len(c);
    long ranges = 0;
    for (unsigned start = 0; start < RC_SLOTS;) {
        unsigned end = start;
        while (end + 1 < RC_SLOTS && same_pref(r, start, end + 1))
            end++;
        const uint16_t *pref = ring_pref(r, start);
        int up[CSTATE_REPLICAS_MAX + 1], nup = 0;
        for (int k = 0; k < ring_pref_len(r); k++)
            if (cluster_member_up(pref[k]))
                up[nup++] = pref[k];
        if (nup > 0) {
            reply_array_len(c, 2 + nup);
            reply_long(c, start);
            reply_long(c, end);
            for (int k = 0; k < nup; k++)
                reply_node_entry(c, up[k]);
            ranges++;
        }
        start = end + 1;
    }
    reply_set_array_len(c, hole, ranges);
}

/* The ranges member serves as acting primary, as "a-b" words, into buf. */
static size_t primary_ranges(int member, char *buf, size_t cap, long *nranges,
                             unsigned *starts, unsigned *ends, long maxr)
{
    size_t off = 0;
    long n = 0;
    for (unsigned s = 0; s < RC_SLOTS;) {
        int m = -1;
        const char *err;
        int w = cluster_slot_route(s, &m, &err);
        int mine = (w == CLUSTER_LOCAL && member == cluster_my_index()) ||
                   (w == CLUSTER_REMOTE && m == member);
        if (!mine) {
            s++;
            continue;
        }
        unsigned e = s;
        for (;;) {
            if (e + 1 >= RC_SLOTS)
                break;
            int m2 = -1;
            int w2 = cluster_slot_route(e + 1, &m2, &err);
            int mine2 = (w2 == CLUSTER_LOCAL && member == cluster_my_index()) ||
                        (w2 == CLUSTER_REMOTE && m2 == member);
            if (!mine2)
                break;
            e++;
        }
        if (buf && off < cap) {
            int k = s == e ? snprintf(buf + off, cap - off, " %u", s)
                           : snprintf(buf + off, cap - off, " %u-%u", s, e);
            if (k > 0)
                off += (size_t)k < cap - off ? (size_t)k : cap - off - 1;
        }
        if (starts && n < maxr) {
            starts[n] = s;
            ends[n] = e;
        }
        n++;
        s = e + 1;
    }
    *nranges = n;
    return off;
}

void cmd_cluster_nodes(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct ring *r = cluster_ring();
    const struct cstate *s = cluster_state();
    size_t cap = 64 * 1024 + (size_t)(r ? ring_members(r) : 0) * 32768;
    char *out = rc_malloc(cap);
    size_t off = 0;
    for (int i = 0; r && i < ring_members(r); i++) {
        const char *host = cluster_member_host(i);
        int me = i == cluster_my_index();
        int failed = !cluster_member_up(i);
        /* ip:port@cport as in Redis: clients' port, then the port the
         * nodes talk on (Redis's bus port). */
        int k = snprintf(out + off, cap - off, "%s %s:%d@%d %s%s - 0 %lld %llu %s",
                         ring_member_id(r, i), host, cluster_member_client_port(i),
                         cluster_member_port(i), me ? "myself," : "",
                         failed ? "master,fail" : "master",
                         me ? 0LL : cluster_member_last_heard(i), (unsigned long long)s->epoch,
                         cluster_member_link_ok(i) ? "connected" : "disconnected");
        off += (size_t)k;
        long nr;
        off += primary_ranges(i, out + off, cap - off - 2, &nr, NULL, NULL, 0);
        out[off++] = '\n';
    }
    reply_verbatim(c, out, off, "txt");
    rc_free(out);
}

void cmd_cluster_shards(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct ring *r = cluster_ring();
    int n = r ? ring_members(r) : 0;
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        long nr;
        primary_ranges(i, NULL, 0, &nr, NULL, NULL, 0);
        unsigned *st = rc_malloc(sizeof(unsigned) * (size_t)(nr ? nr : 1));
        unsigned *en = rc_malloc(sizeof(unsigned) * (size_t)(nr ? nr : 1));
        primary_ranges(i, NULL, 0, &nr, st, en, nr);
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "slots");
        reply_array_len(c, 2 * nr);
        for (long k = 0; k < nr; k++) {
            reply_long(c, st[k]);
            reply_long(c, en[k]);
        }
        rc_free(st);
        rc_free(en);
        reply_bulk_cstr(c, "nodes");
        reply_array_len(c, 1);
        reply_map_len(c, 7);
        reply_bulk_cstr(c, "id");
        reply_bulk_cstr(c, ring_member_id(r, i));
        reply_bulk_cstr(c, "port");
        reply_long(c, cluster_member_client_port(i));
        reply_bulk_cstr(c, "ip");
        reply_bulk_cstr(c, cluster_member_host(i));
        reply_bulk_cstr(c, "endpoint");
        reply_bulk_cstr(c, cluster_member_host(i));
        reply_bulk_cstr(c, "role");
        reply_bulk_cstr(c, "master");
        reply_bulk_cstr(c, "replication-offset");
        reply_long(c, 0);
        reply_bulk_cstr(c, "health");
        reply_bulk_cstr(c, cluster_member_up(i) ? "online" : "failed");
    }
}

/* ---- RING ---- */

void cmd_ring_help(struct client *c)
{
    static const char *const lines[] = {
        "CREATE [<replicas>]",
        "    Make this node, not yet in a ring, the first member of a new ring",
        "    (replicas defaults to cluster-replicas).",
        "CUT [PAUSE <ms>] [SNAPSHOT <file>]",
        "    This node's share of a whole-ring backup: hold client writes for <ms> (as",
        "    CLIENT PAUSE WRITE), write the pending log, and fork a child writing <file>",
        "    (an RDB of the slots this node is primary of); reply epoch, id, slots, keys,",
        "    fork_usec, aof [base, file, offset]. Used by ringcache-ship --cluster.",
        "CUT STATUS",
        "    Return [state, file] of the last CUT SNAPSHOT child (none/running/ok/err).",
        "MEET <ip> <port>",
        "    Add the node at <ip>:<port> to this node's ring (as CLUSTER MEET); replies",
        "    once a majority of the members agreed.",
        "DIGEST [<slot> [<last slot>]]",
        "    Return [slot, digest, keys] for each slot in range holding keys here: equal on",
        "    every member holding a copy of the slot once they are in step.",
        "FORGET <id>",
        "    As REMOVE, for another member.",
        "REMOVE <id>",
        "    Remove a member for good (status removing until every slot it held is copied",
        "    to the members that gain it; then the ring drops it).  A live member first",
        "    hands its slots over and shuts down (as on SIGTERM); a member still being added",
        "    is dropped at once (the addition is rolled back).",
        "REPLACE <id> <ip> <port>",
        "    Replace the failed member <id> by the empty node at <ip>:<port>, in one change:",
        "    the slots the new node and others gain are sent to them before it serves, then",
        "    the old member is dropped.",
        "REPLICAS <replicas>",
        "    Change the copies kept of each slot besides the primary (0 to 15); replies once",
        "    a majority of the members agreed.  New replicas are sent the slots' data; a node",
        "    that no longer holds a slot drops its copy in the background.",
        "OWNERS <key>",
        "    Return the key's slot and its preference list: each member's id, address,",
        "    role (primary, replica) and status (up, failed, joining).",
        "STATE",
        "    Return the cluster state: epoch, ring id, replicas, members.",
        NULL};
    reply_help(c, "RING", lines);
}

void cmd_ring_create(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    long long replicas = server.cluster_replicas;
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3 && (!rc_str2ll(c->argv[2].p, c->argv[2].len, &replicas) || replicas < 0 ||
                         replicas > CSTATE_REPLICAS_MAX)) {
        reply_error(c, "ERR replicas must be an integer from 0 to 15");
        return;
    }
    const char *why;
    if (cluster_bootstrap((int)replicas, &why) != 0)
        reply_error(c, why);
    else
        reply_ok(c);
}

/* Propose ch for client c, who is answered once the ring chose it. */
static void propose_for(struct client *c, const struct cstate_change *ch)
{
    char perr[256];
    uint64_t token = cluster_propose(ch, perr, sizeof(perr));
    if (token == 0) {
        reply_errorf(c, "ERR %s", perr);
        return;
    }
    struct admin_op *op = op_start(c);
    op->token = token;
    cluster_pump();
}

/* RING REPLICAS n: a state change like MEET's, answered once chosen.
 * Preference lists keep their order when they grow or shrink (ring.h), so
 * no slot changes primary: raising the count adds copies at the lists'
 * ends, which every primary then checks and fills (the state change makes
 * it catch every peer up, cluster.c); lowering it leaves copies that their
 * nodes drop (slotdrop.c). */
void cmd_ring_replicas(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    long long replicas;
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &replicas) || replicas < 0 ||
        replicas > CSTATE_REPLICAS_MAX) {
        reply_error(c, "ERR replicas must be an integer from 0 to 15");
        return;
    }
    const struct cstate *s = cluster_state();
    if (s == NULL || s->epoch == 0) {
        reply_error(c, "ERR this node is not in a ring (RING CREATE or CLUSTER MEET first)");
        return;
    }
    if (s->replicas == (int)replicas) {
        reply_ok(c);
        return;
    }
    struct cstate_change ch;
    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_SET_REPLICAS;
    ch.replicas = (int)replicas;
    propose_for(c, &ch);
}

/* The member of this node's ring named by a (a 40-hex id), or NULL
 * with Redis's error replied. */
static const struct cstate_member *member_arg(struct client *c, const struct slice *a)
{
    const struct cstate *s = cluster_state();
    if (s == NULL || s->epoch == 0) {
        reply_error(c, "ERR this node is not in a ring (RING CREATE or CLUSTER MEET first)");
        return NULL;
    }
    char id[CSTATE_ID_LEN + 1] = "";
    if (a->len == CSTATE_ID_LEN)
        memcpy(id, a->p, CSTATE_ID_LEN);
    const struct cstate_member *m = id[0] ? cstate_find(s, id) : NULL;
    if (m == NULL)
        reply_errorf(c, "ERR Unknown node %.*s", (int)(a->len > 64 ? 64 : a->len), a->p);
    return m;
}

/* A live member's answer to RINGNODE LEAVE: it is leaving (the op now
 * waits for the ring to show it removing), or why not. */
static void on_leave_back(void *priv, const char *reply, size_t len, const char *err)
{
    struct admin_op *op = priv;
    char msg[400];
    if (reply == NULL) {
        snprintf(msg, sizeof(msg), "ERR cannot reach member %.40s: %s", op->await_id, err);
        op_fail(op, msg);
    } else if (rframe_is_error(reply, len)) {
        snprintf(msg, sizeof(msg), "%.*s", (int)(len > 300 ? 300 : len - 3), reply + 1);
        op_fail(op, msg);
    } else {
        op->await_deadline_ms = server.mstime + 4LL * server.cluster_node_timeout + 2000;
    }
}

void cluster_admin_cron(void)
{
    const struct cstate *s = cluster_state();
    struct admin_op *op = ops, *next;
    for (; op; op = next) {
        next = op->next;
        if (!op->await_id[0] || op->await_deadline_ms == 0)
            continue;
        const struct cstate_member *m = s ? cstate_find(s, op->await_id) : NULL;
        if (m == NULL || m->status == CSTATE_REMOVING)
            op_finish(op, "+OK\r\n");
        else if (server.mstime > op->await_deadline_ms)
            op_fail(op, "ERR the member did not leave the ring in time (if it stopped, run "
                        "RING REMOVE again once the ring marks it failed)");
    }
}

/* RING REMOVE <id> (and RING FORGET <id>): remove a member for good.
 *   failed: it becomes `removing`: the table the ring moves to is the one
 *     without it, every slot it held is sent to the members that gain it,
 *     and then the ring removes it (cluster.c).
 *   up: it is asked to leave (RINGNODE LEAVE): it hands its slots over as
 *     on SIGTERM, asks for its own removal and shuts down; the reply comes
 *     once the ring shows it removing.  This node itself leaves the same
 *     way on RING REMOVE (FORGET of oneself is Redis's error).
 *   adding: the addition is rolled back at once (it holds nothing anyone
 *     needs: it serves nothing until it is up). */
static void ring_remove(struct client *c, int forget)
{
    if (!need_ring_mode(c))
        return;
    const struct cstate_member *m = member_arg(c, &c->argv[2]);
    if (m == NULL)
        return;
    const struct cstate *s = cluster_state();
    struct cstate_change ch;
    memset(&ch, 0, sizeof(ch));
    memcpy(ch.id, m->id, sizeof(ch.id));
    if (strcmp(m->id, cluster_myid()) == 0) {
        const char *why = forget ? "ERR I tried hard but I can't forget myself..."
                                 : ringstate_changing(s) > 0 ? CHANGING_ERR
                                                             : cluster_leave_for_good();
        if (why)
            reply_error(c, why);
        else
            reply_ok(c);        /* written while this node leaves */
        return;
    }
    if (m->status == CSTATE_REMOVING) {
        reply_ok(c);            /* under way: the ring removes it once its slots are remade */
        return;
    }
    if (m->status == CSTATE_ADDING) {
        ch.kind = CSTATE_REMOVE_MEMBER;
        propose_for(c, &ch);
        return;
    }
    if (ringstate_changing(s) > 0) {
        reply_error(c, CHANGING_ERR);
        return;
    }
    if (m->status == CSTATE_JOINING) {
        reply_error(c, "ERR the member is catching up (joining): wait until it is up or failed");
        return;
    }
    if (m->status == CSTATE_UP) {
        struct link *l = cluster_new_link((int)cstate_index(s, m->id), 2,
                                          server.cluster_node_timeout);
        if (l == NULL) {
            reply_error(c, "ERR no link to the member");
            return;
        }
        struct admin_op *op = op_start(c);
        op->probe = l;
        memcpy(op->await_id, m->id, CSTATE_ID_LEN);
        const char *argv[] = {"RINGNODE", "LEAVE", s->ring};
        size_t lens[] = {8, 5, CSTATE_ID_LEN};
        const char *err;
        if (link_send_argv(l, 3, argv, lens, on_leave_back, op, &err) != 0)
            op_fail(op, err);
        return;
    }
    ch.kind = CSTATE_SET_STATUS;
    ch.status = CSTATE_REMOVING;
    propose_for(c, &ch);
}

void cmd_ring_remove(struct client *c)
{
    ring_remove(c, 0);
}

void cmd_ring_forget(struct client *c)
{
    ring_remove(c, 1);
}

/* RING REPLACE <id> <ip> <port>: one state change takes the failed member
 * <id> to `removing` and adds the node at ip:port (as MEET does) in its
 * place; the ring moves to the table without the old member and with the
 * new one, sending each slot to the members that gain it, then the new
 * member comes up and the old one is removed (cluster.c). */
void cmd_ring_replace(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct cstate_member *m = member_arg(c, &c->argv[2]);
    if (m == NULL)
        return;
    long long port;
    if (!rc_str2ll(c->argv[4].p, c->argv[4].len, &port) || port <= 0 || port > 65535) {
        reply_errorf(c, "ERR Invalid base port specified: %.*s", (int)c->argv[4].len,
                     c->argv[4].p);
        return;
    }
    if (c->argv[3].len == 0 || c->argv[3].len > CSTATE_HOST_MAX) {
        reply_error(c, "ERR Invalid node address specified");
        return;
    }
    if (ringstate_changing(cluster_state()) > 0) {
        reply_error(c, CHANGING_ERR);
        return;
    }
    if (m->status != CSTATE_FAILED) {
        reply_error(c, "ERR only a failed member can be replaced (RING REMOVE a live one, then "
                       "RING MEET the new node)");
        return;
    }
    meet_start(c, &c->argv[3], (int)port, m->id);
}

void cmd_ring_owners(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct ring *r = cluster_ring();
    unsigned slot = rc_key_slot(c->argv[2].p, c->argv[2].len);
    reply_array_len(c, 2);
    reply_long(c, slot);
    if (r == NULL) {
        reply_empty_array(c);
        return;
    }
    const uint16_t *pref = ring_pref(r, slot);
    int len = ring_pref_len(r);
    int primary_seen = 0;
    reply_array_len(c, len);
    for (int k = 0; k < len; k++) {
        int m = pref[k];
        const char *role = "replica";
        if (cluster_member_up(m) && !primary_seen) {
            role = "primary";
            primary_seen = 1;
        }
        reply_map_len(c, 6);
        reply_bulk_cstr(c, "id");
        reply_bulk_cstr(c, ring_member_id(r, m));
        reply_bulk_cstr(c, "addr");
        char addr[CSTATE_HOST_MAX + 16];
        snprintf(addr, sizeof(addr), "%s:%d", cluster_member_host(m), cluster_member_port(m));
        reply_bulk_cstr(c, addr);
        reply_bulk_cstr(c, "role");
        reply_bulk_cstr(c, role);
        reply_bulk_cstr(c, "status");
        reply_bulk_cstr(c, cluster_member_status(m));
        reply_bulk_cstr(c, "link");
        reply_bulk_cstr(c, cluster_member_link_ok(m) ? "ok" : "down");
        reply_bulk_cstr(c, "myself");
        reply_bool(c, m == cluster_my_index());
    }
}

void cmd_ring_state(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    const struct cstate *s = cluster_state();
    const struct ring *r = cluster_ring();
    reply_map_len(c, 5);
    reply_bulk_cstr(c, "epoch");
    reply_long(c, (long long)s->epoch);
    reply_bulk_cstr(c, "ring");
    reply_bulk_cstr(c, s->epoch ? s->ring : "");
    reply_bulk_cstr(c, "replicas");
    reply_long(c, s->replicas);
    reply_bulk_cstr(c, "myid");
    reply_bulk_cstr(c, cluster_myid());
    reply_bulk_cstr(c, "members");
    reply_array_len(c, (long)s->nmembers);
    for (size_t i = 0; i < s->nmembers; i++) {
        const struct cstate_member *m = &s->members[i];
        reply_map_len(c, 8);
        reply_bulk_cstr(c, "id");
        reply_bulk_cstr(c, m->id);
        reply_bulk_cstr(c, "host");
        reply_bulk_cstr(c, m->host);
        reply_bulk_cstr(c, "port");
        reply_long(c, m->port);
        reply_bulk_cstr(c, "zone");
        reply_bulk_cstr(c, m->zone);
        reply_bulk_cstr(c, "vnodes");
        reply_long(c, m->vnodes);
        reply_bulk_cstr(c, "status");
        reply_bulk_cstr(c, cstate_status_name(m->status));
        reply_bulk_cstr(c, "primary_slots");
        reply_long(c, r ? ring_slots_of(r, (int)i, 0) : 0);
        reply_bulk_cstr(c, "copies");
        reply_long(c, r ? ring_slots_of(r, (int)i, -1) : 0);
    }
}

/* ---- READONLY, READWRITE ---- */

/* As in Redis Cluster: a READONLY client's reads of a slot this node holds
 * a copy of are served from that copy, here, even when another member is
 * the slot's primary (route.c). */
void cmd_readonly(struct client *c)
{
    if (need_ring_mode(c)) {
        c->flags |= CF_READONLY;
        reply_ok(c);
    }
}

void cmd_readwrite(struct client *c)
{
    if (need_ring_mode(c)) {
        c->flags &= ~CF_READONLY;
        reply_ok(c);
    }
}

/* ---- RINGNODE ---- */

void cmd_ringnode_hello(struct client *c)
{
    long long resp;
    const char *why = cluster_check_peer(c->argv[2].p, c->argv[2].len, c->argv[3].p,
                                         c->argv[3].len, c->fd >= 0 && net_is_loopback_peer(c->fd));
    if (why == NULL && (!rc_str2ll(c->argv[4].p, c->argv[4].len, &resp) || (resp != 2 && resp != 3)))
        why = "ERR protocol version must be 2 or 3";
    /* RINGNODE HELLO secret id resp [the id of the node it means to reach]:
     * a link to a node that has gone, whose address another now has. */
    if (why == NULL && c->argc > 6)
        why = "ERR syntax error";
    if (why == NULL && c->argc == 6 && c->argv[5].len > 0 &&
        (c->argv[5].len != strlen(cluster_myid()) ||
         memcmp(c->argv[5].p, cluster_myid(), c->argv[5].len) != 0))
        why = "ERR this is another node than the one the link is for";
    if (why) {
        char desc[256];
        conn_describe(c, desc, sizeof(desc));
        log_warn("Refused a node link (%s): %s", why, desc);
        reply_error(c, why);
        conn_close_after_reply(c);
        return;
    }
    c->flags |= CF_NODE | CF_AUTHED;
    c->user = NULL;     /* node links are trusted: ACLs were checked where the command entered */
    c->resp = (int)resp;
    rc_free(c->peer_id);
    c->peer_id = rc_strndup(c->argv[3].p, c->argv[3].len);
    reply_ok(c);
}

typedef void peer_msg_fn(const char *from, int argc, const char *const *argv,
                         const size_t *lens, char *err, size_t errlen);

/* RINGNODE <verb> <args...>: a protocol message of an authenticated peer. */
static void peer_message(struct client *c, peer_msg_fn *fn)
{
    if (!ringnode_need_node(c))
        return;
    int argc = c->argc - 2;
    const char *argv[argc];
    size_t lens[argc];
    for (int i = 0; i < argc; i++) {
        argv[i] = c->argv[i + 2].p;
        lens[i] = c->argv[i + 2].len;
    }
    char err[256] = "";
    fn(c->peer_id, argc, argv, lens, err, sizeof(err));
    if (err[0])
        reply_errorf(c, "ERR %s", err);
    else
        reply_ok(c);
}

void cmd_ringnode_paxos(struct client *c)
{
    peer_message(c, cluster_paxos_message);
}

/* RINGNODE LIVE: a ping or pong of the failure detector (liveness.h). */
void cmd_ringnode_live(struct client *c)
{
    peer_message(c, cluster_live_message);
}

/* RINGNODE SYNCED|HANDOFF|CAUGHTUP <epoch>: the markers of catch-up and
 * handback (repl.c, cluster.c). */
static int marker_epoch(struct client *c, uint64_t *epoch)
{
    unsigned long long e;
    if (!ringnode_need_node(c))
        return 0;
    if (!rc_str2ull(c->argv[2].p, c->argv[2].len, &e)) {
        reply_error(c, "ERR invalid epoch");
        return 0;
    }
    *epoch = e;
    reply_ok(c);
    return 1;
}

void cmd_ringnode_synced(struct client *c)
{
    uint64_t e;
    if (marker_epoch(c, &e))
        repl_marker(c->peer_id, 0, e);
}

void cmd_ringnode_handoff(struct client *c)
{
    uint64_t e;
    if (marker_epoch(c, &e))
        repl_marker(c->peer_id, 1, e);
}

void cmd_ringnode_caughtup(struct client *c)
{
    uint64_t e;
    if (marker_epoch(c, &e))
        cluster_caught_up(c->peer_id, e);
}

void cmd_ringnode_info(struct client *c)
{
    /* Asked by a node meeting us; it holds nothing secret. */
    if (!need_ring_mode(c))
        return;
    const struct cstate *s = cluster_state();
    struct cstate_member me;
    cluster_my_member(&me);
    reply_array_len(c, 9);
    reply_bulk_cstr(c, cluster_myid());
    reply_bulk_cstr(c, s->ring);
    reply_bulk_long(c, (long long)s->epoch);
    reply_bulk_long(c, (long long)s->nmembers);
    reply_bulk_long(c, total_keys());
    reply_bulk_cstr(c, me.zone);
    reply_bulk_long(c, me.vnodes);
    reply_bulk_cstr(c, me.host);
    reply_bulk_long(c, me.port);
}

/* RINGNODE LEAVE <ring>: RING REMOVE of this live node, asked by a member
 * of its ring (cluster_leave_for_good()). */
void cmd_ringnode_leave(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    const struct cstate *s = cluster_state();
    if (s == NULL || c->argv[2].len != CSTATE_ID_LEN ||
        memcmp(c->argv[2].p, s->ring, CSTATE_ID_LEN) != 0) {
        reply_error(c, "ERR not a member of that ring");
        return;
    }
    const char *why = cluster_leave_for_good();
    if (why)
        reply_error(c, why);
    else
        reply_ok(c);
}

void cmd_ringnode_publish(struct client *c)
{
    if (ringnode_need_node(c))
        reply_long(c, pubsub_publish(c->argv[2].len == 1 && c->argv[2].p[0] == '1', &c->argv[3],
                                     &c->argv[4]));
}

/* ---- slots as a whole: RINGNODE SLOTFLUSH, RING DIGEST ---- */

/* RINGNODE SLOTFLUSH <slot>: delete every key of the slot in every
 * database (a catch-up dump follows).  Logged as the deletions. */
void cmd_ringnode_slotflush(struct client *c)
{
    unsigned slot;
    if (!ringnode_need_node(c) || parse_slot(c, &c->argv[2], &slot) != 0)
        return;
    long long n = slot_flush(slot);
    propagate_prevent(c);
    reply_long(c, n);
}

/* RINGNODE SLOTCHECK <slot> <digest hex> <keys>: in a catch-up stream
 * (run by the applier after every batch before it): the primary's digest
 * of the slot at this position; a copy that differs is noted, and the
 * message's acknowledgement asks the primary for a dump (repl.c). */
void cmd_ringnode_slotcheck(struct client *c)
{
    unsigned slot;
    unsigned long long want, keys;
    if (!ringnode_need_node(c) || parse_slot(c, &c->argv[2], &slot) != 0)
        return;
    want = 0;
    int hex_ok = c->argv[3].len == 16;
    for (size_t i = 0; hex_ok && i < 16; i++) {
        char ch = c->argv[3].p[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        hex_ok = v >= 0;
        want = want << 4 | (unsigned)(v & 15);
    }
    if (!hex_ok || !rc_str2ull(c->argv[4].p, c->argv[4].len, &keys)) {
        reply_error(c, "ERR bad slot check");
        return;
    }
    long long have_keys;
    uint64_t have = slot_digest(slot, &have_keys);
    if (have != want || (unsigned long long)have_keys != keys)
        repl_note_mismatch(slot);
    reply_ok(c);
}

/* RING DIGEST [slot | first last]: for each slot in range holding keys on
 * this node, [slot, digest, keys]; equal on every node holding a copy of
 * the slot once they are in step. */
void cmd_ring_digest(struct client *c)
{
    if (!need_ring_mode(c))
        return;
    unsigned first = 0, last = RC_SLOTS - 1;
    if (c->argc > 4) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc >= 3 && parse_slot(c, &c->argv[2], &first) != 0)
        return;
    last = first;
    if (c->argc == 2)
        last = RC_SLOTS - 1;
    if (c->argc == 4 && parse_slot(c, &c->argv[3], &last) != 0)
        return;
    void *hole = reply_defer_len(c);
    long n = 0;
    for (unsigned slot = first; slot <= last; slot++) {
        long long keys;
        uint64_t digest = slot_digest(slot, &keys);
        if (keys == 0)
            continue;
        char hex[17];
        snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)digest);
        reply_array_len(c, 3);
        reply_long(c, slot);
        reply_bulk(c, hex, 16);
        reply_long(c, keys);
        n++;
    }
    reply_set_array_len(c, hole, n);
}

/* RINGNODE REPL <replid> <epoch> <end offset> <slot> <payload> [<slot>
 * <payload> ...]: consecutive batches of the sender's replication stream
 * (repl.c). */
void cmd_ringnode_repl(struct client *c)
{
    /* The batches' commands are logged as they run; the message itself
     * is not (a log that held it would not load in Redis). */
    propagate_prevent(c);
    if (ringnode_need_node(c))
        repl_apply(c);
}

/* RINGNODE REPLPOS <replid>: where this node's copy of the sender's
 * replication stream ends (repl.c, partial resync). */
void cmd_ringnode_replpos(struct client *c)
{
    if (ringnode_need_node(c))
        repl_pos(c);
}

/* RINGNODE ASUSER name: this node link's later scripts and transactions
 * run as that user (the node that forwards them checked the commands
 * themselves).  A user this node does not have gets no permissions. */
void cmd_ringnode_asuser(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    c->user = acl_user_find_or_nobody(c->argv[2].p, c->argv[2].len);
    reply_ok(c);
}

void cmd_ringnode_sample(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    struct kv *o = db_random(c->db);
    reply_array_len(c, 2);
    reply_bulk_long(c, (long long)db_size(c->db));
    if (o)
        reply_bulk(c, kv_key(o), o->klen);
    else
        reply_null(c);
}

/* RINGNODE SCAN <last slot> <cursor> [SCAN's options]: a cursor within
 * slot <last> scans that slot as SCAN does (COUNT bounds it); a wider range
 * returns every key of the slots in it that this node serves. */
void cmd_ringnode_scan(struct client *c)
{
    unsigned last;
    unsigned long long cursor;
    if (!ringnode_need_node(c) || parse_slot(c, &c->argv[2], &last) != 0 ||
        scan_parse_cursor(c, &c->argv[3], &cursor) != 0)
        return;
    int one = (cursor & (RC_SLOTS - 1)) == last;
    scan_in_range(c, &c->argv[3], c->argc - 3, last, one ? NULL : cluster_slot_is_mine, !one);
}
