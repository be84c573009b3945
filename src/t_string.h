/*
 * t_string.h — string-value helpers shared by the string commands
 * (t_string.c) and the bitmap commands (t_bit.c).
 */
#ifndef RC_T_STRING_H
#define RC_T_STRING_H

#include <stddef.h>

struct client;
struct kv;
struct rstr;

/*
 * Check that growing a string of `size` bytes by `append` bytes stays
 * within proto-max-bulk-len.  Returns 0 when it does; otherwise replies
 * "ERR string exceeds maximum allowed size (proto-max-bulk-len)" and
 * returns -1.  Clients that must be obeyed (log replay, CF_FAKE) are never
 * refused, as Redis exempts its master and AOF clients.
 */
int string_check_size(struct client *c, unsigned long long size, unsigned long long append);

/*
 * Make the string value of o raw (writable) and at least `len` bytes long;
 * bytes added past the old end are zero, and the buffer stays
 * NUL-terminated.  A value already `len` bytes or longer keeps its length.
 * The entry itself is not moved; the returned buffer is owned by o.
 */
struct rstr *string_grow_zero(struct kv *o, size_t len);

#endif
