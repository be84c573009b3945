/*
 * listener.h — listening sockets (TCP per bind address, optional unix).
 */
#ifndef RC_LISTENER_H
#define RC_LISTENER_H

/* Open the configured sockets.  Returns 0, or -1 after logging why. */
int listener_start(void);

/* The listening sockets, for a poll() of their own (conn_serve_busy):
 * fills out[0..max) and returns how many; accept what one has pending. */
struct pollfd;
int listener_poll_fds(struct pollfd *out, int max);
void listener_accept_ready(int lfd);
void listener_stop(void);
/* Re-open after CONFIG SET port/bind.  NULL on success, else an error. */
const char *listener_rebind(void);

#endif
