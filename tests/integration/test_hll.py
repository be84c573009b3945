"""HyperLogLog sketches across process and server boundaries.

- DUMP of a sketch in redis-server, RESTORE in ringcached, and the reverse:
  the payloads are byte-identical, and both servers go on updating the
  restored sketch to identical bytes (sparse, dense, stale and fresh
  cardinality cache).
- SAVE + restart keeps the sketches' bytes; the log replays PFADD,
  PFMERGE, PFDEBUG TODENSE and the PFCOUNT that writes the cache, so a
  restart from the log alone restores the same bytes, cache included.
- redis-server 7.0 loads our RDB file and replays our log directory to the
  same bytes; we load its RDB file.
- PFSELFTEST answers +OK (it takes about a second, so the compat cases
  leave it out).
"""
import os
import shutil

import pytest

from conftest import HOST, redis_on_files, reference_server, start_in_dir, stop_node

redis = pytest.importorskip("redis")


@pytest.fixture
def reference():
    """A redis-server 7.0 on a free port, as a client."""
    with reference_server("ringcache-hll-ref-") as port:
        yield redis.Redis(host=HOST, port=port)


def elements(prefix, n):
    return ["%s%d" % (prefix, i) for i in range(n)]


def build(r):
    """A sparse sketch, a dense one, one with a fresh cache, a merge."""
    r.pfadd("sparse", *elements("s", 300))
    for i in range(0, 6000, 1000):
        r.pfadd("dense", *elements("d%d-" % i, 1000))
    r.pfadd("cached", *elements("c", 50))
    r.pfcount("cached")
    r.pfmerge("merged", "sparse", "cached")


KEYS = ("sparse", "dense", "cached", "merged")


def test_dump_restore_both_ways(node, reference):
    _, port, _ = node
    ours = redis.Redis(host=HOST, port=port)
    build(ours)
    build(reference)
    assert ours.execute_command("PFDEBUG", "ENCODING", "dense") == b"dense"
    for k in KEYS:
        assert ours.get(k) == reference.get(k), k
        assert ours.dump(k) == reference.dump(k), k
    # Each server restores the other's payloads and keeps updating them
    # the same way.
    for k in KEYS:
        ours.restore("from-ref-" + k, 0, reference.dump(k))
        reference.restore("from-ours-" + k, 0, ours.dump(k))
    for k in KEYS:
        a, b = "from-ref-" + k, "from-ours-" + k
        assert ours.get(a) == reference.get(b)
        assert ours.pfadd(a, *elements("more", 40)) == reference.pfadd(b, *elements("more", 40))
        assert ours.pfcount(a) == reference.pfcount(b)
        assert ours.get(a) == reference.get(b), k
        assert ours.dump(a) == reference.dump(b), k


def saved(workdir):
    """A node in workdir builds the sketches (and a stale cache), SAVEs and
    stops; returns {key: bytes}."""
    port, proc = start_in_dir(workdir)
    try:
        r = redis.Redis(host=HOST, port=port)
        build(r)
        r.pfadd("stale", "x", "y")
        before = {k: r.get(k) for k in KEYS + ("stale",)}
        assert r.save()
        return before
    finally:
        stop_node(proc)


def test_save_and_restart_keeps_bytes(workdir):
    before = saved(workdir)
    port, proc = start_in_dir(workdir)
    try:
        r = redis.Redis(host=HOST, port=port)
        assert {k: r.get(k) for k in before} == before
        assert r.pfcount("stale") == 2
    finally:
        stop_node(proc)


def test_log_replay_restores_bytes_and_cache(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = redis.Redis(host=HOST, port=port)
        build(r)
        r.pfadd("todense", "a", "b")
        assert r.execute_command("PFDEBUG", "TODENSE", "todense") == 1
        r.pfadd("stale", "x", "y")
        # PFCOUNT of one key writes the cache: a logged change.
        r.pfadd("counted", *elements("k", 20))
        assert r.pfcount("counted") == 20
        before = {k: r.get(k) for k in KEYS + ("todense", "stale", "counted")}
        assert before["counted"][15] & 0x80 == 0
        assert before["stale"][15] & 0x80
    finally:
        stop_node(proc)
    log = b""
    for root, _, files in os.walk(os.path.join(workdir, "appendonlydir")):
        for f in files:
            if f.endswith(".aof"):
                with open(os.path.join(root, f), "rb") as fh:
                    log += fh.read()
    assert b"PFCOUNT" in log.upper() and b"PFDEBUG" in log.upper()
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = redis.Redis(host=HOST, port=port)
        assert {k: r.get(k) for k in before} == before
        assert r.execute_command("PFDEBUG", "ENCODING", "todense") == b"dense"
    finally:
        stop_node(proc)
    # redis-server replays the same log directory to the same bytes.
    with redis_on_files(workdir, ["appendonlydir"], "--appendonly", "yes") as (rport, _):
        rs = redis.Redis(host=HOST, port=rport)
        assert {k: rs.get(k) for k in before} == before


def test_redis_loads_our_rdb_and_we_load_its(workdir):
    want = saved(workdir)
    names = tuple(want)
    with redis_on_files(workdir, ["dump.rdb"], "--appendonly", "no",
                        "--sanitize-dump-payload", "yes") as (rport, d):
        rs = redis.Redis(host=HOST, port=rport)
        assert {k: rs.get(k) for k in names} == want
        assert rs.execute_command("PFDEBUG", "ENCODING", "sparse") == b"sparse"
        assert rs.execute_command("PFDEBUG", "ENCODING", "dense") == b"dense"
        # And back: sketches redis-server updated, in its file.
        rs.pfadd("sparse", *elements("back", 30))
        rs.pfadd("dense", *elements("back", 30))
        rs.pfcount("stale")
        want2 = {k: rs.get(k) for k in names}
        assert rs.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(workdir, "dump.rdb"))
    port, proc = start_in_dir(workdir)
    try:
        r = redis.Redis(host=HOST, port=port)
        assert {k: r.get(k) for k in names} == want2
    finally:
        stop_node(proc)


def test_pfcount_with_fresh_cache_is_not_logged(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = redis.Redis(host=HOST, port=port)
        r.pfadd("h", "a")
        r.pfcount("h")      # writes the cache: logged
        r.pfcount("h")      # cache fresh: nothing to log
        r.pfcount("h", "h")  # several keys never write
    finally:
        stop_node(proc)
    log = b""
    for root, _, files in os.walk(os.path.join(workdir, "appendonlydir")):
        for f in files:
            if f.endswith(".aof"):
                with open(os.path.join(root, f), "rb") as fh:
                    log += fh.read()
    assert log.upper().count(b"PFCOUNT") == 1


def test_pfselftest(node):
    _, port, _ = node
    r = redis.Redis(host=HOST, port=port)
    assert r.execute_command("PFSELFTEST") == b"OK"
    r.config_set("hll-sparse-max-bytes", 0)
    try:
        assert r.execute_command("PFSELFTEST") == b"OK"
    finally:
        r.config_set("hll-sparse-max-bytes", 3000)


def corrupt(rnd, v):
    """v with a few random changes past the header (a sparse sketch also
    gets truncations and insertions), the cache usually marked stale."""
    v = bytearray(v)
    for _ in range(rnd.choice([1, 1, 2, 5])):
        op = rnd.random() if v[4] == 1 else 0
        pos = rnd.randrange(16, len(v)) if len(v) > 16 else 0
        if op < 0.6 and len(v) > 16:
            v[pos] = rnd.randrange(256)
        elif op < 0.8:
            v = v[:rnd.randrange(16, len(v) + 1)]
        else:
            v = v[:pos] + bytes([rnd.randrange(256)]) + v[pos:]
    if rnd.random() < 0.7:
        v[15] |= 0x80
    return bytes(v)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_updates_and_corruptions_match_redis(node, reference, seed):
    """Random PFADD/PFCOUNT/PFMERGE/PFDEBUG on sketches, many of them
    corrupted through SET, under several hll-sparse-max-bytes: every reply
    and every value's bytes must equal redis-server's."""
    import random
    _, port, _ = node
    ours = redis.Redis(host=HOST, port=port)
    rnd = random.Random(seed)

    def both(*args):
        out = []
        for r in (ours, reference):
            try:
                out.append(r.execute_command(*args))
            except redis.ResponseError as e:
                out.append(("error", str(e)))
        assert out[0] == out[1], (args[:3], out[0], out[1])
        return out[0]

    try:
        for mx in (0, 20, 100, 3000):
            both("CONFIG", "SET", "hll-sparse-max-bytes", mx)
            for t in range(40):
                k = "k%d_%d" % (t, mx)
                both("PFADD", k, *["x%d" % rnd.randrange(10 ** 6)
                                   for _ in range(rnd.choice([1, 3, 30, 200]))])
                v = both("GET", k)
                if rnd.random() < 0.7:
                    both("SET", k, corrupt(rnd, v))
                other = "k%d_%d" % (rnd.randrange(40), mx)
                op = rnd.choice([("PFADD", k, *["y%d" % rnd.randrange(10 ** 6)
                                                for _ in range(rnd.choice([1, 10, 100]))]),
                                 ("PFCOUNT", k), ("PFCOUNT", k, other), ("PFMERGE", other, k),
                                 ("PFDEBUG", "DECODE", k), ("PFDEBUG", "GETREG", k),
                                 ("PFDEBUG", "TODENSE", k), ("PFDEBUG", "ENCODING", k)])
                both(*op)
                both("GET", k)
                both("PFCOUNT", k)
                both("GET", k)
    finally:
        ours.config_set("hll-sparse-max-bytes", 3000)
