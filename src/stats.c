/*
 * stats.c — INFO: the sections and field names redis-server 7.0 prints,
 * filled with ringcache's own numbers.  Fields that describe features
 * ringcache does not have (modules, defrag, I/O
 * threads) are printed with the value that is true for us: zero.
 */
#include "stats.h"

#include "eval.h"
#include "function.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "aof.h"
#include "bio.h"
#include "command.h"
#include "block.h"
#include "conn.h"
#include "evict.h"
#include "hash.h"
#include "latency.h"
#include "loading.h"
#include "pubsub.h"
#include "rdbobj.h"
#include "reply.h"
#include "repl.h"
#include "server.h"
#include "cluster.h"
#include "cstate.h"
#include "ring.h"
#include "route.h"
#include "slotdrop.h"
#include "snapshot.h"
#include "tracking.h"

#define MAX_ERROR_TYPES 128
#define INST_SAMPLES 16

struct errstat {
    char name[64];
    long long count;
};

static struct errstat errstats[MAX_ERROR_TYPES];
static int nerrstats;

/* Instantaneous metrics: ring buffers of per-interval rates. */
static struct inst {
    long long last_time, last_value;
    long long samples[INST_SAMPLES];
    int idx;
} inst_ops, inst_in, inst_out;

void stats_init(void)
{
    nerrstats = 0;
}

void stats_deinit(void)
{
}

void stats_count_error(const char *msg)
{
    server.stat_total_error_replies++;
    size_t n = strcspn(msg, " ");
    if (n >= sizeof(errstats[0].name))
        n = sizeof(errstats[0].name) - 1;
    for (int i = 0; i < nerrstats; i++) {
        if (strlen(errstats[i].name) == n && memcmp(errstats[i].name, msg, n) == 0) {
            errstats[i].count++;
            return;
        }
    }
    if (nerrstats == MAX_ERROR_TYPES) {
        /* Redis stops tracking new error kinds past 128, to bound memory. */
        server.errorstats_overflow = 1;
        return;
    }
    memcpy(errstats[nerrstats].name, msg, n);
    errstats[nerrstats].name[n] = '\0';
    errstats[nerrstats].count = 1;
    nerrstats++;
}

void stats_reset(void)
{
    nerrstats = 0;
    server.errorstats_overflow = 0;
    server.stat_numcommands = 0;
    server.stat_numconnections = 0;
    server.stat_rejected_conn = 0;
    server.stat_expiredkeys = 0;
    server.stat_expired_stale_perc = 0;
    server.stat_expired_time_cap_reached_count = 0;
    server.stat_expire_cycle_time_used = 0;
    server.stat_evictedkeys = 0;
    server.stat_evictedclients = 0;
    server.stat_keyspace_hits = 0;
    server.stat_keyspace_misses = 0;
    server.stat_net_input_bytes = 0;
    server.stat_net_output_bytes = 0;
    server.stat_total_error_replies = 0;
    server.stat_unexpected_error_replies = 0;
    server.stat_client_qbuf_limit_disconnections = 0;
    server.stat_client_outbuf_limit_disconnections = 0;
    server.stat_io_reads = 0;
    server.stat_io_writes = 0;
    server.stat_peak_memory = 0;
    for (int i = 0; i < command_count(); i++) {
        struct command *cmd = command_at(i);
        memset(&cmd->stats, 0, sizeof(cmd->stats));
        for (int j = 0; j < cmd->nsubs; j++)
            memset(&cmd->subs[j]->stats, 0, sizeof(cmd->subs[j]->stats));
    }
    latency_reset_histograms();
}

static void inst_track(struct inst *s, long long value)
{
    long long now = server.mstime;
    long long dt = now - s->last_time;
    if (s->last_time && dt > 0)
        s->samples[s->idx] = (value - s->last_value) * 1000 / dt;
    s->idx = (s->idx + 1) % INST_SAMPLES;
    s->last_time = now;
    s->last_value = value;
}

static long long inst_get(const struct inst *s)
{
    long long sum = 0;
    for (int i = 0; i < INST_SAMPLES; i++)
        sum += s->samples[i];
    return sum / INST_SAMPLES;
}

void stats_cron(void)
{
    inst_track(&inst_ops, server.stat_numcommands);
    inst_track(&inst_in, server.stat_net_input_bytes);
    inst_track(&inst_out, server.stat_net_output_bytes);
    size_t used = rc_used_memory();
    if (used > server.stat_peak_memory)
        server.stat_peak_memory = used;
}

/* ---- text building ---- */

struct text {
    char *buf;
    size_t len, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (n > 0 ? (size_t)n : 0);
        t->buf = rc_realloc(t->buf, t->cap);
    }
}

static void human_bytes(char *buf, size_t len, double n)
{
    static const char units[] = "BKMGTPE";
    int u = 0;
    while (n >= 1024 && u < 6) {
        n /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0fB", n);
    else
        snprintf(buf, len, "%.2f%c", n, units[u]);
}

static size_t rss_bytes(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (fp) {
        if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(fp);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static unsigned long long total_system_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page : 0;
}

static const char *policy_name(int p)
{
    static const char *names[] = {"volatile-lru", "volatile-lfu", "volatile-random",
                                  "volatile-ttl", "allkeys-lru", "allkeys-lfu",
                                  "allkeys-random", "noeviction"};
    return p >= 0 && p < 8 ? names[p] : "unknown";
}

static size_t clients_max_input(void)
{
    size_t m = 0;
    for (struct client *c = server.clients; c; c = c->next)
        if (c->qcap > m)
            m = c->qcap;
    return m;
}

static size_t clients_max_output(void)
{
    size_t m = 0;
    for (struct client *c = server.clients; c; c = c->next) {
        size_t n = (size_t)conn_obuf_mem(c);
        if (n > m)
            m = n;
    }
    return m;
}

static size_t clients_memory(void)
{
    size_t m = 0;
    for (struct client *c = server.clients; c; c = c->next)
        m += sizeof(*c) + c->qcap + (size_t)conn_obuf_mem(c);
    return m;
}

static void section_server(struct text *t)
{
    struct utsname u;
    uname(&u);
    long long uptime = (server.mstime - server.start_ms) / 1000;
    tprintf(t, "# Server\r\n"
               "redis_version:%s\r\n"
               "redis_git_sha1:00000000\r\n"
               "redis_git_dirty:0\r\n"
               "redis_build_id:0\r\n"
               "redis_mode:%s\r\n"
               "os:%s %s %s\r\n"
               "arch_bits:%d\r\n"
               "monotonic_clock:POSIX clock_gettime\r\n"
               "multiplexing_api:libevent\r\n"
               "atomicvar_api:c11-builtin\r\n"
               "gcc_version:%d.%d.%d\r\n"
               "process_id:%d\r\n"
               "process_supervised:no\r\n"
               "run_id:%s\r\n"
               "tcp_port:%d\r\n"
               "server_time_usec:%lld\r\n"
               "uptime_in_seconds:%lld\r\n"
               "uptime_in_days:%lld\r\n"
               "hz:%d\r\n"
               "configured_hz:%d\r\n"
               "lru_clock:%u\r\n"
               "executable:%s\r\n"
               "config_file:%s\r\n"
               "io_threads_active:0\r\n",
            RC_VERSION, server.cluster_enabled ? "cluster" : "standalone", u.sysname, u.release,
            u.machine, (int)(sizeof(long) * 8),
#ifdef __GNUC__
            __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
            0, 0, 0,
#endif
            (int)server.pid, server.runid, server.port, (long long)rc_ustime(), uptime,
            uptime / 86400, server.hz, server.hz, evict_lru_clock(),
            server.executable ? server.executable : "",
            server.configfile ? server.configfile : "");
}

static void section_clients(struct text *t)
{
    tprintf(t, "# Clients\r\n"
               "connected_clients:%u\r\n"
               "cluster_connections:0\r\n"
               "maxclients:%u\r\n"
               "client_recent_max_input_buffer:%zu\r\n"
               "client_recent_max_output_buffer:%zu\r\n"
               "blocked_clients:%zu\r\n"
               "tracking_clients:%zu\r\n"
               "clients_in_timeout_table:%zu\r\n",
            server.connected_clients, server.maxclients, clients_max_input(),
            clients_max_output(), block_count(), tracking_clients(), block_timeout_count());
}

void stats_mem_overview(struct mem_overview *m)
{
    memset(m, 0, sizeof(*m));
    m->used = rc_used_memory();
    if (m->used > server.stat_peak_memory)
        server.stat_peak_memory = m->used;
    m->peak = server.stat_peak_memory;
    m->rss = rss_bytes();
    m->startup = (size_t)server.startup_memory;
    m->clients = clients_memory();
    m->nclients = server.connected_clients;
    m->clients_slaves = repl_replica_output(&m->replicas);
    m->lua_caches = eval_overhead();
    m->functions_caches = function_overhead();
}

static void section_memory(struct text *t)
{
    size_t used = rc_used_memory();
    if (used > server.stat_peak_memory)
        server.stat_peak_memory = used;
    size_t rss = rss_bytes();
    size_t peak = server.stat_peak_memory;
    size_t replicas;
    size_t slaves = repl_replica_output(&replicas);
    size_t overhead = clients_memory() + slaves;
    for (int i = 0; i < server.dbnum; i++) {
        struct db *db = &server.dbs[i];
        overhead += sizeof(*db) + sizeof(uint32_t) * (RC_SLOTS + 1);
        overhead += dict_mem_usage(db->expires_dict);
    }
    size_t dataset = used > overhead ? used - overhead : 0;
    char h_used[32], h_rss[32], h_peak[32], h_sys[32], h_max[32];
    human_bytes(h_used, sizeof(h_used), (double)used);
    human_bytes(h_rss, sizeof(h_rss), (double)rss);
    human_bytes(h_peak, sizeof(h_peak), (double)peak);
    human_bytes(h_sys, sizeof(h_sys), (double)total_system_memory());
    human_bytes(h_max, sizeof(h_max), (double)server.maxmemory);
    size_t vm_eval = eval_lua_memory(), vm_fn = function_lua_memory();
    char h_vm_eval[32], h_vm_total[32], h_scripts[32];
    human_bytes(h_vm_eval, sizeof(h_vm_eval), (double)vm_eval);
    human_bytes(h_vm_total, sizeof(h_vm_total), (double)(vm_eval + vm_fn));
    human_bytes(h_scripts, sizeof(h_scripts), (double)(eval_overhead() + function_overhead()));
    double frag = used ? (double)rss / (double)used : 0;
    tprintf(t, "# Memory\r\n"
               "used_memory:%zu\r\n"
               "used_memory_human:%s\r\n"
               "used_memory_rss:%zu\r\n"
               "used_memory_rss_human:%s\r\n"
               "used_memory_peak:%zu\r\n"
               "used_memory_peak_human:%s\r\n"
               "used_memory_peak_perc:%.2f%%\r\n"
               "used_memory_overhead:%zu\r\n"
               "used_memory_startup:%zu\r\n"
               "used_memory_dataset:%zu\r\n"
               "used_memory_dataset_perc:%.2f%%\r\n"
               "allocator_allocated:%zu\r\n"
               "allocator_active:%zu\r\n"
               "allocator_resident:%zu\r\n"
               "total_system_memory:%llu\r\n"
               "total_system_memory_human:%s\r\n"
               "used_memory_lua:%zu\r\n"
               "used_memory_vm_eval:%zu\r\n"
               "used_memory_lua_human:%s\r\n"
               "used_memory_scripts_eval:%zu\r\n"
               "number_of_cached_scripts:%zu\r\n"
               "number_of_functions:%zu\r\n"
               "number_of_libraries:%zu\r\n"
               "used_memory_vm_functions:%zu\r\n"
               "used_memory_vm_total:%zu\r\n"
               "used_memory_vm_total_human:%s\r\n"
               "used_memory_functions:%zu\r\n"
               "used_memory_scripts:%zu\r\n"
               "used_memory_scripts_human:%s\r\n"
               "maxmemory:%llu\r\n"
               "maxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\n"
               "allocator_frag_ratio:1.00\r\n"
               "allocator_frag_bytes:0\r\n"
               "allocator_rss_ratio:%.2f\r\n"
               "allocator_rss_bytes:%lld\r\n"
               "rss_overhead_ratio:1.00\r\n"
               "rss_overhead_bytes:0\r\n"
               "mem_fragmentation_ratio:%.2f\r\n"
               "mem_fragmentation_bytes:%lld\r\n"
               "mem_not_counted_for_evict:%llu\r\n"
               "mem_replication_backlog:0\r\n"
               "mem_total_replication_buffers:0\r\n"
               "mem_clients_slaves:%zu\r\n"
               "mem_clients_normal:%zu\r\n"
               "mem_cluster_links:0\r\n"
               "mem_aof_buffer:0\r\n"
               "mem_allocator:%s\r\n"
               "active_defrag_running:0\r\n"
               "lazyfree_pending_objects:%lu\r\n"
               "lazyfreed_objects:0\r\n",
            used, h_used, rss, h_rss, peak, h_peak, peak ? 100.0 * (double)used / (double)peak : 0,
            overhead, server.startup_memory, dataset,
            used ? 100.0 * (double)dataset / (double)used : 0, used, used, rss,
            total_system_memory(), h_sys, vm_eval, vm_eval, h_vm_eval, eval_overhead(),
            eval_scripts(), function_count_functions(), function_count_libraries(), vm_fn,
            vm_eval + vm_fn, h_vm_total, function_overhead(), eval_overhead() + function_overhead(),
            h_scripts, server.maxmemory, h_max,
            policy_name(server.maxmemory_policy), frag, (long long)rss - (long long)used, frag,
            (long long)rss - (long long)used, evict_not_counted(), slaves, clients_memory(),
            rc_allocator_name(), bio_pending());
}

static void section_persistence(struct text *t)
{
    struct snapshot_info si;
    snapshot_get_info(&si);
    tprintf(t, "# Persistence\r\n"
               "loading:%d\r\n"
               "async_loading:0\r\n"
               "current_cow_peak:%zu\r\n"
               "current_cow_size:%zu\r\n"
               "current_cow_size_age:%lld\r\n"
               "current_fork_perc:%.2f\r\n"
               "current_save_keys_processed:%zu\r\n"
               "current_save_keys_total:%zu\r\n"
               "rdb_changes_since_last_save:%lld\r\n"
               "rdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%lld\r\n"
               "rdb_last_bgsave_status:%s\r\n"
               "rdb_last_bgsave_time_sec:%lld\r\n"
               "rdb_current_bgsave_time_sec:%lld\r\n"
               "rdb_saves:%lld\r\n"
               "rdb_last_cow_size:%zu\r\n"
               "rdb_last_load_keys_expired:%lld\r\n"
               "rdb_last_load_keys_loaded:%lld\r\n"
               "aof_enabled:%d\r\n"
               "aof_rewrite_in_progress:%d\r\n"
               "aof_rewrite_scheduled:%d\r\n"
               "aof_last_rewrite_time_sec:%lld\r\n"
               "aof_current_rewrite_time_sec:%lld\r\n"
               "aof_last_bgrewrite_status:%s\r\n"
               "aof_rewrites:%lld\r\n"
               "aof_rewrites_consecutive_failures:%lld\r\n"
               "aof_last_write_status:%s\r\n"
               "aof_last_cow_size:%zu\r\n"
               "module_fork_in_progress:0\r\n"
               "module_fork_last_cow_size:0\r\n",
            server.loading, si.child.cow_peak, si.child.cow_size, si.child.cow_size_age,
            si.fork_perc, si.child.keys_processed, si.child.keys_total,
            si.changes_since_save, si.in_progress, si.last_save_time,
            si.last_bgsave_ok ? "ok" : "err", si.last_bgsave_time_sec,
            si.current_bgsave_time_sec, si.saves, si.child.rdb_last_cow,
            rdb_last_load_keys_expired, rdb_last_load_keys_loaded, aof_enabled() || aof_waiting(),
            si.aof_in_progress, si.aof_scheduled, si.aof_last_time_sec, si.aof_current_time_sec,
            si.aof_last_ok ? "ok" : "err", si.aof_rewrites, si.aof_failures,
            aof_last_write_ok() ? "ok" : "err", si.child.aof_last_cow);
    if (aof_enabled() || aof_waiting()) {
        struct aof_info ai;
        aof_get_info(&ai);
        tprintf(t, "aof_current_size:%llu\r\n"
                   "aof_base_size:%llu\r\n"
                   "aof_pending_rewrite:%d\r\n"
                   "aof_buffer_length:%llu\r\n"
                   "aof_pending_bio_fsync:%d\r\n"
                   "aof_delayed_fsync:0\r\n",
                ai.current_size, ai.base_size, si.aof_scheduled, ai.buffer_length,
                ai.pending_bio_fsync);
    }
    struct loading_info li;
    loading_get_info(&li);
    if (li.loading)
        tprintf(t, "loading_start_time:%lld\r\n"
                   "loading_total_bytes:%llu\r\n"
                   "loading_rdb_used_mem:%llu\r\n"
                   "loading_loaded_bytes:%llu\r\n"
                   "loading_loaded_perc:%.2f\r\n"
                   "loading_eta_seconds:%lld\r\n",
                (long long)li.start_time, li.total_bytes, li.rdb_used_mem, li.loaded_bytes,
                li.loaded_perc, li.eta_seconds);
}

static void section_stats(struct text *t)
{
    struct snapshot_info si;
    snapshot_get_info(&si);
    tprintf(t, "# Stats\r\n"
               "total_connections_received:%lld\r\n"
               "total_commands_processed:%lld\r\n"
               "instantaneous_ops_per_sec:%lld\r\n"
               "total_net_input_bytes:%lld\r\n"
               "total_net_output_bytes:%lld\r\n"
               "total_net_repl_input_bytes:0\r\n"
               "total_net_repl_output_bytes:0\r\n"
               "instantaneous_input_kbps:%.2f\r\n"
               "instantaneous_output_kbps:%.2f\r\n"
               "instantaneous_input_repl_kbps:0.00\r\n"
               "instantaneous_output_repl_kbps:0.00\r\n"
               "rejected_connections:%lld\r\n"
               "sync_full:0\r\n"
               "sync_partial_ok:0\r\n"
               "sync_partial_err:0\r\n"
               "expired_keys:%lld\r\n"
               "expired_stale_perc:%.2f\r\n"
               "expired_time_cap_reached_count:%lld\r\n"
               "expire_cycle_cpu_milliseconds:%lld\r\n"
               "evicted_keys:%lld\r\n"
               "evicted_clients:%lld\r\n"
               "total_eviction_exceeded_time:0\r\n"
               "current_eviction_exceeded_time:0\r\n"
               "keyspace_hits:%lld\r\n"
               "keyspace_misses:%lld\r\n"
               "pubsub_channels:%zu\r\n"
               "pubsub_patterns:%zu\r\n"
               "pubsubshard_channels:%zu\r\n"
               "latest_fork_usec:%lld\r\n"
               "total_forks:%lld\r\n"
               "migrate_cached_sockets:0\r\n"
               "slave_expires_tracked_keys:0\r\n"
               "active_defrag_hits:0\r\n"
               "active_defrag_misses:0\r\n"
               "active_defrag_key_hits:0\r\n"
               "active_defrag_key_misses:0\r\n"
               "total_active_defrag_time:0\r\n"
               "current_active_defrag_time:0\r\n"
               "tracking_total_keys:%zu\r\n"
               "tracking_total_items:%zu\r\n"
               "tracking_total_prefixes:%zu\r\n"
               "unexpected_error_replies:%lld\r\n"
               "total_error_replies:%lld\r\n"
               "dump_payload_sanitizations:0\r\n"
               "total_reads_processed:%lld\r\n"
               "total_writes_processed:%lld\r\n"
               "io_threaded_reads_processed:0\r\n"
               "io_threaded_writes_processed:0\r\n"
               "reply_buffer_shrinks:0\r\n"
               "reply_buffer_expands:0\r\n",
            server.stat_numconnections, server.stat_numcommands, inst_get(&inst_ops),
            server.stat_net_input_bytes, server.stat_net_output_bytes,
            (double)inst_get(&inst_in) / 1024, (double)inst_get(&inst_out) / 1024,
            server.stat_rejected_conn, server.stat_expiredkeys,
            (double)server.stat_expired_stale_perc / 100.0,
            server.stat_expired_time_cap_reached_count,
            server.stat_expire_cycle_time_used / 1000, server.stat_evictedkeys,
            server.stat_evictedclients, server.stat_keyspace_hits, server.stat_keyspace_misses,
            pubsub_total_channels(), pubsub_total_patterns(), pubsub_total_shard_channels(),
            si.latest_fork_usec, si.total_forks, tracking_total_keys(), tracking_total_items(),
            tracking_total_prefixes(), server.stat_unexpected_error_replies, server.stat_total_error_replies,
            server.stat_io_reads, server.stat_io_writes);
}

static void section_replication(struct text *t)
{
    if (cluster_enabled() && cluster_state() && cluster_state()->epoch > 0) {
        /* Ring mode: this node's stream to the members holding copies of
         * its slots (repl.h); each is a ring_peer line, not a slave line,
         * since it is primary for some slots and replica for others. */
        struct repl_summary rs;
        repl_summary(&rs);
        tprintf(t, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
                   "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
                   "master_replid2:0000000000000000000000000000000000000000\r\n"
                   "master_repl_offset:%llu\r\nsecond_repl_offset:-1\r\n"
                   "repl_backlog_active:1\r\nrepl_backlog_size:%lld\r\n"
                   "repl_backlog_first_byte_offset:%llu\r\nrepl_backlog_histlen:%llu\r\n"
                   "ring_repl_peers_connected:%d\r\n",
                rs.replid, (unsigned long long)rs.offset, server.repl_backlog_size,
                (unsigned long long)rs.first_byte, (unsigned long long)rs.histlen, rs.peers_up);
        char *rl = repl_info();
        tprintf(t, "%s", rl);
        rc_free(rl);
        return;
    }
    tprintf(t, "# Replication\r\n"
               "role:master\r\n"
               "connected_slaves:0\r\n"
               "master_failover_state:no-failover\r\n"
               "master_replid:%s\r\n"
               "master_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:0\r\n"
               "second_repl_offset:-1\r\n"
               "repl_backlog_active:0\r\n"
               "repl_backlog_size:1048576\r\n"
               "repl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n",
            server.replid);
}

static void section_cpu(struct text *t)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
    struct rusage me;
    getrusage(RUSAGE_THREAD, &me);
#else
    struct rusage me = self;
#endif
#define TV(x) ((double)(x).tv_sec + (double)(x).tv_usec / 1000000.0)
    tprintf(t, "# CPU\r\n"
               "used_cpu_sys:%.6f\r\n"
               "used_cpu_user:%.6f\r\n"
               "used_cpu_sys_children:%.6f\r\n"
               "used_cpu_user_children:%.6f\r\n"
               "used_cpu_sys_main_thread:%.6f\r\n"
               "used_cpu_user_main_thread:%.6f\r\n",
            TV(self.ru_stime), TV(self.ru_utime), TV(children.ru_stime),
            TV(children.ru_utime), TV(me.ru_stime), TV(me.ru_utime));
#undef TV
}

static void cmdstat_line(struct text *t, const struct command *cmd)
{
    if (cmd->stats.calls == 0 && cmd->stats.failed == 0 && cmd->stats.rejected == 0)
        return;
    tprintf(t, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
               "failed_calls=%lld\r\n",
            cmd->fullname, cmd->stats.calls, cmd->stats.usec,
            cmd->stats.calls ? (double)cmd->stats.usec / (double)cmd->stats.calls : 0.0,
            cmd->stats.rejected, cmd->stats.failed);
}

static void section_commandstats(struct text *t)
{
    tprintf(t, "# Commandstats\r\n");
    for (int i = 0; i < command_count(); i++) {
        const struct command *cmd = command_at(i);
        cmdstat_line(t, cmd);
        for (int j = 0; j < cmd->nsubs; j++)
            cmdstat_line(t, cmd->subs[j]);
    }
}

static void section_errorstats(struct text *t)
{
    tprintf(t, "# Errorstats\r\n");
    for (int i = 0; i < nerrstats; i++)
        tprintf(t, "errorstat_%s:count=%lld\r\n", errstats[i].name, errstats[i].count);
}

/* Keys held by this node, every database (INFO keyspace counts the ring). */
static long long local_keys(void)
{
    long long n = 0;
    for (int i = 0; i < server.dbnum; i++)
        n += (long long)db_size(&server.dbs[i]);
    return n;
}

static void section_latencystats(struct text *t)
{
    char *body = latency_info();
    tprintf(t, "# Latencystats\r\n%s", body);
    rc_free(body);
}

static void section_cluster(struct text *t)
{
    tprintf(t, "# Cluster\r\ncluster_enabled:%d\r\n", cluster_enabled());
    if (!cluster_enabled())
        return;
    const struct cstate *s = cluster_state();
    size_t up = 0, failed = 0, joining = 0, adding = 0, removing = 0;
    for (size_t i = 0; i < s->nmembers; i++) {
        up += s->members[i].status == CSTATE_UP;
        failed += s->members[i].status == CSTATE_FAILED;
        joining += s->members[i].status == CSTATE_JOINING;
        adding += s->members[i].status == CSTATE_ADDING;
        removing += s->members[i].status == CSTATE_REMOVING;
    }
    unsigned gain = 0;
    int in_step = 1, moving = cluster_move_progress(&gain, &in_step);
    const struct ring *r = cluster_ring();
    int me = cluster_my_index();
    tprintf(t, "ring_state_epoch:%llu\r\nring_members:%zu\r\nring_members_up:%zu\r\n"
               "ring_members_failed:%zu\r\nring_members_joining:%zu\r\nring_replicas:%d\r\n"
               "ring_slots_primary:%u\r\nring_slots_copies:%u\r\n"
               "ring_forwarded_commands:%lld\r\nring_split_commands:%lld\r\n"
               "ring_fanout_commands:%lld\r\nring_local_keys:%lld\r\nring_lease:%s\r\n"
               "ring_dropped_slots:%lld\r\nring_dropped_keys:%lld\r\n"
               "ring_members_adding:%zu\r\nring_members_removing:%zu\r\n"
               "ring_move:%s\r\nring_move_gain_slots:%u\r\nring_move_in_step:%d\r\n"
               "ring_holder_entries:%zu\r\nring_slots_unserved:%u\r\n",
            (unsigned long long)s->epoch, s->nmembers, up, failed, joining, s->replicas,
            r && me >= 0 ? ring_slots_of(r, me, 0) : 0, r && me >= 0 ? ring_slots_of(r, me, -1) : 0,
            route_stat_forwarded, route_stat_split, route_stat_fanout, local_keys(),
            cluster_serving_state(), slotdrop_slots(), slotdrop_keys(), adding, removing,
            moving ? "in_progress" : "none", gain, in_step, s->nholds, cluster_slots_unserved());
}

static void section_keyspace(struct text *t)
{
    tprintf(t, "# Keyspace\r\n");
    for (int i = 0; i < server.dbnum; i++) {
        struct db *db = &server.dbs[i];
        size_t expires, keys = db->keys ? db_size_counted(db, &expires) : 0;
        if (keys == 0)
            continue;
        tprintf(t, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, keys, expires,
                db->avg_ttl);
    }
}

static void section_modules(struct text *t)
{
    tprintf(t, "# Modules\r\n");
}

struct section {
    const char *name;
    void (*fn)(struct text *t);
    int in_default;
};

static const struct section sections[] = {
    {"server", section_server, 1},       {"clients", section_clients, 1},
    {"memory", section_memory, 1},       {"persistence", section_persistence, 1},
    {"stats", section_stats, 1},         {"replication", section_replication, 1},
    {"cpu", section_cpu, 1},             {"modules", section_modules, 1},
    {"commandstats", section_commandstats, 0}, {"errorstats", section_errorstats, 1},
    {"latencystats", section_latencystats, 0},
    {"cluster", section_cluster, 1},     {"keyspace", section_keyspace, 1},
};
#define NSECTIONS ((int)(sizeof(sections) / sizeof(sections[0])))

void cmd_info(struct client *c)
{
    int want[NSECTIONS] = {0};
    int any = 0;
    if (c->argc == 1) {
        for (int i = 0; i < NSECTIONS; i++)
            want[i] = sections[i].in_default;
        any = 1;
    }
    for (int a = 1; a < c->argc; a++) {
        const struct slice *s = &c->argv[a];
        if ((s->len == 3 && strncasecmp(s->p, "all", 3) == 0) ||
            (s->len == 10 && strncasecmp(s->p, "everything", 10) == 0)) {
            for (int i = 0; i < NSECTIONS; i++)
                want[i] = 1;
            any = 1;
            continue;
        }
        if (s->len == 7 && strncasecmp(s->p, "default", 7) == 0) {
            for (int i = 0; i < NSECTIONS; i++)
                want[i] |= sections[i].in_default;
            any = 1;
            continue;
        }
        for (int i = 0; i < NSECTIONS; i++) {
            if (strlen(sections[i].name) == s->len &&
                strncasecmp(sections[i].name, s->p, s->len) == 0) {
                want[i] = 1;
                any = 1;
            }
        }
    }
    struct text t = {rc_malloc(4096), 0, 4096};
    t.buf[0] = '\0';
    if (any) {
        int first = 1;
        for (int i = 0; i < NSECTIONS; i++) {
            if (!want[i])
                continue;
            if (!first)
                tprintf(&t, "\r\n");
            first = 0;
            sections[i].fn(&t);
        }
    }
    reply_verbatim(c, t.buf, t.len, "txt");
    rc_free(t.buf);
}
