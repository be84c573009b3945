"""A consistent cut of a whole ring: RING CUT on every up member, then
CLIENT UNPAUSE on every member once all have answered.

Each node's RING CUT PAUSE <ms> holds its client writes (writes forwarded
from peers included) from its cut on; the unpause goes out only when every
node has cut, so no write inside one node's cut follows a write left out
of another's.  The pause a node sees lasts from its RING CUT to its CLIENT
UNPAUSE: at most the time from sending the first to reading the reply of
the second, which is what is measured and reported (an upper bound).  If
that time exceeds the pause timeout, a node may have resumed writes by
itself before others cut: the cut is discarded and taken again.

A cut is accepted only when every node answered for the same state epoch,
and their slots cover the 16384 slots exactly once.
"""

import time

from .resp import Conn, RespError, pairs, text

SLOTS = 16384


class CutError(Exception):
    pass


class Retry(CutError):
    """A cut that may succeed when taken again (the ring was busy or
    changing)."""


class Member:
    """An up member of the ring, with a connection of its own."""

    def __init__(self, rec, password, timeout):
        self.id = text(rec["id"])
        self.host = text(rec["host"])
        self.port = int(rec["port"])
        self.rec = {k: text(v) for k, v in rec.items()}
        try:
            self.conn = Conn(self.host, self.port, password, timeout)
        except (OSError, RespError) as e:
            raise CutError("cannot reach member %s at %s:%d: %s" % (
                self.id[:8], self.host, self.port, e))

    def config(self, name):
        r = self.conn.call("CONFIG", "GET", name)
        return text(r[1]) if r and len(r) >= 2 else None

    def info(self, section):
        out = {}
        for line in text(self.conn.call("INFO", section)).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v.strip()
        return out

    def close(self):
        self.conn.close()


def ring_state(host, port, password, timeout):
    """The ring's state (RING STATE) as told by the node at host:port."""
    with Conn(host, port, password, timeout) as c:
        try:
            st = pairs(c.call("RING", "STATE"))
        except RespError as e:
            raise CutError("%s:%d: RING STATE: %s (is it a ring node?)" % (host, port, e))
    st["members"] = [pairs(m) for m in st["members"]]
    st["ring"] = text(st["ring"])
    if not st.get("epoch"):
        raise CutError("%s:%d is not in a ring yet" % (host, port))
    return st


def connect(state, password, timeout):
    """A Member for each up member of state; CutError if a member is not
    up (its slots may be served by another, but a backup waits for a
    whole ring)."""
    down = [text(m["id"])[:8] for m in state["members"] if text(m["status"]) != "up"]
    if down:
        raise Retry("members not up: %s" % ", ".join(down))
    members = []
    try:
        for m in state["members"]:
            members.append(Member(m, password, timeout))
    except BaseException:
        for m in members:
            m.close()
        raise
    return members


def _parse(member, reply):
    if isinstance(reply, RespError):
        if reply.code in ("TRYAGAIN", "BUSY"):
            raise Retry("%s: %s" % (member.id[:8], reply))
        raise CutError("%s: RING CUT: %s" % (member.id[:8], reply))
    r = pairs(reply)
    aof = r.get("aof")
    return {"epoch": int(r["epoch"]), "id": text(r["id"]), "keys": int(r["keys"]),
            "fork_usec": int(r["fork_usec"]), "slots": text(r["slots"]),
            "aof": None if aof is None else {"base": text(aof[0]), "file": text(aof[1]),
                                             "offset": int(aof[2])}}


def parse_ranges(text):
    """[[start, end], ...] of a "0-5 7 9-12" range string."""
    out = []
    for word in text.split():
        s, _, e = word.partition("-")
        s, e = int(s), int(e or s)
        if not 0 <= s <= e < SLOTS:
            raise ValueError("bad slot range %r" % word)
        out.append([s, e])
    return out


def check_partition(cuts):
    """The cuts' slots cover every slot exactly once, at one epoch."""
    epochs = {c["epoch"] for c in cuts.values()}
    if len(epochs) != 1:
        raise Retry("the ring changed state during the cut (epochs %s)" % sorted(epochs))
    owner = [None] * SLOTS
    for nid, c in cuts.items():
        for s, e in parse_ranges(c["slots"]):
            for slot in range(s, e + 1):
                if owner[slot] is not None:
                    raise Retry("slot %d claimed by %s and %s" % (slot, owner[slot][:8], nid[:8]))
                owner[slot] = nid
    missing = owner.count(None)
    if missing:
        raise Retry("%d slots served by no member at the cut" % missing)


def cut_once(members, pause_ms, snapshot):
    """One cut.  Returns {member id: cut} and the timings: pause_ms (first
    RING CUT sent to last CLIENT UNPAUSE answered) and node_pause_ms
    {id: RING CUT sent to its CLIENT UNPAUSE answered}."""
    words = ["RING", "CUT", "PAUSE", str(int(pause_ms))]
    if snapshot:
        words += ["SNAPSHOT", snapshot]
    sent, done = {}, {}
    replies = {}
    t0 = time.monotonic()
    try:
        for m in members:
            sent[m.id] = time.monotonic()
            m.conn.send(words)
        for m in members:
            replies[m.id] = m.conn.read(1)[0]
    finally:
        # Every node is unpaused whatever happened; a node that did not cut
        # has nothing to resume (CLIENT UNPAUSE is then a no-op).
        unpause_sent = time.monotonic()
        errors = []
        for m in members:
            try:
                m.conn.send(("CLIENT", "UNPAUSE"))
            except OSError as e:
                errors.append("%s: %s" % (m.id[:8], e))
        for m in members:
            try:
                m.conn.read(1)
                done[m.id] = time.monotonic()
            except OSError as e:
                errors.append("%s: %s" % (m.id[:8], e))
    t1 = time.monotonic()
    if errors:
        raise CutError("lost a node during the cut: %s" % "; ".join(errors))
    cuts = {m.id: _parse(m, replies[m.id]) for m in members}
    if (unpause_sent - t0) * 1000 >= pause_ms:
        raise Retry("the cut took %.0f ms, longer than the pause timeout (%d ms): a node "
                    "may have resumed writes early" % ((unpause_sent - t0) * 1000, pause_ms))
    for m in members:
        if cuts[m.id]["id"] != m.id:
            raise CutError("%s:%d answered as %s, the state says %s" % (
                m.host, m.port, cuts[m.id]["id"], m.id))
    check_partition(cuts)
    timing = {"pause_ms": (t1 - t0) * 1000,
              "node_pause_ms": {m.id: (done[m.id] - sent[m.id]) * 1000 for m in members}}
    return cuts, timing


def wait_idle(members, timeout):
    """Until no member runs a snapshot or rewrite child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for m in members:
            inf = m.info("persistence")
            if inf.get("rdb_bgsave_in_progress") == "1" or inf.get("aof_rewrite_in_progress") == "1":
                busy = True
            elif text(m.conn.call("RING", "CUT", "STATUS")[0]) == "running":
                busy = True
        if not busy:
            return
        time.sleep(0.05)
    raise CutError("a snapshot or rewrite child kept running for %s seconds" % timeout)


def wait_snapshots(members, timeout):
    """Until every member's cut snapshot child finished; CutError if one
    failed."""
    deadline = time.monotonic() + timeout
    left = list(members)
    while left and time.monotonic() < deadline:
        for m in list(left):
            state = text(m.conn.call("RING", "CUT", "STATUS")[0])
            if state == "ok":
                left.remove(m)
            elif state != "running":
                raise CutError("%s: the cut snapshot failed (%s); see its log" % (m.id[:8], state))
        if left:
            time.sleep(0.02)
    if left:
        raise CutError("the cut snapshots did not finish within %s seconds" % timeout)


def take(members, pause_ms, snapshot, tries, timeout, log=lambda msg: None):
    """A consistent cut of the ring, retried up to tries times while the
    ring is busy or changing; with snapshot, waits for every node's file.
    Returns (cuts, timing, attempts)."""
    for attempt in range(1, tries + 1):
        try:
            if snapshot:
                wait_idle(members, timeout)
            cuts, timing = cut_once(members, pause_ms, snapshot)
            if snapshot:
                wait_snapshots(members, timeout)
            return cuts, timing, attempt
        except Retry as e:
            if attempt == tries:
                raise CutError("no consistent cut after %d tries: %s" % (tries, e))
            log("cut not taken (%s); trying again" % e)
            time.sleep(min(2.0, 0.1 * 2 ** attempt))
    raise CutError("no cut")
