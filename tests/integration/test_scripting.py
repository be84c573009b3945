"""
Integration tests for Lua scripting (src/script.c, src/eval.c) against real
nodes.

Byte-exact replies and error texts are checked by
redis-compat/cases/scripting.txt; these tests cover what needs time, several
clients, files or a ring: busy scripts (-BUSY for others, SCRIPT KILL,
UNKILLABLE, SHUTDOWN NOSAVE) with timing bounds, scripts' effects in the
append-only log as MULTI/EXEC and their replay, hostile scripts, redis-py's
Lock on one node and through a ring, and the ring's rules for scripts.
"""
import os
import socket
import threading
import time

import pytest
import redis

from conftest import HOST, launch_node, start_in_dir, stop_node, wait_for
from ringutil import Ring, key_slot


def client(port, **kw):
    kw.setdefault("socket_timeout", 30)
    return redis.Redis(host=HOST, port=port, **kw)


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def r(server):
    c = client(server[0])
    c.flushall()
    c.config_set("busy-reply-threshold", 5000)
    yield c
    c.close()


def run_in_thread(fn):
    out = {}

    def target():
        try:
            out["result"] = fn()
        except Exception as e:          # the script's error is the result
            out["error"] = e
    t = threading.Thread(target=target)
    t.start()
    return t, out


def wait_busy(c, timeout=5.0):
    """Until c gets -BUSY (the script passed busy-reply-threshold)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c.ping()
        except redis.ResponseError as e:
            if str(e).startswith("BUSY"):
                return
            raise
        time.sleep(0.02)
    raise AssertionError("the node never answered -BUSY")


def test_busy_script_is_killed(server, r):
    port = server[0]
    r.config_set("lua-time-limit", 100)
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "100"}
    runner = client(port)
    t, out = run_in_thread(lambda: runner.eval("while true do end", 0))
    other = client(port, socket_timeout=5)
    start = time.monotonic()
    wait_busy(other)
    # The loop keeps answering while the script runs: well under a second
    # after the threshold, not after the script.
    assert time.monotonic() - start < 3.0
    with pytest.raises(redis.ResponseError, match="^BUSY Redis is busy running a script. "
                       "You can only call SCRIPT KILL or SHUTDOWN NOSAVE."):
        other.get("x")
    # A new connection is accepted and answered too.
    fresh = client(port, socket_timeout=5)
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        fresh.set("x", 1)
    assert other.execute_command("SCRIPT", "KILL") == b"OK"
    t.join(5)
    assert not t.is_alive()
    assert "Script killed by user with SCRIPT KILL..." in str(out["error"])
    assert other.ping() is True
    with pytest.raises(redis.ResponseError, match="^NOTBUSY"):
        other.execute_command("SCRIPT", "KILL")


def test_script_that_wrote_is_unkillable_until_shutdown_nosave():
    port, proc = launch_node("--busy-reply-threshold", "100")
    try:
        runner = client(port)
        t, out = run_in_thread(
            lambda: runner.eval("redis.call('set', KEYS[1], 1) while true do end", 1, "k"))
        other = client(port, socket_timeout=5)
        wait_busy(other)
        with pytest.raises(redis.ResponseError, match="^UNKILLABLE Sorry the script already "
                           "executed write commands"):
            other.execute_command("SCRIPT", "KILL")
        with pytest.raises(redis.ResponseError, match="^BUSY"):
            other.execute_command("SHUTDOWN")
        try:
            other.execute_command("SHUTDOWN", "NOSAVE")
        except redis.ConnectionError:
            pass
        proc.wait(10)
        assert proc.returncode is not None
        t.join(5)
        assert not t.is_alive()
    finally:
        stop_node(proc)


def test_script_atomic_and_others_wait_below_threshold(server, r):
    """Below busy-reply-threshold nobody else runs while a script runs."""
    port = server[0]
    runner = client(port)
    script = ("redis.call('set', KEYS[1], 'start') "
              "local t = redis.call('time') local deadline = t[1] * 1000000 + t[2] + 300000 "
              "while true do local n = redis.call('time') "
              "if n[1] * 1000000 + n[2] > deadline then break end end "
              "redis.call('set', KEYS[1], 'end') return 1")
    t, out = run_in_thread(lambda: runner.eval(script, 1, "atom"))
    time.sleep(0.05)
    other = client(port)
    # GET waits for the script: it never sees 'start'.
    assert other.get("atom") in (None, b"end")
    t.join(5)
    assert out["result"] == 1
    assert other.get("atom") == b"end"


def test_hostile_scripts_fail_cleanly(r):
    with pytest.raises(redis.ResponseError, match="stack overflow"):
        r.eval("local function f() return f() + 1 end return f()", 0)
    # A self-referencing table: nested arrays down to Redis's stack guard
    # (read raw: too deep for redis-py's recursive parser).
    port = r.connection_pool.connection_kwargs["port"]
    body = b"local t = {} t[1] = t return t"
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(body), body))
        data = b""
        while not data.endswith(b"-ERR reached lua stack limit\r\n"):
            chunk = s.recv(65536)
            assert chunk, data[-100:]
            data += chunk
    assert data.count(b"*1\r\n") == 7995      # what redis-server 7.0 sends
    big = r.eval("local t = {} for i = 1, 100000 do t[i] = i end return #t", 0)
    assert big == 100000
    reply = r.eval("local t = {} for i = 1, 50000 do t[i] = tostring(i) end return t", 0)
    assert len(reply) == 50000 and reply[-1] == b"50000"
    # error({}) crashes redis-server 7.0.15; here it is an error reply.
    with pytest.raises(redis.ResponseError, match="^Error running script"):
        r.eval("error({})", 0)
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'os'"):
        r.eval("return os.execute('true')", 0)
    assert r.eval("return loadstring(string.dump(function() return 1 end))", 0) is None
    assert r.ping() is True


def test_scripts_cached_and_flushed(r):
    sha = r.script_load("return ARGV[1]")
    assert r.evalsha(sha, 0, "x") == b"x"
    assert r.script_exists(sha, "0" * 40) == [True, False]
    r.script_flush()
    assert r.script_exists(sha) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 0, "x")


def test_redis_py_lock(r):
    lock = r.lock("resource", timeout=5, blocking_timeout=1)
    assert lock.acquire()
    assert r.get("resource") is not None
    other = r.lock("resource", timeout=5, blocking_timeout=0.2)
    assert not other.acquire()
    assert lock.extend(5)
    assert lock.owned()
    lock.release()
    assert r.get("resource") is None
    assert other.acquire()
    other.release()
    script = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert script(keys=["n"], args=[3]) == 3
    r.script_flush()
    assert script(keys=["n"], args=[4]) == 7        # NOSCRIPT, then EVAL


def aof_bytes(workdir):
    d = os.path.join(workdir, "appendonlydir")
    out = b""
    for name in sorted(os.listdir(d)):
        if name.endswith(".aof"):
            with open(os.path.join(d, name), "rb") as f:
                out += f.read()
    return out


def test_effects_logged_as_multi_exec_and_replayed(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes", "--appendfsync", "always")
    try:
        c = client(port)
        assert c.eval("redis.call('set', KEYS[1], 'a') redis.call('rpush', KEYS[2], 'x', 'y') "
                      "redis.call('incr', KEYS[3]) return 1", 3, "s", "l", "n") == 1
        assert c.eval("return redis.call('set', KEYS[1], 'one')", 1, "single") == b"OK"
        assert c.eval("return redis.call('get', KEYS[1])", 1, "single") == b"one"
        with pytest.raises(redis.ResponseError):
            c.eval("redis.call('set', KEYS[1], 'partial') error('stop')", 1, "p")
        # Random-ish effects are logged as what they did, not as the script.
        c.eval("redis.call('set', KEYS[1], redis.call('time')[1])", 1, "t")
        t_value = c.get("t")
        log = aof_bytes(workdir)
        assert b"EVAL" not in log.upper()
        multi = log.index(b"MULTI")
        assert log.index(b"rpush") > multi and log.index(b"EXEC") > log.index(b"incr")
        # One write is logged alone, as Redis 7.0 does; a read logs nothing.
        assert log.count(b"MULTI") == 1
        assert b"partial" in log
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        c = client(port)
        assert c.get("s") == b"a"
        assert c.lrange("l", 0, -1) == [b"x", b"y"]
        assert c.get("n") == b"1"
        assert c.get("single") == b"one"
        assert c.get("p") == b"partial"
        assert c.get("t") == t_value
    finally:
        stop_node(proc)


def test_deny_oom_scripts():
    port, proc = launch_node("--maxmemory", "1", "--maxmemory-policy", "noeviction")
    try:
        c = client(port)
        with pytest.raises(redis.ResponseError, match="^OOM command not allowed"):
            c.eval("return redis.call('set', KEYS[1], 'v')", 1, "k")
        with pytest.raises(redis.ResponseError, match="^OOM allow-oom flag is not set"):
            c.eval("#!lua\nreturn redis.call('set', KEYS[1], 'v')", 1, "k")
        assert c.eval("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'v')",
                      1, "k") == b"OK"
        assert c.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])",
                      1, "k") == b"v"
        assert c.eval("return redis.call('get', KEYS[1])", 1, "k") == b"v"
    finally:
        stop_node(proc)


# ---- ring ----

@pytest.fixture(scope="module")
def ring():
    rg = Ring(3)
    try:
        rg.wait_serving()
        yield rg
    finally:
        rg.stop()


def keys_on_other_nodes(ring, via):
    """Two keys (a, b) served by nodes other than `via`, in different slots."""
    found = []
    for i in range(2000):
        k = "key%d" % i
        if ring.owner(k) != via:
            if not found or key_slot(k) != key_slot(found[0]):
                found.append(k)
        if len(found) == 2:
            return found
    raise AssertionError("no keys found")


def test_ring_lock_and_evalsha_everywhere(ring):
    c = ring.client(0)
    for i in range(12):
        name = "lock:%d" % i
        lock = c.lock(name, timeout=5, blocking_timeout=1)
        assert lock.acquire()
        assert ring.client(ring.owner(name)).get(name) is not None
        assert lock.extend(2)
        lock.release()
        assert c.get(name) is None
    # SCRIPT LOAD reaches every member, so EVALSHA works wherever the key is.
    sha = c.script_load("return redis.call('incr', KEYS[1])")
    for i in range(3):
        assert ring.client(i).script_exists(sha) == [True]
    for i in range(6):
        assert c.evalsha(sha, 1, "counter%d" % i) == 1
    c.script_flush()
    for i in range(3):
        assert ring.client(i).script_exists(sha) == [False]


def test_ring_script_rules(ring):
    c = ring.client(0)
    a, b = keys_on_other_nodes(ring, 0)
    with pytest.raises(redis.ResponseError,
                       match="^CROSSSLOT Keys in request don't hash to the same slot"):
        c.eval("return 1", 2, a, b)
    # Declared: forwarded to the key's primary and run there.
    assert c.eval("return redis.call('set', KEYS[1], 'v')", 1, a) == "OK"
    assert ring.client(ring.owner(a)).get(a) == "v"
    # Undeclared key of another node: Redis Cluster's error.
    with pytest.raises(redis.ResponseError, match="Script attempted to access a non local "
                       "key in a cluster node script"):
        c.eval("return redis.call('get', ARGV[1])", 0, a)
    # Declared key, then an undeclared one of another slot on the same node.
    owner = ring.owner(a)
    other = None
    for i in range(5000):
        k = "o%d" % i
        if ring.owner(k) == owner and key_slot(k) != key_slot(a):
            other = k
            break
    assert other is not None
    with pytest.raises(redis.ResponseError, match="Script attempted to access keys that do "
                       "not hash to the same slot"):
        c.eval("return redis.call('get', ARGV[1])", 1, a, other)
    assert c.eval("#!lua flags=allow-cross-slot-keys\nreturn redis.call('get', ARGV[1])",
                  1, a, other) is None
    with pytest.raises(redis.ResponseError, match="^Can not run script on cluster, "
                       "'no-cluster' flag is set."):
        c.eval("#!lua flags=no-cluster\nreturn 1", 0)


# ---- functions ----

LIB = ("#!lua name=counters\n"
       "redis.register_function('bump', function(keys, args) "
       "return redis.call('incrby', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='peek', callback=function(keys) "
       "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n")


def test_function_kill_and_stats(server, r):
    port = server[0]
    r.config_set("busy-reply-threshold", 100)
    r.function_load("#!lua name=spin\nredis.register_function('spin', function() "
                    "while true do end end)", replace=True)
    runner = client(port)
    t, out = run_in_thread(lambda: runner.fcall("spin", 0))
    other = client(port, socket_timeout=5)
    start = time.monotonic()
    deadline = start + 5
    while True:
        try:
            other.ping()
        except redis.ResponseError as e:
            assert str(e).startswith("BUSY Redis is busy running a script. You can only call "
                                     "FUNCTION KILL or SHUTDOWN NOSAVE.")
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stats = other.execute_command("FUNCTION", "STATS")
    running = dict(zip(stats[1][0::2], stats[1][1::2]))
    assert running[b"name"] == b"spin" and running[b"command"] == [b"FCALL", b"spin", b"0"]
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        other.execute_command("SCRIPT", "KILL")
    assert other.execute_command("FUNCTION", "KILL") == b"OK"
    t.join(5)
    assert not t.is_alive()
    assert "Script killed by user with FUNCTION KILL..." in str(out["error"])
    r.function_delete("spin")


def test_function_load_timeout(r):
    start = time.monotonic()
    with pytest.raises(redis.ResponseError, match="^Error registering functions: ERR FUNCTION "
                       "LOAD timeout$"):
        r.function_load("#!lua name=forever\nwhile true do end")
    assert 0.4 < time.monotonic() - start < 3.0
    assert r.function_list() == []


def redis_server(workdir, port, *extra):
    import subprocess
    return subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", HOST,
                             "--save", "", "--appendonly", "no", "--dir", workdir,
                             "--daemonize", "no"] + list(extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_functions_rdb_interop_with_redis_server(workdir):
    from conftest import pick_port, ping
    if not os.access("/usr/bin/redis-server", os.X_OK):
        pytest.skip("redis-server not installed")
    # ringcached writes, redis-server reads.
    port, proc = start_in_dir(workdir)
    try:
        c = client(port)
        assert c.function_load(LIB) == b"counters"
        c.set("n", 5)
        assert c.save()
    finally:
        stop_node(proc)
    rport = pick_port()
    rs = redis_server(workdir, rport)
    try:
        wait_for(lambda: ping(rport), "redis-server up")
        rc = client(rport)
        assert rc.fcall("bump", 1, "n", 2) == 7
        assert rc.fcall_ro("peek", 1, "n") == b"7"
        # redis-server writes a library of its own, ringcached reads both.
        rc.function_load("#!lua name=other\nredis.register_function('hello', "
                         "function() return 'hi' end)")
        assert rc.save()
    finally:
        rs.terminate()
        rs.wait(10)
    port, proc = start_in_dir(workdir)
    try:
        c = client(port)
        assert c.fcall("hello", 0) == b"hi"
        assert c.fcall("bump", 1, "n", 1) == 8
        names = sorted(lib[b"library_name"] if isinstance(lib, dict) else lib[1]
                       for lib in c.function_list())
        assert names == [b"counters", b"other"]
    finally:
        stop_node(proc)


def test_functions_in_the_log(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        c = client(port)
        c.function_load(LIB)
        c.function_load("#!lua name=gone\nredis.register_function('gone', function() end)")
        c.function_delete("gone")
        assert c.fcall("bump", 1, "k", 3) == 3
        log = aof_bytes(workdir)
        assert b"FUNCTION" in log and b"LOAD" in log and b"REPLACE" in log
        assert b"fcall" not in log.lower()
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        c = client(port)
        assert c.fcall("bump", 1, "k", 1) == 4
        with pytest.raises(redis.ResponseError, match="Function not found"):
            c.fcall("gone", 0)
        # A rewrite keeps them in the base snapshot.
        c.bgrewriteaof()
        wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, "rewrite")
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        assert client(port).fcall("bump", 1, "k", 1) == 5
    finally:
        stop_node(proc)


def test_ring_functions_everywhere(ring):
    c = ring.client(0)
    assert c.function_load(LIB, replace=True) == "counters"
    for i in range(3):
        assert len(ring.client(i).function_list()) == 1
    for i in range(8):
        key = "fn%d" % i
        assert c.fcall("bump", 1, key, 2) == 2
        assert ring.client(ring.owner(key)).get(key) == "2"
    a, b = keys_on_other_nodes(ring, 0)
    with pytest.raises(redis.ResponseError, match="^CROSSSLOT"):
        c.fcall("bump", 2, a, b, 1)
    c.function_flush()
    for i in range(3):
        assert ring.client(i).function_list() == []


def test_monitor_shows_scripts_and_their_commands(server, r):
    port = server[0]
    with socket.create_connection((HOST, port), timeout=5) as m:
        m.sendall(b"MONITOR\r\n")
        assert m.recv(5) == b"+OK\r\n"
        r.eval("redis.call('set', KEYS[1], 'v') return 1", 1, "mk")
        data = b""
        while data.count(b"\r\n") < 2:
            chunk = m.recv(4096)
            assert chunk
            data += chunk
    lines = data.split(b"\r\n")
    assert b'"EVAL" "redis.call(\'set\', KEYS[1], \'v\') return 1" "1" "mk"' in lines[0]
    assert lines[1].endswith(b' [0 lua] "set" "mk" "v"')
