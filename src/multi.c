/*
 * multi.c — transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
 *
 * While a client is in MULTI the dispatcher (command.c) checks each command
 * as usual (lookup, arity, auth, no_multi, memory) and then, instead of
 * running it, hands it to multi_queue(), which copies the arguments into
 * one allocation per command: the originals point into the query buffer,
 * which moves and is reused.  A command rejected by those checks marks the
 * transaction CF_DIRTY_EXEC, and EXEC then discards it with EXECABORT, as
 * Redis 7.0 does.
 *
 * EXEC runs the queued commands one by one through command_call(), the same
 * path a directly sent command takes after its checks, so command
 * statistics, the slow log and MONITOR see each of them (and EXEC itself
 * after them), as in Redis.  Nothing else runs in between: the event loop
 * is not re-entered.  CF_MULTI stays set while they run, which tells
 * blocking commands to answer at once instead of blocking.
 *
 * The per-client transaction state lives in a table keyed by client id,
 * created on the first MULTI and released when the last transaction ends,
 * so idle clients carry nothing.  Its memory is counted (CLIENT LIST's
 * multi-mem) and bounded as Redis bounds it: with maxmemory set, every
 * command queued inside MULTI is refused once memory is over the limit.
 *
 * WATCH bookkeeping is watch.c's; here are only the commands.
 */
#include "multi.h"
#include "acl.h"
#include "acllog.h"

#include <string.h>

#include "command.h"
#include "dict.h"
#include "hash.h"
#include "reply.h"
#include "server.h"
#include "watch.h"

/* One queued command: argv slices, then the argument bytes they point to. */
struct qcmd {
    struct command *cmd;
    int argc;
    struct slice argv[];
};

/* A client's transaction. */
struct mstate {
    struct dnode node;
    uint64_t id;                /* the client's id: the table key */
    struct qcmd **cmds;
    size_t count;
    size_t cap;
    size_t mem;                 /* bytes allocated for cmds[] and the commands */
    uint32_t flags;             /* CMD_* of the queued commands, or-ed */
};

static void mstate_key(const struct dnode *n, const char **key, size_t *len)
{
    const struct mstate *m = (const struct mstate *)n;
    *key = (const char *)&m->id;
    *len = sizeof(m->id);
}

static void mstate_destroy(struct dnode *n)
{
    struct mstate *m = (struct mstate *)n;
    for (size_t i = 0; i < m->count; i++)
        rc_free(m->cmds[i]);
    rc_free(m->cmds);
    rc_free(m);
}

static const struct dict_type mstate_type = {
    .hash = rc_hash, .key = mstate_key, .destroy = mstate_destroy,
};

/* Transactions of the clients in MULTI that queued at least one command;
 * NULL while there are none. */
static struct dict *states;

static struct mstate *state_find(const struct client *c)
{
    if (states == NULL)
        return NULL;
    return (struct mstate *)dict_find(states, (const char *)&c->id, sizeof(c->id));
}

static struct mstate *state_get(struct client *c)
{
    struct mstate *m = state_find(c);
    if (m)
        return m;
    if (states == NULL)
        states = dict_create(&mstate_type);
    m = rc_calloc(sizeof(*m));
    m->id = c->id;
    dict_add(states, &m->node);
    return m;
}

/* Take c's transaction out of the table; the caller owns the result (NULL
 * if c queued nothing).  The table is released when it empties. */
static struct mstate *state_detach(struct client *c)
{
    if (states == NULL)
        return NULL;
    struct mstate *m =
        (struct mstate *)dict_unlink(states, (const char *)&c->id, sizeof(c->id));
    if (dict_size(states) == 0)
        dict_destroy(&states);
    return m;
}

/* Copy cmd and c->argv into one allocation.  Sizes are bounded by the
 * query buffer that holds the arguments, but are checked all the same. */
static struct qcmd *qcmd_create(const struct client *c, struct command *cmd)
{
    size_t argc = (size_t)c->argc;
    size_t size;
    if (__builtin_mul_overflow(argc, sizeof(struct slice), &size) ||
        __builtin_add_overflow(size, sizeof(struct qcmd), &size))
        return NULL;
    for (size_t i = 0; i < argc; i++) {
        if (__builtin_add_overflow(size, c->argv[i].len, &size))
            return NULL;
    }
    struct qcmd *q = rc_malloc(size);
    q->cmd = cmd;
    q->argc = c->argc;
    char *bytes = (char *)&q->argv[argc];
    for (size_t i = 0; i < argc; i++) {
        if (c->argv[i].len)
            memcpy(bytes, c->argv[i].p, c->argv[i].len);
        q->argv[i].p = bytes;
        q->argv[i].len = c->argv[i].len;
        bytes += c->argv[i].len;
    }
    return q;
}

void multi_queue(struct client *c, struct command *cmd)
{
    struct mstate *m = state_get(c);
    struct qcmd *q = qcmd_create(c, cmd);
    if (q == NULL) {
        multi_flag_error(c);
        reply_error(c, "ERR transaction too large");
        return;
    }
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        if (cap < m->cap || cap > SIZE_MAX / sizeof(*m->cmds)) {
            rc_free(q);
            multi_flag_error(c);
            reply_error(c, "ERR transaction too large");
            return;
        }
        size_t old = m->cmds ? rc_usable(m->cmds) : 0;
        m->cmds = rc_realloc(m->cmds, cap * sizeof(*m->cmds));
        m->cap = cap;
        m->mem = m->mem - old + rc_usable(m->cmds);
    }
    m->cmds[m->count++] = q;
    m->mem += rc_usable(q);
    m->flags |= cmd->flags;
    reply_raw(c, "+QUEUED\r\n", 9);
}

void multi_flag_error(struct client *c)
{
    if (c->flags & CF_MULTI)
        c->flags |= CF_DIRTY_EXEC;
}

void multi_discard(struct client *c)
{
    struct mstate *m = state_detach(c);
    if (m)
        mstate_destroy(&m->node);
    c->flags &= ~(CF_MULTI | CF_DIRTY_CAS | CF_DIRTY_EXEC);
    watch_unwatch_all(c);
}

void multi_exec_abort(struct client *c, const char *err)
{
    multi_discard(c);
    if (strncmp(err, "ERR ", 4) == 0)
        err += 4;
    reply_errorf(c, "EXECABORT Transaction discarded because of: %s", err);
}

long multi_count(const struct client *c)
{
    if (!(c->flags & CF_MULTI))
        return -1;
    const struct mstate *m = state_find(c);
    return m ? (long)m->count : 0;
}

size_t multi_mem(const struct client *c)
{
    const struct mstate *m = (c->flags & CF_MULTI) ? state_find(c) : NULL;
    return m ? m->mem : 0;
}

uint32_t multi_cmd_flags(const struct client *c)
{
    const struct mstate *m = (c->flags & CF_MULTI) ? state_find(c) : NULL;
    return m ? m->flags : 0;
}

int multi_runs_now(const struct command *cmd)
{
    cmd_handler *p = cmd->proc;
    return p == cmd_exec || p == cmd_discard || p == cmd_multi || p == cmd_watch ||
           p == cmd_quit || p == cmd_reset;
}

int multi_denies_oom(const struct client *c, const struct command *cmd)
{
    if (cmd->flags & CMD_DENYOOM)
        return 1;
    if (!(c->flags & CF_MULTI))
        return 0;
    cmd_handler *p = cmd->proc;
    if (p == cmd_exec)
        return (multi_cmd_flags(c) & CMD_DENYOOM) != 0;
    return p != cmd_discard && p != cmd_quit && p != cmd_reset;
}

/* ---- commands ---- */

void cmd_multi(struct client *c)
{
    if (c->flags & CF_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CF_MULTI;
    reply_ok(c);
}

void cmd_discard(struct client *c)
{
    if (!(c->flags & CF_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(c);
}

void cmd_exec(struct client *c)
{
    if (!(c->flags & CF_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    /* A watched key that has expired since WATCH counts as changed, even
     * if nothing has deleted it yet (Redis 7.0). */
    if (!(c->flags & CF_DIRTY_CAS) && watch_any_expired(c))
        c->flags |= CF_DIRTY_CAS;
    if (c->flags & (CF_DIRTY_EXEC | CF_DIRTY_CAS)) {
        if (c->flags & CF_DIRTY_EXEC)
            reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        else
            reply_null_array(c);
        multi_discard(c);
        return;
    }

    /* Unwatch first: the transaction's own writes need not mark anyone
     * (this client is the only watcher that cares, and it is done). */
    watch_unwatch_all(c);
    /* The state stays in the table while the commands run, so CLIENT
     * INFO inside the transaction shows it, as Redis does; nothing that
     * can be queued discards it. */
    struct mstate *m = state_find(c);
    size_t n = m ? m->count : 0;
    reply_array_len(c, (long)n);

    int argc = c->argc;
    struct slice *argv = c->argv;
    const struct command *exec = c->cmd;
    for (size_t i = 0; i < n; i++) {
        struct qcmd *q = m->cmds[i];
        c->argc = q->argc;
        c->argv = q->argv;
        /* The user's rules may have changed since the command was queued
         * (Redis 7.0 checks again). */
        int aclpos;
        int aclr = acl_check_and_log(c, q->cmd, q->argc, q->argv, ACLLOG_MULTI, &aclpos);
        if (aclr != ACL_OK) {
            char msg[512];
            acl_exec_denial_text(msg, sizeof(msg), aclr);
            reply_error(c, msg);
            continue;
        }
        command_call(c, q->cmd);
    }
    c->argc = argc;
    c->argv = argv;
    c->cmd = exec;

    multi_discard(c);
}

int multi_queued(const struct client *c, size_t i, const struct command **cmd, int *argc,
                 const struct slice **argv)
{
    const struct mstate *m = (c->flags & CF_MULTI) ? state_find(c) : NULL;
    if (m == NULL || i >= m->count)
        return 0;
    *cmd = m->cmds[i]->cmd;
    *argc = m->cmds[i]->argc;
    *argv = m->cmds[i]->argv;
    return 1;
}

void cmd_watch(struct client *c)
{
    if (c->flags & CF_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    /* Already dirty: EXEC will fail whatever we watch now. */
    if (!(c->flags & CF_DIRTY_CAS)) {
        for (int i = 1; i < c->argc; i++)
            watch_key(c, c->db, c->argv[i].p, c->argv[i].len);
    }
    reply_ok(c);
}

void cmd_unwatch(struct client *c)
{
    watch_unwatch_all(c);
    c->flags &= ~CF_DIRTY_CAS;
    reply_ok(c);
}
