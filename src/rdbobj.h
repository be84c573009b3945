/*
 * rdbobj.h — keyspace values in Redis's RDB format: serializing a struct
 * kv's value (DUMP, snapshots), building an entry from a serialized value
 * (RESTORE, loading), and whole-dataset RDB files (SAVE).  The byte-level
 * format is rdb.h's; this module maps it to the in-memory encodings.
 *
 * Encodings written, as redis-server 7.0 writes them: strings as strings
 * (integer and LZF encodings when they apply), lists as QUICKLIST_2 of
 * listpack nodes, sets as INTSET or SET, sorted sets as ZSET_LISTPACK or
 * ZSET_2, hashes as HASH_LISTPACK or HASH.  Everything rdb_decode_value()
 * accepts can be read back.
 */
#ifndef RC_RDBOBJ_H
#define RC_RDBOBJ_H

#include <stddef.h>

#include "rdb.h"

struct kv;

/* Appends the value of o as RDB type byte + value to out. */
void rdb_put_value(struct rdb_out *out, const struct kv *o);

/*
 * Decodes a value of RDB type `type` from in and returns a new entry
 * under key[0..klen) (no expire) owned by the caller, in the encoding
 * Redis would give it after loading.  Returns NULL when the input is
 * malformed, of an unsupported type or holds duplicate members.
 */
struct kv *rdb_get_value(struct rdb_in *in, int type, const char *key, size_t klen);

/*
 * A DUMP payload of o: value, 2-byte RDB version, 8-byte CRC64, all as
 * Redis 7.0 builds it.  The caller frees out (rdb_out_free).
 */
void rdb_dump_payload(struct rdb_out *out, const struct kv *o);

/*
 * Checks a DUMP payload's footer (length, version not newer than ours,
 * checksum).  Returns 0 if it is acceptable, -1 otherwise.
 */
int rdb_verify_payload(const unsigned char *p, size_t len);

/* rdb_save_file() flags. */
#define RDB_SAVE_AOF_BASE 1     /* the file is an AOF base: aux field aof-base=1 */

/*
 * Writes every database to an RDB file at path, atomically: the data goes
 * to a temporary file in the same directory which is fsynced and renamed
 * over path.  flags: RDB_SAVE_* bits.  In a snapshot child the save
 * reports its progress (childinfo.h) and honours rdb-key-save-delay, which
 * also slows a synchronous SAVE down, as in Redis.  Returns 0 on success,
 * -1 with a message in err otherwise.
 */
int rdb_save_file(const char *path, int flags, char *err, size_t errlen);
/* rdb_save_file() of the keys of the slots s with mask[s] nonzero only
 * (every slot when mask is NULL); the functions are always written. */
int rdb_save_file_slots(const char *path, int flags, const unsigned char *mask, char *err,
                        size_t errlen);

/*
 * Loads an RDB file into the (empty) databases.  Keys already expired
 * are skipped.  The checksum is verified when the file carries one.
 * Returns 0 on success, -1 with a message in err (naming the file and,
 * for malformed data, the byte offset); the databases may then hold part
 * of the file's keys.  Runs inside a start-up load (loading.h): reports
 * progress per key and stops, failing, when a shutdown is requested.
 */
int rdb_load_file(const char *path, char *err, size_t errlen);

/* Set while DEBUG RELOAD MERGE loads: a key already present is replaced
 * by the file's instead of failing the load. */
extern int rdb_load_merge;

/* Keys the last successful rdb_load_file() added, and keys it skipped as
 * already expired (INFO's rdb_last_load_keys_loaded / _expired). */
extern long long rdb_last_load_keys_loaded;
extern long long rdb_last_load_keys_expired;

#endif
