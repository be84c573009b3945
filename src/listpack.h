/*
 * listpack.h — a compact, serialized sequence of strings and integers kept
 * in one allocation (the small encoding of hashes, sorted sets and the
 * nodes of lists).  The byte format is specified at the top of listpack.c.
 *
 * A listpack is handled through an `unsigned char *` that owns the whole
 * buffer.  Every function that may change its size returns the (possibly
 * moved) new pointer; the caller must store it and forget the old one.
 *
 * Positions are byte offsets from the start of the buffer, not pointers,
 * so that a position taken before a modification that reallocates is
 * still meaningful to the caller who knows what it changed.  The first
 * entry is never at offset 0 (the header is there), so LP_NONE (0) means
 * "no entry": past the end, before the start, not found, out of range.
 *
 * Strings that are canonical decimal integers (rc_str2ll accepts them) are
 * stored as integers and read back as integers; the text form is always
 * recoverable exactly (lp_get_str), so callers may treat every entry as a
 * string.  Nothing here knows about hashes or scores: callers give entries
 * their meaning (field, value, field, value, ...).
 *
 * Size limit: a listpack never exceeds LP_MAX_BYTES.  Callers keep far
 * below it with lp_safe_to_add(); an insertion that would cross it is a
 * programming error and aborts the process.
 */
#ifndef RC_LISTPACK_H
#define RC_LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_NONE 0

/* Bytes of the header (total bytes + entry count). */
#define LP_HEADER_SIZE 8

/* Hard limit of a listpack's total size. */
#define LP_MAX_BYTES UINT32_MAX

/* Size beyond which callers should choose another encoding (lp_safe_to_add),
 * as Redis keeps its listpacks under 1 GB. */
#define LP_SAFETY_SIZE (1UL << 30)

/* A buffer this big holds any integer entry as text (sign, 19 digits, NUL). */
#define LP_INTBUF_SIZE 21

/* One entry, as returned by lp_get(): either a string (sval != NULL, slen
 * bytes, pointing into the listpack: valid until the next modification) or
 * an integer (sval == NULL, value in lval). */
struct lp_entry {
    const unsigned char *sval;
    size_t slen;
    long long lval;
};

enum lp_where { LP_BEFORE = 0, LP_AFTER = 1 };

/* ---- creation and size ---- */

/* A new empty listpack with room reserved for about `capacity` bytes of
 * entries (0 is fine).  The caller owns it and frees it with lp_free(). */
unsigned char *lp_new(size_t capacity);

/* Frees a listpack (NULL is allowed). */
void lp_free(unsigned char *lp);

/* A copy of lp, owned by the caller. */
unsigned char *lp_dup(const unsigned char *lp);

/* Release unused capacity (after a big deletion); returns the new pointer. */
unsigned char *lp_shrink_to_fit(unsigned char *lp);

/* Number of entries. */
size_t lp_count(const unsigned char *lp);

/* Bytes of the serialized listpack (header and entries). */
size_t lp_bytes(const unsigned char *lp);

/* Nonzero when `add` more bytes of payload keep lp under LP_SAFETY_SIZE. */
int lp_safe_to_add(const unsigned char *lp, size_t add);

/* ---- walking ---- */

/* Offset of the first / last entry, LP_NONE if empty. */
size_t lp_first(const unsigned char *lp);
size_t lp_last(const unsigned char *lp);

/* Offset of the entry after / before the one at off; LP_NONE at the ends.
 * off must be the offset of an entry. */
size_t lp_next(const unsigned char *lp, size_t off);
size_t lp_prev(const unsigned char *lp, size_t off);

/* Offset of the entry with this index (0 is the first, -1 the last, -2 the
 * one before, ...), LP_NONE when out of range.  Walks from whichever end
 * is nearer. */
size_t lp_seek(const unsigned char *lp, long long index);

/* ---- reading ---- */

/* Decodes the entry at off into *e. */
void lp_get(const unsigned char *lp, size_t off, struct lp_entry *e);

/* The entry at off as text: returns a pointer to its bytes and sets *len.
 * A string entry points into the listpack; an integer is formatted into
 * buf and buf is returned. */
const char *lp_get_str(const unsigned char *lp, size_t off, size_t *len,
                       char buf[LP_INTBUF_SIZE]);

/* Nonzero when the entry at off equals s[0..len) as text. */
int lp_equal(const unsigned char *lp, size_t off, const char *s, size_t len);

/*
 * Searches for s[0..len) from the entry at off (included).  After each
 * compared entry, `skip` entries are passed over without being compared, so
 * that a hash (field, value, ...) searches fields only with skip = 1.
 * Returns the offset of the first match or LP_NONE.
 */
size_t lp_find(const unsigned char *lp, size_t off, const char *s, size_t len,
               unsigned skip);

/* ---- modifying (each returns the new listpack pointer) ---- */

/* Add an entry at the end / the start.  s is stored as an integer when it
 * is a canonical integer. */
unsigned char *lp_append(unsigned char *lp, const char *s, size_t len);
unsigned char *lp_prepend(unsigned char *lp, const char *s, size_t len);
unsigned char *lp_append_int(unsigned char *lp, long long v);
unsigned char *lp_prepend_int(unsigned char *lp, long long v);

/*
 * Insert a new entry before or after the entry at off.  off == LP_NONE
 * with LP_BEFORE appends at the end (inserting before "past the end"),
 * and with LP_AFTER prepends.  If newoff is not NULL, *newoff receives the
 * offset of the inserted entry.
 */
unsigned char *lp_insert(unsigned char *lp, size_t off, enum lp_where where,
                         const char *s, size_t len, size_t *newoff);
unsigned char *lp_insert_int(unsigned char *lp, size_t off, enum lp_where where,
                             long long v, size_t *newoff);

/* Replace the entry at off by a new value; the entry keeps its offset
 * (entries after it may move). */
unsigned char *lp_replace(unsigned char *lp, size_t off, const char *s, size_t len);
unsigned char *lp_replace_int(unsigned char *lp, size_t off, long long v);

/*
 * Delete up to n entries starting with the one at off (fewer if the end
 * comes first).  If nextoff is not NULL, *nextoff receives the offset of
 * the entry that followed the deleted ones (which now sits at off), or
 * LP_NONE if they were the last.
 */
unsigned char *lp_delete(unsigned char *lp, size_t off, size_t n, size_t *nextoff);

/* Delete up to n entries starting at index (negative from the tail, as
 * lp_seek).  Out-of-range index: nothing happens. */
unsigned char *lp_delete_range(unsigned char *lp, long long index, size_t n);

/* ---- validation ---- */

/*
 * Checks that buf[0..size) is a well-formed listpack: header consistent
 * with size and, when deep is nonzero, every entry decodes inside the
 * buffer, its back-length matches, the entry count matches, and the walk
 * backwards visits the same entries.  Never reads outside buf.  Returns 1
 * if valid, 0 if not.  A buffer that passes a deep check is safe for every
 * function in this header.
 */
int lp_validate(const unsigned char *buf, size_t size, int deep);

#endif
