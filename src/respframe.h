/*
 * respframe.h — I/O-free framer for RESP2/RESP3 replies from a peer node.
 *
 * A node forwards a client's command to the peer that owns the key and
 * relays the peer's reply bytes to the client unchanged.  For that it only
 * needs to know where one complete reply ends: the framer walks the reply's
 * headers and skips its payloads, builds no objects and copies nothing.
 *
 * Every reply type of RESP2 and RESP3 is understood:
 *
 *   + simple string   - simple error   : integer   _ null   , double
 *   # boolean         ( big number     $ bulk (and $-1)    ! blob error
 *   = verbatim ("txt:..." : at least 4 bytes, ':' at offset 3)
 *   * array (and *-1)   ~ set   > push   % map (n pairs = 2n values)
 *   | attribute: n pairs, then the reply it annotates, all one frame
 *
 * Lines end in CRLF and payloads are followed by CRLF, both checked: a
 * framer that drifts would hand a client the tail of someone else's reply,
 * so it is stricter than the request parser in resp.c.  Lengths and
 * integers follow Redis's string2ll() (no '+', no leading zeros, no
 * spaces); -1 is accepted for "$" and "*" only, the RESP2 nulls.  A double
 * is [+-]inf, [+-]nan or a non-empty run of [0-9+-.eE] holding a digit; a
 * big number is an optional '-' and digits; a boolean is "t" or "f"; a null
 * line is empty; simple strings and errors hold no LF.  RESP3 streamed
 * strings and aggregates ("$?", "*?", ";", ".") are not accepted: Redis
 * never sends them.
 *
 * The framer keeps no pointer into the buffer between calls, so the caller
 * may move or grow it while a reply is incomplete, as long as the bytes
 * already passed stay the same and still start at buf[0].  What has been
 * scanned is remembered (the position, a stack of elements still owed at
 * each nesting level, the resume point of a line search), so a large reply
 * that arrives in many reads is scanned once, not from its start each time.
 */
#ifndef RC_RESPFRAME_H
#define RC_RESPFRAME_H

#include <stddef.h>
#include <stdint.h>

enum rframe_status {
    RFRAME_OK,   /* one whole reply; see rframe_scan() */
    RFRAME_MORE, /* the reply is incomplete; call again with more bytes */
    RFRAME_ERR   /* not a valid reply, or over a limit: drop the link */
};

/*
 * Limits, all checked before anything is waited for, so a peer can never
 * make the caller buffer more than they allow.
 *
 *   max_bulk   payload of "$", "!" and "=" (default 512 MB, Redis's
 *              proto-max-bulk-len)
 *   max_elems  the count announced by an aggregate header: elements for
 *              "*", "~", ">", pairs for "%" and "|" (default 2^31 - 1)
 *   max_line   bytes between a type byte and its CR (default 64 KB, Redis's
 *              PROTO_INLINE_MAX_SIZE).  Checked as bytes arrive: a line
 *              already longer than this is an error before its CR comes.
 *   max_depth  aggregates open at once, attributes and empty aggregates
 *              included; a top-level array is depth 1 (default and
 *              ceiling: RFRAME_MAX_DEPTH; larger values are clamped)
 */
#define RFRAME_MAX_DEPTH 64
#define RFRAME_DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define RFRAME_DEFAULT_MAX_ELEMS 2147483647LL
#define RFRAME_DEFAULT_MAX_LINE ((size_t)64 * 1024)

struct rframe_limits {
    long long max_bulk;
    long long max_elems;
    size_t max_line;
    unsigned max_depth;
};

/*
 * Framer state.  The public part describes the reply of the last RFRAME_OK
 * and is valid until the next rframe_scan(); the rest is private.
 */
struct rframe {
    char type;    /* type byte of the reply proper, e.g. '*', '-', '>' */
    size_t body;  /* offset of the reply proper: past top-level attributes
                   * ("|1\r\n+k\r\n+v\r\n:5\r\n" has type ':', body 12) */

    /* private */
    struct rframe_limits lim;
    int state;
    size_t pos;        /* next header, or the payload being skipped */
    size_t scan;       /* where the CR search of the current line resumes */
    long long bulk;    /* payload length while skipping one */
    char bulk_type;    /* '$', '!' or '=' */
    size_t need;       /* see rframe_need() */
    const char *err;   /* why the last RFRAME_ERR */
    unsigned depth;    /* aggregates open */
    uint64_t attr;     /* bit i: level i is an attribute */
    long long left[RFRAME_MAX_DEPTH]; /* values still owed at each level */
};

/* Fill *lim with the defaults above. */
void rframe_limits_init(struct rframe_limits *lim);

/* Prepare f for a reply starting at buf[0].  lim is copied; NULL means the
 * defaults.  Allocates nothing, so there is no deinit. */
void rframe_init(struct rframe *f, const struct rframe_limits *lim);

/* Forget a partial or failed reply, keeping the limits. */
void rframe_reset(struct rframe *f);

/*
 * Find the end of the reply that starts at buf[0].  Never reads at or
 * beyond buf[len].  Between calls for the same reply the caller may move
 * the buffer and append to it, but not change or drop what it passed; len
 * must never shrink (a shorter len than already scanned is RFRAME_ERR).
 *
 * RFRAME_OK    *frame_len is the size of the whole reply (attributes
 *              included); f->type and f->body describe it.  The state is
 *              reset: the next call scans a new reply at its own buf[0].
 * RFRAME_MORE  *frame_len is 0; rframe_need() says how many bytes the
 *              buffer must hold before the framer can progress.
 * RFRAME_ERR   *frame_len is 0; rframe_error() says why.  Sticky until
 *              rframe_reset().
 */
enum rframe_status rframe_scan(struct rframe *f, const char *buf, size_t len,
                               size_t *frame_len);

/*
 * After RFRAME_MORE: bytes, counted from buf[0], the buffer must hold at
 * least.  Inside a payload this is the payload's end plus CRLF, so a
 * caller can size its buffer once; waiting for a line it is one more byte
 * than was passed.  Saturates at SIZE_MAX.
 */
size_t rframe_need(const struct rframe *f);

/* After RFRAME_ERR: a static message (no CR or LF), else NULL. */
const char *rframe_error(const struct rframe *f);

/*
 * Helpers for merging the replies of several peers.  Each takes one
 * complete reply proper (buf + f->body .. buf + frame_len, attributes
 * already skipped) and never trusts it: every read is bounds-checked.
 */

/* 1 if the reply is a simple error or a blob error, else 0. */
int rframe_is_error(const char *reply, size_t len);

/* 1 and *out if the reply is exactly ":<integer>\r\n", else 0. */
int rframe_read_int(const char *reply, size_t len, long long *out);

/*
 * Walking a flat array of bulks and nulls, as MGET answers:
 *
 *   struct rframe_iter it;
 *   struct rframe_bulk b;
 *   long long n = rframe_array_open(&it, reply, len);   // -1: not an array
 *   while ((r = rframe_array_next(&it, &b)) == 1) ...   // 0: end, -1: bad
 */
struct rframe_bulk {
    const char *raw;   /* the element as sent, e.g. "$3\r\nfoo\r\n" */
    size_t raw_len;
    const char *data;  /* payload; NULL for "$-1" and "_" */
    size_t len;
};

struct rframe_iter {
    const char *buf;
    size_t len;
    size_t pos;
    long long left;
};

/* Start at an array header "*<n>\r\n".  Returns n (>= 0), or -1 if the
 * reply does not start with one ("*-1" included). */
long long rframe_array_open(struct rframe_iter *it, const char *reply,
                            size_t len);

/*
 * Next element into *out.  Returns 1, or 0 after the last element when the
 * array ends exactly at the end of the reply, or -1 if an element is not a
 * bulk ("$") or a null ("$-1", "_"), is malformed or runs past the reply,
 * or bytes follow the last element.
 */
int rframe_array_next(struct rframe_iter *it, struct rframe_bulk *out);

#endif
