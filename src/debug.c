/*
 * debug.c — DEBUG, the subcommands tests and operators use, answering as
 * redis-server 7.0.15 does: SLEEP, RELOAD, OBJECT, POPULATE, PROTOCOL,
 * SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, CHANGE-REPL-ID and HELP.
 * Others get Redis's unknown-subcommand error (STRINGMATCH-LEN too: it is
 * not in 7.0.15).
 *
 * Access follows `enable-debug-command` (no | yes | local; default no, as
 * in Redis 7.0.15): with "local" only loopback and unix-socket clients
 * may run it.
 *
 * The digest.  DEBUG DIGEST is Redis's dataset digest, so the same data
 * gives the same 40 hex digits on ringcached and redis-server: per key a
 * 20-byte value is built with "mix" (SHA1 of the bytes XORed in, then the
 * SHA1 of the result) for ordered things and "xor" (SHA1 of the bytes
 * XORed in) for unordered ones, and the keys' values are XORed into the
 * total after each database's number is mixed in:
 *
 *   key digest  = mix(key); mix(htonl(type));
 *                 string: mix(bytes)   list: mix(each element, in order)
 *                 set: xor(each member)
 *                 zset: xor(mix(member) then mix("%.17g" score), per member)
 *                 hash: xor(mix(field) then mix(value), per field)
 *                 stream: mix("ms.seq") then mix(field), mix(value) per entry
 *                 xor("!!expire!!") if the key has a TTL
 *   total       = for each non-empty db: mix(htonl(db)); xor(key digests)
 *
 * DIGEST-VALUE gives the key digest without the key's own mix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "elements.h"
#include "evict.h"
#include "loading.h"
#include "quicklist.h"
#include "rdbobj.h"
#include "reply.h"
#include "server.h"
#include "tracking.h"
#include "sha1.h"
#include "stream.h"
#include "t_hash.h"
#include "t_zset.h"

#define DIGEST_LEN 20

static void xor_digest(unsigned char *d, const void *p, size_t len)
{
    unsigned char h[DIGEST_LEN];
    rc_sha1(h, p, len);
    for (int j = 0; j < DIGEST_LEN; j++)
        d[j] ^= h[j];
}

static void mix_digest(unsigned char *d, const void *p, size_t len)
{
    xor_digest(d, p, len);
    rc_sha1(d, d, DIGEST_LEN);
}

static int mix_zset_member(void *arg, const char *m, size_t mlen, double score)
{
    unsigned char *d = arg;
    unsigned char ele[DIGEST_LEN] = {0};
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%.17g", score);
    mix_digest(ele, m, mlen);
    mix_digest(ele, buf, (size_t)n);
    xor_digest(d, ele, DIGEST_LEN);
    return 1;
}

static void mix_element(void *arg, const char *p, size_t len)
{
    mix_digest(arg, p, len);
}

static void xor_element(void *arg, const char *p, size_t len)
{
    xor_digest(arg, p, len);
}

/* XORs (and mixes) the value of o into d, as Redis's xorObjectDigest. */
static void value_digest(unsigned char *d, const struct kv *o)
{
    uint32_t aux = htonl(o->type);
    mix_digest(d, &aux, sizeof(aux));
    if (o->type == OBJ_STRING) {
        char scratch[32];
        struct strview v = kv_strview(o, scratch);
        mix_digest(d, v.p, v.len);
    } else if (o->type == OBJ_LIST) {
        elements_walk(o, mix_element, d);
    } else if (o->type == OBJ_SET) {
        elements_walk(o, xor_element, d);
    } else if (o->type == OBJ_ZSET) {
        zset_walk_all(o, mix_zset_member, d);
    } else if (o->type == OBJ_HASH) {
        struct hash_iter it;
        const char *f, *v;
        size_t flen, vlen;
        hash_iter_init(&it, o);
        while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
            unsigned char ele[DIGEST_LEN] = {0};
            mix_digest(ele, f, flen);
            mix_digest(ele, v, vlen);
            xor_digest(d, ele, DIGEST_LEN);
        }
        hash_iter_done(&it);
    } else if (o->type == OBJ_STREAM) {
        struct stream_iter it;
        struct stream_id id;
        int64_t nf;
        char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
        stream_iter_start(&it, o->v.ptr, NULL, NULL, 0);
        while (stream_iter_next(&it, &id, &nf)) {
            char idbuf[48];
            int n = snprintf(idbuf, sizeof(idbuf), "%llu.%llu", (unsigned long long)id.ms,
                             (unsigned long long)id.seq);
            mix_digest(d, idbuf, (size_t)n);
            while (nf-- > 0) {
                const char *f, *v;
                size_t flen, vlen;
                stream_iter_field(&it, &f, &flen, fbuf, &v, &vlen, vbuf);
                mix_digest(d, f, flen);
                mix_digest(d, v, vlen);
            }
        }
    }
    if (o->flags & KV_EXPIRE)
        xor_digest(d, "!!expire!!", 10);
}

static void hex20(char out[41], const unsigned char *d)
{
    static const char hex[] = "0123456789abcdef";
    for (int j = 0; j < DIGEST_LEN; j++) {
        out[2 * j] = hex[d[j] >> 4];
        out[2 * j + 1] = hex[d[j] & 15];
    }
    out[40] = '\0';
}

static void dataset_digest(unsigned char *final)
{
    memset(final, 0, DIGEST_LEN);
    for (int j = 0; j < server.dbnum; j++) {
        struct db *db = &server.dbs[j];
        if (db_size(db) == 0)
            continue;
        uint32_t aux = htonl((uint32_t)j);
        mix_digest(final, &aux, sizeof(aux));
        for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
            struct dict *t = db->slots[slot];
            if (!t || dict_size(t) == 0)
                continue;
            struct dict_iter it;
            dict_iter_init(&it, t);
            struct dnode *n;
            while ((n = dict_iter_next(&it)) != NULL) {
                const struct kv *o = (const struct kv *)n;
                unsigned char d[DIGEST_LEN] = {0};
                mix_digest(d, kv_key(o), o->klen);
                value_digest(d, o);
                xor_digest(final, d, DIGEST_LEN);
            }
            dict_iter_done(&it);
        }
    }
}

/* Is c on a loopback address or the unix socket?  (Redis's islocalClient.) */
static int local_client(const struct client *c)
{
    if (c->flags & CF_UNIX)
        return 1;
    return strncmp(c->addr, "127.0.0.1:", 10) == 0 || strncmp(c->addr, "::1:", 4) == 0 ||
           strncmp(c->addr, "[::1]:", 6) == 0;
}

static void debug_digest(struct client *c)
{
    unsigned char d[DIGEST_LEN];
    char hex[41];
    dataset_digest(d);
    hex20(hex, d);
    reply_status(c, hex);
}

static void debug_digest_value(struct client *c)
{
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char d[DIGEST_LEN] = {0};
        char hex[41];
        struct kv *o = db_lookup(c->db, c->argv[j].p, c->argv[j].len);
        if (o)
            value_digest(d, o);
        hex20(hex, d);
        reply_status(c, hex);
    }
}

static void debug_sleep(struct client *c)
{
    char buf[64];
    size_t n = c->argv[2].len < sizeof(buf) - 1 ? c->argv[2].len : sizeof(buf) - 1;
    memcpy(buf, c->argv[2].p, n);
    buf[n] = '\0';
    double secs = strtod(buf, NULL);    /* garbage is 0, as in Redis */
    if (secs > 0) {
        if (secs > 86400.0 * 365)
            secs = 86400.0 * 365;
        long long us = (long long)(secs * 1000000);
        struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    reply_ok(c);
}

static void debug_reload(struct client *c)
{
    int flush = 1, save = 1, merge = 0;
    for (int j = 2; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "merge")) {
            merge = 1;
        } else if (arg_is(&c->argv[j], "noflush")) {
            flush = 0;
        } else if (arg_is(&c->argv[j], "nosave")) {
            save = 0;
        } else {
            reply_error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    char err[4608];
    if (save && rdb_save_file(server.dbfilename, 0, err, sizeof(err)) != 0) {
        log_warn("%s", err);
        reply_error(c, "ERR");
        return;
    }
    if (flush) {
        tracking_invalidate_all();  /* as Redis's emptyData() */
        for (int j = 0; j < server.dbnum; j++)
            db_flush(&server.dbs[j], 0);
    }
    loading_begin(0);
    rdb_load_merge = merge;
    int rc = rdb_load_file(server.dbfilename, err, sizeof(err));
    rdb_load_merge = 0;
    loading_end();
    if (rc != 0) {
        log_warn("%s", err);
        reply_error(c, "ERR Error trying to load the RDB dump");
        return;
    }
    log_warn("DB reloaded by DEBUG RELOAD");
    reply_ok(c);
}

static void debug_object(struct client *c)
{
    struct kv *o = db_lookup(c->db, c->argv[2].p, c->argv[2].len);
    if (!o) {
        reply_error(c, "ERR no such key");
        return;
    }
    struct rdb_out out;
    rdb_out_init(&out);
    rdb_put_value(&out, o);
    size_t serlen = out.len ? out.len - 1 : 0;      /* without the type byte */
    rdb_out_free(&out);
    char extra[160] = "";
    if (o->enc == ENC_QUICKLIST) {
        const struct quicklist *ql = o->v.ptr;
        unsigned long sz = 0;
        for (const struct ql_node *n = ql->head; n; n = n->next)
            sz += lp_bytes(n->lp);
        snprintf(extra, sizeof(extra),
                 " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:0"
                 " ql_uncompressed_size:%lu",
                 ql->nodes, ql->nodes ? (double)ql->count / (double)ql->nodes : 0.0, ql->fill,
                 sz);
    }
    int shared = o->type == OBJ_STRING && o->enc == ENC_INT && o->v.i >= 0 && o->v.i < 10000 &&
                 !evict_policy_is_lru() && !evict_policy_is_lfu();
    char line[512];
    snprintf(line, sizeof(line),
             "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u "
             "lru_seconds_idle:%llu%s",
             (void *)o, shared ? 2147483647 : 1, obj_encoding_name(o->enc), serlen,
             (unsigned)(o->lru & 0xFFFFFF), evict_idle_seconds(o), extra);
    reply_status(c, line);
}

static void debug_populate(struct client *c)
{
    long long keys, valsize = 0;
    if (c->argc > 5) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try DEBUG HELP.", (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &keys) || keys < 0) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    if (c->argc == 5) {
        if (!rc_str2ll(c->argv[4].p, c->argv[4].len, &valsize) || valsize < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    /* The prefix is read as a C string, as Redis's %s does. */
    char prefix[128] = "key";
    if (c->argc >= 4) {
        size_t n = strnlen(c->argv[3].p, c->argv[3].len);
        if (n > sizeof(prefix) - 1)
            n = sizeof(prefix) - 1;
        memcpy(prefix, c->argv[3].p, n);
        prefix[n] = '\0';
    }
    char *val = valsize ? rc_malloc((size_t)valsize) : NULL;
    for (long long j = 0; j < keys; j++) {
        char key[128], buf[128];
        int klen = snprintf(key, sizeof(key), "%s:%llu", prefix, (unsigned long long)j);
        if (klen >= (int)sizeof(key))
            klen = sizeof(key) - 1;
        if (db_lookup(c->db, key, (size_t)klen))
            continue;
        int blen = snprintf(buf, sizeof(buf), "value:%llu", (unsigned long long)j);
        struct kv *o;
        if (valsize == 0) {
            o = kv_new_bytes(key, (size_t)klen, buf, (size_t)blen, -1);
        } else {
            memset(val, 0, (size_t)valsize);
            memcpy(val, buf, valsize <= blen ? (size_t)valsize : (size_t)blen);
            o = kv_new_bytes(key, (size_t)klen, val, (size_t)valsize, -1);
        }
        db_add(c->db, o);
    }
    rc_free(val);
    reply_ok(c);
}

static void debug_protocol(struct client *c)
{
    const struct slice *name = &c->argv[2];
    if (arg_is(name, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(name, "integer")) {
        reply_long(c, 12345);
    } else if (arg_is(name, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(name, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        if (c->resp >= 3) {
            reply_raw(c, "(", 1);
            reply_raw(c, big, sizeof(big) - 1);
            reply_raw(c, "\r\n", 2);
        } else {
            reply_bulk(c, big, sizeof(big) - 1);
        }
    } else if (arg_is(name, "null")) {
        reply_null(c);
    } else if (arg_is(name, "array") || arg_is(name, "set")) {
        if (arg_is(name, "array"))
            reply_array_len(c, 3);
        else
            reply_set_len(c, 3);
        for (int j = 0; j < 3; j++)
            reply_long(c, j);
    } else if (arg_is(name, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_long(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(name, "attrib")) {
        if (c->resp >= 3) {
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_long(c, 90);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(name, "push")) {
        if (c->resp < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push_len(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_long(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(name, "true")) {
        reply_bool(c, 1);
    } else if (arg_is(name, "false")) {
        reply_bool(c, 0);
    } else if (arg_is(name, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false");
    }
}

/* Redis's atoi() reading of SET-ACTIVE-EXPIRE's argument. */
static int leading_int(const struct slice *a)
{
    char buf[32];
    size_t n = a->len < sizeof(buf) - 1 ? a->len : sizeof(buf) - 1;
    memcpy(buf, a->p, n);
    buf[n] = '\0';
    return (int)strtol(buf, NULL, 10);
}

void cmd_debug(struct client *c)
{
    if (server.enable_debug_cmd != DEBUG_CMD_YES &&
        !(server.enable_debug_cmd == DEBUG_CMD_LOCAL && local_client(c))) {
        reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set "
                       "to \"local\", you can run it from a local connection, otherwise you need "
                       "to set this option in the configuration file, and then restart the "
                       "server.");
        return;
    }
    const struct slice *sub = &c->argv[1];
    if (arg_is(sub, "help") && c->argc == 2) {
        static const char *const lines[] = {
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "OBJECT <key>",
            "    Show low level info about the `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
            "    * MERGE: conflicting keys will be loaded from RDB.",
            "    * NOFLUSH: the existing database will not be removed before load, but",
            "      conflicting keys will generate an exception and kill the server.",
            "    * NOSAVE: the database will be loaded from an existing RDB file.",
            "    Examples:",
            "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
            "      the database.",
            "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
            "      existing RDB file.",
            "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
            "      file to the database.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL,
        };
        reply_help(c, "debug", lines);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        debug_sleep(c);
    } else if (arg_is(sub, "reload")) {
        debug_reload(c);
    } else if (arg_is(sub, "object") && c->argc == 3) {
        debug_object(c);
    } else if (arg_is(sub, "populate") && c->argc >= 3) {
        debug_populate(c);
    } else if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        expire_set_active(leading_int(&c->argv[2]) != 0);
        reply_ok(c);
    } else if (arg_is(sub, "quicklist-packed-threshold") && c->argc == 3) {
        char buf[128];
        unsigned long long sz;
        size_t n = c->argv[2].len < sizeof(buf) ? c->argv[2].len : sizeof(buf) - 1;
        memcpy(buf, c->argv[2].p, n);
        buf[n] = '\0';
        if (n != c->argv[2].len || memchr(buf, '\0', n) || !rc_memtoull(buf, &sz) ||
            ql_set_packed_threshold(sz) != 0)
            reply_error(c, "ERR argument must be a memory value bigger than 1 and smaller "
                           "than 4gb");
        else
            reply_ok(c);
    } else if (arg_is(sub, "digest") && c->argc == 2) {
        debug_digest(c);
    } else if (arg_is(sub, "digest-value") && c->argc >= 2) {
        debug_digest_value(c);
    } else if (arg_is(sub, "change-repl-id") && c->argc == 2) {
        rc_random_hex(server.replid, 40);
        server.replid[40] = '\0';
        log_warn("Changing replication IDs after receiving DEBUG change-repl-id");
        reply_ok(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try DEBUG HELP.", (int)sub->len, sub->p);
    }
}
