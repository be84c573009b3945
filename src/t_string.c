/*
 * t_string.c — the string commands: GET/SET and their variants, counters,
 * APPEND/STRLEN/GETRANGE/SETRANGE and LCS.
 *
 * Behaviour, reply bytes, error texts and the order in which errors are
 * detected follow Redis 7.0.  Values live in struct kv entries (object.h):
 * a command that replaces a value builds a new entry and puts it in with
 * db_add/db_replace/db_overwrite; a command that edits a value in place
 * (APPEND, SETRANGE, INCR on an int) first makes it raw or edits the int,
 * and never keeps an entry pointer across a call that may reallocate it.
 *
 * Relative expire times (EX, PX, SETEX, PSETEX) are turned into absolute
 * unix milliseconds against server.mstime, the time cached for the command.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "propagate.h"
#include "reply.h"
#include "t_string.h"

/* ---- helpers ---- */

/* Returns 1 (and replies WRONGTYPE) when o exists and is not a string. */
static int wrong_type(struct client *c, const struct kv *o)
{
    if (o != NULL && o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return 1;
    }
    return 0;
}

/* Parses a long long argument; replies the standard error and returns -1
 * when it is not one. */
static int arg_ll(struct client *c, const struct slice *a, long long *out)
{
    if (!rc_str2ll(a->p, a->len, out)) {
        reply_err_not_int(c);
        return -1;
    }
    return 0;
}

int string_check_size(struct client *c, unsigned long long size, unsigned long long append)
{
    if (c->flags & CF_FAKE)
        return 0;
    unsigned long long limit =
        server.proto_max_bulk_len > 0 ? (unsigned long long)server.proto_max_bulk_len : 0;
    if (size > limit || append > limit - size) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

struct rstr *string_grow_zero(struct kv *o, size_t len)
{
    size_t old = kv_strlen(o);
    struct rstr *r = kv_make_raw(o, len > old ? len : old);
    if (r->len < len) {
        memset(r->buf + r->len, 0, len - r->len);
        r->len = len;
        r->buf[len] = '\0';
    }
    return r;
}

/* ---- SET and its options (shared with SETNX, SETEX, PSETEX, GETEX) ---- */

enum {
    OPT_NX = 1 << 0,
    OPT_XX = 1 << 1,
    OPT_GET = 1 << 2,
    OPT_KEEPTTL = 1 << 3,
    OPT_PERSIST = 1 << 4,
    OPT_EX = 1 << 5,        /* relative seconds */
    OPT_PX = 1 << 6,        /* relative milliseconds */
    OPT_EXAT = 1 << 7,      /* absolute unix seconds */
    OPT_PXAT = 1 << 8,      /* absolute unix milliseconds */
};

#define OPT_EXPIRES (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

enum opt_owner { OPTS_SET, OPTS_GETEX };

/*
 * Parses the options of SET (from argv[3]) or GETEX (from argv[2]) into
 * *flags and, when an expire option is present, points *expire at its
 * value argument.  An option repeated verbatim is accepted (the last value
 * counts); contradicting options are a syntax error, as in Redis.  Returns
 * 0, or -1 after replying the error.
 */
static int parse_set_options(struct client *c, int first, enum opt_owner owner,
                             int *flags, const struct slice **expire)
{
    static const struct {
        const char *name;
        int flag;
    } expire_opts[] = {
        {"EX", OPT_EX}, {"PX", OPT_PX}, {"EXAT", OPT_EXAT}, {"PXAT", OPT_PXAT},
    };
    int f = 0;
    *expire = NULL;
    for (int j = first; j < c->argc; j++) {
        const struct slice *a = &c->argv[j];
        int has_next = j + 1 < c->argc;
        int set = owner == OPTS_SET;
        if (set && arg_is(a, "NX") && !(f & OPT_XX)) {
            f |= OPT_NX;
            continue;
        }
        if (set && arg_is(a, "XX") && !(f & OPT_NX)) {
            f |= OPT_XX;
            continue;
        }
        if (set && arg_is(a, "GET")) {
            f |= OPT_GET;
            continue;
        }
        if (set && arg_is(a, "KEEPTTL") && !(f & (OPT_PERSIST | OPT_EXPIRES))) {
            f |= OPT_KEEPTTL;
            continue;
        }
        if (!set && arg_is(a, "PERSIST") && !(f & (OPT_KEEPTTL | OPT_EXPIRES))) {
            f |= OPT_PERSIST;
            continue;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof(expire_opts) / sizeof(expire_opts[0]); k++) {
            int self = expire_opts[k].flag;
            int conflicts = (OPT_KEEPTTL | OPT_PERSIST | OPT_EXPIRES) & ~self;
            if (arg_is(a, expire_opts[k].name) && !(f & conflicts) && has_next) {
                f |= self;
                *expire = &c->argv[++j];
                matched = 1;
                break;
            }
        }
        if (!matched) {
            reply_err_syntax(c);
            return -1;
        }
    }
    *flags = f;
    return 0;
}

/*
 * Converts the expire argument of an EX/PX/EXAT/PXAT option (the kind is
 * in flags) to absolute unix milliseconds in *ms.  Returns 0, or -1 after
 * replying "not an integer" or "invalid expire time in '<cmd>' command".
 */
static int expire_to_ms(struct client *c, const struct slice *arg, int flags,
                        const char *cmdname, long long *ms)
{
    long long v;
    if (arg_ll(c, arg, &v) != 0)
        return -1;
    int seconds = (flags & (OPT_EX | OPT_EXAT)) != 0;
    int relative = (flags & (OPT_EX | OPT_PX)) != 0;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000))
        goto invalid;
    if (seconds)
        v *= 1000;
    if (relative && __builtin_add_overflow(v, server.mstime, &v))
        goto invalid;
    if (v <= 0)
        goto invalid;
    *ms = v;
    return 0;
invalid:
    reply_errorf(c, "ERR invalid expire time in '%s' command", cmdname);
    return -1;
}

/* How set_generic answers: SET's +OK / null, or SETNX's :1 / :0. */
enum set_reply { SET_REPLY_OK, SET_REPLY_INT };

/*
 * The body of SET, SETNX, SETEX and PSETEX.  flags are OPT_* bits, expire
 * the unparsed expire argument or NULL.  Order of checks as in Redis:
 * expire value, then (with GET) the old value's type, then NX/XX.
 */
static void set_generic(struct client *c, int flags, const struct slice *key,
                        const struct slice *val, const struct slice *expire,
                        const char *cmdname, enum set_reply style)
{
    long long when = -1;
    if (expire && expire_to_ms(c, expire, flags, cmdname, &when) != 0)
        return;

    struct kv *old;
    if (flags & OPT_GET) {
        old = db_lookup_read(c, key);
        if (wrong_type(c, old))
            return;
        if (old)
            reply_kv_string(c, old);
        else
            reply_null(c);
    } else {
        old = db_lookup(c->db, key->p, key->len);
    }

    if (((flags & OPT_NX) && old) || ((flags & OPT_XX) && !old)) {
        if (flags & OPT_GET)
            return;
        if (style == SET_REPLY_INT)
            reply_long(c, 0);
        else
            reply_null(c);
        return;
    }

    if (!expire && (flags & OPT_KEEPTTL) && old)
        when = kv_expire(old);
    struct kv *n = kv_new_string(key->p, key->len, val->p, val->len, when);
    if (old)
        db_replace(c->db, old, n);
    else
        db_add(c->db, n);
    server.stat_dirty++;
    notify_event(NOTIFY_STRING, "set", c->db, key->p, key->len);
    if (expire)
        notify_event(NOTIFY_GENERIC, "expire", c->db, key->p, key->len);
    /* Relative expiries are logged as SET key value PXAT ms (Redis 7.0). */
    if (expire)
        propagate_replace_set_pxat(c, key, val, when);

    if (flags & OPT_GET)
        return;
    if (style == SET_REPLY_INT)
        reply_long(c, 1);
    else
        reply_ok(c);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
void cmd_set(struct client *c)
{
    const struct slice *key = &c->argv[1], *val = &c->argv[2];
    if (c->argc == 3) {
        /* The common case: one allocation and one table walk. */
        db_overwrite(c->db, kv_new_string(key->p, key->len, val->p, val->len, -1));
        notify_event(NOTIFY_STRING, "set", c->db, key->p, key->len);
        server.stat_dirty++;
        reply_ok(c);
        return;
    }
    int flags;
    const struct slice *expire;
    if (parse_set_options(c, 3, OPTS_SET, &flags, &expire) != 0)
        return;
    set_generic(c, flags, key, val, expire, "set", SET_REPLY_OK);
}

/* SETNX key value */
void cmd_setnx(struct client *c)
{
    set_generic(c, OPT_NX, &c->argv[1], &c->argv[2], NULL, "setnx", SET_REPLY_INT);
}

/* SETEX key seconds value */
void cmd_setex(struct client *c)
{
    set_generic(c, OPT_EX, &c->argv[1], &c->argv[3], &c->argv[2], "setex", SET_REPLY_OK);
}

/* PSETEX key milliseconds value */
void cmd_psetex(struct client *c)
{
    set_generic(c, OPT_PX, &c->argv[1], &c->argv[3], &c->argv[2], "psetex", SET_REPLY_OK);
}

/* ---- reads ---- */

/* GET key */
void cmd_get(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (o->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return;
    }
    reply_kv_string(c, o);
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST] */
void cmd_getex(struct client *c)
{
    int flags;
    const struct slice *expire;
    if (parse_set_options(c, 2, OPTS_GETEX, &flags, &expire) != 0)
        return;
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    long long when = -1;
    if (expire && expire_to_ms(c, expire, flags, "getex", &when) != 0)
        return;

    /* The value is replied before the entry is deleted or relinked. */
    reply_kv_string(c, o);

    if ((flags & (OPT_EXAT | OPT_PXAT)) && when <= server.mstime) {
        /* An absolute time already past: the key goes now. */
        db_delete(c->db, c->argv[1].p, c->argv[1].len, server.lazyfree_lazy_expire);
        propagate_replace_del(c, &c->argv[1], server.lazyfree_lazy_expire);
        notify_event(NOTIFY_GENERIC, "del", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty++;
    } else if (expire) {
        db_set_expire(c->db, o, when);
        propagate_replace_pexpireat(c, &c->argv[1], when);
        notify_event(NOTIFY_GENERIC, "expire", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty++;
    } else if ((flags & OPT_PERSIST) && (o->flags & KV_EXPIRE)) {
        db_set_expire(c->db, o, -1);
        struct slice v[2] = {{"PERSIST", 7}, c->argv[1]};
        propagate_replace(c, 2, v);
        notify_event(NOTIFY_GENERIC, "persist", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty++;
    }
}

/* GETDEL key */
void cmd_getdel(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    reply_kv_string(c, o);
    if (db_delete(c->db, c->argv[1].p, c->argv[1].len, server.lazyfree_lazy_user_del)) {
        notify_event(NOTIFY_GENERIC, "del", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty++;
    }
}

/* GETSET key value: like SET key value GET (the TTL is dropped). */
void cmd_getset(struct client *c)
{
    set_generic(c, OPT_GET, &c->argv[1], &c->argv[2], NULL, "getset", SET_REPLY_OK);
}

/* MGET key [key ...]: a missing key or a non-string answers null. */
void cmd_mget(struct client *c)
{
    reply_array_len(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        struct kv *o = db_lookup_read(c, &c->argv[j]);
        if (o == NULL || o->type != OBJ_STRING)
            reply_null(c);
        else
            reply_kv_string(c, o);
    }
}

/* Shared by MSET and MSETNX: an odd number of key/value arguments is an
 * arity error, reported with the command's name. */
static int mset_arity_ok(struct client *c, const char *cmdname)
{
    if (c->argc % 2 == 0) {
        reply_err_arity(c, cmdname);
        return 0;
    }
    return 1;
}

static void mset_all(struct client *c)
{
    for (int j = 1; j < c->argc; j += 2) {
        const struct slice *k = &c->argv[j], *v = &c->argv[j + 1];
        db_overwrite(c->db, kv_new_string(k->p, k->len, v->p, v->len, -1));
        notify_event(NOTIFY_STRING, "set", c->db, k->p, k->len);
    }
    server.stat_dirty += (c->argc - 1) / 2;
}

/* MSET key value [key value ...] */
void cmd_mset(struct client *c)
{
    if (!mset_arity_ok(c, "mset"))
        return;
    mset_all(c);
    reply_ok(c);
}

/* MSETNX key value [key value ...]: all or nothing. */
void cmd_msetnx(struct client *c)
{
    if (!mset_arity_ok(c, "msetnx"))
        return;
    for (int j = 1; j < c->argc; j += 2) {
        if (db_lookup(c->db, c->argv[j].p, c->argv[j].len) != NULL) {
            reply_long(c, 0);
            return;
        }
    }
    mset_all(c);
    reply_long(c, 1);
}

/* ---- counters ---- */

/* Adds incr to the integer at argv[1] (missing = 0), keeping its TTL. */
static void incr_decr(struct client *c, long long incr)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (wrong_type(c, o))
        return;
    long long value = 0;
    if (o != NULL) {
        if (o->enc == ENC_INT) {
            value = o->v.i;
        } else {
            char tmp[32];
            struct strview sv = kv_strview(o, tmp);
            if (!rc_str2ll(sv.p, sv.len, &value)) {
                reply_err_not_int(c);
                return;
            }
        }
    }
    if (__builtin_add_overflow(value, incr, &value)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    if (o != NULL && o->enc == ENC_INT) {
        o->v.i = value;     /* in place: the entry and its TTL stay */
        db_signal_modified(c->db, key->p, key->len);
    } else if (o != NULL)
        db_replace(c->db, o, kv_new_int(key->p, key->len, value, kv_expire(o)));
    else
        db_add(c->db, kv_new_int(key->p, key->len, value, -1));
    notify_event(NOTIFY_STRING, "incrby", c->db, key->p, key->len);
    server.stat_dirty++;
    reply_long(c, value);
}

/* INCR key */
void cmd_incr(struct client *c)
{
    incr_decr(c, 1);
}

/* DECR key */
void cmd_decr(struct client *c)
{
    incr_decr(c, -1);
}

/* INCRBY key increment */
void cmd_incrby(struct client *c)
{
    long long incr;
    if (arg_ll(c, &c->argv[2], &incr) != 0)
        return;
    incr_decr(c, incr);
}

/* DECRBY key decrement */
void cmd_decrby(struct client *c)
{
    long long decr;
    if (arg_ll(c, &c->argv[2], &decr) != 0)
        return;
    if (decr == LLONG_MIN) {
        /* Its negation does not exist. */
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_decr(c, -decr);
}

/* INCRBYFLOAT key increment: long double arithmetic, stored and replied
 * in Redis's human-friendly form ("%.17Lf" with trailing zeros removed).
 * The key's value is validated before the increment, as in Redis. */
void cmd_incrbyfloat(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (wrong_type(c, o))
        return;
    long double value = 0, incr;
    if (o != NULL) {
        if (o->enc == ENC_INT) {
            value = (long double)o->v.i;
        } else {
            char tmp[32];
            struct strview sv = kv_strview(o, tmp);
            if (!rc_str2ld(sv.p, sv.len, &value)) {
                reply_err_not_float(c);
                return;
            }
        }
    }
    if (!rc_str2ld(c->argv[2].p, c->argv[2].len, &incr)) {
        reply_err_not_float(c);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[RC_MAX_LONG_DOUBLE_CHARS];
    size_t len = rc_ld2str(buf, sizeof(buf), value, 1);
    struct kv *n = kv_new_bytes(key->p, key->len, buf, len, o ? kv_expire(o) : -1);
    if (o != NULL)
        db_replace(c->db, o, n);
    else
        db_add(c->db, n);
    notify_event(NOTIFY_STRING, "incrbyfloat", c->db, key->p, key->len);
    server.stat_dirty++;
    /* Logged as the value it produced, so that replay cannot round
     * differently (Redis: SET key value KEEPTTL). */
    struct slice v[4] = {{"SET", 3}, *key, {buf, len}, {"KEEPTTL", 7}};
    propagate_replace(c, 4, v);
    reply_bulk(c, buf, len);
}

/* ---- APPEND, STRLEN, ranges ---- */

/* APPEND key value: returns the new length. */
void cmd_append(struct client *c)
{
    const struct slice *key = &c->argv[1], *val = &c->argv[2];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    size_t total;
    if (o == NULL) {
        db_add(c->db, kv_new_string(key->p, key->len, val->p, val->len, -1));
        total = val->len;
    } else {
        if (wrong_type(c, o))
            return;
        size_t len = kv_strlen(o);
        if (string_check_size(c, len, val->len) != 0)
            return;
        struct rstr *r = kv_make_raw(o, len + val->len);
        memcpy(r->buf + r->len, val->p, val->len);
        r->len += val->len;
        r->buf[r->len] = '\0';
        total = r->len;
        db_signal_modified(c->db, key->p, key->len);
    }
    notify_event(NOTIFY_STRING, "append", c->db, key->p, key->len);
    server.stat_dirty++;
    reply_long(c, (long long)total);
}

/* STRLEN key */
void cmd_strlen(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    if (wrong_type(c, o))
        return;
    reply_long(c, (long long)kv_strlen(o));
}

/* GETRANGE key start end (also SUBSTR): inclusive, negative indexes count
 * from the end, out-of-range indexes are clamped. */
void cmd_getrange(struct client *c)
{
    long long start, end;
    if (arg_ll(c, &c->argv[2], &start) != 0 || arg_ll(c, &c->argv[3], &end) != 0)
        return;
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_bulk(c, "", 0);
        return;
    }
    if (wrong_type(c, o))
        return;
    char tmp[32];
    struct strview sv = kv_strview(o, tmp);
    long long len = (long long)sv.len;

    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    /* len <= proto-max-bulk-len, so len + a negative index cannot overflow. */
    if (start < 0)
        start = len + start;
    if (end < 0)
        end = len + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (len == 0 || start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    reply_bulk(c, sv.p + start, (size_t)(end - start + 1));
}

/* SETRANGE key offset value: overwrite from offset, zero-padding a gap;
 * returns the new length.  An empty value changes nothing. */
void cmd_setrange(struct client *c)
{
    const struct slice *key = &c->argv[1], *val = &c->argv[3];
    long offset;
    if (!rc_str2l(c->argv[2].p, c->argv[2].len, &offset)) {
        reply_err_not_int(c);
        return;
    }
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL) {
        if (val->len == 0) {
            reply_long(c, 0);
            return;
        }
        if (string_check_size(c, (unsigned long long)offset, val->len) != 0)
            return;
        size_t total = (size_t)offset + val->len;
        struct rstr *r = rstr_new(NULL, 0, total);
        memset(r->buf, 0, (size_t)offset);
        memcpy(r->buf + offset, val->p, val->len);
        r->len = total;
        r->buf[total] = '\0';
        db_add(c->db, kv_new_raw(key->p, key->len, r, -1));
        notify_event(NOTIFY_STRING, "setrange", c->db, key->p, key->len);
        server.stat_dirty++;
        reply_long(c, (long long)total);
        return;
    }
    if (wrong_type(c, o))
        return;
    if (val->len == 0) {
        reply_long(c, (long long)kv_strlen(o));
        return;
    }
    if (string_check_size(c, (unsigned long long)offset, val->len) != 0)
        return;
    struct rstr *r = string_grow_zero(o, (size_t)offset + val->len);
    memcpy(r->buf + offset, val->p, val->len);
    db_signal_modified(c->db, key->p, key->len);
    notify_event(NOTIFY_STRING, "setrange", c->db, key->p, key->len);
    server.stat_dirty++;
    reply_long(c, (long long)r->len);
}

/* ---- LCS ---- */

/* Emits one IDX match: [[a_start, a_end], [b_start, b_end], (len)]. */
static void lcs_reply_range(struct client *c, uint32_t as, uint32_t ae, uint32_t bs,
                            uint32_t be, int withlen)
{
    reply_array_len(c, 2 + withlen);
    reply_array_len(c, 2);
    reply_long(c, as);
    reply_long(c, ae);
    reply_array_len(c, 2);
    reply_long(c, bs);
    reply_long(c, be);
    if (withlen)
        reply_long(c, (long long)ae - as + 1);
}

/*
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
 *
 * The classic dynamic-programming table of LCS lengths, (|a|+1) x (|b|+1)
 * 32-bit cells, walked back from the end to recover the string and the
 * matching ranges (ranges come out last-first, as Redis emits them).  The
 * table is transient memory bounded by proto-max-bulk-len; a bigger one is
 * refused, as Redis does.  Missing keys are empty strings.
 */
void cmd_lcs(struct client *c)
{
    struct kv *oa = db_lookup_read(c, &c->argv[1]);
    struct kv *ob = db_lookup_read(c, &c->argv[2]);
    if ((oa && oa->type != OBJ_STRING) || (ob && ob->type != OBJ_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    char tmpa[32], tmpb[32];
    struct strview a = {"", 0}, b = {"", 0};
    if (oa)
        a = kv_strview(oa, tmpa);
    if (ob)
        b = kv_strview(ob, tmpb);

    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < c->argc; j++) {
        const struct slice *opt = &c->argv[j];
        int more = c->argc - 1 - j;
        if (arg_is(opt, "IDX")) {
            getidx = 1;
        } else if (arg_is(opt, "LEN")) {
            getlen = 1;
        } else if (arg_is(opt, "WITHMATCHLEN")) {
            withmatchlen = 1;
        } else if (arg_is(opt, "MINMATCHLEN") && more) {
            if (arg_ll(c, &c->argv[++j], &minmatchlen) != 0)
                return;
            if (minmatchlen < 0)
                minmatchlen = 0;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (getidx && getlen) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (a.len >= UINT32_MAX - 1 || b.len >= UINT32_MAX - 1) {
        reply_error(c, "ERR String too long for LCS");
        return;
    }
    uint32_t alen = (uint32_t)a.len, blen = (uint32_t)b.len;
    uint64_t cells = (uint64_t)(alen + 1) * (blen + 1);   /* < 2^64: both < 2^32 */
    if (cells > SIZE_MAX / sizeof(uint32_t) ||
        cells * sizeof(uint32_t) > (unsigned long long)server.proto_max_bulk_len) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds "
                       "proto-max-bulk-len");
        return;
    }
    uint32_t *lcs = rc_malloc((size_t)cells * sizeof(uint32_t));
    const size_t row = (size_t)blen + 1;
#define LCS(i, j) lcs[(size_t)(i) * row + (j)]
    const unsigned char *pa = (const unsigned char *)a.p, *pb = (const unsigned char *)b.p;
    for (uint32_t j = 0; j <= blen; j++)
        LCS(0, j) = 0;
    for (uint32_t i = 1; i <= alen; i++) {
        LCS(i, 0) = 0;
        for (uint32_t j = 1; j <= blen; j++) {
            if (pa[i - 1] == pb[j - 1]) {
                LCS(i, j) = LCS(i - 1, j - 1) + 1;
            } else {
                uint32_t up = LCS(i - 1, j), left = LCS(i, j - 1);
                LCS(i, j) = up > left ? up : left;
            }
        }
    }
    uint32_t total = LCS(alen, blen);

    int computelcs = getidx || !getlen;
    char *result = computelcs ? rc_malloc((size_t)total + 1) : NULL;
    void *hole = NULL;
    long nranges = 0;
    if (getidx) {
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "matches");
        hole = reply_defer_len(c);
    }

    /* Walk back from (alen, blen).  A range grows while matches are
     * contiguous and is emitted when the walk leaves it or reaches the
     * start of either string.  "No current range" is as_ == alen. */
    uint32_t i = alen, j = blen, idx = total;
    uint32_t as_ = alen, ae = 0, bs = 0, be = 0;
    while (computelcs && i > 0 && j > 0) {
        int emit = 0;
        if (pa[i - 1] == pb[j - 1]) {
            result[--idx] = (char)pa[i - 1];
            if (as_ == alen) {
                as_ = ae = i - 1;
                bs = be = j - 1;
            } else if (as_ == i && bs == j) {
                as_--;
                bs--;
            } else {
                emit = 1;
            }
            if (as_ == 0 || bs == 0)
                emit = 1;
            i--;
            j--;
        } else {
            if (LCS(i - 1, j) > LCS(i, j - 1))
                i--;
            else
                j--;
            if (as_ != alen)
                emit = 1;
        }
        if (emit) {
            unsigned long long mlen = (unsigned long long)ae - as_ + 1;
            if (hole && (minmatchlen == 0 || mlen >= (unsigned long long)minmatchlen)) {
                lcs_reply_range(c, as_, ae, bs, be, withmatchlen);
                nranges++;
            }
            as_ = alen;
        }
    }
#undef LCS

    if (hole) {
        reply_bulk_cstr(c, "len");
        reply_long(c, total);
        reply_set_array_len(c, hole, nranges);
    } else if (getlen) {
        reply_long(c, total);
    } else {
        reply_bulk(c, result, total);
    }
    rc_free(result);
    rc_free(lcs);
}
