"""What a snapshot or rewrite child reports, and what it costs in memory.

- INFO persistence has redis-server 7.0's fields in redis-server's order.
- During a BGSAVE the current_* fields are live (keys processed / total at
  fork, fork percentage, copy-on-write size and peak) and return to 0
  when the child is gone; rdb_last_cow_size / aof_last_cow_size keep the
  child's final copy-on-write peak.  The child logs with role "C" and
  writes Redis's "Fork CoW for RDB: ..." line.  rdb-key-save-delay keeps
  the child busy long enough to look at it.
- While a child runs, reads do not update a key's LRU/LFU data (OBJECT
  IDLETIME / OBJECT FREQ stay), and afterwards they do again; reading
  every key during a child therefore copies few pages, while writing
  every key copies about the whole dataset.
- The aux field aof-base is 1 in an AOF base written by BGREWRITEAOF and
  0 in a dbfilename snapshot.
- With an LRU policy the RDB file keeps each key's idle time, with an
  LFU policy its counter: a restart (of ringcached, or of redis-server
  7.0 on the same file) restores them; redis-check-rdb accepts the file.
  rdb_last_load_keys_loaded / _expired count what the load did.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import HOST, node_log, wait_for
from conftest import stop_by_signal as stop
from test_rdb import start_redis, stop_proc as stop_redis
from test_snapshot import CHECK_RDB, client, persistence, populate, start, wait_no_child

redis = pytest.importorskip("redis")

def info_field_names(port, section):
    """The field names of INFO section, in the server's order."""
    with redis.Redis(host=HOST, port=port, socket_timeout=10) as r:
        return list(r.info(section).keys())


def aux_field(path, name):
    """The value of an integer RDB aux field, read from the file itself."""
    with open(path, "rb") as f:
        data = f.read()
    key = b"\xfa" + bytes([len(name)]) + name.encode()
    at = data.find(key)
    assert at >= 0, "no aux field " + name
    enc = data[at + len(key):at + len(key) + 2]
    assert enc[0] == 0xC0, enc    # an 8-bit integer, as Redis encodes 0 and 1
    return enc[1]


def check_rdb(path):
    if CHECK_RDB is None:
        return
    out = subprocess.run([CHECK_RDB, path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB looks OK" in out.stdout, out.stdout


def test_info_persistence_fields_match_redis(workdir):
    port, proc = start(workdir)
    try:
        ours = info_field_names(port, "persistence")
    finally:
        stop(proc)
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    rport, rproc = start_redis(rdir)
    try:
        theirs = info_field_names(rport, "persistence")
    finally:
        stop_redis(rproc)
    assert ours == theirs


def test_current_fields_during_a_bgsave_and_child_log(workdir):
    port, proc = start(workdir, "--loglevel", "verbose")
    try:
        r = client(port)
        populate(r, 1000)
        p = persistence(r)
        for f in ("current_cow_peak", "current_cow_size", "current_cow_size_age",
                  "current_save_keys_processed", "current_save_keys_total",
                  "rdb_last_cow_size", "aof_last_cow_size"):
            assert p[f] == 0, f
        assert p["current_fork_perc"] == 0
        # About a second of saving: each key sleeps 1 ms in the child.
        r.config_set("rdb-key-save-delay", 1000)
        r.bgsave()
        # The child reports after its first key, then every second.
        p = wait_for(lambda: (lambda q: q if q["current_save_keys_processed"] else None)(
            persistence(r)), "the child's first report")
        assert p["rdb_bgsave_in_progress"] == 1
        assert p["current_save_keys_total"] == 1000
        assert 1 <= p["current_save_keys_processed"] <= 1000
        assert p["current_fork_perc"] == round(
            p["current_save_keys_processed"] / 1000 * 100, 2)
        assert p["current_cow_size"] > 0
        assert p["current_cow_peak"] >= p["current_cow_size"]
        assert 0 <= p["current_cow_size_age"] <= 5
        wait_no_child(r)
        p = persistence(r)
        for f in ("current_cow_peak", "current_cow_size", "current_cow_size_age",
                  "current_save_keys_processed", "current_save_keys_total"):
            assert p[f] == 0, f
        assert p["current_fork_perc"] == 0
        assert p["rdb_last_bgsave_status"] == "ok"
        assert p["rdb_last_cow_size"] > 0
        assert p["aof_last_cow_size"] == 0
        log = node_log(proc)
        child = re.search(r"Background saving started by pid (\d+)", log).group(1)
        assert re.search(r"^%s:C .* \* DB saved on disk$" % child, log, re.M), log
        assert re.search(r"^%s:C .* \* Fork CoW for RDB: current \d+ MB, peak \d+ MB, "
                         r"average \d+ MB$" % child, log, re.M), log
        assert not re.search(r"^%s:M " % child, log, re.M)
        assert re.search(r"^%d:M .* Background saving terminated with success$" % proc.pid,
                         log, re.M)
        # A dbfilename snapshot is not an AOF base.
        assert aux_field(os.path.join(workdir, "dump.rdb"), "aof-base") == 0
    finally:
        stop(proc)


def test_aof_rewrite_reports_cow_and_writes_an_aof_base(workdir):
    port, proc = start(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        populate(r, 500)
        r.bgrewriteaof()
        wait_for(lambda: persistence(r)["aof_rewrites"] == 1, "the rewrite")
        p = persistence(r)
        assert p["aof_last_bgrewrite_status"] == "ok"
        assert p["aof_last_cow_size"] > 0
        assert p["rdb_last_cow_size"] == 0
        assert p["current_cow_peak"] == 0 and p["current_save_keys_total"] == 0
        log = node_log(proc)
        assert re.search(r"^\d+:C .* Fork CoW for AOF rewrite: current \d+ MB, peak \d+ MB, "
                         r"average \d+ MB$", log, re.M), log
        bases = glob.glob(os.path.join(workdir, "appendonlydir", "*.base.rdb"))
        assert len(bases) == 1, bases
        assert aux_field(bases[0], "aof-base") == 1
        check_rdb(bases[0])
    finally:
        stop(proc)


def restore_with(r, key, *opts):
    """Re-creates key through DUMP/RESTORE with IDLETIME or FREQ options."""
    payload = r.dump(key)
    r.execute_command("RESTORE", key, 0, payload, "REPLACE", *opts)


def start_slow_bgsave(r):
    """A BGSAVE whose child lives for seconds: 2000 keys at 1 ms each."""
    populate(r, 2000, prefix="pad")
    r.config_set("rdb-key-save-delay", 1000)
    r.bgsave()
    assert persistence(r)["rdb_bgsave_in_progress"] == 1


def test_reads_during_a_child_leave_the_lru_alone(workdir):
    port, proc = start(workdir)
    try:
        r = client(port)
        r.set("k", "v")
        restore_with(r, "k", "IDLETIME", 1000)
        assert r.object("idletime", "k") >= 1000
        start_slow_bgsave(r)
        for _ in range(5):
            assert r.get("k") == b"v"
        assert r.object("idletime", "k") >= 1000
        assert persistence(r)["rdb_bgsave_in_progress"] == 1
        wait_no_child(r)
        assert r.get("k") == b"v"
        assert r.object("idletime", "k") <= 2
    finally:
        stop(proc)


def test_reads_during_a_child_leave_the_lfu_alone(workdir):
    # lfu-log-factor 0: every access adds one, so the counter is exact.
    port, proc = start(workdir, "--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0",
                       "--lfu-decay-time", "0")
    try:
        r = client(port)
        r.set("k", "v")
        restore_with(r, "k", "FREQ", 10)
        assert r.object("freq", "k") == 10
        start_slow_bgsave(r)
        for _ in range(5):
            assert r.get("k") == b"v"
        assert r.object("freq", "k") == 10
        assert persistence(r)["rdb_bgsave_in_progress"] == 1
        wait_no_child(r)
        assert r.get("k") == b"v"
        assert r.object("freq", "k") == 11
    finally:
        stop(proc)


def cow_of_a_child_while(r, action):
    """Runs action() while a BGSAVE child runs and returns the child's
    copy-on-write size as rdb_last_cow_size reports it.  The child's last
    reading is taken after its last key, so it covers the action as long
    as the child outlived it: rdb-key-save-delay grows until it does."""
    for delay in (50, 200, 800, 3200):
        r.config_set("rdb-key-save-delay", delay)
        r.bgsave()
        action()
        outlived = persistence(r)["rdb_bgsave_in_progress"] == 1
        wait_no_child(r, timeout=120)
        p = persistence(r)
        assert p["rdb_last_bgsave_status"] == "ok"
        if outlived:
            r.config_set("rdb-key-save-delay", 0)
            return p["rdb_last_cow_size"]
    raise AssertionError("the child always ended before the action did")


def test_reading_every_key_during_a_child_copies_few_pages(workdir):
    # Entries holding an integer keep key and value in one allocation of
    # about 300 bytes: some 13 per page, 10000 keys on some 750 pages.
    nkeys = 10000
    keys = ["%s:%05d" % ("k" * 240, i) for i in range(nkeys)]
    dataset = nkeys * len(keys[0])
    port, proc = start(workdir)
    try:
        r = client(port)
        for i in range(0, nkeys, 500):
            r.mset({k: 1000 + j for j, k in enumerate(keys[i:i + 500])})

        def read_all():
            for i in range(0, nkeys, 500):
                assert None not in r.mget(keys[i:i + 500])

        def write_all():
            for i in range(0, nkeys, 500):
                pipe = r.pipeline(transaction=False)
                for k in keys[i:i + 500]:
                    pipe.incr(k)          # in place: the entry's page is written
                pipe.execute()

        idle = cow_of_a_child_while(r, lambda: None)
        reads = cow_of_a_child_while(r, read_all)
        writes = cow_of_a_child_while(r, write_all)
        # Writing every key copies about every page of the entries ...
        assert writes >= idle + dataset // 2, (idle, reads, writes)
        # ... reading every key (which would update its LRU clock) does not.
        assert reads <= idle + dataset // 8, (idle, reads, writes)
    finally:
        stop(proc)


def test_lru_idle_time_survives_save_and_restart(workdir):
    port, proc = start(workdir, "--maxmemory-policy", "allkeys-lru")
    try:
        r = client(port)
        for i in range(10):
            r.set("old%d" % i, "v")
            restore_with(r, "old%d" % i, "IDLETIME", 1000 + i)
        r.set("fresh", "v")
        r.set("short", "v", px=1500)
        t_short = time.monotonic()
        assert r.save()
        assert r.ttl("short") > 0           # so the file holds it
    finally:
        stop(proc)
    path = os.path.join(workdir, "dump.rdb")
    check_rdb(path)
    # Let "short" expire before the restart: the load skips it.
    time.sleep(max(0.0, 1.6 - (time.monotonic() - t_short)))
    port, proc = start(workdir, "--maxmemory-policy", "allkeys-lru")
    try:
        r = client(port)
        for i in range(10):
            assert 1000 + i <= r.object("idletime", "old%d" % i) <= 1000 + i + 30
        assert r.object("idletime", "fresh") <= 30
        assert r.exists("short") == 0
        p = persistence(r)
        assert p["rdb_last_load_keys_loaded"] == 11
        assert p["rdb_last_load_keys_expired"] == 1
        assert re.search(r"Done loading RDB, keys loaded: 11, keys expired: 1\.$",
                         node_log(proc), re.M)
    finally:
        stop(proc)
    # redis-server 7.0 restores the same idle times from our file.
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    shutil.copy(path, os.path.join(rdir, "dump.rdb"))
    rport, rproc = start_redis(rdir, "dump.rdb", "--maxmemory-policy", "allkeys-lru")
    try:
        rs = redis.Redis(host=HOST, port=rport, socket_timeout=10)
        assert rs.dbsize() == 11
        for i in range(10):
            assert 1000 + i <= rs.object("idletime", "old%d" % i) <= 1000 + i + 30
    finally:
        stop_redis(rproc)


def test_lfu_counter_survives_save_and_restart(workdir):
    args = ("--maxmemory-policy", "allkeys-lfu", "--lfu-decay-time", "0")
    port, proc = start(workdir, *args)
    try:
        r = client(port)
        for i in range(10):
            r.set("k%d" % i, "v")
            restore_with(r, "k%d" % i, "FREQ", 100 + i)
        assert r.save()
    finally:
        stop(proc)
    path = os.path.join(workdir, "dump.rdb")
    check_rdb(path)
    port, proc = start(workdir, *args)
    try:
        r = client(port)
        for i in range(10):
            assert r.object("freq", "k%d" % i) == 100 + i
    finally:
        stop(proc)
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    shutil.copy(path, os.path.join(rdir, "dump.rdb"))
    rport, rproc = start_redis(rdir, "dump.rdb", *args)
    try:
        rs = redis.Redis(host=HOST, port=rport, socket_timeout=10)
        for i in range(10):
            assert rs.object("freq", "k%d" % i) == 100 + i
    finally:
        stop_redis(rproc)
