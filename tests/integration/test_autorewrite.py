"""Automatic rewrites of the append-only log (auto-aof-rewrite-percentage,
auto-aof-rewrite-min-size) and the log's INFO persistence fields, as in
Redis 7.0:

- once the log is larger than the minimum size and has grown by the
  percentage over its size after the last rewrite, a rewrite starts by
  itself ("Starting automatic rewriting of AOF on N% growth"); afterwards
  aof_base_size is the size the rewrite left, and the next rewrite waits
  for the same growth again;
- a percentage of 0 turns automatic rewrites off;
- a failed rewrite counts in aof_rewrites_consecutive_failures, reset by
  the next successful one;
- INFO persistence with the log on names the same fields, in the same
  order, as redis-server's.
"""

import os
import re
import shutil
import signal
import tempfile
import time

import pytest

from conftest import node_log
from conftest import stop_by_signal as stop
from test_rdb import start_redis, stop_proc
from test_snapshot import children, client, persistence, start, wait_no_rewrite

redis = pytest.importorskip("redis")

MIN = 64 * 1024


def log_node(*extra):
    return ("--appendonly", "yes", "--auto-aof-rewrite-min-size", str(MIN)) + extra


def write_until(r, pred, what, start_at=0, limit=20000, timeout=30.0):
    """SETs 100-byte values (one at a time, so that the cron sees every
    size) until pred(INFO persistence) holds; returns the next index."""
    deadline = time.monotonic() + timeout
    i = start_at
    while i < start_at + limit and time.monotonic() < deadline:
        p = r.pipeline(transaction=False)
        for j in range(50):
            p.set("key:%d" % (i + j), "x" * 100)
        p.execute()
        i += 50
        if pred(persistence(r)):
            return i
    raise AssertionError("never reached: " + what)


def wait_rewrites(r, n, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = persistence(r)
        if p["aof_rewrites"] >= n and p["aof_rewrite_in_progress"] == 0:
            return p
        time.sleep(0.02)
    raise AssertionError("no automatic rewrite")


def test_automatic_rewrite_on_growth(workdir):
    port, proc = start(workdir, *log_node("--auto-aof-rewrite-percentage", "100"))
    r = client(port)
    try:
        p = persistence(r)
        assert p["aof_rewrites"] == 0 and p["aof_base_size"] == 0
        # A fresh log has no base: it is rewritten once past the minimum.
        i = write_until(r, lambda p: p["aof_rewrites"] >= 1 or p["aof_rewrite_in_progress"],
                        "first automatic rewrite")
        p = wait_rewrites(r, 1)
        log = node_log(proc)
        assert "Starting automatic rewriting of AOF on" in log
        base = p["aof_base_size"]
        # The base is a snapshot of the keys, smaller than the commands that
        # made them (how much smaller depends on how far the writes got
        # before the cron saw the minimum), but not empty.
        assert base > MIN // 4 and p["aof_current_size"] >= base
        # Less than 100% growth: no new rewrite.  Then past it: one more.
        i = write_until(r, lambda p: p["aof_current_size"] > base * 1.5, "50% growth", i)
        time.sleep(0.3)
        assert persistence(r)["aof_rewrites"] == 1
        write_until(r, lambda p: p["aof_rewrites"] >= 2 or p["aof_rewrite_in_progress"],
                    "second automatic rewrite", i)
        wait_rewrites(r, 2)
        growths = [int(g) for g in re.findall(r"automatic rewriting of AOF on (\d+)% growth",
                                              node_log(proc))]
        assert len(growths) == 2 and growths[1] >= 100
        n = r.dbsize()
    finally:
        stop(proc)
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        assert client(port).dbsize() == n
    finally:
        stop(proc)


def test_percentage_zero_turns_it_off(workdir):
    port, proc = start(workdir, *log_node("--auto-aof-rewrite-percentage", "0"))
    r = client(port)
    try:
        write_until(r, lambda p: p["aof_current_size"] > 3 * MIN, "three times the minimum")
        time.sleep(0.3)
        assert persistence(r)["aof_rewrites"] == 0
        assert "automatic rewriting" not in node_log(proc)
    finally:
        stop(proc)


def test_failed_rewrites_are_counted(workdir):
    port, proc = start(workdir, "--appendonly", "yes")
    r = client(port)
    try:
        p = r.pipeline(transaction=False)
        for i in range(2000):
            p.set("k%d" % i, i)
        p.execute()
        r.config_set("rdb-key-save-delay", "2000")
        for n in (1, 2):
            r.bgrewriteaof()
            deadline = time.monotonic() + 10
            while not children(proc.pid):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            for kid in children(proc.pid):
                os.kill(kid, signal.SIGKILL)
            wait_no_rewrite(r)
            p = persistence(r)
            assert p["aof_last_bgrewrite_status"] == "err"
            assert p["aof_rewrites_consecutive_failures"] == n
        r.config_set("rdb-key-save-delay", "0")
        r.bgrewriteaof()
        wait_no_rewrite(r)
        p = persistence(r)
        assert p["aof_last_bgrewrite_status"] == "ok"
        assert p["aof_rewrites_consecutive_failures"] == 0
        assert r.dbsize() == 2000
    finally:
        stop(proc)


def test_info_fields_with_the_log_match_redis(workdir):
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    rport, rproc = start_redis(rdir, "dump.rdb", "--appendonly", "yes")
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        ours, theirs = persistence(client(port)), persistence(client(rport))
        assert list(ours.keys()) == list(theirs.keys())
        for f in ("aof_enabled", "aof_pending_rewrite", "aof_buffer_length",
                  "aof_pending_bio_fsync", "aof_delayed_fsync"):
            assert ours[f] == theirs[f], f
        # A fresh log: a header-only incremental file.
        assert ours["aof_base_size"] == 0
        assert ours["aof_current_size"] >= 0
        client(port).set("k", "v" * 1000)
        time.sleep(0.05)
        assert persistence(client(port))["aof_current_size"] > ours["aof_current_size"] + 1000
    finally:
        stop(proc)
        stop_proc(rproc)
