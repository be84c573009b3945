"""Files of bundles: SHA-256 of file ranges, the bundle tar (MANIFEST.json
then data files, gzip-compressed), syncing directories."""

import gzip
import hashlib
import io
import json
import os
import tarfile


class ShrankError(Exception):
    """A pinned file shrank while being read."""


def sha256_file(path, offset=0, size=None):
    """SHA-256 (hex) of size bytes of path from offset (to the end when
    size is None)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        left = size
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()


class LimitedReader:
    """A file object that yields exactly size bytes of f (ShrankError if
    f ends first)."""

    def __init__(self, f, size):
        self.f, self.left = f, size

    def read(self, n=-1):
        if n < 0 or n > self.left:
            n = self.left
        data = self.f.read(n)
        if len(data) < n:
            raise ShrankError("a pinned file shrank while being bundled")
        self.left -= len(data)
        return data


def write_tar(out, manifest, files, mtime, compresslevel=9):
    """Write the bundle file out: a gzip-compressed tar holding
    MANIFEST.json (the manifest dict as JSON) and, for each (archive path,
    file path, offset, size) of files, size bytes of the file from offset
    as data/<archive path>."""
    with open(out, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=int(mtime),
                           compresslevel=compresslevel) as gz:
            with tarfile.open(fileobj=gz, mode="w") as tar:
                blob = json.dumps(manifest, indent=1, sort_keys=True).encode()
                ti = tarfile.TarInfo("MANIFEST.json")
                ti.size = len(blob)
                ti.mtime = int(mtime)
                tar.addfile(ti, io.BytesIO(blob))
                for arc, path, off, size in files:
                    ti = tarfile.TarInfo("data/" + arc)
                    ti.size = size
                    ti.mtime = int(mtime)
                    ti.mode = 0o644
                    with open(path, "rb") as f:
                        f.seek(off)
                        tar.addfile(ti, LimitedReader(f, size))
        raw.flush()
        os.fsync(raw.fileno())


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path, data):
    """Write data to path through path.tmp, fsync and rename."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
