"""Start, kill and restart the nodes of a local ring for the ring suites.

Every node listens on 127.0.0.1 on an unusual port, keeps its own data
directory (and so its nodes.conf) across restarts, is restarted on the
same port, and is stopped by its PID.

    ring = Ring(3)              # three nodes, RING CREATE + CLUSTER MEET
    try:
        r = ring.client(0)
        ...
        ring.kill(2)            # kill -9
        ring.restart(2)
    finally:
        ring.stop()
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis

from conftest import BINARY, HOST, assert_no_sanitizer_report, node_of_port, pick_port, ping


def pairs(reply):
    """A RESP2 map (flat [k, v, k, v ...] list) or a RESP3 map as a dict."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[0::2], reply[1::2]))


def crc16(data):
    """CRC16-CCITT (XModem), the checksum Redis Cluster's slots use."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    """The slot of a key, hash tags included, as Redis Cluster computes it."""
    k = key.encode() if isinstance(key, str) else key
    start = k.find(b"{")
    if start >= 0:
        end = k.find(b"}", start + 1)
        if end > start + 1:
            k = k[start + 1:end]
    return crc16(k) % 16384


class Node:
    """One ringcached listening on host (127.0.0.1 unless a test gives
    each node its own address), started as wrap + [ringcached ...] (e.g.
    wrap = ["ip", "netns", "exec", NAME] runs it in a network namespace;
    ip execs the daemon, so the PID is the node's)."""

    def __init__(self, root, index, extra, host=HOST, wrap=()):
        self.index = index
        self.host, self.wrap = host, list(wrap)
        self.dir = os.path.join(root, "node%d" % index)
        os.makedirs(self.dir)
        self.extra = [str(a) for a in extra]
        self.port = pick_port(cluster=True)
        self.proc = None
        self.logs = []

    def start(self, timeout=10.0):
        logpath = os.path.join(self.dir, "node-%d.log" % len(self.logs))
        self.logs.append(logpath)
        args = self.wrap + [BINARY, "--port", str(self.port), "--bind", self.host, "--dir", self.dir,
                "--cluster-enabled", "yes"] + self.extra
        if "--save" not in self.extra:
            args += ["--save", ""]
        with open(logpath, "wb") as logf:
            self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited:\n%s" % (self.index, self.log()))
            if ping(self.port, host=self.host):
                # Our process, not another that holds the port.
                pid = redis.Redis(host=self.host, port=self.port, socket_timeout=5).info(
                    "server").get("process_id")
                if pid != self.proc.pid:
                    raise RuntimeError("node %d: port %d answered by process %s, not %d:\n%s"
                                       % (self.index, self.port, pid, self.proc.pid,
                                          self.log()))
                return
            time.sleep(0.02)
        raise RuntimeError("node %d did not answer:\n%s" % (self.index, self.log()))

    def log(self):
        out = []
        for path in self.logs:
            try:
                with open(path, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        """kill -9 by PID and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout=10.0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        assert_no_sanitizer_report(self.log())


class Ring:
    """n nodes forming one ring (replicas copies per slot besides the
    primary), each started with the extra arguments; node i on hosts[i]
    and started through wraps[i] when given (see Node), with per_node[i]
    added to its arguments when given."""

    def __init__(self, n, replicas=0, extra=(), timeout_ms=1000, form=True,
                 hosts=None, wraps=None, per_node=None):
        self.root = tempfile.mkdtemp(prefix="ringcache-ring-")
        extra = ["--cluster-node-timeout", str(timeout_ms)] + list(extra)
        self.nodes = [Node(self.root, i, extra + (list(per_node[i]) if per_node else []),
                           host=hosts[i] if hosts else HOST, wrap=wraps[i] if wraps else ())
                      for i in range(n)]
        try:
            for node in self.nodes:
                node.start()
            if form:
                self.form(replicas)
        except BaseException:
            self.stop()
            raise

    def form(self, replicas=0, in_step=True):
        """RING CREATE on the first node, MEET the others, wait until all
        agree and (with replicas, unless in_step is False) until every
        replication stream is in step."""
        first = self.client(0)
        assert first.execute_command("RING", "CREATE", replicas) == "OK"
        for node in self.nodes[1:]:
            assert first.execute_command("CLUSTER", "MEET", node.host, node.port) == "OK"
        self.wait_converged()
        if replicas and in_step:
            self.wait_in_step()

    def wait_in_step(self, timeout=10.0):
        """Until every running node's replication stream is in step with
        every peer: nothing sent unacknowledged, no peer stale or being
        caught up.  A ring just formed is still checking the copies of the
        slots that moved while members were added (RING CREATE, MEETs);
        writes made then wait behind those checks for their acks, which
        on a loaded machine can outlast a min-replica-acks-timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = [(i, k, v) for i, n in enumerate(self.nodes) if n.proc.poll() is None
                        for k, v in self.client(i).info("replication").items()
                        if k.startswith("ring_peer") and isinstance(v, dict) and
                        (v["stale"] or v["resyncing"] or v["sent"] > v["acked"])]
                if not last:
                    return
            except redis.RedisError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("replication not in step: %r\n%s" % (last, self.evidence()))

    def evidence(self):
        """Each node's replication peers and the end of its log: what a
        stream out of step or a failed write on a quiet ring needs to be
        explained afterwards."""
        out = []
        for i, node in enumerate(self.nodes):
            try:
                peers = {k: v for k, v in self.client(i).info("replication").items()
                         if k.startswith("ring_peer")}
            except redis.RedisError as e:
                peers = e
            out.append("--- node %d: %r\n%s" % (i, peers, node.log()[-6000:]))
        return "\n".join(out)

    def wait_healthy(self, timeout=20.0):
        """Until every node runs, all agree, every member is `up` again (a
        node marked failed rejoined: caught up, proposed its return) and
        every node serves its slots."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                states = [self.state(i) for i in range(len(self.nodes))]
                last = {(s["epoch"], tuple(m["status"] for m in s["members"])) for s in states}
                if len(last) == 1 and all(st == "up" for st in next(iter(last))[1]):
                    self.wait_ready(max(0.1, deadline - time.monotonic()))
                    return states[0]
            except redis.RedisError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("ring not healthy: %r" % (last,))

    def wait_ready(self, timeout=10.0):
        """Until every running node says cluster_state:ok: it serves every
        slot it is primary of (its lease held, hand-over waits passed)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = [self.client(i).execute_command("CLUSTER", "INFO")
                        for i, n in enumerate(self.nodes) if n.proc.poll() is None]
                if all("cluster_state:ok" in info for info in last):
                    return
            except redis.RedisError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("ring not ready: %r" % (last,))

    def client(self, i, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host=self.nodes[i].host, port=self.nodes[i].port, **kw)

    def state(self, i):
        s = pairs(self.client(i).execute_command("RING", "STATE"))
        s["members"] = [pairs(m) for m in s["members"]]
        return s

    def wait_converged(self, timeout=10.0, members=None):
        """Until every running node has the same epoch and membership."""
        want = members if members is not None else len(self.nodes)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                states = [self.state(i) for i, n in enumerate(self.nodes)
                          if n.proc.poll() is None]
                keys = {(s["epoch"], tuple(m["id"] for m in s["members"])) for s in states}
                if len(keys) == 1 and len(states[0]["members"]) == want:
                    # Once every member is up and running, also until each
                    # serves its slots (hand-over waits passed).
                    if (len(states) == len(self.nodes)
                            and all(m["status"] == "up" for m in states[0]["members"])):
                        self.wait_ready(max(0.1, deadline - time.monotonic()))
                    return states[0]
                last = keys
            except redis.RedisError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("ring did not converge: %r" % (last,))

    def wait_serving(self, timeout=10.0):
        """Until every node reaches every other (DBSIZE fans out to all)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                for i in range(len(self.nodes)):
                    self.client(i).dbsize()
                return
            except redis.RedisError as e:
                last = e
                time.sleep(0.05)
        raise AssertionError("ring not serving: %r" % (last,))

    def owner(self, key):
        """Index of the node that is the key's primary."""
        slot, pref = self.client(0).execute_command("RING", "OWNERS", key)
        for entry in pref:
            e = pairs(entry)
            if e["role"] == "primary":
                port = int(e["addr"].rsplit(":", 1)[1])
                return [n.port for n in self.nodes].index(port)
        raise AssertionError("no primary for %r" % key)

    def slot_owners(self, via=0):
        """slot -> index of its primary node, from CLUSTER SLOTS."""
        ports = [n.port for n in self.nodes]
        table = {}
        for start, end, primary, *_ in self.client(via).execute_command("CLUSTER", "SLOTS"):
            for slot in range(start, end + 1):
                table[slot] = node_of_port(ports, primary[1])
        return table

    def keys_on(self, i, count, prefix="k"):
        """count key names whose primary is node i."""
        table = self.slot_owners()
        out, j = [], 0
        while len(out) < count and j < 100000:
            k = "%s:%d" % (prefix, j)
            if table[key_slot(k)] == i:
                out.append(k)
            j += 1
        return out

    def kill(self, i):
        self.nodes[i].kill()

    def restart(self, i):
        self.nodes[i].start()

    def stop(self):
        errors = []
        for node in self.nodes:
            try:
                node.stop()
            except AssertionError as e:
                errors.append(e)
        if os.environ.get("RC_KEEP_RINGS"):
            print("ring files kept in %s (RC_KEEP_RINGS)" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        if errors:
            raise errors[0]
