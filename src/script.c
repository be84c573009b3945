/*
 * script.c — the Lua scripting engine (see script.h).
 *
 * Sandbox.  Stock Lua 5.1 has no read-only tables (Redis patches its Lua
 * for them), so the protection is built from proxies: _G and every library
 * table (redis, string, table, math, cjson, bit, struct, cmsgpack,
 * coroutine) are seen through an empty proxy table whose metatable reads
 * from the real table and refuses every write with Redis's "Attempt to
 * modify a readonly table".  Reading a global that does not exist raises
 * "Script attempted to access nonexistent global variable".  rawset,
 * setmetatable, rawget, next and pairs see through (or refuse) proxies, so
 * they behave as on Redis's read-only tables.  loadfile, dofile, print,
 * getfenv, setfenv, newproxy, os, io, package/require and debug are absent,
 * as in Redis 7.0; loadstring refuses precompiled (binary) chunks.
 *
 * Running.  A script runs inside its caller's command (EVAL, FCALL): the
 * commands it calls go through command_call() on one fake client, so the
 * single propagation point collects their records as the frames nest, and
 * the caller's own record is suppressed: the log and the replicas get the
 * effects, wrapped in MULTI/EXEC when there are several (Redis 7.0 always
 * replicates effects; set_repl only narrows where they go).
 *
 * Busy scripts.  A count hook runs every 100000 Lua instructions.  Past
 * busy-reply-threshold milliseconds it serves the other clients from
 * inside the hook (conn_serve_busy): they get -BUSY except for the
 * commands flagged allow_busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN
 * NOSAVE, ...).  The caller's own connection is not read meanwhile.  A
 * kill (or shutdown) raises an error at the next hook call, which then
 * fires on every line so that pcall cannot swallow it for long.
 */
#include "script.h"
#include "acl.h"
#include "acllog.h"

#include <lauxlib.h>
#include <lualib.h>
#include <lua-bitop.h>
#include <lua-cjson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "evict.h"
#include "luaconv.h"
#include "monitor.h"
#include "lualibs.h"
#include "propagate.h"
#include "reply.h"
#include "server.h"
#include "sha1.h"
#include "snapshot.h"

#define HOOK_INSTRUCTIONS 100000
#define REPLY_MAX_DEPTH 1000
#define GC_PERIOD 50

/* redis.set_repl() flags. */
enum { REPL_NONE = 0, REPL_AOF = 1, REPL_REPLICA = 2, REPL_ALL = 3 };

struct run {
    struct client *c;
    lua_State *L;
    const char *name;
    uint32_t flags;
    int eval;
    int ro;
    int wrote;              /* a write command was called: SCRIPT KILL refused */
    int killed;
    int timed_out;
    int pre_oom;            /* over maxmemory when the script started */
    int resp;               /* redis.setresp() */
    int slot;               /* ring: the slot of the keys touched so far, -1 */
    long long start_ms;
};

static struct run *cur;
static struct client *fake;

void script_deinit(void)
{
    conn_fake_destroy(&fake);
}

int script_timed_out(void)
{
    return cur && cur->timed_out;
}

int script_is_caller(const struct client *c)
{
    return cur && cur->c == c;
}

struct client *script_caller(void)
{
    return cur ? cur->c : NULL;
}

int script_is_script_client(const struct client *c)
{
    return cur && c == fake;
}

const char *script_busy_error(void)
{
    if (cur && !cur->eval)
        return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
               "SHUTDOWN NOSAVE.";
    return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
           "SHUTDOWN NOSAVE.";
}

/* ---- errors ---- */

void script_push_error(lua_State *L, const char *msg)
{
    const char *code = "ERR";
    size_t codelen = 3;
    const char *text = msg;
    if (msg[0] == '-') {
        const char *sp = strchr(msg, ' ');
        if (sp) {
            code = msg + 1;
            codelen = (size_t)(sp - msg - 1);
            text = sp + 1;
        } else {
            text = msg + 1;
        }
    }
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == '\n'))
        n--;
    lua_newtable(L);
    lua_pushstring(L, "err");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, codelen);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, text, n);
    luaL_pushresult(&b);
    lua_settable(L, -3);
}

int script_raise(lua_State *L, const char *msg)
{
    script_push_error(L, msg);
    return lua_error(L);
}

/* ---- flags ---- */

static const struct {
    const char *name;
    uint32_t flag;
} flag_names[] = {
    {"no-writes", SF_NO_WRITES},
    {"allow-oom", SF_ALLOW_OOM},
    {"allow-stale", SF_ALLOW_STALE},
    {"no-cluster", SF_NO_CLUSTER},
    {"allow-cross-slot-keys", SF_ALLOW_CROSS_SLOT},
};

int script_parse_flag(const char *p, size_t len, uint32_t *flags)
{
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (strlen(flag_names[i].name) == len && memcmp(flag_names[i].name, p, len) == 0) {
            *flags |= flag_names[i].flag;
            return 0;
        }
    }
    return -1;
}

/* ---- redis.call and redis.pcall ---- */

/* The command's keys must be served here, and (unless the script allows
 * it) all in one slot: Redis Cluster's rules for scripts. */
static const char *check_cluster(struct command *cmd, int argc, const struct slice *argv)
{
    if (!server.cluster_enabled || (cur->c->flags & CF_FAKE) || !command_has_keys(cmd))
        return NULL;
    struct key_ref refs[64];
    int n = command_find_keys(cmd, argc, argv, refs, 64);
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        unsigned slot = rc_key_slot(argv[refs[i].pos].p, argv[refs[i].pos].len);
        int member;
        const char *err;
        int where = cluster_slot_route(slot, &member, &err);
        if (where == CLUSTER_DOWN)
            return "Script attempted to execute a command while the cluster is down";
        if (where != CLUSTER_LOCAL)
            return "Script attempted to access a non local key in a cluster node script";
        if (!(cur->flags & SF_ALLOW_CROSS_SLOT)) {
            if (cur->slot == -1)
                cur->slot = (int)slot;
            else if (cur->slot != (int)slot)
                return "Script attempted to access keys that do not hash to the same slot";
        }
    }
    return NULL;
}

/* Why cmd may not run from this script, or NULL. */
static const char *check_call(struct command *cmd, int argc, const struct slice *argv)
{
    if (cmd->flags & CMD_NOSCRIPT)
        return "This Redis command is not allowed from script";
    /* The caller's user, as Redis 7.0's scriptVerifyACL(). */
    int aclpos;
    switch (acl_check_and_log(cur->c, cmd, argc, argv, ACLLOG_LUA, &aclpos)) {
    case ACL_OK:
        break;
    case ACL_DENIED_CMD:
        return "The user executing the script can't run this command or subcommand";
    case ACL_DENIED_KEY:
        return "The user executing the script can't access at least one of the keys mentioned "
               "in the command arguments";
    default:
        return "The user executing the script can't publish to the channel mentioned in the "
               "command";
    }
    if (cmd->flags & CMD_WRITE) {
        if (cur->ro || (cur->flags & SF_NO_WRITES))
            return "Write commands are not allowed from read-only scripts.";
        const char *deny = snapshot_write_denied();
        if (deny == NULL && server.appendonly)
            deny = aof_write_denied();
        if (deny) {
            /* "-CODE text": the error keeps its own code. */
            static char buf[512];
            snprintf(buf, sizeof(buf), "-%s", deny);
            return buf;
        }
    }
    if (cur->pre_oom && !cur->wrote && !(cur->flags & SF_ALLOW_OOM) &&
        (cmd->flags & CMD_DENYOOM))
        return "-OOM command not allowed when used memory > 'maxmemory'.";
    return check_cluster(cmd, argc, argv);
}

static int redis_generic_call(lua_State *L, int raise)
{
    int argc = lua_gettop(L);
    if (cur == NULL)
        return script_raise(L, "redis.call/pcall can only be called inside a script invocation");
    if (argc == 0) {
        script_push_error(L, "Please specify at least one argument for this redis lib call");
        return raise ? lua_error(L) : 1;
    }
    struct slice small[16], *argv = argc <= 16 ? small : rc_malloc(sizeof(*argv) * (size_t)argc);
    char smallnums[16][32];
    char (*nums)[32] = argc <= 16 ? smallnums : rc_malloc(32 * (size_t)argc);
    const char *err = NULL;
    for (int i = 0; i < argc && !err; i++) {
        int t = lua_type(L, i + 1);
        if (t == LUA_TNUMBER) {
            /* Redis 7.0 formats numbers with %.17g, which for integers
             * below 1e17 (not -0) is their decimal digits: faster so. */
            double d = (double)lua_tonumber(L, i + 1);
            size_t k;
            if (d > -1e17 && d < 1e17 && d == (double)(long long)d && (d != 0 || !signbit(d)))
                k = rc_ll2str(nums[i], 32, (long long)d);
            else
                k = (size_t)snprintf(nums[i], 32, "%.17g", d);
            argv[i] = (struct slice){nums[i], k};
        } else if (t == LUA_TSTRING) {
            argv[i].p = lua_tolstring(L, i + 1, &argv[i].len);
        } else {
            err = "Lua redis lib command arguments must be strings or integers";
        }
    }
    struct command *cmd = NULL;
    if (!err) {
        cmd = command_lookup_argv(argc, argv);
        if (cmd == NULL || cmd->proc == cmd_unknown_subcommand)
            err = "Unknown Redis command called from script";
        else if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity))
            err = "Wrong number of args calling Redis command from script";
        else
            err = check_call(cmd, argc, argv);
    }
    if (err) {
        script_push_error(L, err);
        goto done;
    }
    if (cmd->flags & CMD_WRITE)
        cur->wrote = 1;
    fake->resp = cur->resp;
    fake->argc = argc;
    fake->argv = argv;
    command_call(fake, cmd);
    fake->argc = 0;
    fake->argv = NULL;
    size_t len;
    char *owned;
    const char *bytes = conn_reply_view(fake, &len, &owned);
    if (luaconv_push_reply(L, bytes, len, REPLY_MAX_DEPTH) == 0)
        script_push_error(L, "Reply from the command could not be read by the script");
    rc_free(owned);
    conn_reply_clear(fake);
    if (lua_istable(L, -1)) {
        lua_pushstring(L, "err");
        lua_rawget(L, -2);
        int is_err = lua_type(L, -1) == LUA_TSTRING;
        lua_pop(L, 1);
        if (!is_err)
            raise = 0;
    } else {
        raise = 0;
    }
done:
    if (argv != small)
        rc_free(argv);
    if (nums != smallnums)
        rc_free(nums);
    if (err == NULL && !raise)
        return 1;
    return raise ? lua_error(L) : 1;
}

static int l_call(lua_State *L)
{
    return redis_generic_call(L, 1);
}

static int l_pcall(lua_State *L)
{
    return redis_generic_call(L, 0);
}

/* ---- the rest of the redis table ---- */

static int l_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return script_raise(L, "wrong number of arguments");
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    char hex[41];
    rc_sha1hex(hex, s ? s : "", s ? n : 0);
    lua_pushstring(L, hex);
    return 1;
}

static int l_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        script_push_error(L, "wrong number or type of arguments");
        return 1;
    }
    const char *e = lua_tostring(L, 1);
    if (e[0] == '-') {
        script_push_error(L, e);
    } else {
        lua_pushfstring(L, "-%s", e);
        script_push_error(L, lua_tostring(L, -1));
    }
    return 1;
}

static int l_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        script_push_error(L, "wrong number or type of arguments");
        return 1;
    }
    lua_newtable(L);
    lua_pushstring(L, "ok");
    lua_pushvalue(L, 1);
    lua_settable(L, -3);
    return 1;
}

static int l_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2)
        return script_raise(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1))
        return script_raise(L, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < LOG_DEBUG || level > LOG_WARNING)
        return script_raise(L, "Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        if (s) {
            if (i > 2)
                luaL_addchar(&b, ' ');
            luaL_addlstring(&b, s, n);
        }
    }
    luaL_pushresult(&b);
    log_msg(level, "%s", lua_tostring(L, -1));
    return 0;
}

static int l_setresp(lua_State *L)
{
    if (cur == NULL)
        return script_raise(L, "redis.setresp can only be called inside a script invocation");
    if (lua_gettop(L) != 1)
        return script_raise(L, "redis.setresp() requires one argument.");
    int resp = (int)lua_tonumber(L, 1);
    if (resp != 2 && resp != 3)
        return script_raise(L, "RESP version must be 2 or 3.");
    cur->resp = resp;
    return 0;
}

static int l_set_repl(lua_State *L)
{
    if (cur == NULL)
        return script_raise(L, "redis.set_repl can only be called inside a script invocation");
    if (lua_gettop(L) != 1)
        return script_raise(L, "redis.set_repl() requires two arguments.");
    int flags = (int)lua_tonumber(L, 1);
    if ((flags & ~REPL_ALL) != 0)
        return script_raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL "
                               "or REPL_NONE.");
    /* The log and the ring's copies are one stream here: a script's effects
     * always go to both (documented difference). */
    return 0;
}

static int l_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static int l_breakpoint(lua_State *L)
{
    lua_pushboolean(L, 0);  /* no debugger session: Redis answers false */
    return 1;
}

static int l_debug(lua_State *L)
{
    return 0;               /* ignored outside a debugging session, as in Redis */
}

static int l_acl_check_cmd(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc == 0)
        return script_raise(L, "Please specify at least one argument for this redis lib call");
    struct slice small[16], *argv = argc <= 16 ? small : rc_malloc(sizeof(*argv) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        argv[i].p = lua_tolstring(L, i + 1, &argv[i].len);
        if (argv[i].p == NULL)
            argv[i] = (struct slice){"", 0};
    }
    struct command *cmd = command_lookup_argv(argc, argv);
    int ok = 0;
    if (cmd && cmd->proc != cmd_unknown_subcommand) {
        int pos;
        ok = acl_check(cur ? cur->c->user : NULL, cmd, argc, argv, &pos) == ACL_OK;
    }
    if (argv != small)
        rc_free(argv);
    if (cmd == NULL || cmd->proc == cmd_unknown_subcommand)
        return script_raise(L, "Invalid command passed to redis.acl_check_cmd()");
    lua_pushboolean(L, ok);
    return 1;
}

/* ---- the state ---- */

static const char sandbox_lua[] =
    "local real, dbg = ...\n"
    "local debug = dbg\n"
    "local rawget, rawset, next, type, error, tostring, setmetatable, getmetatable =\n"
    "      rawget, rawset, next, type, error, tostring, setmetatable, getmetatable\n"
    "local ro_err = 'Attempt to modify a readonly table'\n"
    "local proxies = setmetatable({}, {__mode = 'k'})\n"
    "local function deny() error(ro_err, 2) end\n"
    "local function readonly(t)\n"
    "  local p = {}\n"
    "  proxies[p] = t\n"
    "  setmetatable(p, {__index = t, __newindex = deny, __metatable = false})\n"
    "  return p\n"
    "end\n"
    "for _, name in ipairs({'redis', 'string', 'table', 'math', 'cjson', 'bit', 'struct',\n"
    "                       'cmsgpack', 'coroutine'}) do\n"
    "  if rawget(real, name) then rawset(real, name, readonly(rawget(real, name))) end\n"
    "end\n"
    "getmetatable('').__index = rawget(real, 'string')\n"
    "local function real_of(t) return proxies[t] or t end\n"
    "debug.getregistry().rc_proxies = proxies\n"
    "rawset(real, 'rawget', function(t, k) return rawget(real_of(t), k) end)\n"
    "local function nxt(t, k) return next(real_of(t), k) end\n"
    "rawset(real, 'next', nxt)\n"
    "rawset(real, 'pairs', function(t) return nxt, t, nil end)\n"
    "rawset(real, '__redis__err__handler', function(err)\n"
    "  local lvl = 2\n"
    "  local i = dbg.getinfo(lvl, 'nSl')\n"
    "  if i and i.what == 'C' then lvl = lvl + 1 i = dbg.getinfo(lvl, 'nSl') end\n"
    "  while i and i.source == '=sandbox' do lvl = lvl + 1 i = dbg.getinfo(lvl, 'nSl') end\n"
    "  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end\n"
    "  if i then err['source'] = i.source err['line'] = i.currentline end\n"
    "  return err\n"
    "end)\n"
    "local g = {}\n"
    "proxies[g] = real\n"
    "setmetatable(g, {__index = function(_, k)\n"
    "  local v = rawget(real, k)\n"
    "  if v == nil then\n"
    "    error(\"Script attempted to access nonexistent global variable '\" .. tostring(k) .. \"'\", 2)\n"
    "  end\n"
    "  return v\n"
    "end, __newindex = deny, __metatable = {}})\n"
    "rawset(real, '_G', g)\n"
    "return g\n";

/* rawset and setmetatable refuse the read-only proxies (C functions, so
 * that an error names the script's line even in a tail call). */
static int guard_readonly(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "rc_proxies");
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    int ro = !lua_isnil(L, -1);
    lua_pop(L, 2);
    if (ro) {
        lua_pushstring(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    /* The original function is the upvalue. */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void guard(lua_State *L, const char *name)
{
    lua_getglobal(L, name);
    lua_pushcclosure(L, guard_readonly, 1);
    lua_setglobal(L, name);
}

/* loadstring without precompiled chunks (they can break out of the VM). */
static int l_loadstring(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *chunk = luaL_optstring(L, 2, s);
    if (n > 0 && s[0] == LUA_SIGNATURE[0]) {
        lua_pushnil(L);
        lua_pushstring(L, "precompiled chunks are not allowed");
        return 2;
    }
    if (luaL_loadbuffer(L, s, n, chunk) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/* Open a library; a module that only returns its table (Debian's cjson)
 * is made a global too. */
static void open_lib(lua_State *L, lua_CFunction f, const char *name)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (name[0] && lua_istable(L, -1)) {
        lua_getglobal(L, name);
        int missing = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (missing) {
            lua_setglobal(L, name);
            return;
        }
    }
    lua_pop(L, 1);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushstring(L, name);
    lua_pushcfunction(L, f);
    lua_settable(L, -3);
}

static void set_num(lua_State *L, const char *name, double v)
{
    lua_pushstring(L, name);
    lua_pushnumber(L, v);
    lua_settable(L, -3);
}

lua_State *script_state_create(void)
{
    lua_State *L = luaL_newstate();
    open_lib(L, luaopen_base, "");
    open_lib(L, luaopen_table, LUA_TABLIBNAME);
    open_lib(L, luaopen_string, LUA_STRLIBNAME);
    open_lib(L, luaopen_math, LUA_MATHLIBNAME);
    open_lib(L, luaopen_debug, LUA_DBLIBNAME);
    open_lib(L, luaopen_cjson, "cjson");
    open_lib(L, luaopen_bit, "bit");
    open_lib(L, luaopen_struct, "struct");
    open_lib(L, luaopen_cmsgpack, "cmsgpack");
    static const char *const drop[] = {"dofile", "loadfile", "print", "getfenv", "setfenv",
                                       "newproxy", "module", "require", "package"};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    lua_pushcfunction(L, l_loadstring);
    lua_setglobal(L, "loadstring");

    lua_newtable(L);
    set_fn(L, "call", l_call);
    set_fn(L, "pcall", l_pcall);
    set_fn(L, "setresp", l_setresp);
    set_fn(L, "set_repl", l_set_repl);
    set_fn(L, "replicate_commands", l_replicate_commands);
    set_fn(L, "breakpoint", l_breakpoint);
    set_fn(L, "debug", l_debug);
    set_fn(L, "acl_check_cmd", l_acl_check_cmd);
    set_fn(L, "sha1hex", l_sha1hex);
    set_fn(L, "error_reply", l_error_reply);
    set_fn(L, "status_reply", l_status_reply);
    set_fn(L, "log", l_log);
    set_num(L, "LOG_DEBUG", LOG_DEBUG);
    set_num(L, "LOG_VERBOSE", LOG_VERBOSE);
    set_num(L, "LOG_NOTICE", LOG_NOTICE);
    set_num(L, "LOG_WARNING", LOG_WARNING);
    set_num(L, "REPL_NONE", REPL_NONE);
    set_num(L, "REPL_AOF", REPL_AOF);
    set_num(L, "REPL_SLAVE", REPL_REPLICA);
    set_num(L, "REPL_REPLICA", REPL_REPLICA);
    set_num(L, "REPL_ALL", REPL_ALL);
    lua_pushstring(L, "REDIS_VERSION");
    lua_pushstring(L, RC_VERSION);
    lua_settable(L, -3);
    set_num(L, "REDIS_VERSION_NUM", 0x07000f);
    lua_setglobal(L, "redis");

    /* The sandbox: debug goes away once the error handler holds it. */
    lua_getglobal(L, "debug");
    lua_pushnil(L);
    lua_setglobal(L, "debug");
    if (luaL_loadbuffer(L, sandbox_lua, sizeof(sandbox_lua) - 1, "=sandbox") != 0)
        abort();                            /* a constant chunk: cannot fail */
    lua_insert(L, -2);                      /* chunk, debug */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_insert(L, -2);                      /* chunk, real, debug */
    lua_call(L, 2, 1);
    guard(L, "rawset");
    guard(L, "setmetatable");
    /* The real globals stay reachable from the registry (KEYS, ARGV); the
     * proxy the chunk returned becomes the scripts' globals. */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, LUA_REGISTRYINDEX, "rc_real_globals");
    lua_replace(L, LUA_GLOBALSINDEX);
    return L;
}

size_t script_lua_memory(lua_State *L)
{
    return L ? (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0) : 0;
}

/* ---- running ---- */

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct run *r = cur;
    if (r == NULL)
        return;
    long long elapsed = (long long)(rc_ustime() / 1000) - r->start_ms;
    if (!r->timed_out && server.busy_reply_threshold > 0 &&
        elapsed >= server.busy_reply_threshold) {
        r->timed_out = 1;
        log_warn("Slow script detected: still in execution after %lld milliseconds. You can "
                 "try killing the script using the %s command. Script name is: %s.",
                 elapsed, r->eval ? "SCRIPT KILL" : "FUNCTION KILL", r->name);
    }
    if (r->timed_out)
        conn_serve_busy(r->c);
    if (r->killed || server.shutdown_asap) {
        if (r->killed)
            log_warn("Lua script killed by user with %s.", r->eval ? "SCRIPT KILL" : "FUNCTION KILL");
        lua_sethook(L, hook, LUA_MASKLINE, 0);
        script_raise(L, r->eval ? "Script killed by user with SCRIPT KILL..."
                                : "Script killed by user with FUNCTION KILL...");
    }
}

void script_reply_running(struct client *c)
{
    if (cur == NULL) {
        reply_null(c);
        return;
    }
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "name");
    reply_bulk_cstr(c, cur->name);
    reply_bulk_cstr(c, "command");
    reply_array_len(c, cur->c->argc);
    for (int i = 0; i < cur->c->argc; i++)
        reply_bulk(c, cur->c->argv[i].p, cur->c->argv[i].len);
    reply_bulk_cstr(c, "duration_ms");
    reply_long(c, (long long)(rc_ustime() / 1000) - cur->start_ms);
}

void script_kill(struct client *c, int eval)
{
    if (cur == NULL) {
        reply_error(c, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (cur->wrote) {
        reply_error(c, "UNKILLABLE Sorry the script already executed write commands against "
                       "the dataset. You can either wait the script termination or kill the "
                       "server in a hard way using the SHUTDOWN NOSAVE command.");
        return;
    }
    if (eval != cur->eval) {
        reply_error(c, script_busy_error());
        return;
    }
    cur->killed = 1;
    reply_ok(c);
}

static void push_array(lua_State *L, int n, const struct slice *v)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Checks before the script runs (Redis 7.0's scriptPrepareForRun). */
static const char *check_run(uint32_t flags, int ro, int *pre_oom)
{
    *pre_oom = server.maxmemory && evict_perform() != 0;
    if (flags & SF_EVAL_COMPAT)
        return NULL;
    if (server.cluster_enabled && (flags & SF_NO_CLUSTER))
        return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
    if (!(flags & SF_NO_WRITES)) {
        if (ro)
            return "ERR Can not execute a script with write flag using *_ro command.";
        const char *deny = snapshot_write_denied();
        if (deny == NULL && server.appendonly)
            deny = aof_write_denied();
        if (deny)
            return deny;
        if (*pre_oom && !(flags & SF_ALLOW_OOM))
            return "OOM allow-oom flag is not set on the script, can not run it when used "
                   "memory > 'maxmemory'";
    }
    return NULL;
}

/* Reply the error a failed script left on top of L. */
static void reply_script_error(struct client *c, lua_State *L, const char *name)
{
    char *msg = luaconv_error_text(L, -1);
    if (msg == NULL) {
        const char *s = lua_tostring(L, -1);
        reply_errorf(c, "ERR Error running script %s, %.100s", name,
                     s ? s : "execution failure");
        return;
    }
    lua_getfield(L, -1, "source");
    lua_getfield(L, -2, "line");
    const char *src = lua_tostring(L, -2);
    const char *line = lua_tostring(L, -1);
    if (src && line) {
        size_t need = strlen(msg) + strlen(name) + strlen(src) + strlen(line) + 32;
        char *full = rc_malloc(need);
        snprintf(full, need, "%s script: %s, on %s:%s.", msg, name, src, line);
        reply_error(c, full);
        rc_free(full);
    } else {
        reply_error(c, msg);
    }
    lua_pop(L, 2);
    rc_free(msg);
}

void script_monitor(struct client *c)
{
    /* EVAL and FCALL are flagged skip_monitor, yet Redis shows them, before
     * the commands they run and even when they fail. */
    if (server.monitors && !server.loading)
        monitor_feed(c);
}

void script_run(struct client *c, lua_State *L, const char *name, uint32_t flags, int eval,
                int ro, int nkeys, const struct slice *keys, int nargs,
                const struct slice *args)
{
    struct run r = {.c = c, .L = L, .name = name, .flags = flags, .eval = eval, .ro = ro,
                    .resp = 2, .slot = -1};
    const char *err = check_run(flags, ro, &r.pre_oom);
    if (err) {
        lua_pop(L, 1);
        reply_error(c, err);
        return;
    }
    if (fake == NULL) {
        fake = conn_fake_create();
        fake->flags |= CF_CAPTURE;
        /* MONITOR shows the script's commands as "[db lua]". */
        snprintf(fake->addr, sizeof(fake->addr), "lua");
    }
    fake->db = c->db;
    /* Declared keys fix the slot the script may touch (ring mode). */
    if (server.cluster_enabled && nkeys > 0)
        r.slot = (int)rc_key_slot(keys[0].p, keys[0].len);

    /* Stack: function -> handler, function, arguments. */
    lua_getglobal(L, "__redis__err__handler");
    lua_insert(L, -2);
    int base = lua_gettop(L) - 1;
    if (eval) {
        lua_getfield(L, LUA_REGISTRYINDEX, "rc_real_globals");
        push_array(L, nkeys, keys);
        lua_setfield(L, -2, "KEYS");
        push_array(L, nargs, args);
        lua_setfield(L, -2, "ARGV");
        lua_pop(L, 1);
    } else {
        push_array(L, nkeys, keys);
        push_array(L, nargs, args);
    }
    r.start_ms = (long long)(rc_ustime() / 1000);
    struct run *outer = cur;
    cur = &r;
    propagate_prevent(c);
    lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    int rc = lua_pcall(L, eval ? 0 : 2, 1, base);
    lua_sethook(L, NULL, 0, 0);
    cur = outer;
    if (r.timed_out)
        log_warn("Script %s finished after %lld milliseconds.", name,
                 (long long)(rc_ustime() / 1000) - r.start_ms);

    if (rc != 0) {
        reply_script_error(c, L, name);
    } else {
        char *e = luaconv_error_text(L, -1);
        if (e) {
            /* The error a script returns goes out as it is (no "ERR"). */
            reply_error(c, e);
            rc_free(e);
        } else {
            struct lbuf out = {0};
            luaconv_to_resp(L, c->resp, r.resp, &out);
            lua_pushnil(L);         /* balance the pop below */
            reply_raw(c, out.p, out.len);
            lbuf_free(&out);
        }
    }
    lua_settop(L, base - 1);
    /* A garbage collection step every GC_PERIOD scripts, as Redis does:
     * one per script costs too much CPU, none lets a full cycle hit one. */
    static int gc_count;
    if (++gc_count == GC_PERIOD) {
        lua_gc(L, LUA_GCSTEP, GC_PERIOD);
        gc_count = 0;
    }
}
