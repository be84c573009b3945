"""Failover under faults, with a checker of every acknowledged write.

A 3-node ring (cluster-replicas 2, min-replica-acks 1, appendfsync always,
cluster-node-timeout 1000) takes writes from 8 clients spread over every
node while a node is killed with SIGKILL or stopped with SIGSTOP, and
later comes back.  Every write a client saw acknowledged (+OK) must read
back afterwards, through every node; the killed node's slots must be
writable again on their new primaries within seconds; a stopped primary
that wakes up must never answer from its old copy.

The planted-bug tests run the same checks against a node started with a
rule broken on purpose (cluster-debug-bugs) and require the checker to
find the damage: a check that never fails may check nothing."""

import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import HOST
from ringutil import Ring, key_slot, pairs

redis = pytest.importorskip("redis")

TIMEOUT_MS = 1000
BASE = ["--appendonly", "yes", "--appendfsync", "always",
        "--min-replica-acks", "1", "--min-replica-acks-timeout", "1000"]


class Writers:
    """n threads, each writing its own keys through node (t % nodes) with
    a fresh value per write, recording what was acknowledged."""

    def __init__(self, ring, n=8, prefix="w"):
        self.ring, self.n, self.prefix = ring, n, prefix
        self.acked = {}             # key -> value acknowledged last
        self.errors = {}            # first words of error replies -> count
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(n)]

    def run(self, t):
        node = t % len(self.ring.nodes)
        r = self.ring.client(node, socket_timeout=3)
        i = 0
        deadline = time.monotonic() + 120        # bounded whatever happens
        while not self.stop.is_set() and time.monotonic() < deadline:
            key = "%s%d:%d" % (self.prefix, t, i)     # never rewritten: a loss shows
            val = "%d:%d" % (t, i)
            i += 1
            try:
                ok = r.set(key, val)
            except (redis.ConnectionError, redis.TimeoutError):
                # The node this client talks to is down or stalled: its
                # writes wait.
                time.sleep(0.05)
                r = self.ring.client(node, socket_timeout=3)
                # Unknown outcome: the key may hold either value now.
                with self.lock:
                    self.acked.pop(key, None)
                continue
            except redis.ResponseError as e:
                word = str(e).split()[0]
                with self.lock:
                    self.errors[word] = self.errors.get(word, 0) + 1
                    # NOREPLICAS after the write ran: outcome unknown too.
                    self.acked.pop(key, None)
                time.sleep(0.005)
                continue
            if ok:
                with self.lock:
                    self.acked[key] = val

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not any(t.is_alive() for t in self.threads)


def lost_writes(ring, acked, via):
    """Acknowledged writes that do not read back through node `via`."""
    r = ring.client(via, socket_timeout=10)
    keys = sorted(acked)
    lost = []
    for i in range(0, len(keys), 100):
        chunk = keys[i:i + 100]
        for attempt in range(50):
            try:
                got = r.mget(chunk)
                break
            except redis.ResponseError:
                time.sleep(0.1)     # a slot between primaries: retry
        else:
            raise AssertionError("MGET through node %d kept failing" % via)
        lost += [(k, acked[k], v) for k, v in zip(chunk, got) if v != acked[k]]
    return lost


def key_on(ring, node, prefix):
    """A key whose primary is node."""
    table = ring.slot_owners()
    for j in range(100000):
        k = "%s%d" % (prefix, j)
        if table[key_slot(k)] == node:
            return k
    raise AssertionError("no key on node %d" % node)


def first_success(ring, via, key, deadline_s=10.0):
    """Seconds until SET key through node via succeeds (retrying)."""
    r = ring.client(via, socket_timeout=2)
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        try:
            if r.set(key, "probe"):
                return time.monotonic() - t0
        except redis.RedisError:
            pass
        time.sleep(0.01)
    return None


def digests_in_step(ring):
    ports = [n.port for n in ring.nodes]
    d = [{s: (h, n) for s, h, n in ring.client(i).execute_command("RING", "DIGEST")}
         for i in range(len(ring.nodes))]
    for start, end, primary, *replicas in ring.client(0).execute_command("CLUSTER", "SLOTS"):
        p = ports.index(int(primary[1]))
        for rep in replicas:
            q = ports.index(int(rep[1]))
            for slot in range(start, end + 1):
                if d[p].get(slot) != d[q].get(slot):
                    return False
    return True


TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "utils", "ringcache-cluster")


def tool_check(ring):
    """`ringcache-cluster check` on the ring's ports: (exit status, output)."""
    ports = ",".join(str(n.port) for n in ring.nodes)
    p = subprocess.run(["/usr/bin/python3", TOOL, "check", "--ports", ports],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace")


def wait_until(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return False


def kill_and_return(extra=()):
    """Writers on, kill -9 node 2, measure the failover, restart it, let it
    rejoin; returns (ring, writers, failover seconds) with the ring still
    running (the caller stops it)."""
    ring = Ring(3, replicas=2, extra=BASE + list(extra), timeout_ms=TIMEOUT_MS)
    try:
        victim = 2
        probe = key_on(ring, victim, "probe:")
        with Writers(ring) as w:
            time.sleep(1.0)
            ring.kill(victim)
            took = first_success(ring, 0, probe)
            time.sleep(0.5)
            ring.restart(victim)
            ring.wait_healthy(timeout=30)
            time.sleep(0.5)
        return ring, w, took
    except BaseException:
        ring.stop()
        raise


def test_kill9_fails_over_within_seconds_and_loses_no_acknowledged_write():
    ring, w, took = kill_and_return()
    try:
        print("failover after kill -9: %.3f s; acked keys %d; errors %r"
              % (took or -1, len(w.acked), w.errors))
        assert took is not None and took < 5.0   # DESIGN: ~1.7 s at T=1000 ms
        assert len(w.acked) > 500
        for via in range(3):
            assert lost_writes(ring, w.acked, via) == []
        # The returned node took its slots back and every copy is in step.
        st = pairs(ring.client(2).execute_command("RING", "STATE"))
        assert all(pairs(m)["status"] == "up" for m in st["members"])
        log = "".join(n.log() for n in ring.nodes)
        assert "asking to rejoin" in log and "proposing its return" in log
        # Known gap (README "Failover and rejoin"): under heavy load some
        # slots' copies can stay apart after the failover and rejoin (a
        # replica misses a key its primary and the other replica hold);
        # the tool shows which.  Reported as xfail when it happens.
        in_step = wait_until(lambda: digests_in_step(ring), timeout=40)
        rc, out = tool_check(ring)
        if not in_step:
            pytest.xfail("copies differ after failover and rejoin: " + out.splitlines()[-1])
        assert rc == 0 and "0 slots differ" in out, out
    finally:
        ring.stop()


def test_planted_bug_unreplicated_acks_is_caught():
    # Writes acknowledged without reaching a replica: the kill loses some.
    ring, w, _ = kill_and_return(["--cluster-debug-bugs", str(0x2000)])
    try:
        assert lost_writes(ring, w.acked, 0) != []
        # Nothing replicated: the tool finds the copies that differ.
        rc, out = tool_check(ring)
        assert rc == 1 and " differs: " in out, out
    finally:
        ring.stop()


def stale_reads(client, key, want, seconds):
    """Values other than want that GET key answered for that long (errors,
    e.g. CLUSTERDOWN, are the right answer of a node that may not serve)."""
    stale = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            v = client.get(key)
            if v != want:
                stale.append(v)
        except redis.ResponseError:
            pass
    return stale


def stopped_primary_wakes(extra=()):
    """SIGSTOP the primary of a key past the node timeout and write the key
    through another node; then, with the other two stopped (the old
    primary is on the minority side, as in a partition, and cannot learn
    the new state), SIGCONT it and read the key through it; then let the
    others run too and read again.  Returns the ring and the stale values
    the woken node answered (none allowed)."""
    ring = Ring(3, replicas=2, extra=BASE + list(extra), timeout_ms=TIMEOUT_MS)
    try:
        victim, others = 1, (0, 2)
        k = key_on(ring, victim, "stop:")
        ring.client(0).set(k, "before")
        woken = ring.client(victim, socket_timeout=5)
        assert woken.get(k) == "before"
        stale = []
        ring.nodes[victim].signal(signal.SIGSTOP)
        try:
            assert first_success(ring, 0, k) is not None
            assert ring.client(0).set(k, "after")
            for i in others:
                ring.nodes[i].signal(signal.SIGSTOP)
            try:
                ring.nodes[victim].signal(signal.SIGCONT)
                stale += stale_reads(woken, k, "after", 1.0)
            finally:
                for i in others:
                    ring.nodes[i].signal(signal.SIGCONT)
        finally:
            ring.nodes[victim].signal(signal.SIGCONT)
        stale += stale_reads(woken, k, "after", 1.0)
        return ring, stale
    except BaseException:
        ring.stop()
        raise


def test_sigstopped_primary_never_answers_stale_after_waking():
    ring, stale = stopped_primary_wakes()
    try:
        assert stale == []
        ring.wait_healthy(timeout=30)
        assert ring.client(1).get(key_on(ring, 1, "stop:")) == "after"
    finally:
        ring.stop()


def two_node_ring_after_kill(extra=()):
    """Kill one node of a 2-node ring; returns the first error the other
    node answers a read of its own key with within 5 s ("" if none)."""
    ring = Ring(2, replicas=1, extra=list(extra), timeout_ms=TIMEOUT_MS)
    try:
        k = key_on(ring, 0, "two:")
        assert ring.client(0).set(k, "v")
        ring.kill(1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                ring.client(0).get(k)
            except redis.ResponseError as e:
                return ring, str(e)
            time.sleep(0.05)
        return ring, ""
    except BaseException:
        ring.stop()
        raise


def test_two_node_ring_stops_on_a_failure():
    ring, msg = two_node_ring_after_kill()
    try:
        # Without a majority node 0 loses its lease: CLUSTERDOWN, saying why.
        assert msg.startswith("CLUSTERDOWN No majority")
        info = ring.client(0).info("cluster")
        assert info["ring_lease"] == "no majority (lease lapsed)"
        assert "cluster_state:fail" in ring.client(0).execute_command("CLUSTER", "INFO")
    finally:
        ring.stop()


def test_planted_bug_serving_without_lease_is_caught():
    # The SIGSTOP test above cannot see this bug: a woken node finds the
    # newer state in its socket buffers before it answers.  A node cut
    # off from its majority can: it must stop; with the bug it goes on.
    ring, msg = two_node_ring_after_kill(["--cluster-debug-bugs", str(0x1000)])
    try:
        assert msg == ""
    finally:
        ring.stop()
