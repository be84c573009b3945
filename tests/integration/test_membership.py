"""Changing the ring's shape while it serves (issue 10): RING REPLICAS up
and down under writes from 8 clients through every node and reads of
acknowledged keys through every node.  Raising the count must really copy
the existing data (a kill -9 afterwards loses nothing); lowering it must
leave the remaining copies in step and the extra copies dropped."""

import time

from faultutil import Readers, Writers, digests_in_step, tool_check, verify, wait_until
from ringutil import Ring

BASE = ["--appendonly", "yes", "--appendfsync", "always"]


def info(ring, i):
    return {k: str(v) for k, v in ring.client(i).info("cluster").items()}


def preload(ring, n=3000):
    r = ring.client(0)
    with r.pipeline(transaction=False) as p:
        for j in range(n):
            p.set("pre:%d" % j, "v%d" % j)
        p.execute()
    return {"pre:%d" % j: "v%d" % j for j in range(n)}


def check_preloaded(ring, data, via):
    r = ring.client(via)
    keys = sorted(data)
    got = []
    for i in range(0, len(keys), 500):
        got += r.mget(keys[i:i + 500])
    return [(k, data[k], g) for k, g in zip(keys, got) if g != data[k]]


def total_local_keys(ring):
    return sum(int(info(ring, i)["ring_local_keys"]) for i in range(len(ring.nodes)))


def change_replicas_under_load(ring, n):
    with Writers(ring) as w, Readers(ring, w) as rd:
        time.sleep(1.0)
        assert ring.client(1).execute_command("RING", "REPLICAS", n) == "OK"
        assert wait_until(lambda: all(info(ring, i)["ring_replicas"] == str(n)
                                      for i in range(len(ring.nodes))), timeout=10)
        time.sleep(2.0)
    print("ops %d, failed %d, errors %r; reads %d, read errors %d"
          % (w.ops, w.failed_ops, w.errors, rd.reads, rd.errors))
    assert len(w.acked) > 300
    assert rd.reads > 100 and rd.bad == [], rd.bad[:10]
    for via in range(len(ring.nodes)):
        assert verify(ring, w, via) == []
    assert wait_until(lambda: digests_in_step(ring), timeout=20), tool_check(ring)[1]
    return w


def test_raising_replicas_copies_the_existing_data():
    ring = Ring(3, replicas=0, extra=BASE)
    try:
        data = preload(ring)
        assert total_local_keys(ring) == len(data)      # one copy each
        w = change_replicas_under_load(ring, 1)
        keys = len(data) + len(w.attempted) + len(w.incr_sent) + len(w.push_sent)
        # Two copies of every key now (a few attempted SETs may be absent).
        assert wait_until(lambda: total_local_keys(ring) >= 2 * (keys - len(w.attempted))
                          and total_local_keys(ring) <= 2 * keys, timeout=10)
        rc, out = tool_check(ring)
        assert rc == 0, out
        # The copies are real: kill -9 any node and nothing is lost.
        ring.kill(2)
        assert wait_until(lambda: check_preloaded(ring, data, 0) == [], timeout=15)
        for via in (0, 1):
            assert check_preloaded(ring, data, via) == []
            assert verify(ring, w, via) == []
    finally:
        ring.stop()


def test_lowering_replicas_drops_the_extra_copies():
    ring = Ring(3, replicas=2, extra=BASE)
    try:
        data = preload(ring)
        assert wait_until(lambda: total_local_keys(ring) == 3 * len(data), timeout=10)
        w = change_replicas_under_load(ring, 1)
        keys = len(data) + len(w.attempted) + len(w.incr_sent) + len(w.push_sent)
        # The third copies are dropped in the background (slotdrop.c).
        assert wait_until(lambda: total_local_keys(ring) <= 2 * keys, timeout=20), \
            (total_local_keys(ring), keys)
        dropped = [int(info(ring, i)["ring_dropped_keys"]) for i in range(3)]
        assert all(d > 0 for d in dropped), dropped
        assert sum(dropped) >= len(data)
        for via in range(3):
            assert check_preloaded(ring, data, via) == []
        assert digests_in_step(ring)
        rc, out = tool_check(ring)
        assert rc == 0, out
        # Two copies still: one node's loss loses nothing.
        ring.kill(0)
        assert wait_until(lambda: check_preloaded(ring, data, 1) == [], timeout=15)
        assert verify(ring, w, 2) == []
    finally:
        ring.stop()


def test_ring_replicas_errors():
    ring = Ring(3, replicas=1)
    try:
        r = ring.client(0)
        for bad in ("-1", "16", "x"):
            try:
                r.execute_command("RING", "REPLICAS", bad)
                raise AssertionError("accepted %s" % bad)
            except Exception as e:
                assert "replicas must be an integer from 0 to 15" in str(e)
        assert r.execute_command("RING", "REPLICAS", 1) == "OK"      # no change
        assert ring.state(0)["epoch"] == ring.state(1)["epoch"]
    finally:
        ring.stop()
