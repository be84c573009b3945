"""Whole-ring backup and restore: ringcache-ship --cluster and
ringcache-restore (ring bundles).

A 3-node ring (one replica per slot, append-only log on) holds keys of
every type, with and without TTLs, in two databases, and a function
library.  While two clients write numbered keys one after another
through different nodes, a full ring bundle is shipped (encrypted with
age, spread over 3 + 2 erasure parts): the restored data must hold every
static key exactly (type, value, absolute expiry) and, of each client's
numbered keys, a prefix — what a consistent cut of the ring gives, and
what node snapshots taken one after another would not.  The bundle is
restored into a 5-node ring, a 1-node ring, a standalone ringcached and
one RDB that redis-server 7.0 loads; from three of its five parts; a
tampered bundle is refused with the target untouched; a restore killed
half-way and run again gives the whole data; an incremental bundle after
more writes (changes, deletions, expiries) restores to the newer data.

Nodes listen on 127.0.0.1, ports 31000-31999, and are stopped by PID.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import ringutil
from conftest import REDIS_SERVER, pick_port, start_node, start_redis, stop_node, stop_proc
from ringutil import Ring

redis = pytest.importorskip("redis")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHIP = os.path.join(ROOT, "utils", "ringcache-ship")
RESTORE = os.path.join(ROOT, "utils", "ringcache-restore")
PORTS = (31000, 31999)


def ring_port(cluster=False):
    """A port of this module's range; a ring node's from conftest's, where
    its cluster clients' port is below the ephemeral ports."""
    return pick_port(cluster=True) if cluster else pick_port(*PORTS)


@pytest.fixture(scope="module", autouse=True)
def own_ports():
    """Every node of this module on a port of its own range."""
    saved = ringutil.pick_port
    ringutil.pick_port = ring_port
    yield
    ringutil.pick_port = saved


def run(*argv, timeout=120):
    return subprocess.run([sys.executable] + [str(a) for a in argv], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def need_tools():
    if shutil.which("age") is None or shutil.which("age-keygen") is None:
        pytest.skip("age not installed (Debian package age)")
    try:
        import zfec  # noqa: F401
    except ImportError:
        pytest.skip("zfec not installed (Debian package python3-zfec)")


# ---- the data ----

LIB = """#!lua name=backuplib
redis.register_function('bk_echo', function(keys, args) return args[1] end)
"""


def populate(r):
    """Keys of every type in databases 0 and 3; some with TTLs."""
    r.set("s:plain", "hello")
    r.set("s:int", 12345)
    r.set("s:big", "x" * 5000)
    r.set("s:ttl", "soon", px=3_600_000)
    r.set("{tag}:a", "a")
    r.set("{tag}:b", "b")
    r.rpush("l:small", *range(10))
    r.rpush("l:big", *["item-%d" % i for i in range(300)])
    r.hset("h:small", mapping={"f%d" % i: i for i in range(5)})
    r.hset("h:big", mapping={"f%d" % i: "v" * (i % 70) for i in range(300)})
    r.expire("h:big", 7200)
    r.sadd("set:int", *range(20))
    r.sadd("set:str", *["m%d" % i for i in range(200)])
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3})
    r.zadd("z:big", {"m%d" % i: i / 7 for i in range(300)})
    r.pexpire("z:big", 5_000_000)
    for i in range(30):
        r.xadd("x:stream", {"n": i})
    r.xgroup_create("x:stream", "g1", id="0")
    r.xreadgroup("g1", "c1", {"x:stream": ">"}, count=5)
    r.pfadd("hll", *["e%d" % i for i in range(100)])
    for i in range(400):
        r.set("k:%d" % i, "v%d" % i)
        if i % 10 == 0:
            r.pexpire("k:%d" % i, 1_000_000 + i)
    r.execute_command("FUNCTION", "LOAD", LIB)
    r.execute_command("SELECT", 3)
    r.set("db3:s", "three")
    r.hset("db3:h", mapping={"a": 1})
    r.expire("db3:h", 9000)
    r.execute_command("SELECT", 0)


def value(r, key, kind):
    if kind == "string":
        return r.get(key)
    if kind == "list":
        return r.lrange(key, 0, -1)
    if kind == "hash":
        return sorted(r.hgetall(key).items())
    if kind == "set":
        return sorted(r.smembers(key))
    if kind == "zset":
        return r.zrange(key, 0, -1, withscores=True)
    if kind == "stream":
        groups = [(g["name"], g["last-delivered-id"], g["pending"])
                  for g in r.xinfo_groups(key)]
        return r.xrange(key), groups
    raise AssertionError("unexpected type %s of %r" % (kind, key))


def contents(r, dbs=(0, 3)):
    """{(db, key): (type, value, absolute expiry ms)} of the server behind
    r (a connection to any node of a ring, or a standalone server)."""
    out = {}
    for db in dbs:
        r.execute_command("SELECT", db)
        for key in r.scan_iter(count=500):
            kind = r.type(key)
            if isinstance(kind, bytes):
                kind = kind.decode()
            out[(db, key)] = (kind, value(r, key, kind), r.pexpiretime(key))
    r.execute_command("SELECT", 0)
    return out


def client(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)


class Writers:
    """n clients, each through its own node, writing w:<client>:<i> for
    i = 0, 1, 2 ... one after another (each after the previous one's
    reply), until stopped."""

    def __init__(self, ports):
        self.stop_flag = threading.Event()
        self.done = [0] * len(ports)
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(i, p), daemon=True)
                        for i, p in enumerate(ports)]
        for t in self.threads:
            t.start()

    def run(self, w, port):
        r = client(port)
        i = 0
        deadline = time.monotonic() + 60
        try:
            while not self.stop_flag.is_set() and time.monotonic() < deadline:
                r.set("w:%d:%d" % (w, i), i)
                i += 1
                self.done[w] = i
        except redis.RedisError as e:
            self.errors.append(e)

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)
        assert not self.errors, self.errors


def split_written(data):
    """(the data without the writers' keys, {client: sorted numbers})."""
    rest, written = {}, {}
    for (db, key), v in data.items():
        k = key.decode() if isinstance(key, bytes) else key
        if k.startswith("w:"):
            _, w, i = k.split(":")
            written.setdefault(int(w), []).append(int(i))
        else:
            rest[(db, key)] = v
    return rest, {w: sorted(v) for w, v in written.items()}


# ---- the source ring and its bundles ----

@pytest.fixture(scope="module")
def work():
    d = tempfile.mkdtemp(prefix="ringcache-ringbackup-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def key(work):
    need_tools()
    path = os.path.join(work, "backup.key")
    subprocess.run(["age-keygen", "-o", path], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    pub = os.path.join(work, "backup.pub")
    with open(pub, "w") as f:
        f.write(subprocess.run(["age-keygen", "-y", path], check=True,
                               stdout=subprocess.PIPE).stdout.decode())
    return path, pub


@pytest.fixture(scope="module")
def source(work, key):
    """The source ring, its static data, and a full bundle shipped while
    clients wrote: (ring, static contents, parts dirs, ship stderr)."""
    ring = Ring(3, replicas=1, extra=["--appendonly", "yes"])
    try:
        r = ring.client(0, decode_responses=False)
        populate(r)
        static = contents(r)
        writers = Writers([ring.nodes[0].port, ring.nodes[1].port])
        try:
            deadline = time.monotonic() + 10
            while min(writers.done) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            dests = [os.path.join(work, "dest%d" % i) for i in range(5)]
            p = run(SHIP, "--cluster", "-p", ring.nodes[2].port, "--quiet",
                    "--state", os.path.join(work, "ship.state"), "--encrypt-key", key[1],
                    "--erasure", "3+2", *[a for d in dests for a in ("--dest", d)])
            assert p.returncode == 0, p.stderr.decode()
            time.sleep(0.2)
        finally:
            writers.stop()
        yield ring, static, dests, p.stderr.decode()
    finally:
        ring.stop()


def check_restored(got, static):
    """got holds exactly the static data, plus a prefix of each writer's
    numbered keys (both writers got some keys in before the cut)."""
    rest, written = split_written(got)
    assert rest == static
    assert set(written) == {0, 1}
    for w, nums in written.items():
        assert nums == list(range(len(nums))), "writer %d: not a prefix: %s" % (w, nums[:20])
        assert len(nums) >= 50


def restore(key, *argv, timeout=120):
    return run(RESTORE, "--decrypt-key", key[0], *argv, timeout=timeout)


def all_parts(dests):
    return sorted(os.path.join(d, n) for d in dests for n in os.listdir(d))


# ---- tests ----

def test_ship_reports_the_pause_and_spreads_encrypted_parts(source, key):
    ring, static, dests, err = source
    assert "write pause" in err and "ms" in err
    names = [os.listdir(d) for d in dests]
    assert all(len(n) == 1 for n in names)
    assert [n[0].rsplit(".part", 1)[1] for n in names] == ["%dof5" % i for i in range(1, 6)]
    assert names[0][0].endswith("-ring-full.bundle.tgz.age.part1of5")
    # The pieces are encrypted: no key name appears in any of them.
    for p in all_parts(dests):
        with open(p, "rb") as f:
            assert b"s:plain" not in f.read()


def test_verify_reads_the_manifest(source, key, work):
    ring, static, dests, _ = source
    p = restore(key, "--verify-only", *all_parts(dests))
    assert p.returncode == 0, p.stderr.decode()
    # The whole bundle, rebuilt from the parts, decrypted: the manifest
    # holds the ring state, each member's primary slots and the pause.
    sys.path.insert(0, os.path.join(ROOT, "utils"))
    from ringbackup import parts, ringread, seal
    whole = os.path.join(work, "whole.age")
    parts.join(all_parts(dests), whole)
    plain = os.path.join(work, "whole.tgz")
    seal.decrypt(whole, plain, key[0])
    unpack = os.path.join(work, "unpack")
    os.mkdir(unpack)
    m = ringread.RingBundle(plain, unpack, "whole").m
    state = ring.state(0)
    assert m["ring"]["epoch"] == state["epoch"] and m["ring"]["id"] == state["ring"]
    assert sorted(n["id"] for n in m["nodes"]) == sorted(x["id"] for x in state["members"])
    owners = ring.slot_owners()
    ids = [ring.state(i)["myid"] for i in range(3)]
    for n in m["nodes"]:
        for s, e in ringread.parse_ranges(n["slots"]):
            assert {owners[x] for x in range(s, e + 1)} == {ids.index(n["id"])}
    assert 0 < m["cut"]["pause_ms"] < 2000
    assert set(m["cut"]["node_pause_ms"]) == set(ids)
    assert all(n["snapshot"] for n in m["nodes"])
    json.dumps(m)


def test_restore_into_a_five_node_ring(source, key):
    ring, static, dests, _ = source
    target = Ring(5)
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % target.nodes[3].port, *all_parts(dests))
        assert p.returncode == 0, p.stderr.decode()
        r = target.client(1, decode_responses=False)
        check_restored(contents(r), static)
        assert r.execute_command("FCALL", "bk_echo", 0, "hi") == b"hi"
        # Each key sits on its owner in the new ring.
        owners = target.slot_owners()
        for i in range(5):
            local = target.client(i).execute_command("RING", "DIGEST")
            slots = {int(x[0]) for x in local} if local else set()
            assert all(owners[s] == i for s in slots)
    finally:
        target.stop()


def test_restore_into_a_one_node_ring_from_three_of_five_parts(source, key):
    ring, static, dests, _ = source
    kept = [p for p in all_parts(dests) if not (p.endswith("part2of5") or p.endswith("part4of5"))]
    assert len(kept) == 3
    target = Ring(1)
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % target.nodes[0].port, *kept)
        assert p.returncode == 0, p.stderr.decode()
        check_restored(contents(target.client(0, decode_responses=False)), static)
    finally:
        target.stop()


def test_two_parts_too_few(source, key):
    ring, static, dests, _ = source
    two = all_parts(dests)[:2]
    p = restore(key, "--verify-only", *two)
    assert p.returncode == 1 and b"2 sound part(s) of 5, 3 needed" in p.stderr


def test_restore_into_a_standalone_node_and_into_an_rdb_for_redis(source, key, work):
    ring, static, dests, _ = source
    port, proc = start_node(port=ring_port())
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % port, "--from-dir", dests[0],
                    *[a for d in dests[1:] for a in ("--from-dir", d)])
        assert p.returncode == 0, p.stderr.decode()
        standalone = contents(client(port))
        check_restored(standalone, static)
    finally:
        stop_node(proc)
    out = os.path.join(work, "ring.rdb")
    p = restore(key, "--rdb", out, *all_parts(dests))
    assert p.returncode == 0, p.stderr.decode()
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed")
    rdir = os.path.join(work, "redis")
    os.mkdir(rdir)
    shutil.copy(out, os.path.join(rdir, "dump.rdb"))
    rport, rproc = start_redis(rdir, "--dbfilename", "dump.rdb")
    try:
        r = client(rport)
        got = contents(r)
        check_restored(got, static)
        assert got == standalone
        assert r.execute_command("FCALL", "bk_echo", 0, "x") == b"x"
    finally:
        stop_proc(rproc)


def test_a_tampered_bundle_is_refused_and_nothing_restored(source, key, work):
    ring, static, dests, _ = source
    whole = os.path.join(work, "tamper")
    os.mkdir(whole)
    sys.path.insert(0, os.path.join(ROOT, "utils"))
    from ringbackup import parts
    name = parts.join(all_parts(dests), os.path.join(whole, "x"))
    bad = os.path.join(whole, name)
    os.rename(os.path.join(whole, "x"), bad)
    data = bytearray(open(bad, "rb").read())
    data[len(data) * 2 // 3] ^= 0x01
    open(bad, "wb").write(bytes(data))
    port, proc = start_node(port=ring_port())
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % port, bad)
        assert p.returncode == 1
        assert b"refused" in p.stderr and b"decryption failed" in p.stderr
        assert client(port).dbsize() == 0
    finally:
        stop_node(proc)
    # A damaged part is passed over when enough sound ones remain.
    partfile = all_parts(dests)[0]
    copy = os.path.join(whole, os.path.basename(partfile))
    shutil.copy(partfile, copy)
    at = os.path.getsize(copy) // 2
    with open(copy, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x80]))
    others = all_parts(dests)[1:4]
    p = restore(key, "--verify-only", copy, *others)
    assert p.returncode == 0, p.stderr.decode()
    assert b"damaged part" in p.stderr


def test_an_interrupted_restore_run_again_restores_everything(source, key):
    ring, static, dests, _ = source
    port, proc = start_node(port=ring_port())
    try:
        r = client(port)
        argv = [sys.executable, RESTORE, "--decrypt-key", key[0], "--rate", "400",
                "--to", "127.0.0.1:%d" % port] + all_parts(dests)
        before = temp_nodes()
        first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while r.dbsize() < 200 and time.monotonic() < deadline and first.poll() is None:
                time.sleep(0.02)
            first.kill()            # cut short half-way
        finally:
            first.wait()
        # Its temporary ringcached dies with it (no orphan left running).
        deadline = time.monotonic() + 5
        while temp_nodes() - before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not temp_nodes() - before
        n = r.dbsize()
        assert 0 < n < 400, n
        p = restore(key, "--to", "127.0.0.1:%d" % port, *all_parts(dests))
        assert p.returncode == 0, p.stderr.decode()
        check_restored(contents(r), static)
    finally:
        stop_node(proc)


def temp_nodes():
    """PIDs of live ringcached processes serving a restore's temporary
    socket (restore.sock), zombies left out."""
    pids = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and any(a.endswith(b"/restore.sock") for a in args):
            pids.add(int(pid))
    return pids


def test_incremental_ring_bundle_restores_the_newer_data(source, key, work):
    ring, static, dests, _ = source
    r = ring.client(1, decode_responses=False)
    # Changes since the full bundle: new keys, changed and deleted ones,
    # a TTL set, a TTL removed, a key that expires before the next cut.
    r.set("s:plain", "changed")
    r.delete("k:1", "k:2", "l:small")
    r.hset("h:small", "new", "field")
    r.persist("s:ttl")
    r.expire("k:3", 100000)
    r.zadd("z:new", {"x": 1})
    r.set("gone", "soon", px=50)
    r.execute_command("SELECT", 3)
    r.set("db3:new", "n")
    r.execute_command("SELECT", 0)
    time.sleep(0.2)
    p = run(SHIP, "--cluster", "-p", ring.nodes[0].port, "--quiet", "--incremental",
            "--state", os.path.join(work, "ship.state"), "--encrypt-key", key[1],
            "--erasure", "3+2", *[a for d in dests for a in ("--dest", d)])
    assert p.returncode == 0, p.stderr.decode()
    assert b"making a full bundle" not in p.stderr
    now = contents(r)
    names = sorted(os.listdir(dests[0]))
    assert len(names) == 2 and "-ring-incr." in names[1]
    port, proc = start_node(port=ring_port())
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % port,
                    *[a for d in dests[:3] for a in ("--from-dir", d)])
        assert p.returncode == 0, p.stderr.decode()
        got = contents(client(port))
        assert got == now
        assert (0, b"gone") not in got and (0, b"k:1") not in got
        assert got[(0, b"s:plain")][1] == b"changed" and got[(0, b"s:ttl")][2] == -1
    finally:
        stop_node(proc)
    # --upto the full bundle gives the older data back.
    port, proc = start_node(port=ring_port())
    try:
        p = restore(key, "--to", "127.0.0.1:%d" % port, "--upto", parts_base(names[0]),
                    *[a for d in dests[:3] for a in ("--from-dir", d)])
        assert p.returncode == 0, p.stderr.decode()
        check_restored(contents(client(port)), static)
    finally:
        stop_node(proc)


def parts_base(name):
    return name.rsplit(".part", 1)[0]


def test_ring_cut_verb(source):
    ring, _, _, _ = source
    r = ring.client(0)
    assert r.execute_command("RING", "CUT", "STATUS")[0] in ("none", "ok")
    with pytest.raises(redis.ResponseError, match="plain file name"):
        r.execute_command("RING", "CUT", "SNAPSHOT", "../x.rdb")
    with pytest.raises(redis.ResponseError, match="plain file name"):
        r.execute_command("RING", "CUT", "SNAPSHOT", "dump.rdb")
    with pytest.raises(redis.ResponseError, match="positive"):
        r.execute_command("RING", "CUT", "PAUSE", "-1")
    with pytest.raises(redis.ResponseError, match="syntax"):
        r.execute_command("RING", "CUT", "PAUSE")
    # Without PAUSE nothing is held; the reply says what the node holds.
    cut = ringutil.pairs(r.execute_command("RING", "CUT"))
    assert cut["id"] == ring.state(0)["myid"] and cut["fork_usec"] == 0
    assert cut["aof"][1].endswith(".incr.aof")
    r.set("after", "cut")          # not paused
    # PAUSE holds writes through this node, forwarded ones included.
    other = ring.client(1)
    key = ring.keys_on(0, 1, prefix="held")[0]
    t0 = time.monotonic()
    ringutil.pairs(r.execute_command("RING", "CUT", "PAUSE", "500"))
    other.set(key, "1")
    assert time.monotonic() - t0 > 0.4
    standalone_port, proc = start_node(port=ring_port())
    try:
        with pytest.raises(redis.ResponseError, match="cluster support disabled"):
            client(standalone_port).execute_command("RING", "CUT")
    finally:
        stop_node(proc)
    lone_port, proc = start_node("--cluster-enabled", "yes", port=ring_port(cluster=True))
    try:
        with pytest.raises(redis.ResponseError, match="not in a ring"):
            client(lone_port).execute_command("RING", "CUT", "PAUSE", "1000")
    finally:
        stop_node(proc)


def test_ring_cut_snapshot_holds_the_primary_slots_only(source, work):
    ring, _, _, _ = source
    r = ring.client(0)
    lastsave = r.lastsave()
    held = int(r.info("cluster")["ring_local_keys"])
    cut = ringutil.pairs(r.execute_command("RING", "CUT", "SNAPSHOT", "probe-cut.rdb"))
    deadline = time.monotonic() + 20
    while r.execute_command("RING", "CUT", "STATUS")[0] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert r.execute_command("RING", "CUT", "STATUS") == ["ok", "probe-cut.rdb"]
    assert r.lastsave() == lastsave             # not a save of the node's own
    path = os.path.join(ring.nodes[0].dir, "probe-cut.rdb")
    d = os.path.join(work, "probe")
    os.mkdir(d)
    os.rename(path, os.path.join(d, "dump.rdb"))
    # With one replica per slot the node holds about twice its share.
    assert 0 < cut["keys"] < held
    sys.path.insert(0, os.path.join(ROOT, "utils"))
    from ringbackup.load import key_slot
    mine = set()
    for s, e in (w.split("-") if "-" in w else (w, w) for w in cut["slots"].split()):
        mine.update(range(int(s), int(e) + 1))
    port, proc = start_node("--dir", d, port=ring_port())
    try:
        c = client(port)
        assert sum(int(v["keys"]) for k, v in c.info("keyspace").items()) == cut["keys"]
        for db in (0, 3):
            c.execute_command("SELECT", db)
            assert all(key_slot(k) in mine for k in c.scan_iter(count=1000))
    finally:
        stop_node(proc)
    # A second child while one runs is refused, nothing paused.
    r.config_set("rdb-key-save-delay", "1000")
    try:
        r.execute_command("RING", "CUT", "SNAPSHOT", "slow-cut.rdb")
        with pytest.raises(redis.ResponseError, match="BUSY"):
            r.execute_command("RING", "CUT", "PAUSE", "5000", "SNAPSHOT", "again.rdb")
        t0 = time.monotonic()
        r.set("not-paused", "1")
        assert time.monotonic() - t0 < 1
    finally:
        r.config_set("rdb-key-save-delay", "0")
