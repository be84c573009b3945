/*
 * tracking_ring.c — client-side caching across a ring.
 *
 * A client on node A that reads a key served by node B gets B's reply
 * forwarded; its invalidations must come from B, where the key changes.
 *
 *   A, forwarding a tracked read (route.c's send_cmd): sends
 *     RINGNODE TRACK <key>... on the link the read then goes over.  B
 *     makes that link's connection a tracking client of its own (flag
 *     TRK_NODE) and remembers the keys for it.  When the read's reply
 *     arrives, A remembers the keys for its client in A's table.
 *   B, when such a key changes: sends the link a push frame
 *       >3 "invalidate" "t" [keys]
 *     on the same connection.  Since it follows the read's reply there
 *     (a change during B's own command is held until that command's
 *     reply, tracking.c), A cannot see the invalidation before the value
 *     it invalidates.  A drops the keys from its table and messages its
 *     clients exactly as for a local change (link.c hands such frames to
 *     tracking_ring_push instead of to a waiting request).
 *   BCAST: CLIENT TRACKING ... BCAST registers the client's prefixes on
 *     every member (RINGNODE TRACKPREFIX <prefix>..., on one link per
 *     member); members send "b" frames with the modified keys matching
 *     them once per loop iteration, and A sends them to its BCAST clients
 *     through its own prefix table.
 *   NOLOOP: a write A forwards for a NOLOOP client drops that client from
 *     the keys' entries in A's table when its reply arrives, before B's
 *     invalidation (which follows the reply on the same link) is handled.
 *   A link that carried registrations fails: what B remembered for it is
 *     gone with the connection, so A sends every tracking client the
 *     flush null (clients drop their whole cache, as after FLUSHALL) and
 *     registers its BCAST prefixes again from the cron.
 *
 * Flushes need no frames: FLUSHDB/FLUSHALL run on every member, and each
 * sends the null to its own clients.
 */
#include "tracking.h"

#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "cstate.h"
#include "link.h"
#include "reply.h"
#include "ring.h"
#include "server.h"

/* Keys of a forwarded command, to remember (a read) or to forget (a
 * NOLOOP client's write) when its reply arrives. */
struct tracking_keys {
    int forget;
    int n;
    size_t *lens;
    char **keys;
};

static int prefixes_lost;       /* a BCAST link failed: register again */
static int reregistering;       /* prefixes sent again after a loss */

/* ---- the frame ---- */

static const char frame_head[] = ">3\r\n$10\r\ninvalidate\r\n$1\r\n";
#define FRAME_HEAD_LEN (sizeof(frame_head) - 1)

void tracking_node_push(struct client *c, char kind, const char *const *keys,
                        const size_t *lens, const uint64_t *origins, size_t n)
{
    /* Written as is whatever protocol the link speaks: the peer's link.c
     * takes the frame out of the reply stream (it is ringcache's own). */
    int saved = c->flags & (CF_REPLY_OFF | CF_REPLY_SKIP);
    c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP);
    char k[3] = {kind, '\r', '\n'};
    reply_raw(c, frame_head, FRAME_HEAD_LEN);
    reply_raw(c, k, 3);
    reply_array_len(c, (long)(origins ? 2 * n : n));
    for (size_t i = 0; i < n; i++) {
        reply_bulk(c, keys[i], lens[i]);
        if (origins)
            reply_bulk_long(c, (long long)origins[i]);
    }
    c->flags |= saved;
}

/* Read "<type><number>\r\n" at *p (end e). */
static int read_num(const char **p, const char *e, char type, long long *out);

/* Read a bulk string at *p: its bytes in *s, *len. */
static int read_bulk(const char **p, const char *e, const char **s, size_t *len)
{
    long long n;
    if (read_num(p, e, '$', &n) != 0 || n < 0 || e - *p < n + 2)
        return -1;
    *s = *p;
    *len = (size_t)n;
    *p += n + 2;
    return 0;
}

static int read_num(const char **p, const char *e, char type, long long *out)
{
    if (*p >= e || **p != type)
        return -1;
    const char *nl = memchr(*p, '\r', (size_t)(e - *p));
    if (nl == NULL || nl + 1 >= e || nl[1] != '\n' || !rc_str2ll(*p + 1, (size_t)(nl - *p - 1), out))
        return -1;
    *p = nl + 2;
    return 0;
}

int tracking_ring_is_push(const char *p, size_t len)
{
    return len >= FRAME_HEAD_LEN && memcmp(p, frame_head, FRAME_HEAD_LEN) == 0;
}

void tracking_ring_push(const char *p, size_t len)
{
    const char *e = p + len;
    if (!tracking_ring_is_push(p, len))
        return;
    p += FRAME_HEAD_LEN;
    if (e - p < 3)
        return;
    char kind = p[0];
    p += 3;
    long long n;
    int step = kind == 'b' ? 2 : 1;     /* 'b': key, origin pairs */
    if (read_num(&p, e, '*', &n) != 0 || n < 0 || n % step)
        return;
    for (long long i = 0; i < n; i += step) {
        const char *key, *o;
        size_t kl, ol;
        long long origin = 0;
        if (read_bulk(&p, e, &key, &kl) != 0)
            return;
        if (step == 2 && (read_bulk(&p, e, &o, &ol) != 0 || !rc_str2ll(o, ol, &origin)))
            return;
        tracking_peer_invalidated(kind, key, kl, (uint64_t)origin);
    }
}

/* ---- the forwarding side ---- */

/* The peer acknowledged a registration on link priv: from now on the
 * link's failure loses something (link.h).  A read registered on a link
 * that fails before this reply fails too, so nothing was remembered. */
static void on_tracked(void *priv, const char *reply, size_t len, const char *err)
{
    (void)err;
    if (reply && len && reply[0] == '+')
        link_mark_tracking(priv);
}

/* The same for BCAST prefixes; if they do not reach the peer they are
 * sent again from the cron, and once they are back the BCAST clients
 * drop their caches: changes in between were not sent. */
static void on_prefixes(void *priv, const char *reply, size_t len, const char *err)
{
    (void)err;
    if (reply && len && reply[0] == '+') {
        link_mark_tracking(priv);
        if (reregistering) {
            reregistering = 0;
            tracking_flush_clients();
        }
    } else {
        prefixes_lost = 1;
    }
}

/* Send RINGNODE <verb> <items>... on l; fn (may be NULL) gets the reply,
 * with l.  Returns 0, or -1 if l refused it. */
static int send_list(struct link *l, const char *verb, int n, const char *const *items,
                     const size_t *lens, link_reply_fn *fn)
{
    const char **av = rc_malloc((size_t)(n + 2) * sizeof(*av));
    size_t *al = rc_malloc((size_t)(n + 2) * sizeof(*al));
    av[0] = "RINGNODE";
    al[0] = 8;
    av[1] = verb;
    al[1] = strlen(verb);
    memcpy(av + 2, items, (size_t)n * sizeof(*av));
    memcpy(al + 2, lens, (size_t)n * sizeof(*al));
    const char *err;
    int rc = link_send_argv(l, n + 2, av, al, fn, l, &err);
    rc_free(av);
    rc_free(al);
    return rc;
}

/* Does a forwarded cmd read keys for its client?  Read-only commands do;
 * so do scripts, which run on the owner: their declared keys stand for
 * what they read there (a key a script only writes is tracked too, which
 * costs at most one extra invalidation). */
static int forward_reads(const struct command *cmd)
{
    return tracking_cmd_reads(cmd) || cmd->proc == cmd_eval || cmd->proc == cmd_evalsha ||
           cmd->proc == cmd_eval_ro || cmd->proc == cmd_evalsha_ro || cmd->proc == cmd_fcall ||
           cmd->proc == cmd_fcall_ro;
}

/* Add the keys of cmd (argv) to *kp, created with forget if NULL. */
static void add_keys(struct tracking_keys **kp, int forget, const struct command *cmd, int argc,
                     const struct slice *argv)
{
    struct key_ref small[16], *refs = small;
    int n = command_find_keys(cmd, argc, argv, refs, 16);
    if (n > 16) {
        refs = rc_malloc((size_t)n * sizeof(*refs));
        n = command_find_keys(cmd, argc, argv, refs, n);
    }
    if (n > 0) {
        struct tracking_keys *k = *kp;
        if (k == NULL)
            k = *kp = rc_calloc(sizeof(*k));
        k->forget = forget;
        k->keys = rc_realloc(k->keys, (size_t)(k->n + n) * sizeof(*k->keys));
        k->lens = rc_realloc(k->lens, (size_t)(k->n + n) * sizeof(*k->lens));
        for (int i = 0; i < n; i++) {
            const struct slice *a = &argv[refs[i].pos];
            k->keys[k->n] = rc_strndup(a->p, a->len);
            k->lens[k->n++] = a->len;
        }
    }
    if (refs != small)
        rc_free(refs);
}

void tracking_ring_collect(struct tracking_keys **kp, struct client *c, const struct command *cmd,
                           int argc, const struct slice *argv)
{
    if (cmd && tracking_wants_reads(c) && forward_reads(cmd))
        add_keys(kp, 0, cmd, argc, argv);
}

void tracking_ring_register(struct tracking_keys *k, struct link *l)
{
    /* Before the read, on its link: the owner tracks the keys from then
     * on, and its invalidations follow the read's reply there. */
    if (k && !k->forget && l)
        send_list(l, "TRACK", k->n, (const char *const *)k->keys, k->lens, on_tracked);
}

struct tracking_keys *tracking_ring_forward(struct client *c, const struct command *cmd, int argc,
                                            const struct slice *argv, struct link *l)
{
    if (cmd == NULL || !tracking_is_on(c))
        return NULL;
    unsigned f = c->trk->flags;
    struct tracking_keys *k = NULL;
    if ((f & TRK_BCAST) && (f & TRK_NOLOOP) && (cmd->flags & CMD_WRITE)) {
        if (l) {
            /* The owner says which of its keys' changes this client made. */
            char id[24];
            size_t idlen = (size_t)snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
            const char *item = id;
            send_list(l, "ORIGIN", 1, &item, &idlen, NULL);
        }
    } else if ((f & TRK_NOLOOP) && !(f & TRK_BCAST) && (cmd->flags & CMD_WRITE) &&
               !tracking_cmd_reads(cmd)) {
        add_keys(&k, 1, cmd, argc, argv);
    } else {
        tracking_ring_collect(&k, c, cmd, argc, argv);
        tracking_ring_register(k, l);
    }
    return k;
}

void tracking_ring_reply(struct client *c, struct tracking_keys **kp, int ok)
{
    struct tracking_keys *k = *kp;
    if (k == NULL)
        return;
    *kp = NULL;
    for (int i = 0; i < k->n; i++) {
        if (ok && c && tracking_is_on(c)) {
            if (k->forget)
                tracking_forget(c, k->keys[i], k->lens[i]);
            else
                tracking_remember(c, k->keys[i], k->lens[i]);
        }
        rc_free(k->keys[i]);
    }
    rc_free(k->keys);
    rc_free(k->lens);
    rc_free(k);
}

/* Send RINGNODE TRACKPREFIX with prefixes[0..n) to every other member;
 * returns -1 if some link refused it. */
static int register_prefixes(const char *const *prefixes, const size_t *lens, int n)
{
    const struct ring *r = cluster_ring();
    int me = cluster_my_index();
    if (r == NULL || me < 0 || n == 0)
        return 0;
    int rc = 0;
    for (int m = 0; m < ring_members(r); m++) {
        if (m == me)
            continue;
        /* One link per member carries every prefix: a key matching
         * several comes once per member and loop iteration. */
        struct link *l = cluster_fwd_link(m, 2, 0);
        if (l == NULL || send_list(l, "TRACKPREFIX", n, prefixes, lens, on_prefixes) != 0)
            rc = -1;
    }
    return rc;
}

void tracking_ring_register_prefixes(struct client *c)
{
    if (!cluster_enabled() || !tracking_is_on(c) || c->trk->nprefixes == 0)
        return;
    if (register_prefixes((const char *const *)c->trk->prefixes, c->trk->prefix_lens,
                          c->trk->nprefixes) != 0)
        prefixes_lost = 1;
}

void tracking_ring_link_lost(void)
{
    /* The table stays: its entries for other nodes' links are still
     * good, and this node's clients' entries cost at most an extra
     * message. */
    tracking_flush_clients();
    if (tracking_total_prefixes())
        prefixes_lost = 1;
}

void tracking_ring_cron(void)
{
    if (!cluster_enabled())
        return;
    /* A new ring state may move slots to other owners (or add members)
     * that hold no registrations of this node: clients start over, and
     * the prefixes go to every member again. */
    static uint64_t epoch;
    const struct cstate *st = cluster_state();
    if (st && st->epoch != epoch) {
        if (epoch != 0 && tracking_clients() > 0) {
            tracking_flush_clients();
            prefixes_lost = 1;
        }
        epoch = st->epoch;
    }
    if (!prefixes_lost)
        return;
    prefixes_lost = 0;
    reregistering = 0;
    for (struct client *c = server.clients; c; c = c->next) {
        if (tracking_is_on(c) && (c->trk->flags & TRK_BCAST) && !(c->trk->flags & TRK_NODE)) {
            reregistering = 1;
            tracking_ring_register_prefixes(c);
        }
    }
}

/* ---- the owning side: RINGNODE TRACK / TRACKPREFIX ---- */

static void make_node_tracker(struct client *c)
{
    if (!tracking_is_on(c))
        tracking_enable(c, 0, TRK_NODE, NULL, 0);
}

/* RINGNODE TRACK <key>...: remember the keys for this node link. */
void cmd_ringnode_track(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    make_node_tracker(c);
    for (int i = 2; i < c->argc; i++)
        tracking_remember(c, c->argv[i].p, c->argv[i].len);
    reply_ok(c);
}

/* RINGNODE ORIGIN <client id>: the next command on this node link is a
 * write by that client of the peer (BCAST NOLOOP, tracking.c). */
void cmd_ringnode_origin(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    long long id;
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &id) || id < 0) {
        reply_err_not_int(c);
        return;
    }
    if (c->trk == NULL)
        c->trk = rc_calloc(sizeof(*c->trk));
    c->trk->origin = (uint64_t)id;
    reply_ok(c);
}

/* RINGNODE TRACKPREFIX <prefix>...: keys modified under the prefixes go
 * to this node link once per loop iteration. */
void cmd_ringnode_trackprefix(struct client *c)
{
    if (!ringnode_need_node(c))
        return;
    make_node_tracker(c);
    c->trk->flags |= TRK_BCAST;
    for (int i = 2; i < c->argc; i++)
        tracking_add_prefix(c, c->argv[i].p, c->argv[i].len);
    reply_ok(c);
}
