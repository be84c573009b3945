/*
 * cmd_command.c — the COMMAND family (COMMAND, COUNT, INFO, DOCS, GETKEYS,
 * GETKEYSANDFLAGS, LIST, HELP) and the key-spec machinery behind it.
 *
 * Everything COMMAND INFO prints comes from the rows of commands.def, whose
 * columns mirror redis-server 7.0.15; this file only formats them in Redis's
 * reply shapes and orders.  The key specs are kept as compact strings in the
 * table (grammar at the top of commands.def) and parsed on demand by
 * command_key_specs(); command_find_keys() applies them to an invocation as
 * Redis's getKeysFromCommandWithSpecs() does, so COMMAND GETKEYS and request
 * routing agree with Redis.
 *
 * COMMAND DOCS needs prose and argument descriptions that the dispatcher
 * never reads, so they live in docs_table[] below rather than in the
 * command table.  The summaries, complexities and history notes are our own
 * wording; the argument structure (names, types, tokens, flags) follows the
 * Redis 7.0 command reference, because clients such as redis-cli build their
 * hints from it.  Argument grammar, one string per command:
 *
 *     args  := arg (" " arg)*
 *     arg   := NAME ":" TYPE ["=" TOKEN] ["@" SINCE] ["!" DEPRECATED_SINCE]
 *              ["#" KEY_SPEC_INDEX] FLAG* ["(" args ")"]
 *     FLAG  := "?" optional | "*" multiple | "+" multiple_token
 *     TOKEN := text up to a modifier, or 'text' in single quotes for a
 *              token that is itself a modifier character (XADD's '*', '=')
 *
 * NAME may itself contain ':' (e.g. "ip:port"): the type is the text after
 * the last ':' before the first modifier.  "(...)" holds the members of a
 * "oneof" or "block" argument.
 */
#include "command.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "t_sort.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Flag names, in the order Redis 7.0 prints them.
 * ------------------------------------------------------------------------ */

/* Command flags as COMMAND INFO lists them (Redis's internal bit order).
 * may_replicate is deliberately absent: Redis hides it. */
static const struct {
    uint32_t flag;
    const char *name;
} cmd_flag_order[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};

/* Key-spec flags; index i names bit 1 << i. */
static const char *const ks_flag_names[] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
    "not_key", "incomplete", "variable_flags",
};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------------
 * Key specs.
 * ------------------------------------------------------------------------ */

/* Parse a decimal int (optionally negative) at *p, advancing it.  Returns 0
 * on success, -1 if there are no digits or the value does not fit. */
static int parse_int(const char **p, int *out)
{
    const char *s = *p;
    int neg = 0;
    long v = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s - '0');
        if (v > INT_MAX)
            return -1;
        s++;
    }
    *out = neg ? (int)-v : (int)v;
    *p = s;
    return 0;
}

/* Parse "A,B,C" (three ints) at *p. */
static int parse_int3(const char **p, int *a, int *b, int *c)
{
    if (parse_int(p, a) != 0 || **p != ',')
        return -1;
    (*p)++;
    if (parse_int(p, b) != 0 || **p != ',')
        return -1;
    (*p)++;
    return parse_int(p, c);
}

/* Parse one spec starting at s (which ends at ';' or NUL); returns the end
 * of the spec or NULL if it is malformed. */
static const char *parse_one_spec(const char *s, struct key_spec *ks)
{
    memset(ks, 0, sizeof(*ks));

    /* FLAGS */
    for (;;) {
        size_t n = strcspn(s, ", ;");
        int found = 0;
        for (int i = 0; i < NELEM(ks_flag_names); i++) {
            if (strlen(ks_flag_names[i]) == n && memcmp(ks_flag_names[i], s, n) == 0) {
                ks->flags |= 1u << i;
                found = 1;
            }
        }
        if (!found)
            return NULL;
        s += n;
        if (*s != ',')
            break;
        s++;
    }
    if (*s++ != ' ')
        return NULL;

    /* BEGIN */
    switch (*s++) {
    case 'i':
        ks->begin = KSB_INDEX;
        if (parse_int(&s, &ks->index) != 0)
            return NULL;
        break;
    case 'k': {
        ks->begin = KSB_KEYWORD;
        ks->keyword = s;
        ks->keyword_len = strcspn(s, ", ;");
        s += ks->keyword_len;
        if (ks->keyword_len == 0 || *s++ != ',' || parse_int(&s, &ks->startfrom) != 0)
            return NULL;
        break;
    }
    case 'u':
        ks->begin = KSB_UNKNOWN;
        break;
    default:
        return NULL;
    }
    if (*s++ != ' ')
        return NULL;

    /* FIND */
    switch (*s++) {
    case 'r':
        ks->find = KSF_RANGE;
        if (parse_int3(&s, &ks->lastkey, &ks->keystep, &ks->limit) != 0)
            return NULL;
        break;
    case 'n':
        ks->find = KSF_KEYNUM;
        if (parse_int3(&s, &ks->keynumidx, &ks->firstkey, &ks->keynumstep) != 0)
            return NULL;
        break;
    case 'u':
        ks->find = KSF_UNKNOWN;
        break;
    default:
        return NULL;
    }

    /* NOTES */
    if (s[0] == ' ' && s[1] == '#') {
        ks->notes = s + 2;
        ks->notes_len = strcspn(ks->notes, ";");
        s = ks->notes + ks->notes_len;
    }
    return (*s == ';' || *s == '\0') ? s : NULL;
}

int command_key_specs(const struct command *cmd, struct key_spec *out, int max)
{
    const char *s = cmd->keyspecs;
    int n = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (;;) {
        if (n >= max)
            return -1;
        s = parse_one_spec(s, &out[n]);
        if (s == NULL)
            return -1;
        n++;
        if (*s == '\0')
            return n;
        s++;
    }
}

int command_has_keys(const struct command *cmd)
{
    return cmd->has_keys;
}

/* True if the key positions can not be read off the legacy triple. */
static int specs_movable(const struct key_spec *specs, int n)
{
    for (int i = 0; i < n; i++) {
        if (specs[i].begin != KSB_INDEX || specs[i].find != KSF_RANGE)
            return 1;
    }
    return 0;
}

/*
 * Key flags of the commands whose specs carry variable_flags: Redis answers
 * these from a per-command callback instead of the spec's static flags.
 * SET: a GET argument (compared as Redis compares it, as a C string, so
 * "get" followed by a NUL byte counts) makes the key read too.
 * BITFIELD: read-only if it consists of complete GET and OVERFLOW
 * operations only.
 */
static uint32_t variable_key_flags(const struct command *cmd, int argc, const struct slice *argv,
                                   uint32_t dflt)
{
    if (strcmp(cmd->fullname, "set") == 0) {
        for (int i = 3; i < argc; i++) {
            const struct slice *a = &argv[i];
            if (a->len >= 3 && strncasecmp(a->p, "get", 3) == 0 && (a->len == 3 || a->p[3] == '\0'))
                return KS_RW | KS_ACCESS | KS_UPDATE;
        }
        return KS_OW | KS_UPDATE;
    }
    if (strcmp(cmd->fullname, "bitfield") == 0) {
        int readonly = 1;
        for (int i = 2; i < argc && readonly; i++) {
            int remaining = argc - i - 1;
            if (arg_is(&argv[i], "get") && remaining >= 2)
                i += 2;
            else if (arg_is(&argv[i], "overflow") && remaining >= 1)
                i += 1;
            else
                readonly = 0;
        }
        return readonly ? (KS_RO | KS_ACCESS) : (KS_RW | KS_ACCESS | KS_UPDATE);
    }
    return dflt;
}

/* Find the keys of one spec; appends to out while room remains and counts
 * in *total.  Returns 0, or -1 if the arguments do not fit the spec. */
static int spec_keys(const struct key_spec *ks, int argc, const struct slice *argv,
                     struct key_ref *out, int max, int *total)
{
    int first = 0, last, step;

    if (ks->begin == KSB_INDEX) {
        first = ks->index;
    } else if (ks->begin == KSB_KEYWORD) {
        int start = ks->startfrom > 0 ? ks->startfrom : argc + ks->startfrom;
        int end = ks->startfrom > 0 ? argc - 1 : 1;
        /* Like Redis, the search stops before reaching end itself. */
        for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
            if (i >= argc || i < 1)
                break;
            if (argv[i].len == ks->keyword_len &&
                strncasecmp(argv[i].p, ks->keyword, ks->keyword_len) == 0) {
                first = i + 1;
                break;
            }
        }
        if (first == 0)
            return 0; /* keyword absent: this spec has no keys */
    } else {
        return -1;
    }

    if (ks->find == KSF_RANGE) {
        step = ks->keystep;
        if (ks->lastkey >= 0)
            last = first + ks->lastkey;
        else if (ks->limit == 0)
            last = argc + ks->lastkey;
        else
            last = first + ((argc - first) / ks->limit + ks->lastkey);
    } else if (ks->find == KSF_KEYNUM) {
        step = ks->keynumstep;
        if (ks->keynumidx >= argc || first + ks->keynumidx >= argc)
            return -1;
        const struct slice *a = &argv[first + ks->keynumidx];
        long long numkeys;
        if (!rc_str2ll(a->p, a->len, &numkeys) || numkeys < 0 ||
            numkeys > INT_MAX)
            return -1;
        first += ks->firstkey;
        if (numkeys - 1 > (long long)INT_MAX - first)
            return -1;
        last = first + (int)numkeys - 1;
    } else {
        return -1;
    }

    if (last >= argc || last < first || first >= argc)
        return -1;
    if (step <= 0)
        return -1;
    for (int i = first; i <= last; i += step) {
        if (*total < max) {
            out[*total].pos = i;
            out[*total].flags = ks->flags;
        }
        (*total)++;
        if (last - i < step)
            break;
    }
    return 0;
}

int command_find_keys(const struct command *cmd, int argc, const struct slice *argv,
                      struct key_ref *out, int max)
{
    const struct key_spec *specs = cmd->specs;
    int n = cmd->nspecs;
    int total = 0;
    /* Specs Redis leaves "unknown", found as its getkeys procs do. */
    if (cmd->proc == cmd_sort || cmd->proc == cmd_sort_ro)
        return sort_find_keys(cmd, argc, argv, out, max);
    if (n <= 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (specs[i].flags & KS_NOT_KEY)
            continue;
        int before = total;
        if (spec_keys(&specs[i], argc, argv, out, max, &total) != 0)
            return -1;
        if (specs[i].flags & KS_VARIABLE_FLAGS) {
            uint32_t f = variable_key_flags(cmd, argc, argv, specs[i].flags);
            for (int j = before; j < total && j < max; j++)
                out[j].flags = f;
        }
    }
    return total;
}

/* ------------------------------------------------------------------------
 * COMMAND INFO entries.
 * ------------------------------------------------------------------------ */

/* Number of space-separated words in s. */
static long count_words(const char *s)
{
    long n = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        n++;
        s += strcspn(s, " ");
    }
    return n;
}

/* Reply a set of the words of s, as status strings or bulk strings. */
static void reply_words(struct client *c, const char *s, int bulk)
{
    reply_set_len(c, s ? count_words(s) : 0);
    if (s == NULL)
        return;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (n == 0)
            break;
        if (bulk) {
            reply_bulk(c, s, n);
        } else {
            char buf[64];
            if (n >= sizeof(buf))
                n = sizeof(buf) - 1;
            memcpy(buf, s, n);
            buf[n] = '\0';
            reply_status(c, buf);
        }
        s += n;
    }
}

static void reply_key_flags(struct client *c, uint32_t flags)
{
    long n = 0;
    for (int i = 0; i < NELEM(ks_flag_names); i++)
        if (flags & (1u << i))
            n++;
    reply_set_len(c, n);
    for (int i = 0; i < NELEM(ks_flag_names); i++)
        if (flags & (1u << i))
            reply_status(c, ks_flag_names[i]);
}

static void reply_key_spec(struct client *c, const struct key_spec *ks)
{
    reply_map_len(c, ks->notes ? 4 : 3);
    if (ks->notes) {
        reply_bulk_cstr(c, "notes");
        reply_bulk(c, ks->notes, ks->notes_len);
    }
    reply_bulk_cstr(c, "flags");
    reply_key_flags(c, ks->flags);

    reply_bulk_cstr(c, "begin_search");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    if (ks->begin == KSB_INDEX) {
        reply_bulk_cstr(c, "index");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 1);
        reply_bulk_cstr(c, "index");
        reply_long(c, ks->index);
    } else if (ks->begin == KSB_KEYWORD) {
        reply_bulk_cstr(c, "keyword");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "keyword");
        reply_bulk(c, ks->keyword, ks->keyword_len);
        reply_bulk_cstr(c, "startfrom");
        reply_long(c, ks->startfrom);
    } else {
        reply_bulk_cstr(c, "unknown");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 0);
    }

    reply_bulk_cstr(c, "find_keys");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    if (ks->find == KSF_RANGE) {
        reply_bulk_cstr(c, "range");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "lastkey");
        reply_long(c, ks->lastkey);
        reply_bulk_cstr(c, "keystep");
        reply_long(c, ks->keystep);
        reply_bulk_cstr(c, "limit");
        reply_long(c, ks->limit);
    } else if (ks->find == KSF_KEYNUM) {
        reply_bulk_cstr(c, "keynum");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "keynumidx");
        reply_long(c, ks->keynumidx);
        reply_bulk_cstr(c, "firstkey");
        reply_long(c, ks->firstkey);
        reply_bulk_cstr(c, "keystep");
        reply_long(c, ks->keynumstep);
    } else {
        reply_bulk_cstr(c, "unknown");
        reply_bulk_cstr(c, "spec");
        reply_map_len(c, 0);
    }
}

/* One COMMAND INFO entry: the 10-element array Redis 7.0 sends. */
static void reply_command_info(struct client *c, const struct command *cmd)
{
    struct key_spec specs[CMD_MAX_KEY_SPECS];
    int nspecs = command_key_specs(cmd, specs, CMD_MAX_KEY_SPECS);
    if (nspecs < 0)
        nspecs = 0;
    uint32_t flags = cmd->flags;
    if (specs_movable(specs, nspecs))
        flags |= CMD_MOVABLE_KEYS;

    reply_array_len(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_long(c, cmd->arity);

    long nflags = 0;
    for (int i = 0; i < NELEM(cmd_flag_order); i++)
        if (flags & cmd_flag_order[i].flag)
            nflags++;
    reply_set_len(c, nflags);
    for (int i = 0; i < NELEM(cmd_flag_order); i++)
        if (flags & cmd_flag_order[i].flag)
            reply_status(c, cmd_flag_order[i].name);

    reply_long(c, cmd->firstkey);
    reply_long(c, cmd->lastkey);
    reply_long(c, cmd->keystep);
    reply_words(c, cmd->acl, 0);
    reply_words(c, cmd->tips, 1);

    reply_set_len(c, nspecs);
    for (int i = 0; i < nspecs; i++)
        reply_key_spec(c, &specs[i]);

    if (cmd->nsubs == 0) {
        reply_set_len(c, 0);
    } else {
        reply_array_len(c, cmd->nsubs);
        for (int i = 0; i < cmd->nsubs; i++)
            reply_command_info(c, cmd->subs[i]);
    }
}

/* Every top-level command's entry, subcommands nested, in table order
 * (Redis's order is its hash table's, different in every process). */
static void reply_all_info(struct client *c)
{
    int n = command_count();
    reply_array_len(c, n);
    for (int i = 0; i < n; i++)
        reply_command_info(c, command_at(i));
}

/* COMMAND with no subcommand.  With arguments the first one names an
 * unknown subcommand (known ones never reach here). */
void cmd_command(struct client *c)
{
    if (c->argc > 1) {
        cmd_unknown_subcommand(c);
        return;
    }
    reply_all_info(c);
}

void cmd_command_count(struct client *c)
{
    reply_long(c, command_count());
}

/* Lookup for COMMAND INFO/DOCS: "name" or "container|sub", any case. */
static const struct command *lookup_name(const struct slice *a)
{
    return command_lookup(a->p, a->len);
}

void cmd_command_info(struct client *c)
{
    if (c->argc == 2) {
        reply_all_info(c);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const struct command *cmd = lookup_name(&c->argv[i]);
        if (cmd)
            reply_command_info(c, cmd);
        else
            reply_null(c);
    }
}

/* ------------------------------------------------------------------------
 * COMMAND DOCS.
 * ------------------------------------------------------------------------ */

struct cmd_doc {
    const char *fullname;
    const char *summary;
    const char *complexity;         /* NULL: not printed */
    const char *args;               /* grammar at the top of this file */
    const char *const *history;     /* "VERSION text" entries, NULL-terminated */
    const char *deprecated_since;   /* non-NULL: doc_flags "deprecated" */
    const char *replaced_by;
};

#define H(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The trimming argument of XADD and XTRIM. */
#define STREAM_DOC_TRIM(opt)                                                                \
    "trim:block" opt "(strategy:oneof(maxlen:pure-token=MAXLEN minid:pure-token=MINID@6.2.0) "     \
    "operator:oneof?(equal:pure-token='=' approximately:pure-token=~) threshold:string "     \
    "count:integer=LIMIT@6.2.0?)"

/* Argument pieces the geo commands share. */
#define GEO_DOC_UNIT "unit:oneof(m:pure-token=M km:pure-token=KM ft:pure-token=FT mi:pure-token=MI)"
#define GEO_DOC_FROM                                                                         \
    "from:oneof(member:string=FROMMEMBER longitude_latitude:block=FROMLONLAT("              \
    "longitude:double latitude:double))"
#define GEO_DOC_BY                                                                           \
    "by:oneof(circle:block(radius:double=BYRADIUS " GEO_DOC_UNIT ") "                        \
    "box:block(width:double=BYBOX height:double " GEO_DOC_UNIT "))"
#define GEO_DOC_ORDER "order:oneof?(asc:pure-token=ASC desc:pure-token=DESC)"
#define GEO_DOC_COUNT "count:block?(count:integer=COUNT any:pure-token=ANY?)"
#define GEO_DOC_COUNT_ANY62 "count:block?(count:integer=COUNT any:pure-token=ANY@6.2.0?)"
#define GEO_DOC_WITH                                                                         \
    "withcoord:pure-token=WITHCOORD? withdist:pure-token=WITHDIST? "                         \
    "withhash:pure-token=WITHHASH?"
#define GEO_DOC_STORE "key:key=STORE#1? key:key=STOREDIST#2?"
#define GEO_DOC_SEARCH_COMPLEXITY                                                            \
    "O(N+log(M)): N the members in the cells around the shape, M the size of the index"
#define GEO_DOC_RADIUS_COMPLEXITY                                                            \
    "O(N+log(M)): N the members in the cells around the circle, M the size of the index"

static const struct cmd_doc docs_table[] = {
    /* ---- connection ---- */
    {"ping", "Checks that the server is alive, or echoes a message", "O(1)",
     "message:string?", NULL, NULL, NULL},
    {"echo", "Replies with the given message", "O(1)",
     "message:string", NULL, NULL, NULL},
    {"quit", "Closes the connection after replying", "O(1)",
     "", NULL, NULL, NULL},
    {"reset", "Returns the connection to its initial state", "O(1)",
     "", NULL, NULL, NULL},
    {"hello", "Negotiates the protocol version, optionally authenticating and naming the connection",
     "O(1)",
     "arguments:block?(protover:integer username_password:block=AUTH?(username:string "
     "password:string) clientname:string=SETNAME?)",
     H("6.2.0 The protocol version became optional; without it the reply describes the "
       "connection as it is."),
     NULL, NULL},
    {"auth", "Authenticates the connection", "O(N) in the number of passwords of the user",
     "username:string@6.0.0? password:string",
     H("6.0.0 Username and password form for ACL users."), NULL, NULL},
    {"select", "Switches the connection to another database", "O(1)",
     "index:integer", NULL, NULL, NULL},
    {"client", "Groups the connection management subcommands", "Depends on the subcommand.",
     "", NULL, NULL, NULL},
    {"client|id", "Returns the connection's unique id", "O(1)", "", NULL, NULL, NULL},
    {"client|setname", "Names the connection", "O(1)",
     "connection-name:string", NULL, NULL, NULL},
    {"client|getname", "Returns the connection's name", "O(1)", "", NULL, NULL, NULL},
    {"client|list", "Describes the open connections", "O(N) in the number of connections",
     "normal_master_replica_pubsub:oneof=TYPE@5.0.0?(normal:pure-token=NORMAL "
     "master:pure-token=MASTER replica:pure-token=REPLICA pubsub:pure-token=PUBSUB) "
     "id:block=ID@6.2.0?(client-id:integer*)",
     H("2.8.12 New id field.", "5.0.0 TYPE filter.", "6.0.0 New user field.",
       "6.2.0 New argv-mem, tot-mem, laddr and redir fields; ID filter.",
       "7.0.0 New resp, multi-mem, rbs and rbp fields.", "7.0.3 New ssub field."),
     NULL, NULL},
    {"client|info", "Describes this connection", "O(1)", "", NULL, NULL, NULL},
    {"client|kill", "Closes the connections matching a filter", "O(N) in the number of connections",
     "filter:oneof(ip:port:string!2.8.12 new-format:oneof*(client-id:integer=ID@2.8.12? "
     "normal_master_slave_pubsub:oneof=TYPE@2.8.12?(normal:pure-token=NORMAL "
     "master:pure-token=MASTER@3.2.0 slave:pure-token=SLAVE replica:pure-token=REPLICA@5.0.0 "
     "pubsub:pure-token=PUBSUB) username:string=USER? ip:port:string=ADDR? "
     "ip:port:string=LADDR@6.2.0? yes/no:string=SKIPME?))",
     H("2.8.12 Filter form of the arguments.", "2.8.12 ID filter.", "3.2.0 TYPE master.",
       "5.0.0 TYPE replica, with slave kept as an alias.", "6.2.0 LADDR filter."),
     NULL, NULL},
    {"client|no-evict", "Exempts the connection from client eviction, or stops exempting it", "O(1)",
     "enabled:oneof(on:pure-token=ON off:pure-token=OFF)", NULL, NULL, NULL},
    {"client|pause", "Holds client commands for a while", "O(1)",
     "timeout:integer mode:oneof@6.2.0?(write:pure-token=WRITE all:pure-token=ALL)",
     H("6.2.0 WRITE and ALL modes."), NULL, NULL},
    {"client|unpause", "Ends a pause begun by CLIENT PAUSE", "O(N) in the number of paused clients",
     "", NULL, NULL, NULL},
    {"client|reply", "Turns the server's replies to this connection on or off", "O(1)",
     "on_off_skip:oneof(on:pure-token=ON off:pure-token=OFF skip:pure-token=SKIP)",
     NULL, NULL, NULL},
    {"client|setinfo", "Records the client library's name or version for the connection", "O(1)",
     "attr:oneof(libname:string=lib-name libver:string=lib-ver)", NULL, NULL, NULL},
    {"client|tracking", "Turns server assisted client side caching on or off for the connection",
     "O(1). Some options may introduce additional complexity.",
     "status:oneof(on:pure-token=ON off:pure-token=OFF) client-id:integer=REDIRECT? "
     "prefix:string=PREFIX?*+ bcast:pure-token=BCAST? optin:pure-token=OPTIN? "
     "optout:pure-token=OPTOUT? noloop:pure-token=NOLOOP?",
     NULL, NULL, NULL},
    {"client|caching", "Says whether the next command's keys are tracked (OPTIN/OPTOUT modes)",
     "O(1)", "mode:oneof(yes:pure-token=YES no:pure-token=NO)", NULL, NULL, NULL},
    {"client|getredir", "Returns the id of the client tracking messages are redirected to", "O(1)",
     "", NULL, NULL, NULL},
    {"client|trackinginfo", "Describes the connection's client side caching state", "O(1)", "",
     NULL, NULL, NULL},
    {"client|help", "Lists the CLIENT subcommands", "O(1)", "", NULL, NULL, NULL},

    /* ---- server ---- */
    {"dbsize", "Counts the keys of the selected database", "O(1)", "", NULL, NULL, NULL},
    {"wait", "Blocks until the connection's earlier writes are acknowledged by the given "
     "number of replicas, or the timeout passes", "O(1)",
     "numreplicas:integer timeout:integer", NULL, NULL, NULL},
    {"flushdb", "Deletes every key of the selected database",
     "O(N) in the number of keys of the database",
     "async:oneof?(async:pure-token=ASYNC@4.0.0 sync:pure-token=SYNC@6.2.0)",
     H("4.0.0 ASYNC mode.", "6.2.0 SYNC mode."), NULL, NULL},
    {"flushall", "Deletes every key of every database", "O(N) in the number of keys of all databases",
     "async:oneof?(async:pure-token=ASYNC@4.0.0 sync:pure-token=SYNC@6.2.0)",
     H("4.0.0 ASYNC mode.", "6.2.0 SYNC mode."), NULL, NULL},
    {"swapdb", "Exchanges the contents of two databases",
     "O(N) in the number of clients watching or blocked on keys of the two databases",
     "index1:integer index2:integer", NULL, NULL, NULL},
    {"time", "Returns the server's clock", "O(1)", "", NULL, NULL, NULL},
    {"info", "Reports server information and statistics", "O(1)",
     "section:string?*", H("7.0.0 Several sections in one call."), NULL, NULL},
    {"shutdown", "Stops the server, optionally saving first",
     "O(N) in the number of keys when saving, O(1) otherwise",
     "nosave_save:oneof?(nosave:pure-token=NOSAVE save:pure-token=SAVE) "
     "now:pure-token=NOW@7.0.0? force:pure-token=FORCE@7.0.0? abort:pure-token=ABORT@7.0.0?",
     H("7.0.0 NOW, FORCE and ABORT modifiers."), NULL, NULL},
    {"monitor", "Streams every command the server executes", NULL, "", NULL, NULL, NULL},
    {"command", "Describes every command", "O(N) in the number of commands",
     "", NULL, NULL, NULL},
    {"command|count", "Counts the commands", "O(1)", "", NULL, NULL, NULL},
    {"command|info", "Describes the named commands", "O(N) in the number of commands named",
     "command-name:string?*", H("7.0.0 Without arguments, every command is described."),
     NULL, NULL},
    {"command|docs", "Documents the named commands", "O(N) in the number of commands named",
     "command-name:string?*", NULL, NULL, NULL},
    {"command|getkeys", "Extracts the key names from a complete command",
     "O(N) in the number of arguments of the command", "", NULL, NULL, NULL},
    {"command|getkeysandflags", "Extracts the key names and their access flags from a complete command",
     "O(N) in the number of arguments of the command", "", NULL, NULL, NULL},
    {"command|list", "Lists the command names, optionally filtered",
     "O(N) in the number of commands",
     "filterby:oneof=FILTERBY?(module-name:string=MODULE category:string=ACLCAT "
     "pattern:pattern=PATTERN)",
     NULL, NULL, NULL},
    {"command|help", "Lists the COMMAND subcommands", "O(1)", "", NULL, NULL, NULL},
    {"config", "Groups the configuration subcommands", "Depends on the subcommand.",
     "", NULL, NULL, NULL},
    {"config|get", "Reads configuration parameters", "O(N) in the number of parameters named",
     "parameter:block*(parameter:string)", H("7.0.0 Several patterns in one call."), NULL, NULL},
    {"config|set", "Changes configuration parameters at run time",
     "O(N) in the number of parameters given",
     "parameter_value:block*(parameter:string value:string)",
     H("7.0.0 Several parameters in one call."), NULL, NULL},
    {"config|resetstat", "Resets the statistics", "O(1)", "", NULL, NULL, NULL},
    {"config|rewrite", "Writes the running configuration back to the configuration file", "O(1)",
     "", NULL, NULL, NULL},
    {"config|help", "Lists the CONFIG subcommands", "O(1)", "", NULL, NULL, NULL},
    {"slowlog", "Groups the slow log subcommands", "Depends on the subcommand.",
     "", NULL, NULL, NULL},
    {"slowlog|get", "Returns slow log entries", "O(N) in the number of entries returned",
     "count:integer?", H("4.0.0 Entries carry the client's address and name."), NULL, NULL},
    {"slowlog|len", "Counts the slow log entries", "O(1)", "", NULL, NULL, NULL},
    {"slowlog|reset", "Empties the slow log", "O(N) in the number of entries", "", NULL, NULL, NULL},
    {"slowlog|help", "Lists the SLOWLOG subcommands", "O(1)", "", NULL, NULL, NULL},

    /* ---- generic keyspace ---- */
    {"del", "Deletes keys", "O(N) in the number of keys, plus the size of each non-string value",
     "key:key#0*", NULL, NULL, NULL},
    {"unlink", "Deletes keys, reclaiming their memory in the background",
     "O(1) per key; the memory is freed later by another thread",
     "key:key#0*", NULL, NULL, NULL},
    {"exists", "Counts how many of the given keys exist", "O(N) in the number of keys",
     "key:key#0*", H("3.0.3 Several keys in one call."), NULL, NULL},
    {"type", "Returns the type of a key's value", "O(1)", "key:key#0", NULL, NULL, NULL},
    {"expire", "Sets a key's time to live in seconds", "O(1)",
     "key:key#0 seconds:integer condition:oneof@7.0.0?(nx:pure-token=NX xx:pure-token=XX "
     "gt:pure-token=GT lt:pure-token=LT)",
     H("7.0.0 NX, XX, GT and LT conditions."), NULL, NULL},
    {"pexpire", "Sets a key's time to live in milliseconds", "O(1)",
     "key:key#0 milliseconds:integer condition:oneof@7.0.0?(nx:pure-token=NX xx:pure-token=XX "
     "gt:pure-token=GT lt:pure-token=LT)",
     H("7.0.0 NX, XX, GT and LT conditions."), NULL, NULL},
    {"expireat", "Sets a key's expiry as a Unix time in seconds", "O(1)",
     "key:key#0 unix-time-seconds:unix-time condition:oneof@7.0.0?(nx:pure-token=NX "
     "xx:pure-token=XX gt:pure-token=GT lt:pure-token=LT)",
     H("7.0.0 NX, XX, GT and LT conditions."), NULL, NULL},
    {"pexpireat", "Sets a key's expiry as a Unix time in milliseconds", "O(1)",
     "key:key#0 unix-time-milliseconds:unix-time condition:oneof@7.0.0?(nx:pure-token=NX "
     "xx:pure-token=XX gt:pure-token=GT lt:pure-token=LT)",
     H("7.0.0 NX, XX, GT and LT conditions."), NULL, NULL},
    {"ttl", "Returns a key's remaining time to live in seconds", "O(1)",
     "key:key#0", H("2.8.0 -2 for a missing key."), NULL, NULL},
    {"pttl", "Returns a key's remaining time to live in milliseconds", "O(1)",
     "key:key#0", H("2.8.0 -2 for a missing key."), NULL, NULL},
    {"expiretime", "Returns a key's expiry as a Unix time in seconds", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"pexpiretime", "Returns a key's expiry as a Unix time in milliseconds", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"persist", "Removes a key's expiry", "O(1)", "key:key#0", NULL, NULL, NULL},
    {"keys", "Lists the keys matching a pattern", "O(N) in the number of keys of the database",
     "pattern:pattern", NULL, NULL, NULL},
    {"scan", "Iterates over the keys of the database with a cursor",
     "O(1) per call, O(N) for a full iteration over N keys",
     "cursor:integer pattern:pattern=MATCH? count:integer=COUNT? type:string=TYPE@6.0.0?",
     H("6.0.0 TYPE filter."), NULL, NULL},
    {"randomkey", "Returns a random key name", "O(1)", "", NULL, NULL, NULL},
    {"rename", "Renames a key, replacing the destination", "O(1)",
     "key:key#0 newkey:key#1", NULL, NULL, NULL},
    {"renamenx", "Renames a key unless the destination exists", "O(1)",
     "key:key#0 newkey:key#1", H("3.2.0 Renaming a key to itself is no longer an error."),
     NULL, NULL},
    {"copy", "Copies a key's value to another key", "O(N) in the size of the value copied",
     "source:key#0 destination:key#1 destination-db:integer=DB? replace:pure-token=REPLACE?",
     NULL, NULL, NULL},
    {"move", "Moves a key to another database", "O(1)",
     "key:key#0 db:integer", NULL, NULL, NULL},
    {"touch", "Updates the access time of keys and counts the existing ones",
     "O(N) in the number of keys", "key:key#0*", NULL, NULL, NULL},
    {"object", "Groups the value introspection subcommands", "Depends on the subcommand.",
     "", NULL, NULL, NULL},
    {"object|encoding", "Returns the internal encoding of a key's value", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"object|freq", "Returns the access frequency counter of a key", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"object|idletime", "Returns the seconds since a key was last accessed", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"object|refcount", "Returns the reference count of a key's value", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"object|help", "Lists the OBJECT subcommands", "O(1)", "", NULL, NULL, NULL},
    {"sort", "Sorts the elements of a list, set or sorted set, optionally storing the result",
     "O(N+M*log(M)): N elements, M of them returned", "key:key#0 pattern:pattern=BY#1? "
     "offset_count:block=LIMIT?(offset:integer count:integer) pattern:pattern=GET#1?*+ "
     "order:oneof?(asc:pure-token=ASC desc:pure-token=DESC) sorting:pure-token=ALPHA? "
     "destination:key=STORE#2?", NULL, NULL, NULL},
    {"sort_ro", "Sorts the elements of a list, set or sorted set (read-only)",
     "O(N+M*log(M)): N elements, M of them returned", "key:key#0 pattern:pattern=BY#1? "
     "offset_count:block=LIMIT?(offset:integer count:integer) pattern:pattern=GET#1?*+ "
     "order:oneof?(asc:pure-token=ASC desc:pure-token=DESC) sorting:pure-token=ALPHA?",
     NULL, NULL, NULL},
    {"client|unblock", "Unblocks a client blocked on keys", "O(log N) in the number of clients",
     "client-id:integer timeout_error:oneof?(timeout:pure-token=TIMEOUT error:pure-token=ERROR)",
     NULL, NULL, NULL},
    {"debug", "Debugging and testing helpers", "Depends on the subcommand.", "", NULL, NULL,
     NULL},
    {"lolwut", "Shows computer art and the Redis version", NULL, "version:integer=VERSION?",
     NULL, NULL, NULL},
    {"memory", "Groups the memory introspection subcommands", "Depends on the subcommand.", "",
     NULL, NULL, NULL},
    {"memory|usage", "Estimates the memory a key and its value take",
     "O(N) in the number of samples", "key:key#0 count:integer=SAMPLES?", NULL, NULL, NULL},
    {"memory|stats", "Reports the server's memory use", "O(1)", "", NULL, NULL, NULL},
    {"memory|doctor", "Reports memory problems", "O(1)", "", NULL, NULL, NULL},
    {"memory|malloc-stats", "Reports the allocator's statistics", "Depends on the allocator",
     "", NULL, NULL, NULL},
    {"memory|purge", "Asks the allocator to release dirty pages", "Depends on the allocator",
     "", NULL, NULL, NULL},
    {"memory|help", "Lists the MEMORY subcommands", "O(1)", "", NULL, NULL, NULL},
    {"latency", "Groups the latency monitoring subcommands", "Depends on the subcommand.", "",
     NULL, NULL, NULL},
    {"latency|latest", "Reports the latest sample of every latency event", "O(1)", "", NULL,
     NULL, NULL},
    {"latency|history", "Reports the samples of a latency event", "O(1)", "event:string", NULL,
     NULL, NULL},
    {"latency|reset", "Drops the samples of latency events", "O(1)", "event:string?*", NULL,
     NULL, NULL},
    {"latency|graph", "Draws a latency event's samples", "O(1)", "event:string", NULL, NULL,
     NULL},
    {"latency|doctor", "Reports on the latency events seen", "O(1)", "", NULL, NULL, NULL},
    {"latency|histogram", "Reports per-command latency histograms",
     "O(N) in the number of commands", "command:string?*", NULL, NULL, NULL},
    {"latency|help", "Lists the LATENCY subcommands", "O(1)", "", NULL, NULL, NULL},

    /* ---- strings ---- */
    {"get", "Returns a key's string value", "O(1)", "key:key#0", NULL, NULL, NULL},
    {"set", "Stores a string value, with optional conditions and expiry", "O(1)",
     "key:key#0 value:string condition:oneof@2.6.12?(nx:pure-token=NX xx:pure-token=XX) "
     "get:pure-token=GET@6.2.0? expiration:oneof?(seconds:integer=EX@2.6.12 "
     "milliseconds:integer=PX@2.6.12 unix-time-seconds:unix-time=EXAT@6.2.0 "
     "unix-time-milliseconds:unix-time=PXAT@6.2.0 keepttl:pure-token=KEEPTTL@6.0.0)",
     H("2.6.12 EX, PX, NX and XX options.", "6.0.0 KEEPTTL option.",
       "6.2.0 GET, EXAT and PXAT options.", "7.0.0 NX and GET may be combined."),
     NULL, NULL},
    {"setnx", "Stores a string value unless the key exists", "O(1)",
     "key:key#0 value:string", NULL, NULL, NULL},
    {"setex", "Stores a string value with a time to live in seconds", "O(1)",
     "key:key#0 seconds:integer value:string", NULL, NULL, NULL},
    {"psetex", "Stores a string value with a time to live in milliseconds", "O(1)",
     "key:key#0 milliseconds:integer value:string", NULL, NULL, NULL},
    {"getex", "Returns a key's string value and changes its expiry", "O(1)",
     "key:key#0 expiration:oneof?(seconds:integer=EX milliseconds:integer=PX "
     "unix-time-seconds:unix-time=EXAT unix-time-milliseconds:unix-time=PXAT "
     "persist:pure-token=PERSIST)",
     NULL, NULL, NULL},
    {"getdel", "Returns a key's string value and deletes the key", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"getset", "Stores a string value and returns the previous one", "O(1)",
     "key:key#0 value:string", NULL, "6.2.0", "`SET` with its `GET` option"},
    {"mget", "Returns the string values of several keys", "O(N) in the number of keys",
     "key:key#0*", NULL, NULL, NULL},
    {"mset", "Stores several string values at once", "O(N) in the number of keys",
     "key_value:block*(key:key#0 value:string)", NULL, NULL, NULL},
    {"msetnx", "Stores several string values at once, only if none of the keys exists",
     "O(N) in the number of keys", "key_value:block*(key:key#0 value:string)", NULL, NULL, NULL},
    {"incr", "Adds one to a key's integer value", "O(1)", "key:key#0", NULL, NULL, NULL},
    {"decr", "Subtracts one from a key's integer value", "O(1)", "key:key#0", NULL, NULL, NULL},
    {"incrby", "Adds an integer to a key's integer value", "O(1)",
     "key:key#0 increment:integer", NULL, NULL, NULL},
    {"decrby", "Subtracts an integer from a key's integer value", "O(1)",
     "key:key#0 decrement:integer", NULL, NULL, NULL},
    {"incrbyfloat", "Adds a floating point number to a key's numeric value", "O(1)",
     "key:key#0 increment:double", NULL, NULL, NULL},
    {"append", "Appends a string to a key's value", "O(1) amortized",
     "key:key#0 value:string", NULL, NULL, NULL},
    {"strlen", "Returns the length of a key's string value", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"getrange", "Returns a substring of a key's string value",
     "O(N) in the length of the substring", "key:key#0 start:integer end:integer",
     NULL, NULL, NULL},
    {"substr", "Returns a substring of a key's string value",
     "O(N) in the length of the substring", "key:key#0 start:integer end:integer",
     NULL, "2.0.0", "`GETRANGE`"},
    {"setrange", "Overwrites part of a key's string value at an offset",
     "O(1) plus the cost of copying the new bytes", "key:key#0 offset:integer value:string",
     NULL, NULL, NULL},
    {"lcs", "Finds the longest common subsequence of two string values",
     "O(N*M) in the lengths of the two strings",
     "key1:key#0 key2:key#0 len:pure-token=LEN? idx:pure-token=IDX? "
     "len:integer=MINMATCHLEN? withmatchlen:pure-token=WITHMATCHLEN?",
     NULL, NULL, NULL},

    /* ---- bitmaps ---- */
    {"setbit", "Sets or clears one bit of a string value", "O(1)",
     "key:key#0 offset:integer value:integer", NULL, NULL, NULL},
    {"getbit", "Returns one bit of a string value", "O(1)",
     "key:key#0 offset:integer", NULL, NULL, NULL},
    {"bitcount", "Counts the set bits of a string value, optionally within a range",
     "O(N) in the length of the range",
     "key:key#0 index:block?(start:integer end:integer index_unit:oneof@7.0.0?("
     "byte:pure-token=BYTE bit:pure-token=BIT))",
     H("7.0.0 BYTE and BIT range units."), NULL, NULL},
    {"bitpos", "Finds the first set or clear bit of a string value",
     "O(N) in the length of the range",
     "key:key#0 bit:integer index:block?(start:integer end_index:block?(end:integer "
     "index_unit:oneof@7.0.0?(byte:pure-token=BYTE bit:pure-token=BIT)))",
     H("7.0.0 BYTE and BIT range units."), NULL, NULL},
    {"bitop", "Combines string values bitwise into a destination key",
     "O(N) in the length of the longest input",
     "operation:string destkey:key#0 key:key#1*", NULL, NULL, NULL},
    {"bitfield", "Reads, writes and increments integer fields of a string value",
     "O(1) per operation",
     "key:key#0 operation:oneof?*(encoding_offset:block=GET(encoding:string offset:integer) "
     "write:block(wrap_sat_fail:oneof=OVERFLOW?(wrap:pure-token=WRAP sat:pure-token=SAT "
     "fail:pure-token=FAIL) write_operation:oneof(encoding_offset_value:block=SET("
     "encoding:string offset:integer value:integer) encoding_offset_increment:block=INCRBY("
     "encoding:string offset:integer increment:integer))))",
     NULL, NULL, NULL},
    {"bitfield_ro", "Reads integer fields of a string value", "O(1) per operation",
     "key:key#0 encoding_offset:block=GET?*+(encoding:string offset:integer)",
     NULL, NULL, NULL},

    /* ---- hashes ---- */
    {"hset", "Sets fields of a hash", "O(1) per field given",
     "key:key#0 field_value:block*(field:string value:string)",
     H("4.0.0 Several field/value pairs in one call."), NULL, NULL},
    {"hsetnx", "Sets a hash field unless it already exists", "O(1)",
     "key:key#0 field:string value:string", NULL, NULL, NULL},
    {"hget", "Returns the value of a hash field", "O(1)",
     "key:key#0 field:string", NULL, NULL, NULL},
    {"hmget", "Returns the values of several hash fields", "O(N) in the number of fields named",
     "key:key#0 field:string*", NULL, NULL, NULL},
    {"hmset", "Sets several fields of a hash", "O(N) in the number of fields given",
     "key:key#0 field_value:block*(field:string value:string)", NULL, "4.0.0",
     "`HSET` with several field/value pairs"},
    {"hdel", "Removes fields from a hash", "O(N) in the number of fields named",
     "key:key#0 field:string*", H("2.4.0 Several fields in one call."), NULL, NULL},
    {"hexists", "Tells whether a hash has a field", "O(1)",
     "key:key#0 field:string", NULL, NULL, NULL},
    {"hlen", "Counts the fields of a hash", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"hstrlen", "Returns the length of a hash field's value", "O(1)",
     "key:key#0 field:string", NULL, NULL, NULL},
    {"hkeys", "Lists the field names of a hash", "O(N) in the number of fields of the hash",
     "key:key#0", NULL, NULL, NULL},
    {"hvals", "Lists the values of a hash", "O(N) in the number of fields of the hash",
     "key:key#0", NULL, NULL, NULL},
    {"hgetall", "Returns every field and value of a hash",
     "O(N) in the number of fields of the hash",
     "key:key#0", NULL, NULL, NULL},
    {"hincrby", "Adds an integer to a hash field's integer value", "O(1)",
     "key:key#0 field:string increment:integer", NULL, NULL, NULL},
    {"hincrbyfloat", "Adds a floating point number to a hash field's numeric value", "O(1)",
     "key:key#0 field:string increment:double", NULL, NULL, NULL},
    {"hrandfield", "Returns random fields of a hash, optionally with their values",
     "O(N) in the number of fields returned",
     "key:key#0 options:block?(count:integer withvalues:pure-token=WITHVALUES?)", NULL, NULL,
     NULL},
    {"hscan", "Iterates over the fields and values of a hash with a cursor",
     "O(1) per call, O(N) for a full iteration over N elements",
     "key:key#0 cursor:integer pattern:pattern=MATCH? count:integer=COUNT?", NULL, NULL, NULL},

    /* ---- lists ---- */
    {"lpush", "Inserts elements at the head of a list", "O(1) per element inserted",
     "key:key#0 element:string*", H("2.4.0 Several elements in one call."), NULL, NULL},
    {"rpush", "Inserts elements at the tail of a list", "O(1) per element inserted",
     "key:key#0 element:string*", H("2.4.0 Several elements in one call."), NULL, NULL},
    {"lpushx", "Inserts elements at the head of an existing list", "O(1) per element inserted",
     "key:key#0 element:string*", H("4.0.0 Several elements in one call."), NULL, NULL},
    {"rpushx", "Inserts elements at the tail of an existing list", "O(1) per element inserted",
     "key:key#0 element:string*", H("4.0.0 Several elements in one call."), NULL, NULL},
    {"lpop", "Removes and returns elements from the head of a list",
     "O(N) in the number of elements removed",
     "key:key#0 count:integer@6.2.0?", H("6.2.0 Optional count of elements."), NULL, NULL},
    {"rpop", "Removes and returns elements from the tail of a list",
     "O(N) in the number of elements removed",
     "key:key#0 count:integer@6.2.0?", H("6.2.0 Optional count of elements."), NULL, NULL},
    {"llen", "Returns the length of a list", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"lrange", "Returns a range of elements of a list",
     "O(S+N): S to walk to the start of the range from the nearer end, N the elements "
     "returned",
     "key:key#0 start:integer stop:integer", NULL, NULL, NULL},
    {"lindex", "Returns the element of a list at an index",
     "O(N) in the distance walked to the index; O(1) at either end",
     "key:key#0 index:integer", NULL, NULL, NULL},
    {"lset", "Replaces the element of a list at an index",
     "O(N) in the distance walked to the index; O(1) at either end",
     "key:key#0 index:integer element:string", NULL, NULL, NULL},
    {"linsert", "Inserts an element before or after another element of a list",
     "O(N) in the number of elements walked before the pivot is found",
     "key:key#0 where:oneof(before:pure-token=BEFORE after:pure-token=AFTER) pivot:string "
     "element:string", NULL, NULL, NULL},
    {"lrem", "Removes occurrences of an element from a list",
     "O(N+M) in the length of the list and the elements removed",
     "key:key#0 count:integer element:string", NULL, NULL, NULL},
    {"ltrim", "Keeps only a range of elements of a list",
     "O(N) in the number of elements removed",
     "key:key#0 start:integer stop:integer", NULL, NULL, NULL},
    {"lpos", "Finds the indexes of matching elements of a list",
     "O(N) in the number of elements examined; MAXLEN bounds it",
     "key:key#0 element:string rank:integer=RANK? num-matches:integer=COUNT? len:integer=MAXLEN?",
     NULL, NULL, NULL},
    {"lmove", "Moves an element from one end of a list to an end of another list", "O(1)",
     "source:key#0 destination:key#1 wherefrom:oneof(left:pure-token=LEFT "
     "right:pure-token=RIGHT) whereto:oneof(left:pure-token=LEFT right:pure-token=RIGHT)", NULL,
     NULL, NULL},
    {"rpoplpush", "Moves the last element of a list to the head of another list", "O(1)",
     "source:key#0 destination:key#1", NULL, "6.2.0", "`LMOVE` with `RIGHT` then `LEFT`"},
    {"lmpop", "Removes and returns elements from the first non-empty list of several",
     "O(N+M) in the number of keys and the elements returned",
     "numkeys:integer key:key#0* where:oneof(left:pure-token=LEFT right:pure-token=RIGHT) "
     "count:integer=COUNT?", NULL, NULL, NULL},
    {"blpop", "Removes and returns the head of the first non-empty list, waiting for one if "
     "needed", "O(N) in the number of keys",
     "key:key#0* timeout:double", H("6.0.0 The timeout may be fractional."), NULL, NULL},
    {"brpop", "Removes and returns the tail of the first non-empty list, waiting for one if "
     "needed", "O(N) in the number of keys",
     "key:key#0* timeout:double", H("6.0.0 The timeout may be fractional."), NULL, NULL},
    {"blmove", "Moves an element between lists, waiting for the source to have one if needed",
     "O(1)",
     "source:key#0 destination:key#1 wherefrom:oneof(left:pure-token=LEFT "
     "right:pure-token=RIGHT) whereto:oneof(left:pure-token=LEFT "
     "right:pure-token=RIGHT) timeout:double", NULL, NULL, NULL},
    {"brpoplpush",
     "Moves the last element of a list to the head of another, waiting for one if needed",
     "O(1)",
     "source:key#0 destination:key#1 timeout:double", H("6.0.0 The timeout may be fractional."),
     "6.2.0", "`BLMOVE` with `RIGHT` then `LEFT`"},
    {"blmpop",
     "Removes and returns elements from the first non-empty list of several, waiting if "
     "needed", "O(N+M) in the number of keys and the elements returned",
     "timeout:double numkeys:integer key:key#0* where:oneof(left:pure-token=LEFT "
     "right:pure-token=RIGHT) count:integer=COUNT?", NULL, NULL, NULL},

    /* ---- sets ---- */
    {"sadd", "Adds members to a set", "O(1) per member added",
     "key:key#0 member:string*", H("2.4.0 Several members in one call."), NULL, NULL},
    {"srem", "Removes members from a set", "O(N) in the number of members named",
     "key:key#0 member:string*", H("2.4.0 Several members in one call."), NULL, NULL},
    {"scard", "Counts the members of a set", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"sismember", "Tells whether a value is a member of a set", "O(1)",
     "key:key#0 member:string", NULL, NULL, NULL},
    {"smismember", "Tells, for each of several values, whether it is a member of a set",
     "O(N) in the number of values checked",
     "key:key#0 member:string*", NULL, NULL, NULL},
    {"smembers", "Returns every member of a set", "O(N) in the number of members",
     "key:key#0", NULL, NULL, NULL},
    {"srandmember", "Returns random members of a set",
     "O(1) without a count, otherwise O(N) in the absolute count",
     "key:key#0 count:integer@2.6.0?", H("2.6.0 Optional count of members."), NULL, NULL},
    {"spop", "Removes and returns random members of a set",
     "O(1) without a count, otherwise O(N) in the count",
     "key:key#0 count:integer@3.2.0?", H("3.2.0 Optional count of members."), NULL, NULL},
    {"smove", "Moves a member from one set to another", "O(1)",
     "source:key#0 destination:key#1 member:string", NULL, NULL, NULL},
    {"sinter", "Returns the intersection of sets",
     "O(N*M) at worst: N the smallest set's size, M the number of sets",
     "key:key#0*", NULL, NULL, NULL},
    {"sintercard", "Counts the members of the intersection of sets",
     "O(N*M) at worst: N the smallest set's size, M the number of sets",
     "numkeys:integer key:key#0* limit:integer=LIMIT?", NULL, NULL, NULL},
    {"sinterstore", "Stores the intersection of sets in a key",
     "O(N*M) at worst: N the smallest set's size, M the number of sets",
     "destination:key#0 key:key#1*", NULL, NULL, NULL},
    {"sunion", "Returns the union of sets", "O(N) in the total number of members of the sets",
     "key:key#0*", NULL, NULL, NULL},
    {"sunionstore", "Stores the union of sets in a key",
     "O(N) in the total number of members of the sets",
     "destination:key#0 key:key#1*", NULL, NULL, NULL},
    {"sdiff", "Returns the members of the first set that no other given set has",
     "O(N) in the total number of members of the sets",
     "key:key#0*", NULL, NULL, NULL},
    {"sdiffstore", "Stores the difference of sets in a key",
     "O(N) in the total number of members of the sets",
     "destination:key#0 key:key#1*", NULL, NULL, NULL},
    {"sscan", "Iterates over the members of a set with a cursor",
     "O(1) per call, O(N) for a full iteration over N elements",
     "key:key#0 cursor:integer pattern:pattern=MATCH? count:integer=COUNT?", NULL, NULL, NULL},

    /* ---- sorted sets ---- */
    {"zadd", "Adds members to a sorted set or updates their scores",
     "O(log(N)) per member, N the size of the sorted set",
     "key:key#0 condition:oneof@3.0.2?(nx:pure-token=NX xx:pure-token=XX) "
     "comparison:oneof@6.2.0?(gt:pure-token=GT lt:pure-token=LT) "
     "change:pure-token=CH@3.0.2? increment:pure-token=INCR@3.0.2? "
     "score_member:block*(score:double member:string)",
     H("2.4.0 Several members in one call.",
       "3.0.2 NX, XX, CH and INCR options.",
       "6.2.0 GT and LT options."),
     NULL, NULL},
    {"zincrby", "Adds to the score of a sorted set member",
     "O(log(N)) in the size of the sorted set",
     "key:key#0 increment:integer member:string", NULL, NULL, NULL},
    {"zrem", "Removes members from a sorted set",
     "O(M*log(N)): M members removed, N the size of the sorted set",
     "key:key#0 member:string*", H("2.4.0 Several members in one call."), NULL, NULL},
    {"zcard", "Counts the members of a sorted set", "O(1)",
     "key:key#0", NULL, NULL, NULL},
    {"zcount", "Counts the members of a sorted set within a score range",
     "O(log(N)) in the size of the sorted set",
     "key:key#0 min:double max:double", NULL, NULL, NULL},
    {"zlexcount", "Counts the members of a sorted set within a lexicographical range",
     "O(log(N)) in the size of the sorted set",
     "key:key#0 min:string max:string", NULL, NULL, NULL},
    {"zscore", "Returns the score of a sorted set member", "O(1)",
     "key:key#0 member:string", NULL, NULL, NULL},
    {"zmscore", "Returns the scores of several sorted set members",
     "O(N) in the number of members named",
     "key:key#0 member:string*", NULL, NULL, NULL},
    {"zrank", "Returns the position of a member in a sorted set, lowest score first",
     "O(log(N))",
     "key:key#0 member:string", NULL, NULL, NULL},
    {"zrevrank", "Returns the position of a member in a sorted set, highest score first",
     "O(log(N))",
     "key:key#0 member:string", NULL, NULL, NULL},
    {"zrange", "Returns a range of a sorted set by rank, score or lexicographical order",
     "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 start:string stop:string sortby:oneof@6.2.0?(byscore:pure-token=BYSCORE "
     "bylex:pure-token=BYLEX) rev:pure-token=REV@6.2.0? "
     "offset_count:block=LIMIT@6.2.0?(offset:integer count:integer) "
     "withscores:pure-token=WITHSCORES?", H("6.2.0 REV, BYSCORE, BYLEX and LIMIT options."),
     NULL, NULL},
    {"zrangestore", "Stores a range of a sorted set in a key",
     "O(log(N)+M): N the size of the sorted set, M the members stored",
     "dst:key#0 src:key#1 min:string max:string sortby:oneof?(byscore:pure-token=BYSCORE "
     "bylex:pure-token=BYLEX) rev:pure-token=REV? "
     "offset_count:block=LIMIT?(offset:integer count:integer)", NULL, NULL, NULL},
    {"zrangebyscore", "Returns the members of a sorted set within a score range",
     "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 min:double max:double withscores:pure-token=WITHSCORES@2.0.0? "
     "offset_count:block=LIMIT?(offset:integer count:integer)", H("2.0.0 WITHSCORES option."),
     "6.2.0", "`ZRANGE` with `BYSCORE`"},
    {"zrevrangebyscore",
     "Returns the members of a sorted set within a score range, highest score first",
     "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 max:double min:double withscores:pure-token=WITHSCORES? "
     "offset_count:block=LIMIT?(offset:integer count:integer)",
     H("2.1.6 Exclusive bounds for min and max."), "6.2.0", "`ZRANGE` with `REV` and `BYSCORE`"},
    {"zrangebylex", "Returns the members of a sorted set within a lexicographical range",
     "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 min:string max:string offset_count:block=LIMIT?(offset:integer count:integer)",
     NULL, "6.2.0", "`ZRANGE` with `BYLEX`"},
    {"zrevrangebylex",
     "Returns the members of a sorted set within a lexicographical range, in reverse "
     "order", "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 max:string min:string offset_count:block=LIMIT?(offset:integer count:integer)",
     NULL, "6.2.0", "`ZRANGE` with `REV` and `BYLEX`"},
    {"zrevrange", "Returns a range of a sorted set by rank, highest score first",
     "O(log(N)+M): N the size of the sorted set, M the members returned",
     "key:key#0 start:integer stop:integer withscores:pure-token=WITHSCORES?", NULL, "6.2.0",
     "`ZRANGE` with `REV`"},
    {"zremrangebyrank", "Removes the members of a sorted set within a rank range",
     "O(log(N)+M): N the size of the sorted set, M the members removed",
     "key:key#0 start:integer stop:integer", NULL, NULL, NULL},
    {"zremrangebyscore", "Removes the members of a sorted set within a score range",
     "O(log(N)+M): N the size of the sorted set, M the members removed",
     "key:key#0 min:double max:double", NULL, NULL, NULL},
    {"zremrangebylex", "Removes the members of a sorted set within a lexicographical range",
     "O(log(N)+M): N the size of the sorted set, M the members removed",
     "key:key#0 min:string max:string", NULL, NULL, NULL},
    {"zpopmin", "Removes and returns the lowest-scored members of a sorted set",
     "O(M*log(N)): M members removed, N the size of the sorted set",
     "key:key#0 count:integer?", NULL, NULL, NULL},
    {"zpopmax", "Removes and returns the highest-scored members of a sorted set",
     "O(M*log(N)): M members removed, N the size of the sorted set",
     "key:key#0 count:integer?", NULL, NULL, NULL},
    {"zmpop", "Removes and returns the lowest- or highest-scored members of the first non-empty "
     "sorted set of several",
     "O(K)+O(M*log(N)): K keys, M members removed, N the size of the sorted set",
     "numkeys:integer key:key#0* where:oneof(min:pure-token=MIN max:pure-token=MAX) "
     "count:integer=COUNT?", NULL, NULL, NULL},
    {"zrandmember", "Returns random members of a sorted set, optionally with their scores",
     "O(N) in the number of members returned",
     "key:key#0 options:block?(count:integer withscores:pure-token=WITHSCORES?)", NULL, NULL,
     NULL},
    {"zunion", "Returns the union of sorted sets",
     "O(N)+O(M*log(M)): N the total size of the inputs, M the size of the result",
     "numkeys:integer key:key#0* weight:integer=WEIGHTS?* "
     "aggregate:oneof=AGGREGATE?(sum:pure-token=SUM min:pure-token=MIN "
     "max:pure-token=MAX) withscores:pure-token=WITHSCORES?", NULL, NULL, NULL},
    {"zinter", "Returns the intersection of sorted sets",
     "O(N*K)+O(M*log(M)) at worst: N the smallest input's size, K the number of inputs, "
     "M the size of the result",
     "numkeys:integer key:key#0* weight:integer=WEIGHTS?* "
     "aggregate:oneof=AGGREGATE?(sum:pure-token=SUM min:pure-token=MIN "
     "max:pure-token=MAX) withscores:pure-token=WITHSCORES?", NULL, NULL, NULL},
    {"zdiff", "Returns the members of the first sorted set that no other given sorted set has",
     "O(L+(N-K)*log(N)) at worst: L the total size of the inputs, N the first input's "
     "size, K the size of the result",
     "numkeys:integer key:key#0* withscores:pure-token=WITHSCORES?", NULL, NULL, NULL},
    {"zunionstore", "Stores the union of sorted sets in a key",
     "O(N)+O(M*log(M)): N the total size of the inputs, M the size of the result",
     "destination:key#0 numkeys:integer key:key#1* weight:integer=WEIGHTS?* "
     "aggregate:oneof=AGGREGATE?(sum:pure-token=SUM min:pure-token=MIN "
     "max:pure-token=MAX)", NULL, NULL, NULL},
    {"zinterstore", "Stores the intersection of sorted sets in a key",
     "O(N*K)+O(M*log(M)) at worst: N the smallest input's size, K the number of inputs, "
     "M the size of the result",
     "destination:key#0 numkeys:integer key:key#1* weight:integer=WEIGHTS?* "
     "aggregate:oneof=AGGREGATE?(sum:pure-token=SUM min:pure-token=MIN "
     "max:pure-token=MAX)", NULL, NULL, NULL},
    {"zdiffstore", "Stores the difference of sorted sets in a key",
     "O(L+(N-K)*log(N)) at worst: L the total size of the inputs, N the first input's "
     "size, K the size of the result",
     "destination:key#0 numkeys:integer key:key#1*", NULL, NULL, NULL},
    {"zintercard", "Counts the members of the intersection of sorted sets",
     "O(N*K) at worst: N the smallest input's size, K the number of inputs",
     "numkeys:integer key:key#0* limit:integer=LIMIT?", NULL, NULL, NULL},
    {"zscan", "Iterates over the members and scores of a sorted set with a cursor",
     "O(1) per call, O(N) for a full iteration over N elements",
     "key:key#0 cursor:integer pattern:pattern=MATCH? count:integer=COUNT?", NULL, NULL, NULL},
    {"bzpopmin",
     "Removes and returns the lowest-scored member of the first non-empty sorted set, "
     "waiting for one if needed", "O(log(N)) in the size of the sorted set",
     "key:key#0* timeout:double", H("6.0.0 The timeout may be fractional."), NULL, NULL},
    {"bzpopmax",
     "Removes and returns the highest-scored member of the first non-empty sorted set, "
     "waiting for one if needed", "O(log(N)) in the size of the sorted set",
     "key:key#0* timeout:double", H("6.0.0 The timeout may be fractional."), NULL, NULL},
    {"bzmpop",
     "Removes and returns members of the first non-empty sorted set of several, waiting "
     "if needed", "O(K)+O(M*log(N)): K keys, M members removed, N the size of the sorted set",
     "timeout:double numkeys:integer key:key#0* where:oneof(min:pure-token=MIN "
     "max:pure-token=MAX) count:integer=COUNT?", NULL, NULL, NULL},

    /* ---- transactions ---- */
    {"multi", "Opens a transaction", "O(1)",
     "", NULL, NULL, NULL},
    {"exec", "Runs the commands queued since MULTI",
     "The sum of the costs of the queued commands",
     "", NULL, NULL, NULL},
    {"discard", "Abandons the transaction and its queued commands",
     "O(N) in the number of queued commands",
     "", NULL, NULL, NULL},
    {"watch", "Makes the next transaction fail if any of the keys changes", "O(1) per key",
     "key:key#0*", NULL, NULL, NULL},
    {"unwatch", "Stops watching every key", "O(1)",
     "", NULL, NULL, NULL},

    /* ---- pub/sub ---- */
    {"subscribe", "Listens for messages published to channels",
     "O(N) in the number of channels named",
     "channel:string*", NULL, NULL, NULL},
    {"unsubscribe", "Stops listening on channels, or on every channel",
     "O(N) in the number of subscribers of the channels left",
     "channel:string?*", NULL, NULL, NULL},
    {"psubscribe", "Listens for messages published to channels matching patterns",
     "O(N) in the number of patterns the connection listens on",
     "pattern:block*(pattern:pattern)", NULL, NULL, NULL},
    {"punsubscribe", "Stops listening on patterns, or on every pattern",
     "O(N+M): N the connection's patterns, M the patterns of all connections",
     "pattern:pattern?*", NULL, NULL, NULL},
    {"publish", "Sends a message to a channel",
     "O(N+M): N the channel's subscribers, M the patterns of all connections",
     "channel:string message:string", NULL, NULL, NULL},
    {"ssubscribe", "Listens for messages published to shard channels",
     "O(N) in the number of shard channels named",
     "shardchannel:string*", NULL, NULL, NULL},
    {"sunsubscribe", "Stops listening on shard channels, or on every shard channel",
     "O(N) in the number of subscribers of the shard channels left",
     "shardchannel:string?*", NULL, NULL, NULL},
    {"spublish", "Sends a message to a shard channel",
     "O(N) in the number of subscribers of the shard channel",
     "shardchannel:string message:string", NULL, NULL, NULL},
    {"pubsub", "Groups the publish/subscribe introspection subcommands",
     "Depends on the subcommand.",
     "", NULL, NULL, NULL},
    {"pubsub|channels",
     "Lists the channels that have subscribers, optionally filtered by a pattern",
     "O(N) in the number of channels with subscribers",
     "pattern:pattern?", NULL, NULL, NULL},
    {"pubsub|help", "Lists the PUBSUB subcommands", "O(1)",
     "", NULL, NULL, NULL},
    {"pubsub|numpat", "Counts the patterns that have subscribers", "O(1)",
     "", NULL, NULL, NULL},
    {"pubsub|numsub", "Counts the subscribers of channels",
     "O(N) in the number of channels named",
     "channel:string?*", NULL, NULL, NULL},
    {"pubsub|shardchannels",
     "Lists the shard channels that have subscribers, optionally filtered by a pattern",
     "O(N) in the number of shard channels with subscribers",
     "pattern:pattern?", NULL, NULL, NULL},
    {"pubsub|shardnumsub", "Counts the subscribers of shard channels",
     "O(N) in the number of shard channels named",
     "shardchannel:string?*", NULL, NULL, NULL},

    /* ---- hyperloglog ---- */
    {"pfadd", "Adds elements to a HyperLogLog, creating it if needed", "O(1) per element",
     "key:key#0 element:string?*", NULL, NULL, NULL},
    {"pfcount", "Estimates the number of distinct elements added to one or more HyperLogLogs",
     "O(1) for one key (the estimate is cached), O(N) in the number of keys otherwise",
     "key:key#0*", NULL, NULL, NULL},
    {"pfmerge", "Merges HyperLogLogs into a destination HyperLogLog",
     "O(N) in the number of HyperLogLogs merged", "destkey:key#0 sourcekey:key#1*", NULL,
     NULL, NULL},
    {"pfdebug", "Inspects or converts a HyperLogLog's internal representation", "N/A",
     "subcommand:string key:key#0", NULL, NULL, NULL},
    {"pfselftest", "Runs the HyperLogLog implementation's self-test", "N/A", "", NULL, NULL,
     NULL},

    /* ---- geo ---- */
    {"geoadd", "Adds positions to a geospatial index (a sorted set), or moves them",
     "O(log(N)) per position, N the size of the sorted set",
     "key:key#0 condition:oneof@6.2.0?(nx:pure-token=NX xx:pure-token=XX) "
     "change:pure-token=CH@6.2.0? "
     "longitude_latitude_member:block*(longitude:double latitude:double member:string)",
     H("6.2.0 NX, XX and CH options."), NULL, NULL},
    {"geodist", "Returns the distance between two members of a geospatial index",
     "O(log(N))",
     "key:key#0 member1:string member2:string unit:oneof?(m:pure-token=M km:pure-token=KM "
     "ft:pure-token=FT mi:pure-token=MI)", NULL, NULL, NULL},
    {"geohash", "Returns the standard geohash strings of members of a geospatial index",
     "O(log(N)) per member, N the size of the sorted set", "key:key#0 member:string*", NULL,
     NULL, NULL},
    {"geopos", "Returns the longitude and latitude of members of a geospatial index",
     "O(N) in the number of members named", "key:key#0 member:string*", NULL, NULL, NULL},
    {"geosearch", "Returns the members of a geospatial index inside a circle or a box",
     GEO_DOC_SEARCH_COMPLEXITY,
     "key:key#0 " GEO_DOC_FROM " " GEO_DOC_BY " " GEO_DOC_ORDER " " GEO_DOC_COUNT
     " withcoord:pure-token=WITHCOORD? withdist:pure-token=WITHDIST? "
     "withhash:pure-token=WITHHASH?",
     H("7.0.0 Units in upper case."), NULL, NULL},
    {"geosearchstore",
     "Stores the members of a geospatial index inside a circle or a box in a sorted set",
     GEO_DOC_SEARCH_COMPLEXITY,
     "destination:key#0 source:key#1 " GEO_DOC_FROM " " GEO_DOC_BY " " GEO_DOC_ORDER " "
     GEO_DOC_COUNT " storedist:pure-token=STOREDIST?",
     H("7.0.0 Units in upper case."), NULL, NULL},
    {"georadius",
     "Returns the members of a geospatial index within a distance of a position, or stores "
     "them", GEO_DOC_RADIUS_COMPLEXITY,
     "key:key#0 longitude:double latitude:double radius:double " GEO_DOC_UNIT " "
     GEO_DOC_WITH " " GEO_DOC_COUNT_ANY62 " " GEO_DOC_ORDER " " GEO_DOC_STORE,
     H("6.2.0 ANY option for COUNT.", "7.0.0 Units in upper case."), "6.2.0",
     "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"},
    {"georadius_ro", "Returns the members of a geospatial index within a distance of a position",
     GEO_DOC_RADIUS_COMPLEXITY,
     "key:key#0 longitude:double latitude:double radius:double " GEO_DOC_UNIT " "
     GEO_DOC_WITH " " GEO_DOC_COUNT_ANY62 " " GEO_DOC_ORDER,
     H("6.2.0 ANY option for COUNT."), "6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"},
    {"georadiusbymember",
     "Returns the members of a geospatial index within a distance of one of them, or stores "
     "them", GEO_DOC_RADIUS_COMPLEXITY,
     "key:key#0 member:string radius:double " GEO_DOC_UNIT " " GEO_DOC_WITH " " GEO_DOC_COUNT
     " " GEO_DOC_ORDER " " GEO_DOC_STORE,
     H("7.0.0 Units in upper case."), "6.2.0",
     "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"},
    {"georadiusbymember_ro",
     "Returns the members of a geospatial index within a distance of one of them",
     GEO_DOC_RADIUS_COMPLEXITY,
     "key:key#0 member:string radius:double " GEO_DOC_UNIT " " GEO_DOC_WITH " " GEO_DOC_COUNT
     " " GEO_DOC_ORDER,
     NULL, "6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"},

    /* ---- streams ---- */
    {"xadd", "Appends an entry to a stream, creating it if needed",
     "O(1) per entry added; trimming is O(N) in the entries removed",
     "key:key#0 nomkstream:pure-token=NOMKSTREAM@6.2.0? " STREAM_DOC_TRIM("?") " "
     "id_or_auto:oneof(auto_id:pure-token='*' id:string) "
     "field_value:block*(field:string value:string)",
     H("6.2.0 NOMKSTREAM, the MINID strategy and LIMIT.", "7.0.0 Explicit ids of the form <ms>-*."),
     NULL, NULL},
    {"xrange", "Returns the entries of a stream between two ids",
     "O(log(N)+M), M the entries returned", "key:key#0 start:string end:string "
     "count:integer=COUNT?", H("6.2.0 Exclusive bounds."), NULL, NULL},
    {"xrevrange", "Returns the entries of a stream between two ids, newest first",
     "O(log(N)+M), M the entries returned", "key:key#0 end:string start:string "
     "count:integer=COUNT?", H("6.2.0 Exclusive bounds."), NULL, NULL},
    {"xlen", "Returns the number of entries of a stream", "O(1)", "key:key#0", NULL, NULL,
     NULL},
    {"xdel", "Deletes entries of a stream by id", "O(1) per id", "key:key#0 id:string*", NULL,
     NULL, NULL},
    {"xtrim", "Removes the oldest entries of a stream",
     "O(N) in the entries removed", "key:key#0 " STREAM_DOC_TRIM(""),
     H("6.2.0 The MINID strategy and LIMIT."), NULL, NULL},
    {"xsetid", "Sets the last id (and counters) of a stream", "O(1)",
     "key:key#0 last-id:string entries_added:integer=ENTRIESADDED@7.0.0? "
     "max_deleted_entry_id:string=MAXDELETEDID@7.0.0?",
     H("7.0.0 ENTRIESADDED and MAXDELETEDID."), NULL, NULL},
    {"xread", "Returns entries after given ids from streams, optionally waiting for them",
     "O(M) per stream, M the entries returned",
     "count:integer=COUNT? milliseconds:integer=BLOCK? "
     "streams:block=STREAMS(key:key#0* id:string*)", NULL, NULL, NULL},
    {"xreadgroup", "Reads entries for a consumer of a group, new ones or its pending ones",
     "O(M) per stream, M the entries returned",
     "group_consumer:block=GROUP(group:string consumer:string) count:integer=COUNT? "
     "milliseconds:integer=BLOCK? noack:pure-token=NOACK? "
     "streams:block=STREAMS(key:key#0* id:string*)", NULL, NULL, NULL},
    {"xack", "Acknowledges entries of a group's pending list", "O(1) per id",
     "key:key#0 group:string id:string*", NULL, NULL, NULL},
    {"xpending", "Summarizes or lists the entries a group delivered and has not had acknowledged",
     "O(N) in the entries listed",
     "key:key#0 group:string filters:block?(min-idle-time:integer=IDLE@6.2.0? start:string "
     "end:string count:integer consumer:string?)",
     H("6.2.0 IDLE and exclusive bounds."), NULL, NULL},
    {"xclaim", "Gives pending entries of a group to another consumer", "O(log N) per id",
     "key:key#0 group:string consumer:string min-idle-time:string id:string* "
     "ms:integer=IDLE? unix-time-milliseconds:unix-time=TIME? count:integer=RETRYCOUNT? "
     "force:pure-token=FORCE? justid:pure-token=JUSTID? id:string=LASTID?",
     NULL, NULL, NULL},
    {"xautoclaim", "Gives a consumer the pending entries of a group idle for long enough",
     "O(1) per entry examined",
     "key:key#0 group:string consumer:string min-idle-time:string start:string "
     "count:integer=COUNT? justid:pure-token=JUSTID?",
     H("7.0.0 A third reply element: the deleted entries cleared from the pending list."),
     NULL, NULL},
    {"xgroup", "Groups the consumer group subcommands", "Depends on the subcommand.", "",
     NULL, NULL, NULL},
    {"xgroup|create", "Creates a consumer group", "O(1)",
     "key:key#0 groupname:string id:oneof(id:string new_id:pure-token=$) "
     "mkstream:pure-token=MKSTREAM? entries_read:integer=ENTRIESREAD?",
     H("7.0.0 ENTRIESREAD."), NULL, NULL},
    {"xgroup|createconsumer", "Creates a consumer in a group", "O(1)",
     "key:key#0 groupname:string consumername:string", NULL, NULL, NULL},
    {"xgroup|delconsumer", "Deletes a consumer and its pending entries from a group",
     "O(N) in its pending entries", "key:key#0 groupname:string consumername:string", NULL,
     NULL, NULL},
    {"xgroup|destroy", "Deletes a consumer group",
     "O(N) in its pending entries and consumers", "key:key#0 groupname:string", NULL, NULL,
     NULL},
    {"xgroup|setid", "Sets the last delivered id of a group", "O(1)",
     "key:key#0 groupname:string id:oneof(id:string new_id:pure-token=$) "
     "entries_read:integer=ENTRIESREAD?", H("7.0.0 ENTRIESREAD."), NULL, NULL},
    {"xgroup|help", "Lists the XGROUP subcommands", "O(1)", "", NULL, NULL, NULL},
    {"xinfo", "Groups the stream introspection subcommands", "Depends on the subcommand.", "",
     NULL, NULL, NULL},
    {"xinfo|stream", "Describes a stream, in full with its groups when asked",
     "O(log N) summary; O(N) in the entries and pending entries listed for FULL",
     "key:key#0 full:block=FULL?(count:integer=COUNT?)",
     H("6.0.0 FULL.", "7.0.0 max-deleted-entry-id, entries-added, recorded-first-entry-id, "
       "entries-read and lag."), NULL, NULL},
    {"xinfo|groups", "Describes the consumer groups of a stream", "O(N) in the groups",
     "key:key#0", H("7.0.0 entries-read and lag."), NULL, NULL},
    {"xinfo|consumers", "Describes the consumers of a group", "O(N) in the consumers",
     "key:key#0 groupname:string", NULL, NULL, NULL},
    {"xinfo|help", "Lists the XINFO subcommands", "O(1)", "", NULL, NULL, NULL},
};

/* Internal commands that Redis marks "syscmd" in COMMAND DOCS's doc_flags. */
static const char *const syscmd_docs[] = {"pfdebug", "pfselftest", "debug"};

static int doc_is_syscmd(const struct command *cmd)
{
    for (int i = 0; i < NELEM(syscmd_docs); i++)
        if (strcmp(syscmd_docs[i], cmd->fullname) == 0)
            return 1;
    return 0;
}

/* The docs row of a command, or NULL. */
static const struct cmd_doc *find_doc(const struct command *cmd)
{
    for (int i = 0; i < NELEM(docs_table); i++) {
        if (strcmp(docs_table[i].fullname, cmd->fullname) == 0)
            return &docs_table[i];
    }
    return NULL;
}

/* Parsed head of one argument of the docs grammar. */
struct doc_arg {
    const char *name, *type, *token, *since, *dep;
    size_t name_len, type_len, token_len, since_len, dep_len;
    int ksidx;                  /* -1: none */
    int optional, multiple, multiple_token;
    const char *children;       /* after '(' or NULL */
};

#define ARG_STOP "=@!#?*+() "

/* Parse the argument at s into a; returns the position after it (after its
 * closing ')' when it has members), or NULL if the text is malformed. */
static const char *parse_doc_arg(const char *s, struct doc_arg *a)
{
    memset(a, 0, sizeof(*a));
    a->ksidx = -1;
    size_t head = strcspn(s, ARG_STOP);
    const char *colon = NULL;
    for (size_t i = 0; i < head; i++)
        if (s[i] == ':')
            colon = s + i;
    if (colon == NULL || colon == s || colon + 1 == s + head)
        return NULL;
    a->name = s;
    a->name_len = (size_t)(colon - s);
    a->type = colon + 1;
    a->type_len = (size_t)(s + head - a->type);
    s += head;
    for (;;) {
        char m = *s;
        if (m == '=' || m == '@' || m == '!') {
            s++;
            int quoted = m == '=' && *s == '\'';
            size_t n = quoted ? strcspn(++s, "'") : strcspn(s, ARG_STOP);
            if (n == 0 || (quoted && s[n] != '\''))
                return NULL;
            if (m == '=') {
                a->token = s;
                a->token_len = n;
            } else if (m == '@') {
                a->since = s;
                a->since_len = n;
            } else {
                a->dep = s;
                a->dep_len = n;
            }
            s += n + (size_t)quoted;
        } else if (m == '#') {
            s++;
            if (parse_int(&s, &a->ksidx) != 0 || a->ksidx < 0)
                return NULL;
        } else if (m == '?') {
            a->optional = 1;
            s++;
        } else if (m == '*') {
            a->multiple = 1;
            s++;
        } else if (m == '+') {
            a->multiple_token = 1;
            s++;
        } else {
            break;
        }
    }
    if (*s != '(')
        return s;
    a->children = ++s;
    /* Skip to the matching ')'. */
    int depth = 1;
    while (*s && depth > 0) {
        if (*s == '(')
            depth++;
        else if (*s == ')')
            depth--;
        s++;
    }
    return depth == 0 ? s : NULL;
}

/* Count the arguments of the list starting at s (ending at ')' or NUL). */
static long count_doc_args(const char *s)
{
    long n = 0;
    struct doc_arg a;
    while (*s && *s != ')') {
        s = parse_doc_arg(s, &a);
        if (s == NULL)
            break;
        n++;
        if (*s == ' ')
            s++;
    }
    return n;
}

/* Reply the argument list starting at s as an array of maps. */
static void reply_doc_args(struct client *c, const char *s)
{
    long n = count_doc_args(s);
    reply_array_len(c, n);
    for (long i = 0; i < n; i++) {
        struct doc_arg a;
        s = parse_doc_arg(s, &a);  /* parsed once already: cannot fail */
        long flags = a.optional + a.multiple + a.multiple_token;
        long maplen = 2 + (a.ksidx >= 0) + (a.token != NULL) + (a.since != NULL) +
                      (a.dep != NULL) + (flags > 0) + (a.children != NULL);
        reply_map_len(c, maplen);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, a.name, a.name_len);
        reply_bulk_cstr(c, "type");
        reply_bulk(c, a.type, a.type_len);
        if (a.ksidx >= 0) {
            reply_bulk_cstr(c, "key_spec_index");
            reply_long(c, a.ksidx);
        }
        if (a.token) {
            reply_bulk_cstr(c, "token");
            reply_bulk(c, a.token, a.token_len);
        }
        if (a.since) {
            reply_bulk_cstr(c, "since");
            reply_bulk(c, a.since, a.since_len);
        }
        if (a.dep) {
            reply_bulk_cstr(c, "deprecated_since");
            reply_bulk(c, a.dep, a.dep_len);
        }
        if (flags > 0) {
            reply_bulk_cstr(c, "flags");
            reply_set_len(c, flags);
            if (a.optional)
                reply_status(c, "optional");
            if (a.multiple)
                reply_status(c, "multiple");
            if (a.multiple_token)
                reply_status(c, "multiple_token");
        }
        if (a.children) {
            reply_bulk_cstr(c, "arguments");
            reply_doc_args(c, a.children);
        }
        if (*s == ' ')
            s++;
    }
}

/* The docs map of one command (the value part of COMMAND DOCS's map). */
static void reply_command_docs(struct client *c, const struct command *cmd)
{
    const struct cmd_doc *d = find_doc(cmd);
    const struct command *grp = cmd->container ? cmd->container : cmd;
    const char *group = grp->group ? grp->group : "generic";
    long nhist = 0;
    if (d && d->history)
        while (d->history[nhist])
            nhist++;
    int has_args = d && d->args && d->args[0];
    int deprecated = d && d->deprecated_since, syscmd = doc_is_syscmd(cmd);

    long maplen = 1 + (d && d->summary) + (cmd->since != NULL) + (d && d->complexity) +
                  (deprecated || syscmd) + deprecated * 2 + (nhist > 0) + has_args +
                  (cmd->nsubs > 0);
    reply_map_len(c, maplen);
    if (d && d->summary) {
        reply_bulk_cstr(c, "summary");
        reply_bulk_cstr(c, d->summary);
    }
    if (cmd->since) {
        reply_bulk_cstr(c, "since");
        reply_bulk_cstr(c, cmd->since);
    }
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, group);
    if (d && d->complexity) {
        reply_bulk_cstr(c, "complexity");
        reply_bulk_cstr(c, d->complexity);
    }
    if (deprecated || syscmd) {
        reply_bulk_cstr(c, "doc_flags");
        reply_set_len(c, deprecated + syscmd);
        if (deprecated)
            reply_status(c, "deprecated");
        if (syscmd)
            reply_status(c, "syscmd");
    }
    if (deprecated) {
        reply_bulk_cstr(c, "deprecated_since");
        reply_bulk_cstr(c, d->deprecated_since);
        reply_bulk_cstr(c, "replaced_by");
        reply_bulk_cstr(c, d->replaced_by);
    }
    if (nhist > 0) {
        reply_bulk_cstr(c, "history");
        reply_set_len(c, nhist);
        for (long i = 0; i < nhist; i++) {
            const char *h = d->history[i];
            size_t vlen = strcspn(h, " ");
            reply_array_len(c, 2);
            reply_bulk(c, h, vlen);
            reply_bulk_cstr(c, h[vlen] ? h + vlen + 1 : "");
        }
    }
    if (has_args) {
        reply_bulk_cstr(c, "arguments");
        reply_doc_args(c, d->args);
    }
    if (cmd->nsubs > 0) {
        reply_bulk_cstr(c, "subcommands");
        reply_map_len(c, cmd->nsubs);
        for (int i = 0; i < cmd->nsubs; i++) {
            reply_bulk_cstr(c, cmd->subs[i]->fullname);
            reply_command_docs(c, cmd->subs[i]);
        }
    }
}

void cmd_command_docs(struct client *c)
{
    if (c->argc == 2) {
        int n = command_count();
        reply_map_len(c, n);
        for (int i = 0; i < n; i++) {
            const struct command *cmd = command_at(i);
            reply_bulk_cstr(c, cmd->fullname);
            reply_command_docs(c, cmd);
        }
        return;
    }
    void *hole = reply_defer_len(c);
    long found = 0;
    for (int i = 2; i < c->argc; i++) {
        const struct command *cmd = lookup_name(&c->argv[i]);
        if (cmd == NULL)
            continue;
        reply_bulk_cstr(c, cmd->fullname);
        reply_command_docs(c, cmd);
        found++;
    }
    reply_set_map_len(c, hole, found);
}

/* ------------------------------------------------------------------------
 * COMMAND GETKEYS / GETKEYSANDFLAGS.
 * ------------------------------------------------------------------------ */

static void getkeys(struct client *c, int withflags)
{
    int argc = c->argc - 2;
    const struct slice *argv = c->argv + 2;

    /* Resolve as the dispatcher would: "a|b" is not a command name here. */
    const struct command *cmd = command_lookup(argv[0].p, argv[0].len);
    if (cmd && cmd->parent)
        cmd = NULL;
    if (cmd && cmd->nsubs > 0 && argc >= 2) {
        const struct command *sub = NULL;
        for (int i = 0; i < cmd->nsubs; i++) {
            const char *name = cmd->subs[i]->name;
            if (strlen(name) == argv[1].len && strncasecmp(name, argv[1].p, argv[1].len) == 0)
                sub = cmd->subs[i];
        }
        cmd = sub;
    }

    if (cmd == NULL) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (!command_has_keys(cmd)) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }

    struct key_ref small[16];
    struct key_ref *keys = small;
    int n = command_find_keys(cmd, argc, argv, keys, NELEM(small));
    if (n > NELEM(small)) {
        keys = rc_malloc(sizeof(*keys) * (size_t)n);
        n = command_find_keys(cmd, argc, argv, keys, n);
    }
    if (n <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            reply_empty_array(c);
        else
            reply_error(c, "ERR Invalid arguments specified for command");
    } else {
        reply_array_len(c, n);
        for (int i = 0; i < n; i++) {
            if (withflags) {
                reply_array_len(c, 2);
                reply_bulk(c, argv[keys[i].pos].p, argv[keys[i].pos].len);
                reply_key_flags(c, keys[i].flags);
            } else {
                reply_bulk(c, argv[keys[i].pos].p, argv[keys[i].pos].len);
            }
        }
    }
    if (keys != small)
        rc_free(keys);
}

void cmd_command_getkeys(struct client *c)
{
    getkeys(c, 0);
}

void cmd_command_getkeysandflags(struct client *c)
{
    getkeys(c, 1);
}

/* ------------------------------------------------------------------------
 * COMMAND LIST.
 * ------------------------------------------------------------------------ */

enum { FILTER_NONE, FILTER_MODULE, FILTER_ACLCAT, FILTER_PATTERN };

/* Nonzero if cmd's ACL categories include the category named by a (given
 * without the '@', any case). */
static int in_category(const struct command *cmd, const struct slice *a)
{
    const char *s = cmd->acl ? cmd->acl : "";
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (n > 1 && s[0] == '@' && n - 1 == a->len && strncasecmp(s + 1, a->p, a->len) == 0)
            return 1;
        s += n;
    }
    return 0;
}

static int list_match(const struct command *cmd, int type, const struct slice *arg)
{
    switch (type) {
    case FILTER_NONE:
        return 1;
    case FILTER_MODULE:
        return 0; /* no module commands exist */
    case FILTER_ACLCAT:
        return in_category(cmd, arg);
    default:
        return rc_glob_match(arg->p, arg->len, cmd->fullname, strlen(cmd->fullname), 1);
    }
}

static long list_commands(struct client *c, const struct command *cmd, int type,
                          const struct slice *arg)
{
    long n = 0;
    if (list_match(cmd, type, arg)) {
        reply_bulk_cstr(c, cmd->fullname);
        n++;
    }
    for (int i = 0; i < cmd->nsubs; i++)
        n += list_commands(c, cmd->subs[i], type, arg);
    return n;
}

void cmd_command_list(struct client *c)
{
    int type = FILTER_NONE;
    const struct slice *arg = NULL;
    for (int i = 2; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "filterby") && more == 2) {
            const struct slice *t = &c->argv[i + 1];
            if (arg_is(t, "module")) {
                type = FILTER_MODULE;
            } else if (arg_is(t, "aclcat")) {
                type = FILTER_ACLCAT;
            } else if (arg_is(t, "pattern")) {
                type = FILTER_PATTERN;
            } else {
                reply_err_syntax(c);
                return;
            }
            arg = &c->argv[i + 2];
            i += 2;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    void *hole = reply_defer_len(c);
    long n = 0;
    for (int i = 0; i < command_count(); i++)
        n += list_commands(c, command_at(i), type, arg);
    reply_set_array_len(c, hole, n);
}

/* ------------------------------------------------------------------------
 * COMMAND HELP.
 * ------------------------------------------------------------------------ */

void cmd_command_help(struct client *c)
{
    /* Redis's exact text, so that HELP replies compare byte for byte.  It
     * ends in "Prints", not reply_help()'s "Print", hence the own list. */
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    };
    reply_array_len(c, NELEM(lines));
    for (int i = 0; i < NELEM(lines); i++)
        reply_status(c, lines[i]);
}
