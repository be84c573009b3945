/*
 * propagate.h — the single propagation point.
 *
 * Every executed write produces deterministic command records, which feed
 * the append-only log (and, later, replication).  command_call() brackets
 * each command with propagate_frame_begin()/propagate_frame_end(): when the
 * command changed the dataset (server.stat_dirty grew), its record is its
 * own argv, unless the handler replaced it (propagate_replace) or
 * suppressed it (propagate_prevent).  Handlers and the keyspace add
 * further records (expired keys, concrete pops) with propagate_add.
 *
 * Records made by one top-level command are emitted together when it
 * returns; more than one record, or any record made by EXEC, is wrapped
 * in MULTI ... EXEC.  Records made outside any command (active expiry,
 * eviction, serving blocked clients) are emitted at once.  Emission
 * serialises the records as RESP, inserting SELECT whenever the database
 * changes, and hands the bytes to the log (aof_feed).
 */
#ifndef RC_PROPAGATE_H
#define RC_PROPAGATE_H

#include <stddef.h>

struct client;
struct command;
struct slice;
struct db;

/* Bracket one command_call(); frames nest (EXEC runs its commands inside
 * its own frame).  dirty_before is server.stat_dirty before the handler
 * ran. */
void propagate_frame_begin(struct client *c);
void propagate_frame_end(struct client *c, const struct command *cmd, long long dirty_before);

/* For the running command: log these arguments instead of its argv.
 * Copies the bytes; may be called again (the last call wins). */
void propagate_replace(struct client *c, int argc, const struct slice *argv);

/* Same, with NUL-terminated strings. */
void propagate_replace_str(struct client *c, int argc, const char *const *argv);

/* Common replacements: PEXPIREAT key when; DEL (UNLINK when lazy) key;
 * SET key val PXAT when. */
void propagate_replace_pexpireat(struct client *c, const struct slice *key, long long when);
void propagate_replace_del(struct client *c, const struct slice *key, int lazy);
void propagate_replace_set_pxat(struct client *c, const struct slice *key,
                                const struct slice *val, long long when);

/* The concrete effect of a pop on db dbid (blocking or not): replaces the
 * running command's record when c is running one, else (a blocked client
 * being served) is logged at once. */
void propagate_effect(struct client *c, int dbid, int argc, const struct slice *argv);

/* For the running command: log nothing of its own (it logged its effect
 * with propagate_add). */
void propagate_prevent(struct client *c);

/* Add a record for database dbid (copies the bytes).  Inside a command it
 * joins that command's records, in order, before the command's own
 * record; outside any command it is emitted at once. */
void propagate_add(int dbid, int argc, const struct slice *argv);

/* Record the deletion of key by the server itself (expiry, eviction):
 * UNLINK when lazy, else DEL. */
void propagate_deletion(int dbid, const char *key, size_t len, int lazy);

/* While suspended (loading the log), nothing is recorded. */
/* A line for the append-only log only (an annotation: "#...\r\n"),
 * written after the records of the running top-level command, in the
 * same batch of the log. */
void propagate_aof_note(const char *line, size_t n);
void propagate_suspend(int on);
int propagate_suspended(void);

/* Forget the selected database: the next record starts with SELECT
 * (called when a new log file is opened). */
void propagate_reset_selected_db(void);

/* Free the pending records (shutdown). */
void propagate_free_all(void);

#endif
