"""The whole-ring bundle, ship side: take a consistent cut of the ring
(cut.py) and gather each node's share into one bundle.

A full ring bundle holds, for every member, the snapshot its RING CUT
child wrote: an RDB of the slots it was primary of at the cut.  An
incremental ring bundle holds, for every member, the bytes its
append-only log gained between the previous bundle's cut and this one
(replayed on top of the snapshot at restore, then filtered to the
member's primary slots).  It is made only while the ring is unchanged
(the same state epoch, so no failover, rejoin or membership change came
between, and the same primary for every slot) and every log still has
the same base and the files the previous cut pointed into; otherwise a
full bundle is made instead, and the reason said.

The bundle (a tar.gz, see files.write_tar) holds MANIFEST.json and
data/nodes/<id>/snapshot.rdb or data/nodes/<id>/log/<log file>.  The
manifest records: format ringcache-ring-bundle, version, kind, name, id,
parent, chain, time; ring (id, epoch, replicas, members); cut (pause_ms
overall, node_pause_ms and fork_usec per node, attempts); nodes (per
member: id, host, port, slots — the slots it was primary of, as ranges
"0-5 7 9-12", together the slot table — keys, aof position at the cut,
aof_from for incremental bundles, snapshot path, log segments); files
(path, size, SHA-256).

The files are read where the nodes keep them (CONFIG GET dir, or
--data-dir ID=PATH): the shipper runs on a host that sees every node's
data directory (the nodes' host, or a shared mount).
"""

import datetime
import os
import shutil
import tempfile
import time
import uuid

from . import cut
from .files import sha256_file, write_tar

FORMAT = "ringcache-ring-bundle"
VERSION = 1
AOF_HEADER = b"#RC ringcache-aof 1\r\n"


class ShipError(Exception):
    pass


def parse_manifest(text):
    """(base name or None, [incremental names]) of a Redis 7.0 manifest."""
    base, incr = None, []
    for line in text.splitlines():
        words = line.split()
        if not words or line.startswith("#"):
            continue
        kv = dict(zip(words[0::2], words[1::2]))
        if kv.get("type") == "b":
            base = kv.get("file")
        elif kv.get("type") == "i":
            incr.append(kv.get("file"))
    return base, incr


class Node:
    """A member and where its files are."""

    def __init__(self, member, datadir):
        self.m = member
        self.id = member.id
        self.dir = datadir
        self.appenddir = member.config("appenddirname") or "appendonlydir"
        self.appendfilename = member.config("appendfilename") or "appendonly.aof"
        self.staging = None

    def stage(self):
        if self.staging is None:
            self.staging = tempfile.mkdtemp(prefix=".ringcache-ship-", dir=self.dir)
        return self.staging

    def cleanup(self, cut_file):
        if self.staging:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if cut_file:
            try:
                os.unlink(os.path.join(self.dir, cut_file))
            except OSError:
                pass

    def pin_snapshot(self, cut_file):
        """Hard-link the cut's snapshot into staging (and remove it from the
        data directory); its staged path."""
        src = os.path.join(self.dir, cut_file)
        dst = os.path.join(self.stage(), "snapshot.rdb")
        try:
            os.link(src, dst)
        except OSError as e:
            raise ShipError("%s: cannot pin the cut snapshot %s: %s" % (self.id[:8], src, e))
        os.unlink(src)
        return dst

    def log_segments(self, frm, to):
        """The log bytes between positions frm and to ({base, file,
        offset}), pinned by hard links: [(file, staged path, offset, size)],
        or a string saying why they cannot be had."""
        if frm["base"] != to["base"]:
            return "the log of %s was rewritten since the last bundle" % self.id[:8]
        adir = os.path.join(self.dir, self.appenddir)
        manpath = os.path.join(adir, self.appendfilename + ".manifest")
        stage = os.path.join(self.stage(), "log")
        os.makedirs(stage, exist_ok=True)
        for _ in range(5):
            try:
                with open(manpath) as f:
                    mtext = f.read()
            except OSError as e:
                raise ShipError("%s: cannot read its log manifest: %s" % (self.id[:8], e))
            base, incr = parse_manifest(mtext)
            if (base or "") != to["base"] or frm["file"] not in incr or to["file"] not in incr:
                return "the log files of %s changed since the last bundle" % self.id[:8]
            names = incr[incr.index(frm["file"]):incr.index(to["file"]) + 1]
            if not names:
                return "the log of %s went backwards" % self.id[:8]
            try:
                for n in names:
                    dst = os.path.join(stage, n)
                    if os.path.exists(dst):
                        os.unlink(dst)
                    os.link(os.path.join(adir, n), dst)
            except FileNotFoundError:
                continue
            with open(manpath) as f:
                if f.read() == mtext:
                    break
        else:
            raise ShipError("%s: the log manifest keeps changing; try again" % self.id[:8])
        segs = []
        for n in names:
            path = os.path.join(stage, n)
            start = frm["offset"] if n == frm["file"] else 0
            end = to["offset"] if n == to["file"] else os.path.getsize(path)
            if start == 0:
                with open(path, "rb") as f:
                    if f.read(len(AOF_HEADER)) == AOF_HEADER:
                        start = len(AOF_HEADER)
            if end < start or os.path.getsize(path) < end:
                return "the log of %s is shorter than its cut position" % self.id[:8]
            segs.append((n, path, start, end - start))
        return segs


def data_dirs(members, overrides):
    """{member id: data directory} from CONFIG GET dir or overrides
    (ID=PATH or HOST:PORT=PATH, ID may be a prefix)."""
    out = {}
    for m in members:
        path = None
        for spec in overrides:
            if "=" not in spec:
                raise ShipError("--data-dir for a ring wants ID=PATH or HOST:PORT=PATH: %r" % spec)
            who, p = spec.split("=", 1)
            if who == "%s:%d" % (m.host, m.port) or (len(who) >= 6 and m.id.startswith(who)):
                path = p
        path = path or m.config("dir")
        if not path or not os.path.isdir(path) or not os.access(path, os.R_OK | os.W_OK):
            raise ShipError("member %s (%s:%d): its data directory %r is not reachable from "
                            "here; run on the nodes' host or give --data-dir %s=PATH"
                            % (m.id[:8], m.host, m.port, path, m.id[:8]))
        out[m.id] = os.path.abspath(path)
    return out


def primary_map(cuts):
    return {nid: c["slots"] for nid, c in cuts.items()}


class RingShip:
    """One whole-ring bundle in the making; close() removes what it
    staged (and any cut file left in a data directory)."""

    def __init__(self, args, log):
        self.args, self.log = args, log
        self.members = []
        self.nodes = {}
        self.cut_file = None
        self.state = cut.ring_state(args.host, args.port, args.password, args.timeout)
        self.members = cut.connect(self.state, args.password, args.timeout)
        dirs = data_dirs(self.members, args.data_dir_map)
        for m in self.members:
            self.nodes[m.id] = Node(m, dirs[m.id])

    def close(self):
        for n in self.nodes.values():
            n.cleanup(self.cut_file)
        for m in self.members:
            m.close()

    def take_cut(self, snapshot):
        self.cut_file = "ringbackup-%s.rdb" % uuid.uuid4().hex[:16] if snapshot else None
        cuts, timing, attempts = cut.take(self.members, self.args.max_pause, self.cut_file,
                                          self.args.cut_tries, self.args.timeout, self.log)
        timing["attempts"] = attempts
        return cuts, timing

    def incremental_files(self, prev, cuts):
        """{id: segments} continuing prev, or a reason string."""
        if prev is None:
            return "no previous ring bundle was shipped to this destination"
        if prev.get("ring") != self.state["ring"]:
            return "the previous bundle is of another ring"
        epoch = next(iter(cuts.values()))["epoch"]
        if prev.get("epoch") != epoch:
            return "the ring's state changed since the last bundle (epoch %s, now %d)" % (
                prev.get("epoch"), epoch)
        if prev.get("primary") != primary_map(cuts):
            return "the ring's members or slot primaries changed since the last bundle"
        out = {}
        for nid, c in cuts.items():
            frm = prev.get("aof", {}).get(nid)
            if not frm or not c["aof"]:
                return "member %s has no append-only log position to continue from" % nid[:8]
            segs = self.nodes[nid].log_segments(frm, c["aof"])
            if isinstance(segs, str):
                return segs
            out[nid] = segs
        return out

    def build(self, prev, incremental, name_prefix):
        """Cut the ring and write the bundle; returns (bundle path,
        manifest, state entry for the next incremental)."""
        kind = "incremental" if incremental else "full"
        cuts = timing = segments = None
        if kind == "incremental":
            cuts, timing = self.take_cut(False)
            segments = self.incremental_files(prev, cuts)
            if isinstance(segments, str):
                self.log("%s: making a full bundle" % segments)
                kind = "full"
        if kind == "full":
            cuts, timing = self.take_cut(True)
        self.log("cut of %d members at epoch %d: write pause %.1f ms (per node %s)%s" % (
            len(cuts), next(iter(cuts.values()))["epoch"], timing["pause_ms"],
            ", ".join("%.1f" % v for v in timing["node_pause_ms"].values()),
            "" if timing["attempts"] == 1 else ", %d tries" % timing["attempts"]))

        files, nodes = [], []
        for m in self.members:
            c = cuts[m.id]
            node = self.nodes[m.id]
            rec = {"id": m.id, "host": m.host, "port": m.port, "slots": c["slots"],
                   "keys": c["keys"], "aof": c["aof"], "snapshot": None, "log": []}
            if kind == "full":
                arc = "nodes/%s/snapshot.rdb" % m.id
                path = node.pin_snapshot(self.cut_file)
                files.append((arc, path, 0, os.path.getsize(path)))
                rec["snapshot"] = arc
            else:
                rec["aof_from"] = prev["aof"][m.id]
                for fname, path, off, size in segments[m.id]:
                    arc = "nodes/%s/log/%s" % (m.id, fname)
                    files.append((arc, path, off, size))
                    rec["log"].append({"path": arc, "file": fname, "offset": off, "size": size})
            nodes.append(rec)
        self.cut_file = None

        now = time.time()
        utc = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        name = "%s-%s-ring-%s" % (name_prefix, utc.strftime("%Y%m%dT%H%M%S.%fZ"),
                                  "full" if kind == "full" else "incr")
        bundle_id = uuid.uuid4().hex
        st = self.state
        ring_id = st["ring"]
        manifest = {
            "format": FORMAT, "version": VERSION, "kind": kind, "name": name, "id": bundle_id,
            "parent": prev["id"] if kind == "incremental" else None,
            "chain": prev["chain"] if kind == "incremental" else bundle_id,
            "time": now, "time_utc": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ring": {"id": ring_id, "epoch": next(iter(cuts.values()))["epoch"],
                     "replicas": int(st["replicas"]),
                     "members": [m.rec for m in self.members]},
            "cut": {"pause_ms": round(timing["pause_ms"], 3),
                    "node_pause_ms": {k: round(v, 3) for k, v in timing["node_pause_ms"].items()},
                    "fork_usec": {k: c["fork_usec"] for k, c in cuts.items()},
                    "attempts": timing["attempts"]},
            "nodes": nodes,
            "files": [{"path": a, "size": size, "sha256": sha256_file(p, off, size)}
                      for a, p, off, size in files],
        }
        first = self.nodes[self.members[0].id]
        out = os.path.join(first.stage(), name + ".bundle.tgz")
        write_tar(out, manifest, files, now, compresslevel=1)
        entry = {"id": bundle_id, "chain": manifest["chain"], "ring": ring_id,
                 "epoch": manifest["ring"]["epoch"],
                 "primary": primary_map(cuts),
                 "aof": {nid: c["aof"] for nid, c in cuts.items() if c["aof"]}}
        return out, manifest, entry
