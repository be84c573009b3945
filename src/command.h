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
    CMD_NO_ASYNC_LOADING = 1u << 18,    /* shown by COMMAND INFO only */
};

struct cmd_stats {
    long long calls;
    long long usec;
    long long rejected;
    long long failed;
};

struct key_spec;
struct latency_hist;

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
    const char *keyspecs;       /* key specs, grammar at the top of commands.def */
    const char *parent;         /* container name for subcommands, else NULL */

    /* Filled in at start-up. */
    uint32_t flags;
    struct key_spec *specs;     /* keyspecs parsed once (routing runs them per request) */
    int nspecs;                 /* -1: the row's keyspecs are malformed */
    int has_keys;               /* a spec that is not KS_NOT_KEY */
    int key_pos;                /* >0: exactly one key, always at argv[key_pos] */
    struct command **subs;
    int nsubs;
    struct command *container;
    struct cmd_stats stats;
    struct latency_hist *latency;   /* latency-tracking histogram, NULL until called */
};

enum { CMD_DONE = 0, CMD_HOLD = 1 };

/*
 * Key specifications (Redis 7.0 key_specs), parsed from a row's keyspecs
 * string by command_key_specs() in cmd_command.c.  The flag bits are in the
 * order COMMAND INFO prints them.
 */
enum key_spec_flag {
    KS_RO = 1u << 0,
    KS_RW = 1u << 1,
    KS_OW = 1u << 2,
    KS_RM = 1u << 3,
    KS_ACCESS = 1u << 4,
    KS_UPDATE = 1u << 5,
    KS_INSERT = 1u << 6,
    KS_DELETE = 1u << 7,
    KS_NOT_KEY = 1u << 8,
    KS_INCOMPLETE = 1u << 9,
    KS_VARIABLE_FLAGS = 1u << 10,
};

enum key_spec_begin { KSB_INDEX = 1, KSB_KEYWORD, KSB_UNKNOWN };
enum key_spec_find { KSF_RANGE = 1, KSF_KEYNUM, KSF_UNKNOWN };

#define CMD_MAX_KEY_SPECS 8

struct key_spec {
    uint32_t flags;             /* KS_* */
    int begin;                  /* KSB_* */
    int index;                  /* KSB_INDEX: argv position */
    const char *keyword;        /* KSB_KEYWORD: points into the table row */
    size_t keyword_len;
    int startfrom;              /* KSB_KEYWORD */
    int find;                   /* KSF_* */
    int lastkey, keystep, limit;            /* KSF_RANGE */
    int keynumidx, firstkey, keynumstep;    /* KSF_KEYNUM */
    const char *notes;          /* NULL or text inside the table row */
    size_t notes_len;
};

/* One key found in a command invocation: its argv position and flags. */
struct key_ref {
    int pos;
    uint32_t flags;             /* KS_* */
};

/* Parse cmd's key specs into out[0..max).  Returns the number of specs, or
 * -1 if the row's keyspecs string is malformed or has more than max. */
int command_key_specs(const struct command *cmd, struct key_spec *out, int max);

/* The keys of the invocation argv[0..argc) of cmd (argv[0] is the command
 * name, argv[1] the subcommand name for a subcommand), found as Redis 7.0's
 * getKeysFromCommandWithSpecs() finds them, with their flags.  Writes at
 * most max entries to out and returns how many keys there are (which may be
 * more than max: call again with a bigger array); 0 if none; -1 if the
 * arguments do not fit the specs (Redis's "Invalid arguments").  argc must
 * already pass cmd's arity. */
int command_find_keys(const struct command *cmd, int argc, const struct slice *argv,
                      struct key_ref *out, int max);

/* Nonzero if cmd has key arguments (Redis's doesCommandHaveKeys()). */
int command_has_keys(const struct command *cmd);

void command_table_init(void);
void command_table_deinit(void);

/* Run the command in c->argv.  CMD_HOLD means the client is paused and the
 * command must be retried later; otherwise it was executed or rejected. */
int command_process(struct client *c);

/* Run cmd for c with the arguments in c->argv, after every check has
 * passed, and do the bookkeeping (commandstats, slow log, MONITOR).  The
 * one path by which commands run: command_process() calls it, and so does
 * EXEC for each queued command (with c->argv pointing at the copy). */
void command_call(struct client *c, struct command *cmd);

/* Lookup by name, case-insensitive: a top-level command or "parent|sub". */
struct command *command_lookup(const char *name, size_t len);
/* Resolve argv to a command, following containers; NULL if unknown. */
struct command *command_lookup_argv(int argc, const struct slice *argv);

/* Every row (commands and subcommands) has a dense index 0..n-1, for
 * per-command bitmaps (ACL). */
int command_index(const struct command *cmd);
int command_table_size(void);
struct command *command_by_index(int i);

/* Iterate the top-level commands in table order. */
struct command *command_at(int i);
int command_count(void);

/* Count command statistics helpers for reply.c. */
void stats_command_failed(const struct command *cmd);

/* Keys of a command invocation: fills idx[] with argv positions, returns
 * count; -1 if the command has no key arguments in this form. */
int command_get_keys(const struct command *cmd, int argc, const struct slice *argv,
                     int *idx, int max);

/* Handler prototypes, generated from the table. */
#define CMD(n, h, ...) cmd_handler h;
#define SUB(p, n, h, ...) cmd_handler h;
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

#endif
