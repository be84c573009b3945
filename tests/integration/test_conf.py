"""The sample config in conf/ must agree with the daemon's config table:
the node starts with it, and every directive it sets reads back through
CONFIG GET with the value the file gives."""
import os
import shlex
import subprocess
import tempfile
import time

import redis

from conftest import BINARY, node_log, pick_port, ping, stop_node

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "..", "..", "conf", "ringcache.conf")

UNITS = {"kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3}


def normalise(word):
    """redis.conf memory units to bytes, as CONFIG GET prints them."""
    w = word.lower()
    for unit in ("kb", "mb", "gb", "k", "m", "g"):
        if w.endswith(unit) and w[: -len(unit)].isdigit():
            return str(int(w[: -len(unit)]) * UNITS[unit])
    return word


def conf_directives(path=CONF):
    """(name, value words) for every directive line in a sample config;
    repeated directives (client-output-buffer-limit) are merged."""
    merged = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            name, args = words[0].lower(), [normalise(w) for w in words[1:]]
            merged.setdefault(name, []).append(args)
    return merged


def test_sample_config_matches_table():
    directives = conf_directives()
    assert len(directives) > 20
    port = pick_port()
    workdir = tempfile.mkdtemp(prefix="ringcache-conf-")
    logpath = os.path.join(workdir, "node.log")
    with open(logpath, "wb") as logf:
        proc = subprocess.Popen([BINARY, CONF, "--port", str(port), "--dir", workdir],
                                stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir)
    proc.workdir, proc.logpath = workdir, logpath
    deadline = time.monotonic() + 10
    while not ping(port) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert ping(port), "node did not start with the sample config:\n" + node_log(proc)
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        for name, lines in directives.items():
            got = r.config_get(name)
            assert name in got, "CONFIG GET does not know %r" % name
            value = got[name]
            if name == "port":
                continue   # the test overrides it
            if name == "client-output-buffer-limit":
                for args in lines:
                    cls = "slave" if args[0] == "replica" else args[0]
                    assert " ".join([cls] + args[1:]) in value, (name, args, value)
                continue
            assert value == " ".join(lines[-1]), (name, lines[-1], value)
    finally:
        stop_node(proc)


def test_unixsocketperm_is_octal():
    """As in Redis: `unixsocketperm 700` is octal, applied to the socket
    file and read back in octal; 8 is not an octal digit."""
    from conftest import start_node
    sock = os.path.join(tempfile.mkdtemp(prefix="ringcache-sock-"), "rc.sock")
    port, proc = start_node("--unixsocket", sock, "--unixsocketperm", "700")
    try:
        assert oct(os.stat(sock).st_mode & 0o777) == "0o700"
        r = redis.Redis(unix_socket_path=sock, decode_responses=True)
        assert r.ping()
        assert r.config_get("unixsocketperm") == {"unixsocketperm": "700"}
    finally:
        stop_node(proc)
    bad = subprocess.run([BINARY, "--port", str(pick_port()), "--unixsocket", sock,
                          "--unixsocketperm", "778"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=10)
    assert bad.returncode != 0
    assert b"unixsocketperm" in bad.stdout
