/*
 * rdbstream.h — streams in Redis 7.0's RDB encoding (STREAM_LISTPACKS_2,
 * type 19; type 15 is read too).  Layout of a value after its type byte:
 *
 *   len   nodes; per node: string (16-byte big-endian master id),
 *         string (the node's listpack, stream.h's layout)
 *   len   length; len last_id.ms; len last_id.seq
 *   [19]  len first_id.ms, .seq; len max_deleted.ms, .seq; len entries_added
 *   len   groups; per group: string name; len last_id.ms, .seq;
 *         [19] len entries_read (-1 as a 64-bit length);
 *         len pel size; per nack: 16 raw bytes id, 8-byte LE delivery ms,
 *             len delivery count;
 *         len consumers; per consumer: string name, 8-byte LE seen ms,
 *             len pel size, per entry 16 raw bytes id (a nack of the group)
 *
 * Decoding validates everything before the stream is used (Redis's deep
 * sanitization): listpack integrity, the entry layout of every node, ids
 * increasing across nodes, the length, last id not below the last entry,
 * unique groups/consumers/ids, every consumer PEL id in the group PEL and
 * every group nack owned by exactly one consumer.
 */
#ifndef RC_RDBSTREAM_H
#define RC_RDBSTREAM_H

#include "rdb.h"

struct stream;

/* One of our listpacks as an RDB string in Redis's listpack format (also
 * the hash and sorted-set listpack encodings, rdbobj.c). */
void rdb_out_listpack(struct rdb_out *out, const unsigned char *lp);

/* Nonzero for the stream value types we read. */
int rdb_is_stream_type(int type);

/* Appends type byte + value. */
void rdb_put_stream(struct rdb_out *out, const struct stream *s);

/* Decodes a stream value of type (15 or 19); NULL if malformed. */
struct stream *rdb_get_stream(struct rdb_in *in, int type);

#endif
