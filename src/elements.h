/*
 * elements.h — one walk over the elements of a list, set or sorted set,
 * whatever their encoding, for the commands that read every element
 * alike (SORT, DEBUG DIGEST).
 */
#ifndef RC_ELEMENTS_H
#define RC_ELEMENTS_H

#include <stddef.h>

struct kv;

/* Called with each element's bytes (valid during the call only). */
typedef void elements_fn(void *arg, const char *p, size_t len);

/* Calls fn for every element of o (a list head to tail, a set in its
 * iteration order, a sorted set by score); other types have none. */
void elements_walk(const struct kv *o, elements_fn *fn, void *arg);

#endif
