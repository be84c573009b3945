/*
 * luaconv.c — RESP <-> Lua conversions (see luaconv.h).
 *
 * The parser reads replies this server produced itself, but it is written
 * as if they were hostile (the fuzzer feeds it anything): every length is
 * checked against the bytes present and nesting is bounded.
 */
#include "luaconv.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "mem.h"
#include "util.h"

void lbuf_put(struct lbuf *b, const char *p, size_t n)
{
    if (n > SIZE_MAX - b->len)
        abort();
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        b->p = rc_realloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void lbuf_free(struct lbuf *b)
{
    rc_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- RESP -> Lua ---- */

/* The line starting at p[0..len): its length up to CR LF, or -1. */
static long line_len(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] == '\r')
            return p[i + 1] == '\n' ? (long)i : -1;
    }
    return -1;
}

static int parse_ll(const char *p, long n, long long *v)
{
    return n > 0 && rc_str2ll(p, (size_t)n, v);
}

static void set_field_str(lua_State *L, const char *field, const char *p, size_t n)
{
    lua_pushstring(L, field);
    lua_pushlstring(L, p, n);
    lua_settable(L, -3);
}

static size_t push_reply(lua_State *L, const char *p, size_t len, int depth);

/* An aggregate of n elements (pairs when pairs != 0) starting at p. */
static size_t push_aggregate(lua_State *L, const char *p, size_t len, int depth, char type,
                             long long n)
{
    size_t used = 0;
    if (type == '|') {
        /* Attributes are read and dropped; the reply after them counts. */
        for (long long i = 0; i < 2 * n; i++) {
            size_t k = push_reply(L, p + used, len - used, depth - 1);
            if (k == 0)
                return 0;
            lua_pop(L, 1);
            used += k;
        }
        size_t k = push_reply(L, p + used, len - used, depth - 1);
        return k ? used + k : 0;
    }
    lua_newtable(L);
    if (type == '%' || type == '~') {
        lua_pushstring(L, type == '%' ? "map" : "set");
        lua_newtable(L);
        for (long long i = 0; i < n; i++) {
            size_t k = push_reply(L, p + used, len - used, depth - 1);
            if (k == 0) {
                lua_pop(L, 3);
                return 0;
            }
            used += k;
            if (type == '%') {
                k = push_reply(L, p + used, len - used, depth - 1);
                if (k == 0) {
                    lua_pop(L, 4);
                    return 0;
                }
                used += k;
            } else {
                lua_pushboolean(L, 1);
            }
            /* A nil key (RESP3 null) cannot index a table: dropped. */
            if (lua_isnil(L, -2))
                lua_pop(L, 2);
            else
                lua_settable(L, -3);
        }
        lua_settable(L, -3);
        return used;
    }
    for (long long i = 0; i < n; i++) {
        size_t k = push_reply(L, p + used, len - used, depth - 1);
        if (k == 0) {
            lua_pop(L, 1);
            return 0;
        }
        used += k;
        lua_rawseti(L, -2, (int)(i + 1));
    }
    return used;
}

static size_t push_reply(lua_State *L, const char *p, size_t len, int depth)
{
    if (depth <= 0 || len < 3 || !lua_checkstack(L, 8))
        return 0;
    long n = line_len(p + 1, len - 1);
    if (n < 0)
        return 0;
    const char *s = p + 1;
    size_t hdr = (size_t)n + 3;
    long long v;
    switch (p[0]) {
    case ':':
        if (!parse_ll(s, n, &v))
            return 0;
        lua_pushnumber(L, (lua_Number)v);
        return hdr;
    case '+':
    case '-':
        lua_newtable(L);
        set_field_str(L, p[0] == '+' ? "ok" : "err", s, (size_t)n);
        return hdr;
    case '$':
    case '!':
    case '=':
        if (!parse_ll(s, n, &v) || v < -1)
            return 0;
        if (v == -1) {
            if (p[0] != '$')
                return 0;
            lua_pushboolean(L, 0);
            return hdr;
        }
        if ((unsigned long long)v > len - hdr || len - hdr - (size_t)v < 2 ||
            s[n + 2 + v] != '\r' || s[n + 3 + v] != '\n')
            return 0;
        if (p[0] == '$') {
            lua_pushlstring(L, p + hdr, (size_t)v);
        } else if (p[0] == '!') {
            lua_newtable(L);
            set_field_str(L, "err", p + hdr, (size_t)v);
        } else {
            if (v < 4 || p[hdr + 3] != ':')
                return 0;
            lua_newtable(L);
            lua_pushstring(L, "verbatim_string");
            lua_newtable(L);
            set_field_str(L, "format", p + hdr, 3);
            set_field_str(L, "string", p + hdr + 4, (size_t)v - 4);
            lua_settable(L, -3);
        }
        return hdr + (size_t)v + 2;
    case '*':
    case '~':
    case '%':
    case '>':
    case '|':
        if (!parse_ll(s, n, &v) || v < -1 || (v == -1 && p[0] != '*'))
            return 0;
        if (v == -1) {
            lua_pushboolean(L, 0);
            return hdr;
        }
        /* Every element takes at least 3 bytes: a bound on the count. */
        if ((unsigned long long)v > (len - hdr) / 3) {
            return 0;
        } else {
            size_t k = push_aggregate(L, p + hdr, len - hdr, depth, p[0], v);
            return k || v == 0 ? hdr + k : 0;
        }
    case '_':
        if (n != 0)
            return 0;
        lua_pushnil(L);
        return hdr;
    case '#':
        if (n != 1 || (s[0] != 't' && s[0] != 'f'))
            return 0;
        lua_pushboolean(L, s[0] == 't');
        return hdr;
    case ',': {
        char tmp[64];
        if (n == 0 || n >= (long)sizeof(tmp))
            return 0;
        memcpy(tmp, s, (size_t)n);
        tmp[n] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (*end != '\0')
            return 0;
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, d);
        lua_settable(L, -3);
        return hdr;
    }
    case '(':
        lua_newtable(L);
        set_field_str(L, "big_number", s, (size_t)n);
        return hdr;
    default:
        return 0;
    }
}

size_t luaconv_push_reply(lua_State *L, const char *p, size_t len, int max_depth)
{
    int top = lua_gettop(L);
    size_t k = push_reply(L, p, len, max_depth);
    if (k == 0)
        lua_settop(L, top);
    return k;
}

/* ---- Lua -> RESP ---- */

static void put_header(struct lbuf *b, char type, long long n)
{
    char hdr[32];
    hdr[0] = type;
    size_t k = 1 + rc_ll2str(hdr + 1, sizeof(hdr) - 3, n);
    hdr[k++] = '\r';
    hdr[k++] = '\n';
    lbuf_put(b, hdr, k);
}

static void put_bulk(struct lbuf *b, const char *p, size_t n)
{
    put_header(b, '$', (long long)n);
    lbuf_put(b, p, n);
    lbuf_put(b, "\r\n", 2);
}

/* A line reply (status, error, big number): CR and LF become spaces. */
static void put_line(struct lbuf *b, char type, const char *p, size_t n)
{
    lbuf_put(b, &type, 1);
    size_t start = b->len;
    lbuf_put(b, p, n);
    for (size_t i = start; i < b->len; i++)
        if (b->p[i] == '\r' || b->p[i] == '\n')
            b->p[i] = ' ';
    lbuf_put(b, "\r\n", 2);
}

static void put_null(struct lbuf *b, int resp)
{
    if (resp == 2)
        lbuf_put(b, "$-1\r\n", 5);
    else
        lbuf_put(b, "_\r\n", 3);
}

/* Lua numbers become integers as C's cast does on x86-64: values out of
 * range (and NaN) give LLONG_MIN, as redis-server's replies show. */
static long long num_to_ll(lua_Number d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return LLONG_MIN;
    return (long long)d;
}

static void put_double(struct lbuf *b, int resp, double d)
{
    char num[64];
    size_t n = rc_d2str_reply(num, sizeof(num), d);
    if (resp == 2) {
        put_bulk(b, num, n);
    } else {
        lbuf_put(b, ",", 1);
        lbuf_put(b, num, n);
        lbuf_put(b, "\r\n", 2);
    }
}

char *luaconv_error_text(lua_State *L, int idx)
{
    if (!lua_istable(L, idx))
        return NULL;
    lua_pushstring(L, "err");
    lua_rawget(L, idx < 0 ? idx - 1 : idx);
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        return NULL;
    }
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    char *out = rc_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
    out[n] = '\0';
    lua_pop(L, 1);
    return out;
}

/* Push t[field] (raw) for the table on top; returns its type. */
static int get_field(lua_State *L, const char *field)
{
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    return lua_type(L, -1);
}

static void table_to_resp(lua_State *L, int resp, int script_resp, struct lbuf *out)
{
    char *err = luaconv_error_text(L, -1);
    if (err) {
        /* Redis leaves an error that already starts with '-' as it is and
         * gives any other its '-'; the message is the err field. */
        lbuf_put(out, "-", 1);
        lbuf_put(out, err, strlen(err));
        lbuf_put(out, "\r\n", 2);
        rc_free(err);
        return;
    }
    size_t n;
    const char *s;
    if (get_field(L, "ok") == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        put_line(out, '+', s, n);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (get_field(L, "double") == LUA_TNUMBER) {
        put_double(out, resp, lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (get_field(L, "big_number") == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        if (resp == 2) {
            /* CR/LF mapped as for RESP3, then sent as a bulk. */
            struct lbuf tmp = {0};
            put_line(&tmp, '(', s, n);
            put_bulk(out, tmp.p + 1, tmp.len - 3);
            lbuf_free(&tmp);
        } else {
            put_line(out, '(', s, n);
        }
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (get_field(L, "verbatim_string") == LUA_TTABLE) {
        if (get_field(L, "format") == LUA_TSTRING) {
            const char *fmt = lua_tostring(L, -1);
            lua_pushstring(L, "string");
            lua_rawget(L, -3);
            if (lua_type(L, -1) == LUA_TSTRING) {
                s = lua_tolstring(L, -1, &n);
                if (resp == 2) {
                    put_bulk(out, s, n);
                } else {
                    char f3[3] = {' ', ' ', ' '};
                    for (size_t i = 0; i < 3 && fmt[i]; i++)
                        f3[i] = fmt[i];
                    put_header(out, '=', (long long)n + 4);
                    lbuf_put(out, f3, 3);
                    lbuf_put(out, ":", 1);
                    lbuf_put(out, s, n);
                    lbuf_put(out, "\r\n", 2);
                }
                lua_pop(L, 3);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    /* Map and set: count, then encode (the table is not changed between
     * the two walks, so the order is the same). */
    for (int kind = 0; kind < 2; kind++) {
        if (get_field(L, kind == 0 ? "map" : "set") != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        long long count = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            count++;
        }
        if (kind == 0)
            put_header(out, resp == 2 ? '*' : '%', resp == 2 ? 2 * count : count);
        else
            put_header(out, resp == 2 ? '*' : '~', count);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            /* stack: ..., table, key, value */
            if (kind == 0) {
                lua_pushvalue(L, -2);
                luaconv_to_resp(L, resp, script_resp, out);    /* the key's copy */
                luaconv_to_resp(L, resp, script_resp, out);    /* the value */
            } else {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                luaconv_to_resp(L, resp, script_resp, out);    /* the key's copy */
            }
        }
        lua_pop(L, 1);
        return;
    }

    /* The array t[1], t[2], ... up to the first nil. */
    long long count = 0;
    for (;;) {
        lua_rawgeti(L, -1, (int)(count + 1));
        int nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil || count == INT_MAX - 1)
            break;
        count++;
    }
    put_header(out, '*', count);
    for (long long i = 1; i <= count; i++) {
        lua_rawgeti(L, -1, (int)i);
        luaconv_to_resp(L, resp, script_resp, out);
    }
}

void luaconv_to_resp(lua_State *L, int resp, int script_resp, struct lbuf *out)
{
    /* Deeply nested (or self-referencing) tables: Redis's guard. */
    if (!lua_checkstack(L, 4)) {
        static const char e[] = "-ERR reached lua stack limit\r\n";
        lbuf_put(out, e, sizeof(e) - 1);
        lua_pop(L, 1);
        return;
    }
    size_t n;
    const char *s;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, -1, &n);
        put_bulk(out, s, n);
        break;
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1))
                lbuf_put(out, ":1\r\n", 4);
            else
                put_null(out, resp);
        } else if (resp == 2) {
            lbuf_put(out, lua_toboolean(L, -1) ? ":1\r\n" : ":0\r\n", 4);
        } else {
            lbuf_put(out, lua_toboolean(L, -1) ? "#t\r\n" : "#f\r\n", 4);
        }
        break;
    case LUA_TNUMBER:
        put_header(out, ':', num_to_ll(lua_tonumber(L, -1)));
        break;
    case LUA_TTABLE:
        table_to_resp(L, resp, script_resp, out);
        break;
    default:
        put_null(out, resp);
        break;
    }
    lua_pop(L, 1);
}
