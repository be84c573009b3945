/*
 * t_set.c — the set type: its two encodings (see t_set.h) and the set
 * commands SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP
 * SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE
 * SSCAN, answering byte for byte as redis-server 7.0.15 does, with the
 * same checks in the same order.
 *
 * Memory.  Redis 7.0 keeps each member of a hashtable-encoded set as a
 * dictEntry (24 bytes, a 32-byte allocation) plus an sds string (header,
 * bytes and NUL: 16 bytes for a short member).  Here a member is a single
 * allocation: the dict's chain link, a varint length (1 byte below 128)
 * and the bytes; a member of up to 23 bytes fits a 32-byte allocation.
 * Intsets use the same bytes per element as Redis's.
 *
 * Randomness.  SPOP and SRANDMEMBER follow Redis's strategies (which
 * change with the count relative to the set size) so that their costs
 * and the shapes of their results match: see each command.
 */
#include "notify.h"
#include "t_set.h"

#include <limits.h>
#include <stdlib.h>

#include "bio.h"
#include "glob.h"
#include "hash.h"
#include "intset.h"
#include "propagate.h"
#include "rand.h"
#include "reply.h"
#include "server.h"

/* ---- hashtable members ---- */

struct smember {
    struct dnode node;
    unsigned char data[];   /* varint length (7 bits per byte, LSB first), bytes */
};

static size_t varint_size(size_t n)
{
    size_t s = 1;
    while (n >= 0x80) {
        n >>= 7;
        s++;
    }
    return s;
}

static void member_key(const struct dnode *n, const char **key, size_t *len)
{
    const unsigned char *p = ((const struct smember *)n)->data;
    size_t v = 0;
    unsigned shift = 0;
    while (*p & 0x80) {
        v |= (size_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    v |= (size_t)*p++ << shift;
    *key = (const char *)p;
    *len = v;
}

static void member_destroy(struct dnode *n)
{
    rc_free(n);
}

static const struct dict_type set_dict_type = {rc_hash, member_key, member_destroy};

/* A new member node holding a copy of m[0..len).  The caller owns it. */
static struct smember *member_new(const char *m, size_t len)
{
    size_t vs = varint_size(len);
    if (len > SIZE_MAX - sizeof(struct smember) - vs)
        abort();
    struct smember *s = rc_malloc(sizeof(struct smember) + vs + len);
    unsigned char *p = s->data;
    size_t v = len;
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    if (len)
        memcpy(p, m, len);
    s->node.next = NULL;
    return s;
}

/* ---- encodings ---- */

/*
 * Largest intset: set-max-intset-entries, capped at 2^30 members as Redis
 * 7.2 caps it, so that an intset never outgrows its 32-bit length (an
 * intset that big would be 8 GB of integers; no one configures that).
 */
static size_t intset_limit(void)
{
    unsigned long m = server.set_max_intset_entries;
    return m > (1UL << 30) ? (size_t)1 << 30 : (size_t)m;
}

/* Converts the intset set o to a hashtable presized for `hint` members. */
static void convert_to_ht(struct kv *o, size_t hint)
{
    struct intset *is = o->v.ptr;
    struct dict *d = dict_create(&set_dict_type);
    dict_expand(d, hint);
    int64_t v;
    for (uint32_t i = 0; intset_get(is, i, &v); i++) {
        char buf[RC_LONG_STR_SIZE];
        size_t n = rc_ll2str(buf, sizeof(buf), v);
        dict_add(d, &member_new(buf, n)->node);
    }
    intset_destroy(&is);
    o->enc = ENC_HT;
    o->v.ptr = d;
}

size_t set_size(const struct kv *o)
{
    if (o->enc == ENC_INTSET)
        return intset_len(o->v.ptr);
    return dict_size(o->v.ptr);
}

struct kv *set_new_for(const char *key, size_t klen, const char *m, size_t mlen)
{
    long long v;
    if (rc_str2ll(m, mlen, &v))
        return kv_new_ptr(key, klen, OBJ_SET, ENC_INTSET, intset_new(), -1);
    return kv_new_ptr(key, klen, OBJ_SET, ENC_HT, dict_create(&set_dict_type), -1);
}

/* Adds integer v to the intset set o; converts when it grows too big. */
static int intset_add_checked(struct kv *o, int64_t v)
{
    int added;
    o->v.ptr = intset_add(o->v.ptr, v, &added);
    if (added && intset_len(o->v.ptr) > intset_limit())
        convert_to_ht(o, intset_len(o->v.ptr));
    return added;
}

int set_add(struct kv *o, const char *m, size_t len)
{
    if (o->enc == ENC_INTSET) {
        long long v;
        if (rc_str2ll(m, len, &v))
            return intset_add_checked(o, v);
        convert_to_ht(o, (size_t)intset_len(o->v.ptr) + 1);
        dict_add(o->v.ptr, &member_new(m, len)->node);
        return 1;
    }
    /* Allocate first and let one probe both find and insert: adding new
     * members is the common case. */
    struct smember *s = member_new(m, len);
    if (dict_add_or_get(o->v.ptr, &s->node) != NULL) {
        rc_free(s);
        return 0;
    }
    return 1;
}

int set_remove(struct kv *o, const char *m, size_t len)
{
    if (o->enc == ENC_INTSET) {
        long long v;
        int removed = 0;
        if (rc_str2ll(m, len, &v))
            o->v.ptr = intset_remove(o->v.ptr, v, &removed);
        return removed;
    }
    struct dnode *n = dict_unlink(o->v.ptr, m, len);
    if (n == NULL)
        return 0;
    rc_free(n);
    dict_try_shrink(o->v.ptr);
    return 1;
}

int set_is_member(const struct kv *o, const char *m, size_t len)
{
    if (o->enc == ENC_INTSET) {
        long long v;
        return rc_str2ll(m, len, &v) && intset_find(o->v.ptr, v);
    }
    return dict_find(o->v.ptr, m, len) != NULL;
}

/* ---- elements and iteration ---- */

void set_elem_bytes(struct set_elem *e, const char **p, size_t *len)
{
    if (e->is_int) {
        e->len = rc_ll2str(e->buf, sizeof(e->buf), e->iv);
        e->p = e->buf;
    }
    *p = e->p;
    *len = e->len;
}

static void elem_from_node(struct set_elem *e, const struct dnode *n)
{
    e->is_int = 0;
    member_key(n, &e->p, &e->len);
}

void set_iter_init(struct set_iter *it, const struct kv *o)
{
    it->o = o;
    it->pos = 0;
    if (o->enc == ENC_HT)
        dict_iter_init(&it->di, o->v.ptr);
}

int set_iter_next(struct set_iter *it, struct set_elem *e)
{
    if (it->o->enc == ENC_INTSET) {
        if (!intset_get(it->o->v.ptr, it->pos, &e->iv))
            return 0;
        it->pos++;
        e->is_int = 1;
        return 1;
    }
    struct dnode *n = dict_iter_next(&it->di);
    if (n == NULL)
        return 0;
    elem_from_node(e, n);
    return 1;
}

void set_iter_done(struct set_iter *it)
{
    if (it->o->enc == ENC_HT)
        dict_iter_done(&it->di);
}

/* A uniformly (intset) or fairly (hashtable, as Redis's
 * dictGetFairRandomKey) chosen member of the non-empty set o. */
static void set_random(const struct kv *o, struct set_elem *e)
{
    if (o->enc == ENC_INTSET) {
        e->is_int = 1;
        e->iv = intset_random(o->v.ptr, rc_random_u64());
        return;
    }
    elem_from_node(e, dict_random(o->v.ptr));
}

/* Is element e (possibly from another set) a member of o?  Integers are
 * compared without formatting when o is an intset. */
static int set_has_elem(const struct kv *o, struct set_elem *e)
{
    if (e->is_int && o->enc == ENC_INTSET)
        return intset_find(o->v.ptr, e->iv);
    const char *p;
    size_t len;
    set_elem_bytes(e, &p, &len);
    return set_is_member(o, p, len);
}

static int set_add_elem(struct kv *o, struct set_elem *e)
{
    if (e->is_int && o->enc == ENC_INTSET)
        return intset_add_checked(o, e->iv);
    const char *p;
    size_t len;
    set_elem_bytes(e, &p, &len);
    return set_add(o, p, len);
}

static int set_remove_elem(struct kv *o, struct set_elem *e)
{
    const char *p;
    size_t len;
    if (e->is_int && o->enc == ENC_INTSET) {
        int removed;
        o->v.ptr = intset_remove(o->v.ptr, e->iv, &removed);
        return removed;
    }
    set_elem_bytes(e, &p, &len);
    return set_remove(o, p, len);
}

static void reply_elem(struct client *c, const struct set_elem *e)
{
    if (e->is_int)
        reply_bulk_long(c, e->iv);
    else
        reply_bulk(c, e->p, e->len);
}

/* ---- hooks for object.c and bio.c ---- */

void set_free_value(int enc, void *ptr)
{
    if (enc == ENC_INTSET) {
        struct intset *is = ptr;
        intset_destroy(&is);
    } else {
        struct dict *d = ptr;
        dict_destroy(&d);
    }
}

void *set_dup_value(int enc, const void *ptr)
{
    if (enc == ENC_INTSET)
        return intset_dup(ptr);
    struct dict *src = (struct dict *)ptr;
    struct dict *d = dict_create(&set_dict_type);
    dict_expand(d, dict_size(src));
    struct dict_iter it;
    struct dnode *n;
    dict_iter_init(&it, src);
    while ((n = dict_iter_next(&it)) != NULL) {
        const char *m;
        size_t len;
        member_key(n, &m, &len);
        dict_add(d, &member_new(m, len)->node);
    }
    dict_iter_done(&it);
    return d;
}

#define SET_MEM_SAMPLES 16

size_t set_mem_usage(int enc, const void *ptr)
{
    if (enc == ENC_INTSET)
        return rc_usable((void *)ptr);
    struct dict *d = (struct dict *)ptr;
    size_t total = dict_mem_usage(d), sampled = 0, bytes = 0;
    struct dict_iter it;
    struct dnode *n;
    dict_iter_init(&it, d);
    while (sampled < SET_MEM_SAMPLES && (n = dict_iter_next(&it)) != NULL) {
        bytes += rc_usable(n);
        sampled++;
    }
    dict_iter_done(&it);
    if (sampled > 0)
        total += bytes / sampled * dict_size(d);
    return total;
}

size_t set_free_effort(int enc, const void *ptr)
{
    return enc == ENC_INTSET ? 1 : dict_size(ptr) + 1;
}

/* ---- lookups ---- */

/* The set at key for a read command (counts a hit or miss): NULL when the
 * key is missing; *wrong is set when it holds another type (the caller
 * replies WRONGTYPE). */
static struct kv *lookup_read(struct client *c, const struct slice *key, int *wrong)
{
    struct kv *o = db_lookup_read(c, key);
    *wrong = o != NULL && o->type != OBJ_SET;
    return *wrong ? NULL : o;
}

static struct kv *lookup_write(struct client *c, const struct slice *key, int *wrong)
{
    struct kv *o = db_lookup(c->db, key->p, key->len);
    *wrong = o != NULL && o->type != OBJ_SET;
    return *wrong ? NULL : o;
}

/* Deletes the emptied set at key. */
static void delete_key(struct client *c, const struct slice *key)
{
    db_delete(c->db, key->p, key->len, server.lazyfree_lazy_server_del);
}

/* ---- SADD SREM SMOVE ---- */

void cmd_sadd(struct client *c)
{
    const struct slice *key = &c->argv[1];
    int wrong;
    struct kv *o = lookup_write(c, key, &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL) {
        o = set_new_for(key->p, key->len, c->argv[2].p, c->argv[2].len);
        db_add(c->db, o);
    }
    long long added = 0;
    for (int j = 2; j < c->argc; j++)
        added += set_add(o, c->argv[j].p, c->argv[j].len);
    if (added) {
        db_signal_modified(c->db, key->p, key->len);
        notify_event(NOTIFY_SET, "sadd", c->db, key->p, key->len);
    }
    server.stat_dirty += added;
    reply_long(c, added);
}

void cmd_srem(struct client *c)
{
    const struct slice *key = &c->argv[1];
    int wrong;
    struct kv *o = lookup_write(c, key, &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL) {
        reply_long(c, 0);
        return;
    }
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (set_remove(o, c->argv[j].p, c->argv[j].len)) {
            deleted++;
            if (set_size(o) == 0) {
                delete_key(c, key);   /* signals the change */
                o = NULL;
                break;
            }
        }
    }
    if (deleted && o != NULL)
        db_signal_modified(c->db, key->p, key->len);
    if (deleted)
        notify_event(NOTIFY_SET, "srem", c->db, key->p, key->len);
    if (deleted && o == NULL)
        notify_event(NOTIFY_GENERIC, "del", c->db, key->p, key->len);
    server.stat_dirty += deleted;
    reply_long(c, deleted);
}

void cmd_smove(struct client *c)
{
    const struct slice *skey = &c->argv[1], *dkey = &c->argv[2], *m = &c->argv[3];
    int swrong, dwrong;
    struct kv *src = lookup_write(c, skey, &swrong);
    struct kv *dst = lookup_write(c, dkey, &dwrong);

    if (src == NULL && !swrong) {
        reply_long(c, 0);
        return;
    }
    if (swrong || dwrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (src == dst) {
        reply_long(c, set_is_member(src, m->p, m->len));
        return;
    }
    if (!set_remove(src, m->p, m->len)) {
        reply_long(c, 0);
        return;
    }
    /* Entries never move when another key is deleted or added, so dst
     * stays valid across these calls. */
    notify_event(NOTIFY_SET, "srem", c->db, skey->p, skey->len);
    if (set_size(src) == 0) {
        delete_key(c, skey);
        notify_event(NOTIFY_GENERIC, "del", c->db, skey->p, skey->len);
    } else {
        db_signal_modified(c->db, skey->p, skey->len);
    }
    if (dst == NULL) {
        dst = set_new_for(dkey->p, dkey->len, m->p, m->len);
        db_add(c->db, dst);
    }
    server.stat_dirty++;
    if (set_add(dst, m->p, m->len)) {
        server.stat_dirty++;
        db_signal_modified(c->db, dkey->p, dkey->len);
        notify_event(NOTIFY_SET, "sadd", c->db, dkey->p, dkey->len);
    }
    reply_long(c, 1);
}

/* ---- SCARD SISMEMBER SMISMEMBER SMEMBERS ---- */

void cmd_scard(struct client *c)
{
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong)
        reply_err_wrongtype(c);
    else
        reply_long(c, o ? (long long)set_size(o) : 0);
}

void cmd_sismember(struct client *c)
{
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong)
        reply_err_wrongtype(c);
    else
        reply_long(c, o ? set_is_member(o, c->argv[2].p, c->argv[2].len) : 0);
}

void cmd_smismember(struct client *c)
{
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    /* A missing key is an empty set: all zeros. */
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        reply_long(c, o ? set_is_member(o, c->argv[j].p, c->argv[j].len) : 0);
}

/* Replies every member of o as a set (RESP3 ~, RESP2 *). */
static void reply_whole_set(struct client *c, const struct kv *o)
{
    struct set_iter it;
    struct set_elem e;
    reply_set_len(c, (long)set_size(o));
    set_iter_init(&it, o);
    while (set_iter_next(&it, &e))
        reply_elem(c, &e);
    set_iter_done(&it);
}

void cmd_smembers(struct client *c)
{
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong)
        reply_err_wrongtype(c);
    else if (o == NULL)
        reply_set_len(c, 0);
    else
        reply_whole_set(c, o);
}

/* ---- SPOP ---- */

static const char ERR_POSITIVE[] = "ERR value is out of range, must be positive";

/* Redis's SPOP_MOVE_STRATEGY_MUL: with count < size, pop one by one while
 * what stays is more than count/5; else rebuild the set from what stays. */
#define SPOP_MOVE_STRATEGY_MUL 5

/* Swaps the values of two set entries (the entries stay where they are). */
static void swap_values(struct kv *a, struct kv *b)
{
    uint8_t enc = a->enc;
    void *ptr = a->v.ptr;
    a->enc = b->enc;
    a->v.ptr = b->v.ptr;
    b->enc = enc;
    b->v.ptr = ptr;
}

/* Log the removal of e from key (SPOP's concrete effect). */
static void propagate_srem(struct client *c, const struct slice *key, struct set_elem *e)
{
    const char *p;
    size_t len;
    set_elem_bytes(e, &p, &len);
    struct slice rec[3] = {{"SREM", 4}, *key, {p, len}};
    propagate_add(c->db->id, 3, rec);
}

static void spop_with_count(struct client *c)
{
    const struct slice *key = &c->argv[1];
    long l;
    if (!rc_str2l(c->argv[2].p, c->argv[2].len, &l) || l < 0) {
        reply_error(c, ERR_POSITIVE);
        return;
    }
    size_t count = (size_t)l;
    int wrong;
    struct kv *o = lookup_write(c, key, &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL || count == 0) {
        reply_set_len(c, 0);
        return;
    }
    size_t size = set_size(o);
    server.stat_dirty += (long long)(count >= size ? size : count);

    /* The whole set. */
    if (count >= size) {
        reply_whole_set(c, o);
        notify_event(NOTIFY_SET, "spop", c->db, key->p, key->len);
        delete_key(c, key);
        notify_event(NOTIFY_GENERIC, "del", c->db, key->p, key->len);
        propagate_replace_del(c, key, server.lazyfree_lazy_server_del);
        return;
    }

    /* The random choice is logged as the concrete removals. */
    propagate_prevent(c);
    reply_set_len(c, (long)count);
    size_t remaining = size - count;
    struct set_elem e;
    if (remaining > count / SPOP_MOVE_STRATEGY_MUL) {
        /* remaining * MUL > count: pop random members one at a time.  The
         * reply goes out before the removal frees a hashtable member. */
        while (count--) {
            set_random(o, &e);
            reply_elem(c, &e);
            propagate_srem(c, key, &e);
            set_remove_elem(o, &e);
        }
    } else {
        /* Few stay: move `remaining` random members to a new set, reply
         * with what is left in the old one, then keep the new one. */
        struct kv *kept = NULL;
        while (remaining--) {
            const char *p;
            size_t len;
            set_random(o, &e);
            set_elem_bytes(&e, &p, &len);
            if (kept == NULL)
                kept = set_new_for("", 0, p, len);
            set_add(kept, p, len);
            set_remove(o, p, len);
        }
        struct set_iter it;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &e)) {
            reply_elem(c, &e);
            propagate_srem(c, key, &e);
        }
        set_iter_done(&it);
        /* The key's entry (and its TTL) stays; only the value changes. */
        swap_values(o, kept);
        bio_free_kv(kept, server.lazyfree_lazy_server_del);
    }
    db_signal_modified(c->db, key->p, key->len);
    notify_event(NOTIFY_SET, "spop", c->db, key->p, key->len);
}

void cmd_spop(struct client *c)
{
    if (c->argc == 3) {
        spop_with_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    const struct slice *key = &c->argv[1];
    int wrong;
    struct kv *o = lookup_write(c, key, &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct set_elem e;
    set_random(o, &e);
    reply_elem(c, &e);
    const char *mp;
    size_t ml;
    set_elem_bytes(&e, &mp, &ml);
    struct slice rec[3] = {{"SREM", 4}, *key, {mp, ml}};
    propagate_replace(c, 3, rec);
    set_remove_elem(o, &e);
    notify_event(NOTIFY_SET, "spop", c->db, key->p, key->len);
    if (set_size(o) == 0) {
        delete_key(c, key);
        notify_event(NOTIFY_GENERIC, "del", c->db, key->p, key->len);
    } else {
        db_signal_modified(c->db, key->p, key->len);
    }
    server.stat_dirty++;
}

/* ---- SRANDMEMBER ---- */

/* Redis's SRANDMEMBER_SUB_STRATEGY_MUL: when count*3 > size, copy the set
 * and remove random members down to count; otherwise pick random members
 * until count distinct ones were found. */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

/* Nonzero when nothing the command replies can reach the client (reply
 * off, fake client, or a client being closed for its output buffer): a
 * long SRANDMEMBER loop can stop early. */
static int reply_lost(const struct client *c)
{
    return (c->flags & (CF_CLOSE_ASAP | CF_REPLY_OFF | CF_REPLY_SKIP | CF_FAKE)) != 0;
}

static void srandmember_with_count(struct client *c)
{
    long l;
    if (!rc_str2l(c->argv[2].p, c->argv[2].len, &l)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (l < -LONG_MAX) {
        reply_errorf(c, "ERR value is out of range, value must between %ld and %ld",
                     -LONG_MAX, LONG_MAX);
        return;
    }
    int uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)-l;

    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL || count == 0) {
        reply_empty_array(c);
        return;
    }
    size_t size = set_size(o);
    struct set_elem e;

    /* Repeats allowed (negative count), or a single member: independent
     * picks, in random order. */
    if (!uniq || count == 1) {
        reply_array_len(c, (long)count);
        while (count--) {
            set_random(o, &e);
            reply_elem(c, &e);
            if (reply_lost(c))
                break;
        }
        return;
    }

    /* The whole set. */
    if (count >= size) {
        struct set_iter it;
        reply_array_len(c, (long)size);
        set_iter_init(&it, o);
        while (set_iter_next(&it, &e))
            reply_elem(c, &e);
        set_iter_done(&it);
        return;
    }

    /* count < size distinct members, collected in a scratch dict. */
    struct dict *d = dict_create(&set_dict_type);
    const char *p;
    size_t len;
    if (count > size / SRANDMEMBER_SUB_STRATEGY_MUL) {
        /* count * MUL > size: copy everything, drop random members. */
        struct set_iter it;
        dict_expand(d, size);
        set_iter_init(&it, o);
        while (set_iter_next(&it, &e)) {
            set_elem_bytes(&e, &p, &len);
            dict_add(d, &member_new(p, len)->node);
        }
        set_iter_done(&it);
        while (size > count) {
            struct dnode *n = dict_random(d);
            member_key(n, &p, &len);
            rc_free(dict_unlink(d, p, len));
            size--;
        }
    } else {
        unsigned long added = 0;
        dict_expand(d, count);
        while (added < count) {
            set_random(o, &e);
            set_elem_bytes(&e, &p, &len);
            struct smember *s = member_new(p, len);
            if (dict_add(d, &s->node) == 0)
                added++;
            else
                rc_free(s);
        }
    }
    struct dict_iter it;
    struct dnode *n;
    reply_array_len(c, (long)count);
    dict_iter_init(&it, d);
    while ((n = dict_iter_next(&it)) != NULL) {
        member_key(n, &p, &len);
        reply_bulk(c, p, len);
    }
    dict_iter_done(&it);
    dict_destroy(&d);
}

void cmd_srandmember(struct client *c)
{
    if (c->argc == 3) {
        srandmember_with_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct set_elem e;
    set_random(o, &e);
    reply_elem(c, &e);
}

/* ---- SINTER SINTERCARD SINTERSTORE ---- */

static int cmp_size_asc(const void *a, const void *b)
{
    size_t x = set_size(*(struct kv *const *)a), y = set_size(*(struct kv *const *)b);
    return (x > y) - (x < y);
}

/* NULL (missing key) sorts as an empty set. */
static int cmp_size_desc(const void *a, const void *b)
{
    const struct kv *oa = *(struct kv *const *)a, *ob = *(struct kv *const *)b;
    size_t x = oa ? set_size(oa) : 0, y = ob ? set_size(ob) : 0;
    return (x < y) - (x > y);
}

/*
 * Looks up the n source sets keys[0..n) for reading into sets[] (NULL for
 * a missing key).  Returns the number of missing keys, or -1 after
 * replying WRONGTYPE (every key is looked up first, as Redis does).
 */
static long lookup_sources(struct client *c, const struct slice *keys, long n,
                           struct kv **sets)
{
    long missing = 0;
    for (long j = 0; j < n; j++) {
        int wrong;
        sets[j] = lookup_read(c, &keys[j], &wrong);
        if (wrong) {
            reply_err_wrongtype(c);
            return -1;
        }
        if (sets[j] == NULL)
            missing++;
    }
    return missing;
}

/* Stores the finished result set tmp (whose key is dst) in place of
 * whatever dst held, or deletes dst when tmp is empty; replies the size. */
static void store_result(struct client *c, const struct slice *dst, struct kv *tmp)
{
    size_t n = set_size(tmp);
    if (n > 0) {
        db_overwrite(c->db, tmp);   /* drops any TTL, as Redis's setKey */
        /* The event is the command's name: sinterstore, sunionstore, sdiffstore. */
        notify_event(NOTIFY_SET, c->cmd->name, c->db, dst->p, dst->len);
        reply_long(c, (long long)n);
        server.stat_dirty++;
    } else {
        kv_free(tmp);
        reply_long(c, 0);
        if (db_delete(c->db, dst->p, dst->len, server.lazyfree_lazy_server_del)) {
            notify_event(NOTIFY_GENERIC, "del", c->db, dst->p, dst->len);
            server.stat_dirty++;
        }
    }
}

/*
 * The intersection of sets keys[0..n): replied as a set, stored at dst
 * (dst != NULL), or only counted up to limit (card_only; limit 0 = no
 * limit).
 */
static void sinter_generic(struct client *c, const struct slice *keys, long n,
                           const struct slice *dst, int card_only, unsigned long limit)
{
    struct kv **sets = rc_malloc((size_t)n * sizeof(*sets));
    long missing = lookup_sources(c, keys, n, sets);
    if (missing < 0) {
        rc_free(sets);
        return;
    }
    if (missing > 0) {
        rc_free(sets);
        if (dst) {
            if (db_delete(c->db, dst->p, dst->len, server.lazyfree_lazy_server_del)) {
                notify_event(NOTIFY_GENERIC, "del", c->db, dst->p, dst->len);
                server.stat_dirty++;
            }
            reply_long(c, 0);
        } else if (card_only) {
            reply_long(c, 0);
        } else {
            reply_set_len(c, 0);
        }
        return;
    }
    /* Smallest first: fewest candidates to test. */
    qsort(sets, (size_t)n, sizeof(*sets), cmp_size_asc);

    struct kv *tmp = NULL;
    void *hole = NULL;
    if (dst)
        tmp = kv_new_ptr(dst->p, dst->len, OBJ_SET, ENC_INTSET, intset_new(), -1);
    else if (!card_only)
        hole = reply_defer_len(c);

    unsigned long card = 0;
    struct set_iter it;
    struct set_elem e;
    set_iter_init(&it, sets[0]);
    while (set_iter_next(&it, &e)) {
        long j;
        for (j = 1; j < n; j++) {
            if (sets[j] == sets[0])
                continue;
            if (!set_has_elem(sets[j], &e))
                break;
        }
        if (j < n)
            continue;
        if (card_only) {
            card++;
            if (limit && card >= limit)
                break;
        } else if (!dst) {
            reply_elem(c, &e);
            card++;
        } else {
            set_add_elem(tmp, &e);
        }
    }
    set_iter_done(&it);
    rc_free(sets);

    if (card_only)
        reply_long(c, (long long)card);
    else if (dst)
        store_result(c, dst, tmp);
    else
        reply_set_set_len(c, hole, (long)card);
}

void cmd_sinter(struct client *c)
{
    sinter_generic(c, &c->argv[1], c->argc - 1, NULL, 0, 0);
}

void cmd_sinterstore(struct client *c)
{
    sinter_generic(c, &c->argv[2], c->argc - 2, &c->argv[1], 0, 0);
}

void cmd_sintercard(struct client *c)
{
    long numkeys, limit = 0;
    if (!rc_str2l(c->argv[1].p, c->argv[1].len, &numkeys) || numkeys < 1) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (long j = 2 + numkeys; j < c->argc; j++) {
        long more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "limit") && more > 0) {
            j++;
            if (!rc_str2l(c->argv[j].p, c->argv[j].len, &limit) || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    sinter_generic(c, &c->argv[2], numkeys, NULL, 1, (unsigned long)limit);
}

/* ---- SUNION SDIFF and their STORE forms ---- */

enum { SET_OP_UNION, SET_OP_DIFF };

static void sunion_diff_generic(struct client *c, const struct slice *keys, long n,
                                const struct slice *dst, int op)
{
    struct kv **sets = rc_malloc((size_t)n * sizeof(*sets));
    if (lookup_sources(c, keys, n, sets) < 0) {
        rc_free(sets);
        return;
    }
    int sameset = 0;
    for (long j = 1; j < n; j++)
        if (sets[j] != NULL && sets[j] == sets[0])
            sameset = 1;

    /*
     * Pick the DIFF algorithm as Redis does (the choice shows in the
     * encoding of an SDIFFSTORE result):
     *   1. test each member of the first set against the others:
     *      O(size(first) * number of sets);
     *   2. copy the first set, then remove every member of the others:
     *      O(sum of sizes).
     * Algorithm 1 gets a 2x handicap: it stops early on common members.
     */
    int algo = 1;
    if (op == SET_OP_DIFF && sets[0] && !sameset) {
        unsigned long long work1 = 0, work2 = 0;
        for (long j = 0; j < n; j++) {
            if (sets[j] == NULL)
                continue;
            work1 += set_size(sets[0]);
            work2 += set_size(sets[j]);
        }
        work1 /= 2;
        algo = work1 <= work2 ? 1 : 2;
        if (algo == 1 && n > 1)
            qsort(sets + 1, (size_t)(n - 1), sizeof(*sets), cmp_size_desc);
    }

    struct kv *tmp = dst
        ? kv_new_ptr(dst->p, dst->len, OBJ_SET, ENC_INTSET, intset_new(), -1)
        : kv_new_ptr("", 0, OBJ_SET, ENC_INTSET, intset_new(), -1);
    struct set_iter it;
    struct set_elem e;

    if (op == SET_OP_UNION) {
        for (long j = 0; j < n; j++) {
            if (sets[j] == NULL)
                continue;
            set_iter_init(&it, sets[j]);
            while (set_iter_next(&it, &e))
                set_add_elem(tmp, &e);
            set_iter_done(&it);
        }
    } else if (sameset || sets[0] == NULL) {
        /* The first set minus itself, or nothing to start from: empty. */
    } else if (algo == 1) {
        set_iter_init(&it, sets[0]);
        while (set_iter_next(&it, &e)) {
            long j;
            for (j = 1; j < n; j++) {
                if (sets[j] == NULL)
                    continue;
                if (set_has_elem(sets[j], &e))
                    break;
            }
            if (j == n)
                set_add_elem(tmp, &e);
        }
        set_iter_done(&it);
    } else {
        for (long j = 0; j < n; j++) {
            if (sets[j] == NULL)
                continue;
            set_iter_init(&it, sets[j]);
            while (set_iter_next(&it, &e)) {
                if (j == 0)
                    set_add_elem(tmp, &e);
                else
                    set_remove_elem(tmp, &e);
            }
            set_iter_done(&it);
            if (set_size(tmp) == 0)
                break;
        }
    }
    rc_free(sets);

    if (dst) {
        store_result(c, dst, tmp);
    } else {
        reply_whole_set(c, tmp);
        bio_free_kv(tmp, server.lazyfree_lazy_server_del);
    }
}

void cmd_sunion(struct client *c)
{
    sunion_diff_generic(c, &c->argv[1], c->argc - 1, NULL, SET_OP_UNION);
}

void cmd_sunionstore(struct client *c)
{
    sunion_diff_generic(c, &c->argv[2], c->argc - 2, &c->argv[1], SET_OP_UNION);
}

void cmd_sdiff(struct client *c)
{
    sunion_diff_generic(c, &c->argv[1], c->argc - 1, NULL, SET_OP_DIFF);
}

void cmd_sdiffstore(struct client *c)
{
    sunion_diff_generic(c, &c->argv[2], c->argc - 2, &c->argv[1], SET_OP_DIFF);
}

/* ---- SSCAN ---- */

struct scan_acc {
    struct dnode **items;
    size_t len, cap;
};

static void scan_collect(void *priv, struct dnode *n)
{
    struct scan_acc *a = priv;
    if (a->len == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        a->items = rc_realloc(a->items, cap * sizeof(*a->items));
        a->cap = cap;
    }
    a->items[a->len++] = n;
}

void cmd_sscan(struct client *c)
{
    unsigned long long cursor;   /* unsigned long: the same width here */
    if (scan_parse_cursor(c, &c->argv[2], &cursor) != 0)
        return;
    int wrong;
    struct kv *o = lookup_read(c, &c->argv[1], &wrong);
    if (wrong) {
        reply_err_wrongtype(c);
        return;
    }
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_array_len(c, 0);
        return;
    }

    long count = 10;
    const struct slice *pat = NULL;
    for (int i = 3; i < c->argc;) {
        int more = c->argc - i;
        if (arg_is(&c->argv[i], "count") && more >= 2) {
            if (!rc_str2l(c->argv[i + 1].p, c->argv[i + 1].len, &count)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                reply_err_syntax(c);
                return;
            }
            i += 2;
        } else if (arg_is(&c->argv[i], "match") && more >= 2) {
            pat = &c->argv[i + 1];
            if (pat->len == 1 && pat->p[0] == '*')
                pat = NULL;
            i += 2;
        } else {
            reply_err_syntax(c);
            return;
        }
    }

    if (o->enc == ENC_INTSET) {
        /* Small: everything in one call, cursor 0.  Two passes (count,
         * then reply) instead of a buffer of matches. */
        struct intset *is = o->v.ptr;
        uint32_t len = intset_len(is), matched = 0;
        char buf[RC_LONG_STR_SIZE];
        int64_t v;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                reply_array_len(c, 2);
                reply_bulk(c, "0", 1);
                reply_array_len(c, matched);
            }
            for (uint32_t i = 0; i < len; i++) {
                intset_get(is, i, &v);
                size_t n = rc_ll2str(buf, sizeof(buf), v);
                if (pat && !rc_glob_match(pat->p, pat->len, buf, n, 0))
                    continue;
                if (pass == 0)
                    matched++;
                else
                    reply_bulk(c, buf, n);
            }
        }
        return;
    }

    /* Visit buckets until about `count` members were collected, at most
     * count*10 steps so that a sparse table cannot make one call slow. */
    struct scan_acc acc = {NULL, 0, 0};
    long maxiter = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = dict_scan(o->v.ptr, cursor, scan_collect, &acc);
    } while (cursor != 0 && maxiter-- > 0 && acc.len < (size_t)count);

    size_t kept = 0;
    for (size_t i = 0; i < acc.len; i++) {
        const char *p;
        size_t len;
        member_key(acc.items[i], &p, &len);
        if (pat && !rc_glob_match(pat->p, pat->len, p, len, 0))
            continue;
        acc.items[kept++] = acc.items[i];
    }
    char cbuf[RC_LONG_STR_SIZE];
    reply_array_len(c, 2);
    reply_bulk(c, cbuf, rc_ull2str(cbuf, sizeof(cbuf), cursor));
    reply_array_len(c, (long)kept);
    for (size_t i = 0; i < kept; i++) {
        const char *p;
        size_t len;
        member_key(acc.items[i], &p, &len);
        reply_bulk(c, p, len);
    }
    rc_free(acc.items);
}
