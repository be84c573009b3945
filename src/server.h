/*
 * server.h — shared server state, for the command files and the modules
 * that serve them.  Leaf libraries (resp, dict, util, glob, slot, hash) do
 * not include this header.
 */
#ifndef RC_SERVER_H
#define RC_SERVER_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "command.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "object.h"
#include "resp.h"
#include "slot.h"
#include "util.h"

#define RC_VERSION "7.0.15"          /* Redis version we are compatible with */
#define RINGCACHE_VERSION "0.1.0"

struct event;
struct fwd;
struct link;
struct event_base;
struct command;

/* A command argument: bytes inside the client's query buffer. */
struct slice {
    const char *p;
    size_t len;
};

/* Is argument a the word lit, ignoring case?  (Option names.) */
static inline int arg_is(const struct slice *a, const char *lit)
{
    size_t n = strlen(lit);
    return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* ---- keyspace (db.c) ---- */

struct db {
    int id;
    struct dict *slots[RC_SLOTS];   /* per-slot tables, created on first use */
    uint32_t *fenwick;              /* key counts per slot, for RANDOMKEY */
    struct dict *expires_dict;      /* struct expire_ref nodes for keys with a TTL */
    size_t keys;
    size_t expires;                 /* keys carrying a TTL */
    long long avg_ttl;
    unsigned expire_cursor_slot;    /* active expiry position */
    unsigned long expire_cursor;
};

/* ---- output buffers (reply.c) ---- */

struct obuf {
    struct obuf *next;
    size_t size;        /* capacity of buf */
    size_t used;        /* bytes written into buf */
    int waiting;        /* a forwarded command's reply goes here: writes stop */
    char buf[];
};

/* ---- clients (conn.c) ---- */

enum client_flag {
    CF_AUTHED = 1 << 0,
    CF_CLOSE_AFTER_REPLY = 1 << 1,
    CF_CLOSE_ASAP = 1 << 2,
    CF_PENDING_WRITE = 1 << 3,
    CF_MONITOR = 1 << 4,
    CF_REPLY_OFF = 1 << 5,
    CF_REPLY_SKIP_NEXT = 1 << 6,
    CF_REPLY_SKIP = 1 << 7,
    CF_NO_EVICT = 1 << 8,
    CF_PROTECTED = 1 << 9,          /* refused by protected mode */
    CF_BLOCKED_PAUSE = 1 << 10,     /* waiting for CLIENT UNPAUSE */
    CF_UNIX = 1 << 11,
    CF_EXECUTING = 1 << 12,
    CF_FAKE = 1 << 13,              /* no connection: AOF loading etc. */
    CF_MULTI = 1 << 14,             /* inside MULTI */
    CF_DIRTY_CAS = 1 << 15,         /* a WATCHed key changed: EXEC fails */
    CF_DIRTY_EXEC = 1 << 16,        /* a queued command was rejected: EXEC fails */
    CF_PUBSUB = 1 << 17,            /* subscribed to channels or patterns */
    CF_BLOCKED = 1 << 18,           /* waiting in a blocking command */
    CF_NODE = 1 << 19,              /* a peer node's link (RINGNODE HELLO) */
    CF_WAIT_FWD = 1 << 20,          /* input held until a forwarded reply arrives */
    CF_CAPTURE = 1 << 21,           /* fake client whose replies are kept (route.c) */
    CF_RESUME = 1 << 22,            /* on the conn_resume() list */
    CF_READONLY = 1 << 23,          /* READONLY: reads served from local copies */
    CF_CLUSTER_PORT = 1 << 24,      /* came in on the cluster clients' port */
};

struct client {
    uint64_t id;
    int fd;
    int flags;
    int resp;                       /* 2 or 3 */
    struct db *db;
    struct event *rev;
    struct event *wev;
    char addr[64];                  /* "ip:port" of the peer */
    char laddr[64];                 /* "ip:port" of our side */

    /* Query buffer and the parser state over it. */
    char *qbuf;
    size_t qlen;                    /* bytes in qbuf */
    size_t qpos;                    /* start of the command being parsed */
    size_t qcap;
    size_t qpeak;
    struct resp_parser parser;
    int argc;
    struct slice *argv;
    int argv_cap;
    const struct command *cmd;
    const struct command *lastcmd;

    /* Reply list: obufs in order; sentpos bytes of the head already sent. */
    struct obuf *reply_head;
    struct obuf *reply_tail;
    size_t reply_bytes;             /* bytes queued and not yet sent */
    size_t sentpos;
    time_t obuf_soft_since;         /* when the soft limit was first exceeded, 0 if not */

    char *name;
    char *lib_name;
    char *lib_ver;
    time_t ctime;
    time_t last_interaction;
    long long commands_processed;

    struct client *prev, *next;     /* all clients */
    struct client *pw_next;         /* pending-write list */
    unsigned long long aof_ack;     /* log position its replies acknowledge (aof.h) */
    struct client *close_next;      /* clients to free at a safe point */

    /* Ring mode (route.c): forwarded commands whose replies are awaited,
     * and the link pinned to this client for blocking commands. */
    struct fwd *fwds;
    struct link *pinned;
    int pinned_peer;
    int remote_watch;               /* WATCH keys held on the pinned link */
    char *peer_id;                  /* a node link: the peer's id (RINGNODE HELLO) */
    int txn_slot;                   /* slot of the keys queued in MULTI, -1 none */
    size_t qcmdlen;                 /* request bytes of the command being run */
    struct client *resume_next;     /* conn_resume() list */

    /* WAIT (wait.c): what this client's writes left to wait for. */
    uint64_t woff;                  /* stream offset after its last local write */
    uint16_t wslots[8];             /* slots of its local writes since the last WAIT */
    int nwslots;                    /* -1: more than fit */
    uint64_t wpeers;                /* ring members its writes were forwarded to */
    struct waitreq *waitreq;        /* the WAIT it is blocked in, if any */

    /* WATCH (watch.c): the keys this client watches. */
    void *watched;
    size_t nwatched;
    size_t watched_cap;

    /* ACL (acl.h): the authenticated user; NULL on node links and
     * internal clients, which may run anything. */
    struct acl_user *user;

    /* Client-side caching (tracking.h); NULL until CLIENT TRACKING. */
    struct tracking_state *trk;
    struct dnode id_node;           /* conn.c's index of clients by id */
};

/* ---- configuration values (config.c) ---- */

struct obuf_limit {
    unsigned long long hard;
    unsigned long long soft;
    long long soft_seconds;
};

enum maxmemory_policy {
    MM_VOLATILE_LRU, MM_VOLATILE_LFU, MM_VOLATILE_RANDOM, MM_VOLATILE_TTL,
    MM_ALLKEYS_LRU, MM_ALLKEYS_LFU, MM_ALLKEYS_RANDOM, MM_NOEVICTION,
};

/* ---- the server ---- */

struct server {
    struct event_base *base;
    pid_t pid;
    char runid[41];
    char replid[41];
    size_t startup_memory;
    char *configfile;
    char *executable;
    time_t start_time;
    long long start_ms;
    int shutdown_asap;
    int shutdown_exit_code;
    uint32_t lruclock;
    int hz;
    long long mstime;                /* cached at each loop iteration */
    long long ustime;

    /* Networking. */
    char **bind;
    int bind_count;
    int port;
    int tcp_backlog;
    int tcp_keepalive;
    int protected_mode;
    char *unixsocket;
    int unixsocketperm;
    /* TCP listeners: the port on each bind address, then (ring mode) the
     * cluster clients' port on each (listen_cluster[i] set). */
    int listen_fds[32];
    int listen_count;
    struct event *listen_events[32];
    unsigned char listen_cluster[32];
    unsigned maxclients;
    long long timeout;               /* idle seconds, 0 = never */

    /* Limits. */
    long long proto_max_bulk_len;
    long long client_max_querybuf_len;
    struct obuf_limit obuf_limits[3];   /* normal, replica, pubsub */

    /* Auth. */
    char *requirepass;
    char *aclfile;                  /* ACL LOAD/SAVE file, NULL if none */
    int acl_pubsub_default_all;     /* acl-pubsub-default allchannels */
    unsigned long acllog_max_len;

    /* Databases. */
    int dbnum;
    struct db *dbs;

    /* Clients. */
    struct client *clients;          /* doubly linked list of all clients */
    unsigned connected_clients;
    uint64_t next_client_id;
    struct client *pending_writes;
    struct client *to_close;
    struct client *current_client;
    int monitors;
    long long pause_end_ms;          /* CLIENT PAUSE deadline, 0 = not paused */
    int pause_all;                   /* PAUSE ALL (else WRITE) */

    /* Memory. */
    unsigned long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    int maxmemory_eviction_tenacity;
    int lfu_log_factor;
    int lfu_decay_time;
    int lazyfree_lazy_user_del;
    int lazyfree_lazy_user_flush;
    int lazyfree_lazy_expire;
    int lazyfree_lazy_eviction;
    int lazyfree_lazy_server_del;
    int notify_keyspace_events;      /* NOTIFY_* flags (notify.h) */
    int active_expire_effort;
    int activerehashing;

    /* Persistence settings (accepted for compatibility; see config.c). */
    char *dir;
    char *dbfilename;
    char *save_params;
    int appendonly;
    char *appendfilename;
    char *appenddirname;
    int appendfsync;                 /* AOF_FSYNC_ALWAYS, _EVERYSEC or _NO (aof.h) */
    int aof_load_truncated;
    int aof_no_fsync_on_rewrite;
    int aof_rewrite_perc;
    long long aof_rewrite_min_size;
    int loading;                     /* replaying the log: no expiry, no propagation */
    int child_active;                /* a snapshot/rewrite child runs: reads leave LRU/LFU alone */
    int key_load_delay;              /* debug: microseconds to sleep per key loaded */
    int rdb_key_save_delay;          /* debug: microseconds a snapshot child sleeps per key */
    int loading_process_events_interval_bytes; /* serve clients every this many bytes loaded */

    /* Ring mode (cluster.c).  cluster_replicas and cluster_vnodes are this
     * node's wishes when a ring is formed or joined; afterwards the cluster
     * state holds the ring's values. */
    int cluster_enabled;
    char *cluster_config_file;
    long long cluster_node_timeout;  /* ms */
    long long cluster_debug_bugs;    /* planted bugs for fault tests (LIVENESS_BUG_*, ...) */
    char *cluster_announce_ip;
    int cluster_announce_port;
    int cluster_client_port_offset;  /* cluster clients' port = port + this, 0 none */
    int cluster_vnodes;
    int cluster_replicas;
    unsigned long long cluster_move_rate;   /* slot dumps: bytes per second, 0 no limit */
    long long repl_backlog_size;
    int min_replica_acks;
    long long min_replica_acks_timeout;
    char *cluster_zone;
    char *cluster_secret;

    /* Logging and misc. */
    char *logfile;
    int loglevel;
    int daemonize;
    char *pidfile;
    long long slowlog_log_slower_than;
    unsigned long slowlog_max_len;
    long long latency_monitor_threshold;
    int enable_debug_cmd;           /* enable-debug-command: DEBUG_CMD_* */
    int latency_tracking;           /* latency-tracking */
    long long tracking_table_max_keys;  /* tracking-table-max-keys */
    int busy_reply_threshold;
    unsigned long hash_max_listpack_entries;
    unsigned long hash_max_listpack_value;
    int list_max_listpack_size;
    unsigned long set_max_intset_entries;
    unsigned long zset_max_listpack_entries;
    unsigned long zset_max_listpack_value;
    long long hll_sparse_max_bytes;
    long long stream_node_max_bytes;     /* a stream node's listpack stops growing here */
    long long stream_node_max_entries;   /* ... or at this many entries (0: no limit) */  /* sparse HyperLogLogs longer than this become dense */
    int databases_cfg;

    /* Statistics (stats.c prints them). */
    long long stat_numcommands;
    long long stat_numconnections;
    long long stat_rejected_conn;
    long long stat_expiredkeys;
    long long stat_expired_stale_perc;
    long long stat_expired_time_cap_reached_count;
    long long stat_expire_cycle_time_used;
    long long stat_evictedkeys;
    long long stat_evictedclients;
    long long stat_keyspace_hits;
    long long stat_keyspace_misses;
    long long stat_net_input_bytes;
    long long stat_net_output_bytes;
    long long stat_total_error_replies;
    long long stat_unexpected_error_replies;
    long long stat_client_qbuf_limit_disconnections;
    long long stat_client_outbuf_limit_disconnections;
    long long stat_io_reads;
    long long stat_io_writes;
    long long stat_dirty;                /* changes since start (no persistence yet) */
    size_t stat_peak_memory;
    struct dict *errorstats;             /* error prefix -> count */
    int errorstats_overflow;

    /* Slow log. */
    struct slowlog_entry *slowlog_head;
    unsigned long slowlog_len;
    long long slowlog_next_id;
};

extern struct server server;

/* ---- helpers used across command files ---- */

/* db.c */
void db_init_all(void);
void db_free_all(void);
struct kv *db_lookup_read(struct client *c, const struct slice *key);   /* counts hits/misses */
struct kv *db_lookup(struct db *db, const char *key, size_t len);      /* no stats; expires lazily */
struct kv *db_lookup_nostat(struct db *db, const char *key, size_t len);
int db_add(struct db *db, struct kv *o);         /* 0 ok, -1 exists (o not added) */
void db_overwrite(struct db *db, struct kv *o);  /* replace existing or add; keeps nothing of old */
struct kv *db_set_expire(struct db *db, struct kv *o, long long when); /* returns relinked entry */
int db_delete(struct db *db, const char *key, size_t len, int lazy);
struct kv *db_unlink(struct db *db, const char *key, size_t len);
void db_flush(struct db *db, int async);
size_t db_size(const struct db *db);
/* In a ring each member counts as its own (DBSIZE, KEYS, INFO keyspace,
 * summed over the members) the keys of the slots it is primary of, so
 * that replica copies are not counted again; elsewhere every key.
 * *expires (if not NULL) gets the count of those with a TTL. */
int db_slot_counted(unsigned slot);
size_t db_size_counted(struct db *db, size_t *expires);
/* Is expiring o this node's decision (not a copy held for another
 * primary in a ring with copies)? */
int db_expiry_is_mine(const struct kv *o);
/* The slot of the running command's key, already computed by routing:
 * valid until db_clear_slot_hint(), which runs after every command. */
void db_set_slot_hint(const char *key, size_t len, unsigned slot);
void db_clear_slot_hint(void);
struct kv *db_random(struct db *db);
int db_expire_if_needed(struct db *db, struct kv *o);
int kv_is_expired(const struct kv *o);
void db_swap(int a, int b);
unsigned long long db_scan(struct db *db, unsigned long long cursor,
                           void (*fn)(void *priv, struct kv *o), void *priv);
/* The same, visiting no slot after last (ring SCAN: one member's run). */
unsigned long long db_scan_range(struct db *db, unsigned long long cursor, unsigned last,
                                 void (*fn)(void *priv, struct kv *o), void *priv);
struct dict *db_slot_dict(struct db *db, unsigned slot);
/* Every key of slot from the slot table's cursor dcur (0: all of it) on;
 * returns the cursor past the slot, as db_scan_range(). */
unsigned long long db_scan_slot(struct db *db, unsigned slot, unsigned long dcur,
                                void (*fn)(void *priv, struct kv *o), void *priv);
void db_cron(void);
struct kv *db_replace(struct db *db, struct kv *old, struct kv *n);
void kv_touch(struct kv *o);
/* Every command that changes a key calls this (WATCH, and later
 * keyspace-change hooks). */
void db_signal_modified(struct db *db, const char *key, size_t len);
unsigned db_slot_of_rank(const struct db *db, unsigned long rank);
struct kv *db_expire_ref_kv(struct dnode *n);

/* t_keys.c: the cursor argument of SCAN, HSCAN, SSCAN and ZSCAN.
 * Returns 0, or -1 after replying "ERR invalid cursor". */
int scan_parse_cursor(struct client *c, const struct slice *arg, unsigned long long *cursor);
/* SCAN with args = cursor [MATCH p] [COUNT n] [TYPE t], visiting no slot
 * after last_slot and, if mine is not NULL, only the slots for which
 * mine(slot) holds.  whole (with mine): every key of those slots in range,
 * COUNT not applied (a ring node's share of a wider SCAN, route.c);
 * otherwise about COUNT keys per call, as Redis. */
void scan_in_range(struct client *c, const struct slice *args, int nargs, unsigned last_slot,
                   int (*mine)(unsigned slot), int whole);

/* expire.c */
void expire_active_cycle(int fast);
/* DEBUG SET-ACTIVE-EXPIRE: 0 stops the active expiry cycle, 1 resumes it. */
void expire_set_active(int on);
/* enable-debug-command values (Redis's protected actions). */
enum { DEBUG_CMD_NO = 0, DEBUG_CMD_YES = 1, DEBUG_CMD_LOCAL = 2 };

/* time helpers */
static inline long long now_ms(void) { return server.mstime; }

#endif
