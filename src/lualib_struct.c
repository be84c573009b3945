/*
 * lualib_struct.c — the `struct` library Redis scripts use: pack Lua
 * values into binary strings and unpack them (Roberto Ierusalimschy's
 * struct library, as Redis 7.0 ships it; Debian has no package for it).
 *
 * Format: a sequence of options, spaces ignored.
 *   >  big endian      <  little endian      ![n]  max alignment n (power of 2; default 8)
 *   x  one zero byte   b/B  signed/unsigned char   h/H  short   l/L  long
 *   T  size_t          i/I[n]  integer of n bytes (default 4, at most 32)
 *   f  float   d  double   s  zero-terminated string
 *   c[n]  n bytes of a string (c0: the whole string when packing; when
 *         unpacking, as many bytes as the number unpacked just before)
 * Defaults: native (little) endian, alignment 1.  unpack(fmt, s [, pos])
 * returns the values and the position after them; size(fmt) the bytes a
 * format takes.  Errors have the texts redis-server gives.
 */
#include "lualibs.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#define MAX_INT_SIZE 32
#define MAX_ALIGN 8

enum { ENDIAN_BIG = 0, ENDIAN_LITTLE = 1 };

struct fmtstate {
    int endian;
    int align;
};

static int native_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one ? ENDIAN_LITTLE : ENDIAN_BIG;
}

static int read_count(lua_State *L, const char **fmt, int dflt)
{
    if (!isdigit((unsigned char)**fmt))
        return dflt;
    int a = 0;
    while (isdigit((unsigned char)**fmt)) {
        int d = **fmt - '0';
        if (a > (INT_MAX - d) / 10)
            luaL_error(L, "integral size overflow");
        a = a * 10 + d;
        (*fmt)++;
    }
    return a;
}

/* Bytes taken by option opt (reading its count from *fmt); 0 for the
 * options without a fixed size of their own. */
static size_t option_size(lua_State *L, int opt, const char **fmt)
{
    switch (opt) {
    case 'b': case 'B': case 'x':
        return 1;
    case 'h': case 'H':
        return sizeof(short);
    case 'l': case 'L':
        return sizeof(long);
    case 'T':
        return sizeof(size_t);
    case 'f':
        return sizeof(float);
    case 'd':
        return sizeof(double);
    case 'c':
        return (size_t)read_count(L, fmt, 1);
    case 'i': case 'I': {
        int n = read_count(L, fmt, (int)sizeof(int));
        if (n > MAX_INT_SIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", n, MAX_INT_SIZE);
        return (size_t)n;
    }
    default:
        return 0;
    }
}

static size_t padding(size_t pos, const struct fmtstate *st, int opt, size_t size)
{
    if (size == 0 || opt == 'c')
        return 0;
    if (size > (size_t)st->align)
        size = (size_t)st->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* The options that change the state (or are invalid). */
static void control_option(lua_State *L, int opt, const char **fmt, struct fmtstate *st)
{
    switch (opt) {
    case ' ':
        return;
    case '>':
        st->endian = ENDIAN_BIG;
        return;
    case '<':
        st->endian = ENDIAN_LITTLE;
        return;
    case '!': {
        int a = read_count(L, fmt, MAX_ALIGN);
        if (a <= 0 || (a & (a - 1)) != 0)
            luaL_error(L, "alignment %d is not a power of 2", a);
        st->align = a;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

static void init_state(struct fmtstate *st)
{
    st->endian = native_endian();
    st->align = 1;
}

/* Bytes of a float or double in the requested order. */
static void order_bytes(char *p, size_t n, int endian)
{
    if (endian == native_endian())
        return;
    for (size_t i = 0; i < n / 2; i++) {
        char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static void pack_int(lua_State *L, luaL_Buffer *b, int arg, int endian, size_t size)
{
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v = n < 0 ? (uint64_t)(int64_t)n : (uint64_t)n;
    char out[MAX_INT_SIZE];
    for (size_t i = 0; i < size; i++) {
        size_t at = endian == ENDIAN_LITTLE ? i : size - 1 - i;
        out[at] = (char)(v & 0xff);
        v = i < 7 ? v >> 8 : 0;
    }
    luaL_addlstring(b, out, size);
}

static int l_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct fmtstate st;
    init_state(&st);
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L);             /* keeps the arguments apart from the buffer */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        size_t pad = padding(total, &st, opt, size);
        total += pad;
        while (pad-- > 0)
            luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            pack_int(L, &b, arg++, st.endian, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            order_bytes((char *)&f, sizeof(f), st.endian);
            luaL_addlstring(&b, (char *)&f, sizeof(f));
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            order_bytes((char *)&d, sizeof(d), st.endian);
            luaL_addlstring(&b, (char *)&d, sizeof(d));
            break;
        }
        case 'c':
        case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0)
                size = len;
            luaL_argcheck(L, len >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            control_option(L, opt, &fmt, &st);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number unpack_int(const char *p, int endian, int is_signed, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) {
        size_t at = endian == ENDIAN_BIG ? i : size - 1 - i;
        v = (v << 8) | (unsigned char)p[at];
    }
    if (!is_signed)
        return (lua_Number)v;
    if (size < 8 && (v >> (size * 8 - 1)) & 1)
        v |= ~(uint64_t)0 << (size * 8);   /* sign extension */
    return (lua_Number)(int64_t)v;
}

static int l_unpack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    lua_Integer start = luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, start > 0, 3, "offset must be 1 or greater");
    size_t pos = (size_t)start - 1;
    int n = 0;
    struct fmtstate st;
    init_state(&st);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &st, opt, size);
        luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            lua_pushnumber(L, unpack_int(data + pos, st.endian, islower(opt), size));
            n++;
            break;
        case 'x':
            break;
        case 'f': {
            float f;
            memcpy(&f, data + pos, sizeof(f));
            order_bytes((char *)&f, sizeof(f), st.endian);
            lua_pushnumber(L, f);
            n++;
            break;
        }
        case 'd': {
            double d;
            memcpy(&d, data + pos, sizeof(d));
            order_bytes((char *)&d, sizeof(d), st.endian);
            lua_pushnumber(L, d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                lua_Number want = lua_tonumber(L, -1);
                size = want > 0 ? (size_t)want : 0;
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *end = memchr(data + pos, '\0', len - pos);
            if (end == NULL)
                luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default:
            control_option(L, opt, &fmt, &st);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return n + 1;
}

static int l_size(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct fmtstate st;
    init_state(&st);
    size_t pos = 0;
    while (*fmt) {
        int opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &st, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum(opt))
            control_option(L, opt, &fmt, &st);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int luaopen_struct(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", l_pack}, {"unpack", l_unpack}, {"size", l_size}, {NULL, NULL},
    };
    luaL_register(L, "struct", fns);
    return 1;
}
