/*
 * ringcut.c — RING CUT: a node's share of a consistent backup of the
 * whole ring (utils/ringcache-ship --cluster).
 *
 *     RING CUT [PAUSE <ms>] [SNAPSHOT <file>]
 *     RING CUT STATUS
 *
 * The shipper sends RING CUT PAUSE <ms> SNAPSHOT <file> to every up member
 * and, once every one has answered, CLIENT UNPAUSE to each.  On a node the
 * verb does, within one turn of the loop (no other command runs between
 * the steps):
 *
 *   1. PAUSE: holds client writes for <ms> milliseconds, exactly as CLIENT
 *      PAUSE <ms> WRITE (writes forwarded by peers are held too: they run
 *      through the same check; replication from other primaries goes on,
 *      it only touches slots this node is not primary of).  The timeout is
 *      the safety net for a shipper that dies: the pause ends by itself.
 *   2. writes the log records pending (aof_cut), so the log position it
 *      reports ends a checksummed batch holding every write executed so
 *      far and none after, and what follows starts with its SELECT;
 *   3. SNAPSHOT: forks a child that writes <file> (in dir): an RDB of the
 *      keys of the slots this node serves as acting primary, in every
 *      database, and the functions.  The fork is the cut.
 *
 * Each node stays paused from its cut until the shipper has heard from
 * every node, so no write inside one node's cut can follow a write left
 * out of another's: together the cuts are one consistent cut of the ring.
 *
 * The reply is a map: epoch (of the cluster state), id (this node), slots
 * (the slots written, as ranges "0-5 7 9-12"), keys (in them),
 * fork_usec (0 without SNAPSHOT), aof (nil when the log is off, else
 * [base file or "", incremental file, its size at the cut]).
 *
 * Refused, with nothing paused: -TRYAGAIN while the node does not serve
 * every slot it is the acting primary of (no lease, a hand-over wait), or
 * is loading; -BUSY while a snapshot or rewrite child runs (SNAPSHOT
 * only); -ERR when the log cannot be written or the fork fails (the pause
 * is undone).
 *
 * RING CUT STATUS answers [state, file] of the last SNAPSHOT child: state
 * none, running, ok (the file is complete and synced) or err.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aof.h"
#include "cluster.h"
#include "conn.h"
#include "cstate.h"
#include "dict.h"
#include "reply.h"
#include "server.h"
#include "slot.h"
#include "snapshot.h"
#include "util.h"

#define CUT_FILE_MAX 200

static unsigned char cut_mask[RC_SLOTS];     /* the last cut's slots */
static char cut_file[CUT_FILE_MAX + 1];

/* A file name the child may write in dir: letters, digits, '.', '_' and
 * '-', not starting with '.', ending in ".rdb", not dbfilename. */
static int file_ok(const struct slice *a)
{
    if (a->len < 5 || a->len > CUT_FILE_MAX || a->p[0] == '.' || a->p[0] == '-')
        return 0;
    for (size_t i = 0; i < a->len; i++) {
        char ch = a->p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    if (memcmp(a->p + a->len - 4, ".rdb", 4) != 0 || strncmp(a->p, "temp-", 5) == 0)
        return 0;
    const char *dbf = server.dbfilename && server.dbfilename[0] ? server.dbfilename : "dump.rdb";
    return !(strlen(dbf) == a->len && memcmp(dbf, a->p, a->len) == 0);
}

/* Fills cut_mask with the slots this node is acting primary of; returns
 * 0, or -1 when one of them is not served now. */
static int mark_slots(void)
{
    for (unsigned s = 0; s < RC_SLOTS; s++) {
        cut_mask[s] = (unsigned char)cluster_slot_is_mine(s);
        if (!cut_mask[s])
            continue;
        int member;
        const char *err;
        if (cluster_slot_serve(s, &member, &err) != CLUSTER_LOCAL)
            return -1;
    }
    return 0;
}

/* The slots of cut_mask as one string of ranges, "0-5 7 9-12" (CLUSTER
 * NODES' syntax): a short reply, quick to read while writes wait. */
static void reply_slots(struct client *c)
{
    size_t cap = 4096, len = 0;
    char *buf = rc_malloc(cap);
    for (unsigned s = 0; s < RC_SLOTS;) {
        if (!cut_mask[s]) {
            s++;
            continue;
        }
        unsigned e = s;
        while (e + 1 < RC_SLOTS && cut_mask[e + 1])
            e++;
        if (cap - len < 32) {
            cap *= 2;
            buf = rc_realloc(buf, cap);
        }
        if (s == e)
            len += (size_t)snprintf(buf + len, cap - len, "%s%u", len ? " " : "", s);
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%u-%u", len ? " " : "", s, e);
        s = e + 1;
    }
    reply_bulk(c, buf, len);
    rc_free(buf);
}

static long long keys_in_mask(void)
{
    long long n = 0;
    for (int i = 0; i < server.dbnum; i++) {
        const struct db *db = &server.dbs[i];
        if (db->keys == 0)
            continue;
        for (unsigned s = 0; s < RC_SLOTS; s++)
            if (cut_mask[s] && db->slots[s])
                n += (long long)dict_size(db->slots[s]);
    }
    return n;
}

static void cut_status(struct client *c)
{
    static const char *const names[] = {"none", "running", "ok", "err"};
    int st = snapshot_cut_state();
    reply_array_len(c, 2);
    reply_bulk_cstr(c, names[st >= 0 && st <= SNAPSHOT_CUT_ERR ? st : SNAPSHOT_CUT_ERR]);
    reply_bulk_cstr(c, cut_file);
}

void cmd_ring_cut(struct client *c)
{
    if (!cluster_enabled()) {
        reply_error(c, "ERR This instance has cluster support disabled");
        return;
    }
    if (c->argc == 3 && arg_is(&c->argv[2], "status")) {
        cut_status(c);
        return;
    }
    long long pause_ms = -1;
    const struct slice *file = NULL;
    for (int i = 2; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) {
            reply_err_syntax(c);
            return;
        }
        if (arg_is(&c->argv[i], "pause") && pause_ms < 0) {
            if (!rc_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &pause_ms) || pause_ms <= 0) {
                reply_error(c, "ERR PAUSE wants a positive number of milliseconds");
                return;
            }
        } else if (arg_is(&c->argv[i], "snapshot") && file == NULL) {
            file = &c->argv[i + 1];
            if (!file_ok(file)) {
                reply_error(c, "ERR SNAPSHOT wants a plain file name ending in .rdb (letters, "
                            "digits, '.', '_', '-'; not dbfilename)");
                return;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (cluster_ring() == NULL) {
        reply_error(c, "ERR this node is not in a ring yet");
        return;
    }
    if (mark_slots() != 0) {
        reply_error(c, "TRYAGAIN this node does not serve every slot it is primary of now "
                    "(no lease or a hand-over under way)");
        return;
    }
    if (file && snapshot_child_busy()) {
        reply_error(c, "BUSY a snapshot or log rewrite child is running: retry when it ends");
        return;
    }

    long long old_end = server.pause_end_ms;
    int old_all = server.pause_all;
    if (pause_ms > 0)
        conn_pause(pause_ms, 0);
    char base[256], incr[256];
    unsigned long long size = 0;
    int log_rc = aof_cut(base, sizeof(base), incr, sizeof(incr), &size);
    long long fork_usec = 0;
    const char *err = NULL;
    if (log_rc < 0) {
        err = "ERR the append-only log cannot be written now: no cut";
    } else if (file) {
        snprintf(cut_file, sizeof(cut_file), "%.*s", (int)file->len, file->p);
        if (snapshot_start_cut(cut_file, cut_mask, &fork_usec) != 0)
            err = errno == EBUSY ? "BUSY a snapshot or log rewrite child is running"
                                 : "ERR fork failed: no cut (see the log)";
    }
    if (err) {
        server.pause_end_ms = old_end;
        server.pause_all = old_all;
        if (!old_end)
            conn_unpause_all();
        reply_error(c, err);
        return;
    }

    reply_map_len(c, 6);
    reply_bulk_cstr(c, "epoch");
    reply_long(c, (long long)cluster_state()->epoch);
    reply_bulk_cstr(c, "id");
    reply_bulk_cstr(c, cluster_myid());
    reply_bulk_cstr(c, "slots");
    reply_slots(c);
    reply_bulk_cstr(c, "keys");
    reply_long(c, keys_in_mask());
    reply_bulk_cstr(c, "fork_usec");
    reply_long(c, fork_usec);
    reply_bulk_cstr(c, "aof");
    if (log_rc != 0) {
        reply_null(c);
    } else {
        reply_array_len(c, 3);
        reply_bulk_cstr(c, base);
        reply_bulk_cstr(c, incr);
        reply_long(c, (long long)size);
    }
}
