/*
 * netutil.c — socket helpers shared by the listener and connections.
 */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

void net_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void net_tcp_setup(int fd, int keepalive_secs)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (keepalive_secs > 0) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        int idle = keepalive_secs;
        int intvl = keepalive_secs / 3 ? keepalive_secs / 3 : 1;
        int cnt = 3;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
}

int net_listen_tcp(const char *addr, int port, int backlog, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    const char *host = addr;
    if (host[0] == '-')     /* "-::1": optional address, as in redis.conf */
        host++;
    int rv = getaddrinfo(host, portstr, &hints, &res);
    if (rv != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rv));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (p->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0)
        net_nonblock(fd);
    return fd;
}

int net_listen_unix(const char *path, int perm, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "unix socket path too long");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (perm)
        chmod(path, (mode_t)perm);
    net_nonblock(fd);
    return fd;
}

void net_peer_name(int fd, char *buf, size_t len, int local)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    int rc = local ? getsockname(fd, (struct sockaddr *)&sa, &sl)
                   : getpeername(fd, (struct sockaddr *)&sa, &sl);
    if (rc < 0) {
        snprintf(buf, len, "?:0");
        return;
    }
    char ip[INET6_ADDRSTRLEN];
    int port = 0;
    if (sa.ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    } else {
        snprintf(buf, len, "/unix:0");
        return;
    }
    snprintf(buf, len, "%s:%d", ip, port);
}

int net_is_loopback_peer(int fd)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) < 0)
        return 0;
    if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&sa;
        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
            return 1;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
            return s->sin6_addr.s6_addr[12] == 127;
        return 0;
    }
    return 1;   /* unix sockets are local */
}
