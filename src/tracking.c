/*
 * tracking.c — client-side caching: the tracking table, BCAST prefixes and
 * the invalidation messages (tracking.h has the model).
 *
 * The table maps a key name to the sorted ids of the clients that read
 * it; clients are looked up by id when a message is due, so a client that
 * went away costs nothing until its keys change (Redis keeps ids for the
 * same reason).  Prefixes are a short sorted array: each holds its
 * clients and the keys modified since the last loop iteration, with the
 * id of the client that modified each (for NOLOOP).
 *
 * Invalidations for the client whose command is running are held until
 * its command returns, so that they follow its reply (Redis 7.0 orders
 * them the same way: a client tracking a key it writes gets +OK first).
 */
#include "tracking.h"

#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "dict.h"
#include "hash.h"
#include "reply.h"
#include "repl.h"
#include "script.h"
#include "server.h"

/* ---- the table ---- */

struct tkey {
    struct dnode node;
    uint64_t *ids;              /* sorted */
    uint32_t n, cap;
    size_t klen;
    char key[];
};

static void tkey_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct tkey *t = (const struct tkey *)n;
    *key = t->key;
    *len = t->klen;
}

static void tkey_destroy(struct dnode *n)
{
    struct tkey *t = (struct tkey *)n;
    rc_free(t->ids);
    rc_free(t);
}

static const struct dict_type tkey_type = {rc_hash, tkey_key, tkey_destroy};

/* A key modified since the last loop iteration, under a prefix. */
struct bkey {
    struct dnode node;
    uint64_t modifier;          /* id of the client that modified it, 0 none */
    uint64_t origin;            /* a peer's write: its client's id there (RINGNODE ORIGIN) */
    char *origin_peer;          /* that peer's node id, or NULL */
    size_t klen;
    char key[];
};

static void bkey_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct bkey *b = (const struct bkey *)n;
    *key = b->key;
    *len = b->klen;
}

static void bkey_destroy(struct dnode *n)
{
    rc_free(((struct bkey *)n)->origin_peer);
    rc_free(n);
}

static const struct dict_type bkey_type = {rc_hash, bkey_key, bkey_destroy};

struct prefix {
    char *p;
    size_t len;
    struct client **clients;
    size_t n, cap;
    struct dict *keys;          /* struct bkey: modified since the last broadcast */
};

/* An invalidation held until the running command returns. */
struct held {
    struct client *c;
    char *key;                  /* NULL: the flush null */
    size_t len;
};

static struct {
    struct dict *table;
    size_t items;               /* sum of the ids of every entry */
    struct prefix *prefixes;    /* sorted by bytes */
    size_t nprefixes;
    size_t nclients;            /* clients with tracking on (node links not counted) */
    struct held *held;
    size_t nheld, heldcap;
    unsigned limit_rounds;      /* consecutive limit passes that did not finish */
} T;

void tracking_init(void)
{
    T.table = dict_create(&tkey_type);
}

void tracking_deinit(void)
{
    dict_destroy(&T.table);
    for (size_t i = 0; i < T.nprefixes; i++) {
        rc_free(T.prefixes[i].p);
        rc_free(T.prefixes[i].clients);
        dict_destroy(&T.prefixes[i].keys);
    }
    rc_free(T.prefixes);
    for (size_t i = 0; i < T.nheld; i++)
        rc_free(T.held[i].key);
    rc_free(T.held);
    memset(&T, 0, sizeof(T));
}

int tracking_is_on(const struct client *c)
{
    return c->trk && (c->trk->flags & TRK_ON);
}

size_t tracking_clients(void) { return T.nclients; }
size_t tracking_total_keys(void) { return T.table ? dict_size(T.table) : 0; }
size_t tracking_total_items(void) { return T.items; }
size_t tracking_total_prefixes(void) { return T.nprefixes; }

int tracking_prefixes_overlap(const char *p, size_t plen, const char *q, size_t qlen)
{
    return memcmp(p, q, plen < qlen ? plen : qlen) == 0;
}

/* Byte order, a prefix before its extensions (a radix tree's order). */
static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* ---- sending one message ---- */

/* Write a push (or, for a RESP2 redirect target in pub/sub mode, a
 * __redis__:invalidate message) to t: the header, then the caller writes
 * the value.  Returns 0 if nothing is to be written to t. */
static int message_header(struct client *t, int redirected)
{
    if (t->resp == 3) {
        reply_push_len(t, 2);
        reply_bulk(t, "invalidate", 10);
        return 1;
    }
    if (redirected && (t->flags & CF_PUBSUB)) {
        reply_push_len(t, 3);
        reply_bulk(t, "message", 7);
        reply_bulk(t, "__redis__:invalidate", 20);
        return 1;
    }
    return 0;   /* RESP2 without a redirect: the connection cannot carry it */
}

/* Invalidation messages are pushes: they reach the client even under
 * CLIENT REPLY OFF/SKIP (Redis's CLIENT_PUSHING). */
static int push_begin(struct client *c)
{
    int saved = c->flags & (CF_REPLY_OFF | CF_REPLY_SKIP);
    c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP);
    return saved;
}

static void push_end(struct client *c, int saved)
{
    c->flags |= saved;
}

/* The client the messages for c go to: c, its redirect target, or NULL
 * (the target is gone: each message due is replaced, for a RESP3 c, by a
 * tracking-redir-broken push). */
static struct client *message_target(struct client *c, int *redirected)
{
    *redirected = 0;
    if (c->trk == NULL || c->trk->redir == 0)
        return c;
    struct client *t = conn_by_id(c->trk->redir);
    if (t && !(t->flags & CF_CLOSE_ASAP)) {
        *redirected = 1;
        return t;
    }
    c->trk->flags |= TRK_BROKEN_REDIR;
    if (c->resp == 3) {
        int saved = push_begin(c);
        reply_push_len(c, 2);
        reply_bulk(c, "tracking-redir-broken", 21);
        reply_long(c, (long long)c->trk->redir);
        push_end(c, saved);
    }
    return NULL;
}

/* Send c one invalidation of keys[0..n) (kind 't' from the table, 'b' from
 * a prefix), or the flush null when keys is NULL. */
static void send_invalidation(struct client *c, char kind, const char *const *keys,
                              const size_t *lens, size_t n)
{
    if (c->trk && (c->trk->flags & TRK_NODE)) {
        if (keys)
            tracking_node_push(c, kind, keys, lens, NULL, n);
        return;     /* every node runs the flush itself */
    }
    int redirected;
    struct client *t = message_target(c, &redirected);
    if (t == NULL)
        return;
    int saved = push_begin(t);
    if (message_header(t, redirected)) {
        if (keys == NULL) {
            /* The null of the tracking client's protocol, as Redis does. */
            reply_raw(t, c->resp == 3 ? "_\r\n" : "$-1\r\n", c->resp == 3 ? 3 : 5);
        } else {
            reply_array_len(t, (long)n);
            for (size_t i = 0; i < n; i++)
                reply_bulk(t, keys[i], lens[i]);
        }
    }
    push_end(t, saved);
}

static void send_one(struct client *c, const char *key, size_t len)
{
    if (key)
        send_invalidation(c, 't', &key, &len, 1);
    else
        send_invalidation(c, 't', NULL, NULL, 0);
}

/* Hold the message for c if c's command is running, else send it. */
static void send_or_hold(struct client *c, const char *key, size_t len)
{
    if (c == server.current_client && (c->flags & CF_EXECUTING)) {
        if (T.nheld == T.heldcap) {
            T.heldcap = T.heldcap ? T.heldcap * 2 : 8;
            T.held = rc_realloc(T.held, T.heldcap * sizeof(*T.held));
        }
        T.held[T.nheld++] = (struct held){c, key ? rc_strndup(key, len) : NULL, len};
        return;
    }
    send_one(c, key, len);
}

void tracking_after_command(void)
{
    for (size_t i = 0; i < T.nheld; i++) {
        struct held *h = &T.held[i];
        if (!(h->c->flags & CF_CLOSE_ASAP))
            send_one(h->c, h->key, h->len);
        rc_free(h->key);
    }
    T.nheld = 0;
}

/* ---- enabling and disabling ---- */

static struct prefix *prefix_find(const char *p, size_t len, size_t *pos)
{
    size_t lo = 0, hi = T.nprefixes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = bytes_cmp(T.prefixes[mid].p, T.prefixes[mid].len, p, len);
        if (r == 0) {
            *pos = mid;
            return &T.prefixes[mid];
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return NULL;
}

static void prefix_add_client(const char *p, size_t len, struct client *c)
{
    size_t pos;
    struct prefix *pr = prefix_find(p, len, &pos);
    if (pr == NULL) {
        T.prefixes = rc_realloc(T.prefixes, (T.nprefixes + 1) * sizeof(*T.prefixes));
        memmove(&T.prefixes[pos + 1], &T.prefixes[pos], (T.nprefixes - pos) * sizeof(*T.prefixes));
        T.nprefixes++;
        pr = &T.prefixes[pos];
        memset(pr, 0, sizeof(*pr));
        pr->p = rc_strndup(p, len);
        pr->len = len;
        pr->keys = dict_create(&bkey_type);
    }
    for (size_t i = 0; i < pr->n; i++)
        if (pr->clients[i] == c)
            return;
    if (pr->n == pr->cap) {
        pr->cap = pr->cap ? pr->cap * 2 : 4;
        pr->clients = rc_realloc(pr->clients, pr->cap * sizeof(*pr->clients));
    }
    pr->clients[pr->n++] = c;
}

static void prefix_remove_client(const char *p, size_t len, struct client *c)
{
    size_t pos;
    struct prefix *pr = prefix_find(p, len, &pos);
    if (pr == NULL)
        return;
    for (size_t i = 0; i < pr->n; i++) {
        if (pr->clients[i] == c) {
            pr->clients[i] = pr->clients[--pr->n];
            break;
        }
    }
    if (pr->n)
        return;
    rc_free(pr->p);
    rc_free(pr->clients);
    dict_destroy(&pr->keys);
    memmove(&T.prefixes[pos], &T.prefixes[pos + 1], (T.nprefixes - pos - 1) * sizeof(*T.prefixes));
    T.nprefixes--;
}

/* Add a prefix to c's sorted list (no-op if present). */
static void client_add_prefix(struct tracking_state *s, const char *p, size_t len)
{
    int i = 0;
    while (i < s->nprefixes && bytes_cmp(s->prefixes[i], s->prefix_lens[i], p, len) < 0)
        i++;
    if (i < s->nprefixes && bytes_cmp(s->prefixes[i], s->prefix_lens[i], p, len) == 0)
        return;
    s->prefixes = rc_realloc(s->prefixes, (size_t)(s->nprefixes + 1) * sizeof(*s->prefixes));
    s->prefix_lens = rc_realloc(s->prefix_lens,
                                (size_t)(s->nprefixes + 1) * sizeof(*s->prefix_lens));
    memmove(&s->prefixes[i + 1], &s->prefixes[i], (size_t)(s->nprefixes - i) * sizeof(char *));
    memmove(&s->prefix_lens[i + 1], &s->prefix_lens[i],
            (size_t)(s->nprefixes - i) * sizeof(size_t));
    s->prefixes[i] = rc_strndup(p, len);
    s->prefix_lens[i] = len;
    s->nprefixes++;
}

void tracking_add_prefix(struct client *c, const char *p, size_t len)
{
    client_add_prefix(c->trk, p, len);
    prefix_add_client(p, len, c);
}

void tracking_enable(struct client *c, uint64_t redir, unsigned options,
                     const struct slice *prefixes, int nprefixes)
{
    if (c->trk == NULL)
        c->trk = rc_calloc(sizeof(*c->trk));
    struct tracking_state *s = c->trk;
    if (!(s->flags & TRK_ON) && !(options & TRK_NODE))
        T.nclients++;
    s->flags &= ~(TRK_BROKEN_REDIR | TRK_BCAST | TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP);
    s->flags |= TRK_ON;
    s->redir = redir;
    if (options & TRK_BCAST) {
        s->flags |= TRK_BCAST;
        if (nprefixes == 0)
            tracking_add_prefix(c, "", 0);
        for (int i = 0; i < nprefixes; i++)
            tracking_add_prefix(c, prefixes[i].p, prefixes[i].len);
    }
    s->flags |= options & (TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP | TRK_NODE);
}

void tracking_disable(struct client *c)
{
    struct tracking_state *s = c->trk;
    if (s == NULL)
        return;
    for (int i = 0; i < s->nprefixes; i++) {
        prefix_remove_client(s->prefixes[i], s->prefix_lens[i], c);
        rc_free(s->prefixes[i]);
    }
    rc_free(s->prefixes);
    rc_free(s->prefix_lens);
    s->prefixes = NULL;
    s->prefix_lens = NULL;
    s->nprefixes = 0;
    if ((s->flags & TRK_ON) && !(s->flags & TRK_NODE))
        T.nclients--;
    s->flags = 0;
    s->redir = 0;
}

void tracking_client_free(struct client *c)
{
    if (c->trk == NULL)
        return;
    tracking_disable(c);
    /* A held message for c goes nowhere. */
    for (size_t i = 0; i < T.nheld; i++)
        if (T.held[i].c == c) {
            rc_free(T.held[i].key);
            T.held[i--] = T.held[--T.nheld];
        }
    rc_free(c->trk);
    c->trk = NULL;
}

/* ---- remembering keys ---- */

void tracking_remember(struct client *c, const char *key, size_t len)
{
    struct tkey *t = (struct tkey *)dict_find(T.table, key, len);
    if (t == NULL) {
        t = rc_malloc(sizeof(*t) + len);
        memset(t, 0, sizeof(*t));
        t->klen = len;
        memcpy(t->key, key, len);
        dict_add(T.table, &t->node);
    }
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->ids[mid] == c->id)
            return;
        if (t->ids[mid] < c->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 2;
        t->ids = rc_realloc(t->ids, t->cap * sizeof(*t->ids));
    }
    memmove(&t->ids[lo + 1], &t->ids[lo], (t->n - lo) * sizeof(*t->ids));
    t->ids[lo] = c->id;
    t->n++;
    T.items++;
}

/* Should c's read be remembered now (default mode, OPTIN/OPTOUT and
 * CLIENT CACHING taken into account)? */
int tracking_wants_reads(const struct client *c)
{
    if (!tracking_is_on(c) || (c->trk->flags & (TRK_BCAST | TRK_NODE)))
        return 0;
    unsigned f = c->trk->flags;
    if ((f & TRK_OPTIN) && !(f & TRK_CACHING))
        return 0;
    if ((f & TRK_OPTOUT) && (f & TRK_CACHING))
        return 0;
    return 1;
}

/* Does cmd's read count for tracking?  Read-only commands do, except the
 * read-only script commands: the commands the script runs count. */
int tracking_cmd_reads(const struct command *cmd)
{
    return (cmd->flags & CMD_READONLY) && !(cmd->flags & CMD_PUBSUB) &&
           cmd->proc != cmd_eval_ro && cmd->proc != cmd_evalsha_ro && cmd->proc != cmd_fcall_ro;
}

void tracking_command_done(struct client *c, const struct command *cmd, int argc,
                           const struct slice *argv)
{
    if (!tracking_cmd_reads(cmd))
        return;
    struct client *caller = script_is_script_client(c) ? script_caller() : c;
    if (caller == NULL || !tracking_wants_reads(caller))
        return;
    struct key_ref refs[16], *r = refs;
    int n = command_find_keys(cmd, argc, argv, refs, 16);
    if (n > 16) {
        r = rc_malloc((size_t)n * sizeof(*r));
        n = command_find_keys(cmd, argc, argv, r, n);
    }
    for (int i = 0; i < n; i++)
        tracking_remember(caller, argv[r[i].pos].p, argv[r[i].pos].len);
    if (r != refs)
        rc_free(r);
}

void tracking_proxy_begin(struct client *proxy, const struct client *c)
{
    if (!tracking_is_on(c))
        return;
    if (proxy->trk == NULL)
        proxy->trk = rc_calloc(sizeof(*proxy->trk));
    proxy->trk->origin = c->id;
}

void tracking_proxy_end(struct client *proxy)
{
    if (proxy->trk)
        proxy->trk->origin = 0;
}

void tracking_command_end(struct client *c, const struct command *cmd)
{
    if (c->trk == NULL)
        return;
    /* RINGNODE ORIGIN names the writer of the next command only. */
    if (c->trk->origin && !(cmd && cmd->proc == cmd_ringnode_origin))
        c->trk->origin = 0;
    if (c->flags & CF_MULTI)
        return;
    /* Redis keeps the flag across any CLIENT subcommand (its handler is
     * one function). */
    if (cmd && strcmp((cmd->container ? cmd->container : cmd)->name, "client") == 0)
        return;
    c->trk->flags &= ~TRK_CACHING;
}

/* ---- invalidating ---- */

/* Collect key for the BCAST prefixes it matches, modified by client id
 * modifier (0: none known); origin/peer: the client on a peer node whose
 * forwarded write it was (0/NULL if not known). */
static void bcast_collect(const char *key, size_t len, uint64_t modifier, uint64_t origin,
                          const char *peer)
{
    for (size_t i = 0; i < T.nprefixes; i++) {
        struct prefix *pr = &T.prefixes[i];
        if (len < pr->len || memcmp(key, pr->p, pr->len) != 0)
            continue;
        struct bkey *b = (struct bkey *)dict_find(pr->keys, key, len);
        if (b == NULL) {
            b = rc_malloc(sizeof(*b) + len);
            b->klen = len;
            b->origin_peer = NULL;
            memcpy(b->key, key, len);
            dict_add(pr->keys, &b->node);
        }
        b->modifier = modifier;
        b->origin = origin;
        rc_free(b->origin_peer);
        b->origin_peer = origin && peer ? rc_strndup(peer, strlen(peer)) : NULL;
    }
}

/* Drop key's entry and message its clients.  bcast: also collect it for
 * the prefixes it matches. */
static void invalidate(const char *key, size_t len, int bcast)
{
    /* The writer, for NOLOOP: the running client, or the client a
     * capturing client runs a command for (tracking_proxy_begin). */
    const struct client *cur = server.current_client;
    uint64_t writer = cur ? cur->id : 0;
    uint64_t origin = cur && cur->trk ? cur->trk->origin : 0;
    if (origin && (cur->flags & CF_CAPTURE)) {
        writer = origin;
        origin = 0;
    }
    if (bcast && T.nprefixes)
        bcast_collect(key, len, writer, origin, origin ? cur->peer_id : NULL);
    struct tkey *t = (struct tkey *)dict_unlink(T.table, key, len);
    if (t == NULL)
        return;
    T.items -= t->n;
    for (uint32_t i = 0; i < t->n; i++) {
        struct client *c = conn_by_id(t->ids[i]);
        /* A client that switched to BCAST no longer gets the keys it
         * read before (as in Redis). */
        if (c == NULL || !tracking_is_on(c) ||
            (c->trk->flags & (TRK_BCAST | TRK_NODE)) == TRK_BCAST)
            continue;
        if ((c->trk->flags & TRK_NOLOOP) && c->id == writer)
            continue;
        send_or_hold(c, t->key, t->klen);
    }
    tkey_destroy(&t->node);
}

void tracking_invalidate_key(const char *key, size_t len)
{
    /* A copy of another primary's key changing here: that primary's
     * "b" frames bring it to this node's BCAST clients (tracking_ring.c),
     * once. */
    if (T.table && (dict_size(T.table) || T.nprefixes))
        invalidate(key, len, !repl_applying());
}

void tracking_peer_invalidated(char kind, const char *key, size_t len, uint64_t origin)
{
    /* The key's writer, if it was a client of this node (NOLOOP). */
    if (kind == 'b')
        bcast_collect(key, len, origin, 0, NULL);
    else if (dict_size(T.table))
        invalidate(key, len, 0);
}

void tracking_forget(struct client *c, const char *key, size_t len)
{
    struct tkey *t = (struct tkey *)dict_find(T.table, key, len);
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->ids[i] == c->id) {
            memmove(&t->ids[i], &t->ids[i + 1], (t->n - i - 1) * sizeof(*t->ids));
            t->n--;
            T.items--;
            break;
        }
    }
    if (t->n == 0) {
        dict_unlink(T.table, key, len);
        tkey_destroy(&t->node);
    }
}

void tracking_flush_clients(void)
{
    if (T.nclients == 0)
        return;
    for (struct client *c = server.clients; c; c = c->next)
        tracking_flush_client(c);
}

void tracking_flush_client(struct client *c)
{
    if (tracking_is_on(c) && !(c->trk->flags & TRK_NODE))
        send_or_hold(c, NULL, 0);
}

void tracking_invalidate_all(void)
{
    tracking_flush_clients();
    dict_clear(T.table);
    T.items = 0;
}

/* ---- the loop: BCAST messages and the table limit ---- */

static int bkey_cmp(const void *a, const void *b)
{
    const struct bkey *x = *(const struct bkey *const *)a, *y = *(const struct bkey *const *)b;
    return bytes_cmp(x->key, x->klen, y->key, y->klen);
}

static void broadcast(struct prefix *pr)
{
    size_t n = dict_size(pr->keys);
    struct bkey **ks = rc_malloc(n * sizeof(*ks));
    const char **keys = rc_malloc(n * sizeof(*keys));
    size_t *lens = rc_malloc(n * sizeof(*lens));
    struct dict_iter it;
    struct dnode *d;
    size_t k = 0;
    dict_iter_init(&it, pr->keys);
    while ((d = dict_iter_next(&it)) != NULL && k < n)
        ks[k++] = (struct bkey *)d;
    dict_iter_done(&it);
    qsort(ks, k, sizeof(*ks), bkey_cmp);
    uint64_t *origins = rc_malloc(n * sizeof(*origins));
    for (size_t i = 0; i < pr->n; i++) {
        struct client *c = pr->clients[i];
        if (c->trk->flags & TRK_NODE) {
            /* A peer's link: every key, with its writer if that was the
             * peer's own client. */
            for (size_t j = 0; j < k; j++) {
                keys[j] = ks[j]->key;
                lens[j] = ks[j]->klen;
                origins[j] = ks[j]->origin_peer && c->peer_id &&
                             strcmp(ks[j]->origin_peer, c->peer_id) == 0 ? ks[j]->origin : 0;
            }
            tracking_node_push(c, 'b', keys, lens, origins, k);
            continue;
        }
        int noloop = (c->trk->flags & TRK_NOLOOP) != 0;
        size_t m = 0;
        for (size_t j = 0; j < k; j++) {
            if (noloop && ks[j]->modifier == c->id)
                continue;
            keys[m] = ks[j]->key;
            lens[m++] = ks[j]->klen;
        }
        if (m)
            send_invalidation(c, 'b', keys, lens, m);
    }
    rc_free(ks);
    rc_free(keys);
    rc_free(lens);
    rc_free(origins);
    dict_clear(pr->keys);
}

/* Keep the table within tracking-table-max-keys: drop random keys, each
 * with an invalidation, up to an effort that grows while the table stays
 * too big (so one pass never stalls the loop for long). */
static void limit_table(void)
{
    long long max = server.tracking_table_max_keys;
    if (max <= 0 || (long long)dict_size(T.table) <= max)
        return;
    long long effort = 100 * (long long)(T.limit_rounds + 1);
    while ((long long)dict_size(T.table) > max && effort-- > 0) {
        struct tkey *t = (struct tkey *)dict_random(T.table);
        if (t == NULL)
            break;
        invalidate(t->key, t->klen, 0);
    }
    if ((long long)dict_size(T.table) > max) {
        if (T.limit_rounds < 1000)
            T.limit_rounds++;
    } else {
        T.limit_rounds = 0;
    }
}

void tracking_before_sleep(void)
{
    for (size_t i = 0; i < T.nprefixes; i++)
        if (dict_size(T.prefixes[i].keys))
            broadcast(&T.prefixes[i]);
    if (T.table)
        limit_table();
}

void tracking_cron(void)
{
    if (T.table)
        limit_table();
    tracking_ring_cron();
}
