/*
 * object.c — keyspace entries (struct kv) and string value encodings.
 * See object.h for the memory layout.
 */
#include "object.h"

#include <stdio.h>

#include "mem.h"
#include "util.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "stream.h"

#define KV_HDR offsetof(struct kv, data)

static struct kv *kv_alloc(const char *key, size_t klen, long long expire, size_t extra)
{
    size_t exp = expire >= 0 ? 8 : 0;
    struct kv *o = rc_malloc(KV_HDR + exp + klen + 1 + extra);
    o->node.next = NULL;
    o->lru = 0;
    o->flags = exp ? KV_EXPIRE : 0;
    o->unused = 0;
    o->klen = (uint32_t)klen;
    if (exp)
        memcpy(o->data, &expire, 8);
    char *k = o->data + exp;
    memcpy(k, key, klen);
    k[klen] = '\0';
    return o;
}

int str_is_int_encodable(const char *s, size_t len, long long *out)
{
    return len > 0 && len <= 20 && rc_str2ll(s, len, out);
}

struct kv *kv_new_int(const char *key, size_t klen, long long v, long long expire)
{
    struct kv *o = kv_alloc(key, klen, expire, 0);
    o->type = OBJ_STRING;
    o->enc = ENC_INT;
    o->v.i = v;
    return o;
}

struct rstr *rstr_new(const char *p, size_t len, size_t cap)
{
    if (cap < len)
        cap = len;
    struct rstr *r = rc_malloc(sizeof(*r) + cap + 1);
    r->cap = rc_usable(r) - sizeof(*r) - 1;
    r->len = len;
    if (len)
        memcpy(r->buf, p, len);
    r->buf[len] = '\0';
    return r;
}

struct rstr *rstr_grow(struct rstr *r, size_t need)
{
    if (need <= r->cap)
        return r;
    /* Grow geometrically below 1 MB, linearly above, as sds does. */
    size_t cap = need < (1 << 20) ? need * 2 : need + (1 << 20);
    r = rc_realloc(r, sizeof(*r) + cap + 1);
    r->cap = rc_usable(r) - sizeof(*r) - 1;
    return r;
}

struct kv *kv_new_raw(const char *key, size_t klen, struct rstr *r, long long expire)
{
    struct kv *o = kv_alloc(key, klen, expire, 0);
    o->type = OBJ_STRING;
    o->enc = ENC_RAW;
    o->v.ptr = r;
    return o;
}

struct kv *kv_new_string(const char *key, size_t klen, const char *val, size_t vlen,
                         long long expire)
{
    long long iv;
    if (str_is_int_encodable(val, vlen, &iv))
        return kv_new_int(key, klen, iv, expire);
    return kv_new_bytes(key, klen, val, vlen, expire);
}

struct kv *kv_new_bytes(const char *key, size_t klen, const char *val, size_t vlen,
                        long long expire)
{
    if (vlen > EMBSTR_MAX)
        return kv_new_raw(key, klen, rstr_new(val, vlen, vlen), expire);
    struct kv *o = kv_alloc(key, klen, expire, vlen + 1);
    o->type = OBJ_STRING;
    o->enc = ENC_EMBSTR;
    o->v.i = (long long)vlen;
    char *dst = (char *)kv_key(o) + klen + 1;
    memcpy(dst, val, vlen);
    dst[vlen] = '\0';
    return o;
}

struct kv *kv_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr,
                      long long expire)
{
    struct kv *o = kv_alloc(key, klen, expire, 0);
    o->type = (uint8_t)type;
    o->enc = (uint8_t)enc;
    o->v.ptr = ptr;
    return o;
}

static size_t kv_embedded_len(const struct kv *o)
{
    return o->enc == ENC_EMBSTR ? (size_t)o->v.i + 1 : 0;
}

struct kv *kv_with_expire(struct kv *o, long long expire)
{
    int had = (o->flags & KV_EXPIRE) != 0;
    int has = expire >= 0;
    if (had && has) {
        memcpy(o->data, &expire, 8);
        return o;
    }
    if (!had && !has)
        return o;
    size_t tail = o->klen + 1 + kv_embedded_len(o);
    struct kv *n = rc_malloc(KV_HDR + (has ? 8 : 0) + tail);
    memcpy(n, o, KV_HDR);
    n->node.next = NULL;
    n->flags = (uint8_t)(has ? (o->flags | KV_EXPIRE) : (o->flags & ~KV_EXPIRE));
    if (has)
        memcpy(n->data, &expire, 8);
    memcpy((char *)kv_key(n), kv_key(o), tail);
    rc_free(o);
    return n;
}

/* Each aggregate type adds its case to the three switches below
 * (free, dup, memory), calling into its own t_*.c. */
void kv_free_value(int type, int enc, void *ptr)
{
    switch (type) {
    case OBJ_STRING:
        if (enc == ENC_RAW)
            rc_free(ptr);
        break;
    case OBJ_HASH:
        hash_free_value(enc, ptr);
        break;
    case OBJ_LIST:
        list_free_value(enc, ptr);
        break;
    case OBJ_SET:
        set_free_value(enc, ptr);
        break;
    case OBJ_ZSET:
        zset_free_value(enc, ptr);
        break;
    case OBJ_STREAM: {
        struct stream *s = ptr;
        stream_destroy(&s);
        break;
    }
    default:
        break;
    }
}

void kv_free(struct kv *o)
{
    if (o == NULL)
        return;
    if (o->enc != ENC_INT && o->enc != ENC_EMBSTR)
        kv_free_value(o->type, o->enc, o->v.ptr);
    rc_free(o);
}

struct strview kv_strview(const struct kv *o, char scratch[32])
{
    struct strview sv;
    switch (o->enc) {
    case ENC_INT:
        sv.len = rc_ll2str(scratch, 32, o->v.i);
        sv.p = scratch;
        break;
    case ENC_EMBSTR:
        sv.p = kv_key(o) + o->klen + 1;
        sv.len = (size_t)o->v.i;
        break;
    default: {
        const struct rstr *r = o->v.ptr;
        sv.p = r->buf;
        sv.len = r->len;
        break;
    }
    }
    return sv;
}

size_t kv_strlen(const struct kv *o)
{
    char tmp[32];
    if (o->enc == ENC_INT)
        return rc_ll2str(tmp, sizeof(tmp), o->v.i);
    return kv_strview(o, tmp).len;
}

struct rstr *kv_make_raw(struct kv *o, size_t need)
{
    if (o->enc != ENC_RAW) {
        char tmp[32];
        struct strview sv = kv_strview(o, tmp);
        struct rstr *r = rstr_new(sv.p, sv.len, need);
        o->enc = ENC_RAW;
        o->v.ptr = r;
        /* An embstr's bytes stay behind in the entry's allocation, unused,
         * until the entry is next reallocated; Redis likewise keeps the old
         * embstr object until it is replaced. */
    }
    struct rstr *r = rstr_grow(o->v.ptr, need);
    o->v.ptr = r;
    return r;
}

struct kv *kv_dup(const struct kv *o, const char *key, size_t klen, long long expire)
{
    char tmp[32];
    struct kv *n;
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_INT)
            return kv_new_int(key, klen, o->v.i, expire);
        {
            struct strview sv = kv_strview(o, tmp);
            if (o->enc == ENC_EMBSTR) {
                n = kv_new_string(key, klen, sv.p, sv.len, expire);
            } else {
                n = kv_new_raw(key, klen, rstr_new(sv.p, sv.len, sv.len), expire);
            }
        }
        break;
    case OBJ_HASH:
        n = kv_new_ptr(key, klen, OBJ_HASH, o->enc, hash_dup_value(o->enc, o->v.ptr), expire);
        break;
    case OBJ_LIST:
        n = kv_new_ptr(key, klen, OBJ_LIST, o->enc, list_dup_value(o->enc, o->v.ptr), expire);
        break;
    case OBJ_SET:
        n = kv_new_ptr(key, klen, OBJ_SET, o->enc, set_dup_value(o->enc, o->v.ptr), expire);
        break;
    case OBJ_ZSET:
        n = kv_new_ptr(key, klen, OBJ_ZSET, o->enc, zset_dup_value(o->enc, o->v.ptr), expire);
        break;
    case OBJ_STREAM:
        n = kv_new_ptr(key, klen, OBJ_STREAM, o->enc, stream_dup(o->v.ptr), expire);
        break;
    default:
        n = NULL;
        break;
    }
    if (n)
        n->lru = o->lru;
    return n;
}

size_t kv_mem(const struct kv *o)
{
    size_t n = rc_usable((void *)o);
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_RAW)
            n += rc_usable(o->v.ptr);
        break;
    case OBJ_HASH:
        n += hash_mem(o->enc, o->v.ptr);
        break;
    case OBJ_LIST:
        n += list_mem(o->enc, o->v.ptr);
        break;
    case OBJ_SET:
        n += set_mem_usage(o->enc, o->v.ptr);
        break;
    case OBJ_ZSET:
        n += zset_mem(o->enc, o->v.ptr);
        break;
    case OBJ_STREAM:
        n += stream_mem(o->v.ptr);
        break;
    default:
        break;
    }
    return n;
}

const char *obj_type_name(int type)
{
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

const char *obj_encoding_name(int enc)
{
    switch (enc) {
    case ENC_RAW: return "raw";
    case ENC_INT: return "int";
    case ENC_HT: return "hashtable";
    case ENC_EMBSTR: return "embstr";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return "skiplist";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_LISTPACK: return "listpack";
    case ENC_STREAM: return "stream";
    default: return "unknown";
    }
}
