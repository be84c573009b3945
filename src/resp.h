/*
 * resp.h — I/O-free parser for client requests in the Redis protocol.
 *
 * One parser serves client connections, append-only log replay and
 * replication links.  It takes a byte range that starts at the beginning of
 * a command and answers: a complete command (RESP_DONE), not enough bytes yet
 * (RESP_MORE), or a protocol error (RESP_ERROR).  It accepts exactly what
 * redis-server 7.0 accepts (networking.c, processInlineBuffer and
 * processMultibulkBuffer) and rejects it with the same messages:
 *
 *   multibulk  "*<count>\r\n" then <count> times "$<len>\r\n<len bytes>\r\n"
 *   inline     "SET a b\r\n", split like redis-cli/sdssplitargs splits lines
 *
 * The parser never copies argument data: a finished command is described by
 * (offset, length) pairs relative to the start of the command in the
 * caller's buffer.  It keeps no pointer into that buffer between calls, so
 * the caller may grow, move or refill it while a command is incomplete, as
 * long as the bytes already handed over stay the same and still start at
 * buf[0].  What has been examined is remembered, so a large value or a long
 * pipeline arriving in small reads is not scanned again from the start.
 *
 * Limits live here too (struct resp_limits); every read the parser asks for
 * is bounded by them.  The argument array grows as arguments actually arrive,
 * never from the count a client announces.
 */
#ifndef RC_RESP_H
#define RC_RESP_H

#include <stddef.h>

enum resp_status {
    RESP_DONE,  /* one whole command parsed; see resp_parse() */
    RESP_MORE,  /* the command is incomplete; call again with more bytes */
    RESP_ERROR  /* protocol error; the connection should be closed */
};

/* One argument: buf[off .. off+len) relative to the start of the command. */
struct resp_arg {
    size_t off;
    size_t len;
};

/*
 * Defaults, matching redis-server 7.0.  Redis 7.0 caps the multibulk count
 * at INT_MAX (older releases used 1024*1024); memory is bounded anyway,
 * because the argument array only grows as arguments arrive.
 */
#define RESP_DEFAULT_MAX_BULK (512LL * 1024 * 1024)   /* proto-max-bulk-len */
#define RESP_DEFAULT_MAX_MULTIBULK 2147483647LL        /* INT_MAX */
#define RESP_UNAUTH_MAX_MULTIBULK 10LL
#define RESP_UNAUTH_MAX_BULK 16384LL
#define RESP_DEFAULT_MAX_INLINE ((size_t)64 * 1024)   /* PROTO_INLINE_MAX_SIZE */

struct resp_limits {
    /* A bulk longer than this is "invalid bulk length".  Redis does not
     * apply proto-max-bulk-len to its master link: pass LLONG_MAX there. */
    long long max_bulk;
    /* A multibulk count above this is "invalid multibulk length". */
    long long max_multibulk;
    /* 0 = no extra limit.  Before AUTH: 16384, and a longer bulk is
     * "unauthenticated bulk length" (checked after max_bulk). */
    long long max_bulk_unauth;
    /* Unread bytes without a line terminator beyond this are "too big
     * inline request" / "too big mbulk count string" / "too big bulk
     * count string".  As in Redis, a line is only limited while its end
     * has not arrived: Redis reads 16KB at a time, so a caller that wants
     * the same bound reads at most that much per resp_parse() call. */
    size_t max_inline;
    /* 0 = no extra limit.  Before AUTH: 10, and a larger count is
     * "unauthenticated multibulk length" (checked after max_multibulk).
     * Kept apart from max_multibulk because Redis reports the two cases
     * with different messages. */
    long long max_multibulk_unauth;
};

/*
 * Parser state.  The public part is the result of the last RESP_DONE and is
 * valid until resp_parser_reset() or resp_parser_deinit(); the rest is
 * private to resp.c.
 */
struct resp_parser {
    size_t argc;            /* number of arguments (0: empty command) */
    struct resp_arg *argv;  /* argc entries, owned by the parser */
    int is_inline;          /* the command used the inline form */

    /* private */
    size_t argv_cap;        /* entries allocated in argv */
    int state;
    size_t pos;             /* first byte not yet consumed by the parser */
    size_t scan;            /* where the search for a line end resumes */
    long long pending;      /* multibulk: arguments still to come */
    long long bulklen;      /* multibulk: length of the bulk being read */
    size_t need;            /* see resp_parser_need() */
    size_t consumed;        /* bytes of the finished command */
    const char *err;        /* message of a sticky RESP_ERROR */
    char errbuf[48];        /* storage for messages that quote input */
};

/* Fill *lim with Redis's defaults for an authenticated client. */
void resp_limits_init(struct resp_limits *lim);

/* Prepare a parser for its first command.  Allocates nothing. */
void resp_parser_init(struct resp_parser *p);

/*
 * Forget the current command (finished, failed or partial) and get ready for
 * the next one, which will start at buf[0] of the next resp_parse() call.
 * A small argv array is kept for reuse; a big one is freed.
 */
void resp_parser_reset(struct resp_parser *p);

/* Free the argv array.  The parser may be initialised again afterwards. */
void resp_parser_deinit(struct resp_parser *p);

/*
 * Parse at most one command from buf[0 .. len), where buf[0] is the first
 * byte of the command.  Between calls for the same command the caller may
 * move the buffer and append to it, but must not change or drop the bytes
 * passed before; len must never shrink.
 *
 * RESP_DONE   *consumed is the size of the whole command; p->argc and
 *             p->argv describe it.  argc is 0 for an empty inline line and
 *             for "*0\r\n" or a negative count; Redis skips these silently.
 *             Call resp_parser_reset() before parsing the next command.
 * RESP_MORE   more bytes are needed; resp_parser_need() says how many the
 *             buffer must hold at least.  *consumed is 0.
 * RESP_ERROR  *err is Redis's message without the "-ERR " prefix, e.g.
 *             "Protocol error: invalid bulk length".  It is a static string
 *             or, for "expected '$', got 'X'", points into the parser (valid
 *             until reset or deinit); it never contains CR or LF.  Further
 *             calls return the same error until resp_parser_reset().
 *
 * The buffer is written to in one case only: the arguments of an inline
 * command that use quotes are decoded in place (escapes and quotes removed),
 * which is possible because the decoded form is never longer.  That happens
 * once, when RESP_DONE is returned for the line; the bytes of the line
 * outside the arguments are then unspecified.  Multibulk commands, partial
 * commands and invalid lines are never modified.
 *
 * Argument data is never copied; the only allocation is the argv array,
 * which grows with the arguments actually received.
 */
enum resp_status resp_parse(struct resp_parser *p, char *buf, size_t len,
                            const struct resp_limits *lim, size_t *consumed,
                            const char **err);

/*
 * After RESP_MORE: the number of bytes, counted from buf[0], that the buffer
 * must hold before the parser can make progress.  Inside a bulk this is the
 * end of the bulk and its CRLF, so the caller can size its buffer once;
 * while waiting for a line it is one more byte than was passed.  Saturates
 * at SIZE_MAX.
 */
size_t resp_parser_need(const struct resp_parser *p);

#endif
