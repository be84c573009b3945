"""Streams across clients, processes, files and the ring.

- Blocking XREAD and XREADGROUP (BLOCK with $, >, timeouts, several keys)
  are woken by XADD from another client; through a 3-node ring the
  blocked client and the writer talk to different nodes than the key's
  owner.
- SAVE + restart, and RDB files both ways with redis-server 7.0 (type 19,
  STREAM_LISTPACKS_2, with consumer groups, PELs, deleted entries and many
  nodes): the same XINFO STREAM FULL, XRANGE and XPENDING.
- DUMP/RESTORE both ways; corrupt payloads are refused.
- The append-only log: XADD with concrete ids and trims, XREADGROUP,
  XCLAIM, XAUTOCLAIM, XACK, XGROUP ... replayed give the same stream and
  groups; redis-server loads our log directory too.
"""
import os
import random
import shutil
import threading
import time

import pytest

from conftest import HOST, redis_on_files, reference_server, start_in_dir, stop_node
from ringutil import Ring

redis = pytest.importorskip("redis")


def raw_client(port):
    """A client whose stream replies stay raw (redis-py reshapes them)."""
    r = redis.Redis(host=HOST, port=port)
    for name in list(r.response_callbacks):
        if name.upper().startswith("X"):
            del r.response_callbacks[name]
    return r


@pytest.fixture
def reference():
    with reference_server("ringcache-stream-ref-") as port:
        yield raw_client(port)


class Blocked:
    """Runs one command on its own connection in a thread."""

    def __init__(self, port, *cmd):
        self.r = raw_client(port)
        self.reply = None
        self.error = None
        self.t = threading.Thread(target=self.run, args=(cmd,), daemon=True)
        self.t.start()

    def run(self, cmd):
        try:
            self.reply = self.r.execute_command(*cmd)
        except Exception as e:   # noqa: BLE001 - reported by the test
            self.error = e

    def result(self, timeout=10):
        self.t.join(timeout)
        assert not self.t.is_alive(), "the blocked command never returned"
        if self.error:
            raise self.error
        return self.reply


def wait_blocked(r, n=1, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(r.info("clients")["blocked_clients"]) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


def build(r, nodes_of=5):
    """A stream of several nodes with deleted entries, two groups with
    pending entries owned by two consumers, and a trimmed stream."""
    r.config_set("stream-node-max-entries", nodes_of)
    for i in range(1, 31):
        r.execute_command("XADD", "s", "%d-%d" % (i // 4 + 1, i % 4), "f", i, "g", "v%d" % i)
    r.execute_command("XADD", "s", "100-0", "other", "fields", "n", -5)
    r.execute_command("XDEL", "s", "2-0", "3-1", "5-2")
    r.execute_command("XGROUP", "CREATE", "s", "g1", "0")
    r.execute_command("XGROUP", "CREATE", "s", "g2", "$")
    r.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 5, "STREAMS", "s", ">")
    r.execute_command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", 3, "STREAMS", "s", ">")
    r.execute_command("XACK", "s", "g1", "1-2")
    r.execute_command("XCLAIM", "s", "g1", "carol", 0, "2-1", "TIME", 1700000000000,
                      "RETRYCOUNT", 4)
    r.execute_command("XGROUP", "CREATECONSUMER", "s", "g2", "idle")
    r.execute_command("XADD", "t", "1-1", "a", 1)
    r.execute_command("XADD", "t", "1-2", "a", 2)
    r.execute_command("XTRIM", "t", "MAXLEN", 0)
    r.execute_command("XADD", "empty", "5-5", "x", "y")
    r.execute_command("XDEL", "empty", "5-5")


def strip_times(x):
    """XINFO STREAM FULL without the consumers' seen-time (set by the
    clock of whoever last saw them)."""
    if isinstance(x, list):
        out = []
        skip = False
        for v in x:
            if skip:
                skip = False
                out.append(0)
                continue
            if v == b"seen-time":
                skip = True
            out.append(strip_times(v))
        return out
    return x


def answers(r, keep_times=True):
    out = []
    for k in ("s", "t", "empty"):
        full = r.execute_command("XINFO", "STREAM", k, "FULL", "COUNT", 0)
        out.append(full if keep_times else strip_times(full))
        out.append(r.execute_command("XRANGE", k, "-", "+"))
        out.append(r.execute_command("XREVRANGE", k, "+", "-", "COUNT", 7))
    out.append(r.execute_command("XPENDING", "s", "g1"))
    out.append(r.execute_command("XINFO", "GROUPS", "s"))
    return out


# ---- blocking ----

def test_xread_block_woken_by_xadd(node):
    _, port, _ = node
    r = raw_client(port)
    r.execute_command("XADD", "s", "1-1", "a", 1)
    b = Blocked(port, "XREAD", "BLOCK", 5000, "STREAMS", "other", "s", "0", "$")
    wait_blocked(r)
    r.execute_command("XADD", "s", "1-2", "a", 2)
    assert b.result() == [[b"s", [[b"1-2", [b"a", b"2"]]]]]
    # A timeout is a null reply; BLOCK 0 with data answers at once.
    t0 = time.monotonic()
    assert r.execute_command("XREAD", "BLOCK", 50, "STREAMS", "s", "$") is None
    assert time.monotonic() - t0 >= 0.04
    assert r.execute_command("XREAD", "BLOCK", 0, "STREAMS", "s", "1-1") == \
        [[b"s", [[b"1-2", [b"a", b"2"]]]]]
    # A key created while waiting also wakes the client.
    b = Blocked(port, "XREAD", "BLOCK", 5000, "COUNT", 1, "STREAMS", "new", "$")
    wait_blocked(r)
    r.execute_command("XADD", "new", "7-7", "x", "y")
    r.execute_command("XADD", "new", "7-8", "x", "z")
    assert b.result() == [[b"new", [[b"7-7", [b"x", b"y"]]]]]


def test_xreadgroup_block_and_pel(node):
    _, port, _ = node
    r = raw_client(port)
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    b = Blocked(port, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 5000, "STREAMS", "s", ">")
    wait_blocked(r)
    r.execute_command("XADD", "s", "1-1", "a", 1)
    assert b.result() == [[b"s", [[b"1-1", [b"a", b"1"]]]]]
    pending = r.execute_command("XPENDING", "s", "g")
    assert pending == [1, b"1-1", b"1-1", [[b"alice", b"1"]]]
    # NOACK leaves the PEL alone; the group's position moves.
    b = Blocked(port, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "BLOCK", 5000,
                "STREAMS", "s", ">")
    wait_blocked(r)
    r.execute_command("XADD", "s", "1-2", "a", 2)
    assert b.result() == [[b"s", [[b"1-2", [b"a", b"2"]]]]]
    assert r.execute_command("XPENDING", "s", "g")[0] == 1
    # A group destroyed while a client waits on it: NOGROUP.
    b = Blocked(port, "XREADGROUP", "GROUP", "g", "carol", "BLOCK", 5000,
                "STREAMS", "s", ">")
    wait_blocked(r)
    r.execute_command("XGROUP", "DESTROY", "s", "g")
    r.execute_command("XADD", "s", "1-3", "a", 3)
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        b.result()


def test_blocking_through_the_ring():
    ring = Ring(3)
    try:
        # A key served by node 2; the reader talks to node 0, the writer to
        # node 1: both are forwarded to the owner, which wakes the reader.
        key = None
        for i in range(1000):
            if ring.owner("st%d" % i) == 2:
                key = "st%d" % i
                break
        assert key is not None
        p0, p1 = ring.nodes[0].port, ring.nodes[1].port
        w = raw_client(p1)
        w.execute_command("XGROUP", "CREATE", key, "g", "$", "MKSTREAM")
        b1 = Blocked(p0, "XREAD", "BLOCK", 8000, "STREAMS", key, "$")
        b2 = Blocked(p0, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 8000, "STREAMS", key, ">")
        wait_blocked(raw_client(ring.nodes[2].port), 2, timeout=8)
        assert w.execute_command("XADD", key, "5-1", "k", "v") == b"5-1"
        want = [[key.encode(), [[b"5-1", [b"k", b"v"]]]]]
        assert b1.result() == want
        assert b2.result() == want
        assert raw_client(p1).execute_command("XPENDING", key, "g")[0] == 1
        assert raw_client(p0).execute_command("XLEN", key) == 1
    finally:
        ring.stop()


# ---- snapshots ----

def test_save_and_restart(workdir):
    port, proc = start_in_dir(workdir)
    try:
        r = raw_client(port)
        build(r)
        before = answers(r)
        assert r.save()
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir)
    try:
        assert answers(raw_client(port)) == before
    finally:
        stop_node(proc)


def test_redis_loads_our_rdb_and_we_load_its(workdir):
    port, proc = start_in_dir(workdir)
    try:
        r = raw_client(port)
        build(r)
        want = answers(r)
        assert r.save()
    finally:
        stop_node(proc)
    with redis_on_files(workdir, ["dump.rdb"], "--appendonly", "no",
                        "--sanitize-dump-payload", "yes") as (rport, d):
        rs = raw_client(rport)
        assert answers(rs) == want
        # And back: redis-server's file, loaded by us.
        rs.execute_command("XADD", "s", "200-0", "more", "x")
        want2 = answers(rs)
        assert rs.save()
        os.unlink(os.path.join(workdir, "dump.rdb"))
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(workdir, "dump.rdb"))
    port, proc = start_in_dir(workdir)
    try:
        assert answers(raw_client(port)) == want2
    finally:
        stop_node(proc)


def test_dump_restore_both_ways(node, reference):
    _, port, _ = node
    ours = raw_client(port)
    build(ours)
    build(reference)
    for k in ("t", "empty"):
        assert ours.dump(k) == reference.dump(k), k
    for k in ("s", "t", "empty"):
        reference.restore("r-" + k, 0, ours.dump(k))
        ours.restore("r-" + k, 0, reference.dump(k))
        # Each copy answers as the original it came from, groups, PELs
        # and delivery times included.
        for a, b in ((ours, reference), (reference, ours)):
            assert a.execute_command("XINFO", "STREAM", "r-" + k, "FULL") == \
                b.execute_command("XINFO", "STREAM", k, "FULL"), k
        assert ours.execute_command("XRANGE", "r-" + k, "-", "+") == \
            reference.execute_command("XRANGE", "r-" + k, "-", "+")
    # Our payload of s, restored by redis-server, dumps back identically.
    payload = ours.dump("s")
    reference.restore("again", 0, payload)
    assert reference.dump("again") == payload


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_streams_match_redis(node, reference, seed):
    """Random appends (ids close together and far apart, so the node keys
    share long and short prefixes), deletions and trims on streams of many
    small nodes: after every step XINFO STREAM (radix-tree-keys and
    radix-tree-nodes included) and DUMP equal redis-server's, and its DUMP
    restores here to the same stream: the node tree has the keys and the
    nodes redis-server's has.  (Exact MINID trims leave nodes without live
    entries, as in Redis.)"""
    _, port, _ = node
    ours = raw_client(port)
    rnd = random.Random(seed)
    node_entries = rnd.choice([1, 2, 3, 7])
    for r in (ours, reference):
        r.config_set("stream-node-max-entries", node_entries)
    ms, seq, ids = 0, 0, []
    for step in range(300):
        op = rnd.random()
        if op < 0.6 or not ids:
            gap = rnd.choice([0, 0, 1, 3, 255, 256, 65536, 1 << 33, 1 << 56])
            if gap:
                ms, seq = ms + gap, rnd.choice([0, 1, 255, 256])
            else:
                seq += rnd.choice([1, 1, 255, 1 << 40])
            cmd = ("XADD", "s", "%d-%d" % (ms, seq), "f", rnd.randrange(1000))
            ids.append("%d-%d" % (ms, seq))
        elif op < 0.85:
            cmd = ("XDEL", "s") + tuple(rnd.sample(ids, min(len(ids), rnd.randint(1, 4))))
        elif op < 0.95:
            cmd = ("XTRIM", "s", "MAXLEN", rnd.choice(["=", "~"]), rnd.randrange(len(ids) + 1))
        else:
            cmd = ("XTRIM", "s", "MINID", rnd.choice(["=", "~"]), rnd.choice(ids))
        assert ours.execute_command(*cmd) == reference.execute_command(*cmd), cmd
        if ours.exists("s"):
            assert ours.execute_command("XINFO", "STREAM", "s") == \
                reference.execute_command("XINFO", "STREAM", "s"), (step, cmd)
            payload = reference.dump("s")
            assert ours.dump("s") == payload, (step, cmd)
            ours.restore("copy", 0, payload, replace=True)
            assert ours.execute_command("XINFO", "STREAM", "copy", "FULL") == \
                reference.execute_command("XINFO", "STREAM", "s", "FULL"), (step, cmd)


def idle_free(reply):
    """XPENDING's extended form and XINFO CONSUMERS without the idle times
    (each server's own clock)."""
    if not (isinstance(reply, list) and reply and isinstance(reply[0], list)):
        return reply
    out = []
    for e in reply:
        if len(e) == 4 and isinstance(e[2], int):          # XPENDING id consumer idle count
            e = [e[0], e[1], 0, e[3]]
        elif b"idle" in e[::2]:                             # XINFO CONSUMERS
            e = [0 if j > 0 and e[j - 1] == b"idle" else v for j, v in enumerate(e)]
        out.append(e)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_random_groups_match_redis(node, reference, seed):
    """Random deliveries, acknowledgements in any order, claims, automatic
    claims (over entries deleted meanwhile), consumers created and deleted
    (names that are prefixes of one another, bytes 0 and 255): every reply,
    the PEL summaries, XPENDING ranges and XINFO GROUPS/CONSUMERS (idle
    times aside) equal redis-server's after every step, and so does XINFO
    STREAM FULL once the delivery times are made equal by an XCLAIM TIME of
    every pending entry, also of redis-server's DUMP restored here.  The groups, consumers and PELs are radix trees here as
    there, so orders and counts agree."""
    _, port, _ = node
    ours = raw_client(port)
    rnd = random.Random(seed)
    names = [b"a", b"ab", b"abc", b"b", b"a\x00", b"\xffz", b"consumer-%d" % seed]
    ids = []
    for i in range(400):
        ids.append("%d-%d" % (1000 + i // 3, i % 3))
        for r in (ours, reference):
            r.execute_command("XADD", "s", ids[-1], "f", i)
    for r in (ours, reference):
        r.execute_command("XGROUP", "CREATE", "s", "g", "0")
        r.execute_command("XGROUP", "CREATE", "s", "h", "0")

    def both(*cmd):
        a = ours.execute_command(*cmd)
        b = reference.execute_command(*cmd)
        assert idle_free(a) == idle_free(b), cmd
        return a

    seen = {"claimed": 0, "stale": 0, "pending": 0}
    for step in range(250):
        op = rnd.random()
        g = rnd.choice(["g", "g", "h"])
        c = rnd.choice(names)
        if op < 0.3:
            both("XREADGROUP", "GROUP", g, c, "COUNT", rnd.randint(1, 40), "STREAMS", "s", ">")
        elif op < 0.55:
            both("XACK", "s", g, *rnd.sample(ids, rnd.randint(1, 30)))
        elif op < 0.65:
            both("XCLAIM", "s", g, c, 0, *rnd.sample(ids, rnd.randint(1, 8)), "JUSTID")
        elif op < 0.75:
            got = both("XAUTOCLAIM", "s", g, c, 0, rnd.choice(ids), "COUNT", rnd.randint(1, 20),
                       "JUSTID")
            seen["claimed"] += len(got[1])
            seen["stale"] += len(got[2])
        elif op < 0.8:
            both("XGROUP", "DELCONSUMER", "s", g, c)
        elif op < 0.85:
            both("XGROUP", "CREATECONSUMER", "s", g, c)
        elif op < 0.9:
            both("XDEL", "s", *rnd.sample(ids, 3))
        else:
            start = rnd.choice(ids)
            both("XREADGROUP", "GROUP", g, c, "COUNT", 5, "STREAMS", "s", start)
        seen["pending"] = max(seen["pending"], both("XPENDING", "s", g)[0])
        both("XPENDING", "s", g, "-", "+", 15)
        both("XPENDING", "s", g, rnd.choice(ids), "+", 10, c)
        both("XINFO", "GROUPS", "s")
        both("XINFO", "CONSUMERS", "s", g)
    assert seen["claimed"] and seen["stale"] and seen["pending"] > 50, seen
    # Same delivery times and counts everywhere.
    for g in ("g", "h"):
        for entry in ours.execute_command("XPENDING", "s", g, "-", "+", 100000):
            for r in (ours, reference):
                r.execute_command("XCLAIM", "s", g, entry[1], 0, entry[0], "TIME", 1700000000000,
                                  "RETRYCOUNT", 3)
    assert strip_times(ours.execute_command("XINFO", "STREAM", "s", "FULL")) == \
        strip_times(reference.execute_command("XINFO", "STREAM", "s", "FULL"))
    ours.restore("copy", 0, reference.dump("s"))
    assert strip_times(ours.execute_command("XINFO", "STREAM", "copy", "FULL")) == \
        strip_times(reference.execute_command("XINFO", "STREAM", "s", "FULL"))


def test_corrupt_payloads_are_refused(node, reference):
    """Flipped bytes in a valid payload (checksum fixed by redis-server's
    own DUMP of nothing: we rebuild it with RESTORE's check off on the
    reference) never crash the node; bad ones get an error."""
    _, port, _ = node
    ours = raw_client(port)
    build(ours)
    payload = ours.dump("s")
    body = payload[:-10]
    rnd = random.Random(12)
    crc = crc64_jones
    for _ in range(300):
        b = bytearray(body)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        footer = payload[-10:-8]
        blob = bytes(b) + footer
        blob += crc(blob).to_bytes(8, "little")
        try:
            ours.restore("x", 0, blob, replace=True)
            ours.execute_command("XINFO", "STREAM", "x", "FULL")
            ours.execute_command("XREVRANGE", "x", "+", "-")
            ours.execute_command("XADD", "x", "*", "a", "b")
        except redis.ResponseError:
            pass
    assert ours.ping()


def _crc64_table():
    poly = 0x95AC9329AC4BC9B5
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64 = _crc64_table()


def crc64_jones(data):
    crc = 0
    for byte in data:
        crc = _CRC64[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# ---- the log ----

def group_ops(r):
    r.execute_command("XADD", "s", "MAXLEN", "~", 20, "250-*", "auto", "id")
    r.execute_command("XADD", "s", "MINID", "~", "3-0", "300-0", "late", "entry")
    r.execute_command("XTRIM", "s", "MAXLEN", "~", 10)
    r.execute_command("XREADGROUP", "GROUP", "g2", "dan", "STREAMS", "s", ">")
    r.execute_command("XAUTOCLAIM", "s", "g1", "erin", 0, "0", "COUNT", 3)
    r.execute_command("XCLAIM", "s", "g1", "frank", 0, "4-0", "4-1", "JUSTID", "LASTID", "9-0")
    r.execute_command("XGROUP", "SETID", "s", "g2", "7-0", "ENTRIESREAD", 12)
    r.execute_command("XGROUP", "DELCONSUMER", "s", "g1", "bob")
    r.execute_command("XSETID", "t", "50-0", "ENTRIESADDED", 9, "MAXDELETEDID", "2-0")


def test_log_replay(workdir):
    # CONFIG SET is not logged: the replaying node gets the node size from
    # its configuration, as the original did.
    conf = ("--appendonly", "yes", "--stream-node-max-entries", 5)
    port, proc = start_in_dir(workdir, *conf)
    try:
        r = raw_client(port)
        build(r)
        group_ops(r)
        before = answers(r, keep_times=False)
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir, *conf)
    try:
        r = raw_client(port)
        assert answers(r, keep_times=False) == before
        # A rewrite puts the streams in the new base (RDB): same again.
        r.execute_command("BGREWRITEAOF")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            p = r.info("persistence")
            if p["aof_rewrites"] >= 1 and p["aof_rewrite_in_progress"] == 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the rewrite did not finish")
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir, *conf)
    try:
        assert answers(raw_client(port), keep_times=False) == before
    finally:
        stop_node(proc)
    # redis-server replays our log directory to the same state.
    with redis_on_files(workdir, ["appendonlydir"], "--appendonly", "yes",
                        "--stream-node-max-entries", "5") as (rport, _):
        assert answers(raw_client(rport), keep_times=False) == before


# ---- COMMAND DOCS ----

STREAM_COMMANDS = ("xadd xrange xrevrange xlen xdel xtrim xsetid xread xreadgroup xack "
                   "xpending xclaim xautoclaim xgroup|create xgroup|createconsumer "
                   "xgroup|delconsumer xgroup|destroy xgroup|setid xgroup|help "
                   "xinfo|stream xinfo|groups xinfo|consumers xinfo|help").split()


def docs_structure(r, name):
    """COMMAND DOCS of one command without the prose (summary, complexity,
    history notes are our own words): keys, since, group, arguments."""
    reply = r.execute_command("COMMAND", "DOCS", name)
    assert len(reply) == 2
    doc = reply[1]
    out = []
    for k, v in zip(doc[::2], doc[1::2]):
        if k in (b"summary", b"complexity"):
            out.append(k)
        elif k == b"history":
            out.append((k, [h[0] for h in v]))
        else:
            out.append((k, v))
    return out


def test_command_docs_structure(node, reference):
    _, port, _ = node
    ours = raw_client(port)
    ours.response_callbacks.pop("COMMAND", None)
    reference.response_callbacks.pop("COMMAND", None)
    for name in STREAM_COMMANDS:
        assert docs_structure(ours, name) == docs_structure(reference, name), name
