"""Moving keys out of backed-up data and into a running server.

A node's data (an RDB, or an RDB plus append-only log files) is read by a
temporary ringcached started on it (standalone, no TCP port: a Unix
socket in its directory, persistence off, stopped by its PID): the
server's own loader parses every type and replays every command.  Its
keys leave as DUMP payloads with their absolute expiry (PEXPIRETIME),
optionally only those of some slots, and enter the target as

    RESTORE <key> <expiry ms or 0> <payload> REPLACE ABSTTL

pipelined, after a SELECT of their database.  REPLACE and ABSTTL make the
write idempotent: a restore cut short can be run again and ends with the
same data.  A key whose expiry passed meanwhile is not created (RESTORE
with a past ABSTTL).  The target can be any ringcached (a ring node
forwards each key to its primary there), or a redis-server.
"""

import binascii
import os
import shutil
import subprocess
import time

from .resp import Conn, RespError, text

SLOTS = 16384


class LoadError(Exception):
    pass


def key_slot(key):
    """The Redis Cluster slot of key (bytes), hash tags included."""
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return binascii.crc_hqx(key, 0) % SLOTS


def slot_mask(ranges):
    """A bytearray of SLOTS flags from [[start, end], ...]."""
    mask = bytearray(SLOTS)
    for s, e in ranges:
        mask[s:e + 1] = b"\1" * (e - s + 1)
    return mask


def find_ringcached(explicit=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for c in (explicit, os.environ.get("RINGCACHED"), os.path.join(here, "ringcached"),
              os.path.join(here, "..", "src", "ringcached"), shutil.which("ringcached")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise LoadError("cannot find ringcached (use --ringcached or $RINGCACHED)")


def die_with_parent():
    """In the child before exec: SIGKILL it when this process dies, however
    it dies (a restore killed with SIGKILL leaves no temporary ringcached
    behind; Linux's PR_SET_PDEATHSIG)."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass        # not Linux: stop() still ends it on every normal exit


class TempNode:
    """A ringcached serving the data directory d on a Unix socket in it,
    with the extra arguments (e.g. the log's names); stop() ends it by
    PID."""

    def __init__(self, binary, d, extra=(), timeout=600.0):
        self.dir = d
        self.sock = os.path.join(d, "restore.sock")
        self.logpath = os.path.join(d, "restore-node.log")
        argv = [binary, "--port", "0", "--unixsocket", self.sock,
                "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
                "--auto-aof-rewrite-percentage", "0", "--databases", "16"] + list(extra)
        with open(self.logpath, "wb") as lf:
            self.proc = subprocess.Popen(argv, stdout=lf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=d,
                                         preexec_fn=die_with_parent)
        self.conn = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                c = Conn(None, 0, timeout=timeout, unix=self.sock)
                if c.call("PING") == "PONG":
                    self.conn = c
                    return
                c.close()
            except (OSError, RespError):
                pass
            time.sleep(0.02)
        log = self.log()
        self.stop()
        raise LoadError("the temporary ringcached did not start:\n" + log[-3000:])

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def databases(conn):
    """The numbers of the databases holding keys (INFO keyspace)."""
    out = []
    for line in text(conn.call("INFO", "keyspace")).splitlines():
        if line.startswith("db") and ":" in line:
            out.append(int(line[2:line.index(":")]))
    return sorted(out)


def dump_keys(conn, mask=None, batch=1000):
    """Yield (db, key, payload, expiry ms or 0) for every key of conn's
    server (of the slots mask flags, when given)."""
    for db in databases(conn):
        conn.call("SELECT", db)
        cursor = b"0"
        while True:
            cursor, keys = conn.call("SCAN", cursor, "COUNT", batch)
            if mask is not None:
                keys = [k for k in keys if mask[key_slot(k)]]
            if keys:
                conn.send(*[w for k in keys for w in (("DUMP", k), ("PEXPIRETIME", k))])
                replies = conn.read(2 * len(keys))
                for i, k in enumerate(keys):
                    payload, exp = replies[2 * i], replies[2 * i + 1]
                    if isinstance(payload, RespError) or isinstance(exp, RespError):
                        raise LoadError("reading %r: %s" % (k, payload if isinstance(
                            payload, RespError) else exp))
                    if payload is None or exp == -2:
                        continue        # expired meanwhile
                    yield db, k, payload, max(exp, 0)
            if cursor == b"0":
                break


class Restorer:
    """Writes keys into the server on conn, batch by batch, at most rate
    keys a second when rate is given."""

    def __init__(self, conn, batch=500, rate=None):
        self.conn, self.rate = conn, rate
        # A rate is kept to within a tenth of a second's worth of keys.
        self.batch = max(1, min(batch, int(rate / 10))) if rate else batch
        self.pending = []
        self.db = None
        self.count = 0
        self.start = time.monotonic()

    def put(self, db, key, payload, expire_ms):
        if db != self.db:
            self.pending.append(("SELECT", db))
            self.db = db
        self.pending.append(("RESTORE", key, expire_ms, payload, "REPLACE", "ABSTTL"))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        cmds, self.pending = self.pending, []
        self.conn.send(*cmds)
        for cmd, r in zip(cmds, self.conn.read(len(cmds))):
            if isinstance(r, RespError):
                raise LoadError("%s %r on %s: %s" % (cmd[0], cmd[1], self.conn, r))
            if cmd[0] == "RESTORE":
                self.count += 1
        if self.rate:
            ahead = self.count / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def copy_functions(src, dst):
    """The function libraries of src, restored into dst (replacing
    libraries of the same name).  Returns how many there were."""
    libs = src.call("FUNCTION", "LIST")
    if not libs:
        return 0
    dst.call("FUNCTION", "RESTORE", src.call("FUNCTION", "DUMP"), "REPLACE")
    return len(libs)


def target(spec, password, timeout):
    """A connection to the server at HOST:PORT (or a Unix socket path)."""
    try:
        if "/" in spec:
            return Conn(None, 0, password, timeout, unix=spec)
        host, port = spec.rsplit(":", 1)
        return Conn(host.strip("[]"), int(port), password, timeout)
    except (ValueError, OSError, RespError) as e:
        raise LoadError("cannot reach the target %s: %s" % (spec, e))


def save_rdb(node, out):
    """SAVE on the temporary node and copy its RDB to out (through a
    temporary name, fsynced)."""
    r = node.conn.call("SAVE")
    if r != "OK":
        raise LoadError("SAVE on the temporary node: %r" % (r,))
    src = os.path.join(node.dir, text(node.conn.call("CONFIG", "GET", "dbfilename")[1]))
    tmp = out + ".tmp-restore"
    shutil.copyfile(src, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
