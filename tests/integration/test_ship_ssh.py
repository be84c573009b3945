"""ringcache-ship over ssh, against a real OpenSSH server.

The module starts its own sshd (Debian's openssh-server) in the foreground
on 127.0.0.1 and an unusual port, with a temporary host key, config file
(public-key authentication only, no PAM, StrictModes off, the authorized
keys and PID file in the temporary directory) and client key, and stops it
by PID.  ringcache-ship reaches it through --ssh (or $RINGCACHE_SSH) with
-p/-i/BatchMode options and ships to user@127.0.0.1:/tmp/...:

  - full and incremental bundles, --keep pruning on the remote side
    (never stranding a kept incremental bundle), and ringcache-restore run
    over ssh on the remote directory giving a node with the same keys;
  - a copy cut short (the ssh client killed mid-transfer), damaged in
    transit (remote SHA-256 check) or refused by the remote file system
    leaves no bundle a restore could pick up, and does not advance the
    incremental state;
  - progress reports: with --progress, on a terminal, on a slow copy;
    none with --quiet.

The test is skipped only when sshd or ssh is not installed, or when the
privilege-separation directory sshd needs as root cannot be created.
"""

import os
import pty
import pwd
import select
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import HOST, pick_port
from test_tools import (RESTORE, SHIP, client, keys_of_dir, populate, run, snapshot_keys,
                        start, stop)

SSH_TOOLS = os.pathsep.join(["/usr/sbin", "/usr/local/sbin", "/sbin",
                             os.environ.get("PATH", "/usr/bin:/bin")])


def sshd_binary():
    """sshd's absolute path (it refuses to run from a relative one)."""
    path = shutil.which("sshd", path=SSH_TOOLS)
    return os.path.abspath(path) if path else None


class Sshd:
    """A foreground sshd on 127.0.0.1 and the client options reaching it."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.proc = None
        self.port = None
        host_key = os.path.join(workdir, "host_ed25519")
        self.client_key = os.path.join(workdir, "client_ed25519")
        for key in (host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ringcache-test",
                            "-f", key], check=True, timeout=30, stdin=subprocess.DEVNULL)
        self.authorized = os.path.join(workdir, "authorized_keys")
        shutil.copy(self.client_key + ".pub", self.authorized)
        self.host_key = host_key
        self.logpath = os.path.join(workdir, "sshd.log")

    def config(self, port):
        path = os.path.join(self.workdir, "sshd_config")
        with open(path, "w") as f:
            f.write("\n".join([
                "Port %d" % port,
                "ListenAddress %s" % HOST,
                "HostKey %s" % self.host_key,
                "PidFile %s" % os.path.join(self.workdir, "sshd.pid"),
                "AuthorizedKeysFile %s" % self.authorized,
                "StrictModes no",
                "UsePAM no",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "AllowUsers %s" % self.user,
                "LogLevel VERBOSE",
                ""]))
        return path

    def start(self, binary):
        """Start sshd -D -e; retry on a port taken meanwhile.  Raises
        RuntimeError with sshd's log when it does not come up."""
        log = ""
        for _ in range(3):
            port = pick_port()
            with open(self.logpath, "wb") as logf:
                self.proc = subprocess.Popen([binary, "-D", "-e", "-f", self.config(port)],
                                             stdout=logf, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                if banner(port):
                    self.port = port
                    return
                time.sleep(0.02)
            self.stop()
            log = self.log()
            if "Address already in use" not in log:
                break
        raise RuntimeError("sshd did not start:\n" + log)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ssh_argv(self):
        return ["ssh", "-F", "/dev/null", "-p", str(self.port), "-i", self.client_key,
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]

    def ssh_cmd(self):
        """The --ssh value for ringcache-ship."""
        return shlex.join(self.ssh_argv())

    def target(self):
        return "%s@%s" % (self.user, HOST)

    def run(self, command):
        """Run command (one shell line) on the server."""
        return run(*(self.ssh_argv() + [self.target(), command]))


def banner(port):
    """True when an SSH server greets on HOST:port."""
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture(scope="module")
def sshd():
    binary = sshd_binary()
    if binary is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH (openssh-server, openssh-client) is not installed")
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        # sshd running as root chroots its unprivileged child there.
        try:
            os.makedirs("/run/sshd", 0o755, exist_ok=True)
        except OSError as e:
            pytest.skip("sshd needs /run/sshd as root and it cannot be created: %s" % e)
    workdir = tempfile.mkdtemp(prefix="ringcache-sshd-")
    server = Sshd(workdir)
    try:
        server.start(binary)
        p = server.run("true")
        assert p.returncode == 0, "ssh login failed: %s\nsshd log:\n%s" % (
            p.stderr.decode(), server.log())
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="ringcache-ship-ssh-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def ship(port, dest, *extra, env=None):
    argv = [sys.executable, SHIP, "-p", str(port), "--dest", dest] + [str(a) for a in extra]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                          env=env)


def shipped(p):
    """The bundle a successful ship printed; with --quiet it reported no
    progress."""
    assert p.returncode == 0, p.stderr.decode()
    if "--quiet" in p.args:
        assert b"copied" not in p.stderr, p.stderr
    return p.stdout.decode().strip()


def bundles_in(d):
    return sorted(n for n in os.listdir(d) if ".bundle.tgz" in n and not n.startswith("."))


def node(tmp):
    datadir = os.path.join(tmp, "data")
    os.mkdir(datadir)
    return start(datadir)


def wrapper(tmp, name, body):
    """An executable Python script in tmp that wraps the ssh command given
    as its arguments; body runs with `child` (the ssh process, stdin a
    pipe) and `data` (the bytes read so far) defined by a read loop."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!%s\n" % sys.executable)
        f.write("import os, signal, subprocess, sys\n")
        f.write(body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


# Forward stdin to ssh until LIMIT bytes went through; once the remote
# partial file in $CUT_WATCH holds some of them, SIGKILL the ssh client:
# the connection drops in the middle of the transfer.
CUTTER = """
import time

def remote_partial_has_data():
    d = os.environ["CUT_WATCH"]
    return any(n.startswith(".partial-") and os.path.getsize(os.path.join(d, n)) > 0
               for n in os.listdir(d))

LIMIT = 300000
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE)
sent = 0
while True:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    child.stdin.write(chunk[:LIMIT - sent])
    child.stdin.flush()
    sent += min(len(chunk), LIMIT - sent)
    if sent >= LIMIT:
        deadline = time.monotonic() + 20
        while not remote_partial_has_data() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = remote_partial_has_data()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        sys.exit(255 if seen else 254)
child.stdin.close()
sys.exit(child.wait())
"""

# Forward stdin to ssh with one byte flipped: damage in transit.
FLIPPER = """
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE)
pos, flipped = 0, False
while True:
    chunk = bytearray(sys.stdin.buffer.read1(65536))
    if not chunk:
        break
    if not flipped and pos + len(chunk) > 1000:
        chunk[1000 - pos] ^= 0x01
        flipped = True
    pos += len(chunk)
    child.stdin.write(chunk)
child.stdin.close()
sys.exit(child.wait())
"""

# Start ssh only after 1.5 seconds: a copy that takes long.
SLOW = """
import time
time.sleep(1.5)
os.execvp(sys.argv[1], sys.argv[1:])
"""


def test_ssh_round_trip_keep_and_remote_restore(sshd, tmp):
    remote = os.path.join(tmp, "remote", "bundles")
    dest = "%s:%s" % (sshd.target(), remote)
    ssh = sshd.ssh_cmd()
    port, proc = node(tmp)
    try:
        r = client(port)
        populate(r)
        full = shipped(ship(port, dest, "--ssh", ssh, "--keep", "2", "--quiet"))
        assert full.startswith(dest + "/") and full.endswith("-full.bundle.tgz")
        r.set("after1", "1")
        r.delete("k0")
        # $RINGCACHE_SSH is the other way to give the ssh command.
        env = dict(os.environ, RINGCACHE_SSH=ssh)
        inc1 = shipped(ship(port, dest, "--incremental", "--keep", "2", "--quiet", env=env))
        r.set("after2", "2")
        r.rpush("list", "more")
        inc2 = shipped(ship(port, dest, "--ssh", ssh, "--incremental", "--keep", "2", "--quiet"))
        keys = snapshot_keys(r)
        assert inc1.endswith("-incr.bundle.tgz") and inc2.endswith("-incr.bundle.tgz")
        # --keep 2 keeps inc1 and inc2 and the full bundle they need.
        names = [os.path.basename(b) for b in (full, inc1, inc2)]
        assert bundles_in(remote) == names
        assert not [n for n in os.listdir(remote) if n.startswith(".")]

        # ringcache-restore run on the remote host, on the remote directory.
        into = os.path.join(tmp, "remote", "restored")
        p = sshd.run(shlex.join(["/usr/bin/python3", RESTORE, "--into", into,
                                 "--from-dir", remote]))
        assert p.returncode == 0, p.stderr.decode()
        assert b"verified 3 bundles" in p.stderr

        # A new full bundle: the old chain still counts (inc2 is among the
        # last two); another one ends it.
        r.set("after3", "3")
        full2 = shipped(ship(port, dest, "--ssh", ssh, "--keep", "2", "--quiet"))
        assert len(bundles_in(remote)) == 4
        full3 = shipped(ship(port, dest, "--ssh", ssh, "--keep", "2", "--quiet"))
        assert bundles_in(remote) == [os.path.basename(full2), os.path.basename(full3)]
        last_keys = snapshot_keys(r)
    finally:
        stop(proc)
    assert keys_of_dir(into) == keys
    into2 = os.path.join(tmp, "restored-last")
    p = run(sys.executable, RESTORE, "--into", into2, "--from-dir", remote)
    assert p.returncode == 0, p.stderr.decode()
    assert keys_of_dir(into2) == last_keys


def remote_state(remote):
    """(bundles, partial files) in the remote directory."""
    names = os.listdir(remote)
    return bundles_in(remote), [n for n in names if n.startswith(".partial-")]


def test_ssh_failed_copies_leave_nothing_to_restore(sshd, tmp):
    remote = os.path.join(tmp, "remote")
    dest = "%s:%s" % (sshd.target(), remote)
    ssh = sshd.ssh_cmd()
    cutter = wrapper(tmp, "cutter", CUTTER)
    flipper = wrapper(tmp, "flipper", FLIPPER)
    port, proc = node(tmp)
    try:
        r = client(port)
        populate(r)
        # An incompressible value: the bundle is far bigger than what the
        # cutter lets through.
        r.set("blob", os.urandom(1 << 20))
        full = shipped(ship(port, dest, "--ssh", ssh, "--quiet"))
        good = [os.path.basename(full)]

        # The ssh client killed in the middle of the copy.
        r.set("lost1", "1")
        p = ship(port, dest, "--ssh", cutter + " " + ssh, "--quiet",
                 env=dict(os.environ, CUT_WATCH=remote))
        assert p.returncode == 1 and b"no bundle was put in place" in p.stderr, p.stderr
        assert b"exit status 255" in p.stderr, p.stderr     # killed mid-transfer
        # The remote end notices the dropped connection and removes its
        # partial file; at no point is there a new bundle.
        deadline = time.monotonic() + 20
        while True:
            bundles, partials = remote_state(remote)
            assert bundles == good
            if not partials or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert partials == []

        # A byte damaged in transit: the remote SHA-256 check refuses it.
        p = ship(port, dest, "--ssh", flipper + " " + ssh, "--quiet")
        assert p.returncode == 1 and b"SHA-256 mismatch" in p.stderr, p.stderr
        assert remote_state(remote) == (good, [])

        # A remote directory that cannot be created (a file is in the way).
        blocker = os.path.join(tmp, "blocker")
        open(blocker, "w").close()
        p = ship(port, "%s:%s/sub" % (sshd.target(), blocker), "--ssh", ssh, "--quiet")
        assert p.returncode == 1 and b"no bundle was put in place" in p.stderr, p.stderr
        assert os.path.isfile(blocker)

        # The failed ships did not move the incremental position: the next
        # incremental bundle continues the chain of the full one.
        r.set("after", "1")
        inc = shipped(ship(port, dest, "--ssh", ssh, "--incremental", "--quiet"))
        keys = snapshot_keys(r)
    finally:
        stop(proc)
    assert bundles_in(remote) == good + [os.path.basename(inc)]
    into = os.path.join(tmp, "restored")
    p = run(sys.executable, RESTORE, "--into", into, "--from-dir", remote)
    assert p.returncode == 0, p.stderr.decode()
    assert keys_of_dir(into) == keys


def read_pty(fd, proc, timeout=120):
    """Everything written to the pty master fd until proc exits."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:          # EIO: no writer left
                chunk = b""
            if chunk:
                out += chunk
                continue
            if proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    return out


def test_ssh_progress(sshd, tmp):
    remote = os.path.join(tmp, "remote")
    dest = "%s:%s" % (sshd.target(), remote)
    ssh = sshd.ssh_cmd()
    slow = wrapper(tmp, "slow", SLOW)
    port, proc = node(tmp)
    try:
        r = client(port)
        populate(r)
        # --progress: a first and a final report even on a pipe.
        p = ship(port, dest, "--ssh", ssh, "--progress")
        shipped(p)
        err = p.stderr.decode()
        assert "copied 0 of " in err and "(100%)" in err, err

        # Every later bundle is an incremental one carrying an incompressible
        # megabyte of log: bigger than the pipe to ssh and a copy chunk.
        # A copy that takes more than a second reports without being asked.
        r.set("blob", os.urandom(1 << 20))
        p = ship(port, dest, "--ssh", slow + " " + ssh, "--incremental")
        assert shipped(p).endswith("-incr.bundle.tgz")
        lines = [l for l in p.stderr.decode().splitlines() if "copied" in l]
        assert len(lines) >= 2 and "(100%)" in lines[-1], p.stderr
        assert "(100%)" not in lines[0]

        # On a terminal: one line rewritten in place.
        r.set("blob", os.urandom(1 << 20))
        master, slave = pty.openpty()
        try:
            child = subprocess.Popen([sys.executable, SHIP, "-p", str(port), "--dest", dest,
                                      "--ssh", ssh, "--incremental"],
                                     stdout=subprocess.PIPE, stderr=slave,
                                     stdin=subprocess.DEVNULL)
            os.close(slave)
            slave = None
            out = read_pty(master, child)
            child.wait(60)
            child.stdout.close()
            assert child.returncode == 0, out
            assert b"\r\x1b[K" in out and b"(100%)" in out, out
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
    finally:
        stop(proc)


def test_ship_usage_errors(tmp):
    # Usage errors: no node, no sshd needed.
    for extra in (["--dest", "user@host:/x", "--quiet", "--progress"],
                  ["--dest", "-oProxyCommand=x:/tmp/x"],
                  ["--dest", "user@host:/x", "--ssh", ""],
                  ["--dest", "user@host:/x", "--ssh", "ssh 'unclosed"]):
        p = run(sys.executable, SHIP, "-p", "1", *extra)
        assert p.returncode == 3, (extra, p.stderr)
