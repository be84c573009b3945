/*
 * conn.c — client connections.
 *
 * Reading: bytes are appended to the client's query buffer and the RESP
 * parser (resp.c) is run over it; each complete command is dispatched at
 * once, so a pipeline of any depth is executed in order from one read.
 * The buffer grows only as bytes arrive: a bulk header announcing a huge
 * value makes us read at most READ_AHEAD_MAX bytes beyond what we hold, so
 * a header alone never reserves much memory.
 *
 * Writing: replies are queued by reply.c; clients with output are put on a
 * pending list and written in the loop's before-sleep step, so that one
 * write() covers a whole pipeline.  Only if the kernel does not take
 * everything is a write event installed.
 *
 * Freeing: a client is never freed from inside its own callbacks; it is
 * flagged and put on a to-close list that before-sleep reaps.
 */
#include "conn.h"
#include "acl.h"
#include "listener.h"


#include <errno.h>
#include <limits.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "aof.h"
#include "block.h"
#include "hash.h"
#include "route.h"
#include "command.h"
#include "multi.h"
#include "netutil.h"
#include "pubsub.h"
#include "reply.h"
#include "server.h"
#include "tracking.h"
#include "watch.h"

#define IOBUF_LEN (16 * 1024)
#define READ_AHEAD_MAX (1024 * 1024)
#define MAX_WRITE_PER_EVENT (1024 * 1024)

static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void process_input(struct client *c);

static struct client *client_new(int fd)
{
    struct client *c = rc_calloc(sizeof(*c));
    c->id = ++server.next_client_id;
    c->fd = fd;
    c->resp = 2;
    c->db = &server.dbs[0];
    c->txn_slot = -1;
    c->ctime = c->last_interaction = time(NULL);
    resp_parser_init(&c->parser);
    c->user = acl_default_user();
    if (acl_default_needs_no_auth())
        c->flags |= CF_AUTHED;
    return c;
}

/* ---- clients by id (CLIENT TRACKING's REDIRECT and tracking table) ---- */

static struct dict *by_id;

static void id_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct client *c =
        (const struct client *)((const char *)n - offsetof(struct client, id_node));
    *key = (const char *)&c->id;
    *len = sizeof(c->id);
}

static const struct dict_type id_type = {rc_hash, id_key, NULL};

struct client *conn_by_id(uint64_t id)
{
    struct dnode *n = by_id ? dict_find(by_id, (const char *)&id, sizeof(id)) : NULL;
    return n ? (struct client *)((char *)n - offsetof(struct client, id_node)) : NULL;
}

static void client_link(struct client *c)
{
    if (by_id == NULL)
        by_id = dict_create(&id_type);
    dict_add(by_id, &c->id_node);
    c->next = server.clients;
    if (server.clients)
        server.clients->prev = c;
    server.clients = c;
    server.connected_clients++;
}

void conn_accept(int fd, enum conn_kind kind)
{
    int is_unix = kind == CONN_UNIX;
    net_nonblock(fd);
    if (!is_unix)
        net_tcp_setup(fd, server.tcp_keepalive);

    if (server.connected_clients >= server.maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        ssize_t w = write(fd, msg, sizeof(msg) - 1);
        (void)w;
        close(fd);
        server.stat_rejected_conn++;
        return;
    }

    struct client *c = client_new(fd);
    if (kind == CONN_CLUSTER)
        c->flags |= CF_CLUSTER_PORT;
    if (is_unix) {
        c->flags |= CF_UNIX;
        snprintf(c->addr, sizeof(c->addr), "%s:0", server.unixsocket ? server.unixsocket : "");
        snprintf(c->laddr, sizeof(c->laddr), "%s:0", server.unixsocket ? server.unixsocket : "");
    } else {
        net_peer_name(fd, c->addr, sizeof(c->addr), 0);
        net_peer_name(fd, c->laddr, sizeof(c->laddr), 1);
    }
    client_link(c);
    server.stat_numconnections++;

    if (!is_unix && server.protected_mode && server.requirepass == NULL &&
        !net_is_loopback_peer(fd)) {
        static const char denied[] =
            "-DENIED ringcache is running in protected mode: no password is set "
            "and this client is not on a loopback address, so it is refused. "
            "To let it in, either set a password (requirepass, or CONFIG SET "
            "requirepass from a loopback client), or, if the node is reachable "
            "only from trusted networks, turn protected mode off (CONFIG SET "
            "protected-mode no, or start with --protected-mode no).\r\n";
        ssize_t w = write(fd, denied, sizeof(denied) - 1);
        (void)w;
        c->flags |= CF_PROTECTED;
        conn_close_async(c);
        return;
    }

    c->rev = event_new(server.base, fd, EV_READ | EV_PERSIST, on_readable, c);
    event_add(c->rev, NULL);
}

struct client *conn_fake_create(void)
{
    struct client *c = client_new(-1);
    c->flags |= CF_FAKE | CF_AUTHED;
    c->user = NULL;
    return c;
}

/* Clients whose input waits to be processed again (conn_resume). */
static struct client *resume_list;

void conn_resume(struct client *c)
{
    if (c->flags & (CF_RESUME | CF_FAKE))
        return;
    c->flags |= CF_RESUME;
    c->resume_next = resume_list;
    resume_list = c;
}

static void free_reply_list(struct client *c)
{
    struct obuf *b = c->reply_head;
    while (b) {
        struct obuf *n = b->next;
        rc_free(b);
        b = n;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->sentpos = 0;
}

static void client_free(struct client *c)
{
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->fd >= 0)
        close(c->fd);
    if (!(c->flags & CF_FAKE)) {
        if (c->prev)
            c->prev->next = c->next;
        else
            server.clients = c->next;
        if (c->next)
            c->next->prev = c->prev;
        server.connected_clients--;
        dict_unlink(by_id, (const char *)&c->id, sizeof(c->id));
        if (server.connected_clients == 0 && server.clients == NULL)
            dict_destroy(&by_id);
    }
    if (c->flags & CF_MONITOR)
        server.monitors--;
    block_client_free(c);
    route_client_free(c);
    if (c->flags & CF_RESUME) {
        struct client **pp = &resume_list;
        while (*pp && *pp != c)
            pp = &(*pp)->resume_next;
        if (*pp)
            *pp = c->resume_next;
    }
    multi_discard(c);
    pubsub_unsubscribe_all(c);
    watch_unwatch_all(c);
    tracking_client_free(c);
    free_reply_list(c);
    resp_parser_deinit(&c->parser);
    rc_free(c->qbuf);
    rc_free(c->argv);
    rc_free(c->name);
    rc_free(c->lib_name);
    rc_free(c->lib_ver);
    rc_free(c->peer_id);
    rc_free(c);
}

char *conn_take_reply(struct client *c, size_t *len)
{
    size_t n = 0;
    for (struct obuf *b = c->reply_head; b; b = b->next)
        n += b->used;
    char *out = rc_malloc(n ? n : 1);
    size_t off = 0;
    for (struct obuf *b = c->reply_head; b; b = b->next) {
        memcpy(out + off, b->buf, b->used);
        off += b->used;
    }
    free_reply_list(c);
    *len = n;
    return out;
}

const char *conn_reply_view(struct client *c, size_t *len, char **owned)
{
    *owned = NULL;
    if (c->reply_head == NULL) {
        *len = 0;
        return "";
    }
    if (c->reply_head == c->reply_tail) {
        *len = c->reply_head->used;
        return c->reply_head->buf;
    }
    *owned = conn_take_reply(c, len);
    return *owned;
}

void conn_reply_clear(struct client *c)
{
    /* One chunk stays for the next reply: a script's commands would
     * otherwise allocate and free one each. */
    struct obuf *keep = c->reply_head;
    if (keep == NULL || keep->size > 64 * 1024) {
        free_reply_list(c);         /* a big reply's chunk is not kept */
        return;
    }
    c->reply_head = keep->next;
    free_reply_list(c);
    keep->next = NULL;
    keep->used = 0;
    keep->waiting = 0;
    c->reply_head = c->reply_tail = keep;
}

void conn_fake_destroy(struct client **c)
{
    if (*c) {
        client_free(*c);
        *c = NULL;
    }
}

void conn_close_async(struct client *c)
{
    if (c->flags & CF_CLOSE_ASAP)
        return;
    c->flags |= CF_CLOSE_ASAP;
    c->close_next = server.to_close;
    server.to_close = c;
}

void conn_close_after_reply(struct client *c)
{
    c->flags |= CF_CLOSE_AFTER_REPLY;
    if (c->reply_head == NULL)
        conn_close_async(c);
}

void conn_want_write(struct client *c)
{
    if (c->flags & (CF_PENDING_WRITE | CF_FAKE))
        return;
    c->flags |= CF_PENDING_WRITE;
    c->pw_next = server.pending_writes;
    server.pending_writes = c;
}

int conn_class(const struct client *c)
{
    /* Replicas come with a later module. */
    return (c->flags & CF_PUBSUB) ? 2 : 0;
}

/* The head chunk plays the part of Redis's per-client static buffer; the
 * chunks after it are the reply list that CLIENT LIST's oll/omem and the
 * output buffer limits speak of. */
unsigned long long conn_obuf_mem(const struct client *c)
{
    unsigned long long n = 0;
    for (const struct obuf *b = c->reply_head ? c->reply_head->next : NULL; b; b = b->next)
        n += b->size;
    return n;
}

static size_t reply_list_len(const struct client *c)
{
    size_t n = 0;
    for (const struct obuf *b = c->reply_head ? c->reply_head->next : NULL; b; b = b->next)
        n++;
    return n;
}

void conn_check_obuf_limits(struct client *c)
{
    if (c->flags & (CF_CLOSE_ASAP | CF_FAKE))
        return;
    const struct obuf_limit *l = &server.obuf_limits[conn_class(c)];
    unsigned long long used = c->reply_bytes;
    int hard = l->hard && used >= l->hard;
    int soft = 0;
    if (l->soft && used >= l->soft) {
        time_t now = time(NULL);
        if (c->obuf_soft_since == 0)
            c->obuf_soft_since = now;
        else if (now - c->obuf_soft_since >= l->soft_seconds)
            soft = 1;
    } else {
        c->obuf_soft_since = 0;
    }
    if (hard || soft) {
        char desc[512];
        conn_describe(c, desc, sizeof(desc));
        log_warn("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
                 desc);
        server.stat_client_outbuf_limit_disconnections++;
        free_reply_list(c);
        conn_close_async(c);
    }
}

/* ---- reading ---- */

static void qbuf_reserve(struct client *c, size_t want)
{
    if (c->qcap - c->qlen >= want)
        return;
    size_t cap = c->qlen + want;
    if (cap < 2 * c->qcap && 2 * c->qcap <= c->qlen + READ_AHEAD_MAX + IOBUF_LEN)
        cap = 2 * c->qcap;
    c->qbuf = rc_realloc(c->qbuf, cap);
    c->qcap = rc_usable(c->qbuf);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    (void)what;
    if (c->flags & (CF_CLOSE_ASAP | CF_CLOSE_AFTER_REPLY))
        return;

    /* Read what the parser says it needs, but never more than
     * READ_AHEAD_MAX beyond the bytes we already hold. */
    size_t want = IOBUF_LEN;
    size_t need = resp_parser_need(&c->parser);
    size_t have = c->qlen - c->qpos;
    if (need > have) {
        size_t missing = need - have;
        if (missing > want)
            want = missing > READ_AHEAD_MAX ? READ_AHEAD_MAX : missing;
    }
    qbuf_reserve(c, want);

    ssize_t n = read(fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    server.stat_io_reads++;
    if (n == 0) {
        conn_close_async(c);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        log_verbose("Reading from client: %s", strerror(errno));
        conn_close_async(c);
        return;
    }
    c->qlen += (size_t)n;
    if (c->qlen > c->qpeak)
        c->qpeak = c->qlen;
    server.stat_net_input_bytes += n;
    c->last_interaction = time(NULL);

    if ((long long)(c->qlen - c->qpos) > server.client_max_querybuf_len &&
        server.client_max_querybuf_len > 0) {
        char desc[512];
        conn_describe(c, desc, sizeof(desc));
        log_warn("Closing client that reached max query buffer length: %s", desc);
        server.stat_client_qbuf_limit_disconnections++;
        conn_close_async(c);
        return;
    }
    process_input(c);
}

static void set_argv(struct client *c)
{
    int argc = (int)c->parser.argc;
    if (argc > c->argv_cap) {
        int cap = c->argv_cap ? c->argv_cap : 8;
        while (cap < argc)
            cap *= 2;
        c->argv = rc_realloc(c->argv, sizeof(*c->argv) * (size_t)cap);
        c->argv_cap = cap;
    }
    const char *base = c->qbuf + c->qpos;
    for (int i = 0; i < argc; i++) {
        c->argv[i].p = base + c->parser.argv[i].off;
        c->argv[i].len = c->parser.argv[i].len;
    }
    c->argc = argc;
}

static struct resp_limits client_limits(const struct client *c)
{
    struct resp_limits lim;
    resp_limits_init(&lim);
    lim.max_bulk = server.proto_max_bulk_len;
    if (!(c->flags & CF_AUTHED)) {
        lim.max_multibulk_unauth = RESP_UNAUTH_MAX_MULTIBULK;
        lim.max_bulk_unauth = RESP_UNAUTH_MAX_BULK;
    }
    return lim;
}

static void protocol_error(struct client *c, const char *err)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "ERR %s", err);
    char desc[512];
    conn_describe(c, desc, sizeof(desc));
    log_verbose("Protocol error (%s) from client: %s", err, desc);
    /* The reply must go out even under CLIENT REPLY OFF. */
    c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP | CF_REPLY_SKIP_NEXT);
    reply_error(c, msg);
    conn_close_after_reply(c);
}

static void process_input(struct client *c)
{
    while (c->qpos < c->qlen) {
        if (c->flags & (CF_CLOSE_ASAP | CF_CLOSE_AFTER_REPLY | CF_BLOCKED_PAUSE | CF_BLOCKED |
                        CF_WAIT_FWD))
            break;
        struct resp_limits lim = client_limits(c);
        size_t consumed = 0;
        const char *err = NULL;
        enum resp_status st = resp_parse(&c->parser, c->qbuf + c->qpos, c->qlen - c->qpos,
                                         &lim, &consumed, &err);
        if (st == RESP_MORE)
            break;
        if (st == RESP_ERROR) {
            protocol_error(c, err);
            break;
        }
        if (c->parser.argc == 0) {
            c->qpos += consumed;
            resp_parser_reset(&c->parser);
            continue;
        }
        set_argv(c);
        c->qcmdlen = consumed;
        int rc = command_process(c);
        c->qcmdlen = 0;
        if (rc == CMD_HOLD) {
            /* Paused: keep the command in the buffer, run it on unpause. */
            c->flags |= CF_BLOCKED_PAUSE;
            break;
        }
        tracking_command_end(c, c->cmd);
        c->qpos += consumed;
        resp_parser_reset(&c->parser);
        c->argc = 0;
    }

    /* Compact: move the unparsed tail to the front of the buffer.  The
     * parser keeps offsets relative to the command start, so this is safe
     * while a command is half received. */
    if (c->qpos > 0) {
        size_t rest = c->qlen - c->qpos;
        if (rest)
            memmove(c->qbuf, c->qbuf + c->qpos, rest);
        c->qlen = rest;
        c->qpos = 0;
    }
    if (c->qlen == 0 && c->qcap > 4 * IOBUF_LEN) {
        rc_free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
}

/* ---- writing ---- */

/* Write as much of c's reply as the kernel takes.  Returns 0 if all was
 * written, 1 if some remains, -1 on a fatal error (client closed),
 * WRITE_STALLED if it stopped at a forwarded reply still awaited. */
#define WRITE_STALLED 2
static int write_some(struct client *c)
{
    size_t total = 0;
    while (c->reply_head) {
        struct iovec iov[16];
        int cnt = 0;
        size_t off = c->sentpos;
        size_t batch = 0;
        int stalled = 0;
        for (struct obuf *b = c->reply_head; b && cnt < 16; b = b->next) {
            if (b->waiting) {
                stalled = 1;    /* a forwarded reply not yet here */
                break;
            }
            if (b->used - off == 0) {
                off = 0;
                continue;
            }
            iov[cnt].iov_base = b->buf + off;
            iov[cnt].iov_len = b->used - off;
            batch += iov[cnt].iov_len;
            cnt++;
            off = 0;
        }
        if (cnt == 0) {
            if (stalled)
                return WRITE_STALLED;
            free_reply_list(c);
            break;
        }
        ssize_t n = writev(c->fd, iov, cnt);
        server.stat_io_writes++;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 1;
            log_verbose("Error writing to client: %s", strerror(errno));
            free_reply_list(c);
            conn_close_async(c);
            return -1;
        }
        server.stat_net_output_bytes += n;
        total += (size_t)n;
        c->reply_bytes -= (size_t)n;
        size_t left = (size_t)n;
        while (left && c->reply_head && !c->reply_head->waiting) {
            struct obuf *b = c->reply_head;
            size_t avail = b->used - c->sentpos;
            if (left < avail) {
                c->sentpos += left;
                left = 0;
                break;
            }
            left -= avail;
            c->reply_head = b->next;
            if (c->reply_head == NULL)
                c->reply_tail = NULL;
            c->sentpos = 0;
            rc_free(b);
        }
        /* Drop fully sent chunks even when n ended exactly at a boundary,
         * but never a hole still awaiting a forwarded reply: an empty hole
         * (used == 0 == sentpos) looks fully sent, and freeing it would
         * leave reply_fill() writing into freed memory. */
        while (c->reply_head && c->reply_head->used == c->sentpos &&
               c->reply_head != c->reply_tail && !c->reply_head->waiting) {
            struct obuf *b = c->reply_head;
            c->reply_head = b->next;
            c->sentpos = 0;
            rc_free(b);
        }
        if ((size_t)n < batch)
            return 1;
        if (stalled) {
            /* Drop what was sent in full up to the hole. */
            while (c->reply_head && !c->reply_head->waiting &&
                   c->reply_head->used == c->sentpos) {
                struct obuf *b = c->reply_head;
                c->reply_head = b->next;
                c->sentpos = 0;
                rc_free(b);
            }
            return WRITE_STALLED;
        }
        if (total >= MAX_WRITE_PER_EVENT)
            return c->reply_head ? 1 : 0;
    }
    if (c->reply_head && c->reply_head == c->reply_tail &&
        c->reply_head->used == c->sentpos) {
        free_reply_list(c);
    }
    return c->reply_head ? 1 : 0;
}

static void after_write(struct client *c, int rc)
{
    if (rc == WRITE_STALLED) {
        /* reply_fill() queues the client again when the hole is filled. */
        if (c->wev)
            event_del(c->wev);
        return;
    }
    if (rc == 0) {
        if (c->wev)
            event_del(c->wev);
        if (c->flags & CF_CLOSE_AFTER_REPLY)
            conn_close_async(c);
        return;
    }
    if (rc == 1) {
        if (c->wev == NULL)
            c->wev = event_new(server.base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
        event_add(c->wev, NULL);
    }
}

/* Does c acknowledge records that a failed write left out of the log?
 * Then its replies wait on the pending-write list, which before-sleep
 * looks at again after every event (the cron retries the write), not on
 * its write event, which would fire at once, again and again. */
static int held_by_log(struct client *c)
{
    if (!aof_pending_at(c->aof_ack))
        return 0;
    if (c->wev)
        event_del(c->wev);
    conn_want_write(c);
    return 1;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    (void)fd;
    (void)what;
    if (c->flags & CF_CLOSE_ASAP)
        return;
    /* Replies to writes not yet durable wait for before-sleep's fsync;
     * the event stays armed and fires again after it. */
    if (aof_holds_replies() || held_by_log(c))
        return;
    after_write(c, write_some(c));
}

/* Write the replies of the clients on the pending-write list; keep (the
 * caller of a busy script) stays on the list for later. */
static void write_pending(struct client *keep)
{
    struct client *c = server.pending_writes;
    server.pending_writes = NULL;
    while (c) {
        struct client *next = c->pw_next;
        c->flags &= ~CF_PENDING_WRITE;
        c->pw_next = NULL;
        if (c == keep) {
            conn_want_write(c);
        } else if (!(c->flags & CF_CLOSE_ASAP) && c->fd >= 0 && !held_by_log(c)) {
            /* A client waiting on its write event will be served there. */
            if (c->wev == NULL || !event_pending(c->wev, EV_WRITE, NULL))
                after_write(c, write_some(c));
        }
        c = next;
    }
}

void conn_before_sleep(void)
{
    /* Clients unblocked since the last pass resume their pipelined input
     * (Redis's processUnblockedClients). */
    struct client *u;
    while ((u = block_next_unblocked()) != NULL) {
        if (!(u->flags & CF_CLOSE_ASAP))
            process_input(u);
    }

    while ((u = resume_list) != NULL) {
        resume_list = u->resume_next;
        u->flags &= ~CF_RESUME;
        if (!(u->flags & CF_CLOSE_ASAP))
            process_input(u);
    }

    /* The log's records go to disk before any reply that acknowledges
     * them (fsynced first with appendfsync always). */
    aof_before_write();

    write_pending(NULL);

    struct client *c = server.to_close;
    server.to_close = NULL;
    while (c) {
        struct client *next = c->close_next;
        if (server.current_client == c)
            server.current_client = NULL;
        /* Unlink from the pending-write list if it is still there. */
        if (c->flags & CF_PENDING_WRITE) {
            struct client **pp = &server.pending_writes;
            while (*pp && *pp != c)
                pp = &(*pp)->pw_next;
            if (*pp)
                *pp = c->pw_next;
        }
        client_free(c);
        c = next;
    }
}

void conn_serve_busy(struct client *caller)
{
    /* Like Redis's processEventsWhileBlocked: one non-blocking pass over
     * the listeners and the clients, without the event loop (which is
     * running the script's command and cannot be re-entered).  The
     * caller's connection is not read; nothing is freed (the script may
     * hold clients), that waits for the next before-sleep. */
    struct pollfd pfds[256];
    struct client *owners[256];
    int n = listener_poll_fds(pfds, 33);
    int nl = n;
    for (struct client *c = server.clients; c && n < 256; c = c->next) {
        if (c == caller || c->fd < 0 || (c->flags & (CF_CLOSE_ASAP | CF_FAKE | CF_NODE)))
            continue;
        pfds[n].fd = c->fd;
        pfds[n].events = POLLIN;
        pfds[n].revents = 0;
        owners[n++] = c;
    }
    if (poll(pfds, (nfds_t)n, 0) > 0) {
        for (int i = 0; i < nl; i++)
            if (pfds[i].revents & POLLIN)
                listener_accept_ready(pfds[i].fd);
        for (int i = nl; i < n; i++)
            if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
                on_readable(pfds[i].fd, EV_READ, owners[i]);
    }
    write_pending(caller);
}

void conn_pause(long long ms, int all)
{
    long long end = server.mstime + ms;
    if (end < server.mstime)
        end = LLONG_MAX;
    /* A pause only extends a running one, and ALL wins over WRITE. */
    if (!server.pause_end_ms || end > server.pause_end_ms)
        server.pause_end_ms = end;
    server.pause_all = server.pause_all || all;
    if (!server.pause_end_ms)
        server.pause_all = all;
}

void conn_unpause_all(void)
{
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->flags & CF_BLOCKED_PAUSE) {
            c->flags &= ~CF_BLOCKED_PAUSE;
            process_input(c);
        }
    }
}

void conn_cron(void)
{
    time_t now = time(NULL);
    if (server.pause_end_ms && server.mstime >= server.pause_end_ms) {
        server.pause_end_ms = 0;
        conn_unpause_all();
    }
    if (server.timeout <= 0)
        return;
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->flags & (CF_MONITOR | CF_CLOSE_ASAP | CF_BLOCKED_PAUSE | CF_BLOCKED))
            continue;
        if (now - c->last_interaction > server.timeout) {
            log_verbose("Closing idle client");
            conn_close_async(c);
        }
    }
}

void conn_free_all(void)
{
    while (server.clients)
        client_free(server.clients);
    server.pending_writes = NULL;
    server.to_close = NULL;
}

static const char *client_flags_str(const struct client *c, char *buf)
{
    char *p = buf;
    if (c->flags & CF_MONITOR)
        *p++ = 'O';
    if (c->flags & CF_PUBSUB)
        *p++ = 'P';
    if (c->flags & CF_MULTI)
        *p++ = 'x';
    if (c->flags & CF_BLOCKED)
        *p++ = 'b';
    if (c->trk && (c->trk->flags & TRK_ON))
        *p++ = 't';
    if (c->trk && (c->trk->flags & TRK_BROKEN_REDIR))
        *p++ = 'R';
    if (c->trk && (c->trk->flags & TRK_BCAST))
        *p++ = 'B';
    if (c->flags & CF_DIRTY_CAS)
        *p++ = 'd';
    if (c->flags & CF_CLOSE_ASAP)
        *p++ = 'A';
    if (c->flags & CF_CLOSE_AFTER_REPLY)
        *p++ = 'c';
    if (c->flags & CF_UNIX)
        *p++ = 'U';
    if (c->flags & CF_NO_EVICT)
        *p++ = 'e';
    if (p == buf)
        *p++ = 'N';
    *p = '\0';
    return buf;
}

size_t conn_describe(const struct client *c, char *buf, size_t len)
{
    char flags[16];
    time_t now = time(NULL);
    const char *cmd = c->lastcmd ? c->lastcmd->fullname : "NULL";
    int n = snprintf(buf, len,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
        "sub=%zu psub=%zu ssub=%zu multi=%ld qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu "
        "rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%llu tot-mem=%zu events=%s cmd=%s user=%s "
        "redir=%lld resp=%d",
        (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (long long)(now - c->ctime), (long long)(now - c->last_interaction),
        client_flags_str(c, flags), c->db ? c->db->id : 0,
        pubsub_client_channels(c), pubsub_client_patterns(c),
        pubsub_client_shard_channels(c), multi_count(c),
        c->qlen - c->qpos, c->qcap - c->qlen, (size_t)0, multi_mem(c),
        c->qcap, c->qpeak, c->reply_head ? c->reply_head->used : (size_t)0,
        reply_list_len(c), conn_obuf_mem(c),
        sizeof(*c) + c->qcap + (size_t)conn_obuf_mem(c) + multi_mem(c),
        (c->wev && event_pending(c->wev, EV_WRITE, NULL)) ? "rw" : "r", cmd,
        acl_user_name(c->user),
        tracking_is_on(c) ? (long long)c->trk->redir : -1LL, c->resp);
    if (n < 0)
        n = 0;
    if ((size_t)n >= len)
        n = (int)len - 1;
    return (size_t)n;
}
