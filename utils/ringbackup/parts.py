"""Spread a bundle over K data parts and M parity parts (Reed-Solomon
erasure coding by zfec, Debian package python3-zfec, the library
Tahoe-LAFS uses); any K of the K+M parts rebuild it.

The bundle is cut into stripes of K blocks of BLOCK bytes (the last
stripe zero-padded); zfec turns each stripe into K+M blocks, of which the
first K are the data itself; part i holds block i of every stripe.  A
part file is

    RCPART1\\n
    one line of JSON: bundle (the file name), id (of this spread), k, n
        (= K+M), index, size (of the bundle), block, sha256 (of the bundle)
    the blocks
    32 bytes: SHA-256 of everything before

so a damaged or truncated part is recognised and passed over, and the
rebuilt bundle is checked against the bundle's SHA-256.
"""

import hashlib
import json
import os
import re
import uuid

MAGIC = b"RCPART1\n"
BLOCK = 1 << 20
SUFFIX = re.compile(r"\.part(\d+)of(\d+)$")


class PartsError(Exception):
    pass


def _zfec():
    try:
        import zfec
    except ImportError:
        raise PartsError("erasure coding needs zfec (install the Debian package python3-zfec)")
    return zfec


def parse_spec(spec):
    """(K, M) of a "K+M" spec."""
    m = re.fullmatch(r"(\d+)\+(\d+)", spec or "")
    if not m:
        raise PartsError("--erasure wants K+M, e.g. 3+2")
    k, p = int(m.group(1)), int(m.group(2))
    if k < 1 or p < 1 or k + p > 256:
        raise PartsError("--erasure K+M needs K >= 1, M >= 1 and K + M <= 256")
    return k, p


def part_name(bundle_name, index, n):
    return "%s.part%dof%d" % (bundle_name, index + 1, n)


def base_name(name):
    """The bundle name of a part file name (name itself for a bundle)."""
    return SUFFIX.sub("", name)


def is_part_name(name):
    return SUFFIX.search(name) is not None


def split(src, k, m, out_dir, block=BLOCK):
    """Write the K+M parts of the file src into out_dir; returns their
    paths in index order."""
    zfec = _zfec()
    n = k + m
    size = os.path.getsize(src)
    h = hashlib.sha256()
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    name = os.path.basename(src)
    head = {"bundle": name, "id": uuid.uuid4().hex, "k": k, "n": n, "size": size,
            "block": block, "sha256": h.hexdigest()}
    paths = [os.path.join(out_dir, part_name(name, i, n)) for i in range(n)]
    outs = [open(p, "wb") for p in paths]
    sums = [hashlib.sha256() for _ in range(n)]

    def put(i, data):
        outs[i].write(data)
        sums[i].update(data)

    try:
        for i in range(n):
            line = json.dumps(dict(head, index=i), sort_keys=True).encode() + b"\n"
            put(i, MAGIC + line)
        enc = zfec.Encoder(k, n)
        with open(src, "rb") as f:
            left = size
            while left > 0:
                stripe = f.read(k * block)
                left -= len(stripe)
                stripe += b"\0" * (k * block - len(stripe))
                blocks = [stripe[j * block:(j + 1) * block] for j in range(k)]
                for i, b in enumerate(enc.encode(blocks)):
                    put(i, b)
        for i in range(n):
            outs[i].write(sums[i].digest())
            outs[i].flush()
            os.fsync(outs[i].fileno())
    finally:
        for o in outs:
            o.close()
    return paths


def read_header(path):
    """The header dict of a part file, checked whole (trailing SHA-256);
    PartsError when it is not a sound part."""
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise PartsError("%s is not a bundle part" % path)
            line = f.readline(65536)
            head = json.loads(line)
            for key in ("bundle", "id", "k", "n", "index", "size", "block", "sha256"):
                if key not in head:
                    raise ValueError("no %s" % key)
            if not (0 <= head["index"] < head["n"] and 1 <= head["k"] < head["n"]
                    and head["block"] > 0 and head["size"] >= 0):
                raise ValueError("inconsistent numbers")
            body = len(MAGIC) + len(line)
            total = os.fstat(f.fileno()).st_size
            stripes = -(-head["size"] // (head["k"] * head["block"]))
            if total != body + stripes * head["block"] + 32:
                raise PartsError("%s: truncated or overlong part (%d bytes)" % (path, total))
            f.seek(0)
            h = hashlib.sha256()
            left = total - 32
            while left > 0:
                chunk = f.read(min(1 << 20, left))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
            if h.digest() != f.read(32):
                raise PartsError("%s: damaged part (SHA-256 mismatch)" % path)
    except (OSError, ValueError, TypeError) as e:
        raise PartsError("%s: not a readable bundle part (%s)" % (path, e))
    head["path"], head["offset"] = path, body
    return head


def join(paths, out, warn=lambda msg: None):
    """Rebuild a bundle at out from part files of one spread (any K sound
    ones among paths); warn(msg) is told of each part passed over.
    Returns the bundle's name."""
    zfec = _zfec()
    good = {}
    for p in paths:
        try:
            head = read_header(p)
        except PartsError as e:
            warn(str(e))
            continue
        good.setdefault(head["id"], {})[head["index"]] = head
    if not good:
        raise PartsError("no sound part among %d file(s)" % len(paths))
    spread = max(good.values(), key=len)
    first = next(iter(spread.values()))
    k, n, size, block = first["k"], first["n"], first["size"], first["block"]
    if len(spread) < k:
        raise PartsError("%s: %d sound part(s) of %d, %d needed" % (
            first["bundle"], len(spread), n, k))
    chosen = sorted(spread)[:k]
    dec = zfec.Decoder(k, n)
    files = [open(spread[i]["path"], "rb") for i in chosen]
    h = hashlib.sha256()
    tmp = out + ".joining"
    try:
        for f, i in zip(files, chosen):
            f.seek(spread[i]["offset"])
        with open(tmp, "wb") as o:
            left = size
            while left > 0:
                blocks = [f.read(block) for f in files]
                data = b"".join(dec.decode(blocks, chosen))[:left]
                o.write(data)
                h.update(data)
                left -= len(data)
            o.flush()
            os.fsync(o.fileno())
        if h.hexdigest() != first["sha256"]:
            raise PartsError("%s: the rebuilt bundle's SHA-256 does not match" % first["bundle"])
        os.replace(tmp, out)
    finally:
        for f in files:
            f.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return first["bundle"]
