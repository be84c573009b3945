/*
 * fuzz_luaconv.c — libFuzzer target for the RESP <-> Lua conversions of
 * scripts (src/luaconv.c).
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       -I/usr/include/lua5.1 tests/fuzz/fuzz_luaconv.c src/luaconv.c \
 *       src/util.c src/mem.c -llua5.1 -lm -o fuzz_luaconv
 *   ./fuzz_luaconv tests/fuzz/corpus/luaconv
 *
 * Byte 0 picks the direction and the protocols:
 *   even: the rest is a reply; whatever prefix luaconv_push_reply accepts
 *         becomes a Lua value, which is encoded back (for a RESP2 and a
 *         RESP3 caller, script in RESP2 or RESP3) and must parse again,
 *         whole;
 *   odd:  the rest is a little program building a Lua value (numbers,
 *         strings, booleans, nil, tables with ok/err/double/map/set/...
 *         fields, nesting and one self-reference), which is encoded and
 *         must parse, whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "luaconv.h"
#include "mem.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Encode the value on top (popped) and check the bytes are one reply. */
static void encode_and_reparse(lua_State *L, int resp, int script_resp)
{
    struct lbuf out = {0};
    luaconv_to_resp(L, resp, script_resp, &out);
    int top = lua_gettop(L);
    size_t k = luaconv_push_reply(L, out.p, out.len, 100000);
    /* Only a cycle nests deeper than Lua's stack can read back; it ends
     * in Redis's stack-limit error. */
    check(k == out.len || (k == 0 && memmem(out.p, out.len, "-ERR reached lua stack limit",
                                             28) != NULL));
    lua_settop(L, top);
    lbuf_free(&out);
}

static const char *const fields[] = {"ok", "err", "double", "big_number", "map", "set",
                                     "verbatim_string", "format", "string"};

static void build(lua_State *L, const uint8_t *p, size_t n)
{
    /* One back-reference at most: two make a value whose encoding doubles
     * at every level of the cycle (as it does on redis-server). */
    int refs = 0;
    lua_newtable(L);            /* the root, index 1 */
    for (size_t i = 0; i < n && lua_gettop(L) < 200; i++) {
        uint8_t op = p[i] & 7, arg = p[i] >> 3;
        switch (op) {
        case 0: lua_pushnumber(L, (lua_Number)(int8_t)arg * 1e3 + arg / 7.0); break;
        case 1: lua_pushlstring(L, (const char *)p + i, arg % 8 < n - i ? arg % 8 : 0); break;
        case 2: lua_pushboolean(L, arg & 1); break;
        case 3: lua_newtable(L); break;
        case 4:                 /* a cycle, or a shared value */
            if (refs++ == 0)
                lua_pushvalue(L, 1 + (int)(arg % (unsigned)lua_gettop(L)));
            else
                lua_pushnil(L);
            break;
        case 5:                 /* t[#t+1] = v */
            if (lua_gettop(L) >= 2 && lua_istable(L, -2)) {
                lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
            } else if (lua_gettop(L) > 1) {
                lua_pop(L, 1);
            }
            break;
        case 6:                 /* t[field] = v */
            if (lua_gettop(L) >= 2 && lua_istable(L, -2)) {
                lua_pushstring(L, fields[arg % 9]);
                lua_insert(L, -2);
                lua_rawset(L, -3);
            } else if (lua_gettop(L) > 1) {
                lua_pop(L, 1);
            }
            break;
        default:
            if (lua_gettop(L) > 1)
                lua_pop(L, 1);
            else
                lua_pushnil(L);
            break;
        }
    }
    lua_settop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    lua_State *L = luaL_newstate();
    int resp = (data[0] & 2) ? 3 : 2, script_resp = (data[0] & 4) ? 3 : 2;
    if ((data[0] & 1) == 0) {
        size_t k = luaconv_push_reply(L, (const char *)data + 1, size - 1, 64);
        check(k <= size - 1);
        if (k > 0) {
            check(lua_gettop(L) == 1);
            lua_pushvalue(L, 1);
            encode_and_reparse(L, resp, script_resp);
            lua_pushvalue(L, 1);
            encode_and_reparse(L, resp == 2 ? 3 : 2, script_resp);
            char *e = luaconv_error_text(L, 1);
            if (e)
                check(strchr(e, '\n') == NULL && strchr(e, '\r') == NULL);
            rc_free(e);
        } else {
            check(lua_gettop(L) == 0);
        }
    } else {
        build(L, data + 1, size - 1);
        encode_and_reparse(L, resp, script_resp);
    }
    lua_close(L);
    return 0;
}
