/*
 * t_list.h — the list type: value lifecycle hooks for object.c and bio.c.
 *
 * A list value (struct kv with type OBJ_LIST) always has encoding
 * ENC_QUICKLIST and v.ptr points to a struct quicklist (quicklist.h),
 * which Redis 7.0's OBJECT ENCODING also reports as "quicklist" for every
 * list.  An empty list never stays in the keyspace: the command that
 * removes the last element deletes the key.
 */
#ifndef RC_T_LIST_H
#define RC_T_LIST_H

#include <stddef.h>

/* Frees a list value of encoding enc. */
void list_free_value(int enc, void *ptr);

/* A deep copy of a list value, owned by the caller. */
void *list_dup_value(int enc, const void *ptr);

/* Bytes allocated for a list value. */
size_t list_mem(int enc, const void *ptr);

/* Allocations a free of this value costs (for lazy-free decisions). */
size_t list_free_effort(int enc, const void *ptr);

#endif
