/*
 * cmd_acl.c — the ACL command (SETUSER GETUSER DELUSER USERS LIST WHOAMI
 * CAT GENPASS LOG DRYRUN LOAD SAVE HELP) and the aclfile's I/O.
 *
 * In a ring, SETUSER and DELUSER run on every member (route.c fans them
 * out like FUNCTION LOAD), so that users are the same wherever a client
 * connects.  LOAD and SAVE act on this node's aclfile, as in Redis
 * Cluster.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "acllog.h"
#include "command.h"
#include "log.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define ACL_FILE_MAX (64ll * 1024 * 1024)

static const char ERR_NO_ACLFILE[] =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";

/* Read path whole (at most ACL_FILE_MAX bytes); NULL with errno. */
static char *read_whole(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = rc_malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if ((long long)len > ACL_FILE_MAX) {
            fclose(fp);
            rc_free(buf);
            errno = EFBIG;
            return NULL;
        }
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = rc_realloc(buf, cap);
        }
    }
    fclose(fp);
    buf[len] = '\0';
    return buf;
}

int acl_load_file(const char *path, char *err, size_t errlen)
{
    char *text = read_whole(path);
    if (text == NULL) {
        snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    int r = acl_load_text(path, text, err, errlen);
    rc_free(text);
    return r;
}

/* Every user as an ACL LIST line, to a temporary file renamed over path. */
static int save_file(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL) {
        log_warn("Opening temp ACL file for ACL SAVE: %s", strerror(errno));
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < acl_user_count(); i++) {
        const struct acl_user *u = acl_user_at(i);
        char *d = acl_describe_user(u);
        ok &= fprintf(fp, "user %s %s\n", acl_user_name(u), d) > 0;
        rc_free(d);
    }
    ok &= fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    ok &= fclose(fp) == 0;
    if (!ok || rename(tmp, path) != 0) {
        log_warn("Writing ACL file for ACL SAVE: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Too many arguments for a subcommand: Redis names it as typed. */
static void reply_err_acl_args(struct client *c)
{
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                    "Try ACL HELP.", (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len),
                 c->argv[1].p);
}

static int have_aclfile(void)
{
    return server.aclfile && *server.aclfile;
}

void cmd_acl_load(struct client *c)
{
    if (!have_aclfile()) {
        reply_error(c, ERR_NO_ACLFILE);
        return;
    }
    char err[8192];
    if (acl_load_file(server.aclfile, err, sizeof(err)) != 0) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    reply_ok(c);
}

void cmd_acl_save(struct client *c)
{
    if (!have_aclfile()) {
        reply_error(c, ERR_NO_ACLFILE);
        return;
    }
    if (save_file(server.aclfile) != 0) {
        reply_error(c, "ERR There was an error trying to save the ACLs. Please check the "
                       "server logs for more information");
        return;
    }
    reply_ok(c);
}

void cmd_acl_setuser(struct client *c)
{
    char err[1024];
    if (acl_setuser(c->argv[2].p, c->argv[2].len, c->argc - 3, c->argv + 3, err,
                    sizeof(err)) != 0) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    reply_ok(c);
}

void cmd_acl_deluser(struct client *c)
{
    for (int j = 2; j < c->argc; j++) {
        if (c->argv[j].len == 7 && memcmp(c->argv[j].p, "default", 7) == 0) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    struct acl_user **gone = rc_malloc(sizeof(*gone) * (size_t)c->argc);
    long long n = 0;
    for (int j = 2; j < c->argc; j++) {
        struct acl_user *u = acl_user_detach(c->argv[j].p, c->argv[j].len);
        if (u)
            gone[n++] = u;
    }
    /* The reply first: a client deleting its own user gets it, then is
     * closed, as in Redis. */
    reply_long(c, n);
    for (long long i = 0; i < n; i++)
        acl_user_dispose(gone[i]);
    rc_free(gone);
}

void cmd_acl_getuser(struct client *c)
{
    const struct acl_user *u = acl_user_find(c->argv[2].p, c->argv[2].len);
    if (u == NULL) {
        reply_null(c);
        return;
    }
    acl_reply_getuser(c, u);
}

void cmd_acl_users(struct client *c)
{
    reply_array_len(c, acl_user_count());
    for (int i = 0; i < acl_user_count(); i++)
        reply_bulk_cstr(c, acl_user_name(acl_user_at(i)));
}

void cmd_acl_list(struct client *c)
{
    reply_array_len(c, acl_user_count());
    for (int i = 0; i < acl_user_count(); i++) {
        const struct acl_user *u = acl_user_at(i);
        char *d = acl_describe_user(u);
        const char *name = acl_user_name(u);
        size_t nl = strlen(name), dl = strlen(d);
        char *line = rc_malloc(5 + nl + 1 + dl + 1);
        memcpy(line, "user ", 5);
        memcpy(line + 5, name, nl);
        line[5 + nl] = ' ';
        memcpy(line + 6 + nl, d, dl);
        reply_bulk(c, line, 6 + nl + dl);
        rc_free(line);
        rc_free(d);
    }
}

void cmd_acl_whoami(struct client *c)
{
    reply_bulk_cstr(c, acl_user_name(c->user));
}

void cmd_acl_cat(struct client *c)
{
    if (c->argc == 2) {
        reply_array_len(c, acl_category_count());
        for (int i = 0; i < acl_category_count(); i++)
            reply_bulk_cstr(c, acl_category_name(i));
        return;
    }
    if (c->argc > 3) {
        reply_err_acl_args(c);
        return;
    }
    int cat = acl_category_find(c->argv[2].p, c->argv[2].len);
    if (cat < 0) {
        reply_errorf(c, "ERR Unknown category '%.*s'", (int)(c->argv[2].len > 128 ? 128 :
                     c->argv[2].len), c->argv[2].p);
        return;
    }
    void *hole = reply_defer_len(c);
    long n = 0;
    for (int i = 0; i < command_table_size(); i++) {
        const struct command *cmd = command_by_index(i);
        if (acl_command_in_category(cmd, cat)) {
            reply_bulk_cstr(c, cmd->fullname);
            n++;
        }
    }
    reply_set_array_len(c, hole, n);
}

void cmd_acl_genpass(struct client *c)
{
    long long bits = 256;
    if (c->argc > 3) {
        reply_err_acl_args(c);
        return;
    }
    if (c->argc == 3 && !rc_str2ll(c->argv[2].p, c->argv[2].len, &bits)) {
        reply_err_not_int(c);
        return;
    }
    if (bits <= 0 || bits > 4096) {
        reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output "
                       "password, a positive number up to 4096");
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    char out[1025];
    if (rc_random_hex(out, chars) != 0) {
        reply_error(c, "ERR could not read random bytes");
        return;
    }
    reply_bulk(c, out, chars);
}

void cmd_acl_log(struct client *c)
{
    long long count = 10;
    if (c->argc > 3) {
        reply_err_acl_args(c);
        return;
    }
    if (c->argc == 3) {
        if (arg_is(&c->argv[2], "reset")) {
            acllog_reset();
            reply_ok(c);
            return;
        }
        if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &count)) {
            reply_err_not_int(c);
            return;
        }
    }
    acllog_reply(c, count);
}

/* The text Redis gives DRYRUN and the NOPERM errors share (verbose names
 * the key or channel). */
void acl_denial_text(char *buf, size_t len, int result, const struct command *cmd,
                     const struct slice *arg, int verbose)
{
    switch (result) {
    case ACL_DENIED_CMD:
        snprintf(buf, len, "%s user has no permissions to run the '%s' command",
                 verbose ? "This" : "this", cmd->fullname);
        break;
    case ACL_DENIED_KEY:
        if (verbose)
            snprintf(buf, len, "This user has no permissions to access the '%.*s' key",
                     (int)(arg->len > 256 ? 256 : arg->len), arg->p);
        else
            snprintf(buf, len, "this user has no permissions to access one of the keys "
                     "used as arguments");
        break;
    default:
        if (verbose)
            snprintf(buf, len, "This user has no permissions to access the '%.*s' channel",
                     (int)(arg->len > 256 ? 256 : arg->len), arg->p);
        else
            snprintf(buf, len, "this user has no permissions to access one of the channels "
                     "used as arguments");
        break;
    }
}

void cmd_acl_dryrun(struct client *c)
{
    const struct acl_user *u = acl_user_find(c->argv[2].p, c->argv[2].len);
    if (u == NULL) {
        reply_errorf(c, "ERR User '%.*s' not found", (int)(c->argv[2].len > 128 ? 128 :
                     c->argv[2].len), c->argv[2].p);
        return;
    }
    int argc = c->argc - 3;
    const struct slice *argv = c->argv + 3;
    struct command *cmd = command_lookup_argv(argc, argv);
    if (cmd == NULL) {
        reply_errorf(c, "ERR Command '%.*s' not found", (int)(argv[0].len > 128 ? 128 :
                     argv[0].len), argv[0].p);
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    int pos;
    int r = acl_check(u, cmd, argc, argv, &pos);
    if (r != ACL_OK) {
        char msg[512];
        acl_denial_text(msg, sizeof(msg), r, cmd, &argv[pos], 1);
        reply_bulk_cstr(c, msg);
        return;
    }
    reply_ok(c);
}

void cmd_acl_help(struct client *c)
{
    static const char *const lines[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the "
        "command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL,
    };
    reply_help(c, "acl", lines);
}
