"""The operator tools of utils/: ringcache-check (verify, exit codes, --fix
of a torn tail), ringcache-ship and ringcache-restore (full, incremental
and encrypted bundles; corrupted bundles and broken chains refused; a
restored directory and a restored RDB hold the same keys, in ringcached and
in redis-server).

Every node runs on 127.0.0.1 with a port from conftest and is stopped by PID.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import pytest

from conftest import BINARY, HOST, ROOT, node_log, pick_port, ping

redis = pytest.importorskip("redis")

CHECK = os.environ.get("RINGCACHE_CHECK",
                       os.path.join(os.path.dirname(os.path.dirname(BINARY)), "utils",
                                    "ringcache-check"))
SHIP = os.path.join(ROOT, "utils", "ringcache-ship")
RESTORE = os.path.join(ROOT, "utils", "ringcache-restore")
INCR = os.path.join("appendonlydir", "appendonly.aof.1.incr.aof")


def start(workdir, *extra):
    """ringcached with appendonly yes in workdir: (port, proc)."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    for _ in range(3):
        port = pick_port()
        logpath = os.path.join(workdir, "..", "node-%d.log" % port)
        args = [BINARY, "--port", str(port), "--bind", HOST, "--save", "", "--dir", workdir,
                "--appendonly", "yes", "--appendfsync", "always"] + list(extra)
        with open(logpath, "wb") as logf:
            proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=workdir)
        proc.logpath = logpath
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if ping(port):
                return port, proc
            time.sleep(0.01)
        log = node_log(proc)
        stop(proc)
        if "Address already in use" not in log:
            raise RuntimeError("ringcached did not start:\n" + log)
    raise RuntimeError("no port")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def client(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=10)


def run(*argv):
    return subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def check(*argv):
    if not os.access(CHECK, os.X_OK):
        pytest.skip("ringcache-check not built: %s" % CHECK)
    return run(CHECK, *argv)


def verified(path):
    """ringcache-check accepts path (not asserted when it is not built)."""
    if os.access(CHECK, os.X_OK):
        p = run(CHECK, path)
        assert p.returncode == 0, p.stdout


def py(script, *argv):
    return run(sys.executable, script, *argv)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="ringcache-tools-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def populate(r, n=20, prefix="k"):
    for i in range(n):
        r.set("%s%d" % (prefix, i), "v%d" % i)
    r.rpush("list", *range(10))
    r.hset("hash", mapping={"f%d" % i: i for i in range(5)})
    r.sadd("set", *range(5))
    r.zadd("zset", {"m%d" % i: i for i in range(5)})
    r.set("ttl", "x", ex=1000)


def snapshot_keys(r):
    out = {}
    for k in r.keys("*"):
        out[k] = r.dump(k)
    return out


def make_datadir(tmp, writes=True):
    """A data directory written by a real node (log + SAVE).  Returns
    (datadir, keys dumped)."""
    datadir = os.path.join(tmp, "data")
    os.mkdir(datadir)
    port, proc = start(datadir)
    try:
        r = client(port)
        if writes:
            populate(r)
        assert r.save()
        keys = snapshot_keys(r)
    finally:
        stop(proc)
    return datadir, keys


def batch_ends(data):
    ends, pos = [], 0
    while True:
        i = data.find(b"#RC crc64 ", pos)
        if i < 0:
            return ends
        pos = data.index(b"\n", i) + 1
        ends.append(pos)


# ---- ringcache-check ----

def test_check_ok_and_usage(tmp):
    datadir, _ = make_datadir(tmp)
    p = check(datadir)
    assert p.returncode == 0, p.stdout
    assert b"dump.rdb: OK" in p.stdout and b"incr.aof: OK" in p.stdout
    assert check(os.path.join(datadir, "dump.rdb")).returncode == 0
    assert check(os.path.join(datadir, "appendonlydir")).returncode == 0
    assert check().returncode == 3
    assert check(os.path.join(tmp, "missing")).returncode == 3
    h = check("--help")
    assert h.returncode == 0 and b"Exit codes" in h.stdout


def test_check_torn_tail_and_fix(tmp):
    datadir, _ = make_datadir(tmp)
    path = os.path.join(datadir, INCR)
    data = open(path, "rb").read()
    ends = batch_ends(data)
    assert len(ends) > 5
    cut = ends[-3] + 7          # inside the batch after ends[-3]
    with open(path, "r+b") as f:
        f.truncate(cut)
    p = check(datadir)
    assert p.returncode == 2, p.stdout
    assert b"torn tail at byte offset %d" % ends[-3] in p.stdout
    assert os.path.getsize(path) == cut          # nothing changed without --fix
    p = check("--fix", datadir)
    assert p.returncode == 2, p.stdout
    assert os.path.getsize(path) == ends[-3]
    assert check(datadir).returncode == 0
    # A node started on the fixed directory has exactly the complete records.
    port, proc = start(datadir)
    try:
        r = client(port)
        assert r.get("k19") == b"v19"
        assert r.exists("ttl") == 0 and r.exists("zset") == 0
    finally:
        stop(proc)


def test_check_damage_in_the_middle(tmp):
    datadir, _ = make_datadir(tmp)
    path = os.path.join(datadir, INCR)
    data = bytearray(open(path, "rb").read())
    ends = batch_ends(bytes(data))
    at = ends[2] + 12           # inside the fourth batch
    data[at] ^= 0x01
    open(path, "wb").write(bytes(data))
    p = check("--fix", datadir)
    assert p.returncode == 1, p.stdout
    assert b"damage at byte offset %d" % ends[2] in p.stdout
    assert open(path, "rb").read() == bytes(data)          # --fix left it alone


def test_check_corrupted_rdb(tmp):
    datadir, _ = make_datadir(tmp)
    path = os.path.join(datadir, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0x40
    open(path, "wb").write(bytes(data))
    p = check(path)
    assert p.returncode == 1 and b"damage at byte offset" in p.stdout
    assert check(datadir).returncode == 1
    # Structure is checked too when the file carries no checksum (a zero
    # CRC): a string value longer than the file.
    bad = os.path.join(tmp, "nocrc.rdb")
    with open(bad, "wb") as f:
        f.write(b"REDIS0010" + b"\x00\x01k\x05ab" + b"\xff" + b"\0" * 8)
    p = check(bad)
    assert p.returncode == 1 and b"damage at byte offset 9" in p.stdout


def test_check_missing_file(tmp):
    datadir, _ = make_datadir(tmp)
    os.unlink(os.path.join(datadir, INCR))
    p = check(datadir)
    assert p.returncode == 1 and b"missing" in p.stdout


# ---- ship and restore ----

def ship(port, dest, *extra):
    p = py(SHIP, "-p", port, "--dest", dest, "--quiet", *extra)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode().strip()


def restore(*argv):
    return py(RESTORE, *argv)


def keys_of_dir(datadir):
    port, proc = start(datadir)
    try:
        return snapshot_keys(client(port))
    finally:
        stop(proc)


def test_ship_restore_full(tmp):
    datadir = os.path.join(tmp, "data")
    dest = os.path.join(tmp, "bundles")
    os.mkdir(datadir)
    port, proc = start(datadir)
    try:
        r = client(port)
        populate(r)
        bundle = ship(port, dest, "--keep", "2")
        keys = snapshot_keys(r)
        for _ in range(3):
            ship(port, dest, "--keep", "2")
    finally:
        stop(proc)
    names = sorted(os.listdir(dest))
    assert len(names) == 2 and all(n.endswith("-full.bundle.tgz") for n in names)
    assert not os.path.exists(bundle)        # the oldest were removed
    with tarfile.open(os.path.join(dest, names[-1])) as t:
        assert t.getnames()[0] == "MANIFEST.json"
    into = os.path.join(tmp, "restored")
    p = restore("--into", into, os.path.join(dest, names[-1]))
    assert p.returncode == 0, p.stderr
    verified(into)
    assert keys_of_dir(into) == keys
    # An occupied directory is refused.
    assert restore("--into", into, os.path.join(dest, names[-1])).returncode == 1
    # --rdb: a copy of the bundle's snapshot, which redis-server loads.
    out = os.path.join(tmp, "out.rdb")
    p = restore("--rdb", out, "--from-dir", dest)
    assert p.returncode == 0, p.stderr
    redis_loads(tmp, out, keys)


def redis_loads(tmp, rdb, keys):
    server = shutil.which("redis-server")
    if server is None:
        return
    rdir = os.path.join(tmp, "redis")
    os.makedirs(rdir, exist_ok=True)
    shutil.copy(rdb, os.path.join(rdir, "dump.rdb"))
    port = pick_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", HOST, "--save", "",
                             "--appendonly", "no", "--dir", rdir, "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not ping(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        r = client(port)
        assert sorted(r.keys("*")) == sorted(keys)
        for k, v in keys.items():
            if k != b"ttl":
                assert r.dump(k) == v, k
        assert r.ttl("ttl") > 900
    finally:
        proc.terminate()
        proc.wait(10)


def test_ship_restore_incremental_chain(tmp):
    datadir = os.path.join(tmp, "data")
    dest = os.path.join(tmp, "bundles")
    os.mkdir(datadir)
    port, proc = start(datadir)
    try:
        r = client(port)
        populate(r)
        full = ship(port, dest)
        r.set("after1", "1")
        r.delete("k0")
        inc1 = ship(port, dest, "--incremental")
        mid = snapshot_keys(r)
        r.set("after2", "2")
        r.rpush("list", "more")
        inc2 = ship(port, dest, "--incremental")
        keys = snapshot_keys(r)
    finally:
        stop(proc)
    assert full.endswith("-full.bundle.tgz") and inc1.endswith("-incr.bundle.tgz")
    # Incremental bundles carry only the new log bytes.
    assert os.path.getsize(inc2) < os.path.getsize(full)
    into = os.path.join(tmp, "all")
    p = restore("--into", into, full, inc1, inc2)
    assert p.returncode == 0, p.stderr
    assert keys_of_dir(into) == keys
    # A chosen point of the chain.
    into = os.path.join(tmp, "mid")
    p = restore("--into", into, "--from-dir", dest, "--upto", os.path.basename(inc1))
    assert p.returncode == 0, p.stderr
    assert keys_of_dir(into) == mid
    # A gap (inc1 missing) or a wrong order is refused, and nothing is written.
    gap = os.path.join(tmp, "gap")
    p = restore("--into", gap, full, inc2)
    assert p.returncode == 1 and b"chain" in p.stderr
    assert not os.path.exists(gap)
    assert restore("--verify-only", inc1, inc2).returncode == 1
    assert restore("--verify-only", full, inc2, inc1).returncode == 1
    # --rdb from a log-based chain goes through a temporary node.
    out = os.path.join(tmp, "chain.rdb")
    p = restore("--rdb", out, "--ringcached", BINARY, full, inc1, inc2)
    assert p.returncode == 0, p.stderr
    verified(out)
    redis_loads(tmp, out, keys)
    # --to: every key of the chain into a running node.
    tdir = os.path.join(tmp, "target")
    os.mkdir(tdir)
    tport, tproc = start(tdir)
    try:
        p = restore("--to", "%s:%d" % (HOST, tport), "--ringcached", BINARY, full, inc1, inc2)
        assert p.returncode == 0, p.stderr
        assert snapshot_keys(client(tport)) == keys
        assert client(tport).ttl("ttl") > 900
    finally:
        stop(tproc)


def test_corrupted_bundle_refused(tmp):
    datadir = os.path.join(tmp, "data")
    dest = os.path.join(tmp, "bundles")
    os.mkdir(datadir)
    port, proc = start(datadir)
    try:
        populate(client(port))
        bundle = ship(port, dest)
    finally:
        stop(proc)
    assert restore("--verify-only", bundle).returncode == 0
    # A flipped byte in the compressed stream.
    data = bytearray(open(bundle, "rb").read())
    bad = os.path.join(tmp, "bad.bundle.tgz")
    data[len(data) // 2] ^= 0xff
    open(bad, "wb").write(bytes(data))
    p = restore("--into", os.path.join(tmp, "x"), bad)
    assert p.returncode == 1 and b"refused" in p.stderr
    assert not os.path.exists(os.path.join(tmp, "x"))
    # A well-formed archive whose file does not match its SHA-256.
    work = os.path.join(tmp, "unpack")
    with tarfile.open(bundle) as t:
        t.extractall(work)
        names = t.getnames()
    rdb = os.path.join(work, "data", "dump.rdb")
    with open(rdb, "r+b") as f:
        f.seek(20)
        c = f.read(1)
        f.seek(20)
        f.write(bytes([c[0] ^ 1]))
    tampered = os.path.join(tmp, "tampered.bundle.tgz")
    with tarfile.open(tampered, "w:gz") as t:
        for n in names:
            t.add(os.path.join(work, n), arcname=n)
    p = restore("--verify-only", tampered)
    assert p.returncode == 1 and b"SHA-256" in p.stderr


@contextlib.contextmanager
def populated(tmp):
    """A logging node in tmp/data holding populate()'s keys: yields (port,
    client, tmp/bundles), then stops the node."""
    datadir = os.path.join(tmp, "data")
    os.mkdir(datadir)
    port, proc = start(datadir)
    try:
        r = client(port)
        populate(r)
        yield port, r, os.path.join(tmp, "bundles")
    finally:
        stop(proc)


def age_key(path):
    subprocess.run(["age-keygen", "-o", path], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    pub = path + ".pub"
    with open(pub, "wb") as f:
        f.write(subprocess.run(["age-keygen", "-y", path], check=True,
                               stdout=subprocess.PIPE).stdout)
    return pub


def test_encrypted_round_trip(tmp):
    if shutil.which("age") is None or shutil.which("age-keygen") is None:
        pytest.skip("age not installed")
    key = os.path.join(tmp, "key")
    pub = age_key(key)
    wrong = os.path.join(tmp, "wrong")
    age_key(wrong)
    with populated(tmp) as (port, r, dest):
        # The shipping host needs only the public key.
        full = ship(port, dest, "--encrypt-key", pub)
        r.set("later", "1")
        inc = ship(port, dest, "--incremental", "--encrypt-key", key)
        keys = snapshot_keys(r)
    assert full.endswith(".bundle.tgz.age") and inc.endswith(".bundle.tgz.age")
    assert open(full, "rb").read(22) == b"age-encryption.org/v1\n"
    assert restore("--verify-only", full, inc).returncode == 1          # no key
    assert restore("--verify-only", "--decrypt-key", wrong, full).returncode == 1
    p = restore("--verify-only", "--decrypt-key", pub, full)            # no secret
    assert p.returncode == 1 and b"identity" in p.stderr
    # One flipped bit anywhere: refused before anything is written.
    data = bytearray(open(full, "rb").read())
    data[len(data) - 40] ^= 0x04
    bad = os.path.join(tmp, "bad-full.bundle.tgz.age")
    open(bad, "wb").write(bytes(data))
    p = restore("--into", os.path.join(tmp, "never"), "--decrypt-key", key, bad)
    assert p.returncode == 1 and b"decryption failed" in p.stderr
    assert not os.path.exists(os.path.join(tmp, "never"))
    into = os.path.join(tmp, "restored")
    p = restore("--into", into, "--decrypt-key", key, "--from-dir", dest)
    assert p.returncode == 0, p.stderr
    assert keys_of_dir(into) == keys


def test_openssl_bundles_of_earlier_versions_still_restore(tmp):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    key = os.path.join(tmp, "pass")
    with open(key, "w") as f:
        f.write("correct horse battery staple\n")
    with populated(tmp) as (port, r, dest):
        plain = ship(port, dest)
        keys = snapshot_keys(r)
    enc = plain + ".enc"
    run("openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-pass", "file:" + key,
        "-in", plain, "-out", enc)
    os.unlink(plain)
    into = os.path.join(tmp, "restored")
    p = restore("--into", into, "--decrypt-key", key, enc)
    assert p.returncode == 0, p.stderr
    assert b"not authenticated" in p.stderr
    assert keys_of_dir(into) == keys
