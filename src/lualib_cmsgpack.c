/*
 * lualib_cmsgpack.c — the `cmsgpack` library Redis scripts use: MessagePack
 * encoding and decoding of Lua values, with the choices Redis 7.0's
 * lua_cmsgpack makes (Debian has no package for it):
 *
 *   pack(v1, v2, ...)   the encodings of the values, concatenated
 *   unpack(s)           every value in s
 *   unpack_one(s [, offset])          next offset (-1 at the end), value
 *   unpack_limit(s, limit [, offset]) next offset, up to limit values
 *
 * Encoding: nil -> nil; booleans; numbers equal to an int64 -> the
 * smallest integer form, else float32 when exact, else float64; strings ->
 * str (fixstr, str8, str16, str32); tables whose keys are exactly 1..n ->
 * array, other tables -> map; tables nested 16 deep (cycles) and other
 * types -> nil.  Decoding knows the str types, not bin (as Redis's).
 */
#include "lualibs.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "mem.h"

#define MAX_NESTING 16

/* ---- encoding ---- */

/* luaL_Buffer needs a balanced stack between its calls, which a recursive
 * encoder pushing table keys and values cannot keep: values are encoded
 * into a plain growing buffer instead.  Nothing in the encoder raises a
 * Lua error (the stack room is reserved up front), so it cannot leak. */
struct mbuf {
    char *p;
    size_t len, cap;
};

static void mb_add(struct mbuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->p = rc_realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void mb_char(struct mbuf *b, unsigned char ch)
{
    mb_add(b, &ch, 1);
}

static void put_be(struct mbuf *b, unsigned char tag, uint64_t v, int bytes)
{
    unsigned char out[9];
    out[0] = tag;
    for (int i = 0; i < bytes; i++)
        out[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    mb_add(b, out, (size_t)bytes + 1);
}

static void put_int(struct mbuf *b, int64_t n)
{
    if (n >= 0) {
        if (n <= 127)
            mb_char(b, (unsigned char)n);
        else if (n <= 0xff)
            put_be(b, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff)
            put_be(b, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL)
            put_be(b, 0xce, (uint64_t)n, 4);
        else
            put_be(b, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32)
            mb_char(b, (unsigned char)(signed char)n);
        else if (n >= -128)
            put_be(b, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768)
            put_be(b, 0xd1, (uint64_t)n, 2);
        else if (n >= -2147483648LL)
            put_be(b, 0xd2, (uint64_t)n, 4);
        else
            put_be(b, 0xd3, (uint64_t)n, 8);
    }
}

static void put_number(struct mbuf *b, lua_Number n)
{
    if (!isinf(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
        (lua_Number)(int64_t)n == n) {
        put_int(b, (int64_t)n);
        return;
    }
    float f = (float)n;
    if ((double)f == n) {
        uint32_t u;
        memcpy(&u, &f, 4);
        put_be(b, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &n, 8);
        put_be(b, 0xcb, u, 8);
    }
}

static void put_len(struct mbuf *b, size_t n, unsigned char fix, size_t fixmax,
                    unsigned char t8, unsigned char t16, unsigned char t32)
{
    if (n <= fixmax)
        mb_char(b, (unsigned char)(fix | n));
    else if (t8 && n <= 0xff)
        put_be(b, t8, n, 1);
    else if (n <= 0xffff)
        put_be(b, t16, n, 2);
    else
        put_be(b, t32, n, 4);
}

/* Are the keys of the table on top exactly 1..n? */
static int is_array(lua_State *L)
{
    lua_Number max = 0;
    long long count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number k;
        if (lua_type(L, -1) != LUA_TNUMBER || (k = lua_tonumber(L, -1)) <= 0 ||
            k != floor(k)) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
        if (k > max)
            max = k;
    }
    return max == (lua_Number)count;
}

static void encode(lua_State *L, struct mbuf *b, int level);

static void encode_table(lua_State *L, struct mbuf *b, int level)
{
    if (is_array(L)) {
        size_t n = lua_objlen(L, -1);
        put_len(b, n, 0x90, 15, 0, 0xdc, 0xdd);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, (int)i);
            encode(L, b, level + 1);
        }
        return;
    }
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    put_len(b, n, 0x80, 15, 0, 0xde, 0xdf);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        encode(L, b, level + 1);    /* the key's copy */
        encode(L, b, level + 1);    /* the value */
    }
}

/* Encode the value on top of L into b and pop it. */
static void encode(lua_State *L, struct mbuf *b, int level)
{
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level == MAX_NESTING)
        t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        put_len(b, n, 0xa0, 31, 0xd9, 0xda, 0xdb);
        mb_add(b, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        mb_char(b, lua_toboolean(L, -1) ? 0xc3 : 0xc2);
        break;
    case LUA_TNUMBER:
        put_number(b, lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        encode_table(L, b, level);
        break;
    default:
        mb_char(b, 0xc0);
        break;
    }
    lua_pop(L, 1);
}

static int l_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (nargs == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs))
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    /* Tables nest at most MAX_NESTING deep, each level holding a key, a
     * value and a copy: reserve it all before encoding. */
    luaL_checkstack(L, 4 * MAX_NESTING + 8, "in function mp_check_stack");
    for (int i = 1; i <= nargs; i++) {
        struct mbuf b = {0};
        lua_pushvalue(L, i);
        encode(L, &b, 0);
        lua_pushlstring(L, b.p ? b.p : "", b.len);
        rc_free(b.p);
    }
    lua_concat(L, nargs);
    return 1;
}

/* ---- decoding ---- */

enum { DEC_OK, DEC_EOF, DEC_BADFMT };

struct cursor {
    const unsigned char *p;
    size_t left;
    int err;
};

static int need(struct cursor *c, size_t n)
{
    if (c->left < n) {
        c->err = DEC_EOF;
        return 0;
    }
    return 1;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void decode(lua_State *L, struct cursor *c);

static void decode_bytes(lua_State *L, struct cursor *c, int hdr, size_t len)
{
    if (!need(c, (size_t)hdr + len))
        return;
    lua_pushlstring(L, (const char *)c->p + hdr, len);
    c->p += (size_t)hdr + len;
    c->left -= (size_t)hdr + len;
}

static void decode_array(lua_State *L, struct cursor *c, uint64_t n)
{
    luaL_checkstack(L, 2, "in function mp_decode_to_lua_type");
    lua_newtable(L);
    for (uint64_t i = 0; i < n && c->err == DEC_OK; i++) {
        decode(L, c);
        if (c->err != DEC_OK)
            return;
        lua_rawseti(L, -2, (int)(i + 1));
    }
}

static void decode_map(lua_State *L, struct cursor *c, uint64_t n)
{
    luaL_checkstack(L, 3, "in function mp_decode_to_lua_type");
    lua_newtable(L);
    for (uint64_t i = 0; i < n && c->err == DEC_OK; i++) {
        decode(L, c);
        if (c->err != DEC_OK)
            return;
        decode(L, c);
        if (c->err != DEC_OK)
            return;
        lua_settable(L, -3);
    }
}

/* Decode one value at c and push it; on an error c->err is set and what
 * was pushed is left for the caller's error to discard. */
static void decode(lua_State *L, struct cursor *c)
{
    if (!need(c, 1))
        return;
    unsigned char t = c->p[0];
    if (t <= 0x7f || t >= 0xe0) {
        lua_pushnumber(L, t <= 0x7f ? (lua_Number)t : (lua_Number)(signed char)t);
        c->p++;
        c->left--;
        return;
    }
    if ((t & 0xe0) == 0xa0) {
        decode_bytes(L, c, 1, t & 0x1f);
        return;
    }
    if ((t & 0xf0) == 0x90 || (t & 0xf0) == 0x80) {
        c->p++;
        c->left--;
        if ((t & 0xf0) == 0x90)
            decode_array(L, c, t & 0x0f);
        else
            decode_map(L, c, t & 0x0f);
        return;
    }
    static const struct {
        unsigned char tag;
        unsigned char bytes;
    } widths[] = {
        {0xcc, 1}, {0xcd, 2}, {0xce, 4}, {0xcf, 8}, {0xd0, 1}, {0xd1, 2}, {0xd2, 4},
        {0xd3, 8}, {0xca, 4}, {0xcb, 8}, {0xd9, 1}, {0xda, 2}, {0xdb, 4}, {0xdc, 2},
        {0xdd, 4}, {0xde, 2}, {0xdf, 4},
    };
    switch (t) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
        if (t == 0xc0)
            lua_pushnil(L);
        else
            lua_pushboolean(L, t == 0xc3);
        c->p++;
        c->left--;
        return;
    default:
        break;
    }
    int bytes = 0;
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++)
        if (widths[i].tag == t)
            bytes = widths[i].bytes;
    if (bytes == 0) {
        c->err = DEC_BADFMT;
        return;
    }
    if (!need(c, 1 + (size_t)bytes))
        return;
    uint64_t v = be(c->p + 1, bytes);
    switch (t) {
    case 0xd9: case 0xda: case 0xdb:
        decode_bytes(L, c, 1 + bytes, (size_t)v);
        return;
    default:
        break;
    }
    c->p += 1 + bytes;
    c->left -= 1 + (size_t)bytes;
    switch (t) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        lua_pushnumber(L, (lua_Number)v);
        break;
    case 0xd0:
        lua_pushnumber(L, (int8_t)v);
        break;
    case 0xd1:
        lua_pushnumber(L, (int16_t)v);
        break;
    case 0xd2:
        lua_pushnumber(L, (int32_t)v);
        break;
    case 0xd3:
        lua_pushnumber(L, (lua_Number)(int64_t)v);
        break;
    case 0xca: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, 4);
        lua_pushnumber(L, f);
        break;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &v, 8);
        lua_pushnumber(L, d);
        break;
    }
    case 0xdc: case 0xdd:
        decode_array(L, c, v);
        break;
    default:
        decode_map(L, c, v);
        break;
    }
}

static int unpack_full(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = limit == 0 && offset == 0;
    /* Redis's text names the input length as the limit. */
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          (int)offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset,
                          (int)len);
    if (all)
        limit = INT_MAX;
    struct cursor c = {(const unsigned char *)s + offset, len - (size_t)offset, DEC_OK};
    int count = 0;
    for (; c.left > 0 && count < limit; count++) {
        luaL_checkstack(L, 1, "in function mp_check_stack");
        decode(L, &c);
        if (c.err == DEC_EOF)
            return luaL_error(L, "Missing bytes in input.");
        if (c.err == DEC_BADFMT)
            return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        luaL_checkstack(L, 1, "in function mp_check_stack");
        lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
        lua_insert(L, 2);
        count++;
    }
    return count;
}

static int l_unpack(lua_State *L)
{
    return unpack_full(L, 0, 0);
}

static int l_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return unpack_full(L, 1, offset);
}

static int l_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return unpack_full(L, limit, offset);
}

int luaopen_cmsgpack(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", l_pack},
        {"unpack", l_unpack},
        {"unpack_one", l_unpack_one},
        {"unpack_limit", l_unpack_limit},
        {NULL, NULL},
    };
    luaL_register(L, "cmsgpack", fns);
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
