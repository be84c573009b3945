"""
Integration tests for the string commands (src/t_string.c) and the bitmap
commands (src/t_bit.c) against a real node.

Byte-exact compatibility of replies and error texts with redis-server is
checked by redis-compat/cases/strings.txt and bits.txt; these tests check
behaviour: TTLs over real time (SET EX/PX/KEEPTTL, GETEX), values of
several megabytes built by SETRANGE/APPEND, binary safety, BITFIELD
overflow modes, BITCOUNT/BITPOS/BITOP against a Python model, and LCS on
1000-byte strings checked for validity.
"""
import hashlib
import random
import time

import pytest
import redis

from conftest import HOST, launch_node, stop_node


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def r(server):
    port, proc = server
    client = redis.Redis(host=HOST, port=port, socket_timeout=30)
    # Raw replies for the commands whose redis-py callbacks would hide
    # the exact bytes (SET answers OK or nil, INCRBYFLOAT a bulk string).
    for name in ("SET", "INCRBYFLOAT"):
        client.response_callbacks.pop(name, None)
    client.flushall()
    yield client
    client.close()
    assert proc.poll() is None, "node died"


def err(fn, *args):
    """The error text a command answers (asserts that it is an error)."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


# ---- SET / GET and options ----


def test_binary_keys_and_values(r):
    values = [b"", b"\x00", b"a\x00b\r\nc\xff", bytes(range(256)) * 3, b"\r\n" * 50]
    for i, v in enumerate(values):
        key = b"k\x00\r\n" + bytes([i])
        assert r.set(key, v)
        assert r.get(key) == v
        assert r.strlen(key) == len(v)
    assert r.set(b"", b"empty key")
    assert r.get(b"") == b"empty key"
    assert r.get("missing") is None


def test_set_nx_xx_get(r):
    assert r.set("k", "v", nx=True)
    assert r.set("k", "w", nx=True) is None
    assert r.get("k") == b"v"
    assert r.set("k", "w", xx=True)
    assert r.set("other", "w", xx=True) is None
    assert r.exists("other") == 0
    assert r.execute_command("SET", "k", "x", "GET") == b"w"
    assert r.execute_command("SET", "new", "x", "GET") is None
    assert r.get("new") == b"x"
    # NX with GET: returns the old value and does not write.
    assert r.execute_command("SET", "k", "y", "NX", "GET") == b"x"
    assert r.get("k") == b"x"
    assert r.setnx("k", "z") is False
    assert r.setnx("fresh", "z") is True


def test_set_option_errors(r):
    syntax = "syntax error"
    for args in (["NX", "XX"], ["EX", "10", "PX", "10"], ["EX", "10", "KEEPTTL"],
                 ["KEEPTTL", "EXAT", "10"], ["FOO"], ["EX"], ["PERSIST"]):
        assert err(r.execute_command, "SET", "k", "v", *args) == syntax
    for args in (["EX", "0"], ["PX", "-1"], ["EXAT", "0"], ["EX", "9223372036854775807"],
                 ["PX", "9223372036854775807"]):
        assert err(r.execute_command, "SET", "k", "v", *args) == \
            "invalid expire time in 'set' command"
    assert err(r.execute_command, "SET", "k", "v", "EX", "1.5") == \
        "value is not an integer or out of range"
    assert err(r.execute_command, "SETEX", "k", "0", "v") == \
        "invalid expire time in 'setex' command"
    assert err(r.execute_command, "PSETEX", "k", "-5", "v") == \
        "invalid expire time in 'psetex' command"
    assert err(r.execute_command, "GETEX", "k", "NX") == syntax
    assert r.exists("k") == 0


def test_set_expire_options_real_time(r):
    r.set("px", "v", px=250)
    r.set("ex", "v", ex=100)
    r.psetex("ps", 250, "v")
    r.setex("se", 100, "v")
    r.execute_command("SET", "pxat", "v", "PXAT", int(time.time() * 1000) + 250)
    r.execute_command("SET", "exat", "v", "EXAT", int(time.time()) + 100)
    assert 0 < r.pttl("px") <= 250
    assert 99 <= r.ttl("ex") <= 100
    assert 99 <= r.ttl("se") <= 100
    assert 98 <= r.ttl("exat") <= 100
    time.sleep(0.35)
    for k in ("px", "ps", "pxat"):
        assert r.get(k) is None, k
    for k in ("ex", "se", "exat"):
        assert r.get(k) == b"v", k
    # An absolute time already past: the key is gone at once.
    r.execute_command("SET", "past", "v", "EXAT", 1)
    assert r.exists("past") == 0


def test_keepttl_and_overwrite(r):
    r.set("k", "v", ex=100)
    r.execute_command("SET", "k", "w", "KEEPTTL")
    assert r.get("k") == b"w"
    assert 99 <= r.ttl("k") <= 100
    r.execute_command("SET", "k", "x", "KEEPTTL", "GET")
    assert 99 <= r.ttl("k") <= 100
    r.set("k", "y")                         # plain SET drops the TTL
    assert r.ttl("k") == -1
    r.execute_command("SET", "n", "v", "KEEPTTL")   # no TTL to keep
    assert r.ttl("n") == -1
    r.set("g", "v", ex=100)
    assert r.getset("g", "w") == b"v"       # GETSET drops the TTL
    assert r.ttl("g") == -1
    r.set("m", "v", ex=100)
    r.mset({"m": "w"})                      # so does MSET
    assert r.ttl("m") == -1


def test_getex_real_time(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "PX", 250) == b"v"
    assert 0 < r.pttl("k") <= 250
    assert r.execute_command("GETEX", "k", "PERSIST") == b"v"
    assert r.ttl("k") == -1
    assert r.execute_command("GETEX", "k", "EX", 100) == b"v"
    assert r.execute_command("GETEX", "k") == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.execute_command("GETEX", "k", "PXAT", int(time.time() * 1000) + 250) == b"v"
    r.set("d", "v")
    assert r.execute_command("GETEX", "d", "EXAT", 1) == b"v"   # past: deleted
    assert r.exists("d") == 0
    assert r.execute_command("GETEX", "missing", "EX", 0) is None
    time.sleep(0.35)
    assert r.get("k") is None
    assert err(r.execute_command, "GETEX", "x", "EX", "10", "PERSIST") == "syntax error"
    r.set("x", "v")
    assert err(r.execute_command, "GETEX", "x", "EX", "0") == \
        "invalid expire time in 'getex' command"


def test_getdel_mget_mset_msetnx(r):
    r.set("a", "1")
    assert r.getdel("a") == b"1"
    assert r.getdel("a") is None
    assert r.exists("a") == 0
    assert r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.mget("a", "b", "x", "c") == [b"1", b"2", None, b"3"]
    assert r.msetnx({"c": "9", "d": "4"}) is False
    assert r.exists("d") == 0
    assert r.msetnx({"d": "4", "e": "5"}) is True
    assert r.mget("d", "e") == [b"4", b"5"]
    assert err(r.execute_command, "MSET", "a", "1", "b") == \
        "wrong number of arguments for 'mset' command"
    assert err(r.execute_command, "MSETNX", "a") == \
        "wrong number of arguments for 'msetnx' command"


def test_wrongtype_when_other_types_exist(r):
    try:
        r.rpush("list", "x")
    except redis.ResponseError as e:
        pytest.skip("no list type yet: %s" % e)
    wrong = "WRONGTYPE Operation against a key holding the wrong kind of value"
    for args in (["GET", "list"], ["INCR", "list"], ["APPEND", "list", "x"],
                 ["SETRANGE", "list", 0, "x"], ["GETBIT", "list", 0],
                 ["SETBIT", "list", 0, 1], ["BITCOUNT", "list"],
                 ["BITFIELD", "list", "GET", "u8", 0], ["SET", "list", "v", "GET"]):
        assert err(r.execute_command, *args) == wrong
    assert r.mget("list") == [None]


# ---- counters ----


def test_incr_family(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decrby("n", 50) == -8
    assert r.decr("n") == -9
    r.set("n", 9223372036854775806)
    assert r.incr("n") == 9223372036854775807
    assert err(r.incr, "n") == "increment or decrement would overflow"
    assert r.get("n") == b"9223372036854775807"
    assert err(r.execute_command, "DECRBY", "n", "-9223372036854775808") == \
        "decrement would overflow"
    for bad in (" 1", "+1", "01", "1.0", "", "1\x00"):
        r.set("s", bad)
        assert err(r.incr, "s") == "value is not an integer or out of range"
    # Counters keep the TTL.
    r.set("t", "10", ex=100)
    r.incr("t")
    assert 99 <= r.ttl("t") <= 100
    r.set("t", "100", ex=100)
    r.append("t", "0")                      # now a raw "1000"
    assert r.incrby("t", 1) == 1001
    assert 99 <= r.ttl("t") <= 100


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", "10.5") == b"10.5"
    assert r.execute_command("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert r.execute_command("INCRBYFLOAT", "f", "-5.6") == b"5"
    assert r.get("f") == b"5"
    assert r.execute_command("INCRBYFLOAT", "g", "1e20") == b"100000000000000000000"
    assert r.execute_command("INCRBYFLOAT", "h", "5.0e3") == b"5000"
    assert r.execute_command("INCRBYFLOAT", "z", "-0.0") == b"0"
    # long double arithmetic: 1e308 + 1e308 is fine, 2e4932 is not.
    r.set("big", "1e308")
    assert r.execute_command("INCRBYFLOAT", "big", "1e308").startswith(b"19999999999")
    r.set("big", "1e4932")
    assert err(r.execute_command, "INCRBYFLOAT", "big", "1e4932") == \
        "increment would produce NaN or Infinity"
    assert r.get("big") == b"1e4932"
    assert err(r.execute_command, "INCRBYFLOAT", "f", "abc") == "value is not a valid float"
    r.set("s", "abc")
    assert err(r.execute_command, "INCRBYFLOAT", "s", "1") == "value is not a valid float"
    r.set("t", "1.5", ex=100)
    r.incrbyfloat("t", 1)
    assert r.get("t") == b"2.5" and 99 <= r.ttl("t") <= 100


# ---- APPEND / SETRANGE / GETRANGE with big values ----


def test_append_builds_large_value(r):
    chunk = bytes(random.Random(1).getrandbits(8) for _ in range(1 << 16))
    expect = hashlib.sha256()
    total = 0
    while total < 5 * (1 << 20):
        total = r.append("big", chunk)
        expect.update(chunk)
    assert r.strlen("big") == total
    assert hashlib.sha256(r.get("big")).digest() == expect.digest()
    assert r.getrange("big", total - 3, -1) == chunk[-3:]
    assert r.append("small", "") == 0
    assert r.exists("small") == 1 and r.get("small") == b""


def test_setrange_large_and_zero_padding(r):
    size = 10 * (1 << 20)
    assert r.setrange("s", size - 1, "x") == size
    assert r.strlen("s") == size
    assert r.getrange("s", 0, 15) == b"\x00" * 16
    assert r.getrange("s", -2, -1) == b"\x00x"
    assert r.setrange("s", 1 << 20, b"\xff\x00binary\r\n") == size
    assert r.getrange("s", 1 << 20, (1 << 20) + 9) == b"\xff\x00binary\r\n"
    assert r.getbit("s", (size - 1) * 8 + 1) == 1       # 'x' = 0b01111000
    v = r.get("s")
    # Non-zero bytes: the final "x" and 9 of the 10 bytes written at 1 MB.
    assert len(v) == size and v.count(b"\x00") == size - 10
    # Overwriting inside keeps the length; an empty value changes nothing.
    assert r.setrange("s", 0, "abc") == size
    assert r.setrange("s", size * 2, "") == size
    assert r.setrange("none", 100, "") == 0 and r.exists("none") == 0
    too_big = "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(r.setrange, "s", 512 * 1024 * 1024, "x") == too_big
    assert err(r.setrange, "s", 9223372036854775807, "x") == too_big
    assert err(r.setrange, "s", -1, "x") == "offset is out of range"
    r.set("n", 1234)                        # int-encoded value edited in place
    assert r.setrange("n", 1, "9") == 4 and r.get("n") == b"1934"
    assert r.incr("n") == 1935


def test_getrange_indexes(r):
    s = b"This is a string"
    r.set("k", s)

    def model(start, end):
        n = len(s)
        if start < 0 and end < 0 and start > end:
            return b""
        start = max(n + start if start < 0 else start, 0)
        end = max(n + end if end < 0 else end, 0)
        end = min(end, n - 1)
        return b"" if start > end else s[start:end + 1]

    for start in (-100, -17, -16, -5, -1, 0, 1, 5, 15, 16, 100):
        for end in (-100, -17, -16, -5, -1, 0, 1, 5, 15, 16, 100):
            assert r.getrange("k", start, end) == model(start, end), (start, end)
    assert r.execute_command("SUBSTR", "k", 0, 3) == b"This"
    assert r.getrange("missing", 0, -1) == b""


# ---- LCS ----


def lcs_len(a, b):
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def is_subsequence(sub, s):
    it = iter(s)
    return all(ch in it for ch in sub)


def test_lcs_1000_chars(r):
    rnd = random.Random(7)
    a = bytes(rnd.choice(b"ACGT") for _ in range(1000))
    b = bytes(rnd.choice(b"ACGT") for _ in range(1000))
    r.mset({"a": a, "b": b})
    n = lcs_len(a, b)
    assert r.execute_command("LCS", "a", "b", "LEN") == n
    s = r.execute_command("LCS", "a", "b")
    assert len(s) == n and is_subsequence(s, a) and is_subsequence(s, b)

    reply = r.execute_command("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    fields = dict(zip(reply[::2], reply[1::2]))
    assert fields[b"len"] == n
    matches = fields[b"matches"]
    assert sum(m[2] for m in matches) == n
    prev_a = prev_b = 10 ** 9
    for (a0, a1), (b0, b1), length in matches:
        assert a1 - a0 + 1 == length == b1 - b0 + 1
        assert a[a0:a1 + 1] == b[b0:b1 + 1]
        assert a1 < prev_a and b1 < prev_b         # reported last-first
        prev_a, prev_b = a0, b0
    # MINMATCHLEN filters the ranges but not the total.
    reply = r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", 4)
    fields = dict(zip(reply[::2], reply[1::2]))
    assert fields[b"len"] == n
    assert all(m[0][1] - m[0][0] + 1 >= 4 for m in fields[b"matches"])
    assert len(fields[b"matches"]) < len(matches)

    r.set("c", a)
    assert r.execute_command("LCS", "a", "c") == a
    assert r.execute_command("LCS", "a", "missing", "LEN") == 0
    assert err(r.execute_command, "LCS", "a", "b", "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."


def test_lcs_refuses_huge_tables(r):
    r.setrange("x", 11999, "x")
    r.setrange("y", 11999, "y")
    assert err(r.execute_command, "LCS", "x", "y", "LEN") == \
        "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"


# ---- bitmaps ----


def bits_of(data):
    return [(byte >> (7 - i)) & 1 for byte in data for i in range(8)]


def model_range(n, start, end, isbit):
    """Inclusive bit range [s, e] of Redis's BITCOUNT/BITPOS, or None."""
    total = n * 8 if isbit else n
    start = max(total + start if start < 0 else start, 0)
    end = max(total + end if end < 0 else end, 0)
    end = min(end, total - 1)
    if start > end:
        return None
    return (start, end) if isbit else (start * 8, end * 8 + 7)


def test_setbit_getbit_bitcount(r):
    rnd = random.Random(3)
    data = bytearray(64)
    for _ in range(300):
        off = rnd.randrange(512)
        v = rnd.randrange(2)
        old = (data[off >> 3] >> (7 - (off & 7))) & 1
        assert r.setbit("b", off, v) == old
        data[off >> 3] = (data[off >> 3] & ~(0x80 >> (off & 7))) | (v << (7 - (off & 7)))
    r.setbit("b", 511, data[63] & 1)       # make sure the length is 64 bytes
    assert r.get("b") == bytes(data)
    bits = bits_of(data)
    assert r.bitcount("b") == sum(bits)
    for _ in range(200):
        start, end = rnd.randint(-600, 600), rnd.randint(-600, 600)
        for unit in ("BYTE", "BIT"):
            if start < 0 and end < 0 and start > end:
                want = 0
            else:
                rng = model_range(len(data), start, end, unit == "BIT")
                want = 0 if rng is None else sum(bits[rng[0]:rng[1] + 1])
            assert r.execute_command("BITCOUNT", "b", start, end, unit) == want, \
                (start, end, unit)
    assert r.getbit("b", 10 ** 6) == 0
    assert r.getbit("missing", 5) == 0
    assert err(r.setbit, "b", -1, 1) == "bit offset is not an integer or out of range"
    assert err(r.setbit, "b", 4 * 1024 * 1024 * 1024, 1) == \
        "bit offset is not an integer or out of range"
    assert err(r.execute_command, "SETBIT", "b", 0, 2) == \
        "bit is not an integer or out of range"
    # Setting the last allowed bit creates a 512 MB value: not done here.


def test_bitpos_model(r):
    rnd = random.Random(5)
    values = [b"\xff" * 40, b"\x00" * 40, b"\xff\xf0\x00", b"\x00\x00\x01",
              bytes(rnd.getrandbits(8) for _ in range(100)),
              b"\xff" * 30 + b"\xfe" + b"\xff" * 30]
    for v in values:
        r.set("p", v)
        bits = bits_of(v)
        for _ in range(150):
            bit = rnd.randrange(2)
            start = rnd.randint(-len(bits) - 5, len(bits) + 5)
            end = rnd.randint(-len(bits) - 5, len(bits) + 5)
            for unit in ("BYTE", "BIT"):
                for end_given in (False, True):
                    if unit == "BYTE":
                        s, e = start // 8, end // 8
                    else:
                        s, e = start, end
                    args = ["BITPOS", "p", bit, s] + ([e, unit] if end_given else [])
                    rng = model_range(len(v), s, e if end_given else -1,
                                      unit == "BIT" and end_given)
                    if rng is None:
                        want = -1
                    else:
                        want = next((i for i in range(rng[0], rng[1] + 1)
                                     if bits[i] == bit), -1)
                        if want == -1 and bit == 0 and not end_given:
                            want = rng[1] + 1
                    assert r.execute_command(*args) == want, (v[:8], args)
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16            # no end: zero-padded
    assert r.execute_command("BITPOS", "ones", 0, 0, -1) == -1   # end given
    assert err(r.execute_command, "BITPOS", "ones", 2) == "The bit argument must be 1 or 0."


def test_bitop(r):
    rnd = random.Random(9)
    a = bytes(rnd.getrandbits(8) for _ in range(1000))
    b = bytes(rnd.getrandbits(8) for _ in range(700))
    r.mset({"a": a, "b": b})
    bp = b + b"\x00" * 300
    assert r.bitop("AND", "d", "a", "b", "missing") == 1000
    assert r.get("d") == b"\x00" * 1000
    assert r.bitop("AND", "d", "a", "b") == 1000
    assert r.get("d") == bytes(x & y for x, y in zip(a, bp))
    assert r.bitop("OR", "d", "a", "b") == 1000
    assert r.get("d") == bytes(x | y for x, y in zip(a, bp))
    assert r.bitop("XOR", "d", "a", "b", "a") == 1000
    assert r.get("d") == bp
    assert r.bitop("NOT", "d", "b") == 700
    assert r.get("d") == bytes(~x & 0xff for x in b)
    assert r.bitop("NOT", "a", "a") == 1000          # destination is a source
    assert r.get("a") == bytes(~x & 0xff for x in a)
    r.set("d", "v", ex=100)
    assert r.bitop("OR", "d", "b") == 700 and r.ttl("d") == -1
    assert r.bitop("OR", "d", "missing1", "missing2") == 0
    assert r.exists("d") == 0                        # empty result deletes
    assert err(r.bitop, "NOT", "d", "a", "b") == \
        "BITOP NOT must be called with a single source key."
    assert err(r.bitop, "NAND", "d", "a") == "syntax error"


def test_bitfield_overflow_modes(r):
    bf = lambda *a: r.execute_command("BITFIELD", "f", *a)
    assert bf("SET", "u8", 0, 255, "GET", "u8", 0) == [0, 255]
    assert bf("INCRBY", "u8", 0, 10) == [9]                          # WRAP default
    assert bf("OVERFLOW", "SAT", "INCRBY", "u8", 0, 1000) == [255]
    assert bf("OVERFLOW", "SAT", "INCRBY", "u8", 0, -1000) == [0]
    assert bf("OVERFLOW", "FAIL", "INCRBY", "u8", 0, 256) == [None]
    assert bf("GET", "u8", 0) == [0]                                  # FAIL wrote nothing
    assert bf("SET", "i8", 8, 127, "INCRBY", "i8", 8, 1) == [0, -128]
    assert bf("OVERFLOW", "SAT", "INCRBY", "i8", 8, -100) == [-128]
    assert bf("OVERFLOW", "FAIL", "INCRBY", "i8", 8, -1, "INCRBY", "i8", 8, 1) == [None, -127]
    # OVERFLOW applies to the operations after it only.
    assert bf("INCRBY", "u2", 100, 5, "OVERFLOW", "SAT", "INCRBY", "u2", 102, 5) == [1, 3]
    # i64 and u63 extremes.
    imax, imin, umax = 2 ** 63 - 1, -2 ** 63, 2 ** 63 - 1
    assert bf("SET", "i64", 200, imax, "INCRBY", "i64", 200, 1) == [0, imin]
    assert bf("OVERFLOW", "SAT", "INCRBY", "i64", 200, -1) == [imin]
    assert bf("OVERFLOW", "SAT", "INCRBY", "i64", 200, imax, "INCRBY", "i64", 200, imax,
              "INCRBY", "i64", 200, imax) == [-1, imax - 1, imax]
    assert bf("SET", "u63", 300, umax, "INCRBY", "u63", 300, 1) == [0, 0]
    assert bf("OVERFLOW", "SAT", "SET", "u63", 300, -1, "GET", "u63", 300) == [0, umax]
    assert bf("OVERFLOW", "WRAP", "SET", "u8", 400, -1, "GET", "u8", 400) == [0, 255]
    # Unaligned fields, "#N" offsets (N * width) and reads past the end.
    assert bf("SET", "u5", "#30", 17, "GET", "u5", 150, "GET", "i5", "#30") == [0, 17, -15]
    assert bf("GET", "u16", 100000, "GET", "i64", 1000000) == [0, 0]
    r.set("b", b"\x80\x00\x00\x00\x00\x00\x00\x00\x01")
    assert r.execute_command("BITFIELD", "b", "GET", "i64", 0, "GET", "u63", 1,
                             "GET", "u8", 65, "GET", "i1", 71) == [imin, 0, 2, -1]
    assert r.execute_command("BITFIELD_RO", "b", "GET", "u4", 0) == [8]
    assert r.execute_command("BITFIELD", "nokey") == []
    assert r.exists("nokey") == 0


def test_bitfield_errors(r):
    bf = lambda *a: r.execute_command("BITFIELD", "e", *a)
    badtype = ("Invalid bitfield type. Use something like i16 u8. "
               "Note that u64 is not supported but i64 is.")
    for t in ("u64", "i65", "i0", "x8", "U8", "u", "i-1"):
        assert err(bf, "GET", t, 0) == badtype, t
    badoff = "bit offset is not an integer or out of range"
    for off in ("-1", "x", "#-1", "4294967296", "#"):
        assert err(bf, "GET", "u8", off) == badoff, off
    assert err(bf, "OVERFLOW", "NOPE") == "Invalid OVERFLOW type specified"
    assert err(bf, "GET", "u8") == "syntax error"
    assert err(bf, "SET", "u8", 0, "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "BITFIELD_RO", "e", "GET", "u8", 0, "SET", "u8", 0, 1) == \
        "BITFIELD_RO only supports the GET subcommand"
    assert r.exists("e") == 0                        # no error left anything behind


def test_many_gets_and_sets_pipelined(r):
    pipe = r.pipeline(transaction=False)
    for i in range(5000):
        pipe.set("key:%d" % i, "value:%d" % i)
    for i in range(5000):
        pipe.get("key:%d" % i)
    out = pipe.execute()
    assert out[:5000] == [b"OK"] * 5000
    assert out[5000:] == [b"value:%d" % i for i in range(5000)]
