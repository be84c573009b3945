"""
Integration tests for the hash commands (src/t_hash.c, src/listpack.c)
against a real node.

Byte-exact replies and error texts are checked by
redis-compat/cases/hash.txt; these tests check behaviour: random operations
against a Python model in both encodings, the encoding thresholds,
HRANDFIELD's distinctness and membership rules in each of its strategies,
complete HSCAN iteration of big hashes, lazy freeing of big hashes, and the
memory a small hash costs per field compared with redis-server's.
"""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import HOST, launch_node, pick_port, stop_node

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def r(server):
    port, proc = server
    client = redis.Redis(host=HOST, port=port, socket_timeout=30)
    client.flushall()
    client.config_set("hash-max-listpack-entries", 128)
    client.config_set("hash-max-listpack-value", 64)
    yield client
    client.config_set("hash-max-listpack-entries", 128)
    client.config_set("hash-max-listpack-value", 64)
    client.close()
    assert proc.poll() is None, "node died"


def encoding(r, key):
    return r.object("encoding", key).decode()


def hgetall(r, key):
    return {k: v for k, v in r.hgetall(key).items()}


# ---- against a model ----


def random_bytes(rng, maxlen):
    n = rng.choice([0, 1, 3, 8, rng.randint(0, maxlen)])
    kind = rng.random()
    if kind < 0.3:
        return str(rng.randint(-(2 ** 63), 2 ** 63 - 1)).encode()[:max(n, 1)]
    if kind < 0.5:
        return str(rng.randint(-1000, 1000)).encode()
    return bytes(rng.randrange(256) for _ in range(n))


@pytest.mark.parametrize("entries,value", [(128, 64), (8, 64), (128, 4)])
def test_random_ops_against_model(r, entries, value):
    r.config_set("hash-max-listpack-entries", entries)
    r.config_set("hash-max-listpack-value", value)
    rng = random.Random(entries * 1000 + value)
    model = {}
    fields = [random_bytes(rng, 20) for _ in range(60)]
    for step in range(3000):
        op = rng.random()
        f = rng.choice(fields)
        if op < 0.4:
            v = random_bytes(rng, 30)
            added = r.hset("h", f, v)
            assert added == (0 if f in model else 1)
            model[f] = v
        elif op < 0.55:
            n = r.hdel("h", f, rng.choice(fields))
            assert n >= (1 if f in model else 0)
            model.pop(f, None)
            model = {k: v for k, v in model.items() if r.hexists("h", k)}
        elif op < 0.7:
            cur = model.get(f, b"0")
            try:
                int(cur)
                ok = cur == str(int(cur)).encode()
            except ValueError:
                ok = False
            incr = rng.randint(-1000, 1000)
            if ok and -(2 ** 63) <= int(cur) + incr < 2 ** 63:
                assert r.hincrby("h", f, incr) == int(cur) + incr
                model[f] = str(int(cur) + incr).encode()
            else:
                with pytest.raises(redis.ResponseError):
                    r.hincrby("h", f, incr)
        elif op < 0.8:
            assert r.hget("h", f) == model.get(f)
        elif op < 0.9:
            assert r.hsetnx("h", f, b"nx") == (0 if f in model else 1)
            model.setdefault(f, b"nx")
        else:
            assert r.hstrlen("h", f) == len(model.get(f, b""))
        if step % 100 == 0:
            assert hgetall(r, "h") == model
            assert r.hlen("h") == len(model)
            assert r.exists("h") == (1 if model else 0)
    assert hgetall(r, "h") == model
    assert sorted(r.hkeys("h")) == sorted(model)
    assert sorted(r.hvals("h")) == sorted(model.values())
    assert r.hmget("h", fields) == [model.get(f) for f in fields]


# ---- encodings ----


def test_encoding_thresholds(r):
    for i in range(128):
        r.hset("h", "f%d" % i, i)
    assert encoding(r, "h") == "listpack"
    r.hset("h", "f0", "updated")            # an update does not add a field
    assert encoding(r, "h") == "listpack"
    r.hset("h", "f128", 1)
    assert encoding(r, "h") == "hashtable"
    assert r.hlen("h") == 129
    r.hset("v", "f", "x" * 64)
    assert encoding(r, "v") == "listpack"
    r.hset("v", "g", "x" * 65)
    assert encoding(r, "v") == "hashtable"
    assert r.hget("v", "f") == b"x" * 64
    # Deleting back below the limits keeps the hashtable, as Redis does.
    r.hdel("v", "g")
    assert encoding(r, "v") == "hashtable"
    # HINCRBYFLOAT's result is checked against the value limit too.
    r.config_set("hash-max-listpack-value", 5)
    r.hincrbyfloat("fl", "f", 1.5)
    assert encoding(r, "fl") == "listpack"
    r.hincrbyfloat("fl", "f", "0.0001")
    assert encoding(r, "fl") == "hashtable"
    assert r.hget("fl", "f") == b"1.5001"


def test_big_values(r):
    big = os.urandom(1 << 20)
    r.hset("h", "small", "1")
    r.hset("h", "big", big)
    assert encoding(r, "h") == "hashtable"
    assert r.hget("h", "big") == big
    assert r.hstrlen("h", "big") == len(big)
    r.config_set("hash-max-listpack-value", 100000)
    mid = os.urandom(20000)
    r.hset("lp", "a", mid, mapping={"b": "x" * 9000, "c": "7"})
    assert encoding(r, "lp") == "listpack"
    assert r.hgetall("lp") == {b"a": mid, b"b": b"x" * 9000, b"c": b"7"}
    r.hset("lp", "a", "short")
    assert r.hget("lp", "b") == b"x" * 9000


# ---- HRANDFIELD ----


@pytest.mark.parametrize("entries", [128, 4])
@pytest.mark.parametrize("size", [1, 5, 30, 300])
def test_hrandfield(r, entries, size):
    r.config_set("hash-max-listpack-entries", entries)
    data = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(size)}
    r.hset("h", mapping=data)
    for count in (1, 2, size // 3, size // 2, size - 1, size, size + 5):
        if count <= 0:
            continue
        got = r.hrandfield("h", count)
        assert len(got) == min(count, size)
        assert len(set(got)) == len(got), "positive count must be distinct"
        assert set(got) <= set(data)
        pairs = r.hrandfield("h", count, withvalues=True)
        assert len(pairs) == 2 * min(count, size)
        for k, v in zip(pairs[::2], pairs[1::2]):
            assert data[k] == v
        assert len(set(pairs[::2])) == len(pairs) // 2
    neg = r.hrandfield("h", -3 * size)
    assert len(neg) == 3 * size and set(neg) <= set(data)
    negv = r.hrandfield("h", -50, withvalues=True)
    assert len(negv) == 100
    for k, v in zip(negv[::2], negv[1::2]):
        assert data[k] == v
    if size >= 5:
        seen = set()
        for _ in range(200):
            seen.add(r.hrandfield("h"))
        assert len(seen) > 1, "HRANDFIELD always returned the same field"
        assert seen <= set(data)


def resp_command(sock, *args):
    """Sends one command in RESP and returns the raw reply bytes read
    within a short wait (replies here are small)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    time.sleep(0.05)
    return sock.recv(65536)


def test_hrandfield_resp3_pairs(server, r):
    port, _ = server
    r.hset("h", mapping={"a": 1, "b": 2})
    with socket.create_connection((HOST, port), timeout=5) as s:
        assert resp_command(s, "HELLO", 3).startswith(b"%")
        got = resp_command(s, "HRANDFIELD", "h", 2, "WITHVALUES")
        assert got in (b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
                       b"*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")
        got = resp_command(s, "HRANDFIELD", "h", -3, "WITHVALUES")
        assert got.startswith(b"*3\r\n*2\r\n") and got.count(b"*2\r\n") == 3
        assert resp_command(s, "HGETALL", "h") == (
            b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")


# ---- HSCAN ----


def full_hscan(r, key, **kw):
    cursor, seen, calls = 0, {}, 0
    while True:
        cursor, part = r.hscan(key, cursor, **kw)
        seen.update(part)
        calls += 1
        if cursor == 0:
            return seen, calls


def test_hscan_big_hash(r):
    data = {("field:%d" % i).encode(): str(i).encode() for i in range(5000)}
    pipe = r.pipeline(transaction=False)
    items = list(data.items())
    for i in range(0, len(items), 500):
        pipe.hset("h", mapping=dict(items[i:i + 500]))
    pipe.execute()
    assert encoding(r, "h") == "hashtable"
    seen, calls = full_hscan(r, "h", count=50)
    assert seen == data
    assert calls > 10
    matched, _ = full_hscan(r, "h", match="field:1*", count=100)
    assert matched == {k: v for k, v in data.items() if k.startswith(b"field:1")}


def test_hscan_while_modifying(r):
    r.config_set("hash-max-listpack-entries", 1)
    stable = {("s%d" % i).encode(): b"1" for i in range(2000)}
    r.hset("h", mapping=stable)
    cursor, seen, i = 0, set(), 0
    while True:
        cursor, part = r.hscan("h", cursor, count=20)
        seen.update(part)
        # Grow the table while the scan is in progress.
        r.hset("h", mapping={("x%d_%d" % (i, j)).encode(): b"2" for j in range(30)})
        i += 1
        if cursor == 0:
            break
    assert set(stable) <= seen


def test_hscan_listpack_one_call(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.hscan("h", 0, count=1) == (0, {b"a": b"1", b"b": b"2", b"c": b"3"})


# ---- lifecycle ----


def test_unlink_big_hash_frees_memory(r):
    before = r.info("memory")["used_memory"]
    pipe = r.pipeline(transaction=False)
    for i in range(0, 50000, 1000):
        pipe.hset("big", mapping={"f%d" % j: "v%d" % j for j in range(i, i + 1000)})
    pipe.execute()
    assert r.hlen("big") == 50000
    assert r.unlink("big") == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if r.info("memory")["used_memory"] < before + 512 * 1024:
            break
        time.sleep(0.05)
    assert r.info("memory")["used_memory"] < before + 512 * 1024
    assert r.exists("big") == 0


def test_copy_is_deep(r):
    for entries in (128, 1):
        r.config_set("hash-max-listpack-entries", entries)
        r.delete("a", "b")
        r.hset("a", mapping={"x": 1, "y": 2})
        assert r.copy("a", "b")
        r.hset("a", "x", 100)
        r.hdel("a", "y")
        assert r.hgetall("b") == {b"x": b"1", b"y": b"2"}
        assert encoding(r, "b") == encoding(r, "a")


# ---- memory compared with redis-server ----


def start_redis(port):
    workdir = tempfile.mkdtemp(prefix="ringcache-ref-")
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", HOST,
                             "--save", "", "--appendonly", "no", "--dir", workdir,
                             "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=workdir)
    proc.workdir = workdir
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            redis.Redis(host=HOST, port=port).ping()
            return proc
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    stop_redis(proc)
    raise RuntimeError("redis-server did not start on port %d" % port)


def stop_redis(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    shutil.rmtree(proc.workdir, ignore_errors=True)


HASHES = 10000
FIELDS = 10


def load_and_measure(port):
    """used_memory growth per key for HASHES keys holding small integer
    strings, and then for the same keys holding hashes of FIELDS fields
    (short field names, a mix of integer and short string values)."""
    c = redis.Redis(host=HOST, port=port, socket_timeout=60)
    result = {}
    for kind in ("strings", "hashes"):
        c.flushall()
        time.sleep(0.2)
        before = c.info("memory")["used_memory"]
        pipe = c.pipeline(transaction=False)
        for i in range(HASHES):
            if kind == "strings":
                pipe.set("user:%d" % i, i)
            else:
                pipe.hset("user:%d" % i, mapping={
                    "name": "user%d" % i, "age": i % 90, "visits": i * 7,
                    "country": "fr", "lang": "en-GB", "score": i % 1000,
                    "email": "u%d@example.com" % i, "active": 1, "plan": "free",
                    "created": 1700000000 + i,
                })
            if len(pipe) >= 1000:
                pipe.execute()
        pipe.execute()
        result[kind] = (c.info("memory")["used_memory"] - before) / HASHES
        assert c.dbsize() == HASHES
    assert c.object("encoding", "user:1") == b"listpack"
    c.flushall()
    c.close()
    return result


@pytest.fixture(scope="module")
def memory_numbers(server):
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("redis-server not installed")
    port, _ = server
    ours = load_and_measure(port)
    ref_port = pick_port()
    ref = start_redis(ref_port)
    try:
        theirs = load_and_measure(ref_port)
    finally:
        stop_redis(ref)
    print("\nbytes per key: redis-server strings %.1f hashes %.1f; "
          "ringcached strings %.1f hashes %.1f"
          % (theirs["strings"], theirs["hashes"], ours["strings"], ours["hashes"]))
    return ours, theirs


def test_memory_per_hash_field_vs_redis(memory_numbers):
    """What the hash itself costs per field (the key's own cost, measured
    with the same key names holding small integers, subtracted on each
    server) is at most 10% above redis-server's."""
    ours, theirs = memory_numbers
    our_field = (ours["hashes"] - ours["strings"]) / FIELDS
    their_field = (theirs["hashes"] - theirs["strings"]) / FIELDS
    print("\nhash bytes per field: redis-server %.1f, ringcached %.1f (ratio %.3f)"
          % (their_field, our_field, our_field / their_field))
    assert our_field <= their_field * 1.10


def test_memory_per_field_total_vs_redis(memory_numbers):
    """used_memory delta per field, key overhead included."""
    ours, theirs = memory_numbers
    ratio = ours["hashes"] / theirs["hashes"]
    print("\ntotal bytes per field: redis-server %.1f, ringcached %.1f (ratio %.3f)"
          % (theirs["hashes"] / FIELDS, ours["hashes"] / FIELDS, ratio))
    assert ratio <= 1.10
