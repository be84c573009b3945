/*
 * t_list.c — list commands, blocking pops included.
 *
 * Values are quicklists (quicklist.h).  Every command mirrors Redis
 * 7.0.15's t_list.c in its replies, its error texts and the order in which
 * it checks its arguments and keys (which error wins when several apply).
 *
 * Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) first try
 * to serve themselves like their non-blocking twins; when every key is
 * empty they block through block.c with a struct list_wait describing what
 * to do once a key is ready: list_serve() below is that callback.  Every
 * command that adds elements to a list calls block_signal_key().
 */
#include "notify.h"
#include "t_list.h"

#include <limits.h>
#include <string.h>

#include "block.h"
#include "propagate.h"
#include "quicklist.h"
#include "reply.h"
#include "server.h"

/* ---- value lifecycle (object.c, bio.c) ---- */

void list_free_value(int enc, void *ptr)
{
    (void)enc;
    struct quicklist *ql = ptr;
    ql_destroy(&ql);
}

void *list_dup_value(int enc, const void *ptr)
{
    (void)enc;
    return ql_dup(ptr);
}

size_t list_mem(int enc, const void *ptr)
{
    (void)enc;
    return ql_mem(ptr);
}

size_t list_free_effort(int enc, const void *ptr)
{
    (void)enc;
    return ql_allocations(ptr);
}

/* ---- helpers ---- */

static struct quicklist *ql_of(const struct kv *o)
{
    return o->v.ptr;
}

/* A new empty list under key, added to db. */
static struct kv *list_create(struct db *db, const char *key, size_t klen)
{
    struct quicklist *ql = ql_create(server.list_max_listpack_size);
    struct kv *o = kv_new_ptr(key, klen, OBJ_LIST, ENC_QUICKLIST, ql, -1);
    db_add(db, o);
    return o;
}

/* After removing elements from o (key in db): delete the key if the list
 * is empty, else tell WATCH it changed. */
static void list_after_remove(struct db *db, struct kv *o, const char *key, size_t klen)
{
    if (ql_count(ql_of(o)) == 0) {
        notify_event(NOTIFY_GENERIC, "del", db, key, klen);
        db_delete(db, key, klen, 0);
    } else
        db_signal_modified(db, key, klen);
}

static void reply_entry(struct client *c, const struct ql_entry *e)
{
    if (e->sval)
        reply_bulk(c, (const char *)e->sval, e->slen);
    else
        reply_bulk_long(c, e->lval);
}

/* Parse a long argument; replies "value is not an integer" and returns -1
 * on failure. */
static int arg_long(struct client *c, const struct slice *a, long *out)
{
    if (!rc_str2l(a->p, a->len, out)) {
        reply_err_not_int(c);
        return -1;
    }
    return 0;
}

/* Redis's getRangeLongFromObjectOrReply with a message: min..LONG_MAX,
 * msg (without "ERR ") for both a non-integer and an out-of-range value. */
static int arg_long_min(struct client *c, const struct slice *a, long min, const char *msg,
                        long *out)
{
    long v;
    if (!rc_str2l(a->p, a->len, &v) || v < min) {
        reply_errorf(c, "ERR %s", msg);
        return -1;
    }
    *out = v;
    return 0;
}

/* LEFT / RIGHT argument into QL_HEAD / QL_TAIL; syntax error otherwise. */
static int arg_where(struct client *c, const struct slice *a, int *where)
{
    if (arg_is(a, "left"))
        *where = QL_HEAD;
    else if (arg_is(a, "right"))
        *where = QL_TAIL;
    else {
        reply_err_syntax(c);
        return -1;
    }
    return 0;
}

/* The list at key for a write: NULL (nothing replied) if missing; NULL
 * after a WRONGTYPE reply if of another type (*wrong set). */
static struct kv *lookup_list_write(struct client *c, struct db *db, const struct slice *key,
                                    int *wrong)
{
    struct kv *o = db_lookup(db, key->p, key->len);
    *wrong = 0;
    if (o && o->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        *wrong = 1;
        return NULL;
    }
    return o;
}

/* Pop one element from where of o and reply it, as [key, value] when
 * with_key is set (BLPOP) or as a bulk string.  Deletes the key if the
 * list empties. */
static void pop_one_reply(struct client *c, struct db *db, struct kv *o, const char *key,
                          size_t klen, int where, int with_key)
{
    struct quicklist *ql = ql_of(o);
    struct ql_entry e;
    /* Logged as the plain pop it was (BLPOP/BRPOP included). */
    struct slice rec[2] = {{where == QL_HEAD ? "LPOP" : "RPOP", 4}, {key, klen}};
    propagate_effect(c, db->id, 2, rec);
    ql_peek(ql, where, &e);
    if (with_key) {
        reply_array_len(c, 2);
        reply_bulk(c, key, klen);
    }
    reply_entry(c, &e);
    ql_del_end(ql, where);
    server.stat_dirty++;
    notify_event(NOTIFY_LIST, where == QL_HEAD ? "lpop" : "rpop", db, key, klen);
    list_after_remove(db, o, key, klen);
}

/* Pop up to count elements from where and reply them as an array,
 * preceded by the key in a two-element array when with_key is set
 * (LMPOP, BLMPOP). */
static void pop_range_reply(struct client *c, struct db *db, struct kv *o, const char *key,
                            size_t klen, int where, long count, int with_key)
{
    struct quicklist *ql = ql_of(o);
    size_t n = ql_count(ql);
    if ((unsigned long)count < n)
        n = (size_t)count;
    /* Logged as LPOP/RPOP key n (LMPOP and BLMPOP included). */
    char num[24];
    struct slice rec[3] = {{where == QL_HEAD ? "LPOP" : "RPOP", 4}, {key, klen},
                           {num, rc_ll2str(num, sizeof(num), (long long)n)}};
    propagate_effect(c, db->id, 3, rec);
    if (with_key) {
        reply_array_len(c, 2);
        reply_bulk(c, key, klen);
    }
    reply_array_len(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        struct ql_entry e;
        ql_peek(ql, where, &e);
        reply_entry(c, &e);
        ql_del_end(ql, where);
    }
    server.stat_dirty += (long long)n;
    notify_event(NOTIFY_LIST, where == QL_HEAD ? "lpop" : "rpop", db, key, klen);
    list_after_remove(db, o, key, klen);
}

/*
 * Move one element from the `from` end of src (key skey, not empty) to the
 * `to` end of dst (key dkey; dst is the existing list there or NULL) and
 * reply it as a bulk string.  The caller has checked dst's type.
 */
static void move_one_reply(struct client *c, struct db *db, struct kv *src, const char *skey,
                           size_t sklen, struct kv *dst, const char *dkey, size_t dklen,
                           int from, int to)
{
    struct quicklist *sql = ql_of(src);
    struct ql_entry e;
    /* Logged as LMOVE (BLMOVE, BRPOPLPUSH and RPOPLPUSH included). */
    struct slice rec[5] = {{"LMOVE", 5}, {skey, sklen}, {dkey, dklen},
                           {from == QL_HEAD ? "LEFT" : "RIGHT", from == QL_HEAD ? 4u : 5u},
                           {to == QL_HEAD ? "LEFT" : "RIGHT", to == QL_HEAD ? 4u : 5u}};
    propagate_effect(c, db->id, 5, rec);
    ql_peek(sql, from, &e);
    /* Copy the value: popping may move the bytes it points to. */
    char intbuf[LP_INTBUF_SIZE], stackbuf[256];
    size_t len;
    const char *p = ql_entry_str(&e, intbuf, &len);
    char *copy = len <= sizeof(stackbuf) ? stackbuf : rc_malloc(len);
    memcpy(copy, p, len);

    reply_bulk(c, copy, len);
    int emptied = 0;
    if (dst == src) {
        ql_del_end(sql, from);
        ql_push(sql, to, copy, len);
        db_signal_modified(db, skey, sklen);
    } else {
        ql_del_end(sql, from);
        /* The source goes first: deleting it never moves dst's entry.
         * Its "del" event is published last, as in Redis. */
        emptied = ql_count(sql) == 0;
        if (emptied)
            db_delete(db, skey, sklen, 0);
        else
            db_signal_modified(db, skey, sklen);
        if (dst == NULL)
            dst = list_create(db, dkey, dklen);
        else
            db_signal_modified(db, dkey, dklen);
        ql_push(ql_of(dst), to, copy, len);
    }
    notify_event(NOTIFY_LIST, to == QL_HEAD ? "lpush" : "rpush", db, dkey, dklen);
    notify_event(NOTIFY_LIST, from == QL_HEAD ? "lpop" : "rpop", db, skey, sklen);
    if (emptied)
        notify_event(NOTIFY_GENERIC, "del", db, skey, sklen);
    block_signal_key(db, dkey, dklen);
    server.stat_dirty++;
    if (copy != stackbuf)
        rc_free(copy);
}

/* ---- blocking ---- */

/* What a client blocked in a list command waits to do (block.c owns it). */
struct list_wait {
    int where;          /* end to pop from */
    int whereto;        /* BLMOVE: end of the destination to push to */
    int is_move;        /* BLMOVE / BRPOPLPUSH */
    long count;         /* BLMPOP: at most this many; 0: BLPOP/BRPOP form */
    size_t dstlen;
    char dst[];         /* BLMOVE destination key */
};

static enum block_serve_result list_serve(struct client *c, struct db *db, const char *key,
                                          size_t klen, void *priv)
{
    struct list_wait *w = priv;
    struct kv *o = db_lookup(db, key, klen);
    if (o == NULL)
        return BLOCK_KEY_DONE;
    if (o->type != OBJ_LIST)
        return BLOCK_WAIT;      /* Redis 7.0 leaves list waiters blocked */
    if (w->is_move) {
        struct kv *d = db_lookup(db, w->dst, w->dstlen);
        if (d && d->type != OBJ_LIST) {
            reply_err_wrongtype(c);
            return BLOCK_SERVED;
        }
        /* A destination equal to the source is the source itself. */
        if (w->dstlen == klen && memcmp(w->dst, key, klen) == 0)
            d = o;
        move_one_reply(c, db, o, key, klen, d, w->dst, w->dstlen, w->where, w->whereto);
    } else if (w->count > 0) {
        pop_range_reply(c, db, o, key, klen, w->where, w->count, 1);
    } else {
        pop_one_reply(c, db, o, key, klen, w->where, 1);
    }
    return BLOCK_SERVED;
}

static struct list_wait *list_wait_new(int where, int whereto, int is_move, long count,
                                       const struct slice *dst)
{
    size_t dlen = dst ? dst->len : 0;
    struct list_wait *w = rc_malloc(sizeof(*w) + dlen);
    w->where = where;
    w->whereto = whereto;
    w->is_move = is_move;
    w->count = count;
    w->dstlen = dlen;
    if (dlen)
        memcpy(w->dst, dst->p, dlen);
    return w;
}

/*
 * BLPOP / BRPOP / BLMPOP core: serve from the first non-empty key, else
 * block (or reply a null array when blocking is not allowed).  count is 0
 * for the BLPOP form, else BLMPOP's count.
 */
static void blocking_pop(struct client *c, const struct slice *keys, int nkeys, int where,
                         long count, long long deadline)
{
    for (int i = 0; i < nkeys; i++) {
        int wrong;
        struct kv *o = lookup_list_write(c, c->db, &keys[i], &wrong);
        if (wrong)
            return;
        if (o == NULL || ql_count(ql_of(o)) == 0)
            continue;
        if (count > 0)
            pop_range_reply(c, c->db, o, keys[i].p, keys[i].len, where, count, 1);
        else
            pop_one_reply(c, c->db, o, keys[i].p, keys[i].len, where, 1);
        return;
    }
    if (!block_allowed(c)) {
        reply_null_array(c);
        return;
    }
    block_client(c, keys, nkeys, deadline, list_serve,
                 list_wait_new(where, QL_HEAD, 0, count, NULL));
}

static void blpop_generic(struct client *c, int where)
{
    long long deadline;
    if (block_parse_timeout(c, &c->argv[c->argc - 1], &deadline) != 0)
        return;
    blocking_pop(c, &c->argv[1], c->argc - 2, where, 0, deadline);
}

void cmd_blpop(struct client *c)
{
    blpop_generic(c, QL_HEAD);
}

void cmd_brpop(struct client *c)
{
    blpop_generic(c, QL_TAIL);
}

/* LMOVE core, also for BLMOVE when the source has elements. */
static void lmove_generic(struct client *c, int from, int to)
{
    int wrong;
    struct kv *src = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (src == NULL || ql_count(ql_of(src)) == 0) {
        reply_null(c);
        return;
    }
    struct kv *dst = lookup_list_write(c, c->db, &c->argv[2], &wrong);
    if (wrong)
        return;
    move_one_reply(c, c->db, src, c->argv[1].p, c->argv[1].len, dst, c->argv[2].p,
                   c->argv[2].len, from, to);
}

static void blmove_generic(struct client *c, int from, int to, long long deadline)
{
    int wrong;
    struct kv *src = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (src != NULL) {
        lmove_generic(c, from, to);
        return;
    }
    if (!block_allowed(c)) {
        reply_null(c);
        return;
    }
    block_client(c, &c->argv[1], 1, deadline, list_serve,
                 list_wait_new(from, to, 1, 0, &c->argv[2]));
}

void cmd_lmove(struct client *c)
{
    int from, to;
    if (arg_where(c, &c->argv[3], &from) != 0 || arg_where(c, &c->argv[4], &to) != 0)
        return;
    lmove_generic(c, from, to);
}

void cmd_rpoplpush(struct client *c)
{
    lmove_generic(c, QL_TAIL, QL_HEAD);
}

void cmd_blmove(struct client *c)
{
    int from, to;
    long long deadline;
    if (arg_where(c, &c->argv[3], &from) != 0 || arg_where(c, &c->argv[4], &to) != 0)
        return;
    if (block_parse_timeout(c, &c->argv[5], &deadline) != 0)
        return;
    blmove_generic(c, from, to, deadline);
}

void cmd_brpoplpush(struct client *c)
{
    long long deadline;
    if (block_parse_timeout(c, &c->argv[3], &deadline) != 0)
        return;
    blmove_generic(c, QL_TAIL, QL_HEAD, deadline);
}

/* LMPOP / BLMPOP: numkeys at argv[numkeys_idx]; for BLMPOP (blocking set)
 * the timeout is argv[1], parsed after the other arguments as Redis does. */
static void lmpop_generic(struct client *c, int numkeys_idx, int blocking)
{
    long numkeys, count = -1;
    int where;
    if (arg_long_min(c, &c->argv[numkeys_idx], 1, "numkeys should be greater than 0",
                     &numkeys) != 0)
        return;
    /* where_idx = numkeys_idx + numkeys + 1 without overflow. */
    if (numkeys >= (long)c->argc - numkeys_idx - 1) {
        reply_err_syntax(c);
        return;
    }
    int where_idx = numkeys_idx + (int)numkeys + 1;
    if (arg_where(c, &c->argv[where_idx], &where) != 0)
        return;
    for (int j = where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (count == -1 && arg_is(&c->argv[j], "count") && more) {
            j++;
            if (arg_long_min(c, &c->argv[j], 1, "count should be greater than 0", &count) != 0)
                return;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (count == -1)
        count = 1;
    const struct slice *keys = &c->argv[numkeys_idx + 1];
    if (blocking) {
        long long deadline;
        if (block_parse_timeout(c, &c->argv[1], &deadline) != 0)
            return;
        blocking_pop(c, keys, (int)numkeys, where, count, deadline);
        return;
    }
    for (long i = 0; i < numkeys; i++) {
        int wrong;
        struct kv *o = lookup_list_write(c, c->db, &keys[i], &wrong);
        if (wrong)
            return;
        if (o == NULL || ql_count(ql_of(o)) == 0)
            continue;
        pop_range_reply(c, c->db, o, keys[i].p, keys[i].len, where, count, 1);
        return;
    }
    reply_null_array(c);
}

void cmd_lmpop(struct client *c)
{
    lmpop_generic(c, 1, 0);
}

void cmd_blmpop(struct client *c)
{
    lmpop_generic(c, 2, 1);
}

/* ---- push ---- */

/* LPUSH/RPUSH (xx = 0) and LPUSHX/RPUSHX (xx = 1). */
static void push_generic(struct client *c, int where, int xx)
{
    int wrong;
    struct kv *o = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        if (xx) {
            reply_long(c, 0);
            return;
        }
        o = list_create(c->db, c->argv[1].p, c->argv[1].len);
    } else {
        db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
    }
    struct quicklist *ql = ql_of(o);
    for (int i = 2; i < c->argc; i++)
        ql_push(ql, where, c->argv[i].p, c->argv[i].len);
    server.stat_dirty += c->argc - 2;
    notify_event(NOTIFY_LIST, where == QL_HEAD ? "lpush" : "rpush", c->db, c->argv[1].p,
                 c->argv[1].len);
    block_signal_key(c->db, c->argv[1].p, c->argv[1].len);
    reply_long(c, (long long)ql_count(ql));
}

void cmd_lpush(struct client *c)
{
    push_generic(c, QL_HEAD, 0);
}

void cmd_rpush(struct client *c)
{
    push_generic(c, QL_TAIL, 0);
}

void cmd_lpushx(struct client *c)
{
    push_generic(c, QL_HEAD, 1);
}

void cmd_rpushx(struct client *c)
{
    push_generic(c, QL_TAIL, 1);
}

/* ---- pop ---- */

static void pop_generic(struct client *c, int where)
{
    long count = 0;
    int hascount = c->argc == 3;
    if (c->argc > 3) {
        reply_err_arity(c, c->cmd->fullname);
        return;
    }
    if (hascount &&
        arg_long_min(c, &c->argv[2], 0, "value is out of range, must be positive", &count) != 0)
        return;
    int wrong;
    struct kv *o = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        if (hascount)
            reply_null_array(c);
        else
            reply_null(c);
        return;
    }
    if (hascount && count == 0) {
        reply_empty_array(c);
        return;
    }
    if (hascount)
        pop_range_reply(c, c->db, o, c->argv[1].p, c->argv[1].len, where, count, 0);
    else
        pop_one_reply(c, c->db, o, c->argv[1].p, c->argv[1].len, where, 0);
}

void cmd_lpop(struct client *c)
{
    pop_generic(c, QL_HEAD);
}

void cmd_rpop(struct client *c)
{
    pop_generic(c, QL_TAIL);
}

/* ---- reading ---- */

/* The list at key for a read (counts hits/misses): NULL if missing or
 * (after a WRONGTYPE reply, *wrong set) of another type. */
static struct kv *lookup_list_read(struct client *c, const struct slice *key, int *wrong)
{
    struct kv *o = db_lookup_read(c, key);
    *wrong = 0;
    if (o && o->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        *wrong = 1;
        return NULL;
    }
    return o;
}

void cmd_llen(struct client *c)
{
    int wrong;
    struct kv *o = lookup_list_read(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    reply_long(c, o ? (long long)ql_count(ql_of(o)) : 0);
}

void cmd_lindex(struct client *c)
{
    int wrong;
    long index;
    struct kv *o = lookup_list_read(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (arg_long(c, &c->argv[2], &index) != 0)
        return;
    struct ql_entry e;
    if (ql_index(ql_of(o), index, &e))
        reply_entry(c, &e);
    else
        reply_null(c);
}

/* Normalise a [start, end] range of a list of length len as Redis does;
 * returns 0 if the range is empty, else sets *from and *n. */
static int list_range(long start, long end, size_t len, size_t *from, size_t *n)
{
    long long l = (long long)len;
    long long s = start, e = end;
    if (s < 0)
        s += l;
    if (e < 0)
        e += l;
    if (s < 0)
        s = 0;
    if (s > e || s >= l)
        return 0;
    if (e >= l)
        e = l - 1;
    *from = (size_t)s;
    *n = (size_t)(e - s + 1);
    return 1;
}

void cmd_lrange(struct client *c)
{
    long start, end;
    if (arg_long(c, &c->argv[2], &start) != 0 || arg_long(c, &c->argv[3], &end) != 0)
        return;
    int wrong;
    struct kv *o = lookup_list_read(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    size_t from, n;
    if (o == NULL || !list_range(start, end, ql_count(ql_of(o)), &from, &n)) {
        reply_empty_array(c);
        return;
    }
    reply_array_len(c, (long)n);
    struct ql_iter it;
    struct ql_entry e;
    ql_iter_at(&it, ql_of(o), (long long)from, QL_HEAD);
    while (n-- > 0 && ql_iter_next(&it, &e))
        reply_entry(c, &e);
}

void cmd_lpos(struct client *c)
{
    long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "rank") && more) {
            j++;
            if (arg_long(c, &c->argv[j], &rank) != 0)
                return;
            if (rank == 0) {
                reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, "
                               "2 from the second ... or use negative to start from the end "
                               "of the list");
                return;
            }
        } else if (arg_is(&c->argv[j], "count") && more) {
            j++;
            if (arg_long_min(c, &c->argv[j], 0, "COUNT can't be negative", &count) != 0)
                return;
        } else if (arg_is(&c->argv[j], "maxlen") && more) {
            j++;
            if (arg_long_min(c, &c->argv[j], 0, "MAXLEN can't be negative", &maxlen) != 0)
                return;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    /* A negative rank searches from the tail.  Redis negates LONG_MIN into
     * itself, after which every match qualifies: the same as rank 1. */
    int dir = QL_HEAD;
    if (rank < 0) {
        dir = QL_TAIL;
        rank = rank == LONG_MIN ? 1 : -rank;
    }
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        if (count != -1)
            reply_empty_array(c);
        else
            reply_null(c);
        return;
    }
    if (o->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        return;
    }
    struct quicklist *ql = ql_of(o);
    void *hole = count != -1 ? reply_defer_len(c) : NULL;
    const struct slice *ele = &c->argv[2];
    struct ql_iter it;
    ql_iter_init(&it, ql, dir);
    long index = 0, matches = 0, emitted = 0;
    size_t len = ql_count(ql);
    while ((maxlen == 0 || index < maxlen) && ql_iter_next(&it, NULL)) {
        if (ql_iter_equal(&it, ele->p, ele->len)) {
            matches++;
            if (matches >= rank) {
                long pos = dir == QL_HEAD ? index : (long)len - index - 1;
                reply_long(c, pos);
                emitted++;
                if (count != -1 && count != 0 && emitted >= count)
                    break;
                if (count == -1)
                    break;
            }
        }
        index++;
    }
    if (hole)
        reply_set_array_len(c, hole, emitted);
    else if (emitted == 0)
        reply_null(c);
}

/* ---- modifying in place ---- */

void cmd_lset(struct client *c)
{
    struct kv *o = db_lookup(c->db, c->argv[1].p, c->argv[1].len);
    if (o == NULL) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (o->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        return;
    }
    long index;
    if (arg_long(c, &c->argv[2], &index) != 0)
        return;
    if (!ql_replace_at(ql_of(o), index, c->argv[3].p, c->argv[3].len)) {
        reply_error(c, "ERR index out of range");
        return;
    }
    db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
    notify_event(NOTIFY_LIST, "lset", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    reply_ok(c);
}

void cmd_linsert(struct client *c)
{
    int after;
    if (arg_is(&c->argv[2], "after"))
        after = 1;
    else if (arg_is(&c->argv[2], "before"))
        after = 0;
    else {
        reply_err_syntax(c);
        return;
    }
    int wrong;
    struct kv *o = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    struct quicklist *ql = ql_of(o);
    struct ql_iter it;
    ql_iter_init(&it, ql, QL_HEAD);
    int found = 0;
    while (ql_iter_next(&it, NULL)) {
        if (ql_iter_equal(&it, c->argv[3].p, c->argv[3].len)) {
            ql_iter_insert(&it, after, c->argv[4].p, c->argv[4].len);
            found = 1;
            break;
        }
    }
    if (!found) {
        reply_long(c, -1);
        return;
    }
    db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
    notify_event(NOTIFY_LIST, "linsert", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    reply_long(c, (long long)ql_count(ql));
}

void cmd_lrem(struct client *c)
{
    long toremove;
    if (arg_long(c, &c->argv[2], &toremove) != 0)
        return;
    int wrong;
    struct kv *o = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    struct quicklist *ql = ql_of(o);
    struct ql_iter it;
    unsigned long limit = toremove < 0 ? (unsigned long)-(toremove + 1) + 1 : (unsigned long)toremove;
    ql_iter_init(&it, ql, toremove < 0 ? QL_TAIL : QL_HEAD);
    unsigned long removed = 0;
    while (ql_iter_next(&it, NULL)) {
        if (ql_iter_equal(&it, c->argv[3].p, c->argv[3].len)) {
            ql_iter_delete(&it);
            removed++;
            if (limit && removed == limit)
                break;
        }
    }
    if (removed) {
        server.stat_dirty += (long long)removed;
        notify_event(NOTIFY_LIST, "lrem", c->db, c->argv[1].p, c->argv[1].len);
        list_after_remove(c->db, o, c->argv[1].p, c->argv[1].len);
    }
    reply_long(c, (long long)removed);
}

void cmd_ltrim(struct client *c)
{
    long start, end;
    if (arg_long(c, &c->argv[2], &start) != 0 || arg_long(c, &c->argv[3], &end) != 0)
        return;
    int wrong;
    struct kv *o = lookup_list_write(c, c->db, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        reply_ok(c);
        return;
    }
    struct quicklist *ql = ql_of(o);
    size_t len = ql_count(ql), from, n, ltrim, rtrim;
    if (list_range(start, end, len, &from, &n)) {
        ltrim = from;
        rtrim = len - from - n;
    } else {
        ltrim = len;
        rtrim = 0;
    }
    ql_del_range(ql, 0, ltrim);
    if (rtrim)
        ql_del_range(ql, ql_count(ql) - rtrim, rtrim);
    server.stat_dirty += (long long)(ltrim + rtrim);
    notify_event(NOTIFY_LIST, "ltrim", c->db, c->argv[1].p, c->argv[1].len);
    list_after_remove(c->db, o, c->argv[1].p, c->argv[1].len);
    reply_ok(c);
}
