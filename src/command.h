/*
 * command.h — the command table and dispatch.
 *
 * The table (commands.def) is declarative: name, handler, arity, flags, key
 * positions and ACL categories for every command and subcommand.  Dispatch,
 * arity and auth checks, COMMAND's replies and (later) request routing all
 * read the same rows.
 */
#ifndef RC_COMMAND_H
#define RC_COMMAND_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct slice;

typedef void cmd_handler(struct client *c);

enum cmd_flag {
    CMD_WRITE = 1u << 0,
    CMD_READONLY = 1u << 1,
    CMD_DENYOOM = 1u << 2,
    CMD_ADMIN = 1u << 3,
    CMD_PUBSUB = 1u << 4,
    CMD_NOSCRIPT = 1u << 5,
    CMD_BLOCKING = 1u << 6,
    CMD_LOADING = 1u << 7,
    CMD_STALE = 1u << 8,
    CMD_SKIP_MONITOR = 1u << 9,
    CMD_SKIP_SLOWLOG = 1u << 10,
    CMD_FAST = 1u << 11,
    CMD_NO_AUTH = 1u << 12,
    CMD_MAY_REPLICATE = 1u << 13,
    CMD_NO_MANDATORY_KEYS = 1u << 14,
    CMD_ALLOW_BUSY = 1u << 15,
    CMD_NO_MULTI = 1u << 16,
    CMD_MOVABLE_KEYS = 1u << 17,
};

struct cmd_stats {
    long long calls;
    long long usec;
    long long rejected;
    long long failed;
};

struct command {
    const char *name;           /* lower case; subcommand name for subcommands */
    const char *fullname;       /* "get", "client|id" */
    cmd_handler *proc;          /* NULL for a container (CLIENT, CONFIG, ...) */
    int arity;                  /* >0 exact argc, <0 at least -arity */
    const char *flagstr;        /* Redis's flag names, space separated */
    int firstkey, lastkey, keystep;
    const char *acl;            /* ACL categories as COMMAND prints them */
    const char *group;          /* COMMAND DOCS group */
    const char *since;          /* Redis version that introduced it */
    const char *summary;
    const char *complexity;
    const char *tips;           /* request/response policy hints, space separated */
    const char *keyspecs;       /* see command.c: key_spec grammar */
    const char *parent;         /* container name for subcommands, else NULL */

    /* Filled in at start-up. */
    uint32_t flags;
    struct command **subs;
    int nsubs;
    struct command *container;
    struct cmd_stats stats;
};

enum { CMD_DONE = 0, CMD_HOLD = 1 };

void command_table_init(void);
void command_table_deinit(void);

/* Run the command in c->argv.  CMD_HOLD means the client is paused and the
 * command must be retried later; otherwise it was executed or rejected. */
int command_process(struct client *c);

/* Lookup by name, case-insensitive: a top-level command or "parent|sub". */
struct command *command_lookup(const char *name, size_t len);
/* Resolve argv to a command, following containers; NULL if unknown. */
struct command *command_lookup_argv(int argc, const struct slice *argv);

/* Iterate the top-level commands in table order. */
struct command *command_at(int i);
int command_count(void);

/* Count command statistics helpers for reply.c. */
void stats_command_failed(const struct command *cmd);

/* Names of the flags of cmd, for COMMAND INFO. */
int command_flag_names(const struct command *cmd, const char **out, int max);

/* Keys of a command invocation: fills idx[] with argv positions, returns
 * count; -1 if the command has no key arguments in this form. */
int command_get_keys(const struct command *cmd, int argc, const struct slice *argv,
                     int *idx, int max);

/* Handler prototypes, generated from the table. */
#define CMD(n, h, ...) cmd_handler h;
#define SUB(p, n, h, ...) cmd_handler h;
#include "commands.def"
#undef CMD
#undef SUB

#endif
