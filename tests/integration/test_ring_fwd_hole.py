"""Regression: a pipelined client whose replies wait for forwarded commands.

write_some() dropped "fully sent" chunks after a write; a hole still
awaiting a forwarded reply is empty (used 0 == sentpos 0) and was freed
with them when chunks followed it.  The forwarded reply was then written
into freed memory: reply_bytes wrapped below zero, the client was closed
"for overcoming of output buffer limits" with a few KB queued, and
redis-benchmark -P 16 through a ring node failed with "Server closed the
connection".  Pipelines through a node of a 3-node ring must get every
reply, in order, and no client may be closed."""

import os
import socket
import subprocess
import threading

import pytest

from conftest import BINARY, HOST
from test_ringcache_cluster import free_run, recorded, tool

redis = pytest.importorskip("redis")


@pytest.fixture
def ring(tmp_path):
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    root = str(tmp_path / "ring")
    base = free_run(3)
    try:
        tool(root, "start", "3", "--port-base", str(base), "--binary", BINARY,
             "--appendonly", "no")
        yield root, base
    finally:
        tool(root, "stop", check=False)


def pipeline_worker(port, w, bad):
    with socket.create_connection((HOST, port), timeout=20) as s:
        f = s.makefile("rb")
        for rnd in range(10):
            keys = [b"w%d:r%d:k%d" % (w, rnd, i) for i in range(64)]
            s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                               % (len(k), k, len(k), k) for k in keys))
            for k in keys:
                line = f.readline()
                if line != b"+OK\r\n":
                    bad.append((k, line))
                    return
            s.sendall(b"".join(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k) for k in keys))
            for k in keys:
                head, value = f.readline(), f.readline()
                if head != b"$%d\r\n" % len(k) or value != k + b"\r\n":
                    bad.append((k, head, value))
                    return


def test_pipelines_through_a_ring_node(ring):
    root, base = ring
    # Most keys of each pipeline are owned by the other two nodes.
    bad = []
    threads = [threading.Thread(target=pipeline_worker, args=(base, w, bad)) for w in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a pipeline got stuck"
    assert bad == []
    p = subprocess.run(["redis-benchmark", "-h", HOST, "-p", str(base), "-c", "50", "-n", "20000",
                        "-P", "16", "-t", "set,get", "-r", "100000", "--csv", "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0 and "closed the connection" not in out, out
    assert '"SET"' in out and '"GET"' in out, out
    r = redis.Redis(host=HOST, port=base)
    assert r.dbsize() > 0 and r.get(b"w0:r0:k0") == b"w0:r0:k0"
    n1 = recorded(root)[0]
    with open(os.path.join(n1["dir"], "node.log")) as f:
        assert "output buffer limits" not in f.read()
