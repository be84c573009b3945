/*
 * t_keys.c — the generic keyspace commands: commands that work on keys
 * whatever their type (DEL, EXISTS, TYPE, the EXPIRE family, TTL, KEYS,
 * SCAN, RANDOMKEY, RENAME, COPY, MOVE, TOUCH, OBJECT).
 *
 * Replies, error texts and the order in which errors are checked follow
 * Redis 7.0.  Three kinds of key lookup are used, mirroring Redis's lookup
 * flags:
 *   db_lookup_read()   reads that count a hit or miss and update the
 *                      entry's LRU/LFU data (TOUCH, COPY's source);
 *   lookup_notouch()   reads that count a hit or miss but leave the access
 *                      data alone (EXISTS, TYPE, TTL, OBJECT ...);
 *   db_lookup()        lookups done on behalf of a write (no statistics).
 * All three reclaim a logically expired key on the spot.
 *
 * Entries are single allocations holding key, TTL and small values, and
 * they move when their TTL or key changes; a struct kv pointer is never
 * kept across a call that may reallocate or free it.
 */
#include "notify.h"
#include "server.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "evict.h"
#include "glob.h"
#include "propagate.h"
#include "reply.h"

/* Handler prototypes, generated from the command table. */
#define CMD(n, h, ...) cmd_handler h;
#define SUB(p, n, h, ...) cmd_handler h;
#include "commands.def"
#undef CMD
#undef SUB

/* Redis's OBJ_SHARED_REFCOUNT and OBJ_SHARED_INTEGERS: what OBJECT
 * REFCOUNT reports for the shared small integers, and their range. */
#define SHARED_REFCOUNT INT_MAX
#define SHARED_INTEGERS 10000

static const char ERR_SAME_OBJECT[] = "ERR source and destination objects are the same";

/* EXPIRE option flags. */
enum {
    EXPIRE_NX = 1 << 0,
    EXPIRE_XX = 1 << 1,
    EXPIRE_GT = 1 << 2,
    EXPIRE_LT = 1 << 3,
};

/* ---- small helpers ---- */

static int slice_eq(const struct slice *a, const struct slice *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/*
 * Look a key up for a read that must not count as an access (Redis's
 * LOOKUP_NOTOUCH): an expired key is reclaimed, the hit or miss is counted,
 * the LRU/LFU data is left as it was.  Returns the entry or NULL.
 */
static struct kv *lookup_notouch(struct client *c, const struct slice *key)
{
    struct kv *o = db_lookup_nostat(c->db, key->p, key->len);
    if (o != NULL && db_expire_if_needed(c->db, o))
        o = NULL;
    if (o != NULL)
        server.stat_keyspace_hits++;
    else
        server.stat_keyspace_misses++;
    return o;
}

/*
 * Parse a database index the way Redis's getIntFromObjectOrReply does and
 * check it against the configured number of databases.  Returns the
 * database, or NULL after replying with the error.
 */
static struct db *parse_db_or_reply(struct client *c, const struct slice *arg)
{
    long long id;
    if (!rc_str2ll(arg->p, arg->len, &id)) {
        reply_error(c, ERR_NOT_INT);
        return NULL;
    }
    if (id < INT_MIN || id > INT_MAX) {
        reply_errorf(c, "ERR value is out of range, value must between %d and %d",
                     INT_MIN, INT_MAX);
        return NULL;
    }
    if (id < 0 || id >= server.dbnum) {
        reply_error(c, ERR_DB_INDEX);
        return NULL;
    }
    return &server.dbs[id];
}

/*
 * Give entry o (already unlinked from its table, owned by the caller) a new
 * key.  The value is moved, not copied, when it lives in an allocation of
 * its own; integer and embedded values are copied with the entry.  The TTL
 * and the LRU/LFU data go along.  o is freed; the caller owns the result,
 * which is not in any table yet.
 */
static struct kv *kv_rekey(struct kv *o, const char *key, size_t klen)
{
    long long expire = kv_expire(o);
    uint32_t lru = o->lru;
    struct kv *n;
    if (o->enc == ENC_INT || o->enc == ENC_EMBSTR) {
        n = kv_dup(o, key, klen, expire);
        kv_free(o);
    } else {
        /* The value pointer changes owner; only the entry shell is freed
         * (kv_free would free the value too). */
        n = kv_new_ptr(key, klen, o->type, o->enc, o->v.ptr, expire);
        rc_free(o);
    }
    n->lru = lru;
    return n;
}

/* ---- DEL, UNLINK, EXISTS, TYPE, TOUCH ---- */

static void del_generic(struct client *c, int lazy)
{
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        const struct slice *k = &c->argv[j];
        struct kv *o = db_lookup_nostat(c->db, k->p, k->len);
        /* A logically expired key is reclaimed first and not counted. */
        if (o == NULL || db_expire_if_needed(c->db, o))
            continue;
        if (db_delete(c->db, k->p, k->len, lazy)) {
            notify_event(NOTIFY_GENERIC, "del", c->db, k->p, k->len);
            server.stat_dirty++;
            deleted++;
        }
    }
    reply_long(c, deleted);
}

void cmd_del(struct client *c)
{
    del_generic(c, server.lazyfree_lazy_user_del);
}

void cmd_unlink(struct client *c)
{
    del_generic(c, 1);
}

void cmd_exists(struct client *c)
{
    long long count = 0;
    for (int j = 1; j < c->argc; j++) {
        if (lookup_notouch(c, &c->argv[j]) != NULL)
            count++;
    }
    reply_long(c, count);
}

void cmd_type(struct client *c)
{
    struct kv *o = lookup_notouch(c, &c->argv[1]);
    reply_status(c, o ? obj_type_name(o->type) : "none");
}

void cmd_touch(struct client *c)
{
    long long touched = 0;
    for (int j = 1; j < c->argc; j++) {
        if (db_lookup_read(c, &c->argv[j]) != NULL)
            touched++;
    }
    reply_long(c, touched);
}

/* ---- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ---- */

/* Parse NX/XX/GT/LT from argv[3..] into *flags.  Returns 0, or -1 after
 * replying with the error. */
static int parse_expire_flags(struct client *c, int *flags)
{
    int f = 0;
    for (int j = 3; j < c->argc; j++) {
        const struct slice *a = &c->argv[j];
        if (arg_is(a, "nx")) {
            f |= EXPIRE_NX;
        } else if (arg_is(a, "xx")) {
            f |= EXPIRE_XX;
        } else if (arg_is(a, "gt")) {
            f |= EXPIRE_GT;
        } else if (arg_is(a, "lt")) {
            f |= EXPIRE_LT;
        } else {
            /* Redis formats the option with %s: it ends at a NUL byte. */
            static const char prefix[] = "ERR Unsupported option ";
            size_t olen = strnlen(a->p, a->len);
            char *msg = rc_malloc(sizeof(prefix) + olen);
            memcpy(msg, prefix, sizeof(prefix) - 1);
            memcpy(msg + sizeof(prefix) - 1, a->p, olen);
            msg[sizeof(prefix) - 1 + olen] = '\0';
            reply_error(c, msg);
            rc_free(msg);
            return -1;
        }
    }
    if ((f & EXPIRE_NX) && (f & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((f & EXPIRE_GT) && (f & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    *flags = f;
    return 0;
}

static void reply_err_expire_time(struct client *c)
{
    reply_errorf(c, "ERR invalid expire time in '%s' command",
                 c->cmd ? c->cmd->fullname : "expire");
}

/*
 * The EXPIRE family.  basetime is added to the argument (0 for the *AT
 * forms, the command's time otherwise); unit_ms is 1000 when the argument
 * is in seconds.  A time already in the past deletes the key.
 */
static void expire_generic(struct client *c, long long basetime, long long unit_ms)
{
    const struct slice *key = &c->argv[1];
    int flags = 0;
    long long when;

    if (parse_expire_flags(c, &flags) != 0)
        return;
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &when)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    /* Negative times are allowed (they delete the key); only overflow of
     * the unit conversion or of the addition is an error. */
    if (unit_ms != 1) {
        if (when > LLONG_MAX / unit_ms || when < LLONG_MIN / unit_ms) {
            reply_err_expire_time(c);
            return;
        }
        when *= unit_ms;
    }
    if (when > LLONG_MAX - basetime) {
        reply_err_expire_time(c);
        return;
    }
    when += basetime;

    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }

    if (flags) {
        /* No TTL counts as an infinite one. */
        long long cur = kv_expire(o);
        if ((flags & EXPIRE_NX) && cur != -1) {
            reply_long(c, 0);
            return;
        }
        if ((flags & EXPIRE_XX) && cur == -1) {
            reply_long(c, 0);
            return;
        }
        if ((flags & EXPIRE_GT) && (cur == -1 || when <= cur)) {
            reply_long(c, 0);
            return;
        }
        if ((flags & EXPIRE_LT) && cur != -1 && when >= cur) {
            reply_long(c, 0);
            return;
        }
    }

    /* Logged as an absolute time (or the deletion), as Redis does. */
    if (when <= server.mstime) {
        db_delete(c->db, key->p, key->len, server.lazyfree_lazy_expire);
        propagate_replace_del(c, key, server.lazyfree_lazy_expire);
        notify_event(NOTIFY_GENERIC, "del", c->db, key->p, key->len);
    } else {
        db_set_expire(c->db, o, when);
        propagate_replace_pexpireat(c, key, when);
        notify_event(NOTIFY_GENERIC, "expire", c->db, key->p, key->len);
    }
    server.stat_dirty++;
    reply_long(c, 1);
}

void cmd_expire(struct client *c)
{
    expire_generic(c, server.mstime, 1000);
}

void cmd_pexpire(struct client *c)
{
    expire_generic(c, server.mstime, 1);
}

void cmd_expireat(struct client *c)
{
    expire_generic(c, 0, 1000);
}

void cmd_pexpireat(struct client *c)
{
    expire_generic(c, 0, 1);
}

/* ---- TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST ---- */

/* -2 for a missing key, -1 for a key without TTL, else the remaining time
 * (or the absolute deadline) in ms or rounded to seconds. */
static void ttl_generic(struct client *c, int in_ms, int absolute)
{
    struct kv *o = lookup_notouch(c, &c->argv[1]);
    if (o == NULL) {
        reply_long(c, -2);
        return;
    }
    long long expire = kv_expire(o);
    if (expire == -1) {
        reply_long(c, -1);
        return;
    }
    long long t = absolute ? expire : expire - server.mstime;
    if (t < 0)
        t = 0;
    /* Seconds rounded to nearest, (t + 500) / 1000, computed without the
     * addition so that t near LLONG_MAX cannot overflow (t >= 0). */
    reply_long(c, in_ms ? t : t / 1000 + (t % 1000 + 500) / 1000);
}

void cmd_ttl(struct client *c)
{
    ttl_generic(c, 0, 0);
}

void cmd_pttl(struct client *c)
{
    ttl_generic(c, 1, 0);
}

void cmd_expiretime(struct client *c)
{
    ttl_generic(c, 0, 1);
}

void cmd_pexpiretime(struct client *c)
{
    ttl_generic(c, 1, 1);
}

void cmd_persist(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct kv *o = db_lookup(c->db, key->p, key->len);
    if (o == NULL || !(o->flags & KV_EXPIRE)) {
        reply_long(c, 0);
        return;
    }
    db_set_expire(c->db, o, -1);
    notify_event(NOTIFY_GENERIC, "persist", c->db, key->p, key->len);
    server.stat_dirty++;
    reply_long(c, 1);
}

/* ---- KEYS ---- */

void cmd_keys(struct client *c)
{
    const struct slice *pat = &c->argv[1];
    int allkeys = pat->len == 1 && pat->p[0] == '*';
    struct db *db = c->db;
    long n = 0;
    void *hole = reply_defer_len(c);

    for (unsigned s = 0; s < RC_SLOTS; s++) {
        struct dict *d = db_slot_dict(db, s);
        if (d == NULL || !db_slot_counted(s))
            continue;
        struct dict_iter it;
        struct dnode *node;
        dict_iter_init(&it, d);
        while ((node = dict_iter_next(&it)) != NULL) {
            const struct kv *o = (const struct kv *)node;
            const char *k = kv_key(o);
            if (!allkeys && !rc_glob_match(pat->p, pat->len, k, o->klen, 0))
                continue;
            /* Expired keys are hidden but not reclaimed here, as in Redis:
             * deleting while iterating would disturb the iteration. */
            if (kv_is_expired(o))
                continue;
            reply_bulk(c, k, o->klen);
            n++;
        }
        dict_iter_done(&it);
    }
    reply_set_array_len(c, hole, n);
}

/* ---- SCAN ---- */

/*
 * Parse a SCAN/HSCAN/SSCAN/ZSCAN cursor as Redis's parseScanCursorOrReply does: strtoul()
 * in base 10 must consume everything, the first byte may not be a space,
 * and out-of-range values are rejected.  Like strtoul() it accepts a
 * leading '+' or '-' (a negative value wraps), leading zeros and the
 * empty string (cursor 0).  Returns 0, or -1 after replying.
 */
_Static_assert(sizeof(unsigned long) == sizeof(unsigned long long),
               "HSCAN/SSCAN/ZSCAN hand the cursor to dict_scan() as unsigned long");

int scan_parse_cursor(struct client *c, const struct slice *arg, unsigned long long *cursor)
{
    /* The argument is bytes, not a C string: a NUL ends it for strtoul(). */
    const char *p = arg->p;
    const char *end = p + strnlen(p, arg->len);
    int neg = 0;
    unsigned long long v = 0;

    if (p < end && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }
    const char *digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10) {
            reply_error(c, "ERR invalid cursor");
            return -1;
        }
        v = v * 10 + d;
    }
    if (p == digits) {
        /* No digits: strtoul() leaves the end pointer at the start, so
         * only an argument that is empty (up to a NUL) is accepted. */
        if (arg->len == 0 || arg->p[0] == '\0') {
            *cursor = 0;
            return 0;
        }
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    if (p != end) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    *cursor = neg ? (unsigned long long)0 - v : v;
    return 0;
}

struct scan_keys {
    struct kv **items;
    size_t len;
    size_t cap;
};

static void scan_collect(void *priv, struct kv *o)
{
    struct scan_keys *sk = priv;
    if (sk->len == sk->cap) {
        size_t cap = sk->cap ? sk->cap * 2 : 16;
        sk->items = rc_realloc(sk->items, cap * sizeof(*sk->items));
        sk->cap = cap;
    }
    sk->items[sk->len++] = o;
}

/* Move *cursor to the start of the first slot from its own up to last
 * for which mine() holds (staying put if its own does).  Returns 0, with
 * *cursor past last, when there is none. */
static int skip_foreign(unsigned long long *cursor, unsigned last, int (*mine)(unsigned slot))
{
    unsigned slot = (unsigned)(*cursor & (RC_SLOTS - 1));
    if (mine(slot))
        return 1;
    while (++slot <= last) {
        if (mine(slot)) {
            *cursor = slot;
            return 1;
        }
    }
    *cursor = last + 1 >= RC_SLOTS ? 0 : last + 1;
    return 0;
}

void scan_in_range(struct client *c, const struct slice *args, int nargs, unsigned last_slot,
                   int (*mine)(unsigned slot), int whole)
{
    unsigned long long cursor;
    long count = 10;
    const struct slice *pat = NULL;
    const struct slice *type = NULL;
    int use_pattern = 0;

    if (scan_parse_cursor(c, &args[0], &cursor) != 0)
        return;
    for (int i = 1; i < nargs;) {
        int more = nargs - i;
        const struct slice *a = &args[i];
        if (arg_is(a, "count") && more >= 2) {
            if (!rc_str2l(args[i + 1].p, args[i + 1].len, &count)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            i += 2;
        } else if (arg_is(a, "match") && more >= 2) {
            pat = &args[i + 1];
            use_pattern = !(pat->len == 1 && pat->p[0] == '*');
            i += 2;
        } else if (arg_is(a, "type") && more >= 2) {
            type = &args[i + 1];
            i += 2;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }

    struct scan_keys sk = {NULL, 0, 0};
    if (mine && whole) {
        /* A ring's share of a wider SCAN call: every key of the slots in
         * range that this node serves, whole slots (COUNT was used by the
         * node that chose the range). */
        unsigned first = (unsigned)(cursor & (RC_SLOTS - 1));
        unsigned long dcur = (unsigned long)(cursor >> 14);
        for (unsigned slot = first; slot <= last_slot; slot++) {
            if (mine(slot))
                db_scan_slot(c->db, slot, slot == first ? dcur : 0, scan_collect, &sk);
        }
        cursor = last_slot + 1 >= RC_SLOTS ? 0 : last_slot + 1;
    } else {
        /* Collect about `count` keys, visiting at most count*10 buckets so
         * that a sparse table cannot make one call slow. */
        long maxiter = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
        do {
            if (mine && !skip_foreign(&cursor, last_slot, mine))
                break;
            cursor = db_scan_range(c->db, cursor, last_slot, scan_collect, &sk);
        } while (cursor != 0 && (cursor & (RC_SLOTS - 1)) <= last_slot && maxiter-- > 0 &&
                 sk.len < (size_t)count);
    }

    /* Filter, in Redis's order: pattern, type, expiry.  Entries are only
     * freed one by one (an expired key is reclaimed), so the remaining
     * pointers stay valid; kept entries are compacted to the front. */
    size_t typelen = type ? strnlen(type->p, type->len) : 0;
    size_t kept = 0;
    for (size_t i = 0; i < sk.len; i++) {
        struct kv *o = sk.items[i];
        if (use_pattern && !rc_glob_match(pat->p, pat->len, kv_key(o), o->klen, 0))
            continue;
        if (type != NULL) {
            /* Redis looks the key up to learn its type: that counts a hit
             * or a miss and reclaims the key if it expired. */
            if (db_expire_if_needed(c->db, o)) {
                server.stat_keyspace_misses++;
                continue;
            }
            server.stat_keyspace_hits++;
            const char *tn = obj_type_name(o->type);
            if (strlen(tn) != typelen || strncasecmp(tn, type->p, typelen) != 0)
                continue;
        }
        if (db_expire_if_needed(c->db, o))
            continue;
        sk.items[kept++] = o;
    }

    char buf[RC_LONG_STR_SIZE];
    size_t blen = rc_ull2str(buf, sizeof(buf), cursor);
    reply_array_len(c, 2);
    reply_bulk(c, buf, blen);
    reply_array_len(c, (long)kept);
    for (size_t i = 0; i < kept; i++)
        reply_bulk(c, kv_key(sk.items[i]), sk.items[i]->klen);
    rc_free(sk.items);
}

/* In ring mode SCAN runs here for a client on the cluster clients' port
 * (route.c) and in scripts: the slots this node serves, as a Redis
 * Cluster node scans its own. */
void cmd_scan(struct client *c)
{
    scan_in_range(c, &c->argv[1], c->argc - 1, RC_SLOTS - 1,
                  server.cluster_enabled ? db_slot_counted : NULL, 0);
}

/* ---- RANDOMKEY ---- */

void cmd_randomkey(struct client *c)
{
    struct kv *o = db_random(c->db);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    reply_bulk(c, kv_key(o), o->klen);
}

/* ---- RENAME, RENAMENX ---- */

static void rename_generic(struct client *c, int nx)
{
    const struct slice *src = &c->argv[1];
    const struct slice *dst = &c->argv[2];
    struct db *db = c->db;

    /* The source must exist even when it is also the destination. */
    if (db_lookup(db, src->p, src->len) == NULL) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (slice_eq(src, dst)) {
        if (nx)
            reply_long(c, 0);
        else
            reply_ok(c);
        return;
    }
    if (db_lookup(db, dst->p, dst->len) != NULL) {
        if (nx) {
            reply_long(c, 0);
            return;
        }
        db_delete(db, dst->p, dst->len, server.lazyfree_lazy_server_del);
    }
    struct kv *o = db_unlink(db, src->p, src->len);
    struct kv *n = kv_rekey(o, dst->p, dst->len);
    uint32_t lru = n->lru;
    db_add(db, n);
    n->lru = lru;   /* the value keeps its access history, as in Redis */
    notify_event(NOTIFY_GENERIC, "rename_from", db, src->p, src->len);
    notify_event(NOTIFY_GENERIC, "rename_to", db, dst->p, dst->len);
    server.stat_dirty++;
    if (nx)
        reply_long(c, 1);
    else
        reply_ok(c);
}

void cmd_rename(struct client *c)
{
    rename_generic(c, 0);
}

void cmd_renamenx(struct client *c)
{
    rename_generic(c, 1);
}

/* ---- COPY ---- */

void cmd_copy(struct client *c)
{
    const struct slice *src = &c->argv[1];
    const struct slice *dst = &c->argv[2];
    struct db *srcdb = c->db;
    struct db *dstdb = c->db;
    int replace = 0;

    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "db") && more >= 1) {
            dstdb = parse_db_or_reply(c, &c->argv[j + 1]);
            if (dstdb == NULL)
                return;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (srcdb == dstdb && slice_eq(src, dst)) {
        reply_error(c, ERR_SAME_OBJECT);
        return;
    }
    struct kv *o = db_lookup_read(c, src);
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    int exists = db_lookup(dstdb, dst->p, dst->len) != NULL;
    if (exists && !replace) {
        reply_long(c, 0);
        return;
    }
    /* kv_dup copies every value type (object.c). */
    struct kv *n = kv_dup(o, dst->p, dst->len, kv_expire(o));
    if (exists)
        db_delete(dstdb, dst->p, dst->len, server.lazyfree_lazy_server_del);
    db_add(dstdb, n);
    notify_event(NOTIFY_GENERIC, "copy_to", dstdb, dst->p, dst->len);
    server.stat_dirty++;
    reply_long(c, 1);
}

/* ---- MOVE ---- */

void cmd_move(struct client *c)
{
    const struct slice *key = &c->argv[1];
    struct db *src = c->db;
    struct db *dst = parse_db_or_reply(c, &c->argv[2]);
    if (dst == NULL)
        return;
    if (dst == src) {
        reply_error(c, ERR_SAME_OBJECT);
        return;
    }
    if (db_lookup(src, key->p, key->len) == NULL) {
        reply_long(c, 0);
        return;
    }
    if (db_lookup(dst, key->p, key->len) != NULL) {
        reply_long(c, 0);
        return;
    }
    /* Same key, so the entry itself moves, TTL included. */
    struct kv *o = db_unlink(src, key->p, key->len);
    uint32_t lru = o->lru;
    db_add(dst, o);
    o->lru = lru;
    notify_event(NOTIFY_GENERIC, "move_from", src, key->p, key->len);
    notify_event(NOTIFY_GENERIC, "move_to", dst, key->p, key->len);
    server.stat_dirty++;
    reply_long(c, 1);
}

/* ---- OBJECT ---- */

static const char *const object_help[] = {
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    NULL,
};

void cmd_object_help(struct client *c)
{
    reply_help(c, "object", object_help);
}

/* OBJECT's key lookup: a missing key is a null reply. */
static struct kv *object_lookup(struct client *c)
{
    struct kv *o = lookup_notouch(c, &c->argv[2]);
    if (o == NULL)
        reply_null(c);
    return o;
}

void cmd_object_encoding(struct client *c)
{
    struct kv *o = object_lookup(c);
    if (o != NULL)
        reply_bulk_cstr(c, obj_encoding_name(o->enc));
}

/* Redis shares the objects of the integers 0..9999 unless maxmemory is set
 * with an LRU or LFU policy (which needs per-object access data); a shared
 * object reports INT_MAX.  ringcache keeps no shared objects, so it reports
 * what Redis would for the same value under the current configuration. */
static int policy_allows_sharing(void)
{
    if (server.maxmemory == 0)
        return 1;
    switch (server.maxmemory_policy) {
    case MM_VOLATILE_LRU:
    case MM_VOLATILE_LFU:
    case MM_ALLKEYS_LRU:
    case MM_ALLKEYS_LFU:
        return 0;
    default:
        return 1;
    }
}

void cmd_object_refcount(struct client *c)
{
    struct kv *o = object_lookup(c);
    if (o == NULL)
        return;
    int shared = o->type == OBJ_STRING && o->enc == ENC_INT && o->v.i >= 0 &&
                 o->v.i < SHARED_INTEGERS && policy_allows_sharing();
    reply_long(c, shared ? SHARED_REFCOUNT : 1);
}

void cmd_object_idletime(struct client *c)
{
    struct kv *o = object_lookup(c);
    if (o == NULL)
        return;
    if (evict_policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. "
                       "Please note that when switching between policies at runtime LRU "
                       "and LFU data will take some time to adjust.");
        return;
    }
    reply_long(c, (long long)evict_idle_seconds(o));
}

void cmd_object_freq(struct client *c)
{
    struct kv *o = object_lookup(c);
    if (o == NULL)
        return;
    if (!evict_policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not "
                       "tracked. Please note that when switching between policies at "
                       "runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_long(c, (long long)evict_lfu_freq(o));
}
