/*
 * util.h — checked number parsing and formatting, clocks, random ids.
 *
 * The parsers and formatters reproduce Redis 7.0's util.c byte for byte,
 * because their accept/reject decisions and their output are visible to
 * clients ("ERR value is not an integer or out of range", the text of an
 * INCRBYFLOAT reply, the score stored for a sorted-set member).  Every
 * parser takes an explicit length, never relies on a NUL terminator and
 * never reads past s + len.  Parsers return 1 on success and 0 on failure;
 * on failure *out is left untouched.
 */
#ifndef RC_UTIL_H
#define RC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed for any long long in decimal plus the NUL ("-9223..808"). */
#define RC_LONG_STR_SIZE 21

/* Inputs of this length or longer are rejected by rc_str2ld, and a buffer
 * this big always holds rc_ld2str's output (Redis's MAX_LONG_DOUBLE_CHARS). */
#define RC_MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* A buffer this big always holds rc_d2str / rc_d2str_reply output. */
#define RC_MAX_D2STRING_CHARS 128

/*
 * Strict integer parsing, as Redis's string2ll: optional '-', then either
 * the single digit "0" or a digit 1-9 followed by digits.  Rejected: empty
 * input, spaces anywhere, a leading '+', leading zeros, "-0", any trailing
 * byte and values out of range.
 */
int rc_str2ll(const char *s, size_t len, long long *out);

/* A memory value as Redis's memtoull reads it: digits (none means 0,
 * leading zeros allowed) then an optional unit b, k (1000), kb (1024), m,
 * mb, g, gb in any case.  Returns 1 with *out set, 0 if malformed or out
 * of range. */
int rc_memtoull(const char *s, unsigned long long *out);

/* rc_str2ll, additionally range-checked for long (Redis's string2l). */
int rc_str2l(const char *s, size_t len, long *out);

/*
 * Strict unsigned parsing with the same grammar as rc_str2ll but no sign
 * at all, accepting 0 .. ULLONG_MAX.  Redis's string2ull falls back to
 * strtoull() and so also lets " 5" and "+5" through; ringcache does not.
 */
int rc_str2ull(const char *s, size_t len, unsigned long long *out);

/*
 * Decimal formatting.  Writes the digits and a terminating NUL into dst
 * and returns the number of digits (excluding the NUL).  Returns 0 and
 * writes nothing useful if dstlen cannot hold the digits plus the NUL;
 * RC_LONG_STR_SIZE bytes are always enough.
 */
size_t rc_ll2str(char *dst, size_t dstlen, long long v);
size_t rc_ull2str(char *dst, size_t dstlen, unsigned long long v);

/* A RESP header "<type><n>\r\n" (type '*', '$', ...) into dst, which
 * RC_RESP_HEADER_MAX bytes always hold; returns its length (no NUL). */
#define RC_RESP_HEADER_MAX (1 + RC_LONG_STR_SIZE + 2)
size_t rc_resp_header(char *dst, char type, long long n);

/* Number of decimal digits of v (1 for 0). */
unsigned rc_digits10(uint64_t v);

/*
 * Long double parsing, as Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT):
 * strtold() must consume the whole input.  Rejected: empty input or
 * RC_MAX_LONG_DOUBLE_CHARS bytes or more, a leading space, NaN, overflow
 * and underflow to zero.  Accepted: "inf"/"-inf"/"infinity", hexadecimal
 * floats, a leading '+', exponents, denormals.
 */
int rc_str2ld(const char *s, size_t len, long double *out);

/*
 * Long double formatting, as Redis's ld2string.  humanfriendly != 0 is
 * LD_STR_HUMAN ("%.17Lf" with trailing zeros and a trailing '.' removed,
 * "-0" printed as "0"); humanfriendly == 0 is LD_STR_AUTO ("%.17Lg").
 * Infinities print as "inf"/"-inf".  Writes a NUL-terminated string into
 * buf and returns its length, or 0 if buf is too small (a buffer of
 * RC_MAX_LONG_DOUBLE_CHARS bytes is always enough).
 */
size_t rc_ld2str(char *buf, size_t len, long double v, int humanfriendly);

/*
 * Double parsing, as Redis's string2d (ZADD scores, ZRANGEBYSCORE bounds,
 * INCRBYFLOAT-free double arguments): strtod() must consume the whole
 * input; a leading space, NaN, empty input, overflow and underflow to zero
 * are rejected; "inf", "+inf", "-inf" and hex floats are accepted.
 */
int rc_str2d(const char *s, size_t len, double *out);

/*
 * Exact-integer test, as Redis's double2ll: if v is integral and within
 * +/- LLONG_MAX/2, store it in *out and return 1; else return 0.
 */
int rc_double2ll(double v, long long *out);

/*
 * Double formatting, as Redis 7.0's d2string (the text a sorted set keeps
 * for a score): "nan", "inf", "-inf", "0", "-0"; integral values within
 * rc_double2ll's range in plain integer form ("100000000000000000");
 * everything else "%.17g".  Writes a NUL-terminated string, returns its
 * length, or 0 if buf is too small.
 */
size_t rc_d2str(char *buf, size_t len, double v);

/*
 * Double formatting as Redis 7.0 puts a double on the wire (addReplyDouble:
 * ZSCORE, ZINCRBY, WITHSCORES, RESP3 doubles): "inf"/"-inf", otherwise
 * "%.17g" always, so 1e17 is "1e+17" and 1.1 is "1.1000000000000001".
 * Same buffer contract as rc_d2str.
 */
size_t rc_d2str_reply(char *buf, size_t len, double v);

/* Wall-clock time since the Unix epoch in milliseconds / microseconds. */
uint64_t rc_mstime(void);
uint64_t rc_ustime(void);

/* Monotonic clock in microseconds, for measuring intervals only. */
uint64_t rc_monotonic_us(void);

/*
 * Fill out[0..len-1] with random lowercase hex digits (no NUL is written),
 * as used for run ids and node ids.  Returns 0 when the bytes came from
 * /dev/urandom, -1 if it could not be read, in which case out is still
 * filled, from a weak time/pid based generator; callers that need
 * unpredictable ids should treat -1 as an error.
 */
int rc_random_hex(char *out, size_t len);

#endif
