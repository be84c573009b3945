/*
 * luaconv.h — conversions between RESP replies and Lua values, as Redis
 * 7.0's scripting engine does them.
 *
 * A leaf: it knows Lua and RESP bytes, nothing of the server, so the
 * fuzzer can drive it alone (tests/fuzz/fuzz_luaconv.c).
 *
 * RESP -> Lua (what redis.call returns to a script):
 *   integer -> number          bulk -> string        $-1 / *-1 -> false
 *   +status -> {ok=s}          -error -> {err=s}     array -> table 1..n
 *   RESP3 (after redis.setresp(3)):  _ -> nil     #t/#f -> boolean
 *   ,double -> {double=n}   (big -> {big_number=s}
 *   =verbatim -> {verbatim_string={format=f, string=s}}
 *   %map -> {map={k=v...}}  ~set -> {set={k=true...}}  |attribute: skipped
 *
 * Lua -> RESP (what a script returns to its caller), for a caller speaking
 * protocol `resp`:
 *   string -> bulk             number -> integer (truncated)
 *   boolean, script in RESP2: true -> :1, false -> null
 *   boolean, script in RESP3: #t/#f (:1/:0 to a RESP2 caller)
 *   table with err -> error, ok -> status, double -> double,
 *   big_number -> big number, verbatim_string -> verbatim, map -> map,
 *   set -> set, else the array of t[1], t[2], ... up to the first nil
 *   anything else -> null
 */
#ifndef RC_LUACONV_H
#define RC_LUACONV_H

#include <stddef.h>

#include <lua.h>

/* A growing byte buffer (rc_malloc'd). */
struct lbuf {
    char *p;
    size_t len;
    size_t cap;
};

void lbuf_put(struct lbuf *b, const char *p, size_t n);
void lbuf_free(struct lbuf *b);

/* Parse one whole reply at p[0..len) and push it on L.  Returns the bytes
 * it took, or 0 (nothing pushed) if the bytes are not one valid reply or
 * nest deeper than max_depth. */
size_t luaconv_push_reply(lua_State *L, const char *p, size_t len, int max_depth);

/* Encode the value on top of L as a reply for a client speaking protocol
 * resp (2 or 3), from a script that selected script_resp with
 * redis.setresp, and pop it.  Errors and statuses have CR and LF turned
 * into spaces, as Redis does. */
void luaconv_to_resp(lua_State *L, int resp, int script_resp, struct lbuf *out);

/* The message of an error table (its err field) on top of L, as Redis
 * replies it: without leading '-', CR/LF trimmed at the end and mapped to
 * spaces inside.  Returns a rc_malloc'd string; NULL if the value is not
 * a table with a string err. */
char *luaconv_error_text(lua_State *L, int idx);

#endif
