/*
 * config.c — configuration as a table.
 *
 * One row per directive gives its name (and alias), type, default, bounds,
 * whether CONFIG SET may change it, and where the value lives.  The same
 * rows drive the config file parser, the command-line options, CONFIG GET,
 * CONFIG SET (all-or-nothing over several parameters, as Redis 7 does) and
 * CONFIG REWRITE.
 */
#include "config.h"
#include "acl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "latency.h"
#include "aof.h"
#include "command.h"
#include "glob.h"
#include "listener.h"
#include "loading.h"
#include "reply.h"
#include "server.h"
#include "slowlog.h"
#include "snapshot.h"
#include "stats.h"
#include "notify.h"

enum ctype { T_BOOL, T_INT, T_MEM, T_ENUM, T_STR, T_SPECIAL };
/* F_DEBUG: a testing knob Redis also has (key-load-delay, ...): settable and
 * readable by its exact name, but never listed by a CONFIG GET pattern nor
 * written by CONFIG REWRITE, as Redis 7.0 treats its hidden debug configs. */
enum cflag { F_IMMUTABLE = 1, F_SENSITIVE = 2, F_HIDDEN = 4, F_DEBUG = 8, F_OCTAL = 16 };

struct enumval {
    const char *name;
    int value;
};

struct cfg;
typedef const char *special_set(const struct cfg *cf, int argc, char **argv);
typedef size_t special_get(const struct cfg *cf, char *buf, size_t len);

struct cfg {
    const char *name;
    const char *alias;
    enum ctype type;
    int flags;
    void *ptr;                  /* int*, long long*, unsigned long long*, char** ... */
    int width;                  /* bytes of the integer at ptr */
    long long min, max;
    const char *deflt;          /* textual default */
    const struct enumval *enums;
    special_set *set;
    special_get *get;
    const char *(*apply)(void); /* after a successful change */
};

static const struct enumval loglevels[] = {
    {"debug", LOG_DEBUG}, {"verbose", LOG_VERBOSE}, {"notice", LOG_NOTICE},
    {"warning", LOG_WARNING}, {NULL, 0}};
static const struct enumval pubsub_defaults[] = {
    {"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};
static const struct enumval policies[] = {
    {"volatile-lru", MM_VOLATILE_LRU}, {"volatile-lfu", MM_VOLATILE_LFU},
    {"volatile-random", MM_VOLATILE_RANDOM}, {"volatile-ttl", MM_VOLATILE_TTL},
    {"allkeys-lru", MM_ALLKEYS_LRU}, {"allkeys-lfu", MM_ALLKEYS_LFU},
    {"allkeys-random", MM_ALLKEYS_RANDOM}, {"noeviction", MM_NOEVICTION}, {NULL, 0}};
static const struct enumval fsyncs[] = {
    {"always", AOF_FSYNC_ALWAYS}, {"everysec", AOF_FSYNC_EVERYSEC}, {"no", AOF_FSYNC_NO},
    {NULL, 0}};

static const struct enumval protected_actions[] = {
    {"no", DEBUG_CMD_NO}, {"yes", DEBUG_CMD_YES}, {"local", DEBUG_CMD_LOCAL}, {NULL, 0}};

static int lua_time_limit_dummy;

static const char *apply_loglevel(void)
{
    log_set_level(server.loglevel);
    return NULL;
}

static const char *apply_slowlog(void)
{
    slowlog_trim();
    return NULL;
}

static const char *apply_maxmemory(void)
{
    if (server.maxmemory && server.maxmemory < rc_used_memory())
        log_warn("WARNING: the new maxmemory value set via CONFIG SET (%llu) is smaller than "
                 "the current memory usage (%zu). This will result in key eviction and/or "
                 "the inability to accept new write commands depending on the "
                 "maxmemory-policy.", server.maxmemory, rc_used_memory());
    return NULL;
}

static const char *apply_appendonly(void)
{
    int was_on = aof_enabled() || aof_waiting();
    /* The start-up load reads what appendonly said when it began. */
    if (server.loading)
        return server.appendonly == loading_appendonly()
                   ? NULL : "can't change appendonly while loading the dataset";
    const char *err = aof_config_appendonly(server.appendonly);
    if (err == NULL && server.appendonly && !was_on && aof_waiting() &&
        snapshot_aof_turned_on() != 0) {
        aof_config_appendonly(0);
        err = "Unable to turn on AOF. Check server logs.";
    }
    if (err)
        server.appendonly = aof_enabled() || aof_waiting();
    return err;
}

static const char *apply_requirepass(void)
{
    acl_set_requirepass(server.requirepass);
    return NULL;
}

static const char *apply_port(void)
{
    return listener_rebind();
}

/* ---- special types ---- */

/*
 * `save` takes "seconds changes" pairs, as in Redis.  CONFIG SET (one
 * argument) replaces the rules; in the config file and on the command line
 * (several words per directive) successive directives add up, the first one
 * replacing the default.  The default is "" (no snapshots): ringcache is a
 * cache first, unlike Redis whose default is "3600 1 300 100 60 10000".
 */
static const char *set_save(const struct cfg *cf, int argc, char **argv)
{
    static int words_seen;
    (void)cf;
    char *rules = snapshot_parse_save(argc, argv);
    if (rules == NULL)
        return "Invalid save parameters";
    if (argc >= 2 && words_seen && server.save_params && server.save_params[0]) {
        size_t a = strlen(server.save_params), b = strlen(rules);
        char *both = rc_malloc(a + b + 2);
        memcpy(both, server.save_params, a);
        both[a] = ' ';
        memcpy(both + a + 1, rules, b + 1);
        rc_free(rules);
        rules = both;
    }
    if (argc >= 2)
        words_seen = 1;
    rc_free(server.save_params);
    server.save_params = rules;
    return NULL;
}

static size_t get_save(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    return (size_t)snprintf(buf, len, "%s", server.save_params ? server.save_params : "");
}

static const char *set_percentiles(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    return latency_set_percentiles(argc, argv);
}

static size_t get_percentiles(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    return latency_get_percentiles(buf, len);
}

/* Client eviction (Redis 7's maxmemory-clients) is not part of ringcache:
 * only its "off" value, 0, is accepted. */
static const char *set_maxmemory_clients(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    if (argc != 1 || strcmp(argv[0], "0") != 0)
        return "client eviction is not supported by ringcache; only 0 (off) is accepted";
    return NULL;
}

static size_t get_maxmemory_clients(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    return (size_t)snprintf(buf, len, "0");
}

static const char *set_notify(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    if (argc != 1)
        return "wrong number of arguments";
    int flags = notify_flags_parse(argv[0], strlen(argv[0]));
    if (flags < 0)
        return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    server.notify_keyspace_events = flags;
    return NULL;
}

static size_t get_notify(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    return len < 16 ? 0 : notify_flags_format(server.notify_keyspace_events, buf, len);
}

static const char *const obuf_classes[] = {"normal", "slave", "pubsub"};

static const char *set_obuf_limit(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    /* Either a single string "class hard soft secs ..." or separate args. */
    char *words[64];
    int nw = 0;
    char *copy = NULL;
    if (argc == 1) {
        copy = rc_strndup(argv[0], strlen(argv[0]));
        for (char *tok = strtok(copy, " "); tok && nw < 64; tok = strtok(NULL, " "))
            words[nw++] = tok;
    } else {
        for (int i = 0; i < argc && nw < 64; i++)
            words[nw++] = argv[i];
    }
    struct obuf_limit lim[3];
    memcpy(lim, server.obuf_limits, sizeof(lim));
    const char *err = NULL;
    if (nw == 0 || nw % 4 != 0) {
        err = "Wrong number of arguments in buffer limit configuration.";
        goto out;
    }
    for (int i = 0; i < nw; i += 4) {
        int cls = -1;
        for (int k = 0; k < 3; k++)
            if (!strcasecmp(words[i], obuf_classes[k]))
                cls = k;
        if (!strcasecmp(words[i], "replica"))
            cls = 1;
        unsigned long long hard, soft;
        long long secs;
        if (cls < 0) {
            err = "Invalid client class specified in buffer limit configuration.";
            goto out;
        }
        if (!rc_memtoull(words[i + 1], &hard) || !rc_memtoull(words[i + 2], &soft) ||
            !rc_str2ll(words[i + 3], strlen(words[i + 3]), &secs) || secs < 0) {
            err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            goto out;
        }
        lim[cls].hard = hard;
        lim[cls].soft = soft;
        lim[cls].soft_seconds = secs;
    }
    memcpy(server.obuf_limits, lim, sizeof(lim));
out:
    rc_free(copy);
    return err;
}

static size_t get_obuf_limit(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    size_t off = 0;
    for (int k = 0; k < 3; k++) {
        int n = snprintf(buf + off, len - off, "%s%s %llu %llu %lld", k ? " " : "",
                         obuf_classes[k], server.obuf_limits[k].hard,
                         server.obuf_limits[k].soft, server.obuf_limits[k].soft_seconds);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    return off;
}

static const char *set_bind(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    if (argc == 1 && strchr(argv[0], ' ')) {
        /* CONFIG SET bind "a b": split on spaces. */
        char *copy = rc_strndup(argv[0], strlen(argv[0]));
        char *words[16];
        int nw = 0;
        for (char *tok = strtok(copy, " "); tok && nw < 16; tok = strtok(NULL, " "))
            words[nw++] = tok;
        const char *err = set_bind(cf, nw, words);
        rc_free(copy);
        return err;
    }
    if (argc > 16)
        return "Too many bind addresses specified.";
    for (int i = 0; i < server.bind_count; i++)
        rc_free(server.bind[i]);
    rc_free(server.bind);
    server.bind = rc_malloc(sizeof(char *) * (size_t)(argc ? argc : 1));
    server.bind_count = argc;
    for (int i = 0; i < argc; i++)
        server.bind[i] = rc_strndup(argv[i], strlen(argv[i]));
    return NULL;
}

static size_t get_bind(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < server.bind_count; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? " " : "", server.bind[i]);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    return off;
}

static const char *set_dir(const struct cfg *cf, int argc, char **argv)
{
    (void)cf;
    if (argc != 1)
        return "wrong number of arguments";
    /* The start-up load opens the log's files relative to dir. */
    if (server.loading)
        return "can't change dir while loading the dataset";
    if (chdir(argv[0]) != 0)
        return strerror(errno);
    rc_free(server.dir);
    char cwd[PATH_MAX];
    server.dir = rc_strndup(getcwd(cwd, sizeof(cwd)) ? cwd : argv[0],
                            strlen(getcwd(cwd, sizeof(cwd)) ? cwd : argv[0]));
    return NULL;
}

static size_t get_dir(const struct cfg *cf, char *buf, size_t len)
{
    (void)cf;
    char cwd[PATH_MAX];
    return (size_t)snprintf(buf, len, "%s", getcwd(cwd, sizeof(cwd)) ? cwd : "");
}

#define BOOL(n, a, fl, field, def, ap) \
    {n, a, T_BOOL, fl, &server.field, sizeof(server.field), 0, 1, def, NULL, NULL, NULL, ap}
#define INT(n, a, fl, field, lo, hi, def, ap) \
    {n, a, T_INT, fl, &server.field, sizeof(server.field), lo, hi, def, NULL, NULL, NULL, ap}
#define MEM(n, a, fl, field, lo, hi, def, ap) \
    {n, a, T_MEM, fl, &server.field, sizeof(server.field), lo, hi, def, NULL, NULL, NULL, ap}
#define ENUM(n, a, fl, field, tab, def, ap) \
    {n, a, T_ENUM, fl, &server.field, sizeof(server.field), 0, 0, def, tab, NULL, NULL, ap}
#define STR(n, a, fl, field, def, ap) \
    {n, a, T_STR, fl, &server.field, 0, 0, 0, def, NULL, NULL, NULL, ap}
#define SPECIAL(n, a, fl, def, s, g, ap) \
    {n, a, T_SPECIAL, fl, NULL, 0, 0, 0, def, NULL, s, g, ap}

static struct cfg configs[] = {
    SPECIAL("bind", NULL, 0, "* -::*", set_bind, get_bind, listener_rebind),
    INT("port", NULL, 0, port, 0, 65535, "6379", apply_port),
    INT("tcp-backlog", NULL, F_IMMUTABLE, tcp_backlog, 0, INT_MAX, "511", NULL),
    INT("tcp-keepalive", NULL, 0, tcp_keepalive, 0, INT_MAX, "300", NULL),
    BOOL("protected-mode", NULL, 0, protected_mode, "yes", NULL),
    STR("unixsocket", NULL, F_IMMUTABLE, unixsocket, "", NULL),
    INT("unixsocketperm", NULL, F_IMMUTABLE | F_OCTAL, unixsocketperm, 0, 0777, "0", NULL),
    INT("timeout", NULL, 0, timeout, 0, INT_MAX, "0", NULL),
    INT("maxclients", NULL, 0, maxclients, 1, UINT_MAX, "10000", NULL),
    BOOL("daemonize", NULL, F_IMMUTABLE, daemonize, "no", NULL),
    STR("pidfile", NULL, F_IMMUTABLE, pidfile, "", NULL),
    ENUM("loglevel", NULL, 0, loglevel, loglevels, "notice", apply_loglevel),
    STR("logfile", NULL, F_IMMUTABLE, logfile, "", NULL),
    INT("databases", NULL, F_IMMUTABLE, dbnum, 1, INT_MAX, "16", NULL),
    STR("requirepass", NULL, F_SENSITIVE, requirepass, "", apply_requirepass),
    STR("aclfile", NULL, F_IMMUTABLE, aclfile, "", NULL),
    INT("acllog-max-len", NULL, 0, acllog_max_len, 0, LONG_MAX, "128", NULL),
    ENUM("acl-pubsub-default", NULL, 0, acl_pubsub_default_all, pubsub_defaults,
         "resetchannels", NULL),
    MEM("maxmemory", NULL, 0, maxmemory, 0, LLONG_MAX, "0", apply_maxmemory),
    ENUM("maxmemory-policy", NULL, 0, maxmemory_policy, policies, "noeviction", NULL),
    INT("maxmemory-samples", NULL, 0, maxmemory_samples, 1, 64, "5", NULL),
    INT("maxmemory-eviction-tenacity", NULL, 0, maxmemory_eviction_tenacity, 0, 100, "10", NULL),
    SPECIAL("maxmemory-clients", NULL, 0, "0", set_maxmemory_clients, get_maxmemory_clients,
            NULL),
    INT("lfu-log-factor", NULL, 0, lfu_log_factor, 0, INT_MAX, "10", NULL),
    INT("lfu-decay-time", NULL, 0, lfu_decay_time, 0, INT_MAX, "1", NULL),
    MEM("proto-max-bulk-len", NULL, 0, proto_max_bulk_len, 1024 * 1024, LLONG_MAX,
        "536870912", NULL),
    MEM("client-query-buffer-limit", NULL, 0, client_max_querybuf_len, 1024 * 1024,
        LLONG_MAX, "1073741824", NULL),
    SPECIAL("client-output-buffer-limit", NULL, 0,
            "normal 268435456 67108864 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            set_obuf_limit, get_obuf_limit, NULL),
    INT("hz", NULL, 0, hz, 1, 500, "10", NULL),
    INT("slowlog-log-slower-than", NULL, 0, slowlog_log_slower_than, -1, LLONG_MAX, "10000",
        NULL),
    INT("slowlog-max-len", NULL, 0, slowlog_max_len, 0, LONG_MAX, "128", apply_slowlog),
    INT("latency-monitor-threshold", NULL, 0, latency_monitor_threshold, 0, LLONG_MAX, "0",
        NULL),
    ENUM("enable-debug-command", NULL, F_IMMUTABLE, enable_debug_cmd, protected_actions, "no",
         NULL),
    BOOL("latency-tracking", NULL, 0, latency_tracking, "yes", NULL),
    INT("tracking-table-max-keys", NULL, 0, tracking_table_max_keys, 0, LLONG_MAX, "1000000",
        NULL),
    SPECIAL("latency-tracking-info-percentiles", NULL, 0, "50 99 99.9", set_percentiles,
            get_percentiles, NULL),
    BOOL("lazyfree-lazy-eviction", NULL, 0, lazyfree_lazy_eviction, "no", NULL),
    BOOL("lazyfree-lazy-expire", NULL, 0, lazyfree_lazy_expire, "no", NULL),
    SPECIAL("notify-keyspace-events", NULL, 0, "", set_notify, get_notify, NULL),
    BOOL("lazyfree-lazy-server-del", NULL, 0, lazyfree_lazy_server_del, "no", NULL),
    BOOL("lazyfree-lazy-user-del", NULL, 0, lazyfree_lazy_user_del, "no", NULL),
    BOOL("lazyfree-lazy-user-flush", NULL, 0, lazyfree_lazy_user_flush, "no", NULL),
    INT("active-expire-effort", NULL, 0, active_expire_effort, 1, 10, "1", NULL),
    BOOL("activerehashing", NULL, 0, activerehashing, "yes", NULL),
    SPECIAL("dir", NULL, 0, NULL, set_dir, get_dir, NULL),
    STR("dbfilename", NULL, 0, dbfilename, "dump.rdb", NULL),
    SPECIAL("save", NULL, 0, "", set_save, get_save, NULL),
    {"stop-writes-on-bgsave-error", NULL, T_BOOL, 0, &snapshot_stop_writes_on_error,
     sizeof(snapshot_stop_writes_on_error), 0, 1, "yes", NULL, NULL, NULL, NULL},
    BOOL("appendonly", NULL, 0, appendonly, "no", apply_appendonly),
    STR("appendfilename", NULL, F_IMMUTABLE, appendfilename, "appendonly.aof", NULL),
    STR("appenddirname", NULL, F_IMMUTABLE, appenddirname, "appendonlydir", NULL),
    ENUM("appendfsync", NULL, 0, appendfsync, fsyncs, "everysec", NULL),
    BOOL("aof-load-truncated", NULL, 0, aof_load_truncated, "yes", NULL),
    BOOL("no-appendfsync-on-rewrite", NULL, 0, aof_no_fsync_on_rewrite, "no", NULL),
    INT("auto-aof-rewrite-percentage", NULL, 0, aof_rewrite_perc, 0, INT_MAX, "100", NULL),
    MEM("auto-aof-rewrite-min-size", NULL, 0, aof_rewrite_min_size, 0, LLONG_MAX, "67108864",
        NULL),
    INT("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, hash_max_listpack_entries,
        0, LONG_MAX, "512", NULL),
    INT("hash-max-listpack-value", "hash-max-ziplist-value", 0, hash_max_listpack_value, 0,
        LONG_MAX, "64", NULL),
    INT("list-max-listpack-size", "list-max-ziplist-size", 0, list_max_listpack_size, INT_MIN,
        INT_MAX, "-2", NULL),
    INT("set-max-intset-entries", NULL, 0, set_max_intset_entries, 0, LONG_MAX, "512", NULL),
    INT("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, zset_max_listpack_entries,
        0, LONG_MAX, "128", NULL),
    INT("zset-max-listpack-value", "zset-max-ziplist-value", 0, zset_max_listpack_value, 0,
        LONG_MAX, "64", NULL),
    MEM("hll-sparse-max-bytes", NULL, 0, hll_sparse_max_bytes, 0, LONG_MAX, "3000", NULL),
    MEM("stream-node-max-bytes", NULL, 0, stream_node_max_bytes, 0, LONG_MAX, "4096", NULL),
    INT("stream-node-max-entries", NULL, 0, stream_node_max_entries, 0, LLONG_MAX, "100", NULL),
    INT("busy-reply-threshold", "lua-time-limit", 0, busy_reply_threshold, 0, LONG_MAX, "5000",
        NULL),
    BOOL("cluster-enabled", NULL, F_IMMUTABLE, cluster_enabled, "no", NULL),
    STR("cluster-config-file", NULL, F_IMMUTABLE, cluster_config_file, "nodes.conf", NULL),
    INT("cluster-node-timeout", NULL, F_IMMUTABLE, cluster_node_timeout, 100, LLONG_MAX, "15000", NULL),
    STR("cluster-announce-ip", NULL, 0, cluster_announce_ip, "", NULL),
    INT("cluster-announce-port", NULL, 0, cluster_announce_port, 0, 65535, "0", NULL),
    INT("cluster-client-port-offset", NULL, F_IMMUTABLE, cluster_client_port_offset, 0, 65534,
        "10000", NULL),
    INT("cluster-vnodes", NULL, F_IMMUTABLE, cluster_vnodes, 1, 4096, "256", NULL),
    INT("cluster-replicas", NULL, F_IMMUTABLE, cluster_replicas, 0, 15, "1", NULL),
    MEM("cluster-move-rate", NULL, 0, cluster_move_rate, 0, LLONG_MAX, "0", NULL),
    MEM("repl-backlog-size", NULL, 0, repl_backlog_size, 16 * 1024, LLONG_MAX, "1mb", NULL),
    INT("min-replica-acks", NULL, 0, min_replica_acks, 0, 15, "0", NULL),
    INT("min-replica-acks-timeout", NULL, 0, min_replica_acks_timeout, 1, LLONG_MAX, "1000", NULL),
    STR("cluster-zone", NULL, F_IMMUTABLE, cluster_zone, "", NULL),
    STR("cluster-secret", NULL, F_SENSITIVE, cluster_secret, "", NULL),
    INT("cluster-debug-bugs", NULL, F_DEBUG | F_IMMUTABLE, cluster_debug_bugs, 0, INT_MAX, "0",
        NULL),
    INT("key-load-delay", NULL, F_DEBUG, key_load_delay, 0, INT_MAX, "0", NULL),
    INT("rdb-key-save-delay", NULL, F_DEBUG, rdb_key_save_delay, 0, INT_MAX, "0", NULL),
    INT("loading-process-events-interval-bytes", NULL, F_DEBUG,
        loading_process_events_interval_bytes, 1024, INT_MAX, "2097152", NULL),
};
#define NCONFIGS ((int)(sizeof(configs) / sizeof(configs[0])))

static void *unused_dummy = &lua_time_limit_dummy;

/* ---- value access ---- */

static long long int_get(const struct cfg *cf)
{
    switch (cf->width) {
    case sizeof(int): return *(int *)cf->ptr;
    default: return *(long long *)cf->ptr;
    }
}

static void int_set(const struct cfg *cf, long long v)
{
    switch (cf->width) {
    case sizeof(int): *(int *)cf->ptr = (int)v; break;
    default: *(long long *)cf->ptr = v; break;
    }
}

static struct cfg *find_cfg(const char *name)
{
    for (int i = 0; i < NCONFIGS; i++) {
        if (!strcasecmp(configs[i].name, name) ||
            (configs[i].alias && !strcasecmp(configs[i].alias, name)))
            return &configs[i];
    }
    return NULL;
}

/* Textual value of cf into buf. */
static size_t cfg_value(const struct cfg *cf, char *buf, size_t len)
{
    switch (cf->type) {
    case T_BOOL:
        return (size_t)snprintf(buf, len, "%s", int_get(cf) ? "yes" : "no");
    case T_INT:
        if (cf->flags & F_OCTAL)       /* as Redis: written and read in octal */
            return (size_t)snprintf(buf, len, "%llo", (unsigned long long)int_get(cf));
        if (cf->width == sizeof(int) && cf->max > INT_MAX)
            return (size_t)snprintf(buf, len, "%u", *(unsigned *)cf->ptr);
        return (size_t)snprintf(buf, len, "%lld", int_get(cf));
    case T_MEM:
        return (size_t)snprintf(buf, len, "%llu", *(unsigned long long *)cf->ptr);
    case T_ENUM: {
        int v = (int)int_get(cf);
        for (const struct enumval *e = cf->enums; e->name; e++)
            if (e->value == v)
                return (size_t)snprintf(buf, len, "%s", e->name);
        return (size_t)snprintf(buf, len, "unknown");
    }
    case T_STR: {
        const char *s = *(char **)cf->ptr;
        return (size_t)snprintf(buf, len, "%s", s ? s : "");
    }
    case T_SPECIAL:
        return cf->get(cf, buf, len);
    }
    return 0;
}

/* Set cf from argv.  errbuf gets Redis's wording of the problem. */
static int cfg_set(struct cfg *cf, int argc, char **argv, char *errbuf, size_t errlen)
{
    const char *err = NULL;
    if (cf->type != T_SPECIAL && argc != 1) {
        snprintf(errbuf, errlen, "wrong number of arguments");
        return -1;
    }
    const char *v = argc ? argv[0] : "";
    switch (cf->type) {
    case T_BOOL:
        if (!strcasecmp(v, "yes"))
            int_set(cf, 1);
        else if (!strcasecmp(v, "no"))
            int_set(cf, 0);
        else
            err = "argument must be 'yes' or 'no'";
        break;
    case T_INT: {
        long long n;
        char *end = NULL;
        if (cf->flags & F_OCTAL) {
            errno = 0;
            n = *v ? strtoll(v, &end, 8) : 0;
            if (!*v || *end || errno) {
                err = "argument couldn't be parsed into an integer";
                break;
            }
            if (n < cf->min || n > cf->max) {
                snprintf(errbuf, errlen, "argument must be between %llo and %llo inclusive",
                         (unsigned long long)cf->min, (unsigned long long)cf->max);
                return -1;
            }
        } else if (!rc_str2ll(v, strlen(v), &n)) {
            err = "argument couldn't be parsed into an integer";
            break;
        }
        if (n < cf->min || n > cf->max) {
            snprintf(errbuf, errlen, "argument must be between %lld and %lld inclusive",
                     cf->min, cf->max);
            return -1;
        }
        if (cf->width == sizeof(int) && cf->max > INT_MAX)
            *(unsigned *)cf->ptr = (unsigned)n;
        else
            int_set(cf, n);
        break;
    }
    case T_MEM: {
        unsigned long long n;
        if (!rc_memtoull(v, &n)) {
            err = "argument must be a memory value";
            break;
        }
        if ((long long)n < cf->min || n > (unsigned long long)cf->max) {
            snprintf(errbuf, errlen, "argument must be between %lld and %lld inclusive",
                     cf->min, cf->max);
            return -1;
        }
        *(unsigned long long *)cf->ptr = n;
        break;
    }
    case T_ENUM: {
        const struct enumval *e;
        for (e = cf->enums; e->name; e++)
            if (!strcasecmp(e->name, v))
                break;
        if (e->name == NULL) {
            size_t off = (size_t)snprintf(errbuf, errlen, "argument(s) must be one of the following: ");
            for (e = cf->enums; e->name && off < errlen; e++)
                off += (size_t)snprintf(errbuf + off, errlen - off, "%s%s", e->name,
                                        e[1].name ? ", " : "");
            return -1;
        }
        int_set(cf, e->value);
        break;
    }
    case T_STR: {
        char **field = cf->ptr;
        rc_free(*field);
        *field = v[0] ? rc_strndup(v, strlen(v)) : NULL;
        break;
    }
    case T_SPECIAL:
        err = cf->set(cf, argc, argv);
        break;
    }
    if (err == NULL && cf->apply)
        err = cf->apply();
    if (err) {
        snprintf(errbuf, errlen, "%s", err);
        return -1;
    }
    return 0;
}

void config_init_defaults(void)
{
    char err[256];
    for (int i = 0; i < NCONFIGS; i++) {
        struct cfg *cf = &configs[i];
        if (cf->deflt == NULL)
            continue;
        char *argv[1] = {(char *)cf->deflt};
        const char *(*apply)(void) = cf->apply;
        cf->apply = NULL;   /* nothing to apply to before start-up */
        if (cfg_set(cf, 1, argv, err, sizeof(err)) != 0) {
            fprintf(stderr, "ringcached: bad default for %s: %s\n", cf->name, err);
            exit(1);
        }
        cf->apply = apply;
    }
    (void)unused_dummy;
}

void config_print_defaults(void)
{
    for (int i = 0; i < NCONFIGS; i++)
        printf("%s %s\n", configs[i].name, configs[i].deflt ? configs[i].deflt : "");
}

/* ---- file and argv parsing ---- */

/* Split a config line as redis.conf does (quotes, escapes).  Returns argc,
 * -1 on unbalanced quotes.  Words point into `out`, which must be as large
 * as the line. */
static int split_line(const char *line, char *out, char **words, int max)
{
    int n = 0;
    const char *p = line;
    char *o = out;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            return n;
        if (n == max)
            return -1;
        words[n++] = o;
        int inq = 0, insq = 0;
        for (;;) {
            if (inq) {
                if (*p == '\\' && p[1]) {
                    p++;
                    switch (*p) {
                    case 'n': *o++ = '\n'; break;
                    case 'r': *o++ = '\r'; break;
                    case 't': *o++ = '\t'; break;
                    case 'b': *o++ = '\b'; break;
                    case 'a': *o++ = '\a'; break;
                    default: *o++ = *p; break;
                    }
                    p++;
                } else if (*p == '"') {
                    p++;
                    if (*p && !isspace((unsigned char)*p))
                        return -1;
                    break;
                } else if (*p == '\0') {
                    return -1;
                } else {
                    *o++ = *p++;
                }
            } else if (insq) {
                if (*p == '\\' && p[1] == '\'') {
                    *o++ = '\'';
                    p += 2;
                } else if (*p == '\'') {
                    p++;
                    if (*p && !isspace((unsigned char)*p))
                        return -1;
                    break;
                } else if (*p == '\0') {
                    return -1;
                } else {
                    *o++ = *p++;
                }
            } else {
                if (*p == '\0' || isspace((unsigned char)*p))
                    break;
                if (*p == '"')
                    inq = 1, p++;
                else if (*p == '\'')
                    insq = 1, p++;
                else
                    *o++ = *p++;
            }
        }
        *o++ = '\0';
    }
}

const char *config_apply(const char *name, int argc, char **argv, int from_file)
{
    static char err[512];
    struct cfg *cf = find_cfg(name);
    /* `user NAME RULES...` lines go to the ACL module (file only). */
    if (cf == NULL && from_file && strcasecmp(name, "user") == 0)
        return acl_config_user(argc, argv);
    if (cf == NULL)
        return "Bad directive or wrong number of arguments";
    if (cfg_set(cf, argc, argv, err, sizeof(err)) != 0)
        return err;
    return NULL;
}

static void fatal_config(int lineno, const char *line, const char *err)
{
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (ringcache %s) ***\n", RINGCACHE_VERSION);
    if (lineno > 0)
        fprintf(stderr, "Reading the configuration file, at line %d\n", lineno);
    fprintf(stderr, ">>> '%s'\n%s\n", line, err);
    exit(1);
}

static void load_text(const char *text)
{
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        char *line = rc_strndup(p, len);
        char *out = rc_malloc(len + 1);
        char *words[1024];
        size_t trim = len;
        while (trim && (line[trim - 1] == '\r' || isspace((unsigned char)line[trim - 1])))
            line[--trim] = '\0';
        const char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s && *s != '#') {
            int n = split_line(s, out, words, 1024);
            if (n < 0)
                fatal_config(lineno, line, "Unbalanced quotes in configuration line");
            if (n > 0) {
                const char *err = config_apply(words[0], n - 1, words + 1, 1);
                if (err)
                    fatal_config(lineno, line, err);
            }
        }
        rc_free(out);
        rc_free(line);
        p += len;
        if (*p == '\n')
            p++;
    }
}

static char *read_file(FILE *fp)
{
    size_t cap = 4096, len = 0;
    char *buf = rc_malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = rc_realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    return buf;
}

static void load_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "Fatal error, can't open config file '%s': %s\n", path,
                strerror(errno));
        exit(1);
    }
    char *text = read_file(fp);
    fclose(fp);
    char resolved[PATH_MAX];
    const char *abs = realpath(path, resolved) ? resolved : path;
    server.configfile = rc_strndup(abs, strlen(abs));
    load_text(text);
    rc_free(text);
}

/* As redis-server: an optional config file first, "-" (first or last) to
 * read more config from stdin, then --directive value options.  The file
 * is applied first, then stdin, then the options. */
void config_load_argv(int argc, char **argv)
{
    int first = 1, last = argc;
    int from_stdin = 0;
    const char *file = NULL;
    if (first < last && !strcmp(argv[first], "-")) {
        from_stdin = 1;
        first++;
    } else if (first < last && argv[first][0] != '-') {
        file = argv[first++];
    }
    if (last > first && !strcmp(argv[last - 1], "-")) {
        from_stdin = 1;
        last--;
    }
    if (file)
        load_file(file);
    if (from_stdin) {
        char *text = read_file(stdin);
        load_text(text);
        rc_free(text);
    }
    /* --name value [value ...]: every word up to the next --option belongs
     * to the directive, as redis-server does. */
    int i = first;
    while (i < last) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0')
            fatal_config(0, argv[i], "Invalid argument: options must start with --");
        const char *name = argv[i] + 2;
        int j = i + 1;
        while (j < last && !(strncmp(argv[j], "--", 2) == 0 && argv[j][2] != '\0' &&
                             find_cfg(argv[j] + 2) != NULL))
            j++;
        const char *err = config_apply(name, j - i - 1, argv + i + 1, 1);
        if (err) {
            char line[512];
            snprintf(line, sizeof(line), "%s", argv[i]);
            fatal_config(0, line, err);
        }
        i = j;
    }
}

void config_free_all(void)
{
    for (int i = 0; i < NCONFIGS; i++) {
        if (configs[i].type == T_STR) {
            char **field = configs[i].ptr;
            rc_free(*field);
            *field = NULL;
        }
    }
    for (int i = 0; i < server.bind_count; i++)
        rc_free(server.bind[i]);
    rc_free(server.bind);
    server.bind = NULL;
    server.bind_count = 0;
    rc_free(server.save_params);
    server.save_params = NULL;
    rc_free(server.dir);
    server.dir = NULL;
    rc_free(server.configfile);
    server.configfile = NULL;
}

/* ---- CONFIG command ---- */

static int has_glob(const struct slice *s)
{
    for (size_t i = 0; i < s->len; i++)
        if (s->p[i] == '*' || s->p[i] == '?' || s->p[i] == '[')
            return 1;
    return 0;
}

/* CONFIG GET pattern [pattern ...]: every directive (or alias) matching any
 * pattern, once.  A pattern without glob characters names one directive and
 * is answered under the spelling the client used, as Redis 7.0 does. */
void cmd_config_get(struct client *c)
{
    /* For each directive, the name and the alias separately: 0 = not
     * asked for, else the spelling to answer under. */
    const char *as_name[NCONFIGS], *as_alias[NCONFIGS];
    size_t len_name[NCONFIGS], len_alias[NCONFIGS];
    memset(as_name, 0, sizeof(as_name));
    memset(as_alias, 0, sizeof(as_alias));
    long n = 0;
    for (int a = 2; a < c->argc; a++) {
        const struct slice *pat = &c->argv[a];
        int glob = has_glob(pat);
        for (int i = 0; i < NCONFIGS; i++) {
            const struct cfg *cf = &configs[i];
            const char *names[2] = {cf->name, cf->alias};
            const char **as[2] = {&as_name[i], &as_alias[i]};
            size_t *lens[2] = {&len_name[i], &len_alias[i]};
            for (int k = 0; k < 2; k++) {
                if (names[k] == NULL || *as[k])
                    continue;
                size_t nl = strlen(names[k]);
                if (glob && (cf->flags & F_DEBUG))
                    continue;
                int hit = glob ? rc_glob_match(pat->p, pat->len, names[k], nl, 1)
                               : (nl == pat->len && !strncasecmp(names[k], pat->p, nl));
                if (!hit)
                    continue;
                *as[k] = glob ? names[k] : pat->p;
                *lens[k] = glob ? nl : pat->len;
                n++;
            }
        }
    }
    reply_map_len(c, n);
    char buf[1024];
    for (int i = 0; i < NCONFIGS; i++) {
        if (!as_name[i] && !as_alias[i])
            continue;
        size_t len = cfg_value(&configs[i], buf, sizeof(buf));
        if (as_name[i]) {
            reply_bulk(c, as_name[i], len_name[i]);
            reply_bulk(c, buf, len);
        }
        if (as_alias[i]) {
            reply_bulk(c, as_alias[i], len_alias[i]);
            reply_bulk(c, buf, len);
        }
    }
}

void cmd_config_set(struct client *c)
{
    if ((c->argc - 2) % 2 != 0) {
        reply_err_arity(c, "config|set");
        return;
    }
    int npairs = (c->argc - 2) / 2;
    struct cfg *cfs[64];
    char *vals[64];
    char *olds[64];
    if (npairs > 64) {
        reply_error(c, "ERR too many parameters");
        return;
    }
    for (int i = 0; i < npairs; i++) {
        const struct slice *nm = &c->argv[2 + 2 * i];
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(nm->len < 127 ? nm->len : 127), nm->p);
        cfs[i] = find_cfg(name);
        if (cfs[i] == NULL || (cfs[i]->flags & F_HIDDEN)) {
            reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                         name);
            return;
        }
        if (cfs[i]->flags & F_IMMUTABLE) {
            reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - "
                            "can't set immutable config", name);
            return;
        }
        for (int j = 0; j < i; j++) {
            if (cfs[j] == cfs[i]) {
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - "
                                "duplicate parameter", name);
                return;
            }
        }
    }
    /* All or nothing: remember old values, roll back on the first error. */
    char buf[1024];
    for (int i = 0; i < npairs; i++) {
        size_t len = cfg_value(cfs[i], buf, sizeof(buf));
        olds[i] = rc_strndup(buf, len);
        vals[i] = rc_strndup(c->argv[3 + 2 * i].p, c->argv[3 + 2 * i].len);
    }
    int failed = -1;
    char err[512];
    for (int i = 0; i < npairs; i++) {
        char *argv[1] = {vals[i]};
        if (cfg_set(cfs[i], 1, argv, err, sizeof(err)) != 0) {
            failed = i;
            break;
        }
    }
    if (failed >= 0) {
        char rb[512];
        for (int i = failed; i >= 0; i--) {
            char *argv[1] = {olds[i]};
            cfg_set(cfs[i], 1, argv, rb, sizeof(rb));
        }
        reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                     cfs[failed]->name, err);
    } else {
        reply_ok(c);
    }
    for (int i = 0; i < npairs; i++) {
        rc_free(olds[i]);
        rc_free(vals[i]);
    }
}

void cmd_config_resetstat(struct client *c)
{
    stats_reset();
    slowlog_free_all();
    reply_ok(c);
}

/* Does the line set directive cf?  (first word equals name or alias) */
static struct cfg *line_directive(const char *line)
{
    char word[128];
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strcspn(p, " \t\r\n");
    if (n == 0 || n >= sizeof(word) || *p == '#')
        return NULL;
    memcpy(word, p, n);
    word[n] = '\0';
    return find_cfg(word);
}

static void quote_value(FILE *fp, const char *v)
{
    int needs = *v == '\0';
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '\'')
            needs = 1;
    if (!needs) {
        fputs(v, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

static void write_directive(FILE *fp, struct cfg *cf)
{
    char buf[1024];
    cfg_value(cf, buf, sizeof(buf));
    fprintf(fp, "%s ", cf->name);
    if (cf->type == T_SPECIAL && (cf->set == set_bind || cf->set == set_obuf_limit)) {
        if (cf->set == set_obuf_limit) {
            /* one line per class, as redis.conf writes it */
            for (int k = 0; k < 3; k++) {
                if (k)
                    fprintf(fp, "\n%s ", cf->name);
                fprintf(fp, "%s %llu %llu %lld", obuf_classes[k], server.obuf_limits[k].hard,
                        server.obuf_limits[k].soft, server.obuf_limits[k].soft_seconds);
            }
        } else {
            fputs(buf, fp);
        }
    } else {
        quote_value(fp, buf);
    }
    fputc('\n', fp);
}

static int cfg_is_default(struct cfg *cf)
{
    if (cf->deflt == NULL)
        return 1;
    char buf[1024];
    cfg_value(cf, buf, sizeof(buf));
    if (cf->type == T_MEM || cf->type == T_INT || cf->type == T_BOOL || cf->type == T_ENUM) {
        /* compare normalised: set a scratch copy is overkill; textual works
         * because defaults are written in normal form */
    }
    return strcmp(buf, cf->deflt) == 0;
}

void cmd_config_rewrite(struct client *c)
{
    if (server.configfile == NULL) {
        reply_error(c, "ERR The server is running without a config file");
        return;
    }
    FILE *in = fopen(server.configfile, "r");
    char *text = in ? read_file(in) : rc_strndup("", 0);
    if (in)
        fclose(in);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", server.configfile, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (out == NULL) {
        rc_free(text);
        reply_errorf(c, "ERR Rewriting config file: %s", strerror(errno));
        return;
    }
    int written[NCONFIGS];
    memset(written, 0, sizeof(written));
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = rc_strndup(p, len);
        struct cfg *cf = line_directive(line);
        if (cf == NULL) {
            if (strcmp(line, "# Generated by CONFIG REWRITE") != 0)
                fprintf(out, "%s\n", line);
        } else {
            int idx = (int)(cf - configs);
            if (!written[idx]) {
                write_directive(out, cf);
                written[idx] = 1;
            }
        }
        rc_free(line);
        p += len;
        if (*p == '\n')
            p++;
    }
    int header = 0;
    for (int i = 0; i < NCONFIGS; i++) {
        if (written[i] || cfg_is_default(&configs[i]) || (configs[i].flags & F_DEBUG))
            continue;
        if (!header) {
            fprintf(out, "# Generated by CONFIG REWRITE\n");
            header = 1;
        }
        write_directive(out, &configs[i]);
    }
    rc_free(text);
    int ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = (fclose(out) == 0) && ok;
    if (!ok || rename(tmp, server.configfile) != 0) {
        unlink(tmp);
        reply_errorf(c, "ERR Rewriting config file: %s", strerror(errno));
        return;
    }
    log_notice("CONFIG REWRITE executed with success.");
    reply_ok(c);
}

void cmd_config_help(struct client *c)
{
    static const char *const lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    reply_help(c, "config", lines);
}
