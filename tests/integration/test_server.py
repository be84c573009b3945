"""
Connection and server behaviour of a real node: authentication (requirepass,
AUTH, HELLO AUTH), RESP3 over a raw socket, protected mode (for real, across
two private network namespaces), the CLIENT family, MONITOR, SLOWLOG, CONFIG
(SET/GET/REWRITE/RESETSTAT), INFO sections, idle timeout, databases
(SELECT/SWAPDB/FLUSHDB/FLUSHALL ASYNC), SHUTDOWN, and the command line
(--version, --help, config files, overrides, stdin config).

Expected texts are Redis 7.0.15's, verified once against a real redis-server
and hard-coded here.  Nodes listen on 127.0.0.1 (or on link-local addresses
inside namespaces this file creates and deletes) on ports 25500-25999, and
every process is stopped by PID.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from conftest import BINARY, HOST, start_node, stop_node, port_is_free, pick_port

PORT_LO, PORT_HI = 25500, 25999

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOAUTH = b"-NOAUTH Authentication required.\r\n"
NOAUTH_HELLO = (b"-NOAUTH HELLO must be called with the client already authenticated, "
                b"otherwise the HELLO AUTH <user> <pass> option can be used to "
                b"authenticate the client and select the RESP protocol version at "
                b"the same time\r\n")


def my_port():
    return pick_port(PORT_LO, PORT_HI)


def launch(*args):
    """A node on a port of this file's range: (port, proc)."""
    last = None
    for _ in range(5):
        try:
            return start_node(*args, port=my_port())
        except RuntimeError as e:
            last = e
    raise last


def connect(port, host=HOST, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_quiet(s, quiet=0.3, limit=5.0):
    """(data, closed): read until EOF, `quiet` s of silence, or `limit` s."""
    data = b""
    deadline = time.time() + limit
    s.settimeout(quiet)
    while time.time() < deadline:
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


def read_exact(s, n, limit=10.0):
    buf = b""
    deadline = time.time() + limit
    s.settimeout(0.5)
    while len(buf) < n:
        assert time.time() < deadline, "timed out after %r" % buf
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            continue
        assert chunk, "closed after %r" % buf
        buf += chunk
    return buf


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def ready(port, host=HOST):
    """True when something on host:port answers PING (PONG or NOAUTH)."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


def spawn(argv, port, cwd, stdin_data=None, timeout=10.0):
    """Start `[BINARY] + argv` in cwd and wait until it answers on
    host:port.  Returns the Popen (stdout+stderr in cwd/node.log)."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached is not built: %s" % BINARY)
    logf = open(os.path.join(cwd, "node.log"), "wb")
    proc = subprocess.Popen([BINARY] + list(argv), cwd=cwd, stdout=logf,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL)
    logf.close()
    if stdin_data is not None:
        proc.stdin.write(stdin_data)
        proc.stdin.close()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        if ready(port):
            return proc
        time.sleep(0.02)
    kill(proc)
    with open(os.path.join(cwd, "node.log"), "rb") as f:
        raise RuntimeError("node did not start: %s" % f.read().decode(errors="replace"))


def kill(proc):
    """Stop a process started here, by PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def srv():
    """A fresh node: yields (port, client)."""
    port, proc = launch()
    r = redis.Redis(host=HOST, port=port, socket_timeout=10)
    try:
        yield port, r
    finally:
        r.close()
        stop_node(proc)


@pytest.fixture
def tmpdir_rc():
    d = tempfile.mkdtemp(prefix="ringcache-srvtest-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- authentication ----


def test_requirepass_auth(srv):
    port, admin = srv
    admin.config_set("requirepass", "pw1")
    with connect(port) as s:
        s.sendall(b"GET x\r\nPING\r\n")
        assert read_exact(s, 2 * len(NOAUTH)) == NOAUTH * 2
        s.sendall(b"AUTH wrong\r\n")
        exp = b"-" + WRONGPASS.encode() + b"\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"AUTH default wrong\r\n")
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"AUTH a b c\r\n")
        assert read_exact(s, 19) == b"-ERR syntax error\r\n"
        s.sendall(b"AUTH pw1\r\nGET x\r\nAUTH default pw1\r\nPING\r\n")
        exp2 = b"+OK\r\n$-1\r\n+OK\r\n+PONG\r\n"
        assert read_exact(s, len(exp2)) == exp2
        # a later wrong AUTH does not log the client out (Redis keeps it)
        s.sendall(b"AUTH nope\r\nPING\r\n")
        assert read_exact(s, len(exp) + 7) == exp + b"+PONG\r\n"
    # redis-py, both forms
    r = redis.Redis(host=HOST, port=port, password="pw1", socket_timeout=5)
    assert r.ping()
    r.close()
    r = redis.Redis(host=HOST, port=port, username="default", password="pw1", socket_timeout=5)
    assert r.ping()
    r.close()
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="WRONGPASS"):
        redis.Redis(host=HOST, port=port, password="bad", socket_timeout=5).ping()
    with pytest.raises((redis.AuthenticationError, redis.ResponseError)):
        redis.Redis(host=HOST, port=port, socket_timeout=5).get("x")
    stats = admin.info("stats")
    assert "total_error_replies" in stats


def test_auth_without_password_configured(srv):
    port, r = srv
    with connect(port) as s:
        s.sendall(b"AUTH x\r\n")
        exp = (b"-ERR AUTH <password> called without any password configured for the "
               b"default user. Are you sure your configuration is correct?\r\n")
        assert read_exact(s, len(exp)) == exp


def test_hello(srv):
    port, admin = srv
    admin.config_set("requirepass", "pw2")
    with connect(port) as s:
        s.sendall(b"HELLO 3\r\n")
        assert read_exact(s, len(NOAUTH_HELLO)) == NOAUTH_HELLO
        s.sendall(b"HELLO 4\r\n")
        assert read_exact(s, 39) == b"-NOPROTO unsupported protocol version\r\n"
        s.sendall(b"HELLO abc\r\n")
        exp = b"-ERR Protocol version is not an integer or out of range\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"HELLO 3 AUTH default wrong\r\n")
        exp = b"-" + WRONGPASS.encode() + b"\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"HELLO 3 AUTH default pw2 SETNAME hello-client\r\n")
        data, closed = read_until_quiet(s)
        assert not closed
        assert data.startswith(b"%7\r\n$6\r\nserver\r\n")
        assert b"$5\r\nproto\r\n:3\r\n" in data
        assert b"$4\r\nmode\r\n$10\r\nstandalone\r\n" in data
        assert b"$4\r\nrole\r\n$6\r\nmaster\r\n" in data
        assert data.endswith(b"$7\r\nmodules\r\n*0\r\n")
        # RESP3 replies
        s.sendall(b"CLIENT GETNAME\r\nGET missing\r\nSET k v\r\nGET k\r\nEXISTS k\r\n")
        exp = b"$12\r\nhello-client\r\n_\r\n+OK\r\n$1\r\nv\r\n:1\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"HELLO 2\r\n")
        data, _ = read_until_quiet(s)
        assert data.startswith(b"*14\r\n")
        s.sendall(b"GET missing\r\n")
        assert read_exact(s, 5) == b"$-1\r\n"
    r = redis.Redis(host=HOST, port=port, password="pw2", socket_timeout=5)
    try:
        assert "hello-client" not in [c["name"] for c in r.client_list()]
    finally:
        r.close()


def test_resp3_raw_socket(srv):
    port, _ = srv
    with connect(port) as s:
        s.sendall(b"HELLO 3\r\n")
        data, _ = read_until_quiet(s)
        assert data.startswith(b"%7\r\n")
        s.sendall(b"GET missing\r\n")
        assert read_exact(s, 3) == b"_\r\n"
        s.sendall(b"CLIENT GETNAME\r\n")
        assert read_exact(s, 3) == b"_\r\n"


# ---- protected mode, across two private network namespaces ----


def _ip(*args):
    return subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=20)


@pytest.fixture
def netns_pair():
    """Two namespaces joined by a veth pair: 169.254.77.1/30 in ns_a and
    169.254.77.2/30 in ns_b (link-local, never routed).  Deleted at teardown."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 'ip' is missing")
    tag = "%d" % os.getpid()
    ns_a, ns_b = "rc-test-a-" + tag, "rc-test-b-" + tag
    va, vb = "rcta" + tag[-8:], "rctb" + tag[-8:]
    created = []
    try:
        for ns in (ns_a, ns_b):
            res = _ip("netns", "add", ns)
            if res.returncode != 0:
                pytest.skip("cannot create a network namespace: %s" % res.stderr.decode())
            created.append(ns)
        steps = [
            ("link", "add", va, "type", "veth", "peer", "name", vb),
            ("link", "set", va, "netns", ns_a),
            ("link", "set", vb, "netns", ns_b),
            ("-n", ns_a, "addr", "add", "169.254.77.1/30", "dev", va),
            ("-n", ns_b, "addr", "add", "169.254.77.2/30", "dev", vb),
            ("-n", ns_a, "link", "set", va, "up"),
            ("-n", ns_b, "link", "set", vb, "up"),
            ("-n", ns_a, "link", "set", "lo", "up"),
            ("-n", ns_b, "link", "set", "lo", "up"),
        ]
        for st in steps:
            res = _ip(*st)
            if res.returncode != 0:
                pytest.skip("cannot set up veth pair: %s" % res.stderr.decode())
        yield ns_a, ns_b
    finally:
        for ns in created:  # deleting a namespace deletes its veth end too
            _ip("netns", "del", ns)


def _netns_client(ns, port, payload):
    """Send payload from inside ns to 169.254.77.1:port; returns what the
    server sent back before closing (or b"<open>" + data if it stayed open)."""
    code = (
        "import socket,sys,time\n"
        "s=socket.create_connection(('169.254.77.1',%d),timeout=3)\n"
        "s.sendall(%r)\n"
        "data=b''\n"
        "end=time.time()+3\n"
        "s.settimeout(0.5)\n"
        "state=b'<open>'\n"
        "while time.time()<end:\n"
        "    try:\n"
        "        c=s.recv(65536)\n"
        "    except socket.timeout:\n"
        "        break\n"
        "    except ConnectionResetError:\n"
        "        state=b'<closed>'\n"
        "        break\n"
        "    if not c:\n"
        "        state=b'<closed>'\n"
        "        break\n"
        "    data+=c\n"
        "sys.stdout.buffer.write(state+data)\n" % (port, payload))
    res = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def test_protected_mode_refuses_remote_clients(netns_pair, tmpdir_rc):
    ns_a, ns_b = netns_pair
    port = 25900 + os.getpid() % 100  # namespaces are private: no clash possible
    # started by hand: readiness is probed from inside ns_a (its loopback)
    logf = open(os.path.join(tmpdir_rc, "node.log"), "wb")
    proc = subprocess.Popen(["ip", "netns", "exec", ns_a, BINARY, "--port", str(port),
                             "--bind", "169.254.77.1", "127.0.0.1", "--save", "",
                             "--dir", tmpdir_rc],
                            cwd=tmpdir_rc, stdout=logf, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    logf.close()
    try:
        deadline = time.time() + 10
        while True:
            res = subprocess.run(["ip", "netns", "exec", ns_a, "redis-cli", "-p", str(port),
                                  "PING"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=10)
            if res.stdout.strip() == b"PONG":
                break
            assert proc.poll() is None, "node exited"
            assert time.time() < deadline, "node did not start in the namespace"
            time.sleep(0.05)
        out = _netns_client(ns_b, port, b"PING\r\n")
        assert out.startswith(b"<closed>-DENIED "), out
        assert out.endswith(b"\r\n")
        # loopback inside ns_a is still served
        res = subprocess.run(["ip", "netns", "exec", ns_a, "redis-cli", "-p", str(port),
                              "CONFIG", "SET", "requirepass", "nsSecret"],
                             stdout=subprocess.PIPE, timeout=10)
        assert res.stdout.strip() == b"OK"
        # with a password, the remote client is let in and must authenticate
        out = _netns_client(ns_b, port, b"PING\r\n")
        assert out == b"<open>" + NOAUTH
        out = _netns_client(ns_b, port, b"AUTH nsSecret\r\nPING\r\n")
        assert out == b"<open>+OK\r\n+PONG\r\n"
        # protected-mode no: let in without a password
        res = subprocess.run(["ip", "netns", "exec", ns_a, "redis-cli", "-p", str(port),
                              "-a", "nsSecret", "--no-auth-warning", "CONFIG", "SET",
                              "requirepass", ""], stdout=subprocess.PIPE, timeout=10)
        assert res.stdout.strip() == b"OK"
        out = _netns_client(ns_b, port, b"PING\r\n")
        assert out.startswith(b"<closed>-DENIED ")
        res = subprocess.run(["ip", "netns", "exec", ns_a, "redis-cli", "-p", str(port),
                              "CONFIG", "SET", "protected-mode", "no"],
                             stdout=subprocess.PIPE, timeout=10)
        assert res.stdout.strip() == b"OK"
        out = _netns_client(ns_b, port, b"PING\r\n")
        assert out == b"<open>+PONG\r\n"
    finally:
        kill(proc)


# ---- CLIENT ----


def client_by_name(r, name):
    for c in r.client_list():
        if c.get("name") == name:
            return c
    return None


def test_client_list_info_setname(srv):
    port, r = srv
    with connect(port) as s:
        s.sendall(b"CLIENT SETNAME worker-1\r\nCLIENT GETNAME\r\nCLIENT ID\r\n")
        data, _ = read_until_quiet(s)
        m = re.match(rb"\+OK\r\n\$8\r\nworker-1\r\n:(\d+)\r\n$", data)
        assert m, data
        cid = int(m.group(1))
        entry = client_by_name(r, "worker-1")
        assert entry is not None and int(entry["id"]) == cid
        for field in ("addr", "laddr", "fd", "age", "idle", "flags", "db", "qbuf",
                      "omem", "tot-mem", "cmd", "user", "resp"):
            assert field in entry
        assert entry["laddr"] == "%s:%d" % (HOST, port)
        assert entry["cmd"] == "client|id"
        listed = r.execute_command("CLIENT", "LIST", "ID", str(cid))
        assert b"name=worker-1" in listed and listed.count(b"\n") == 1
        s.sendall(b"CLIENT INFO\r\n")
        data, _ = read_until_quiet(s)
        assert b"id=%d " % cid in data and b" name=worker-1 " in data
        assert b" cmd=client|info " in data
        s.sendall(b'CLIENT SETNAME "a b"\r\n')
        exp = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b'CLIENT SETNAME ""\r\nCLIENT GETNAME\r\n')
        assert read_exact(s, 10) == b"+OK\r\n$-1\r\n"
    assert r.execute_command("CLIENT", "LIST", "TYPE", "normal")
    with pytest.raises(redis.ResponseError):
        r.execute_command("CLIENT", "LIST", "TYPE", "bogus")


def test_client_setinfo(srv):
    port, r = srv
    with connect(port) as s:
        s.sendall(b"CLIENT SETINFO lib-name mylib\r\nCLIENT SETINFO lib-ver 1.2.3\r\n"
                  b"CLIENT INFO\r\n")
        data, _ = read_until_quiet(s)
        assert data.startswith(b"+OK\r\n+OK\r\n$")
        assert b" lib-name=mylib " in data and b" lib-ver=1.2.3" in data
        s.sendall(b'CLIENT SETINFO lib-name "a b"\r\n')
        exp = b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
        assert read_exact(s, len(exp)) == exp
        s.sendall(b"CLIENT SETINFO lib-foo x\r\n")
        data, _ = read_until_quiet(s)
        assert data.startswith(b"-ERR ")


def test_client_kill(srv):
    port, r = srv
    victims = [connect(port) for _ in range(3)]
    try:
        ids = []
        for i, v in enumerate(victims):
            v.sendall(b"CLIENT SETNAME v%d\r\nCLIENT ID\r\n" % i)
            data, _ = read_until_quiet(v)
            ids.append(int(re.search(rb":(\d+)\r\n$", data).group(1)))
        # by id (new form: number of killed clients)
        assert r.execute_command("CLIENT", "KILL", "ID", str(ids[0])) == 1
        data, closed = read_until_quiet(victims[0], limit=3)
        assert closed
        assert r.execute_command("CLIENT", "KILL", "ID", str(ids[0])) == 0
        # by addr, new form and old form
        addr1 = client_by_name(r, "v1")["addr"]
        assert r.execute_command("CLIENT", "KILL", "ADDR", addr1) == 1
        assert read_until_quiet(victims[1], limit=3)[1]
        addr2 = client_by_name(r, "v2")["addr"]
        assert r.execute_command("CLIENT", "KILL", addr2) == b"OK"
        assert read_until_quiet(victims[2], limit=3)[1]
        with pytest.raises(redis.ResponseError, match="^No such client$"):
            r.execute_command("CLIENT", "KILL", "1.2.3.4:5")
        with pytest.raises(redis.ResponseError, match="client-id should be greater than 0"):
            r.execute_command("CLIENT", "KILL", "ID", "abc")
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            r.execute_command("CLIENT", "KILL", "FOO", "bar")
        # SKIPME: yes by default, so a client does not kill itself
        me = r.client_info()
        assert r.execute_command("CLIENT", "KILL", "ADDR", me["addr"]) == 0
        assert r.execute_command("CLIENT", "KILL", "ID", str(me["id"]), "SKIPME", "yes") == 0
        with connect(port) as s:
            s.sendall(b"CLIENT ID\r\n")
            data, _ = read_until_quiet(s)
            myid = int(re.search(rb":(\d+)\r\n$", data).group(1))
            s.sendall(b"CLIENT KILL ID %d SKIPME no\r\n" % myid)
            data, closed = read_until_quiet(s)
            assert closed
            assert data in (b"", b":1\r\n")
    finally:
        for v in victims:
            v.close()


def test_client_reply(srv):
    port, _ = srv
    with connect(port) as s:
        s.sendall(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n"
                  b"CLIENT REPLY SKIP\r\nSET a 2\r\nGET a\r\nCLIENT REPLY FOO\r\n")
        data, closed = read_until_quiet(s)
        assert data == b"+OK\r\n$1\r\n1\r\n$1\r\n2\r\n-ERR syntax error\r\n"
        assert not closed


def test_client_pause_write(srv):
    port, r = srv
    r.set("k", "v0")
    other = redis.Redis(host=HOST, port=port, socket_timeout=10)
    try:
        assert r.execute_command("CLIENT", "PAUSE", "1000", "WRITE") == b"OK"
        t0 = time.time()
        assert other.get("k") == b"v0"  # reads go through
        assert time.time() - t0 < 0.3
        t0 = time.time()
        assert other.set("k", "v1")  # blocked until the pause ends
        waited = time.time() - t0
        assert 0.7 < waited < 3.0, waited
        assert other.get("k") == b"v1"
        # UNPAUSE releases a blocked writer at once
        assert r.execute_command("CLIENT", "PAUSE", "20000", "WRITE") == b"OK"
        result = {}

        def writer():
            t = time.time()
            result["ok"] = other.set("k", "v2")
            result["t"] = time.time() - t

        th = threading.Thread(target=writer, daemon=True)
        th.start()
        time.sleep(0.3)
        assert "ok" not in result
        assert r.execute_command("CLIENT", "UNPAUSE") == b"OK"
        th.join(5)
        assert result.get("ok") is True and result["t"] < 3
        assert r.get("k") == b"v2"
        with pytest.raises(redis.ResponseError, match="timeout is not an integer or out of range"):
            r.execute_command("CLIENT", "PAUSE", "abc")
        with pytest.raises(redis.ResponseError, match="CLIENT PAUSE mode must be WRITE or ALL"):
            r.execute_command("CLIENT", "PAUSE", "10", "FOO")
    finally:
        r.execute_command("CLIENT", "UNPAUSE")
        other.close()


def test_client_no_evict(srv):
    port, r = srv
    assert r.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    assert "e" in r.client_info()["flags"]
    assert r.execute_command("CLIENT", "NO-EVICT", "off") == b"OK"
    assert "e" not in r.client_info()["flags"]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("CLIENT", "NO-EVICT", "maybe")


# ---- MONITOR ----


def test_monitor_format(srv):
    port, r = srv
    with connect(port) as m:
        m.sendall(b"MONITOR\r\n")
        assert read_exact(m, 5) == b"+OK\r\n"
        r.set("foo", b"a\nb\x00\"\\ \xff")
        r.execute_command("sEt", "x", "y")
        r3 = redis.Redis(host=HOST, port=port, db=3, socket_timeout=5)
        r3.get("k")
        laddr = r.client_info()["addr"]
        addr3 = r3.client_info()["addr"]
        r3.close()
        data, _ = read_until_quiet(m, quiet=0.5)
    lines = data.split(b"\r\n")
    pat = rb'^\+(\d+)\.(\d{6}) \[(\d+) ([0-9.]+:\d+)\] (.*)$'
    parsed = []
    for line in lines:
        if not line:
            continue
        mm = re.match(pat, line)
        assert mm, line
        assert abs(int(mm.group(1)) - time.time()) < 60
        parsed.append((int(mm.group(3)), mm.group(4).decode(), mm.group(5)))
    assert parsed[0] == (0, laddr, b'"SET" "foo" "a\\nb\\x00\\"\\\\ \\xff"')
    assert parsed[1] == (0, laddr, b'"sEt" "x" "y"')
    # Redis 7.0 feeds monitors after the command ran: SELECT shows the new db
    assert (3, addr3, b'"SELECT" "3"') in parsed
    assert (3, addr3, b'"GET" "k"') in parsed


# ---- SLOWLOG ----


def test_slowlog(srv):
    port, r = srv
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    assert r.slowlog_len() == 1  # the RESET itself was logged
    r.client_setname("slowpoke")
    r.set("slowkey", "v")
    r.get("slowkey")
    entries = r.execute_command("SLOWLOG", "GET", "2")
    assert len(entries) == 2
    newest = entries[0]
    assert len(newest) == 6
    ident, when, micros, args, addr, name = newest
    assert args == [b"GET", b"slowkey"]
    assert entries[1][3] == [b"SET", b"slowkey", b"v"]
    assert entries[1][0] == ident - 1
    assert abs(when - time.time()) < 60 and micros >= 0
    assert addr.decode() == r.client_info()["addr"] and name == b"slowpoke"
    assert r.slowlog_len() >= 5
    assert len(r.execute_command("SLOWLOG", "GET", "-1")) >= 5
    # long argument lists and long strings are trimmed as in Redis
    r.execute_command("MSET", *sum([["k%d" % i, "v"] for i in range(40)], []))
    args = r.execute_command("SLOWLOG", "GET", "1")[0][3]
    assert len(args) == 32 and args[-1] == b"... (50 more arguments)"
    r.set("long", "x" * 200)
    args = r.execute_command("SLOWLOG", "GET", "1")[0][3]
    assert args[2] == b"x" * 128 + b"... (72 more bytes)"
    assert r.slowlog_reset()
    assert r.slowlog_len() == 1
    r.config_set("slowlog-max-len", 3)
    for i in range(10):
        r.get("x")
    assert r.slowlog_len() == 3
    r.config_set("slowlog-log-slower-than", -1)
    r.slowlog_reset()
    r.get("x")
    assert r.slowlog_len() == 0
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        r.execute_command("SLOWLOG", "GET", "-2")
    with pytest.raises(redis.ResponseError, match=r"^unknown subcommand 'FOO'\. Try SLOWLOG HELP\.$"):
        r.execute_command("SLOWLOG", "FOO")
    with pytest.raises(redis.ResponseError,
                       match=r"^unknown subcommand or wrong number of arguments for 'GET'\. "
                             r"Try SLOWLOG HELP\.$"):
        r.execute_command("SLOWLOG", "GET", "1", "2")


# ---- CONFIG ----


ROUND_TRIPS = [
    ("maxmemory", "10485760", "10mb"),
    ("maxmemory-policy", "allkeys-lru", "allkeys-lru"),
    ("timeout", "300", "300"),
    ("hz", "20", "20"),
    ("slowlog-max-len", "200", "200"),
    ("slowlog-log-slower-than", "5000", "5000"),
    ("maxclients", "500", "500"),
    ("loglevel", "verbose", "VERBOSE"),
    ("lazyfree-lazy-user-del", "yes", "yes"),
    ("proto-max-bulk-len", "2097152", "2mb"),
    ("client-query-buffer-limit", "2097152", "2mb"),
    ("client-output-buffer-limit", "normal 1048576 524288 5 slave 268435456 67108864 60 "
                                   "pubsub 33554432 8388608 60",
     "normal 1mb 512kb 5"),
    ("maxmemory-samples", "7", "7"),
    ("hash-max-listpack-entries", "256", "256"),
]


def test_config_set_get_round_trips(srv):
    port, r = srv
    for name, expect, value in ROUND_TRIPS:
        assert r.config_set(name, value), name
        assert r.config_get(name) == {name: expect}, name
    got = r.config_get("maxmemory*")
    assert set(got) >= {"maxmemory", "maxmemory-policy", "maxmemory-samples"}
    # 7.0: several parameters at once, all or nothing
    assert r.execute_command("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy",
                             "noeviction") == b"OK"
    assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
    with pytest.raises(redis.ResponseError):
        r.execute_command("CONFIG", "SET", "maxmemory", "3mb", "port", "abc")
    assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
    got = r.execute_command("CONFIG", "GET", "maxmemory", "hz")
    assert dict(zip(got[::2], got[1::2])) == {b"maxmemory": b"1048576", b"hz": b"20"}
    # the deprecated alias answers under its own name
    assert r.config_get("hash-max-ziplist-entries") == {"hash-max-ziplist-entries": "256"}
    errs = [
        (("nosuch", "1"), "Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
        (("port", "abc"), "CONFIG SET failed (possibly related to argument 'port') - "
                          "argument couldn't be parsed into an integer"),
        (("maxmemory", "1mb", "maxmemory", "2mb"),
         "CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
        (("databases", "4"), "CONFIG SET failed (possibly related to argument 'databases') - "
                             "can't set immutable config"),
    ]
    for args, msg in errs:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("CONFIG", "SET", *args)
        assert str(e.value) == msg
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("CONFIG", "GET")
    assert str(e.value) == "wrong number of arguments for 'config|get' command"


CONF_TEXT = """# ringcache test configuration
# this comment must survive CONFIG REWRITE

port {port}
bind 127.0.0.1
save ""
# memory
maxmemory 5mb
hz 10
"""


def test_config_rewrite(tmpdir_rc):
    port = my_port()
    path = os.path.join(tmpdir_rc, "node.conf")
    with open(path, "w") as f:
        f.write(CONF_TEXT.format(port=port))
    proc = spawn([path, "--dir", tmpdir_rc], port, tmpdir_rc)
    try:
        r = redis.Redis(host=HOST, port=port, socket_timeout=5)
        assert r.config_get("maxmemory") == {"maxmemory": "5242880"}
        r.config_set("maxmemory", "20mb")
        r.config_set("hz", "25")
        r.config_set("slowlog-max-len", "333")
        r.config_set("maxmemory-policy", "allkeys-lfu")
        assert r.config_rewrite()
        r.close()
    finally:
        kill(proc)
    text = open(path).read()
    assert "# ringcache test configuration" in text
    assert "# this comment must survive CONFIG REWRITE" in text
    assert "# memory" in text
    assert re.search(r"^maxmemory (20mb|20971520)$", text, re.M), text
    assert re.search(r"^hz 25$", text, re.M)
    assert re.search(r"^slowlog-max-len 333$", text, re.M)
    assert re.search(r"^maxmemory-policy allkeys-lfu$", text, re.M)
    assert len(re.findall(r"^maxmemory ", text, re.M)) == 1
    assert len(re.findall(r"^port ", text, re.M)) == 1
    # the rewritten file starts a node with the new values
    proc = spawn([path, "--dir", tmpdir_rc], port, tmpdir_rc)
    try:
        r = redis.Redis(host=HOST, port=port, socket_timeout=5)
        assert r.config_get("maxmemory") == {"maxmemory": "20971520"}
        assert r.config_get("hz") == {"hz": "25"}
        assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "333"}
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lfu"}
        # rewriting again keeps comments and writes every option once
        r.config_set("hz", "30")
        assert r.config_rewrite()
        text = open(path).read()
        assert "# this comment must survive CONFIG REWRITE" in text
        assert re.findall(r"^hz .*$", text, re.M) == ["hz 30"]
        assert len(re.findall(r"^maxmemory ", text, re.M)) == 1
        r.close()
    finally:
        kill(proc)


def test_config_rewrite_without_file(srv):
    _, r = srv
    with pytest.raises(redis.ResponseError, match="^The server is running without a config file$"):
        r.config_rewrite()


def test_config_resetstat_and_info(srv):
    port, r = srv
    r.set("a", "b")
    for _ in range(5):
        r.get("a")
    with pytest.raises(redis.ResponseError):
        r.execute_command("INCR", "a")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCMD")
    cs = r.info("commandstats")
    assert cs["cmdstat_get"]["calls"] == 5
    assert cs["cmdstat_incr"]["calls"] == 1 and cs["cmdstat_incr"]["failed_calls"] == 1
    es = r.info("errorstats")["errorstat_ERR"]
    # redis-py leaves "count=N" (no comma) as a string
    count = es["count"] if isinstance(es, dict) else int(es.split("=")[1])
    assert count >= 2
    stats = r.info("stats")
    assert stats["total_error_replies"] >= 2
    assert stats["keyspace_hits"] == 5
    assert r.config_resetstat()
    cs = r.info("commandstats")
    assert "cmdstat_get" not in cs
    assert r.info("errorstats") == {}
    stats = r.info("stats")
    assert stats["keyspace_hits"] == 0 and stats["total_error_replies"] == 0
    r.get("a")
    assert r.info("commandstats")["cmdstat_get"]["calls"] == 1


def raw_info(port, *sections):
    """The text of INFO [sections...], read over a raw socket."""
    with connect(port) as s:
        s.sendall(resp("INFO", *sections))
        head = b""
        while not head.endswith(b"\r\n"):
            head += read_exact(s, 1)
        assert head[:1] == b"$", head
        size = int(head[1:-2])
        return read_exact(s, size + 2)[:-2].decode()


def test_info_sections(srv):
    port, r = srv
    for i in range(100):
        r.set("k%d" % i, i)
    for i in range(10):
        r.expire("k%d" % i, 1000)
    r.execute_command("SELECT", 5)  # pooled connection: harmless, db 0 used below
    r5 = redis.Redis(host=HOST, port=port, db=5, socket_timeout=5)
    r5.set("x", 1)
    r5.close()
    raw = raw_info(port)
    sections = re.findall(r"^# (\w+)\r$", raw, re.M)
    for sec in ("Server", "Clients", "Memory", "Stats", "Keyspace"):
        assert sec in sections, sections
    for line in raw.split("\r\n"):
        assert line == "" or line.startswith("# ") or ":" in line, line
    server = r.info("server")
    assert server["tcp_port"] == port
    assert server["process_id"] > 0
    assert "redis_version" in server
    clients = r.info("clients")
    assert clients["connected_clients"] >= 1
    mem = r.info("memory")
    assert mem["used_memory"] > 0 and "maxmemory" in mem
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 100 and ks["db0"]["expires"] == 10
    assert ks["db5"]["keys"] == 1 and ks["db5"]["expires"] == 0
    assert re.search(r"^db0:keys=100,expires=10,avg_ttl=\d+\r$", raw, re.M)
    everything = raw_info(port, "everything")
    assert "# Commandstats" in everything
    default = raw_info(port, "default")
    assert "# Commandstats" not in default
    multi = raw_info(port, "server", "clients")
    assert "# Server" in multi and "# Clients" in multi and "# Memory" not in multi


# ---- idle timeout ----


def test_timeout_closes_idle_clients(srv):
    port, r = srv
    r.config_set("timeout", 1)
    with connect(port) as idle, connect(port) as busy:
        t0 = time.time()
        closed_at = None
        while time.time() - t0 < 6:
            busy.sendall(b"PING\r\n")
            assert read_exact(busy, 7) == b"+PONG\r\n"
            idle.settimeout(0.2)
            try:
                chunk = idle.recv(10)
                if not chunk:
                    closed_at = time.time() - t0
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed_at = time.time() - t0
                break
        assert closed_at is not None, "idle client kept"
        assert 0.9 < closed_at < 5
        busy.sendall(b"PING\r\n")
        assert read_exact(busy, 7) == b"+PONG\r\n"
    r.config_set("timeout", 0)


# ---- databases ----


def test_select_swapdb_flush(srv):
    port, r = srv
    r0 = redis.Redis(host=HOST, port=port, db=0, socket_timeout=10)
    r1 = redis.Redis(host=HOST, port=port, db=1, socket_timeout=10)
    try:
        p = r0.pipeline(transaction=False)
        for i in range(3000):
            p.set("a%d" % i, i)
        p.execute()
        p = r1.pipeline(transaction=False)
        for i in range(2000):
            p.set("b%d" % i, i)
        p.pexpire("b0", 100000)
        p.execute()
        assert (r0.dbsize(), r1.dbsize()) == (3000, 2000)
        assert r0.swapdb(0, 1)
        assert (r0.dbsize(), r1.dbsize()) == (2000, 3000)
        assert r0.get("b5") == b"5" and r1.get("a5") == b"5"
        assert r0.pttl("b0") > 0
        assert r0.swapdb(1, 1)
        assert r0.swapdb(0, 1) and r0.dbsize() == 3000
        with pytest.raises(redis.ResponseError, match="^DB index is out of range$"):
            r0.swapdb(0, 99)
        with pytest.raises(redis.ResponseError, match="^invalid first DB index$"):
            r0.execute_command("SWAPDB", "x", "1")
        with pytest.raises(redis.ResponseError, match="^invalid second DB index$"):
            r0.execute_command("SWAPDB", "1", "x")
        with pytest.raises(redis.ResponseError, match="^DB index is out of range$"):
            r0.execute_command("SELECT", "16")
        with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
            r0.execute_command("SELECT", "x")
        # FLUSHDB ASYNC empties only the selected database, at once
        assert r0.flushdb(asynchronous=True)
        assert r0.dbsize() == 0 and r1.dbsize() == 2000
        assert r0.get("a1") is None
        r0.set("after", 1)
        assert r0.dbsize() == 1
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            r0.execute_command("FLUSHDB", "ASYNC", "SYNC")
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            r0.execute_command("FLUSHALL", "FOO")
        assert r0.flushall(asynchronous=True)
        assert r0.dbsize() == 0 and r1.dbsize() == 0
        assert r.info("keyspace") == {}
        r1.set("again", 1)
        assert r1.execute_command("FLUSHALL", "SYNC") and r1.dbsize() == 0
    finally:
        r0.close()
        r1.close()


# ---- SHUTDOWN ----


def test_shutdown():
    port, proc = launch()
    try:
        with connect(port) as s:
            s.sendall(b"SHUTDOWN FOO\r\n")
            assert read_exact(s, 19) == b"-ERR syntax error\r\n"
            s.sendall(b"SHUTDOWN\r\n")
            data, closed = read_until_quiet(s, quiet=2, limit=10)
            assert closed and data == b""
        assert proc.wait(10) == 0
    finally:
        stop_node(proc)


def test_shutdown_save_writes_a_snapshot():
    """SHUTDOWN SAVE writes dir/dbfilename before exiting; a node started
    on that directory has the data back."""
    port, proc = launch()
    dump = os.path.join(proc.workdir, "dump.rdb")
    try:
        with connect(port) as s:
            s.sendall(b"SET survivor yes\r\n")
            assert read_exact(s, 5) == b"+OK\r\n"
            s.sendall(b"SHUTDOWN SAVE\r\n")
            data, closed = read_until_quiet(s, quiet=2, limit=10)
            assert closed and data == b""
        assert proc.wait(10) == 0
        assert os.path.getsize(dump) > 0
        port2, proc2 = start_node("--dir", proc.workdir)
        try:
            r = redis.Redis(host="127.0.0.1", port=port2)
            assert r.get("survivor") == b"yes"
        finally:
            stop_node(proc2)
    finally:
        stop_node(proc)


def test_sigterm_exits_zero():
    port, proc = launch()
    try:
        proc.terminate()
        assert proc.wait(10) == 0
    finally:
        stop_node(proc)


# ---- command line ----


def test_version_and_help():
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached is not built")
    for flag in ("--version", "-v"):
        res = subprocess.run([BINARY, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=10)
        assert res.returncode == 0
        assert re.match(rb"^ringcached v=\d+\.\d+\.\d+ ", res.stdout), res.stdout
    for flag in ("--help", "-h"):
        res = subprocess.run([BINARY, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=10)
        out = res.stdout + res.stderr
        assert b"Usage:" in out and b"--port" in out
        assert res.returncode in (0, 1)


def test_config_file_with_overrides(tmpdir_rc):
    port_file, port = my_port(), my_port()
    while port == port_file:
        port = my_port()
    path = os.path.join(tmpdir_rc, "n.conf")
    with open(path, "w") as f:
        f.write("port %d\nbind 127.0.0.1\nsave \"\"\nmaxmemory 7mb\nhz 13\n" % port_file)
    proc = spawn([path, "--port", str(port), "--save", "", "--hz", "17", "--dir", tmpdir_rc],
                 port, tmpdir_rc)
    try:
        r = redis.Redis(host=HOST, port=port, socket_timeout=5)
        assert r.config_get("port") == {"port": str(port)}
        assert r.config_get("save") == {"save": ""}
        assert r.config_get("maxmemory") == {"maxmemory": str(7 * 1024 * 1024)}
        assert r.config_get("hz") == {"hz": "17"}
        assert r.info("server")["config_file"] == path
        r.close()
        assert port_is_free(port_file)
    finally:
        kill(proc)


@pytest.mark.parametrize("lines,bad_line,text", [
    (["port 1", "bogus-directive 1"], 2, "bogus-directive 1"),
    (["# c", "", "maxmemory lots"], 3, "maxmemory lots"),
    (["hz 10", "maxmemory-policy sometimes"], 2, "maxmemory-policy sometimes"),
])
def test_bad_config_file(tmpdir_rc, lines, bad_line, text):
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached is not built")
    path = os.path.join(tmpdir_rc, "bad.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    res = subprocess.run([BINARY, path, "--port", str(my_port())], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=10, cwd=tmpdir_rc)
    assert res.returncode == 1
    out = (res.stdout + res.stderr).decode()
    assert "*** FATAL CONFIG FILE ERROR" in out
    assert "at line %d" % bad_line in out
    assert ">>> '%s'" % text in out


def test_unknown_option_on_command_line(tmpdir_rc):
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached is not built")
    res = subprocess.run([BINARY, "--port", str(my_port()), "--no-such-option", "x"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10,
                         cwd=tmpdir_rc)
    assert res.returncode == 1
    assert b"FATAL CONFIG FILE ERROR" in res.stdout + res.stderr


def test_config_from_stdin(tmpdir_rc):
    port = my_port()
    conf = ("port %d\nbind 127.0.0.1\nsave \"\"\nmaxmemory 3mb\ndir %s\n"
            % (port, tmpdir_rc)).encode()
    proc = spawn(["-"], port, tmpdir_rc, stdin_data=conf)
    try:
        r = redis.Redis(host=HOST, port=port, socket_timeout=5)
        assert r.config_get("maxmemory") == {"maxmemory": str(3 * 1024 * 1024)}
        assert r.config_get("port") == {"port": str(port)}
        r.close()
    finally:
        kill(proc)
    # file, options and stdin ("-" last): stdin is applied after the file,
    # the command-line options after both
    port2 = my_port()
    path = os.path.join(tmpdir_rc, "base.conf")
    with open(path, "w") as f:
        f.write("port 1\nhz 11\nmaxmemory 1mb\nslowlog-max-len 5\n")
    proc = spawn([path, "--port", str(port2), "--save", "", "--hz", "13", "-"], port2,
                 tmpdir_rc, stdin_data=b"maxmemory 2mb\nbind 127.0.0.1\nhz 12\n")
    try:
        r = redis.Redis(host=HOST, port=port2, socket_timeout=5)
        assert r.config_get("hz") == {"hz": "13"}
        assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "5"}
        assert r.config_get("maxmemory") == {"maxmemory": str(2 * 1024 * 1024)}
        r.close()
    finally:
        kill(proc)
