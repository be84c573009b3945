"""
Integration tests for the generic keyspace commands (src/t_keys.c) and the
active expiry cycle (src/expire.c), against a real node started by the
`node` fixture of conftest.py.

Byte-exact reply compatibility with redis-server is checked by
redis-compat/cases/keys.txt; these tests cover behaviour over time and at
scale: active and lazy expiry, SCAN's guarantee under concurrent changes,
KEYS patterns, RANDOMKEY fairness, TTLs kept by RENAME/COPY/MOVE, and the
glob regression test for CVE-2022-36021.
"""
import random
import time

import pytest
import redis


@pytest.fixture
def r(node):
    host, port, _ = node
    client = redis.Redis(host=host, port=port, socket_timeout=30)
    yield client
    client.close()


def info_field(r, section, name):
    return r.info(section).get(name)


# ---- expiry ----


def test_active_expiry_removes_untouched_keys(r):
    n = 10000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set("vol:%d" % i, "x")
        pipe.pexpire("vol:%d" % i, 100)
    before = info_field(r, "stats", "expired_keys")
    pipe.execute()
    # Some may already be gone: filling takes longer than 100 ms on a
    # sanitizer build.
    assert r.dbsize() > 0

    # Nothing touches the keys: only the active cycle can reclaim them.
    # DBSIZE and INFO read counters, not keys.
    deadline = time.time() + 3.0
    while time.time() < deadline and r.dbsize() > 0:
        time.sleep(0.05)
    assert r.dbsize() == 0
    assert info_field(r, "stats", "expired_keys") - before == n
    ks = r.info("keyspace")
    assert "db0" not in ks or ks["db0"]["keys"] == 0


def test_active_expiry_leaves_live_keys_and_tracks_avg_ttl(r):
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set("short:%d" % i, "x")
        pipe.pexpire("short:%d" % i, 50)
    for i in range(1000):
        pipe.set("long:%d" % i, "x")
        pipe.expire("long:%d" % i, 1000)
    for i in range(500):
        pipe.set("forever:%d" % i, "x")
    pipe.execute()
    deadline = time.time() + 3.0
    while time.time() < deadline and r.dbsize() > 1500:
        time.sleep(0.05)
    assert r.dbsize() == 1500
    # avg_ttl is a running estimate fed by the cycle's samples.
    deadline = time.time() + 3.0
    avg = 0
    while time.time() < deadline:
        avg = r.info("keyspace")["db0"]["avg_ttl"]
        if avg > 0:
            break
        time.sleep(0.1)
    assert 0 < avg <= 1000 * 1000
    assert r.info("keyspace")["db0"]["expires"] == 1000


def test_lazy_expiry_on_access(r):
    r.set("k", "v")
    r.pexpire("k", 100)
    # Clients paused for writes: the active cycle stands still (as in
    # Redis), so only the access itself can notice the expiry.
    paused = True
    try:
        r.execute_command("CLIENT", "PAUSE", 3000, "WRITE")
    except redis.ResponseError:
        paused = False
    time.sleep(0.3)
    if paused:
        assert r.dbsize() == 1      # logically expired, still present
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.pttl("k") == -2
    assert r.type("k") == b"none"
    if paused:
        r.execute_command("CLIENT", "UNPAUSE")
    # Expired keys are not counted by DEL and not listed by KEYS/SCAN.
    r.set("a", "1")
    r.pexpire("a", 1)
    time.sleep(0.05)
    assert r.delete("a") == 0
    assert r.keys("*") == []
    assert r.scan(0, count=1000)[1] == []


def test_expire_options_and_past_times(r):
    r.set("k", "v")
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 150, gt=True) is True
    assert r.expire("k", 200, lt=True) is False
    assert r.expire("k", 10, lt=True) is True
    assert 9 <= r.ttl("k") <= 10
    r.set("p", "v")
    # No TTL counts as infinite: GT never applies, LT always does.
    assert r.expire("p", 100, gt=True) is False
    assert r.expire("p", 100, xx=True) is False
    assert r.expire("p", 100, lt=True) is True
    assert r.persist("p") is True
    assert r.persist("p") is False
    assert r.ttl("p") == -1
    # A time in the past deletes the key and answers 1.
    assert r.expire("p", -1) is True
    assert r.exists("p") == 0
    r.set("q", "v")
    assert r.expireat("q", 1) is True
    assert r.exists("q") == 0
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire'"):
        r.execute_command("EXPIRE", "k", 9223372036854775807)
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'pexpire'"):
        r.execute_command("PEXPIRE", "k", 9223372036854775807)
    with pytest.raises(redis.ResponseError, match="not compatible"):
        r.execute_command("EXPIRE", "k", 10, "NX", "XX")
    with pytest.raises(redis.ResponseError, match="Unsupported option foo"):
        r.execute_command("EXPIRE", "k", 10, "foo")
    when = int(time.time()) + 500
    assert r.expireat("k", when) is True
    assert r.execute_command("EXPIRETIME", "k") == when
    assert r.execute_command("PEXPIRETIME", "k") == when * 1000


# ---- SCAN and KEYS ----


def test_scan_returns_every_stable_key_under_churn(r):
    n = 20000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set("stable:%d" % i, i)
    for i in range(2000):
        pipe.set("victim:%d" % i, i)
    pipe.execute()
    deleted_before = {("victim:%d" % i).encode() for i in range(0, 2000, 2)}
    r.delete(*deleted_before)

    seen = set()
    cursor = 0
    calls = 0
    added = 0
    victims = [("victim:%d" % i).encode() for i in range(1, 2000, 2)]
    random.shuffle(victims)
    while True:
        cursor, keys = r.scan(cursor, count=100)
        seen.update(keys)
        calls += 1
        # Change the keyspace between calls: grow (forcing rehashes) and
        # delete keys that were present at the start.
        pipe = r.pipeline(transaction=False)
        for _ in range(40):
            pipe.set("new:%d" % added, 1)
            added += 1
        for _ in range(5):
            if victims:
                pipe.delete(victims.pop())
        pipe.execute()
        if cursor == 0:
            break
        assert calls < 100000
    stable = {("stable:%d" % i).encode() for i in range(n)}
    assert stable <= seen, "%d stable keys missed" % len(stable - seen)
    assert not (deleted_before & seen)


def test_scan_options_and_errors(r):
    for i in range(300):
        r.set("a:%d" % i, i)
    r.set("b", "x")
    got = set()
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, match="a:1*", count=50)
        got.update(keys)
        if cursor == 0:
            break
    assert got == {("a:%d" % i).encode() for i in range(300) if str(i).startswith("1")}
    assert set(r.scan_iter(_type="string")) >= {b"b"}
    assert list(r.scan_iter(_type="hash")) == []
    for bad in ("x", "1x", " 1", "99999999999999999999999"):
        with pytest.raises(redis.ResponseError, match="invalid cursor"):
            r.execute_command("SCAN", bad)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCAN", 0, "COUNT", 0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCAN", 0, "MATCH")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("SCAN", 0, "COUNT", "x")


def test_keys_patterns(r):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo",
             "user:1", "user:2", "user:10", "admin:1", "a\\b"]
    for name in names:
        r.set(name, 1)
    r.set("gone", 1)
    r.pexpire("gone", 1)
    time.sleep(0.05)

    def keys(p):
        return sorted(k.decode() for k in r.keys(p))

    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "hallo", "hello", "hxllo"]
    assert keys("h*llo") == sorted(["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo"])
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "hallo", "hxllo"]
    assert keys("h[a-b]llo") == ["hallo"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("user:?") == ["user:1", "user:2"]
    assert keys("user:*") == ["user:1", "user:10", "user:2"]
    assert keys("*:1") == ["admin:1", "user:1"]
    assert keys("a\\\\b") == ["a\\b"]
    assert keys("nomatch*") == []


def test_cve_2022_36021_glob_hostile_pattern(r):
    """A pattern of many '*' against a long subject must not take
    exponential time (CVE-2022-36021)."""
    r.set("a" * 10000, 1)
    pattern = "a*" * 30 + "b"
    t0 = time.time()
    assert r.keys(pattern) == []
    assert time.time() - t0 < 1.0
    t0 = time.time()
    cursor, found = 0, []
    while True:
        cursor, keys = r.scan(cursor, match=pattern, count=100)
        found += keys
        if cursor == 0:
            break
    assert found == []
    assert time.time() - t0 < 1.0


# ---- RANDOMKEY ----


def test_randomkey_distribution(r):
    assert r.randomkey() is None
    keys = ["k%d" % i for i in range(10)]
    for k in keys:
        r.set(k, 1)
    counts = {k.encode(): 0 for k in keys}
    pipe = r.pipeline(transaction=False)
    for _ in range(5000):
        pipe.randomkey()
    for k in pipe.execute():
        counts[k] += 1
    # Expected 500 each; a fair picker stays far inside these bounds.
    assert all(300 <= c <= 700 for c in counts.values()), counts
    # Expired keys are not returned.
    r.flushdb()
    r.set("only", 1)
    r.set("dead", 1)
    r.pexpire("dead", 1)
    time.sleep(0.05)
    assert {r.randomkey() for _ in range(50)} == {b"only"}


# ---- RENAME, COPY, MOVE keep TTLs ----


def test_rename_keeps_ttl(r):
    r.set("src", "value")
    r.expire("src", 100)
    r.set("dst", "old")
    assert r.rename("src", "dst") is True
    assert r.exists("src") == 0
    assert r.get("dst") == b"value"
    assert 99 <= r.ttl("dst") <= 100
    # Renaming onto itself is fine when the key exists.
    assert r.rename("dst", "dst") is True
    assert 99 <= r.ttl("dst") <= 100
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("missing", "x")
    r.set("other", "o")
    assert r.renamenx("dst", "other") is False
    assert r.renamenx("dst", "fresh") is True
    assert 99 <= r.ttl("fresh") <= 100
    # A destination with a TTL loses it when overwritten by a key without.
    r.set("plain", "p")
    assert r.rename("plain", "fresh") is True
    assert r.ttl("fresh") == -1
    big = "x" * 100000
    r.set("big", big)
    r.pexpire("big", 100000)
    assert r.rename("big", "big2") is True
    assert r.get("big2") == big.encode()
    assert r.pttl("big2") > 99000


def test_copy_keeps_ttl(r):
    r.set("src", "12345")
    r.expire("src", 100)
    assert r.copy("src", "dst") is True
    assert r.get("dst") == b"12345"
    assert 99 <= r.ttl("dst") <= 100
    assert 99 <= r.ttl("src") <= 100
    assert r.copy("src", "dst") is False
    r.set("src", "new")
    assert r.copy("src", "dst", replace=True) is True
    assert r.get("dst") == b"new"
    assert r.ttl("dst") == -1
    r.expire("src", 50)
    assert r.copy("src", "dst", destination_db=3) is True
    r3 = redis.Redis(connection_pool=r.connection_pool.__class__(
        **{**r.connection_pool.connection_kwargs, "db": 3}))
    assert r3.get("dst") == b"new"
    assert 49 <= r3.ttl("dst") <= 50
    r3.close()
    assert r.copy("missing", "x") is False
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.copy("src", "src")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.copy("src", "x", destination_db=1000)


def test_move_keeps_ttl(r):
    r.set("k", "v")
    r.expire("k", 100)
    assert r.move("k", 2) is True
    assert r.exists("k") == 0
    r2 = redis.Redis(connection_pool=r.connection_pool.__class__(
        **{**r.connection_pool.connection_kwargs, "db": 2}))
    assert r2.get("k") == b"v"
    assert 99 <= r2.ttl("k") <= 100
    r.set("k", "again")
    assert r.move("k", 2) is False          # exists in the target
    assert r.get("k") == b"again"
    assert r.move("missing", 2) is False
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.move("k", 0)
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.move("k", 16)
    r2.close()


# ---- OBJECT, TOUCH, EXISTS, TYPE ----


def test_object_and_touch(r):
    r.set("i", 123)
    r.set("big", 123456)
    r.set("e", "hello")
    r.set("raw", "x" * 100)
    assert r.object("encoding", "i") == b"int"
    assert r.object("encoding", "e") == b"embstr"
    assert r.object("encoding", "raw") == b"raw"
    assert r.object("encoding", "missing") is None
    assert r.object("refcount", "i") == 2147483647
    assert r.object("refcount", "big") == 1
    assert r.object("refcount", "e") == 1
    assert r.object("idletime", "e") <= 1
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        r.object("freq", "e")
    r.set_response_callback("OBJECT", lambda resp, **kw: resp)
    help_lines = r.execute_command("OBJECT", "HELP")
    assert help_lines[0].startswith(b"OBJECT <subcommand>")
    assert r.touch("i", "e", "missing") == 2
    assert r.exists("i", "i", "missing") == 2
    assert r.type("i") == b"string"
    assert r.unlink("i", "e", "missing") == 2
