"""Load and checks for the fault tests (test_failover.py, test_faults.py).

Writers drive a ring from several client threads while a test injects
faults, and remember what each write's reply said; verify() then reads
everything back through a node and lists every acknowledged write that
is missing and every value no client wrote.

Three kinds of writes, each with a simple oracle:
- SET of a key written once with one value: once acknowledged it must
  read back as that value; unacknowledged (error, timeout) it may hold
  the value or nothing.
- INCR of per-thread counters: the final value lies between the number
  of acknowledged increments and the number attempted.
- RPUSH of unique, increasing elements to per-thread lists: every
  acknowledged element is there, nothing else is, no element twice, in
  the order pushed.

Every acknowledged write (and every failed attempt) is also logged in Writers.acks as (node the
client was connected to, key, monotonic times the acknowledged attempt
was sent and its reply read), so a test can ask which node acknowledged what, and when
(test_partition.py: nothing acknowledged by a node after its lease ran
out)."""

import contextlib
import os
import subprocess
import threading
import time

import redis

from conftest import node_of_port
from ringutil import key_slot


class _Threads:
    """Threads (self.threads) started on entry; on exit told to stop
    (self.stop) and joined, within bounds."""

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not any(t.is_alive() for t in self.threads)


class Writers(_Threads):
    """n threads, thread t writing through node (t % nodes)."""

    def __init__(self, ring, n=8, prefix="w", retries=0):
        self.ring, self.n, self.prefix, self.retries = ring, n, prefix, retries
        self.acked = {}             # SET key -> value acknowledged
        self.attempted = {}         # SET key -> value sent
        self.incr_acked, self.incr_sent = {}, {}     # counter -> count
        self.push_acked, self.push_sent = {}, {}     # list -> [elements]
        self.errors = {}            # first word of error replies -> count
        self.acks = []              # acknowledged: (node, key, time sent, time acked)
        self.failures = []          # not: (node, key, time sent, first word of the error)
        self.ops = self.failed_ops = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.hold = threading.Event()   # set: threads park between writes (paused())
        self.parked = 0
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(n)]

    @contextlib.contextmanager
    def paused(self, timeout=10.0):
        """No writes during the body (each thread ends the one it has in
        flight, then waits): copies can be compared across nodes, which
        RING DIGEST, asked of one node after another, cannot do under a
        steady stream of writes."""
        self.hold.set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.parked == sum(t.is_alive() for t in self.threads):
                    break
            time.sleep(0.01)
        try:
            yield self
        finally:
            self.hold.clear()

    def _error(self, word, node, key, sent):
        with self.lock:
            self.errors[word] = self.errors.get(word, 0) + 1
            self.failures.append((node, key, sent, word))

    def node_of(self, r):
        """Index of the node client r talks to."""
        kw = r.connection_pool.connection_kwargs
        return [(n.host, n.port) for n in self.ring.nodes].index((kw["host"], kw["port"]))

    def _call(self, t, r, fn, key):
        """fn(r, attempt) with up to self.retries retries; (ok, result,
        client).  A failed attempt may still have run (NOREPLICAS, a lost
        reply): fn makes each attempt's write distinct and records it.
        A successful attempt whose result is true is logged in acks."""
        node = self.node_of(r)
        for attempt in range(self.retries + 1):
            try:
                sent = time.monotonic()
                res = fn(r, attempt)
                if res:
                    with self.lock:
                        self.acks.append((node, key, sent, time.monotonic()))
                return True, res, r
            except (redis.ConnectionError, redis.TimeoutError):
                # The node is down or stalled: outcome unknown; retry
                # through the next node, as a client given several nodes
                # (or a cluster client) does.
                self._error("CONNECTION", node, key, sent)
                time.sleep(0.05)
                node = (node + 1) % len(self.ring.nodes)
                r = self.ring.client(node, socket_timeout=3)
            except redis.ResponseError as e:
                # TRYAGAIN, CLUSTERDOWN (nothing ran) or NOREPLICAS (ran,
                # not acknowledged by a replica): outcome unknown either way.
                self._error(str(e).split()[0], node, key, sent)
                time.sleep(0.05 if self.retries else 0.005)
        return False, None, r

    def run(self, t):
        r = self.ring.client(t % len(self.ring.nodes), socket_timeout=3)
        i = 0
        deadline = time.monotonic() + 180        # bounded whatever happens
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.hold.is_set():
                with self.lock:
                    self.parked += 1
                while self.hold.is_set() and not self.stop.is_set():
                    time.sleep(0.005)
                with self.lock:
                    self.parked -= 1
                continue
            kind = i % 4
            if kind < 2:
                key = "%s%d:%d" % (self.prefix, t, i)   # never rewritten
                val = "%d:%d" % (t, i)
                with self.lock:
                    self.attempted[key] = val
                ok, res, r = self._call(t, r, lambda c, a: c.set(key, val), key)
                if ok and res:
                    with self.lock:
                        self.acked[key] = val
            elif kind == 2:
                key = "%sc%d:%d" % (self.prefix, t, (i // 4) % 8)
                def incr(c, a):
                    with self.lock:
                        self.incr_sent[key] = self.incr_sent.get(key, 0) + 1
                    return c.incr(key)
                ok, _, r = self._call(t, r, incr, key)
                if ok:
                    with self.lock:
                        self.incr_acked[key] = self.incr_acked.get(key, 0) + 1
            else:
                key = "%sl%d:%d" % (self.prefix, t, (i // 4) % 4)
                last = []

                def rpush(c, a):
                    elem = "%d.%d" % (i, a)     # a retry pushes a new element
                    last[:] = [elem]
                    with self.lock:
                        self.push_sent.setdefault(key, []).append(elem)
                    return c.rpush(key, elem)
                ok, _, r = self._call(t, r, rpush, key)
                if ok:
                    with self.lock:
                        self.push_acked.setdefault(key, []).append(last[0])
            with self.lock:
                self.ops += 1
                self.failed_ops += not ok
            i += 1


def _retrying(fn, attempts=100):
    for _ in range(attempts):
        try:
            return fn()
        except redis.ResponseError:
            time.sleep(0.1)     # a slot between primaries: retry
    raise AssertionError("reads kept failing")


def verify(ring, w, via):
    """Problems found reading everything back through node via: a list of
    (kind, key, wanted, got); empty when nothing acknowledged was lost and
    nothing unwritten appeared."""
    r = ring.client(via, socket_timeout=10)
    bad = []
    keys = sorted(w.attempted)
    for i in range(0, len(keys), 100):
        chunk = keys[i:i + 100]
        got = _retrying(lambda: r.mget(chunk))
        for k, v in zip(chunk, got):
            if k in w.acked and v != w.acked[k]:
                bad.append(("lost", k, w.acked[k], v))
            elif v is not None and v != w.attempted[k]:
                bad.append(("unwritten", k, w.attempted[k], v))
    for k, sent in w.incr_sent.items():
        v = int(_retrying(lambda: r.get(k)) or 0)
        if v < w.incr_acked.get(k, 0):
            bad.append(("lost incr", k, w.incr_acked.get(k, 0), v))
        elif v > sent:
            bad.append(("extra incr", k, sent, v))
    for k, sent in w.push_sent.items():
        got = _retrying(lambda: r.lrange(k, 0, -1))
        order = {e: n for n, e in enumerate(sent)}
        missing = [e for e in w.push_acked.get(k, []) if e not in set(got)]
        if missing:
            bad.append(("lost rpush", k, missing[:5], len(got)))
        if any(e not in order for e in got) or len(set(got)) != len(got) or \
                [order[e] for e in got if e in order] != sorted(order[e] for e in got if e in order):
            bad.append(("bad list", k, sent[:5], got[:5]))
    return bad


def keys_on(ring, node, prefix, count):
    """count keys whose primary is node (one slot table read)."""
    table = ring.slot_owners()
    keys = []
    for j in range(100000 * count):
        k = "%s%d" % (prefix, j)
        if table[key_slot(k)] == node:
            keys.append(k)
            if len(keys) == count:
                return keys
    raise AssertionError("not %d keys on node %d" % (count, node))


def key_on(ring, node, prefix):
    """A key whose primary is node."""
    return keys_on(ring, node, prefix, 1)[0]


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
    """Every slot's copies have equal digests (RING DIGEST on each node)."""
    ports = [n.port for n in ring.nodes]
    d = [{s: (h, n) for s, h, n in ring.client(i).execute_command("RING", "DIGEST")}
         for i in range(len(ring.nodes))]
    for start, end, primary, *replicas in ring.client(0).execute_command("CLUSTER", "SLOTS"):
        p = node_of_port(ports, primary[1])
        for rep in replicas:
            q = node_of_port(ports, rep[1])
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
        try:
            if fn():
                return True
        except redis.RedisError:
            pass
        time.sleep(0.1)
    return False


class Readers(_Threads):
    """n threads reading back, through every node in turn, keys a Writers
    has had acknowledged: every read must give the acknowledged value (a
    SET key is written once, so nothing else may be read).  Errors
    (CLUSTERDOWN, TRYAGAIN while a slot changes hands) are counted, not
    judged; a missing or different value is a problem."""

    def __init__(self, ring, w, n=2):
        self.ring, self.w, self.n = ring, w, n
        self.reads = self.errors = 0
        self.bad = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(n)]

    def run(self, t):
        import random
        rng = random.Random(t)
        clients = [self.ring.client(i, socket_timeout=3) for i in range(len(self.ring.nodes))]
        deadline = time.monotonic() + 180
        i = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            with self.w.lock:
                keys = list(self.w.acked.items())[-2000:]
            if not keys:
                time.sleep(0.01)
                continue
            k, v = keys[rng.randrange(len(keys))]
            try:
                got = clients[i % len(clients)].get(k)
                with self.lock:
                    self.reads += 1
                    if got != v:
                        self.bad.append((k, v, got))
            except redis.RedisError:
                with self.lock:
                    self.errors += 1
                time.sleep(0.01)
            i += 1
