/*
 * cluster.c — the I/O glue of ring mode: this node's id and nodes.conf,
 * the Paxos node (paxos.c) fed with the messages, pings and timers, the
 * slot table (ring.c) rebuilt whenever a newer state is adopted, and the
 * links to the other members (link.c).
 *
 * nodes.conf (cstate.h gives its format) is replaced atomically — write a
 * temporary file, fsync, rename, fsync the directory — whenever the Paxos
 * node says its record must be persisted, before any message of that step
 * leaves.  At start the file is loaded as it is, so a ring whose nodes all
 * restart (kill -9 included) comes back as it was with no command.
 *
 * Each member has, from this node: one control link (pings, Paxos) and a
 * small pool of forwarding links per RESP version, all opened lazily.
 */
#include "cluster.h"

#include "adminsync.h"
#include "conn.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cstate.h"
#include "holders.h"
#include "link.h"
#include "liveness.h"
#include "loop.h"
#include "paxos.h"
#include "respframe.h"
#include "ring.h"
#include "rand.h"
#include "repl.h"
#include "ringstate.h"
#include "slotdrop.h"
#include "server.h"
#include "util.h"

#define FWD_POOL 2

struct peer {
    char id[CSTATE_ID_LEN + 1];
    char host[CSTATE_HOST_MAX + 1];
    int port;
    struct link *ctrl;
    struct link *fwd[2][FWD_POOL];  /* [resp 2, resp 3][pool] */
    long long last_heard_ms;
    uint64_t moved_epoch;           /* its RINGNODE CAUGHTUP: in step for the next table */
};

static struct {
    int on;
    char myid[CSTATE_ID_LEN + 1];
    struct paxos_node *px;
    struct liveness *lv;            /* failure detector and lease (liveness.h) */
    struct event *tick;             /* drives lv and px every few ms */
    struct ring *ring;
    struct ring *ring_next;         /* while members are being added: the table it moves to */
    uint64_t ring_epoch;
    int me;                         /* my ring index, -1 if not a member */
    struct peer *peers;             /* by ring index; peers[me] unused */
    int npeers;
    uint16_t primary[RC_SLOTS];     /* acting primary per slot, NO_MEMBER if none */
    /* The slot's acting primary in the previous state, if another member
     * up in this one: its last batches are still welcome, and if the slot
     * came to this node it is served only after that member's HANDOFF
     * marker (DESIGN.md "Rejoin and handback"). */
    uint16_t prev_primary[RC_SLOTS];
    unsigned unserved;              /* slots with no primary (INFO cluster) */
    uint8_t handed_back[RC_SLOTS];  /* this node was its primary and an up member is now */
    long long adopted_ms;           /* monotonic ms the current state was adopted */
    uint64_t rejoin_ms;             /* last rejoin step (proposals, CAUGHTUP) */
    int leave;                      /* leaving before shutdown: LEAVE_* */
    int leave_for_good;             /* RING REMOVE: the ring then removes this node */
    uint64_t leave_ms, leave_step_ms;   /* when it began; the current step began */
    int started;                    /* the state loaded at start-up was adopted */
    /* A slot came back to this node, and the member it came from was
     * marked failed before its HANDOFF marker arrived: that member's last
     * acknowledged writes may be only on its successor, so this node goes
     * back to joining and catches up from the slot's next primary. */
    int handback_lost;
} cl = {.me = -1};

/* The clock leases are measured with: monotonic, never the wall clock. */
static uint64_t mono_ms(void)
{
    return rc_monotonic_us() / 1000;
}

#define NO_MEMBER 0xffff

/* A graceful leave's steps (cluster_leave_begin()), and how long the
 * leaving node keeps relaying commands once its slots have moved. */
#define LEAVE_GRACE_MS 50
enum { LEAVE_NONE, LEAVE_DRAIN, LEAVE_PROPOSE, LEAVE_RELEASE, LEAVE_REMOVE };

int cluster_enabled(void) { return cl.on; }
const char *cluster_myid(void) { return cl.myid; }
const struct ring *cluster_ring(void) { return cl.ring; }
const struct ring *cluster_ring_next(void) { return cl.ring_next; }
int cluster_my_index(void) { return cl.me; }

const struct cstate *cluster_state(void)
{
    return cl.px ? paxos_state(cl.px) : NULL;
}

/* ---- nodes.conf ---- */

static int write_record(const struct cstate_record *rec)
{
    size_t len;
    char *text = cstate_record_encode(rec, &len);
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", server.cluster_config_file, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, server.cluster_config_file) == 0;
    if (ok) {
        int dfd = open(".", O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    } else {
        log_warn("Could not write the cluster config file %s: %s", server.cluster_config_file,
                 strerror(errno));
        unlink(tmp);
    }
    rc_free(text);
    return ok ? 0 : -1;
}

/* ---- the slot table ---- */

static void announced(char *host, size_t hlen, int *port)
{
    const char *h = "127.0.0.1";
    if (server.cluster_announce_ip && server.cluster_announce_ip[0])
        h = server.cluster_announce_ip;
    else if (server.bind_count > 0 && strcmp(server.bind[0], "*") != 0 &&
             server.bind[0][0] != '-')
        h = server.bind[0];
    snprintf(host, hlen, "%s", h);
    *port = server.cluster_announce_port ? server.cluster_announce_port : server.port;
}

static void peer_close(struct peer *p)
{
    link_destroy(&p->ctrl);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < FWD_POOL; i++)
            link_destroy(&p->fwd[r][i]);
}

/* slot stays this node's, but the member it came back from (id) had not
 * sent its HANDOFF marker: keep waiting for it, and if that member is no
 * longer up, ask to go back to joining (cl.handback_lost). */
static void handback_still_pending(unsigned slot, const char *id)
{
    const struct cstate *s = paxos_state(cl.px);
    long prev = cstate_index(s, id);
    if (prev < 0) {
        /* Removed for good: nothing more comes from it. */
        cl.handback_lost = 1;
        cl.prev_primary[slot] = (uint16_t)cl.me;    /* never sends this node a marker */
        return;
    }
    cl.prev_primary[slot] = (uint16_t)prev;
    if (s->members[prev].status != CSTATE_UP)
        cl.handback_lost = 1;
}

/* A newer state was adopted: rebuild the ring, the routes and the peers
 * (keeping the links of members whose address did not change). */
static void state_changed(void)
{
    const struct cstate *s = paxos_state(cl.px);
    if (cl.ring && cl.ring_epoch == s->epoch)
        return;
    struct ring *nr = NULL;
    int flags = (server.cluster_debug_bugs & CLUSTER_BUG_IGNORE_ZONES) ? RINGSTATE_NO_ZONES : 0;
    ring_destroy(&cl.ring_next);
    if (s->nmembers > 0) {
        nr = ringstate_build(s, flags);
        if (nr == NULL)
            log_warn("Cluster state epoch %llu gives no valid ring", (unsigned long long)s->epoch);
        if (ringstate_changing(s) > 0)
            cl.ring_next = ringstate_build(s, flags | RINGSTATE_NEXT);
    }
    int n = nr ? ring_members(nr) : 0;
    /* Old primaries by id, to find them in the new member order. */
    char (*oldids)[CSTATE_ID_LEN + 1] = rc_calloc(sizeof(*oldids) * (size_t)(cl.npeers + 1));
    for (int k = 0; k < cl.npeers; k++)
        memcpy(oldids[k], cl.peers[k].id, sizeof(oldids[k]));
    if (cl.me >= 0 && cl.me < cl.npeers)
        memcpy(oldids[cl.me], cl.myid, sizeof(oldids[cl.me]));
    int oldn = cl.npeers, gained_from_failed = 0;
    struct peer *np = rc_calloc(sizeof(struct peer) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        /* Ring and state both order members by id. */
        const struct cstate_member *m = &s->members[i];
        struct peer *p = &np[i];
        memcpy(p->id, m->id, sizeof(p->id));
        snprintf(p->host, sizeof(p->host), "%s", m->host);
        p->port = (int)m->port;
        p->last_heard_ms = server.mstime;
        for (int k = 0; k < cl.npeers; k++) {
            struct peer *o = &cl.peers[k];
            if (strcmp(o->id, p->id) == 0 && strcmp(o->host, p->host) == 0 &&
                o->port == p->port) {
                *p = *o;
                memset(o, 0, sizeof(*o));
            }
        }
    }
    for (int k = 0; k < cl.npeers; k++)
        peer_close(&cl.peers[k]);
    rc_free(cl.peers);
    cl.peers = np;
    cl.npeers = n;
    /* More copies per slot: the lists grew at their ends, and the new
     * holders are sent the slots' data as after a failover. */
    int more_copies = cl.ring && nr && ring_replicas(nr) > ring_replicas(cl.ring);
    if (more_copies)
        log_notice("Cluster state epoch %llu keeps %d copies of each slot besides the primary "
                   "(was %d): sending this node's slots to their new replicas",
                   (unsigned long long)s->epoch, ring_replicas(nr), ring_replicas(cl.ring));
    gained_from_failed |= more_copies;
    /* Members being added: every primary sends each member gaining slots
     * in the next table its copies of them (repl.c), at every new state
     * until the new member is up. */
    if (cl.ring_next)
        gained_from_failed = 1;
    ring_destroy(&cl.ring);
    cl.ring = nr;
    cl.ring_epoch = s->epoch;
    cl.me = nr ? ring_member_index(nr, cl.myid) : -1;
    cl.handback_lost = 0;
    cl.unserved = 0;
    for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
        uint16_t old = cl.primary[slot], oldprev = cl.prev_primary[slot];
        cl.primary[slot] = NO_MEMBER;
        cl.prev_primary[slot] = NO_MEMBER;
        if (nr == NULL)
            continue;
        int first = holders_primary(s, nr, slot);
        if (first >= 0)
            cl.primary[slot] = (uint16_t)first;
        else
            cl.unserved++;
        long idx = old != NO_MEMBER && old < oldn ? cstate_index(s, oldids[old]) : -1;
        cl.handed_back[slot] = old != NO_MEMBER && old < oldn &&
                               strcmp(oldids[old], cl.myid) == 0 &&
                               cl.primary[slot] != NO_MEMBER && (int)cl.primary[slot] != cl.me;
        if (idx >= 0 && idx != cl.primary[slot] && s->members[idx].status == CSTATE_UP)
            cl.prev_primary[slot] = (uint16_t)idx;
        else if (idx >= 0 && idx == cl.primary[slot] && idx == cl.me && oldprev != NO_MEMBER &&
                 oldprev < oldn && !(server.cluster_debug_bugs & CLUSTER_BUG_HANDBACK_LOST))
            handback_still_pending(slot, oldids[oldprev]);
        else if (cl.me >= 0 && cl.primary[slot] == cl.me && old != NO_MEMBER && old < oldn &&
                 strcmp(oldids[old], cl.myid) != 0)
            gained_from_failed = 1;
        /* A holder back while its list served nothing: the other members
         * may lag, and are sent this node's copy. */
        else if (cl.started && cl.me >= 0 && cl.primary[slot] == cl.me && old == NO_MEMBER)
            gained_from_failed = 1;
        /* Restarted before the ring marked it failed: its slots' copies
         * elsewhere may lack the tail it logged but had not sent when it
         * stopped, so it sends them its copies, as a new primary does. */
        else if (!cl.started && cl.me >= 0 && cl.primary[slot] == cl.me)
            gained_from_failed = 1;
    }
    cl.started = 1;
    rc_free(oldids);
    cl.adopted_ms = (long long)mono_ms();
    for (size_t i = 0; i < s->nmembers; i++)
        if ((s->members[i].status == CSTATE_FAILED || s->members[i].status == CSTATE_REMOVING) &&
            cl.lv)
            liveness_set_caught_up(cl.lv, s->members[i].id, 0);
    repl_state_changed(gained_from_failed);
    /* A HANDOFF marker may have come before this state did. */
    for (int i = 0; i < n; i++)
        if (i != cl.me)
            cluster_handoff_arrived(i);
    /* Each member's status in ring order (u up, j joining, f failed, a
     * being added, r being removed): a partition's story is read from
     * these lines. */
    char st[64];
    size_t k;
    for (k = 0; k < s->nmembers && k + 1 < sizeof(st); k++)
        st[k] = s->members[k].status == CSTATE_UP ? 'u' :
                s->members[k].status == CSTATE_FAILED ? 'f' :
                s->members[k].status == CSTATE_ADDING ? 'a' :
                s->members[k].status == CSTATE_REMOVING ? 'r' : 'j';
    st[k] = '\0';
    log_notice("Cluster state epoch %llu: %zu members, this node %s (members %s, this node #%d)",
               (unsigned long long)s->epoch, s->nmembers, cl.me >= 0 ? "is one" : "is not one",
               st, cl.me);
}

int cluster_slot_route(unsigned slot, int *member, const char **err)
{
    if (cl.ring == NULL) {
        *err = "CLUSTERDOWN Hash slot not served";
        return CLUSTER_DOWN;
    }
    uint16_t p = cl.primary[slot];
    if (p == NO_MEMBER) {
        /* No holder of its list is up (holders.h): the other members may
         * lack acknowledged writes, so the slot waits for one. */
        *err = "CLUSTERDOWN Hash slot not served: no member holding all of its acknowledged "
               "writes is up";
        return CLUSTER_DOWN;
    }
    if ((int)p == cl.me)
        return CLUSTER_LOCAL;
    *member = p;
    return CLUSTER_REMOTE;
}

int cluster_prev_primary(unsigned slot)
{
    return cl.ring && cl.prev_primary[slot] != NO_MEMBER ? cl.prev_primary[slot] : -1;
}

/* Is slot, just come to this node from a member still up, waiting for
 * that member's HANDOFF marker? */
static int handback_pending(unsigned slot)
{
    uint16_t prev = cl.prev_primary[slot];
    if (prev == NO_MEMBER || !repl_enabled())
        return 0;
    if (repl_marker_epoch(prev, 1) >= cl.ring_epoch)
        return 0;
    /* A marker that cannot come (the link to that member is down for
     * good) would keep the slot down until the member is marked failed,
     * which the next state does; say so once in a while. */
    static long long warned_ms;
    long long waited = (long long)mono_ms() - cl.adopted_ms;
    if (waited > 4 * server.cluster_node_timeout && server.mstime - warned_ms > 10000) {
        warned_ms = server.mstime;
        log_warn("Slot %u: still waiting for member %.40s's HANDOFF marker after %lld ms", slot,
                 cl.peers[prev].id, waited);
    }
    return 1;
}

int cluster_taking_back(unsigned slot)
{
    return cl.ring && (int)cl.primary[slot] == cl.me && handback_pending(slot);
}

int cluster_handed_back(unsigned slot)
{
    return cl.ring && cl.handed_back[slot];
}

void cluster_handoff_arrived(int member)
{
    for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
        if (cl.prev_primary[slot] == member && (int)cl.primary[slot] == cl.me &&
            repl_marker_epoch(member, 1) >= cl.ring_epoch) {
            cl.prev_primary[slot] = NO_MEMBER;
            repl_took_back(slot);
        }
    }
}

int cluster_holds_copy(unsigned slot)
{
    if (cl.ring == NULL || cl.me < 0)
        return 0;
    const struct cstate *s = paxos_state(cl.px);
    const uint16_t *pref = ring_pref(cl.ring, slot);
    for (int k = 0; k < ring_pref_len(cl.ring); k++)
        if (pref[k] == cl.me)
            return s->members[cl.me].status != CSTATE_FAILED &&
                   s->members[cl.me].status != CSTATE_REMOVING;
    return 0;
}

int cluster_keeps_copy(unsigned slot)
{
    if (cluster_holds_copy(slot))
        return 1;
    return cl.ring_next != NULL && cl.me >= 0 && ring_in_pref(cl.ring_next, slot, cl.me);
}

int cluster_slot_is_mine(unsigned slot)
{
    int member;
    const char *err;
    return cluster_slot_route(slot, &member, &err) == CLUSTER_LOCAL;
}

/* ---- members and links ---- */

static struct peer *peer_at(int member)
{
    if (member < 0 || member >= cl.npeers || member == cl.me)
        return NULL;
    return &cl.peers[member];
}

struct link *cluster_fwd_link(int member, int resp, uint64_t client_id)
{
    struct peer *p = peer_at(member);
    if (p == NULL)
        return NULL;
    struct link **l = &p->fwd[resp == 3][client_id % FWD_POOL];
    if (*l == NULL) {
        *l = link_create(p->host, p->port, resp, server.cluster_node_timeout, "forward");
        link_set_peer_id(*l, p->id);
    } else if (server.mstime - p->last_heard_ms < server.cluster_node_timeout / 5)
        link_clear_backoff(*l);     /* it answered a ping just now: try again */
    return *l;
}

struct link *cluster_new_link(int member, int resp, long long timeout_ms)
{
    struct peer *p = peer_at(member);
    if (p == NULL)
        return NULL;
    struct link *l = link_create(p->host, p->port, resp, timeout_ms, "pinned");
    link_set_peer_id(l, p->id);
    return l;
}

static struct link *ctrl_link(struct peer *p)
{
    if (p->ctrl == NULL) {
        p->ctrl = link_create(p->host, p->port, 2, server.cluster_node_timeout, "control");
        link_set_peer_id(p->ctrl, p->id);
    }
    return p->ctrl;
}

static struct peer *peer_by_id(const char *id)
{
    for (int i = 0; i < cl.npeers; i++)
        if (i != cl.me && strcmp(cl.peers[i].id, id) == 0)
            return &cl.peers[i];
    return NULL;
}

/* Send RINGNODE <verb> <wire args> on link l (replies ignored). */
static void send_wire(struct link *l, const char *verb, const struct paxos_wire *w)
{
    const char *argv[PAXOS_WIRE_MAXARGS + 2];
    size_t lens[PAXOS_WIRE_MAXARGS + 2];
    argv[0] = "RINGNODE";
    lens[0] = 8;
    argv[1] = verb;
    lens[1] = strlen(verb);
    for (int i = 0; i < w->argc; i++) {
        argv[i + 2] = w->argv[i];
        lens[i + 2] = w->len[i];
    }
    const char *err;
    link_send_argv(l, w->argc + 2, argv, lens, NULL, NULL, &err);
}

static const struct cstate_member *member_rec(int member)
{
    const struct cstate *s = cluster_state();
    return s && member >= 0 && (size_t)member < s->nmembers ? &s->members[member] : NULL;
}

const char *cluster_member_host(int member)
{
    const struct cstate_member *m = member_rec(member);
    return m ? m->host : "";
}

int cluster_member_port(int member)
{
    const struct cstate_member *m = member_rec(member);
    return m ? (int)m->port : 0;
}

int cluster_member_client_port(int member)
{
    long port = cluster_member_port(member);
    long cport = port + server.cluster_client_port_offset;
    return port > 0 && cport <= 65535 ? (int)cport : (int)port;
}

const char *cluster_member_status(int member)
{
    const struct cstate_member *m = member_rec(member);
    return m ? cstate_status_name(m->status) : "?";
}

int cluster_member_up(int member)
{
    const struct cstate_member *m = member_rec(member);
    return m && m->status == CSTATE_UP;
}

int cluster_member_link_ok(int member)
{
    if (member == cl.me)
        return 1;
    struct peer *p = peer_at(member);
    return p && server.mstime - p->last_heard_ms < server.cluster_node_timeout;
}

long long cluster_member_last_heard(int member)
{
    struct peer *p = peer_at(member);
    return p ? p->last_heard_ms : server.mstime;
}

const char *cluster_check_peer(const char *secret, size_t slen, const char *id, size_t idlen,
                               int loopback)
{
    const char *want = server.cluster_secret ? server.cluster_secret : "";
    if (!cl.on)
        return "ERR this node is not in ring mode (cluster-enabled no)";
    if (want[0] == '\0' && !loopback)
        return "ERR no cluster-secret is set: only peers on loopback may link";
    unsigned diff = strlen(want) != slen;
    for (size_t i = 0; i < slen; i++)
        diff |= (unsigned)(want[i % (strlen(want) ? strlen(want) : 1)] ^ secret[i]);
    if (diff)
        return "ERR wrong cluster-secret";
    if (!cstate_valid_id(id, idlen))
        return "ERR invalid node id";
    if (idlen == CSTATE_ID_LEN && memcmp(id, cl.myid, CSTATE_ID_LEN) == 0)
        return "ERR that node id is this node's own: was a nodes.conf copied?";
    return NULL;
}

/* ---- Paxos glue ---- */

static void send_paxos(const char *to, const struct paxos_msg *m);

/* Drain the Paxos node's output: persist, then send, then act. */
static void pump(void)
{
    while (paxos_ready_pending(cl.px)) {
        struct paxos_ready rd;
        paxos_ready_take(cl.px, &rd);
        if (rd.persist && write_record(paxos_record(cl.px)) != 0) {
            /* Sending a promise we could not store could break Paxos:
             * stop instead (the peers go on without us). */
            log_warn("Cannot persist the cluster state: exiting");
            exit(1);
        }
        if (rd.state_changed)
            state_changed();
        for (size_t i = 0; i < rd.nmsgs; i++)
            send_paxos(rd.msgs[i].to, &rd.msgs[i].msg);
        for (size_t i = 0; i < rd.nevents; i++)
            cluster_admin_done(rd.events[i].token, rd.events[i].outcome);
        paxos_ready_deinit(&rd);
    }
}

static void send_paxos(const char *to, const struct paxos_msg *m)
{
    if (strcmp(to, cl.myid) == 0) {
        paxos_step(cl.px, cl.myid, m, mono_ms());
        return;
    }
    struct peer *p = peer_by_id(to);
    const struct cstate_member *target = NULL;
    if (p == NULL) {
        /* Not in our state (a node being told of the ring that added it):
         * the value being learnt names its address. */
        if (m->value)
            target = cstate_find(m->value, to);
        if (target == NULL)
            return;
    }
    struct paxos_wire w;
    paxos_msg_encode(m, &w);
    if (p) {
        send_wire(ctrl_link(p), "PAXOS", &w);
    } else {
        struct link *l = link_create(target->host, (int)target->port, 2,
                                     server.cluster_node_timeout, "learn");
        link_set_peer_id(l, to);
        send_wire(l, "PAXOS", &w);
        cluster_defer_link_free(l);
    }
    paxos_wire_deinit(&w);
}

void cluster_paxos_message(const char *from, int argc, const char *const *argv,
                           const size_t *lens, char *err, size_t errlen)
{
    struct paxos_msg m;
    memset(&m, 0, sizeof(m));
    if (paxos_msg_decode(argc, argv, lens, &m, err, errlen) != 0)
        return;
    paxos_step(cl.px, from, &m, mono_ms());
    paxos_msg_deinit(&m);
    pump();
}

void cluster_heard(const char *id, uint64_t epoch)
{
    for (int i = 0; i < cl.npeers; i++) {
        if (i != cl.me && strcmp(cl.peers[i].id, id) == 0)
            cl.peers[i].last_heard_ms = server.mstime;
    }
    const struct cstate *s = paxos_state(cl.px);
    if (epoch != s->epoch && cstate_find(s, id)) {
        paxos_observe_epoch(cl.px, id, epoch, mono_ms());
        pump();
    }
}

uint64_t cluster_propose(const struct cstate_change *ch, char *err, size_t errlen)
{
    return paxos_propose(cl.px, ch, mono_ms(), err, errlen);
}

void cluster_pump(void)
{
    pump();
}

/* (Re)create the Paxos node from rec, with the failure detector as its
 * acceptor filter and lease keeper. */
static void make_nodes(const struct cstate_record *rec)
{
    uint64_t now = mono_ms();
    liveness_destroy(&cl.lv);
    paxos_destroy(&cl.px);
    struct liveness_config lc;
    memset(&lc, 0, sizeof(lc));
    lc.node_timeout_ms = (uint64_t)server.cluster_node_timeout;
    lc.seed = rc_random_u64();
    lc.debug_bugs = (unsigned)server.cluster_debug_bugs;
    cl.lv = liveness_create(&lc, rec->myid, now);
    struct paxos_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.seed = rc_random_u64();
    cfg.validate = liveness_validate;
    cfg.validate_ctx = cl.lv;
    cl.px = paxos_create(&cfg, rec, now);
    liveness_bind(cl.lv, cl.px, now);
}

/* Make this node the first member of a new ring (epoch 1).  No other
 * acceptor exists yet, so the state is written directly. */
int cluster_bootstrap(int replicas, const char **why)
{
    const struct cstate *s = paxos_state(cl.px);
    if (s->epoch != 0) {
        *why = "ERR this node is already in a ring";
        return -1;
    }
    struct cstate_member me;
    memset(&me, 0, sizeof(me));
    memcpy(me.id, cl.myid, sizeof(me.id));
    int port;
    announced(me.host, sizeof(me.host), &port);
    me.port = (unsigned)port;
    snprintf(me.zone, sizeof(me.zone), "%s", server.cluster_zone ? server.cluster_zone : "");
    me.vnodes = (unsigned)server.cluster_vnodes;
    me.status = CSTATE_UP;
    char ring[CSTATE_ID_LEN + 1];
    rc_random_hex(ring, CSTATE_ID_LEN);
    ring[CSTATE_ID_LEN] = '\0';
    struct cstate *first = cstate_bootstrap(ring, &me, replicas);
    if (first == NULL) {
        *why = "ERR invalid announced address, zone or vnodes for this node";
        return -1;
    }
    struct cstate_record rec;
    cstate_record_copy(&rec, paxos_record(cl.px));
    cstate_destroy(&rec.state);
    rec.state = first;
    cstate_acceptor_reset(&rec.acc);
    if (write_record(&rec) != 0) {
        cstate_record_deinit(&rec);
        *why = "ERR could not write the cluster config file";
        return -1;
    }
    make_nodes(&rec);
    cstate_record_deinit(&rec);
    state_changed();
    return 0;
}

void cluster_my_member(struct cstate_member *m)
{
    memset(m, 0, sizeof(*m));
    memcpy(m->id, cl.myid, sizeof(m->id));
    int port;
    announced(m->host, sizeof(m->host), &port);
    m->port = (unsigned)port;
    snprintf(m->zone, sizeof(m->zone), "%s", server.cluster_zone ? server.cluster_zone : "");
    m->vnodes = (unsigned)server.cluster_vnodes;
    m->status = CSTATE_UP;
}

/* ---- liveness: pings, leases, failure marks ---- */

/* Drain the detector's output: pings and pongs out, failure marks (and
 * values to finish) to Paxos. */
static void drain_liveness(void)
{
    struct liveness_ready rd;
    liveness_ready_take(cl.lv, &rd);
    for (size_t i = 0; i < rd.nmsgs; i++) {
        struct peer *p = peer_by_id(rd.msgs[i].to);
        if (p == NULL)
            continue;
        struct paxos_wire w;
        liveness_msg_encode(&rd.msgs[i].msg, &w);
        send_wire(ctrl_link(p), "LIVE", &w);
        paxos_wire_deinit(&w);
    }
    for (size_t i = 0; i < rd.nchanges; i++) {
        char err[256];
        const struct cstate_change *c = &rd.changes[i];
        if (c->kind == CSTATE_SET_STATUS && c->status == CSTATE_FAILED)
            log_notice("Node %.40s not heard for cluster-node-timeout: asking to mark it failed",
                       c->id);
        /* An error here (a proposal already running) is harmless: the
         * detector asks again while the reason lasts. */
        paxos_propose(cl.px, c, mono_ms(), err, sizeof(err));
    }
    liveness_ready_deinit(&rd);
    pump();
}

void cluster_live_message(const char *from, int argc, const char *const *argv,
                          const size_t *lens, char *err, size_t errlen)
{
    struct liveness_msg m;
    if (liveness_msg_decode(argc, argv, lens, &m, err, errlen) != 0)
        return;
    const struct cstate *s = paxos_state(cl.px);
    if (s->epoch != 0 && m.epoch != 0 && strcmp(m.ring, s->ring) != 0) {
        static long long warned_ms;
        if (server.mstime - warned_ms > 10000) {
            warned_ms = server.mstime;
            log_warn("Node %.40s is in another ring (%.40s): its pings are ignored", from,
                     m.ring);
        }
        return;
    }
    liveness_step(cl.lv, from, &m, mono_ms());
    cluster_heard(from, m.epoch);
    drain_liveness();
}

static int down_holder(const struct cstate_member *m)
{
    return m->status == CSTATE_FAILED || m->status == CSTATE_JOINING;
}

/* A slot none of whose members is up: is this node's copy one to serve
 * it from?  Its newest acknowledged writes are on the members up last
 * (cstate.h: upto), and there on the first two in list order: the slot's
 * primary and first successor then, who acknowledged them (with
 * min-replica-acks 1 or more; after they left up, no member of the list
 * was up to acknowledge more).  A node up before them, or a later one in
 * the list, may lack those writes: the slot waits for one of the two. */
static int last_holder(unsigned slot)
{
    const struct cstate *s = paxos_state(cl.px);
    const uint16_t *pref = ring_pref(cl.ring, slot);
    int n = ring_pref_len(cl.ring), seen = 0;
    uint64_t last = 0;
    for (int k = 0; k < n; k++)
        if (down_holder(&s->members[pref[k]]) && s->members[pref[k]].upto > last)
            last = s->members[pref[k]].upto;
    for (int k = 0; k < n && seen < 2; k++) {
        if (!down_holder(&s->members[pref[k]]) || s->members[pref[k]].upto != last)
            continue;
        if ((int)pref[k] == cl.me)
            return 1;
        seen++;
    }
    return 0;
}

/* Does every slot this node holds a copy of have its data from the
 * slot's acting primary at the current epoch (its SYNCED marker)?  A slot
 * with no primary counts only if this node is one of its last holders. */
static int caught_up(void)
{
    const struct cstate *s = paxos_state(cl.px);
    if (!repl_enabled())
        return 1;
    for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
        uint16_t p = cl.primary[slot];
        if ((int)p == cl.me || !cluster_holds_copy(slot))
            continue;
        if (p == NO_MEMBER) {
            /* When the state names the slot's holders (holders.h), they
             * alone serve it, whoever comes up: a node that is not one
             * need not wait (two joining nodes each lagging in a list the
             * other alone holds would wait for each other for ever).  A
             * state without them (written before they existed): the
             * members up last. */
            const struct cstate_hold *e =
                cstate_hold_find(s, ring_pref(cl.ring, slot), ring_pref_len(cl.ring));
            if (!e && !last_holder(slot) && !(server.cluster_debug_bugs & CLUSTER_BUG_ANY_HOLDER))
                return 0;
        } else if (repl_marker_epoch(p, 0) < s->epoch) {
            return 0;
        }
    }
    return 1;
}

/* While members are being added: does member gain slots (in the next
 * table's list of a slot, not in the current one's)? */
static int gains_slots(int member)
{
    for (unsigned slot = 0; slot < RC_SLOTS; slot++)
        if (ring_in_pref(cl.ring_next, slot, member) && !ring_in_pref(cl.ring, slot, member))
            return 1;
    return 0;
}

/* Are the members being removed slot's only holders (its data went with
 * them: nobody can send it, nobody who could come back has it)? */
static int only_removed_hold(unsigned slot)
{
    const struct cstate *s = paxos_state(cl.px);
    const uint16_t *pref = ring_pref(cl.ring, slot);
    for (int k = 0; k < ring_pref_len(cl.ring); k++)
        if (s->members[pref[k]].status != CSTATE_REMOVING)
            return 0;
    return 1;
}

/* While members are being added: has every slot this node gains in the
 * next table been sent to it by the slot's acting primary at the current
 * epoch (its SYNCED marker)?  A slot without a primary cannot be: the
 * ring waits for it (its holders are down). */
static int caught_up_next(void)
{
    const struct cstate *s = paxos_state(cl.px);
    if (cl.ring_next == NULL || cl.ring == NULL || cl.me < 0)
        return 1;
    for (unsigned slot = 0; slot < RC_SLOTS; slot++) {
        if (!ring_in_pref(cl.ring_next, slot, cl.me) || ring_in_pref(cl.ring, slot, cl.me))
            continue;
        uint16_t p = cl.primary[slot];
        if (p == NO_MEMBER && !only_removed_hold(slot))
            return 0;
        if (p != NO_MEMBER && repl_enabled() && repl_marker_epoch(p, 0) < s->epoch)
            return 0;
    }
    return 1;
}

static int status_any(const struct cstate *s, enum cstate_status st)
{
    for (size_t i = 0; i < s->nmembers; i++)
        if (s->members[i].status == st)
            return 1;
    return 0;
}

static int adding_any(const struct cstate *s)
{
    return status_any(s, CSTATE_ADDING);
}

static int removing_any(const struct cstate *s)
{
    return status_any(s, CSTATE_REMOVING);
}

/* Has every up member that gains slots said it has them (CAUGHTUP at the
 * current epoch)?  Only then may the member being added come up: the
 * next table's holders of every slot then all have its data. */
static int gainers_ready(void)
{
    const struct cstate *s = paxos_state(cl.px);
    for (int i = 0; i < cl.npeers; i++) {
        if (i == cl.me || s->members[i].status != CSTATE_UP || !gains_slots(i))
            continue;
        if (cl.peers[i].moved_epoch < s->epoch)
            return 0;
    }
    return 1;
}

unsigned cluster_slots_unserved(void)
{
    return cl.ring ? cl.unserved : 0;
}

int cluster_move_progress(unsigned *gain_slots, int *in_step)
{
    *gain_slots = 0;
    *in_step = 1;
    if (cl.ring_next == NULL || cl.ring == NULL || cl.me < 0)
        return 0;
    for (unsigned slot = 0; slot < RC_SLOTS; slot++)
        *gain_slots += ring_in_pref(cl.ring_next, slot, cl.me) &&
                       !ring_in_pref(cl.ring, slot, cl.me);
    *in_step = caught_up_next();
    return 1;
}

static void tell_caught_up(void)
{
    const struct cstate *s = paxos_state(cl.px);
    char ep[24];
    snprintf(ep, sizeof(ep), "%llu", (unsigned long long)s->epoch);
    const char *argv[] = {"RINGNODE", "CAUGHTUP", ep};
    size_t lens[] = {8, 8, strlen(ep)};
    for (int i = 0; i < cl.npeers; i++) {
        const char *err;
        if (i != cl.me)
            link_send_argv(ctrl_link(&cl.peers[i]), 3, argv, lens, NULL, NULL, &err);
    }
}

static void set_cstate_bugs(void)
{
    cstate_debug_bugs = ((server.cluster_debug_bugs & CLUSTER_BUG_HALVES) ? CSTATE_BUG_HALVES : 0) |
                        ((server.cluster_debug_bugs & CLUSTER_BUG_NO_HOLDERS) ? CSTATE_BUG_NO_HOLDERS
                                                                              : 0);
}

int cluster_lags_behind_me(int member)
{
    const struct cstate *s = paxos_state(cl.px);
    if (cl.ring == NULL || cl.me < 0 || member < 0 || (size_t)member >= s->nmembers ||
        s->members[member].status != CSTATE_UP)
        return 0;
    for (size_t i = 0; i < s->nholds; i++)
        if (cstate_hold_lags(s, &s->holds[i], (uint16_t)member, (uint16_t)cl.me))
            return 1;
    return 0;
}

/* This node is up and lags in lists whose only up holder is member p: once
 * p's SYNCED marker of this epoch is here, ask to become their holder. */
static void propose_holder(void)
{
    const struct cstate *s = paxos_state(cl.px);
    int asked[2] = {-1, -1};
    for (size_t i = 0; i < s->nholds; i++) {
        const struct cstate_hold *e = &s->holds[i];
        int p = holders_entry_primary(s, e);
        if (p < 0 || p == cl.me || p == asked[0] || p == asked[1] ||
            repl_marker_epoch(p, 0) < s->epoch)
            continue;
        asked[0] = asked[1];
        asked[1] = p;
        struct cstate_change ch;
        memset(&ch, 0, sizeof(ch));
        ch.kind = CSTATE_ADD_HOLDER;
        memcpy(ch.id, cl.myid, sizeof(ch.id));
        memcpy(ch.member.id, s->members[p].id, sizeof(ch.member.id));
        ch.epoch = s->epoch;
        const char *why;
        if (cstate_change_check(s, &ch, &why) != CSTATE_APPLIES)
            continue;
        log_notice("Epoch %llu: this node has member %.40s's SYNCED marker: proposing to "
                   "become a holder of the lists it alone holds", (unsigned long long)s->epoch,
                   s->members[p].id);
        char err[256];
        paxos_propose(cl.px, &ch, mono_ms(), err, sizeof(err));
    }
}

static void propose_my_status(enum cstate_status st)
{
    struct cstate_change ch;
    memset(&ch, 0, sizeof(ch));
    ch.kind = CSTATE_SET_STATUS;
    memcpy(ch.id, cl.myid, sizeof(ch.id));
    ch.status = st;
    char err[256];
    paxos_propose(cl.px, &ch, mono_ms(), err, sizeof(err));
}

/* A node its ring marked failed comes back: it asks to be `joining`, the
 * primaries send it its slots (repl.c), and once every slot is in step it
 * tells everyone (RINGNODE CAUGHTUP, which their acceptor filter wants)
 * and proposes its return.  A node being added (`adding`) does the same
 * for the slots it holds in the table the ring moves to, and comes up
 * once every up member gaining slots in that table said it has them too
 * (DESIGN.md "Membership change"; ringstate.h). */
static void rejoin_step(uint64_t now)
{
    const struct cstate *s = paxos_state(cl.px);
    if (cl.me < 0 || cl.leave != LEAVE_NONE || now - cl.rejoin_ms < (uint64_t)server.cluster_node_timeout / 2)
        return;
    cl.rejoin_ms = now;
    int halves = (server.cluster_debug_bugs & CLUSTER_BUG_HALVES) != 0;
    set_cstate_bugs();
    enum cstate_status st = s->members[cl.me].status;
    if (st == CSTATE_REMOVING) {
        /* Removed for good while it was down (RING REMOVE, or killed while
         * leaving): it may not rejoin, and the ring drops it once its
         * copies are remade. */
        log_notice("This node is being removed from the ring for good (epoch %llu): shutting "
                   "down", (unsigned long long)s->epoch);
        loop_shutdown_soon();
    } else if (st == CSTATE_UP && cl.handback_lost) {
        log_notice("Epoch %llu: a member handing slots back to this node failed before its "
                   "HANDOFF marker came: asking to rejoin (its successor may hold writes this "
                   "node lacks)", (unsigned long long)s->epoch);
        propose_my_status(CSTATE_JOINING);
    } else if (st == CSTATE_FAILED) {
        log_notice("This node is marked failed in epoch %llu: asking to rejoin",
                   (unsigned long long)s->epoch);
        adminsync_restart();    /* users and libraries may have changed meanwhile */
        propose_my_status(CSTATE_JOINING);
    } else if (st == CSTATE_JOINING && adminsync_ready() && caught_up()) {
        log_notice("Every slot this node holds is in step (epoch %llu): proposing its return",
                   (unsigned long long)s->epoch);
        liveness_set_caught_up(cl.lv, cl.myid, 1);
        tell_caught_up();
        propose_my_status(CSTATE_UP);
    } else if (st == CSTATE_ADDING && adminsync_ready() && caught_up_next()) {
        liveness_set_caught_up(cl.lv, cl.myid, 1);
        tell_caught_up();
        if (gainers_ready() && removing_any(s) && !halves) {
            /* A replacement: this node comes up and the member(s) being
             * removed go in one state (cstate.h, CSTATE_COMMIT). */
            log_notice("Every slot this node is to hold is in step here and on the members "
                       "gaining slots (epoch %llu): proposing that the change ends (this node "
                       "comes up, the member being removed goes)",
                       (unsigned long long)s->epoch);
            struct cstate_change ch;
            memset(&ch, 0, sizeof(ch));
            ch.kind = CSTATE_COMMIT;
            ch.epoch = s->epoch;
            char err[256];
            paxos_propose(cl.px, &ch, mono_ms(), err, sizeof(err));
        } else if (gainers_ready()) {
            log_notice("Every slot this node is to hold is in step here and on the members "
                       "gaining slots (epoch %llu): proposing that it comes up",
                       (unsigned long long)s->epoch);
            propose_my_status(CSTATE_UP);
        }
    } else if (st == CSTATE_UP && cl.ring_next && caught_up_next()) {
        if (gains_slots(cl.me))
            tell_caught_up();   /* the member being added waits for this */
        /* Members being removed go once every slot they held is remade;
         * while a member replacing one (RING REPLACE) is being added, the
         * change ends whole when it is ready (its CSTATE_COMMIT). */
        for (size_t i = 0; i < s->nmembers && gainers_ready() && (!adding_any(s) || halves);
             i++) {
            if (s->members[i].status != CSTATE_REMOVING)
                continue;
            log_notice("Every slot member %.40s held has its copies on the other members "
                       "(epoch %llu): proposing its removal", s->members[i].id,
                       (unsigned long long)s->epoch);
            struct cstate_change ch;
            memset(&ch, 0, sizeof(ch));
            ch.kind = CSTATE_REMOVE_MEMBER;
            memcpy(ch.id, s->members[i].id, sizeof(ch.id));
            char err[256];
            paxos_propose(cl.px, &ch, mono_ms(), err, sizeof(err));
        }
    }
    /* An up member pulls the users and libraries once after it starts: it
     * may have been down for less than the timeout (adminsync.c). */
    if (st == CSTATE_UP) {
        adminsync_ready();
        if (repl_enabled())
            propose_holder();
    }
    /* A member being added that restarted before it learnt the state that
     * added it knows no ring (nor its members' addresses) and answers no
     * ping: send it the state. */
    for (size_t i = 0; st == CSTATE_UP && cl.ring_next && i < s->nmembers; i++)
        if ((int)i != cl.me && s->members[i].status == CSTATE_ADDING)
            paxos_observe_epoch(cl.px, s->members[i].id, 0, now);
    pump();
}

/* ---- graceful leave ---- */

/* SIGTERM in a ring, as Redis 7.0 waits for its replicas before a
 * shutdown: the node stops serving its slots (liveness_release(), every
 * member hears LEAVING), waits until its replicas acknowledged every write
 * it made, proposes its own failure, and once that state is adopted sends
 * RELEASE so that each slot's next primary serves it at once instead of
 * after the hand-over wait (liveness.h).  Each step is bounded; at worst
 * the ring fails the node over as if it had been killed. */
int cluster_leave_begin(void)
{
    const struct cstate *s = cluster_state();
    int others = 0;
    if (!cl.on || cl.me < 0 || s == NULL || s->members[cl.me].status != CSTATE_UP)
        return 0;
    for (size_t i = 0; i < s->nmembers; i++)
        others += (int)i != cl.me && s->members[i].status == CSTATE_UP;
    if (others == 0)
        return 0;
    log_notice("Leaving the ring before shutting down: waiting for replicas, then handing "
               "this node's slots to the next nodes");
    cl.leave = LEAVE_DRAIN;
    cl.leave_ms = cl.leave_step_ms = mono_ms();
    /* Clients' commands wait (as under CLIENT PAUSE ALL) instead of being
     * refused: once the ring chose the state without this node they run
     * again and are forwarded to the slots' new primaries. */
    server.pause_all = 1;
    server.pause_end_ms = server.mstime + 2 * server.cluster_node_timeout;
    liveness_release(cl.lv, cl.leave_ms);
    drain_liveness();
    return 1;
}

const char *cluster_leave_for_good(void)
{
    const struct cstate *s = cluster_state();
    int others = 0;
    if (!cl.on || cl.me < 0 || s == NULL)
        return "ERR this node is not in a ring";
    if (s->members[cl.me].status != CSTATE_UP)
        return "ERR only a member that is up leaves the ring itself";
    if (s->replicas == 0)
        return "ERR removing a live member needs cluster-replicas 1 or more: its slots are "
               "moved by the replication stream (RING REPLICAS 1 first)";
    for (size_t i = 0; i < s->nmembers; i++)
        others += (int)i != cl.me && s->members[i].status == CSTATE_UP;
    if (others == 0)
        return "ERR no other member is up to take this node's slots";
    if (!cl.leave_for_good)
        log_notice("Asked to leave the ring for good: handing this node's slots over, then "
                   "asking to be removed and shutting down");
    cl.leave_for_good = 1;
    if (cl.leave == LEAVE_NONE)
        loop_shutdown_soon();       /* else a shutdown's leave is under way: now for good */
    return NULL;
}

int cluster_leave_step(void)
{
    uint64_t now = mono_ms(), t = (uint64_t)server.cluster_node_timeout;
    const struct cstate *s = cluster_state();
    if (cl.leave == LEAVE_NONE)
        return 1;
    if (now - cl.leave_ms > 2 * t) {
        log_warn("Leaving the ring took longer than %llu ms: shutting down anyway (the ring "
                 "fails this node over)", (unsigned long long)(2 * t));
        return 1;
    }
    switch (cl.leave) {
    case LEAVE_DRAIN:
        if (!repl_drained() && now - cl.leave_step_ms < t / 2)
            return 0;
        cl.leave = LEAVE_PROPOSE;
        cl.leave_step_ms = 0;
        /* fall through */
    case LEAVE_PROPOSE:
        if (s->members[cl.me].status == CSTATE_FAILED) {
            cl.leave = LEAVE_RELEASE;
            cl.leave_step_ms = now;
            return 0;
        }
        if (cl.leave_step_ms == 0 || now - cl.leave_step_ms >= t / 10) {
            cl.leave_step_ms = now;
            propose_my_status(CSTATE_FAILED);
            pump();
        }
        return 0;
    case LEAVE_RELEASE:
        if (server.pause_end_ms) {
            server.pause_end_ms = 0;
            server.pause_all = 0;
            conn_unpause_all();     /* the held commands go to the new primaries */
        }
        /* The RELEASE written, and time for the forwarded commands'
         * replies to come back before the connections close. */
        if (liveness_release_sent(cl.lv) && now - cl.leave_step_ms >= LEAVE_GRACE_MS) {
            if (cl.leave_for_good) {
                cl.leave = LEAVE_REMOVE;
                cl.leave_step_ms = 0;
                return 0;
            }
            log_notice("Left the ring (epoch %llu): shutting down",
                       (unsigned long long)s->epoch);
            return 1;
        }
        return now - cl.leave_step_ms > t / 2;
    case LEAVE_REMOVE:
        /* Failed now, this node asks to be removed for good; the members
         * remake its copies and then drop it (rejoin_step()). */
        if (cl.me < 0 || s->members[cl.me].status == CSTATE_REMOVING) {
            log_notice("Left the ring for good (epoch %llu: %s): shutting down",
                       (unsigned long long)s->epoch,
                       cl.me < 0 ? "removed" : "being removed");
            return 1;
        }
        if (cl.leave_step_ms == 0 || now - cl.leave_step_ms >= t / 10) {
            cl.leave_step_ms = now;
            propose_my_status(CSTATE_REMOVING);
            pump();
        }
        return 0;
    }
    return 1;
}

void cluster_caught_up(const char *from, uint64_t epoch)
{
    if (!cl.on || epoch != paxos_state(cl.px)->epoch)
        return;
    liveness_set_caught_up(cl.lv, from, 1);
    struct peer *p = peer_by_id(from);
    if (p)
        p->moved_epoch = epoch;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t now = mono_ms();
    paxos_tick(cl.px, now);
    pump();
    liveness_tick(cl.lv, now);
    drain_liveness();
    rejoin_step(now);
    pump();
}

int cluster_slot_serve(unsigned slot, int *member, const char **err)
{
    int where = cluster_slot_route(slot, member, err);
    if (where != CLUSTER_LOCAL)
        return where;
    switch (liveness_can_serve(cl.lv, slot, mono_ms())) {
    case LIVENESS_SERVE:
        if (!handback_pending(slot))
            return CLUSTER_LOCAL;
        *err = "CLUSTERDOWN Hash slot being handed back: waiting for the previous primary's "
               "last writes";
        return CLUSTER_DOWN;
    case LIVENESS_NO_LEASE:
        if (server.cluster_debug_bugs & CLUSTER_BUG_IGNORE_LEASE)
            return CLUSTER_LOCAL;
        *err = "CLUSTERDOWN No majority: this node's primary lease lapsed (no majority of the "
               "ring answered its pings lately)";
        return CLUSTER_DOWN;
    case LIVENESS_HANDOVER:
        *err = "CLUSTERDOWN Hash slot changing primary: waiting out the previous primary's lease";
        return CLUSTER_DOWN;
    case LIVENESS_RELEASED:
        *err = "TRYAGAIN This node is shutting down: its slots are moving to the next node";
        return CLUSTER_DOWN;
    case LIVENESS_NOT_PRIMARY:
        break;
    }
    *err = "CLUSTERDOWN The cluster is down";
    return CLUSTER_DOWN;
}

const char *cluster_serving_state(void)
{
    if (cl.lv == NULL || cl.me < 0)
        return "not a member";
    return liveness_holds_lease(cl.lv, mono_ms()) ? "lease held" : "no majority (lease lapsed)";
}

/* ---- pub/sub across the ring ---- */

void cluster_broadcast_publish(int shard, const struct slice *channel, const struct slice *msg)
{
    const char *argv[] = {"RINGNODE", "PUBLISH", shard ? "1" : "0", channel->p, msg->p};
    size_t lens[] = {8, 7, 1, channel->len, msg->len};
    for (int i = 0; i < cl.npeers; i++) {
        const char *err;
        if (i != cl.me)
            link_send_argv(ctrl_link(&cl.peers[i]), 5, argv, lens, NULL, NULL, &err);
    }
}

/* ---- links to free once their one message left ---- */

static struct link *deferred[16];
static long long deferred_ms[16];

void cluster_defer_link_free(struct link *l)
{
    for (int i = 0; i < 16; i++) {
        if (deferred[i] == NULL) {
            deferred[i] = l;
            deferred_ms[i] = server.mstime;
            return;
        }
    }
    link_destroy(&l);
}

static void reap_deferred(void)
{
    for (int i = 0; i < 16; i++) {
        if (deferred[i] && (link_pending(deferred[i]) == 0 ||
                            server.mstime - deferred_ms[i] > server.cluster_node_timeout))
            link_destroy(&deferred[i]);
    }
}

void cluster_cron(void)
{
    if (!cl.on)
        return;
    repl_cron();
    slotdrop_cron();
    cluster_admin_cron();
    reap_deferred();
}

/* ---- start and stop ---- */

int cluster_init(void)
{
    set_cstate_bugs();
    if (!server.cluster_enabled)
        return 0;
    cl.on = 1;
    repl_init();
    struct cstate_record rec;
    memset(&rec, 0, sizeof(rec));
    FILE *fp = fopen(server.cluster_config_file, "r");
    if (fp) {
        char *buf = rc_malloc(CSTATE_RECORD_MAX + 1);
        size_t n = fread(buf, 1, CSTATE_RECORD_MAX + 1, fp);
        fclose(fp);
        char err[256];
        if (n > CSTATE_RECORD_MAX ||
            cstate_record_decode(buf, n, &rec, err, sizeof(err)) != 0) {
            log_warn("Unrecoverable error: corrupted cluster config file %s: %s",
                     server.cluster_config_file, n > CSTATE_RECORD_MAX ? "too big" : err);
            rc_free(buf);
            return -1;
        }
        rc_free(buf);
        /* A nodes.conf copied from another node names that node: refuse
         * to run as a second copy of it. */
        const struct cstate_member *m = cstate_find(rec.state, rec.myid);
        char host[CSTATE_HOST_MAX + 1];
        int port;
        announced(host, sizeof(host), &port);
        if (m && ((int)m->port != port || strcmp(m->host, host) != 0)) {
            log_warn("The cluster config file %s belongs to node %s at %s:%u, but this node "
                     "is %s:%d: refusing to start (was nodes.conf copied from another "
                     "node?)", server.cluster_config_file, rec.myid, m->host, m->port, host,
                     port);
            cstate_record_deinit(&rec);
            return -1;
        }
        log_notice("Node configuration loaded, I'm %.40s (cluster state epoch %llu)", rec.myid,
                   (unsigned long long)rec.state->epoch);
    } else if (errno == ENOENT) {
        char id[CSTATE_ID_LEN + 1];
        rc_random_hex(id, CSTATE_ID_LEN);
        id[CSTATE_ID_LEN] = '\0';
        cstate_record_init(&rec, id);
        if (write_record(&rec) != 0) {
            cstate_record_deinit(&rec);
            return -1;
        }
        log_notice("No cluster configuration found, I'm %.40s", id);
    } else {
        log_warn("Cannot open the cluster config file %s: %s", server.cluster_config_file,
                 strerror(errno));
        return -1;
    }
    memcpy(cl.myid, rec.myid, sizeof(cl.myid));
    make_nodes(&rec);
    cstate_record_deinit(&rec);
    state_changed();
    /* Pings every T/10 and leases measured in ms want a finer timer than
     * the server's cron. */
    cl.tick = event_new(server.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(cl.tick, &tv);
    return 0;
}

void cluster_deinit(void)
{
    if (!cl.on)
        return;
    repl_deinit();
    for (int i = 0; i < 16; i++)
        link_destroy(&deferred[i]);
    for (int k = 0; k < cl.npeers; k++)
        peer_close(&cl.peers[k]);
    rc_free(cl.peers);
    cl.peers = NULL;
    cl.npeers = 0;
    ring_destroy(&cl.ring);
    if (cl.tick)
        event_free(cl.tick);
    cl.tick = NULL;
    liveness_destroy(&cl.lv);
    paxos_destroy(&cl.px);
    cl.on = 0;
}
