"""
redis-py (Debian's python3-redis) against a real server: the features
applications use through a client library rather than raw commands —
pipelines of 1000 commands, optimistic transactions (WATCH + MULTI/EXEC
with retry), pub/sub (polling get_message and a listener thread), blocking
pops woken by another connection, and round trips of every data type.

Each test needs certain commands; when the server under test does not have
them yet (COMMAND INFO answers nil), the test is skipped and says which
commands are missing, so that the report shows what is left to do.

    /usr/bin/python3 -m pytest -q redis-compat/clients/redis_py_client.py

The server is $RINGCACHED (default: src/ringcached of this tree), started
once per module on 127.0.0.1, on a free port in 27000-27499, with
persistence off, and stopped by PID.  RINGCACHED=/usr/bin/redis-server runs
the same tests against Redis itself, which is how they were checked.
"""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import redis

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("RINGCACHED", os.path.join(ROOT, "src", "ringcached"))
HOST = "127.0.0.1"
PORT_LO, PORT_HI = 27000, 27499


def free_port():
    for _ in range(200):
        port = random.randint(PORT_LO, PORT_HI)
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def answers_ping(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    """The server under test, started on a free port; stop() by PID."""

    def __init__(self):
        if not os.access(BINARY, os.X_OK):
            pytest.skip("server binary not built: %s" % BINARY)
        last = ""
        for _ in range(5):
            self.port = free_port()
            self.dir = tempfile.mkdtemp(prefix="ringcache-clients-")
            log = open(os.path.join(self.dir, "server.log"), "wb")
            self.proc = subprocess.Popen(
                [BINARY, "--port", str(self.port), "--bind", HOST, "--save", "",
                 "--dir", self.dir],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.dir)
            log.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if answers_ping(self.port):
                    return
                time.sleep(0.02)
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                last = f.read().decode("utf-8", "replace")
            self.stop()
        raise RuntimeError("server did not start:\n" + last)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def has_command(self, name):
        """Whether the server knows the command (COMMAND INFO is not nil)."""
        # A raw socket: redis-py's COMMAND parser does not accept nil rows.
        req = b"*3\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n" % (len(name), name.encode())
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            s.sendall(req)
            head = b""
            while len(head) < 8:
                chunk = s.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
        # One row: a nil (RESP2 null bulk) for an unknown command.
        return not head.startswith(b"*1\r\n$-1")


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def r(server):
    """A client on a flushed database; closed afterwards."""
    c = redis.Redis(host=HOST, port=server.port, socket_timeout=10)
    c.flushall()
    yield c
    c.close()


def need(server, *names):
    """Skip the calling test, naming what is missing, unless the server has
    every command in names."""
    missing = [n for n in names if not server.has_command(n)]
    if missing:
        pytest.skip("server lacks: " + " ".join(missing))


# ---- strings and pipelines ----

def test_strings_roundtrip(server, r):
    need(server, "set", "get", "mset", "mget", "incrby", "expire", "ttl")
    binary = bytes(range(256)) * 4
    assert r.set("bin", binary) is True
    assert r.get("bin") == binary
    assert r.set("s", "v", nx=True) is True
    assert r.set("s", "w", nx=True) is None
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "nosuch") == [b"1", b"2", None]
    assert r.incrby("a", 41) == 42
    assert r.expire("a", 100) is True
    assert 0 < r.ttl("a") <= 100
    if server.has_command("getdel"):
        assert r.getdel("b") == b"2"
    with pytest.raises(redis.exceptions.ResponseError):
        r.incr("bin")


def test_pipeline_of_1000_commands(server, r):
    need(server, "set", "get", "incr")
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set("key:%d" % i, "value:%d" % i)
    assert p.execute() == [True] * 1000
    for i in range(1000):
        p.get("key:%d" % i)
    assert p.execute() == [b"value:%d" % i for i in range(1000)]
    # Replies and errors stay in order; an error does not stop the rest.
    for i in range(1000):
        if i % 100 == 7:
            p.incr("key:%d" % i)                # not an integer
        else:
            p.incr("counter")
    out = p.execute(raise_on_error=False)
    assert len(out) == 1000
    errors = [i for i, x in enumerate(out) if isinstance(x, redis.exceptions.ResponseError)]
    assert errors == [i for i in range(1000) if i % 100 == 7]
    assert [x for x in out if not isinstance(x, Exception)] == list(range(1, 991))


# ---- transactions ----

def test_transaction_with_watch_retry(server, r):
    need(server, "multi", "exec", "watch", "unwatch", "incrby", "get", "set")
    r.set("balance", 100)
    other = redis.Redis(host=HOST, port=server.port)
    attempts = []

    def withdraw(pipe):
        attempts.append(1)
        balance = int(pipe.get("balance"))
        if len(attempts) == 1:
            # Another client changes the watched key between WATCH and EXEC:
            # EXEC must fail and redis-py must run the function again.
            other.incrby("balance", 50)
        pipe.multi()
        pipe.set("balance", balance - 30)
        pipe.incr("withdrawals")

    result = r.transaction(withdraw, "balance")
    assert len(attempts) == 2
    assert result == [True, 1]
    assert r.get("balance") == b"120"
    other.close()


def test_transaction_is_atomic_and_queues_errors(server, r):
    need(server, "multi", "exec", "discard", "set", "incr", "get")
    with r.pipeline(transaction=True) as p:
        p.set("a", "x")
        p.incr("a")                                 # fails at EXEC time
        p.set("b", "y")
        out = p.execute(raise_on_error=False)
    assert out[0] is True and out[2] is True
    assert isinstance(out[1], redis.exceptions.ResponseError)
    assert r.get("b") == b"y"
    # A command rejected while queuing aborts the whole transaction.
    with r.pipeline(transaction=True) as p:
        p.set("c", "1")
        p.execute_command("SET", "c")               # wrong arity
        with pytest.raises(redis.exceptions.ResponseError):
            p.execute()
    assert r.get("c") is None


# ---- pub/sub ----

def wait_message(ps, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within %.1f s" % timeout)


def test_pubsub_get_message(server, r):
    need(server, "subscribe", "psubscribe", "unsubscribe", "publish")
    ps = r.pubsub()
    ps.subscribe("news")
    ps.psubscribe("sport.*")
    # Wait until both subscriptions are confirmed before publishing.
    confirmed = []
    deadline = time.monotonic() + 5
    while len(confirmed) < 2 and time.monotonic() < deadline:
        m = ps.get_message(timeout=0.1)
        if m:
            confirmed.append(m["type"])
    assert sorted(confirmed) == ["psubscribe", "subscribe"]
    assert r.publish("news", "hello") == 1
    assert r.publish("sport.tennis", b"\x00\xff") == 1
    assert r.publish("nobody", "x") == 0
    m = wait_message(ps)
    assert (m["type"], m["channel"], m["data"]) == ("message", b"news", b"hello")
    m = wait_message(ps)
    assert (m["type"], m["pattern"], m["channel"], m["data"]) == \
        ("pmessage", b"sport.*", b"sport.tennis", b"\x00\xff")
    ps.unsubscribe("news")
    ps.punsubscribe()
    # redis-py sends UNSUBSCRIBE without waiting for the server: read both
    # confirmations before publishing from the other connection.
    confirmed = []
    deadline = time.monotonic() + 5
    while len(confirmed) < 2 and time.monotonic() < deadline:
        m = ps.get_message(timeout=0.1)
        if m and m["type"] in ("unsubscribe", "punsubscribe"):
            confirmed.append(m["type"])
    assert sorted(confirmed) == ["punsubscribe", "unsubscribe"]
    assert r.publish("news", "gone") == 0
    ps.close()


def test_pubsub_listener_thread(server, r):
    need(server, "subscribe", "publish")
    ps = r.pubsub(ignore_subscribe_messages=True)
    got = []
    done = threading.Event()

    def handler(message):
        got.append(message["data"])
        if message["data"] == b"m99":
            done.set()

    ps.subscribe(**{"events": handler})
    worker = ps.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.monotonic() + 5
        while r.publish("events", "probe") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)        # wait until the subscription is active
        for i in range(100):
            assert r.publish("events", "m%d" % i) == 1
        assert done.wait(5), "listener got %d messages" % len(got)
        assert [x for x in got if x != b"probe"] == [b"m%d" % i for i in range(100)]
    finally:
        worker.stop()
        worker.join(5)
        ps.close()


# ---- blocking pops ----

def test_blpop_woken_by_pusher_thread(server, r):
    need(server, "blpop", "rpush", "lpush")
    pusher = redis.Redis(host=HOST, port=server.port)

    def push_later():
        time.sleep(0.3)
        pusher.rpush("jobs", "job1", "job2")

    t = threading.Thread(target=push_later)
    t0 = time.monotonic()
    t.start()
    assert r.blpop(["other", "jobs"], timeout=5) == (b"jobs", b"job1")
    assert time.monotonic() - t0 >= 0.25
    t.join()
    assert r.blpop(["jobs"], timeout=1) == (b"jobs", b"job2")
    # Timeout: nil after about the given time.
    t0 = time.monotonic()
    assert r.blpop(["jobs"], timeout=0.2) is None
    assert time.monotonic() - t0 >= 0.15
    pusher.close()


def test_brpop_serves_clients_in_order(server, r):
    need(server, "brpop", "lpush")
    results = {}

    def waiter(name):
        c = redis.Redis(host=HOST, port=server.port)
        results[name] = c.brpop("q", timeout=5)
        c.close()

    threads = []
    for name in ("first", "second"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        time.sleep(0.2)     # the first one blocks before the second
    r.lpush("q", "a")
    time.sleep(0.1)
    r.lpush("q", "b")
    for t in threads:
        t.join(6)
    assert results == {"first": (b"q", b"a"), "second": (b"q", b"b")}


# ---- data types ----

def test_hash_roundtrip(server, r):
    need(server, "hset", "hget", "hgetall", "hmget", "hincrby", "hincrbyfloat", "hdel",
         "hlen", "hexists", "hkeys", "hvals", "hscan")
    fields = {"f%d" % i: "v%d" % i for i in range(300)}
    assert r.hset("h", mapping=fields) == 300
    assert r.hset("h", "f0", "changed") == 0
    assert r.hget("h", "f0") == b"changed"
    assert r.hlen("h") == 300
    got = r.hgetall("h")
    assert len(got) == 300 and got[b"f299"] == b"v299"
    assert r.hmget("h", "f1", "nosuch") == [b"v1", None]
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrbyfloat("h", "x", 1.5) == 1.5
    assert r.hexists("h", "n") is True
    assert dict(r.hscan_iter("h", match="f1?")) == {b"f1%d" % i: b"v1%d" % i for i in range(10)}
    assert r.hdel("h", "n", "x", "nosuch") == 2
    assert sorted(r.hkeys("h"))[:2] == [b"f0", b"f1"]
    assert len(r.hvals("h")) == 300
    r.set("str", "x")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        r.hget("str", "f")


def test_list_roundtrip(server, r):
    need(server, "lpush", "rpush", "lrange", "lpop", "rpop", "llen", "lindex", "lset",
         "ltrim", "lrem", "linsert")
    assert r.rpush("l", *range(10)) == 10
    assert r.lpush("l", "head") == 11
    assert r.lrange("l", 0, 2) == [b"head", b"0", b"1"]
    assert r.lrange("l", -2, -1) == [b"8", b"9"]
    assert r.lindex("l", 1) == b"0"
    assert r.lset("l", 1, "zero") is True
    assert r.linsert("l", "before", "zero", "pre") == 12
    assert r.lrem("l", 0, "pre") == 1
    assert r.lpop("l") == b"head"
    assert r.rpop("l") == b"9"
    assert r.lpop("l", 2) == [b"zero", b"1"]
    assert r.ltrim("l", 0, 2) is True
    assert r.lrange("l", 0, -1) == [b"2", b"3", b"4"]
    assert r.llen("l") == 3
    r.delete("l")
    big = [os.urandom(100) for _ in range(2000)]
    assert r.rpush("l", *big) == 2000
    assert r.lrange("l", 0, -1) == big
    assert r.rpop("l", 3000)[-1] == big[0]
    assert r.exists("l") == 0            # an emptied list is deleted


def test_set_roundtrip(server, r):
    need(server, "sadd", "smembers", "sismember", "scard", "srem", "sinter", "sunion",
         "sdiff", "spop", "srandmember", "sscan")
    assert r.sadd("ints", *range(100)) == 100
    assert r.sadd("ints", 5) == 0
    assert r.scard("ints") == 100
    assert r.sismember("ints", 42) is True
    assert r.sadd("words", "a", "b", "c", 1, 2) == 5
    assert r.sinter("ints", "words") == {b"1", b"2"}
    assert len(r.sunion("ints", "words")) == 103
    assert r.sdiff("words", "ints") == {b"a", b"b", b"c"}
    assert r.srem("words", "a", "zz") == 1
    members = r.smembers("words")
    assert members == {b"b", b"c", b"1", b"2"}
    assert r.srandmember("words") in members
    popped = r.spop("words", 10)
    assert set(popped) == members
    assert r.exists("words") == 0
    assert set(r.sscan_iter("ints")) == {str(i).encode() for i in range(100)}


def test_zset_roundtrip(server, r):
    need(server, "zadd", "zrange", "zscore", "zincrby", "zrank", "zrevrank", "zcard",
         "zrem", "zrangebyscore", "zcount", "zscan")
    scores = {"m%d" % i: i * 1.5 for i in range(200)}
    assert r.zadd("z", scores) == 200
    assert r.zcard("z") == 200
    assert r.zscore("z", "m10") == 15.0
    assert r.zincrby("z", 0.25, "m10") == 15.25
    assert r.zrank("z", "m0") == 0
    assert r.zrevrank("z", "m199") == 0
    assert r.zrange("z", 0, 2, withscores=True) == [(b"m0", 0.0), (b"m1", 1.5), (b"m2", 3.0)]
    assert r.zrangebyscore("z", 3, 6) == [b"m2", b"m3", b"m4"]
    assert r.zcount("z", "-inf", "(3") == 2
    assert r.zadd("z", {"m0": 1000}, xx=True, ch=True) == 1
    assert r.zrange("z", -1, -1) == [b"m0"]
    assert r.zrem("z", "m0", "nosuch") == 1
    assert r.zadd("z", {"inf": float("inf")}) == 1
    assert r.zscore("z", "inf") == float("inf")
    assert dict(r.zscan_iter("z", match="m19?"))[b"m199"] == 298.5
