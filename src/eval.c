/*
 * eval.c — EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the script cache
 * over script.c's engine.
 *
 * A script is compiled once, under the chunk name "@user_script" (what
 * Redis's error texts show), and kept as a function in the Lua registry
 * under "f_<sha1>"; the cache maps the SHA-1 to the body and the flags of
 * its shebang line ("#!lua flags=no-writes,...").  A shebang line is
 * skipped but its newline kept, so error line numbers match the text.
 * SCRIPT FLUSH closes the Lua state and starts a fresh one.
 *
 * Ring mode: EVAL and EVALSHA are routed by their declared keys like any
 * command; SCRIPT LOAD and SCRIPT FLUSH are applied on every member
 * (route.c), so an EVALSHA works wherever its keys are served.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

#include "dict.h"
#include "hash.h"
#include "reply.h"
#include "script.h"
#include "server.h"
#include "sha1.h"
#include "eval.h"

struct cached {
    struct dnode node;
    char sha[41];
    uint32_t flags;
};

static void cached_key(const struct dnode *n, const char **key, size_t *len)
{
    *key = ((const struct cached *)n)->sha;
    *len = 40;
}

static void cached_destroy(struct dnode *n)
{
    rc_free(n);
}

static const struct dict_type cached_type = {
    .hash = rc_hash, .key = cached_key, .destroy = cached_destroy,
};

static lua_State *L;
static struct dict *cache;

static void eval_init(void)
{
    if (L == NULL)
        L = script_state_create();
    if (cache == NULL)
        cache = dict_create(&cached_type);
}

void eval_flush(void)
{
    if (L)
        lua_close(L);
    L = NULL;
    dict_destroy(&cache);
}

size_t eval_lua_memory(void)
{
    return script_lua_memory(L);
}

size_t eval_overhead(void)
{
    return cache ? dict_mem_usage(cache) + dict_size(cache) * sizeof(struct cached) : 0;
}

size_t eval_scripts(void)
{
    return cache ? dict_size(cache) : 0;
}

/* Parse the shebang line of body, if any: *skip is the bytes before the
 * newline that ends it.  Returns NULL or the error to reply. */
static const char *parse_shebang(const char *body, size_t len, uint32_t *flags, size_t *skip,
                                 char *errbuf, size_t errlen)
{
    *skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') {
        *flags = SF_EVAL_COMPAT;
        return NULL;
    }
    const char *nl = memchr(body, '\n', len);
    if (nl == NULL)
        return "ERR Invalid script shebang";
    *skip = (size_t)(nl - body);
    *flags = 0;
    const char *p = body, *end = nl;
    int first = 1;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        int wl = (int)(p - w);
        if (first) {
            first = 0;
            if (wl != 5 || memcmp(w, "#!lua", 5) != 0) {
                snprintf(errbuf, errlen, "ERR Unexpected engine in script shebang: %.*s", wl, w);
                return errbuf;
            }
            continue;
        }
        if (wl < 6 || memcmp(w, "flags=", 6) != 0) {
            snprintf(errbuf, errlen, "ERR Unknown lua shebang option: %.*s", wl, w);
            return errbuf;
        }
        const char *f = w + 6, *fend = p;
        while (f < fend) {
            const char *comma = memchr(f, ',', (size_t)(fend - f));
            const char *e = comma ? comma : fend;
            if (script_parse_flag(f, (size_t)(e - f), flags) != 0) {
                snprintf(errbuf, errlen, "ERR Unexpected flag in script shebang: %.*s",
                         (int)(e - f), f);
                return errbuf;
            }
            f = comma ? comma + 1 : fend;
        }
    }
    return NULL;
}

/* Compile body (if not cached) and leave its cache entry in *out.
 * Returns 0, or -1 after replying the error. */
static int script_create(struct client *c, const struct slice *body, struct cached **out)
{
    eval_init();
    char sha[41];
    rc_sha1hex(sha, body->p, body->len);
    struct cached *e = (struct cached *)dict_find(cache, sha, 40);
    if (e) {
        *out = e;
        return 0;
    }
    uint32_t flags;
    size_t skip;
    char errbuf[256];
    const char *err = parse_shebang(body->p, body->len, &flags, &skip, errbuf, sizeof(errbuf));
    if (err) {
        reply_error(c, err);
        return -1;
    }
    if (luaL_loadbuffer(L, body->p + skip, body->len - skip, "@user_script") != 0) {
        const char *msg = lua_tostring(L, -1);
        reply_errorf(c, "ERR Error compiling script (new function): %s", msg ? msg : "");
        lua_pop(L, 1);
        return -1;
    }
    char fname[43] = "f_";
    memcpy(fname + 2, sha, 41);
    lua_setfield(L, LUA_REGISTRYINDEX, fname);
    e = rc_calloc(sizeof(*e));
    memcpy(e->sha, sha, 41);
    e->flags = flags;
    dict_add(cache, &e->node);
    *out = e;
    return 0;
}

static struct cached *script_find(const struct slice *sha)
{
    if (cache == NULL || sha->len != 40)
        return NULL;
    char low[41];
    for (int i = 0; i < 40; i++)
        low[i] = (char)tolower((unsigned char)sha->p[i]);
    low[40] = '\0';
    return (struct cached *)dict_find(cache, low, 40);
}

/* numkeys of EVAL/FCALL-shaped commands at argv[2].  Returns 0 or -1 after
 * replying. */
int script_parse_numkeys(struct client *c, const char *not_int, long long *numkeys)
{
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, numkeys)) {
        reply_error(c, not_int);
        return -1;
    }
    if (*numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    if (*numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return -1;
    }
    return 0;
}

static void eval_generic(struct client *c, int by_sha, int ro)
{
    script_monitor(c);
    long long numkeys;
    if (script_parse_numkeys(c, ERR_NOT_INT, &numkeys) != 0)
        return;
    struct cached *e;
    if (by_sha) {
        e = script_find(&c->argv[1]);
        if (e == NULL) {
            reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else if (script_create(c, &c->argv[1], &e) != 0) {
        return;
    }
    char fname[43] = "f_";
    memcpy(fname + 2, e->sha, 41);
    lua_getfield(L, LUA_REGISTRYINDEX, fname);
    int n = (int)numkeys;
    script_run(c, L, e->sha, e->flags, 1, ro, n, &c->argv[3], c->argc - 3 - n, &c->argv[3 + n]);
}

void cmd_eval(struct client *c)
{
    eval_generic(c, 0, 0);
}

void cmd_evalsha(struct client *c)
{
    eval_generic(c, 1, 0);
}

void cmd_eval_ro(struct client *c)
{
    eval_generic(c, 0, 1);
}

void cmd_evalsha_ro(struct client *c)
{
    eval_generic(c, 1, 1);
}

void cmd_script_load(struct client *c)
{
    struct cached *e;
    if (script_create(c, &c->argv[2], &e) == 0)
        reply_bulk(c, e->sha, 40);
}

void cmd_script_exists(struct client *c)
{
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_long(c, script_find(&c->argv[i]) != NULL);
}

void cmd_script_flush(struct client *c)
{
    if (c->argc > 3 ||
        (c->argc == 3 && !arg_is(&c->argv[2], "sync") && !arg_is(&c->argv[2], "async"))) {
        reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    /* The Lua state is small next to a keyspace: freed at once either way. */
    eval_flush();
    reply_ok(c);
}

void cmd_script_kill(struct client *c)
{
    script_kill(c, 1);
}

void cmd_script_help(struct client *c)
{
    static const char *const lines[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL,
    };
    reply_help(c, "script", lines);
}
