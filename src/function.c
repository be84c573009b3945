/*
 * function.c — Redis 7.0 functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/
 * RESTORE/STATS/KILL/HELP, FCALL and FCALL_RO, and their persistence.
 *
 * A library is Lua code starting with "#!lua name=<library>" whose
 * top-level code registers functions with redis.register_function, either
 * as register_function(name, callback) or with named arguments
 * {function_name=, callback=, flags={...}, description=}.  All libraries
 * live in one Lua state (script.c's sandbox).  Each library's chunk runs
 * with an environment of its own: while it loads, the environment holds
 * only a `redis` table with register_function, log, the LOG_* constants
 * and the version (anything else is a "nonexistent global variable", as
 * in Redis 7.0), and FUNCTION LOAD gives up after 500 ms; afterwards the
 * same environment reads the sandbox's globals, so the registered
 * callbacks see the whole API.
 *
 * Loading compiles and runs the library into a staging record first and
 * installs it only when every check passed (name collisions with other
 * libraries' functions, REPLACE), so a failed load changes nothing.
 *
 * Persistence: the snapshot holds one RDB_OPCODE_FUNCTION2 record per
 * library (the code as an RDB string), as Redis 7.0 writes it, and so do
 * FUNCTION DUMP payloads (followed by the RDB version and a CRC64).  The
 * log gets FUNCTION LOAD REPLACE / DELETE / FLUSH / RESTORE ... REPLACE
 * records, written so that applying one twice (a ring member that got the
 * command and then its copy's stream) is harmless.
 */
#include "function.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crc64.h"
#include "dict.h"
#include "glob.h"
#include "hash.h"
#include "propagate.h"
#include "rdb.h"
#include "rdbobj.h"
#include "reply.h"
#include "script.h"
#include "server.h"

#define LOAD_TIMEOUT_MS 500

struct ffn {
    struct dnode node;
    char *name;
    char *key;              /* the name in lower case: FCALL ignores case */
    char *desc;             /* NULL: none */
    uint32_t flags;
    int ref;                /* the callback, in the Lua registry */
    struct flib *lib;
    struct ffn *next;       /* the library's functions */
};

struct flib {
    struct dnode node;
    char *name;
    char *code;
    size_t codelen;
    struct ffn *fns;
    int nfns;
    int env_ref;            /* the library's environment table */
};

static void ffn_key(const struct dnode *n, const char **key, size_t *len)
{
    *key = ((const struct ffn *)n)->key;
    *len = strlen(*key);
}

/* A function name as the table keys it; buf holds 128 bytes. */
static const char *fn_key(const char *p, size_t len, char *buf, char **heap)
{
    char *out = len < 128 ? buf : (*heap = rc_malloc(len + 1));
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[len] = '\0';
    return out;
}

static void flib_key(const struct dnode *n, const char **key, size_t *len)
{
    *key = ((const struct flib *)n)->name;
    *len = strlen(*key);
}

static void nothing(struct dnode *n)
{
    (void)n;            /* the library owns its functions */
}

static lua_State *L;

static void flib_free(struct flib *lib)
{
    struct ffn *f = lib->fns;
    while (f) {
        struct ffn *next = f->next;
        if (L)
            luaL_unref(L, LUA_REGISTRYINDEX, f->ref);
        rc_free(f->name);
        rc_free(f->key);
        rc_free(f->desc);
        rc_free(f);
        f = next;
    }
    if (L)
        luaL_unref(L, LUA_REGISTRYINDEX, lib->env_ref);
    rc_free(lib->name);
    rc_free(lib->code);
    rc_free(lib);
}

static void flib_destroy(struct dnode *n)
{
    flib_free((struct flib *)n);
}

static const struct dict_type ffn_type = {.hash = rc_hash, .key = ffn_key, .destroy = nothing};
static const struct dict_type flib_type = {.hash = rc_hash, .key = flib_key,
                                           .destroy = flib_destroy};

static struct dict *libs;       /* name -> struct flib */
static struct dict *fns;        /* name -> struct ffn */

/* The library being loaded: register_function adds to it. */
static struct flib *loading;
static long long load_start_ms;

/* ---- the Lua side ---- */

/* The environments: lib_env(ctl) makes a library's environment, reading
 * the load-time globals while ctl.loading is true, else the sandbox's. */
static const char env_lua[] =
    "local real, load_redis_fns = ...\n"
    "local rawget, setmetatable, error, tostring = rawget, setmetatable, error, tostring\n"
    "local ctl = {loading = false}\n"
    "local function missing(k)\n"
    "  error(\"Script attempted to access nonexistent global variable '\" .. tostring(k) .. \"'\", 3)\n"
    "end\n"
    "local function deny() error('Attempt to modify a readonly table', 2) end\n"
    "local load_redis = setmetatable({}, {__index = function(_, k)\n"
    "  local v = rawget(load_redis_fns, k)\n"
    "  if v == nil then missing(k) end\n"
    "  return v\n"
    "end, __newindex = deny, __metatable = false})\n"
    "local function lib_env()\n"
    "  return setmetatable({}, {__index = function(_, k)\n"
    "    local v\n"
    "    if ctl.loading then\n"
    "      if k == 'redis' then v = load_redis end\n"
    "    else\n"
    "      v = rawget(real, k)\n"
    "    end\n"
    "    if v == nil then missing(k) end\n"
    "    return v\n"
    "  end, __newindex = deny, __metatable = false})\n"
    "end\n"
    "return ctl, lib_env\n";

static int valid_name(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

static const char *const FLAG_NAMES[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                         "allow-cross-slot-keys"};

/* register_function's flags table, or an error text. */
static const char *read_flags(lua_State *S, int idx, uint32_t *flags)
{
    if (!lua_istable(S, idx))
        return "flags argument to redis.register_function must be a table representing "
               "function flags";
    for (int i = 1;; i++) {
        lua_rawgeti(S, idx, i);
        if (lua_isnil(S, -1)) {
            lua_pop(S, 1);
            return NULL;
        }
        size_t n;
        const char *s = lua_type(S, -1) == LUA_TSTRING ? lua_tolstring(S, -1, &n) : NULL;
        if (s == NULL || script_parse_flag(s, n, flags) != 0) {
            lua_pop(S, 1);
            return "unknown flag given";
        }
        lua_pop(S, 1);
    }
}

static int l_register_function(lua_State *S)
{
    if (loading == NULL)
        return script_raise(S, "redis.register_function can only be called on FUNCTION LOAD "
                               "command");
    int argc = lua_gettop(S);
    const char *name = NULL, *desc = NULL;
    size_t namelen = 0, desclen = 0;
    uint32_t flags = 0;
    int cb = 0;
    if (argc == 1) {
        lua_settop(S, 2);       /* slot 2 will hold the callback */
        if (!lua_istable(S, 1))
            return script_raise(S, "calling redis.register_function with a single argument is "
                                   "only applicable to Lua table (representing named "
                                   "arguments).");
        lua_pushnil(S);
        while (lua_next(S, 1)) {
            const char *k = lua_type(S, -2) == LUA_TSTRING ? lua_tostring(S, -2) : "";
            if (strcmp(k, "function_name") == 0) {
                if (lua_type(S, -1) != LUA_TSTRING)
                    return script_raise(S, "function_name argument given to "
                                           "redis.register_function must be a string");
                name = lua_tolstring(S, -1, &namelen);
            } else if (strcmp(k, "description") == 0) {
                if (lua_type(S, -1) != LUA_TSTRING)
                    return script_raise(S, "description argument given to "
                                           "redis.register_function must be a string");
                desc = lua_tolstring(S, -1, &desclen);
            } else if (strcmp(k, "callback") == 0) {
                if (!lua_isfunction(S, -1))
                    return script_raise(S, "callback argument given to "
                                           "redis.register_function must be a function");
                lua_pushvalue(S, -1);
                lua_replace(S, 2);          /* slot 2 holds the callback */
                cb = 1;
            } else if (strcmp(k, "flags") == 0) {
                const char *err = read_flags(S, lua_gettop(S), &flags);
                if (err)
                    return script_raise(S, err);
            } else {
                return script_raise(S, "unknown argument given to redis.register_function");
            }
            lua_pop(S, 1);
        }
        /* The strings stay alive: they are values of the argument table. */
        if (name == NULL)
            return script_raise(S, "redis.register_function must get a function name argument");
        if (!cb)
            return script_raise(S, "redis.register_function must get a callback argument");
    } else if (argc == 2) {
        if (!lua_isstring(S, 1))
            return script_raise(S, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(S, 2))
            return script_raise(S, "second argument to redis.register_function must be a "
                                   "function");
        name = lua_tolstring(S, 1, &namelen);
    } else {
        return script_raise(S, "wrong number of arguments to redis.register_function");
    }
    if (!valid_name(name, namelen))
        /* Redis 7.0 says "Library" here too. */
        return script_raise(S, "Library names can only contain letters, numbers, or "
                               "underscores(_) and must be at least one character long");
    for (struct ffn *f = loading->fns; f; f = f->next)
        if (strlen(f->key) == namelen && strncasecmp(f->key, name, namelen) == 0)
            return script_raise(S, "Function already exists in the library");
    struct ffn *f = rc_calloc(sizeof(*f));
    f->name = rc_strndup(name, namelen);
    f->key = rc_strndup(name, namelen);
    for (size_t i = 0; i < namelen; i++)
        f->key[i] = (char)tolower((unsigned char)f->key[i]);
    f->desc = desc ? rc_strndup(desc, desclen) : NULL;
    f->flags = flags;
    f->lib = loading;
    lua_settop(S, 2);
    f->ref = luaL_ref(S, LUA_REGISTRYINDEX);
    /* Kept in registration order. */
    struct ffn **tail = &loading->fns;
    while (*tail)
        tail = &(*tail)->next;
    *tail = f;
    loading->nfns++;
    return 0;
}

static int l_log_load(lua_State *S)
{
    /* redis.log of the sandbox, reached through the real redis table. */
    lua_getfield(S, LUA_REGISTRYINDEX, "rc_real_globals");
    lua_getfield(S, -1, "redis");
    lua_getfield(S, -1, "log");
    lua_insert(S, 1);
    lua_pop(S, 2);
    lua_call(S, lua_gettop(S) - 1, 0);
    return 0;
}

static void state_init(void)
{
    if (L)
        return;
    L = script_state_create();
    lua_getfield(L, LUA_REGISTRYINDEX, "rc_real_globals");
    if (luaL_loadbuffer(L, env_lua, sizeof(env_lua) - 1, "=sandbox") != 0)
        abort();                    /* a constant chunk */
    lua_pushvalue(L, -2);
    lua_newtable(L);                /* the load-time redis functions */
    lua_pushcfunction(L, l_register_function);
    lua_setfield(L, -2, "register_function");
    lua_pushcfunction(L, l_log_load);
    lua_setfield(L, -2, "log");
    static const char *const consts[] = {"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE",
                                         "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"};
    lua_getfield(L, -2, "redis");
    for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
        lua_getfield(L, -1, consts[i]);
        lua_setfield(L, -3, consts[i]);
    }
    lua_pop(L, 1);
    lua_call(L, 2, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, "rc_fn_env");
    lua_setfield(L, LUA_REGISTRYINDEX, "rc_fn_ctl");
    lua_pop(L, 1);
}

static void set_loading(int on)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "rc_fn_ctl");
    lua_pushboolean(L, on);
    lua_setfield(L, -2, "loading");
    lua_pop(L, 1);
}

static void load_hook(lua_State *S, lua_Debug *ar)
{
    (void)ar;
    if ((long long)(rc_ustime() / 1000) - load_start_ms > LOAD_TIMEOUT_MS) {
        lua_sethook(S, load_hook, LUA_MASKLINE, 0);
        script_raise(S, "FUNCTION LOAD timeout");
    }
}

static struct flib *lib_find(const char *name, size_t len)
{
    return libs ? (struct flib *)dict_find(libs, name, len) : NULL;
}

/* Compile and run a library's code into a new, uninstalled library (an
 * existing library of the same name is an error unless replace).
 * Returns it, or NULL with the error (without "-") in err. */
static struct flib *lib_create(const char *code, size_t len, int replace, char *err,
                               size_t errlen)
{
    state_init();
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "ERR Missing library metadata");
        return NULL;
    }
    const char *nl = memchr(code, '\n', len);
    const char *end = nl ? nl : code + len;
    /* "#!lua name=<name>" and nothing else. */
    const char *p = code, *name = NULL;
    size_t namelen = 0;
    int words = 0, bad = 0;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        size_t wl = (size_t)(p - w);
        if (words++ == 0) {
            bad |= wl != 5 || memcmp(w, "#!lua", 5) != 0;
        } else if (wl > 5 && memcmp(w, "name=", 5) == 0 && name == NULL) {
            name = w + 5;
            namelen = wl - 5;
        } else {
            bad = 1;
        }
    }
    if (bad || name == NULL || !valid_name(name, namelen)) {
        snprintf(err, errlen, "ERR Invalid library metadata");
        return NULL;
    }
    if (!replace && lib_find(name, namelen)) {
        snprintf(err, errlen, "ERR Library '%.*s' already exists", (int)namelen, name);
        return NULL;
    }
    size_t skip = (size_t)(end - code);
    if (luaL_loadbuffer(L, code + skip, len - skip, "@user_function") != 0) {
        snprintf(err, errlen, "ERR Error compiling function: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return NULL;
    }
    struct flib *lib = rc_calloc(sizeof(*lib));
    lib->name = rc_strndup(name, namelen);
    lib->code = rc_strndup(code, len);
    lib->codelen = len;
    /* The chunk's own environment. */
    lua_getfield(L, LUA_REGISTRYINDEX, "rc_fn_env");
    lua_call(L, 0, 1);
    lua_pushvalue(L, -1);
    lib->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setfenv(L, -2);
    lua_getglobal(L, "__redis__err__handler");
    lua_insert(L, -2);
    loading = lib;
    set_loading(1);
    load_start_ms = (long long)(rc_ustime() / 1000);
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    int rc = lua_pcall(L, 0, 0, -2);
    lua_sethook(L, NULL, 0, 0);
    set_loading(0);
    loading = NULL;
    if (rc != 0) {
        lua_getfield(L, -1, "err");
        const char *e = lua_tostring(L, -1);
        snprintf(err, errlen, "ERR Error registering functions: %s", e ? e : "unknown error");
        lua_pop(L, 3);
        flib_free(lib);
        return NULL;
    }
    lua_pop(L, 1);
    if (lib->nfns == 0) {
        snprintf(err, errlen, "ERR No functions registered");
        flib_free(lib);
        return NULL;
    }
    return lib;
}

/* Install the staged libraries news[0..n) (replacing those of the same
 * name when replace, else refusing them), all or none.  Returns 0, or -1
 * with err set; on success news' entries are owned by the table. */
static int libs_install(struct flib **news, int n, int replace, char *err, size_t errlen)
{
    if (libs == NULL) {
        libs = dict_create(&flib_type);
        fns = dict_create(&ffn_type);
    }
    for (int i = 0; i < n; i++) {
        struct flib *old = lib_find(news[i]->name, strlen(news[i]->name));
        if (old && !replace) {
            snprintf(err, errlen, "ERR Library %s already exists", news[i]->name);
            return -1;
        }
        for (struct ffn *f = news[i]->fns; f; f = f->next) {
            struct ffn *have = (struct ffn *)dict_find(fns, f->key, strlen(f->key));
            int clash = have && have->lib != old;
            for (int j = 0; j < i && !clash; j++)
                for (struct ffn *g = news[j]->fns; g && !clash; g = g->next)
                    clash = strcmp(g->key, f->key) == 0;
            if (clash) {
                snprintf(err, errlen, "ERR Function %s already exists", f->name);
                return -1;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        struct flib *old =
            (struct flib *)dict_unlink(libs, news[i]->name, strlen(news[i]->name));
        if (old) {
            for (struct ffn *f = old->fns; f; f = f->next)
                dict_unlink(fns, f->key, strlen(f->key));
            flib_free(old);
        }
        dict_add(libs, &news[i]->node);
        for (struct ffn *f = news[i]->fns; f; f = f->next)
            dict_add(fns, &f->node);
    }
    return 0;
}

void function_flush_all(void)
{
    dict_destroy(&fns);
    dict_destroy(&libs);
    if (L)
        lua_close(L);
    L = NULL;
}

int function_load_code(const char *code, size_t len, int replace, char *err, size_t errlen)
{
    struct flib *lib = lib_create(code, len, replace, err, errlen);
    if (lib == NULL)
        return -1;
    if (libs_install(&lib, 1, replace, err, errlen) != 0) {
        flib_free(lib);
        return -1;
    }
    return 0;
}

/* ---- persistence ---- */

void function_rdb_save(struct rdb_out *out)
{
    if (libs == NULL)
        return;
    struct dict_iter it;
    struct dnode *n;
    dict_iter_init(&it, libs);
    while ((n = dict_iter_next(&it)) != NULL) {
        const struct flib *lib = (const struct flib *)n;
        rdb_out_byte(out, RDB_OPCODE_FUNCTION2);
        rdb_out_string(out, lib->code, lib->codelen, 1);
    }
    dict_iter_done(&it);
}

struct code_ref {
    const char *p;
    size_t len;
};

static int code_cmp(const void *a, const void *b)
{
    const struct code_ref *x = a, *y = b;
    int r = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

size_t function_codes(const char ***codes, size_t **lens)
{
    size_t n = libs ? dict_size(libs) : 0, i = 0;
    struct code_ref *refs = rc_malloc(sizeof(*refs) * (n ? n : 1));
    if (n) {
        struct dict_iter it;
        struct dnode *d;
        dict_iter_init(&it, libs);
        while ((d = dict_iter_next(&it)) != NULL && i < n) {
            const struct flib *lib = (const struct flib *)d;
            refs[i++] = (struct code_ref){lib->code, lib->codelen};
        }
        dict_iter_done(&it);
    }
    qsort(refs, i, sizeof(*refs), code_cmp);
    *codes = rc_malloc(sizeof(**codes) * (i ? i : 1));
    *lens = rc_malloc(sizeof(**lens) * (i ? i : 1));
    for (size_t k = 0; k < i; k++) {
        (*codes)[k] = refs[k].p;
        (*lens)[k] = refs[k].len;
    }
    rc_free(refs);
    return i;
}

size_t function_count_libraries(void)
{
    return libs ? dict_size(libs) : 0;
}

size_t function_count_functions(void)
{
    return fns ? dict_size(fns) : 0;
}

size_t function_lua_memory(void)
{
    return script_lua_memory(L);
}

size_t function_overhead(void)
{
    size_t n = 0;
    if (libs == NULL)
        return 0;
    struct dict_iter it;
    struct dnode *d;
    dict_iter_init(&it, libs);
    while ((d = dict_iter_next(&it)) != NULL) {
        const struct flib *lib = (const struct flib *)d;
        n += sizeof(*lib) + lib->codelen + (size_t)lib->nfns * sizeof(struct ffn);
    }
    dict_iter_done(&it);
    return n + dict_mem_usage(libs) + dict_mem_usage(fns);
}

/* ---- commands ---- */

static void bump_dirty(struct client *c, int argc, const struct slice *argv)
{
    server.stat_dirty++;
    if (argv)
        propagate_replace(c, argc, argv);
}

void cmd_function_load(struct client *c)
{
    int replace = 0;
    int i = 2;
    for (; i < c->argc - 1; i++) {
        if (arg_is(&c->argv[i], "replace"))
            replace = 1;
        else
            break;
    }
    if (i != c->argc - 1) {
        reply_errorf(c, "ERR Unknown option given: %.*s", (int)c->argv[i].len, c->argv[i].p);
        return;
    }
    char err[1024];
    const struct slice *code = &c->argv[c->argc - 1];
    struct flib *lib = lib_create(code->p, code->len, replace, err, sizeof(err));
    if (lib == NULL || libs_install(&lib, 1, replace, err, sizeof(err)) != 0) {
        if (lib)
            flib_free(lib);
        reply_error(c, err);
        return;
    }
    struct slice rec[4] = {{"FUNCTION", 8}, {"LOAD", 4}, {"REPLACE", 7}, *code};
    bump_dirty(c, 4, rec);
    reply_bulk_cstr(c, lib->name);
}

void cmd_function_delete(struct client *c)
{
    struct flib *lib = lib_find(c->argv[2].p, c->argv[2].len);
    if (lib == NULL) {
        reply_error(c, "ERR Library not found");
        return;
    }
    dict_unlink(libs, lib->name, strlen(lib->name));
    for (struct ffn *f = lib->fns; f; f = f->next)
        dict_unlink(fns, f->key, strlen(f->key));
    flib_free(lib);
    bump_dirty(c, 0, NULL);
    reply_ok(c);
}

void cmd_function_flush(struct client *c)
{
    if (c->argc > 3) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                     "FUNCTION HELP.", (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 3 && !arg_is(&c->argv[2], "sync") && !arg_is(&c->argv[2], "async")) {
        reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    function_flush_all();
    bump_dirty(c, 0, NULL);
    reply_ok(c);
}

void cmd_function_kill(struct client *c)
{
    script_kill(c, 0);
}

static void reply_function(struct client *c, const struct ffn *f)
{
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "name");
    reply_bulk_cstr(c, f->name);
    reply_bulk_cstr(c, "description");
    if (f->desc)
        reply_bulk_cstr(c, f->desc);
    else
        reply_null(c);
    reply_bulk_cstr(c, "flags");
    int n = 0;
    for (size_t i = 0; i < sizeof(FLAG_NAMES) / sizeof(FLAG_NAMES[0]); i++)
        n += (f->flags >> i) & 1;
    reply_set_len(c, n);
    for (size_t i = 0; i < sizeof(FLAG_NAMES) / sizeof(FLAG_NAMES[0]); i++)
        if ((f->flags >> i) & 1)
            reply_status(c, FLAG_NAMES[i]);
}

void cmd_function_list(struct client *c)
{
    int withcode = 0;
    const struct slice *pattern = NULL;
    for (int i = 2; i < c->argc; i++) {
        if (arg_is(&c->argv[i], "withcode") && !withcode) {
            withcode = 1;
        } else if (arg_is(&c->argv[i], "libraryname") && pattern == NULL) {
            if (i + 1 >= c->argc) {
                reply_error(c, "ERR library name argument was not given");
                return;
            }
            pattern = &c->argv[++i];
        } else {
            reply_errorf(c, "ERR Unknown argument %.*s", (int)c->argv[i].len, c->argv[i].p);
            return;
        }
    }
    void *hole = reply_defer_len(c);
    long count = 0;
    if (libs) {
        struct dict_iter it;
        struct dnode *n;
        dict_iter_init(&it, libs);
        while ((n = dict_iter_next(&it)) != NULL) {
            const struct flib *lib = (const struct flib *)n;
            if (pattern && !rc_glob_match(pattern->p, pattern->len, lib->name,
                                          strlen(lib->name), 0))
                continue;
            count++;
            reply_map_len(c, withcode ? 4 : 3);
            reply_bulk_cstr(c, "library_name");
            reply_bulk_cstr(c, lib->name);
            reply_bulk_cstr(c, "engine");
            reply_bulk_cstr(c, "LUA");
            reply_bulk_cstr(c, "functions");
            reply_array_len(c, lib->nfns);
            for (const struct ffn *f = lib->fns; f; f = f->next)
                reply_function(c, f);
            if (withcode) {
                reply_bulk_cstr(c, "library_code");
                reply_bulk(c, lib->code, lib->codelen);
            }
        }
        dict_iter_done(&it);
    }
    reply_set_array_len(c, hole, count);
}

void cmd_function_stats(struct client *c)
{
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "running_script");
    script_reply_running(c);
    reply_bulk_cstr(c, "engines");
    reply_map_len(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_long(c, libs ? (long long)dict_size(libs) : 0);
    reply_bulk_cstr(c, "functions_count");
    reply_long(c, fns ? (long long)dict_size(fns) : 0);
}

void cmd_function_dump(struct client *c)
{
    struct rdb_out out;
    rdb_out_init(&out);
    function_rdb_save(&out);
    rdb_out_byte(&out, RDB_VERSION & 0xff);
    rdb_out_byte(&out, (RDB_VERSION >> 8) & 0xff);
    rdb_out_u64le(&out, crc64(0, out.p, out.len));
    reply_bulk(c, (const char *)out.p, out.len);
    rdb_out_free(&out);
}

void cmd_function_restore(struct client *c)
{
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "append"))
            policy = APPEND;
        else if (arg_is(&c->argv[3], "replace"))
            policy = REPLACE;
        else if (arg_is(&c->argv[3], "flush"))
            policy = FLUSH;
        else {
            reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, "
                           "APPEND or REPLACE.");
            return;
        }
    } else if (c->argc > 4) {
        reply_err_syntax(c);
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[2].p;
    size_t len = c->argv[2].len;
    if (rdb_verify_payload(p, len) != 0) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    struct rdb_in in = {p, len - 10, 0};
    struct flib **news = NULL;
    int n = 0;
    char err[1024] = "";
    while (in.pos < in.len) {
        unsigned char type;
        struct rdb_str s;
        if (rdb_in_byte(&in, &type) < 0 || type != RDB_OPCODE_FUNCTION2) {
            snprintf(err, sizeof(err), "ERR given type is not a function");
            break;
        }
        if (rdb_in_string(&in, &s) < 0) {
            snprintf(err, sizeof(err), "ERR can not read data type");
            break;
        }
        struct flib *lib = lib_create((const char *)s.p, s.len, 1, err, sizeof(err));
        rdb_str_free(&s);
        if (lib == NULL)
            break;
        news = rc_realloc(news, sizeof(*news) * (size_t)(n + 1));
        news[n++] = lib;
    }
    if (err[0] == '\0' && policy == FLUSH) {
        /* Libraries were compiled into the current state: keep it, drop
         * only the installed ones. */
        if (libs) {
            dict_destroy(&fns);
            dict_destroy(&libs);
        }
    }
    if (err[0] == '\0' && libs_install(news, n, policy != APPEND, err, sizeof(err)) == 0) {
        rc_free(news);
        struct slice rec[4] = {{"FUNCTION", 8}, {"RESTORE", 7}, c->argv[2],
                               {policy == FLUSH ? "FLUSH" : "REPLACE",
                                policy == FLUSH ? 5u : 7u}};
        bump_dirty(c, 4, rec);
        reply_ok(c);
        return;
    }
    for (int i = 0; i < n; i++)
        flib_free(news[i]);
    rc_free(news);
    reply_error(c, err);
}

void cmd_function_help(struct client *c)
{
    static const char *const lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME "
        "argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored "
        "using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a "
        "restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
        "abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
        "replace the old",
        "      libraries with the new libraries (notice that even on this option there is a "
        "chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    reply_help(c, "function", lines);
}

static void fcall_generic(struct client *c, int ro)
{
    script_monitor(c);
    char buf[128], *heap = NULL;
    const char *key = fn_key(c->argv[1].p, c->argv[1].len, buf, &heap);
    struct ffn *f = fns ? (struct ffn *)dict_find(fns, key, c->argv[1].len) : NULL;
    rc_free(heap);
    if (f == NULL) {
        reply_error(c, "ERR Function not found");
        return;
    }
    long long numkeys;
    if (script_parse_numkeys(c, "ERR Bad number of keys provided", &numkeys) != 0)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->ref);
    int n = (int)numkeys;
    script_run(c, L, f->name, f->flags, 0, ro, n, &c->argv[3], c->argc - 3 - n, &c->argv[3 + n]);
}

void cmd_fcall(struct client *c)
{
    fcall_generic(c, 0);
}

void cmd_fcall_ro(struct client *c)
{
    fcall_generic(c, 1);
}
