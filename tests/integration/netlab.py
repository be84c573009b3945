"""Network namespaces for the partition tests: each node in its own
namespace, all routed through a hub namespace, every node reachable from
the test process, and partitions between nodes made and healed on demand.

    lab = NetLab(3)                  # needs root and `ip netns`
    try:
        ring = Ring(3, ..., hosts=lab.hosts, wraps=lab.wraps)
        lab.cut([0], [1, 2], "drop")    # node 0 and nodes 1, 2 part
        ...
        lab.heal()
    finally:
        lab.close()                  # after the nodes were stopped

Wiring (A.B random in 10.200-249.x, a /24 no route of the host covers):
node i lives in namespace TAG-i with one interface, eth0 =
10.A.B.(4i+2)/30, default route via the hub's end of its veth pair,
10.A.B.(4i+1), in namespace TAG-hub, which forwards between its links.
The test process reaches the nodes through one more veth pair, TAG-up
(10.A.B.253/30, in the host's namespace) to the hub's 10.A.B.254, and a
host route for 10.A.B.0/24 over it; deleting that link removes the
route, and deleting a namespace removes its links.  Nothing else of the
host is touched: no sysctl (forwarding is on in the hub only), no
firewall.

Partitions cut node-to-node traffic only (clients in the test process
always reach every node), both directions of every pair across the cut:
- "drop": `ip rule ... blackhole` in the hub: packets vanish silently,
  connects and sends hang (a cable pulled somewhere on the path);
- "reject": `ip route add prohibit PEER` in each node's namespace: a
  connect or send fails at once with EACCES (a firewall that refuses)."""

import ipaddress
import os
import random
import shutil
import subprocess

IP = shutil.which("ip") or "/usr/sbin/ip"
RULE_PREF = "4000"


def why_unavailable():
    """None when this process can build a NetLab, else the reason."""
    if os.geteuid() != 0:
        return "partition tests need root (network namespaces)"
    if not os.access(IP, os.X_OK):
        return "no `ip` command (iproute2)"
    p = subprocess.run([IP, "netns", "list"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if p.returncode != 0:
        return "`ip netns` unavailable: " + p.stdout.decode(errors="replace").strip()
    return None


def _run(*args):
    p = subprocess.run([IP] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    if p.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), p.stdout.decode(errors="replace")))


def _free_subnet(rng):
    """A 10.A.B.0/24 that no route of the host's namespace overlaps."""
    out = subprocess.run([IP, "-4", "route", "show", "table", "all"], stdout=subprocess.PIPE,
                         timeout=20).stdout.decode()
    used = []
    for line in out.splitlines():
        dest = line.split()[0] if line.split() else ""
        if dest in ("default", "broadcast", "local", "unreachable", "prohibit", "blackhole"):
            dest = line.split()[1] if len(line.split()) > 1 else ""
        try:
            used.append(ipaddress.ip_network(dest, strict=False))
        except ValueError:
            continue
    for _ in range(200):
        net = ipaddress.ip_network("10.%d.%d.0/24" % (rng.randrange(200, 250), rng.randrange(256)))
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise RuntimeError("no free 10.x subnet for the partition lab")


class NetLab:
    def __init__(self, n, rng=None):
        rng = rng or random.Random()
        self.tag = "rcp%05d" % rng.randrange(100000)
        self.hub = self.tag + "-hub"
        self.spaces = []        # namespaces made, for close()
        self.uplink = None      # the host end of the test process's veth
        self.rules = []         # argument lists that undo each cut rule
        net = _free_subnet(rng)
        base = int(net.network_address)
        self.addr = lambda k: str(ipaddress.ip_address(base + k))
        self.hosts = [self.addr(4 * i + 2) for i in range(n)]
        self.wraps = [[IP, "netns", "exec", "%s-%d" % (self.tag, i)] for i in range(n)]
        try:
            self._build(n)
        except BaseException:
            self.close()
            raise

    def _space(self, name):
        _run("netns", "add", name)
        self.spaces.append(name)
        _run("-n", name, "link", "set", "lo", "up")

    def _build(self, n):
        self._space(self.hub)
        # Forwarding in the hub's namespace only (a fresh namespace's own
        # copy of the setting; the host's is left alone).
        _run("netns", "exec", self.hub, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for i in range(n):
            ns, hub_end = "%s-%d" % (self.tag, i), "%s-h%d" % (self.tag, i)
            self._space(ns)
            _run("link", "add", hub_end, "netns", self.hub, "type", "veth",
                 "peer", "name", "eth0", "netns", ns)
            _run("-n", self.hub, "addr", "add", self.addr(4 * i + 1) + "/30", "dev", hub_end)
            _run("-n", self.hub, "link", "set", hub_end, "up")
            _run("-n", ns, "addr", "add", self.hosts[i] + "/30", "dev", "eth0")
            _run("-n", ns, "link", "set", "eth0", "up")
            _run("-n", ns, "route", "add", "default", "via", self.addr(4 * i + 1))
        _run("link", "add", self.tag + "-up", "type", "veth", "peer", "name", "up0",
             "netns", self.hub)
        self.uplink = self.tag + "-up"
        _run("addr", "add", self.addr(253) + "/30", "dev", self.uplink)
        _run("link", "set", self.uplink, "up")
        _run("-n", self.hub, "addr", "add", self.addr(254) + "/30", "dev", "up0")
        _run("-n", self.hub, "link", "set", "up0", "up")
        _run("route", "add", self.addr(0) + "/24", "via", self.addr(254), "dev", self.uplink)

    def cut(self, side_a, side_b, how):
        """Part every node of side_a from every node of side_b (indices),
        both ways; how is "drop" (silent) or "reject" (EACCES)."""
        assert how in ("drop", "reject")
        for a in side_a:
            for b in side_b:
                for x, y in ((a, b), (b, a)):
                    if how == "drop":
                        args = ["-n", self.hub, "rule", "%s", "pref", RULE_PREF,
                                "from", self.hosts[x], "to", self.hosts[y], "blackhole"]
                    else:
                        args = ["-n", "%s-%d" % (self.tag, x), "route", "%s",
                                "prohibit", self.hosts[y]]
                    verb = args.index("%s")
                    _run(*(args[:verb] + ["add"] + args[verb + 1:]))
                    self.rules.append(args[:verb] + ["del"] + args[verb + 1:])

    def heal(self):
        """Remove every cut rule made so far."""
        while self.rules:
            _run(*self.rules.pop())

    def close(self):
        """Undo everything this lab made (best effort, errors ignored):
        rules, the host's link (and with it its route), the namespaces
        (and with them their links).  Stop the nodes first."""
        for args in reversed(self.rules):
            subprocess.run([IP] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.rules = []
        if self.uplink:
            subprocess.run([IP, "link", "del", self.uplink],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.uplink = None
        for name in reversed(self.spaces):
            subprocess.run([IP, "netns", "del", name],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.spaces = []
