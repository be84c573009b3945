/*
 * sha256.h — SHA-256 (FIPS 180-4), for ACL password hashes.  A leaf: no
 * server headers.
 */
#ifndef RC_SHA256_H
#define RC_SHA256_H

#include <stddef.h>

/* The digest of p[0..len) as 64 lower-case hex digits and a NUL. */
void rc_sha256hex(char out[65], const char *p, size_t len);

#endif
