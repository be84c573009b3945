"""Checks of the partition tests (test_partition.py), on top of
faultutil's Writers and verify():

- acks_without_lease: writes a node on the minority side acknowledged
  after its lease must have run out (MinorityWrites keeps asking);
- majority_serves: the majority side writes and reads every slot;
- story: the nodes' logged state changes, to print when something fails.

A cut is any object with .side (minority node indices), .rest, .at and
.healed (time.monotonic() when the last rule went in and before the
first went out) and .at_wall, .healed_wall (the same in time.time())."""

import datetime
import re
import threading
import time

import redis
from redis.crc import key_slot as bytes_slot

from conftest import node_of_port
from ringutil import key_slot

T_S = 1.0                               # cluster-node-timeout of the tests
LEASE_END_S = (T_S / 2) / 0.9           # liveness.h: a lease ends L / RATE_MIN after its ping


def acks_without_lease(acks, cuts):
    """Of acks, (node, key, time sent, time acked) as in Writers.acks,
    the writes a minority node acknowledged, sent once its lease had run
    out and answered before the heal: in that interval it could reach no
    lease holder, so it served them itself without a lease."""
    bad = []
    for node, key, sent, acked in list(acks):
        for c in cuts:
            if node in c.side and c.at + LEASE_END_S <= sent and acked < c.healed:
                bad.append((node, key, round(sent - c.at, 3), round(acked - c.at, 3)))
    return bad


class MinorityWrites:
    """While a cut lasts, one thread per minority node SETs keys through
    it in the slots it could acknowledge alone with its side: those it is
    primary of whose first successor is on its side too (min-replica-acks
    1), or else all it is primary of.  The writers of faultutil mostly
    wait on forwards to the other side; these keep asking the minority's
    own primaries.  Acks are logged as in Writers.acks; the keys are not
    read back (their loss is what known gap (a) describes)."""

    def __init__(self, ring, side, holders, tag):
        self.ring, self.acks, self.stop = ring, [], threading.Event()
        self.threads = []
        slot_keys()             # filled here, not by the threads at once
        for node in side:
            mine = [s for s, h in holders.items() if h[0] == node]
            pair = [s for s in mine if len(holders[s]) > 1 and holders[s][1] in side]
            self.threads.append(threading.Thread(
                target=self.run, args=(node, pair or mine, tag), daemon=True))
        for t in self.threads:
            t.start()

    def run(self, node, slots, tag):
        r = self.ring.client(node, socket_timeout=3)
        keys = _SLOT_KEYS
        for i in range(100000):
            if self.stop.is_set():
                return
            key = "{%s}:%s:%d" % (keys[slots[i % len(slots)]], tag, i)
            sent = time.monotonic()
            try:
                if r.set(key, "m"):
                    self.acks.append((node, key, sent, time.monotonic()))
            except redis.RedisError:
                time.sleep(0.01)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        return self.acks


_SLOT_KEYS = {}


def slot_keys():
    """One key name per hash slot (its hash tag, to build keys from)."""
    if not _SLOT_KEYS:
        j = 0
        while len(_SLOT_KEYS) < 16384:
            _SLOT_KEYS.setdefault(bytes_slot(b"s%d" % j), "s%d" % j)
            j += 1
    return _SLOT_KEYS


def slot_holders(ring, via=0):
    """slot -> the nodes holding it, its primary first (CLUSTER SLOTS)."""
    ports = [n.port for n in ring.nodes]
    out = {}
    for start, end, *holders in ring.client(via).execute_command("CLUSTER", "SLOTS"):
        h = tuple(node_of_port(ports, x[1]) for x in holders)
        for slot in range(start, end + 1):
            out[slot] = h
    return out


def _pipelined(clients, reconnect, cmds):
    """Run (slot, fn) pairs, fn(pipe), in batches over the clients in
    turn; {slot: reply}, replies of a batch whose connection failed
    missing."""
    out, items = {}, list(cmds)
    for b in range(0, len(items), 1024):
        batch, k = items[b:b + 1024], (b // 1024) % len(clients)
        pipe = clients[k].pipeline(transaction=False)
        for _, fn in batch:
            fn(pipe)
        try:
            out.update(zip((s for s, _ in batch), pipe.execute(raise_on_error=False)))
        except (redis.ConnectionError, redis.TimeoutError):
            clients[k] = reconnect(k)
    return out


def majority_serves(ring, w, via, tag, holders, deadline):
    """Through the nodes via (the majority), until deadline: SET a fresh
    key in every slot of which the majority holds two copies or more
    (the keys join w's checker) and GET one in every slot it can serve.
    A slot with one copy there cannot reach min-replica-acks 1: it must
    answer NOREPLICAS, nothing else.  A slot whose first two members (its
    holders: src/holders.h) are both cut off cannot be served by the
    majority (its other copies may lack acknowledged writes): it must
    answer CLUSTERDOWN.  Returns (slots never written, slots never read,
    slots with one copy or no holder answering otherwise, how many
    slots have one copy, how many no holder)."""
    keys = {s: "{%s}:%s" % (k, tag) for s, k in slot_keys().items()}
    cut = {s for s, h in holders.items() if not any(x in via for x in h[:2])}
    single = {s for s, h in holders.items()
              if len([x for x in h if x in via]) < 2 and s not in cut}
    to_write = {s for s in keys if s not in single and s not in cut}
    to_read = {s for s in keys if s not in cut}
    clients = [ring.client(v, socket_timeout=3) for v in via]

    def reconnect(k):
        return ring.client(via[k], socket_timeout=3)
    with w.lock:
        for s in to_write:
            w.attempted[keys[s]] = tag
    while (to_write or to_read) and time.monotonic() < deadline:
        got = _pipelined(clients, reconnect, [(s, lambda p, k=keys[s]: p.set(k, tag))
                                              for s in sorted(to_write)])
        with w.lock:
            for s, rep in got.items():
                if rep is True:
                    w.acked[keys[s]] = tag
                    to_write.discard(s)
        got = _pipelined(clients, reconnect, [(s, lambda p, k=keys[s]: p.get(k))
                                              for s in sorted(to_read)])
        to_read -= {s for s, rep in got.items() if not isinstance(rep, Exception)}
        if to_write or to_read:
            time.sleep(0.1)
    got = _pipelined(clients, reconnect, [(s, lambda p, k=keys[s]: p.set(k, tag))
                                          for s in sorted(single)])
    odd = sorted(s for s, rep in got.items() if not str(rep).startswith("NOREPLICAS"))
    got = _pipelined(clients, reconnect, [(s, lambda p, k=keys[s]: p.get(k))
                                          for s in sorted(cut)])
    odd += sorted(s for s, rep in got.items() if not str(rep).startswith("CLUSTERDOWN"))
    return sorted(to_write), sorted(to_read), odd, len(single), len(cut)


def explain(w, cuts, holders, problems):
    """Lines relating each problem's key to the last cut: its slot's
    holders, the last acknowledged attempts (node, sent, acked, seconds
    from the cut) and the last failed ones (node, sent, error)."""
    t0 = cuts[-1].at
    acks, fails = {}, {}
    for node, key, sent, acked in list(w.acks):
        acks.setdefault(key, []).append((node, round(sent - t0, 3), round(acked - t0, 3)))
    for node, key, sent, word in list(w.failures):
        fails.setdefault(key, []).append((node, round(sent - t0, 3), word))
    return ["%s %s slot %d holders %r acked %r failed %r" % (
        kind, key, key_slot(key), holders.get(key_slot(key)), acks.get(key, [])[-3:],
        fails.get(key, [])[-3:]) for kind, key, *_ in problems[:10]]


_LINE = re.compile(r"^\d+:M (\d\d \w\w\w \d{4} [\d:.]+) [*#] (.*)$")
_STORY = ("Cluster state epoch", "marked failed", "asking to mark", "proposing its return")


def story(ring):
    """[(wall time, node index, message)] of the nodes' logged state
    changes, failure marks asked for and returns, in time order."""
    out = []
    for i, node in enumerate(ring.nodes):
        for line in node.log().splitlines():
            m = _LINE.match(line)
            if m and any(k in m.group(2) for k in _STORY):
                at = datetime.datetime.strptime(m.group(1), "%d %b %Y %H:%M:%S.%f").timestamp()
                out.append((at, i, m.group(2)))
    return sorted(out)


