"""A whole zone lost at once (issue 10, "Zones"): six nodes in three zones
of two ("data centres"), cluster-replicas 2, min-replica-acks 1.  Each
slot's three copies sit in three zones, so a write acknowledged by its
primary and one replica is in two zones; kill -9 both nodes of one zone
under writes from 8 clients and nothing acknowledged may be lost, the
zone's slots must be served by the other zones within seconds, and once
the zone comes back every copy must be in step again."""

import time

from conftest import main_port
from faultutil import Writers, digests_in_step, first_success, keys_on, tool_check, verify, wait_until
from ringutil import Ring

ZONES = ["dc%d" % (i // 2) for i in range(6)]
BASE = ["--appendonly", "yes", "--appendfsync", "always",
        "--min-replica-acks", "1", "--min-replica-acks-timeout", "1000"]


def zone_ring(extra=()):
    return Ring(6, replicas=2, extra=BASE + list(extra),
                per_node=[["--cluster-zone", z] for z in ZONES])


def copies_by_zone(ring):
    """For every slot range of CLUSTER SLOTS, the zones of its copies."""
    zone_of = {n.port: ZONES[i] for i, n in enumerate(ring.nodes)}
    out = []
    for start, end, *copies in ring.client(0).execute_command("CLUSTER", "SLOTS"):
        out.append((start, end, [zone_of[main_port(c[1])] for c in copies]))
    return out


def test_each_slot_has_one_copy_in_every_zone():
    ring = zone_ring()
    try:
        ranges = copies_by_zone(ring)
        assert sum(end - start + 1 for start, end, _ in ranges) == 16384
        bad = [(s, e, z) for s, e, z in ranges if sorted(z) != ["dc0", "dc1", "dc2"]]
        assert bad == [], bad[:5]
    finally:
        ring.stop()


def test_planted_zone_blind_placement_is_caught():
    """cluster-debug-bugs 0x10000 places copies as if no node had a zone:
    the check above must see slots with two copies in one zone (which a
    zone's loss could take with all but one of their copies)."""
    ring = zone_ring(["--cluster-debug-bugs", str(0x10000)])
    try:
        bad = [(s, e, z) for s, e, z in copies_by_zone(ring) if len(set(z)) < 3]
        print("zone-blind placement: %d slot ranges with copies sharing a zone" % len(bad))
        assert bad
    finally:
        ring.stop()


def test_killing_a_whole_zone_loses_nothing():
    ring = zone_ring()
    try:
        victims = [i for i, z in enumerate(ZONES) if z == "dc1"]
        # Keys whose primary is in the zone about to go, written before.
        probes = [keys_on(ring, v, "zprobe%d:" % v, 1)[0] for v in victims]
        with Writers(ring) as w:
            time.sleep(1.0)
            for v in victims:
                ring.kill(v)
            killed = time.monotonic()
            # The zone's slots are writable again through a survivor.
            took = [first_success(ring, 0, k, deadline_s=15) for k in probes]
            print("zone dc1 killed: its slots writable again after %r s" % took)
            assert all(t is not None for t in took), took
            assert time.monotonic() - killed < 15
            time.sleep(1.0)
        print("ops %d, failed %d, errors %r" % (w.ops, w.failed_ops, w.errors))
        assert len(w.acked) > 300
        survivors = [i for i in range(len(ring.nodes)) if i not in victims]
        for via in survivors:
            bad = verify(ring, w, via)
            assert bad == [], "through node %d: %r" % (via, bad[:10])
        # The zone comes back, catches up, and every copy agrees.
        for v in victims:
            ring.restart(v)
        ring.wait_healthy(timeout=40)
        for via in range(len(ring.nodes)):
            assert verify(ring, w, via) == []
        assert wait_until(lambda: digests_in_step(ring), timeout=20), tool_check(ring)[1]
    finally:
        ring.stop()
