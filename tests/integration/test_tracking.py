"""Client-side caching (CLIENT TRACKING): invalidation messages as clients
see them, against a ringcached node, the reference redis-server 7.0 and
a 3-node ring whose keys are read through node 0 and live on the others.

Debian's redis-py (4.3) has no RESP3, so the tests speak RESP over raw
sockets (class Conn): RESP3 pushes for the tracking connection itself,
and RESP2 with REDIRECT to a connection subscribed to
__redis__:invalidate."""
import contextlib
import socket
import time

import pytest

redis = pytest.importorskip("redis")

from conftest import HOST, launch_node, reference_server, stop_node
from ringutil import Ring


class Conn:
    """A raw RESP2/RESP3 connection.  Push frames ('>') met while a reply
    is read are kept in self.pushes."""

    def __init__(self, port, resp=2):
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.buf = b""
        self.pushes = []
        if resp == 3:
            assert isinstance(self.cmd("HELLO", "3"), dict)

    def close(self):
        self.sock.close()

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def frame(self):
        """One frame: ('push', [...]) for a push, else the value."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+",):
            return rest.decode()
        if t == b"-":
            return redis.ResponseError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bulk(n)
        if t == b"_":
            return None
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.frame() for _ in range(n)]
            if t == b">":
                return ("push", items)
            return set(items) if t == b"~" else items
        if t == b"%":
            n = int(rest)
            out = {}
            for _ in range(n):
                k = self.frame()
                out[k] = self.frame()
            return out
        if t == b"#":
            return rest == b"t"
        raise AssertionError("unexpected frame %r" % line)

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def reply(self):
        while True:
            f = self.frame()
            if isinstance(f, tuple):
                self.pushes.append(f[1])
                continue
            return f

    def cmd(self, *args):
        self.send(*args)
        r = self.reply()
        if isinstance(r, Exception):
            raise r
        return r

    def wait_frames(self, timeout=1.0):
        """Frames that arrive within timeout (pushes kept in self.pushes,
        others returned)."""
        other, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"\r\n" not in self.buf:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    self._fill()
                except socket.timeout:
                    break
                finally:
                    self.sock.settimeout(5)
            f = self.frame()
            if isinstance(f, tuple):
                self.pushes.append(f[1])
            else:
                other.append(f)
        return other

    def invalidated(self, want=None, timeout=2.0):
        """Invalidation pushes: the keys they name (None for a flush),
        waiting until every key of want arrived (or timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            got = taken(self.pushes)
            if want is None or want <= flat(got) or time.monotonic() >= deadline:
                break
            self.wait_frames(min(0.1, max(0.01, deadline - time.monotonic())))
        if want is None:
            self.wait_frames(timeout)
        msgs = taken(self.pushes)
        self.pushes = []
        return msgs


def taken(pushes):
    return [p[1] for p in pushes if p and p[0] == b"invalidate"]


def flat(msgs):
    out = set()
    for m in msgs:
        if m is not None:
            out |= set(m)
    return out


class Target:
    """Where the tracking client connects (entry) and where another client
    writes each key (writer(key)); names of keys that are, in a ring,
    served by another node than the entry."""

    def __init__(self, kind, ports, ring=None):
        self.kind, self.ports, self.ring = kind, ports, ring
        self.entry = ports[0]

    def conn(self, resp=2):
        return Conn(self.entry, resp)

    def writer(self, key=None):
        """A RESP2 connection for writes: in a ring, on the key's owner."""
        if self.ring is not None and key is not None:
            return Conn(self.ports[self.ring.owner(key)])
        return Conn(self.entry)

    def local_key(self, prefix):
        """A key the entry node serves itself."""
        if self.ring is None:
            return prefix + ":local"
        return self.ring.keys_on(0, 1, prefix)[0]

    def keys(self, prefix, n):
        if self.ring is None:
            return ["%s:%d" % (prefix, i) for i in range(n)]
        # Keys of the other nodes, alternating between them.
        a = self.ring.keys_on(1, (n + 1) // 2, prefix)
        b = self.ring.keys_on(2, n // 2, prefix + "x")
        out = []
        for i in range(n):
            out.append(a[i // 2] if i % 2 == 0 else b[i // 2])
        return out

    def info(self, field, port=None):
        r = redis.Redis(host=HOST, port=port or self.entry, decode_responses=True)
        return r.info("everything")[field]


@pytest.fixture(scope="module", params=["ringcached", "redis", "ring"])
def target(request):
    with contextlib.ExitStack() as stack:
        if request.param == "ringcached":
            port, proc = launch_node()
            stack.callback(stop_node, proc)
            yield Target("ringcached", [port])
        elif request.param == "redis":
            port = stack.enter_context(reference_server(prefix="ringcache-trk-"))
            yield Target("redis", [port])
        else:
            ring = Ring(3)
            stack.callback(ring.stop)
            yield Target("ring", [n.port for n in ring.nodes], ring)


@pytest.fixture
def t(target):
    redis.Redis(host=HOST, port=target.entry).flushall()
    conns = []
    orig = target.conn

    def conn(resp=2):
        c = orig(resp)
        conns.append(c)
        return c
    target.conn = conn
    yield target
    target.conn = orig
    for c in conns:
        c.close()
    # FLUSHALL's null pushes must not leak into the next test's clients:
    # every connection above is closed.


def write(t, key, *cmd):
    w = t.writer(key)
    try:
        return w.cmd(*cmd)
    finally:
        w.close()


def test_default_mode_read_then_modified(t):
    c = t.conn(3)
    k, other = t.keys("dm", 2)
    assert c.cmd("CLIENT", "TRACKING", "on") == "OK"
    assert c.cmd("GET", k) is None
    if t.ring is not None:
        # The owner remembers the key for the entry node's link.
        assert t.ring.owner(k) != 0
        assert t.info("tracking_total_keys", port=t.ports[t.ring.owner(k)]) == 1
    write(t, k, "SET", k, "1")
    assert c.invalidated({k.encode()}) == [[k.encode()]]
    # Not read again: the next change sends nothing.
    write(t, k, "SET", k, "2")
    write(t, other, "SET", other, "x")
    assert c.invalidated(timeout=0.3) == []
    # Read again: tracked again.
    assert c.cmd("GET", k) == b"2"
    write(t, k, "DEL", k)
    assert c.invalidated({k.encode()}) == [[k.encode()]]


def test_own_write_follows_reply(t):
    c = t.conn(3)
    (k,) = t.keys("own", 1)
    c.cmd("CLIENT", "TRACKING", "on")
    c.cmd("GET", k)
    # The reply first, then the invalidation (held until the reply).
    c.send("SET", k, "v")
    assert c.frame() == "OK"
    assert c.invalidated({k.encode()}) == [[k.encode()]]


def test_mget_keys_each_invalidated(t):
    c = t.conn(3)
    ks = t.keys("mg", 4)
    c.cmd("CLIENT", "TRACKING", "on")
    for k in ks:
        c.cmd("GET", k)
    for k in ks:
        write(t, k, "SET", k, "1")
    got = c.invalidated({k.encode() for k in ks})
    assert sorted(got) == sorted([[k.encode()] for k in ks])


def test_expired_key_invalidated(t):
    c = t.conn(3)
    (k,) = t.keys("ex", 1)
    write(t, k, "SET", k, "v", "PX", "150")
    c.cmd("CLIENT", "TRACKING", "on")
    assert c.cmd("GET", k) == b"v"
    # Nobody touches the key: the active expiry cycle invalidates it.
    assert c.invalidated({k.encode()}, timeout=3) == [[k.encode()]]


def test_flushall_sends_null(t):
    c = t.conn(3)
    (k,) = t.keys("fl", 1)
    c.cmd("CLIENT", "TRACKING", "on")
    c.cmd("GET", k)
    w = t.writer()
    assert w.cmd("FLUSHALL") == "OK"
    w.close()
    # One null, whatever the number of nodes.
    assert c.invalidated(None, timeout=0.5) == [None]
    # FLUSHDB as well; the table was emptied, so no key message follows.
    c.cmd("GET", k)
    c.send("FLUSHDB")
    assert c.frame() == "OK"
    assert c.invalidated(None, timeout=0.5) == [None]
    write(t, k, "SET", k, "1")
    assert c.invalidated(timeout=0.3) == []


def test_optin_caching_yes(t):
    c = t.conn(3)
    a, b = t.keys("oi", 2)
    c.cmd("CLIENT", "TRACKING", "on", "OPTIN")
    c.cmd("GET", a)                         # not tracked
    assert c.cmd("CLIENT", "CACHING", "yes") == "OK"
    c.cmd("GET", b)                         # tracked
    c.cmd("GET", a)                         # CACHING lasted one command
    write(t, a, "SET", a, "1")
    write(t, b, "SET", b, "1")
    assert c.invalidated({b.encode()}, timeout=1) == [[b.encode()]]


def test_optout_caching_no(t):
    c = t.conn(3)
    a, b = t.keys("oo", 2)
    c.cmd("CLIENT", "TRACKING", "on", "OPTOUT")
    assert c.cmd("CLIENT", "CACHING", "no") == "OK"
    c.cmd("GET", a)                         # not tracked
    c.cmd("GET", b)                         # tracked
    write(t, a, "SET", a, "1")
    write(t, b, "SET", b, "1")
    assert c.invalidated({b.encode()}, timeout=1) == [[b.encode()]]


def test_noloop_skips_own_writes(t):
    c = t.conn(3)
    a, b = t.keys("nl", 2)
    c.cmd("CLIENT", "TRACKING", "on", "NOLOOP")
    c.cmd("GET", a)
    c.cmd("GET", b)
    assert c.cmd("SET", a, "mine") == "OK"
    write(t, b, "SET", b, "theirs")
    assert c.invalidated({b.encode()}, timeout=1) == [[b.encode()]]
    # Its own write dropped a from the table too: no message later.
    write(t, a, "SET", a, "theirs")
    assert c.invalidated(timeout=0.3) == []
    # A write of keys on several nodes (split in a ring, one part run on
    # the entry node itself) is its own too.
    loc = t.local_key("nl")
    for k in (a, b, loc):
        c.cmd("GET", k)
    assert c.cmd("MSET", a, "1", b, "1", loc, "1") == "OK"
    assert c.invalidated(timeout=0.3) == []
    write(t, loc, "SET", loc, "2")
    assert c.invalidated(timeout=0.3) == []


def test_bcast_prefixes(t):
    c = t.conn(3)
    users = t.keys("user", 3)
    objs = t.keys("obj", 2)
    (misc,) = t.keys("misc", 1)
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user", "PREFIX", "obj") == "OK"
    for k in users + objs + [misc]:
        write(t, k, "SET", k, "1")
    want = {k.encode() for k in users + objs}
    got = c.invalidated(want, timeout=3)
    assert flat(got) == want
    # One message per prefix and node, keys of one prefix each.
    for m in got:
        assert len({k[:3] for k in m}) == 1
    info = c.cmd("CLIENT", "TRACKINGINFO")
    assert info[b"prefixes"] == [b"obj", b"user"]
    assert info[b"flags"] == {b"on", b"bcast"}


def test_bcast_noloop(t):
    c = t.conn(3)
    mine, theirs = t.keys("pn", 2)
    c.cmd("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "pn")
    c.cmd("SET", mine, "1")
    write(t, theirs, "SET", theirs, "1")
    got = c.invalidated({theirs.encode()}, timeout=1)
    assert flat(got) == {theirs.encode()}
    # Another client of the same node gets both.
    d = t.conn(3)
    d.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "pn")
    c.cmd("SET", mine, "2")
    assert flat(d.invalidated({mine.encode()}, timeout=2)) == {mine.encode()}
    assert c.invalidated(timeout=0.3) == []


def test_resp2_redirect_to_subscriber(t):
    r = t.conn(2)
    rid = r.cmd("CLIENT", "ID")
    assert r.cmd("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    c = t.conn(2)
    assert c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", rid) == "OK"
    assert c.cmd("CLIENT", "GETREDIR") == rid
    ks = t.keys("rd", 2)
    for k in ks:
        c.cmd("GET", k)
    for k in ks:
        write(t, k, "SET", k, "1")
    msgs = []
    deadline = time.monotonic() + 3
    while len(msgs) < 2 and time.monotonic() < deadline:
        msgs += r.wait_frames(0.2)
    assert sorted(msgs) == sorted([[b"message", b"__redis__:invalidate", [k.encode()]]
                                   for k in ks])
    # FLUSHALL: the RESP2 null as the message.
    c.cmd("GET", ks[0])
    w = t.writer()
    w.cmd("FLUSHALL")
    w.close()
    assert r.wait_frames(0.5) == [[b"message", b"__redis__:invalidate", None]]
    # The target goes: the redirect is broken.
    r.close()
    c.cmd("GET", ks[0])
    write(t, ks[0], "SET", ks[0], "2")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        info = c.cmd("CLIENT", "TRACKINGINFO")
        if b"broken_redirect" in info[1]:
            break
        time.sleep(0.05)
    assert info == [b"flags", [b"on", b"broken_redirect"], b"redirect", rid,
                    b"prefixes", []]


def test_table_limit_evicts_with_invalidations(t):
    c = t.conn(3)
    ks = t.keys("lim", 20)
    c.cmd("CLIENT", "TRACKING", "on")
    # On the entry node only: in a ring the owners' own limits would drop
    # more keys (their invalidations reach the entry node too).
    entry = redis.Redis(host=HOST, port=t.entry)
    try:
        entry.config_set("tracking-table-max-keys", "5")
        for k in ks:
            c.cmd("GET", k)
        # 15 keys leave the table, each with an invalidation, though
        # nothing was written.
        got = c.invalidated(set(), timeout=0.1)
        deadline = time.monotonic() + 3
        while len(flat(got)) < 15 and time.monotonic() < deadline:
            c.cmd("PING")
            got += c.invalidated(set(), timeout=0.1)
        assert len(flat(got)) == 15 and flat(got) <= {k.encode() for k in ks}
        assert t.info("tracking_total_keys") <= 5
        # The 5 kept are still tracked.
        kept = [k for k in ks if k.encode() not in flat(got)]
        for k in kept:
            write(t, k, "SET", k, "1")
        assert flat(c.invalidated({k.encode() for k in kept}, timeout=2)) == \
            {k.encode() for k in kept}
    finally:
        entry.config_set("tracking-table-max-keys", "1000000")


def test_info_fields(t):
    c = t.conn(3)
    ks = t.keys("inf", 3)
    # The previous tests' connections are closed; the server frees them
    # when it reads their end.
    deadline = time.monotonic() + 2
    while t.info("tracking_clients") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert t.info("tracking_clients") == 0
    c.cmd("CLIENT", "TRACKING", "on")
    for k in ks:
        c.cmd("GET", k)
    d = t.conn(3)
    d.cmd("CLIENT", "TRACKING", "on")
    d.cmd("GET", ks[0])
    b = t.conn(3)
    b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b")
    assert t.info("tracking_clients") == 3
    assert t.info("tracking_total_keys") == 3
    assert t.info("tracking_total_items") == 4
    assert t.info("tracking_total_prefixes") == 2
    c.cmd("CLIENT", "TRACKING", "off")
    d.cmd("CLIENT", "TRACKING", "off")
    b.cmd("CLIENT", "TRACKING", "off")
    assert t.info("tracking_clients") == 0
    assert t.info("tracking_total_prefixes") == 0


def test_blocking_read_invalidated_when_served(t):
    """XREAD BLOCK and BLPOP remember their keys when they block (in a
    ring: over the link pinned to the client): the write that serves them
    invalidates the key, and the key is not tracked after that."""
    c = t.conn(3)
    # In a ring, both on one other node: the pinned link stays.
    s, q = t.ring.keys_on(1, 2, "blk") if t.ring else t.keys("blk", 2)
    write(t, s, "XADD", s, "1-1", "f", "v")
    c.cmd("CLIENT", "TRACKING", "on")
    c.send("XREAD", "BLOCK", "5000", "STREAMS", s, "$")
    assert c.wait_frames(0.3) == []     # blocked
    write(t, s, "XADD", s, "2-1", "f", "v")
    assert c.reply() == {s.encode(): [[b"2-1", [b"f", b"v"]]]}
    assert c.invalidated({s.encode()}, timeout=2) == [[s.encode()]]
    write(t, s, "XADD", s, "3-1", "f", "v")
    assert c.invalidated(timeout=0.3) == []
    # Served at once (nothing to wait for): remembered all the same.
    assert s.encode() in c.cmd("XREAD", "BLOCK", "5000", "STREAMS", s, "0")
    write(t, s, "XADD", s, "4-1", "f", "v")
    assert c.invalidated({s.encode()}, timeout=2) == [[s.encode()]]
    # BLPOP is a write: it pops, so it tracks nothing.
    c.send("BLPOP", q, "5")
    assert c.wait_frames(0.3) == []
    write(t, q, "RPUSH", q, "a")
    assert c.reply() == [q.encode(), b"a"]
    write(t, q, "RPUSH", q, "b")
    assert c.invalidated(timeout=0.3) == []


def test_watched_transaction_reads_are_tracked(t):
    """A transaction after WATCH of a key another node serves runs there,
    over the client's pinned link; its reads are tracked like any other."""
    c = t.conn(3)
    (k,) = t.keys("wt", 1)
    write(t, k, "SET", k, "1")
    c.cmd("CLIENT", "TRACKING", "on")
    assert c.cmd("WATCH", k) == "OK"
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("GET", k) == "QUEUED"
    assert c.cmd("EXEC") == [b"1"]
    write(t, k, "SET", k, "2")
    assert c.invalidated({k.encode()}, timeout=2) == [[k.encode()]]


def test_ring_pinned_link_closed_flushes_its_client(t):
    """The link pinned to a client moves to another node when its next
    blocking command's key is served there: the first node forgets what
    it tracked for that link, so the client (it alone) gets the flush
    null, and its other clients nothing."""
    if t.kind != "ring":
        pytest.skip("ring only")
    c, other = t.conn(3), t.conn(3)
    a = t.ring.keys_on(1, 1, "pa")[0]
    b = t.ring.keys_on(2, 1, "pb")[0]
    write(t, a, "XADD", a, "1-1", "f", "v")
    for x in (c, other):
        x.cmd("CLIENT", "TRACKING", "on")
    assert a.encode() in c.cmd("XREAD", "BLOCK", "100", "STREAMS", a, "0")
    assert c.cmd("BLPOP", b, "0.05") is None        # pinned to node 2 now
    assert c.invalidated(None, timeout=0.5) == [None]
    assert other.invalidated(timeout=0.1) == []


def test_ring_write_through_entry_node(t):
    """In a ring, a write forwarded by the entry node itself (another
    client there) invalidates too."""
    c = t.conn(3)
    (k,) = t.keys("thr", 1)
    c.cmd("CLIENT", "TRACKING", "on")
    c.cmd("GET", k)
    w = Conn(t.entry)
    try:
        w.cmd("SET", k, "1")
    finally:
        w.close()
    assert c.invalidated({k.encode()}) == [[k.encode()]]


def assert_prefixes_registered_again(tr, b, k):
    """BCAST client b's prefixes were registered on k's owner again: a
    null told b to start over, and writes of k reach it (within 10 s)."""
    deadline = time.monotonic() + 10
    got = []
    while time.monotonic() < deadline and k.encode() not in flat(got):
        write(tr, k, "SET", k, "1")
        got += b.invalidated({k.encode()}, timeout=0.5)
    assert k.encode() in flat(got)
    assert None in got


def test_ring_link_loss_flushes(t):
    """A node that tracked keys for the entry node's links goes away: the
    entry node's tracking clients get the flush null; once it is back,
    BCAST prefixes are registered on it again (with another null) and its
    changes are sent again."""
    if t.kind != "ring":
        pytest.skip("ring only")
    ring = Ring(3)
    try:
        tr = Target("ring", [n.port for n in ring.nodes], ring)
        (k,) = tr.keys("ll", 1)
        owner = ring.owner(k)
        c = Conn(ring.nodes[0].port, 3)
        c.cmd("CLIENT", "TRACKING", "on")
        c.cmd("GET", k)
        b = Conn(ring.nodes[0].port, 3)
        b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ll")
        # The prefix registrations reached every node: a change is seen.
        write(tr, k, "SET", k, "0")
        assert flat(b.invalidated({k.encode()}, timeout=3)) == {k.encode()}
        assert c.invalidated({k.encode()}, timeout=3) == [[k.encode()]]
        c.cmd("GET", k)
        ring.kill(owner)
        assert c.invalidated(None, timeout=5)[:1] == [None]
        assert None in b.invalidated(None, timeout=1)
        ring.restart(owner)
        ring.wait_healthy()
        # Registered again: a null tells the BCAST client to start over,
        # then the owner's changes arrive.
        assert_prefixes_registered_again(tr, b, k)
        c.close()
        b.close()
    finally:
        ring.stop()


def test_ring_replicas_invalidate_once(t):
    """With copies of every slot on another node, a change reaches the
    entry node twice (its copy is updated, the owner pushes): a client
    still gets one invalidation per key, in both modes."""
    if t.kind != "ring":
        pytest.skip("ring only")
    ring = Ring(3, replicas=1)
    try:
        tr = Target("ring", [n.port for n in ring.nodes], ring)
        ks = tr.keys("rp", 6)
        b = Conn(ring.nodes[0].port, 3)
        b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "rp")
        d = Conn(ring.nodes[0].port, 3)
        d.cmd("CLIENT", "TRACKING", "on")
        for k in ks:
            d.cmd("GET", k)
        for k in ks:
            write(tr, k, "SET", k, "1")
        want = {k.encode() for k in ks}
        for conn in (b, d):
            got = conn.invalidated(want, timeout=3)
            got += conn.invalidated(timeout=0.5)
            keys = [k for m in got for k in m]
            assert sorted(keys) == sorted(want)
        b.close()
        d.close()
    finally:
        ring.stop()


def test_ring_bcast_reaches_an_added_member(t):
    """A member added after a client registered its BCAST prefixes gets
    them too: the new state makes the entry node start its clients over
    (the flush null) and register the prefixes on every member, so a
    change the new member makes to a key it owns reaches the client."""
    if t.kind != "ring":
        pytest.skip("ring only")
    from ringutil import Node
    ring = Ring(3)
    new = Node(ring.root, 3, ["--cluster-node-timeout", "1000"])
    try:
        b = Conn(ring.nodes[0].port, 3)
        b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "am")
        new.start()
        assert ring.client(1).execute_command("CLUSTER", "MEET", new.host, new.port) == "OK"
        ring.nodes.append(new)
        ring.wait_healthy(timeout=30)
        tr = Target("ring", [n.port for n in ring.nodes], ring)
        (k,) = ring.keys_on(3, 1, "am")
        assert ring.owner(k) == 3
        assert_prefixes_registered_again(tr, b, k)
        b.close()
    finally:
        new.stop()
        ring.stop()
