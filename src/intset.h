/*
 * intset.h — a sorted array of distinct 64-bit integers, all stored in one
 * width (2, 4 or 8 bytes per element) wide enough for every value ever
 * added.
 *
 * This is the compact encoding of small all-integer sets ("intset" in
 * OBJECT ENCODING).  The whole set is one allocation laid out exactly as
 * Redis lays out an intset in an RDB file, so a snapshot writer can emit
 * the bytes as they are and a loader can adopt them after
 * intset_validate():
 *
 *   uint32  width       bytes per element: 2, 4 or 8     (little endian)
 *   uint32  length      number of elements               (little endian)
 *   int16/32/64 [length] elements in strictly ascending order
 *                                                        (little endian)
 *
 * Lookups are binary searches, O(log n).  Adding or removing moves the
 * tail of the array and reallocates the block to its exact size, O(n), as
 * Redis does; sets leave this encoding long before n makes that matter.
 * Adding a value that needs a wider width rewrites every element once
 * ("upgrade"); the width never shrinks again.
 *
 * Functions that may reallocate take and return the set: always use the
 * returned pointer.  Allocation failure aborts (mem.h).
 */
#ifndef RC_INTSET_H
#define RC_INTSET_H

#include <stddef.h>
#include <stdint.h>

struct intset;

/* Bytes of the header before the elements. */
#define INTSET_HDR 8

/* Most elements an intset may hold; intset_add() on a full set is a caller
 * bug and aborts.  Callers convert to another encoding well before. */
#define INTSET_MAX_LEN (UINT32_MAX - 1)

/* A new empty set (2-byte width).  The caller owns it (intset_destroy). */
struct intset *intset_new(void);

/* Frees *is and sets it to NULL; does nothing when *is is NULL. */
void intset_destroy(struct intset **is);

/* A copy of is; the caller owns it. */
struct intset *intset_dup(const struct intset *is);

/* Adds v.  Sets *added (if not NULL) to 1 when v was new, 0 when it was
 * already present (the set is then returned unchanged).  Returns the
 * possibly moved set. */
struct intset *intset_add(struct intset *is, int64_t v, int *added);

/* Removes v.  Sets *removed (if not NULL) to 1 when v was present, else 0.
 * Returns the possibly moved set. */
struct intset *intset_remove(struct intset *is, int64_t v, int *removed);

/* 1 if v is in the set, 0 otherwise. */
int intset_find(const struct intset *is, int64_t v);

/* Stores the element at position pos (0 = smallest) in *out and returns
 * 1, or returns 0 when pos is out of range. */
int intset_get(const struct intset *is, uint32_t pos, int64_t *out);

/* The element at position r modulo the length: given a uniformly random
 * r, a uniformly random element.  The set must not be empty. */
int64_t intset_random(const struct intset *is, uint64_t r);

/* Number of elements. */
uint32_t intset_len(const struct intset *is);

/* Bytes per element: 2, 4 or 8. */
unsigned intset_width(const struct intset *is);

/* Size of the serialised form, which is the whole allocation's payload:
 * INTSET_HDR + len * width. */
size_t intset_blob_len(const struct intset *is);

/* The set's bytes in the serialised form above (for snapshot writers). */
const void *intset_blob(const struct intset *is);

/*
 * Checks that p[0..size) is a well-formed serialised intset: width 2, 4 or
 * 8, a length that accounts for size exactly, at least one element (Redis
 * never stores an empty set), and when deep is nonzero, elements in
 * strictly ascending order.  A width wider than the elements need is
 * valid: sets never narrow again after removals.  Returns 1 if valid, 0
 * otherwise.  Never reads outside p[0..size); p needs no alignment.
 */
int intset_validate(const void *p, size_t size, int deep);

/* Adopts a validated serialised intset: returns a new set holding a copy
 * of p[0..size).  The caller must have checked it with intset_validate. */
struct intset *intset_from_blob(const void *p, size_t size);

#endif
