/*
 * script.h — the Lua scripting engine shared by EVAL (eval.c) and
 * functions (function.c): the sandboxed Lua state, the redis.* API, running
 * a script atomically with its effects propagated, and the busy-script
 * machinery (busy-reply-threshold, SCRIPT KILL, FUNCTION KILL).
 */
#ifndef RC_SCRIPT_H
#define RC_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

struct client;
struct slice;

/* Script flags (shebang "flags=" and register_function's flags). */
enum script_flag {
    SF_NO_WRITES = 1u << 0,
    SF_ALLOW_OOM = 1u << 1,
    SF_ALLOW_STALE = 1u << 2,
    SF_NO_CLUSTER = 1u << 3,
    SF_ALLOW_CROSS_SLOT = 1u << 4,
    SF_EVAL_COMPAT = 1u << 5,       /* EVAL script without a shebang */
};

/* A new sandboxed Lua state with Redis's libraries and the redis table.
 * Close with lua_close. */
lua_State *script_state_create(void);

/* Free the fake client scripts run their commands on (shutdown). */
void script_deinit(void);

/* Parse a comma-separated flag list (shebang or register_function).
 * Returns 0, or -1 with *bad set to the offending flag (rc_malloc'd). */
int script_parse_flag(const char *p, size_t len, uint32_t *flags);

/* Run the function on top of L's stack (popped) for client c: name is
 * what errors call it ("f_<sha>" or the function's name), keys and args
 * its KEYS and ARGV (or, for functions, its two arguments), eval nonzero
 * for EVAL (errors say SCRIPT KILL), ro nonzero for *_RO.  Checks the
 * flags against the server's state first, replies to c with the result
 * or the error, and propagates the script's effects. */
void script_run(struct client *c, lua_State *L, const char *name, uint32_t flags, int eval,
                int ro, int nkeys, const struct slice *keys, int nargs,
                const struct slice *args);

/* Show the EVAL/FCALL command c runs to MONITOR clients (first thing in
 * their handlers). */
void script_monitor(struct client *c);

/* numkeys of an EVAL- or FCALL-shaped command (argv[2]), checked against
 * argc (not_int: the error when it is not a number).  Returns 0, or -1
 * after replying the error.  In eval.c. */
int script_parse_numkeys(struct client *c, const char *not_int, long long *numkeys);

/* A script is running and has passed busy-reply-threshold: other
 * clients get script_busy_error(). */
int script_timed_out(void);
const char *script_busy_error(void);
/* Is c the client whose script runs? */
int script_is_caller(const struct client *c);
/* The client whose script runs, or NULL. */
struct client *script_caller(void);
/* Is c the client a running script's redis.call() commands run on? */
int script_is_script_client(const struct client *c);

/* FUNCTION STATS's running_script: null, or the running script's name,
 * command and duration. */
void script_reply_running(struct client *c);

/* SCRIPT KILL (eval != 0) / FUNCTION KILL: replies to c. */
void script_kill(struct client *c, int eval);

/* Raise a Lua error the way Redis's scripting API does: a table
 * {err="ERR msg"} ("-CODE msg" keeps its code). */
int script_raise(lua_State *L, const char *msg);
void script_push_error(lua_State *L, const char *msg);

/* Used memory of the Lua states, for INFO. */
size_t script_lua_memory(lua_State *L);

#endif
