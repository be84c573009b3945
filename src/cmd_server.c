/*
 * cmd_server.c — server commands over the whole keyspace or the process:
 * DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SHUTDOWN.
 */
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "reply.h"
#include "rdbobj.h"
#include "server.h"
#include "tracking.h"
#include "script.h"
#include "snapshot.h"

void cmd_dbsize(struct client *c)
{
    reply_long(c, (long long)db_size_counted(c->db, NULL));
}

/* FLUSHDB/FLUSHALL [ASYNC|SYNC]: returns -1 on a syntax error. */
static int flush_mode(struct client *c)
{
    if (c->argc == 1)
        return server.lazyfree_lazy_user_flush;
    if (c->argc == 2 && arg_is(&c->argv[1], "async"))
        return 1;
    if (c->argc == 2 && arg_is(&c->argv[1], "sync"))
        return 0;
    reply_err_syntax(c);
    return -1;
}

void cmd_flushdb(struct client *c)
{
    int async = flush_mode(c);
    if (async < 0)
        return;
    server.stat_dirty += (long long)db_size(c->db);
    tracking_invalidate_all();
    db_flush(c->db, async);
    reply_ok(c);
}

void cmd_flushall(struct client *c)
{
    int async = flush_mode(c);
    if (async < 0)
        return;
    tracking_invalidate_all();
    for (int i = 0; i < server.dbnum; i++) {
        server.stat_dirty += (long long)db_size(&server.dbs[i]);
        db_flush(&server.dbs[i], async);
    }
    /* Counted before the save, so that the save leaves no change
     * pending (rdb_changes_since_last_save is 0, as in Redis 7.0). */
    server.stat_dirty++;
    snapshot_after_flushall();
    reply_ok(c);
}

void cmd_swapdb(struct client *c)
{
    long long a, b;
    if (!rc_str2ll(c->argv[1].p, c->argv[1].len, &a)) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &b)) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    if (a < 0 || a >= server.dbnum || b < 0 || b >= server.dbnum) {
        reply_error(c, ERR_DB_INDEX);
        return;
    }
    if (a != b) {
        db_swap((int)a, (int)b);
        server.stat_dirty++;
    }
    reply_ok(c);
}

void cmd_time(struct client *c)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    reply_array_len(c, 2);
    reply_bulk_long(c, (long long)tv.tv_sec);
    reply_bulk_long(c, (long long)tv.tv_usec);
}

void cmd_shutdown(struct client *c)
{
    int nosave = 0, save = 0, force = 0, abort_ = 0;
    for (int i = 1; i < c->argc; i++) {
        if (arg_is(&c->argv[i], "nosave"))
            nosave = 1;
        else if (arg_is(&c->argv[i], "save"))
            save = 1;
        else if (arg_is(&c->argv[i], "force"))
            force = 1;
        else if (arg_is(&c->argv[i], "now"))
            continue;
        else if (arg_is(&c->argv[i], "abort"))
            abort_ = 1;
        else {
            reply_err_syntax(c);
            return;
        }
    }
    if ((abort_ && c->argc != 2) || (nosave && save)) {
        reply_err_syntax(c);
        return;
    }
    if (abort_) {
        /* Shutdown is immediate here, so there is never one to abort. */
        reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    /* During a busy script only SHUTDOWN NOSAVE goes through (the hook
     * then stops the script). */
    if (script_timed_out() && !nosave) {
        reply_error(c, script_busy_error());
        return;
    }
    /* While loading, Redis never saves on SHUTDOWN: the dataset is partial. */
    int flags = (save ? SNAPSHOT_SAVE : 0) | (nosave ? SNAPSHOT_NOSAVE : 0) |
                (force ? SNAPSHOT_FORCE : 0);
    if (snapshot_final_save(flags) != 0) {
        reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* Like Redis, a successful SHUTDOWN closes the connection without a
     * reply. */
    server.shutdown_asap = 1;
    server.shutdown_exit_code = 0;
    c->flags |= CF_REPLY_OFF;
}
