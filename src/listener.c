/*
 * listener.c — accept loop for the configured addresses.
 *
 * In ring mode a second set listens on the cluster clients' port (the port
 * plus cluster-client-port-offset): what CLUSTER SLOTS and NODES show, so
 * that cluster-aware clients, which send SCAN, KEYS and DBSIZE to every
 * primary, get each node's own share there (route.c).
 *
 * Each accept event takes up to MAX_ACCEPTS connections at once, as Redis
 * does, so a burst of connections does not cost one loop iteration each.
 */
#include "listener.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "netutil.h"
#include "server.h"

#define MAX_ACCEPTS 1000

static int unix_fd = -1;
static struct event *unix_ev;

/* arg: the enum conn_kind of the listener, as a pointer. */
static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    enum conn_kind kind = (enum conn_kind)(intptr_t)arg;
    (void)what;
    for (int i = 0; i < MAX_ACCEPTS; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("Accepting client connection: %s", strerror(errno));
            return;
        }
        conn_accept(fd, kind);
    }
}

int listener_poll_fds(struct pollfd *out, int max)
{
    int n = 0;
    for (int i = 0; i < server.listen_count && n < max; i++)
        out[n++] = (struct pollfd){.fd = server.listen_fds[i], .events = POLLIN};
    if (unix_fd >= 0 && n < max)
        out[n++] = (struct pollfd){.fd = unix_fd, .events = POLLIN};
    return n;
}

void listener_accept_ready(int lfd)
{
    enum conn_kind kind = lfd == unix_fd ? CONN_UNIX : CONN_TCP;
    for (int i = 0; i < server.listen_count; i++)
        if (server.listen_fds[i] == lfd && server.listen_cluster[i])
            kind = CONN_CLUSTER;
    on_accept(lfd, EV_READ, (void *)(intptr_t)kind);
}

static void close_tcp(void)
{
    for (int i = 0; i < server.listen_count; i++) {
        if (server.listen_events[i])
            event_free(server.listen_events[i]);
        close(server.listen_fds[i]);
        server.listen_events[i] = NULL;
    }
    server.listen_count = 0;
}

/* The cluster clients' port (ring mode): the port plus
 * cluster-client-port-offset; 0 when there is none. */
static int cluster_client_port(void)
{
    if (!server.cluster_enabled || server.port == 0 || server.cluster_client_port_offset == 0)
        return 0;
    long p = (long)server.port + server.cluster_client_port_offset;
    return p <= 65535 ? (int)p : 0;
}

/* Open a listener on port for each bind address into fds[*n..max);
 * returns 0, or -1 with err set (and every fd opened so far closed). */
static int open_port(int port, int *fds, int *n, int max, char *err, size_t errlen)
{
    for (int i = 0; i < server.bind_count && *n < max; i++) {
        const char *addr = server.bind[i];
        int optional = addr[0] == '-';
        const char *host = optional ? addr + 1 : addr;
        if (!strcmp(host, "*"))
            host = "0.0.0.0";
        else if (!strcmp(host, "::*"))
            host = "::";
        char e[256];
        int fd = net_listen_tcp(host, port, server.tcp_backlog, e, sizeof(e));
        if (fd < 0) {
            if (optional)
                continue;
            snprintf(err, errlen, "Could not create server TCP listening socket %s:%d: %s",
                     addr, port, e);
            for (int k = 0; k < *n; k++)
                close(fds[k]);
            return -1;
        }
        fds[(*n)++] = fd;
    }
    return 0;
}

/* Open the TCP listeners into fds, the cluster clients' ones from
 * *first_cluster on; returns the count or -1 with err set. */
static int open_tcp(int *fds, int *first_cluster, char *err, size_t errlen)
{
    int n = 0;
    *first_cluster = 0;
    if (server.port == 0)
        return 0;
    if (open_port(server.port, fds, &n, 16, err, errlen) != 0)
        return -1;
    *first_cluster = n;
    int cport = cluster_client_port();
    if (cport == 0 && server.cluster_enabled && server.cluster_client_port_offset != 0)
        log_warn("No cluster clients' port: port %d + cluster-client-port-offset %d is past "
                 "65535, so CLUSTER SLOTS and NODES show this node's port",
                 server.port, server.cluster_client_port_offset);
    if (cport != 0 && open_port(cport, fds, &n, 32, err, errlen) != 0)
        return -1;
    return n;
}

static void arm_tcp(const int *fds, int n, int first_cluster)
{
    for (int i = 0; i < n; i++) {
        enum conn_kind kind = i >= first_cluster ? CONN_CLUSTER : CONN_TCP;
        server.listen_fds[i] = fds[i];
        server.listen_cluster[i] = kind == CONN_CLUSTER;
        server.listen_events[i] = event_new(server.base, fds[i], EV_READ | EV_PERSIST,
                                            on_accept, (void *)(intptr_t)kind);
        event_add(server.listen_events[i], NULL);
    }
    server.listen_count = n;
}

int listener_start(void)
{
    int fds[32] = {0}, first_cluster;
    char err[512];
    int n = open_tcp(fds, &first_cluster, err, sizeof(err));
    if (n < 0) {
        log_warn("%s", err);
        return -1;
    }
    arm_tcp(fds, n, first_cluster);
    if (server.unixsocket && server.unixsocket[0]) {
        unix_fd = net_listen_unix(server.unixsocket, server.unixsocketperm, server.tcp_backlog,
                                  err, sizeof(err));
        if (unix_fd < 0) {
            log_warn("Failed opening Unix socket: %s", err);
            return -1;
        }
        unix_ev = event_new(server.base, unix_fd, EV_READ | EV_PERSIST, on_accept,
                            (void *)(intptr_t)CONN_UNIX);
        event_add(unix_ev, NULL);
    }
    if (n == 0 && unix_fd < 0) {
        log_warn("Configured to not listen anywhere, exiting.");
        return -1;
    }
    return 0;
}

void listener_stop(void)
{
    close_tcp();
    if (unix_ev) {
        event_free(unix_ev);
        unix_ev = NULL;
    }
    if (unix_fd >= 0) {
        close(unix_fd);
        if (server.unixsocket)
            unlink(server.unixsocket);
        unix_fd = -1;
    }
}

const char *listener_rebind(void)
{
    static char err[512];
    if (server.base == NULL)
        return NULL;    /* start-up: listener_start() will open them */
    int fds[32] = {0}, first_cluster;
    /* Close first: the new set may reuse the same address and port. */
    close_tcp();
    int n = open_tcp(fds, &first_cluster, err, sizeof(err));
    if (n < 0) {
        log_warn("%s", err);
        return "Unable to listen on this port";
    }
    arm_tcp(fds, n, first_cluster);
    return NULL;
}
