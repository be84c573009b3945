/*
 * mem.c — allocator shim: counts usable bytes, aborts on exhaustion.
 *
 * With jemalloc linked in, malloc() and friends are jemalloc's (Debian's
 * libjemalloc replaces the libc symbols), and malloc_usable_size() reports
 * the size class actually handed out, so used_memory matches the allocator's
 * own view of what we hold.  The counter is atomic because the background
 * thread frees large values.
 */
#ifdef HAVE_CONFIG_H
#include "rcbuild.h"   /* HAVE_JEMALLOC, from configure */
#endif
#include "mem.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic size_t used_memory;

static void oom(size_t size)
{
    fprintf(stderr, "ringcached: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

static inline void count_alloc(void *p)
{
    atomic_fetch_add_explicit(&used_memory, malloc_usable_size(p),
                              memory_order_relaxed);
}

static inline void count_free(void *p)
{
    atomic_fetch_sub_explicit(&used_memory, malloc_usable_size(p),
                              memory_order_relaxed);
}

void *rc_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom(size);
    count_alloc(p);
    return p;
}

void *rc_calloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (p == NULL)
        oom(size);
    count_alloc(p);
    return p;
}

void *rc_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return rc_malloc(size);
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        oom(size);
    size_t now = malloc_usable_size(p);
    if (now >= old)
        atomic_fetch_add_explicit(&used_memory, now - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&used_memory, old - now, memory_order_relaxed);
    return p;
}

void rc_free(void *ptr)
{
    if (ptr == NULL)
        return;
    count_free(ptr);
    free(ptr);
}

char *rc_strndup(const char *s, size_t len)
{
    char *p = rc_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t rc_usable(void *ptr)
{
    return ptr ? malloc_usable_size(ptr) : 0;
}

size_t rc_used_memory(void)
{
    return atomic_load_explicit(&used_memory, memory_order_relaxed);
}

const char *rc_allocator_name(void)
{
#ifdef HAVE_JEMALLOC
    return "jemalloc-5.3.0";
#else
    return "libc";
#endif
}
