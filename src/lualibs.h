/*
 * lualibs.h — the Lua libraries Redis scripts expect that Debian does not
 * package: struct (lualib_struct.c) and cmsgpack (lualib_cmsgpack.c).
 * Each registers its global table and returns it.
 */
#ifndef RC_LUALIBS_H
#define RC_LUALIBS_H

#include <lua.h>

int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);

#endif
