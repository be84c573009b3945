"""Introspection commands whose replies depend on time, connections or the
allocator, checked against a live redis-server 7.0 where a comparison makes
sense (the deterministic replies are in redis-compat/cases):

- MONITOR lines (quoting, database, lua) as redis-server prints them;
- CLIENT KILL filters (ID, ADDR, LADDR, TYPE, USER, SKIPME) and CLIENT
  UNBLOCK of a client blocked in BLPOP (TIMEOUT and ERROR);
- DEBUG RELOAD keeping the data (digest, TTLs), DEBUG OBJECT's fields and
  serializedlength as redis-server's, DEBUG SLEEP feeding the latency
  monitor (LATENCY LATEST/HISTORY/GRAPH), enable-debug-command;
- LATENCY HISTOGRAM and INFO latencystats shapes, MEMORY STATS's fields
  as redis-server's;
- MEMORY DOCTOR with each of Redis's conditions made real (a big peak,
  allocator fragmentation, a client's big output buffer, more than 1000
  cached scripts, a stopped replica) and with none: both servers name the
  same issue in the same words;
- SORT's BY/GET refusal through a ring, as a cluster-mode redis-server.
"""

import re
import shutil
import signal
import socket
import tempfile
import threading
import time

import pytest
import redis

from conftest import HOST, start_node, stop_node, stop_proc, wait_for
from conftest import start_redis as start_ref

def start_redis(*extra):
    """conftest's start_redis in a fresh directory, removed by stop_redis."""
    workdir = tempfile.mkdtemp(prefix="ringcache-ref-")
    try:
        port, proc = start_ref(workdir, *extra)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    proc.workdir = workdir
    return port, proc


def stop_redis(proc):
    stop_proc(proc)
    shutil.rmtree(proc.workdir, ignore_errors=True)


@pytest.fixture
def pair():
    """(ringcached client, redis-server client), both with DEBUG allowed."""
    port, proc = start_node("--enable-debug-command", "yes")
    try:
        rport, rproc = start_redis("--enable-debug-command", "yes")
    except BaseException:
        stop_node(proc)
        raise
    try:
        yield (redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=10),
               redis.Redis(host=HOST, port=rport, decode_responses=True, socket_timeout=10))
    finally:
        stop_node(proc)
        stop_redis(rproc)


def to_dict(flat):
    """A RESP2 flat key/value array as a dict (nested maps too, by key)."""
    if not isinstance(flat, list):
        return flat
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def both(pair, fn):
    return [fn(r) for r in pair]


# ---- MONITOR ----

def monitor_lines(port, actions, count):
    """Lines a MONITOR client on port sees while actions(client) runs, with
    the timestamp and client address removed."""
    mon = socket.create_connection((HOST, port), timeout=5)
    try:
        mon.sendall(b"MONITOR\r\n")
        buf = b""
        while b"+OK\r\n" not in buf:
            buf += mon.recv(4096)
        buf = buf.split(b"+OK\r\n", 1)[1]
        r = redis.Redis(host=HOST, port=port, socket_timeout=5)
        actions(r)
        deadline = time.monotonic() + 5
        while buf.count(b"\r\n") < count and time.monotonic() < deadline:
            buf += mon.recv(4096)
        lines = buf.decode("utf-8", "replace").split("\r\n")[:count]
        return [re.sub(r"^\+\d+\.\d+ \[(\d+) [\d.]+:\d+\]", r"[\1 addr]",
                       re.sub(r"^\+\d+\.\d+ \[(\d+) lua\]", r"[\1 lua]", ln)) for ln in lines]
    finally:
        mon.close()


def test_monitor_output_matches_redis(pair):
    def actions(r):
        r.execute_command("SET", "a b", 'x"y\\z\n\x01')
        r.execute_command("SELECT", "3")
        r.execute_command("GET", "k")
        r.execute_command("EVAL", "redis.call('set','q','1')", "0")
        r.execute_command("PING")
    ours, theirs = [monitor_lines(r.connection_pool.connection_kwargs["port"], actions, 6)
                    for r in pair]
    assert ours == theirs
    assert any("lua" in ln for ln in ours)


# ---- CLIENT KILL and CLIENT UNBLOCK ----

def client_id_of(r, name):
    for c in r.client_list():
        if c.get("name") == name:
            return int(c["id"]), c["addr"], c["laddr"]
    raise AssertionError("no client named %s" % name)


def test_client_kill_filters(pair):
    r = pair[0]
    port = r.connection_pool.connection_kwargs["port"]
    victims = []
    for i in range(4):
        v = redis.Redis(host=HOST, port=port, socket_timeout=5, decode_responses=True)
        v.client_setname("v%d" % i)
        victims.append(v)
    vid, vaddr, vladdr = client_id_of(r, "v0")
    assert r.execute_command("CLIENT", "KILL", "ID", vid) == 1
    assert r.execute_command("CLIENT", "KILL", "ID", vid) == 0
    _, vaddr, _ = client_id_of(r, "v1")
    assert r.execute_command("CLIENT", "KILL", "ADDR", vaddr) == 1
    _, vaddr, _ = client_id_of(r, "v2")
    assert r.execute_command("CLIENT", "KILL", vaddr) == "OK"
    # v3 subscribes: TYPE pubsub kills it, TYPE normal leaves it.
    p = victims[3].pubsub()
    p.subscribe("ch")
    p.get_message(timeout=1)
    wait_for(lambda: r.execute_command("PUBSUB", "NUMSUB", "ch")[1] == 1, "subscriber")
    assert r.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    # LADDR matches every client of the listening address but us (SKIPME).
    extra = [redis.Redis(host=HOST, port=port, socket_timeout=5) for _ in range(2)]
    for e in extra:
        e.ping()
    me = r.client_info()
    n = r.execute_command("CLIENT", "KILL", "LADDR", me["laddr"], "USER", "default")
    assert n >= 2
    assert r.ping()
    assert r.execute_command("CLIENT", "KILL", "LADDR", me["laddr"], "SKIPME", "no") >= 1
    try:
        new_id = r.client_id()      # redis-py reconnects
    except redis.ConnectionError:
        new_id = r.client_id()
    assert new_id != int(me["id"])


def test_client_unblock(pair):
    seen = []
    for r in pair:
        port = r.connection_pool.connection_kwargs["port"]
        results = {}

        def blocked(name):
            b = redis.Redis(host=HOST, port=port, socket_timeout=10, decode_responses=True)
            b.client_setname(name)
            try:
                results[name] = b.blpop("nokey", 0)
            except redis.ResponseError as e:
                results[name] = "error: %s" % e
        threads = [threading.Thread(target=blocked, args=(n,)) for n in ("t1", "t2")]
        for t in threads:
            t.start()
        wait_for(lambda: r.info("clients")["blocked_clients"] == 2, "two blocked clients")
        id1 = client_id_of(r, "t1")[0]
        id2 = client_id_of(r, "t2")[0]
        assert r.execute_command("CLIENT", "UNBLOCK", id1) == 1
        assert r.execute_command("CLIENT", "UNBLOCK", id2, "ERROR") == 1
        assert r.execute_command("CLIENT", "UNBLOCK", id2) == 0
        for t in threads:
            t.join(10)
        assert results["t1"] is None
        assert results["t2"].endswith("client unblocked via CLIENT UNBLOCK")
        assert r.info("clients")["blocked_clients"] == 0
        assert r.rpush("nokey", "x") == 1      # nobody is waiting any more
        seen.append(dict(results))
    assert seen[0] == seen[1]


# ---- DEBUG ----

def fill(r):
    r.set("s", "hello", ex=1000)
    r.set("n", 42)
    r.rpush("l", *range(300))
    r.sadd("st", "a", "b", 7)
    r.hset("h", mapping={"f": "v", "g": 1})
    r.zadd("z", {"a": 0.1, "b": 2})
    r.xadd("x", {"f": "v"}, id="1-1")
    r.execute_command("SELECT", 0)


def test_debug_reload_keeps_data(pair):
    for r in pair:
        fill(r)
    digests = both(pair, lambda r: r.execute_command("DEBUG", "DIGEST"))
    assert digests[0] == digests[1] and digests[0] != "0" * 40
    for r in pair:
        assert r.execute_command("DEBUG", "RELOAD") == "OK"
    assert both(pair, lambda r: r.execute_command("DEBUG", "DIGEST")) == digests
    ours = pair[0]
    assert 990 <= ours.ttl("s") <= 1000
    assert ours.lrange("l", 0, 2) == ["0", "1", "2"]
    # NOSAVE loads the file written by the last RELOAD: a change made since
    # is lost, as in Redis.
    ours.set("s", "changed")
    assert ours.execute_command("DEBUG", "RELOAD", "NOSAVE") == "OK"
    assert ours.get("s") == "hello"


def test_debug_object_fields(pair):
    for r in pair:
        fill(r)
    for key in ("s", "n", "l", "st", "h", "z"):
        lines = both(pair, lambda r: r.execute_command("DEBUG", "OBJECT", key))
        fields = [dict(f.split(":", 1) for f in ln.split(" ")[1:] if ":" in f) for ln in lines]
        assert fields[0].keys() == fields[1].keys(), key
        for f in ("refcount", "encoding", "serializedlength", "ql_nodes", "ql_avg_node",
                  "ql_listpack_max", "ql_compressed"):
            assert fields[0].get(f) == fields[1].get(f), (key, f)
        assert lines[0].startswith("Value at:0x")


def test_debug_refused_by_default_and_local():
    port, proc = start_node()
    try:
        r = redis.Redis(host=HOST, port=port, decode_responses=True)
        with pytest.raises(redis.ResponseError, match="DEBUG command not allowed"):
            r.execute_command("DEBUG", "DIGEST")
        assert r.config_get("enable-debug-command") == {"enable-debug-command": "no"}
    finally:
        stop_node(proc)
    port, proc = start_node("--enable-debug-command", "local")
    try:
        r = redis.Redis(host=HOST, port=port, decode_responses=True)
        assert r.execute_command("DEBUG", "DIGEST") == "0" * 40
    finally:
        stop_node(proc)


# ---- LATENCY ----

def test_latency_monitor_with_debug_sleep(pair):
    for r in pair:
        r.config_set("latency-monitor-threshold", 50)
        r.execute_command("DEBUG", "SLEEP", "0.12")
    for r in pair:
        latest = r.execute_command("LATENCY", "LATEST")
        assert len(latest) == 1
        event, when, lat, mx = latest[0]
        assert event == "command"
        assert abs(int(when) - time.time()) < 5
        assert 115 <= int(lat) <= 1000 and int(mx) == int(lat)
        hist = r.execute_command("LATENCY", "HISTORY", "command")
        assert len(hist) == 1 and int(hist[0][1]) == int(lat)
        graph = r.execute_command("LATENCY", "GRAPH", "command")
        lines = graph.split("\n")
        assert lines[0] == "command - high %d ms, low %d ms (all time high %d ms)" % (
            int(lat), int(lat), int(mx))
        assert lines[1] == "-" * 80
        assert lines[2:6] == [" ", " ", " ", "_"]
        assert lines[6] == " " and lines[7].isdigit() or lines[7] == "0"
        # Below the threshold: no new sample.
        r.ping()
        assert len(r.execute_command("LATENCY", "HISTORY", "command")) == 1
        assert r.execute_command("LATENCY", "RESET") == 1
        assert r.execute_command("LATENCY", "LATEST") == []


def test_latency_doctor_matches_redis(pair):
    for r in pair:
        r.config_set("latency-monitor-threshold", 50)
        r.execute_command("DEBUG", "SLEEP", "0.07")
    for slower_than in (10000, -1, 100000):
        reports = []
        for r in pair:
            r.config_set("slowlog-log-slower-than", slower_than)
            report = r.execute_command("LATENCY", "DOCTOR")
            # The spike's size and the period since it depend on timing.
            reports.append(re.sub(r"\d+ms|\d+\.\d\d sec", "N", report))
            r.config_set("slowlog-log-slower-than", 10000)
        assert reports[0] == reports[1], slower_than
        assert reports[0].startswith("Dave, I have observed latency spikes")


def test_latency_histogram_and_info_shapes(pair):
    for r in pair:
        r.config_resetstat()
        for _ in range(20):
            r.set("k", "v")
    shapes = []
    for r in pair:
        h = to_dict(r.execute_command("LATENCY", "HISTOGRAM", "set", "config"))
        assert set(h) == {"set", "config|resetstat"}
        hs = to_dict(h["set"])
        calls = hs["calls"]
        buckets = to_dict(hs["histogram_usec"])
        assert calls == 20
        bounds = sorted(buckets)
        assert all(b in (1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454,
                         16908, 33816, 67633, 135266, 270532, 541065) for b in bounds)
        counts = [buckets[b] for b in bounds]
        assert counts == sorted(counts) and counts[-1] == 20
        info = r.info("latencystats")
        shapes.append(sorted(info["latency_percentiles_usec_set"]))
        assert sorted(info) == ["latency_percentiles_usec_config|resetstat",
                                "latency_percentiles_usec_latency|histogram",
                                "latency_percentiles_usec_set"]
    assert shapes[0] == shapes[1] == ["p50", "p99", "p99.9"]


# ---- MEMORY ----

def test_memory_stats_shape(pair):
    for r in pair:
        fill(r)
    ours, theirs = both(pair, lambda r: to_dict(r.execute_command("MEMORY", "STATS")))
    assert list(ours.keys()) == list(theirs.keys())
    assert list(to_dict(ours["db.0"]).keys()) == list(to_dict(theirs["db.0"]).keys())
    assert ours["keys.count"] == theirs["keys.count"] == 7
    first = both(pair, lambda r: r.execute_command("MEMORY", "MALLOC-STATS").split("\n")[0])
    if pair[0].info("memory")["mem_allocator"].startswith("jemalloc"):
        assert first == ["___ Begin jemalloc statistics ___"] * 2
    else:       # sanitizer builds use libc malloc, as Redis's do
        assert first[0] == "Stats not supported for the current allocator"
    doctor = both(pair, lambda r: r.execute_command("MEMORY", "DOCTOR"))
    assert doctor[0] == doctor[1] and doctor[0].startswith("Hi Sam, this instance is empty")


# ---- MEMORY DOCTOR ----
#
# Each test makes one of Redis's conditions real on a ringcached and on a
# redis-server and checks that both reports name it.  Other entries may
# come with it (a peak leaves the allocator's pages behind, on both);
# every entry both name must be the same text, byte for byte.  Redis
# judges the RSS, allocator and client figures its cron sampled last
# (every 100 ms), ringcache those of the moment: checks on them wait.

FINE = ("Hi Sam, I can't find any memory issue in your instance. I can only account for "
        "what occurs on this base.\n")


def doctor(r):
    return r.execute_command("MEMORY", "DOCTOR")


def entries(report):
    """The report's entries, {heading: text}, e.g. {"Peak memory": " * Peak
    memory: In the past ...\n\n"}; {} for the empty and all-fine texts."""
    if not report.startswith("Sam, I detected a few issues"):
        return {}
    body = report.split("\n\n", 1)[1]
    found = {}
    for part in body.split("\n\n")[:-1]:
        assert part.startswith(" * "), part
        found[part[3:].split(":", 1)[0]] = part + "\n\n"
    assert body.endswith("\n\nI'm here to keep you safe, Sam. I want to help you.\n")
    return found


def settled(pair, pred, what, timeout=5):
    """Both reports, once pred(reports) holds: Redis's figures follow its
    cron.  On timeout the last reports are in the error."""
    last = []

    def check():
        last[:] = both(pair, doctor)
        return pred(last)
    try:
        wait_for(check, what, timeout=timeout)
    except AssertionError:
        raise AssertionError("%s: %r" % (what, last))
    return last


def both_name(pair, heading):
    """Both reports name heading (waiting for Redis's cron); the entries
    they share are the same text (but for the allocator's name, libc in
    sanitizer builds).  Returns both reports' headings."""
    reports = settled(pair, lambda reports: all(heading in entries(r) for r in reports),
                      "both reports naming " + heading)
    for r, report in zip(pair, reports):
        if "High total RSS" in entries(report):
            assert 'allocator is "%s"' % r.info("memory")["mem_allocator"] in report
    ours, theirs = (entries(re.sub(r'allocator is "[^"]*"', 'allocator is "A"', r))
                    for r in reports)
    for h in set(ours) & set(theirs):
        assert ours[h] == theirs[h], h
    return set(ours), set(theirs)


def load_mb(r, n, prefix="big"):
    """n strings of 1 MB: used_memory grows by n MB in large allocations,
    which leave the RSS ratios near 1 (no fragmentation entry)."""
    value = "x" * (1 << 20)
    for i in range(n):
        r.set("%s:%d" % (prefix, i), value)


def jemalloc_builds(pair):
    """The fragmentation figures mean the same on both only with jemalloc;
    sanitizer builds use libc malloc, whose RSS is the sanitizer's."""
    if not all(r.info("memory")["mem_allocator"].startswith("jemalloc") for r in pair):
        pytest.skip("a server is not built with jemalloc")


def test_memory_doctor_all_fine(pair):
    jemalloc_builds(pair)
    for r in pair:
        load_mb(r, 32)
    assert doctor(pair[0]) == FINE
    settled(pair, lambda reports: reports == [FINE, FINE], "both reports all fine")


def test_memory_doctor_big_peak(pair):
    for r in pair:
        load_mb(r, 40)
        r.info("memory")            # takes the peak (Redis's cron may not have yet)
        r.delete(*["big:%d" % i for i in range(6, 40)])
    both_name(pair, "Peak memory")


def test_memory_doctor_allocator_fragmentation(pair):
    """Half the keys of 300000 small ones deleted: jemalloc's pages stay
    active, half used."""
    jemalloc_builds(pair)
    for r in pair:
        r.execute_command("DEBUG", "POPULATE", 300000, "k", 100)
        r.info("memory")
        p = r.pipeline(transaction=False)
        for i in range(0, 300000, 2):
            p.delete("k:%d" % i)
        p.execute()
    ours, theirs = both_name(pair, "High allocator fragmentation")
    assert ours == theirs


def test_memory_doctor_client_buffers(pair):
    """A client pipelines 40 GETs of a 1 MB string and reads nothing: its
    output buffer (tens of MB) is far over 200K per client."""
    socks = []
    try:
        for r in pair:
            load_mb(r, 8)
            s = socket.create_connection((HOST, r.connection_pool.connection_kwargs["port"]))
            s.sendall(b"*2\r\n$3\r\nGET\r\n$5\r\nbig:0\r\n" * 40)
            socks.append(s)
        both_name(pair, "Big client buffers")
    finally:
        for s in socks:
            s.close()
    for r in pair:
        wait_for(lambda: "Big client buffers" not in entries(doctor(r)), "buffers freed",
                 timeout=10)


def test_memory_doctor_many_scripts(pair):
    """More than 1000 cached scripts, as Redis counts them (SCRIPT LOAD and
    EVAL both cache)."""
    for r in pair:
        load_mb(r, 32)
        p = r.pipeline(transaction=False)
        for i in range(999):
            p.script_load("return %d" % i)
        p.execute()
        r.eval("return 'one more'", 0)
    # 1000: not yet.
    assert all("Many scripts" not in entries(doctor(r)) for r in pair)
    for r in pair:
        r.script_load("return 'and another'")
    both_name(pair, "Many scripts")
    if pair[0].info("memory")["mem_allocator"].startswith("jemalloc"):
        settled(pair, lambda reports: reports[0] == reports[1], "the same report")
    for r in pair:
        r.script_flush()
    assert all("Many scripts" not in entries(doctor(r)) for r in pair)


def test_memory_doctor_replica_buffers():
    """A stopped replica: 48 MB of writes pile up for it, on a ring node
    (its replication link to the peer) and on a Redis master (the
    replication buffer beyond the backlog); both name the replica buffers."""
    from faultutil import keys_on
    from ringutil import Ring
    value = "v" * 100000
    ring = Ring(3, replicas=2, timeout_ms=8000)
    try:
        victim = ring.nodes[2]
        r = ring.client(0)
        keys = keys_on(ring, 0, "rb:", 480)
        assert "Big replica buffers" not in entries(doctor(r))
        victim.signal(signal.SIGSTOP)
        try:
            for n in range(0, len(keys), 40):
                p = r.pipeline(transaction=False)
                for k in keys[n:n + 40]:
                    p.set(k, value)
                p.execute()
            ours = wait_for(lambda: entries(doctor(r)).get("Big replica buffers"),
                            "big replica buffers on the ring node", timeout=10)
            assert int(r.info("memory")["mem_clients_slaves"]) > 10 << 20
        finally:
            victim.signal(signal.SIGCONT)
    finally:
        ring.stop()
    mport, mproc = start_redis()
    try:
        sport, sproc = start_redis("--replicaof", HOST, mport)
        try:
            m = redis.Redis(host=HOST, port=mport, decode_responses=True, socket_timeout=10)
            wait_for(lambda: m.info("replication").get("slave0", {}).get("state") == "online",
                     "replica online")
            sproc.send_signal(signal.SIGSTOP)
            try:
                for n in range(0, 480, 40):
                    p = m.pipeline(transaction=False)
                    for i in range(n, n + 40):
                        p.set("rb:%d" % i, value)
                    p.execute()
                theirs = wait_for(lambda: entries(doctor(m)).get("Big replica buffers"),
                                  "big replica buffers on redis-server", timeout=10)
            finally:
                sproc.send_signal(signal.SIGCONT)
        finally:
            stop_redis(sproc)
    finally:
        stop_redis(mproc)
    assert ours == theirs


# ---- SORT through a ring ----

def test_sort_patterns_refused_in_ring_as_in_redis_cluster():
    from ringutil import Ring
    rport, rproc = start_redis("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    ring = Ring(3)
    try:
        ref = redis.Redis(host=HOST, port=rport, decode_responses=True)
        ref.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_for(lambda: ref.cluster("info")["cluster_state"] == "ok", "cluster ok")
        ours = ring.client(0)
        cases = [
            ("SORT", "{t}l", "BY", "{t}w_*"),
            ("SORT", "{t}l", "GET", "#"),
            ("SORT", "{t}l", "GET", "{t}o_*"),
            ("SORT_RO", "{t}l", "BY", "{t}w_*"),
            ("SORT", "{t}l", "BY", "nosort"),
            ("SORT", "{t}l", "STORE", "{t}d"),
            ("SORT", "{t}l", "STORE", "other"),
        ]
        for r in (ref, ours):
            r.rpush("{t}l", 3, 1, 2)
        for cmd in cases:
            got = []
            for r in (ref, ours):
                try:
                    got.append(r.execute_command(*cmd))
                except redis.ResponseError as e:
                    got.append("error: %s" % e)
            assert got[0] == got[1], cmd
    finally:
        ring.stop()
        stop_redis(rproc)
