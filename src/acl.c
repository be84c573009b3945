/*
 * acl.c — ACL users: rules, descriptions and the permission check.
 *
 * Rules are applied one word at a time, as Redis 7.0's ACLSetUser() and
 * ACLSetSelector() do, to a copy of the user, so that ACL SETUSER changes
 * all or nothing.  Descriptions (ACL LIST, GETUSER, SAVE) are recomputed
 * from the bitmaps with Redis's algorithm: +@all or -@all, then the
 * categories that fit best, then single commands.  Redis emits the single
 * commands in its command dictionary's order, which is seeded per process;
 * ringcache emits them in command table order.
 */
#include "acl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acllog.h"
#include "command.h"
#include "conn.h"
#include "glob.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "sha256.h"

/* ---- categories ---- */

static const char *const categories[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting",
};
#define NCATS ((int)(sizeof(categories) / sizeof(categories[0])))

static uint32_t *cmd_cats;      /* per command index: category bits */
static int ncmds;               /* command_table_size() */
static int nwords;              /* 64-bit words per selector bitmap */

int acl_category_count(void)
{
    return NCATS;
}

const char *acl_category_name(int i)
{
    return i >= 0 && i < NCATS ? categories[i] : NULL;
}

int acl_category_find(const char *name, size_t len)
{
    for (int i = 0; i < NCATS; i++)
        if (strlen(categories[i]) == len && strncasecmp(categories[i], name, len) == 0)
            return i;
    return -1;
}

int acl_command_in_category(const struct command *cmd, int cat)
{
    return (cmd_cats[command_index(cmd)] >> cat) & 1;
}

/* The row's "@read @string @fast" as bits. */
static uint32_t parse_cats(const char *s)
{
    uint32_t bits = 0;
    while (s && *s) {
        while (*s == ' ' || *s == '@')
            s++;
        size_t n = strcspn(s, " ");
        int cat = acl_category_find(s, n);
        if (cat >= 0)
            bits |= 1u << cat;
        s += n;
    }
    return bits;
}

/* ---- users and selectors ---- */

enum { P_READ = 1, P_WRITE = 2, P_ALL = 3 };

enum {
    SEL_ROOT = 1 << 0,
    SEL_ALLKEYS = 1 << 1,
    SEL_ALLCHANNELS = 1 << 2,
};

enum {
    U_ON = 1 << 0,
    U_OFF = 1 << 1,
    U_NOPASS = 1 << 2,
    U_SKIP_SANITIZE = 1 << 3,
    U_SANITIZE = 1 << 4,
};

static const struct {
    const char *name;
    int flag;
} user_flags[] = {
    {"on", U_ON}, {"off", U_OFF}, {"nopass", U_NOPASS},
    {"skip-sanitize-payload", U_SKIP_SANITIZE}, {"sanitize-payload", U_SANITIZE},
};

struct pattern {
    char *p;
    size_t len;
    int perm;                   /* keys: P_*; channels: unused */
    size_t lit;                 /* bytes before the first * ? [ or \ */
    int lit_star;               /* only stars follow them (and there is one) */
};

struct firstargs {
    int id;                     /* command index */
    int n;
    char **args;
};

struct selector {
    int flags;                  /* SEL_* */
    uint64_t *bits;             /* ncmds command bits and the future-commands bit */
    struct firstargs *fa;
    int nfa;
    struct pattern *keys;
    int nkeys;
    struct pattern *chans;
    int nchans;
};

struct acl_user {
    char *name;
    size_t namelen;
    int flags;                  /* U_* */
    char (*pw)[65];             /* SHA-256 hex of each password */
    int npw;
    struct selector **sels;     /* sels[0] is the root selector */
    int nsels;
};

static struct acl_user **users; /* sorted by name (bytes) */
static int nusers;
static struct acl_user *default_user;


/* Rule errors, turned into Redis's text once (setuser_error_text). */
enum rule_err {
    RE_OK = 0, RE_SYNTAX, RE_NOENT, RE_ALLKEYS, RE_ALLCHANNELS, RE_NOPASS_DEL, RE_BADHASH,
    RE_SUBFIRSTARG, RE_TOOLONG,
};

static const char *rule_error_text(enum rule_err e)
{
    switch (e) {
    case RE_NOENT: return "Unknown command or category name in ACL";
    case RE_SYNTAX: return "Syntax error";
    case RE_ALLKEYS:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
               "does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RE_ALLCHANNELS:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid "
               "and does not have any effect. Try 'resetchannels' to start with an empty list "
               "of channels";
    case RE_NOPASS_DEL:
        return "The password you are trying to remove from the user does not exist";
    case RE_BADHASH:
        return "The password hash must be exactly 64 characters and contain only lowercase "
               "hexadecimal characters";
    case RE_SUBFIRSTARG: return "Allowing first-arg of a subcommand is not supported";
    case RE_TOOLONG: return "Rule too long";
    default: return "Wrong format";
    }
}

static void bit_set(struct selector *s, int id, int v)
{
    if (v)
        s->bits[id / 64] |= 1ull << (id % 64);
    else
        s->bits[id / 64] &= ~(1ull << (id % 64));
}

static int bit_get(const struct selector *s, int id)
{
    return (int)((s->bits[id / 64] >> (id % 64)) & 1);
}

static void firstargs_reset(struct selector *s, int id)
{
    for (int i = 0; i < s->nfa; i++) {
        if (s->fa[i].id != id)
            continue;
        for (int j = 0; j < s->fa[i].n; j++)
            rc_free(s->fa[i].args[j]);
        rc_free(s->fa[i].args);
        s->fa[i] = s->fa[--s->nfa];
        return;
    }
}

static void firstargs_reset_all(struct selector *s)
{
    while (s->nfa)
        firstargs_reset(s, s->fa[0].id);
}

static const struct firstargs *firstargs_of(const struct selector *s, int id)
{
    for (int i = 0; i < s->nfa; i++)
        if (s->fa[i].id == id)
            return &s->fa[i];
    return NULL;
}

static void firstargs_add(struct selector *s, int id, const char *a, size_t len)
{
    struct firstargs *f = (struct firstargs *)firstargs_of(s, id);
    if (f == NULL) {
        s->fa = rc_realloc(s->fa, sizeof(*s->fa) * (size_t)(s->nfa + 1));
        f = &s->fa[s->nfa++];
        f->id = id;
        f->n = 0;
        f->args = NULL;
    }
    for (int j = 0; j < f->n; j++)
        if (strlen(f->args[j]) == len && strncasecmp(f->args[j], a, len) == 0)
            return;
    f->args = rc_realloc(f->args, sizeof(*f->args) * (size_t)(f->n + 1));
    f->args[f->n++] = rc_strndup(a, len);
}

static void patterns_free(struct pattern *p, int n)
{
    for (int i = 0; i < n; i++)
        rc_free(p[i].p);
    rc_free(p);
}

static struct selector *selector_new(int flags)
{
    struct selector *s = rc_calloc(sizeof(*s));
    s->flags = flags | (server.acl_pubsub_default_all ? SEL_ALLCHANNELS : 0);
    s->bits = rc_calloc(sizeof(uint64_t) * (size_t)nwords);
    return s;
}

static void selector_free(struct selector *s)
{
    if (s == NULL)
        return;
    firstargs_reset_all(s);
    rc_free(s->fa);
    patterns_free(s->keys, s->nkeys);
    patterns_free(s->chans, s->nchans);
    rc_free(s->bits);
    rc_free(s);
}

static struct pattern *patterns_dup(const struct pattern *p, int n)
{
    if (n == 0)
        return NULL;
    struct pattern *out = rc_malloc(sizeof(*out) * (size_t)n);
    for (int i = 0; i < n; i++) {
        out[i] = p[i];
        out[i].p = rc_strndup(p[i].p, p[i].len);
    }
    return out;
}

static struct selector *selector_dup(const struct selector *s)
{
    struct selector *d = rc_calloc(sizeof(*d));
    d->flags = s->flags;
    d->bits = rc_malloc(sizeof(uint64_t) * (size_t)nwords);
    memcpy(d->bits, s->bits, sizeof(uint64_t) * (size_t)nwords);
    for (int i = 0; i < s->nfa; i++)
        for (int j = 0; j < s->fa[i].n; j++)
            firstargs_add(d, s->fa[i].id, s->fa[i].args[j], strlen(s->fa[i].args[j]));
    d->keys = patterns_dup(s->keys, s->nkeys);
    d->nkeys = s->nkeys;
    d->chans = patterns_dup(s->chans, s->nchans);
    d->nchans = s->nchans;
    return d;
}

static struct acl_user *user_new(const char *name, size_t len)
{
    struct acl_user *u = rc_calloc(sizeof(*u));
    u->name = rc_strndup(name, len);
    u->namelen = len;
    u->flags = U_OFF;
    u->sels = rc_malloc(sizeof(*u->sels));
    u->sels[0] = selector_new(SEL_ROOT);
    u->nsels = 1;
    return u;
}

static void user_clear(struct acl_user *u)
{
    for (int i = 0; i < u->nsels; i++)
        selector_free(u->sels[i]);
    rc_free(u->sels);
    rc_free(u->pw);
    u->sels = NULL;
    u->pw = NULL;
    u->nsels = u->npw = 0;
}

static void user_free(struct acl_user *u)
{
    if (u == NULL)
        return;
    user_clear(u);
    rc_free(u->name);
    rc_free(u);
}

/* dst takes src's rules (not its name); src is left empty. */
static void user_take(struct acl_user *dst, struct acl_user *src)
{
    user_clear(dst);
    dst->flags = src->flags;
    dst->pw = src->pw;
    dst->npw = src->npw;
    dst->sels = src->sels;
    dst->nsels = src->nsels;
    src->pw = NULL;
    src->sels = NULL;
    src->npw = src->nsels = 0;
}

static struct acl_user *user_dup(const struct acl_user *u)
{
    struct acl_user *d = rc_calloc(sizeof(*d));
    d->name = rc_strndup(u->name, u->namelen);
    d->namelen = u->namelen;
    d->flags = u->flags;
    if (u->npw) {
        d->pw = rc_malloc(sizeof(*d->pw) * (size_t)u->npw);
        memcpy(d->pw, u->pw, sizeof(*d->pw) * (size_t)u->npw);
    }
    d->npw = u->npw;
    d->sels = rc_malloc(sizeof(*d->sels) * (size_t)u->nsels);
    for (int i = 0; i < u->nsels; i++)
        d->sels[i] = selector_dup(u->sels[i]);
    d->nsels = u->nsels;
    return d;
}

/* ---- the user list ---- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* Position of name in users[], or where it would go (*found = 0). */
static int user_pos(const char *name, size_t len, int *found)
{
    int lo = 0, hi = nusers;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int r = name_cmp(users[mid]->name, users[mid]->namelen, name, len);
        if (r == 0) {
            *found = 1;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

struct acl_user *acl_user_find(const char *name, size_t len)
{
    int found;
    int i = user_pos(name, len, &found);
    return found ? users[i] : NULL;
}

/* A user with no permissions, in no list: what a node link runs as when
 * it names a user this node does not know. */
static struct acl_user *nobody;

struct acl_user *acl_user_find_or_nobody(const char *name, size_t len)
{
    struct acl_user *u = acl_user_find(name, len);
    return u ? u : nobody;
}

static void user_insert(struct acl_user *u)
{
    int found;
    int i = user_pos(u->name, u->namelen, &found);
    users = rc_realloc(users, sizeof(*users) * (size_t)(nusers + 1));
    memmove(users + i + 1, users + i, sizeof(*users) * (size_t)(nusers - i));
    users[i] = u;
    nusers++;
}

int acl_user_count(void)
{
    return nusers;
}

struct acl_user *acl_user_at(int i)
{
    return i >= 0 && i < nusers ? users[i] : NULL;
}

struct acl_user *acl_default_user(void)
{
    return default_user;
}

const char *acl_user_name(const struct acl_user *u)
{
    return u ? u->name : "default";
}

int acl_default_needs_no_auth(void)
{
    return default_user == NULL ||
           ((default_user->flags & U_NOPASS) && !(default_user->flags & U_OFF));
}

int acl_default_needs_no_auth_password(void)
{
    return default_user && (default_user->flags & U_NOPASS);
}

/* ---- applying rules ---- */

static int op_is(const char *op, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(op, lit, len) == 0;
}

/* Allow or deny cmd, and every subcommand of a container. */
static void change_perm(struct selector *s, const struct command *cmd, int v)
{
    int id = command_index(cmd);
    bit_set(s, id, v);
    firstargs_reset(s, id);
    for (int i = 0; i < cmd->nsubs; i++)
        bit_set(s, command_index(cmd->subs[i]), v);
}

static void set_category(struct selector *s, int cat, int v)
{
    for (int i = 0; i < ncmds; i++) {
        if ((cmd_cats[i] >> cat) & 1)
            change_perm(s, command_by_index(i), v);
    }
}

static void set_all_commands(struct selector *s, int v)
{
    memset(s->bits, v ? 0xff : 0, sizeof(uint64_t) * (size_t)nwords);
    firstargs_reset_all(s);
}

/* "get", "config|get": a command or subcommand, case-insensitive. */
static struct command *lookup_rule_command(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    if (bar && memchr(bar + 1, '|', len - (size_t)(bar + 1 - name)))
        return NULL;
    return command_lookup(name, len);
}

static void pattern_add(struct pattern **list, int *n, const char *p, size_t len, int perm)
{
    for (int i = 0; i < *n; i++) {
        if ((*list)[i].len == len && memcmp((*list)[i].p, p, len) == 0) {
            (*list)[i].perm |= perm;
            return;
        }
    }
    *list = rc_realloc(*list, sizeof(**list) * (size_t)(*n + 1));
    struct pattern *np = &(*list)[*n];
    np->p = rc_strndup(p, len);
    np->len = len;
    np->perm = perm;
    np->lit = strcspn(np->p, "*?[\\");     /* np->p is NUL-terminated */
    if (np->lit > len)
        np->lit = len;      /* a NUL byte in the pattern */
    size_t j = np->lit;
    while (j < len && p[j] == '*')
        j++;
    np->lit_star = j == len && j > np->lit;
    (*n)++;
}

/* Does key match pattern pt?  Patterns are mostly "prefix*": a literal
 * prefix rejects or accepts most keys without the glob matcher.  The
 * result is rc_glob_match's ("*" does not match an empty key). */
static inline int pattern_match(const struct pattern *pt, const char *key, size_t len)
{
    if (len < pt->lit)
        return 0;
    /* Prefixes are short and most differ at once: a byte loop beats
     * memcmp's call here (callgrind, utils/bench --acl-users --acl-ir). */
    for (size_t i = 0; i < pt->lit; i++)
        if (key[i] != pt->p[i])
            return 0;
    if (pt->lit_star)
        return len > 0;
    if (pt->lit == pt->len)
        return len == pt->len;
    return rc_glob_match(pt->p, pt->len, key, len, 0);
}

static enum rule_err key_rule(struct selector *s, const char *op, size_t len)
{
    size_t off = 1;
    int perm = 0;
    if (op[0] == '%') {
        for (; off < len; off++) {
            char ch = (char)toupper((unsigned char)op[off]);
            if (ch == 'R' && !(perm & P_READ)) {
                perm |= P_READ;
            } else if (ch == 'W' && !(perm & P_WRITE)) {
                perm |= P_WRITE;
            } else if (op[off] == '~') {
                off++;
                break;
            } else {
                return RE_SYNTAX;
            }
        }
        if (perm == 0)
            return RE_SYNTAX;
    } else {
        perm = P_ALL;
    }
    if (off > len)
        off = len;
    if (s->flags & SEL_ALLKEYS)
        return RE_ALLKEYS;
    pattern_add(&s->keys, &s->nkeys, op + off, len - off, perm);
    return RE_OK;
}

static enum rule_err command_rule(struct selector *s, const char *op, size_t len)
{
    int allow = op[0] == '+';
    const char *name = op + 1;
    size_t nlen = len - 1;
    if (nlen >= 1 && name[0] == '@') {
        int cat = acl_category_find(name + 1, nlen - 1);
        if (cat < 0)
            return RE_NOENT;
        set_category(s, cat, allow);
        return RE_OK;
    }
    const char *bar = NULL;
    for (size_t i = nlen; i > 0; i--) {
        if (name[i - 1] == '|') {
            bar = name + i - 1;
            break;
        }
    }
    if (!allow || bar == NULL) {
        struct command *cmd = lookup_rule_command(name, nlen);
        if (cmd == NULL)
            return RE_NOENT;
        change_perm(s, cmd, allow);
        return RE_OK;
    }
    size_t clen = (size_t)(bar - name);
    const char *sub = bar + 1;
    size_t sublen = nlen - clen - 1;
    struct command *cmd = lookup_rule_command(name, clen);
    if (cmd == NULL)
        return RE_NOENT;
    if (cmd->parent)
        return RE_SUBFIRSTARG;
    if (sublen == 0)
        return RE_SYNTAX;
    if (cmd->nsubs) {
        struct command *sc = lookup_rule_command(name, nlen);
        if (sc == NULL)
            return RE_NOENT;
        change_perm(s, sc, 1);
        return RE_OK;
    }
    firstargs_add(s, command_index(cmd), sub, sublen);
    return RE_OK;
}

/* Empty a pattern list and set (all = 1) or clear the selector's "all"
 * flag for it: allkeys/resetkeys, allchannels/resetchannels. */
static void patterns_reset(struct selector *s, struct pattern **list, int *n, int flag, int all)
{
    patterns_free(*list, *n);
    *list = NULL;
    *n = 0;
    if (all)
        s->flags |= flag;
    else
        s->flags &= ~flag;
}

/* Redis's ACLSetSelector(): one rule word applied to a selector. */
static enum rule_err selector_rule(struct selector *s, const char *op, size_t len)
{
    if (len == 0)
        return RE_OK;
    if (op_is(op, len, "allkeys") || op_is(op, len, "~*")) {
        patterns_reset(s, &s->keys, &s->nkeys, SEL_ALLKEYS, 1);
    } else if (op_is(op, len, "resetkeys")) {
        patterns_reset(s, &s->keys, &s->nkeys, SEL_ALLKEYS, 0);
    } else if (op_is(op, len, "allchannels") || op_is(op, len, "&*")) {
        patterns_reset(s, &s->chans, &s->nchans, SEL_ALLCHANNELS, 1);
    } else if (op_is(op, len, "resetchannels")) {
        patterns_reset(s, &s->chans, &s->nchans, SEL_ALLCHANNELS, 0);
    } else if (op_is(op, len, "allcommands") || op_is(op, len, "+@all")) {
        set_all_commands(s, 1);
    } else if (op_is(op, len, "nocommands") || op_is(op, len, "-@all")) {
        set_all_commands(s, 0);
    } else if (op[0] == '~' || op[0] == '%') {
        return key_rule(s, op, len);
    } else if (op[0] == '&') {
        if (s->flags & SEL_ALLCHANNELS)
            return RE_ALLCHANNELS;
        pattern_add(&s->chans, &s->nchans, op + 1, len - 1, 0);
    } else if (op[0] == '+' || op[0] == '-') {
        return command_rule(s, op, len);
    } else {
        return RE_SYNTAX;
    }
    return RE_OK;
}

/* "(~a +get)": a new selector from the words inside the parentheses,
 * separated by single spaces as Redis splits them. */
static enum rule_err selector_from_opset(struct acl_user *u, const char *op, size_t len)
{
    struct selector *s = selector_new(0);
    const char *p = op + 1, *end = op + len - 1;
    while (p <= end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *wend = sp ? sp : end;
        enum rule_err e = selector_rule(s, p, (size_t)(wend - p));
        if (e != RE_OK) {
            selector_free(s);
            return e;
        }
        p = wend + 1;
    }
    u->sels = rc_realloc(u->sels, sizeof(*u->sels) * (size_t)(u->nsels + 1));
    u->sels[u->nsels++] = s;
    return RE_OK;
}

static int hash_ok(const char *h, size_t len)
{
    if (len != 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return 0;
    return 1;
}

static int pw_find(const struct acl_user *u, const char *hash)
{
    for (int i = 0; i < u->npw; i++)
        if (memcmp(u->pw[i], hash, 64) == 0)
            return i;
    return -1;
}

static enum rule_err password_rule(struct acl_user *u, const char *op, size_t len)
{
    char hash[65];
    if (op[0] == '>' || op[0] == '<') {
        rc_sha256hex(hash, op + 1, len - 1);
    } else {
        if (!hash_ok(op + 1, len - 1))
            return RE_BADHASH;
        memcpy(hash, op + 1, 64);
        hash[64] = '\0';
    }
    int at = pw_find(u, hash);
    if (op[0] == '>' || op[0] == '#') {
        if (at < 0) {
            u->pw = rc_realloc(u->pw, sizeof(*u->pw) * (size_t)(u->npw + 1));
            memcpy(u->pw[u->npw++], hash, 65);
        }
        u->flags &= ~U_NOPASS;
        return RE_OK;
    }
    if (at < 0)
        return RE_NOPASS_DEL;
    memmove(u->pw + at, u->pw + at + 1, sizeof(*u->pw) * (size_t)(u->npw - at - 1));
    u->npw--;
    return RE_OK;
}

static void clear_selectors(struct acl_user *u)
{
    for (int i = 1; i < u->nsels; i++)
        selector_free(u->sels[i]);
    u->nsels = 1;
}

/* Redis's ACLSetUser(): one rule word applied to a user. */
static enum rule_err user_rule(struct acl_user *u, const char *op, size_t len)
{
    if (len == 0)
        return RE_OK;
    if (len > ACL_MAX_RULE_LEN)
        return RE_TOOLONG;
    if (op_is(op, len, "on")) {
        u->flags = (u->flags | U_ON) & ~U_OFF;
    } else if (op_is(op, len, "off")) {
        u->flags = (u->flags | U_OFF) & ~U_ON;
    } else if (op_is(op, len, "skip-sanitize-payload")) {
        u->flags = (u->flags | U_SKIP_SANITIZE) & ~U_SANITIZE;
    } else if (op_is(op, len, "sanitize-payload")) {
        u->flags = (u->flags | U_SANITIZE) & ~U_SKIP_SANITIZE;
    } else if (op_is(op, len, "nopass")) {
        u->flags |= U_NOPASS;
        u->npw = 0;
    } else if (op_is(op, len, "resetpass")) {
        u->flags &= ~U_NOPASS;
        u->npw = 0;
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return password_rule(u, op, len);
    } else if (op[0] == '(' && op[len - 1] == ')') {
        return selector_from_opset(u, op, len);
    } else if (op_is(op, len, "clearselectors")) {
        clear_selectors(u);
    } else if (op_is(op, len, "reset")) {
        user_rule(u, "resetpass", 9);
        user_rule(u, "resetkeys", 9);
        user_rule(u, "resetchannels", 13);
        if (server.acl_pubsub_default_all)
            user_rule(u, "allchannels", 11);
        user_rule(u, "off", 3);
        user_rule(u, "sanitize-payload", 16);
        clear_selectors(u);
        user_rule(u, "-@all", 5);
    } else {
        return selector_rule(u->sels[0], op, len);
    }
    return RE_OK;
}

static int has_space_or_nul(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)p[i]) || p[i] == '\0')
            return 1;
    return 0;
}

/* Redis's ACLMergeSelectorArguments(): words of a "(...)" selector split
 * over several arguments are joined with spaces.  Returns the merged
 * count, or -1 with *bad the index of the unclosed selector. */
static int merge_selectors(int argc, const struct slice *in, struct slice *out, char **owned,
                           int *bad)
{
    int n = 0, open = -1;
    size_t cap = 0, used = 0;
    char *buf = NULL;
    for (int j = 0; j < argc; j++) {
        const struct slice *a = &in[j];
        int opens = a->len && a->p[0] == '(' && a->p[a->len - 1] != ')';
        if (open < 0 && opens) {
            open = j;
            cap = a->len + 64;
            buf = rc_malloc(cap);
            memcpy(buf, a->p, a->len);
            used = a->len;
            continue;
        }
        if (open >= 0) {
            if (used + a->len + 1 > cap) {
                cap = (used + a->len + 1) * 2;
                buf = rc_realloc(buf, cap);
            }
            buf[used++] = ' ';
            memcpy(buf + used, a->p, a->len);
            used += a->len;
            if (a->len && a->p[a->len - 1] == ')') {
                owned[n] = buf;
                out[n].p = buf;
                out[n++].len = used;
                buf = NULL;
                open = -1;
            }
            continue;
        }
        owned[n] = NULL;
        out[n++] = *a;
    }
    if (open >= 0) {
        rc_free(buf);
        for (int i = 0; i < n; i++)
            rc_free(owned[i]);
        *bad = open;
        return -1;
    }
    return n;
}

/* Apply ops to a copy of u (or a new user); on success the result. */
static struct acl_user *apply_ops(const struct acl_user *u, const char *name, size_t namelen,
                                  int argc, const struct slice *ops, char *err, size_t errlen,
                                  int *failed_at)
{
    struct slice *merged = rc_malloc(sizeof(*merged) * (size_t)(argc ? argc : 1));
    char **owned = rc_malloc(sizeof(*owned) * (size_t)(argc ? argc : 1));
    int bad = 0;
    int n = merge_selectors(argc, ops, merged, owned, &bad);
    struct acl_user *t = NULL;
    if (n < 0) {
        snprintf(err, errlen, "Unmatched parenthesis in acl selector starting at '%.*s'.",
                 (int)(ops[bad].len > 256 ? 256 : ops[bad].len), ops[bad].p);
        *failed_at = -2;
        goto done;
    }
    t = u ? user_dup(u) : user_new(name, namelen);
    for (int i = 0; i < n; i++) {
        enum rule_err e = user_rule(t, merged[i].p, merged[i].len);
        if (e != RE_OK) {
            snprintf(err, errlen, "Error in ACL SETUSER modifier '%.*s': %s",
                     (int)(merged[i].len > 256 ? 256 : merged[i].len), merged[i].p,
                     rule_error_text(e));
            *failed_at = i;
            user_free(t);
            t = NULL;
            break;
        }
    }
    for (int i = 0; i < n; i++)
        rc_free(owned[i]);
done:
    rc_free(merged);
    rc_free(owned);
    return t;
}

int acl_setuser(const char *name, size_t namelen, int argc, const struct slice *ops,
                char *err, size_t errlen)
{
    if (has_space_or_nul(name, namelen)) {
        snprintf(err, errlen, "Usernames can't contain spaces or null characters");
        return -1;
    }
    if (namelen > ACL_MAX_RULE_LEN) {
        snprintf(err, errlen, "Error in ACL SETUSER modifier: %s", rule_error_text(RE_TOOLONG));
        return -1;
    }
    struct acl_user *u = acl_user_find(name, namelen);
    int at;
    struct acl_user *t = apply_ops(u, name, namelen, argc, ops, err, errlen, &at);
    if (t == NULL)
        return -1;
    if (u) {
        user_take(u, t);   /* in place: clients keep their pointer */
        user_free(t);
    } else {
        user_insert(t);
    }
    return 0;
}

void acl_kill_clients_of(const struct acl_user *u)
{
    for (struct client *t = server.clients; t; t = t->next) {
        if (t->user != u)
            continue;
        if (t->flags & CF_NODE) {
            t->user = nobody;   /* a node link stays up, with no permissions */
            continue;
        }
        t->user = default_user;
        t->flags &= ~CF_AUTHED;
        /* The client whose command this is, or one awaiting a forwarded
         * reply (a ring fan-out of this very DELUSER): after its reply. */
        if (t == server.current_client || t->fwds)
            conn_close_after_reply(t);
        else
            conn_close_async(t);
    }
}

struct acl_user *acl_user_detach(const char *name, size_t len)
{
    int found;
    int i = user_pos(name, len, &found);
    if (!found)
        return NULL;
    struct acl_user *u = users[i];
    memmove(users + i, users + i + 1, sizeof(*users) * (size_t)(nusers - i - 1));
    nusers--;
    return u;
}

void acl_user_dispose(struct acl_user *u)
{
    acl_kill_clients_of(u);
    user_free(u);
}

/* ---- authentication ---- */

int acl_authenticate(const struct slice *name, const struct slice *pass, struct acl_user **out)
{
    struct acl_user *u = acl_user_find(name->p, name->len);
    if (u == NULL || !(u->flags & U_ON))
        return 0;
    if (!(u->flags & U_NOPASS)) {
        char hash[65];
        rc_sha256hex(hash, pass->p, pass->len);
        int ok = 0;
        for (int i = 0; i < u->npw; i++) {
            unsigned char diff = 0;
            for (int k = 0; k < 64; k++)
                diff |= (unsigned char)(hash[k] ^ u->pw[i][k]);
            ok |= diff == 0;
        }
        if (!ok)
            return 0;
    }
    *out = u;
    return 1;
}

void acl_set_requirepass(const char *pass)
{
    if (default_user == NULL)
        return;
    user_rule(default_user, "resetpass", 9);
    if (pass && *pass) {
        size_t n = strlen(pass);
        char *op = rc_malloc(n + 2);
        op[0] = '>';
        memcpy(op + 1, pass, n + 1);
        user_rule(default_user, op, n + 1);
        rc_free(op);
    } else {
        user_rule(default_user, "nopass", 6);
    }
}

/* ---- the check ---- */

struct key_cache {
    int init;
    int n;
    struct key_ref *refs;
    struct key_ref local[16];
};

static void keys_load(struct key_cache *kc, const struct command *cmd, int argc,
                      const struct slice *argv)
{
    kc->init = 1;
    kc->refs = kc->local;
    /* One key at a fixed place (GET, SET, ...): no key-spec walk. */
    if (cmd->key_pos > 0 && cmd->nspecs == 1 && argc > cmd->key_pos) {
        kc->local[0].pos = cmd->key_pos;
        kc->local[0].flags = cmd->specs[0].flags;
        kc->n = 1;
        return;
    }
    int n = command_find_keys(cmd, argc, argv, kc->local, 16);
    if (n > 16) {
        kc->refs = rc_malloc(sizeof(*kc->refs) * (size_t)n);
        n = command_find_keys(cmd, argc, argv, kc->refs, n);
    }
    kc->n = n < 0 ? 0 : n;
}

static int key_allowed(const struct selector *s, const struct slice *key, uint32_t ksflags)
{
    int want = 0;
    if (ksflags & KS_ACCESS)
        want |= P_READ;
    if (ksflags & (KS_INSERT | KS_DELETE | KS_UPDATE))
        want |= P_WRITE;
    for (int i = 0; i < s->nkeys; i++) {
        if ((s->keys[i].perm & want) != want)
            continue;
        if (pattern_match(&s->keys[i], key->p, key->len))
            return 1;
    }
    return 0;
}

static int channel_allowed(const struct selector *s, const struct slice *ch, int is_pattern)
{
    if (s->flags & SEL_ALLCHANNELS)
        return 1;
    for (int i = 0; i < s->nchans; i++) {
        const struct pattern *p = &s->chans[i];
        if (is_pattern ? (p->len == ch->len && memcmp(p->p, ch->p, ch->len) == 0)
                       : pattern_match(p, ch->p, ch->len))
            return 1;
    }
    return 0;
}

/* The channel arguments of cmd: first position, last, pattern or not;
 * 0 if it takes none that ACLs check (UNSUBSCRIBE, PUBSUB ...). */
static int command_channels(const struct command *cmd, int argc, int *first, int *last,
                            int *pattern)
{
    *pattern = 0;
    if (cmd->proc == cmd_publish || cmd->proc == cmd_spublish) {
        *first = *last = 1;
        return 1;
    }
    if (cmd->proc == cmd_subscribe || cmd->proc == cmd_ssubscribe ||
        cmd->proc == cmd_psubscribe) {
        *first = 1;
        *last = argc - 1;
        *pattern = cmd->proc == cmd_psubscribe;
        return 1;
    }
    return 0;
}

static int selector_check(const struct selector *s, const struct command *cmd, int argc,
                          const struct slice *argv, int *errpos, struct key_cache *kc)
{
    int id = command_index(cmd);
    if (!bit_get(s, id) && !(cmd->flags & CMD_NO_AUTH)) {
        const struct firstargs *fa = firstargs_of(s, id);
        int idx = cmd->parent ? 2 : 1;
        if (fa == NULL || argc <= idx)
            return ACL_DENIED_CMD;
        int ok = 0;
        for (int j = 0; j < fa->n && !ok; j++)
            ok = strlen(fa->args[j]) == argv[idx].len &&
                 strncasecmp(fa->args[j], argv[idx].p, argv[idx].len) == 0;
        if (!ok)
            return ACL_DENIED_CMD;
    }
    if (!(s->flags & SEL_ALLKEYS) && command_has_keys(cmd)) {
        if (!kc->init)
            keys_load(kc, cmd, argc, argv);
        for (int j = 0; j < kc->n; j++) {
            if (!key_allowed(s, &argv[kc->refs[j].pos], kc->refs[j].flags)) {
                *errpos = kc->refs[j].pos;
                return ACL_DENIED_KEY;
            }
        }
    }
    int first, last, pattern;
    if (!(s->flags & SEL_ALLCHANNELS) && command_channels(cmd, argc, &first, &last, &pattern)) {
        for (int j = first; j <= last && j < argc; j++) {
            if (!channel_allowed(s, &argv[j], pattern)) {
                *errpos = j;
                return ACL_DENIED_CHANNEL;
            }
        }
    }
    return ACL_OK;
}

int acl_check(const struct acl_user *u, const struct command *cmd, int argc,
              const struct slice *argv, int *errpos)
{
    *errpos = 0;
    if (u == NULL)
        return ACL_OK;
    struct key_cache kc;
    kc.init = 0;
    kc.refs = NULL;
    int relevant = ACL_DENIED_CMD, last = 0;
    for (int i = 0; i < u->nsels; i++) {
        int pos = 0;
        int r = selector_check(u->sels[i], cmd, argc, argv, &pos, &kc);
        if (r == ACL_OK) {
            relevant = ACL_OK;
            break;
        }
        if (r > relevant || (r == relevant && pos > last)) {
            relevant = r;
            last = pos;
        }
    }
    if (kc.init && kc.refs != kc.local)
        rc_free(kc.refs);
    *errpos = relevant == ACL_OK ? 0 : last;
    return relevant;
}

int acl_check_client(const struct client *c, const struct command *cmd, int argc,
                     const struct slice *argv, int *errpos)
{
    if (c->flags & CF_FAKE) {
        *errpos = 0;
        return ACL_OK;
    }
    return acl_check(c->user, cmd, argc, argv, errpos);
}

int acl_check_and_log(struct client *c, const struct command *cmd, int argc,
                      const struct slice *argv, int ctx, int *errpos)
{
    /* A node link's commands were checked where they entered the ring;
     * the commands its scripts and transactions run are checked here, as
     * the user it named (RINGNODE ASUSER; none named: unrestricted). */
    if ((c->flags & CF_NODE) && ctx == ACLLOG_TOPLEVEL) {
        *errpos = 0;
        return ACL_OK;
    }
    int r = acl_check_client(c, cmd, argc, argv, errpos);
    if (r != ACL_OK) {
        const char *obj = cmd->fullname;
        size_t objlen = strlen(obj);
        if (r != ACL_DENIED_CMD) {
            obj = argv[*errpos].p;
            objlen = argv[*errpos].len;
        }
        acllog_add(c, r, (enum acllog_ctx)ctx, obj, objlen, acl_user_name(c->user));
    }
    return r;
}

void acl_exec_denial_text(char *buf, size_t len, int result)
{
    snprintf(buf, len, "NOPERM ACLs rules changed between the moment the transaction was "
             "accumulated and the EXEC call. This command is no longer allowed for the "
             "following reason: %s",
             result == ACL_DENIED_CMD ? "no permission to execute the command or subcommand"
             : result == ACL_DENIED_KEY ? "no permission to touch the specified keys"
             : "no permission to access one of the channels used as arguments");
}

/* ---- descriptions ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = rc_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void count_category(const struct selector *s, int cat, unsigned long *on,
                           unsigned long *off)
{
    *on = *off = 0;
    for (int i = 0; i < ncmds; i++) {
        if (!((cmd_cats[i] >> cat) & 1))
            continue;
        if (bit_get(s, i))
            (*on)++;
        else
            (*off)++;
    }
}

/* Single command differences between the user's selector and the fake
 * one that the emitted rules built, for cmd and its subcommands. */
static void describe_singles(const struct selector *s, struct selector *fake,
                             const struct command *cmd, struct sbuf *b)
{
    int id = command_index(cmd);
    int ub = bit_get(s, id), fb = bit_get(fake, id);
    if (ub != fb) {
        sb_str(b, ub ? "+" : "-");
        sb_str(b, cmd->fullname);
        sb_str(b, " ");
        change_perm(fake, cmd, ub);
    }
    for (int i = 0; i < cmd->nsubs; i++)
        describe_singles(s, fake, cmd->subs[i], b);
    const struct firstargs *fa = ub ? NULL : firstargs_of(s, id);
    for (int j = 0; fa && j < fa->n; j++) {
        sb_str(b, "+");
        sb_str(b, cmd->fullname);
        sb_str(b, "|");
        sb_str(b, fa->args[j]);
        sb_str(b, " ");
    }
}

static void describe_commands(const struct selector *s, struct sbuf *b)
{
    struct selector *fake = selector_new(0);
    struct selector *temp = selector_dup(s);
    int additive = !bit_get(s, ncmds);
    set_all_commands(fake, !additive);
    sb_str(b, additive ? "-@all " : "+@all ");
    char applied[NCATS];
    memset(applied, 0, sizeof(applied));
    for (;;) {
        int best = -1;
        unsigned long mindiff = (unsigned long)-1, maxsame = 0;
        for (int j = 0; j < NCATS; j++) {
            if (applied[j])
                continue;
            unsigned long on, off;
            count_category(temp, j, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0)
            break;
        set_category(fake, best, additive);
        set_category(temp, best, !additive);
        sb_str(b, additive ? "+@" : "-@");
        sb_str(b, categories[best]);
        sb_str(b, " ");
        applied[best] = 1;
    }
    for (int i = 0; i < command_count(); i++)
        describe_singles(s, fake, command_at(i), b);
    if (b->len && b->p[b->len - 1] == ' ')
        b->p[--b->len] = '\0';
    selector_free(fake);
    selector_free(temp);
}

static void describe_pattern(const struct pattern *p, struct sbuf *b)
{
    if (p->perm == P_ALL)
        sb_str(b, "~");
    else if (p->perm == P_READ)
        sb_str(b, "%R~");
    else
        sb_str(b, "%W~");
    sb_add(b, p->p, p->len);
}

static void describe_keys(const struct selector *s, struct sbuf *b)
{
    if (s->flags & SEL_ALLKEYS) {
        sb_str(b, "~*");
        return;
    }
    for (int i = 0; i < s->nkeys; i++) {
        if (i)
            sb_str(b, " ");
        describe_pattern(&s->keys[i], b);
    }
}

static void describe_channels(const struct selector *s, struct sbuf *b)
{
    if (s->flags & SEL_ALLCHANNELS) {
        sb_str(b, "&*");
        return;
    }
    for (int i = 0; i < s->nchans; i++) {
        if (i)
            sb_str(b, " ");
        sb_str(b, "&");
        sb_add(b, s->chans[i].p, s->chans[i].len);
    }
}

static void describe_selector(const struct selector *s, struct sbuf *b)
{
    if (s->flags & SEL_ALLKEYS) {
        sb_str(b, "~* ");
    } else {
        for (int i = 0; i < s->nkeys; i++) {
            describe_pattern(&s->keys[i], b);
            sb_str(b, " ");
        }
    }
    if (s->flags & SEL_ALLCHANNELS) {
        sb_str(b, "&* ");
    } else {
        sb_str(b, "resetchannels ");
        for (int i = 0; i < s->nchans; i++) {
            sb_str(b, "&");
            sb_add(b, s->chans[i].p, s->chans[i].len);
            sb_str(b, " ");
        }
    }
    describe_commands(s, b);
}

char *acl_describe_user(const struct acl_user *u)
{
    struct sbuf b = {NULL, 0, 0};
    sb_str(&b, "");
    for (size_t j = 0; j < sizeof(user_flags) / sizeof(user_flags[0]); j++) {
        if (u->flags & user_flags[j].flag) {
            sb_str(&b, user_flags[j].name);
            sb_str(&b, " ");
        }
    }
    for (int i = 0; i < u->npw; i++) {
        sb_str(&b, "#");
        sb_add(&b, u->pw[i], 64);
        sb_str(&b, " ");
    }
    for (int i = 0; i < u->nsels; i++) {
        if (i == 0) {
            describe_selector(u->sels[i], &b);
        } else {
            sb_str(&b, " (");
            describe_selector(u->sels[i], &b);
            sb_str(&b, ")");
        }
    }
    return b.p;
}

static void reply_sbuf(struct client *c, struct sbuf *b)
{
    reply_bulk(c, b->p ? b->p : "", b->len);
    rc_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void reply_selector_fields(struct client *c, const struct selector *s)
{
    struct sbuf b = {NULL, 0, 0};
    reply_bulk_cstr(c, "commands");
    describe_commands(s, &b);
    reply_sbuf(c, &b);
    reply_bulk_cstr(c, "keys");
    describe_keys(s, &b);
    reply_sbuf(c, &b);
    reply_bulk_cstr(c, "channels");
    describe_channels(s, &b);
    reply_sbuf(c, &b);
}

void acl_reply_getuser(struct client *c, const struct acl_user *u)
{
    reply_map_len(c, 6);
    reply_bulk_cstr(c, "flags");
    int nflags = 0;
    for (size_t j = 0; j < sizeof(user_flags) / sizeof(user_flags[0]); j++)
        nflags += (u->flags & user_flags[j].flag) != 0;
    reply_array_len(c, nflags);
    for (size_t j = 0; j < sizeof(user_flags) / sizeof(user_flags[0]); j++)
        if (u->flags & user_flags[j].flag)
            reply_bulk_cstr(c, user_flags[j].name);
    reply_bulk_cstr(c, "passwords");
    reply_array_len(c, u->npw);
    for (int i = 0; i < u->npw; i++)
        reply_bulk(c, u->pw[i], 64);
    reply_selector_fields(c, u->sels[0]);
    reply_bulk_cstr(c, "selectors");
    reply_array_len(c, u->nsels - 1);
    for (int i = 1; i < u->nsels; i++) {
        reply_map_len(c, 3);
        reply_selector_fields(c, u->sels[i]);
    }
}

/* ---- loading users: config lines and the aclfile ---- */

struct pending {
    int argc;
    char **argv;                /* argv[0] is the user name */
};

static struct pending *pending;
static int npending;

static void words_to_slices(int argc, char **argv, struct slice *out)
{
    for (int i = 0; i < argc; i++) {
        out[i].p = argv[i];
        out[i].len = strlen(argv[i]);
    }
}

const char *acl_config_user(int argc, char **argv)
{
    static char err[512];
    if (argc < 1)
        return "Bad directive or wrong number of arguments";
    for (int i = 0; i < npending; i++)
        if (strcmp(pending[i].argv[0], argv[0]) == 0)
            return "Duplicate user found. A user can only be defined once in config files";
    /* Check the rules now, on a scratch user, when the table is ready;
     * before it (the config file is read first) only the shape. */
    if (ncmds) {
        struct slice *ops = rc_malloc(sizeof(*ops) * (size_t)argc);
        words_to_slices(argc, argv, ops);
        int at;
        struct acl_user *t = apply_ops(NULL, argv[0], strlen(argv[0]), argc - 1, ops + 1, err,
                                       sizeof(err), &at);
        rc_free(ops);
        if (t == NULL)
            return err;
        user_free(t);
    }
    pending = rc_realloc(pending, sizeof(*pending) * (size_t)(npending + 1));
    pending[npending].argc = argc;
    pending[npending].argv = rc_malloc(sizeof(char *) * (size_t)argc);
    for (int i = 0; i < argc; i++)
        pending[npending].argv[i] = rc_strndup(argv[i], strlen(argv[i]));
    npending++;
    return NULL;
}

static void pending_free(void)
{
    for (int i = 0; i < npending; i++) {
        for (int j = 0; j < pending[i].argc; j++)
            rc_free(pending[i].argv[j]);
        rc_free(pending[i].argv);
    }
    rc_free(pending);
    pending = NULL;
    npending = 0;
}

static void users_free(struct acl_user **list, int n)
{
    for (int i = 0; i < n; i++)
        user_free(list[i]);
    rc_free(list);
}

static struct acl_user *make_default_user(void)
{
    struct acl_user *u = user_new("default", 7);
    user_rule(u, "+@all", 5);
    user_rule(u, "~*", 2);
    user_rule(u, "&*", 2);
    user_rule(u, "on", 2);
    user_rule(u, "nopass", 6);
    return u;
}

static void errf(char *err, size_t errlen, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void errf(char *err, size_t errlen, size_t *used, const char *fmt, ...)
{
    if (*used >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err + *used, errlen - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
    if (*used >= errlen)
        *used = errlen - 1;
}

/* Redis's ACLLoadFromFile(): lines split on single spaces (no quoting),
 * "user NAME RULES...", every error collected; all or nothing.  The
 * default user keeps its identity (its clients stay) and takes the file's
 * rules, or fresh defaults if the file has none for it. */
int acl_load_text(const char *path, const char *text, char *err, size_t errlen)
{
    size_t used = 0;
    err[0] = '\0';
    struct acl_user **saved = users;
    int nsaved = nusers;
    users = NULL;
    nusers = 0;
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        const char *line = p;
        p += len + (nl != NULL);
        while (len && strchr(" \t\r\n", line[0])) {
            line++;
            len--;
        }
        while (len && strchr(" \t\r\n", line[len - 1]))
            len--;
        if (len == 0)
            continue;
        int argc = 1;
        for (size_t i = 0; i < len; i++)
            argc += line[i] == ' ';
        struct slice *words = rc_malloc(sizeof(*words) * (size_t)argc);
        int w = 0;
        const char *s = line, *end = line + len;
        while (w < argc) {
            const char *sp = memchr(s, ' ', (size_t)(end - s));
            const char *e = sp ? sp : end;
            words[w].p = s;
            words[w++].len = (size_t)(e - s);
            s = e + 1;
        }
        if (argc < 2 || !(words[0].len == 4 && memcmp(words[0].p, "user", 4) == 0)) {
            errf(err, errlen, &used, "%s:%d should start with user keyword followed by the "
                 "username. ", path, lineno);
        } else if (has_space_or_nul(words[1].p, words[1].len)) {
            errf(err, errlen, &used, "%s:%d: username '%.*s' contains invalid characters. ",
                 path, lineno, (int)words[1].len, words[1].p);
        } else if (acl_user_find(words[1].p, words[1].len)) {
            errf(err, errlen, &used, "WARNING: Duplicate user '%.*s' found on line %d. ",
                 (int)words[1].len, words[1].p, lineno);
        } else {
            char one[512];
            int at = -1;
            struct acl_user *t = apply_ops(NULL, words[1].p, words[1].len, argc - 2, words + 2,
                                           one, sizeof(one), &at);
            if (t) {
                user_insert(t);
            } else if (at == -2) {
                errf(err, errlen, &used, "%s:%d: Unmatched parenthesis in selector definition.",
                     path, lineno);
            } else {
                const char *why = strstr(one, "': ");
                errf(err, errlen, &used, "%s:%d: %s. ", path, lineno, why ? why + 3 : one);
            }
        }
        rc_free(words);
    }
    if (used) {
        errf(err, errlen, &used, "WARNING: ACL errors detected, no change to the previously "
             "active ACL rules was performed");
        users_free(users, nusers);
        users = saved;
        nusers = nsaved;
        return -1;
    }
    /* Commit: the default user object survives with the new rules. */
    struct acl_user *fresh = acl_user_find("default", 7);
    if (fresh == NULL) {
        fresh = make_default_user();
        user_insert(fresh);
    }
    user_take(default_user, fresh);
    int found;
    users[user_pos("default", 7, &found)] = default_user;
    user_free(fresh);
    for (int i = 0; i < nsaved; i++) {
        if (saved[i] == default_user)
            continue;
        acl_kill_clients_of(saved[i]);
        user_free(saved[i]);
    }
    rc_free(saved);
    return 0;
}

/* ---- set-up ---- */

int acl_init(char *err, size_t errlen)
{
    ncmds = command_table_size();
    nwords = ncmds / 64 + 1;    /* bit ncmds: future commands (+@all) */
    cmd_cats = rc_calloc(sizeof(*cmd_cats) * (size_t)ncmds);
    for (int i = 0; i < ncmds; i++)
        cmd_cats[i] = parse_cats(command_by_index(i)->acl);
    default_user = make_default_user();
    user_insert(default_user);
    nobody = user_new("nobody", 6);
    acl_set_requirepass(server.requirepass);
    if (npending && server.aclfile && *server.aclfile) {
        snprintf(err, errlen, "Configuring Redis with users defined in redis.conf and at the "
                 "same setting an ACL file path is invalid. This setup is very likely to lead "
                 "to configuration errors and security holes, please define either an ACL "
                 "file or declare users directly in your redis.conf, but not both.");
        return -1;
    }
    if (server.aclfile && *server.aclfile) {
        char ferr[8192];
        if (acl_load_file(server.aclfile, ferr, sizeof(ferr)) != 0) {
            snprintf(err, errlen, "Aborting Redis startup because of ACL errors: %s", ferr);
            return -1;
        }
    }
    for (int i = 0; i < npending; i++) {
        struct pending *pd = &pending[i];
        struct slice *ops = rc_malloc(sizeof(*ops) * (size_t)pd->argc);
        words_to_slices(pd->argc, pd->argv, ops);
        struct acl_user *u = acl_user_find(ops[0].p, ops[0].len);
        if (u == default_user)
            user_rule(u, "reset", 5);
        int r = acl_setuser(ops[0].p, ops[0].len, pd->argc - 1, ops + 1, err, errlen);
        rc_free(ops);
        if (r != 0)
            return -1;
    }
    pending_free();
    return 0;
}

void acl_deinit(void)
{
    users_free(users, nusers);
    users = NULL;
    nusers = 0;
    default_user = NULL;
    user_free(nobody);
    nobody = NULL;
    rc_free(cmd_cats);
    cmd_cats = NULL;
    ncmds = 0;
    pending_free();
}
