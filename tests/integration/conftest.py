"""
Shared fixtures for the integration suites: start a real ringcached node on
loopback and stop it afterwards.

The binary is src/ringcached of this tree, or the path in the RINGCACHED
environment variable.  Nodes listen on 127.0.0.1 on a free port taken from
the unusual range 21000-29999 and are stopped by PID (SIGTERM, then SIGKILL
if they do not exit).
"""
import os
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("RINGCACHED", os.path.join(ROOT, "src", "ringcached"))
HOST = "127.0.0.1"


def free_port():
    """A port in 21000-29999 that nobody listens on right now."""
    start = 21000 + (os.getpid() * 7) % 9000
    for i in range(9000):
        port = 21000 + (start - 21000 + i) % 9000
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 21000-29999")


def _ping(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_node(*extra_args, port=None):
    """Start a node and wait until it answers PING.  Returns (port, proc)."""
    if not os.access(BINARY, os.X_OK):
        pytest.skip("ringcached binary not built: %s" % BINARY)
    port = port or free_port()
    args = [BINARY, "--port", str(port), "--bind", HOST, "--save", ""]
    args += list(extra_args)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")
            raise RuntimeError("ringcached exited with %d: %s" % (proc.returncode, err))
        if _ping(port):
            return port, proc
        time.sleep(0.05)
    stop_node(proc)
    raise RuntimeError("ringcached did not answer PING on port %d" % port)


def stop_node(proc):
    """Stop a node started by start_node, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


@pytest.fixture
def node():
    """A fresh node for one test: yields (host, port, proc)."""
    port, proc = start_node()
    try:
        yield HOST, port, proc
    finally:
        stop_node(proc)
