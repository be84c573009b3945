/*
 * ring.h — the slot table: which members hold each of the RC_SLOTS slots.
 *
 * A ring is built from a set of members, each an id (40 lowercase hex
 * characters), a zone (a string; empty or NULL means no zone) and a number
 * of vnodes, plus the replica count.  The table is a pure function of the
 * member set and the replica count: the order the members are given in
 * does not matter, every node computes the same table, and lookups are a
 * read of a precomputed array.  Members are known by canonical indexes:
 * 0 .. n-1 in increasing id order.
 *
 * TOKEN FORMAT (version 1).  Every node must place tokens identically, so
 * this is a wire format: it must never change once shipped.
 *   mix(z)      z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
 *               z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31
 *               (SplitMix64's finaliser; all arithmetic modulo 2^64)
 *   G           0x9e3779b97f4a7c15
 *   digest(id)  h = 0x72696e6763616368; for w = 0..4:
 *               h = mix(h ^ W[w]) + G, where W[w] is id bytes 8w..8w+7
 *               read as a little-endian 64-bit word
 *   token(id, v)  = mix(digest(id) + (v + 1) * G), v = 0 .. vnodes-1
 *               (SplitMix64 seeded with the digest: raising a member's
 *               vnodes keeps its existing tokens)
 *   probe(s, 0)   = s << 50 (slot s's own place on the 2^64 circle)
 *   probe(s, p)   = (a * s + b mod 2^14) << 50 | mix(K ^ (s << 32 | p)) >> 14
 *               for p >= 1, where K = 0x736c6f7470726f62,
 *               a = mix(K ^ p) | 1 and b = mix(K + p): for each p the
 *               probes of all slots fall one in every slot-sized arc, at a
 *               random point inside it
 * ring_token_position and ring_probe_position expose these for tests.
 *
 * OWNERS.  Each slot is looked at from RING_PROBES probe positions.  For
 * each probe take the first token at or after it (wrapping; among tokens
 * at one position the smaller id first) and its clockwise distance; the
 * slot's owner token is the one at the smallest distance, ties broken by
 * id, then by probe index.  With RING_PROBES == 1 this is exactly DESIGN.md's
 * "first token at or after the slot".  It stays consistent hashing: adding
 * a member only adds candidates, so slots move only to it; removing a
 * member moves only the slots it owned.
 *
 * Why 8 probes (a documented departure from DESIGN.md): with one probe a
 * member's share is the sum of the arcs before its tokens; with 256 vnodes
 * its relative spread is about 1/sqrt(256) = 6%, and the goal of every
 * member within +/-10% of the mean fails in most 10-member id sets.  More
 * probes average the arcs out, down to a floor set by the slots
 * themselves: 16384 independent choices give a 10-member share a spread
 * of sqrt(16384 * 0.1 * 0.9) / 1638 = 2.3%.  Measured with 256 vnodes per
 * member, replicas 0, 1000 random id sets per size (3000 for the chosen
 * row); worst primary-slot deviation from the mean over all sets, and the
 * number of sets with any member beyond +/-10%:
 *               3 members      5 members      10 members
 *   P=1         18.7%  129     19.1%  312     25.5%  592
 *   independent random probes p >= 1:
 *   P=2         11.6%    5     13.6%   25     16.2%   95
 *   P=4          8.4%    0      9.0%    0     14.2%   15
 *   P=8          6.9%    0      7.8%    0     11.1%    2
 *   P=16         4.9%    0      6.8%    0     11.8%    1
 *   stratified probes (the format above):
 *   P=4          8.0%    0      9.5%    0     10.7%    1
 *   P=6          6.8%    0      8.5%    0      9.1%    0  (10.0%, 1 in 3000)
 *   P=8          6.7%    0      7.0%    0      9.5%    0  (of 3000 sets)
 * P=8 stratified is the smallest P with no failing set in 3000 at every
 * size (99th percentile 4.4%, 5.7%, 7.9%); random probes reach the slot
 * floor without clearing it.  A build of 10 members x 256 vnodes takes
 * about 2 ms; 1024 x 1024 vnodes in 3 zones about 0.4 s, as does a
 * member alone in its zone with 1 vnode among a million tokens.
 *
 * PREFERENCE LISTS.  A slot's list is the owner of its owner token, then
 * the owners of the following tokens clockwise, skipping members already
 * listed and, while some zone has no member listed yet, members of zones
 * already listed; until ring_pref_len() members.  A member without a zone
 * counts as a zone of its own.  If a full turn leaves the list short (the
 * zone rule skipped someone), the remaining members are taken in
 * clockwise order from the owner token.  Entry 0 is the primary.
 */
#ifndef RC_RING_H
#define RC_RING_H

#include "slot.h"

#include <stdint.h>

#define RING_ID_LEN 40
#define RING_MAX_MEMBERS 1024
#define RING_MAX_VNODES 4096
#define RING_MAX_TOKENS (1u << 20) /* sum of vnodes; bounds build time */
#define RING_MAX_REPLICAS 15
#define RING_SLOT_SHIFT 50 /* 2^64 / RC_SLOTS == 1 << 50 */

/* Probes per slot: part of the format (see above), not a tuning knob. */
#define RING_PROBES 8

struct ring_member_spec {
    const char *id;   /* 40 lowercase hex characters, NUL-terminated */
    const char *zone; /* NULL or "" for no zone; copied */
    unsigned vnodes;  /* 0 .. RING_MAX_VNODES; 0: a member without tokens */
};

struct ring;

/*
 * Build the table for n members with replicas extra copies per slot.
 * Returns NULL on invalid input: n outside 1 .. RING_MAX_MEMBERS, replicas
 * outside 0 .. RING_MAX_REPLICAS, a malformed or duplicate id, vnodes out
 * of range, no member with tokens, or more than RING_MAX_TOKENS tokens in
 * all.  A member given 0 vnodes has an index like the others but owns
 * nothing and is in no preference list: the table is the one built
 * without it, with indexes shifted to make room for it (a member being
 * added, not yet serving: cluster.c).  The caller owns the
 * ring; spec is not referenced after the call.
 */
struct ring *ring_build(const struct ring_member_spec *spec, int n,
                        int replicas);

/* Free a ring and set *r to NULL; *r may be NULL. */
void ring_destroy(struct ring **r);

int ring_members(const struct ring *r);
int ring_replicas(const struct ring *r);

/* Id and zone ("" for none) of member idx, or NULL if idx is out of range.
 * The strings live as long as the ring. */
const char *ring_member_id(const struct ring *r, int idx);
const char *ring_member_zone(const struct ring *r, int idx);

/* Canonical index of the member with this id, or -1. */
int ring_member_index(const struct ring *r, const char *id);

/* Length of every preference list: min(replicas + 1, members). */
int ring_pref_len(const struct ring *r);

/* The preference list of slot (taken modulo RC_SLOTS): ring_pref_len()
 * distinct canonical member indexes, primary first.  O(1). */
const uint16_t *ring_pref(const struct ring *r, unsigned slot);

/* The distinct preference lists, numbered 0 .. ring_nlists() - 1 in
 * order of their first slot: slot's list number, and a list's first
 * slot.  O(1). */
int ring_nlists(const struct ring *r);
int ring_list_of(const struct ring *r, unsigned slot);
unsigned ring_list_slot(const struct ring *r, int list);

/* Is member idx in slot's preference list? */
int ring_in_pref(const struct ring *r, unsigned slot, int idx);

/* Slots where member idx is at list position `position` (0 = primary), or
 * anywhere in the list if position is -1.  O(RC_SLOTS). */
unsigned ring_slots_of(const struct ring *r, int idx, int position);

/*
 * Compare the tables of two rings, whose member sets may differ; members
 * are matched by id.  If flags is not NULL, flags[s] (RC_SLOTS entries) is
 * set for every slot to RING_DIFF_PREF if the slot's preference list
 * differs (other ids, other order or other length) and also RING_DIFF_OWNER
 * if its primary differs; 0 if the list is the same.  count, if not NULL,
 * receives the number of slots with each flag.
 */
#define RING_DIFF_PREF 1
#define RING_DIFF_OWNER 2
struct ring_diff_count {
    unsigned pref_changed;
    unsigned owner_changed;
};
void ring_diff(const struct ring *from, const struct ring *to, uint8_t *flags,
               struct ring_diff_count *count);

/* The token format above, for tests and tools. */
uint64_t ring_token_position(const char *id, unsigned vnode);
uint64_t ring_probe_position(unsigned slot, unsigned probe);

#endif
