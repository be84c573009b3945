"""Disk errors under the append-only log and snapshots: a full disk (a small
tmpfs) and failing fsyncs (tests/faultinj.so, an LD_PRELOAD interposer).

What must hold, as in redis-server 7.0:
- appendfsync always: a failed write or fsync ends the process (exit 1)
  before the reply that would acknowledge it;
- everysec: a failed write or background fsync refuses writes (and PING)
  with "-MISCONF Errors writing to the AOF file: <strerror>" while reads go
  on, and writes resume by themselves once the write (or a retried fsync)
  succeeds.  Beyond Redis, the reply of a command whose record is in the
  unwritten batch waits until the batch is in the file;
- a BGSAVE that fails for lack of space sets rdb_last_bgsave_status:err,
  refuses writes with -MISCONF when save rules are set, leaves no temp file
  and the old dump.rdb untouched; a later successful BGSAVE lifts it;
- every acknowledged write is in the log, which stays valid.

The tmpfs lives in a private mount namespace kept alive by a holder
process (`unshare -m`, `unshare -rm` when not root); nodes run inside it
through nsenter and are stopped by PID; the test reaches the files through
/proc/<holder>/root.  The tests skip only when no mount namespace can be
made.
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BINARY, HOST, faultinj_env, node_log, pick_port, ping, stop_by_signal

redis = pytest.importorskip("redis")

CHECK = os.path.join(os.path.dirname(os.path.dirname(BINARY)), "utils", "ringcache-check")
AOF_MISCONF = "MISCONF Errors writing to the AOF file: "
RDB_MISCONF = "MISCONF Redis is configured to save RDB snapshots"
ENOSPC_TEXT = os.strerror(28)
EIO_TEXT = os.strerror(5)
VALUE = b"v" * 16384


class Disk:
    """A tmpfs of size_kb KiB mounted in a private mount namespace that a
    holder process keeps alive, so that it survives node restarts."""

    def __init__(self, size_kb):
        self.path = tempfile.mkdtemp(prefix="ringcache-disk-")
        self.logdir = tempfile.mkdtemp(prefix="ringcache-disklog-")
        self.rootless = os.geteuid() != 0
        unshare = shutil.which("unshare")
        nsenter = shutil.which("nsenter")
        if unshare is None or nsenter is None:
            self.close()
            pytest.skip("unshare/nsenter not installed: no mount namespace can be made")
        cmd = [unshare] + (["-r"] if self.rootless else []) + [
            "-m", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs -o size=%dk tmpfs "$1" && echo ready && exec sleep 600' % size_kb,
            "sh", self.path]
        self.holder = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       stdin=subprocess.DEVNULL)
        line = self.holder.stdout.readline()
        if line != b"ready\n":
            err = self.holder.stderr.read().decode("utf-8", "replace").strip()
            self.close()
            pytest.skip("cannot create a mount namespace with a tmpfs here: " + err)
        self.nsenter = [nsenter, "-t", str(self.holder.pid), "-m"] + (
            ["-U", "--preserve-credentials"] if self.rootless else []) + ["--"]

    def host(self, *parts):
        """The path of a file of the tmpfs as this process reaches it."""
        return os.path.join("/proc/%d/root" % self.holder.pid, self.path.lstrip("/"), *parts)

    def fill(self, leave_kb):
        """Write a filler file until about leave_kb KiB stay free."""
        st = os.statvfs(self.host())
        free = st.f_bavail * st.f_frsize
        with open(self.host("filler"), "wb") as f:
            f.write(b"\0" * max(0, free - leave_kb * 1024))

    def free_space(self):
        os.unlink(self.host("filler"))

    def close(self):
        holder = getattr(self, "holder", None)
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder is not None:
            holder.stdout.close()
            holder.stderr.close()
        shutil.rmtree(self.path, ignore_errors=True)
        shutil.rmtree(self.logdir, ignore_errors=True)


@pytest.fixture
def disk():
    d = Disk(4096)
    yield d
    d.close()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="ringcache-diskerr-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(workdir, logdir, *extra, prefix=(), env=None):
    """ringcached (after the command prefix, e.g. nsenter) with --dir
    workdir; its output goes to logdir.  Returns (port, proc)."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    for _ in range(3):
        port = pick_port()
        logpath = os.path.join(logdir, "node-%d.log" % port)
        args = list(prefix) + [BINARY, "--port", str(port), "--bind", HOST, "--dir", workdir] + [
            str(a) for a in extra]
        with open(logpath, "wb") as logf:
            proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=logdir, env=env)
        proc.logpath = logpath
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if ping(port):
                return port, proc
            time.sleep(0.01)
        log = node_log(proc)
        stop_by_signal(proc, signal.SIGKILL)
        if "Address already in use" not in log:
            raise RuntimeError("ringcached did not start:\n" + log)
    raise RuntimeError("no free port")


def start_in(disk, *extra):
    return start(disk.path, disk.logdir, *extra, prefix=disk.nsenter)


def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=5)


def aof_status(r):
    return r.info("persistence")["aof_last_write_status"]


def wait_for(pred, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def set_cmd(key, value=VALUE):
    key = key.encode()
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value)


def readable(sock, timeout):
    return bool(select.select([sock], [], [], timeout)[0])


def fill_until_held(port, r, limit=400):
    """SET 16 KiB values k0, k1, ... on a raw connection until one's reply
    does not come because the log could not be written (INFO on r says
    aof_last_write_status:err first).  Returns (socket, acked keys, held
    key)."""
    sock = socket.create_connection((HOST, port), timeout=5)
    acked = []
    deadline = time.monotonic() + 15
    for i in range(limit):
        key = "k%d" % i
        sock.sendall(set_cmd(key))
        while time.monotonic() < deadline:
            if readable(sock, 0.02):
                assert sock.recv(16) == b"+OK\r\n"
                acked.append(key)
                break
            # A failed write is recorded before any reply could leave.
            if aof_status(r) == "err":
                return sock, acked, key
        else:
            raise AssertionError("no reply and no write error for " + key)
    raise AssertionError("the disk never filled")


def check_log(dirpath):
    """ringcache-check and redis-check-aof both accept the data directory."""
    if os.access(CHECK, os.X_OK):
        out = subprocess.run([CHECK, dirpath], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
    tool = shutil.which("redis-check-aof")
    if tool:
        manifest = os.path.join(dirpath, "appendonlydir", "appendonly.aof.manifest")
        out = subprocess.run([tool, manifest], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr


def assert_all_there(port, keys):
    r = client(port)
    for key in keys:
        assert r.get(key) == VALUE, key


def reload_and_compare(disk, acked, exact=False):
    """The log on disk is valid and a node started on it has every key of
    acked (and, when exact, nothing else)."""
    check_log(disk.host())
    port, proc = start_in(disk, "--save", "", "--appendonly", "yes")
    try:
        assert_all_there(port, acked)
        if exact:
            assert client(port).dbsize() == len(acked)
    finally:
        stop_by_signal(proc)


# ---- full disk, append-only log ----

def start_nearly_full(disk, leave_kb, appendfsync):
    """A node logging to the tmpfs, which has about leave_kb KiB free."""
    disk.fill(leave_kb=leave_kb)
    return start_in(disk, "--save", "", "--appendonly", "yes", "--appendfsync", appendfsync)


def test_full_disk_everysec_refuses_writes_then_resumes(disk):
    port, proc = start_nearly_full(disk, 512, "everysec")
    try:
        r = client(port)
        sock, acked, held = fill_until_held(port, r)
        assert len(acked) > 4
        # The reply of the write that is not in the log does not come.
        assert not readable(sock, 0.3)
        for cmd in (("SET", "other", "1"), ("PING",), ("INCR", "n")):
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*cmd)
            assert str(e.value) == AOF_MISCONF + ENOSPC_TEXT
        # Reads go on.
        assert r.get(acked[0]) == VALUE
        assert r.exists(*acked) == len(acked)
        assert "Error writing to the AOF file: " + ENOSPC_TEXT in node_log(proc)
        # The file holds whole batches only (a short write was cut back).
        check_log(disk.host())

        disk.free_space()
        assert readable(sock, 5.0), "the held reply never came"
        assert sock.recv(16) == b"+OK\r\n"
        sock.close()
        acked.append(held)
        assert aof_status(r) == "ok"
        assert r.set("after", VALUE)
        acked.append("after")
        assert r.ping()
        assert "AOF write error looks solved" in node_log(proc)
    finally:
        stop_by_signal(proc)
    reload_and_compare(disk, acked, exact=True)


def test_full_disk_everysec_stopped_while_full_keeps_acknowledged(disk):
    port, proc = start_nearly_full(disk, 256, "everysec")
    try:
        r = client(port)
        sock, acked, held = fill_until_held(port, r)
        assert acked
    finally:
        stop_by_signal(proc)
    # The held write was never acknowledged: the connection just ends.
    data = sock.recv(16) if readable(sock, 5.0) else b"?"
    sock.close()
    assert data == b""
    reload_and_compare(disk, acked)


def test_full_disk_always_exits_before_acknowledging(disk):
    port, proc = start_nearly_full(disk, 256, "always")
    acked = []
    try:
        r = client(port)
        for i in range(400):
            try:
                r.set("k%d" % i, VALUE)
            except redis.ConnectionError:
                break
            acked.append("k%d" % i)
        else:
            raise AssertionError("the disk never filled")
        assert proc.wait(10) == 1
        log = node_log(proc)
        assert "Error writing to the AOF file: " + ENOSPC_TEXT in log
        assert "Can't recover from AOF write error when the AOF fsync policy is 'always'" in log
    finally:
        stop_by_signal(proc)
    assert acked
    check_log(disk.host())
    # A restart on the still full disk loads every acknowledged write; once
    # there is room again, writes are accepted.
    port, proc = start_in(disk, "--save", "", "--appendonly", "yes",
                          "--appendfsync", "always")
    try:
        assert_all_there(port, acked)
        disk.free_space()
        assert client(port).set("after", "1")
    finally:
        stop_by_signal(proc)
    check_log(disk.host())


# ---- full disk, snapshots ----

def temp_files(dirpath):
    return [n for n in os.listdir(dirpath) if n.startswith("temp-")]


def wait_bgsave(r):
    wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, "BGSAVE to end")
    return r.info("persistence")["rdb_last_bgsave_status"]


def test_bgsave_on_full_disk(disk):
    port, proc = start_in(disk, "--save", "3600 1", "--stop-writes-on-bgsave-error", "yes")
    try:
        r = client(port)
        r.set("small", "1")
        assert r.bgsave()
        assert wait_bgsave(r) == "ok"
        before = open(disk.host("dump.rdb"), "rb").read()

        # Random values: LZF must not shrink the snapshot to nothing.
        values = [os.urandom(16384) for _ in range(96)]
        pipe = r.pipeline(transaction=False)
        for i, v in enumerate(values):
            pipe.set("k%d" % i, v)
        pipe.execute()
        disk.fill(leave_kb=256)
        assert r.bgsave()
        assert wait_bgsave(r) == "err"
        with pytest.raises(redis.ResponseError, match=RDB_MISCONF):
            r.set("x", "1")
        with pytest.raises(redis.ResponseError, match=RDB_MISCONF):
            r.ping()
        assert r.get("small") == b"1"
        # The half-written temp file is gone and dump.rdb is the old one.
        assert temp_files(disk.host()) == []
        assert open(disk.host("dump.rdb"), "rb").read() == before
        assert "Write error saving DB on disk: " + ENOSPC_TEXT in node_log(proc)

        disk.free_space()
        assert r.bgsave()
        assert wait_bgsave(r) == "ok"
        assert r.set("x", "1")
        assert temp_files(disk.host()) == []
    finally:
        stop_by_signal(proc)
    port, proc = start_in(disk, "--save", "")
    try:
        r = client(port)
        assert r.get("small") == b"1"
        assert [r.get("k%d" % i) for i in range(96)] == values
    finally:
        stop_by_signal(proc)


def test_bgrewriteaof_on_full_disk(disk):
    port, proc = start_in(disk, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
    values = {"k%d" % i: os.urandom(16384) for i in range(64)}
    try:
        r = client(port)
        for k, v in values.items():
            r.set(k, v)
        disk.fill(leave_kb=256)
        # Either refused at once (no room for the new incremental file) or
        # the child fails writing the base: the log stays as it was.
        try:
            r.bgrewriteaof()
        except redis.ResponseError as e:
            assert "Can't execute an AOF background rewriting" in str(e)
        wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0,
                 "the rewrite to end")
        assert r.info("persistence")["aof_last_bgrewrite_status"] == "err"
        assert temp_files(disk.host("appendonlydir")) == []
        assert not [n for n in os.listdir(disk.host("appendonlydir")) if ".base." in n]
        disk.free_space()
        values["after"] = b"1"
        r.set("after", b"1")
    finally:
        stop_by_signal(proc)
    check_log(disk.host())
    port, proc = start_in(disk, "--save", "", "--appendonly", "yes")
    try:
        r = client(port)
        assert {k: r.get(k) for k in values} == values
    finally:
        stop_by_signal(proc)


# ---- fsync errors (LD_PRELOAD interposer) ----

def start_faulty(workdir, *extra):
    """A node whose fsync/fdatasync fail with EIO while the returned
    trigger file exists."""
    logdir = os.path.join(workdir, "logs")
    os.makedirs(logdir, exist_ok=True)
    data = os.path.join(workdir, "data")
    os.makedirs(data, exist_ok=True)
    trigger = os.path.join(workdir, "fail-fsync")
    env = faultinj_env(workdir, FAULTINJ_TRIGGER=trigger)
    port, proc = start(data, logdir, *extra, env=env)
    return port, proc, trigger, data, logdir


def test_fsync_error_always_exits_before_acknowledging(workdir):
    port, proc, trigger, data, logdir = start_faulty(
        workdir, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
    try:
        r = client(port)
        assert r.set("a", VALUE)
        open(trigger, "w").close()
        with pytest.raises(redis.ConnectionError):
            r.set("b", VALUE)
        assert proc.wait(10) == 1
        assert ("Can't persist AOF for fsync error when the AOF fsync policy is 'always': "
                + EIO_TEXT) in node_log(proc)
    finally:
        stop_by_signal(proc)
    os.unlink(trigger)
    port, proc = start(data, logdir, "--save", "", "--appendonly", "yes")
    try:
        assert client(port).get("a") == VALUE
    finally:
        stop_by_signal(proc)


def test_fsync_error_everysec_refuses_writes_until_an_fsync_succeeds(workdir):
    port, proc, trigger, data, logdir = start_faulty(
        workdir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
    try:
        r = client(port)
        assert r.set("a", VALUE)
        open(trigger, "w").close()
        # Under everysec this is acknowledged before any fsync; the
        # background fsync (within a second or so) then fails.
        assert r.set("b", VALUE)
        wait_for(lambda: aof_status(r) == "err", "the background fsync to fail")
        for cmd in (("SET", "c", VALUE), ("PING",)):
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*cmd)
            assert str(e.value) == AOF_MISCONF + EIO_TEXT
        assert r.get("a") == VALUE
        assert "Fail to fsync the AOF file: " + EIO_TEXT in node_log(proc)

        os.unlink(trigger)
        wait_for(lambda: aof_status(r) == "ok", "a retried fsync to succeed")
        assert r.set("c", VALUE)
        assert "AOF fsync error looks solved" in node_log(proc)
    finally:
        stop_by_signal(proc)
    port, proc = start(data, logdir, "--save", "", "--appendonly", "yes")
    try:
        assert_all_there(port, ["a", "b", "c"])
    finally:
        stop_by_signal(proc)


def test_no_appendfsync_on_rewrite_defers_fsync_while_a_child_runs(workdir):
    """With no-appendfsync-on-rewrite yes, a child running means no fsync
    at all (so a failing fsync goes unnoticed even under `always`, where it
    would otherwise stop the node, as the test above shows); the log is
    synced again once the child is gone."""
    port, proc, trigger, data, logdir = start_faulty(
        workdir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
        "--no-appendfsync-on-rewrite", "yes")
    try:
        r = client(port)
        p = r.pipeline(transaction=False)
        for i in range(1000):
            p.set("k%d" % i, i)
        p.execute()
        r.config_set("rdb-key-save-delay", "2000")
        r.bgsave()
        open(trigger, "w").close()
        assert r.set("during", VALUE)
        assert r.info("persistence")["rdb_bgsave_in_progress"] == 1
        assert proc.poll() is None
        os.unlink(trigger)
        r.config_set("rdb-key-save-delay", "0")
        wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0,
                 "the snapshot to finish", timeout=20)
        assert r.set("after", VALUE)
    finally:
        stop_by_signal(proc)
    port, proc = start(data, logdir, "--save", "", "--appendonly", "yes")
    try:
        assert_all_there(port, ["during", "after"])
    finally:
        stop_by_signal(proc)
