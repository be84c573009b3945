/*
 * netutil.h — small socket helpers: listening, options, peer names.
 */
#ifndef RC_NETUTIL_H
#define RC_NETUTIL_H

#include <stddef.h>

int net_listen_tcp(const char *addr, int port, int backlog, char *err, size_t errlen);
int net_listen_unix(const char *path, int perm, int backlog, char *err, size_t errlen);
void net_nonblock(int fd);
void net_tcp_setup(int fd, int keepalive_secs);
/* "ip:port" of the peer (local = 0) or of our end (local = 1). */
void net_peer_name(int fd, char *buf, size_t len, int local);
/* 1 if the peer of a TCP socket is on a loopback address. */
int net_is_loopback_peer(int fd);

#endif
