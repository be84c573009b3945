/*
 * pubsub.c — publish/subscribe: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
 * PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB.
 *
 * Three server-wide tables — channels, patterns and shard channels — map a
 * name to a struct chan holding its subscribers in subscription order, so
 * that a message reaches them in the order Redis 7.0 delivers it (7.0 keeps
 * a list per channel).  A name is in its table only while it has
 * subscribers; PUBSUB CHANNELS and INFO count exactly those.
 *
 * Each subscribed client has a struct psclient, kept in a table keyed by
 * client id (the client struct has no room for it, and most clients never
 * subscribe).  It holds one small dict per kind naming the client's
 * subscriptions, for O(1) membership tests, and its patterns in
 * subscription order, because PUNSUBSCRIBE without arguments answers in
 * that order in Redis 7.0.  A psclient exists only while the client has a
 * subscription; the tables are released when they empty.
 *
 * PUBLISH costs one lookup for the channel plus a glob match per distinct
 * pattern, as in Redis.  Messages are queued with the ordinary reply
 * functions, so a subscriber that does not read hits its class's
 * client-output-buffer-limit (pub/sub clients are class "pubsub", see
 * conn_class()) and is disconnected while the server goes on serving.
 */
#include "pubsub.h"

#include <string.h>

#include "command.h"
#include "dict.h"
#include "glob.h"
#include "hash.h"
#include "cluster.h"
#include "reply.h"
#include "server.h"

enum kind { K_CHANNEL, K_PATTERN, K_SHARD, NKINDS };

/* A channel, pattern or shard channel with at least one subscriber. */
struct chan {
    struct dnode node;
    struct client **clients;    /* in subscription order */
    size_t n;
    size_t cap;
    size_t len;
    char name[];
};

/* One subscription of a client: a link to the chan it subscribes to. */
struct sref {
    struct dnode node;
    struct chan *ch;
};

/* What a subscribed client has subscribed to. */
struct psclient {
    struct dnode node;
    uint64_t id;                /* the client's id: the table key */
    struct dict *subs[NKINDS];  /* struct sref, keyed by name; NULL if none */
    struct chan **pats;         /* patterns in subscription order */
    size_t npats;
    size_t patcap;
};

static void chan_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct chan *ch = (const struct chan *)n;
    *key = ch->name;
    *len = ch->len;
}

static void sref_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct sref *r = (const struct sref *)n;
    *key = r->ch->name;
    *len = r->ch->len;
}

static void psclient_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct psclient *p = (const struct psclient *)n;
    *key = (const char *)&p->id;
    *len = sizeof(p->id);
}

/* Elements are freed by the code that unlinks them: the tables are only
 * destroyed once empty. */
static const struct dict_type chan_type = {.hash = rc_hash, .key = chan_key};
static const struct dict_type sref_type = {.hash = rc_hash, .key = sref_key};
static const struct dict_type psclient_type = {.hash = rc_hash, .key = psclient_key};

static struct dict *tables[NKINDS];     /* name -> struct chan */
static struct dict *clients;            /* client id -> struct psclient */

static const char *const subscribe_word[NKINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsubscribe_word[NKINDS] = {"unsubscribe", "punsubscribe",
                                                     "sunsubscribe"};

/* ---- per-client state ---- */

static struct psclient *ps_find(const struct client *c)
{
    if (clients == NULL)
        return NULL;
    return (struct psclient *)dict_find(clients, (const char *)&c->id, sizeof(c->id));
}

static struct psclient *ps_get(struct client *c)
{
    struct psclient *p = ps_find(c);
    if (p)
        return p;
    if (clients == NULL)
        clients = dict_create(&psclient_type);
    p = rc_calloc(sizeof(*p));
    p->id = c->id;
    dict_add(clients, &p->node);
    return p;
}

static size_t ps_count(const struct psclient *p, enum kind k)
{
    return p && p->subs[k] ? dict_size(p->subs[k]) : 0;
}

/* The count Redis reports in (un)subscribe confirmations: channels plus
 * patterns, or shard channels alone for the S* commands. */
static size_t confirm_count(const struct psclient *p, enum kind k)
{
    if (k == K_SHARD)
        return ps_count(p, K_SHARD);
    return ps_count(p, K_CHANNEL) + ps_count(p, K_PATTERN);
}

/* Free p if it holds no subscription any more, and clear CF_PUBSUB.
 * Returns p, or NULL if it was freed. */
static struct psclient *ps_release_if_empty(struct client *c, struct psclient *p)
{
    if (p == NULL) {
        c->flags &= ~CF_PUBSUB;
        return NULL;
    }
    for (int k = 0; k < NKINDS; k++) {
        if (ps_count(p, (enum kind)k))
            return p;
    }
    for (int k = 0; k < NKINDS; k++)
        dict_destroy(&p->subs[k]);
    rc_free(p->pats);
    dict_unlink(clients, (const char *)&p->id, sizeof(p->id));
    rc_free(p);
    if (dict_size(clients) == 0)
        dict_destroy(&clients);
    c->flags &= ~CF_PUBSUB;
    return NULL;
}

/* ---- subscribing ---- */

static void confirm(struct client *c, const char *word, const char *name, size_t len,
                    int null_name, size_t count)
{
    reply_push_len(c, 3);
    reply_bulk_cstr(c, word);
    if (null_name)
        reply_null(c);
    else
        reply_bulk(c, name, len);
    reply_long(c, (long long)count);
}

/* Subscribe c to name in table k (no-op if it already is), then confirm. */
static void subscribe(struct client *c, enum kind k, const char *name, size_t len)
{
    struct psclient *p = ps_get(c);
    if (p->subs[k] == NULL)
        p->subs[k] = dict_create(&sref_type);
    if (dict_find(p->subs[k], name, len) == NULL) {
        if (tables[k] == NULL)
            tables[k] = dict_create(&chan_type);
        struct chan *ch = (struct chan *)dict_find(tables[k], name, len);
        if (ch == NULL) {
            ch = rc_calloc(sizeof(*ch) + (len ? len : 1));
            ch->len = len;
            memcpy(ch->name, name, len);
            dict_add(tables[k], &ch->node);
        }
        if (ch->n == ch->cap) {
            ch->cap = ch->cap ? ch->cap * 2 : 2;
            ch->clients = rc_realloc(ch->clients, ch->cap * sizeof(*ch->clients));
        }
        ch->clients[ch->n++] = c;
        struct sref *r = rc_malloc(sizeof(*r));
        r->ch = ch;
        dict_add(p->subs[k], &r->node);
        if (k == K_PATTERN) {
            if (p->npats == p->patcap) {
                p->patcap = p->patcap ? p->patcap * 2 : 4;
                p->pats = rc_realloc(p->pats, p->patcap * sizeof(*p->pats));
            }
            p->pats[p->npats++] = ch;
        }
    }
    c->flags |= CF_PUBSUB;
    confirm(c, subscribe_word[k], name, len, 0, confirm_count(p, k));
}

/* Remove one entry from an ordered array of n pointers, keeping order. */
static void remove_ordered(void **arr, size_t *n, const void *item)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == item) {
            memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
            (*n)--;
            return;
        }
    }
}

/* Drop c's subscription to name in table k, if it has one; the psclient is
 * kept even if it becomes empty.  Returns 1 if there was one. */
static int unsubscribe_one(struct client *c, struct psclient *p, enum kind k,
                           const char *name, size_t len)
{
    if (p == NULL || p->subs[k] == NULL)
        return 0;
    struct sref *r = (struct sref *)dict_unlink(p->subs[k], name, len);
    if (r == NULL)
        return 0;
    struct chan *ch = r->ch;
    rc_free(r);
    if (k == K_PATTERN)
        remove_ordered((void **)p->pats, &p->npats, ch);
    remove_ordered((void **)ch->clients, &ch->n, c);
    if (ch->n == 0) {
        dict_unlink(tables[k], ch->name, ch->len);
        rc_free(ch->clients);
        rc_free(ch);
        if (dict_size(tables[k]) == 0)
            dict_destroy(&tables[k]);
    }
    return 1;
}

/* Unsubscribe c from every name of kind k; with notify, confirm each one
 * (or send one confirmation with a null name if there was none).  Returns
 * the psclient, or NULL if it was released. */
static struct psclient *unsubscribe_all(struct client *c, struct psclient *p, enum kind k,
                                        int notify)
{
    size_t n = ps_count(p, k);
    if (n == 0) {
        if (notify)
            confirm(c, unsubscribe_word[k], NULL, 0, 1, confirm_count(p, k));
        return p;
    }
    /* Collect first: unsubscribing unlinks from the dict being walked. */
    struct chan **list;
    if (k == K_PATTERN) {
        list = rc_malloc(n * sizeof(*list));
        memcpy(list, p->pats, n * sizeof(*list));
    } else {
        list = rc_malloc(n * sizeof(*list));
        size_t i = 0;
        struct dict_iter it;
        dict_iter_init(&it, p->subs[k]);
        struct dnode *d;
        while ((d = dict_iter_next(&it)) != NULL && i < n)
            list[i++] = ((struct sref *)d)->ch;
        dict_iter_done(&it);
        n = i;
    }
    for (size_t i = 0; i < n; i++) {
        /* The chan may be freed by unsubscribe_one: confirm from a copy
         * of the name taken while it is alive. */
        struct chan *ch = list[i];
        if (notify) {
            char stackbuf[256];
            size_t len = ch->len;
            char *name = len <= sizeof(stackbuf) ? stackbuf : rc_malloc(len);
            memcpy(name, ch->name, len);
            unsubscribe_one(c, p, k, name, len);
            confirm(c, unsubscribe_word[k], name, len, 0, confirm_count(p, k));
            if (name != stackbuf)
                rc_free(name);
        } else {
            unsubscribe_one(c, p, k, ch->name, ch->len);
        }
    }
    rc_free(list);
    return p;
}

void pubsub_unsubscribe_all(struct client *c)
{
    struct psclient *p = ps_find(c);
    if (p) {
        for (int k = 0; k < NKINDS; k++)
            unsubscribe_all(c, p, (enum kind)k, 0);
    }
    ps_release_if_empty(c, p);
}

/* SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE. */
static void subscribe_command(struct client *c, enum kind k)
{
    for (int i = 1; i < c->argc; i++)
        subscribe(c, k, c->argv[i].p, c->argv[i].len);
}

/* UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE. */
static void unsubscribe_command(struct client *c, enum kind k)
{
    struct psclient *p = ps_find(c);
    if (c->argc == 1) {
        unsubscribe_all(c, p, k, 1);
    } else {
        for (int i = 1; i < c->argc; i++) {
            unsubscribe_one(c, p, k, c->argv[i].p, c->argv[i].len);
            confirm(c, unsubscribe_word[k], c->argv[i].p, c->argv[i].len, 0,
                    confirm_count(p, k));
        }
    }
    ps_release_if_empty(c, p);
}

void cmd_subscribe(struct client *c)
{
    subscribe_command(c, K_CHANNEL);
}

void cmd_psubscribe(struct client *c)
{
    subscribe_command(c, K_PATTERN);
}

void cmd_ssubscribe(struct client *c)
{
    subscribe_command(c, K_SHARD);
}

void cmd_unsubscribe(struct client *c)
{
    unsubscribe_command(c, K_CHANNEL);
}

void cmd_punsubscribe(struct client *c)
{
    unsubscribe_command(c, K_PATTERN);
}

void cmd_sunsubscribe(struct client *c)
{
    unsubscribe_command(c, K_SHARD);
}

/* ---- publishing ---- */

/* Deliver msg on channel (table k, K_CHANNEL or K_SHARD) to its
 * subscribers and, for K_CHANNEL, to the matching patterns' subscribers.
 * Returns the number of deliveries. */
static long long publish(enum kind k, const struct slice *channel, const struct slice *msg)
{
    long long receivers = 0;
    struct chan *ch = tables[k] ? (struct chan *)dict_find(tables[k], channel->p, channel->len)
                                : NULL;
    if (ch) {
        const char *word = k == K_SHARD ? "smessage" : "message";
        for (size_t i = 0; i < ch->n; i++) {
            struct client *s = ch->clients[i];
            reply_push_len(s, 3);
            reply_bulk_cstr(s, word);
            reply_bulk(s, channel->p, channel->len);
            reply_bulk(s, msg->p, msg->len);
            receivers++;
        }
    }
    if (k != K_CHANNEL || tables[K_PATTERN] == NULL)
        return receivers;
    struct dict_iter it;
    dict_iter_init(&it, tables[K_PATTERN]);
    struct dnode *d;
    while ((d = dict_iter_next(&it)) != NULL) {
        struct chan *pat = (struct chan *)d;
        if (!rc_glob_match(pat->name, pat->len, channel->p, channel->len, 0))
            continue;
        for (size_t i = 0; i < pat->n; i++) {
            struct client *s = pat->clients[i];
            reply_push_len(s, 4);
            reply_bulk_cstr(s, "pmessage");
            reply_bulk(s, pat->name, pat->len);
            reply_bulk(s, channel->p, channel->len);
            reply_bulk(s, msg->p, msg->len);
            receivers++;
        }
    }
    dict_iter_done(&it);
    return receivers;
}

void cmd_publish(struct client *c)
{
    reply_long(c, publish(K_CHANNEL, &c->argv[1], &c->argv[2]));
}

long long pubsub_publish(int shard, const struct slice *channel, const struct slice *msg)
{
    return publish(shard ? K_SHARD : K_CHANNEL, channel, msg);
}

void cmd_spublish(struct client *c)
{
    /* In a ring this runs on the channel slot's node, which passes the
     * message on to subscribers connected to the other members. */
    if (cluster_enabled())
        cluster_broadcast_publish(1, &c->argv[1], &c->argv[2]);
    reply_long(c, publish(K_SHARD, &c->argv[1], &c->argv[2]));
}

/* ---- PUBSUB ---- */

static void reply_subcommand_syntax(struct client *c)
{
    int n = (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len);
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                    "Try PUBSUB HELP.", n, c->argv[1].p);
}

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern]. */
static void channels_command(struct client *c, enum kind k)
{
    if (c->argc > 3) {
        reply_subcommand_syntax(c);
        return;
    }
    const struct slice *pat = c->argc == 3 ? &c->argv[2] : NULL;
    if (tables[k] == NULL) {
        reply_empty_array(c);
        return;
    }
    void *hole = reply_defer_len(c);
    long n = 0;
    struct dict_iter it;
    dict_iter_init(&it, tables[k]);
    struct dnode *d;
    while ((d = dict_iter_next(&it)) != NULL) {
        struct chan *ch = (struct chan *)d;
        if (pat && !rc_glob_match(pat->p, pat->len, ch->name, ch->len, 0))
            continue;
        reply_bulk(c, ch->name, ch->len);
        n++;
    }
    dict_iter_done(&it);
    reply_set_array_len(c, hole, n);
}

/* PUBSUB NUMSUB / SHARDNUMSUB [channel ...]. */
static void numsub_command(struct client *c, enum kind k)
{
    reply_array_len(c, (long)(c->argc - 2) * 2);
    for (int i = 2; i < c->argc; i++) {
        struct chan *ch =
            tables[k] ? (struct chan *)dict_find(tables[k], c->argv[i].p, c->argv[i].len) : NULL;
        reply_bulk(c, c->argv[i].p, c->argv[i].len);
        reply_long(c, ch ? (long long)ch->n : 0);
    }
}

void cmd_pubsub_channels(struct client *c)
{
    channels_command(c, K_CHANNEL);
}

void cmd_pubsub_shardchannels(struct client *c)
{
    channels_command(c, K_SHARD);
}

void cmd_pubsub_numsub(struct client *c)
{
    numsub_command(c, K_CHANNEL);
}

void cmd_pubsub_shardnumsub(struct client *c)
{
    numsub_command(c, K_SHARD);
}

void cmd_pubsub_numpat(struct client *c)
{
    reply_long(c, (long long)pubsub_total_patterns());
}

void cmd_pubsub_help(struct client *c)
{
    static const char *const lines[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> "
        "(default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL,
    };
    reply_help(c, "pubsub", lines);
}

/* ---- queries ---- */

size_t pubsub_client_channels(const struct client *c)
{
    return ps_count(ps_find(c), K_CHANNEL);
}

size_t pubsub_client_patterns(const struct client *c)
{
    return ps_count(ps_find(c), K_PATTERN);
}

size_t pubsub_client_shard_channels(const struct client *c)
{
    return ps_count(ps_find(c), K_SHARD);
}

size_t pubsub_total_channels(void)
{
    return tables[K_CHANNEL] ? dict_size(tables[K_CHANNEL]) : 0;
}

size_t pubsub_total_patterns(void)
{
    return tables[K_PATTERN] ? dict_size(tables[K_PATTERN]) : 0;
}

size_t pubsub_total_shard_channels(void)
{
    return tables[K_SHARD] ? dict_size(tables[K_SHARD]) : 0;
}

int pubsub_allowed_in_context(const struct command *cmd)
{
    cmd_handler *p = cmd->proc;
    return p == cmd_ping || p == cmd_subscribe || p == cmd_ssubscribe ||
           p == cmd_unsubscribe || p == cmd_sunsubscribe || p == cmd_psubscribe ||
           p == cmd_punsubscribe || p == cmd_quit || p == cmd_reset;
}
