"""The append-only log: durability under kill -9 with appendfsync always,
torn-tail truncation at every byte, refusal on damage in the middle,
deterministic records, and compatibility with redis-check-aof and
redis-server 7.0.

Nodes here keep their directory across restarts, so they are started with
the local helpers below (which still use conftest's ports, binary and
ping) and stopped by PID.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import BINARY, HOST, node_log, pick_port, ping, start_in_dir
from conftest import stop_by_signal as stop

redis = pytest.importorskip("redis")

MANIFEST = "appendonly.aof.manifest"
INCR = "appendonly.aof.1.incr.aof"


def start(workdir, *extra, expect_fail=False, timeout=10.0):
    """Start ringcached with appendonly yes in workdir (start_in_dir)."""
    return start_in_dir(workdir, "--appendonly", "yes", *extra, expect_fail=expect_fail,
                        timeout=timeout)



def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=5)


def incr_path(workdir):
    return os.path.join(workdir, "appendonlydir", INCR)


def batch_ends(data):
    """Offsets just past each checksum annotation line."""
    ends = []
    pos = 0
    while True:
        i = data.find(b"#RC crc64 ", pos)
        if i < 0:
            return ends
        j = data.index(b"\n", i)
        ends.append(j + 1)
        pos = j + 1


def test_layout_and_restart(workdir):
    port, proc = start(workdir, "--appendfsync", "everysec")
    try:
        r = client(port)
        r.set("a", "1")
        r.rpush("l", "x", "y")
        r.hset("h", mapping={"f": "v"})
        r.sadd("s", "m")
        r.zadd("z", {"m": 1.5})
        r.execute_command("SELECT", "5")
    finally:
        stop(proc)
    with open(os.path.join(workdir, "appendonlydir", MANIFEST)) as f:
        assert f.read() == "file %s seq 1 type i\n" % INCR
    port, proc = start(workdir)
    try:
        r = client(port)
        assert r.get("a") == b"1"
        assert r.lrange("l", 0, -1) == [b"x", b"y"]
        assert r.hgetall("h") == {b"f": b"v"}
        assert r.smembers("s") == {b"m"}
        assert r.zrange("z", 0, -1, withscores=True) == [(b"m", 1.5)]
    finally:
        stop(proc)


def test_deterministic_records(workdir):
    port, proc = start(workdir, "--appendfsync", "always")
    try:
        r = client(port)
        r.set("e", "v", ex=100)
        r.expire("e", 200)
        r.incrbyfloat("f", "1.5")
        r.hincrbyfloat("h", "f", "2.5")
        r.sadd("s", *range(10))
        popped = r.spop("s")
        r.rpush("q", "a")
        assert r.blpop(["q"], 1) == (b"q", b"a")
        r.zadd("z", {"a": 1, "b": 2})
        r.bzpopmin(["z"], 1)
        r.execute_command("SELECT", "3")
    finally:
        stop(proc)
    data = open(incr_path(workdir), "rb").read()
    assert b"PXAT" in data and b"PEXPIREAT" in data
    assert b"$6\r\nexpire\r\n" not in data.lower().replace(b"pexpireat", b"")
    assert b"KEEPTTL" in data and b"HSET" in data
    assert b"SREM" in data and b"spop" not in data.lower()
    assert b"LPOP" in data and b"blpop" not in data.lower()
    assert b"ZPOPMIN" in data and b"bzpopmin" not in data.lower()
    time.sleep(1.1)
    port, proc = start(workdir)
    try:
        r = client(port)
        # The TTL is absolute: the second that passed is gone from it.
        assert 0 < r.ttl("e") <= 199
        assert r.get("f") == b"1.5"
        assert r.hget("h", "f") == b"2.5"
        assert r.scard("s") == 9 and not r.sismember("s", popped)
        assert r.exists("q") == 0
        assert r.zrange("z", 0, -1) == [b"b"]
    finally:
        stop(proc)


def test_transaction_is_wrapped(workdir):
    port, proc = start(workdir)
    try:
        r = client(port)
        p = r.pipeline(transaction=True)
        p.set("t1", "1")
        p.incr("t1")
        p.set("t2", "x")
        p.execute()
    finally:
        stop(proc)
    data = open(incr_path(workdir), "rb").read()
    i = data.index(b"MULTI")
    j = data.index(b"EXEC", i)
    assert data.count(b"t1", i, j) == 2 and b"t2" in data[i:j]
    # One batch: the annotation comes after EXEC, not in between.
    assert b"#RC" not in data[i:j]


def writer(port, acked, stop_flag):
    """Write until the connection dies; record every acknowledged write."""
    try:
        r = client(port)
        i = 0
        while not stop_flag.is_set():
            r.set("k%d" % i, "v%d" % i)
            acked.append(i)
            i += 1
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        pass


def test_kill9_keeps_every_acknowledged_write(workdir):
    """appendfsync always: kill -9 during a stream of writes, repeatedly;
    every write a client saw acknowledged is there after restart."""
    total = {}
    for rnd in range(10):
        port, proc = start(workdir, "--appendfsync", "always")
        r = client(port)
        # Everything acknowledged in earlier rounds survived the restarts.
        for key, val in total.items():
            assert r.get(key) == val, (rnd, key)
        rounds = []
        flag = threading.Event()
        threads = []
        for t in range(3):
            acked = []
            rounds.append(acked)
            th = threading.Thread(target=writer, args=(port, acked, flag))
            th.start()
            threads.append(th)
        time.sleep(0.15 + 0.05 * (rnd % 4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        flag.set()
        for th in threads:
            th.join(10)
        # Writers used disjoint key sets per thread only by value; record
        # the last acknowledged value of every key.
        port, proc = start(workdir, "--appendfsync", "always")
        try:
            r = client(port)
            n = 0
            for acked in rounds:
                for i in acked:
                    assert r.get("k%d" % i) is not None, (rnd, i)
                    n += 1
            assert n > 0
            r.set("round%d" % rnd, "done")
            total["round%d" % rnd] = b"done"
        finally:
            stop(proc)


def make_log(workdir, nrec):
    """A log of nrec SETs, one batch each."""
    port, proc = start(workdir, "--appendfsync", "always")
    try:
        r = client(port)
        for i in range(nrec):
            r.set("r%d" % i, "value-%d" % i)
    finally:
        stop(proc)
    return open(incr_path(workdir), "rb").read()


def test_truncation_at_every_byte_of_the_last_records(workdir):
    nrec = 6
    data = make_log(workdir, nrec)
    ends = batch_ends(data)
    # The first batch carries SELECT too; each later one is one SET.
    assert len(ends) == nrec
    start_cut = ends[-3]
    for cut in range(start_cut, len(data) + 1):
        d = tempfile.mkdtemp(prefix="ringcache-aof-cut-")
        try:
            shutil.copytree(os.path.join(workdir, "appendonlydir"),
                            os.path.join(d, "appendonlydir"))
            with open(incr_path(d), "r+b") as f:
                f.truncate(cut)
            port, proc = start(d)
            try:
                complete = sum(1 for e in ends if e <= cut)
                r = client(port)
                assert r.dbsize() == complete, cut
                for i in range(complete):
                    assert r.get("r%d" % i) == b"value-%d" % i
                # The torn tail was cut from the file, loudly.
                kept = max([e for e in ends if e <= cut] or [0])
                assert os.path.getsize(incr_path(d)) == kept
                if cut != kept:
                    assert "torn write" in node_log(proc)
                # And the node appends after the cut cleanly.
                r.set("after", "1")
            finally:
                stop(proc)
            port, proc = start(d)
            try:
                assert client(port).get("after") == b"1"
            finally:
                stop(proc)
        finally:
            shutil.rmtree(d, ignore_errors=True)


def test_truncated_tail_refused_without_aof_load_truncated(workdir):
    data = make_log(workdir, 3)
    with open(incr_path(workdir), "r+b") as f:
        f.truncate(len(data) - 5)
    _, proc = start(workdir, "--aof-load-truncated", "no", expect_fail=True)
    assert proc.returncode != 0
    assert "aof-load-truncated" in node_log(proc)


def test_flipped_byte_in_the_middle_refuses_start(workdir):
    data = make_log(workdir, 6)
    ends = batch_ends(data)
    for off in (ends[1] + 12, ends[2] + 2, ends[3] - 3):
        d = tempfile.mkdtemp(prefix="ringcache-aof-flip-")
        try:
            shutil.copytree(os.path.join(workdir, "appendonlydir"),
                            os.path.join(d, "appendonlydir"))
            b = bytearray(data)
            b[off] ^= 0x20
            with open(incr_path(d), "wb") as f:
                f.write(bytes(b))
            _, proc = start(d, expect_fail=True)
            log = node_log(proc)
            assert proc.returncode != 0
            assert INCR in log
            # The batch holding the damage is named by its offset.
            batch_start = max(e for e in [0] + ends if e <= off)
            assert "offset %d" % batch_start in log or "offset %d" % off in log, log
        finally:
            shutil.rmtree(d, ignore_errors=True)


def test_redis_check_aof_accepts_our_files(workdir):
    tool = shutil.which("redis-check-aof")
    if tool is None:
        pytest.skip("redis-check-aof not installed")
    make_log(workdir, 5)
    out = subprocess.run([tool, os.path.join(workdir, "appendonlydir", MANIFEST)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout


def test_redis_server_loads_our_directory(workdir):
    server_bin = shutil.which("redis-server")
    if server_bin is None:
        pytest.skip("redis-server not installed")
    port, proc = start(workdir)
    try:
        r = client(port)
        r.set("s", "v", px=500000)
        r.rpush("l", "a", "b", "c")
        r.hset("h", mapping={"f1": "1", "f2": "2"})
        r.sadd("set", "x", "y")
        r.zadd("z", {"a": 1, "b": 2.5})
        r.incrbyfloat("fl", "0.1")
        expect = {k: dump(r, k) for k in (b"s", b"l", b"h", b"set", b"z", b"fl")}
        r2 = client(port)
        r2.execute_command("SELECT", "2")
        r2.execute_command("SET", "db2key", "x")
    finally:
        stop(proc)
    rdir = tempfile.mkdtemp(prefix="redis-aof-")
    try:
        shutil.copytree(os.path.join(workdir, "appendonlydir"),
                        os.path.join(rdir, "appendonlydir"))
        rport = pick_port()
        rp = subprocess.Popen([server_bin, "--port", str(rport), "--bind", HOST, "--save", "",
                               "--dir", rdir, "--appendonly", "yes", "--daemonize", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not ping(rport):
                time.sleep(0.02)
            rr = client(rport)
            got = {k: dump(rr, k) for k in expect}
            assert got == expect
            assert 0 < rr.pttl("s") <= 500000
            rr.execute_command("SELECT", "2")
            assert rr.get("db2key") == b"x"
        finally:
            rp.terminate()
            rp.wait(10)
    finally:
        shutil.rmtree(rdir, ignore_errors=True)


def dump(r, key):
    t = r.type(key)
    if t == b"string":
        return r.get(key)
    if t == b"list":
        return r.lrange(key, 0, -1)
    if t == b"hash":
        return r.hgetall(key)
    if t == b"set":
        return sorted(r.smembers(key))
    if t == b"zset":
        return r.zrange(key, 0, -1, withscores=True)
    return t


def manifest_names(workdir):
    with open(os.path.join(workdir, "appendonlydir", MANIFEST)) as f:
        return [line.split()[1] for line in f if line.strip()]


def wait_info(r, pred, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = r.info("persistence")
        if pred(p):
            return p
        time.sleep(0.02)
    raise AssertionError("never: " + what)


def test_appendonly_turned_on_at_runtime(workdir):
    """CONFIG SET appendonly yes starts a rewrite, as Redis's
    startAppendOnly: its base is the dataset at the fork, the writes made
    while it runs go to a temporary incremental file that the manifest
    names only once the base is complete; a restart then has everything."""
    port, proc = start(workdir, "--appendonly", "no")
    try:
        r = client(port)
        for i in range(2000):
            r.set("before:%d" % i, i)
        r.config_set("rdb-key-save-delay", "1000")
        assert r.config_set("appendonly", "yes")
        assert r.config_get("appendonly") == {"appendonly": "yes"}
        p = r.info("persistence")
        assert p["aof_enabled"] == 1 and p["aof_rewrite_in_progress"] == 1
        # Written while the base is being written: logged to the temp file.
        r.set("during", "1")
        r.lpush("list", "a", "b")
        assert glob.glob(os.path.join(workdir, "appendonlydir", "temp-*.incr"))
        assert not os.path.exists(os.path.join(workdir, "appendonlydir",
                                               "appendonly.aof.manifest"))
        r.config_set("rdb-key-save-delay", "0")
        wait_info(r, lambda p: p["aof_rewrite_in_progress"] == 0, "rewrite done")
        p = r.info("persistence")
        assert p["aof_last_bgrewrite_status"] == "ok" and p["aof_rewrites"] == 1
        r.set("after", "1")
        files = manifest_names(workdir)
        assert files == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"]
        assert not glob.glob(os.path.join(workdir, "appendonlydir", "temp-*"))
    finally:
        stop(proc)
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        assert r.dbsize() == 2003
        assert r.get("during") == b"1" and r.get("after") == b"1"
        assert r.lrange("list", 0, -1) == [b"b", b"a"]
    finally:
        stop(proc)


def test_appendonly_turned_off_while_turning_on(workdir):
    port, proc = start(workdir, "--appendonly", "no")
    try:
        r = client(port)
        for i in range(1000):
            r.set("k%d" % i, i)
        r.config_set("rdb-key-save-delay", "2000")
        r.config_set("appendonly", "yes")
        r.set("during", "1")
        r.config_set("appendonly", "no")
        assert r.info("persistence")["aof_enabled"] == 0
        wait_info(r, lambda p: p["aof_rewrite_in_progress"] == 0, "child gone")
        assert not glob.glob(os.path.join(workdir, "appendonlydir", "*.aof"))
        assert not glob.glob(os.path.join(workdir, "appendonlydir", "*.rdb"))
        assert not glob.glob(os.path.join(workdir, "appendonlydir", "temp-*"))
        r.set("later", "1")
    finally:
        stop(proc)


def test_appendonly_on_during_a_bgsave_is_scheduled(workdir):
    port, proc = start(workdir, "--appendonly", "no")
    try:
        r = client(port)
        for i in range(1000):
            r.set("k%d" % i, i)
        r.config_set("rdb-key-save-delay", "500")
        r.bgsave()
        r.config_set("appendonly", "yes")
        p = r.info("persistence")
        assert p["aof_enabled"] == 1 and p["aof_rewrite_scheduled"] == 1
        r.config_set("rdb-key-save-delay", "0")
        wait_info(r, lambda p: p["aof_rewrites"] == 1 and p["aof_rewrite_in_progress"] == 0
                  and p["aof_rewrite_scheduled"] == 0, "scheduled rewrite done")
        r.set("after", "1")
    finally:
        stop(proc)
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        assert client(port).dbsize() == 1001
    finally:
        stop(proc)
