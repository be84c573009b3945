"""Geospatial indexes across process and server boundaries.

A geo index is a sorted set of geohash scores, so these tests check that
what GEO commands wrote survives every way a sorted set leaves the
process, and that GEO replies after the trip are unchanged:

- SAVE + restart (small sets in the listpack encoding, large ones in the
  skiplist encoding, GEOSEARCHSTORE results with distance scores).
- The append-only log: GEOADD is logged as the ZADD it amounts to (as
  Redis does), the STORE forms as themselves; a restart from the log alone
  gives the same positions and search results.
- redis-server 7.0 loads our RDB file and our log directory and answers
  the same GEO queries byte for byte; we load redis-server's RDB.
- DUMP/RESTORE both ways.
- Seeded random indexes and searches (radius and box, every option):
  every reply equals redis-server's.
"""
import os
import random
import shutil
import subprocess

import pytest

from conftest import HOST, redis_on_files, reference_server, start_in_dir, stop_node

redis = pytest.importorskip("redis")

CHECK_RDB = shutil.which("redis-check-rdb")


def client(port):
    """A client that returns GEO replies raw (redis-py's parsers for them
    expect the options of its own geo methods)."""
    r = redis.Redis(host=HOST, port=port)
    for name in list(r.response_callbacks):
        if name.upper().startswith("GEO"):
            del r.response_callbacks[name]
    return r


@pytest.fixture
def reference():
    """A redis-server 7.0 on a free port with an empty directory, as a
    client."""
    with reference_server("ringcache-geo-ref-") as port:
        yield client(port)


def build(r):
    """A small index (listpack), a large one (skiplist), indexes near the
    antimeridian and the poles, and stored search results."""
    r.geoadd("sicily", (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania",
                        13.583333, 37.316667, "Agrigento"))
    rnd = random.Random(7)
    pts = []
    for i in range(600):
        pts += [round(rnd.uniform(-10, 10), 6), round(rnd.uniform(40, 55), 6), "p%d" % i]
    r.geoadd("europe", pts)
    r.geoadd("edges", (180, 0, "e", -180, 0, "w", 179.9999, 1, "e1", 0, 85.05112878, "n",
                       0, -85.05112878, "s"))
    r.execute_command("GEOSEARCHSTORE", "near", "europe", "FROMLONLAT", 0, 47,
                      "BYRADIUS", 300, "km", "STOREDIST")
    r.execute_command("GEORADIUS", "sicily", 15, 37, 200, "km", "STORE", "stored")
    r.execute_command("GEORADIUSBYMEMBER", "sicily", "Palermo", 300, "km",
                      "STOREDIST", "storeddist")


KEYS = ("sicily", "europe", "edges", "near", "stored", "storeddist")

QUERIES = [
    ("GEOPOS", "sicily", "Palermo", "Catania", "Agrigento", "nope"),
    ("GEOPOS", "edges", "e", "w", "e1", "n", "s"),
    ("GEOHASH", "europe", "p0", "p1", "p599"),
    ("GEODIST", "sicily", "Palermo", "Catania", "km"),
    ("GEODIST", "edges", "e1", "w", "mi"),
    ("GEOSEARCH", "europe", "FROMLONLAT", 0, 47, "BYRADIUS", 300, "km", "WITHDIST",
     "WITHHASH", "WITHCOORD"),
    ("GEOSEARCH", "europe", "FROMMEMBER", "p3", "BYBOX", 400, 200, "km", "ASC", "COUNT", 20,
     "WITHDIST"),
    ("GEOSEARCH", "edges", "FROMLONLAT", 180, 0, "BYRADIUS", 200, "km", "WITHDIST"),
    ("GEORADIUS", "sicily", 15, 37, 200, "km", "WITHCOORD", "DESC"),
    ("ZRANGE", "near", 0, -1, "WITHSCORES"),
    ("ZRANGE", "stored", 0, -1, "WITHSCORES"),
    ("ZRANGE", "storeddist", 0, -1, "WITHSCORES"),
]


def answers(r):
    return [r.execute_command(*q) for q in QUERIES]


def aof_bytes(workdir):
    log = b""
    for root, _, files in os.walk(os.path.join(workdir, "appendonlydir")):
        for f in sorted(files):
            if f.endswith(".aof"):
                with open(os.path.join(root, f), "rb") as fh:
                    log += fh.read()
    return log


def test_save_and_restart_keeps_indexes(workdir):
    port, proc = start_in_dir(workdir)
    try:
        r = client(port)
        build(r)
        assert r.object("encoding", "sicily") == b"listpack"
        assert r.object("encoding", "europe") == b"skiplist"
        before = answers(r)
        assert r.save()
    finally:
        stop_node(proc)
    port, proc = start_in_dir(workdir)
    try:
        r = client(port)
        assert answers(r) == before
        assert r.object("encoding", "sicily") == b"listpack"
        assert r.object("encoding", "europe") == b"skiplist"
    finally:
        stop_node(proc)


def test_log_replay_restores_indexes(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        build(r)
        # Options and no-op adds: only real changes are logged.
        assert r.execute_command("GEOADD", "sicily", "NX", "CH", 1, 1, "Palermo", 2, 2,
                                 "new") == 1
        assert r.execute_command("GEOADD", "sicily", "XX", 14, 38, "Palermo") == 0
        assert r.execute_command("GEOADD", "sicily", "XX", 14, 38, "absent") == 0
        assert r.execute_command("GEOSEARCHSTORE", "gone", "nokey", "FROMLONLAT", 1, 1,
                                 "BYRADIUS", 1, "km") == 0
        before = answers(r)
    finally:
        stop_node(proc)
    log = aof_bytes(workdir).upper()
    assert b"GEOADD" not in log          # logged as ZADD, as Redis does
    assert b"ZADD" in log and b"XX" in log
    assert b"GEOSEARCHSTORE" in log and b"GEORADIUSBYMEMBER" in log
    assert log.count(b"ABSENT") == 0     # XX on a missing member changed nothing
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        assert answers(r) == before
        assert r.geopos("sicily", "Palermo", "new")[1] is not None
    finally:
        stop_node(proc)


def test_redis_loads_our_rdb_and_log(workdir):
    port, proc = start_in_dir(workdir, "--appendonly", "yes")
    try:
        r = client(port)
        build(r)
        want = answers(r)
        assert r.save()
    finally:
        stop_node(proc)
    path = os.path.join(workdir, "dump.rdb")
    if CHECK_RDB:
        out = subprocess.run([CHECK_RDB, path], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
    # The RDB file alone.
    with redis_on_files(workdir, ["dump.rdb"], "--appendonly", "no") as (rport, _):
        assert answers(client(rport)) == want
    # The log directory alone (manifest, base and increments).
    with redis_on_files(workdir, ["appendonlydir"], "--appendonly", "yes") as (rport, _):
        assert answers(client(rport)) == want


def test_we_load_redis_rdb(workdir):
    with redis_on_files(None, (), "--appendonly", "no") as (rport, d):
        rs = client(rport)
        build(rs)
        want = answers(rs)
        assert rs.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(workdir, "dump.rdb"))
    port, proc = start_in_dir(workdir)
    try:
        assert answers(client(port)) == want
    finally:
        stop_node(proc)


def test_dump_restore_both_ways(node, reference):
    _, port, _ = node
    ours = client(port)
    build(ours)
    build(reference)
    for k in KEYS:
        assert ours.dump(k) == reference.dump(k), k
        ours.restore("r-" + k, 0, reference.dump(k))
        reference.restore("r-" + k, 0, ours.dump(k))
    for k in ("sicily", "europe", "edges"):
        q = ("GEOSEARCH", "r-" + k, "FROMLONLAT", 0, 47, "BYRADIUS", 5000, "km", "WITHDIST",
             "WITHCOORD")
        assert ours.execute_command(*q) == reference.execute_command(*q)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_searches_match_redis(node, reference, seed):
    """Random clusters of points (near the poles and the antimeridian too,
    with duplicate positions) and random searches with every option: each
    reply equals redis-server's, including the order of unsorted results
    and of ties under COUNT."""
    _, port, _ = node
    ours = client(port)
    rnd = random.Random(seed)

    def both(*args):
        out = []
        for r in (ours, reference):
            try:
                out.append(r.execute_command(*args))
            except redis.ResponseError as e:
                out.append(("error", str(e)))
        assert out[0] == out[1], (args, out[0], out[1])
        return out[0]

    for rnd_i in range(12):
        both("FLUSHALL")
        clon = rnd.choice([rnd.uniform(-180, 180), 179.9, -179.9, 0.0])
        clat = rnd.choice([rnd.uniform(-85, 85), 84.9, -84.9, 70.0, -81.0])
        spread = 10 ** rnd.uniform(-3, 1.5)
        npts = rnd.randint(1, 250)
        args = []
        for i in range(npts):
            if i and rnd.random() < 0.1:
                lon, lat = args[-3], args[-2]
            else:
                lon = "%.6f" % max(-180, min(180, clon + rnd.gauss(0, spread)))
                lat = "%.6f" % max(-85.05, min(85.05, clat + rnd.gauss(0, spread)))
            args += [lon, lat, "m%d" % i]
        both("GEOADD", "k", *args)
        for _ in range(25):
            unit, to_m = rnd.choice([("m", 1), ("km", 1000), ("mi", 1609.34), ("ft", 0.3048)])
            r = spread * 111000 * rnd.uniform(0.1, 3) / to_m
            if rnd.random() < 0.5:
                frm = ["FROMLONLAT", "%.5f" % max(-180, min(180, clon + rnd.gauss(0, spread))),
                       "%.5f" % max(-85, min(85, clat + rnd.gauss(0, spread)))]
            else:
                frm = ["FROMMEMBER", "m%d" % rnd.randrange(npts)]
            if rnd.random() < 0.5:
                by = ["BYRADIUS", "%.3f" % r, unit]
            else:
                by = ["BYBOX", "%.3f" % (r * rnd.uniform(0.3, 2)),
                      "%.3f" % (r * rnd.uniform(0.3, 2)), unit]
            opts = [o for o in ("WITHDIST", "WITHCOORD", "WITHHASH") if rnd.random() < 0.5]
            opts += rnd.choice([[], [], ["ASC"], ["DESC"]])
            if rnd.random() < 0.4:
                opts += ["COUNT", rnd.randint(1, npts)]
                if rnd.random() < 0.3:
                    opts.append("ANY")
            both("GEOSEARCH", "k", *frm, *by, *opts)
            store = [o for o in opts if not str(o).startswith("WITH")]
            both("GEOSEARCHSTORE", "d", "k", *frm, *by, *store,
                 *(["STOREDIST"] if rnd.random() < 0.5 else []))
            both("ZRANGE", "d", 0, -1, "WITHSCORES")
            both("GEODIST", "k", "m%d" % rnd.randrange(npts), "m%d" % rnd.randrange(npts), unit)
        both("GEOPOS", "k", *["m%d" % i for i in range(npts)])
        both("GEOHASH", "k", *["m%d" % i for i in range(npts)])


def test_store_forms_route_both_keys(node_factory):
    """With the ring on, the command table's key positions decide routing:
    the STORE forms name two keys, so a destination in another slot than
    the source is CROSSSLOT, and one with the source's hash tag is routed
    as one slot (this lone node serves no slot yet: CLUSTERDOWN)."""
    _, port, _ = node_factory("--cluster-enabled", "yes")
    r = client(port)

    def error_of(*args):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(*args)
        return str(e.value)

    cross = [
        ("GEOSEARCHSTORE", "dst", "{s}", "FROMLONLAT", 1, 1, "BYRADIUS", 10, "km"),
        ("GEORADIUS", "{s}", 1, 1, 10, "km", "STORE", "dst"),
        ("GEORADIUS", "{s}", 1, 1, 10, "km", "STOREDIST", "dst"),
        ("GEORADIUS", "{s}", 1, 1, 10, "km", "COUNT", 1, "STORE", "{s}a", "STOREDIST", "dst"),
        ("GEORADIUSBYMEMBER", "{s}", "m", 10, "km", "STORE", "dst"),
        ("GEORADIUSBYMEMBER", "{s}", "m", 10, "km", "STOREDIST", "dst"),
    ]
    for args in cross:
        assert error_of(*args).startswith("CROSSSLOT"), args
    same = [
        ("GEOSEARCHSTORE", "{s}dst", "{s}", "FROMLONLAT", 1, 1, "BYRADIUS", 10, "km"),
        ("GEORADIUS", "{s}", 1, 1, 10, "km", "STORE", "{s}dst"),
        ("GEORADIUSBYMEMBER", "{s}", "m", 10, "km", "STOREDIST", "{s}dst"),
        ("GEORADIUS_RO", "{s}", 1, 1, 10, "km"),
        ("GEOADD", "{s}", 1, 1, "m"),
    ]
    for args in same:
        assert error_of(*args).startswith("CLUSTERDOWN"), args
