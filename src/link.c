/*
 * link.c — outgoing RESP links to peer nodes (see link.h).
 *
 * Each link owns a socket, an output buffer written once per loop turn
 * (so the requests of a whole pipeline, from many clients, leave in one
 * write), an input buffer framed by respframe.c, and a FIFO of the
 * callbacks waiting for replies.  A failure empties the FIFO with error
 * callbacks; the next request reconnects, but not sooner than
 * RECONNECT_MS after the last failure (requests meanwhile are refused at
 * once, so a dead peer costs nothing).
 */
#include "link.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster.h"
#include "netutil.h"
#include "respframe.h"
#include "server.h"
#include "tracking.h"

#define RECONNECT_MS 100
#define READ_CHUNK (16 * 1024)

enum link_state { L_IDLE, L_CONNECTING, L_OPEN };

struct req {
    link_reply_fn *fn;          /* NULL: reply dropped */
    void *priv;
    long long sent_ms;
};

struct link {
    char *host;
    int port;
    int resp;
    long long timeout_ms;
    char *name;
    int fd;
    enum link_state state;
    long long failed_ms;        /* last failure, for the reconnect delay */
    long long last_reply_ms;
    int db;
    char *user;                 /* ACL user last named on this connection (RINGNODE ASUSER) */
    struct event *rev, *wev;

    char *out;                  /* bytes to write: out[opos..olen) */
    size_t olen, opos, ocap;
    char *in;                   /* bytes read: in[ipos..ilen) */
    size_t ilen, ipos, icap;
    struct rframe frame;

    struct req *q;              /* ring buffer of waiting callbacks */
    size_t qhead, qlen, qcap;

    char peer_id[41];           /* the node it means to reach ("" any): in its handshake */
    int tracking;               /* carried tracking registrations (tracking_ring.c) */
    int in_callback;
    int doomed;                 /* destroy once the callback returns */
    struct link *prev, *next;   /* all links */
    int want_write;
};

static struct link *all_links;

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

struct link *link_create(const char *host, int port, int resp, long long timeout_ms,
                         const char *name)
{
    struct link *l = rc_calloc(sizeof(*l));
    l->host = rc_strndup(host, strlen(host));
    l->port = port;
    l->resp = resp;
    l->timeout_ms = timeout_ms;
    l->name = rc_strndup(name, strlen(name));
    l->fd = -1;
    l->next = all_links;
    if (all_links)
        all_links->prev = l;
    all_links = l;
    return l;
}

/* ---- the callback queue ---- */

static void q_push(struct link *l, link_reply_fn *fn, void *priv)
{
    if (l->qlen == l->qcap) {
        size_t cap = l->qcap ? l->qcap * 2 : 16;
        struct req *n = rc_malloc(cap * sizeof(*n));
        for (size_t i = 0; i < l->qlen; i++)
            n[i] = l->q[(l->qhead + i) % l->qcap];
        rc_free(l->q);
        l->q = n;
        l->qcap = cap;
        l->qhead = 0;
    }
    struct req *r = &l->q[(l->qhead + l->qlen) % l->qcap];
    r->fn = fn;
    r->priv = priv;
    r->sent_ms = server.mstime;
    l->qlen++;
}

static struct req q_pop(struct link *l)
{
    struct req r = l->q[l->qhead];
    l->qhead = (l->qhead + 1) % l->qcap;
    l->qlen--;
    return r;
}

/* ---- failure ---- */

/* Close the connection.  With requests unanswered or bytes unsent the
 * close is abortive (SO_LINGER 0: the kernel drops its send queue and
 * resets the connection): a plain close() would leave the kernel
 * retransmitting the queued requests, and a peer cut off by a silent
 * partition would run them once it heals, long after their clients were
 * told TRYAGAIN (nothing ran) and may have moved on or retried. */
static void close_socket(struct link *l)
{
    if (l->rev)
        event_free(l->rev);
    if (l->wev)
        event_free(l->wev);
    l->rev = l->wev = NULL;
    if (l->fd >= 0 && (l->qlen || l->olen > l->opos)) {
        struct linger lg = {1, 0};
        (void)setsockopt(l->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->state = L_IDLE;
    l->olen = l->opos = 0;
    l->ilen = l->ipos = 0;
    l->db = 0;
    rc_free(l->user);
    l->user = NULL;
    rframe_init(&l->frame, NULL);
}

static void free_link(struct link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        all_links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    rc_free(l->out);
    rc_free(l->in);
    rc_free(l->q);
    rc_free(l->host);
    rc_free(l->name);
    rc_free(l->user);
    rc_free(l);
}

/* Close the connection and fail every waiting request with err. */
static void link_fail(struct link *l, const char *err)
{
    if (l->state != L_IDLE || l->qlen)
        log_verbose("Link %s to %s:%d failed: %s", l->name, l->host, l->port, err);
    close_socket(l);
    l->failed_ms = server.mstime;
    if (l->tracking) {
        /* The peer forgot what it tracked for this connection. */
        l->tracking = 0;
        tracking_ring_link_lost();
    }
    l->in_callback++;
    while (l->qlen) {
        struct req r = q_pop(l);
        if (r.fn)
            r.fn(r.priv, NULL, 0, err);
    }
    l->in_callback--;
}

void link_set_peer_id(struct link *l, const char *id)
{
    snprintf(l->peer_id, sizeof(l->peer_id), "%s", id ? id : "");
}

void link_destroy(struct link **lp)
{
    struct link *l = *lp;
    if (l == NULL)
        return;
    *lp = NULL;
    if (l->in_callback) {
        l->doomed = 1;
        return;
    }
    link_fail(l, "TRYAGAIN the link to the node was closed");
    free_link(l);
}

/* ---- connecting ---- */

static void out_append(struct link *l, const char *p, size_t len)
{
    if (l->ocap - l->olen < len) {
        if (l->opos) {
            memmove(l->out, l->out + l->opos, l->olen - l->opos);
            l->olen -= l->opos;
            l->opos = 0;
        }
        if (l->ocap - l->olen < len) {
            size_t cap = l->ocap ? l->ocap : 4096;
            while (cap - l->olen < len)
                cap *= 2;
            l->out = rc_realloc(l->out, cap);
            l->ocap = cap;
        }
    }
    memcpy(l->out + l->olen, p, len);
    l->olen += len;
    l->want_write = 1;
}

static void append_argv(struct link *l, int argc, const char *const *argv, const size_t *lens)
{
    char hdr[RC_RESP_HEADER_MAX];
    out_append(l, hdr, rc_resp_header(hdr, '*', argc));
    for (int i = 0; i < argc; i++) {
        out_append(l, hdr, rc_resp_header(hdr, '$', (long long)lens[i]));
        out_append(l, argv[i], lens[i]);
        out_append(l, "\r\n", 2);
    }
}

static void on_hello(void *priv, const char *reply, size_t len, const char *err)
{
    struct link *l = priv;
    if (reply && len > 0 && (reply[0] == '-' || reply[0] == '!')) {
        int n = (int)(len > 200 ? 200 : len - 2);
        log_warn("Node %s:%d refused our handshake: %.*s", l->host, l->port, n, reply + 1);
        /* Failing here fails what waits behind the handshake too; they
         * are told why (its first word, ERR, left out). */
        const char *why = reply + 1;
        if (n > 4 && memcmp(why, "ERR ", 4) == 0) {
            why += 4;
            n -= 4;
        }
        char msg[256];
        snprintf(msg, sizeof(msg), "CLUSTERDOWN the peer node refused the node handshake (%.*s)",
                 n, why);
        link_fail(l, msg);
    }
    (void)err;
}

static int start_connect(struct link *l, const char **err)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", l->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(l->host, portstr, &hints, &res) != 0 || res == NULL) {
        *err = "CLUSTERDOWN cannot resolve the peer node's address";
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        *err = "TRYAGAIN cannot create a socket to the peer node";
        return -1;
    }
    net_nonblock(fd);
    net_tcp_setup(fd, server.tcp_keepalive);
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        *err = "TRYAGAIN the peer node refused the connection";
        return -1;
    }
    l->fd = fd;
    l->state = L_CONNECTING;
    l->rev = event_new(server.base, fd, EV_READ | EV_PERSIST, on_read, l);
    l->wev = event_new(server.base, fd, EV_WRITE | EV_PERSIST, on_write, l);
    event_add(l->rev, NULL);
    event_add(l->wev, NULL);
    rframe_init(&l->frame, NULL);

    /* The handshake goes first; requests queue behind it. */
    char resp[2] = {(char)('0' + l->resp), 0};
    const char *secret = server.cluster_secret ? server.cluster_secret : "";
    const char *args[] = {"RINGNODE", "HELLO", secret, cluster_myid(), resp, l->peer_id};
    size_t lens[] = {8, 5, strlen(secret), strlen(cluster_myid()), 1, strlen(l->peer_id)};
    append_argv(l, 6, args, lens);
    q_push(l, on_hello, l);
    return 0;
}

static int ensure_connected(struct link *l, const char **err)
{
    if (l->state != L_IDLE)
        return 0;
    if (l->failed_ms && server.mstime - l->failed_ms < RECONNECT_MS) {
        *err = "TRYAGAIN the peer node is unreachable";
        return -1;
    }
    return start_connect(l, err);
}

void link_clear_backoff(struct link *l)
{
    if (l)
        l->failed_ms = 0;
}

static int admit(struct link *l, size_t len, const char **err)
{
    if (l->doomed) {
        *err = "TRYAGAIN the link to the node is closing";
        return -1;
    }
    if (l->qlen >= LINK_MAX_PENDING || l->olen - l->opos + len > LINK_MAX_OUTPUT) {
        *err = "TRYAGAIN too many requests queued for the peer node";
        return -1;
    }
    return ensure_connected(l, err);
}

int link_send(struct link *l, const char *req, size_t len, link_reply_fn *fn, void *priv,
              const char **err)
{
    if (admit(l, len, err) != 0)
        return -1;
    out_append(l, req, len);
    q_push(l, fn, priv);
    return 0;
}

int link_send_argv(struct link *l, int argc, const char *const *argv, const size_t *lens,
                   link_reply_fn *fn, void *priv, const char **err)
{
    size_t total = 16;
    for (int i = 0; i < argc; i++)
        total += lens[i] + 16;
    if (admit(l, total, err) != 0)
        return -1;
    append_argv(l, argc, argv, lens);
    q_push(l, fn, priv);
    return 0;
}

void link_forget(struct link *l, void *priv)
{
    for (size_t i = 0; i < l->qlen; i++) {
        struct req *r = &l->q[(l->qhead + i) % l->qcap];
        if (r->priv == priv)
            r->fn = NULL;
    }
}

int link_db(const struct link *l) { return l->db; }
void link_set_db(struct link *l, int db) { l->db = db; }
const char *link_user(const struct link *l) { return l->user; }
void link_set_user(struct link *l, const char *name)
{
    rc_free(l->user);
    l->user = name ? rc_strndup(name, strlen(name)) : NULL;
}
int link_connected(const struct link *l) { return l->state == L_OPEN; }
void link_mark_tracking(struct link *l) { l->tracking = 1; }
int link_tracking(struct link *l, int clear)
{
    int was = l->tracking;
    if (clear)
        l->tracking = 0;
    return was;
}
size_t link_pending(const struct link *l) { return l->qlen; }
size_t link_output(const struct link *l) { return l->olen - l->opos; }
long long link_last_reply_ms(const struct link *l) { return l->last_reply_ms; }
void link_set_timeout(struct link *l, long long timeout_ms) { l->timeout_ms = timeout_ms; }

/* ---- I/O ---- */

/* Write what is queued.  Returns -1 after failing the link. */
static int flush_out(struct link *l)
{
    while (l->opos < l->olen) {
        ssize_t n = write(l->fd, l->out + l->opos, l->olen - l->opos);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            link_fail(l, "TRYAGAIN writing to the peer node failed");
            return -1;
        }
        l->opos += (size_t)n;
        server.stat_net_output_bytes += n;
    }
    if (l->opos == l->olen) {
        l->opos = l->olen = 0;
        if (l->ocap > 1024 * 1024) {
            rc_free(l->out);
            l->out = NULL;
            l->ocap = 0;
        }
        if (l->wev)
            event_del(l->wev);
    } else if (l->wev) {
        event_add(l->wev, NULL);
    }
    return 0;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct link *l = arg;
    (void)what;
    if (l->state == L_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            link_fail(l, "TRYAGAIN the peer node refused the connection");
            return;
        }
        l->state = L_OPEN;
    }
    flush_out(l);
}

/* Hand every complete reply in the input buffer to its callback. */
static void dispatch(struct link *l)
{
    l->in_callback++;
    while (l->ipos < l->ilen && !l->doomed && l->state != L_IDLE) {
        size_t flen = 0;
        int st = rframe_scan(&l->frame, l->in + l->ipos, l->ilen - l->ipos, &flen);
        if (st == RFRAME_MORE)
            break;
        if (st != RFRAME_ERR && tracking_ring_is_push(l->in + l->ipos, flen)) {
            /* An invalidation the peer pushed: not a reply to a request. */
            const char *p = l->in + l->ipos;
            l->ipos += flen;
            tracking_ring_push(p, flen);
            continue;
        }
        if (st == RFRAME_ERR || l->qlen == 0) {
            log_warn("Protocol error from node %s:%d on link %s: %s", l->host, l->port,
                     l->name, st == RFRAME_ERR ? "malformed reply" : "unrequested reply");
            link_fail(l, "TRYAGAIN the peer node sent a malformed reply");
            break;
        }
        l->last_reply_ms = server.mstime;
        struct req r = q_pop(l);
        const char *p = l->in + l->ipos;
        l->ipos += flen;
        if (r.fn)
            r.fn(r.priv, p, flen, NULL);
    }
    l->in_callback--;
    if (l->ipos == l->ilen)
        l->ipos = l->ilen = 0;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct link *l = arg;
    (void)what;
    if (l->ipos > 0 && l->ipos == l->ilen)
        l->ipos = l->ilen = 0;
    if (l->icap - l->ilen < READ_CHUNK) {
        if (l->ipos > 0) {
            memmove(l->in, l->in + l->ipos, l->ilen - l->ipos);
            l->ilen -= l->ipos;
            l->ipos = 0;  /* the framer's progress is relative to in + ipos */
        }
        if (l->icap - l->ilen < READ_CHUNK) {
            l->icap = l->icap ? l->icap * 2 : 2 * READ_CHUNK;
            l->in = rc_realloc(l->in, l->icap);
        }
    }
    ssize_t n = read(fd, l->in + l->ilen, l->icap - l->ilen);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        link_fail(l, "TRYAGAIN the peer node closed the link");
        return;
    }
    if (n < 0)
        return;
    if (l->state == L_CONNECTING)
        l->state = L_OPEN;
    l->ilen += (size_t)n;
    server.stat_net_input_bytes += n;
    dispatch(l);
    if (l->doomed) {
        l->doomed = 0;
        struct link *tmp = l;
        link_destroy(&tmp);
    }
}

void links_before_sleep(void)
{
    for (struct link *l = all_links; l; l = l->next) {
        if (!l->want_write)
            continue;
        l->want_write = 0;
        if (l->state == L_OPEN)
            flush_out(l);
    }
}

void links_cron(void)
{
    for (struct link *l = all_links; l; l = l->next) {
        if (l->timeout_ms <= 0 || l->qlen == 0)
            continue;
        long long oldest = l->q[l->qhead].sent_ms;
        if (server.mstime - oldest > l->timeout_ms)
            link_fail(l, "TRYAGAIN the peer node did not answer within cluster-node-timeout");
    }
}

size_t links_memory(void)
{
    size_t n = 0;
    for (struct link *l = all_links; l; l = l->next)
        n += l->ocap + l->icap + l->qcap * sizeof(struct req) + sizeof(*l);
    return n;
}
