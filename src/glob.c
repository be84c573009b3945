/*
 * glob.c — Redis-compatible glob matching without backtracking blow-up.
 *
 * Redis's stringmatchlen() recurses at every '*', which made patterns such
 * as "a*a*a*a*...b" exponential (CVE-2022-36021, later pruned) and deep
 * star chains a stack hazard (CVE-2024-31228, later capped at 1000 levels).
 * Here every token other than '*' consumes exactly one byte, so the classic
 * "remember only the last star" backtracking is exact: when a token fails,
 * the most recent star absorbs one more byte and matching resumes after it.
 * Earlier stars never need to be revisited, because anything they could
 * absorb the last star can absorb too.  Each byte of s is re-examined at
 * most once per star, giving O(patlen * slen) time and O(1) space.
 *
 * Compatibility notes, all matching Redis on x86-64 Linux:
 *  - Redis reads one byte past the pattern (its NUL terminator) in a few
 *    places, notably while parsing an unterminated '['; pat_at() returns
 *    that virtual NUL.
 *  - Range bounds and the subject byte are compared as signed chars, so a
 *    range with a byte >= 0x80 in it spans "negative" values.
 *  - An escaped byte inside a class is compared case-sensitively even when
 *    nocase is set.
 *  - An empty subject matches only the empty pattern ("*" does not match
 *    ""; Redis's KEYS special-cases a lone "*" before calling the matcher).
 *  - A pattern whose star chain would nest deeper than RC_GLOB_MAX_NESTING
 *    in Redis's recursion matches nothing.
 */
#include "glob.h"

#include <stdint.h>

#define NO_STAR SIZE_MAX

/* The pattern byte at i, or the NUL Redis would find after its end. */
static inline int pat_at(const char *pat, size_t patlen, size_t i)
{
    return i < patlen ? (unsigned char)pat[i] : 0;
}

/* A byte as a signed char value, as Redis's range comparisons see it. */
static inline int schar(int byte)
{
    return byte >= 0x80 ? byte - 0x100 : byte;
}

/* ASCII-only tolower(), as in the "C" locale the server runs with. */
static inline int fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline int same(int a, int b, int nocase)
{
    return nocase ? fold(a) == fold(b) : a == b;
}

/*
 * Evaluate the class whose '[' is at pat[open] against subject byte c.
 * Stores in *next the position of the token after the class and returns
 * 1 if c is accepted.  The walk mirrors Redis's loop step for step,
 * including its handling of a '-' and a '\' near the end of the pattern.
 */
static int class_match(const char *pat, size_t patlen, size_t open, int c,
                       int nocase, size_t *next)
{
    size_t q = open + 1;
    int negate, match = 0;

    negate = pat_at(pat, patlen, q) == '^';
    if (negate)
        q++;
    for (;;) {
        int b = pat_at(pat, patlen, q);

        if (b == '\\' && q + 2 <= patlen) {
            q++;
            if ((unsigned char)pat[q] == c)
                match = 1;
        } else if (b == ']') {
            break;
        } else if (q >= patlen) {
            /* Unterminated: the class swallows the rest of the pattern. */
            q = patlen - 1;
            break;
        } else if (q + 3 <= patlen && pat[q + 1] == '-') {
            int lo = schar(b);
            int hi = schar((unsigned char)pat[q + 2]);
            int sc = schar(c);

            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = fold(lo);
                hi = fold(hi);
                sc = fold(sc);
            }
            q += 2;
            if (sc >= lo && sc <= hi)
                match = 1;
        } else if (same(b, c, nocase)) {
            match = 1;
        }
        q++;
    }
    *next = q + 1;
    return negate ? !match : match;
}

/*
 * Match the single-byte token at pat[p] (anything but '*') against c.
 * Stores the position of the following token in *next.
 */
static int token_match(const char *pat, size_t patlen, size_t p, int c,
                       int nocase, size_t *next)
{
    int b = (unsigned char)pat[p];

    switch (b) {
    case '?':
        *next = p + 1;
        return 1;
    case '[':
        return class_match(pat, patlen, p, c, nocase, next);
    case '\\':
        if (p + 1 < patlen) {
            p++;
            b = (unsigned char)pat[p];
        }
        break;
    default:
        break;
    }
    *next = p + 1;
    return same(b, c, nocase);
}

int rc_glob_match(const char *pat, size_t patlen, const char *s, size_t slen,
                  int nocase)
{
    size_t p = 0, i = 0;
    size_t star_p = NO_STAR; /* token after the most recent star group */
    size_t star_i = 0;       /* where that star's absorbed run ends */
    unsigned nesting = 0;    /* star groups Redis would have recursed into */

    if (slen == 0)
        return patlen == 0;

    while (i < slen) {
        if (p < patlen) {
            size_t next;

            if (pat[p] == '*') {
                while (p + 1 < patlen && pat[p + 1] == '*')
                    p++;
                if (p + 1 == patlen)
                    return 1; /* a trailing star takes everything left */
                if (++nesting > RC_GLOB_MAX_NESTING)
                    return 0;
                star_p = ++p;
                star_i = i;
                continue;
            }
            if (token_match(pat, patlen, p, (unsigned char)s[i], nocase,
                            &next)) {
                p = next;
                i++;
                continue;
            }
        }
        /* Mismatch, or pattern used up with bytes left: let the last
         * star absorb one more byte and retry the rest after it. */
        if (star_p == NO_STAR)
            return 0;
        i = ++star_i;
        p = star_p;
    }
    /* Subject used up: only trailing stars may remain. */
    while (p < patlen && pat[p] == '*')
        p++;
    return p == patlen;
}
