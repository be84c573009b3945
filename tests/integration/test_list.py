"""
Integration tests for lists (src/t_list.c, src/quicklist.c) and blocking
pops (src/block.c) against a real node.

Byte-exact replies and error texts are checked by
redis-compat/cases/list.txt; these tests check behaviour that needs real
time and several clients: a push waking a blocked client, first-blocked
first-served fairness, timeouts with millisecond precision, pipelined
commands waiting behind a blocking pop, disconnects while blocked, BLMOVE
chains, a job-queue workload, and a list model under random operations.
"""
import random
import socket
import threading
import time

import pytest
import redis

from conftest import HOST, launch_node, resp, stop_node


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def port(server):
    return server[0]


@pytest.fixture
def r(port):
    client = redis.Redis(host=HOST, port=port, socket_timeout=20)
    client.flushall()
    yield client
    client.close()


def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=20)


def raw_conn(port):
    s = socket.create_connection((HOST, port), timeout=10)
    return s


def read_until(sock, expected_len, timeout=10.0):
    """Read until at least expected_len bytes arrived or timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < expected_len and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def blocked_clients(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if blocked_clients(r) == n:
            return
        time.sleep(0.005)
    raise AssertionError("expected %d blocked clients, have %d" % (n, blocked_clients(r)))


def test_push_wakes_blocked_client(r, port):
    result = {}

    def waiter():
        result["v"] = client(port).blpop(["q"], timeout=0)

    t = threading.Thread(target=waiter)
    t.start()
    wait_blocked(r, 1)
    assert r.info("clients")["clients_in_timeout_table"] == 0
    assert r.rpush("q", "job") == 1
    t.join(5)
    assert result["v"] == (b"q", b"job")
    assert r.exists("q") == 0
    assert blocked_clients(r) == 0


def test_fairness_three_clients_in_order(r, port):
    socks = []
    for i in range(3):
        s = raw_conn(port)
        s.sendall(resp("BLPOP", "q", "0"))
        socks.append(s)
        wait_blocked(r, i + 1)
    r.rpush("q", "a", "b", "c")
    got = [read_until(s, 1) for s in socks]
    for s in socks:
        s.close()
    assert got == [
        b"*2\r\n$1\r\nq\r\n$1\r\na\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\nb\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\nc\r\n",
    ]
    assert r.exists("q") == 0


def test_push_serves_only_as_many_as_elements(r, port):
    socks = []
    for i in range(3):
        s = raw_conn(port)
        s.sendall(resp("BRPOP", "q", "0"))
        socks.append(s)
    wait_blocked(r, 3)
    r.rpush("q", "x")
    assert read_until(socks[0], 1) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    wait_blocked(r, 2)
    r.lpush("q", "y", "z")
    assert read_until(socks[1], 1).endswith(b"$1\r\ny\r\n")
    assert read_until(socks[2], 1).endswith(b"$1\r\nz\r\n")
    for s in socks:
        s.close()
    wait_blocked(r, 0)


def test_timeout_precision(r, port):
    c = client(port)
    t0 = time.monotonic()
    assert c.blpop(["missing"], timeout=0.15) is None
    elapsed = time.monotonic() - t0
    assert 0.14 <= elapsed < 0.6
    t0 = time.monotonic()
    assert c.execute_command("BLMPOP", "0.05", "1", "missing", "LEFT") is None
    assert time.monotonic() - t0 < 0.5
    assert blocked_clients(r) == 0


def test_many_timeouts_fire_in_deadline_order(r, port):
    socks = []
    timeouts = [0.4, 0.1, 0.3, 0.2]
    for t in timeouts:
        s = raw_conn(port)
        s.sendall(resp("BLPOP", "nothing", str(t)))
        socks.append(s)
    wait_blocked(r, 4)
    assert r.info("clients")["clients_in_timeout_table"] == 4
    t0 = time.monotonic()
    done = {}
    for i in sorted(range(4), key=lambda i: timeouts[i]):
        assert read_until(socks[i], 5) == b"*-1\r\n"
        done[i] = time.monotonic() - t0
    for i, t in enumerate(timeouts):
        assert done[i] < t + 0.3
    for s in socks:
        s.close()
    wait_blocked(r, 0)


def test_pipelined_commands_wait_behind_blocking_pop(r, port):
    s = raw_conn(port)
    s.sendall(resp("BLPOP", "q", "0") + resp("LLEN", "q") + resp("PING"))
    wait_blocked(r, 1)
    s.settimeout(0.2)
    with pytest.raises(socket.timeout):
        s.recv(100)
    r.rpush("q", "a", "b")
    expected = b"*2\r\n$1\r\nq\r\n$1\r\na\r\n:1\r\n+PONG\r\n"
    assert read_until(s, len(expected)) == expected
    s.close()


def test_pipelined_after_timeout(r, port):
    s = raw_conn(port)
    s.sendall(resp("BLPOP", "q", "0.05") + resp("ECHO", "after"))
    expected = b"*-1\r\n$5\r\nafter\r\n"
    assert read_until(s, len(expected)) == expected
    s.close()


def test_disconnect_while_blocked(r, port):
    s = raw_conn(port)
    s.sendall(resp("BLPOP", "q", "0"))
    s2 = raw_conn(port)
    s2.sendall(resp("BLPOP", "q", "10"))
    wait_blocked(r, 2)
    s.close()
    wait_blocked(r, 1)
    r.rpush("q", "v")
    assert read_until(s2, 1) == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    s2.close()
    # The disconnected client must not have consumed anything.
    assert r.llen("q") == 0
    r.rpush("q", "w")
    assert r.lrange("q", 0, -1) == [b"w"]
    wait_blocked(r, 0)


def test_blmove_chain(r, port):
    """a -> b -> c through two blocked BLMOVEs and a final BLPOP."""
    s1, s2, s3 = raw_conn(port), raw_conn(port), raw_conn(port)
    s1.sendall(resp("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"))
    wait_blocked(r, 1)
    s2.sendall(resp("BLMOVE", "b", "c", "LEFT", "RIGHT", "0"))
    wait_blocked(r, 2)
    s3.sendall(resp("BLPOP", "c", "0"))
    wait_blocked(r, 3)
    r.rpush("a", "token")
    assert read_until(s1, 1) == b"$5\r\ntoken\r\n"
    assert read_until(s2, 1) == b"$5\r\ntoken\r\n"
    assert read_until(s3, 1) == b"*2\r\n$1\r\nc\r\n$5\r\ntoken\r\n"
    for s in (s1, s2, s3):
        s.close()
    assert r.exists("a", "b", "c") == 0


def test_brpoplpush_rotation_with_waiter(r, port):
    s = raw_conn(port)
    s.sendall(resp("BRPOPLPUSH", "ring", "ring", "0"))
    wait_blocked(r, 1)
    r.rpush("ring", "1", "2", "3")
    assert read_until(s, 1) == b"$1\r\n3\r\n"
    assert r.lrange("ring", 0, -1) == [b"3", b"1", b"2"]
    s.close()


def test_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.blpop(["missing"], timeout=0)
    p.brpoplpush("missing", "dst", timeout=0)
    t0 = time.monotonic()
    assert p.execute() == [None, None]
    assert time.monotonic() - t0 < 1


def test_job_queue_10k(r, port):
    """Producers push 10000 jobs; blocked consumers take each exactly once."""
    n_jobs, n_consumers = 10000, 4
    got = [[] for _ in range(n_consumers)]

    def consumer(i):
        c = client(port)
        while True:
            item = c.brpop(["jobs"], timeout=5)
            if item is None:
                return
            if item[1] == b"stop":
                return
            got[i].append(int(item[1]))

    threads = [threading.Thread(target=consumer, args=(i,)) for i in range(n_consumers)]
    for t in threads:
        t.start()
    wait_blocked(r, n_consumers)
    producer = client(port)
    p = producer.pipeline(transaction=False)
    for j in range(n_jobs):
        p.lpush("jobs", j)
        if j % 500 == 499:
            p.execute()
    p.execute()
    for _ in range(n_consumers):
        producer.lpush("jobs", "stop")
    for t in threads:
        t.join(30)
    everything = sorted(x for g in got for x in g)
    assert everything == list(range(n_jobs))
    assert r.exists("jobs") == 0


def test_list_model_random_ops(r):
    """Random operations against a Python list with small nodes."""
    r.config_set("list-max-listpack-size", 4)
    try:
        rnd = random.Random(7)
        model = []
        for _ in range(3000):
            op = rnd.randrange(10)
            v = str(rnd.choice([rnd.randrange(-50, 50), "v%d" % rnd.randrange(40), "x" * rnd.randrange(200)]))
            if op == 0:
                model.insert(0, v)
                assert r.lpush("l", v) == len(model)
            elif op == 1:
                model.append(v)
                assert r.rpush("l", v) == len(model)
            elif op == 2 and model:
                assert r.lpop("l").decode() == model.pop(0)
            elif op == 3 and model:
                assert r.rpop("l").decode() == model.pop()
            elif op == 4 and model:
                i = rnd.randrange(-len(model), len(model))
                assert r.lindex("l", i).decode() == model[i]
            elif op == 5 and model:
                i = rnd.randrange(len(model))
                r.lset("l", i, v)
                model[i] = v
            elif op == 6 and model:
                pivot = rnd.choice(model)
                i = model.index(pivot)
                where = rnd.choice(["BEFORE", "AFTER"])
                model.insert(i + (where == "AFTER"), v)
                assert r.linsert("l", where, pivot, v) == len(model)
            elif op == 7 and model:
                target = rnd.choice(model)
                cnt = rnd.randrange(-2, 3)
                removed = 0
                if cnt >= 0:
                    i = 0
                    while i < len(model):
                        if model[i] == target and (cnt == 0 or removed < cnt):
                            del model[i]
                            removed += 1
                        else:
                            i += 1
                else:
                    i = len(model) - 1
                    while i >= 0:
                        if model[i] == target and removed < -cnt:
                            del model[i]
                            removed += 1
                        i -= 1
                assert r.lrem("l", cnt, target) == removed
            elif op == 8 and model:
                a, b = rnd.randrange(-len(model) - 2, len(model) + 2), rnd.randrange(-len(model) - 2, len(model) + 2)
                r.ltrim("l", a, b)
                la = a + len(model) if a < 0 else a
                lb = b + len(model) if b < 0 else b
                la = max(la, 0)
                model = model[la:lb + 1] if la <= lb else []
            elif op == 9:
                a, b = rnd.randrange(-60, 60), rnd.randrange(-60, 60)
                la = a + len(model) if a < 0 else a
                lb = b + len(model) if b < 0 else b
                la = max(la, 0)
                exp = model[la:lb + 1] if la <= lb else []
                assert [x.decode() for x in r.lrange("l", a, b)] == exp
            assert r.llen("l") == len(model)
        assert [x.decode() for x in r.lrange("l", 0, -1)] == model
    finally:
        r.config_set("list-max-listpack-size", -2)


def test_large_list_and_lazy_free(r):
    p = r.pipeline(transaction=False)
    for i in range(0, 200000, 1000):
        p.rpush("big", *range(i, i + 1000))
    p.execute()
    assert r.llen("big") == 200000
    assert r.lindex("big", 123456) == b"123456"
    assert r.lpos("big", 199999) == 199999
    assert r.object("encoding", "big") == b"quicklist"
    assert r.unlink("big") == 1
    assert r.exists("big") == 0
