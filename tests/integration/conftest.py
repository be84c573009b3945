"""Shared helpers and fixtures for the integration suites: start real
ringcached nodes.

Every node listens on 127.0.0.1 only, on an unusual port (21000-29999 by
default), runs with persistence disabled (--save "") inside a private
temporary directory, and is stopped by PID.

    def test_something(node):              # a fresh default node
        host, port, proc = node

    port, proc = start_node("--maxmemory", "10mb")   # any extra arguments
    try:
        ...
    finally:
        stop_node(proc)

The binary is src/ringcached of this tree, or $RINGCACHED when set.
start_redis / reference_server run the reference redis-server 7.0 the
same way (tests comparing files or replies with it).
"""

import collections
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("RINGCACHED", os.path.join(ROOT, "src", "ringcached"))
HOST = "127.0.0.1"
# Below 22768: a ring node's cluster clients' port (port + 10000, below)
# then stays under the kernel's ephemeral ports (32768-60999), which the
# tests' own client connections take at random.
PORT_LO, PORT_HI = 21000, 22767


def port_is_free(port):
    """True when nothing listens on HOST:port and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) != 0


# A ring node also listens on port + cluster-client-port-offset (default
# 10000), the port CLUSTER SLOTS and NODES show to cluster-aware clients.
CLUSTER_CLIENT_OFFSET = 10000


# Ports handed out lately: a ring's nodes all pick theirs before the first
# starts, and two of them once got the same port (the second "started"
# when the first answered its PING, and the ring then met itself).
_recent_ports = collections.deque(maxlen=1024)


def pick_port(lo=PORT_LO, hi=PORT_HI, cluster=False):
    """A free port in [lo, hi], picked at random so that suites running in
    parallel rarely collide, and never one handed out lately in this
    process; with cluster, port + CLUSTER_CLIENT_OFFSET is free as well."""
    for _ in range(400):
        port = random.randint(lo, hi)
        if port in _recent_ports:
            continue
        if port_is_free(port) and (not cluster or port_is_free(port + CLUSTER_CLIENT_OFFSET)):
            _recent_ports.append(port)
            return port
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def main_port(reported):
    """The port of the test node that CLUSTER SLOTS, SHARDS or NODES names
    by reported: its cluster clients' port (above PORT_HI) or its port."""
    reported = int(reported)
    return reported - CLUSTER_CLIENT_OFFSET if reported > PORT_HI else reported


def node_of_port(ports, reported):
    """Index in ports (nodes' ports) of the node CLUSTER SLOTS names by
    reported."""
    return ports.index(main_port(reported))


free_port = pick_port     # the name earlier suites used


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def ping(port, timeout=0.5, host=HOST):
    """True when the node on host:port answers PING (+PONG, or -NOAUTH
    when it wants a password)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = s.recv(64)
            # A node with requirepass answers -NOAUTH: it is up all the same.
            return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
    except OSError:
        return False


def resp(*args):
    """One command as a RESP multibulk request."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def node_log(proc):
    """Everything the node started as proc wrote to stdout/stderr so far."""
    try:
        with open(proc.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except (AttributeError, OSError):
        return ""


def assert_no_sanitizer_report(log):
    """In sanitizer builds a memory error, undefined behaviour or a leak at
    exit is written to the node's output: any of them fails the test."""
    for mark in SANITIZER_MARKS:
        if mark in log:
            raise AssertionError("sanitizer report from ringcached:\n" + log[-6000:])


def wait_for(pred, what, timeout=20.0, interval=0.02):
    """Poll pred() until it returns something true, and return that;
    AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def stop_by_signal(proc, sig=signal.SIGTERM, timeout=10.0):
    """Send sig to the node by PID, wait (SIGKILL after `timeout` seconds),
    then check its output for sanitizer reports."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    assert_no_sanitizer_report(node_log(proc))


def stop_node(proc, timeout=5.0):
    """Stop a node started by start_node: SIGTERM by PID, SIGKILL if it
    has not exited within `timeout` seconds; then remove its directory."""
    stop_proc(proc, timeout)
    log = node_log(proc)
    workdir = getattr(proc, "workdir", None)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    assert_no_sanitizer_report(log)


def start_node(*extra_args, port=None, timeout=10.0, env=None):
    """Start a node with extra command-line arguments (e.g. "--maxmemory",
    "1mb") and wait until it answers PING.  Returns (port, proc); proc has
    .workdir and .logpath attributes.  The caller stops it with stop_node.
    env: the node's environment (default: this process's).
    Skips the test when the binary is not built.  Raises RuntimeError, with the node's output, when it exits or does not
    answer within `timeout` seconds (e.g. because the port was taken)."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    argv = [str(a) for a in extra_args]
    cluster = "--cluster-enabled" in argv
    if port is None:
        port = pick_port(cluster=cluster)
    elif cluster and port > PORT_HI and "--cluster-client-port-offset" not in argv:
        # Its cluster clients' port would fall among the ephemeral ports,
        # where a client socket may hold it: a flaky test, refused here.
        raise ValueError("ring node port %d is outside %d-%d; use pick_port(cluster=True)"
                         % (port, PORT_LO, PORT_HI))
    workdir = tempfile.mkdtemp(prefix="ringcache-test-")
    logpath = os.path.join(workdir, "node.log")
    args = [BINARY, "--port", str(port), "--bind", HOST, "--save", "",
            "--dir", workdir] + [str(a) for a in extra_args]
    with open(logpath, "wb") as logf:
        proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir, env=env)
    proc.workdir = workdir
    proc.logpath = logpath
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if ping(port):
            return port, proc
        time.sleep(0.02)
    log = node_log(proc)
    stop_node(proc)
    raise RuntimeError("ringcached on port %d did not start:\n%s" % (port, log))


def start_in_dir(workdir, *extra, expect_fail=False, timeout=10.0):
    """Start a node whose --dir is workdir, which it keeps across restarts
    (unlike start_node), with --save "" unless extra gives --save.
    Returns (port, proc) once it answers PING, retrying on another port
    when the one picked was taken; with expect_fail, waits for the process
    to exit instead and returns (None, proc).  The caller stops it."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    extra = [str(a) for a in extra]
    if "--save" not in extra:
        extra = ["--save", ""] + extra
    for _ in range(3):
        port = pick_port()
        logpath = os.path.join(workdir, "node-%d.log" % port)
        args = [BINARY, "--port", str(port), "--bind", HOST, "--dir", workdir] + extra
        with open(logpath, "wb") as logf:
            proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=workdir)
        proc.logpath = logpath
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if not expect_fail and ping(port):
                return port, proc
            time.sleep(0.01)
        if expect_fail:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                raise AssertionError("node started when it should not have:\n" +
                                     node_log(proc))
            return None, proc
        log = node_log(proc)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if "Address already in use" not in log:
            raise RuntimeError("ringcached did not start:\n" + log)
    raise RuntimeError("no port")


def launch_node(*extra_args, attempts=3, **kwargs):
    """start_node on a random port, retrying when the port was taken
    between picking and binding.  Returns (port, proc)."""
    last = None
    for _ in range(attempts):
        try:
            return start_node(*extra_args, **kwargs)
        except RuntimeError as e:
            last = e
    raise last


REDIS_SERVER = shutil.which("redis-server")


def stop_proc(proc, timeout=10.0):
    """Stop a process started by these helpers, by PID: SIGTERM, then
    SIGKILL after timeout seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_redis(workdir, *extra, env=None):
    """A redis-server working in workdir (its --dir and cwd), with --save ""
    and then the extra arguments; returns (port, proc) once it answers
    PING.  env: its environment (default: this process's).  Skips the
    test when redis-server is not installed.  In cluster mode the port's
    bus port (port + 10000) must be free as well."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed")
    cluster = "--cluster-enabled" in [str(a) for a in extra]
    for _ in range(5):
        port = pick_port()
        if cluster and not port_is_free(port + 10000):
            continue
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", HOST, "--save", "",
             "--daemonize", "no", "--dir", workdir] + [str(a) for a in extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if ping(port):
                return port, proc
            time.sleep(0.02)
        stop_proc(proc)
    raise RuntimeError("redis-server did not start")


def faultinj_so(tmpdir):
    """tests/faultinj.so (the LD_PRELOAD interposer of tests/faultinj.c)
    as `make check` built it, else, or when it is older than its source,
    built in tmpdir.  Skips the test when there is no C compiler."""
    src = os.path.join(ROOT, "tests", "faultinj.c")
    so = os.environ.get("FAULTINJ_SO", os.path.join(ROOT, "tests", "faultinj.so"))
    if os.path.exists(so) and os.path.getmtime(so) >= os.path.getmtime(src):
        return so
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("tests/faultinj.so not built and no C compiler to build it")
    so = os.path.join(tmpdir, "faultinj.so")
    subprocess.run([cc, "-std=c11", "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True,
                   timeout=60)
    return so


def faultinj_env(tmpdir, **variables):
    """This process's environment plus the interposer (faultinj_so) in
    LD_PRELOAD and the given variables (FAULTINJ_TRIGGER, FAULTINJ_SLOW:
    see tests/faultinj.c)."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = faultinj_so(tmpdir)
    env.update(variables)
    # ASan wants to come first in the library list; the interposer must.
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
    return env


@contextlib.contextmanager
def reference_server(prefix="ringcache-ref-"):
    """A redis-server without persistence in a private empty directory;
    yields its port, then stops it and removes the directory."""
    with redis_on_files(None, (), "--appendonly", "no", prefix=prefix) as (port, _):
        yield port


@contextlib.contextmanager
def redis_on_files(src, names, *extra, prefix="ringcache-ref-"):
    """A redis-server (start_redis with extra) in a fresh directory holding
    copies of the files or directories names of src (e.g. a node's
    dump.rdb or appendonlydir); yields (port, directory), then stops it and
    removes the directory."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        for n in names:
            if os.path.isdir(os.path.join(src, n)):
                shutil.copytree(os.path.join(src, n), os.path.join(d, n))
            else:
                shutil.copy(os.path.join(src, n), os.path.join(d, n))
        port, proc = start_redis(d, *extra)
        try:
            yield port, d
        finally:
            stop_proc(proc)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def workdir():
    """A fresh temporary directory for nodes that keep their files across
    restarts; removed at teardown."""
    d = tempfile.mkdtemp(prefix="ringcache-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def node():
    """A fresh default node, as (host, port, proc); stopped at teardown."""
    port, proc = launch_node()
    try:
        yield HOST, port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def node_factory():
    """A function starting nodes with extra arguments, returning
    (host, port, proc); every node it started is stopped at teardown."""
    procs = []

    def start(*extra_args, **kwargs):
        port, proc = launch_node(*extra_args, **kwargs)
        procs.append(proc)
        return HOST, port, proc

    yield start
    for proc in procs:
        stop_node(proc)
