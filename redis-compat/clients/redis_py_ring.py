"""
redis-py (Debian's python3-redis) against a 3-node ring (cluster-replicas
0): the plain client connected to one node, with keys served by the
others, and RedisCluster, which routes by slot from CLUSTER SLOTS.
Pipelines, transactions with hash tags, pub/sub across nodes, blocking
pops woken by a write made through another node, SCAN over the ring; and
regression tests for ring bugs that only show when a key lives on another
node (each picks its keys by slot owner, so the ring's random layout does
not decide whether the bug is exercised).

    /usr/bin/python3 -m pytest -q redis-compat/clients/redis_py_ring.py

The ring is started once per module by ring_up.start (compat.Ring: nodes
on 127.0.0.1 on free ports from 22300, each in its own temporary
directory, stopped by PID).  Every wait is bounded.
"""
import os
import sys
import threading
import time

import pytest
import redis
from redis.cluster import RedisCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ring_up  # noqa: E402
import compat   # noqa: E402  (put on the path by ring_up)

HOST = "127.0.0.1"
OFFSET = compat.CLUSTER_CLIENT_OFFSET


@pytest.fixture(scope="module")
def ring():
    if not os.access(ring_up.BINARY, os.X_OK):
        pytest.skip("server binary not built: %s" % ring_up.BINARY)
    rg = ring_up.start(3, 22300)
    try:
        rg.owner_table = rg.owners()
        yield rg
    finally:
        rg.stop()


def node(ring, i, **kw):
    return redis.Redis(host=HOST, port=ring.nodes[i].port, socket_timeout=10, **kw)


@pytest.fixture
def r0(ring):
    """A plain client on node 0, on a flushed ring."""
    c = node(ring, 0)
    c.flushall()
    yield c
    c.close()


def key_on(ring, i, prefix="k"):
    return ring_up.key_on(ring, i, prefix, ring.owner_table).decode()


def tag_on(ring, i, prefix="t"):
    """A hash tag {..} whose slot node i serves."""
    return "{%s}" % key_on(ring, i, prefix)


def wait_message(pubsub, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = pubsub.get_message(timeout=0.1)
        if m is not None and m["type"] in ("message", "pmessage"):
            return m
    return None


# ---- the plain client on one node ----

def test_ring_spreads_keys(ring, r0):
    """The test keys below really live on other nodes than node 0."""
    owners = {ring.owner_table[compat.key_slot(b"k%d" % i)] for i in range(100)}
    assert owners == {0, 1, 2}
    assert r0.cluster("info")["cluster_state"] == "ok"


def test_plain_pipeline_across_nodes(ring, r0):
    keys = ["p:%d" % i for i in range(300)]
    p = r0.pipeline(transaction=False)
    for k in keys:
        p.set(k, k + "!")
        p.incr(k + ":n")
        p.get(k)
    out = p.execute()
    assert out == [x for k in keys for x in (True, 1, (k + "!").encode())]
    # Every node sees the same data.
    for i in (1, 2):
        c = node(ring, i)
        assert c.mget(keys) == [(k + "!").encode() for k in keys]
        assert c.dbsize() == 600
        c.close()


def test_plain_transaction_with_hash_tag(ring, r0):
    for owner in (0, 1, 2):
        tag = tag_on(ring, owner)
        p = r0.pipeline(transaction=True)
        p.set(tag + "a", 1).incrby(tag + "a", 41).rpush(tag + "l", "x", "y")
        p.lrange(tag + "l", 0, -1).get(tag + "a")
        assert p.execute() == [True, 42, 2, [b"x", b"y"], b"42"]
        assert node(ring, owner).get(tag + "a") == b"42"


def test_plain_watch_retry_on_each_node(ring, r0):
    """WATCH of a key another node serves runs on that node: a write made
    through a third node between WATCH and EXEC makes EXEC fail, and
    redis-py's transaction() runs the function again."""
    for owner in (0, 1, 2):
        tag = tag_on(ring, owner, "w")
        r0.set(tag + "balance", 100)
        other = node(ring, (owner + 1) % 3)
        attempts = []

        def withdraw(pipe):
            attempts.append(1)
            balance = int(pipe.get(tag + "balance"))
            if len(attempts) == 1:
                other.incrby(tag + "balance", 50)
            pipe.multi()
            pipe.set(tag + "balance", balance - 30)
            pipe.incr(tag + "withdrawals")

        assert r0.transaction(withdraw, tag + "balance") == [True, 1]
        assert len(attempts) == 2
        assert node(ring, owner).get(tag + "balance") == b"120"
        other.close()


def test_plain_transaction_across_slots_is_crossslot(ring, r0):
    p = r0.pipeline(transaction=True)
    p.set(key_on(ring, 1), 1).set(key_on(ring, 2), 2)
    with pytest.raises(redis.exceptions.ResponseError, match="CROSSSLOT"):
        p.execute()
    assert r0.exists(key_on(ring, 1), key_on(ring, 2)) == 0


def test_plain_pubsub_across_nodes(ring, r0):
    sub = node(ring, 0).pubsub()
    try:
        sub.subscribe("news")
        sub.psubscribe("ne*")
        for _ in range(2):
            m = sub.get_message(timeout=5)
            assert m and m["type"] in ("subscribe", "psubscribe")
        for publisher in (1, 2):
            pub = node(ring, publisher)
            pub.publish("news", "from %d" % publisher)
            got = [wait_message(sub), wait_message(sub)]
            assert sorted((m["type"], m["data"]) for m in got) == [
                ("message", b"from %d" % publisher), ("pmessage", b"from %d" % publisher)]
            pub.close()
    finally:
        sub.close()


def test_plain_blocking_pop_woken_through_other_node(ring, r0):
    for owner in (0, 1, 2):
        key = key_on(ring, owner, "q")
        got = []
        waiter = node(ring, (owner + 1) % 3)
        t = threading.Thread(target=lambda: got.append(waiter.blpop(key, timeout=8)))
        start = time.monotonic()
        t.start()
        time.sleep(0.3)
        writer = node(ring, (owner + 2) % 3)
        assert writer.rpush(key, "v%d" % owner) == 1
        t.join(10)
        assert not t.is_alive()
        assert got == [(key.encode(), b"v%d" % owner)]
        assert time.monotonic() - start < 5
        assert writer.exists(key) == 0
        waiter.close()
        writer.close()


def test_plain_blocking_move_with_hash_tag_and_timeout(ring, r0):
    tag = tag_on(ring, 2)
    start = time.monotonic()
    assert r0.blmove(tag + "src", tag + "dst", 0.3, "LEFT", "RIGHT") is None
    assert 0.25 < time.monotonic() - start < 3
    got = []
    t = threading.Thread(target=lambda: got.append(
        node(ring, 0).blmove(tag + "src", tag + "dst", 8, "LEFT", "RIGHT")))
    t.start()
    time.sleep(0.3)
    node(ring, 1).rpush(tag + "src", "a")
    t.join(10)
    assert got == [b"a"]
    assert node(ring, 2).lrange(tag + "dst", 0, -1) == [b"a"]


def test_plain_scan_covers_the_ring(ring, r0):
    keys = {"s:%d" % i for i in range(1000)}
    r0.mset({k: "x" for k in keys})
    r0.sadd("set-not-string", "m")
    for i in range(3):
        c = node(ring, i)
        seen = list(c.scan_iter(count=50, _type="string"))
        # Every key once: the scan runs while nothing changes.
        assert len(seen) == len(keys) and set(s.decode() for s in seen) == keys
        assert {s.decode() for s in c.scan_iter(match="s:99*")} == {
            k for k in keys if k.startswith("s:99")}
        assert sorted(c.keys("s:1*")) == sorted(k.encode() for k in keys if k.startswith("s:1"))
        assert c.dbsize() == 1001
        c.close()


# ---- regressions (ring bugs found by the compat --ring pass) ----

def test_swapdb_swaps_on_every_node(ring, r0):
    keys = [key_on(ring, i, "w") for i in range(3)]
    for k in keys:
        r0.set(k, "db0")
    assert r0.swapdb(0, 1) is True
    assert r0.mget(keys) == [None, None, None]
    one = node(ring, 0, db=1)
    assert one.mget(keys) == [b"db0"] * 3
    assert one.dbsize() == 3


def test_mset_odd_arguments_is_arity_error(ring, r0):
    keys = [key_on(ring, i, "m") for i in range(3)]
    with pytest.raises(redis.exceptions.ResponseError, match="wrong number of arguments"):
        r0.execute_command("MSET", keys[0], "1", keys[1], "2", keys[2])
    assert r0.exists(*keys) == 0


def test_aborted_transaction_on_other_node_is_execabort(ring, r0):
    key = key_on(ring, 1, "x").encode()
    c = compat.Conn(ring.nodes[0].port, 5)
    try:
        replies = []
        for args in ([b"MULTI"], [b"SET", key, b"1"], [b"GET"], [b"EXEC"]):
            c.send(compat.encode_command(args))
            replies.append(c.read_reply().raw)
        assert replies == [b"+OK\r\n", b"+QUEUED\r\n",
                           b"-ERR wrong number of arguments for 'get' command\r\n",
                           b"-EXECABORT Transaction discarded because of previous errors.\r\n"]
    finally:
        c.close()
    assert r0.exists(key) == 0


def test_pipelined_after_forwarded_blocking_pop(ring, r0):
    """Replies of commands pipelined after a forwarded BLPOP were lost."""
    key = key_on(ring, 1, "b").encode()
    c = compat.Conn(ring.nodes[0].port, 5)
    try:
        c.send(compat.encode_command([b"BLPOP", key, b"0"]) +
               compat.encode_command([b"LLEN", key]) + compat.encode_command([b"PING"]))
        time.sleep(0.1)
        assert node(ring, 2).rpush(key, "a", "b") == 2
        got = [c.read_reply().raw for _ in range(3)]
        assert got == [b"*2\r\n$%d\r\n%s\r\n$1\r\na\r\n" % (len(key), key), b":1\r\n",
                       b"+PONG\r\n"]
    finally:
        c.close()


# ---- RedisCluster ----

@pytest.fixture
def rc(ring, r0):
    c = RedisCluster(host=HOST, port=ring.nodes[1].port, socket_timeout=10)
    yield c
    c.close()


def test_cluster_topology(ring, rc):
    # CLUSTER SLOTS sends cluster clients to each node's cluster clients'
    # port: its port + cluster-client-port-offset (default 10000).
    ports = sorted(n.port + OFFSET for n in ring.nodes)
    assert sorted(n.port for n in rc.get_primaries()) == ports
    assert rc.get_replicas() == []
    # Each slot maps to the node the ring says serves it.
    for slot in range(0, 16384, 97):
        assert rc.nodes_manager.get_node_from_slot(slot).port == \
            ring.nodes[ring.owner_table[slot]].port + OFFSET


def test_cluster_set_get_and_routing(ring, rc):
    keys = ["c:%d" % i for i in range(200)]
    for k in keys:
        assert rc.set(k, k) is True
    assert [rc.get(k) for k in keys] == [k.encode() for k in keys]
    plain = node(ring, 2)
    assert plain.mget(keys) == [k.encode() for k in keys]
    # Summed over the primaries, as against a Redis Cluster (redis-py
    # sends DBSIZE and KEYS to one node unless told otherwise).
    assert rc.dbsize(target_nodes=RedisCluster.PRIMARIES) == 200
    assert sorted(rc.keys("c:*", target_nodes=RedisCluster.PRIMARIES)) == \
        sorted(k.encode() for k in keys)
    plain.close()


def test_cluster_port_answers_for_its_own_slots(ring, rc):
    """On the cluster clients' port a node answers DBSIZE, KEYS, SCAN and
    INFO keyspace for the slots it serves, as a Redis Cluster node does;
    on its port, for the whole ring."""
    keys = {"own:%d" % i for i in range(600)}
    rc.mset_nonatomic({k: "1" for k in keys})
    per_node = []
    for i in range(3):
        c = redis.Redis(host=HOST, port=ring.nodes[i].port + OFFSET, socket_timeout=10,
                        decode_responses=True)
        mine = {k for k in keys if ring.owner_table[compat.key_slot(k.encode())] == i}
        assert c.dbsize() == len(mine) > 0
        assert set(c.keys("own:*")) == mine
        assert sorted(c.scan_iter(match="own:*", count=20)) == sorted(mine)
        assert c.info("keyspace")["db0"]["keys"] == len(mine)
        per_node.append(mine)
        c.close()
        plain = node(ring, i)
        assert plain.dbsize() == len(keys)
        plain.close()
    assert set().union(*per_node) == keys and sum(map(len, per_node)) == len(keys)


def test_cluster_pipeline_across_slots(ring, rc):
    p = rc.pipeline()
    keys = ["cp:%d" % i for i in range(200)]
    for k in keys:
        p.set(k, 1)
        p.incrby(k, 2)
    assert p.execute() == [True, 3] * 200
    assert rc.mget_nonatomic(keys) == [b"3"] * 200
    assert rc.mset_nonatomic({k: "z" for k in keys}) == [True] * len(
        {rc.keyslot(k) for k in keys})
    assert rc.delete(*keys[:10]) == 10


def test_cluster_hash_tag_multikey_and_transaction(ring, rc):
    tag = tag_on(ring, 0)
    assert rc.mset({tag + "a": "1", tag + "b": "2"}) is True
    assert rc.rename(tag + "a", tag + "c") is True
    assert rc.mget(tag + "b", tag + "c") == [b"2", b"1"]
    # A transaction goes to the slot's node (redis-py 4 has no cluster
    # transactions; this is how its users run one).
    owner = rc.get_node_from_key(tag + "b")
    p = rc.get_redis_connection(owner).pipeline(transaction=True)
    p.incr(tag + "b").lpush(tag + "l", "v").get(tag + "b")
    assert p.execute() == [3, 1, b"3"]


def test_cluster_pubsub_across_nodes(ring, rc):
    sub = rc.pubsub()
    try:
        sub.subscribe("events")
        m = sub.get_message(timeout=5)
        assert m and m["type"] == "subscribe"
        for i in range(3):
            pub = node(ring, i)
            pub.publish("events", "e%d" % i)
            got = wait_message(sub)
            assert got and got["data"] == b"e%d" % i
            pub.close()
    finally:
        sub.close()


def test_cluster_blocking_pop_woken_through_other_node(ring, rc):
    key = key_on(ring, 2, "cq")
    got = []
    t = threading.Thread(target=lambda: got.append(rc.brpop(key, timeout=8)))
    t.start()
    time.sleep(0.3)
    node(ring, 0).lpush(key, "x")
    t.join(10)
    assert got == [(key.encode(), b"x")]


def test_cluster_scan_iter_each_key_once(ring, rc):
    """RedisCluster.scan_iter sends SCAN to every primary: each node scans
    its own slots on the cluster clients' port, so each key comes once."""
    keys = {"cs:%d" % i for i in range(300)}
    rc.mset_nonatomic({k: "1" for k in keys})
    seen = [k.decode() for k in rc.scan_iter(count=100)]
    assert sorted(seen) == sorted(keys)
