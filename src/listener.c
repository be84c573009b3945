/*
 * listener.c — accept loop for the configured addresses.
 *
 * Each accept event takes up to MAX_ACCEPTS connections at once, as Redis
 * does, so a burst of connections does not cost one loop iteration each.
 */
#include "listener.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
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

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    int is_unix = arg != NULL;
    (void)what;
    for (int i = 0; i < MAX_ACCEPTS; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("Accepting client connection: %s", strerror(errno));
            return;
        }
        conn_accept(fd, is_unix);
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
    on_accept(lfd, EV_READ, lfd == unix_fd ? (void *)1 : NULL);
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

/* Open TCP listeners into fds; returns count or -1 with err set. */
static int open_tcp(int *fds, char *err, size_t errlen)
{
    int n = 0;
    if (server.port == 0)
        return 0;
    for (int i = 0; i < server.bind_count && n < 16; i++) {
        const char *addr = server.bind[i];
        int optional = addr[0] == '-';
        const char *host = optional ? addr + 1 : addr;
        if (!strcmp(host, "*"))
            host = "0.0.0.0";
        else if (!strcmp(host, "::*"))
            host = "::";
        char e[256];
        int fd = net_listen_tcp(host, server.port, server.tcp_backlog, e, sizeof(e));
        if (fd < 0) {
            if (optional)
                continue;
            snprintf(err, errlen, "Could not create server TCP listening socket %s:%d: %s",
                     addr, server.port, e);
            for (int k = 0; k < n; k++)
                close(fds[k]);
            return -1;
        }
        fds[n++] = fd;
    }
    return n;
}

static void arm_tcp(const int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        server.listen_fds[i] = fds[i];
        server.listen_events[i] =
            event_new(server.base, fds[i], EV_READ | EV_PERSIST, on_accept, NULL);
        event_add(server.listen_events[i], NULL);
    }
    server.listen_count = n;
}

int listener_start(void)
{
    int fds[16] = {0};
    char err[512];
    int n = open_tcp(fds, err, sizeof(err));
    if (n < 0) {
        log_warn("%s", err);
        return -1;
    }
    arm_tcp(fds, n);
    if (server.unixsocket && server.unixsocket[0]) {
        unix_fd = net_listen_unix(server.unixsocket, server.unixsocketperm, server.tcp_backlog,
                                  err, sizeof(err));
        if (unix_fd < 0) {
            log_warn("Failed opening Unix socket: %s", err);
            return -1;
        }
        unix_ev = event_new(server.base, unix_fd, EV_READ | EV_PERSIST, on_accept, (void *)1);
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
    int fds[16] = {0};
    /* Close first: the new set may reuse the same address and port. */
    close_tcp();
    int n = open_tcp(fds, err, sizeof(err));
    if (n < 0) {
        log_warn("%s", err);
        return "Unable to listen on this port";
    }
    arm_tcp(fds, n);
    return NULL;
}
