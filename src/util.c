/*
 * util.c — checked number parsing and formatting, clocks, random ids.
 *
 * The integer parsers are hand-written state machines rather than strtoll()
 * wrappers: strtoll() accepts leading spaces, '+', leading zeros and
 * "-0", all of which Redis rejects, and it needs a NUL terminator that
 * protocol buffers do not have.  The floating-point parsers do call the C
 * library (correct rounding is not something to reimplement), on a
 * NUL-terminated copy of the input, and then apply Redis's extra checks.
 *
 * Everything here assumes the "C" LC_NUMERIC and LC_CTYPE locales, which
 * the daemon never changes (Redis only sets LC_COLLATE).
 */
#define _POSIX_C_SOURCE 200809L

#include "util.h"
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

size_t rc_resp_header(char *dst, char type, long long n)
{
    dst[0] = type;
    size_t k = 1 + rc_ll2str(dst + 1, RC_LONG_STR_SIZE, n);
    dst[k++] = '\r';
    dst[k++] = '\n';
    return k;
}

/* ------------------------------------------------------------------------ */
/* Integer parsing                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Parse an unsigned decimal with no sign: "0" alone, or [1-9][0-9]*.
 * Returns 1 and stores the value if it fits in unsigned long long.
 */
static int parse_digits(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v;
    size_t i;

    if (len == 0)
        return 0;
    if (s[0] == '0') {
        if (len != 1)
            return 0; /* leading zero */
        *out = 0;
        return 1;
    }
    if (s[0] < '1' || s[0] > '9')
        return 0;
    v = (unsigned long long)(s[0] - '0');
    for (i = 1; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return 0;
        d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0; /* v * 10 + d would overflow */
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int rc_str2ll(const char *s, size_t len, long long *out)
{
    unsigned long long mag;
    int negative = 0;

    /* No valid long long needs RC_LONG_STR_SIZE bytes or more. */
    if (len == 0 || len >= RC_LONG_STR_SIZE)
        return 0;
    if (s[0] == '-') {
        negative = 1;
        s++;
        len--;
    }
    if (!parse_digits(s, len, &mag))
        return 0;
    if (negative) {
        /* "-0" is rejected, as Redis does. */
        if (mag == 0 || mag > (unsigned long long)LLONG_MAX + 1)
            return 0;
        /* -(mag - 1) - 1 never overflows, including for LLONG_MIN. */
        *out = -(long long)(mag - 1) - 1;
    } else {
        if (mag > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)mag;
    }
    return 1;
}

int rc_str2l(const char *s, size_t len, long *out)
{
    long long v;

    if (!rc_str2ll(s, len, &v))
        return 0;
    if (v < LONG_MIN || v > LONG_MAX)
        return 0;
    *out = (long)v;
    return 1;
}

int rc_str2ull(const char *s, size_t len, unsigned long long *out)
{
    /* ULLONG_MAX has 20 digits; anything longer cannot be valid. */
    if (len == 0 || len >= RC_LONG_STR_SIZE)
        return 0;
    return parse_digits(s, len, out);
}

/* ------------------------------------------------------------------------ */
/* Integer formatting                                                       */
/* ------------------------------------------------------------------------ */

/* "00" "01" ... "99": two output digits per division by 100. */
static const char digit_pairs[201] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

unsigned rc_digits10(uint64_t v)
{
    unsigned n = 1;

    for (;;) {
        if (v < 10)
            return n;
        if (v < 100)
            return n + 1;
        if (v < 1000)
            return n + 2;
        if (v < 10000)
            return n + 3;
        v /= 10000;
        n += 4;
    }
}

size_t rc_ull2str(char *dst, size_t dstlen, unsigned long long v)
{
    size_t n = rc_digits10(v);
    size_t pos;

    if (dstlen < n + 1)
        return 0;
    dst[n] = '\0';
    pos = n - 1;
    /* rc_digits10 is exact, so pos reaches 0 or 1 exactly when v < 100. */
    while (v >= 100) {
        size_t i = (size_t)(v % 100) * 2;

        v /= 100;
        dst[pos] = digit_pairs[i + 1];
        dst[pos - 1] = digit_pairs[i];
        pos -= 2;
    }
    if (v < 10) {
        dst[pos] = (char)('0' + v);
    } else {
        size_t i = (size_t)v * 2;

        dst[pos] = digit_pairs[i + 1];
        dst[pos - 1] = digit_pairs[i];
    }
    return n;
}

size_t rc_ll2str(char *dst, size_t dstlen, long long v)
{
    unsigned long long mag;
    size_t n;

    if (v >= 0)
        return rc_ull2str(dst, dstlen, (unsigned long long)v);
    /* Magnitude computed without negating LLONG_MIN. */
    mag = (unsigned long long)(-(v + 1)) + 1;
    if (dstlen < 2)
        return 0;
    n = rc_ull2str(dst + 1, dstlen - 1, mag);
    if (n == 0)
        return 0;
    dst[0] = '-';
    return n + 1;
}

/* ------------------------------------------------------------------------ */
/* Floating point                                                           */
/* ------------------------------------------------------------------------ */

int rc_str2ld(const char *s, size_t len, long double *out)
{
    char buf[RC_MAX_LONG_DOUBLE_CHARS];
    long double v;
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    /* strtold() would skip leading white space; Redis refuses it. */
    if (isspace((unsigned char)s[0]))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    v = strtold(buf, &end);
    /* An embedded NUL stops strtold() early and fails this test too. */
    if ((size_t)(end - buf) != len)
        return 0;
    /* Overflow to infinity or underflow to zero; a denormal result with
     * ERANGE is kept, as Redis keeps it.  An explicit "inf" sets no
     * errno and is accepted. */
    if (errno == ERANGE && (isinf(v) || v == 0))
        return 0;
    if (errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

int rc_str2d(const char *s, size_t len, double *out)
{
    char stackbuf[256];
    char *buf = stackbuf;
    double v;
    char *end;
    int ok;

    if (len == 0 || isspace((unsigned char)s[0]))
        return 0;
    /* Redis has no length limit here (a valid double can carry any number
     * of digits), so long inputs get a heap copy. */
    if (len >= sizeof(stackbuf))
        buf = rc_malloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    v = strtod(buf, &end);
    ok = (size_t)(end - buf) == len &&
         !(errno == ERANGE && (isinf(v) || v == 0)) && !isnan(v);
    if (buf != stackbuf)
        rc_free(buf);
    if (!ok)
        return 0;
    *out = v;
    return 1;
}

/* Copy a short constant into buf if it fits with its NUL; else return 0. */
static size_t put_const(char *buf, size_t len, const char *text)
{
    size_t n = strlen(text);

    if (len < n + 1)
        return 0;
    memcpy(buf, text, n + 1);
    return n;
}

/* snprintf's result as this file's "length or 0 when it did not fit". */
static size_t fitted(int n, size_t len)
{
    if (n < 0 || (size_t)n + 1 > len)
        return 0;
    return (size_t)n;
}

size_t rc_ld2str(char *buf, size_t len, long double v, int humanfriendly)
{
    size_t n;

    if (isinf(v)) {
        /* Printed explicitly: libcs disagree on how to spell infinity.
         * Redis requires room for "-inf\0" even for "inf". */
        if (len < 5)
            return 0;
        return put_const(buf, len, v > 0 ? "inf" : "-inf");
    }
    if (!humanfriendly)
        return fitted(snprintf(buf, len, "%.17Lg", v), len);

    /* 17 fractional digits round most short decimal inputs back to what
     * the user typed once trailing zeros are dropped (0.1 + 0.2 = "0.3"). */
    n = fitted(snprintf(buf, len, "%.17Lf", v), len);
    if (n == 0)
        return 0;
    if (memchr(buf, '.', n) != NULL) {
        while (buf[n - 1] == '0')
            n--;
        if (buf[n - 1] == '.')
            n--;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    buf[n] = '\0';
    return n;
}

int rc_double2ll(double v, long long *out)
{
    long long ll;

    /* The negated tests also send NaN to "no". */
    if (!(v >= (double)(-LLONG_MAX / 2) && v <= (double)(LLONG_MAX / 2)))
        return 0;
    ll = (long long)v; /* in range, so the conversion is defined */
    if ((double)ll != v)
        return 0;
    *out = ll;
    return 1;
}

size_t rc_d2str(char *buf, size_t len, double v)
{
    long long ll;

    if (isnan(v))
        return put_const(buf, len, "nan");
    if (isinf(v))
        return put_const(buf, len, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return put_const(buf, len, signbit(v) ? "-0" : "0");
    if (rc_double2ll(v, &ll))
        return rc_ll2str(buf, len, ll);
    return fitted(snprintf(buf, len, "%.17g", v), len);
}

size_t rc_d2str_reply(char *buf, size_t len, double v)
{
    if (isinf(v))
        return put_const(buf, len, v < 0 ? "-inf" : "inf");
    return fitted(snprintf(buf, len, "%.17g", v), len);
}

/* ------------------------------------------------------------------------ */
/* Clocks                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;

    /* Cannot fail for these clock ids on any supported system. */
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rc_ustime(void)
{
    return clock_us(CLOCK_REALTIME);
}

uint64_t rc_mstime(void)
{
    return rc_ustime() / 1000u;
}

uint64_t rc_monotonic_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* ------------------------------------------------------------------------ */
/* Random identifiers                                                       */
/* ------------------------------------------------------------------------ */

/* Read exactly len bytes from /dev/urandom; 0 on success, -1 otherwise. */
static int urandom_bytes(unsigned char *p, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd == -1)
        return -1;
    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n == -1 && errno == EINTR) {
            continue;
        } else {
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

/* splitmix64 step: the weak fallback generator. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

int rc_random_hex(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char chunk[64];
    uint64_t state = 0;
    int rc = 0;
    size_t i = 0;

    while (i < len) {
        size_t want = (len - i + 1) / 2; /* two hex digits per byte */
        size_t j;

        if (want > sizeof(chunk))
            want = sizeof(chunk);
        if (rc == 0 && urandom_bytes(chunk, want) != 0) {
            rc = -1;
            state = rc_ustime() ^ (rc_monotonic_us() << 20) ^
                    ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)out;
        }
        if (rc != 0) {
            for (j = 0; j < want; j++)
                chunk[j] = (unsigned char)splitmix64(&state);
        }
        for (j = 0; j < want && i < len; j++) {
            out[i++] = hex[chunk[j] >> 4];
            if (i < len)
                out[i++] = hex[chunk[j] & 0x0f];
        }
    }
    return rc;
}

int rc_memtoull(const char *s, unsigned long long *out)
{
    static const struct {
        const char *name;
        unsigned long long mul;
    } units[] = {{"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000ULL * 1000},
                 {"mb", 1024ULL * 1024}, {"g", 1000ULL * 1000 * 1000},
                 {"gb", 1024ULL * 1024 * 1024}};
    size_t digits = 0;
    while (isdigit((unsigned char)s[digits]))
        digits++;
    size_t u = 0, nunits = sizeof(units) / sizeof(units[0]);
    while (u < nunits && strcasecmp(s + digits, units[u].name) != 0)
        u++;
    if (u == nunits)
        return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (v > ULLONG_MAX / units[u].mul)
        return 0;
    *out = v * units[u].mul;
    return 1;
}
