/*
 * rdbstream.c — streams in RDB (format in rdbstream.h).
 */
#include "rdbstream.h"

#include <string.h>

#include "listpack.h"
#include "mem.h"
#include "stream.h"

int rdb_is_stream_type(int type)
{
    return type == RDB_TYPE_STREAM_LISTPACKS || type == RDB_TYPE_STREAM_LISTPACKS_2;
}

void rdb_out_listpack(struct rdb_out *out, const unsigned char *lp)
{
    /* Ours has another header and no terminator: write Redis's bytes. */
    struct rlp_builder b;
    rlp_init(&b);
    for (size_t off = lp_first(lp); off != LP_NONE; off = lp_next(lp, off)) {
        struct lp_entry e;
        lp_get(lp, off, &e);
        if (e.sval)
            rlp_add(&b, e.sval, e.slen);
        else
            rlp_add_int(&b, e.lval);
    }
    rlp_finish(&b);
    rdb_out_string(out, b.out.p, b.out.len, 1);
    rlp_free(&b);
}

static void out_id(struct rdb_out *out, const struct stream_id *id)
{
    rdb_out_len(out, id->ms);
    rdb_out_len(out, id->seq);
}

/* The nacks of a PEL: ids, and the delivery fields if full (group PEL). */
static void out_pel(struct rdb_out *out, const struct rax *pel, int full)
{
    struct rax_iter it;
    rdb_out_len(out, rax_size(pel));
    stream_pel_iter(&it, pel, NULL);
    while (rax_next(&it)) {
        const struct stream_nack *n = it.data;
        rdb_out_bytes(out, it.key, 16);
        if (full) {
            rdb_out_u64le(out, (uint64_t)n->delivery_time);
            rdb_out_len(out, n->delivery_count);
        }
    }
    rax_iter_stop(&it);
}

void rdb_put_stream(struct rdb_out *out, const struct stream *s)
{
    struct rax_iter it, ci;
    rdb_out_byte(out, RDB_TYPE_STREAM_LISTPACKS_2);
    rdb_out_len(out, rax_size(&s->nodes));
    rax_iter_start(&it, &s->nodes);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        rdb_out_string(out, it.key, 16, 1);
        rdb_out_listpack(out, it.data);
    }
    rdb_out_len(out, s->length);
    out_id(out, &s->last_id);
    out_id(out, &s->first_id);
    out_id(out, &s->max_deleted_id);
    rdb_out_len(out, s->entries_added);
    rdb_out_len(out, rax_size(&s->groups));
    rax_iter_start(&it, &s->groups);
    rax_seek(&it, RAX_FIRST, NULL, 0);
    while (rax_next(&it)) {
        const struct stream_cg *cg = it.data;
        rdb_out_string(out, cg->name, cg->nlen, 1);
        out_id(out, &cg->last_id);
        rdb_out_len(out, (uint64_t)cg->entries_read);
        out_pel(out, &cg->pel, 1);
        rdb_out_len(out, rax_size(&cg->consumers));
        rax_iter_start(&ci, &cg->consumers);
        rax_seek(&ci, RAX_FIRST, NULL, 0);
        while (rax_next(&ci)) {
            const struct stream_consumer *cons = ci.data;
            rdb_out_string(out, cons->name, cons->nlen, 1);
            rdb_out_u64le(out, (uint64_t)cons->seen_time);
            out_pel(out, &cons->pel, 0);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
}

static int in_id(struct rdb_in *in, struct stream_id *id)
{
    return rdb_in_len(in, &id->ms, NULL) < 0 || rdb_in_len(in, &id->seq, NULL) < 0 ? -1 : 0;
}

static int in_raw_id(struct rdb_in *in, struct stream_id *id)
{
    const unsigned char *p;
    if (rdb_in_bytes(in, &p, 16) < 0)
        return -1;
    stream_id_decode(p, id);
    return 0;
}

/* Appends one element of a Redis listpack to ours (arg). */
static int add_entry(void *arg, const unsigned char *p, size_t len)
{
    unsigned char **lp = arg;
    *lp = lp_append(*lp, (const char *)p, len);
    return 0;
}

/* Reads the nodes; checks them and their order.  *last: the last entry id
 * (deleted or not), 0-0 if none. */
static int in_nodes(struct rdb_in *in, struct stream *s, struct stream_id *last)
{
    uint64_t n, total = 0;
    if (rdb_in_len(in, &n, NULL) < 0)
        return -1;
    *last = (struct stream_id){0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct rdb_str key, lp;
        if (rdb_in_string(in, &key) < 0)
            return -1;
        int ok = key.len == 16;
        struct stream_id master;
        if (ok)
            stream_id_decode(key.p, &master);
        rdb_str_free(&key);
        if (!ok || rdb_in_string(in, &lp) < 0)
            return -1;
        struct stream_id node_last;
        uint64_t live = 0;
        unsigned char *ours = lp_new(lp.len);
        size_t rbytes = lp.len;
        if (rdb_listpack_walk(lp.p, lp.len, add_entry, &ours) <= 0) {
            lp_free(ours);
            ours = NULL;
        }
        rdb_str_free(&lp);
        ok = ours && (rax_size(&s->nodes) == 0 || stream_id_cmp(&master, last) > 0) &&
             stream_node_validate(ours, &master, &node_last, &live);
        if (ok) {
            stream_push_node(s, &master, ours, rbytes);
            *last = node_last;
            total += live;
        } else {
            lp_free(ours);
        }
        if (!ok)
            return -1;
    }
    s->length = total;
    return 0;
}

static int in_group(struct rdb_in *in, struct stream *s, int v2)
{
    struct rdb_str name;
    struct stream_id last;
    uint64_t er = (uint64_t)STREAM_ENTRIES_READ_INVALID, npel, ncons, owned = 0;
    if (rdb_in_string(in, &name) < 0)
        return -1;
    struct stream_cg *cg = NULL;
    if (in_id(in, &last) == 0 && (!v2 || rdb_in_len(in, &er, NULL) == 0)) {
        if (!v2)
            er = (uint64_t)stream_estimate_distance(s, &last);
        cg = stream_cg_create(s, (const char *)name.p, name.len, &last, (long long)er);
    }
    rdb_str_free(&name);
    if (cg == NULL || rdb_in_len(in, &npel, NULL) < 0)
        return -1;
    /* Nacks are read ownerless into the group PEL, then given to their
     * consumers; one left without a consumer makes the value invalid. */
    for (uint64_t i = 0; i < npel; i++) {
        struct stream_id id;
        uint64_t t, cnt;
        if (in_raw_id(in, &id) < 0 || rdb_in_u64le(in, &t) < 0 ||
            rdb_in_len(in, &cnt, NULL) < 0)
            return -1;
        if (stream_nack_load(cg, &id, (long long)t, cnt) == NULL)
            return -1;
    }
    if (rdb_in_len(in, &ncons, NULL) < 0)
        return -1;
    for (uint64_t k = 0; k < ncons; k++) {
        struct rdb_str cname;
        uint64_t seen, n;
        if (rdb_in_string(in, &cname) < 0)
            return -1;
        struct stream_consumer *cons = NULL;
        if (rdb_in_u64le(in, &seen) == 0)
            cons = stream_consumer_create(cg, (const char *)cname.p, cname.len,
                                          (long long)seen);
        rdb_str_free(&cname);
        if (cons == NULL || rdb_in_len(in, &n, NULL) < 0)
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            struct stream_id id;
            if (in_raw_id(in, &id) < 0)
                return -1;
            struct stream_nack *nack = stream_pel_find(&cg->pel, &id);
            if (nack == NULL || nack->consumer != NULL)
                return -1;
            stream_nack_own(nack, &id, cons);
            owned++;
        }
    }
    /* Each nack was given to one consumer at most: all were given iff as
     * many were given as the group has. */
    return owned == rax_size(&cg->pel) ? 0 : -1;
}

struct stream *rdb_get_stream(struct rdb_in *in, int type)
{
    int v2 = type == RDB_TYPE_STREAM_LISTPACKS_2;
    if (!rdb_is_stream_type(type))
        return NULL;
    struct stream *s = stream_new();
    struct stream_id last_entry;
    uint64_t length, ngroups;
    if (in_nodes(in, s, &last_entry) < 0 || rdb_in_len(in, &length, NULL) < 0 ||
        in_id(in, &s->last_id) < 0)
        goto bad;
    if (length != s->length || stream_id_cmp(&s->last_id, &last_entry) < 0)
        goto bad;
    if (v2) {
        if (in_id(in, &s->first_id) < 0 || in_id(in, &s->max_deleted_id) < 0 ||
            rdb_in_len(in, &s->entries_added, NULL) < 0)
            goto bad;
        if (s->entries_added < s->length)
            goto bad;
    } else {
        stream_update_first(s);
        s->entries_added = s->length;
    }
    if (rdb_in_len(in, &ngroups, NULL) < 0)
        goto bad;
    for (uint64_t g = 0; g < ngroups; g++)
        if (in_group(in, s, v2) < 0)
            goto bad;
    return s;
bad:
    /* Nacks still without a consumer belong to no consumer PEL: free them
     * with the group, which owns every nack. */
    stream_destroy(&s);
    return NULL;
}
