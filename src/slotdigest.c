/*
 * slotdigest.c — one slot's digest (slotdigest.h).
 */
#include "slotdigest.h"

#include "crc64.h"
#include "object.h"
#include "rdbobj.h"
#include "server.h"

#define DUMP_FOOTER 10   /* RDB version (2 bytes) and CRC64 (8) */

struct digest_ctx {
    uint64_t digest;
    long long keys;
    int db;
};

static void digest_one(void *priv, struct kv *o)
{
    struct digest_ctx *d = priv;
    struct rdb_out out;
    rdb_out_init(&out);
    rdb_dump_payload(&out, o);
    long long when = kv_expire(o);
    uint64_t h = crc64(0, &d->db, sizeof(d->db));
    h = crc64(h, kv_key(o), o->klen);
    /* Not the DUMP footer: a CRC over data followed by that data's own
     * CRC64 is the same for every content of that length. */
    h = crc64(h, out.p, out.len > DUMP_FOOTER ? out.len - DUMP_FOOTER : out.len);
    h = crc64(h, &when, sizeof(when));
    rdb_out_free(&out);
    d->digest ^= h;     /* order-free: the table order differs between nodes */
    d->keys++;
}

uint64_t slot_digest(unsigned slot, long long *keys)
{
    struct digest_ctx d = {0, 0, 0};
    for (int db = 0; db < server.dbnum; db++) {
        d.db = db;
        db_scan_slot(&server.dbs[db], slot, 0, digest_one, &d);
    }
    *keys = d.keys;
    return d.digest;
}
