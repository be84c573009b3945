"""
maxmemory and eviction on a real node: every maxmemory-policy keeps used
memory under the limit and evicts the keys it should; noeviction and the
volatile policies refuse writes with Redis's -OOM error when nothing can be
evicted; OBJECT FREQ / OBJECT IDLETIME follow the policy as in Redis 7.0;
and the approximated LRU and LFU keep as many hits as redis-server's own on
the same skewed access trace (test_hit_ratio_matches_redis).

Nodes listen on 127.0.0.1, ports 26500-26999; every process is stopped by
PID.  The whole file runs in well under a minute.
"""
import bisect
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import HOST, pick_port, start_node, stop_node

PORT_LO, PORT_HI = 26500, 26999
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")

OOM = "OOM command not allowed when used memory > 'maxmemory'."
VALUE = b"v" * 1024
# What a node may hold above maxmemory when it is read: the last write of a
# pipeline is applied before the next command's eviction brings memory
# back under the limit, plus reply buffers.
SLACK = 64 * 1024

POLICIES = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
            "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]


def launch(*args):
    last = None
    for _ in range(5):
        try:
            return start_node(*args, port=pick_port(PORT_LO, PORT_HI))
        except RuntimeError as e:
            last = e
    raise last


def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=30)


def used(r):
    return r.info("memory")["used_memory"]


def evicted(r):
    return r.info("stats")["evicted_keys"]


def set_budget(r, extra):
    """Set maxmemory to what the node uses now plus `extra` bytes; returns
    the limit.  (The fixed start-up cost differs between builds, so limits
    are relative to it.)"""
    limit = used(r) + extra
    r.config_set("maxmemory", limit)
    return limit


def fill(r, prefix, count, ex=None, start=0):
    """SET prefix<i> for i in [start, start+count) with 1 KB values, in
    pipelines of 100; returns the replies (exceptions included)."""
    out = []
    for base in range(start, start + count, 100):
        p = r.pipeline(transaction=False)
        for i in range(base, min(base + 100, start + count)):
            if ex is None:
                p.set("%s%d" % (prefix, i), VALUE)
            else:
                p.set("%s%d" % (prefix, i), VALUE, ex=ex)
        out.extend(p.execute(raise_on_error=False))
    return out


@pytest.fixture
def lnode():
    port, proc = launch()
    try:
        yield client(port)
    finally:
        stop_node(proc)


# ---- every policy ----

@pytest.mark.parametrize("policy", [p for p in POLICIES if p.startswith("allkeys")])
def test_allkeys_policy_stays_under_limit(lnode, policy):
    r = lnode
    r.config_set("maxmemory-policy", policy)
    limit = set_budget(r, 1024 * 1024)
    replies = fill(r, "k:", 3000)
    assert all(x is True for x in replies), "allkeys policies never refuse writes"
    assert used(r) <= limit + SLACK
    n = r.dbsize()
    assert 300 < n < 3000
    # The cron may evict a few more keys between two reads: bracket them.
    e = evicted(r)
    assert 3000 - n <= e <= 3000 - r.dbsize()
    # The most recent key was written after the last eviction made room
    # for it; a random policy's cron evictions since may pick it too.
    if policy != "allkeys-random":
        assert r.exists("k:2999")


@pytest.mark.parametrize("policy", [p for p in POLICIES if p.startswith("volatile")])
def test_volatile_policy_evicts_only_keys_with_ttl(lnode, policy):
    r = lnode
    r.config_set("maxmemory-policy", policy)
    limit = set_budget(r, 1024 * 1024)
    fill(r, "p:", 200)                          # persistent: never evicted
    if policy == "volatile-ttl":
        # TTLs ascending with i: the shortest should go first.
        for base in range(0, 1500, 100):
            p = r.pipeline(transaction=False)
            for i in range(base, base + 100):
                p.set("t:%d" % i, VALUE, ex=10000 + i)
            p.execute()
    else:
        fill(r, "t:", 1500, ex=10000)
    assert used(r) <= limit + SLACK
    assert evicted(r) > 0
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.exists("p:%d" % i)
    assert sum(p.execute()) == 200, "a key without TTL was evicted"
    survivors = [i for i in range(1500) if r.exists("t:%d" % i)]
    assert 0 < len(survivors) < 1500
    assert evicted(r) >= 1500 - len(survivors)
    if policy == "volatile-ttl":
        # Approximated (5 samples and a pool), but clearly skewed towards
        # evicting the keys that expire first.
        assert sum(survivors) / len(survivors) > 1500 * 0.6

    # With only persistent keys left nothing can be evicted: writes are
    # refused, reads and DEL still work.
    replies = fill(r, "q:", 1500)
    errors = [x for x in replies if isinstance(x, Exception)]
    assert errors, "writes must be refused once no volatile key remains"
    assert all(str(e) == OOM for e in errors)
    # Without the query buffers' share, memory is near the limit: lower the
    # limit below it so that every write must be refused.
    r.config_set("maxmemory", used(r) - 64 * 1024)
    assert r.info("keyspace")["db0"]["expires"] == 0
    assert r.dbsize() >= 200
    assert r.get("p:0") == VALUE
    with pytest.raises(redis.exceptions.ResponseError) as ei:
        r.incr("counter")
    assert str(ei.value) == OOM
    assert r.delete("p:0") == 1


def test_noeviction_refuses_denyoom_commands(lnode):
    r = lnode
    assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    limit = set_budget(r, 512 * 1024)
    replies = fill(r, "k:", 1500)
    ok = sum(1 for x in replies if x is True)
    errors = [x for x in replies if isinstance(x, Exception)]
    assert 100 < ok < 1500 and len(errors) == 1500 - ok
    assert all(str(e) == OOM for e in errors)
    assert evicted(r) == 0
    assert r.dbsize() == ok
    assert used(r) <= limit + SLACK
    # Once the pipeline's query buffer is freed memory may be just under
    # the limit again: lower it so that every write must be refused.
    r.config_set("maxmemory", used(r) - 64 * 1024)
    for cmd in (("SET", "x", "1"), ("APPEND", "k:0", "z"), ("INCR", "n"),
                ("SETRANGE", "k:1", "0", "a"), ("MSET", "a", "1", "b", "2")):
        with pytest.raises(redis.exceptions.ResponseError) as ei:
            r.execute_command(*cmd)
        assert str(ei.value) == OOM, cmd
    # Reads, and commands that do not grow memory, still work.
    assert r.get("k:0") == VALUE
    assert r.strlen("k:1") == 1024
    assert r.expire("k:2", 100) is True
    assert r.delete(*["k:%d" % i for i in range(ok // 2)]) == ok // 2
    assert r.set("x", "1") is True          # room again after DEL


def test_raising_the_limit_or_removing_it_lets_writes_in(lnode):
    r = lnode
    set_budget(r, 256 * 1024)
    fill(r, "k:", 600)
    with pytest.raises(redis.exceptions.ResponseError):
        r.set("x", VALUE)
    r.config_set("maxmemory", 0)
    assert r.set("x", VALUE) is True


def test_lowering_the_limit_evicts_down_to_it(lnode):
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-random")
    base = used(r)
    fill(r, "k:", 4000)
    limit = base + 1024 * 1024
    r.config_set("maxmemory", limit)
    # Eviction happens before the next write (or in the cron) and may run
    # over several loop iterations when the excess is large.
    r.set("trigger", "1")
    deadline = time.monotonic() + 5
    while used(r) > limit + SLACK and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used(r) <= limit + SLACK
    assert evicted(r) > 2000


@pytest.mark.parametrize("tenacity", [0, 10, 100])
def test_eviction_tenacity_never_refuses_evictable_writes(lnode, tenacity):
    """At tenacity 0 one call may evict only 16 keys; the rest is done on
    later loop iterations and commands are not refused meanwhile (Redis's
    EVICT_RUNNING)."""
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory-eviction-tenacity", tenacity)
    base = used(r)
    fill(r, "k:", 3000)
    r.config_set("maxmemory", base + 512 * 1024)
    replies = fill(r, "n:", 500)
    assert all(x is True for x in replies)
    deadline = time.monotonic() + 5
    while used(r) > base + 512 * 1024 + SLACK and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used(r) <= base + 512 * 1024 + SLACK


def fill_then_limit(r, count, room):
    """Write k:0..count-1 with no limit, then set maxmemory so that about
    `room` more keys of the same size fit (the per-key cost is measured, as
    it depends on the allocator).  Returns the limit."""
    base = used(r)
    fill(r, "k:", count)
    now = used(r)
    limit = now + room * (now - base) // count
    r.config_set("maxmemory", limit)
    return limit


def test_lru_keeps_recently_used_keys(lnode):
    """The LRU clock has a resolution of one second, as in Redis: keys read
    a couple of seconds after the others were written must survive."""
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory-samples", 10)
    limit = fill_then_limit(r, 600, 100)
    time.sleep(2.2)
    hot = ["k:%d" % i for i in range(0, 600, 3)]     # 200 keys, read now
    p = r.pipeline(transaction=False)
    for k in hot:
        p.get(k)
    p.execute()
    time.sleep(1.1)
    fill(r, "n:", 400)                 # forces roughly 300 evictions
    assert used(r) <= limit + SLACK
    assert evicted(r) > 200
    hot_left = sum(r.exists(k) for k in hot)
    cold = ["k:%d" % i for i in range(600) if i % 3]
    cold_left = sum(r.exists(k) for k in cold)
    # Sampled LRU is approximate (as in Redis): a few hot keys may go when
    # a sample happens to hold no older key.  Most must survive, and far
    # more of them than of the cold ones.
    assert hot_left >= 160, (hot_left, cold_left)
    assert hot_left / len(hot) > 2 * cold_left / len(cold), (hot_left, cold_left)
    assert cold_left / len(cold) < 0.8


def test_lfu_keeps_frequently_used_keys(lnode):
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)           # every access counts
    limit = fill_then_limit(r, 600, 100)
    hot = ["k:%d" % i for i in range(0, 600, 3)]
    p = r.pipeline(transaction=False)
    for _ in range(3):
        for k in hot:
            p.get(k)
    p.execute()
    fill(r, "n:", 400)
    assert used(r) <= limit + SLACK
    assert evicted(r) > 200
    hot_left = sum(r.exists(k) for k in hot)
    cold = ["k:%d" % i for i in range(600) if i % 3]
    cold_left = sum(r.exists(k) for k in cold)
    # Sampling is approximate: redis-server 7.0.15 keeps about 188 of 200.
    # What must hold on any build and load (ASan runs slower): most hot
    # keys survive, and far more of them than of the cold ones.  Measured
    # (12 runs each): the normal build kept 188-199; the ASan build 162-188
    # (fewer when it evicts nearly every cold key), and one ASan CI run 159
    # (9 of 400 cold keys left).
    assert hot_left >= 150, (hot_left, cold_left)
    assert hot_left / len(hot) > 2 * cold_left / len(cold), (hot_left, cold_left)
    assert cold_left / len(cold) < 0.8


# ---- aggregates ----

def has_command(r, name):
    """COMMAND INFO name is not nil (read raw: redis-py's COMMAND reply
    parser does not accept nil rows)."""
    conn = r.connection_pool.get_connection("COMMAND")
    try:
        conn.send_command("COMMAND", "INFO", name)
        return conn.read_response(disable_decoding=True) != [None]
    finally:
        r.connection_pool.release(conn)


# Per type: the command, and a function adding one key of about 10 KB in
# 200 elements (beyond the compact encodings' limits, so that freeing it is
# worth the background thread under lazyfree-lazy-eviction).
AGGREGATES = {
    "hash": ("hset", lambda p, k: p.hset(k, mapping={"field:%d" % j: "x" * 40
                                                     for j in range(200)})),
    "list": ("rpush", lambda p, k: p.rpush(k, *["x" * 40] * 200)),
    "set": ("sadd", lambda p, k: p.sadd(k, *["member:%d:%s" % (j, "x" * 30)
                                             for j in range(200)])),
    "zset": ("zadd", lambda p, k: p.zadd(k, {"member:%d:%s" % (j, "x" * 30): j
                                             for j in range(200)})),
}


@pytest.mark.parametrize("lazy", ["no", "yes"])
@pytest.mark.parametrize("kind", sorted(AGGREGATES))
def test_aggregates_are_evicted(lnode, kind, lazy):
    """Big hashes, lists, sets and sorted sets are evicted like strings, with
    and without lazyfree-lazy-eviction.  Without it, writes are never
    refused.  With it, the memory of an evicted value comes back only when
    the background thread has freed it, so a write may be refused while
    that thread is behind (redis-server 7.0.15 does the same; ringcached
    waits up to 1 ms for the thread first, which is not always enough on a
    slow build such as ASan's): a refused write must then go through once
    the thread has caught up."""
    r = lnode
    cmd, add = AGGREGATES[kind]
    if not has_command(r, cmd):
        pytest.skip("server lacks " + cmd)
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("lazyfree-lazy-eviction", lazy)
    limit = set_budget(r, 1024 * 1024)
    for base in range(0, 400, 10):
        p = r.pipeline(transaction=False)
        for i in range(base, base + 10):
            add(p, "%s:%d" % (kind, i))
        out = p.execute(raise_on_error=False)
        refused = [i for i, x in enumerate(out) if isinstance(x, Exception)]
        if lazy == "yes" and refused:
            assert all("OOM" in str(out[i]) for i in refused), out
            time.sleep(0.2)     # let the background thread free
            p = r.pipeline(transaction=False)
            for i in refused:
                add(p, "%s:%d" % (kind, base + i))
            out = p.execute(raise_on_error=False)
        assert [x for x in out if isinstance(x, Exception)] == [], base
    deadline = time.monotonic() + 3
    while used(r) > limit + SLACK and time.monotonic() < deadline:
        time.sleep(0.05)        # values freed by the background thread
    assert used(r) <= limit + SLACK
    n = r.dbsize()
    assert evicted(r) >= 400 - n > 0
    if lazy == "no":
        # About 1 MB / 10-20 KB keys fit: eviction must not throw away much
        # more than needed.  (With lazyfree-lazy-eviction the memory of a
        # value shows up only when the background thread has freed it, so
        # a run evicts batches of 16 keys until it does, as in Redis 7.0,
        # which may even refuse the write meanwhile; ringcached waits for
        # the background thread before refusing.)
        assert n >= 30, n


# ---- OBJECT FREQ / OBJECT IDLETIME ----

LFU_SELECTED = ("An LFU maxmemory policy is selected, idle time not tracked. Please note "
                "that when switching between policies at runtime LRU and LFU data will "
                "take some time to adjust.")
LFU_NOT_SELECTED = ("An LFU maxmemory policy is not selected, access frequency not tracked. "
                    "Please note that when switching between policies at runtime LRU and "
                    "LFU data will take some time to adjust.")


def test_object_freq_counts_accesses(lnode):
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.set("foo", "bar")
    assert r.object("freq", "foo") == 5           # LFU_INIT_VAL
    r.config_set("lfu-log-factor", 0)
    for _ in range(10):
        r.get("foo")
    assert r.object("freq", "foo") == 15          # OBJECT FREQ does not touch
    assert r.object("freq", "foo") == 15
    assert r.object("freq", "nokey") is None
    for _ in range(300):
        r.get("foo")
    assert r.object("freq", "foo") == 255          # saturates
    r.config_set("lfu-log-factor", 10)
    for _ in range(100):
        r.get("bar")                               # misses do not count
    r.set("bar", "x")
    for _ in range(100):
        r.get("bar")
    # With factor 10, 100 accesses raise 5 by only a few steps.  The
    # increments are random: the exact distribution (a step at counter c
    # is taken with p = 1/((c-5)*10+1)) puts 6..19 at 1 - 1.2e-8, while
    # 12 was exceeded 1.7% of the time (a CI run failed on 13).
    assert 6 <= r.object("freq", "bar") <= 19
    with pytest.raises(redis.exceptions.ResponseError) as ei:
        r.object("idletime", "foo")
    assert str(ei.value) == LFU_SELECTED


def test_overwrite_keeps_lfu_counter(lnode):
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    r.set("foo", "bar")
    for _ in range(5):
        r.get("foo")
    assert r.object("freq", "foo") == 10
    r.set("foo", "bar2")            # touched by the lookup, then replaced
    assert r.object("freq", "foo") == 11
    r.append("foo", "x")
    assert r.object("freq", "foo") == 12


def test_object_idletime(lnode):
    r = lnode
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("foo", "bar")
    r.set("other", "x")
    assert r.object("idletime", "foo") == 0
    time.sleep(2.2)
    idle = r.object("idletime", "foo")
    assert 1 <= idle <= 3
    assert r.object("idletime", "foo") >= 1       # OBJECT does not touch
    assert r.exists("foo") == 1                   # neither does EXISTS (7.0)
    assert r.object("idletime", "foo") >= 1
    r.get("foo")
    assert r.object("idletime", "foo") == 0
    assert r.object("idletime", "other") >= 1
    assert r.object("idletime", "nokey") is None
    with pytest.raises(redis.exceptions.ResponseError) as ei:
        r.object("freq", "foo")
    assert str(ei.value) == LFU_NOT_SELECTED


# ---- hit ratio against redis-server ----

NKEYS = 50000
NOPS = 200000
ZIPF_S = 1.0
FIT = 0.25          # fraction of the key space that fits in maxmemory
BATCH = 64
SEED = 20240611


def zipf_trace():
    """NOPS key numbers in [0, NKEYS), Zipf-distributed (exponent ZIPF_S)
    over a shuffled ranking, from a fixed seed."""
    rng = random.Random(SEED)
    cum, total = [], 0.0
    for rank in range(1, NKEYS + 1):
        total += 1.0 / rank ** ZIPF_S
        cum.append(total)
    order = list(range(NKEYS))
    rng.shuffle(order)
    return [order[bisect.bisect_left(cum, rng.random() * total)] for _ in range(NOPS)]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Raw:
    """A minimal pipelining RESP2 client for the replay (redis-py's
    pipelines cost more CPU than the servers do)."""

    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pos = 0

    def close(self):
        self.s.close()

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = self.buf[self.pos:i]
                self.pos = i + 2
                return line
            self._more()

    def _more(self):
        self.buf = self.buf[self.pos:] + self.s.recv(1 << 20)
        self.pos = 0
        if len(self.buf) == 0:
            raise ConnectionError("server closed the connection")

    def _bulk(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._more()
        v = self.buf[self.pos:self.pos + n]
        self.pos += n + 2
        return v

    def reply(self):
        line = self._line()
        t = line[:1]
        if t == b"$":
            n = int(line[1:])
            return None if n < 0 else self._bulk(n)
        if t == b"+" or t == b":":
            return line[1:]
        if t == b"-":
            raise AssertionError("error reply: %r" % line)
        raise AssertionError("unexpected reply: %r" % line)

    def run(self, cmds):
        self.s.sendall(b"".join(cmds))
        return [self.reply() for _ in cmds]


def key_name(prefix, i):
    return b"%s:%06d" % (prefix, i)


def start_redis(port, *args):
    workdir = tempfile.mkdtemp(prefix="ringcache-redis-")
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", HOST,
                             "--save", "", "--appendonly", "no", "--dir", workdir,
                             "--daemonize", "no"] + list(args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=workdir)
    proc.workdir = workdir
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            client(port).ping()
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


def size_for_keys(port, nkeys):
    """The maxmemory under which this server holds about nkeys keys of the
    trace's shape.

    redis-server and ringcached count memory differently (ringcached counts
    the allocator's usable sizes, Redis its requested sizes plus its own
    estimates) and start from different baselines, so the same maxmemory
    would not hold the same number of keys.  Comparing the eviction
    algorithms fairly needs the same capacity in keys: fill the empty server
    with nkeys keys of the same name length and value size as the trace's,
    read used_memory, and use that as the limit; then empty the server."""
    r = client(port)
    raw = Raw(port)
    try:
        for base in range(0, nkeys, 500):
            raw.run([resp(b"SET", key_name(b"c", i), VALUE)
                     for i in range(base, min(base + 500, nkeys))])
        limit = used(r)
        r.flushall()
        return limit
    finally:
        raw.close()


def replay(port, trace):
    """Replay the trace (GET; SET on a miss) in pipelined batches; returns
    (hits, keys held at the end)."""
    raw = Raw(port)
    hits = 0
    try:
        for base in range(0, len(trace), BATCH):
            keys = [key_name(b"k", i) for i in trace[base:base + BATCH]]
            got = raw.run([resp(b"GET", k) for k in keys])
            missed = [k for k, v in zip(keys, got) if v is None]
            hits += len(keys) - len(missed)
            if missed:
                raw.run([resp(b"SET", k, VALUE) for k in missed])
        return hits, client(port).dbsize()
    finally:
        raw.close()


def run_policy(trace, policy, binary_start, binary_stop):
    port = pick_port(PORT_LO, PORT_HI)
    proc = binary_start(port)
    try:
        r = client(port)
        limit = size_for_keys(port, int(NKEYS * FIT))
        r.config_set("maxmemory-policy", policy)
        r.config_set("maxmemory", limit)
        hits, held = replay(port, trace)
        assert used(r) <= limit + SLACK
        return hits / len(trace), held
    finally:
        binary_stop(proc)


def ringcached_start(port):
    return start_node(port=port)[1]


@pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="redis-server not installed")
@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_hit_ratio_matches_redis(policy):
    """The same Zipf trace (50k keys of 1 KB, 200k GETs, SET on each miss)
    against redis-server and ringcached, each sized to hold a quarter of the
    key space (see size_for_keys): ringcached's hit ratio must be within 3
    percentage points of redis-server's."""
    trace = zipf_trace()
    ref, ref_held = run_policy(trace, policy, start_redis, stop_redis)
    got, got_held = run_policy(trace, policy, ringcached_start, stop_node)
    print("\n%s: redis-server hit ratio %.4f (%d keys held), ringcached %.4f (%d keys held)"
          % (policy, ref, ref_held, got, got_held))
    # The sizing gave both the same capacity in keys.
    assert abs(got_held - ref_held) <= 0.05 * ref_held, (got_held, ref_held)
    assert abs(got - ref) <= 0.03, (policy, ref, got)
