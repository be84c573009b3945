/*
 * reply.h — building RESP2/RESP3 replies into a client's output list.
 *
 * Command handlers see only these functions and their arguments; they never
 * touch a socket.  Every function picks the RESP2 or RESP3 form from the
 * client's protocol version.  Bytes are queued; conn.c writes them out in
 * the loop's before-sleep step.
 */
#ifndef RC_REPLY_H
#define RC_REPLY_H

#include <stddef.h>

struct client;
struct kv;

void reply_raw(struct client *c, const char *p, size_t len);
void reply_status(struct client *c, const char *s);
void reply_ok(struct client *c);
/* msg is the error without the leading '-', e.g. "ERR syntax error". */
void reply_error(struct client *c, const char *msg);
void reply_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_long(struct client *c, long long v);
void reply_bulk(struct client *c, const char *p, size_t len);
void reply_bulk_cstr(struct client *c, const char *s);
void reply_bulk_long(struct client *c, long long v);
void reply_bulk_double(struct client *c, double d);    /* always a bulk string */
void reply_double(struct client *c, double d);          /* RESP3 double, RESP2 bulk */
void reply_null(struct client *c);                      /* $-1 / _ */
void reply_null_array(struct client *c);                /* *-1 / _ */
void reply_bool(struct client *c, int b);               /* :1/:0 / #t/#f */
void reply_array_len(struct client *c, long n);
void reply_map_len(struct client *c, long n);           /* *2n / %n */
void reply_set_len(struct client *c, long n);           /* *n / ~n */
void reply_push_len(struct client *c, long n);          /* *n / >n */
void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext);
void reply_empty_array(struct client *c);
void reply_kv_string(struct client *c, const struct kv *o);
void reply_help(struct client *c, const char *cmd, const char *const *lines);

/* Lengths not known in advance: reserve a place, fill it before the
 * handler returns. */
void *reply_defer_len(struct client *c);
void reply_set_array_len(struct client *c, void *hole, long n);
void reply_set_map_len(struct client *c, void *hole, long n);
void reply_set_set_len(struct client *c, void *hole, long n);

/* A reply that another node will give (a forwarded command): reserve its
 * place in c's reply order; nothing after it is written until it is filled
 * with the complete RESP bytes of the reply.  NULL when c's replies are
 * suppressed (CLIENT REPLY OFF/SKIP); reply_fill(NULL) does nothing. */
void *reply_await(struct client *c);

/* Held replies (min-replica-acks): note where c's reply list ends, run a
 * command, then take what it replied out of the list into a buffer of
 * its own (rc_free it) and leave an awaited place there, filled later
 * with reply_fill().  Returns the place, or NULL (and *out NULL) when the
 * command replied nothing. */
struct reply_mark {
    struct obuf *tail;
    size_t used;
};
void reply_mark(const struct client *c, struct reply_mark *m);
void *reply_hold_since(struct client *c, const struct reply_mark *m, char **out, size_t *len);
void reply_fill(struct client *c, void *hole, const char *p, size_t len);

/* Common errors, with Redis's exact texts. */
void reply_err_arity(struct client *c, const char *cmdname);
void reply_err_syntax(struct client *c);
void reply_err_wrongtype(struct client *c);
void reply_err_not_int(struct client *c);
void reply_err_not_float(struct client *c);

extern const char *const ERR_SYNTAX;
extern const char *const ERR_WRONGTYPE;
extern const char *const ERR_NOT_INT;
extern const char *const ERR_NOT_FLOAT;
extern const char *const ERR_OVERFLOW;
extern const char *const ERR_NO_SUCH_KEY;
extern const char *const ERR_OUT_OF_RANGE;
extern const char *const ERR_DB_INDEX;

#endif
