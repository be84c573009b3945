/*
 * cmd_tracking.c — CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO
 * (tracking.h does the work).  Option checks run in redis-server 7.0's
 * order, with its error texts.
 */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "reply.h"
#include "server.h"
#include "tracking.h"

/* The text of a prefix as Redis prints it in errors (%s: up to a NUL). */
static int shown_len(const char *p, size_t len)
{
    const char *nul = memchr(p, '\0', len);
    size_t n = nul ? (size_t)(nul - p) : len;
    return n > 1024 ? 1024 : (int)n;
}

/* No new prefix may overlap one c has or another new one.  Returns 0, or
 * -1 after replying the error. */
static int check_prefixes(struct client *c, const struct slice *pfx, int n)
{
    const struct tracking_state *s = c->trk;
    for (int i = 0; i < n; i++) {
        for (int k = 0; s && k < s->nprefixes; k++) {
            if (tracking_prefixes_overlap(s->prefixes[k], s->prefix_lens[k], pfx[i].p,
                                          pfx[i].len)) {
                reply_errorf(c, "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             shown_len(pfx[i].p, pfx[i].len), pfx[i].p,
                             shown_len(s->prefixes[k], s->prefix_lens[k]), s->prefixes[k]);
                return -1;
            }
        }
        for (int j = i + 1; j < n; j++) {
            if (tracking_prefixes_overlap(pfx[i].p, pfx[i].len, pfx[j].p, pfx[j].len)) {
                reply_errorf(c, "ERR Prefix '%.*s' overlaps with another provided prefix "
                             "'%.*s'. Prefixes for a single client must not overlap.",
                             shown_len(pfx[i].p, pfx[i].len), pfx[i].p,
                             shown_len(pfx[j].p, pfx[j].len), pfx[j].p);
                return -1;
            }
        }
    }
    return 0;
}

/* The checks of CLIENT TRACKING ON against the options and c's current
 * mode; the error text, or NULL. */
static const char *on_error(const struct client *c, unsigned opts, int nprefixes)
{
    unsigned cur = tracking_is_on(c) ? c->trk->flags : 0;
    if (!(opts & TRK_BCAST) && nprefixes)
        return "ERR PREFIX option requires BCAST mode to be enabled";
    if ((cur & TRK_ON) && !!(cur & TRK_BCAST) != !!(opts & TRK_BCAST))
        return "ERR You can't switch BCAST mode on/off before disabling tracking for this "
               "client, and then re-enabling it with a different mode.";
    if ((opts & TRK_BCAST) && (opts & (TRK_OPTIN | TRK_OPTOUT)))
        return "ERR OPTIN and OPTOUT are not compatible with BCAST";
    if ((opts & TRK_OPTIN) && (opts & TRK_OPTOUT))
        return "ERR You can't specify both OPTIN mode and OPTOUT mode";
    if (((opts & TRK_OPTIN) && (cur & TRK_OPTOUT)) || ((opts & TRK_OPTOUT) && (cur & TRK_OPTIN)))
        return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
               "client, and then re-enabling it with a different mode.";
    return NULL;
}

/* CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN]
 * [OPTOUT] [NOLOOP] */
void cmd_client_tracking(struct client *c)
{
    long long redir = 0;
    unsigned opts = 0;
    int nprefixes = 0;
    /* Prefixes are argv slices: at most argc of them. */
    struct slice *pfx = rc_malloc(sizeof(*pfx) * (size_t)c->argc);
    for (int j = 3; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        const struct slice *a = &c->argv[j];
        if (arg_is(a, "redirect") && more) {
            j++;
            if (redir != 0) {
                reply_error(c, "ERR A client can only redirect to a single other client");
                goto out;
            }
            if (!rc_str2ll(c->argv[j].p, c->argv[j].len, &redir)) {
                reply_err_not_int(c);
                goto out;
            }
            /* The target must exist now, though it may go later. */
            struct client *t = conn_by_id((uint64_t)redir);
            if (t == NULL || (t->flags & CF_CLOSE_ASAP)) {
                reply_error(c, "ERR The client ID you want redirect to does not exist");
                goto out;
            }
        } else if (arg_is(a, "bcast")) {
            opts |= TRK_BCAST;
        } else if (arg_is(a, "optin")) {
            opts |= TRK_OPTIN;
        } else if (arg_is(a, "optout")) {
            opts |= TRK_OPTOUT;
        } else if (arg_is(a, "noloop")) {
            opts |= TRK_NOLOOP;
        } else if (arg_is(a, "prefix") && more) {
            pfx[nprefixes++] = c->argv[++j];
        } else {
            reply_err_syntax(c);
            goto out;
        }
    }
    if (arg_is(&c->argv[2], "on")) {
        const char *err = on_error(c, opts, nprefixes);
        if (err) {
            reply_error(c, err);
            goto out;
        }
        if ((opts & TRK_BCAST) && check_prefixes(c, pfx, nprefixes) != 0)
            goto out;
        tracking_enable(c, (uint64_t)redir, opts, pfx, nprefixes);
        if (opts & TRK_BCAST)
            tracking_ring_register_prefixes(c);
    } else if (arg_is(&c->argv[2], "off")) {
        tracking_disable(c);
    } else {
        reply_err_syntax(c);
        goto out;
    }
    reply_ok(c);
out:
    rc_free(pfx);
}

/* CLIENT CACHING YES|NO: whether the next command's keys are tracked. */
void cmd_client_caching(struct client *c)
{
    if (!tracking_is_on(c)) {
        reply_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking "
                       "mode with OPTIN or OPTOUT mode enabled");
        return;
    }
    if (arg_is(&c->argv[2], "yes")) {
        if (!(c->trk->flags & TRK_OPTIN)) {
            reply_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in "
                           "OPTIN mode.");
            return;
        }
    } else if (arg_is(&c->argv[2], "no")) {
        if (!(c->trk->flags & TRK_OPTOUT)) {
            reply_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in "
                           "OPTOUT mode.");
            return;
        }
    } else {
        reply_err_syntax(c);
        return;
    }
    c->trk->flags |= TRK_CACHING;
    reply_ok(c);
}

void cmd_client_getredir(struct client *c)
{
    reply_long(c, tracking_is_on(c) ? (long long)c->trk->redir : -1);
}

void cmd_client_trackinginfo(struct client *c)
{
    static const struct {
        unsigned flag, needs;
        const char *name;
    } names[] = {
        {TRK_BCAST, 0, "bcast"},
        {TRK_OPTIN, 0, "optin"},
        {TRK_CACHING, TRK_OPTIN, "caching-yes"},
        {TRK_OPTOUT, 0, "optout"},
        {TRK_CACHING, TRK_OPTOUT, "caching-no"},
        {TRK_NOLOOP, 0, "noloop"},
        {TRK_BROKEN_REDIR, 0, "broken_redirect"},
    };
    unsigned f = c->trk ? c->trk->flags : 0;
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    void *hole = reply_defer_len(c);
    long n = 1;
    reply_bulk_cstr(c, (f & TRK_ON) ? "on" : "off");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((f & names[i].flag) && (names[i].needs == 0 || (f & names[i].needs))) {
            reply_bulk_cstr(c, names[i].name);
            n++;
        }
    }
    reply_set_set_len(c, hole, n);
    reply_bulk_cstr(c, "redirect");
    reply_long(c, (f & TRK_ON) ? (long long)c->trk->redir : -1);
    reply_bulk_cstr(c, "prefixes");
    int np = c->trk ? c->trk->nprefixes : 0;
    reply_array_len(c, np);
    for (int i = 0; i < np; i++)
        reply_bulk(c, c->trk->prefixes[i], c->trk->prefix_lens[i]);
}
