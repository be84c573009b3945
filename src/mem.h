/*
 * mem.h — the allocator shim.
 *
 * Every allocation in ringcache goes through these functions so that
 * used_memory (INFO, maxmemory) is known exactly and so that the allocator
 * can be switched (jemalloc in production builds, libc malloc in sanitizer
 * builds) in one place.  Allocation failure is fatal: the process logs and
 * aborts, as Redis does, instead of spreading NULL checks through the code.
 */
#ifndef RC_MEM_H
#define RC_MEM_H

#include <stddef.h>

void *rc_malloc(size_t size);
void *rc_calloc(size_t size);
void *rc_realloc(void *ptr, size_t size);
void rc_free(void *ptr);
char *rc_strndup(const char *s, size_t len);

/* Usable size of an allocation made by rc_malloc and friends. */
size_t rc_usable(void *ptr);

/* Bytes currently allocated through the shim (usable sizes). */
size_t rc_used_memory(void);

/* Name of the allocator the binary was built with: "jemalloc-5.3.0", "libc". */
const char *rc_allocator_name(void);

#endif
