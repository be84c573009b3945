"""The ring (issue 8) with real processes on 127.0.0.1: forming a ring,
routing every kind of command through any node, splits and fan-outs, SCAN
over the ring, pub/sub and blocking commands across nodes, transactions,
RESP3, a peer that is down or stopped, restarts with kill -9, and the
refusals (node-only commands, wrong secret, copied nodes.conf, rings
meeting).  cluster-replicas 0 throughout: replication is issue 9's."""

import os
import shutil
import signal
import socket
import threading
import time

import pytest

redis = pytest.importorskip("redis")

from conftest import CLUSTER_CLIENT_OFFSET, HOST, pick_port, start_node, stop_node
from conftest import resp as cmd
from ringutil import Ring, key_slot, pairs

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"


@pytest.fixture(scope="module")
def ring3():
    ring = Ring(3)
    try:
        yield ring
    finally:
        ring.stop()


@pytest.fixture
def ring(ring3):
    ring3.client(0).flushall()
    return ring3


def raw(port, payload, want_bytes=None, timeout=5.0, quiet=0.3):
    """Send raw bytes; read until want_bytes bytes arrived, the peer
    closes, or it stays quiet for `quiet` seconds after answering."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(payload)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (want_bytes is None or len(out) < want_bytes):
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            s.settimeout(quiet)
        return out


# ---- forming -------------------------------------------------------------

def test_formed_ring_is_the_same_on_every_node(ring):
    states = [ring.state(i) for i in range(3)]
    assert len({(s["epoch"], s["ring"]) for s in states}) == 1
    members = states[0]["members"]
    assert len(members) == 3 and all(m["status"] == "up" for m in members)
    assert sum(m["primary_slots"] for m in members) == 16384
    # 256 vnodes: each node within 10% of the mean.
    for m in members:
        assert abs(m["primary_slots"] - 16384 / 3) <= 0.1 * 16384 / 3
    assert sorted(m["port"] for m in members) == sorted(n.port for n in ring.nodes)
    for i in range(3):
        info = ring.client(i).execute_command("CLUSTER", "INFO")
        assert "cluster_state:ok" in info and "cluster_known_nodes:3" in info
        assert "cluster_slots_assigned:16384" in info
        ci = ring.client(i).info("cluster")
        assert ci["cluster_enabled"] == 1


def test_cluster_slots_cover_every_slot_once(ring):
    seen = []
    for start, end, primary, *rest in ring.client(1).execute_command("CLUSTER", "SLOTS"):
        assert rest == []          # cluster-replicas 0: no replica entries
        seen.extend(range(start, end + 1))
        # Cluster-aware clients are sent to the cluster clients' port.
        assert int(primary[1]) - CLUSTER_CLIENT_OFFSET in [n.port for n in ring.nodes]
    assert sorted(seen) == list(range(16384))


def test_ring_owners_names_the_primary(ring):
    slot, pref = ring.client(2).execute_command("RING", "OWNERS", "user:{42}")
    assert slot == key_slot("user:{42}") == ring.client(0).execute_command("CLUSTER", "KEYSLOT", "x{42}")
    assert len(pref) == 1
    entry = pairs(pref[0])
    assert entry["role"] == "primary" and entry["status"] == "up" and entry["link"] == "ok"


def test_standalone_node_has_no_cluster_commands():
    port, proc = start_node()
    try:
        r = redis.Redis(host=HOST, port=port, decode_responses=True)
        with pytest.raises(redis.ResponseError, match="cluster support disabled"):
            r.execute_command("CLUSTER", "INFO")
        with pytest.raises(redis.ResponseError, match="cluster support disabled"):
            r.execute_command("RING", "STATE")
        assert r.info("cluster")["cluster_enabled"] == 0
        r.set("a", 1)
        assert r.get("a") == "1"
    finally:
        stop_node(proc)


# ---- routing -------------------------------------------------------------

def test_any_node_reads_what_any_node_wrote(ring):
    r = [ring.client(i) for i in range(3)]
    for j in range(300):
        r[j % 3].set("key:%d" % j, "v%d" % j)
    for j in range(300):
        assert r[(j + 1) % 3].get("key:%d" % j) == "v%d" % j
    assert {ring.owner("key:%d" % j) for j in range(300)} == {0, 1, 2}
    # Each key is stored once, on its primary: the slot counts agree.
    counts = {}
    for j in range(300):
        s = key_slot("key:%d" % j)
        counts[s] = counts.get(s, 0) + 1
    for s, n in list(counts.items())[:20]:
        for i in range(3):
            assert r[i].execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == n


def test_pipeline_replies_keep_the_client_order(ring):
    local = ring.keys_on(0, 50, "l")
    remote = ring.keys_on(1, 50, "r") + ring.keys_on(2, 50, "s")
    keys = [k for pair in zip(local, remote[:50], remote[50:]) for k in pair]
    p = ring.client(0).pipeline(transaction=False)
    for n, k in enumerate(keys):
        p.set(k, n)
        p.incr(k)
        p.get(k)
        p.rpush("list:" + k, n, n + 1)
        p.lrange("list:" + k, 0, -1)
    out = p.execute()
    for n, k in enumerate(keys):
        assert out[5 * n:5 * n + 5] == [True, n + 1, str(n + 1), 2, [str(n), str(n + 1)]]


def test_forwarded_errors_and_types_are_relayed(ring):
    k = ring.keys_on(2, 1, "e")[0]
    r = ring.client(0)
    r.rpush(k, "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.get(k)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    assert r.type(k) == "list"
    assert r.object("encoding", k) == ring.client(2).object("encoding", k) == "quicklist"
    assert r.ttl(k) == -1 and r.expire(k, 100) and 0 < r.ttl(k) <= 100


def test_resp3_replies_through_a_peer(ring):
    k = ring.keys_on(1, 1, "h")[0]
    ring.client(2).hset(k, mapping={"f1": "v1", "f2": "v2"})
    out = raw(ring.nodes[0].port, cmd("HELLO", "3") + cmd("HGETALL", k) + cmd("PING"))
    tail = out[out.rindex(b"%2\r\n"):]
    assert tail.startswith(b"%2\r\n") and tail.endswith(b"+PONG\r\n")
    assert b"$2\r\nf1\r\n$2\r\nv1\r\n" in tail and b"$2\r\nf2\r\n$2\r\nv2\r\n" in tail
    # The same bytes as asking the owner itself.
    own = raw(ring.nodes[1].port, cmd("HELLO", "3") + cmd("HGETALL", k) + cmd("PING"))
    assert own[own.rindex(b"%2\r\n"):] == tail


def test_all_sixteen_databases(ring):
    r = ring.client(0)
    for db in range(16):
        c = ring.client(db % 3, db=db)
        for j in range(20):
            c.set("dbkey:%d" % j, db)
    for db in range(16):
        c = ring.client((db + 1) % 3, db=db)
        assert c.dbsize() == 20
        assert {c.get("dbkey:%d" % j) for j in range(20)} == {str(db)}
    keyspace = r.info("keyspace")
    assert all(keyspace["db%d" % db]["keys"] == 20 for db in range(16))
    ring.client(1, db=3).flushdb()
    assert ring.client(2, db=3).dbsize() == 0 and ring.client(2, db=4).dbsize() == 20


# ---- splits --------------------------------------------------------------

def test_mget_mset_del_exists_split(ring):
    keys = ring.keys_on(0, 4, "a") + ring.keys_on(1, 4, "b") + ring.keys_on(2, 4, "c")
    keys.sort()
    r = ring.client(1)
    assert r.mset({k: "v-" + k for k in keys})
    assert r.mget(keys + ["missing"]) == ["v-" + k for k in keys] + [None]
    assert r.exists(*keys, keys[0], "missing") == len(keys) + 1
    assert r.touch(*keys) == len(keys)
    assert r.delete(*keys[:6], "missing") == 6
    assert r.unlink(*keys) == len(keys) - 6
    assert r.mget(keys) == [None] * len(keys)


def test_msetnx_needs_one_slot(ring):
    r = ring.client(0)
    a, b = ring.keys_on(1, 1, "x")[0], ring.keys_on(2, 1, "y")[0]
    with pytest.raises(redis.ResponseError, match=CROSSSLOT):
        r.msetnx({a: 1, b: 2})
    assert r.msetnx({"{t}a": 1, "{t}b": 2}) is True
    assert r.msetnx({"{t}b": 3, "{t}c": 4}) is False
    assert ring.client(2).mget("{t}a", "{t}b", "{t}c") == ["1", "2", None]


@pytest.mark.parametrize("args", [
    ("RENAME", "src", "dst"), ("SMOVE", "s1", "s2", "m"), ("SINTERSTORE", "d", "s1", "s2"),
    ("ZUNIONSTORE", "d", 2, "z1", "z2"), ("BLMOVE", "l1", "l2", "LEFT", "RIGHT", 0.1),
    ("LMPOP", 2, "l1", "l2", "LEFT"), ("SUNION", "s1", "s2"), ("RPOPLPUSH", "l1", "l2"),
    ("COPY", "src", "dst"), ("PFMERGE", "h1", "h2"),
])
def test_multi_key_commands_across_slots_are_crossslot(ring, args):
    keys = [a for a in args[1:] if isinstance(a, str) and a.islower()]
    assert len({key_slot(k) for k in keys}) > 1
    for i in range(3):
        with pytest.raises(redis.ResponseError) as e:
            ring.client(i).execute_command(*args)
        assert str(e.value) == CROSSSLOT


def test_multi_key_commands_in_one_slot_work_remotely(ring):
    tag = ring.keys_on(2, 1, "tag")[0]
    r = ring.client(0)
    r.sadd("{%s}s1" % tag, "a", "b")
    r.sadd("{%s}s2" % tag, "b", "c")
    assert r.sinterstore("{%s}d" % tag, ["{%s}s1" % tag, "{%s}s2" % tag]) == 1
    assert r.rename("{%s}d" % tag, "{%s}e" % tag)
    assert r.smembers("{%s}e" % tag) == {"b"}
    assert ring.owner("{%s}e" % tag) == 2


# ---- fan-outs and SCAN ---------------------------------------------------

def test_dbsize_keys_randomkey_flush_over_the_ring(ring):
    r = [ring.client(i) for i in range(3)]
    names = ["fan:%d" % j for j in range(500)]
    r[0].mset({k: 1 for k in names})
    for c in r:
        assert c.dbsize() == 500
        assert sorted(c.keys("fan:*")) == sorted(names)
        assert set(c.keys("fan:1?")) == {"fan:1%d" % d for d in range(10)}
        assert c.randomkey() in names
    assert r[0].info("keyspace")["db0"]["keys"] == 500
    r[2].flushdb()
    for c in r:
        assert c.dbsize() == 0 and c.randomkey() is None
    r[1].mset({k: 1 for k in names[:10]})
    r[2].flushall()
    assert r[0].dbsize() == 0


def test_scan_returns_every_key_once(ring):
    r = ring.client(1)
    names = {"scan:%d" % j for j in range(1500)}
    r.mset({k: 1 for k in names})
    r.rpush("scanlist", 1)
    for count in (10, 1000):
        seen = []
        cursor = 0
        for _ in range(100000):
            cursor, batch = r.scan(cursor, match="scan:*", count=count)
            seen.extend(batch)
            if cursor == 0:
                break
        assert cursor == 0
        assert len(seen) == len(names) and set(seen) == names
    assert list(r.scan_iter(_type="list")) == ["scanlist"]
    # A key present for the whole scan is returned even while others change.
    seen, cursor, step = set(), 0, 0
    while True:
        cursor, batch = ring.client(2).scan(cursor, count=50)
        seen.update(batch)
        r.set("churn:%d" % step, 1)
        r.delete("scan:%d" % (step + 1000))
        step += 1
        if cursor == 0 or step > 10000:
            break
    missing = {"scan:%d" % j for j in range(1000)} - seen
    assert not missing, (len(missing), sorted(missing)[:10], step)


def test_scan_rejects_a_bad_cursor(ring):
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        ring.client(0).execute_command("SCAN", "notanumber")


# ---- transactions --------------------------------------------------------

def test_multi_exec_with_hash_tags_on_a_remote_slot(ring):
    tag = ring.keys_on(1, 1, "tx")[0]
    a, b = "{%s}a" % tag, "{%s}b" % tag
    p = ring.client(0).pipeline(transaction=True)
    p.set(a, 10).incrby(a, 5).lpush(b, "x").get(a)
    assert p.execute() == [True, 15, 1, "15"]
    assert ring.client(2).get(a) == "15"


def test_multi_across_slots_is_aborted(ring):
    x, y = ring.keys_on(1, 1, "m")[0], ring.keys_on(2, 1, "n")[0]
    out = raw(ring.nodes[0].port,
              cmd("MULTI") + cmd("SET", x, 1) + cmd("SET", y, 2) + cmd("EXEC") + cmd("EXISTS", x))
    assert out.startswith(b"+OK\r\n+QUEUED\r\n-CROSSSLOT")
    assert b"-EXECABORT Transaction discarded because of previous errors.\r\n" in out
    assert out.endswith(b":0\r\n")


def test_discard_and_watch_of_a_local_key(ring):
    k = ring.keys_on(0, 1, "w")[0]
    r = ring.client(0)
    r.set(k, 1)
    with r.pipeline(transaction=True) as p:
        p.watch(k)
        ring.client(1).set(k, 2)          # changed through another node
        p.multi()
        p.set(k, 3)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get(k) == "2"
    assert raw(ring.nodes[0].port, cmd("MULTI") + cmd("SET", k, 9) + cmd("DISCARD") + cmd("GET", k)) \
        == b"+OK\r\n+QUEUED\r\n+OK\r\n$1\r\n2\r\n"


def test_watch_of_a_remote_key(ring):
    k = ring.keys_on(2, 1, "rw")[0]
    other = "{%s}other" % k
    r = ring.client(0)
    r.set(k, 1)
    # Changed through a third node between WATCH and EXEC: EXEC fails.
    with r.pipeline(transaction=True) as p:
        p.watch(k)
        assert p.get(k) == "1"
        ring.client(1).set(k, 2)
        p.multi()
        p.set(k, 3)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get(k) == "2"
    # Unchanged: EXEC runs, on the key's node.
    with r.pipeline(transaction=True) as p:
        p.watch(k)
        p.multi()
        p.set(k, 4)
        p.set(other, 5)
        assert p.execute() == [True, True]
    assert ring.client(2).mget(k, other) == ["4", "5"]
    # UNWATCH forgets the watch: a change no longer aborts EXEC.
    port = ring.nodes[0].port
    with socket.create_connection((HOST, port), timeout=5) as s:
        def ask(*args):
            s.sendall(cmd(*args))
            time.sleep(0.05)
            return s.recv(65536)
        assert ask("WATCH", k) == b"+OK\r\n"
        ring.client(1).set(k, 6)
        assert ask("UNWATCH") == b"+OK\r\n"
        assert ask("MULTI") == b"+OK\r\n"
        assert ask("INCR", k) == b"+QUEUED\r\n"
        assert ask("EXEC") == b"*1\r\n:7\r\n"
        # A key watched here combines with keys watched on one other node.
        local = ring.keys_on(0, 1, "lw")[0]
        assert ask("WATCH", k) == b"+OK\r\n"
        assert ask("WATCH", local) == b"+OK\r\n"
        ring.client(1).set(local, "changed")
        assert ask("MULTI") == b"+OK\r\n"
        assert ask("INCR", k) == b"+QUEUED\r\n"
        assert ask("EXEC") == b"*-1\r\n"
        # Keys watched on two other nodes cannot be checked by one EXEC.
        third = ring.keys_on(1, 1, "tw")[0]
        assert ask("WATCH", k) == b"+OK\r\n"
        assert ask("WATCH", third).startswith(b"-CROSSSLOT")
        # A transaction on another slot than the watched keys' node.
        assert ask("MULTI") == b"+OK\r\n"
        assert ask("SET", local, 1) == b"+QUEUED\r\n"
        assert ask("EXEC").startswith(b"-CROSSSLOT")
        assert ask("GET", local) == b"$7\r\nchanged\r\n"


# ---- pub/sub and blocking ------------------------------------------------

def wait_message(ps, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(timeout=0.1)
        if m and m["type"] in ("message", "pmessage", "smessage"):
            return m
    return None


def test_publish_reaches_subscribers_on_every_node(ring):
    subs = []
    for i in range(3):
        ps = ring.client(i).pubsub()
        ps.subscribe("news")
        ps.psubscribe("ne*")
        subs.append(ps)
    for ps in subs:
        for _ in range(2):
            assert ps.get_message(timeout=5)["type"] in ("subscribe", "psubscribe")
    # Redis Cluster counts the receivers on the publishing node only.
    assert ring.client(1).publish("news", "hello") == 2
    for ps in subs:
        got = [wait_message(ps), wait_message(ps)]
        assert {m["type"] for m in got} == {"message", "pmessage"}
        assert all(m["data"] == "hello" for m in got)
        ps.close()


def test_spublish_reaches_shard_subscribers(ring):
    # (redis-py 4.3 does not know "smessage": raw sockets here.)
    chan = ring.keys_on(2, 1, "chan")[0]
    with socket.create_connection((HOST, ring.nodes[0].port), timeout=5) as s:
        s.sendall(cmd("SSUBSCRIBE", chan))
        want = b"*3\r\n$10\r\nssubscribe\r\n" + cmd(chan)[4:] + b":1\r\n"
        got = b""
        while len(got) < len(want):
            got += s.recv(4096)
        assert got == want
        # Published through a third node; the owner passes it on.
        raw(ring.nodes[1].port, cmd("SPUBLISH", chan, "sharded"))
        want = b"*3\r\n$8\r\nsmessage\r\n" + cmd(chan)[4:] + b"$7\r\nsharded\r\n"
        got = b""
        while len(got) < len(want):
            got += s.recv(4096)
        assert got == want


def test_blocking_pop_woken_by_a_write_through_another_node(ring):
    k = ring.keys_on(2, 1, "queue")[0]
    result = {}

    def waiter():
        result["v"] = ring.client(0).blpop([k], timeout=10)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    ring.client(1).rpush(k, "job")
    t.join(15)
    assert result["v"] == (k, "job")


def test_blocking_pop_times_out_and_the_connection_goes_on(ring):
    k = ring.keys_on(1, 1, "empty")[0]
    r = ring.client(0)
    t0 = time.monotonic()
    assert r.blpop([k], timeout=0.3) is None
    assert 0.25 <= time.monotonic() - t0 < 5
    assert r.ping()
    src, dst = "{%s}src" % k, "{%s}dst" % k
    r.rpush(src, "a")
    assert r.blmove(src, dst, 1, "LEFT", "RIGHT") == "a"
    assert ring.client(2).lrange(dst, 0, -1) == ["a"]


def test_client_reply_off_with_forwarded_commands(ring):
    k = ring.keys_on(1, 1, "quiet")[0]
    out = raw(ring.nodes[0].port, cmd("CLIENT", "REPLY", "OFF") + cmd("SET", k, "q") +
              cmd("GET", k) + cmd("CLIENT", "REPLY", "ON") + cmd("GET", k), want_bytes=10)
    assert out == b"+OK\r\n$1\r\nq\r\n"


# ---- refusals ------------------------------------------------------------

def test_node_only_commands_refused_to_clients(ring):
    r = ring.client(0)
    with pytest.raises(redis.ResponseError, match="for ring nodes only"):
        r.execute_command("RINGNODE", "LIVE", "ping", "x", "1", "2")
    with pytest.raises(redis.ResponseError, match="for ring nodes only"):
        r.execute_command("RINGNODE", "SAMPLE")


def test_wrong_secret_is_refused():
    ring = Ring(2, extra=["--cluster-secret", "s3cret"], form=False)
    try:
        port = ring.nodes[0].port
        myid = ring.client(1).execute_command("CLUSTER", "MYID")
        out = raw(port, cmd("RINGNODE", "HELLO", "wrong", myid, 2) + cmd("PING"))
        assert out.startswith(b"-") and b"+PONG" not in out
        assert "Refused a node link" in ring.nodes[0].log()
        ring.form()
        assert len(ring.state(1)["members"]) == 2
        # A node with another secret cannot join.
        stranger = Ring(1, extra=["--cluster-secret", "other"], form=False)
        try:
            with pytest.raises(redis.ResponseError):
                ring.client(0).execute_command("CLUSTER", "MEET", HOST, stranger.nodes[0].port)
            assert len(ring.state(0)["members"]) == 2
        finally:
            stranger.stop()
    finally:
        ring.stop()


def test_a_link_for_another_node_is_refused():
    """A node link names the node id it means to reach; a node with
    another id on that address (one that replaced a removed node on its
    port) refuses it, so that what was meant for the old node (a
    replication stream's position question, its markers) never reaches
    the new one."""
    ring = Ring(2, extra=["--cluster-secret", "s3cret"], form=False)
    try:
        port = ring.nodes[0].port
        id0 = ring.client(0).execute_command("CLUSTER", "MYID")
        id1 = ring.client(1).execute_command("CLUSTER", "MYID")
        out = raw(port, cmd("RINGNODE", "HELLO", "s3cret", id1, 2, id1) + cmd("PING"))
        assert out.startswith(b"-ERR this is another node") and b"+PONG" not in out, out
        out = raw(port, cmd("RINGNODE", "HELLO", "s3cret", id1, 2, id0) + cmd("PING"),
                  want_bytes=12)
        assert out == b"+OK\r\n+PONG\r\n", out
        out = raw(port, cmd("RINGNODE", "HELLO", "s3cret", id1, 2) + cmd("PING"), want_bytes=12)
        assert out == b"+OK\r\n+PONG\r\n", out
    finally:
        ring.stop()


def test_rings_meeting_and_nonempty_nodes_are_refused():
    a, b = Ring(2), Ring(1)
    try:
        with pytest.raises(redis.ResponseError, match="ring"):
            a.client(0).execute_command("CLUSTER", "MEET", HOST, b.nodes[0].port)
        assert len(a.state(1)["members"]) == 2 and len(b.state(0)["members"]) == 1
    finally:
        a.stop()
        b.stop()
    # A node holding keys (from its standalone days) is not merged into a
    # ring: MEET would hide or mix them.
    c = Ring(2, form=False)
    try:
        lone = c.nodes[1]
        lone.stop()
        lone.extra = lone.extra + ["--cluster-enabled", "no"]
        lone.start()
        c.client(1).set("precious", 1)
        c.client(1).save()
        lone.stop()
        lone.extra = lone.extra[:-2]
        lone.start()
        c.client(0).execute_command("RING", "CREATE", 0)
        with pytest.raises(redis.ResponseError, match="key"):
            c.client(0).execute_command("CLUSTER", "MEET", HOST, lone.port)
        assert len(c.state(0)["members"]) == 1
        lone.stop()
        lone.extra = lone.extra + ["--cluster-enabled", "no"]
        lone.start()
        assert c.client(1).get("precious") == "1"
    finally:
        c.stop()


def test_meet_works_from_either_side():
    # The new node is told to meet a member (Redis allows either side).
    ring = Ring(3, form=False)
    try:
        assert ring.client(0).execute_command("RING", "CREATE", 0) == "OK"
        assert ring.client(1).execute_command("CLUSTER", "MEET", HOST, ring.nodes[0].port) == "OK"
        assert ring.client(0).execute_command("CLUSTER", "MEET", HOST, ring.nodes[2].port) == "OK"
        s = ring.wait_converged()
        assert len(s["members"]) == 3
        ring.client(2).set("either", "side")
        assert ring.client(1).get("either") == "side"
    finally:
        ring.stop()


def test_copied_nodes_conf_is_refused(tmp_path):
    ring = Ring(2)
    try:
        src = os.path.join(ring.nodes[1].dir, "nodes.conf")
        d = tmp_path / "copy"
        d.mkdir()
        shutil.copy(src, d / "nodes.conf")
        port = pick_port(cluster=True)
        import subprocess
        from conftest import BINARY
        proc = subprocess.run([BINARY, "--port", str(port), "--bind", HOST, "--dir", str(d),
                               "--save", "", "--cluster-enabled", "yes"],
                              capture_output=True, timeout=20)
        assert proc.returncode != 0
        out = (proc.stdout + proc.stderr).decode()
        assert "nodes.conf" in out and str(ring.nodes[1].port) in out
    finally:
        ring.stop()


# ---- failures and restarts -----------------------------------------------

def test_stopped_peer_gives_errors_within_node_timeout(ring):
    down = ring.keys_on(2, 3, "down")
    up = ring.keys_on(1, 3, "up")
    r = ring.client(0)
    r.mset({k: 1 for k in up})
    ring.nodes[2].signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        p = r.pipeline(transaction=False)
        for _ in range(2000):
            p.set(down[0], "x")
        p.get(up[0])
        out = p.execute(raise_on_error=False)
        took = time.monotonic() - t0
        assert took < 1.0 + 3.0           # node timeout 1 s, plus slack
        errors = {str(e).split()[0] for e in out[:-1] if isinstance(e, Exception)}
        assert errors and errors <= {"TRYAGAIN", "CLUSTERDOWN"}
        assert out[-1] == "1"             # the connection and its other requests go on
        assert r.get(up[1]) == "1"
        with pytest.raises(redis.ResponseError, match="TRYAGAIN|CLUSTERDOWN"):
            r.get(down[1])
        assert r.info("memory")["used_memory"] < 64 * 1024 * 1024
    finally:
        ring.nodes[2].signal(signal.SIGCONT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            r.set(down[0], "back")
            break
        except redis.ResponseError:
            time.sleep(0.1)
    assert ring.client(2).get(down[0]) == "back"


def test_restart_every_node_with_kill9_brings_the_ring_back():
    ring = Ring(3, extra=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        before = ring.state(0)
        r = ring.client(1)
        r.mset({"persist:%d" % j: j for j in range(300)})
        for i in range(3):
            ring.kill(i)
        for i in range(3):
            ring.restart(i)
        after = ring.wait_converged()
        assert (after["epoch"], after["ring"]) == (before["epoch"], before["ring"])
        assert [m["id"] for m in after["members"]] == [m["id"] for m in before["members"]]
        assert [ring.state(i)["myid"] for i in range(3)] == \
            [ring.client(i).execute_command("CLUSTER", "MYID") for i in range(3)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                got = ring.client(2).mget(["persist:%d" % j for j in range(300)])
                break
            except redis.ResponseError:
                time.sleep(0.1)
        assert got == [str(j) for j in range(300)]
        assert ring.client(0).dbsize() == 300
    finally:
        ring.stop()


def test_five_node_ring():
    ring = Ring(5)
    try:
        s = ring.state(4)
        mean = 16384 / 5
        assert all(abs(m["primary_slots"] - mean) <= 0.1 * mean for m in s["members"])
        names = ["five:%d" % j for j in range(1000)]
        ring.client(3).mset({k: k for k in names})
        table = ring.slot_owners()
        assert {table[key_slot(k)] for k in names} == set(range(5))
        for i in range(5):
            assert ring.client(i).dbsize() == 1000
        assert ring.client(4).mget(names) == names
        seen = set(ring.client(2).scan_iter(count=100))
        assert seen == set(names)
    finally:
        ring.stop()
