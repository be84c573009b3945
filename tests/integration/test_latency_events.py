"""The latency monitor's event classes other than "command" and
"fast-command", each made to happen for real and read back through
LATENCY LATEST and LATENCY HISTORY (Redis 7.0's names, sampled at the
points Redis samples them):

- fork, rdb-unlink-temp-file (a BGSAVE child killed by a signal);
- aof-write with aof-write-alone, aof-write-active-child and
  aof-write-pending-fsync; aof-fsync-always, aof-fstat, aof-rename;
- expire-cycle, eviction-cycle, eviction-del, eviction-lazyfree;
- LATENCY DOCTOR's advice for them, compared with redis-server 7.0's
  report where both servers can be given the same slow calls.

System calls are made slow with tests/faultinj.c's interposer: while the
node's FAULTINJ_SLOW file exists, the calls it lists sleep first, so the
code path is the real one and only the disk (or fork) is slow.  The
expiry and eviction events come from real work: many keys expiring at
once, and values big enough that freeing them takes milliseconds.
"""

import os
import re
import signal
import time

import pytest
import redis

from conftest import (HOST, faultinj_env, start_node, start_redis, stop_node, stop_proc,
                      wait_for)
from test_snapshot import children, populate


def client(port):
    return redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=20)


class Slow:
    """The file the interposer reads: each line "<call> <ms> [<path
    substring>]" (tests/faultinj.c)."""

    def __init__(self, path):
        self.path = path

    def set(self, *lines):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(tmp, self.path)

    def clear(self):
        if os.path.exists(self.path):
            os.unlink(self.path)


@pytest.fixture
def slowable(workdir):
    """(start, slow): start(*extra) starts a node under the interposer
    with latency-monitor-threshold 1 and returns (client, proc); slow
    (a Slow) says which of its calls are slow.  Nodes are stopped at
    teardown, with nothing slowed any more."""
    slow = Slow(os.path.join(workdir, "slow"))
    procs = []

    def start(*extra):
        env = faultinj_env(workdir, FAULTINJ_SLOW=slow.path)
        port, proc = start_node("--latency-monitor-threshold", 1, *extra, env=env)
        procs.append(proc)
        return client(port), proc

    try:
        yield start, slow
    finally:
        slow.clear()
        for proc in procs:
            stop_node(proc)


def latest(r):
    """LATENCY LATEST as {event: (unix time, latest ms, all-time max ms)}."""
    return {e: (int(t), int(last), int(mx))
            for e, t, last, mx in r.execute_command("LATENCY", "LATEST")}


def assert_recorded(r, event, at_least=1):
    """event has a recent sample of at least at_least ms, in LATENCY LATEST
    and in LATENCY HISTORY; returns that sample."""
    events = latest(r)
    assert event in events, (event, events)
    when, last, mx = events[event]
    assert abs(when - time.time()) < 60
    assert at_least <= last <= mx
    history = r.execute_command("LATENCY", "HISTORY", event)
    # A second's history entry is the highest of its samples, and LATEST
    # shows the last one: another sample in that second may be higher, and
    # one of the next second may already follow it.
    entry = [int(v) for t, v in history if int(t) == when]
    assert entry and last <= entry[0] <= mx, (when, last, mx, history[-3:])
    return last


def wait_recorded(r, event, what):
    wait_for(lambda: event in latest(r), what)
    return assert_recorded(r, event)


def doctor(r):
    return r.execute_command("LATENCY", "DOCTOR")


def kill_child(proc):
    """SIGUSR1 to the node's child (a BGSAVE), as Redis's tests stop one."""
    kids = wait_for(lambda: children(proc.pid), "the child to start")
    assert len(kids) == 1
    os.kill(kids[0], signal.SIGUSR1)


def bgsave_running(r):
    return r.info("persistence")["rdb_bgsave_in_progress"] == 1


# ---- fork, rdb-unlink-temp-file ----

def test_fork_and_killed_bgsave_temp_file(slowable):
    start, slow = slowable
    r, proc = start()
    populate(r, 200)
    r.config_set("rdb-key-save-delay", 100000)      # 0.1 s a key: the child lives on
    slow.set("fork 40", "unlink 40 temp-")
    r.execute_command("LATENCY", "RESET")
    r.bgsave()
    assert assert_recorded(r, "fork", 40) >= 40
    assert r.info("stats")["latest_fork_usec"] >= 40000
    # The fork happens inside BGSAVE: the command is as slow.
    assert_recorded(r, "command", 40)
    report = doctor(r)
    assert re.search(r"\d+\. fork: 1 latency spikes \(average \d+ms, mean deviation 0ms, "
                     r"period \d+\.\d\d sec\)\. Worst all time event \d+ms\. Fork rate is "
                     r"\d+\.\d\d GB/sec \(terrible\)\.\n", report), report
    assert "- If you are using a virtual machine, consider upgrading it" in report

    # A child stopped by a signal leaves its temp file to the parent.
    kill_child(proc)
    wait_for(lambda: not bgsave_running(r), "the killed child to be reaped")
    assert assert_recorded(r, "rdb-unlink-temp-file", 40) >= 40
    assert not [f for f in os.listdir(proc.workdir) if f.startswith("temp-")]
    report = doctor(r)
    assert "- Try to lower the disk contention." in report
    assert "- It is strongly advised to use local disks for persistence" in report

    # FLUSHALL stops a running BGSAVE the same way.
    r.execute_command("LATENCY", "RESET", "rdb-unlink-temp-file")
    r.bgsave()
    wait_for(lambda: children(proc.pid), "the second child")
    r.flushall()
    assert not bgsave_running(r)
    assert_recorded(r, "rdb-unlink-temp-file", 40)


# ---- the append-only log ----

def test_aof_write_fsync_always_and_fstat(slowable):
    start, slow = slowable
    # The sizes of the log's files are read at start-up (Redis's aof-fstat
    # there): a slow stat is recorded before any command ran.
    slow.set("stat 30 appendonlydir")
    r, proc = start("--appendonly", "yes", "--appendfsync", "always")
    assert_recorded(r, "aof-fstat", 30)
    slow.set("write 30 .incr.aof", "fdatasync 30 .incr.aof")
    r.execute_command("LATENCY", "RESET")
    assert r.set("a", "1")
    assert_recorded(r, "aof-write", 30)
    assert_recorded(r, "aof-write-alone", 30)
    assert_recorded(r, "aof-fsync-always", 30)
    report = doctor(r)
    assert ("- Your fsync policy is set to 'always'. It is very hard to get good "
            "performances with such a setup") in report
    assert "- Mounting ext3/4 filesystems with data=writeback" in report

    # A write while a child runs (under always: no background fsync can
    # be pending, which would name the write after it).
    slow.set("write 30 .incr.aof")
    populate(r, 100)
    r.config_set("rdb-key-save-delay", 100000)
    r.bgsave()
    wait_for(lambda: children(proc.pid), "the BGSAVE child")
    assert r.set("b", "2")
    assert_recorded(r, "aof-write-active-child", 30)
    assert "- Assuming from the point of view of data safety" in doctor(r)
    kill_child(proc)
    wait_for(lambda: not bgsave_running(r), "the killed child to be reaped")

    # A rewrite reads the sizes of the files again.
    r.config_set("rdb-key-save-delay", 0)
    slow.set("stat 30 appendonlydir")
    r.execute_command("LATENCY", "RESET", "aof-fstat")
    r.bgrewriteaof()
    wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
             and "aof-fstat" in latest(r), "the rewrite")
    assert_recorded(r, "aof-fstat", 30)

    # The fsync policy advice is not given once appendfsync is not always.
    r.config_set("appendfsync", "everysec")
    assert "Your fsync policy is set to 'always'" not in doctor(r)


def test_aof_write_pending_fsync(slowable):
    start, slow = slowable
    r, _ = start("--appendonly", "yes", "--appendfsync", "everysec")
    # The background fsync takes 1.5 s: the writes meanwhile find it pending.
    slow.set("fdatasync 1500 .incr.aof", "write 30 .incr.aof")
    assert r.set("a", "1")
    wait_for(lambda: r.info("persistence")["aof_pending_bio_fsync"] == 1,
             "the background fsync", timeout=10)
    assert r.set("b", "2")
    assert_recorded(r, "aof-write-pending-fsync", 30)
    assert_recorded(r, "aof-write", 30)
    report = doctor(r)
    assert "- SSD disks are able to reduce fsync latency" in report
    assert "- Try to lower the disk contention." in report
    slow.clear()


def test_aof_rename_when_the_log_is_turned_on(slowable):
    start, slow = slowable
    r, _ = start("--appendonly", "no")
    populate(r, 100)
    # The records written meanwhile go to a temporary incremental file,
    # renamed to its final name once the first base is written.
    slow.set("rename 30 .incr.aof")
    r.config_set("appendonly", "yes")
    wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
             and r.info("persistence")["aof_enabled"] == 1
             and "aof-rename" in latest(r), "the log to be on")
    assert_recorded(r, "aof-rename", 30)
    assert "- Latency during the AOF atomic rename operation" in doctor(r)


# ---- expiry and eviction ----

FILL_TTL = """
for i = 1, tonumber(ARGV[1]) do
    redis.call('set', 'k' .. i, 'v', 'px', ARGV[2])
end
"""

FILL_HASH = """
for i = 1, tonumber(ARGV[1]) do
    redis.call('hset', KEYS[1], 'f' .. i, 'v')
end
"""


def test_expire_cycle(slowable):
    start, _ = slowable
    r, _ = start()
    r.config_set("latency-monitor-threshold", 0)
    r.eval(FILL_TTL, 0, 200000, 300)
    r.config_set("latency-monitor-threshold", 1)
    # 200k keys expiring at once keep the active cycle busy to its budget.
    wait_recorded(r, "expire-cycle", "an active expiry cycle")
    wait_for(lambda: r.dbsize() == 0, "the keys to expire")
    report = doctor(r)
    assert ("- In order to make the Redis keys expiring process more incremental, try to set "
            "the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.") in report
    assert "- Deleting, expiring or evicting (because of maxmemory policy) large" in report
    # No hz advice once hz is 100.
    r.config_set("hz", 100)
    assert "'CONFIG SET hz 100'" not in doctor(r)


def test_eviction_cycle_and_del(slowable):
    start, _ = slowable
    r, _ = start("--maxmemory-policy", "allkeys-random")
    r.config_set("latency-monitor-threshold", 0)
    r.eval(FILL_HASH, 1, "big", 300000)
    r.config_set("latency-monitor-threshold", 1)
    # Freeing a hash of 300k fields takes milliseconds.
    r.config_set("maxmemory", "1mb")
    wait_for(lambda: r.exists("big") == 0, "the hash to be evicted")
    r.config_set("maxmemory", 0)
    assert_recorded(r, "eviction-del")
    assert_recorded(r, "eviction-cycle")
    report = doctor(r)
    assert "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET'" in report


def test_eviction_lazyfree(slowable):
    start, _ = slowable
    # With tenacity 20 an eviction run may wait 1 ms for the background
    # thread when nothing is left to evict.
    r, _ = start("--maxmemory-policy", "allkeys-random", "--lazyfree-lazy-eviction", "yes",
                 "--maxmemory-eviction-tenacity", 20)
    r.config_set("latency-monitor-threshold", 0)
    for k in range(4):
        r.eval(FILL_HASH, 1, "big%d" % k, 200000)
    r.config_set("latency-monitor-threshold", 1)
    # Below what the empty node uses: every key goes (the hashes to the
    # background thread) and the limit is still exceeded.
    r.config_set("maxmemory", 1)
    wait_for(lambda: r.dbsize() == 0, "the hashes to be evicted")
    wait_recorded(r, "eviction-lazyfree", "the wait for the background thread")
    r.config_set("maxmemory", 0)
    assert_recorded(r, "eviction-cycle")
    # Redis has no advice for this one.
    others = [e for e in latest(r) if e != "eviction-lazyfree"]
    r.execute_command("LATENCY", "RESET", *others)
    report = doctor(r)
    assert report.startswith("Dave, I have observed latency spikes in this Redis instance.")
    assert report.endswith("\n\nWhile there are latency events logged, I'm not able to suggest "
                           "any easy fix. Please use the Redis community to get some help, "
                           "providing this report in your help request.\n")


# ---- LATENCY DOCTOR against redis-server ----

def normalized(report):
    """The report with its timings replaced by N and the event lines
    sorted (Redis lists events in its dictionary's order)."""
    report = re.sub(r"\d+ms|\d+\.\d\d sec|\d+\.\d\d GB/sec", "N", report)
    lines = report.split("\n")
    events = sorted(re.sub(r"^\d+\. ", "", line) for line in lines if re.match(r"\d+\. ", line))
    rest = [line for line in lines if not re.match(r"\d+\. ", line)]
    return events, rest


def test_doctor_matches_redis_for_disk_events(workdir):
    """The same slow fdatasync and fork under both servers (threshold 50
    ms, calls 150 ms slower, so that no other event gets in): the same
    events, and the same advice, as redis-server 7.0 gives."""
    reports = []
    for name in ("ringcached", "redis-server"):
        d = os.path.join(workdir, name)
        os.makedirs(d)
        slow = Slow(os.path.join(d, "slow"))
        env = faultinj_env(workdir, FAULTINJ_SLOW=slow.path)
        args = ("--appendonly", "yes", "--appendfsync", "always")
        if name == "ringcached":
            port, proc = start_node(*args, env=env)
        else:
            port, proc = start_redis(d, *args, env=env)
        try:
            r = client(port)
            r.config_set("latency-monitor-threshold", 50)
            slow.set("fdatasync 150 .incr.aof", "fork 150")
            assert r.set("a", "1")
            r.bgsave()
            wait_for(lambda: not bgsave_running(r), "the BGSAVE")
            slow.clear()
            assert set(latest(r)) == {"aof-fsync-always", "fork", "command"}, name
            reports.append(normalized(doctor(r)))
            r.config_set("appendfsync", "everysec")
            reports.append(normalized(doctor(r)))
        finally:
            slow.clear()
            if name == "ringcached":
                stop_node(proc)
            else:
                stop_proc(proc)
    assert reports[0] == reports[2]
    assert reports[1] == reports[3]
    assert "- Your fsync policy is set to 'always'." in "\n".join(reports[0][1])
    assert "- Your fsync policy is set to 'always'." not in "\n".join(reports[1][1])
