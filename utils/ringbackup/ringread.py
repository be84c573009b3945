"""The whole-ring bundle, restore side: unpack and verify a bundle (and a
chain of them) completely before anything is restored, and rebuild each
member's data from it.

Verification refuses (VerifyError) a bundle whose tar cannot be read,
with a member that is not a regular file or whose path would leave the
unpacking directory, without a well-formed MANIFEST.json, with a file not
listed or missing, of the wrong size or SHA-256; whose members' slots do
not cover the 16384 slots exactly once;
and a chain that does not start with a full bundle, whose incremental
bundle does not name the bundle before it as parent, is of another ring
or slot table, or whose log does not continue where the previous
bundle's cut stopped.
"""

import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import zlib

from .cut import parse_ranges
from .ringship import AOF_HEADER, FORMAT, VERSION

SLOTS = 16384


class VerifyError(Exception):
    pass


def safe_path(rel):
    norm = posixpath.normpath(rel)
    if rel != norm or norm.startswith("/") or norm.startswith(".."):
        return False
    return all(part not in ("", ".", "..") for part in norm.split("/"))


def is_ring_bundle(tgz):
    """Does the (decrypted) bundle file hold a ring manifest?  None when
    it is no readable bundle at all."""
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for m in tar:
                if m.name == "MANIFEST.json" and m.isfile() and m.size < (64 << 20):
                    return json.loads(tar.extractfile(m).read()).get("format") == FORMAT
                return False
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error):
        return None
    return False


class RingBundle:
    """A ring bundle unpacked into workdir and verified."""

    def __init__(self, tgz, workdir, label):
        self.path, self.dir = label, workdir
        seen = {}
        manifest = None
        try:
            with tarfile.open(tgz, "r:gz") as tar:
                for m in tar:
                    if not m.isfile():
                        raise VerifyError("%s: unexpected member %s" % (label, m.name))
                    if m.name == "MANIFEST.json":
                        if manifest is not None or m.size > (64 << 20):
                            raise VerifyError("%s: bad MANIFEST.json member" % label)
                        manifest = tar.extractfile(m).read()
                        continue
                    rel = m.name[5:]
                    if not m.name.startswith("data/") or not safe_path(rel) or rel in seen:
                        raise VerifyError("%s: unexpected member %s" % (label, m.name))
                    dst = os.path.join(workdir, rel)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    h = hashlib.sha256()
                    size = 0
                    src = tar.extractfile(m)
                    with open(dst, "wb") as out:
                        for chunk in iter(lambda: src.read(1 << 20), b""):
                            h.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                    seen[rel] = (size, h.hexdigest())
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise VerifyError("%s: not a readable bundle (%s)" % (label, e))
        if manifest is None:
            raise VerifyError("%s: no MANIFEST.json" % label)
        try:
            self.m = json.loads(manifest)
            self._check_manifest(seen)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise VerifyError("%s: bad MANIFEST.json (%s)" % (label, e))

    def _check_manifest(self, seen):
        m, label = self.m, self.path
        if m.get("format") != FORMAT or m.get("version") != VERSION:
            raise ValueError("not a %s version %d manifest" % (FORMAT, VERSION))
        if m["kind"] not in ("full", "incremental"):
            raise ValueError("unknown kind")
        listed = {}
        for f in m["files"]:
            if not isinstance(f["path"], str) or not safe_path(f["path"]) or f["path"] in listed:
                raise ValueError("bad or repeated path %r" % (f["path"],))
            listed[f["path"]] = f
        if set(listed) != set(seen):
            raise VerifyError("%s: files %s do not match the manifest" % (
                label, sorted(set(listed) ^ set(seen))))
        for rel, f in listed.items():
            size, digest = seen[rel]
            if size != f["size"]:
                raise VerifyError("%s: %s has %d bytes, the manifest says %d" % (
                    label, rel, size, f["size"]))
            if digest != f["sha256"]:
                raise VerifyError("%s: SHA-256 mismatch for %s" % (label, rel))
        owner = [None] * SLOTS
        for n in m["nodes"]:
            for s, e in parse_ranges(n["slots"]):
                for slot in range(s, e + 1):
                    if owner[slot] is not None:
                        raise ValueError("slot %d has two primaries" % slot)
                    owner[slot] = n["id"]
            if m["kind"] == "full" and n["snapshot"] not in listed:
                raise ValueError("node %s has no snapshot" % n["id"])
            for seg in n["log"]:
                if seg["path"] not in listed or not safe_path(seg["file"]):
                    raise ValueError("node %s: bad log segment" % n["id"])
            if m["kind"] == "incremental" and not n.get("aof_from"):
                raise ValueError("node %s: no aof_from" % n["id"])
        if None in owner:
            raise ValueError("slot %d has no primary" % owner.index(None))

    @property
    def kind(self):
        return self.m["kind"]

    def node(self, nid):
        for n in self.m["nodes"]:
            if n["id"] == nid:
                return n
        raise VerifyError("%s: no member %s" % (self.path, nid))

    def file(self, rel):
        return os.path.join(self.dir, rel)


def slots_of(bundle):
    return {n["id"]: n["slots"] for n in bundle.m["nodes"]}


def check_chain(chain):
    if not chain:
        raise VerifyError("no bundle given")
    first = chain[0]
    if first.kind != "full":
        raise VerifyError("%s: a chain must start with a full bundle" % first.path)
    for prev, b in zip(chain, chain[1:]):
        if b.kind != "incremental":
            raise VerifyError("%s: a full bundle inside a chain" % b.path)
        if b.m["parent"] != prev.m["id"] or b.m["chain"] != first.m["id"]:
            raise VerifyError("%s: broken chain: its parent is not %s" % (b.path, prev.path))
        if b.m["ring"]["id"] != first.m["ring"]["id"] or slots_of(b) != slots_of(first):
            raise VerifyError("%s: another ring or slot table than %s" % (b.path, first.path))
        for n in b.m["nodes"]:
            if n["aof_from"] != prev.node(n["id"])["aof"]:
                raise VerifyError("%s: gap in the chain: the log of %s continues from %s, %s "
                                  "stopped at %s" % (b.path, n["id"][:8], n["aof_from"],
                                                     prev.path, prev.node(n["id"])["aof"]))


def node_data(chain, nid, work):
    """Build member nid's data of the chain in the directory work; returns
    the ringcached arguments that load it."""
    snap = chain[0].file(chain[0].node(nid)["snapshot"])
    if len(chain) == 1:
        os.link(snap, os.path.join(work, "dump.rdb"))
        return ["--dbfilename", "dump.rdb"]
    adir = os.path.join(work, "appendonlydir")
    os.mkdir(adir)
    os.link(snap, os.path.join(adir, "restore.aof.1.base.rdb"))
    names, ends = {}, {}
    for b in chain[1:]:
        for seg in b.node(nid)["log"]:
            src = seg["file"]
            if src not in names:
                names[src] = "restore.aof.%d.incr.aof" % (len(names) + 1)
                with open(os.path.join(adir, names[src]), "wb") as out:
                    out.write(AOF_HEADER)
            elif ends[src] != seg["offset"]:
                raise VerifyError("%s: gap in the log of %s: %s continues at %d, %d restored"
                                  % (b.path, nid[:8], src, seg["offset"], ends[src]))
            with open(os.path.join(adir, names[src]), "ab") as out, \
                    open(b.file(seg["path"]), "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
            ends[src] = seg["offset"] + seg["size"]
    lines = ["file restore.aof.1.base.rdb seq 1 type b"]
    for i, n in enumerate(sorted(names.values(), key=lambda x: int(x.split(".")[2]))):
        lines.append("file %s seq %d type i" % (n, i + 1))
    with open(os.path.join(adir, "restore.aof.manifest"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return ["--appendonly", "yes", "--appenddirname", "appendonlydir",
            "--appendfilename", "restore.aof", "--dbfilename", "restore-unused.rdb"]
