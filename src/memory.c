/*
 * memory.c — MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
 *
 * MEMORY USAGE answers the number redis-server 7.0 (with jemalloc) gives
 * for the same key, computed from Redis's structure sizes and jemalloc's
 * size classes rather than from ringcache's own layout (a key and its
 * value share one allocation here):
 *
 *   key      sds of the key (1, 3, 5, 9 or 17 header bytes by length, the
 *            bytes and a NUL, rounded to its size class) + a 24-byte
 *            dictEntry
 *   string   "int" 16 (the robj); "embstr" one class of 16+3+len+1;
 *            "raw" 16 + the class of the sds (header, bytes, NUL)
 *   intset   16 + class of 8 + width * count
 *   listpack 16 + class of Redis's listpack bytes for the same entries
 *   list     16 + 40 (quicklist) + per node 40 + class of its listpack,
 *            the first SAMPLES nodes averaged and scaled to all nodes
 *   hashtable 16 + 56 (dict) + 8 per bucket (Redis's table size for the
 *            element count) + per element dictEntry and sds classes,
 *            sampled the same way
 *   skiplist as hashtable + 16 (zset) + 32 (zskiplist) + the 32-level
 *            header node + per member a level-1 skiplist node
 *   stream   16 + ringcache's own stream size
 *
 * Exact for strings, intsets, listpacks and lists of one node; for the
 * sampled encodings the sample is the first members in ringcache's order,
 * so the figure can differ when member sizes vary, and the bucket count is
 * that of a table grown by adding (not one shrunk by deletions, nor one
 * in the middle of an incremental rehash, for which Redis counts both
 * tables until later operations finish it); skiplist levels are random in Redis (level 1 assumed here);
 * streams are ringcache's size.  Redis Cluster adds no per-key overhead in
 * 7.0's MEMORY USAGE either.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dict.h"
#include "eval.h"
#include "listpack.h"
#include "mem.h"
#include "memdoctor.h"
#include "quicklist.h"
#include "rcbuild.h"
#include "rdb.h"
#include "reply.h"
#include "server.h"
#include "stats.h"
#include "stream.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"
#include "zskiplist.h"

#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define ROBJ 16
#define DICT_ENTRY 24
#define DICT 56
#define QUICKLIST 40
#define QL_NODE 40

/* jemalloc's size class for a request of n bytes. */
static size_t je_class(size_t n)
{
    if (n <= 8)
        return 8;
    if (n <= 128)
        return (n + 15) & ~(size_t)15;
    size_t p = 128;
    while (p * 2 < n)
        p *= 2;
    size_t step = p / 4;
    return (n + step - 1) / step * step;
}

/* The allocation of an sds string of len bytes, as sdsnewlen makes it. */
static size_t sds_size(size_t len)
{
    size_t hdr = len < 32 ? (len == 0 ? 3 : 1) : len < 256 ? 3 : len < 65536 ? 5
               : len < 4294967296ULL ? 9 : 17;
    return je_class(hdr + len + 1);
}

/* Bytes of Redis's listpack holding the same entries as ours. */
static size_t redis_lp_bytes(const unsigned char *lp)
{
    size_t total = 6 + 1;
    for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, off)) {
        struct lp_entry e;
        lp_get(lp, off, &e);
        total += e.sval ? rlp_entry_size(e.sval, e.slen) : rlp_entry_size_int(e.lval);
    }
    return total;
}

/* Buckets of Redis's hash table holding n elements grown one by one: the
 * next power of two at or above n, at least 4. */
static size_t redis_buckets(size_t n)
{
    size_t b = 4;
    while (b < n)
        b *= 2;
    return b;
}

static double sampled(double sum, long long n, size_t count)
{
    return n ? sum / (double)n * (double)count : 0;
}

static size_t list_usage(const struct kv *o, long long samples)
{
    const struct quicklist *ql = o->v.ptr;
    double sum = 0;
    long long n = 0;
    for (const struct ql_node *nd = ql->head; nd && n < samples; nd = nd->next, n++)
        sum += QL_NODE + je_class(redis_lp_bytes(nd->lp));
    return ROBJ + QUICKLIST + (size_t)sampled(sum, n, ql->nodes);
}

static size_t set_usage(const struct kv *o, long long samples)
{
    if (o->enc == ENC_INTSET)
        return ROBJ + je_class(set_mem_usage(o->enc, o->v.ptr));
    struct set_iter it;
    struct set_elem e;
    double sum = 0;
    long long n = 0;
    set_iter_init(&it, o);
    while (n < samples && set_iter_next(&it, &e)) {
        const char *p;
        size_t len;
        set_elem_bytes(&e, &p, &len);
        sum += DICT_ENTRY + sds_size(len);
        n++;
    }
    set_iter_done(&it);
    return ROBJ + DICT + 8 * redis_buckets(set_size(o)) + (size_t)sampled(sum, n, set_size(o));
}

static size_t hash_usage(const struct kv *o, long long samples)
{
    if (o->enc == ENC_LISTPACK)
        return ROBJ + je_class(redis_lp_bytes(o->v.ptr));
    struct hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    double sum = 0;
    long long n = 0;
    hash_iter_init(&it, o);
    while (n < samples && hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        sum += DICT_ENTRY + sds_size(flen) + sds_size(vlen);
        n++;
    }
    hash_iter_done(&it);
    return ROBJ + DICT + 8 * redis_buckets(hash_length(o)) +
           (size_t)sampled(sum, n, hash_length(o));
}

struct zsample {
    long long left;
    double sum;
    long long n;
};

static int zset_sample(void *arg, const char *m, size_t mlen, double score)
{
    struct zsample *z = arg;
    (void)m;
    (void)score;
    if (z->left-- <= 0)
        return 0;
    z->sum += sds_size(mlen) + DICT_ENTRY + je_class(24 + 16);
    z->n++;
    return 1;
}

static size_t zset_usage(const struct kv *o, long long samples)
{
    if (o->enc == ENC_LISTPACK)
        return ROBJ + je_class(redis_lp_bytes(o->v.ptr));
    const struct zsl *zsl = zset_skiplist(o);
    struct zsample z = {samples, 0, 0};
    zset_walk_all(o, zset_sample, &z);
    return ROBJ + 16 + 32 + DICT + 8 * redis_buckets(zsl->length) + je_class(24 + 32 * 16) +
           (size_t)sampled(z.sum, z.n, zsl->length);
}

/* Redis's number of bytes for key o (see the top of the file). */
static size_t key_usage(const struct kv *o, long long samples)
{
    size_t v = 0;
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_INT)
            v = ROBJ;
        else if (o->enc == ENC_EMBSTR)
            v = je_class(ROBJ + 3 + kv_strlen(o) + 1);
        else
            v = ROBJ + sds_size(kv_strlen(o));
        break;
    case OBJ_LIST:
        v = list_usage(o, samples);
        break;
    case OBJ_SET:
        v = set_usage(o, samples);
        break;
    case OBJ_HASH:
        v = hash_usage(o, samples);
        break;
    case OBJ_ZSET:
        v = zset_usage(o, samples);
        break;
    default:
        v = ROBJ + stream_mem(o->v.ptr);
        break;
    }
    return v + sds_size(o->klen) + DICT_ENTRY;
}

void cmd_memory_usage(struct client *c)
{
    long long samples = 5;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "samples") && j + 1 < c->argc) {
            if (!rc_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &samples)) {
                reply_err_not_int(c);
                return;
            }
            if (samples < 0) {
                reply_err_syntax(c);
                return;
            }
            if (samples == 0)
                samples = LLONG_MAX;
            j++;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    struct kv *o = db_lookup_nostat(c->db, c->argv[2].p, c->argv[2].len);
    if (!o) {
        reply_null(c);
        return;
    }
    reply_long(c, (long long)key_usage(o, samples));
}

/* ---- allocator figures ---- */

struct alloc_stats {
    size_t allocated, active, resident;
};

/* jemalloc's allocated, active and resident bytes.  Without jemalloc,
 * Redis's stand-ins: resident is the RSS less the Lua VM's memory, active
 * is resident, allocated is used_memory. */
static void alloc_stats(struct alloc_stats *a, const struct mem_overview *m)
{
    a->allocated = a->active = a->resident = 0;
#ifdef HAVE_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(size_t);
    mallctl("stats.allocated", &a->allocated, &sz, NULL, 0);
    mallctl("stats.active", &a->active, &sz, NULL, 0);
    mallctl("stats.resident", &a->resident, &sz, NULL, 0);
#endif
    size_t lua = eval_lua_memory();
    if (!a->resident)
        a->resident = m->rss > lua ? m->rss - lua : m->rss;
    if (!a->active)
        a->active = a->resident;
    if (!a->allocated)
        a->allocated = m->used;
}

static void map_size(struct client *c, const char *name, long long v)
{
    reply_bulk_cstr(c, name);
    reply_long(c, v);
}

static void map_double(struct client *c, const char *name, double v)
{
    reply_bulk_cstr(c, name);
    reply_double(c, v);
}

void cmd_memory_stats(struct client *c)
{
    struct alloc_stats a;
    struct mem_overview m;
    stats_mem_overview(&m);
    alloc_stats(&a, &m);
    int dbs = 0;
    for (int j = 0; j < server.dbnum; j++)
        if (db_size(&server.dbs[j]))
            dbs++;
    reply_map_len(c, 27 + dbs);
    map_size(c, "peak.allocated", (long long)m.peak);
    map_size(c, "total.allocated", (long long)m.used);
    map_size(c, "startup.allocated", (long long)m.startup);
    map_size(c, "replication.backlog", (long long)m.repl_backlog);
    map_size(c, "clients.slaves", (long long)m.clients_slaves);
    map_size(c, "clients.normal", (long long)m.clients);
    map_size(c, "cluster.links", (long long)m.cluster_links);
    map_size(c, "aof.buffer", (long long)m.aof_buffer);
    map_size(c, "lua.caches", (long long)m.lua_caches);
    map_size(c, "functions.caches", (long long)m.functions_caches);
    long long keys = 0, overhead_db = 0;
    for (int j = 0; j < server.dbnum; j++) {
        struct db *db = &server.dbs[j];
        if (!db_size(db))
            continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", j);
        long long mainh = 0, exph = 0;
        for (unsigned s = 0; s < RC_SLOTS; s++)
            if (db->slots[s])
                mainh += (long long)dict_mem_usage(db->slots[s]);
        if (db->expires_dict)
            exph = (long long)dict_mem_usage(db->expires_dict);
        reply_bulk_cstr(c, name);
        reply_map_len(c, 3);
        map_size(c, "overhead.hashtable.main", mainh);
        map_size(c, "overhead.hashtable.expires", exph);
        map_size(c, "overhead.hashtable.slot-to-keys", 0);
        overhead_db += mainh + exph;
        keys += (long long)db_size(db);
    }
    long long overhead = (long long)(m.startup + m.repl_backlog + m.clients_slaves + m.clients +
                                     m.cluster_links + m.aof_buffer + m.lua_caches +
                                     m.functions_caches) +
                         overhead_db;
    long long dataset = (long long)m.used - overhead;
    if (dataset < 0)
        dataset = 0;
    long long net = (long long)m.used - (long long)m.startup;
    map_size(c, "overhead.total", overhead);
    map_size(c, "keys.count", keys);
    map_size(c, "keys.bytes-per-key", keys ? net / keys : 0);
    map_size(c, "dataset.bytes", dataset);
    map_double(c, "dataset.percentage", net > 0 ? (double)dataset * 100 / (double)net : 0);
    map_double(c, "peak.percentage", m.peak ? (double)m.used * 100 / (double)m.peak : 0);
    map_size(c, "allocator.allocated", (long long)a.allocated);
    map_size(c, "allocator.active", (long long)a.active);
    map_size(c, "allocator.resident", (long long)a.resident);
    map_double(c, "allocator-fragmentation.ratio",
               a.allocated ? (double)a.active / (double)a.allocated : 0);
    map_size(c, "allocator-fragmentation.bytes", (long long)a.active - (long long)a.allocated);
    map_double(c, "allocator-rss.ratio", a.active ? (double)a.resident / (double)a.active : 0);
    map_size(c, "allocator-rss.bytes", (long long)a.resident - (long long)a.active);
    map_double(c, "rss-overhead.ratio", a.resident ? (double)m.rss / (double)a.resident : 0);
    map_size(c, "rss-overhead.bytes", (long long)m.rss - (long long)a.resident);
    map_double(c, "fragmentation", m.used ? (double)m.rss / (double)m.used : 0);
    map_size(c, "fragmentation.bytes", (long long)m.rss - (long long)m.used);
}

struct stats_buf {
    char *p;
    size_t len, cap;
};

#ifdef HAVE_JEMALLOC
static void stats_write(void *arg, const char *s)
{
    struct stats_buf *b = arg;
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = rc_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}
#endif

void cmd_memory_malloc_stats(struct client *c)
{
#ifdef HAVE_JEMALLOC
    struct stats_buf buf = {NULL, 0, 0};
    malloc_stats_print(stats_write, &buf, NULL);
    reply_verbatim(c, buf.p ? buf.p : "", buf.len, "txt");
    rc_free(buf.p);
#else
    reply_verbatim(c, "Stats not supported for the current allocator", 45, "txt");
#endif
}

void cmd_memory_purge(struct client *c)
{
#ifdef HAVE_JEMALLOC
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "arena.%d.purge", MALLCTL_ARENAS_ALL);
    mallctl(cmd, NULL, NULL, NULL, 0);
#endif
    reply_ok(c);
}

/* Redis's memory doctor (memdoctor.c) on ringcache's figures: those of
 * MEMORY STATS, the clients of INFO, replicas as repl.c counts them and
 * the EVAL script cache. */
void cmd_memory_doctor(struct client *c)
{
    struct mem_overview m;
    struct alloc_stats a;
    stats_mem_overview(&m);
    alloc_stats(&a, &m);
    struct memdoc_figures f = {
        .used = m.used,
        .peak = m.peak,
        .rss = m.rss,
        .allocated = a.allocated,
        .active = a.active,
        .resident = a.resident,
        .clients_normal = m.clients,
        .nclients = m.nclients,
        .clients_slaves = m.clients_slaves,
        .nreplicas = m.replicas,
        .scripts = eval_scripts(),
        .allocator = rc_allocator_name(),
    };
    size_t len;
    char *report = memdoc_report(&f, &len);
    reply_verbatim(c, report, len, "txt");
    rc_free(report);
}

void cmd_memory_help(struct client *c)
{
    static const char *const lines[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    reply_help(c, "memory", lines);
}
