"""utils/ringcache-cluster against real nodes: start, create, status, kill,
restart, watch and stop a 3-node ring on 127.0.0.1, and the PID check that
keeps it from signalling a process that is not its node.

Nodes run on unusual ports (a free run of three from conftest's range) in
a private directory; whatever the test leaves running is stopped by PID in
finally blocks."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from conftest import (BINARY, CLUSTER_CLIENT_OFFSET, HOST, ROOT, node_log, pick_port, ping,
                      port_is_free,
                      stop_by_signal, wait_for)

redis = pytest.importorskip("redis")

TOOL = os.path.join(ROOT, "utils", "ringcache-cluster")


def free_run(n):
    """A base port such that base .. base+n-1 are all free, and so are their
    cluster clients' ports."""
    for _ in range(50):
        base = pick_port(cluster=True)
        if all(port_is_free(base + i) and port_is_free(base + i + CLUSTER_CLIENT_OFFSET)
               for i in range(n)):
            return base
    raise RuntimeError("no run of %d free ports" % n)


def tool(root, *args, timeout=60, check=True):
    p = subprocess.run([sys.executable, TOOL, "--root", root, "--timeout", "15"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    out, err = p.stdout.decode(), p.stderr.decode()
    if check:
        assert p.returncode == 0, "%s failed (%d):\n%s\n%s" % (args, p.returncode, out, err)
    return p.returncode, out, err


def recorded(root):
    with open(os.path.join(root, "cluster.json")) as f:
        return json.load(f)["nodes"]


def alive(pid):
    """A live, non-zombie process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def status(root):
    return json.loads(tool(root, "status", "--json")[1])


def row(st, n):
    return [r for r in st["nodes"] if r["n"] == n][0]


def cleanup(root):
    """Stop by PID whatever the tool recorded and is still our node."""
    try:
        tool(root, "stop", check=False)
        nodes = recorded(root)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        nodes = []
    for n in nodes:
        pid = n.get("pid")
        if pid and alive(pid) and str(n["port"]).encode() in cmdline(pid):
            os.kill(pid, signal.SIGKILL)
    if not os.environ.get("RC_KEEP_ROOT"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def root():
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    d = tempfile.mkdtemp(prefix="ringcache-cluster-test-")
    try:
        yield d
    finally:
        cleanup(d)


def test_three_node_ring_kill_restart(root):
    base = free_run(3)
    ports = [base, base + 1, base + 2]
    tool(root, "start", "3", "--port-base", str(base), "--binary", BINARY,
         "--node-timeout", "1000", "--appendfsync", "always", "--no-create")
    nodes = recorded(root)
    assert [n["port"] for n in nodes] == ports
    for n in nodes:
        assert alive(n["pid"])
        args = cmdline(n["pid"])
        assert args[args.index(b"--port") + 1] == str(n["port"]).encode()
    st = status(root)
    assert int(st["state"]["epoch"]) == 0           # --no-create: no ring yet

    tool(root, "create")
    st = status(root)
    assert int(st["state"]["epoch"]) >= 3           # created, then two members added
    assert sorted(int(m["port"]) for m in st["state"]["members"]) == ports
    assert sum(int(m["primary_slots"]) for m in st["state"]["members"]) == 16384
    for r in st["nodes"]:
        assert r["up"] and r["process"].startswith("pid ")

    # Keys written through node 1 land on all three nodes.
    r1 = redis.Redis(host=HOST, port=ports[0], socket_timeout=10)
    for i in range(300):
        assert r1.set("k%d" % i, "v%d" % i)
    st = status(root)
    assert sum(r["keys"] for r in st["nodes"]) == 300
    assert all(r["keys"] > 0 for r in st["nodes"])
    text = tool(root, "status")[1]
    assert "members 3" in text and text.count(" up ") == 3

    # kill 3: the process is gone, status shows it dead and unreachable,
    # and the other nodes' links to it down.
    pid3 = recorded(root)[2]["pid"]
    tool(root, "kill", "3")
    assert not alive(pid3)
    assert recorded(root)[2]["pid"] is None
    addr3 = "%s:%d" % (HOST, ports[2])
    st = wait_for(lambda: (lambda s: s if s["links"].get(addr3) == ["disconnected"] * 2
                           else None)(status(root)), what="links to node 3 down")
    assert row(st, 3)["process"] == "dead" and not row(st, 3)["up"]
    assert row(st, 1)["up"] and row(st, 2)["up"]
    text = tool(root, "status")[1]
    line3 = [l for l in text.splitlines() if l.split()[:2] == ["3", str(ports[2])]][0]
    assert "dead" in line3 and "NO" in line3 and "down (2/2)" in line3
    # A key node 3 owns cannot be read through node 1 while it is down.
    owned3 = [("k%d" % i) for i in range(300)
              if r1.execute_command("RING", "OWNERS", "k%d" % i)[1][0][3] == addr3.encode()]
    assert owned3
    with pytest.raises(redis.ResponseError):
        r1.get(owned3[0])
    # Killing it again is refused: no process of its own to signal.
    rc, _, err = tool(root, "kill", "3", check=False)
    assert rc == 1 and "not running" in err

    # restart 3: back in the ring, and every key written before through
    # node 1 (node 3's own from its log) reads back through node 2.
    tool(root, "restart", "3")
    new3 = recorded(root)[2]["pid"]
    assert new3 != pid3 and alive(new3)
    st = status(root)
    assert all(r["up"] for r in st["nodes"])
    r2 = redis.Redis(host=HOST, port=ports[1], socket_timeout=10)
    got = wait_for(lambda: (lambda v: v if None not in v else None)(
        r2.mget(["k%d" % i for i in range(300)])), what="all keys readable")
    assert got == [("v%d" % i).encode() for i in range(300)]

    # replicas 1: a second copy of every key, filled in before it returns;
    # replicas 0: the second copies dropped again.
    _, _, err = tool(root, "replicas", "1")
    assert "replicas 1: 3/3 nodes have the new state, 0 slots still differ" in err
    assert sum(r["keys"] for r in status(root)["nodes"]) == 600

    # add: a 4th node, sent its slots before it serves; remove it while it
    # runs: it hands its slots over and shuts down, and its slots' copies
    # are remade on the other three.
    port4 = free_run(1)
    _, _, err = tool(root, "add", "--port", str(port4), timeout=120)
    assert "node 4 is up and every node serves" in err
    st = status(root)
    assert len(st["state"]["members"]) == 4 and all(r["up"] for r in st["nodes"])
    r4 = redis.Redis(host=HOST, port=port4, socket_timeout=10)
    assert r4.mget(["k%d" % i for i in range(300)]) == [("v%d" % i).encode() for i in range(300)]
    wait_for(lambda: sum(r["keys"] for r in status(root)["nodes"]) == 600,
             what="two copies of each key on four nodes")
    pid4 = [n["pid"] for n in recorded(root) if n["n"] == 4][0]
    _, _, err = tool(root, "remove", "4", timeout=120)
    assert "node 4 is running: RING REMOVE" in err and "removed from the ring" in err
    assert not alive(pid4)
    st = status(root)
    assert len(st["state"]["members"]) == 3 and len(st["nodes"]) == 3
    wait_for(lambda: sum(r["keys"] for r in status(root)["nodes"]) == 600,
             what="two copies of each key on three nodes")
    assert r2.mget(["k%d" % i for i in range(300)]) == [("v%d" % i).encode() for i in range(300)]

    # replace 3 while it runs: stopped (SIGTERM hands its slots over), and
    # once failed replaced by a new node 5 on its port (one RING REPLACE).
    _, _, err = tool(root, "replace", "3", timeout=180)
    assert "node 3 is running: stopping it" in err and "node 5 is up in node 3's place" in err
    st = status(root)
    assert [n["port"] for n in recorded(root)] == ports
    assert [n["n"] for n in recorded(root)] == [1, 2, 5]
    assert len(st["state"]["members"]) == 3 and all(r["up"] for r in st["nodes"])
    wait_for(lambda: sum(r["keys"] for r in status(root)["nodes"]) == 600,
             what="two copies of each key after the replacement")
    assert r1.mget(["k%d" % i for i in range(300)]) == [("v%d" % i).encode() for i in range(300)]
    tool(root, "replicas", "0")
    wait_for(lambda: sum(r["keys"] for r in status(root)["nodes"]) == 300,
             what="second copies dropped")

    # watch --count 1: one screen with every node and the rate columns.
    rc, out, _ = tool(root, "watch", "--count", "1", timeout=30)
    assert "ops/sec" in out and "forwarded" in out
    for p in ports:
        assert str(p) in out
    assert "\033[2J" not in out                     # no screen clearing off a terminal

    # stop: every recorded process gone, nothing answers on the ports.
    pids = [n["pid"] for n in recorded(root)]
    tool(root, "stop")
    for pid in pids:
        assert not alive(pid)
    for p in ports:
        assert not ping(p)
    assert all(n["pid"] is None for n in recorded(root))


def test_refuses_pid_of_another_process(root):
    base = free_run(1)
    tool(root, "start", "1", "--port-base", str(base), "--binary", BINARY, "--appendonly", "no")
    st = status(root)
    assert len(st["state"]["members"]) == 1 and row(st, 1)["keys"] == 0
    # Starting over a running ring is refused.
    rc, _, err = tool(root, "start", "1", "--port-base", str(base), "--binary", BINARY,
                      check=False)
    assert rc == 1 and "running" in err
    # Point the record at a process that is not the node (a sleep we own):
    # kill must refuse, and leave both that process and the node alive.
    path = os.path.join(root, "cluster.json")
    with open(path) as f:
        doc = json.load(f)
    real = doc["nodes"][0]["pid"]
    decoy = subprocess.Popen(["sleep", "30"])
    try:
        doc["nodes"][0]["pid"] = decoy.pid
        with open(path, "w") as f:
            json.dump(doc, f)
        rc, _, err = tool(root, "kill", "1", check=False)
        assert rc == 1 and "not running" in err
        assert decoy.poll() is None and alive(real)
    finally:
        decoy.kill()
        decoy.wait()
        doc["nodes"][0]["pid"] = real
        with open(path, "w") as f:
            json.dump(doc, f)
    tool(root, "stop")
    assert not alive(real)
    # A stopped ring is kept until --fresh wipes it.
    rc, _, err = tool(root, "start", "1", "--port-base", str(base), "--binary", BINARY,
                      check=False)
    assert rc == 1 and "--fresh" in err
    tool(root, "restart", "all")
    assert int(status(root)["state"]["epoch"]) >= 1   # the ring came back from nodes.conf


def test_ring_node_conf_and_create_by_ports(root):
    """conf/ring-node.conf as its header says to use it: three nodes with
    the same file and their own --port/--dir, every directive read back
    through CONFIG GET, then `create --ports` forms the ring and
    `status --ports` shows it."""
    from test_conf import conf_directives

    conf = os.path.join(ROOT, "conf", "ring-node.conf")
    directives = conf_directives(conf)
    assert directives["cluster-enabled"] == [["yes"]]
    base = free_run(3)
    ports = [base, base + 1, base + 2]
    procs = []
    try:
        for p in ports:
            d = os.path.join(root, str(p))
            os.makedirs(d)
            logpath = os.path.join(d, "node.log")
            with open(logpath, "wb") as logf:
                procs.append(subprocess.Popen(
                    [BINARY, conf, "--port", str(p), "--dir", d,
                     "--pidfile", os.path.join(d, "ringcached.pid")],
                    stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=d))
            procs[-1].logpath = logpath
        for p, proc in zip(ports, procs):
            wait_for(lambda: ping(p) or proc.poll() is not None, what="node on %d" % p)
            assert proc.poll() is None, node_log(proc)
        r = redis.Redis(host=HOST, port=ports[0], decode_responses=True)
        for name, lines in directives.items():
            got = r.config_get(name)
            assert name in got, "CONFIG GET does not know %r" % name
            if name not in ("port", "pidfile"):        # given on the command line
                assert got[name] == " ".join(lines[-1]), (name, lines[-1], got[name])
        tool(root, "create", "--ports", ",".join(map(str, ports)))
        st = status_ports(root, ports)
        assert sorted(int(m["port"]) for m in st["state"]["members"]) == ports
        assert all(m["status"] == "up" for m in st["state"]["members"])
        assert all(x["up"] and x["process"] == "-" for x in st["nodes"])
        # create again is a no-op on a formed ring.
        epoch = int(st["state"]["epoch"])
        tool(root, "create", "--ports", ",".join(map(str, ports)))
        assert int(status_ports(root, ports)["state"]["epoch"]) == epoch
    finally:
        for proc in procs:
            stop_by_signal(proc)


def status_ports(root, ports):
    return json.loads(tool(root, "status", "--ports", ",".join(map(str, ports)), "--json")[1])
