/*
 * cmd_client.c — CLIENT subcommands.
 */
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <strings.h>

#include "acl.h"
#include "block.h"
#include "conn.h"
#include "reply.h"
#include "server.h"

void cmd_client_id(struct client *c)
{
    reply_long(c, (long long)c->id);
}

void cmd_client_setname(struct client *c)
{
    if (!client_name_valid(c->argv[2].p, c->argv[2].len)) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    client_set_name(c, &c->argv[2]);
    reply_ok(c);
}

void cmd_client_getname(struct client *c)
{
    if (c->name)
        reply_bulk_cstr(c, c->name);
    else
        reply_null(c);
}

static size_t describe_line(const struct client *t, char *buf, size_t len)
{
    size_t n = conn_describe(t, buf, len);
    if (t->lib_name || t->lib_ver) {
        int m = snprintf(buf + n, len - n, " lib-name=%s lib-ver=%s",
                         t->lib_name ? t->lib_name : "", t->lib_ver ? t->lib_ver : "");
        if (m > 0)
            n += (size_t)m < len - n ? (size_t)m : len - n - 1;
    }
    if (n + 1 < len)
        buf[n++] = '\n';
    return n;
}

void cmd_client_info(struct client *c)
{
    char buf[1024];
    size_t n = describe_line(c, buf, sizeof(buf));
    reply_verbatim(c, buf, n, "txt");
}

void cmd_client_list(struct client *c)
{
    unsigned long long *ids = NULL;
    int nids = 0;
    if (c->argc >= 3) {
        if (arg_is(&c->argv[2], "type") && c->argc == 4) {
            const struct slice *t = &c->argv[3];
            if (!(arg_is(t, "normal") || arg_is(t, "master") || arg_is(t, "replica") ||
                  arg_is(t, "slave") || arg_is(t, "pubsub"))) {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)t->len, t->p);
                return;
            }
            if (!arg_is(t, "normal")) {
                reply_verbatim(c, "", 0, "txt");
                return;
            }
        } else if (arg_is(&c->argv[2], "id") && c->argc >= 4) {
            ids = rc_malloc(sizeof(*ids) * (size_t)(c->argc - 3));
            for (int i = 3; i < c->argc; i++) {
                long long v;
                if (!rc_str2ll(c->argv[i].p, c->argv[i].len, &v) || v <= 0) {
                    rc_free(ids);
                    reply_error(c, "ERR Invalid client ID");
                    return;
                }
                ids[nids++] = (unsigned long long)v;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    size_t cap = 4096, len = 0;
    char *out = rc_malloc(cap);
    char line[1024];
    /* Oldest first, as Redis lists them. */
    struct client *last = server.clients;
    while (last && last->next)
        last = last->next;
    for (struct client *t = last; t; t = t->prev) {
        if (nids) {
            int want = 0;
            for (int i = 0; i < nids; i++)
                if (ids[i] == t->id)
                    want = 1;
            if (!want)
                continue;
        }
        size_t n = describe_line(t, line, sizeof(line));
        if (len + n > cap) {
            cap = (len + n) * 2;
            out = rc_realloc(out, cap);
        }
        memcpy(out + len, line, n);
        len += n;
    }
    reply_verbatim(c, out, len, "txt");
    rc_free(out);
    rc_free(ids);
}

/* Client classes of CLIENT KILL TYPE.  Node links are of none, so that no
 * TYPE cuts the ring's own connections. */
enum { CLIENT_TYPE_NODE, CLIENT_TYPE_NORMAL, CLIENT_TYPE_REPLICA, CLIENT_TYPE_PUBSUB,
       CLIENT_TYPE_MASTER };

static int client_type(const struct client *t)
{
    if (t->flags & CF_NODE)
        return CLIENT_TYPE_NODE;
    if (t->flags & CF_PUBSUB)
        return CLIENT_TYPE_PUBSUB;
    return CLIENT_TYPE_NORMAL;
}

void cmd_client_kill(struct client *c)
{
    /* Old form: CLIENT KILL addr:port */
    if (c->argc == 3) {
        for (struct client *t = server.clients; t; t = t->next) {
            if (strlen(t->addr) == c->argv[2].len &&
                memcmp(t->addr, c->argv[2].p, c->argv[2].len) == 0) {
                if (t == c)
                    conn_close_after_reply(t);
                else
                    conn_close_async(t);
                reply_ok(c);
                return;
            }
        }
        reply_error(c, "ERR No such client");
        return;
    }
    long long id = 0;
    const struct slice *addr = NULL, *laddr = NULL, *user = NULL;
    const struct acl_user *kuser = NULL;
    int skipme = 1, type = -1;
    if ((c->argc - 2) % 2 != 0) {
        reply_err_syntax(c);
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        const struct slice *k = &c->argv[i], *v = &c->argv[i + 1];
        if (arg_is(k, "id")) {
            if (!rc_str2ll(v->p, v->len, &id) || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (arg_is(k, "addr")) {
            addr = v;
        } else if (arg_is(k, "laddr")) {
            laddr = v;
        } else if (arg_is(k, "user")) {
            kuser = acl_user_find(v->p, v->len);
            if (kuser == NULL) {
                reply_errorf(c, "ERR No such user '%.*s'", (int)(v->len > 128 ? 128 : v->len),
                             v->p);
                return;
            }
            user = v;
        } else if (arg_is(k, "type")) {
            if (arg_is(v, "normal"))
                type = CLIENT_TYPE_NORMAL;
            else if (arg_is(v, "pubsub"))
                type = CLIENT_TYPE_PUBSUB;
            else if (arg_is(v, "master"))
                type = CLIENT_TYPE_MASTER;
            else if (arg_is(v, "replica") || arg_is(v, "slave"))
                type = CLIENT_TYPE_REPLICA;
            else {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)v->len, v->p);
                return;
            }
        } else if (arg_is(k, "skipme")) {
            if (arg_is(v, "yes"))
                skipme = 1;
            else if (arg_is(v, "no"))
                skipme = 0;
            else {
                reply_err_syntax(c);
                return;
            }
        } else {
            /* MAXAGE is Redis 7.4's: 7.0 answers a syntax error. */
            reply_err_syntax(c);
            return;
        }
    }
    long long killed = 0;
    int close_me = 0;
    for (struct client *t = server.clients; t; t = t->next) {
        if (id && (long long)t->id != id)
            continue;
        if (addr && !(strlen(t->addr) == addr->len && !memcmp(t->addr, addr->p, addr->len)))
            continue;
        if (laddr && !(strlen(t->laddr) == laddr->len && !memcmp(t->laddr, laddr->p, laddr->len)))
            continue;
        if (type != -1 && client_type(t) != type)
            continue;
        if (user && (t->user != kuser || (t->flags & CF_NODE)))
            continue;
        if (t == c && skipme)
            continue;
        if (t == c)
            close_me = 1;
        else
            conn_close_async(t);
        killed++;
    }
    /* The count reaches this client before it is closed, as in Redis. */
    reply_long(c, killed);
    if (close_me)
        conn_close_after_reply(c);
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: the reason is checked before the id,
 * as in Redis. */
void cmd_client_unblock(struct client *c)
{
    int error = 0;
    long long id;
    if (c->argc > 4) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try CLIENT HELP.", (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "error")) {
            error = 1;
        } else if (!arg_is(&c->argv[3], "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &id)) {
        reply_err_not_int(c);
        return;
    }
    struct client *t = NULL;
    for (t = server.clients; t; t = t->next)
        if ((long long)t->id == id)
            break;
    if (t && block_unblock(t, error ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : NULL))
        reply_long(c, 1);
    else
        reply_long(c, 0);
}

void cmd_client_no_evict(struct client *c)
{
    if (arg_is(&c->argv[2], "on")) {
        c->flags |= CF_NO_EVICT;
    } else if (arg_is(&c->argv[2], "off")) {
        c->flags &= ~CF_NO_EVICT;
    } else {
        reply_err_syntax(c);
        return;
    }
    reply_ok(c);
}

void cmd_client_pause(struct client *c)
{
    long long ms;
    if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &ms)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    int all = 1;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "write"))
            all = 0;
        else if (!arg_is(&c->argv[3], "all")) {
            reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    } else if (c->argc > 4) {
        reply_err_syntax(c);
        return;
    }
    conn_pause(ms, all);
    reply_ok(c);
}

void cmd_client_unpause(struct client *c)
{
    server.pause_end_ms = 0;
    server.pause_all = 0;
    reply_ok(c);
    conn_unpause_all();
}

void cmd_client_reply(struct client *c)
{
    if (arg_is(&c->argv[2], "on")) {
        c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP | CF_REPLY_SKIP_NEXT);
        reply_ok(c);
    } else if (arg_is(&c->argv[2], "off")) {
        c->flags |= CF_REPLY_OFF;
    } else if (arg_is(&c->argv[2], "skip")) {
        if (!(c->flags & CF_REPLY_OFF))
            c->flags |= CF_REPLY_SKIP_NEXT;
    } else {
        reply_err_syntax(c);
    }
}

void cmd_client_setinfo(struct client *c)
{
    const struct slice *attr = &c->argv[2], *val = &c->argv[3];
    char **field;
    const char *label;
    if (arg_is(attr, "lib-name")) {
        field = &c->lib_name;
        label = "lib-name";
    } else if (arg_is(attr, "lib-ver")) {
        field = &c->lib_ver;
        label = "lib-ver";
    } else {
        reply_errorf(c, "ERR Unrecognized option '%.*s'", (int)attr->len, attr->p);
        return;
    }
    if (!client_name_valid(val->p, val->len)) {
        reply_errorf(c, "ERR %s cannot contain spaces, newlines or special characters.", label);
        return;
    }
    rc_free(*field);
    *field = val->len ? rc_strndup(val->p, val->len) : NULL;
    reply_ok(c);
}

void cmd_client_help(struct client *c)
{
    static const char *const lines[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        NULL,
    };
    reply_help(c, "client", lines);
}
