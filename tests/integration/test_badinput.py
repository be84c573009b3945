"""
The bad-input suite: malformed and hostile RESP sent to a real node over raw
sockets, plus the resource limits that protect a node from abusive clients
(query buffer, output buffer, maxclients, unauthenticated headers, bulk
headers that announce data that never comes, slow senders).

Every case ends with the same check (the `healthy` fixture): a fresh client
still gets PONG to PING and used_memory is back below a fixed bound over the
node's start-up baseline.  Error texts are the literal protocol constants of
Redis 7.0.15 (verified once against a real redis-server 7.0.15); they are
hard-coded here on purpose.

Nodes listen on 127.0.0.1, on ports taken from 25000-25499 (this file's
range), and are stopped by PID.  Every loop is bounded and every socket has a
timeout.
"""
import os
import socket
import time

import pytest
import redis

from conftest import HOST, start_node, stop_node

PORT_LO, PORT_HI = 25000, 25499

# Memory a case may leave behind over the baseline, after FLUSHALL and a short
# settling period (lazy free runs in a background thread).
MEM_SLACK = 6 * 1024 * 1024

ERR_MBULK = b"-ERR Protocol error: invalid multibulk length\r\n"
ERR_BULK = b"-ERR Protocol error: invalid bulk length\r\n"
ERR_INLINE = b"-ERR Protocol error: too big inline request\r\n"
ERR_MBULK_STR = b"-ERR Protocol error: too big mbulk count string\r\n"
ERR_BULK_STR = b"-ERR Protocol error: too big bulk count string\r\n"
ERR_QUOTES = b"-ERR Protocol error: unbalanced quotes in request\r\n"
ERR_UNAUTH_MBULK = b"-ERR Protocol error: unauthenticated multibulk length\r\n"
ERR_UNAUTH_BULK = b"-ERR Protocol error: unauthenticated bulk length\r\n"
ERR_MAXCLIENTS = b"-ERR max number of clients reached\r\n"
NOAUTH = b"-NOAUTH Authentication required.\r\n"


def port_in_range(lo=PORT_LO, hi=PORT_HI):
    """A free loopback port in [lo, hi], starting at a PID-dependent offset."""
    span = hi - lo + 1
    start = (os.getpid() * 13) % span
    for i in range(span):
        port = lo + (start + i) % span
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def launch(*args):
    """Start a node in this file's port range; retries if the port got taken."""
    last = None
    for _ in range(5):
        try:
            return start_node(*args, port=port_in_range())
        except RuntimeError as e:  # port raced away: try another
            last = e
    raise last


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_quiet(s, quiet=0.3, limit=5.0, maxbytes=64 * 1024 * 1024):
    """Read what the server sends.  Returns (data, closed): stops at EOF, after
    `quiet` seconds without data, or after `limit` seconds in total."""
    data = b""
    deadline = time.time() + limit
    s.settimeout(quiet)
    while time.time() < deadline and len(data) < maxbytes:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def read_exact(s, n, limit=20.0):
    """Read exactly n bytes (or fail the test after `limit` seconds)."""
    buf = bytearray()
    deadline = time.time() + limit
    s.settimeout(1.0)
    while len(buf) < n:
        assert time.time() < deadline, "timed out after %d of %d bytes" % (len(buf), n)
        try:
            chunk = s.recv(min(1 << 20, n - len(buf)))
        except socket.timeout:
            continue
        assert chunk, "connection closed after %d of %d bytes" % (len(buf), n)
        buf += chunk
    return bytes(buf)


def exchange(port, data, quiet=0.3):
    """Send data on a new connection; returns (reply bytes, closed)."""
    with connect(port) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b"", True
        return read_until_quiet(s, quiet=quiet)


def wait_closed(s, limit=10.0):
    """True if the server closes s within `limit` seconds (data is drained)."""
    deadline = time.time() + limit
    s.settimeout(0.2)
    while time.time() < deadline:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True
    return False


def resp(*args):
    """Encode a command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def assert_healthy(port, baseline, password=None):
    """A fresh client gets PONG, and used_memory returns below baseline +
    MEM_SLACK after FLUSHALL (polled for a few seconds)."""
    with connect(port) as s:
        if password:
            s.sendall(resp("AUTH", password))
            assert read_exact(s, 5) == b"+OK\r\n"
        s.sendall(b"PING\r\n")
        assert read_exact(s, 7) == b"+PONG\r\n"
    r = redis.Redis(host=HOST, port=port, password=password, socket_timeout=10)
    try:
        r.flushall()
        deadline = time.time() + 5
        mem = used_memory(r)
        while mem >= baseline + MEM_SLACK and time.time() < deadline:
            time.sleep(0.1)
            mem = used_memory(r)
        assert mem < baseline + MEM_SLACK, "used_memory %d, baseline %d" % (mem, baseline)
    finally:
        r.close()


# ---- fixtures ----


@pytest.fixture(scope="module")
def shared():
    """One node for the cases that do not need special start-up options.
    Yields (port, baseline used_memory)."""
    port, proc = launch()
    try:
        r = redis.Redis(host=HOST, port=port, socket_timeout=10)
        baseline = used_memory(r)
        r.close()
        yield port, baseline, proc
    finally:
        stop_node(proc)


@pytest.fixture
def healthy(shared):
    """The shared node's port and an admin client; checks health afterwards."""
    port, baseline, proc = shared
    r = redis.Redis(host=HOST, port=port, socket_timeout=10)
    try:
        yield port, r
    finally:
        r.close()
    assert proc.poll() is None, "node died"
    assert_healthy(port, baseline)


# ---- malformed headers ----

# (input, expected reply, connection closed afterwards?)
PROTOCOL_CASES = [
    # multibulk lengths
    (b"*abc\r\n", ERR_MBULK, True),
    (b"*99999999999999999999\r\n", ERR_MBULK, True),
    (b"*2147483648\r\n", ERR_MBULK, True),
    (b"*+1\r\n$4\r\nPING\r\n", ERR_MBULK, True),
    (b"*01\r\n$4\r\nPING\r\n", ERR_MBULK, True),
    (b"*1 \r\n", ERR_MBULK, True),
    (b"*\r\n", ERR_MBULK, True),
    (b"*1\n$4\r\nPING\r\n", ERR_MBULK, True),  # missing CR
    # bulk lengths
    (b"*1\r\n$-2\r\n", ERR_BULK, True),
    (b"*1\r\n$-1\r\n", ERR_BULK, True),
    (b"*1\r\n$2147483648\r\n", ERR_BULK, True),  # over proto-max-bulk-len
    (b"*1\r\n$536870913\r\n", ERR_BULK, True),  # 512MB + 1
    (b"*1\r\n$99999999999999999999\r\n", ERR_BULK, True),
    (b"*1\r\n$9223372036854775807\r\n", ERR_BULK, True),
    (b"*1\r\n$-9223372036854775809\r\n", ERR_BULK, True),
    (b"*1\r\n$abc\r\n", ERR_BULK, True),
    (b"*1\r\n$1a\r\n", ERR_BULK, True),
    (b"*1\r\n$+5\r\n", ERR_BULK, True),
    (b"*1\r\n$ 4\r\nPING\r\n", ERR_BULK, True),
    (b"*1\r\n$\r\n", ERR_BULK, True),
    # '$' expected
    (b"*1\r\n+foo\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n", True),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n", True),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n", True),
    # replies before the error are kept
    (b"*1\r\n$4\r\nPING\r\n*x\r\n", b"+PONG\r\n" + ERR_MBULK, True),
    # inline
    (b'SET "a b\r\n', ERR_QUOTES, True),
    (b"SET 'a\r\n", ERR_QUOTES, True),
    (b'SET "a"b c\r\n', ERR_QUOTES, True),
    # header lines longer than the inline limit
    (b"*" + b"1" * 70000, ERR_MBULK_STR, True),
    (b"*1\r\n$" + b"1" * 70000, ERR_BULK_STR, True),
    # accepted oddities (Redis ignores null/empty multibulks and empty lines)
    (b"*-5\r\nPING\r\n", b"+PONG\r\n", False),
    (b"*-1\r\nPING\r\n", b"+PONG\r\n", False),
    (b"*0\r\nPING\r\n", b"+PONG\r\n", False),
    (b"\r\n\r\nPING\r\n", b"+PONG\r\n", False),
    (b"PING\n", b"+PONG\r\n", False),
    (b"  PING   \r\n", b"+PONG\r\n", False),
    (b'ECHO "\\x41\\n"\r\n', b"$2\r\nA\n\r\n", False),
    (b"ECHO 'a\\'b'\r\n", b"$3\r\na'b\r\n", False),
    (b"*1\r\n$0\r\n\r\n", b"-ERR unknown command '', with args beginning with: \r\n", False),
    # Redis 7.0 accepts any multibulk count up to INT_MAX and waits for the
    # arguments (it preallocates at most 1024 argv slots).
    (b"*1048577\r\n", b"", False),
    (b"*2147483647\r\n", b"", False),
    # a valid header whose body is still missing: wait
    (b"*1\r\n$536870912\r\n", b"", False),
    (b"*2\r\n$3\r\nGET", b"", False),
]


@pytest.mark.parametrize("data,expected,closed", PROTOCOL_CASES,
                         ids=[repr(c[0][:24]) for c in PROTOCOL_CASES])
def test_protocol_errors(healthy, data, expected, closed):
    port, _ = healthy
    got, was_closed = exchange(port, data)
    assert got == expected
    assert was_closed == closed


def test_missing_crlf_waits_then_completes(healthy):
    port, _ = healthy
    with connect(port) as s:
        s.sendall(b"*1\r\n$4\r\nPING")
        got, closed = read_until_quiet(s, quiet=0.3)
        assert (got, closed) == (b"", False)
        s.sendall(b"\r\n")
        assert read_exact(s, 7) == b"+PONG\r\n"
        s.sendall(b"PING")  # inline without newline: waits too
        got, closed = read_until_quiet(s, quiet=0.3)
        assert (got, closed) == (b"", False)
        s.sendall(b"\r\n")
        assert read_exact(s, 7) == b"+PONG\r\n"


def test_oversized_inline(healthy):
    port, _ = healthy
    got, closed = exchange(port, b"A" * (70 * 1024))
    assert (got, closed) == (ERR_INLINE, True)
    # the same, arriving in 4 KB pieces
    with connect(port) as s:
        try:
            for _ in range(20):
                s.sendall(b"B" * 4096)
                time.sleep(0.005)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got, closed = read_until_quiet(s)
        assert (got, closed) == (ERR_INLINE, True)
    # a complete command before the garbage still gets its reply
    got, closed = exchange(port, b"*1\r\n$4\r\nPING\r\n" + b"X" * 70000)
    assert (got, closed) == (b"+PONG\r\n" + ERR_INLINE, True)


# ---- authentication limits ----


@pytest.fixture
def authnode():
    # conftest's readiness probe needs PING to work: set the password after
    port, proc = launch()
    r = redis.Redis(host=HOST, port=port, socket_timeout=10)
    r.config_set("requirepass", "s3cret")
    baseline = used_memory(r)
    r.close()
    try:
        yield port
        assert proc.poll() is None, "node died"
        assert_healthy(port, baseline, password="s3cret")
    finally:
        stop_node(proc)


@pytest.mark.parametrize("data,expected,closed", [
    (b"*11\r\n", ERR_UNAUTH_MBULK, True),
    (b"*2147483647\r\n", ERR_UNAUTH_MBULK, True),
    (b"*10\r\n", b"", False),
    (b"*1\r\n$16385\r\n", ERR_UNAUTH_BULK, True),
    (b"*2\r\n$3\r\nGET\r\n$16385\r\n", ERR_UNAUTH_BULK, True),
    (b"*1\r\n$536870912\r\n", ERR_UNAUTH_BULK, True),
    (b"*1\r\n$16384\r\n", b"", False),
    (b"GET x\r\n", NOAUTH, False),
    (b"*1\r\n$4\r\nPING\r\n*x\r\n", NOAUTH + ERR_MBULK, True),
    (b"*2147483648\r\n", ERR_MBULK, True),
])
def test_unauthenticated_limits(authnode, data, expected, closed):
    got, was_closed = exchange(authnode, data)
    assert got == expected
    assert was_closed == closed


def test_authenticated_client_has_normal_limits(authnode):
    with connect(authnode) as s:
        s.sendall(resp("AUTH", "s3cret") + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n")
        got, closed = read_until_quiet(s)
        assert (got, closed) == (b"+OK\r\n", False)
        s.sendall(b"v" * 16385 + b"\r\n" + resp("STRLEN", "k"))
        assert read_exact(s, 13) == b"+OK\r\n:16385\r\n"


# ---- announced but missing data ----


def qbufs(r):
    return [int(e["qbuf"]) for e in r.client_list()]


def test_bulk_header_without_body_is_not_preallocated(healthy):
    port, r = healthy
    before = used_memory(r)
    socks = []
    try:
        for _ in range(8):
            s = connect(port)
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\n")
            socks.append(s)
        time.sleep(0.3)
        for s in socks:
            got, closed = read_until_quiet(s, quiet=0.05)
            assert (got, closed) == (b"", False)
        mem = used_memory(r)
        assert mem < before + 8 * 1024 * 1024, "used_memory grew by %d" % (mem - before)
        assert max(qbufs(r)) <= 1024 * 1024
        # some of the body arrives: still bounded by what was received
        for s in socks:
            s.sendall(b"x" * 100000)
        time.sleep(0.3)
        mem = used_memory(r)
        assert mem < before + 16 * 1024 * 1024, "used_memory grew by %d" % (mem - before)
        assert max(qbufs(r)) <= 1024 * 1024 + 100000 * 2
    finally:
        for s in socks:
            s.close()


def test_slow_loris_does_not_block_others(healthy):
    port, r = healthy
    value = bytes(range(256)) * 2
    cmd = resp("SET", "loris", value)
    with connect(port) as slow:
        start = time.time()
        worst = 0.0
        for i, byte in enumerate(cmd):
            slow.sendall(bytes([byte]))
            if i % 40 == 0:
                t0 = time.time()
                assert r.ping()
                worst = max(worst, time.time() - t0)
            time.sleep(0.001)
        assert read_exact(slow, 5) == b"+OK\r\n"
        assert time.time() - start < 30
    assert worst < 0.5
    assert r.get("loris") == value


def test_many_slow_senders_with_partial_headers(healthy):
    port, r = healthy
    socks = []
    try:
        for i in range(30):
            s = connect(port)
            s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\nkey" % (4 + len(str(i))))
            socks.append(s)
        for _ in range(3):
            assert r.ping()
            time.sleep(0.05)
        for i, s in enumerate(socks):
            s.sendall(b":%d\r\n$1\r\nv\r\n" % i)
        for s in socks:
            assert read_exact(s, 5) == b"+OK\r\n"
        assert r.get("key:7") == b"v"
    finally:
        for s in socks:
            s.close()


# ---- output and query buffer limits ----


def test_output_buffer_limit_disconnects_non_reader(healthy):
    port, r = healthy
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.set("big", b"x" * (1024 * 1024))
    baseline = used_memory(r)
    r.config_set("client-output-buffer-limit", "normal 32mb 16mb 10")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect((HOST, port))
        with s:
            s.sendall(resp("CLIENT", "SETNAME", "hog"))
            assert read_exact(s, 5) == b"+OK\r\n"
            s.sendall(resp("GET", "big") * 200)  # ~200 MB of replies, never read
            deadline = time.time() + 15
            gone = False
            while time.time() < deadline:
                names = [e.get("name") for e in r.client_list()]
                if "hog" not in names:
                    gone = True
                    break
                mem = used_memory(r)
                assert mem < baseline + 64 * 1024 * 1024, "output buffer grew to %d" % (mem - baseline)
                time.sleep(0.05)
            assert gone, "client with a full output buffer was not disconnected"
        deadline = time.time() + 5
        while used_memory(r) > baseline + 4 * 1024 * 1024 and time.time() < deadline:
            time.sleep(0.1)
        assert used_memory(r) < baseline + 4 * 1024 * 1024
    finally:
        r.config_set("client-output-buffer-limit", old)
        r.delete("big")


def test_query_buffer_limit(healthy):
    port, r = healthy
    old = r.config_get("client-query-buffer-limit")["client-query-buffer-limit"]
    r.config_set("client-query-buffer-limit", "1mb")
    try:
        with connect(port) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$2097152\r\n")
            closed = False
            try:
                for _ in range(32):
                    s.sendall(b"x" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            assert closed or wait_closed(s), "client over the query buffer limit kept"
        assert r.exists("q") == 0
        # the limit does not hit commands that fit
        r.set("q", b"y" * 500000)
        assert r.strlen("q") == 500000
    finally:
        r.config_set("client-query-buffer-limit", old)
        r.delete("q")


def test_maxclients(healthy):
    port, r = healthy
    old = r.config_get("maxclients")["maxclients"]
    time.sleep(0.2)  # let the node notice connections closed by earlier cases
    r.config_set("maxclients", 20)
    before = int(r.info("clients")["connected_clients"])  # includes r
    socks = []
    try:
        accepted = refused = 0
        for _ in range(30):
            s = connect(port)
            socks.append(s)
            s.sendall(b"PING\r\n")
            got, closed = read_until_quiet(s, quiet=0.2, limit=2)
            if got == b"+PONG\r\n":
                accepted += 1
            else:
                assert got == ERR_MAXCLIENTS
                assert closed or wait_closed(s, 2)
                refused += 1
        # the admin client r (and any straggler from an earlier case that
        # the node has not reaped yet) holds some of the 20 slots
        assert 20 - before <= accepted <= 19
        assert refused == 30 - accepted
        assert int(r.info("stats")["rejected_connections"]) >= 11
    finally:
        for s in socks:
            s.close()
        r.config_set("maxclients", old)
    time.sleep(0.2)
    assert r.ping()


# ---- pipelines ----


def count_replies(s, n, limit=30.0):
    """Read n simple single-line (+/-/:) or bulk replies; returns them."""
    buf = b""
    out = []
    deadline = time.time() + limit
    s.settimeout(1.0)
    pos = 0
    while len(out) < n:
        assert time.time() < deadline, "got %d of %d replies" % (len(out), n)
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            try:
                chunk = s.recv(1 << 20)
            except socket.timeout:
                continue
            assert chunk, "closed after %d replies" % len(out)
            buf = buf[pos:] + chunk
            pos = 0
            continue
        line = buf[pos:nl]
        if line[:1] == b"$" and line != b"$-1":
            size = int(line[1:])
            end = nl + 2 + size + 2
            if len(buf) < end:
                try:
                    chunk = s.recv(1 << 20)
                except socket.timeout:
                    continue
                assert chunk
                buf = buf[pos:] + chunk
                pos = 0
                continue
            out.append(buf[nl + 2:nl + 2 + size])
            pos = end
        else:
            out.append(line)
            pos = nl + 2
    return out


def test_pipeline_10k_in_one_write(healthy):
    port, r = healthy
    n = 10000
    data = b"".join(resp("SET", "p:%d" % i, "v%d" % i) for i in range(n))
    data += b"".join(resp("GET", "p:%d" % i) for i in range(n))
    data += b"".join(b"INCR counter\r\n" for _ in range(n))
    with connect(port, timeout=30) as s:
        s.sendall(data)
        replies = count_replies(s, 3 * n)
    assert replies[:n] == [b"+OK"] * n
    assert replies[n:2 * n] == [b"v%d" % i for i in range(n)]
    assert replies[2 * n:] == [b":%d" % (i + 1) for i in range(n)]
    assert r.dbsize() == n + 1


SPLIT_PIPELINES = [
    (resp("SET", "a", "bb") + resp("GET", "a") + b"PING\r\n" + resp("DEL", "a"),
     b"+OK\r\n$2\r\nbb\r\n+PONG\r\n:1\r\n"),
    (resp("SET", "b\x00\r\n", "\r\n\x00") + b"*2\r\n$3\r\nGET\r\n$4\r\nb\x00\r\n\r\n"
     + b"ECHO \"x y\"\r\n" + resp("EXISTS", "b\x00\r\n", "nope"),
     b"+OK\r\n$3\r\n\r\n\x00\r\n$3\r\nx y\r\n:1\r\n"),
    (b"*-1\r\n\r\n" + resp("ECHO", "") + b"*0\r\nPING\r\n",
     b"$0\r\n\r\n+PONG\r\n"),
]


@pytest.mark.parametrize("idx", range(len(SPLIT_PIPELINES)))
def test_pipeline_split_at_every_byte(healthy, idx):
    port, r = healthy
    data, expected = SPLIT_PIPELINES[idx]
    with connect(port) as s:
        for cut in range(1, len(data)):
            s.sendall(data[:cut])
            time.sleep(0.002)  # let the server read the first part alone
            s.sendall(data[cut:])
            got = read_exact(s, len(expected))
            assert got == expected, "cut at %d" % cut
        # and one byte at a time
        for b in data:
            s.sendall(bytes([b]))
        assert read_exact(s, len(expected)) == expected
        got, closed = read_until_quiet(s, quiet=0.1)
        assert (got, closed) == (b"", False)
    r.flushall()


# ---- binary safety ----


def test_binary_keys_and_values(healthy):
    port, r = healthy
    keys = [b"\x00", b"\r\n", b"a\x00b\r\nc", b"\xff\xfe\x00\r", b"$5\r\n*1\r\n", bytes(range(256))]
    with connect(port) as s:
        for i, k in enumerate(keys):
            v = k[::-1] + b"\x00\r\n" * i
            s.sendall(resp("SET", k, v) + resp("GET", k))
            exp = b"+OK\r\n$%d\r\n%s\r\n" % (len(v), v)
            assert read_exact(s, len(exp)) == exp
        s.sendall(resp("DBSIZE"))
        exp = b":%d\r\n" % len(keys)
        assert read_exact(s, len(exp)) == exp
    for i, k in enumerate(keys):
        assert r.get(k) == k[::-1] + b"\x00\r\n" * i
    assert sorted(r.keys("*")) == sorted(keys)
    assert r.exists(*keys) == len(keys)
    big = bytes(range(256)) * 4096 + b"\r\n\x00"
    r.set(b"\x00big\r\n", big)
    assert r.get(b"\x00big\r\n") == big
    assert r.delete(*keys) == len(keys)
