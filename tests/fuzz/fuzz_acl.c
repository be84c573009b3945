/*
 * fuzz_acl.c — libFuzzer target for the ACL rule parser (acl.c): ACL
 * SETUSER rule words, aclfile text, and the describe/apply round trip.
 *
 * Input layout: byte 0 picks the mode (even: rule words, odd: an aclfile);
 * the rest is split on '\n' into rule words (mode 0) or used as the file.
 * Every input is applied for crashes, leaks and sanitizer reports.  For
 * rule words that were accepted, the user's ACL LIST description is applied
 * to a fresh user, which must describe itself identically:
 * the description is the rules that recreate the user, as Redis promises.
 * Inputs whose patterns hold spaces or parentheses are exempt (Redis's
 * own description cannot round-trip those either), and so are users with
 * a "%RW~*" pattern next to others: it is described as "~*", which applied
 * again means allkeys and drops the others, in Redis as here.
 *
 * The parser needs the command table, so the target links the server's
 * sources except main.c (see Makefile.am's fuzz rule).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "command.h"
#include "config.h"
#include "mem.h"
#include "server.h"

struct server server;

static int ready;

static void setup(void)
{
    char err[512];
    memset(&server, 0, sizeof(server));
    config_init_defaults();
    command_table_init();
    if (acl_init(err, sizeof(err)) != 0)
        abort();
    ready = 1;
}

/* Split s[0..len) on sep into slices (pointing into s). */
static int split(const char *s, size_t len, char sep, struct slice *out, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || s[i] == sep) {
            out[n].p = s + start;
            out[n++].len = i - start;
            start = i + 1;
        }
    }
    return n;
}

static int round_trip_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == ' ' || s[i] == '(' || s[i] == ')' || s[i] == '\0' || s[i] == '\t' ||
            s[i] == '\r')
            return 0;
    return 1;
}

static void check_round_trip(void)
{
    struct acl_user *u = acl_user_find("fz", 2);
    if (u == NULL)
        abort();
    char *d = acl_describe_user(u);
    size_t dl = strlen(d);
    size_t tildes = 0;
    for (size_t i = 0; i < dl; i++)
        tildes += d[i] == '~';
    if (tildes > 1 && (strstr(d, " ~* ") || strncmp(d, "~* ", 3) == 0)) {
        rc_free(d);
        return;
    }
    struct slice words[4096];
    int n = split(d, dl, ' ', words, 4096);
    char err[1024];
    if (acl_setuser("fz2", 3, n, words, err, sizeof(err)) != 0) {
        fprintf(stderr, "description not accepted: %s\n%s\n", d, err);
        abort();
    }
    char *d2 = acl_describe_user(acl_user_find("fz2", 3));
    if (strcmp(d, d2) != 0) {
        fprintf(stderr, "round trip differs:\n%s\n%s\n", d, d2);
        abort();
    }
    rc_free(d);
    rc_free(d2);
    acl_user_dispose(acl_user_detach("fz2", 3));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    if (size < 1 || size > 64 * 1024)
        return 0;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        char *text = rc_strndup(s, len);    /* the file reader stops at NUL too */
        char err[4096];
        acl_load_text("fuzz.acl", text, err, sizeof(err));
        rc_free(text);
        return 0;
    }
    struct slice words[1024];
    int n = split(s, len, '\n', words, 1024);
    char err[1024];
    if (acl_setuser("fz", 2, n, words, err, sizeof(err)) == 0) {
        int pos;
        struct command *get = command_lookup("get", 3);
        struct slice argv[2] = {{"get", 3}, {s, len < 32 ? len : 32}};
        acl_check(acl_user_find("fz", 2), get, 2, argv, &pos);
        if (round_trip_safe(s, len))
            check_round_trip();
    }
    struct acl_user *u = acl_user_detach("fz", 2);
    if (u)
        acl_user_dispose(u);
    return 0;
}
