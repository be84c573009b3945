/*
 * rdbobj.c — RDB serialization of keyspace values, DUMP / RESTORE / SAVE,
 * and whole-dataset RDB files (see rdbobj.h).
 *
 * Writing follows redis-server 7.0's choices so that DUMP payloads are
 * byte-identical where Redis's own encoding is deterministic: the RDB type
 * follows the in-memory encoding, listpacks are re-encoded in Redis's
 * listpack byte format (this project's listpack.c differs), strings use
 * Redis's integer and LZF rules.  Loading goes through rdb_decode_value()
 * with a sink that rebuilds the value with the type modules' own APIs, so
 * the resulting encoding is the one those APIs choose under the current
 * *-max-listpack-* / set-max-intset-entries settings, as Redis converts
 * after loading.
 */
#include "notify.h"
#include "rdbobj.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childinfo.h"
#include "crc64.h"
#include "function.h"
#include "evict.h"
#include "intset.h"
#include "listpack.h"
#include "loading.h"
#include "log.h"
#include "mem.h"
#include "object.h"
#include "quicklist.h"
#include "rdbstream.h"
#include "replpos.h"
#include "reply.h"
#include "server.h"
#include "snapshot.h"
#include "stream.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "zskiplist.h"

int rdb_load_merge;

/* ---- writing values ---- */

/* Redis 7.0's quicklist node limits (list-max-listpack-size): a node
 * takes another element while its listpack size plus the element's length
 * plus 8 stays within the limit for fill < 0, or, for fill > 0, within
 * 8 KB and fill elements. */
static int rl_node_allows(int fill, size_t node_bytes, size_t count, size_t elen)
{
    static const size_t levels[] = {4096, 8192, 16384, 32768, 65536};
    size_t new_sz = node_bytes + elen + 8;
    if (fill < 0) {
        size_t lvl = (size_t)(-(long)fill) - 1;
        if (lvl < sizeof(levels) / sizeof(levels[0]) && new_sz <= levels[lvl])
            return 1;
    }
    if (new_sz > 8192)
        return 0;
    return fill >= 0 && count < (size_t)fill;
}

/* Ends the node being built in b (if any) and appends it to body. */
static void rl_flush_node(struct rdb_out *body, struct rlp_builder *b, size_t *nodes)
{
    if (b->count == 0)
        return;
    rlp_finish(b);
    rdb_out_len(body, RDB_QL_PACKED);
    rdb_out_string(body, b->out.p, b->out.len, 1);
    rlp_free(b);
    rlp_init(b);
    (*nodes)++;
}

/*
 * Lists are written as QUICKLIST_2 with the elements grouped into nodes
 * the way redis-server groups elements appended with RPUSH, so that the
 * payload of a list built by appends is identical to Redis's whatever our
 * own node layout is.
 */
static void put_list(struct rdb_out *out, struct quicklist *ql)
{
    struct rdb_out body;
    struct rlp_builder b;
    struct ql_iter it;
    struct ql_entry e;
    size_t nodes = 0;
    rdb_out_init(&body);
    rlp_init(&b);
    ql_iter_init(&it, ql, QL_HEAD);
    while (ql_iter_next(&it, &e)) {
        char buf[LP_INTBUF_SIZE];
        size_t len;
        const char *p = ql_entry_str(&e, buf, &len);
        /* The builder's bytes are the node's listpack without its end byte. */
        if (b.count > 0 && !rl_node_allows(server.list_max_listpack_size, b.out.len + 1,
                                           b.count, len))
            rl_flush_node(&body, &b, &nodes);
        if (e.sval)
            rlp_add(&b, p, len);
        else
            rlp_add_int(&b, e.lval);
    }
    rl_flush_node(&body, &b, &nodes);
    rlp_free(&b);
    rdb_out_byte(out, RDB_TYPE_LIST_QUICKLIST_2);
    rdb_out_len(out, nodes);
    rdb_out_bytes(out, body.p, body.len);
    rdb_out_free(&body);
}

static void put_set(struct rdb_out *out, const struct kv *o)
{
    if (o->enc == ENC_INTSET) {
        rdb_out_byte(out, RDB_TYPE_SET_INTSET);
        rdb_out_string(out, intset_blob(o->v.ptr), intset_blob_len(o->v.ptr), 1);
        return;
    }
    rdb_out_byte(out, RDB_TYPE_SET);
    rdb_out_len(out, set_size(o));
    struct set_iter it;
    struct set_elem e;
    set_iter_init(&it, o);
    while (set_iter_next(&it, &e)) {
        const char *p;
        size_t len;
        set_elem_bytes(&e, &p, &len);
        rdb_out_string(out, p, len, 1);
    }
    set_iter_done(&it);
}

static void put_zset(struct rdb_out *out, const struct kv *o)
{
    if (o->enc == ENC_LISTPACK) {
        rdb_out_byte(out, RDB_TYPE_ZSET_LISTPACK);
        rdb_out_listpack(out, o->v.ptr);
        return;
    }
    const struct zsl *z = zset_skiplist(o);
    rdb_out_byte(out, RDB_TYPE_ZSET_2);
    rdb_out_len(out, zsl_length(z));
    /* Tail to head, as Redis writes it, so that loading inserts at the
     * head of the skiplist. */
    for (const struct zsl_node *n = zsl_last(z); n; n = n->backward) {
        rdb_out_string(out, zsl_member(n), n->mlen, 1);
        rdb_out_double(out, n->score);
    }
}

static void put_hash(struct rdb_out *out, const struct kv *o)
{
    if (o->enc == ENC_LISTPACK) {
        rdb_out_byte(out, RDB_TYPE_HASH_LISTPACK);
        rdb_out_listpack(out, o->v.ptr);
        return;
    }
    rdb_out_byte(out, RDB_TYPE_HASH);
    rdb_out_len(out, hash_length(o));
    struct hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    hash_iter_init(&it, o);
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        rdb_out_string(out, f, flen, 1);
        rdb_out_string(out, v, vlen, 1);
    }
    hash_iter_done(&it);
}

void rdb_put_value(struct rdb_out *out, const struct kv *o)
{
    switch (o->type) {
    case OBJ_STRING:
        rdb_out_byte(out, RDB_TYPE_STRING);
        if (o->enc == ENC_INT) {
            rdb_out_ll_string(out, o->v.i);
        } else {
            char scratch[32];
            struct strview sv = kv_strview(o, scratch);
            rdb_out_string(out, sv.p, sv.len, 1);
        }
        break;
    case OBJ_LIST:
        put_list(out, o->v.ptr);
        break;
    case OBJ_SET:
        put_set(out, o);
        break;
    case OBJ_ZSET:
        put_zset(out, o);
        break;
    case OBJ_STREAM:
        rdb_put_stream(out, o->v.ptr);
        break;
    default:
        put_hash(out, o);
        break;
    }
}

/* ---- building values ---- */

struct builder {
    const char *key;
    size_t klen;
    enum rdb_kind kind;
    struct kv *o;
    size_t maxelelen, totelelen;
};

static int b_begin(void *arg, enum rdb_kind kind, uint64_t hint)
{
    struct builder *b = arg;
    (void)hint;
    b->kind = kind;
    if (kind == RDB_KIND_LIST)
        b->o = kv_new_ptr(b->key, b->klen, OBJ_LIST, ENC_QUICKLIST,
                          ql_create(server.list_max_listpack_size), -1);
    else if (kind == RDB_KIND_HASH)
        b->o = kv_new_ptr(b->key, b->klen, OBJ_HASH, ENC_LISTPACK, lp_new(0), -1);
    else if (kind == RDB_KIND_ZSET)
        b->o = zset_new_skiplist_entry(b->key, b->klen);
    return 0;
}

static int b_elem(void *arg, const unsigned char *p, size_t len)
{
    struct builder *b = arg;
    const char *s = (const char *)p;
    switch (b->kind) {
    case RDB_KIND_STRING:
        if (b->o != NULL)
            return -1;
        b->o = kv_new_string(b->key, b->klen, s, len, -1);
        return 0;
    case RDB_KIND_LIST:
        ql_push(b->o->v.ptr, QL_TAIL, s, len);
        return 0;
    case RDB_KIND_SET:
        if (b->o == NULL)
            b->o = set_new_for(b->key, b->klen, s, len);
        return set_add(b->o, s, len) ? 0 : -1;     /* 0: duplicate member */
    default:
        return -1;
    }
}

static int b_zelem(void *arg, const unsigned char *p, size_t len, double score)
{
    struct builder *b = arg;
    if (b->kind != RDB_KIND_ZSET || isnan(score))
        return -1;
    if (!zset_skiplist_add(b->o, (const char *)p, len, score))
        return -1;
    if (len > b->maxelelen)
        b->maxelelen = len;
    b->totelelen += len;
    return 0;
}

static int b_pair(void *arg, const unsigned char *f, size_t flen, const unsigned char *v,
                  size_t vlen)
{
    struct builder *b = arg;
    if (b->kind != RDB_KIND_HASH)
        return -1;
    return hash_set(b->o, (const char *)f, flen, (const char *)v, vlen) ? -1 : 0;
}

/* A validated intset blob: adopted as is (keeping its width, so that a
 * DUMP of it is byte-identical) unless it has more members than
 * set-max-intset-entries allows. */
static int b_intset(void *arg, const unsigned char *blob, size_t len)
{
    struct builder *b = arg;
    if (b->kind != RDB_KIND_SET || b->o != NULL || !intset_validate(blob, len, 1))
        return -1;
    struct intset *is = intset_from_blob(blob, len);
    if (intset_len(is) <= server.set_max_intset_entries) {
        b->o = kv_new_ptr(b->key, b->klen, OBJ_SET, ENC_INTSET, is, -1);
        return 0;
    }
    for (uint32_t i = 0; i < intset_len(is); i++) {
        int64_t v;
        char buf[RC_LONG_STR_SIZE];
        intset_get(is, i, &v);
        size_t n = rc_ll2str(buf, sizeof(buf), v);
        if (b->o == NULL)
            b->o = set_new_for(b->key, b->klen, buf, n);
        set_add(b->o, buf, n);
    }
    intset_destroy(&is);
    return 0;
}

struct kv *rdb_get_value(struct rdb_in *in, int type, const char *key, size_t klen)
{
    if (rdb_is_stream_type(type)) {
        struct stream *s = rdb_get_stream(in, type);
        return s ? kv_new_ptr(key, klen, OBJ_STREAM, ENC_STREAM, s, -1) : NULL;
    }
    struct builder b = {.key = key, .klen = klen};
    struct rdb_sink sink = {&b, b_begin, b_elem, b_zelem, b_pair, b_intset};
    if (rdb_decode_value(in, type, &sink) < 0 || b.o == NULL) {
        if (b.o)
            kv_free(b.o);
        return NULL;
    }
    if (b.kind == RDB_KIND_ZSET)
        zset_loaded(b.o, b.maxelelen, b.totelelen);
    return b.o;
}

/* ---- DUMP payloads ---- */

void rdb_dump_payload(struct rdb_out *out, const struct kv *o)
{
    rdb_put_value(out, o);
    rdb_out_byte(out, RDB_VERSION & 0xff);
    rdb_out_byte(out, (RDB_VERSION >> 8) & 0xff);
    rdb_out_u64le(out, crc64(0, out->p, out->len));
}

int rdb_verify_payload(const unsigned char *p, size_t len)
{
    if (len < 10)
        return -1;
    const unsigned char *footer = p + len - 10;
    unsigned ver = (unsigned)footer[1] << 8 | footer[0];
    if (ver > RDB_VERSION)
        return -1;
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--)
        want = want << 8 | footer[2 + i];
    return crc64(0, p, len - 8) == want ? 0 : -1;
}

static int arg_eq(const struct slice *a, const char *s)
{
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->p, s, n) == 0;
}

void cmd_dump(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct rdb_out out;
    rdb_out_init(&out);
    rdb_dump_payload(&out, o);
    reply_bulk(c, (const char *)out.p, out.len);
    rdb_out_free(&out);
}

void cmd_restore(struct client *c)
{
    const struct slice *key = &c->argv[1];
    int replace = 0, absttl = 0;
    long long idle = -1, freq = -1, ttl;

    for (int j = 4; j < c->argc; j++) {
        int more = c->argc - j - 1;
        const struct slice *a = &c->argv[j];
        if (arg_eq(a, "replace")) {
            replace = 1;
        } else if (arg_eq(a, "absttl")) {
            absttl = 1;
        } else if (arg_eq(a, "idletime") && more >= 1 && freq == -1) {
            if (!rc_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &idle)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (idle < 0) {
                reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (arg_eq(a, "freq") && more >= 1 && idle == -1) {
            if (!rc_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &freq)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (freq < 0 || freq > 255) {
                reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (!replace && db_lookup(c->db, key->p, key->len) != NULL) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &ttl)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    const struct slice *pl = &c->argv[3];
    if (rdb_verify_payload((const unsigned char *)pl->p, pl->len) < 0) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    /* As in Redis, the value may run into the footer: only the checksum
     * guards the payload's framing. */
    struct rdb_in in = {(const unsigned char *)pl->p, pl->len, 0};
    unsigned char type;
    struct kv *o = NULL;
    if (rdb_in_byte(&in, &type) == 0)
        o = rdb_get_value(&in, type, key->p, key->len);
    if (o == NULL) {
        reply_error(c, "ERR Bad data format");
        return;
    }

    int deleted = 0;
    if (replace)
        deleted = db_delete(c->db, key->p, key->len, server.lazyfree_lazy_server_del);
    if (ttl != 0 && !absttl)
        ttl = ttl > LLONG_MAX - server.mstime ? LLONG_MAX : ttl + server.mstime;
    if (ttl != 0 && ttl <= server.mstime) {
        /* Already expired: the key ends up deleted, as in Redis. */
        if (deleted) {
            notify_event(NOTIFY_GENERIC, "del", c->db, c->argv[1].p, c->argv[1].len);
            server.stat_dirty++;
        }
        kv_free(o);
        reply_ok(c);
        return;
    }
    db_add(c->db, o);
    if (ttl != 0)
        o = db_set_expire(c->db, o, ttl);
    /* After db_add, which stamps a new entry as just accessed. */
    evict_set_access(o, freq, idle);
    notify_event(NOTIFY_GENERIC, "restore", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    reply_ok(c);
}

/* ---- RDB files ---- */

/* Output to a file descriptor through a buffer, with a running CRC. */
struct fout {
    int fd;
    struct rdb_out buf;
    struct rdb_out val;     /* one value, reused so that a child allocates little */
    uint64_t crc;
    int failed;
    int err;
    size_t keys;            /* keys written so far, for the child's progress */
};

static void fout_flush(struct fout *f)
{
    if (f->failed || f->buf.len == 0) {
        f->buf.len = 0;
        return;
    }
    f->crc = crc64(f->crc, f->buf.p, f->buf.len);
    size_t off = 0;
    while (off < f->buf.len) {
        ssize_t n = write(f->fd, f->buf.p + off, f->buf.len - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            /* write(2) of a regular file returns 0 only when it cannot
             * store anything: report it as the full disk it is. */
            f->failed = 1;
            f->err = n < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)n;
    }
    f->buf.len = 0;
}

static void fout_maybe_flush(struct fout *f)
{
    if (f->buf.len >= 1 << 16)
        fout_flush(f);
}

static void aux_str(struct rdb_out *o, const char *k, const char *v)
{
    rdb_out_byte(o, RDB_OPCODE_AUX);
    rdb_out_string(o, k, strlen(k), 1);
    rdb_out_string(o, v, strlen(v), 1);
}

static void aux_int(struct rdb_out *o, const char *k, long long v)
{
    char buf[RC_LONG_STR_SIZE];
    rc_ll2str(buf, sizeof(buf), v);
    aux_str(o, k, buf);
}

/*
 * Writes one key: its expire time, its access data when the eviction
 * policy uses it (idle seconds under an LRU policy, the LFU counter under
 * an LFU policy, as Redis does, so that a restart keeps the eviction
 * order), then type, key and value.
 */
static void save_key(struct fout *f, const struct kv *o)
{
    long long when = kv_expire(o);
    if (when >= 0) {
        rdb_out_byte(&f->buf, RDB_OPCODE_EXPIRETIME_MS);
        rdb_out_u64le(&f->buf, (uint64_t)when);
    }
    if (evict_policy_is_lru()) {
        rdb_out_byte(&f->buf, RDB_OPCODE_IDLE);
        rdb_out_len(&f->buf, evict_idle_seconds(o));
    } else if (evict_policy_is_lfu()) {
        rdb_out_byte(&f->buf, RDB_OPCODE_FREQ);
        rdb_out_byte(&f->buf, (unsigned char)evict_lfu_freq(o));
    }
    f->val.len = 0;
    rdb_put_value(&f->val, o);
    /* type byte, key, value */
    rdb_out_byte(&f->buf, f->val.p[0]);
    rdb_out_string(&f->buf, kv_key(o), o->klen, 1);
    rdb_out_bytes(&f->buf, f->val.p + 1, f->val.len - 1);
    fout_maybe_flush(f);
    f->keys++;
    /* The debug delay (rdb-key-save-delay) slows every key down so much
     * that the clock may be read for each; otherwise once per 1024 keys. */
    if (server.rdb_key_save_delay > 0) {
        usleep((useconds_t)server.rdb_key_save_delay);
        childinfo_progress(f->keys);
    } else if ((f->keys & 1023) == 1) {
        childinfo_progress(f->keys);
    }
}

/* The database's keys in the slots mask selects (NULL: all of them). */
static void save_db(struct fout *f, struct db *db, const unsigned char *mask)
{
    uint64_t keys = db->keys, expires = db->expires;
    if (mask) {
        keys = 0;
        for (unsigned s = 0; s < RC_SLOTS; s++)
            if (mask[s] && db->slots[s])
                keys += dict_size(db->slots[s]);
        /* RESIZEDB is a sizing hint: the expires of these slots are not
         * counted apart, so at most all of them. */
        if (expires > keys)
            expires = keys;
    }
    if (keys == 0)
        return;
    rdb_out_byte(&f->buf, RDB_OPCODE_SELECTDB);
    rdb_out_len(&f->buf, (uint64_t)db->id);
    rdb_out_byte(&f->buf, RDB_OPCODE_RESIZEDB);
    rdb_out_len(&f->buf, keys);
    rdb_out_len(&f->buf, expires);
    for (unsigned s = 0; s < RC_SLOTS; s++) {
        struct dict *d = db->slots[s];
        if (d == NULL || dict_size(d) == 0 || (mask && !mask[s]))
            continue;
        struct dict_iter it;
        struct dnode *n;
        dict_iter_init(&it, d);
        while ((n = dict_iter_next(&it)) != NULL)
            save_key(f, (const struct kv *)n);
        dict_iter_done(&it);
    }
}

int rdb_save_file(const char *path, int flags, char *err, size_t errlen)
{
    return rdb_save_file_slots(path, flags, NULL, err, errlen);
}

/* Where this node's copy of each sender's replication stream ends, as it
 * is in this snapshot (replpos.h); not in a snapshot of some slots. */
static void aux_positions(struct rdb_out *o)
{
    char line[REPLPOS_LINE_MAX];
    for (int i = 0;; i++) {
        size_t n = replpos_format(i, line);
        if (n == 0)
            break;
        aux_str(o, REPLPOS_AUX_KEY, line);
    }
}

int rdb_save_file_slots(const char *path, int flags, const unsigned char *mask, char *err,
                        size_t errlen)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 0;
    if (slash)
        snprintf(tmp, sizeof(tmp), "%.*s/temp-%d.rdb", dirlen, path, (int)getpid());
    else
        snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());

    struct fout f = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (f.fd < 0) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) "
                 "for saving: %s", tmp, server.dir ? server.dir : ".", strerror(errno));
        return -1;
    }
    rdb_out_init(&f.buf);
    rdb_out_init(&f.val);
    char magic[16];
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    rdb_out_bytes(&f.buf, magic, 9);
    aux_str(&f.buf, "redis-ver", RC_VERSION);
    aux_int(&f.buf, "redis-bits", (long long)sizeof(void *) * 8);
    aux_int(&f.buf, "ctime", server.mstime / 1000);
    aux_int(&f.buf, "used-mem", (long long)rc_used_memory());
    aux_int(&f.buf, "aof-base", (flags & RDB_SAVE_AOF_BASE) ? 1 : 0);
    if (mask == NULL)
        aux_positions(&f.buf);
    function_rdb_save(&f.buf);
    for (int i = 0; i < server.dbnum; i++)
        save_db(&f, &server.dbs[i], mask);
    rdb_out_byte(&f.buf, RDB_OPCODE_EOF);
    fout_flush(&f);
    unsigned char crc[8];
    for (int i = 0; i < 8; i++)
        crc[i] = (unsigned char)(f.crc >> (8 * i));
    rdb_out_bytes(&f.buf, crc, 8);
    fout_flush(&f);
    rdb_out_free(&f.buf);
    rdb_out_free(&f.val);

    if (!f.failed && fsync(f.fd) != 0) {
        f.failed = 1;
        f.err = errno;
    }
    if (close(f.fd) != 0 && !f.failed) {
        f.failed = 1;
        f.err = errno;
    }
    if (f.failed) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(f.err));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s: %s",
                 tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* Make the rename durable. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash ? dirlen : 1, slash ? path : ".");
    int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

long long rdb_last_load_keys_loaded;
long long rdb_last_load_keys_expired;

/* Reads a whole file into memory; NULL with errno set on failure. */
static unsigned char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *p = rc_malloc(size ? size : 1);
    size_t off = 0;
    while (off < size) {
        ssize_t n = read(fd, p + off, size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    *len = off;
    return p;
}

static int load_fail(char *err, size_t errlen, const char *path, size_t off, const char *what)
{
    snprintf(err, errlen, "Bad RDB file %s at offset %zu: %s", path, off, what);
    return -1;
}

int rdb_load_file(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    unsigned char *data = read_file(path, &len);
    if (data == NULL) {
        snprintf(err, errlen, "Can't open RDB file %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    struct rdb_in in = {data, len, 0};
    struct db *db = &server.dbs[0];
    long long expire = -1;
    long long lfu_freq = -1, lru_idle = -1;     /* the next key's FREQ / IDLE */
    long long keys_loaded = 0, keys_expired = 0;
    int version;

    if (len < 9 || memcmp(data, "REDIS", 5) != 0) {
        load_fail(err, errlen, path, 0, "wrong signature");
        goto out;
    }
    version = 0;
    for (int i = 5; i < 9; i++) {
        if (data[i] < '0' || data[i] > '9') {
            load_fail(err, errlen, path, 5, "bad version");
            goto out;
        }
        version = version * 10 + (data[i] - '0');
    }
    if (version < 1 || version > RDB_VERSION) {
        snprintf(err, errlen, "Can't handle RDB format version %d in %s", version, path);
        goto out;
    }
    /* Version 5 and later end with the CRC64 of everything before it (0
     * when the writer disabled checksums).  Verify it before loading
     * anything, so that a damaged file is refused as a whole. */
    if (version >= 5) {
        uint64_t want = 0;
        if (len < 9 + 1 + 8) {
            load_fail(err, errlen, path, len, "truncated file");
            goto out;
        }
        for (int i = 7; i >= 0; i--)
            want = want << 8 | data[len - 8 + (size_t)i];
        if (want != 0 && crc64(0, data, len - 8) != want) {
            snprintf(err, errlen, "Wrong RDB checksum in %s: the file is damaged or truncated",
                     path);
            goto out;
        }
        in.len = len - 8;
    }
    in.pos = 9;
    /* IDLE records are relative to the LRU clock, which has not ticked
     * yet when the file is loaded at start-up. */
    evict_update_clock();
    for (;;) {
        size_t at = in.pos;
        unsigned char type;
        uint64_t a, b;
        if (rdb_in_byte(&in, &type) < 0) {
            load_fail(err, errlen, path, at, "unexpected end of file");
            goto out;
        }
        if (type == RDB_OPCODE_EOF)
            break;
        switch (type) {
        case RDB_OPCODE_EXPIRETIME_MS:
            if (rdb_in_u64le(&in, &a) < 0) {
                load_fail(err, errlen, path, at, "truncated expire time");
                goto out;
            }
            expire = (long long)a;
            continue;
        case RDB_OPCODE_EXPIRETIME: {
            const unsigned char *p;
            if (rdb_in_bytes(&in, &p, 4) < 0) {
                load_fail(err, errlen, path, at, "truncated expire time");
                goto out;
            }
            expire = (long long)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                 (uint32_t)p[3] << 24) * 1000;
            continue;
        }
        case RDB_OPCODE_FREQ: {
            unsigned char fr;
            if (rdb_in_byte(&in, &fr) < 0) {
                load_fail(err, errlen, path, at, "truncated LFU frequency");
                goto out;
            }
            lfu_freq = fr;
            continue;
        }
        case RDB_OPCODE_IDLE:
            if (rdb_in_len(&in, &a, NULL) < 0) {
                load_fail(err, errlen, path, at, "truncated LRU idle time");
                goto out;
            }
            lru_idle = a > LLONG_MAX ? LLONG_MAX : (long long)a;
            continue;
        case RDB_OPCODE_SELECTDB:
            if (rdb_in_len(&in, &a, NULL) < 0 || a >= (uint64_t)server.dbnum) {
                load_fail(err, errlen, path, at, "DB index out of range");
                goto out;
            }
            db = &server.dbs[a];
            continue;
        case RDB_OPCODE_RESIZEDB:
            if (rdb_in_len(&in, &a, NULL) < 0 || rdb_in_len(&in, &b, NULL) < 0) {
                load_fail(err, errlen, path, at, "truncated RESIZEDB");
                goto out;
            }
            continue;
        case RDB_OPCODE_AUX: {
            struct rdb_str k, v;
            if (rdb_in_string(&in, &k) < 0) {
                load_fail(err, errlen, path, at, "bad AUX field");
                goto out;
            }
            if (rdb_in_string(&in, &v) < 0) {
                rdb_str_free(&k);
                load_fail(err, errlen, path, at, "bad AUX field");
                goto out;
            }
            long long used;
            if (k.len == 8 && memcmp(k.p, "used-mem", 8) == 0 &&
                rc_str2ll((const char *)v.p, v.len, &used) && used >= 0)
                loading_set_rdb_used_mem((unsigned long long)used);
            else if (k.len == sizeof(REPLPOS_AUX_KEY) - 1 &&
                     memcmp(k.p, REPLPOS_AUX_KEY, k.len) == 0)
                replpos_load((const char *)v.p, v.len, path);
            rdb_str_free(&k);
            rdb_str_free(&v);
            continue;
        }
        case RDB_OPCODE_FUNCTION2: {
            struct rdb_str code;
            char ferr[512];
            if (rdb_in_string(&in, &code) < 0) {
                load_fail(err, errlen, path, at, "bad function library");
                goto out;
            }
            int frc = function_load_code((const char *)code.p, code.len, 0, ferr, sizeof(ferr));
            rdb_str_free(&code);
            if (frc != 0) {
                load_fail(err, errlen, path, at, ferr);
                goto out;
            }
            continue;
        }
        case RDB_OPCODE_MODULE_AUX:
        case RDB_OPCODE_FUNCTION:
            load_fail(err, errlen, path, at, "modules and pre-release functions are not supported");
            goto out;
        default:
            break;
        }
        if (!rdb_type_supported(type) && !rdb_is_stream_type(type)) {
            load_fail(err, errlen, path, at, "unsupported value type");
            goto out;
        }
        struct rdb_str key;
        if (rdb_in_string(&in, &key) < 0) {
            load_fail(err, errlen, path, at, "bad key");
            goto out;
        }
        struct kv *o = rdb_get_value(&in, type, (const char *)key.p, key.len);
        if (o == NULL) {
            rdb_str_free(&key);
            load_fail(err, errlen, path, at, "bad value");
            goto out;
        }
        int dup = 0;
        if (expire >= 0 && expire <= server.mstime) {
            kv_free(o);       /* expired while the node was down */
            keys_expired++;
        } else if (db_add(db, o) != 0 && !rdb_load_merge) {
            kv_free(o);
            dup = 1;
        } else {
            if (db_lookup_nostat(db, kv_key(o), o->klen) != o)
                db_overwrite(db, o);    /* DEBUG RELOAD MERGE: the file's key wins */
            if (expire >= 0)
                o = db_set_expire(db, o, expire);
            evict_set_access(o, lfu_freq, lru_idle);
            keys_loaded++;
        }
        rdb_str_free(&key);
        if (dup) {
            load_fail(err, errlen, path, at, "duplicate key");
            goto out;
        }
        expire = lfu_freq = lru_idle = -1;
        if (loading_step(in.pos) != 0) {
            snprintf(err, errlen, "loading of %s interrupted by a shutdown request", path);
            goto out;
        }
    }
    if (version >= 5 && in.pos != in.len) {
        load_fail(err, errlen, path, in.pos, "data after the end of file marker");
        goto out;
    }
    log_notice("Done loading RDB, keys loaded: %lld, keys expired: %lld.", keys_loaded,
               keys_expired);
    rdb_last_load_keys_loaded = keys_loaded;
    rdb_last_load_keys_expired = keys_expired;
    loading_file_done(len);
    rc = 0;
out:
    rc_free(data);
    return rc;
}

void cmd_save(struct client *c)
{
    if (snapshot_child_pid() != -1) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (snapshot_save_now() != 0) {
        reply_error(c, "ERR");
        return;
    }
    reply_ok(c);
}
