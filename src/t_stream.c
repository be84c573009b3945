/*
 * t_stream.c — the stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL,
 * XTRIM, XSETID, XREAD, XREADGROUP, XGROUP (CREATE, CREATECONSUMER,
 * DELCONSUMER, DESTROY, SETID, HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM
 * and XINFO (STREAM [FULL], GROUPS, CONSUMERS, HELP).
 *
 * The value itself is stream.c's.  Replies, error texts and the order in
 * which errors are detected follow Redis 7.0.
 *
 * What the log records (propagate.h), so that replaying it rebuilds the
 * same stream and groups:
 *   - XADD with the concrete id and, when it trimmed, "MAXLEN = <length
 *     after the trim>" (removal is always from the head, so that exact
 *     trim removes what an approximate or MINID trim removed);
 *   - XTRIM the same way, as "XTRIM key MAXLEN = <length>";
 *   - each delivery by XREADGROUP and each claim by XCLAIM/XAUTOCLAIM as
 *     "XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID
 *     LASTID last", and the group's position as "XGROUP SETID key group id
 *     ENTRIESREAD n", as Redis propagates them; a consumer made by
 *     XREADGROUP as XGROUP CREATECONSUMER.
 *
 * Blocking XREAD/XREADGROUP use block.c: XADD signals its key, and the
 * serve callback answers a waiter when the stream has grown past the id it
 * waits after (or its group's last id, for ">").
 */
#include "notify.h"
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "block.h"
#include "listpack.h"
#include "propagate.h"
#include "reply.h"
#include "stream.h"

#define XREAD_BLOCKED_DEFAULT_COUNT 1000

static const char ERR_INVALID_ID[] = "ERR Invalid stream ID specified as stream command argument";

static const struct stream_id ID_MAX = {UINT64_MAX, UINT64_MAX};

/* ---- argument helpers ---- */

/* Redis's string2ull: a canonical long long that is not negative, or what
 * strtoull accepts in full. */
static int parse_ull(const char *s, unsigned long long *out)
{
    long long ll;
    if (rc_str2ll(s, strlen(s), &ll)) {
        if (ll < 0)
            return 0;
        *out = (unsigned long long)ll;
        return 1;
    }
    char *end = NULL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || *s == '\0' || *end != '\0')
        return 0;
    return 1;
}

/*
 * Parses a stream id argument as Redis's streamGenericParseIDOrReply: "-"
 * and "+" (unless strict), "ms" (seq = missing_seq), "ms-seq" and, when
 * seq_given is not NULL, "ms-*" (*seq_given = 0).  Replies the error
 * when c is not NULL.  Returns 0 or -1.
 */
static int parse_id(struct client *c, const struct slice *a, struct stream_id *id,
                    uint64_t missing_seq, int strict, int *seq_given)
{
    char buf[128];
    if (a->len > sizeof(buf) - 1)
        goto invalid;
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
        goto invalid;
    if (seq_given)
        *seq_given = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        id->ms = id->seq = 0;
        return 0;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = ID_MAX;
        return 0;
    }
    unsigned long long ms, seq;
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (!parse_ull(buf, &ms))
        goto invalid;
    if (dash) {
        if (seq_given && dash[1] == '*' && dash[2] == '\0') {
            seq = 0;
            *seq_given = 0;
        } else if (!parse_ull(dash + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
invalid:
    if (c)
        reply_error(c, ERR_INVALID_ID);
    return -1;
}

static int parse_strict_id(struct client *c, const struct slice *a, struct stream_id *id)
{
    return parse_id(c, a, id, 0, 1, NULL);
}

/* A range bound: "(" makes it exclusive (strict id after it). */
static int parse_interval_id(struct client *c, const struct slice *a, struct stream_id *id,
                             int *exclude, uint64_t missing_seq)
{
    *exclude = a->len > 1 && a->p[0] == '(';
    if (*exclude) {
        struct slice rest = {a->p + 1, a->len - 1};
        return parse_id(c, &rest, id, missing_seq, 1, NULL);
    }
    return parse_id(c, a, id, missing_seq, 0, NULL);
}

/* Start and end of a range (XRANGE, XPENDING), with "(" handled. */
static int parse_range(struct client *c, const struct slice *sa, const struct slice *ea,
                       struct stream_id *start, struct stream_id *end)
{
    int ex;
    if (parse_interval_id(c, sa, start, &ex, 0) != 0)
        return -1;
    if (ex && stream_id_incr(start) != 0) {
        reply_error(c, "ERR invalid start ID for the interval");
        return -1;
    }
    if (parse_interval_id(c, ea, end, &ex, UINT64_MAX) != 0)
        return -1;
    if (ex && stream_id_decr(end) != 0) {
        reply_error(c, "ERR invalid end ID for the interval");
        return -1;
    }
    return 0;
}

/* The ids argv[first..argc), all parsed before anything is done, as Redis
 * does; NULL after replying an error.  The caller frees the array. */
static struct stream_id *parse_ids(struct client *c, int first)
{
    struct stream_id *ids = rc_malloc((size_t)(c->argc - first) * sizeof(*ids));
    for (int j = first; j < c->argc; j++) {
        if (parse_strict_id(c, &c->argv[j], &ids[j - first]) != 0) {
            rc_free(ids);
            return NULL;
        }
    }
    return ids;
}

static int get_ll(struct client *c, const struct slice *a, long long *v, const char *err)
{
    if (!rc_str2ll(a->p, a->len, v)) {
        reply_error(c, err ? err : ERR_NOT_INT);
        return -1;
    }
    return 0;
}

static void reply_id(struct client *c, const struct stream_id *id)
{
    char buf[STREAM_ID_STR_SIZE];
    reply_bulk(c, buf, stream_id_fmt(buf, id));
}

static struct slice id_slice(char *buf, const struct stream_id *id)
{
    struct slice s = {buf, stream_id_fmt(buf, id)};
    return s;
}

static struct stream *stream_of(const struct kv *o)
{
    return o->v.ptr;
}

/* The key's stream, NULL if missing; *wrong = 1 after replying WRONGTYPE. */
static struct kv *lookup(struct client *c, const struct slice *key, int *wrong)
{
    struct kv *o = db_lookup(c->db, key->p, key->len);
    *wrong = 0;
    if (o && o->type != OBJ_STREAM) {
        reply_err_wrongtype(c);
        *wrong = 1;
        return NULL;
    }
    return o;
}

/* The stream at argv[1]; NULL after replying 0 (missing) or WRONGTYPE. */
static struct stream *lookup_or_zero(struct client *c)
{
    int wrong;
    struct kv *o = lookup(c, &c->argv[1], &wrong);
    if (wrong)
        return NULL;
    if (o == NULL) {
        reply_long(c, 0);
        return NULL;
    }
    return stream_of(o);
}

static struct kv *create_stream(struct client *c, const struct slice *key)
{
    struct kv *o = kv_new_ptr(key->p, key->len, OBJ_STREAM, ENC_STREAM, stream_new(), -1);
    db_add(c->db, o);
    return o;
}

/* Creates consumer `name` of cg in the stream at key and announces it
 * (xgroup-createconsumer, as every way Redis creates one); NULL if it
 * exists. */
static struct stream_consumer *consumer_add(struct db *db, const char *key, size_t klen,
                                            struct stream_cg *cg, const char *name,
                                            size_t nlen, long long now)
{
    struct stream_consumer *cons = stream_consumer_create(cg, name, nlen, now);
    if (cons)
        notify_event(NOTIFY_STREAM, "xgroup-createconsumer", db, key, klen);
    return cons;
}

/* The group argv[2] of the stream argv[1]; NULL after replying WRONGTYPE
 * or NOGROUP. */
static struct stream_cg *lookup_group(struct client *c, struct stream **s)
{
    int wrong;
    struct kv *o = lookup(c, &c->argv[1], &wrong);
    if (wrong)
        return NULL;
    struct stream_cg *cg = o ? stream_cg_find(stream_of(o), c->argv[2].p, c->argv[2].len) : NULL;
    if (cg == NULL) {
        reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'",
                     (int)c->argv[1].len, c->argv[1].p, (int)c->argv[2].len, c->argv[2].p);
        return NULL;
    }
    *s = stream_of(o);
    return cg;
}

/* ---- replying entries ---- */

/* Emits the current entry of it as [id, [f, v, ...]]. */
static void reply_entry(struct client *c, struct stream_iter *it, const struct stream_id *id,
                        int64_t nf)
{
    reply_array_len(c, 2);
    reply_id(c, id);
    reply_array_len(c, (long)nf * 2);
    for (int64_t i = 0; i < nf; i++) {
        char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
        const char *f, *v;
        size_t fl, vl;
        stream_iter_field(it, &f, &fl, fb, &v, &vl, vb);
        reply_bulk(c, f, fl);
        reply_bulk(c, v, vl);
    }
}

/* The single entry id (if live) as [id, fields]; 0 if missing. */
static int reply_one(struct client *c, const struct stream *s, const struct stream_id *id)
{
    struct stream_iter it;
    int64_t nf;
    if (!stream_iter_find(&it, s, id, &nf))
        return 0;
    reply_entry(c, &it, id, nf);
    return 1;
}

/* What a group delivery needs for the log. */
struct deliver {
    struct client *c;
    struct db *db;
    const char *key;
    size_t klen;
    struct stream_cg *cg;
    struct stream_consumer *cons;
    int noack;
};

/* Logs the state of nack as XCLAIM ... FORCE JUSTID LASTID. */
static void propagate_xclaim(struct db *db, const char *key, size_t klen, struct stream_cg *cg,
                             const char *cname, size_t cnlen, const struct stream_id *id,
                             const struct stream_nack *nack)
{
    char idb[STREAM_ID_STR_SIZE], lastb[STREAM_ID_STR_SIZE], tb[24], nb[24];
    struct slice rec[14] = {
        {"XCLAIM", 6}, {key, klen}, {cg->name, cg->nlen}, {cname, cnlen}, {"0", 1},
        id_slice(idb, id), {"TIME", 4}, {tb, rc_ll2str(tb, sizeof(tb), nack->delivery_time)},
        {"RETRYCOUNT", 10},
        {nb, rc_ll2str(nb, sizeof(nb), (long long)nack->delivery_count)},
        {"FORCE", 5}, {"JUSTID", 6}, {"LASTID", 6}, id_slice(lastb, &cg->last_id)};
    propagate_add(db->id, 14, rec);
}

static void propagate_setid(struct db *db, const char *key, size_t klen, struct stream_cg *cg)
{
    char idb[STREAM_ID_STR_SIZE], nb[24];
    struct slice rec[7] = {{"XGROUP", 6}, {"SETID", 5}, {key, klen}, {cg->name, cg->nlen},
                           id_slice(idb, &cg->last_id), {"ENTRIESREAD", 11},
                           {nb, rc_ll2str(nb, sizeof(nb), cg->entries_read)}};
    propagate_add(db->id, 7, rec);
}

/* A group delivered entry id: advance the group, record the nack. */
static void deliver_entry(struct deliver *d, struct stream *s, const struct stream_id *id)
{
    struct stream_cg *cg = d->cg;
    if (stream_id_cmp(id, &cg->last_id) > 0) {
        if (cg->entries_read != STREAM_ENTRIES_READ_INVALID &&
            !stream_range_has_tombstones(s, id))
            cg->entries_read++;
        else if (s->entries_added)
            cg->entries_read = stream_estimate_distance(s, id);
        cg->last_id = *id;
    }
    if (d->noack)
        return;
    struct stream_nack *nack = stream_nack_add(cg, d->cons, id, now_ms());
    if (nack == NULL) {
        nack = stream_pel_find(&cg->pel, id);
        stream_nack_move(nack, id, d->cons);
        nack->delivery_time = now_ms();
        nack->delivery_count = 1;
    }
    propagate_xclaim(d->db, d->key, d->klen, cg, d->cons->name, d->cons->nlen, id, nack);
}

/*
 * Replies the entries start..end (count 0: all) as an array, in reverse
 * when rev.  With d, they are delivered to d's consumer (XREADGROUP ">"),
 * and the group's position is logged at the end.  Returns the number.
 */
static size_t reply_range(struct client *c, struct stream *s, const struct stream_id *start,
                          const struct stream_id *end, long long count, int rev,
                          struct deliver *d)
{
    struct stream_iter it;
    struct stream_id id;
    int64_t nf;
    /* Counted first: a known length keeps the reply in one buffer (a
     * deferred length would start a new one per reply). */
    size_t n = 0, total = 0;
    stream_iter_start(&it, s, start, end, rev);
    while ((count == 0 || (long long)total < count) && stream_iter_next(&it, &id, &nf))
        total++;
    reply_array_len(c, (long)total);
    stream_iter_rewind(&it);
    while (n < total && stream_iter_next(&it, &id, &nf)) {
        if (d)
            deliver_entry(d, s, &id);
        reply_entry(c, &it, &id, nf);
        n++;
    }
    if (d && n)
        propagate_setid(d->db, d->key, d->klen, d->cg);
    return n;
}

/* XREADGROUP with an id: the consumer's own pending entries after start. */
static size_t reply_history(struct client *c, struct stream *s, const struct stream_id *start,
                            long long count, struct stream_consumer *cons)
{
    /* Counted first, as in reply_range. */
    size_t n = 0, total = 0;
    struct rax_iter it;
    stream_pel_iter(&it, &cons->pel, start);
    while ((count <= 0 || (long long)total < count) && rax_next(&it))
        total++;
    reply_array_len(c, (long)total);
    stream_pel_iter(&it, &cons->pel, start);
    while (n < total && rax_next(&it)) {
        struct stream_nack *nack = it.data;
        struct stream_id id;
        stream_id_decode(it.key, &id);
        if (reply_one(c, s, &id)) {
            nack->delivery_time = now_ms();
            nack->delivery_count++;
        } else {
            reply_array_len(c, 2);
            reply_id(c, &id);
            reply_null_array(c);
        }
        n++;
    }
    rax_iter_stop(&it);
    return n;
}

/* ---- XADD, XTRIM ---- */

struct trim_args {
    int strategy;           /* 0 none, 1 maxlen, 2 minid */
    int approx;
    long long maxlen;
    struct stream_id minid;
    long long limit;
    int id_given, seq_given, nomkstream;
    struct stream_id id;
};

/* Redis's streamParseAddOrTrimArgsOrReply: returns the index of the id
 * argument (XADD) or argc, or -1 after replying. */
static int parse_add_trim(struct client *c, struct trim_args *a, int xadd)
{
    int i = 2, limit_given = 0;
    memset(a, 0, sizeof(*a));
    for (; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        const struct slice *opt = &c->argv[i];
        if (xadd && opt->len == 1 && opt->p[0] == '*') {
            break;
        } else if ((arg_is(opt, "maxlen") || arg_is(opt, "minid")) && more) {
            int is_maxlen = arg_is(opt, "maxlen");
            if (a->strategy) {
                reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time "
                               "are not compatible");
                return -1;
            }
            a->approx = 0;
            const struct slice *nx = &c->argv[i + 1];
            if (more >= 2 && nx->len == 1 && (nx->p[0] == '~' || nx->p[0] == '=')) {
                a->approx = nx->p[0] == '~';
                i++;
            }
            if (is_maxlen) {
                if (get_ll(c, &c->argv[i + 1], &a->maxlen, NULL) != 0)
                    return -1;
                if (a->maxlen < 0) {
                    reply_error(c, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
            } else if (parse_strict_id(c, &c->argv[i + 1], &a->minid) != 0) {
                return -1;
            }
            i++;
            a->strategy = is_maxlen ? 1 : 2;
        } else if (arg_is(opt, "limit") && more) {
            if (get_ll(c, &c->argv[i + 1], &a->limit, NULL) != 0)
                return -1;
            if (a->limit < 0) {
                reply_error(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && arg_is(opt, "nomkstream")) {
            a->nomkstream = 1;
        } else if (xadd) {
            if (parse_id(c, opt, &a->id, 0, 1, &a->seq_given) != 0)
                return -1;
            a->id_given = 1;
            break;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->limit && !a->strategy) {
        reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming "
                       "strategy");
        return -1;
    }
    if (!xadd && !a->strategy) {
        reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (server.loading || (c->flags & CF_FAKE)) {
        a->limit = 0;       /* the log and replication obey, as in Redis */
    } else if (limit_given) {
        if (!a->approx) {
            reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ "
                           "option");
            return -1;
        }
    } else if (a->approx) {
        a->limit = 100 * (long long)server.stream_node_max_entries;
        if (a->limit <= 0 || a->limit > 1000000)
            a->limit = a->limit <= 0 ? 10000 : 1000000;
    } else {
        a->limit = 0;
    }
    return i;
}

static uint64_t do_trim(struct stream *s, const struct trim_args *a)
{
    return stream_trim(s, a->strategy == 1 ? &a->maxlen : NULL,
                       a->strategy == 2 ? &a->minid : NULL, a->approx, a->limit);
}

void cmd_xadd(struct client *c)
{
    struct trim_args a;
    int idpos = parse_add_trim(c, &a, 1);
    if (idpos < 0)
        return;
    int fpos = idpos + 1;
    if (c->argc - fpos < 2 || (c->argc - fpos) % 2 == 1) {
        reply_err_arity(c, "xadd");
        return;
    }
    if (a.id_given && a.seq_given && a.id.ms == 0 && a.id.seq == 0) {
        reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    int wrong;
    struct kv *o = lookup(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        if (a.nomkstream) {
            reply_null(c);
            return;
        }
        o = create_stream(c, &c->argv[1]);
    }
    struct stream *s = stream_of(o);
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more "
                       "items");
        return;
    }
    struct stream_id id;
    if (a.id_given) {
        id = a.id;
        if (!a.seq_given && s->last_id.ms == a.id.ms) {
            if (s->last_id.seq == UINT64_MAX) {
                /* Redis 7.0 answers this one with its other error text. */
                reply_error(c, "ERR Elements are too large to be stored");
                return;
            }
            id.seq = s->last_id.seq + 1;
        }
    } else {
        uint64_t ms = (uint64_t)now_ms();
        if (ms > s->last_id.ms) {
            id.ms = ms;
            id.seq = 0;
        } else {
            id = s->last_id;
            stream_id_incr(&id);
        }
    }
    if (stream_id_cmp(&id, &s->last_id) <= 0) {
        reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target "
                       "stream top item");
        return;
    }
    size_t nf = (size_t)(c->argc - fpos) / 2;
    struct stream_str *fv = rc_malloc(nf * 2 * sizeof(*fv));
    for (size_t i = 0; i < nf * 2; i++) {
        fv[i].p = c->argv[fpos + (int)i].p;
        fv[i].len = c->argv[fpos + (int)i].len;
    }
    int rc = stream_append(s, &id, fv, nf, (size_t)server.stream_node_max_bytes,
                           server.stream_node_max_entries);
    rc_free(fv);
    if (rc != 0) {
        reply_error(c, "ERR Elements are too large to be stored");
        return;
    }
    reply_id(c, &id);
    db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
    notify_event(NOTIFY_STREAM, "xadd", c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    if (a.strategy && do_trim(s, &a) > 0)
        notify_event(NOTIFY_STREAM, "xtrim", c->db, c->argv[1].p, c->argv[1].len);

    /* Logged with the concrete id and the resulting length. */
    int n = 0, cap = c->argc - fpos + 6;
    struct slice *rec = rc_malloc((size_t)cap * sizeof(*rec));
    char idb[STREAM_ID_STR_SIZE], lenb[24];
    rec[n++] = (struct slice){"XADD", 4};
    rec[n++] = c->argv[1];
    if (a.strategy) {
        rec[n++] = (struct slice){"MAXLEN", 6};
        rec[n++] = (struct slice){"=", 1};
        rec[n++] = (struct slice){lenb, rc_ull2str(lenb, sizeof(lenb), s->length)};
    }
    rec[n++] = id_slice(idb, &id);
    for (int i = fpos; i < c->argc; i++)
        rec[n++] = c->argv[i];
    propagate_replace(c, n, rec);
    rc_free(rec);
    block_signal_key(c->db, c->argv[1].p, c->argv[1].len);
}

void cmd_xtrim(struct client *c)
{
    struct trim_args a;
    if (parse_add_trim(c, &a, 0) < 0)
        return;
    struct stream *s = lookup_or_zero(c);
    if (s == NULL)
        return;
    uint64_t deleted = do_trim(s, &a);
    if (deleted) {
        char lenb[24];
        struct slice rec[5] = {{"XTRIM", 5}, c->argv[1], {"MAXLEN", 6}, {"=", 1},
                               {lenb, rc_ull2str(lenb, sizeof(lenb), s->length)}};
        propagate_replace(c, 5, rec);
        db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
        notify_event(NOTIFY_STREAM, "xtrim", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty += (long long)deleted;
    }
    reply_long(c, (long long)deleted);
}

/* ---- XRANGE, XREVRANGE, XLEN ---- */

static void range_generic(struct client *c, int rev)
{
    struct stream_id start, end;
    long long count = -1;
    if (parse_range(c, &c->argv[rev ? 3 : 2], &c->argv[rev ? 2 : 3], &start, &end) != 0)
        return;
    for (int j = 4; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "count") && c->argc - j - 1 >= 1) {
            if (get_ll(c, &c->argv[j + 1], &count, NULL) != 0)
                return;
            if (count < 0)
                count = 0;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        reply_empty_array(c);
        return;
    }
    if (o->type != OBJ_STREAM) {
        reply_err_wrongtype(c);
        return;
    }
    if (count == 0) {
        reply_null_array(c);
        return;
    }
    reply_range(c, stream_of(o), &start, &end, count == -1 ? 0 : count, rev, NULL);
}

void cmd_xrange(struct client *c)
{
    range_generic(c, 0);
}

void cmd_xrevrange(struct client *c)
{
    range_generic(c, 1);
}

void cmd_xlen(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[1]);
    if (o && o->type != OBJ_STREAM) {
        reply_err_wrongtype(c);
        return;
    }
    reply_long(c, o ? (long long)stream_of(o)->length : 0);
}

/* ---- XDEL, XSETID ---- */

void cmd_xdel(struct client *c)
{
    struct stream *s = lookup_or_zero(c);
    if (s == NULL)
        return;
    int n = c->argc - 2;
    struct stream_id *ids = parse_ids(c, 2);
    if (ids == NULL)
        return;
    long long deleted = 0;
    int first = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_delete(s, &ids[j]))
            continue;
        if (stream_id_cmp(&ids[j], &s->first_id) == 0)
            first = 1;
        if (stream_id_cmp(&ids[j], &s->max_deleted_id) > 0)
            s->max_deleted_id = ids[j];
        deleted++;
    }
    rc_free(ids);
    if (deleted) {
        if (s->length == 0)
            s->first_id = (struct stream_id){0, 0};
        else if (first)
            stream_update_first(s);
        db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
        notify_event(NOTIFY_STREAM, "xdel", c->db, c->argv[1].p, c->argv[1].len);
        server.stat_dirty += deleted;
    }
    reply_long(c, deleted);
}

void cmd_xsetid(struct client *c)
{
    struct stream_id id, maxdel = {0, 0};
    long long added = -1;
    if (parse_strict_id(c, &c->argv[2], &id) != 0)
        return;
    for (int i = 3; i < c->argc; i += 2) {
        int more = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "entriesadded") && more) {
            if (get_ll(c, &c->argv[i + 1], &added, NULL) != 0)
                return;
            if (added < 0) {
                reply_error(c, "ERR entries_added must be positive");
                return;
            }
        } else if (arg_is(&c->argv[i], "maxdeletedid") && more) {
            if (parse_strict_id(c, &c->argv[i + 1], &maxdel) != 0)
                return;
            if (stream_id_cmp(&id, &maxdel) < 0) {
                reply_error(c, "ERR The ID specified in XSETID is smaller than the provided "
                               "max_deleted_entry_id");
                return;
            }
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int wrong;
    struct kv *o = lookup(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    if (o == NULL) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    struct stream *s = stream_of(o);
    if (s->length > 0) {
        struct stream_id top;
        stream_edge_id(s, 0, &top);
        if (stream_id_cmp(&id, &top) < 0) {
            reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream "
                           "top item");
            return;
        }
        if (added != -1 && s->length > (uint64_t)added) {
            reply_error(c, "ERR The entries_added specified in XSETID is smaller than the "
                           "target stream length");
            return;
        }
    }
    s->last_id = id;
    if (added != -1)
        s->entries_added = (uint64_t)added;
    if (maxdel.ms || maxdel.seq)
        s->max_deleted_id = maxdel;
    reply_ok(c);
    db_signal_modified(c->db, c->argv[1].p, c->argv[1].len);
    server.stat_dirty++;
    notify_event(NOTIFY_STREAM, "xsetid", c->db, c->argv[1].p, c->argv[1].len);
}

/* ---- XREAD, XREADGROUP ---- */

/*
 * What a blocked XREAD/XREADGROUP waits for (block.c owns it; one
 * allocation): per key, the id to read after; the group and consumer.
 * Layout after the header: nkeys x {uint64 ms, seq; uint32 klen; key},
 * then the group and consumer names.
 */
struct xread_wait {
    long long count;
    int noack;
    int nkeys;
    size_t glen, clen;
    size_t used;
    unsigned char data[];
};

static struct xread_wait *wait_new(const struct slice *keys, const struct stream_id *ids,
                                   int nkeys, long long count, const struct slice *group,
                                   const struct slice *cons, int noack)
{
    size_t need = 0;
    for (int i = 0; i < nkeys; i++)
        need += 20 + keys[i].len;
    if (group)
        need += group->len + cons->len;
    struct xread_wait *w = rc_malloc(sizeof(*w) + need);
    w->count = count;
    w->noack = noack;
    w->nkeys = nkeys;
    w->glen = group ? group->len : 0;
    w->clen = group ? cons->len : 0;
    unsigned char *p = w->data;
    for (int i = 0; i < nkeys; i++) {
        uint32_t kl = (uint32_t)keys[i].len;
        memcpy(p, &ids[i].ms, 8);
        memcpy(p + 8, &ids[i].seq, 8);
        memcpy(p + 16, &kl, 4);
        memcpy(p + 20, keys[i].p, kl);
        p += 20 + kl;
    }
    if (group) {
        memcpy(p, group->p, group->len);
        memcpy(p + group->len, cons->p, cons->len);
    }
    w->used = need;
    return w;
}

static int wait_find(const struct xread_wait *w, const char *key, size_t klen,
                     struct stream_id *id)
{
    const unsigned char *p = w->data;
    for (int i = 0; i < w->nkeys; i++) {
        uint32_t kl;
        memcpy(&kl, p + 16, 4);
        if (kl == klen && memcmp(p + 20, key, klen) == 0) {
            memcpy(&id->ms, p, 8);
            memcpy(&id->seq, p + 8, 8);
            return 1;
        }
        p += 20 + kl;
    }
    return 0;
}

static struct stream_consumer *consumer_get(struct db *db, const char *key, size_t klen,
                                            struct stream_cg *cg, const char *name,
                                            size_t nlen)
{
    struct stream_consumer *cons = stream_consumer_find(cg, name, nlen);
    if (cons == NULL) {
        cons = consumer_add(db, key, klen, cg, name, nlen, now_ms());
        struct slice rec[5] = {{"XGROUP", 6}, {"CREATECONSUMER", 14}, {key, klen},
                               {cg->name, cg->nlen}, {name, nlen}};
        propagate_add(db->id, 5, rec);
    }
    cons->seen_time = now_ms();
    return cons;
}

static enum block_serve_result xread_serve(struct client *c, struct db *db, const char *key,
                                           size_t klen, void *priv)
{
    struct xread_wait *w = priv;
    struct kv *o = db_lookup(db, key, klen);
    if (o == NULL || o->type != OBJ_STREAM)
        return BLOCK_KEY_DONE;
    struct stream *s = stream_of(o);
    struct stream_id gt;
    if (!wait_find(w, key, klen, &gt))
        return BLOCK_WAIT;
    const char *gname = (const char *)w->data + w->used - w->glen - w->clen;
    struct stream_cg *cg = NULL;
    if (w->glen || w->clen) {
        cg = stream_cg_find(s, gname, w->glen);
        if (cg == NULL) {
            reply_error(c, "NOGROUP the consumer group this client was blocked on no longer "
                           "exists");
            return BLOCK_SERVED;
        }
        gt = cg->last_id;
    }
    if (stream_id_cmp(&s->last_id, &gt) <= 0)
        return BLOCK_WAIT;
    struct stream_id start = gt;
    stream_id_incr(&start);
    if (c->resp == 2) {
        reply_array_len(c, 1);
        reply_array_len(c, 2);
    } else {
        reply_map_len(c, 1);
    }
    reply_bulk(c, key, klen);
    if (cg) {
        struct deliver d = {c, db, key, klen, cg, NULL, w->noack};
        d.cons = consumer_get(db, key, klen, cg, gname + w->glen, w->clen);
        reply_range(c, s, &start, NULL, w->count, 0, &d);
        server.stat_dirty++;
    } else {
        reply_range(c, s, &start, NULL, w->count, 0, NULL);
    }
    return BLOCK_SERVED;
}

/* Whether a stream can serve an XREAD/XREADGROUP at once: 0 no, 1 entries
 * after *gt (for a group's ">", *gt becomes the group's last id), 2 the
 * consumer's history (a group read with an id). */
static int xread_decide(const struct stream *s, const struct stream_cg *cg,
                        struct stream_id *gt)
{
    struct stream_id top;
    if (cg && stream_id_cmp(gt, &ID_MAX) != 0)
        return 2;
    if (s->length == 0 || !stream_edge_id(s, 0, &top))
        return 0;
    if (cg) {
        if (stream_id_cmp(&top, &cg->last_id) <= 0)
            return 0;
        *gt = cg->last_id;
        return 1;
    }
    return stream_id_cmp(&top, gt) > 0;
}

static void xread_generic(struct client *c, int group_mode)
{
    long long timeout = -1, count = 0, deadline = 0;
    int streams_arg = 0, nstreams = 0, noack = 0;
    const struct slice *gname = NULL, *cname = NULL;
    const char *fullname = group_mode ? "XREADGROUP" : "XREAD";

    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        const struct slice *o = &c->argv[i];
        if (arg_is(o, "block") && more) {
            i++;
            long long ms;
            if (!rc_str2ll(c->argv[i].p, c->argv[i].len, &ms)) {
                reply_error(c, "ERR timeout is not an integer or out of range");
                return;
            }
            if (ms < 0) {
                reply_error(c, "ERR timeout is negative");
                return;
            }
            timeout = ms;
        } else if (arg_is(o, "count") && more) {
            i++;
            if (get_ll(c, &c->argv[i], &count, NULL) != 0)
                return;
            if (count < 0)
                count = 0;
        } else if (arg_is(o, "streams") && more) {
            streams_arg = i + 1;
            nstreams = c->argc - streams_arg;
            if (nstreams % 2 != 0) {
                reply_errorf(c, "ERR Unbalanced %s list of streams: for each stream key an "
                                "ID or '%c' must be specified.", fullname,
                             group_mode ? '>' : '$');
                return;
            }
            nstreams /= 2;
            break;
        } else if (arg_is(o, "group") && more >= 2) {
            if (!group_mode) {
                reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You "
                               "called XREAD instead.");
                return;
            }
            gname = &c->argv[i + 1];
            cname = &c->argv[i + 2];
            i += 2;
        } else if (arg_is(o, "noack")) {
            if (!group_mode) {
                reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You "
                               "called XREAD instead.");
                return;
            }
            noack = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (streams_arg == 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (group_mode && gname == NULL) {
        reply_error(c, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    if (timeout > 0) {
        if (timeout > LLONG_MAX - now_ms()) {
            reply_error(c, "ERR timeout is out of range");
            return;
        }
        deadline = now_ms() + timeout;
    }

    struct stream_id *ids = rc_malloc((size_t)nstreams * sizeof(*ids));
    struct stream_cg **groups = rc_calloc((size_t)nstreams * sizeof(*groups));
    for (int k = 0; k < nstreams; k++) {
        const struct slice *key = &c->argv[streams_arg + k];
        const struct slice *ida = &c->argv[streams_arg + nstreams + k];
        int wrong;
        struct kv *o = lookup(c, key, &wrong);
        if (wrong)
            goto done;
        if (gname) {
            if (o == NULL || (groups[k] = stream_cg_find(stream_of(o), gname->p,
                                                         gname->len)) == NULL) {
                reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s' in "
                                "XREADGROUP with GROUP option", (int)key->len, key->p,
                             (int)gname->len, gname->p);
                goto done;
            }
        }
        if (ida->len == 1 && ida->p[0] == '$') {
            if (group_mode) {
                reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you "
                               "want to read the history of this consumer by specifying a "
                               "proper ID, or use the > ID to get new messages. The $ ID "
                               "would just return an empty result set.");
                goto done;
            }
            ids[k] = o ? stream_of(o)->last_id : (struct stream_id){0, 0};
            continue;
        }
        if (ida->len == 1 && ida->p[0] == '>') {
            if (!group_mode) {
                reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP "
                               "using the GROUP <group> <consumer> option.");
                goto done;
            }
            ids[k] = ID_MAX;
            continue;
        }
        if (parse_strict_id(c, ida, &ids[k]) != 0)
            goto done;
    }

    /* XREAD has no side effects: its reply length is counted first, so
     * that the reply stays in one buffer.  XREADGROUP serves as it goes
     * (the same key twice sees the first delivery) with a deferred length. */
    long served = 0;
    void *hole = NULL;
    if (!gname) {
        for (int k = 0; k < nstreams; k++) {
            const struct slice *key = &c->argv[streams_arg + k];
            struct kv *o = db_lookup(c->db, key->p, key->len);
            struct stream_id gt = ids[k];
            served += o && xread_decide(stream_of(o), NULL, &gt) != 0;
        }
        if (served && c->resp == 2)
            reply_array_len(c, served);
        else if (served)
            reply_map_len(c, served);
    }
    for (int k = 0; k < nstreams; k++) {
        const struct slice *key = &c->argv[streams_arg + k];
        struct kv *o = db_lookup(c->db, key->p, key->len);
        if (o == NULL)
            continue;
        struct stream *s = stream_of(o);
        struct stream_id gt = ids[k];
        int how = xread_decide(s, groups[k], &gt);
        if (how == 0)
            continue;
        int history = how == 2;
        if (gname && served++ == 0)
            hole = reply_defer_len(c);
        struct stream_id start = gt;
        stream_id_incr(&start);
        if (c->resp == 2)
            reply_array_len(c, 2);
        reply_bulk(c, key->p, key->len);
        if (groups[k]) {
            struct deliver d = {c, c->db, key->p, key->len, groups[k], NULL, noack};
            d.cons = consumer_get(c->db, key->p, key->len, groups[k], cname->p, cname->len);
            if (history)
                reply_history(c, s, &start, count, d.cons);
            else
                reply_range(c, s, &start, NULL, count, 0, &d);
            server.stat_dirty++;
        } else {
            reply_range(c, s, &start, NULL, count, 0, NULL);
        }
    }
    if (served) {
        if (gname && c->resp == 2)
            reply_set_array_len(c, hole, served);
        else if (gname)
            reply_set_map_len(c, hole, served);
        goto done;
    }
    if (timeout != -1) {
        if (!block_allowed(c)) {
            reply_null_array(c);
            goto done;
        }
        block_client(c, &c->argv[streams_arg], nstreams, deadline, xread_serve,
                     wait_new(&c->argv[streams_arg], ids, nstreams,
                              count ? count : XREAD_BLOCKED_DEFAULT_COUNT, gname, cname,
                              noack));
        goto done;
    }
    reply_null_array(c);
done:
    if (group_mode)
        propagate_prevent(c);
    rc_free(ids);
    rc_free(groups);
}

void cmd_xread(struct client *c)
{
    xread_generic(c, 0);
}

void cmd_xreadgroup(struct client *c)
{
    xread_generic(c, 1);
}

/* ---- XGROUP ---- */

static const char *const xgroup_help[] = {
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    NULL,
};

void cmd_xgroup_help(struct client *c)
{
    reply_help(c, "xgroup", xgroup_help);
}

static void subcommand_syntax(struct client *c, const char *cmd)
{
    int n = (int)(c->argv[1].len < 128 ? c->argv[1].len : 128);
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s "
                    "HELP.", n, c->argv[1].p, cmd);
}

static int parse_entries_read(struct client *c, const struct slice *a, long long *v)
{
    if (get_ll(c, a, v, NULL) != 0)
        return -1;
    if (*v < 0 && *v != STREAM_ENTRIES_READ_INVALID) {
        reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
        return -1;
    }
    return 0;
}

/*
 * The common part of XGROUP CREATE/SETID/DESTROY/CREATECONSUMER/
 * DELCONSUMER: options parsed by the caller, then the key and the group.
 * Returns 0 with *s (NULL only with mkstream) and *cg set, -1 after
 * replying.
 */
static int xgroup_lookup(struct client *c, int mkstream, int need_group, struct stream **s,
                         struct stream_cg **cg)
{
    int wrong;
    struct kv *o = lookup(c, &c->argv[2], &wrong);
    if (wrong)
        return -1;
    *s = o ? stream_of(o) : NULL;
    *cg = NULL;
    if (mkstream)
        return 0;
    if (*s == NULL) {
        reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for "
                       "CREATE you may want to use the MKSTREAM option to create an empty "
                       "stream automatically.");
        return -1;
    }
    *cg = stream_cg_find(*s, c->argv[3].p, c->argv[3].len);
    if (*cg == NULL && need_group) {
        reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)c->argv[3].len, c->argv[3].p, (int)c->argv[2].len, c->argv[2].p);
        return -1;
    }
    return 0;
}

void cmd_xgroup_create(struct client *c)
{
    int mkstream = 0;
    long long er = STREAM_ENTRIES_READ_INVALID;
    for (int i = 5; i < c->argc;) {
        if (arg_is(&c->argv[i], "mkstream")) {
            mkstream = 1;
            i++;
        } else if (arg_is(&c->argv[i], "entriesread") && i + 1 < c->argc) {
            if (parse_entries_read(c, &c->argv[i + 1], &er) != 0)
                return;
            i += 2;
        } else {
            subcommand_syntax(c, "XGROUP");
            return;
        }
    }
    struct stream *s;
    struct stream_cg *cg;
    if (xgroup_lookup(c, mkstream, 0, &s, &cg) != 0)
        return;
    if (c->argc > 8) {
        subcommand_syntax(c, "XGROUP");
        return;
    }
    struct stream_id id;
    if (c->argv[4].len == 1 && c->argv[4].p[0] == '$')
        id = s ? s->last_id : (struct stream_id){0, 0};
    else if (parse_strict_id(c, &c->argv[4], &id) != 0)
        return;
    if (s == NULL) {
        s = stream_of(create_stream(c, &c->argv[2]));
        db_signal_modified(c->db, c->argv[2].p, c->argv[2].len);
    }
    if (stream_cg_create(s, c->argv[3].p, c->argv[3].len, &id, er)) {
        reply_ok(c);
        server.stat_dirty++;
        notify_event(NOTIFY_STREAM, "xgroup-create", c->db, c->argv[2].p, c->argv[2].len);
    } else {
        reply_error(c, "BUSYGROUP Consumer Group name already exists");
    }
}

void cmd_xgroup_setid(struct client *c)
{
    long long er = STREAM_ENTRIES_READ_INVALID;
    if (c->argc == 7) {
        if (!arg_is(&c->argv[5], "entriesread")) {
            subcommand_syntax(c, "XGROUP");
            return;
        }
        if (parse_entries_read(c, &c->argv[6], &er) != 0)
            return;
    } else if (c->argc != 5) {
        subcommand_syntax(c, "XGROUP");
        return;
    }
    struct stream *s;
    struct stream_cg *cg;
    if (xgroup_lookup(c, 0, 1, &s, &cg) != 0)
        return;
    struct stream_id id;
    if (c->argv[4].len == 1 && c->argv[4].p[0] == '$')
        id = s->last_id;
    else if (parse_id(c, &c->argv[4], &id, 0, 0, NULL) != 0)
        return;
    cg->last_id = id;
    cg->entries_read = er;
    reply_ok(c);
    server.stat_dirty++;
    notify_event(NOTIFY_STREAM, "xgroup-setid", c->db, c->argv[2].p, c->argv[2].len);
}

void cmd_xgroup_destroy(struct client *c)
{
    struct stream *s;
    struct stream_cg *cg;
    if (xgroup_lookup(c, 0, 0, &s, &cg) != 0)
        return;
    if (cg == NULL) {
        reply_long(c, 0);
        return;
    }
    stream_cg_destroy(s, cg);
    reply_long(c, 1);
    server.stat_dirty++;
    notify_event(NOTIFY_STREAM, "xgroup-destroy", c->db, c->argv[2].p, c->argv[2].len);
    block_signal_key(c->db, c->argv[2].p, c->argv[2].len);
}

void cmd_xgroup_createconsumer(struct client *c)
{
    struct stream *s;
    struct stream_cg *cg;
    if (xgroup_lookup(c, 0, 1, &s, &cg) != 0)
        return;
    int created = consumer_add(c->db, c->argv[2].p, c->argv[2].len, cg, c->argv[4].p,
                               c->argv[4].len, now_ms()) != NULL;
    if (created)
        server.stat_dirty++;
    reply_long(c, created);
}

void cmd_xgroup_delconsumer(struct client *c)
{
    struct stream *s;
    struct stream_cg *cg;
    if (xgroup_lookup(c, 0, 1, &s, &cg) != 0)
        return;
    long long pending = 0;
    struct stream_consumer *cons = stream_consumer_find(cg, c->argv[4].p, c->argv[4].len);
    if (cons) {
        pending = (long long)stream_consumer_delete(cg, cons);
        server.stat_dirty++;
        notify_event(NOTIFY_STREAM, "xgroup-delconsumer", c->db, c->argv[2].p, c->argv[2].len);
    }
    reply_long(c, pending);
}

/* ---- XACK, XPENDING ---- */

void cmd_xack(struct client *c)
{
    int wrong;
    struct kv *o = lookup(c, &c->argv[1], &wrong);
    if (wrong)
        return;
    struct stream_cg *cg = o ? stream_cg_find(stream_of(o), c->argv[2].p, c->argv[2].len) : NULL;
    if (cg == NULL) {
        reply_long(c, 0);
        return;
    }
    int n = c->argc - 3;
    struct stream_id *ids = parse_ids(c, 3);
    if (ids == NULL)
        return;
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        if (stream_nack_del(cg, &ids[j])) {
            acked++;
            server.stat_dirty++;
        }
    }
    rc_free(ids);
    reply_long(c, acked);
}

void cmd_xpending(struct client *c)
{
    int justinfo = c->argc == 3;
    struct stream_id start, end;
    long long count = 0, minidle = 0;
    const struct slice *cname = NULL;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        int si = 3;
        if (arg_is(&c->argv[3], "idle")) {
            if (get_ll(c, &c->argv[4], &minidle, NULL) != 0)
                return;
            if (c->argc < 8) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            si += 2;
        }
        if (get_ll(c, &c->argv[si + 2], &count, NULL) != 0)
            return;
        if (count < 0)
            count = 0;
        if (parse_range(c, &c->argv[si], &c->argv[si + 1], &start, &end) != 0)
            return;
        if (si + 3 < c->argc)
            cname = &c->argv[si + 3];
    }
    struct stream *s;
    struct stream_cg *cg = lookup_group(c, &s);
    if (cg == NULL)
        return;
    if (justinfo) {
        reply_array_len(c, 4);
        reply_long(c, (long long)rax_size(&cg->pel));
        if (rax_size(&cg->pel) == 0) {
            reply_null(c);
            reply_null(c);
            reply_null_array(c);
            return;
        }
        struct rax_iter it;
        struct stream_id edge;
        rax_iter_start(&it, &cg->pel);
        rax_seek(&it, RAX_FIRST, NULL, 0);
        rax_next(&it);
        stream_id_decode(it.key, &edge);
        reply_id(c, &edge);
        rax_seek(&it, RAX_LAST, NULL, 0);
        rax_prev(&it);
        stream_id_decode(it.key, &edge);
        reply_id(c, &edge);
        long n = 0;
        void *hole = reply_defer_len(c);
        rax_iter_start(&it, &cg->consumers);
        rax_seek(&it, RAX_FIRST, NULL, 0);
        while (rax_next(&it)) {
            struct stream_consumer *cons = it.data;
            if (rax_size(&cons->pel) == 0)
                continue;
            reply_array_len(c, 2);
            reply_bulk(c, cons->name, cons->nlen);
            reply_bulk_long(c, (long long)rax_size(&cons->pel));
            n++;
        }
        rax_iter_stop(&it);
        reply_set_array_len(c, hole, n);
        return;
    }
    const struct rax *pel = &cg->pel;
    if (cname) {
        struct stream_consumer *cons = stream_consumer_find(cg, cname->p, cname->len);
        if (cons == NULL) {
            reply_array_len(c, 0);
            return;
        }
        pel = &cons->pel;
    }
    long long now = now_ms();
    long n = 0;
    void *hole = reply_defer_len(c);
    struct rax_iter it;
    stream_pel_iter(&it, pel, &start);
    while (count && rax_next(&it)) {
        struct stream_nack *nack = it.data;
        struct stream_id id;
        stream_id_decode(it.key, &id);
        if (stream_id_cmp(&id, &end) > 0)
            break;
        if (minidle && now - nack->delivery_time < minidle)
            continue;
        n++;
        count--;
        reply_array_len(c, 4);
        reply_id(c, &id);
        reply_bulk(c, nack->consumer->name, nack->consumer->nlen);
        long long elapsed = now - nack->delivery_time;
        reply_long(c, elapsed < 0 ? 0 : elapsed);
        reply_long(c, (long long)nack->delivery_count);
    }
    rax_iter_stop(&it);
    reply_set_array_len(c, hole, n);
}

/* ---- XCLAIM, XAUTOCLAIM ---- */

/* Gives nack to cons (created on first use) as a claim does; logs it. */
static void claim_one(struct client *c, struct stream_cg *cg, struct stream_consumer **cons,
                      struct stream_nack *nack, const struct stream_id *id, long long when,
                      long long retrycount, int justid)
{
    if (*cons == NULL) {
        *cons = stream_consumer_find(cg, c->argv[3].p, c->argv[3].len);
        if (*cons == NULL)
            *cons = consumer_add(c->db, c->argv[1].p, c->argv[1].len, cg, c->argv[3].p,
                                 c->argv[3].len, now_ms());
        (*cons)->seen_time = now_ms();
    }
    stream_nack_move(nack, id, *cons);
    nack->delivery_time = when;
    if (retrycount >= 0)
        nack->delivery_count = (uint64_t)retrycount;
    else if (!justid)
        nack->delivery_count++;
}

/* Replies a claimed entry (its id, or the entry, or null if gone). */
static void reply_claimed(struct client *c, struct stream *s, const struct stream_id *id,
                          int justid)
{
    if (justid)
        reply_id(c, id);
    else if (!reply_one(c, s, id))
        reply_null(c);
}

/* A nack whose entry is gone: logged (the replay drops it too), dropped. */
static void drop_stale(struct client *c, struct stream_cg *cg, struct stream_nack *nack,
                       const struct stream_id *id)
{
    propagate_xclaim(c->db, c->argv[1].p, c->argv[1].len, cg, nack->consumer->name,
                     nack->consumer->nlen, id, nack);
    stream_nack_del(cg, id);
    server.stat_dirty++;
}

void cmd_xclaim(struct client *c)
{
    struct stream *s;
    struct stream_cg *cg = lookup_group(c, &s);
    if (cg == NULL)
        return;
    long long minidle, retrycount = -1, when = -1;
    int force = 0, justid = 0;
    if (get_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XCLAIM") != 0)
        return;
    if (minidle < 0)
        minidle = 0;
    int j;
    struct stream_id tmp;
    for (j = 5; j < c->argc; j++)
        if (parse_strict_id(NULL, &c->argv[j], &tmp) != 0)
            break;
    int last_id_arg = j - 1;
    long long now = now_ms();
    struct stream_id last = {0, 0};
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const struct slice *opt = &c->argv[j];
        if (arg_is(opt, "force")) {
            force = 1;
        } else if (arg_is(opt, "justid")) {
            justid = 1;
        } else if (arg_is(opt, "idle") && more) {
            j++;
            if (get_ll(c, &c->argv[j], &when, "ERR Invalid IDLE option argument for XCLAIM"))
                return;
            when = now - when;
        } else if (arg_is(opt, "time") && more) {
            j++;
            if (get_ll(c, &c->argv[j], &when, "ERR Invalid TIME option argument for XCLAIM"))
                return;
        } else if (arg_is(opt, "retrycount") && more) {
            j++;
            if (get_ll(c, &c->argv[j], &retrycount,
                       "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                return;
        } else if (arg_is(opt, "lastid") && more) {
            j++;
            if (parse_strict_id(c, &c->argv[j], &last) != 0)
                return;
        } else {
            reply_errorf(c, "ERR Unrecognized XCLAIM option '%.*s'", (int)opt->len, opt->p);
            return;
        }
    }
    int propagate_last = 0;
    if (stream_id_cmp(&last, &cg->last_id) > 0) {
        cg->last_id = last;
        propagate_last = 1;
    }
    if (when == -1 || when < 0 || when > now)
        when = now;

    struct stream_consumer *cons = NULL;
    long n = 0;
    void *hole = reply_defer_len(c);
    for (j = 5; j <= last_id_arg; j++) {
        struct stream_id id;
        parse_strict_id(NULL, &c->argv[j], &id);
        struct stream_nack *nack = stream_pel_find(&cg->pel, &id);
        if (!stream_has_entry(s, &id)) {
            if (nack) {
                drop_stale(c, cg, nack, &id);
                propagate_last = 0;
            }
            continue;
        }
        int fresh = 0;
        if (force && nack == NULL) {
            if (cons == NULL) {
                cons = stream_consumer_find(cg, c->argv[3].p, c->argv[3].len);
                if (cons == NULL)
                    cons = consumer_add(c->db, c->argv[1].p, c->argv[1].len, cg,
                                        c->argv[3].p, c->argv[3].len, now);
                cons->seen_time = now;
            }
            nack = stream_nack_add(cg, cons, &id, now);
            fresh = 1;
        }
        if (nack == NULL)
            continue;
        if (!fresh && minidle && now - nack->delivery_time < minidle)
            continue;
        claim_one(c, cg, &cons, nack, &id, when, retrycount, justid);
        reply_claimed(c, s, &id, justid);
        n++;
        propagate_xclaim(c->db, c->argv[1].p, c->argv[1].len, cg, cons->name, cons->nlen, &id,
                         nack);
        propagate_last = 0;
        server.stat_dirty++;
    }
    if (propagate_last) {
        propagate_setid(c->db, c->argv[1].p, c->argv[1].len, cg);
        server.stat_dirty++;
    }
    reply_set_array_len(c, hole, n);
    propagate_prevent(c);
}

void cmd_xautoclaim(struct client *c)
{
    long long minidle, count = 100;
    int justid = 0;
    struct stream_id start;
    int ex;
    if (get_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"))
        return;
    if (minidle < 0)
        minidle = 0;
    if (parse_interval_id(c, &c->argv[5], &start, &ex, 0) != 0)
        return;
    if (ex && stream_id_incr(&start) != 0) {
        reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "count") && more) {
            if (!rc_str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &count) || count < 1 ||
                count > LONG_MAX / 16) {
                reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            j++;
        } else if (arg_is(&c->argv[j], "justid")) {
            justid = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    struct stream *s;
    struct stream_cg *cg = lookup_group(c, &s);
    if (cg == NULL)
        return;
    /* Redis allocates COUNT ids up front and answers this when that fails;
     * we allocate for the PEL only, and refuse what cannot be mapped in a
     * 47-bit address space, where Redis's allocation fails. */
    if ((unsigned long long)count > (1ULL << 47) / sizeof(struct stream_id)) {
        reply_error(c, "ERR Insufficient memory, failed allocating transient memory, COUNT "
                       "too high.");
        return;
    }
    long long attempts = count * 10, now = now_ms();
    struct stream_consumer *cons = NULL;
    /* Claim first (ids kept), reply after: the cursor comes first. */
    /* At most one id per pending entry, whatever COUNT says (COUNT may be
     * huge: memory follows the PEL, not the argument). */
    size_t cap = (size_t)count < rax_size(&cg->pel) ? (size_t)count : rax_size(&cg->pel);
    struct stream_id *deleted = rc_malloc((cap ? cap : 1) * sizeof(*deleted));
    struct stream_id *claimed = rc_malloc((cap ? cap : 1) * sizeof(*claimed));
    long ndel = 0, n = 0;
    struct rax_iter it;
    int more;
    stream_pel_iter(&it, &cg->pel, &start);
    while ((more = rax_next(&it)) && attempts-- && count) {
        struct stream_nack *nack = it.data;
        struct stream_id id;
        stream_id_decode(it.key, &id);
        if (!stream_has_entry(s, &id)) {
            drop_stale(c, cg, nack, &id);
            deleted[ndel++] = id;
            count--;
            /* The PEL changed: find our place again. */
            unsigned char k[16];
            stream_id_encode(k, &id);
            rax_seek(&it, RAX_GT, k, 16);
            continue;
        }
        if (minidle && now - nack->delivery_time < minidle)
            continue;
        claim_one(c, cg, &cons, nack, &id, now, -1, justid);
        claimed[n++] = id;
        count--;
        propagate_xclaim(c->db, c->argv[1].p, c->argv[1].len, cg, cons->name, cons->nlen, &id,
                         nack);
        server.stat_dirty++;
    }
    /* The cursor: the nack the loop stopped at, if any. */
    struct stream_id next = {0, 0};
    if (more)
        stream_id_decode(it.key, &next);
    rax_iter_stop(&it);
    reply_array_len(c, 3);
    reply_id(c, &next);
    reply_array_len(c, n);
    for (long k = 0; k < n; k++)
        reply_claimed(c, s, &claimed[k], justid);
    reply_array_len(c, ndel);
    for (long k = 0; k < ndel; k++)
        reply_id(c, &deleted[k]);
    rc_free(claimed);
    rc_free(deleted);
    propagate_prevent(c);
}

/* ---- XINFO ---- */

static const char *const xinfo_help[] = {
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    NULL,
};

void cmd_xinfo_help(struct client *c)
{
    reply_help(c, "xinfo", xinfo_help);
}

/* The stream at argv[2] for XINFO, NULL after replying. */
static struct stream *xinfo_stream(struct client *c)
{
    struct kv *o = db_lookup_read(c, &c->argv[2]);
    if (o == NULL) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return NULL;
    }
    if (o->type != OBJ_STREAM) {
        reply_err_wrongtype(c);
        return NULL;
    }
    return stream_of(o);
}

static void reply_lag(struct client *c, const struct stream *s, const struct stream_cg *cg)
{
    if (s->entries_added == 0) {
        reply_long(c, 0);
    } else if (cg->entries_read != STREAM_ENTRIES_READ_INVALID &&
               !stream_range_has_tombstones(s, &cg->last_id)) {
        reply_long(c, (long long)s->entries_added - cg->entries_read);
    } else {
        long long er = stream_estimate_distance(s, &cg->last_id);
        if (er != STREAM_ENTRIES_READ_INVALID)
            reply_long(c, (long long)s->entries_added - er);
        else
            reply_null(c);
    }
}

static void reply_entries_read(struct client *c, const struct stream_cg *cg)
{
    if (cg->entries_read != STREAM_ENTRIES_READ_INVALID)
        reply_long(c, cg->entries_read);
    else
        reply_null(c);
}

void cmd_xinfo_groups(struct client *c)
{
    struct stream *s = xinfo_stream(c);
    if (s == NULL)
        return;
    struct rax_iter it;
    reply_array_len(c, (long)rax_size(&s->groups));
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        struct stream_cg *cg = it.data;
        reply_map_len(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cg->name, cg->nlen);
        reply_bulk_cstr(c, "consumers");
        reply_long(c, (long long)rax_size(&cg->consumers));
        reply_bulk_cstr(c, "pending");
        reply_long(c, (long long)rax_size(&cg->pel));
        reply_bulk_cstr(c, "last-delivered-id");
        reply_id(c, &cg->last_id);
        reply_bulk_cstr(c, "entries-read");
        reply_entries_read(c, cg);
        reply_bulk_cstr(c, "lag");
        reply_lag(c, s, cg);
    }
    rax_iter_stop(&it);
}

void cmd_xinfo_consumers(struct client *c)
{
    struct stream *s = xinfo_stream(c);
    if (s == NULL)
        return;
    struct stream_cg *cg = stream_cg_find(s, c->argv[3].p, c->argv[3].len);
    if (cg == NULL) {
        reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)c->argv[3].len, c->argv[3].p, (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    long long now = now_ms();
    struct rax_iter it;
    reply_array_len(c, (long)rax_size(&cg->consumers));
    rax_iter_start(&it, &cg->consumers);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        struct stream_consumer *cons = it.data;
        long long idle = now - cons->seen_time;
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cons->name, cons->nlen);
        reply_bulk_cstr(c, "pending");
        reply_long(c, (long long)rax_size(&cons->pel));
        reply_bulk_cstr(c, "idle");
        reply_long(c, idle < 0 ? 0 : idle);
    }
    rax_iter_stop(&it);
}

static void reply_stream_head(struct client *c, const struct stream *s)
{
    reply_bulk_cstr(c, "length");
    reply_long(c, (long long)s->length);
    reply_bulk_cstr(c, "radix-tree-keys");
    reply_long(c, (long long)rax_size(&s->nodes));
    reply_bulk_cstr(c, "radix-tree-nodes");
    reply_long(c, (long long)stream_rax_nodes(s));
    reply_bulk_cstr(c, "last-generated-id");
    reply_id(c, &s->last_id);
    reply_bulk_cstr(c, "max-deleted-entry-id");
    reply_id(c, &s->max_deleted_id);
    reply_bulk_cstr(c, "entries-added");
    reply_long(c, (long long)s->entries_added);
    reply_bulk_cstr(c, "recorded-first-entry-id");
    reply_id(c, &s->first_id);
}

/* A PEL, at most count nacks (0: all), with or without the consumer. */
static void reply_pel(struct client *c, const struct rax *pel, long long count,
                      int with_consumer)
{
    uint64_t n = rax_size(pel);
    if (count && (uint64_t)count < n)
        n = (uint64_t)count;
    reply_array_len(c, (long)n);
    struct rax_iter it;
    stream_pel_iter(&it, pel, NULL);
    while (n-- && rax_next(&it)) {
        const struct stream_nack *nack = it.data;
        struct stream_id id;
        stream_id_decode(it.key, &id);
        reply_array_len(c, with_consumer ? 4 : 3);
        reply_id(c, &id);
        if (with_consumer)
            reply_bulk(c, nack->consumer->name, nack->consumer->nlen);
        reply_long(c, nack->delivery_time);
        reply_long(c, (long long)nack->delivery_count);
    }
    rax_iter_stop(&it);
}

static void xinfo_full(struct client *c, struct stream *s, long long count)
{
    reply_map_len(c, 9);
    reply_stream_head(c, s);
    reply_bulk_cstr(c, "entries");
    reply_range(c, s, NULL, NULL, count, 0, NULL);
    reply_bulk_cstr(c, "groups");
    struct rax_iter it, ci;
    reply_array_len(c, (long)rax_size(&s->groups));
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        struct stream_cg *cg = it.data;
        reply_map_len(c, 7);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cg->name, cg->nlen);
        reply_bulk_cstr(c, "last-delivered-id");
        reply_id(c, &cg->last_id);
        reply_bulk_cstr(c, "entries-read");
        reply_entries_read(c, cg);
        reply_bulk_cstr(c, "lag");
        reply_lag(c, s, cg);
        reply_bulk_cstr(c, "pel-count");
        reply_long(c, (long long)rax_size(&cg->pel));
        reply_bulk_cstr(c, "pending");
        reply_pel(c, &cg->pel, count, 1);
        reply_bulk_cstr(c, "consumers");
        reply_array_len(c, (long)rax_size(&cg->consumers));
        rax_iter_start(&ci, &cg->consumers);
        rax_seek(&ci, RAX_FIRST, NULL, 0);
        while (rax_next(&ci)) {
            struct stream_consumer *cons = ci.data;
            reply_map_len(c, 4);
            reply_bulk_cstr(c, "name");
            reply_bulk(c, cons->name, cons->nlen);
            reply_bulk_cstr(c, "seen-time");
            reply_long(c, cons->seen_time);
            reply_bulk_cstr(c, "pel-count");
            reply_long(c, (long long)rax_size(&cons->pel));
            reply_bulk_cstr(c, "pending");
            reply_pel(c, &cons->pel, count, 0);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
}

void cmd_xinfo_stream(struct client *c)
{
    long long count = 10;
    int full = 0;
    struct stream *s = xinfo_stream(c);
    if (s == NULL)
        return;
    if (c->argc == 4 || c->argc == 6) {
        if (!arg_is(&c->argv[3], "full") || (c->argc == 6 && !arg_is(&c->argv[4], "count"))) {
            subcommand_syntax(c, "XINFO");
            return;
        }
        full = 1;
    } else if (c->argc != 3) {
        subcommand_syntax(c, "XINFO");
        return;
    }
    if (c->argc == 6) {
        if (get_ll(c, &c->argv[5], &count, NULL) != 0)
            return;
        if (count < 0)
            count = 10;
    }
    if (full) {
        xinfo_full(c, s, count);
        return;
    }
    reply_map_len(c, 10);
    reply_stream_head(c, s);
    reply_bulk_cstr(c, "groups");
    reply_long(c, (long long)rax_size(&s->groups));
    reply_bulk_cstr(c, "first-entry");
    struct stream_id id;
    if (!stream_edge_id(s, 1, &id) || !reply_one(c, s, &id))
        reply_null(c);
    reply_bulk_cstr(c, "last-entry");
    if (!stream_edge_id(s, 0, &id) || !reply_one(c, s, &id))
        reply_null(c);
}
