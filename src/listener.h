/*
 * listener.h — listening sockets (TCP per bind address, optional unix).
 */
#ifndef RC_LISTENER_H
#define RC_LISTENER_H

/* Open the configured sockets.  Returns 0, or -1 after logging why. */
int listener_start(void);
void listener_stop(void);
/* Re-open after CONFIG SET port/bind.  NULL on success, else an error. */
const char *listener_rebind(void);

#endif
