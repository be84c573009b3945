/*
 * conn.h — client connections: accept, read and parse, queue replies,
 * write, and free at a safe point.
 */
#ifndef RC_CONN_H
#define RC_CONN_H

#include <stddef.h>
#include <stdint.h>

struct client;

enum conn_kind {
    CONN_TCP,           /* the port */
    CONN_UNIX,          /* the unix socket */
    CONN_CLUSTER        /* the cluster clients' port (ring mode, route.c) */
};

/* Take ownership of an accepted socket. */
void conn_accept(int fd, enum conn_kind kind);

/* The connected client with this id, or NULL. */
struct client *conn_by_id(uint64_t id);

/* Create a client with no connection (used to run commands internally). */
struct client *conn_fake_create(void);
void conn_fake_destroy(struct client **c);

/* Process c's input again at the next before-sleep (it waited for a
 * forwarded reply). */
void conn_resume(struct client *c);

/* The bytes of c's reply list, rc_malloc'd, and the list emptied (a
 * capturing fake client: route.c). */
char *conn_take_reply(struct client *c, size_t *len);

/* The bytes of c's reply list without copying them when they are in one
 * chunk (else a copy in *owned, to rc_free); then conn_reply_clear()
 * empties the list, keeping one chunk for the next reply (the fake
 * client scripts run their commands on). */
const char *conn_reply_view(struct client *c, size_t *len, char **owned);
void conn_reply_clear(struct client *c);

/* Queue c for the before-sleep write pass. */
void conn_want_write(struct client *c);

/* Close c once its pending reply is written / as soon as possible. */
void conn_close_after_reply(struct client *c);
void conn_close_async(struct client *c);

/* Enforce client-output-buffer-limit; schedules the close if exceeded. */
void conn_check_obuf_limits(struct client *c);

/* Before sleep: write pending replies, free closed clients. */
void conn_before_sleep(void);

/* While a script runs past busy-reply-threshold: accept, read and answer
 * the other clients once, without blocking (script.c's hook). */
void conn_serve_busy(struct client *caller);

/* Periodic: idle timeouts, pause expiry, buffer trimming. */
void conn_cron(void);

/* CLIENT PAUSE <ms> WRITE (all = 0) or ALL: client commands that may
 * write (all of them with ALL) are held for ms milliseconds from now; a
 * pause only extends a running one, and ALL wins over WRITE. */
void conn_pause(long long ms, int all);

/* Resume processing clients that were held by CLIENT PAUSE. */
void conn_unpause_all(void);

/* Free every client (shutdown). */
void conn_free_all(void);

/* Client kind for output buffer limits: 0 normal, 1 replica, 2 pubsub. */
int conn_class(const struct client *c);

/* Output buffer memory of c (bytes queued). */
unsigned long long conn_obuf_mem(const struct client *c);

/* "id=... addr=... " line as CLIENT LIST prints it, into buf. */
size_t conn_describe(const struct client *c, char *buf, size_t len);

/* Client names (CLIENT SETNAME, HELLO SETNAME): printable, no spaces. */
int client_name_valid(const char *p, size_t len);
struct slice;
void client_set_name(struct client *c, const struct slice *name);

#endif
