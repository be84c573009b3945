/*
 * aoffmt.h — the append-only log's on-disk formats, without any I/O or
 * server state: the checksum annotation line (CRC-64 of crc64.h), the Redis 7.0 manifest, and a scanner that checks a
 * log file's framing (RESP commands, '#' annotation lines) and tells a
 * torn tail from damage in the middle.
 *
 * A batch of records written together is followed by one annotation line
 *
 *     #RC crc64 <16 lower-case hex digits> len <decimal>\r\n
 *
 * where len is the batch's byte count and the CRC (CRC-64/Jones, as Redis
 * uses for RDB) covers exactly those bytes, which end where the line
 * starts.  Redis 7.0's loader and redis-check-aof skip lines starting
 * with '#'.
 */
#ifndef RC_AOFFMT_H
#define RC_AOFFMT_H

#include <stddef.h>
#include <stdint.h>

/* The first line of every log file this project creates: the whole file
 * is framed, so even a torn first batch is recognised as one. */
#define AOFFMT_HEADER "#RC ringcache-aof 1\r\n"
#define AOFFMT_HEADER_LEN (sizeof(AOFFMT_HEADER) - 1)

/* Longest annotation line aoffmt_annotation() writes, with its CRLF. */
#define AOFFMT_ANNOTATION_MAX 64

/* Write the annotation for a batch of len bytes with CRC crc into out
 * (AOFFMT_ANNOTATION_MAX bytes); returns its length. */
size_t aoffmt_annotation(char *out, uint64_t crc, size_t len);

/* Parse the annotation line line[0..n) (without its line end).  Returns 0
 * and fills *crc, *len when it is one of ours, -1 otherwise. */
int aoffmt_parse_annotation(const char *line, size_t n, uint64_t *crc, size_t *len);

/* ---- manifest ---- */

enum aoffmt_type { AOFFMT_BASE = 'b', AOFFMT_HIST = 'h', AOFFMT_INCR = 'i' };

struct aoffmt_entry {
    char *name;             /* owned */
    long long seq;
    int type;               /* enum aoffmt_type */
};

struct aoffmt_manifest {
    struct aoffmt_entry *base;      /* owned; NULL when there is none */
    struct aoffmt_entry *incr;      /* owned array, in file order */
    size_t nincr;
    size_t incr_cap;
};

/* Parse manifest text.  Returns 0 on success, else -1 with a message in
 * err (errlen bytes) naming the line.  On success *m owns everything;
 * free with aoffmt_manifest_free(). */
int aoffmt_manifest_parse(const char *text, size_t len, struct aoffmt_manifest *m,
                          char *err, size_t errlen);

/* Add an entry (copies name).  Returns 0, or -1 when name cannot be
 * written in a manifest (empty, or with spaces, quotes or controls). */
int aoffmt_manifest_add(struct aoffmt_manifest *m, const char *name, long long seq, int type);

/* The manifest's text, rc_malloc'ed and NUL-terminated; *len its length. */
char *aoffmt_manifest_format(const struct aoffmt_manifest *m, size_t *len);

void aoffmt_manifest_free(struct aoffmt_manifest *m);

/* ---- log scanning ---- */

enum aoffmt_status {
    AOFFMT_OK,              /* every byte is a complete, verified record */
    AOFFMT_TRUNCATED,       /* a torn tail after valid_end */
    AOFFMT_CORRUPT,         /* damage at bad_offset, with more data after it */
};

struct aoffmt_scan {
    int status;             /* enum aoffmt_status */
    size_t valid_end;       /* bytes to keep and replay */
    size_t bad_offset;      /* CORRUPT: start of the batch holding the damage
                             * (of the bad command in unframed files) */
    const char *why;        /* static text for TRUNCATED and CORRUPT */
    int framed;             /* the file carries our checksum annotations */
    size_t commands;        /* complete commands before valid_end */
};

/* Check the framing of a log file's bytes. */
void aoffmt_scan(const char *buf, size_t len, struct aoffmt_scan *out);

/* Parse one command at buf[*pos..len): fills argv pointers/lengths (at
 * most maxargs) and advances *pos past it.  Returns 1 for a command, 0
 * for an annotation line (skipped), -1 when incomplete, -2 when malformed
 * (*pos unchanged for both), -3 for a complete command with more than
 * maxargs arguments: *argc says how many, *pos is advanced but argv is
 * not filled (parse it again from the old *pos with room enough). */
int aoffmt_next(const char *buf, size_t len, size_t *pos, const char **argv, size_t *lens,
                size_t maxargs, size_t *argc);

#endif
