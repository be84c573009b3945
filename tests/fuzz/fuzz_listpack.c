/*
 * fuzz_listpack.c — libFuzzer target for listpack.c.
 *
 * Every input is offered to lp_validate() as a listpack, shallow and deep.
 * An input that passes deep validation must then be safe for the whole
 * reading API: it is walked forwards and backwards (the two walks must
 * agree entry by entry), every entry is read as text and searched for, and
 * a copy is modified (append, replace, delete) and must still validate.
 * Any disagreement aborts; out-of-bounds reads are caught by the sanitizers.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *            tests/fuzz/fuzz_listpack.c src/listpack.c src/mem.c src/util.c \
 *            -o fuzz_listpack
 */
#include "listpack.h"
#include "mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WALK 4096

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int shallow = lp_validate(data, size, 0);
    int deep = lp_validate(data, size, 1);
    check(!deep || shallow);
    if (!deep)
        return 0;

    /* Work on an exact-size heap copy so that reads past the end are
     * reported by AddressSanitizer. */
    unsigned char *lp = rc_malloc(size);
    memcpy(lp, data, size);
    check(lp_bytes(lp) == size);

    size_t n = lp_count(lp);
    size_t offs[MAX_WALK];
    size_t seen = 0;
    for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, off)) {
        if (seen < MAX_WALK)
            offs[seen] = off;
        seen++;
        check(seen <= n);
    }
    check(seen == n);
    size_t back = n;
    for (size_t off = lp_last(lp); off != LP_NONE; off = lp_prev(lp, off)) {
        check(back > 0);
        back--;
        if (back < MAX_WALK)
            check(offs[back] == off);
    }
    check(back == 0);

    char buf[LP_INTBUF_SIZE];
    for (size_t i = 0; i < n && i < MAX_WALK; i++) {
        size_t len;
        const char *s = lp_get_str(lp, offs[i], &len, buf);
        check(lp_equal(lp, offs[i], s, len));
        size_t f = lp_find(lp, lp_first(lp), s, len, 0);
        check(f != LP_NONE && f <= offs[i]);
        check(lp_seek(lp, (long long)i) == offs[i]);
        check(lp_seek(lp, (long long)i - (long long)n) == offs[i]);
    }

    /* Modifications keep it well-formed.  Inputs are small (libFuzzer's
     * max_len), so copying entries is affordable. */
    if (n > 0) {
        size_t len;
        const char *s = lp_get_str(lp, lp_first(lp), &len, buf);
        char *copy = rc_malloc(len + 1);
        memcpy(copy, s, len);
        lp = lp_append(lp, copy, len);
        lp = lp_replace(lp, lp_first(lp), "x", 1);
        lp = lp_replace_int(lp, lp_last(lp), -300);
        check(lp_validate(lp, lp_bytes(lp), 1));
        check(lp_count(lp) == n + 1);
        check(lp_equal(lp, lp_last(lp), "-300", 4));
        lp = lp_delete_range(lp, 0, n);
        check(lp_count(lp) == 1);
        check(lp_validate(lp, lp_bytes(lp), 1));
        rc_free(copy);
    }
    lp_free(lp);
    return 0;
}
