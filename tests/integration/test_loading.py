"""The start-up load while the node listens (issue 4, "Recovery": "INFO
shows loading progress; clients get -LOADING meanwhile").

The debug knobs key-load-delay (microseconds per key) and
loading-process-events-interval-bytes, which redis-server 7.0 has too,
make the load slow enough to be observed without any timing race: every
assertion about the loading state is made while INFO says loading:1, and
the test then waits (bounded) for the end of the load.
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BINARY, HOST, node_log, pick_port, assert_no_sanitizer_report
from test_rdb import start_redis, stop_proc

redis = pytest.importorskip("redis")

KEYS = 3000
SLOW = ("--key-load-delay", "300", "--loading-process-events-interval-bytes", "1024")


def launch(workdir, *extra):
    """Starts a node in workdir without waiting for it to answer PING (it
    answers -LOADING at first).  Returns (port, proc) once it accepts TCP
    connections."""
    port = pick_port()
    logpath = os.path.join(workdir, "node.log")
    with open(logpath, "ab") as logf:
        proc = subprocess.Popen([BINARY, "--port", str(port), "--bind", HOST, "--save", "",
                                 "--dir", workdir] + [str(a) for a in extra],
                                stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir)
    proc.logpath = logpath
    wait_connectable(port, proc)
    return port, proc


def wait_connectable(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, node_log(proc)
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError("no listener on port %d" % port)


def raw(port, *args):
    """Sends one command, returns the first reply line (bytes, with CRLF)."""
    msg = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(msg)
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf


def info(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=5).info("persistence")


def wait_loaded(port, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, node_log(proc)
        if raw(port, "PING") == b"+PONG\r\n":
            return
        time.sleep(0.05)
    raise AssertionError("the load did not finish:\n" + node_log(proc))


def stop(proc):
    stop_proc(proc)
    assert_no_sanitizer_report(node_log(proc))


def fill_and_stop(workdir, *extra, save=True):
    """A node in workdir gets KEYS keys (some with a TTL); SAVE when asked;
    then it is stopped."""
    port, proc = launch(workdir, *extra)
    try:
        wait_loaded(port, proc)
        r = redis.Redis(host=HOST, port=port)
        p = r.pipeline(transaction=False)
        for i in range(KEYS):
            p.set("key:%d" % i, "value-%d" % i)
        p.hset("h", mapping={"a": "1", "b": "2"})
        p.expire("key:7", 1000)
        p.execute()
        if save:
            r.save()
    finally:
        stop(proc)


def digest(path):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            if name.endswith(".log"):
                continue
            with open(os.path.join(root, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


def assert_config_frozen(port, name, value):
    """appendonly and dir cannot change while the load reads the files
    they name; a refused CONFIG SET leaves the old value."""
    other = "no" if value == "yes" else "yes"
    r = redis.Redis(host=HOST, port=port, socket_timeout=5, decode_responses=True)
    for n, v in ((name, other), ("dir", "/tmp")):
        with pytest.raises(redis.exceptions.ResponseError, match="while loading"):
            r.config_set(n, v)
    assert r.config_get(name) == {name: value}
    assert r.config_get("dir")["dir"] != "/tmp"


def loading_fields(fields):
    return [k for k in fields if k.startswith("loading")]


def test_loading_replies_and_info_match_redis(workdir):
    fill_and_stop(workdir)
    rdir = os.path.join(workdir, "redis")
    os.mkdir(rdir)
    shutil.copy(os.path.join(workdir, "dump.rdb"), rdir)
    size = os.path.getsize(os.path.join(workdir, "dump.rdb"))

    rport, rproc = start_redis_loading(rdir)
    port, proc = launch(workdir, *SLOW)
    try:
        ours, theirs = info(port), info(rport)
        assert ours["loading"] == 1 and theirs["loading"] == 1
        # The same replies, byte for byte, for a command refused while
        # loading and one allowed.
        for cmd in (("PING",), ("GET", "key:1"), ("SET", "x", "1"), ("DBSIZE",)):
            assert raw(port, *cmd) == raw(rport, *cmd), cmd
        assert raw(port, "PING") == b"-LOADING Redis is loading the dataset in memory\r\n"
        assert raw(port, "CONFIG", "GET", "key-load-delay").startswith(b"*2\r\n")
        assert_config_frozen(port, "appendonly", "no")
        # INFO persistence names the same fields in the same order.
        assert list(ours.keys()) == list(info(rport).keys())
        assert loading_fields(ours) == ["loading", "loading_start_time", "loading_total_bytes",
                                        "loading_rdb_used_mem", "loading_loaded_bytes",
                                        "loading_loaded_perc", "loading_eta_seconds"]
        assert ours["loading_total_bytes"] == size
        assert ours["loading_rdb_used_mem"] > 0
        assert 0 < ours["loading_loaded_bytes"] < size
        # The progress moves on while the load runs.
        deadline = time.monotonic() + 20
        later = info(port)
        while later["loading"] == 1 and later["loading_loaded_bytes"] == \
                ours["loading_loaded_bytes"] and time.monotonic() < deadline:
            time.sleep(0.05)
            later = info(port)
        assert later["loading"] == 0 or \
            later["loading_loaded_bytes"] > ours["loading_loaded_bytes"]
        wait_loaded(port, proc)
        r = redis.Redis(host=HOST, port=port)
        assert r.dbsize() == KEYS + 1
        assert r.get("key:2999") == b"value-2999"
        assert 0 < r.ttl("key:7") <= 1000
        done = info(port)
        assert done["loading"] == 0 and not loading_fields(done)[1:]
        assert done["rdb_last_load_keys_loaded"] == KEYS + 1
    finally:
        stop(proc)
        stop_proc(rproc)


def start_redis_loading(workdir):
    """redis-server on a copy of the dump, loading slowly; returns once it
    is listening (and still loading)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    port = pick_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--dir", workdir,
         # Slower than ringcached's load: it must still be loading when the
         # test compares the two.
         "--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        cwd=workdir)
    proc.logpath = os.devnull
    wait_connectable(port, proc)
    return port, proc


def test_loading_the_log_reports_progress(workdir):
    fill_and_stop(workdir, "--appendonly", "yes", save=False)
    aofdir = os.path.join(workdir, "appendonlydir")
    total = sum(os.path.getsize(os.path.join(aofdir, n)) for n in os.listdir(aofdir)
                if not n.endswith(".manifest"))
    port, proc = launch(workdir, "--appendonly", "yes", *SLOW)
    try:
        st = info(port)
        assert st["loading"] == 1
        assert st["loading_total_bytes"] == total
        assert 0 < st["loading_loaded_bytes"] < total
        assert raw(port, "SET", "x", "1").startswith(b"-LOADING ")
        assert_config_frozen(port, "appendonly", "yes")
        wait_loaded(port, proc)
        r = redis.Redis(host=HOST, port=port)
        assert r.dbsize() == KEYS + 1
        assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}
        # Writes work again and go to the log.
        assert r.set("after", "1")
    finally:
        stop(proc)


@pytest.mark.parametrize("how", ["sigterm", "shutdown", "shutdown-save"])
@pytest.mark.parametrize("aof", [False, True])
def test_shutdown_while_loading_saves_nothing(workdir, how, aof):
    extra = ("--appendonly", "yes") if aof else ()
    fill_and_stop(workdir, *extra, save=not aof)
    before = digest(workdir)
    # Save rules are set: a normal shutdown would write a snapshot, one
    # during the load must not (it would hold part of the data).
    port, proc = launch(workdir, "--save", "3600 1", *extra, *SLOW)
    assert info(port)["loading"] == 1
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    else:
        cmd = ("SHUTDOWN", "SAVE") if how == "shutdown-save" else ("SHUTDOWN",)
        raw(port, *cmd)
    assert proc.wait(20) == 0
    assert_no_sanitizer_report(node_log(proc))
    assert "exiting without saving" in node_log(proc)
    assert digest(workdir) == before
    port, proc = launch(workdir, *extra)
    try:
        wait_loaded(port, proc)
        assert redis.Redis(host=HOST, port=port).dbsize() == KEYS + 1
    finally:
        stop(proc)
