/*
 * block.c — clients blocked on keys (see block.h for the life cycle).
 *
 * Data structures:
 *   - a registry (dict) of struct bkey, one per (database, key) that at
 *     least one client waits on, holding the waiters in blocking order
 *     (a doubly linked FIFO, so a client leaves it in O(1));
 *   - a dict of struct bclient, one per blocked client, keyed by the client
 *     pointer, holding the serve callback, its private data, the deadline
 *     and one waiter node per key (all in one allocation);
 *   - a binary min-heap of the bclients that have a deadline, and one
 *     libevent timer armed at the earliest;
 *   - the ready list: bkeys signalled since the last block_process_ready();
 *   - the unblocked queue: clients whose pipelined input conn.c must resume.
 *
 * A bkey is freed when it has no waiters, unless it is on the ready list
 * or being offered right now (then whoever finishes with it frees it).
 * Everything is released when the last blocked client goes, so shutdown
 * leaves nothing behind.
 */
#include "block.h"

#include <event2/event.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "aof.h"
#include "hash.h"
#include "reply.h"
#include "server.h"

struct bclient;

struct waiter {
    struct waiter *prev, *next;     /* in the bkey's FIFO */
    struct bkey *bk;
    struct bclient *bc;
};

struct bkey {
    struct dnode node;
    struct waiter *head, *tail;
    struct bkey *ready_next;
    int ready;                      /* on the ready list */
    int busy;                       /* being offered to its waiters */
    size_t klen;                    /* of the composite key below */
    char key[];                     /* 4-byte database id, then the key */
};

struct bclient {
    struct dnode node;
    struct client *c;               /* also the dict key (pointer bytes) */
    struct db *db;
    block_serve_fn *serve;
    void *priv;
    long long deadline;             /* unix ms, 0 = none */
    size_t heap_idx;                /* position in the heap, SIZE_MAX if absent */
    int nwaiters;
    struct waiter waiters[];
};

static struct dict *keys_registry;  /* struct bkey */
static struct dict *clients_registry;   /* struct bclient */
static struct bclient **heap;
static size_t heap_len, heap_cap;
static struct event *timer;
static struct bkey *ready_head, *ready_tail;
static struct client **unq;         /* unblocked queue */
static size_t unq_pos, unq_len, unq_cap;
static int in_timer;

/* ---- registries ---- */

static void bkey_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct bkey *b = (const struct bkey *)n;
    *key = b->key;
    *len = b->klen;
}

static void bclient_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct bclient *b = (const struct bclient *)n;
    *key = (const char *)&b->c;
    *len = sizeof(b->c);
}

/* Elements are always unlinked and freed by this file, never by the dicts. */
static const struct dict_type bkey_type = {.hash = rc_hash, .key = bkey_key, .destroy = NULL};
static const struct dict_type bclient_type = {
    .hash = rc_hash, .key = bclient_key, .destroy = NULL};

/* Composite key (database id, key) into a buffer the caller frees with
 * rc_free when it is not stackbuf.  Returns the buffer; *outlen its length. */
static char *composite(char *stackbuf, size_t stacklen, int dbid, const char *key,
                       size_t len, size_t *outlen)
{
    char *buf = len <= stacklen - 4 ? stackbuf : rc_malloc(len + 4);
    uint32_t id = (uint32_t)dbid;
    memcpy(buf, &id, 4);
    memcpy(buf + 4, key, len);
    *outlen = len + 4;
    return buf;
}

static struct bclient *find_bclient(const struct client *c)
{
    if (clients_registry == NULL)
        return NULL;
    return (struct bclient *)dict_find(clients_registry, (const char *)&c, sizeof(c));
}

/* ---- deadline heap ---- */

static void heap_set(size_t i, struct bclient *bc)
{
    heap[i] = bc;
    bc->heap_idx = i;
}

static void heap_up(size_t i)
{
    struct bclient *bc = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent]->deadline <= bc->deadline)
            break;
        heap_set(i, heap[parent]);
        i = parent;
    }
    heap_set(i, bc);
}

static void heap_down(size_t i)
{
    struct bclient *bc = heap[i];
    for (;;) {
        size_t l = 2 * i + 1, small = i;
        long long best = bc->deadline;
        if (l < heap_len && heap[l]->deadline < best) {
            small = l;
            best = heap[l]->deadline;
        }
        if (l + 1 < heap_len && heap[l + 1]->deadline < best)
            small = l + 1;
        if (small == i)
            break;
        heap_set(i, heap[small]);
        i = small;
    }
    heap_set(i, bc);
}

static void heap_push(struct bclient *bc)
{
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 16;
        heap = rc_realloc(heap, heap_cap * sizeof(*heap));
    }
    heap_set(heap_len++, bc);
    heap_up(heap_len - 1);
}

static void heap_remove(struct bclient *bc)
{
    size_t i = bc->heap_idx;
    if (i == SIZE_MAX)
        return;
    bc->heap_idx = SIZE_MAX;
    heap_len--;
    if (i == heap_len)
        return;
    heap_set(i, heap[heap_len]);
    if (i > 0 && heap[(i - 1) / 2]->deadline > heap[i]->deadline)
        heap_up(i);
    else
        heap_down(i);
}

/* ---- timer ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Arm the timer at the earliest deadline (or disarm it). */
static void arm_timer(void)
{
    if (heap_len == 0) {
        if (timer)
            event_del(timer);
        return;
    }
    if (timer == NULL)
        timer = evtimer_new(server.base, on_timer, NULL);
    long long now = (long long)rc_mstime();
    long long delay = heap[0]->deadline - now;
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)((delay % 1000) * 1000)};
    event_add(timer, &tv);
}

/* Free the registries, heap, timer and queue once nothing is blocked. */
static void maybe_release(void)
{
    if (in_timer || (clients_registry && dict_size(clients_registry) > 0) || ready_head)
        return;
    if (unq_pos < unq_len)
        return;
    dict_destroy(&clients_registry);
    if (keys_registry && dict_size(keys_registry) == 0)
        dict_destroy(&keys_registry);
    rc_free(heap);
    heap = NULL;
    heap_len = heap_cap = 0;
    if (timer) {
        event_free(timer);
        timer = NULL;
    }
    rc_free(unq);
    unq = NULL;
    unq_pos = unq_len = unq_cap = 0;
}

/* ---- blocking and unblocking ---- */

static void bkey_maybe_free(struct bkey *bk)
{
    if (bk->head || bk->ready || bk->busy)
        return;
    dict_unlink(keys_registry, bk->key, bk->klen);
    rc_free(bk);
}

static void unq_push(struct client *c)
{
    if (unq_len == unq_cap) {
        if (unq_pos > 0) {
            memmove(unq, unq + unq_pos, (unq_len - unq_pos) * sizeof(*unq));
            unq_len -= unq_pos;
            unq_pos = 0;
        }
        if (unq_len == unq_cap) {
            unq_cap = unq_cap ? unq_cap * 2 : 16;
            unq = rc_realloc(unq, unq_cap * sizeof(*unq));
        }
    }
    unq[unq_len++] = c;
}

/* Take c out of every structure and free its state.  If resume is set, c
 * goes on the unblocked queue so its pipelined input is processed. */
static void unblock(struct bclient *bc, int resume)
{
    struct client *c = bc->c;
    for (int i = 0; i < bc->nwaiters; i++) {
        struct waiter *w = &bc->waiters[i];
        struct bkey *bk = w->bk;
        if (w->prev)
            w->prev->next = w->next;
        else
            bk->head = w->next;
        if (w->next)
            w->next->prev = w->prev;
        else
            bk->tail = w->prev;
        bkey_maybe_free(bk);
    }
    heap_remove(bc);
    dict_unlink(clients_registry, (const char *)&bc->c, sizeof(bc->c));
    rc_free(bc->priv);
    rc_free(bc);
    c->flags &= ~CF_BLOCKED;
    if (resume)
        unq_push(c);
}

int block_parse_timeout(struct client *c, const struct slice *arg, long long *deadline)
{
    long double secs;
    if (!rc_str2ld(arg->p, arg->len, &secs)) {
        reply_error(c, "ERR timeout is not a float or out of range");
        return -1;
    }
    /* Redis computes (long long)ceill(secs * 1000); a value outside the
     * range of long long converts to LLONG_MIN on the platforms it runs
     * on, which it then reports as negative.  Do the same without relying
     * on the undefined conversion. */
    long double ms = secs * 1000.0L;
    if (!(ms < 9223372036854775808.0L) || ms <= -1.0L) {
        reply_error(c, "ERR timeout is negative");
        return -1;
    }
    long long t = (long long)ms;    /* in range: truncates toward zero */
    if ((long double)t < ms)
        t++;                        /* ceiling; (-1, 0] becomes 0 */
    if (t < 0) {
        reply_error(c, "ERR timeout is negative");
        return -1;
    }
    if (t > 0) {
        long long now = server.mstime;
        t = t > LLONG_MAX - now ? LLONG_MAX : t + now;
    }
    *deadline = t;
    return 0;
}

int block_allowed(const struct client *c)
{
    return (c->flags & (CF_MULTI | CF_FAKE)) == 0;
}

void block_client(struct client *c, const struct slice *keys, int nkeys, long long deadline,
                  block_serve_fn *serve, void *priv)
{
    if (keys_registry == NULL)
        keys_registry = dict_create(&bkey_type);
    if (clients_registry == NULL)
        clients_registry = dict_create(&bclient_type);

    struct bclient *bc = rc_calloc(sizeof(*bc) + (size_t)nkeys * sizeof(struct waiter));
    bc->c = c;
    bc->db = c->db;
    bc->serve = serve;
    bc->priv = priv;
    bc->deadline = deadline;
    bc->heap_idx = SIZE_MAX;

    for (int i = 0; i < nkeys; i++) {
        char stackbuf[256];
        size_t clen;
        char *ck = composite(stackbuf, sizeof(stackbuf), c->db->id, keys[i].p, keys[i].len,
                             &clen);
        struct bkey *bk = (struct bkey *)dict_find(keys_registry, ck, clen);
        if (bk == NULL) {
            bk = rc_calloc(sizeof(*bk) + clen);
            bk->klen = clen;
            memcpy(bk->key, ck, clen);
            dict_add(keys_registry, &bk->node);
        }
        if (ck != stackbuf)
            rc_free(ck);
        /* BLPOP k k 0 waits on k once. */
        int dup = 0;
        for (int j = 0; j < bc->nwaiters; j++)
            if (bc->waiters[j].bk == bk)
                dup = 1;
        if (dup)
            continue;
        struct waiter *w = &bc->waiters[bc->nwaiters++];
        w->bk = bk;
        w->bc = bc;
        w->prev = bk->tail;
        w->next = NULL;
        if (bk->tail)
            bk->tail->next = w;
        else
            bk->head = w;
        bk->tail = w;
    }
    dict_add(clients_registry, &bc->node);
    c->flags |= CF_BLOCKED;
    if (deadline > 0) {
        heap_push(bc);
        if (heap[0] == bc)
            arm_timer();
    }
}

void block_signal_key(struct db *db, const char *key, size_t len)
{
    if (keys_registry == NULL || dict_size(keys_registry) == 0)
        return;
    char stackbuf[256];
    size_t clen;
    char *ck = composite(stackbuf, sizeof(stackbuf), db->id, key, len, &clen);
    struct bkey *bk = (struct bkey *)dict_find(keys_registry, ck, clen);
    if (ck != stackbuf)
        rc_free(ck);
    if (bk == NULL || bk->ready || bk->head == NULL)
        return;
    bk->ready = 1;
    bk->ready_next = NULL;
    if (ready_tail)
        ready_tail->ready_next = bk;
    else
        ready_head = bk;
    ready_tail = bk;
}

/* Offer bk to its waiters, first blocked first. */
static void offer(struct bkey *bk)
{
    int dbid;
    uint32_t id;
    memcpy(&id, bk->key, 4);
    dbid = (int)id;
    bk->busy = 1;
    struct waiter *w = bk->head;
    while (w) {
        struct waiter *next = w->next;
        struct bclient *bc = w->bc;
        struct client *c = bc->c;
        /* A client on its way out would lose what it is given. */
        if (!(c->flags & (CF_CLOSE_ASAP | CF_CLOSE_AFTER_REPLY)) && bc->db->id == dbid) {
            unsigned long long logged_before = aof_fed_offset();
            enum block_serve_result r =
                bc->serve(c, bc->db, bk->key + 4, bk->klen - 4, bc->priv);
            /* What it was given (a pop) is acknowledged once logged. */
            if (aof_fed_offset() != logged_before)
                c->aof_ack = aof_fed_offset();
            if (r == BLOCK_SERVED)
                unblock(bc, 1);
            else if (r == BLOCK_KEY_DONE)
                break;
        }
        w = next;
    }
    bk->busy = 0;
}

void block_process_ready(void)
{
    if (ready_head == NULL)
        return;
    while (ready_head) {
        struct bkey *bk = ready_head;
        ready_head = bk->ready_next;
        if (ready_head == NULL)
            ready_tail = NULL;
        bk->ready_next = NULL;
        bk->ready = 0;
        offer(bk);
        bkey_maybe_free(bk);
    }
    arm_timer();
    maybe_release();
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    long long now = (long long)rc_mstime();
    in_timer = 1;
    while (heap_len > 0 && heap[0]->deadline <= now) {
        struct bclient *bc = heap[0];
        struct client *c = bc->c;
        reply_null_array(c);
        unblock(bc, 1);
    }
    in_timer = 0;
    arm_timer();
    maybe_release();
}

struct client *block_next_unblocked(void)
{
    while (unq_pos < unq_len) {
        struct client *c = unq[unq_pos++];
        if (c)
            return c;
    }
    unq_pos = unq_len = 0;
    maybe_release();
    return NULL;
}

int block_unblock(struct client *c, const char *err)
{
    if (!(c->flags & CF_BLOCKED))
        return 0;
    struct bclient *bc = find_bclient(c);
    if (!bc)
        return 0;
    if (err)
        reply_error(c, err);
    else
        reply_null_array(c);
    unblock(bc, 1);
    arm_timer();
    maybe_release();
    return 1;
}

void block_client_free(struct client *c)
{
    /* A client on the unblocked queue must not be resumed after it is freed. */
    for (size_t i = unq_pos; i < unq_len; i++)
        if (unq[i] == c)
            unq[i] = NULL;
    if (c->flags & CF_BLOCKED) {
        struct bclient *bc = find_bclient(c);
        if (bc)
            unblock(bc, 0);
        c->flags &= ~CF_BLOCKED;
        arm_timer();
    }
    maybe_release();
}

size_t block_count(void)
{
    return clients_registry ? dict_size(clients_registry) : 0;
}

size_t block_timeout_count(void)
{
    return heap_len;
}
