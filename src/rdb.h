/*
 * rdb.h — Redis's RDB serialization format (version 10, as redis-server
 * 7.0 writes it), at the byte level: the building blocks of RDB files and
 * of DUMP/RESTORE payloads.
 *
 * This is a leaf library: it knows nothing of the keyspace.  It provides
 *   - an output buffer with the RDB primitives (lengths, strings with the
 *     integer and LZF encodings chosen as Redis chooses them, binary
 *     doubles) and a builder of listpacks in Redis's own byte format
 *     (which differs from this project's listpack.c);
 *   - a bounds-checked reader of the same primitives;
 *   - a decoder of one serialized value of any type Redis 7.0 can load
 *     except modules and streams — string, the plain list/set/zset/hash
 *     forms, intset, ziplist and listpack forms, quicklists of ziplists or
 *     listpacks, and the zipmap of very old hashes — that hands the value's
 *     elements to callbacks (struct rdb_sink), so that the caller builds
 *     whatever in-memory encoding it wants.
 * Every decoder treats its input as hostile: a malformed value is reported
 * as an error, never read outside the buffer.
 */
#ifndef RC_RDB_H
#define RC_RDB_H

#include <stddef.h>
#include <stdint.h>

#define RDB_VERSION 10

/* Value types (the byte before a key). */
enum rdb_type {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
};

/* Opcodes of RDB files. */
enum rdb_opcode {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

/* Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2). */
#define RDB_QL_PLAIN 1
#define RDB_QL_PACKED 2

/* ---- writing ---- */

/* A growable output buffer.  Zero-initialise it (or rdb_out_init); the
 * bytes are p[0..len); free with rdb_out_free().  Allocation failure
 * aborts (mem.h), so the writers cannot fail. */
struct rdb_out {
    unsigned char *p;
    size_t len;
    size_t cap;
};

void rdb_out_init(struct rdb_out *o);
void rdb_out_free(struct rdb_out *o);
void rdb_out_bytes(struct rdb_out *o, const void *p, size_t len);
void rdb_out_byte(struct rdb_out *o, unsigned char b);
/* A length in RDB's 6/14/32/64-bit length encoding. */
void rdb_out_len(struct rdb_out *o, uint64_t len);
/*
 * A string, encoded as Redis's rdbSaveRawString does: as an 8/16/32-bit
 * integer when it is a canonical decimal integer of at most 11 characters
 * that fits in 32 bits; else LZF-compressed when it is longer than 20
 * bytes and compression saves at least 4 bytes (compress != 0 enables
 * it, as rdbcompression); else length-prefixed bytes.
 */
void rdb_out_string(struct rdb_out *o, const void *p, size_t len, int compress);
/* An integer string value, as rdbSaveLongLongAsStringObject. */
void rdb_out_ll_string(struct rdb_out *o, long long v);
/* A double in binary form (8 bytes, little endian), as ZSET_2 scores. */
void rdb_out_double(struct rdb_out *o, double d);
/* A little-endian 64-bit integer (EXPIRETIME_MS, the final checksum). */
void rdb_out_u64le(struct rdb_out *o, uint64_t v);

/*
 * Builder of a listpack in Redis's byte format: 32-bit total size and
 * 16-bit count (65535 when the count does not fit), entries of encoding,
 * data and back-length, and a 0xFF terminator.  Strings that are
 * canonical integers are stored as integers, as Redis's lpAppend does.
 */
struct rlp_builder {
    struct rdb_out out;
    uint64_t count;
};

void rlp_init(struct rlp_builder *b);
void rlp_add(struct rlp_builder *b, const void *p, size_t len);
void rlp_add_int(struct rlp_builder *b, long long v);
/* Completes the header; the listpack is b->out.p[0..b->out.len).  Free
 * with rlp_free() afterwards. */
void rlp_finish(struct rlp_builder *b);
void rlp_free(struct rlp_builder *b);

/* Bytes an entry takes in a Redis listpack (encoding and back-length):
 * a string (stored as an integer when canonical) or an integer. */
size_t rlp_entry_size(const void *p, size_t len);
size_t rlp_entry_size_int(long long v);

/* ---- reading ---- */

/* A cursor over untrusted bytes p[0..len). */
struct rdb_in {
    const unsigned char *p;
    size_t len;
    size_t pos;
};

/* A string read from the input: p[0..len) either points into the input,
 * into ibuf (integer encodings) or into owned (LZF); rdb_str_free()
 * releases the latter. */
struct rdb_str {
    const unsigned char *p;
    size_t len;
    unsigned char *owned;
    char ibuf[24];
};

/* Each returns 0 on success, -1 on truncated or malformed input. */
int rdb_in_byte(struct rdb_in *in, unsigned char *b);
int rdb_in_bytes(struct rdb_in *in, const unsigned char **p, size_t n);
/* A length; *encoded is set (if not NULL) when the first byte announces a
 * special string encoding, and *len then holds its number (0-3). */
int rdb_in_len(struct rdb_in *in, uint64_t *len, int *encoded);
int rdb_in_string(struct rdb_in *in, struct rdb_str *s);
void rdb_str_free(struct rdb_str *s);
int rdb_in_double(struct rdb_in *in, double *d);
int rdb_in_u64le(struct rdb_in *in, uint64_t *v);

/* ---- value decoding ---- */

enum rdb_kind { RDB_KIND_STRING, RDB_KIND_LIST, RDB_KIND_SET, RDB_KIND_ZSET, RDB_KIND_HASH };

/*
 * Receives a decoded value.  begin() comes first, with the kind and the
 * number of elements announced (a hint: for lists made of several nodes it
 * is the number of nodes, never trusted for allocation).  Then, per kind:
 *   STRING  one elem() with the bytes;
 *   LIST    elem() per element, head to tail;
 *   SET     elem() per member — or a single intset() with the raw
 *           validated intset blob (Redis's format, which is also
 *           intset.h's) when the value is RDB_TYPE_SET_INTSET and the
 *           callback is not NULL;
 *   ZSET    zelem() per member with its score (never NaN);
 *   HASH    pair() per field.
 * Integers stored in compact encodings arrive as their decimal text.  The
 * byte pointers are valid during the call only.  Any callback may return
 * -1 to stop decoding with an error (for instance on a duplicate member).
 */
struct rdb_sink {
    void *arg;
    int (*begin)(void *arg, enum rdb_kind kind, uint64_t hint);
    int (*elem)(void *arg, const unsigned char *p, size_t len);
    int (*zelem)(void *arg, const unsigned char *p, size_t len, double score);
    int (*pair)(void *arg, const unsigned char *f, size_t flen, const unsigned char *v,
                size_t vlen);
    int (*intset)(void *arg, const unsigned char *blob, size_t len);
};

/* Nonzero for the value types rdb_decode_value() understands. */
int rdb_type_supported(int type);

/*
 * Decodes one value of the given type from in (positioned after the type
 * byte) into the sink.  Aggregates with no element are an error, as in
 * Redis.  Returns 0 on success (in is positioned after the value), -1 on
 * malformed input, an unsupported type or a sink error.
 */
int rdb_decode_value(struct rdb_in *in, int type, const struct rdb_sink *sink);

/* Validators of the embedded blobs (exposed for tests). */
int rdb_listpack_valid(const unsigned char *p, size_t len);
/* Walks a Redis listpack, validating it fully, calling fn (may be NULL)
 * for every element (integers as decimal text).  Returns the number of
 * elements, or -1 if malformed or fn returned < 0. */
long long rdb_listpack_walk(const unsigned char *p, size_t len,
                           int (*fn)(void *arg, const unsigned char *p, size_t len), void *arg);
int rdb_ziplist_valid(const unsigned char *p, size_t len);
int rdb_intset_valid(const unsigned char *p, size_t len);

#endif
