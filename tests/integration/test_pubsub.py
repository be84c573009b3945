"""
Integration tests for publish/subscribe (src/pubsub.c) against a real node.

Byte-exact message formats are checked by redis-compat/cases/pubsub.txt;
these tests check behaviour through redis-py's PubSub: get_message with
channels and patterns, delivery order and fan-out to many subscribers,
RESP3 push messages, PUBSUB introspection and INFO/CLIENT LIST counters, a
subscriber that disconnects leaving nothing behind, and a slow subscriber
cut off by the "pubsub" client-output-buffer-limit while the node stays
healthy and its memory returns to the baseline.
"""
import socket
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


def next_message(ps, timeout=2.0):
    """The next message (not a subscribe confirmation), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            return m
    return None


def wait_for(pred, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_subscribe_and_get_message(server, r):
    port, _ = server
    sub = client(port)
    ps = sub.pubsub()
    ps.subscribe("news")
    m = ps.get_message(timeout=1)
    assert m == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
    assert r.publish("news", "hello") == 1
    assert next_message(ps) == {"type": "message", "pattern": None, "channel": b"news",
                                "data": b"hello"}
    assert r.publish("elsewhere", "x") == 0
    assert next_message(ps, 0.3) is None
    ps.close()
    sub.close()


def test_pattern_subscription(server, r):
    port, _ = server
    ps = client(port).pubsub()
    ps.psubscribe("sensor.*.temp")
    assert ps.get_message(timeout=1)["type"] == "psubscribe"
    assert r.publish("sensor.kitchen.temp", "21") == 1
    assert r.publish("sensor.kitchen.humidity", "40") == 0
    m = next_message(ps)
    assert m == {"type": "pmessage", "pattern": b"sensor.*.temp",
                 "channel": b"sensor.kitchen.temp", "data": b"21"}
    ps.punsubscribe("sensor.*.temp")
    assert ps.get_message(timeout=1)["type"] == "punsubscribe"
    assert r.publish("sensor.kitchen.temp", "22") == 0
    ps.close()


def test_order_and_binary_payloads(server, r):
    port, _ = server
    ps = client(port).pubsub()
    ps.subscribe("a", "b")
    # redis-py does not wait for the confirmations: read them, so that the
    # subscriptions exist before anything is published.
    assert [ps.get_message(timeout=1)["data"] for _ in range(2)] == [1, 2]
    payloads = [bytes([i % 256]) * (i % 50) + b"\x00\r\n" for i in range(300)]
    for i, p in enumerate(payloads):
        assert r.publish("a" if i % 2 == 0 else "b", p) == 1
    got = []
    while len(got) < len(payloads):
        m = next_message(ps)
        assert m is not None, "missing messages after %d" % len(got)
        got.append((m["channel"], m["data"]))
    assert got == [(b"a" if i % 2 == 0 else b"b", p) for i, p in enumerate(payloads)]
    ps.close()


def test_fan_out_and_numsub(server, r):
    port, _ = server
    subs = []
    for _ in range(20):
        ps = client(port).pubsub()
        ps.subscribe("fan")
        ps.get_message(timeout=1)
        subs.append(ps)
    pat = client(port).pubsub()
    pat.psubscribe("f*")
    pat.get_message(timeout=1)
    assert r.pubsub_numsub("fan") == [(b"fan", 20)]
    assert r.pubsub_numpat() == 1
    assert b"fan" in r.pubsub_channels()
    assert r.publish("fan", "all") == 21
    for ps in subs:
        assert next_message(ps)["data"] == b"all"
    assert next_message(pat)["type"] == "pmessage"
    info = r.info("stats")
    assert info["pubsub_channels"] >= 1
    assert info["pubsub_patterns"] >= 1
    for ps in subs + [pat]:
        ps.close()
    assert wait_for(lambda: r.pubsub_numsub("fan") == [(b"fan", 0)])
    assert wait_for(lambda: r.pubsub_numpat() == 0)
    assert r.info("stats")["pubsub_channels"] == 0


def test_client_list_sub_fields(server, r):
    port, _ = server
    c = client(port)
    ps = c.pubsub()
    ps.subscribe("c1", "c2")
    ps.psubscribe("p*")
    for _ in range(3):
        ps.get_message(timeout=1)
    lines = [x for x in r.client_list() if x["sub"] != "0" or x["psub"] != "0"]
    assert len(lines) == 1
    assert lines[0]["sub"] == "2" and lines[0]["psub"] == "1"
    assert "P" in lines[0]["flags"]
    ps.close()
    c.close()


def test_resp2_subscribed_context(server):
    port, _ = server
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(b"SUBSCRIBE x\r\nGET k\r\nPING\r\nUNSUBSCRIBE\r\nGET k\r\n")
        time.sleep(0.2)
        out = s.recv(65536)
    assert out == (b"*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n"
                   b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                   b"PING / QUIT / RESET are allowed in this context\r\n"
                   b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
                   b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nx\r\n:0\r\n"
                   b"$-1\r\n")


def test_resp3_push_and_commands(server):
    port, _ = server
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(b"HELLO 3\r\n")
        time.sleep(0.1)
        s.recv(65536)
        s.sendall(b"SUBSCRIBE me\r\nSET k v\r\nPUBLISH me hi\r\nGET k\r\n")
        time.sleep(0.2)
        out = s.recv(65536)
    assert out == (b">3\r\n$9\r\nsubscribe\r\n$2\r\nme\r\n:1\r\n"
                   b"+OK\r\n"
                   b">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n:1\r\n"
                   b"$1\r\nv\r\n")


def test_disconnect_drops_subscriptions(server, r):
    port, _ = server
    for _ in range(50):
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(b"SUBSCRIBE gone\r\nPSUBSCRIBE gone.*\r\n")
        s.recv(1000)
        s.close()
    assert wait_for(lambda: r.pubsub_numsub("gone") == [(b"gone", 0)])
    assert wait_for(lambda: r.pubsub_numpat() == 0)
    assert r.publish("gone", "x") == 0


def test_slow_subscriber_disconnected(server, r):
    """A subscriber that never reads is cut off at the pubsub class's hard
    limit; the node keeps serving and its memory returns to the baseline."""
    port, proc = server
    r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 60")
    try:
        base = r.info("memory")["used_memory"]
        discon = r.info("stats").get("client_output_buffer_limit_disconnections", 0)
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((HOST, port))
        slow.sendall(b"SUBSCRIBE firehose\r\n")
        assert slow.recv(100) == b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n"
        # A well-behaved subscriber on the same channel keeps up.
        good = client(port).pubsub()
        good.subscribe("firehose")
        good.get_message(timeout=1)

        msg = b"x" * 10000
        delivered_to_slow = 0
        n = 2
        for _ in range(1000):
            n = r.publish("firehose", msg)
            if n == 2:
                delivered_to_slow += 1
            m = next_message(good, 2)
            assert m is not None and m["data"] == msg
            if n == 1:
                break
        assert n == 1, "slow subscriber was never disconnected"
        # It was sent about a megabyte (plus what the kernel buffers took).
        assert delivered_to_slow * len(msg) >= 1000000
        assert wait_for(lambda: r.pubsub_numsub("firehose") == [(b"firehose", 1)])
        stats = r.info("stats")
        if "client_output_buffer_limit_disconnections" in stats:
            assert stats["client_output_buffer_limit_disconnections"] == discon + 1
        assert r.ping()
        good.close()
        slow.close()
        assert wait_for(lambda: r.info("memory")["used_memory"] < base + 256 * 1024)
        assert proc.poll() is None
    finally:
        r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_pubsub_inside_transaction(server, r):
    port, _ = server
    ps = client(port).pubsub()
    ps.subscribe("tx")
    ps.get_message(timeout=1)
    p = r.pipeline(transaction=True)
    p.publish("tx", "one")
    p.publish("tx", "two")
    assert p.execute() == [1, 1]
    assert next_message(ps)["data"] == b"one"
    assert next_message(ps)["data"] == b"two"
    ps.close()


def test_reset_unsubscribes(server, r):
    port, _ = server
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(b"SUBSCRIBE r1\r\nPSUBSCRIBE r*\r\nRESET\r\nGET k\r\n")
        time.sleep(0.2)
        out = s.recv(65536)
        assert out.endswith(b"+RESET\r\n$-1\r\n")
        assert r.pubsub_numsub("r1") == [(b"r1", 0)]
        assert r.pubsub_numpat() == 0
