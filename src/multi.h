/*
 * multi.h — MULTI/EXEC transactions: queueing commands for a client in
 * MULTI, running them from EXEC, and the client-state hooks the dispatcher
 * and the connection layer call.
 *
 * A client is in a transaction while CF_MULTI is set; CF_DIRTY_EXEC marks
 * a transaction in which a command was rejected while queueing (EXEC then
 * answers EXECABORT), CF_DIRTY_CAS one whose WATCHed keys changed (EXEC then
 * answers a null array).  CF_MULTI stays set while EXEC runs the queued
 * commands, so blocking commands can tell they must not block.
 */
#ifndef RC_MULTI_H
#define RC_MULTI_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct command;

/*
 * Queue the command in c->argv for c, which is in MULTI, and reply
 * +QUEUED.  The arguments are copied: the query buffer they point into is
 * reused as soon as the dispatcher returns.
 */
void multi_queue(struct client *c, struct command *cmd);

/* A command c sent was rejected: if c is in MULTI, its EXEC must fail with
 * EXECABORT (Redis's flagTransaction()). */
void multi_flag_error(struct client *c);

/* EXEC itself was refused by the dispatcher with the error err (arity,
 * authentication, memory, ...): discard the transaction and reply
 * "EXECABORT Transaction discarded because of: <err>", without err's
 * "ERR " prefix, as Redis 7.0 does (in MULTI or not). */
void multi_exec_abort(struct client *c, const char *err);

/* Forget c's transaction (if any) and its WATCHed keys, and clear
 * CF_MULTI, CF_DIRTY_CAS and CF_DIRTY_EXEC: DISCARD, RESET, disconnect. */
void multi_discard(struct client *c);

/* Number of queued commands, or -1 when c is not in MULTI (CLIENT LIST's
 * "multi" field). */
long multi_count(const struct client *c);

/* Bytes held by c's queued commands (CLIENT LIST's "multi-mem"). */
size_t multi_mem(const struct client *c);

/* The CMD_* flags of the queued commands, or-ed together; 0 when c is not
 * in MULTI.  EXEC counts as a write (for CLIENT PAUSE WRITE) or as
 * deny-oom when one of its commands is. */
uint32_t multi_cmd_flags(const struct client *c);

/* Nonzero if cmd, sent by c, must be refused when memory is over
 * maxmemory: deny-oom commands, every command queued inside MULTI (the
 * queue itself grows), and EXEC of a transaction holding a deny-oom
 * command. */
int multi_denies_oom(const struct client *c, const struct command *cmd);

/* Nonzero if cmd is one that c runs at once even inside MULTI (EXEC,
 * DISCARD, MULTI, WATCH, QUIT, RESET); zero if it must be queued. */
int multi_runs_now(const struct command *cmd);

/* The i-th queued command of c's transaction: 1, or 0 past the end (or
 * when c is not in MULTI).  Ring mode ships a transaction to its slot's
 * node this way. */
struct slice;
int multi_queued(const struct client *c, size_t i, const struct command **cmd, int *argc,
                 const struct slice **argv);

#endif
