/*
 * function.h — Redis 7.0 functions (function.c): libraries of Lua
 * functions, FUNCTION and FCALL, and their place in snapshots.
 */
#ifndef RC_FUNCTION_H
#define RC_FUNCTION_H

#include <stddef.h>

struct rdb_out;

/* Load a library from its code (as FUNCTION LOAD [REPLACE]).  Returns 0,
 * or -1 with the error reply text (without '-') in err. */
int function_load_code(const char *code, size_t len, int replace, char *err, size_t errlen);

/* Append one RDB_OPCODE_FUNCTION2 record per library (snapshots, DUMP). */
void function_rdb_save(struct rdb_out *out);

/* The code of every library in bytewise order (adminsync.c): *codes and
 * *lens are rc_malloc'd, the codes point into the libraries (valid until
 * they change).  Returns how many. */
size_t function_codes(const char ***codes, size_t **lens);

/* Drop every library (FUNCTION FLUSH, shutdown, before loading a file). */
void function_flush_all(void);

/* For INFO: libraries, functions, the Lua state's bytes, the tables'. */
size_t function_count_libraries(void);
size_t function_count_functions(void);
size_t function_lua_memory(void);
size_t function_overhead(void);

#endif
