#!/usr/bin/python3
"""Start a local ring of ringcached nodes for the client tests, the same
way compat.py --ring does (compat.Ring: every node on 127.0.0.1, its own
temporary directory and process group, cluster-replicas 0).

As a module: ring_up.start(n, port_base) returns a started compat.Ring;
its stop() stops every node by PID.

As a program (for the ioredis tests):

    /usr/bin/python3 ring_up.py [--nodes 3] [--port-base 22400]

prints one line, {"ports": [...]} as JSON, once the ring is formed, then
waits until its standard input is closed (or SIGTERM/SIGHUP/SIGINT), stops
every node by PID and exits.  The binary is $RINGCACHED, default
src/ringcached of this tree.
"""
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import compat  # noqa: E402  (redis-compat/compat.py)

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BINARY = os.environ.get("RINGCACHED", os.path.join(ROOT, "src", "ringcached"))


def start(n=3, port_base=22300, binary=BINARY):
    """A formed n-node ring on free ports from port_base; retried on
    higher ports if another program takes one meanwhile."""
    base = port_base
    for _ in range(5):
        ring = compat.Ring(binary, compat.pick_ports(base, n, cluster=True))
        try:
            ring.start()
            return ring
        except compat.PortTaken:
            ring.stop()
            base = max(node.port for node in ring.nodes) + 1
        except BaseException:
            ring.stop()
            raise
    raise RuntimeError("no free ports for a ring from %d" % port_base)


def key_on(ring, node, prefix="k", owners=None):
    """A key (bytes) whose slot the ring's node number node serves."""
    owners = owners or ring.owners()
    for i in range(100000):
        key = b"%s%d" % (prefix.encode(), i)
        if owners.get(compat.key_slot(key)) == node:
            return key
    raise RuntimeError("no key for node %d" % node)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--port-base", type=int, default=22400)
    opts = ap.parse_args(argv)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    ring = None
    try:
        ring = start(opts.nodes, opts.port_base)
        print(json.dumps({"ports": [n.port for n in ring.nodes]}), flush=True)
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if ring is not None:
            ring.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
