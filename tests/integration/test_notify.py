"""Keyspace notifications (notify-keyspace-events) with redis-py: expired
events from lazy and active expiry, evicted events, and in a ring the
events of a key published on the node that owns it."""
import time

import pytest

redis = pytest.importorskip("redis")

from conftest import HOST
from ringutil import Ring


def messages(p, n, timeout=5.0):
    """Up to n pub/sub messages from p within timeout (bounded)."""
    out, deadline = [], time.time() + timeout
    while len(out) < n and time.time() < deadline:
        m = p.get_message(timeout=0.1)
        if m and m["type"] in ("message", "pmessage"):
            out.append((m["channel"], m["data"]))
    return out


def listen(port, classes, pattern=None, channel=None):
    """A client with notify-keyspace-events set to classes, and a pubsub
    subscribed (pattern or channel) whose confirmation was read."""
    r = redis.Redis(host=HOST, port=port)
    r.config_set("notify-keyspace-events", classes)
    p = r.pubsub()
    if pattern:
        p.psubscribe(pattern)
    else:
        p.subscribe(channel)
    assert p.get_message(timeout=1)["type"] in ("subscribe", "psubscribe")
    return r, p


def test_expired_event_from_active_expiry(node):
    r, p = listen(node[1], "Ex", channel="__keyevent@0__:expired")
    r.set("gone", "v", px=50)
    r.set("stays", "v")
    # Nobody reads the key: only the active cycle can find it expired.
    assert messages(p, 1) == [(b"__keyevent@0__:expired", b"gone")]
    assert r.exists("gone") == 0
    p.close()


def test_expired_event_from_lookup_and_classes(node):
    host, port, _ = node
    r = redis.Redis(host=host, port=port)
    r.config_set("notify-keyspace-events", "KEA")
    assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == "AKE"
    p = r.pubsub()
    p.psubscribe("__keyspace@0__:k*")
    assert p.get_message(timeout=1)["type"] == "psubscribe"
    r.set("k1", "v", px=20)
    time.sleep(0.05)
    r.get("k1")
    assert messages(p, 3) == [(b"__keyspace@0__:k1", b"set"),
                              (b"__keyspace@0__:k1", b"expire"),
                              (b"__keyspace@0__:k1", b"expired")]
    with pytest.raises(redis.ResponseError):
        r.config_set("notify-keyspace-events", "KZ")
    p.close()


def test_evicted_event(node_factory):
    _, port, _ = node_factory("--maxmemory-policy", "allkeys-random")
    r, p = listen(port, "Ee", channel="__keyevent@0__:evicted")
    for i in range(200):
        r.set("big:%d" % i, "x" * 10000)
    used = int(r.info("memory")["used_memory"])
    r.config_set("maxmemory", used - 500000)
    r.set("one-more", "v")
    got = messages(p, 1)
    assert got and got[0][0] == b"__keyevent@0__:evicted"
    assert got[0][1].startswith(b"big:") or got[0][1] == b"one-more"
    r.config_set("maxmemory", 0)
    p.close()


def test_ring_events_on_owner_node():
    ring = Ring(3)
    try:
        for i in range(3):
            ring.client(i).config_set("notify-keyspace-events", "KEA")
        key = ring.keys_on(1, 1)[0]
        subs = []
        for i in range(3):
            p = ring.client(i).pubsub()
            p.subscribe("__keyevent@0__:set")
            assert p.get_message(timeout=1)["type"] == "subscribe"
            subs.append(p)
        ring.client(2).set(key, "v")     # through node 2, owned by node 1
        assert messages(subs[1], 1) == [("__keyevent@0__:set", key)]  # decoded client
        assert messages(subs[0], 1, timeout=0.5) == []
        assert messages(subs[2], 1, timeout=0.5) == []
        for p in subs:
            p.close()
    finally:
        ring.stop()


def test_script_writes_publish_events(node):
    r, p = listen(node[1], "E$l", pattern="__keyevent@0__:*")
    r.eval("redis.call('set', KEYS[1], 'v'); redis.call('rpush', KEYS[2], 'x'); return 1",
           2, "sk", "sl")
    assert messages(p, 2) == [(b"__keyevent@0__:set", b"sk"), (b"__keyevent@0__:rpush", b"sl")]
    p.close()
