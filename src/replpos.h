/*
 * replpos.h — where this node's copy of each sender's replication stream
 * ends (the sender's replication id and the end offset of the last
 * message applied from it), kept across restarts so that a restarted
 * replica can resume a primary's stream from the backlog (a partial
 * resync) instead of being caught up by digests and dumps.
 *
 * The positions are logged with the data they describe: in the
 * append-only log as an annotation line after a message's records, in
 * the same batch (so a torn tail takes both or neither), and in
 * snapshots as AUX fields of the fork's memory.  Both forms carry one
 * line "<sender id> <replid> <end>"; Redis skips either (annotations and
 * unknown AUX fields), so the files stay Redis 7.0's.
 */
#ifndef RC_REPLPOS_H
#define RC_REPLPOS_H

#include <stddef.h>
#include <stdint.h>

/* The annotation's prefix in the log and the AUX field's key. */
#define REPLPOS_AOF_PREFIX "#RP "
#define REPLPOS_AUX_KEY "rc-repl-pos"

/* Longest line: two 40-hex ids, an offset, separators. */
#define REPLPOS_LINE_MAX 128

/* This node applied sender id's stream (replication id replid, both 40
 * characters) up to end. */
void replpos_set(const char *id, const char *replid, uint64_t end);

/* Where the copy of sender id's stream ends: 1 and *replid (40
 * characters) and *end, or 0 if unknown. */
int replpos_get(const char *id, const char **replid, uint64_t *end);

/* One position as a line "<id> <replid> <end>" (no newline) in out
 * (REPLPOS_LINE_MAX bytes); returns its length. */
size_t replpos_line(char *out, const char *id, const char *replid, uint64_t end);

/* The known positions, one line each ("<id> <replid> <end>", no newline)
 * written to out (REPLPOS_LINE_MAX bytes); returns its length, 0 past the
 * last (i counts from 0). */
size_t replpos_format(int i, char *out);

/* Parse one such line (from a log annotation after its prefix, or an AUX
 * value) and remember it; where names the file in the log line written
 * for a malformed one.  Returns 0, or -1 (logged, ignored). */
int replpos_load(const char *p, size_t n, const char *where);

/* Forget every position (a wiped data set). */
void replpos_reset(void);

#endif
