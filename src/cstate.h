/*
 * cstate.h — the cluster state record, the changes made to it, and the
 * node's own persistent record (nodes.conf), with their text encodings.
 *
 * No I/O and no server state: the glue reads and writes files and links;
 * this file only turns records into text and text back into records.
 *
 * A cluster state is one numbered record (DESIGN.md, "The cluster state"):
 * an epoch, the ring id (40 hex, made once when the ring is first formed),
 * cluster-replicas, and the members, each with id, announced host and port,
 * zone, vnodes and status.  Members are kept sorted by id, so two equal
 * states encode to the same bytes.  Epoch 0 means "no state yet" (a node
 * that has not joined a ring): it has no members.
 *
 * State line (one line, single spaces, no line end, canonical: a given
 * state has exactly one encoding and the decoder accepts only that):
 *
 *     cs1 <epoch> <ring> <replicas> <n> [<id> <host> <port> <zone> <vnodes> <status>]*n
 *
 *   epoch     decimal, no sign, no leading zeros, 0 .. 2^64-1
 *   ring      40 lowercase hex
 *   replicas  0 .. CSTATE_REPLICAS_MAX
 *   n         0 .. CSTATE_MEMBERS_MAX; 0 exactly when epoch is 0
 *   id        40 lowercase hex, strictly ascending over the members
 *   host      1 .. CSTATE_HOST_MAX bytes of printable ASCII, no space
 *   port      1 .. 65535
 *   zone      "-" for none, else 1 .. CSTATE_ZONE_MAX printable bytes
 *             other than the single byte "-"
 *   vnodes    1 .. CSTATE_VNODES_MAX
 *   status    up | adding | (failed | joining | removing)[:<upto>]
 *   upto      the last epoch in which the member was up, for a member
 *             not up now: decimal, 1 .. epoch - 1, written only when not
 *             0 (0: never up, or marked before this field existed)
 *
 * and then, only when there are any (k >= 1), the holder entries:
 *
 *     holders <k> [<list>/<holders>]*k
 *
 *   list      a preference list as member indexes (0-based, in the order
 *             of the members above) joined by ".", primary first: 1 ..
 *             CSTATE_REPLICAS_MAX + 1 distinct indexes
 *   holders   1 or 2 distinct indexes of that list, in list order
 *   entries strictly ascending by list (index by index; a prefix first)
 *
 * HOLDERS.  A slot's writes are acknowledged once its primary and its
 * first successor have them (min-replica-acks 1), so those two hold every
 * acknowledged write; a third member of the list may lag.  After a
 * failover the members known to hold every acknowledged write of a list
 * are no longer its first two up members: those are its holders, and
 * only a holder serves the list's slots (ringstate.h).  A list without an
 * entry has its first two up members as holders; an entry is kept only
 * while it says otherwise (ringstate.c keeps them).
 *
 * nodes.conf content (every line ends in "\n", lines in this order, nothing
 * else; the acceptor record is for epoch state.epoch + 1 and is implied):
 *
 *     ringcache-nodes 1
 *     myid <id>
 *     state <state line>
 *     promised none | promised <round> <id>
 *     accepted none | accepted <round> <id> <state line>
 *
 * The accepted ballot is never above the promised one, and the accepted
 * value is a state of epoch state.epoch + 1 on the same ring.
 */
#ifndef RC_CSTATE_H
#define RC_CSTATE_H

#include <stddef.h>
#include <stdint.h>

#define CSTATE_ID_LEN 40
#define CSTATE_HOST_MAX 255
#define CSTATE_ZONE_MAX 64
#define CSTATE_MEMBERS_MAX 512
#define CSTATE_REPLICAS_MAX 15
#define CSTATE_VNODES_MAX 4096
#define CSTATE_LIST_MAX (CSTATE_REPLICAS_MAX + 1)
#define CSTATE_HOLDS_MAX 16384      /* RC_SLOTS: no more distinct lists */

/* The longest state line: the header plus CSTATE_MEMBERS_MAX members at
 * their longest.  Decoders refuse anything longer before looking at it. */
#define CSTATE_LINE_MAX \
    (64 + 2 * CSTATE_ID_LEN + \
     CSTATE_MEMBERS_MAX * (CSTATE_ID_LEN + CSTATE_HOST_MAX + CSTATE_ZONE_MAX + 24) + \
     32 + CSTATE_HOLDS_MAX * (4 * (CSTATE_LIST_MAX + 2) + 2))

/* The longest nodes.conf content: two state lines plus the small lines. */
#define CSTATE_RECORD_MAX (2 * CSTATE_LINE_MAX + 512)

enum cstate_status {
    CSTATE_UP = 0,
    CSTATE_FAILED = 1,
    CSTATE_JOINING = 2,
    CSTATE_ADDING = 3,      /* joining the ring for the first time, no tokens yet */
    CSTATE_REMOVING = 4     /* failed, being removed for good: its copies are remade */
};

struct cstate_member {
    char id[CSTATE_ID_LEN + 1];
    char host[CSTATE_HOST_MAX + 1];
    unsigned port;              /* 1 .. 65535 */
    char zone[CSTATE_ZONE_MAX + 1]; /* "" for none */
    unsigned vnodes;            /* 1 .. CSTATE_VNODES_MAX */
    enum cstate_status status;
    /* Not up now: the last epoch in which it was (0 when never, and
     * always 0 while up or adding).  Set by cstate_set_status when an up
     * member leaves up.  When no member of a slot's list is up, the ones
     * up last hold its newest acknowledged writes (cluster.c). */
    uint64_t upto;
};

/* One preference list's holders (see HOLDERS above); indexes are into
 * the state's members. */
struct cstate_hold {
    uint8_t n;                          /* list length */
    uint8_t nh;                         /* holders: 1 or 2 */
    uint16_t list[CSTATE_LIST_MAX];
    uint16_t h[2];                      /* in list order */
};

struct cstate {
    uint64_t epoch;
    char ring[CSTATE_ID_LEN + 1];
    int replicas;
    size_t nmembers;
    size_t cap;
    struct cstate_member *members; /* sorted by id, no duplicates */
    size_t nholds;
    struct cstate_hold *holds;      /* sorted by list (cstate_hold_cmp) */
};

/* ---- states ---- */

/* A new state of epoch 0 (no ring, no members), ring id all zeros. */
struct cstate *cstate_create(void);

/* The first state of a new ring: epoch 1, the given ring id (40 lowercase
 * hex, e.g. from rc_random_hex) and one member.  NULL if either is invalid. */
struct cstate *cstate_bootstrap(const char *ring, const struct cstate_member *first,
                                int replicas);

void cstate_destroy(struct cstate **s);
struct cstate *cstate_clone(const struct cstate *s);
int cstate_equal(const struct cstate *a, const struct cstate *b);

/* The member with this id (40 bytes, no NUL needed), or NULL. */
const struct cstate_member *cstate_find(const struct cstate *s, const char *id);
/* Its index in s->members, or -1. */
long cstate_index(const struct cstate *s, const char *id);

/* Insert m in id order.  Returns 0, or -1 (with *why) if m is invalid, its
 * id is already there or the state is full.  The epoch is not touched. */
int cstate_add(struct cstate *s, const struct cstate_member *m, const char **why);
/* Remove the member with this id.  Returns 0, or -1 if there is none. */
int cstate_remove(struct cstate *s, const char *id);
/* Set a member's status (and its upto: s->epoch when it leaves up, 0
 * when it comes up).  Returns 0, or -1 if there is no such member. */
int cstate_set_status(struct cstate *s, const char *id, enum cstate_status st);

/* ---- holders (HOLDERS above) ---- */

/* Order of entries: by list, index by index, a prefix first. */
int cstate_hold_cmp(const struct cstate_hold *a, const struct cstate_hold *b);
/* The entry of this list (n indexes), or NULL. */
const struct cstate_hold *cstate_hold_find(const struct cstate *s, const uint16_t *list, int n);
/* The list's holders in s: its entry's, or else its first two up
 * members.  Fills h[2] in list order, returns how many (0 .. 2). */
int cstate_holders(const struct cstate *s, const uint16_t *list, int n, uint16_t *h);
/* The list's first two up members (what its holders are without an
 * entry), the same way. */
int cstate_default_holders(const struct cstate *s, const uint16_t *list, int n, uint16_t *h);
/* Does member m lag behind member p in entry e: p its only up holder, m
 * in its list but no holder (what CSTATE_ADD_HOLDER mends)? */
int cstate_hold_lags(const struct cstate *s, const struct cstate_hold *e, uint16_t m, uint16_t p);
/* Replace the entries by hs[0..n) (sorted, valid), dropping those that
 * say what the default says. */
void cstate_set_holds(struct cstate *s, const struct cstate_hold *hs, size_t n);

/* Field checks shared with the decoder; each returns 1 when valid. */
int cstate_valid_id(const char *s, size_t len);
int cstate_valid_member(const struct cstate_member *m, const char **why);

const char *cstate_status_name(enum cstate_status st);

/* Encode as one state line (see above), NUL-terminated, rc_malloc'd;
 * *len (if not NULL) gets its length. */
char *cstate_encode(const struct cstate *s, size_t *len);

/* Decode a state line from buf[0..len) (no line end; NUL not needed).
 * Returns the new state, or NULL with a message in err (errlen bytes).
 * Any input is safe; non-canonical input is refused. */
struct cstate *cstate_decode(const char *buf, size_t len, char *err, size_t errlen);

/* ---- changes: what a proposer wants the next state to differ by ---- */

enum cstate_change_kind {
    CSTATE_ADD_MEMBER,      /* member: added as given (its status too) */
    CSTATE_REMOVE_MEMBER,   /* id */
    CSTATE_SET_STATUS,      /* id, status */
    CSTATE_SET_REPLICAS,    /* replicas */
    CSTATE_REPLACE_MEMBER,  /* id (a failed member) becomes removing, member is added:
                             * one state that moves the ring to the table without
                             * the old member and with the new one */
    CSTATE_COMMIT,          /* epoch: the change under way ends - every member
                             * being added comes up and every member being removed
                             * goes, in one state, the one of that epoch */
    CSTATE_ADD_HOLDER       /* id, member.id, epoch: member id received the SYNCED
                             * marker of member.id at that epoch; it becomes a holder
                             * of every list whose only up holder is member.id */
};

struct cstate_change {
    enum cstate_change_kind kind;
    struct cstate_member member;
    char id[CSTATE_ID_LEN + 1];
    enum cstate_status status;
    int replicas;
    uint64_t epoch;
};

/* Planted bugs (tests only; 0 in service): CSTATE_BUG_HALVES lets a
 * replacement end in two halves (see cstate_change_check()). */
#define CSTATE_BUG_HALVES 1u
/* CSTATE_BUG_NO_HOLDERS: states keep no holder entries (ringstate.c), so
 * the first up members of a list serve it whatever they hold. */
#define CSTATE_BUG_NO_HOLDERS 2u
extern unsigned cstate_debug_bugs;

enum cstate_verdict {
    CSTATE_APPLIES,     /* applying it changes s */
    CSTATE_DONE,        /* s already reflects it */
    CSTATE_INVALID      /* it cannot apply to s (no such member, ...) */
};

/* Judge a change against s.  For CSTATE_INVALID *why (if not NULL) says why.
 * Adding a member whose id is there with other host/port/zone/vnodes, or
 * removing the last member, is invalid; adding an identical member is done.
 *
 * While members are both being added and being removed (a replacement),
 * neither half ends alone: the table of such an intermediate state is
 * neither the one the ring had nor the one it moves to (ring.h's owner
 * tokens come from several probes, so a member's lists in it need not be
 * among those it was sent), and a member could serve a slot it never got.
 * Only CSTATE_COMMIT, judged at one epoch, ends both at once. */
enum cstate_verdict cstate_change_check(const struct cstate *s, const struct cstate_change *c,
                                        const char **why);

/* Apply a change that cstate_change_check() called CSTATE_APPLIES.  The
 * epoch is left to the caller.  Returns 0, or -1 if it did not apply. */
int cstate_change_apply(struct cstate *s, const struct cstate_change *c);

/* ---- the node's persistent record (nodes.conf) ---- */

/* A Paxos ballot: (round, proposer id), ordered by round then id.
 * Round 0 is "no ballot" and sorts below every real one. */
struct cstate_ballot {
    uint64_t round;
    char id[CSTATE_ID_LEN + 1];
};

int cstate_ballot_cmp(const struct cstate_ballot *a, const struct cstate_ballot *b);

/* The Paxos acceptor's memory for epoch state.epoch + 1. */
struct cstate_acceptor {
    struct cstate_ballot promised;  /* round 0: none */
    struct cstate_ballot accepted;  /* round 0: none */
    struct cstate *value;           /* owned; NULL exactly when accepted.round == 0 */
};

struct cstate_record {
    char myid[CSTATE_ID_LEN + 1];
    struct cstate *state;           /* owned, never NULL */
    struct cstate_acceptor acc;
};

/* A fresh record: this id, an epoch-0 state, nothing promised. */
void cstate_record_init(struct cstate_record *r, const char *myid);
void cstate_record_deinit(struct cstate_record *r);
/* Deep copy into dst (which must not hold anything). */
void cstate_record_copy(struct cstate_record *dst, const struct cstate_record *src);
int cstate_record_equal(const struct cstate_record *a, const struct cstate_record *b);
/* Forget the acceptor's promise and acceptance (a new epoch began). */
void cstate_acceptor_reset(struct cstate_acceptor *a);

/* Encode as nodes.conf content, NUL-terminated, rc_malloc'd. */
char *cstate_record_encode(const struct cstate_record *r, size_t *len);

/* Decode nodes.conf content.  Returns 0 and fills *r (free with
 * cstate_record_deinit), or -1 with a message naming the line in err. */
int cstate_record_decode(const char *buf, size_t len, struct cstate_record *r,
                         char *err, size_t errlen);

#endif
