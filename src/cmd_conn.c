/*
 * cmd_conn.c — connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH,
 * SELECT.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "acllog.h"
#include "conn.h"
#include "multi.h"
#include "pubsub.h"
#include "reply.h"
#include "server.h"
#include "tracking.h"

void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_err_arity(c, "ping");
        return;
    }
    /* A subscribed RESP2 client can only read arrays: ["pong", arg]. */
    if ((c->flags & CF_PUBSUB) && c->resp == 2) {
        reply_array_len(c, 2);
        reply_bulk(c, "pong", 4);
        if (c->argc == 1)
            reply_bulk(c, "", 0);
        else
            reply_bulk(c, c->argv[1].p, c->argv[1].len);
        return;
    }
    if (c->argc == 1)
        reply_raw(c, "+PONG\r\n", 7);
    else
        reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

void cmd_echo(struct client *c)
{
    reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

void cmd_quit(struct client *c)
{
    reply_ok(c);
    conn_close_after_reply(c);
}

static const char ERR_WRONGPASS[] =
    "WRONGPASS invalid username-password pair or user is disabled.";

/* Authenticate c as name/pass (Redis's ACLAuthenticateUser()): a failure
 * goes to ACL LOG with the command name as typed as its object. */
static int authenticate(struct client *c, const struct slice *name, const struct slice *pass)
{
    struct acl_user *u;
    if (acl_authenticate(name, pass, &u)) {
        c->user = u;
        c->flags |= CF_AUTHED;
        return 1;
    }
    char uname[512];
    snprintf(uname, sizeof(uname), "%.*s", (int)(name->len > 511 ? 511 : name->len), name->p);
    acllog_add(c, ACL_DENIED_AUTH, (c->flags & CF_MULTI) ? ACLLOG_MULTI : ACLLOG_TOPLEVEL,
               c->argv[0].p, c->argv[0].len, uname);
    return 0;
}

void cmd_auth(struct client *c)
{
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    static const struct slice default_name = {"default", 7};
    if (c->argc == 2 && acl_user_find("default", 7) &&
        acl_default_needs_no_auth_password()) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
        return;
    }
    const struct slice *user = c->argc == 3 ? &c->argv[1] : &default_name;
    if (authenticate(c, user, &c->argv[c->argc - 1]))
        reply_ok(c);
    else
        reply_error(c, ERR_WRONGPASS);
}

/* Client names: printable ASCII without spaces (33..126). */
int client_name_valid(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] < '!' || p[i] > '~')
            return 0;
    return 1;
}

void client_set_name(struct client *c, const struct slice *name)
{
    rc_free(c->name);
    c->name = name->len ? rc_strndup(name->p, name->len) : NULL;
}

void cmd_hello(struct client *c)
{
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!rc_str2ll(c->argv[1].p, c->argv[1].len, &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    const struct slice *user = NULL, *pass = NULL, *name = NULL;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(&c->argv[j], "AUTH") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_is(&c->argv[j], "SETNAME") && more >= 1) {
            name = &c->argv[j + 1];
            j += 1;
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'",
                         (int)(c->argv[j].len > 128 ? 128 : c->argv[j].len), c->argv[j].p);
            return;
        }
    }
    if (user && !authenticate(c, user, pass)) {
        reply_error(c, ERR_WRONGPASS);
        return;
    }
    if (!(c->flags & CF_AUTHED)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the "
                       "same time");
        return;
    }
    if (name) {
        if (!client_name_valid(name->p, name->len)) {
            reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
                           "characters.");
            return;
        }
        client_set_name(c, name);
    }
    if (ver)
        c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, RC_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_long(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_long(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

void cmd_select(struct client *c)
{
    long long id;
    if (!rc_str2ll(c->argv[1].p, c->argv[1].len, &id)) {
        reply_err_not_int(c);
        return;
    }
    if (id < 0 || id >= server.dbnum) {
        reply_error(c, ERR_DB_INDEX);
        return;
    }
    c->db = &server.dbs[id];
    reply_ok(c);
}

void cmd_reset(struct client *c)
{
    if (c->flags & CF_MONITOR) {
        c->flags &= ~CF_MONITOR;
        server.monitors--;
    }
    c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP | CF_REPLY_SKIP_NEXT | CF_NO_EVICT);
    c->db = &server.dbs[0];
    c->resp = 2;
    multi_discard(c);
    pubsub_unsubscribe_all(c);
    tracking_disable(c);
    rc_free(c->name);
    c->name = NULL;
    c->user = acl_default_user();
    if (acl_default_needs_no_auth())
        c->flags |= CF_AUTHED;
    else
        c->flags &= ~CF_AUTHED;
    reply_status(c, "RESET");
}
