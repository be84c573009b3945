"""Background snapshots: BGSAVE, the save rules, LASTSAVE, kill -9 of the
snapshot child and of the parent, and stop-writes-on-bgsave-error.

- BGSAVE writes a point-in-time dump that redis-check-rdb accepts and a
  restart loads (a write acknowledged after "Background saving started" is
  not in it).
- "save 1 1" and one write: a snapshot follows within about two seconds.
- kill -9 of the child mid-save: the previous dump stays, the temp file is
  removed, rdb_last_bgsave_status is err, and a restart loads the previous
  dump.
- kill -9 of the parent (and of its orphaned child) mid-save: a restart
  loads the previous complete dump, never the temp file.
- A failed background save with save rules makes writes (and PING) fail
  with -MISCONF; a successful save lifts it.

Nodes keep their directory across restarts, so they are started with the
local helpers below and stopped by PID.
"""

import glob
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BINARY, HOST, node_log, pick_port, ping, start_in_dir
from conftest import stop_by_signal as stop

redis = pytest.importorskip("redis")

CHECK_RDB = shutil.which("redis-check-rdb")

MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
           "to persist to disk. Commands that may modify the data set are disabled, because "
           "this instance is configured to report errors during writes if RDB snapshotting "
           "fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "
           "details about the RDB error.")


def start(workdir, *extra, timeout=10.0):
    """Start ringcached (appendonly no) working in workdir; (port, proc)."""
    return start_in_dir(workdir, "--appendonly", "no", *extra, timeout=timeout)



def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=10)


def persistence(r):
    return r.info("persistence")


def wait_no_child(r, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if persistence(r)["rdb_bgsave_in_progress"] == 0:
            return
        time.sleep(0.02)
    raise AssertionError("background save still running")


def children(pid):
    """Pids of the direct children of pid (from /proc)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def populate(r, nkeys, prefix="k", vsize=100):
    """nkeys string keys with incompressible values, in MSET batches."""
    pipe = r.pipeline(transaction=False)
    batch = {}
    for i in range(nkeys):
        batch["%s:%d" % (prefix, i)] = os.urandom(vsize // 2).hex()
        if len(batch) == 1000:
            pipe.mset(batch)
            batch = {}
    if batch:
        pipe.mset(batch)
    pipe.execute()


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_bgsave_point_in_time_check_rdb_and_restart(workdir):
    port, proc = start(workdir)
    try:
        r = client(port)
        populate(r, 2000)
        r.set("str", "hello")
        r.rpush("list", *[str(i) for i in range(300)])
        r.hset("hash", mapping={"f%d" % i: i for i in range(50)})
        r.sadd("set", *range(100))
        r.zadd("zset", {"m%d" % i: i / 3 for i in range(200)})
        r.set("ttl", "v", ex=1000)
        before = persistence(r)
        assert before["rdb_changes_since_last_save"] > 0
        forks = r.info("stats")["total_forks"]
        assert r.bgsave() is True
        # Acknowledged after the fork: not part of this snapshot.
        r.set("after-fork", "x")
        with pytest.raises(redis.ResponseError, match="Background save already in progress"):
            r.execute_command("BGSAVE")
        wait_no_child(r)
        p = persistence(r)
        assert p["rdb_last_bgsave_status"] == "ok"
        assert p["rdb_changes_since_last_save"] == 1      # the write after the fork
        assert p["rdb_saves"] == before["rdb_saves"] + 1
        assert p["rdb_last_bgsave_time_sec"] >= 0
        st = r.info("stats")
        assert st["total_forks"] == forks + 1
        assert st["latest_fork_usec"] > 0
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BGSAVE", "NOW")
        expected = r.dbsize() - 1
    finally:
        stop(proc)
    dump = os.path.join(workdir, "dump.rdb")
    assert os.path.exists(dump)
    assert not glob.glob(os.path.join(workdir, "temp-*.rdb"))
    if CHECK_RDB:
        out = subprocess.run([CHECK_RDB, dump], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "RDB looks OK" in out.stdout
    port, proc = start(workdir)
    try:
        r = client(port)
        assert r.dbsize() == expected
        assert r.get("after-fork") is None
        assert r.get("str") == b"hello"
        assert r.llen("list") == 300
        assert r.hget("hash", "f7") == b"7"
        assert r.scard("set") == 100
        assert r.zscore("zset", "m3") == 1.0
        assert 0 < r.ttl("ttl") <= 1000
    finally:
        stop(proc)


def test_save_rules_fire_and_lastsave_changes(workdir):
    port, proc = start(workdir, "--save", "1 1")
    try:
        r = client(port)
        assert r.config_get("save") == {"save": "1 1"}
        r.config_set("save", "1 1 300 10")
        assert r.config_get("save") == {"save": "1 1 300 10"}
        with pytest.raises(redis.ResponseError, match="Invalid save parameters"):
            r.config_set("save", "1 2 3")
        with pytest.raises(redis.ResponseError, match="Invalid save parameters"):
            r.config_set("save", "0 1")
        assert r.config_get("save") == {"save": "1 1 300 10"}
        first = r.lastsave()
        time.sleep(1.1)
        r.set("a", "1")
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and r.lastsave() == first:
            time.sleep(0.05)
        assert r.lastsave() > first
        wait_no_child(r)
        assert persistence(r)["rdb_changes_since_last_save"] == 0
        assert os.path.exists(os.path.join(workdir, "dump.rdb"))
        # Nothing changed: the rules do not fire again.
        saves = persistence(r)["rdb_saves"]
        time.sleep(1.5)
        assert persistence(r)["rdb_saves"] == saves
        # LASTSAVE moves on SAVE too.
        last = r.lastsave()
        time.sleep(1.1)
        r.config_set("save", "")
        assert r.save() is True
        assert r.lastsave() > last
    finally:
        stop(proc)


def big_dataset_with_old_dump(workdir):
    """A node holding a small saved dump and then 300k keys unsaved."""
    port, proc = start(workdir)
    r = client(port)
    r.set("old", "1")
    assert r.save() is True
    old = digest(os.path.join(workdir, "dump.rdb"))
    populate(r, 300000, vsize=200)
    return port, proc, r, old


def test_kill9_of_the_snapshot_child(workdir):
    port, proc, r, old = big_dataset_with_old_dump(workdir)
    try:
        assert r.bgsave() is True
        kids = children(proc.pid)
        assert len(kids) == 1, kids
        os.kill(kids[0], signal.SIGKILL)
        wait_no_child(r)
        p = persistence(r)
        assert p["rdb_last_bgsave_status"] == "err"
        assert p["rdb_changes_since_last_save"] >= 300
        assert not glob.glob(os.path.join(workdir, "temp-*.rdb"))
        assert digest(os.path.join(workdir, "dump.rdb")) == old
        # No save rules: writes go on.
        r.set("still", "writable")
        assert "terminated by signal 9" in node_log(proc)
    finally:
        stop(proc)
    port, proc = start(workdir)
    try:
        assert client(port).dbsize() == 1
    finally:
        stop(proc)


def test_kill9_of_the_parent_during_a_snapshot(workdir):
    port, proc, r, old = big_dataset_with_old_dump(workdir)
    try:
        assert r.bgsave() is True
        kids = children(proc.pid)
        assert len(kids) == 1, kids
        proc.kill()
        proc.wait()
        os.kill(kids[0], signal.SIGKILL)
    finally:
        stop(proc)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists("/proc/%d" % kids[0]):
        time.sleep(0.02)
    # The dump is the previous complete one; a temp file may remain but is
    # never loaded.
    assert digest(os.path.join(workdir, "dump.rdb")) == old
    port, proc = start(workdir)
    try:
        r = client(port)
        assert r.dbsize() == 1
        assert r.get("old") == b"1"
    finally:
        stop(proc)


def test_misconf_after_a_failed_bgsave_and_recovery(workdir):
    port, proc = start(workdir, "--save", "3600 1")
    try:
        r = client(port)
        r.set("k", "v")
        # A dbfilename naming a non-empty directory: the child writes its
        # temp file, then the rename over the directory fails.
        os.makedirs(os.path.join(workdir, "occupied", "x"))
        r.config_set("dbfilename", "occupied")
        assert r.bgsave() is True
        wait_no_child(r)
        assert persistence(r)["rdb_last_bgsave_status"] == "err"
        assert not glob.glob(os.path.join(workdir, "temp-*.rdb"))
        for cmd in (("SET", "k", "w"), ("PING",), ("DEL", "k")):
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*cmd)
            assert str(e.value) == MISCONF
        assert r.get("k") == b"v"                       # reads still work
        # MULTI ... EXEC holding a write is refused as a whole.
        pipe = r.pipeline(transaction=True)
        pipe.set("k", "x")
        with pytest.raises(redis.ResponseError):
            pipe.execute()
        # stop-writes-on-bgsave-error no lifts it; yes brings it back.
        r.config_set("stop-writes-on-bgsave-error", "no")
        assert r.set("k", "w") is True
        r.config_set("stop-writes-on-bgsave-error", "yes")
        with pytest.raises(redis.ResponseError, match="MISCONF"):
            r.set("k", "v2")
        # A successful save lifts it.
        r.config_set("dbfilename", "dump.rdb")
        assert r.bgsave() is True
        wait_no_child(r)
        assert persistence(r)["rdb_last_bgsave_status"] == "ok"
        assert r.set("k", "v3") is True
        assert r.ping() is True
    finally:
        stop(proc)


def test_shutdown_kills_the_child(workdir):
    port, proc, r, old = big_dataset_with_old_dump(workdir)
    assert r.bgsave() is True
    kids = children(proc.pid)
    assert len(kids) == 1
    stop(proc)
    assert proc.returncode == 0
    assert not os.path.exists("/proc/%d/status" % kids[0]) or \
        "zombie" in open("/proc/%d/status" % kids[0]).read()
    assert not glob.glob(os.path.join(workdir, "temp-*.rdb"))
    assert digest(os.path.join(workdir, "dump.rdb")) == old


# ---- BGREWRITEAOF: a new RDB base for the append-only log ----

MANIFEST = os.path.join("appendonlydir", "appendonly.aof.manifest")


def manifest_files(workdir):
    with open(os.path.join(workdir, MANIFEST)) as f:
        return [line.split()[1] for line in f if line.strip()]


def aof_files(workdir):
    return sorted(n for n in os.listdir(os.path.join(workdir, "appendonlydir"))
                  if not n.endswith(".manifest"))


def wait_no_rewrite(r, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = persistence(r)
        if p["aof_rewrite_in_progress"] == 0 and p["aof_rewrite_scheduled"] == 0:
            return
        time.sleep(0.02)
    raise AssertionError("AOF rewrite still running")


def raw_client(port):
    """A client that returns BGSAVE/BGREWRITEAOF status lines as they are."""
    r = client(port)
    for name in ("BGSAVE", "BGREWRITEAOF"):
        r.set_response_callback(name, lambda resp, **kw: resp)
    return r


def test_bgrewriteaof_new_base_and_restart(workdir):
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        r = raw_client(port)
        populate(r, 3000)
        r.rpush("list", *range(100))
        assert manifest_files(workdir) == ["appendonly.aof.1.incr.aof"]
        assert r.execute_command("BGREWRITEAOF") == b"Background append only file rewriting started"
        r.set("during", "1")                   # goes to the new incremental file
        with pytest.raises(redis.ResponseError, match="Another child process is active"):
            r.execute_command("BGSAVE")
        assert r.execute_command("BGSAVE", "SCHEDULE") == b"Background saving scheduled"
        wait_no_rewrite(r)
        wait_no_child(r)
        p = persistence(r)
        assert p["aof_last_bgrewrite_status"] == "ok" and p["aof_rewrites"] == 1
        assert manifest_files(workdir) == ["appendonly.aof.1.base.rdb",
                                           "appendonly.aof.2.incr.aof"]
        assert aof_files(workdir) == ["appendonly.aof.1.base.rdb", "appendonly.aof.2.incr.aof"]
        r.set("after", "2")
        # Inside a transaction the rewrite waits for the cron.
        pipe = r.pipeline(transaction=True)
        pipe.execute_command("BGREWRITEAOF")
        assert pipe.execute() == [b"Background append only file rewriting scheduled"]
        wait_no_rewrite(r)
        assert manifest_files(workdir) == ["appendonly.aof.2.base.rdb",
                                           "appendonly.aof.3.incr.aof"]
        r.set("last", "3")
        expected = r.dbsize()
    finally:
        stop(proc)
    if CHECK_RDB:
        base = os.path.join(workdir, "appendonlydir", "appendonly.aof.2.base.rdb")
        out = subprocess.run([CHECK_RDB, base], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        assert r.dbsize() == expected
        assert r.mget("during", "after", "last") == [b"1", b"2", b"3"]
        assert r.llen("list") == 100
    finally:
        stop(proc)


def test_kill9_of_the_rewrite_child_and_of_the_parent(workdir):
    port, proc = start(workdir, "--appendonly", "yes", "--appendfsync", "always")
    try:
        r = client(port)
        populate(r, 200000, vsize=200)
        r.execute_command("BGREWRITEAOF")
        kids = children(proc.pid)
        assert len(kids) == 1, kids
        os.kill(kids[0], signal.SIGKILL)
        wait_no_rewrite(r)
        assert persistence(r)["aof_last_bgrewrite_status"] == "err"
        # The old incremental file and the new one stay referenced; the
        # partial base is gone.
        assert manifest_files(workdir) == ["appendonly.aof.1.incr.aof",
                                           "appendonly.aof.2.incr.aof"]
        assert aof_files(workdir) == ["appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"]
        r.set("after-child-kill", "1")
        # Now kill -9 the parent (and its orphan) during a second rewrite.
        r.execute_command("BGREWRITEAOF")
        r.set("during-rewrite", "2")           # acknowledged: fsynced (always)
        kids = children(proc.pid)
        proc.kill()
        proc.wait()
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
    finally:
        stop(proc)
    time.sleep(0.2)
    # A half-written base is never loaded, and start-up removes it.
    with open(os.path.join(workdir, "appendonlydir", "temp-99999.rdb"), "wb") as f:
        f.write(b"REDIS0010garbage")
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        assert r.dbsize() == 200002
        assert r.mget("after-child-kill", "during-rewrite") == [b"1", b"2"]
        assert not [n for n in aof_files(workdir) if n.startswith("temp-")]
    finally:
        stop(proc)
