/*
 * glob.h — Redis-compatible glob-style pattern matching (KEYS, SCAN MATCH,
 * PSUBSCRIBE, CONFIG GET, ACL key patterns).
 *
 * Syntax: '*' any run of bytes, '?' one byte, '[abc]' '[^abc]' '[a-z]'
 * classes, '\' escapes the next byte.  The result equals Redis 7.0's
 * stringmatchlen() for every input, including its edge cases (unterminated
 * '[', reversed ranges, '\' at the end, an empty subject string), but the
 * matcher is iterative and runs in O(patlen * slen) time and constant stack
 * however the pattern is built.
 */
#ifndef RC_GLOB_H
#define RC_GLOB_H

#include <stddef.h>

/*
 * Redis gives up (answers "no match") on patterns that need more than this
 * many nested '*' expansions (CVE-2024-31228); the result is reproduced
 * here even though this matcher does not recurse.
 */
#define RC_GLOB_MAX_NESTING 1000

/*
 * Match the byte string s[0..slen) against pat[0..patlen).  Both are
 * binary-safe and need no NUL terminator.  nocase folds ASCII letters only.
 * Returns 1 on a match, 0 otherwise.
 */
int rc_glob_match(const char *pat, size_t patlen, const char *s, size_t slen,
                  int nocase);

#endif
