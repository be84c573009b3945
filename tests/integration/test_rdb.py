"""RDB format interoperability with redis-server 7.0.

- DUMP in redis-server -> RESTORE in ringcached and the reverse, for every
  type in its small and large encodings: same contents and encodings, and
  byte-identical payloads where Redis's output is deterministic (everything
  but hash-table-encoded sets and hashes, whose order is a hash order).
- SAVE writes dir/dbfilename; redis-check-rdb accepts it and a redis-server
  started on a copy holds exactly the same keys, values and TTLs in every
  database.
- Start-up loading (when the node has it): a dump.rdb written by
  redis-server loads identically, and a damaged file is refused with a
  message naming it.
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import conftest
from conftest import (BINARY, HOST, SANITIZER_MARKS, node_log, pick_port, ping, start_node,
                      stop_node, stop_proc)

redis = pytest.importorskip("redis")

CHECK_RDB = shutil.which("redis-check-rdb")


def start_redis(workdir, dbfilename="dump.rdb", *extra):
    """A redis-server on a free port working in workdir, without the log,
    reading and writing dbfilename, with extra command-line arguments;
    returns (port, proc)."""
    return conftest.start_redis(workdir, "--appendonly", "no", "--dbfilename", dbfilename,
                                *extra)


def require_commands(port, *names):
    """Skips the test on a build without these commands (the RDB commands
    are wired into the command table separately from their code).  Asks
    COMMAND INFO over a raw socket: a missing command is a null entry."""
    import socket
    with socket.create_connection((HOST, port), timeout=5) as s:
        for n in names:
            s.sendall(b"*3\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n"
                      % (len(n), n.encode()))
            reply = b""
            while len(reply) < 9:
                reply += s.recv(4096)
            if reply.startswith(b"*1\r\n$-1\r\n"):
                pytest.skip("this build lacks %s" % n)
            # Drain the rest of a non-null entry before the next request.
            s.settimeout(0.2)
            try:
                while s.recv(65536):
                    pass
            except socket.timeout:
                pass
            s.settimeout(5)


@pytest.fixture
def tmpdir_rdb():
    d = tempfile.mkdtemp(prefix="ringcache-rdb-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pair(tmpdir_rdb):
    """(ringcached client, redis-server client, ringcached proc)."""
    rport, rproc = start_redis(tmpdir_rdb)
    port, proc = start_node()
    try:
        require_commands(port, "dump", "restore")
        yield (redis.Redis(host=HOST, port=port), redis.Redis(host=HOST, port=rport), proc)
    finally:
        stop_proc(rproc)
        stop_node(proc)


# name -> (commands creating key "k", deterministic payload?)
DATASET = {
    "str_int": ([("SET", "k", "123")], True),
    "str_negint": ([("SET", "k", "-99999")], True),
    "str_bigint": ([("SET", "k", "123456789012345")], True),
    "str_embstr": ([("SET", "k", "hello")], True),
    "str_lzf": ([("SET", "k", "abc" * 200)], True),
    "str_raw_random": ([("SET", "k", bytes((i * 7919 + 13) % 256 for i in range(500)))], True),
    "list_small": ([("RPUSH", "k", "a", "1", "-300", "70000", "x" * 100, str(2**40))], True),
    "list_big": ([("RPUSH", "k", *["element-%d" % i for i in range(5000)])], True),
    "list_ints": ([("RPUSH", "k", *[str(i) for i in range(-5000, 5000, 3)])], True),
    "set_intset": ([("SADD", "k", "1", "2", "-3", "4294967296")], True),
    "set_intset_big": ([("SADD", "k", *[str(i) for i in range(400)])], True),
    "set_hashtable": ([("SADD", "k", "a", "b", "c", "1")], False),
    "set_hashtable_big": ([("SADD", "k", *[str(i) for i in range(1000)])], False),
    "zset_listpack": ([("ZADD", "k", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "0", "e")], True),
    "zset_skiplist": ([("ZADD", "k", *sum([[str(i / 3), "m%d" % i] for i in range(500)], []))],
                      True),
    "zset_longmember": ([("ZADD", "k", "1", "x" * 100, "2", "y")], True),
    "hash_listpack": ([("HSET", "k", "f1", "v1", "f2", "22", "f3", "x" * 50)], True),
    "hash_hashtable": ([("HSET", "k", *sum([["f%d" % i, "v%d" % i] for i in range(600)], []))],
                       False),
    "hash_longvalue": ([("HSET", "k", "a", "z" * 100)], False),
}


def content(r, key):
    t = r.type(key).decode()
    if t == "string":
        v = r.get(key)
    elif t == "list":
        v = r.lrange(key, 0, -1)
    elif t == "set":
        v = sorted(r.smembers(key))
    elif t == "zset":
        v = r.zrange(key, 0, -1, withscores=True)
    elif t == "hash":
        v = sorted(r.hgetall(key).items())
    else:
        v = None
    return t, v


def snapshot(port):
    """Every key of every database: contents and TTL rounded to 10 s."""
    out = {}
    for db in range(16):
        r = redis.Redis(host=HOST, port=port, db=db)
        for k in r.keys():
            pttl = r.pttl(k)
            out[(db, k)] = (content(r, k), -1 if pttl < 0 else pttl // 10000)
    return out


def fill(r):
    r.flushall()
    for name, (cmds, _) in DATASET.items():
        for c in cmds:
            r.execute_command(c[0], name, *c[2:])


def test_dump_restore_both_ways(pair):
    rc, rs, _ = pair
    fill(rc)
    fill(rs)
    for name, (_, deterministic) in DATASET.items():
        ours, theirs = rc.dump(name), rs.dump(name)
        assert rc.object("encoding", name) == rs.object("encoding", name), name
        if deterministic:
            assert ours == theirs, name
        # Redis's payload into ringcached and ours into redis-server.
        assert rc.restore("from_" + name, 0, theirs) in (True, b"OK")
        assert rs.restore("from_" + name, 0, ours) in (True, b"OK")
        assert content(rc, "from_" + name) == content(rs, name), name
        assert content(rs, "from_" + name) == content(rc, name), name
        assert rc.object("encoding", "from_" + name) == rs.object("encoding", name), name


def test_restore_ttl_and_replace(pair):
    rc, rs, _ = pair
    rs.set("k", "v")
    payload = rs.dump("k")
    assert rc.restore("k", 100000, payload) in (True, b"OK")
    assert 99 <= rc.ttl("k") <= 100
    with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists."):
        rc.restore("k", 0, payload)
    assert rc.restore("k", 0, payload, replace=True) in (True, b"OK")
    assert rc.ttl("k") == -1
    bad = payload[:-1] + bytes([payload[-1] ^ 0x55])
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        rc.restore("k2", 0, bad)
    assert rc.exists("k2") == 0


def test_save_is_valid_and_loads_in_redis(tmpdir_rdb):
    port, proc = start_node()
    try:
        require_commands(port, "save")
        r = redis.Redis(host=HOST, port=port)
        fill(r)
        r.pexpire("list_big", 500000)
        r.expire("str_int", 100000)
        r.execute_command("SELECT", "7")
        r7 = redis.Redis(host=HOST, port=port, db=7)
        r7.set("in_db7", "yes")
        r7.setex("ttl_db7", 3000, "v")
        assert r.execute_command("SAVE") in (True, b"OK")
        path = os.path.join(proc.workdir, "dump.rdb")
        assert os.path.exists(path)
        assert not [f for f in os.listdir(proc.workdir) if f.startswith("temp-")]
        with open(path, "rb") as f:
            data = f.read()
        assert data[:9] == b"REDIS0010"
        if CHECK_RDB:
            out = subprocess.run([CHECK_RDB, path], capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stdout + out.stderr
            assert "RDB looks OK" in out.stdout
        shutil.copy(path, os.path.join(tmpdir_rdb, "dump.rdb"))
        rport, rproc = start_redis(tmpdir_rdb)
        try:
            assert snapshot(rport) == snapshot(port)
        finally:
            stop_proc(rproc)
    finally:
        stop_node(proc)


def start_node_in(workdir, *extra):
    """A node whose --dir is workdir (start_node always makes a fresh
    directory, so the file is copied there by the caller via the hook)."""
    port = pick_port()
    logpath = os.path.join(workdir, "node.log")
    with open(logpath, "wb") as logf:
        proc = subprocess.Popen([BINARY, "--port", str(port), "--bind", HOST, "--save", "",
                                 "--dir", workdir] + list(extra),
                                stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir)
    proc.logpath = logpath
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, proc
        if ping(port):
            return port, proc
        time.sleep(0.02)
    stop_proc(proc)
    raise RuntimeError("node did not start:\n" + node_log(proc))


def stop_checked(proc):
    """Stops a node started by start_node_in; fails on a sanitizer report."""
    stop_proc(proc)
    log = node_log(proc)
    for mark in SANITIZER_MARKS:
        assert mark not in log, log[-6000:]


def test_load_redis_dump_at_startup(tmpdir_rdb):
    rport, rproc = start_redis(tmpdir_rdb)
    try:
        rs = redis.Redis(host=HOST, port=rport)
        fill(rs)
        rs.pexpire("list_big", 500000)
        rs.expire("hash_hashtable", 200000)
        redis.Redis(host=HOST, port=rport, db=3).set("db3", "x")
        redis.Redis(host=HOST, port=rport, db=3).set("gone", "x", px=1)
        rs.save()
        want = snapshot(rport)
    finally:
        stop_proc(rproc)
    nodedir = tempfile.mkdtemp(prefix="ringcache-rdbload-")
    try:
        shutil.copy(os.path.join(tmpdir_rdb, "dump.rdb"), os.path.join(nodedir, "dump.rdb"))
        port, proc = start_node_in(nodedir)
        try:
            if port is not None and redis.Redis(host=HOST, port=port).dbsize() == 0:
                pytest.skip("this build does not load dump.rdb at start-up")
            assert port is not None, node_log(proc)
            got = snapshot(port)
            assert got == want
            r = redis.Redis(host=HOST, port=port)
            for name in DATASET:
                assert r.object("encoding", name) is not None
        finally:
            stop_checked(proc)
        # A damaged file is refused, naming it.
        path = os.path.join(nodedir, "dump.rdb")
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x10]))
        port, proc = start_node_in(nodedir)
        if port is not None:
            stop_checked(proc)
            pytest.fail("a damaged dump.rdb was loaded")
        stop_checked(proc)
        assert "dump.rdb" in node_log(proc)
        assert "checksum" in node_log(proc)
    finally:
        shutil.rmtree(nodedir, ignore_errors=True)
