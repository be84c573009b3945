"""Network partitions between real nodes, each in its own network
namespace (netlab.py), with the acknowledged-write checker of
faultutil.py (SETs, INCR counters, RPUSH lists from 8 clients, connected
through every node from the test process, which always reaches every
node: only node-to-node traffic is cut).

Profile (issue 9): appendfsync always, cluster-replicas 2, min-replica-acks
1, cluster-node-timeout 1000, 3 and 5 nodes.  Cases:
- a 5-node ring split 2|3 (packets silently dropped), then healed;
- one node of 3 isolated (connections refused), then healed;
- a flapping partition: cuts of random shapes and kinds, some shorter
  and some longer than the node timeout, healed between them.
Checked: no node on the minority side acknowledges a write sent once its
lease has run out (L/RATE_MIN after the cut: liveness.h) and answered
before the heal (while it could reach no lease holder at all), neither
to the writers nor to MinorityWrites, which keeps asking the minority's
own primaries; the majority writes every slot of which it holds two
copies or more, reads every slot, and answers NOREPLICAS for the others
(min-replica-acks 1 needs two copies), all within FAILOVER_S of the cut;
after healing, every node rejoins and acknowledges writes again, no
value appears that no client wrote, every slot's copies have equal
digests within 10 s of the heal, and nothing acknowledged is lost.

Known and reported as xfail (README "Fault tests"): copies agreeing
only after 10 s (but within 40 s); and, in the flapping case only, a
list read back with elements out of order or twice (not traced to the
end; the test prints the nodes' story).  Any acknowledged write lost
fails the test: the "handback" losses once excused here were the
acknowledgement a catch-up's marker raised over writes it did not
repair (README "Rejoin and handback"; RC_FAULT_BUGS=0x800 plants it
back).

The planted-bug test runs the split with nodes that serve without their
lease (cluster-debug-bugs 0x1000) and requires the lease check above to
find their acknowledgements: a check that never fails may check nothing.
A regression test pins the link fix the split found (src/link.c).

CI runs the short form (RC_FAULT_ROUNDS=3: one split, one isolation,
six flaps); RC_FAULT_ROUNDS=10 RC_FAULT_SEED=N (README "Fault tests")
the long one; RC_FAULT_BUGS=N starts the flapping test's nodes with
cluster-debug-bugs N (a planted bug, by hand).  Skipped unless root with
`ip netns`."""

import os
import random
import threading
import time

import pytest
import redis

import netlab
from faultutil import Writers, digests_in_step, verify, wait_until
from partcheck import (T_S, MinorityWrites, acks_without_lease, explain,
                       majority_serves, slot_holders, story)
from ringutil import Ring

ROUNDS = int(os.environ.get("RC_FAULT_ROUNDS", "3"))
SEED = int(os.environ.get("RC_FAULT_SEED", str(random.randrange(1 << 30))))
BUGS = int(os.environ.get("RC_FAULT_BUGS", "0"), 0)
FAILOVER_S = 6.0                        # expected T + a round + W = 1.65 s; a loaded box
BASE = ["--appendonly", "yes", "--appendfsync", "always",
        "--min-replica-acks", "1", "--min-replica-acks-timeout", "1000",
        # Nodes on private addresses: clients and peers are not on loopback.
        "--protected-mode", "no", "--cluster-secret", "partition-test-secret"]


@pytest.fixture
def netring():
    """netring(n, extra=()): a ring of n nodes, node i alone in its own
    namespace; returns (ring, lab).  Teardown stops the nodes, then undoes
    every namespace, link, route and rule the lab made."""
    why = netlab.why_unavailable()
    if why:
        pytest.skip(why)
    made = []

    def make(n, extra=()):
        lab = netlab.NetLab(n, random.Random(SEED))
        made.append([lab, None])
        made[-1][1] = Ring(n, replicas=2, extra=BASE + list(extra), timeout_ms=int(T_S * 1000),
                           hosts=lab.hosts, wraps=lab.wraps)
        return made[-1][1], lab
    yield make
    for lab, ring in made:
        try:
            if ring is not None:
                ring.stop()
        finally:
            lab.close()


class Cut:
    """One partition: side (the minority) parted from the rest, with
    MinorityWrites asking the side's primaries while it lasts."""

    def __init__(self, lab, side, rest, how, ring, holders):
        self.lab, self.side, self.rest, self.how = lab, list(side), list(rest), how
        lab.cut(self.side, self.rest, how)
        self.at, self.at_wall = time.monotonic(), time.time()    # every rule in place
        self.healed = self.healed_wall = None
        self.writes = MinorityWrites(ring, self.side, holders, "m%d" % int(self.at * 1000))
        self.acks = []

    def heal(self):
        self.healed, self.healed_wall = time.monotonic(), time.time()   # before the first rule goes
        self.lab.heal()
        self.acks = self.writes.finish()


def without_lease(w, cuts):
    """acks_without_lease over the writers' and every cut's own writes."""
    return acks_without_lease(list(w.acks) + [a for c in cuts for a in c.acks], cuts)


def seconds_to_step(ring, since, limit):
    """Seconds from since to the start of the first digests_in_step call
    that found every slot's copies equal, if one began within limit."""
    while time.monotonic() < since + limit:
        began = time.monotonic()
        try:
            if digests_in_step(ring):
                return began - since
        except redis.RedisError:
            pass
        time.sleep(0.1)
    return None


def heal_and_check(ring, w, cuts, holders, flapping=False):
    """Heal the last cut, let every node rejoin under load and show it
    acknowledges writes again; then stop the writers and check
    everything.  Returns seconds from heal to digests in step."""
    cuts[-1].heal()
    healed = cuts[-1].healed
    ring.wait_healthy(timeout=30)
    back = time.monotonic()
    everyone = set(range(len(ring.nodes)))

    def late():
        return {node for node, _, sent, _ in list(w.acks) if sent > back}
    served = wait_until(lambda: late() == everyone, timeout=5)
    w.stop.set()
    for t in w.threads:
        t.join(30)
    print("healed: all up after %.2f s, writers stopped after %.2f s; ops %d, failed %d, errors %r"
          % (back - healed, time.monotonic() - healed, w.ops, w.failed_ops, w.errors))
    assert served, "no acks through %r within 5 s after all were up" % (everyone - late())
    in_step_s = seconds_to_step(ring, healed, 10)
    bad = without_lease(w, cuts)
    assert bad == [], "minority acknowledged without lease: %r" % bad[:10]
    print("minority writes acknowledged: %d, none sent after its lease ran out"
          % sum(len(c.acks) for c in cuts))
    problems = {}
    for via in range(len(ring.nodes)):
        found = verify(ring, w, via)
        if found:
            print("through node %d: %d problems" % (via, len(found)))
            if not problems:
                print("  " + "\n  ".join(explain(w, cuts, holders, found)))
        problems.update((p[1], p) for p in found)
    problems = list(problems.values())
    in_step = in_step_s is not None
    if not in_step:
        in_step_s = seconds_to_step(ring, healed, 40)
        print("copies differ 10 s after the heal; in step after %s s" % in_step_s)
    if problems or not in_step:
        t0 = cuts[0].at_wall
        print("cuts (s): " + "; ".join("%r %.2f-%.2f" % (c.side, c.at_wall - t0, c.healed_wall - t0)
                                        for c in cuts))
        print("the nodes' story (s from the first cut):\n  " + "\n  ".join(
            "%7.3f n%d %s" % (at - t0, i, msg) for at, i, msg in story(ring) if at >= t0 - 1))
    lost = [p for p in problems if p[0] in ("lost", "lost incr", "lost rpush")]
    # A loss fails the test whatever else went wrong (seed 104 once lost
    # a write beside a list out of order, and the list's xfail hid it).
    assert not lost, "acknowledged writes lost: %r" % [p[:2] for p in lost][:10]
    if flapping and len(lost) != len(problems):
        # Known bug (README "Fault tests"), not traced to its end: a list
        # read back with elements out of order or twice after flapping.
        pytest.xfail("flapping partition: values no client wrote in that order: %r" % [
            p[:2] for p in problems if p not in lost][:5])
    assert len(lost) == len(problems), "values read that no client wrote: %r" % [
        p for p in problems if p not in lost][:10]
    if in_step_s is None:
        # Known (README "Known gaps the partition tests show"): seen once
        # under ASan after a 2|3 split, once digests compared values.
        pytest.xfail("copies still differ 40 s after the heal")
    if not in_step:
        # Seen on 3 nodes (README "Fault tests"): the rejoining node gets
        # every slot by dumps and the copies agree 5-12 s after the heal.
        pytest.xfail("copies in step %.1f s after the heal, not within 10 s" % in_step_s)
    return in_step_s


def split_rounds(ring, lab, w, rng, shape, how):
    """Partitions of the given shape (minority size), each held until the
    majority wrote every slot, then healed and the ring healthy again."""
    n = len(ring.nodes)
    holders = slot_holders(ring)
    cuts = []
    for r in range(max(1, ROUNDS - 2)):
        time.sleep(rng.uniform(0.5, 1.0))
        side = sorted(rng.sample(range(n), shape))
        rest = [i for i in range(n) if i not in side]
        cuts.append(Cut(lab, side, rest, how, ring, holders))
        time.sleep(1.5)          # about the failover time: fewer writes wait on a cut peer
        unwritten, unread, odd, single, nohold = majority_serves(
            ring, w, rest, "cut%d" % r, holders, cuts[-1].at + FAILOVER_S)
        took = time.monotonic() - cuts[-1].at
        print("cut %r | %r (%s): the majority wrote and read its slots %.2f s after the cut;"
              " %d slots with one copy there, %d with both holders cut off" % (
                  side, rest, how, took, single, nohold))
        assert unwritten == [], "majority never wrote %d slots, e.g. %r" % (len(unwritten), unwritten[:5])
        assert unread == [], "majority never read %d slots, e.g. %r" % (len(unread), unread[:5])
        assert odd == [], ("slots with one copy not answering NOREPLICAS, or with no holder"
                           " not answering CLUSTERDOWN: %r" % odd[:5])
        time.sleep(max(0.0, 3.0 - took))
        if r + 1 < max(1, ROUNDS - 2):
            cuts[-1].heal()
            ring.wait_healthy(timeout=30)
    return cuts, holders


def split_case(netring, nodes, shape, how, seed):
    rng = random.Random(seed)
    print("RC_FAULT_SEED=%d rounds=%d" % (SEED, ROUNDS))
    ring, lab = netring(nodes)
    w = Writers(ring)
    with w:
        cuts, holders = split_rounds(ring, lab, w, rng, shape, how)
        in_step = heal_and_check(ring, w, cuts, holders)
    print("%d|%d (%s): acks %d; copies in step %.2f s after the heal"
          % (shape, nodes - shape, how, len(w.acks), in_step))


def test_majority_minority_split_then_heal(netring):
    split_case(netring, 5, 2, "drop", SEED)


def test_isolated_node_then_heal(netring):
    split_case(netring, 3, 1, "reject", SEED + 1)


def test_flapping_partition(netring):
    """2 * RC_FAULT_ROUNDS cuts, each of a random shape (one node or two
    of five), kind (drop or reject) and length (0.3-2.5 s: below and
    above the node timeout), with 0.3-1.5 s healed between them."""
    rng = random.Random(SEED + 2)
    print("RC_FAULT_SEED=%d rounds=%d bugs=%#x" % (SEED, ROUNDS, BUGS))
    ring, lab = netring(5, ["--cluster-debug-bugs", str(BUGS)] if BUGS else [])
    holders = slot_holders(ring)
    cuts = []
    w = Writers(ring)
    with w:
        time.sleep(0.5)
        for i in range(2 * ROUNDS):
            side = sorted(rng.sample(range(5), rng.choice((1, 2))))
            how = rng.choice(("drop", "reject"))
            cuts.append(Cut(lab, side, [j for j in range(5) if j not in side], how, ring, holders))
            held = rng.uniform(0.3, 2.5)
            time.sleep(held)
            print("flap %d: %r cut (%s) for %.2f s" % (i, side, how, held))
            if i + 1 < 2 * ROUNDS:
                cuts[-1].heal()
                time.sleep(rng.uniform(0.3, 1.5))
        in_step = heal_and_check(ring, w, cuts, holders, flapping=True)
    print("flapping: acks %d; copies in step %.2f s after the last heal" % (len(w.acks), in_step))


def test_planted_bug_minority_serving_without_lease_is_caught(netring):
    # The split's lease check against nodes that ignore their lease: the
    # minority side goes on acknowledging writes (its primaries' first
    # successors there acknowledge them too), and the check must say so.
    rng = random.Random(SEED + 3)
    ring, lab = netring(5, ["--cluster-debug-bugs", str(0x1000)])
    holders = slot_holders(ring)
    with Writers(ring) as w:
        time.sleep(0.5)
        side = sorted(rng.sample(range(5), 2))
        cut = Cut(lab, side, [i for i in range(5) if i not in side], "drop", ring, holders)
        time.sleep(3.0)
        cut.heal()
    bad = without_lease(w, [cut])
    print("planted bug: %d writes acknowledged without lease, e.g. %r" % (len(bad), bad[:3]))
    assert bad != []


def test_forward_answered_tryagain_never_runs_after_heal(netring):
    """Regression: a node forwarding writes to a primary it cannot reach
    (packets dropped) answers TRYAGAIN after the node timeout; the writes
    must not run when the link heals.  link.c used to close such a link
    gracefully, and the kernel went on retransmitting the queued writes
    until the peer got them, after their clients were told nothing ran
    (the split test saw them as list elements out of order)."""
    ring, lab = netring(3)
    via, primary = 0, 1
    keys = ring.keys_on(primary, 4, "late")
    clients = [ring.client(via, socket_timeout=10) for _ in keys]
    for c, k in zip(clients, keys):
        assert c.set("{%s}:warm" % k, "v")     # its forwarding link is open
    lab.cut([via], [primary], "drop")           # node 2 still reaches both
    errors = []

    def write(c, k):
        try:
            c.set(k, "told TRYAGAIN")
        except redis.ResponseError as e:
            errors.append(str(e))
    threads = [threading.Thread(target=write, args=ck) for ck in zip(clients, keys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    lab.heal()
    assert len(errors) == len(keys) and all(e.startswith("TRYAGAIN") for e in errors), errors
    r = ring.client(primary)
    ran = wait_until(lambda: any(r.mget(keys)), timeout=6)
    assert not ran, "writes answered TRYAGAIN ran after the heal: %r" % r.mget(keys)
