/*
 * eval.h — the EVAL script cache (eval.c).
 */
#ifndef RC_EVAL_H
#define RC_EVAL_H

#include <stddef.h>

/* Drop every cached script and the Lua state (SCRIPT FLUSH, shutdown). */
void eval_flush(void);

/* For INFO: bytes used by the EVAL Lua state, scripts cached, the cache. */
size_t eval_lua_memory(void);
size_t eval_scripts(void);
size_t eval_overhead(void);         /* the cache's own memory */

#endif
