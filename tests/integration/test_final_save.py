"""The snapshot on the way out and FLUSHALL's snapshot, as Redis 7.0's
prepareForShutdown and flushAllDataAndResetRDB:

- SIGTERM with save rules writes dbfilename before exiting; SHUTDOWN does
  the same, SHUTDOWN NOSAVE does not, SHUTDOWN SAVE does even without
  rules.
- When that save fails, SIGTERM and SHUTDOWN leave the node running
  (SHUTDOWN replies with Redis's error); NOSAVE and FORCE exit.
- FLUSHALL kills a running BGSAVE child (its image is stale) and, with
  save rules, saves the empty dataset at once; rdb_changes_since_last_save
  is then what redis-server reports.
"""

import glob
import os
import shutil
import signal
import tempfile
import time

import pytest

from conftest import node_log
from test_rdb import start_redis, stop_proc
from test_snapshot import children, client, persistence, populate, start
from conftest import stop_by_signal as stop

redis = pytest.importorskip("redis")


def dump(workdir):
    return os.path.join(workdir, "dump.rdb")


def keys_after_restart(workdir):
    port, proc = start(workdir)
    try:
        return client(port).dbsize()
    finally:
        stop(proc)


def test_sigterm_with_save_rules_saves(workdir):
    port, proc = start(workdir, "--save", "3600 1")
    r = client(port)
    populate(r, 500)
    assert not os.path.exists(dump(workdir))
    stop(proc)
    assert proc.returncode == 0
    assert "Saving the final RDB snapshot before exiting." in node_log(proc)
    assert keys_after_restart(workdir) == 500


def test_sigterm_without_rules_saves_nothing(workdir):
    port, proc = start(workdir)
    populate(client(port), 10)
    stop(proc)
    assert proc.returncode == 0
    assert not os.path.exists(dump(workdir))


@pytest.mark.parametrize("args,rules,saved", [
    ((), True, True),
    (("NOSAVE",), True, False),
    (("SAVE",), False, True),
    ((), False, False),
    (("NOW", "FORCE"), True, True),
])
def test_shutdown_variants(workdir, args, rules, saved):
    port, proc = start(workdir, *(("--save", "3600 1") if rules else ()))
    populate(client(port), 100)
    try:
        client(port).execute_command("SHUTDOWN", *args)
    except redis.exceptions.ConnectionError:
        pass
    assert proc.wait(10) == 0
    assert os.path.exists(dump(workdir)) == saved
    if saved:
        assert keys_after_restart(workdir) == 100


def test_failed_final_save_keeps_the_node_running(workdir):
    # The node works in a directory that disappears: the save cannot
    # create its temp file there.
    cwd = os.path.join(workdir, "gone")
    os.mkdir(cwd)
    port, proc = start(cwd, "--save", "3600 1")
    r = client(port)
    r.set("k", "v")
    # The log file goes with the directory; the node's stdout stays open.
    stdout = "/proc/%d/fd/1" % proc.pid
    shutil.rmtree(cwd)
    try:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while "errors trying to shut down" not in open(stdout).read():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        log = open(stdout).read()
        assert "Error trying to save the DB, can't exit." in log
        assert proc.poll() is None
        assert r.get("k") == b"v"
        with pytest.raises(redis.exceptions.ResponseError,
                           match="^Errors trying to SHUTDOWN. Check logs.$"):
            r.shutdown()
        assert proc.poll() is None
        try:
            r.execute_command("SHUTDOWN", "FORCE")
        except redis.exceptions.ConnectionError:
            pass
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start_slow_bgsave(r, nkeys=2000):
    populate(r, nkeys)
    r.config_set("rdb-key-save-delay", "2000")
    r.bgsave()
    assert persistence(r)["rdb_bgsave_in_progress"] == 1


@pytest.mark.parametrize("rules", [True, False])
def test_flushall_kills_the_child_and_saves(workdir, rules):
    port, proc = start(workdir, *(("--save", "3600 1") if rules else ()))
    r = client(port)
    try:
        start_slow_bgsave(r)
        kids = children(proc.pid)
        assert len(kids) == 1
        assert r.flushall() is True
        p = persistence(r)
        assert p["rdb_bgsave_in_progress"] == 0
        assert p["rdb_last_bgsave_status"] == "ok"
        assert not glob.glob(os.path.join(workdir, "temp-*.rdb"))
        assert os.path.exists(dump(workdir)) == rules
        if rules:
            assert p["rdb_changes_since_last_save"] == 0
        r.config_set("rdb-key-save-delay", "0")
        r.set("after", "1")
    finally:
        stop(proc)
    # SIGTERM saved again with rules ("after" is in); without rules the
    # killed child left nothing behind.
    if rules:
        assert keys_after_restart(workdir) == 1
    else:
        assert not os.path.exists(dump(workdir))


def test_flushall_changes_counter_matches_redis(workdir):
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    rport, rproc = start_redis(rdir, "dump.rdb", "--save", "3600 1")
    port, proc = start(workdir, "--save", "3600 1")
    try:
        values = []
        for p in (port, rport):
            r = client(p)
            for i in range(5):
                r.set("k%d" % i, i)
            before = persistence(r)["rdb_changes_since_last_save"]
            r.flushall()
            after = persistence(r)["rdb_changes_since_last_save"]
            r.set("x", 1)
            values.append((before, after, persistence(r)["rdb_changes_since_last_save"]))
        assert values[0] == values[1]
    finally:
        stop(proc)
        stop_proc(rproc)
