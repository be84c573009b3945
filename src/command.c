/*
 * command.c — command table set-up, lookup and dispatch.
 *
 * command_process() is the single gate every client command goes through:
 * lookup, arity, authentication, pause, memory, then the handler, then
 * the bookkeeping (commandstats, slow log, MONITOR feed).
 */
#include "command.h"
#include "script.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "acllog.h"
#include "aof.h"
#include "block.h"
#include "conn.h"
#include "evict.h"
#include "monitor.h"
#include "multi.h"
#include "propagate.h"
#include "pubsub.h"
#include "repl.h"
#include "reply.h"
#include "route.h"
#include "server.h"
#include "slowlog.h"
#include "latency.h"
#include "snapshot.h"
#include "stats.h"
#include "tracking.h"

static struct command table[] = {
#define CMD(n, h, ar, fl, fk, lk, ks, acls, grp, ver, tp, ksp) \
    {.name = #n, .fullname = #n, .proc = h, .arity = ar, .flagstr = fl, .firstkey = fk, \
     .lastkey = lk, .keystep = ks, .acl = acls, .group = grp, .since = ver, .tips = tp, \
     .keyspecs = ksp},
#define SUB(p, n, h, ar, fl, fk, lk, ks, acls, ver, tp, ksp) \
    {.name = #n, .fullname = #p "|" #n, .proc = h, .arity = ar, .flagstr = fl, \
     .firstkey = fk, .lastkey = lk, .keystep = ks, .acl = acls, .since = ver, .tips = tp, \
     .keyspecs = ksp, .parent = #p},
#include "commands.def"
#include "commands_hash.def"
#include "commands_list.def"
#include "commands_set.def"
#include "commands_zset.def"
#include "commands_multi.def"
#include "commands_pubsub.def"
#include "commands_cluster.def"
#include "commands_hll.def"
#include "commands_geo.def"
#include "commands_stream.def"
#include "commands_script.def"
#include "commands_introspect.def"
#include "commands_acl.def"
#undef CMD
#undef SUB
};

#define NCOMMANDS ((int)(sizeof(table) / sizeof(table[0])))

static struct command *toplevel[NCOMMANDS];
static int ntoplevel;

/* Open-addressing lookup table over lower-case full names. */
#define LOOKUP_SIZE 1024
static struct command *lookup_tab[LOOKUP_SIZE];

static const struct {
    const char *name;
    uint32_t flag;
} flag_names[] = {
    {"write", CMD_WRITE}, {"readonly", CMD_READONLY}, {"denyoom", CMD_DENYOOM},
    {"admin", CMD_ADMIN}, {"pubsub", CMD_PUBSUB}, {"noscript", CMD_NOSCRIPT},
    {"blocking", CMD_BLOCKING}, {"loading", CMD_LOADING}, {"stale", CMD_STALE},
    {"skip_monitor", CMD_SKIP_MONITOR}, {"skip_slowlog", CMD_SKIP_SLOWLOG},
    {"fast", CMD_FAST}, {"no_auth", CMD_NO_AUTH}, {"may_replicate", CMD_MAY_REPLICATE},
    {"no_mandatory_keys", CMD_NO_MANDATORY_KEYS}, {"allow_busy", CMD_ALLOW_BUSY},
    {"no_multi", CMD_NO_MULTI}, {"movablekeys", CMD_MOVABLE_KEYS},
    {"no_async_loading", CMD_NO_ASYNC_LOADING},
};

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)tolower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

static int name_eq(const char *a, const char *b, size_t blen)
{
    for (size_t i = 0; i < blen; i++) {
        if (a[i] == '\0' || a[i] != tolower((unsigned char)b[i]))
            return 0;
    }
    return a[blen] == '\0';
}

static void lookup_insert(struct command *cmd)
{
    uint32_t i = name_hash(cmd->fullname, strlen(cmd->fullname)) & (LOOKUP_SIZE - 1);
    while (lookup_tab[i])
        i = (i + 1) & (LOOKUP_SIZE - 1);
    lookup_tab[i] = cmd;
}

struct command *command_lookup(const char *name, size_t len)
{
    uint32_t i = name_hash(name, len) & (LOOKUP_SIZE - 1);
    while (lookup_tab[i]) {
        if (name_eq(lookup_tab[i]->fullname, name, len))
            return lookup_tab[i];
        i = (i + 1) & (LOOKUP_SIZE - 1);
    }
    return NULL;
}

static uint32_t parse_flags(const char *s)
{
    uint32_t flags = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (n == 0)
            break;
        for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
            if (strlen(flag_names[i].name) == n && memcmp(flag_names[i].name, s, n) == 0)
                flags |= flag_names[i].flag;
        }
        s += n;
    }
    return flags;
}

void command_table_init(void)
{
    _Static_assert(NCOMMANDS < LOOKUP_SIZE / 2, "command lookup table too small");
    for (int i = 0; i < NCOMMANDS; i++) {
        struct command *cmd = &table[i];
        cmd->flags = parse_flags(cmd->flagstr);
        struct key_spec specs[CMD_MAX_KEY_SPECS];
        cmd->nspecs = command_key_specs(cmd, specs, CMD_MAX_KEY_SPECS);
        cmd->has_keys = 0;
        if (cmd->nspecs > 0) {
            cmd->specs = rc_malloc(sizeof(specs[0]) * (size_t)cmd->nspecs);
            memcpy(cmd->specs, specs, sizeof(specs[0]) * (size_t)cmd->nspecs);
            for (int k = 0; k < cmd->nspecs; k++)
                cmd->has_keys |= !(specs[k].flags & KS_NOT_KEY);
            const struct key_spec *k0 = &specs[0];
            if (cmd->nspecs == 1 && !(k0->flags & (KS_NOT_KEY | KS_VARIABLE_FLAGS)) &&
                k0->begin == KSB_INDEX && k0->find == KSF_RANGE && k0->lastkey == 0 &&
                k0->index > 0)
                cmd->key_pos = k0->index;
        }
        lookup_insert(cmd);
        if (cmd->parent == NULL) {
            toplevel[ntoplevel++] = cmd;
            continue;
        }
        struct command *parent = command_lookup(cmd->parent, strlen(cmd->parent));
        cmd->container = parent;
        parent->subs = rc_realloc(parent->subs, sizeof(*parent->subs) * (size_t)(parent->nsubs + 1));
        parent->subs[parent->nsubs++] = cmd;
    }
}

void command_table_deinit(void)
{
    for (int i = 0; i < NCOMMANDS; i++) {
        rc_free(table[i].subs);
        table[i].subs = NULL;
        rc_free(table[i].specs);
        table[i].specs = NULL;
        table[i].nsubs = 0;
    }
    memset(lookup_tab, 0, sizeof(lookup_tab));
    ntoplevel = 0;
}

int command_index(const struct command *cmd)
{
    return (int)(cmd - table);
}

int command_table_size(void)
{
    return NCOMMANDS;
}

struct command *command_by_index(int i)
{
    return i >= 0 && i < NCOMMANDS ? &table[i] : NULL;
}

struct command *command_at(int i)
{
    return i >= 0 && i < ntoplevel ? toplevel[i] : NULL;
}

int command_count(void)
{
    return ntoplevel;
}

static struct command *find_sub(const struct command *parent, const struct slice *a)
{
    for (int i = 0; i < parent->nsubs; i++) {
        if (name_eq(parent->subs[i]->name, a->p, a->len))
            return parent->subs[i];
    }
    return NULL;
}

struct command *command_lookup_argv(int argc, const struct slice *argv)
{
    struct command *cmd = command_lookup(argv[0].p, argv[0].len);
    if (cmd == NULL || cmd->nsubs == 0 || argc < 2)
        return cmd;
    return find_sub(cmd, &argv[1]);
}

void stats_command_failed(const struct command *cmd)
{
    ((struct command *)cmd)->stats.failed++;
}

int command_get_keys(const struct command *cmd, int argc, const struct slice *argv,
                     int *idx, int max)
{
    (void)argv;
    if (cmd->firstkey <= 0)
        return -1;
    int last = cmd->lastkey < 0 ? argc + cmd->lastkey : cmd->lastkey;
    int n = 0;
    for (int i = cmd->firstkey; i <= last && i < argc && n < max; i += cmd->keystep)
        idx[n++] = i;
    return n;
}

/* ---- rejection texts ---- */

static void reject_unknown(struct client *c)
{
    /* Redis quotes the first arguments, at most ~128 bytes of them. */
    char args[512];
    size_t used = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && used < 128; i++) {
        int room = 128 - (int)used;
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room),
                         c->argv[i].p);
        if (n < 0)
            break;
        used += (size_t)n;
        if (used >= sizeof(args))
            used = sizeof(args) - 1;
    }
    char msg[1024];
    int nl = (int)(c->argv[0].len < 128 ? c->argv[0].len : 128);
    snprintf(msg, sizeof(msg), "ERR unknown command '%.*s', with args beginning with: %s", nl,
             c->argv[0].p, args);
    reply_error(c, msg);
}

void cmd_unknown_subcommand(struct client *c)
{
    char up[64];
    size_t i;
    const char *name = c->cmd->name;
    for (i = 0; name[i] && i < sizeof(up) - 1; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[i] = '\0';
    int nl = (int)(c->argv[1].len < 128 ? c->argv[1].len : 128);
    reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", nl, c->argv[1].p, up);
}

static int arity_ok(const struct command *cmd, int argc)
{
    return (cmd->arity > 0 && argc == cmd->arity) || (cmd->arity < 0 && argc >= -cmd->arity);
}

static int is_quit(const struct client *c)
{
    return c->argv[0].len == 4 && strncasecmp(c->argv[0].p, "quit", 4) == 0;
}

/* Refuse cmd, found and checked far enough to know it, with the error
 * msg.  Inside MULTI the transaction is then doomed; a refused EXEC
 * discards it at once and says why (Redis's execCommandAbort()). */
static void reject(struct client *c, struct command *cmd, const char *msg)
{
    multi_flag_error(c);
    c->cmd = NULL;
    if (cmd->proc == cmd_exec)
        multi_exec_abort(c, msg);
    else
        reply_error(c, msg);
    cmd->stats.rejected++;
}

int command_process(struct client *c)
{
    struct command *cmd = command_lookup(c->argv[0].p, c->argv[0].len);
    c->cmd = NULL;
    if (cmd == NULL) {
        multi_flag_error(c);
        reject_unknown(c);
        return CMD_DONE;
    }
    if (cmd->nsubs && c->argc >= 2) {
        struct command *sub = find_sub(cmd, &c->argv[1]);
        if (sub)
            cmd = sub;
    }
    c->cmd = cmd;

    if (!arity_ok(cmd, c->argc)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command",
                 cmd->fullname);
        reject(c, cmd, msg);
        return CMD_DONE;
    }
    if (!(c->flags & CF_AUTHED) && !(cmd->flags & CMD_NO_AUTH)) {
        reject(c, cmd, "NOAUTH Authentication required.");
        return CMD_DONE;
    }
    if (c->flags & CF_MULTI) {
        /* Redis rejects an unknown subcommand at lookup; queued, it would
         * only fail inside EXEC. */
        if (cmd->nsubs && c->argc >= 2) {
            multi_flag_error(c);
            cmd_unknown_subcommand(c);
            c->cmd = NULL;
            cmd->stats.rejected++;
            return CMD_DONE;
        }
        if (cmd->flags & CMD_NO_MULTI) {
            reject(c, cmd, "ERR Command not allowed inside a transaction");
            return CMD_DONE;
        }
    }
    /* ACLs, checked here on the node the client talks to, before any
     * forwarding (node links are trusted, acl.h). */
    int aclpos;
    int aclr = acl_check_and_log(c, cmd, c->argc, c->argv,
                                 (c->flags & CF_MULTI) ? ACLLOG_MULTI : ACLLOG_TOPLEVEL, &aclpos);
    if (aclr != ACL_OK) {
        char msg[512] = "NOPERM ";
        acl_denial_text(msg + 7, sizeof(msg) - 7, aclr, cmd, &c->argv[aclpos], 0);
        reject(c, cmd, msg);
        return CMD_DONE;
    }
    /* With a memory limit, every command first makes room, as in Redis;
     * only commands that may grow memory are refused when it cannot. */
    if (server.maxmemory && evict_perform() != 0 && multi_denies_oom(c, cmd)) {
        reject(c, cmd, "OOM command not allowed when used memory > 'maxmemory'.");
        return CMD_DONE;
    }
    /* A failed snapshot (stop-writes-on-bgsave-error) or a log that cannot
     * be written refuses writes (and PING, as Redis does) until it can
     * again. */
    if ((cmd->flags & CMD_WRITE) || cmd->proc == cmd_ping ||
        (cmd->proc == cmd_exec && (multi_cmd_flags(c) & CMD_WRITE))) {
        /* A failed background snapshot wins over the log, as in Redis. */
        const char *err = snapshot_write_denied();
        if (err == NULL && server.appendonly)
            err = aof_write_denied();
        if (err) {
            reject(c, cmd, err);
            return CMD_DONE;
        }
    }
    if ((c->flags & CF_PUBSUB) && c->resp == 2 && !pubsub_allowed_in_context(cmd)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "ERR Can't execute '%s': only (P|S)SUBSCRIBE / "
                 "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                 cmd->fullname);
        reject(c, cmd, msg);
        return CMD_DONE;
    }
    /* A script past busy-reply-threshold serves other clients from its
     * hook: only allow_busy commands run (SCRIPT KILL, SHUTDOWN NOSAVE). */
    if (script_timed_out() && !(cmd->flags & CMD_ALLOW_BUSY)) {
        reject(c, cmd, script_busy_error());
        return CMD_DONE;
    }
    /* While the start-up load runs only commands flagged `loading` (INFO,
     * CONFIG, SHUTDOWN, ...) are served, as in Redis. */
    if (server.loading && !(cmd->flags & CMD_LOADING)) {
        reject(c, cmd, "LOADING Redis is loading the dataset in memory");
        return CMD_DONE;
    }
    /* CLIENT PAUSE WRITE holds commands that may write, and EXEC of a
     * transaction that holds one (Redis 7.0). */
    if (server.pause_end_ms && !is_quit(c) &&
        (server.pause_all || (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)) ||
         (cmd->proc == cmd_exec && (multi_cmd_flags(c) & (CMD_WRITE | CMD_MAY_REPLICATE)))) &&
        !(cmd->flags & CMD_NO_AUTH) && cmd->proc != cmd_unknown_subcommand) {
        if (server.mstime < server.pause_end_ms)
            return CMD_HOLD;
    }

    c->lastcmd = cmd;
    /* Ring mode: the one routing decision (route.h). */
    if (route_command(c, cmd) == ROUTE_LOCAL) {
        const char *err;
        if ((c->flags & CF_MULTI) && !multi_runs_now(cmd)) {
            multi_queue(c, cmd);
        } else if (!repl_enough_replicas(c, cmd, &err)) {
            reply_error(c, err);    /* min-replica-acks: refused before it runs */
        } else {
            struct reply_mark mark;
            reply_mark(c, &mark);
            uint64_t before = repl_offset();
            command_call(c, cmd);
            repl_hold_reply(c, &mark, before);
        }
        db_clear_slot_hint();
        /* Serve clients blocked on keys this command (or transaction)
         * fed, before any reply is written (handleClientsBlockedOnKeys). */
        block_process_ready();
    }

    /* CLIENT REPLY SKIP silences exactly the next command's reply. */
    if (c->flags & CF_REPLY_SKIP) {
        c->flags &= ~CF_REPLY_SKIP;
    } else if (c->flags & CF_REPLY_SKIP_NEXT) {
        c->flags &= ~CF_REPLY_SKIP_NEXT;
        c->flags |= CF_REPLY_SKIP;
    }
    return CMD_DONE;
}

/* Nesting depth of command_call(): EXEC's commands run inside EXEC's. */
static int call_depth;

void command_call(struct client *c, struct command *cmd)
{
    /* The cached time is taken once per top-level command, so that keys
     * cannot expire half-way through a transaction (Redis 7.0 does the
     * same). */
    long long start = (long long)rc_ustime();
    if (call_depth++ == 0) {
        server.ustime = start;
        server.mstime = start / 1000;
    }
    struct client *outer = server.current_client;
    int executing = c->flags & CF_EXECUTING;
    server.current_client = c;
    c->cmd = cmd;
    c->flags |= CF_EXECUTING;
    /* The single propagation point: a command that changed the dataset
     * produces its deterministic record(s) (propagate.h). */
    long long dirty_before = server.stat_dirty;
    unsigned long long logged_before = aof_fed_offset();
    propagate_frame_begin(c);
    cmd->proc(c);
    propagate_frame_end(c, cmd, dirty_before);
    /* Client-side caching: the keys a read returned are remembered after
     * it ran, as Redis does. */
    tracking_command_done(c, cmd, c->argc, c->argv);
    /* Its reply acknowledges the records it logged (held while a failed
     * write keeps them out of the file). */
    if (aof_fed_offset() != logged_before)
        c->aof_ack = aof_fed_offset();
    if (!executing)
        c->flags &= ~CF_EXECUTING;
    server.current_client = outer;
    if (--call_depth == 0)
        tracking_after_command();   /* invalidations held to follow the reply */
    long long dur = (long long)rc_ustime() - start;

    /* Monitors see a command after it ran, as in Redis (SELECT shows the
     * database it selected). */
    if (server.monitors && !server.loading && !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)))
        monitor_feed(c);

    cmd->stats.calls++;
    cmd->stats.usec += dur;
    server.stat_numcommands++;
    c->commands_processed++;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG))
        slowlog_maybe_add(c, dur);
    if (!(c->flags & CF_BLOCKED))
        latency_command_done(cmd, dur);
}
