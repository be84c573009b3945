"""
Integration tests for transactions (src/multi.c) against a real node.

Byte-exact replies and error texts are checked by
redis-compat/cases/multi.txt; these tests check behaviour Redis users rely
on through redis-py: pipelines with transaction=True, WATCH retry loops
racing concurrent writers (no lost update), isolation of a transaction from
other clients, EXECABORT, expiry of watched keys, RESET and disconnects
dropping transactions, CLIENT PAUSE WRITE holding EXEC, and the bookkeeping
(commandstats, MONITOR, CLIENT LIST multi / multi-mem).
"""
import socket
import threading
import time

import pytest
import redis

from conftest import HOST, launch_node, stop_node


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


def client(port, **kw):
    return redis.Redis(host=HOST, port=port, socket_timeout=30, **kw)


@pytest.fixture
def r(server):
    port, proc = server
    c = client(port)
    c.flushall()
    yield c
    c.close()
    assert proc.poll() is None, "node died"


def raw(port, payload, nbytes=65536, wait=0.2):
    """Send raw bytes on a fresh connection and return what comes back
    within `wait` seconds of silence."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(wait)
        out = b""
        try:
            while True:
                chunk = s.recv(nbytes)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def test_pipeline_transaction(r):
    p = r.pipeline(transaction=True)
    p.set("a", 1)
    p.incr("a")
    p.get("a")
    p.delete("nope")
    assert p.execute() == [True, 2, b"2", 0]


def test_errors_inside_exec_are_elements(r):
    r.set("s", "text")
    p = r.pipeline(transaction=True)
    p.incr("s")
    p.set("n", 5)
    p.incr("n")
    res = p.execute(raise_on_error=False)
    assert isinstance(res[0], redis.ResponseError)
    assert res[1:] == [True, 6]


def test_execabort_on_queue_error(server, r):
    port, _ = server
    out = raw(port, b"MULTI\r\nSET a 1\r\nNOSUCH\r\nEXEC\r\nEXISTS a\r\n")
    assert out.startswith(b"+OK\r\n+QUEUED\r\n-ERR unknown command 'NOSUCH'")
    assert b"-EXECABORT Transaction discarded because of previous errors.\r\n:0\r\n" in out
    p = r.pipeline(transaction=True)
    p.set("a", 1)
    p.execute_command("GET")        # wrong arity: rejected while queueing
    with pytest.raises(redis.ResponseError):
        p.execute()
    assert r.exists("a") == 0


def test_watch_detects_other_client(server, r):
    port, _ = server
    other = client(port)
    r.set("k", 1)
    with r.pipeline(transaction=True) as p:
        p.watch("k")
        other.set("k", 2)
        p.multi()
        p.set("k", 3)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("k") == b"2"
    other.close()


def test_watch_retry_loop_no_lost_updates(server):
    """Several threads increment one counter with GET + SET under WATCH;
    every increment must survive."""
    port, _ = server
    setup = client(port)
    setup.flushall()
    setup.set("counter", 0)
    threads, per_thread = 6, 150
    retries = [0]
    lock = threading.Lock()

    def worker():
        c = client(port)
        for _ in range(per_thread):
            while True:
                with c.pipeline(transaction=True) as p:
                    try:
                        p.watch("counter")
                        v = int(p.get("counter"))
                        p.multi()
                        p.set("counter", v + 1)
                        p.execute()
                        break
                    except redis.WatchError:
                        with lock:
                            retries[0] += 1
        c.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert int(setup.get("counter")) == threads * per_thread
    setup.close()


def test_transaction_is_isolated(server, r):
    """A reader never sees half of a transaction's writes."""
    port, _ = server
    stop = threading.Event()
    bad = []

    def reader():
        c = client(port)
        while not stop.is_set():
            a, b = c.mget("x", "y")
            if a != b:
                bad.append((a, b))
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    for i in range(300):
        p = r.pipeline(transaction=True)
        p.set("x", i)
        p.set("y", i)
        p.execute()
    stop.set()
    t.join(10)
    assert bad == []


def test_watched_key_expiring_aborts(r):
    r.set("t", 1, px=100)
    with r.pipeline(transaction=True) as p:
        p.watch("t")
        time.sleep(0.2)
        p.multi()
        p.set("other", 1)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.exists("other") == 0


def test_flushall_and_swapdb_touch_watched(server, r):
    port, _ = server
    other = client(port)
    r.set("w", 1)
    for action in (lambda: other.flushall(), lambda: other.swapdb(0, 1)):
        r.set("w", 1)
        with r.pipeline(transaction=True) as p:
            p.watch("w")
            action()
            p.multi()
            p.get("w")
            with pytest.raises(redis.WatchError):
                p.execute()
    other.close()


def test_reset_and_disconnect_drop_transaction(server, r):
    port, _ = server
    out = raw(port, b"MULTI\r\nSET a 1\r\nRESET\r\nEXEC\r\nGET a\r\n")
    assert out == b"+OK\r\n+QUEUED\r\n+RESET\r\n-ERR EXEC without MULTI\r\n$-1\r\n"
    # A client that disconnects mid-transaction leaves nothing behind.
    raw(port, b"WATCH a\r\nMULTI\r\n" + b"SET a 1\r\n" * 1000)
    time.sleep(0.1)
    assert r.get("a") is None
    for line in r.client_list():
        assert line["multi"] == "-1"


def test_client_list_multi_fields(server, r):
    port, _ = server
    c = client(port)
    c.execute_command("MULTI")
    for i in range(50):
        c.execute_command("SET", "key%d" % i, "v" * 100)
    info = r.client_list()
    mine = [x for x in info if x["multi"] != "-1"]
    assert len(mine) == 1
    assert mine[0]["multi"] == "50"
    assert "x" in mine[0]["flags"]
    assert int(mine[0]["multi-mem"]) >= 50 * 100
    c.execute_command("DISCARD")
    assert all(x["multi"] == "-1" for x in r.client_list())
    c.close()


def test_commandstats_and_monitor(server, r):
    port, _ = server
    r.config_resetstat()
    mon = socket.create_connection((HOST, port), timeout=5)
    mon.sendall(b"MONITOR\r\n")
    assert mon.recv(100) == b"+OK\r\n"
    p = r.pipeline(transaction=True)
    p.set("m", 1)
    p.incr("m")
    p.execute()
    time.sleep(0.1)
    mon.settimeout(0.3)
    seen = b""
    try:
        while True:
            chunk = mon.recv(65536)
            if not chunk:
                break
            seen += chunk
    except socket.timeout:
        pass
    mon.close()
    lines = [l.split(b"] ", 1)[1].lower() for l in seen.split(b"\r\n") if b"] " in l]
    assert lines == [b'"multi"', b'"set" "m" "1"', b'"incrby" "m" "1"', b'"exec"']
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_incrby"]["calls"] == 1
    assert stats["cmdstat_exec"]["calls"] == 1
    assert stats["cmdstat_multi"]["calls"] == 1


def test_pause_write_holds_exec(server, r):
    port, _ = server
    c = client(port)
    c.execute_command("MULTI")
    c.execute_command("SET", "p", "1")
    r.execute_command("CLIENT", "PAUSE", "500", "WRITE")
    t0 = time.monotonic()
    res = c.execute_command("EXEC")
    assert time.monotonic() - t0 >= 0.3
    assert res == [b"OK"]
    # A read-only transaction is not held.
    c.execute_command("MULTI")
    c.execute_command("GET", "p")
    r.execute_command("CLIENT", "PAUSE", "2000", "WRITE")
    t0 = time.monotonic()
    assert c.execute_command("EXEC") == [b"1"]
    assert time.monotonic() - t0 < 1.0
    r.execute_command("CLIENT", "UNPAUSE")
    c.close()


def test_big_transaction_memory_released(server, r):
    port, _ = server
    before = r.info("memory")["used_memory"]
    c = client(port)
    p = c.pipeline(transaction=True)
    for i in range(2000):
        p.set("big%d" % i, "x" * 1000)
    p.reset()           # never sent: nothing happens
    c.execute_command("MULTI")
    for i in range(2000):
        c.execute_command("SET", "big%d" % i, "x" * 1000)
    during = r.info("memory")["used_memory"]
    assert during - before > 2000 * 1000
    c.execute_command("DISCARD")
    after = r.info("memory")["used_memory"]
    assert after - before < 500 * 1000
    c.close()


def test_oom_rejects_queueing(server, r):
    port, _ = server
    r.set("filler", "x" * 200000)
    used = r.info("memory")["used_memory"]
    r.config_set("maxmemory", used - 1000)
    try:
        out = raw(port, b"MULTI\r\nGET filler\r\nEXEC\r\nDISCARD\r\n")
        assert out.startswith(b"+OK\r\n-OOM command not allowed")
        assert b"-EXECABORT Transaction discarded because of previous errors.\r\n" in out
    finally:
        r.config_set("maxmemory", 0)
