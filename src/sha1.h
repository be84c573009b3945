/*
 * sha1.h — SHA-1 (FIPS 180-4), for script names (EVAL's sha1, redis.sha1hex).
 * A leaf: no server state.
 */
#ifndef RC_SHA1_H
#define RC_SHA1_H

#include <stddef.h>

/* The 20-byte digest of p[0..len). */
void rc_sha1(unsigned char out[20], const void *p, size_t len);

/* The digest of p[0..len) as 40 lower-case hex digits and a NUL. */
void rc_sha1hex(char out[41], const char *p, size_t len);

#endif
