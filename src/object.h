/*
 * object.h — keyspace entries and string values.
 *
 * A key and its value live in one allocation, a `struct kv`, which is also
 * the node of the slot's hash table (intrusive chaining: no separate entry
 * allocation, no separate key allocation).  Layout of one allocation:
 *
 *   struct kv header (28 bytes)
 *   [int64 expire, unix ms]      only if KV_EXPIRE is set
 *   key bytes, '\0'
 *   [value bytes, '\0']          only for ENC_EMBSTR
 *
 * String values come in three encodings, reported by OBJECT ENCODING as
 * Redis reports them:
 *   ENC_INT     value is a long long kept in v.i, no allocation ("int")
 *   ENC_EMBSTR  value bytes follow the key in the same allocation, v.i holds
 *               their length; used for values up to 44 bytes ("embstr")
 *   ENC_RAW     v.ptr points to a struct rstr, a growable byte buffer ("raw")
 * An embstr is never modified in place: APPEND, SETRANGE and SETBIT first
 * convert the value to raw, as Redis does.
 */
#ifndef RC_OBJECT_H
#define RC_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dict.h"

enum obj_type { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4, OBJ_STREAM = 6 };

/* Encoding numbers as Redis numbers them (OBJECT ENCODING names them). */
enum obj_encoding {
    ENC_RAW = 0,
    ENC_INT = 1,
    ENC_HT = 2,
    ENC_INTSET = 6,
    ENC_SKIPLIST = 7,
    ENC_EMBSTR = 8,
    ENC_QUICKLIST = 9,
    ENC_STREAM = 10,
    ENC_LISTPACK = 11,
};

#define EMBSTR_MAX 44

enum kv_flags { KV_EXPIRE = 1 };

struct kv {
    struct dnode node;
    union {
        void *ptr;
        long long i;
    } v;
    uint32_t lru;       /* LRU clock in seconds, or LFU: 16-bit minutes << 8 | counter */
    uint8_t type;
    uint8_t enc;
    uint8_t flags;
    uint8_t unused;
    uint32_t klen;
    char data[];
};

/* A growable byte buffer for raw string values. */
struct rstr {
    size_t len;
    size_t cap;
    char buf[];
};

/* Read-only view of a string value; for ENC_INT the digits are written to
 * the caller's scratch buffer (at least 21 bytes). */
struct strview {
    const char *p;
    size_t len;
};

static inline const char *kv_key(const struct kv *o)
{
    return o->data + ((o->flags & KV_EXPIRE) ? 8 : 0);
}

static inline long long kv_expire(const struct kv *o)
{
    long long when = -1;
    if (o->flags & KV_EXPIRE)
        memcpy(&when, o->data, 8);
    return when;
}

/* Create an entry holding a string value, choosing the encoding as Redis
 * does (int if the bytes are a canonical integer of at most 20 chars,
 * embstr up to 44 bytes, raw otherwise).  expire is unix ms or -1. */
struct kv *kv_new_string(const char *key, size_t klen, const char *val, size_t vlen,
                         long long expire);
/* Same, but never the int encoding (embstr or raw by length), as Redis
 * stores INCRBYFLOAT results. */
struct kv *kv_new_bytes(const char *key, size_t klen, const char *val, size_t vlen,
                        long long expire);
/* Create an entry with an integer value (ENC_INT). */
struct kv *kv_new_int(const char *key, size_t klen, long long v, long long expire);
/* Create an entry owning an already-built raw buffer. */
struct kv *kv_new_raw(const char *key, size_t klen, struct rstr *r, long long expire);
/* Create an entry for a non-string value (type/enc given, ptr owned). */
struct kv *kv_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr,
                      long long expire);

/* Copy of o with a different expire (-1 removes it).  o is freed; the
 * caller relinks the returned entry where o was. */
struct kv *kv_with_expire(struct kv *o, long long expire);

/* Copy of o under another key (value deep-copied).  o is untouched. */
struct kv *kv_dup(const struct kv *o, const char *key, size_t klen, long long expire);

/* Free the entry and its value. */
void kv_free(struct kv *o);

/* Detach the value from o (o is freed, the value is not) — used by lazy
 * free.  Returns the value pointer, or NULL when the value has no
 * allocation of its own. */
void kv_free_value(int type, int enc, void *ptr);

/* String value access. */
struct strview kv_strview(const struct kv *o, char scratch[32]);
size_t kv_strlen(const struct kv *o);

/* Make the string value of o raw and writable with room for at least
 * `need` bytes; returns the buffer.  The entry itself is not moved. */
struct rstr *kv_make_raw(struct kv *o, size_t need);

/* Bytes used by the entry and its value, for MEMORY USAGE-like accounting. */
size_t kv_mem(const struct kv *o);

/* rstr helpers. */
struct rstr *rstr_new(const char *p, size_t len, size_t cap);
struct rstr *rstr_grow(struct rstr *r, size_t need);

const char *obj_type_name(int type);
const char *obj_encoding_name(int enc);

/* Returns 1 and sets *out when s is a canonical integer that Redis would
 * store with the int encoding. */
int str_is_int_encodable(const char *s, size_t len, long long *out);

#endif
