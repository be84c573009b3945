/*
 * fuzz_glob.c — libFuzzer target for glob.c.
 *
 * Input layout: byte 0 holds flags (bit 0: nocase), byte 1 picks where the
 * rest splits into pattern and subject.  Every input is matched for crashes
 * and sanitizer reports whatever its size; inputs small enough for an
 * exhaustive search are also checked against ref_match(), a deliberately
 * naive recursive restatement of Redis's stringmatchlen() rules, and any
 * disagreement aborts.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *            tests/fuzz/fuzz_glob.c src/glob.c -o fuzz_glob
 */
#include "glob.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Sizes up to which the exponential reference is affordable. */
#define REF_MAX_PAT 14
#define REF_MAX_STR 14

struct ref_class {
    int negate;
    size_t end;     /* position of the token after the class */
    size_t nitems;
    struct {
        int lo, hi;  /* signed-char bounds; lo == hi for single bytes */
        int exact;   /* escaped byte: compared without case folding */
    } item[REF_MAX_PAT];
};

static int ref_byte(const uint8_t *p, size_t n, size_t i)
{
    return i < n ? p[i] : 0; /* Redis sees its NUL terminator past the end */
}

static int ref_signed(int b)
{
    return (signed char)(unsigned char)b;
}

static int ref_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Split the class opening at p[open] into items, Redis-style. */
static void ref_parse_class(const uint8_t *p, size_t n, size_t open,
                            struct ref_class *cl)
{
    size_t pos = open + 1;

    cl->nitems = 0;
    cl->negate = ref_byte(p, n, pos) == '^';
    if (cl->negate)
        pos++;
    for (;;) {
        int b = ref_byte(p, n, pos);

        if (b == '\\' && pos + 1 < n) {
            cl->item[cl->nitems].lo = cl->item[cl->nitems].hi = p[pos + 1];
            cl->item[cl->nitems++].exact = 1;
            pos += 2;
        } else if (b == ']') {
            cl->end = pos + 1;
            return;
        } else if (pos >= n) {
            cl->end = n; /* unterminated: takes the rest of the pattern */
            return;
        } else if (pos + 2 < n && p[pos + 1] == '-') {
            int lo = ref_signed(p[pos]), hi = ref_signed(p[pos + 2]);

            cl->item[cl->nitems].lo = lo < hi ? lo : hi;
            cl->item[cl->nitems].hi = lo < hi ? hi : lo;
            cl->item[cl->nitems++].exact = 0;
            pos += 3;
        } else {
            cl->item[cl->nitems].lo = cl->item[cl->nitems].hi = ref_signed(b);
            cl->item[cl->nitems++].exact = 0;
            pos += 1;
        }
    }
}

static int ref_class_has(const struct ref_class *cl, int c, int nocase)
{
    size_t i;
    int hit = 0;

    for (i = 0; i < cl->nitems; i++) {
        int lo = cl->item[i].lo, hi = cl->item[i].hi, sc = ref_signed(c);

        if (cl->item[i].exact) {
            hit |= (lo & 0xff) == c;
            continue;
        }
        if (nocase) {
            lo = ref_lower(lo);
            hi = ref_lower(hi);
            sc = ref_lower(sc);
        }
        hit |= sc >= lo && sc <= hi;
    }
    return cl->negate ? !hit : hit;
}

static int ref_rest(const uint8_t *p, size_t pn, size_t pi, const uint8_t *s,
                    size_t sn, size_t si, int nocase)
{
    struct ref_class cl;
    size_t next;
    int b, ok;

    if (pi == pn)
        return si == sn;
    if (si == sn) {
        /* Subject used up: only stars may be left. */
        while (pi < pn && p[pi] == '*')
            pi++;
        return pi == pn;
    }
    b = p[pi];
    if (b == '*') {
        size_t k;

        while (pi + 1 < pn && p[pi + 1] == '*')
            pi++;
        for (k = si; k <= sn; k++)
            if (ref_rest(p, pn, pi + 1, s, sn, k, nocase))
                return 1;
        return 0;
    }
    if (b == '?') {
        ok = 1;
        next = pi + 1;
    } else if (b == '[') {
        ref_parse_class(p, pn, pi, &cl);
        ok = ref_class_has(&cl, s[si], nocase);
        next = cl.end;
    } else {
        if (b == '\\' && pi + 1 < pn)
            b = p[++pi];
        ok = nocase ? ref_lower(b) == ref_lower(s[si]) : b == s[si];
        next = pi + 1;
    }
    return ok && ref_rest(p, pn, next, s, sn, si + 1, nocase);
}

static int ref_match(const uint8_t *p, size_t pn, const uint8_t *s, size_t sn,
                     int nocase)
{
    /* Redis never enters its loop for an empty subject. */
    if (sn == 0)
        return pn == 0;
    return ref_rest(p, pn, 0, s, sn, 0, nocase);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *rest;
    size_t restlen, plen, slen;
    int nocase, got;

    if (size < 2)
        return 0;
    nocase = data[0] & 1;
    rest = data + 2;
    restlen = size - 2;
    plen = restlen ? data[1] % (restlen + 1) : 0;
    slen = restlen - plen;

    got = rc_glob_match((const char *)rest, plen, (const char *)rest + plen,
                        slen, nocase);
    if (plen <= REF_MAX_PAT && slen <= REF_MAX_STR &&
        got != ref_match(rest, plen, rest + plen, slen, nocase))
        abort();
    return 0;
}
