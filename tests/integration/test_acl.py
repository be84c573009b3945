"""
Integration tests for ACL users (src/acl.c, src/acllog.c, src/cmd_acl.c)
with redis-py, on one node and through a ring.

Byte-exact replies (GETUSER, LIST, errors, NOPERM texts) are compared with
redis-server by redis-compat/cases/acl.txt; these tests cover what needs
clients of a library, files, restarts, ACL LOG's changing fields or a ring.
"""
import os
import socket
import tempfile
import time

import pytest
import redis

import subprocess

from conftest import BINARY, HOST, launch_node, pick_port, ping, start_in_dir, stop_node
from ringutil import Ring

AUTH_ERRORS = (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError)


def client(port, **kw):
    kw.setdefault("socket_timeout", 10)
    return redis.Redis(host=HOST, port=port, **kw)


@pytest.fixture(scope="module")
def server():
    port, proc = launch_node()
    try:
        yield port, proc
    finally:
        stop_node(proc)


@pytest.fixture
def admin(server):
    c = client(server[0])
    yield c
    for u in c.acl_users():
        if u != "default":
            c.acl_deluser(u)
    c.acl_log_reset()
    c.close()


def test_auth_user_pass(server, admin):
    admin.acl_setuser("alice", enabled=True, passwords=["+wonder"], keys=["app:*"],
                      commands=["+@all"])
    c = client(server[0], username="alice", password="wonder")
    assert c.acl_whoami() == "alice"
    c.set("app:1", "x")
    assert c.get("app:1") == b"x"
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("other")
    bad = client(server[0], username="alice", password="nope")
    with pytest.raises(AUTH_ERRORS):
        bad.ping()


def test_hello3_auth(server, admin):
    admin.acl_setuser("bob", enabled=True, passwords=["+pw"], keys=["*"],
                      commands=["+@all"])
    s = socket.create_connection((HOST, server[0]), timeout=5)
    s.sendall(b"HELLO 3 AUTH bob pw\r\nACL WHOAMI\r\nHELLO 3 AUTH bob wrong\r\n")
    data = b""
    deadline = time.monotonic() + 5
    while b"WRONGPASS" not in data and time.monotonic() < deadline:
        data += s.recv(4096)
    s.close()
    assert data.startswith(b"%7\r\n") and b"proto\r\n:3\r\n" in data
    assert b"$3\r\nbob\r\n" in data
    assert data.endswith(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")


def test_key_read_write_patterns(server, admin):
    admin.acl_setuser("rw", enabled=True, nopass=True,
                      keys=["%R~ro:*", "%W~wo:*", "~both:*"], commands=["+@all"])
    c = client(server[0], username="rw", password="x")
    admin.set("ro:1", "v")
    assert c.get("ro:1") == b"v"
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.set("ro:1", "w")
    c.set("wo:1", "v")
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("wo:1")
    c.set("both:1", "v")
    assert c.get("both:1") == b"v"
    # COPY reads its source and writes its destination.
    assert c.copy("ro:1", "wo:2") is True
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.copy("wo:1", "ro:2")


def test_key_patterns_match_as_in_redis(server, admin):
    """Key and channel patterns (literal prefixes, stars, ?, classes,
    escapes, empty keys) decide as redis-server's do: ACL DRYRUN of GET
    and PUBLISH for random patterns and keys, on both servers."""
    import random
    from conftest import reference_server
    rnd = random.Random(1207)
    alphabet = ["a", "b", ":", "*", "*", "?", "[", "]", "^", "-", "\\"]
    pats = ["", "a*", "ab:*", "a", "ab", "a*b", "\\*", "a\\", "[ab]*", "a?*", "**"]
    pats += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))) for _ in range(150)]
    pats = [pt for pt in pats if pt.strip("*")]    # "*" is allkeys / allchannels
    keys = ["", "a", "ab", "ab:", "ab:c", "b", "*", "a*b", "aab", "\\", "[", "ba"]
    keys += ["".join(rnd.choice("ab:*?[]\\") for _ in range(rnd.randint(1, 5)))
             for _ in range(30)]
    with reference_server(prefix="ringcache-aclpat-") as ref_port:
        ref = client(ref_port)
        for i in range(0, len(pats), 10):
            rules = ["on", "nopass", "+get", "+publish"]
            for pt in pats[i:i + 10]:
                rules += ["~" + pt, "&" + pt]
            outs = []
            for c in (admin, ref):
                c.execute_command("ACL", "SETUSER", "pt", "reset", *rules)
                outs.append([(c.execute_command("ACL", "DRYRUN", "pt", "GET", k),
                              c.execute_command("ACL", "DRYRUN", "pt", "PUBLISH", k, "m"))
                             for k in keys])
            assert outs[0] == outs[1], (pats[i:i + 10], [
                (k, a, b) for k, a, b in zip(keys, outs[0], outs[1]) if a != b])
        ref.close()


def test_channel_denials(server, admin):
    admin.acl_setuser("sub", enabled=True, nopass=True, keys=["*"], channels=["news.*"],
                      commands=["+@all"])
    c = client(server[0], username="sub", password="x")
    assert c.publish("news.1", "m") == 0
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.publish("sports", "m")
    p = c.pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        p.subscribe("sports")
        p.get_message(timeout=1)
    p.close()
    # PSUBSCRIBE patterns are compared literally with the channel rules.
    p = c.pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        p.psubscribe("news.1*")
        p.get_message(timeout=1)
    p.close()


def test_acl_log_entries(server, admin):
    admin.acl_setuser("logged", enabled=True, passwords=["+pw"], keys=["k*"],
                      commands=["+@all", "-flushall"])
    c = client(server[0], username="logged", password="pw", client_name="logcli")
    for _ in range(3):
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.get("x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.flushall()
    bad = client(server[0], username="logged", password="wrong")
    with pytest.raises(AUTH_ERRORS):
        bad.ping()
    log = admin.acl_log()
    assert [e["reason"] for e in log[:3]] == ["auth", "command", "key"]
    auth, cmd, key = log[0], log[1], log[2]
    assert auth["object"] == "AUTH" and auth["username"] == "logged"
    assert cmd["object"] == "flushall" and cmd["context"] == "toplevel"
    assert key["object"] == "x" and key["count"] == 3 and key["username"] == "logged"
    info = key["client-info"]
    if isinstance(info, dict):
        assert info["name"] == "logcli" and info["user"] == "logged"
    else:
        assert "name=logcli" in info and "user=logged" in info
    assert 0 <= float(key["age-seconds"]) < 30
    assert len(admin.acl_log(count=1)) == 1
    # acllog-max-len trims the list.
    admin.config_set("acllog-max-len", 2)
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.get("y")
        assert len(admin.acl_log()) == 2
    finally:
        admin.config_set("acllog-max-len", 128)
    assert admin.acl_log_reset()
    assert admin.acl_log() == []


def test_script_and_multi_context_in_log(server, admin):
    admin.acl_setuser("ctx", enabled=True, nopass=True, keys=["k*"], commands=["+@all"])
    c = client(server[0], username="ctx", password="x")
    with pytest.raises(redis.exceptions.ResponseError):
        c.eval("return redis.call('get', 'zz')", 0)
    with pytest.raises(redis.exceptions.ResponseError):
        with c.pipeline(transaction=True) as p:
            p.get("zz2")
            p.execute()
    contexts = {e["object"]: e["context"] for e in admin.acl_log()}
    assert contexts["zz"] == "lua"
    assert contexts["zz2"] == "multi"


def raw_conn(port, *cmds):
    s = socket.create_connection((HOST, port), timeout=5)
    for cmd in cmds:
        s.sendall(b"*%d\r\n" % len(cmd) +
                  b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd))
        s.recv(1024)
    return s


def test_deleted_user_clients_are_closed(server, admin):
    admin.acl_setuser("gone", enabled=True, nopass=True, keys=["*"], commands=["+@all"])
    s = raw_conn(server[0], ["AUTH", "gone", "x"])
    admin.acl_deluser("gone")
    s.settimeout(5)
    assert s.recv(100) == b""       # closed by the server
    s.close()
    assert "user=gone" not in admin.execute_command("CLIENT", "LIST").decode()


def test_client_kill_user(server, admin):
    admin.acl_setuser("kk", enabled=True, nopass=True, keys=["*"], commands=["+@all"])
    socks = [raw_conn(server[0], ["AUTH", "kk", "x"]) for _ in range(3)]
    assert admin.execute_command("CLIENT", "KILL", "USER", "kk") == 3
    for s in socks:
        s.settimeout(5)
        assert s.recv(100) == b""
        s.close()


def test_bad_rules_and_huge_rules(server, admin):
    for rule in ["%", "%Q~x", "(", "(~a", ")", "+@", "#" + "g" * 64, "<x", "+a|b|c",
                 "+config|get|x", "+get|", "\x00", "~*\x00", "-@all|x"]:
        try:
            admin.execute_command("ACL", "SETUSER", "bad", rule)
        except redis.exceptions.ResponseError:
            pass
    # A rule far past the limit is refused, the node stays up and sane.
    with pytest.raises(redis.exceptions.ResponseError):
        admin.execute_command("ACL", "SETUSER", "huge", "~" + "a" * (200 * 1024))
    # Many patterns and selectors are fine, and cost bounded work per check.
    pats = ["~p%d:*" % i for i in range(500)]
    admin.execute_command("ACL", "SETUSER", "many", "on", "nopass", "+@all", *pats)
    sels = ["(~s%d +get)" % i for i in range(100)]
    admin.execute_command("ACL", "SETUSER", "many", *sels)
    c = client(server[0], username="many", password="x")
    t0 = time.monotonic()
    for _ in range(100):
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.get("nomatch")
    assert time.monotonic() - t0 < 10
    assert c.get("s99") is None
    assert admin.ping()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_aclfile_load_save_round_trip():
    d = tempfile.mkdtemp(prefix="ringcache-acl-")
    path = os.path.join(d, "users.acl")
    write(path, "user alice on >pw ~a:* &ch* +@all -@dangerous\n"
                "user default on nopass ~* &* +@all\n")
    port, proc = start_in_dir(d, "--aclfile", path)
    try:
        r = client(port)
        assert sorted(r.acl_users()) == ["alice", "default"]
        a = client(port, username="alice", password="pw")
        assert a.set("a:1", "v")
        a_raw = raw_conn(port, ["AUTH", "alice", "pw"])
        before = r.acl_list()
        r.acl_setuser("carol", enabled=True, passwords=["+c"], keys=["c:*"],
                      commands=["+get"])
        assert r.acl_save()
        saved = open(path).read()
        assert "user carol on #" in saved
        # Change the live rules, then LOAD restores what was saved; the
        # default user's clients stay, alice's are disconnected.
        r.acl_deluser("carol")
        r.acl_setuser("alice", reset=True)
        assert r.acl_load()
        assert any(line.startswith("user carol ") for line in r.acl_list())
        assert sorted(set(r.acl_list()) - {l for l in r.acl_list() if "carol" in l}) == \
            sorted(before)
        a_raw.settimeout(5)
        assert a_raw.recv(100) == b""      # alice's connection was closed
        # A bad file changes nothing and says where it is wrong.
        write(path, "user bob on foo\nnot a user line\n")
        with pytest.raises(redis.exceptions.ResponseError) as e:
            r.acl_load()
        msg = str(e.value)
        assert path + ":1: Syntax error." in msg and path + ":2 should start" in msg
        assert "carol" in " ".join(r.acl_users())
    finally:
        stop_node(proc)
    # A node started with a bad aclfile refuses to start.
    _, proc = start_in_dir(d, "--aclfile", path, expect_fail=True)
    assert b"ACL errors" in open(proc.logpath, "rb").read()


def start_with_conf(d, conf, expect_fail=False):
    """ringcached CONF --port P ...: (port, proc) once it answers, or with
    expect_fail its output once it has exited (bounded)."""
    port = pick_port()
    log = os.path.join(d, "node-%d.log" % port)
    with open(log, "wb") as f:
        proc = subprocess.Popen([BINARY, conf, "--port", str(port), "--bind", HOST,
                                 "--save", "", "--dir", d], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=d)
    proc.logpath = log
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if not expect_fail and ping(port):
            return port, proc
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        raise AssertionError("node did not %s" % ("exit" if expect_fail else "start"))
    out = open(log, "rb").read()
    if not expect_fail:
        raise AssertionError(out.decode(errors="replace"))
    return out


def test_config_user_lines_and_requirepass():
    d = tempfile.mkdtemp(prefix="ringcache-acl-")
    conf = os.path.join(d, "node.conf")
    write(conf, 'user default on >adminpw ~* &* +@all\n'
                'user reader on >r ~* -@all +@read +ping\n'
                'requirepass ignoredbecausedefaultisdeclared\n')
    port, proc = start_with_conf(d, conf)
    try:
        with pytest.raises(AUTH_ERRORS):
            client(port).get("x")
        admin = client(port, password="adminpw")
        assert admin.acl_whoami() == "default"
        rd = client(port, username="reader", password="r")
        assert rd.get("x") is None
        with pytest.raises(redis.exceptions.NoPermissionError):
            rd.set("x", "1")
        # requirepass set at runtime replaces the default user's passwords.
        admin.config_set("requirepass", "newpw")
        assert client(port, password="newpw").ping()
        with pytest.raises(AUTH_ERRORS):
            client(port, password="adminpw").ping()
        admin2 = client(port, password="newpw")
        admin2.config_set("requirepass", "")
        assert client(port).ping()
    finally:
        stop_node(proc)
    # config users and an aclfile together are refused, as in Redis.
    write(conf, "user a on nopass\naclfile %s\n" % os.path.join(d, "x.acl"))
    write(os.path.join(d, "x.acl"), "")
    assert b"ACL file" in start_with_conf(d, conf, expect_fail=True)
    # A malformed user line is a config error.
    write(conf, "user a on +nosuchcommand\n")
    assert b"Unknown command or category" in start_with_conf(d, conf, expect_fail=True)


# ---- the ring ----

@pytest.fixture(scope="module")
def ring():
    rg = Ring(3)
    try:
        rg.wait_serving()
        yield rg
    finally:
        rg.stop()


def test_ring_setuser_on_one_node_usable_on_others(ring):
    c0 = ring.client(0)
    c0.acl_setuser("ringu", enabled=True, passwords=["+rp"], keys=["ru:*"],
                   commands=["+@all"])
    try:
        for i in range(3):
            ci = ring.client(i, username="ringu", password="rp")
            assert ci.acl_whoami() == "ringu"
            assert ring.client(i).acl_getuser("ringu")["keys"] == ["~ru:*"] or \
                ring.client(i).acl_getuser("ringu")["keys"] in ("~ru:*", b"~ru:*")
    finally:
        c0.acl_deluser("ringu")
    for i in range(3):
        assert "ringu" not in ring.client(i).acl_users()


def test_ring_forwarded_command_denied(ring):
    c0 = ring.client(0)
    c0.acl_setuser("fw", enabled=True, passwords=["+p"], keys=["ok:*"],
                   commands=["+@all", "-del"])
    try:
        # Keys owned by each of the other nodes: reads of allowed keys are
        # forwarded and answered; denied keys and commands are refused on
        # the node the client uses, before forwarding.
        for owner in (1, 2):
            ok_key = ring.keys_on(owner, 1, prefix="ok")[0]
            bad_key = ring.keys_on(owner, 1, prefix="no")[0]
            u = ring.client(0, username="fw", password="p")
            u.set(ok_key, "v")
            assert ring.client(owner).get(ok_key) in ("v", b"v")
            with pytest.raises(redis.exceptions.NoPermissionError):
                u.set(bad_key, "v")
            with pytest.raises(redis.exceptions.NoPermissionError):
                u.delete(ok_key)
            assert ring.client(owner).exists(bad_key) == 0
        log = c0.acl_log()
        assert any(e["reason"] == "key" and e["username"] == "fw" for e in log)
    finally:
        c0.acl_deluser("fw")


def test_ring_forwarded_script_runs_as_the_user(ring):
    """A script whose keys another member serves is forwarded there; the
    link names the client's user first (RINGNODE ASUSER), so redis.call
    inside it is checked against that user on the member that runs it."""
    c0 = ring.client(0)
    c0.acl_setuser("scr", enabled=True, passwords=["+p"], keys=["s:*"],
                   commands=["+@all", "-flushall"])
    try:
        key = ring.keys_on(1, 1, prefix="s")[0]
        u = ring.client(0, username="scr", password="p")
        assert u.eval("return redis.call('set', KEYS[1], 'v')", 1, key) in ("OK", b"OK")
        with pytest.raises(redis.exceptions.ResponseError) as e:
            u.eval("return redis.call('flushall')", 1, key)
        assert "can't run this command" in str(e.value)
        with pytest.raises(redis.exceptions.ResponseError) as e:
            u.eval("return redis.call('get', 'zz:' .. KEYS[1])", 1, key)
        assert "can't access at least one of the keys" in str(e.value)
        assert u.eval("return redis.acl_check_cmd('flushall')", 1, key) is None
        # The default user's next script on the same links is not limited.
        assert c0.eval("return redis.acl_check_cmd('flushall')", 1, key) == 1
        with u.pipeline(transaction=True) as p:
            p.set(key, "w")
            p.execute_command("ACL", "WHOAMI")
            assert p.execute()[1] in ("scr", b"scr")
    finally:
        c0.acl_deluser("scr")
    assert ring.client(1).ping()


LIB = "#!lua name=%s\nredis.register_function('%s', function() return '%s' end)"


def lib_names(r):
    """Library names of FUNCTION LIST (a flat list per library)."""
    return sorted(lib[lib.index("library_name") + 1]
                  for lib in r.execute_command("FUNCTION", "LIST"))


def test_ring_member_back_from_down_gets_users_and_libraries():
    """ACL SETUSER/DELUSER and FUNCTION LOAD/DELETE made while a member was
    down reach it when it rejoins, before it comes up; a node added later
    gets them too; the default user stays each node's own."""
    from ringutil import Node
    ring = Ring(3, replicas=1)
    new = Node(ring.root, 3, ["--cluster-node-timeout", "1000"])
    try:
        ring.wait_serving()
        c0 = ring.client(0)
        c0.acl_setuser("alice", enabled=True, passwords=["+pa"], keys=["*"], commands=["+@all"])
        c0.execute_command("FUNCTION", "LOAD", LIB % ("liba", "fa", "a"))
        assert ring.client(2).acl_users() == ["alice", "default"]
        ring.kill(2)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if [m["status"] for m in ring.state(0)["members"]].count("failed") == 1:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("node 3 not marked failed")
        c0.acl_setuser("bob", enabled=True, passwords=["+pb"], keys=["b:*"],
                       commands=["+@all", "-flushall"])
        c0.acl_deluser("alice")
        c0.execute_command("FUNCTION", "DELETE", "liba")
        c0.execute_command("FUNCTION", "LOAD", LIB % ("libb", "fb", "b"))
        ring.restart(2)
        ring.wait_healthy(timeout=30)
        for i in (0, 2):
            r = ring.client(i)
            assert r.acl_users() == ["bob", "default"], i
            assert r.acl_getuser("bob")["keys"] == ["~b:*"]
            assert lib_names(r) == ["libb"]
        log = ring.nodes[2].log()
        assert "Bringing the ring's users (differ) and function libraries (differ) here" in log
        # AUTH as the new user works on the node that was down.
        assert client(ring.nodes[2].port, username="bob", password="pb").ping()
        # The libraries are in node 3's log: they survive its restart.
        ring.kill(2)
        ring.restart(2)
        ring.wait_healthy(timeout=30)
        assert lib_names(ring.client(2)) == ["libb"]
        # A node added afterwards has them before it comes up.
        new.start()
        assert c0.execute_command("CLUSTER", "MEET", new.host, new.port) == "OK"
        ring.nodes.append(new)
        ring.wait_healthy(timeout=30)
        r3 = ring.client(3)
        assert r3.acl_users() == ["bob", "default"]
        assert r3.execute_command("FCALL", "fb", 0) == "b"
        # Each node keeps its own default user (requirepass).
        assert r3.acl_getuser("default")["passwords"] == []
    finally:
        new.stop()
        ring.stop()
