#!/usr/bin/python3
"""Differential compatibility harness: ringcached versus redis-server 7.0.

Starts a reference server (Debian's redis-server) and a target server on two
loopback ports, sends both the same command scripts over raw TCP sockets and
compares the raw RESP reply bytes.  Nothing is normalised unless a directive
in the case file asks for it.  The case file format, the directives and every
normalisation rule are documented in README next to this script.

Only the Python standard library is used, so that the reply bytes seen here
are exactly the bytes the server wrote.
"""

import argparse
import ast
import copy
import difflib
import fnmatch
import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TARGET = os.path.normpath(os.path.join(HERE, "..", "src", "ringcached"))
DEFAULT_REFERENCE = "/usr/bin/redis-server"

# Markers recorded instead of a reply when the connection misbehaves.  They
# cannot be confused with RESP, since every RESP reply starts with a type byte
# from the set below and ends with CRLF.
CLOSED = b"<connection closed>"
TIMEOUT = b"<no reply (timeout)>"
STILL_OPEN = b"<connection still open>"


class ProtocolError(Exception):
    """The server sent bytes that are not a RESP reply."""


class Closed(Exception):
    """The server closed the connection."""


class ReplyTimeout(Exception):
    """No complete reply arrived in time."""


# ---------------------------------------------------------------------------
# RESP reply reader
# ---------------------------------------------------------------------------

class Node:
    """One parsed reply.

    kind is the RESP type byte as a one-character str ('+', '-', ':', '$',
    '*', '%', '~', '>', '_', ',', '#', '(', '=', '!', '|').  raw holds the
    exact bytes of the reply, including any attribute that preceded it.  For
    simple types value is the payload bytes (None for a null); for aggregates
    children is the list of element Nodes (a map's keys and values alternate).
    """

    __slots__ = ("kind", "raw", "value", "children", "attr")

    def __init__(self, kind, raw, value=None, children=None, attr=None):
        self.kind = kind
        self.raw = raw
        self.value = value
        self.children = children
        self.attr = attr

    def is_aggregate(self):
        return self.children is not None


class Conn:
    """A raw socket to one server with a buffered RESP2/RESP3 reply reader."""

    def __init__(self, port, timeout):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.closed = False
        self.deadline = 0.0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def send(self, data):
        """Write data; raises Closed if the peer has gone away."""
        if self.closed:
            raise Closed()
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True
            raise Closed()

    def _fill(self):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise ReplyTimeout()
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        if self.buf[self.pos + n:self.pos + n + 2] != b"\r\n":
            raise ProtocolError("bulk payload not followed by CRLF")
        self.pos += n + 2
        return data

    def read_reply(self):
        """Read exactly one complete reply (attributes included) as a Node.

        Raises Closed, ReplyTimeout or ProtocolError.
        """
        if self.closed:
            raise Closed()
        self.deadline = time.monotonic() + self.timeout
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        start = 0
        node = self._parse()
        node.raw = bytes(self.buf[start:self.pos])
        return node

    def _parse(self):
        start = self.pos
        line = self._line()
        if not line:
            raise ProtocolError("empty line where a reply was expected")
        kind = chr(line[0])
        body = line[1:]
        if kind == "|":
            # An attribute is metadata for the reply that follows it; both
            # are consumed together and count as one reply.
            attr = self._aggregate("|", body, pairs=True)
            attr.raw = bytes(self.buf[start:self.pos])
            node = self._parse()
            node.attr = attr
            node.raw = bytes(self.buf[start:self.pos])
            return node
        if kind in "+-:,#(":
            if kind == ":" and not re.fullmatch(rb"-?[0-9]+", body):
                raise ProtocolError("bad integer %r" % body)
            node = Node(kind, b"", body)
        elif kind == "_":
            if body:
                raise ProtocolError("bad null %r" % body)
            node = Node(kind, b"", None)
        elif kind in "$=!":
            if body == b"?":
                node = Node(kind, b"", self._streamed_string())
            else:
                n = self._length(body)
                if n < 0:
                    if kind != "$" or n != -1:
                        raise ProtocolError("bad length %r" % body)
                    node = Node(kind, b"", None)
                else:
                    node = Node(kind, b"", self._exact(n))
        elif kind in "*~>":
            node = self._aggregate(kind, body, pairs=False)
        elif kind == "%":
            node = self._aggregate(kind, body, pairs=True)
        else:
            raise ProtocolError("unknown reply type %r" % line[:1])
        node.raw = bytes(self.buf[start:self.pos])
        return node

    @staticmethod
    def _length(body):
        if not re.fullmatch(rb"-?[0-9]+", body):
            raise ProtocolError("bad length %r" % body)
        return int(body)

    def _streamed_string(self):
        out = bytearray()
        while True:
            line = self._line()
            if not line.startswith(b";"):
                raise ProtocolError("bad streamed string chunk %r" % line)
            n = self._length(line[1:])
            if n == 0:
                return bytes(out)
            out += self._exact(n)

    def _aggregate(self, kind, body, pairs):
        children = []
        if body == b"?":
            while True:
                if len(self.buf) - self.pos < 3:
                    self._fill()
                    continue
                if self.buf[self.pos:self.pos + 3] == b".\r\n":
                    self.pos += 3
                    break
                children.append(self._parse())
            return Node(kind, b"", None, children)
        n = self._length(body)
        if n == -1 and kind == "*":
            return Node(kind, b"", None, None)  # RESP2 null array
        if n < 0:
            raise ProtocolError("bad aggregate length %r" % body)
        for _ in range(n * 2 if pairs else n):
            children.append(self._parse())
        return Node(kind, b"", None, children)

    def unexpected_data(self, wait):
        """Return whatever bytes arrive within wait seconds (b"" if none)
        and consume them.  Used after commands that must not be answered."""
        if self.pos < len(self.buf):
            data = bytes(self.buf[self.pos:])
            self.pos = len(self.buf)
            return data
        if self.closed:
            return b""
        ready, _, _ = select.select([self.sock], [], [], wait)
        if not ready:
            return b""
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return CLOSED
        return chunk

    def expect_eof(self, wait):
        """Return CLOSED if the server closes the connection within wait
        seconds, STILL_OPEN if it does not, or the unexpected extra bytes."""
        if self.pos < len(self.buf):
            return b"<unexpected data " + repr(bytes(self.buf[self.pos:])).encode() + b">"
        if self.closed:
            return CLOSED
        ready, _, _ = select.select([self.sock], [], [], wait)
        if not ready:
            return STILL_OPEN
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return CLOSED
        return b"<unexpected data " + repr(chunk).encode() + b">"


# ---------------------------------------------------------------------------
# Command encoding and case-file parsing
# ---------------------------------------------------------------------------

def split_args(line):
    """Split a command line the way redis-cli does (sdssplitargs).

    Double quotes accept \\xHH, \\n, \\r, \\t, \\b, \\a, \\\\ and \\"; single
    quotes accept only \\'.  A closing quote must be followed by a space or
    the end of the line.  Returns a list of bytes; raises ValueError.
    """
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        if line[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unbalanced double quotes")
                c = line[i]
                if c == "\\" and i + 1 < n:
                    e = line[i + 1]
                    if e == "x" and i + 3 < n and all(
                            h in "0123456789abcdefABCDEF" for h in line[i + 2:i + 4]):
                        cur.append(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    cur += {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b",
                            "a": b"\a"}.get(e, e.encode())
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    if i < n and not line[i].isspace():
                        raise ValueError("closing quote must be followed by a space")
                    break
                cur += c.encode()
                i += 1
        elif line[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unbalanced single quotes")
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] == "'":
                    cur += b"'"
                    i += 2
                    continue
                if c == "'":
                    i += 1
                    if i < n and not line[i].isspace():
                        raise ValueError("closing quote must be followed by a space")
                    break
                cur += c.encode()
                i += 1
        else:
            while i < n and not line[i].isspace():
                cur += line[i].encode()
                i += 1
        args.append(bytes(cur))


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Step:
    """One thing to do on both servers, with the normalisation to apply."""

    def __init__(self, lineno, text, kind, payload=None, nreplies=1):
        self.lineno = lineno
        self.text = text          # what the case file said, for messages
        self.kind = kind          # 'cmd', 'raw', 'sleep', 'eof', 'conn'
        self.payload = payload    # args list, raw bytes, sleep seconds or conn number
        self.nreplies = nreplies  # replies to read (raw and noreply steps)
        self.sort = None          # None, 'elements' or 'pairs'
        self.scan = False
        self.ignore = False
        self.approx = None        # integer tolerance, or None
        self.norm = None          # list: ['info', ...], ['fields', ...] ...


class Case:
    def __init__(self, path, name, lineno):
        self.path = path
        self.name = name
        self.lineno = lineno
        self.steps = []

    @property
    def fullname(self):
        return "%s::%s" % (os.path.basename(self.path), self.name)


NORM_KINDS = ("info", "hello", "fields", "int", "client", "time")


def parse_case_file(path):
    """Parse one case file into a list of Case; raises ValueError with the
    file and line number on a malformed line."""
    cases = []
    case = None
    pending = []  # modifier directives waiting for the next command

    def fail(lineno, msg):
        raise ValueError("%s:%d: %s" % (path, lineno, msg))

    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("==="):
            if pending:
                fail(lineno, "directive %r is not followed by a command" % pending[-1][1])
            name = stripped[3:].strip()
            if not name:
                fail(lineno, "case without a name")
            case = Case(path, name, lineno)
            cases.append(case)
            continue
        if case is None:
            fail(lineno, "command before the first '=== name' line")
        if stripped.startswith("!"):
            word, _, rest = stripped[1:].partition(" ")
            rest = rest.strip()
            if word == "resp3":
                if case.steps or pending:
                    fail(lineno, "!resp3 must come first in its case")
                step = Step(lineno, "HELLO 3", "cmd", [b"HELLO", b"3"])
                step.norm = ["fields", b"id", b"version"]
                case.steps.append(step)
            elif word == "sleep":
                if not re.fullmatch(r"[0-9]+", rest):
                    fail(lineno, "!sleep takes milliseconds")
                case.steps.append(Step(lineno, stripped, "sleep", int(rest) / 1000.0))
            elif word == "eof":
                case.steps.append(Step(lineno, stripped, "eof"))
            elif word == "conn":
                if not re.fullmatch(r"[1-9]", rest):
                    fail(lineno, "!conn takes a connection number 1-9")
                if pending:
                    fail(lineno, "directive %r is not followed by a command" % pending[-1][1])
                case.steps.append(Step(lineno, stripped, "conn", int(rest)))
            elif word == "raw":
                m = re.fullmatch(r"(?:([0-9]+)\s+)?(b.*)", rest, re.S)
                if not m:
                    fail(lineno, "!raw [N] b'...'")
                try:
                    data = ast.literal_eval(m.group(2))
                except (ValueError, SyntaxError) as e:
                    fail(lineno, "bad bytes literal: %s" % e)
                if not isinstance(data, bytes):
                    fail(lineno, "!raw needs a bytes literal")
                n = int(m.group(1)) if m.group(1) else 1
                step = Step(lineno, stripped, "raw", data, n)
                apply_modifiers(step, pending, fail)
                pending = []
                case.steps.append(step)
            elif word in ("sort", "scan", "ignore", "approx", "norm", "noreply"):
                pending.append((lineno, stripped, word, rest))
            else:
                fail(lineno, "unknown directive !%s" % word)
            continue
        try:
            args = split_args(stripped)
        except ValueError as e:
            fail(lineno, str(e))
        step = Step(lineno, stripped, "cmd", args)
        apply_modifiers(step, pending, fail)
        pending = []
        case.steps.append(step)
    if pending:
        fail(pending[-1][0], "directive is not followed by a command")
    for c in cases:
        if not any(s.kind in ("cmd", "raw", "eof") for s in c.steps):
            fail(c.lineno, "case %r has no commands" % c.name)
    return cases


def apply_modifiers(step, pending, fail):
    for lineno, text, word, rest in pending:
        if word == "sort":
            if rest not in ("", "pairs"):
                fail(lineno, "!sort [pairs]")
            step.sort = rest or "elements"
        elif word == "scan":
            if step.kind != "cmd" or len(step.payload) < 2:
                fail(lineno, "!scan needs a SCAN-like command")
            step.scan = True
        elif word == "ignore":
            step.ignore = True
        elif word == "noreply":
            step.nreplies = 0
        elif word == "approx":
            if rest:
                if not re.fullmatch(r"[0-9]+", rest):
                    fail(lineno, "!approx [TOLERANCE]")
                step.approx = int(rest)
            elif step.kind == "cmd" and step.payload and step.payload[0].upper().startswith(b"P"):
                step.approx = 1000  # PTTL, PEXPIRETIME: milliseconds
            else:
                step.approx = 1
        elif word == "norm":
            parts = rest.split()
            if not parts or parts[0] not in NORM_KINDS:
                fail(lineno, "!norm takes one of %s" % ", ".join(NORM_KINDS))
            if parts[0] == "hello":
                step.norm = ["fields", b"id", b"version"]
            elif parts[0] == "fields":
                if len(parts) < 2:
                    fail(lineno, "!norm fields NAME...")
                step.norm = ["fields"] + [p.encode() for p in parts[1:]]
            else:
                step.norm = [parts[0]] + parts[1:]


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

def header_of(node):
    """The first line of node's own encoding (attribute stripped)."""
    raw = node.raw
    if node.attr is not None:
        raw = raw[len(node.attr.raw):]
    return raw[:raw.index(b"\r\n") + 2], raw


def normalise(step, node):
    """Map a reply Node to the bytes that are compared for this step."""
    if step.sort and node.is_aggregate():
        head, _ = header_of(node)
        kids = [c.raw for c in node.children]
        if node.kind == "%" or step.sort == "pairs":
            items = sorted(b"".join(kids[i:i + 2]) for i in range(0, len(kids), 2))
        else:
            items = sorted(kids)
        tail = b".\r\n" if head.endswith(b"?\r\n") else b""
        return head + b"".join(items) + tail
    if step.approx is not None:
        return approx_text(node)
    if step.norm:
        kind = step.norm[0]
        if kind == "fields":
            return norm_fields(node, set(step.norm[1:]))
        if kind == "int":
            return b":<integer>" if node.kind == ":" else node.raw
        if kind == "info":
            return norm_info(node)
        if kind == "client":
            return norm_client(node)
        if kind == "time":
            return norm_time(node)
    return node.raw


def approx_text(node):
    """Render node with non-negative integers marked so that they can be
    compared with a tolerance; see approx_equal."""
    if node.is_aggregate():
        head, _ = header_of(node)
        return head + b"".join(approx_text(c) for c in node.children)
    if node.kind == ":":
        return b":" + node.value + b"\r\n"
    return node.raw


APPROX_INT = re.compile(rb":(-?[0-9]+)\r\n")


def approx_equal(a, b, tol):
    """True if a and b are equal except that non-negative integer replies
    may differ by at most tol (negative ones, like TTL's -1 and -2, are
    compared exactly)."""
    pa = APPROX_INT.split(a)
    pb = APPROX_INT.split(b)
    if len(pa) != len(pb):
        return False
    for i, (x, y) in enumerate(zip(pa, pb)):
        if i % 2 == 0:
            if x != y:
                return False
        else:
            xi, yi = int(x), int(y)
            if xi < 0 or yi < 0:
                if xi != yi:
                    return False
            elif abs(xi - yi) > tol:
                return False
    return True


def norm_fields(node, names):
    """Replace the values of the named keys in a map (RESP3) or a flat
    key/value array (RESP2) by a placeholder that keeps only their type."""
    if not node.is_aggregate() or node.kind not in "*%":
        return node.raw
    head, _ = header_of(node)
    kids = node.children
    out = [head]
    for i in range(0, len(kids) - 1, 2):
        out.append(kids[i].raw)
        if kids[i].value in names:
            out.append(b"<" + kids[i + 1].kind.encode() + b" value>\r\n")
        else:
            out.append(kids[i + 1].raw)
    if len(kids) % 2:
        out.append(kids[-1].raw)
    return b"".join(out)


def text_payload(node):
    """The text of a bulk or verbatim string, or None."""
    if node.kind == "$" and node.value is not None:
        return node.value
    if node.kind == "=" and node.value is not None:
        return node.value[4:] if node.value[3:4] == b":" else node.value
    return None


def norm_info(node):
    """INFO: keep section headers (in order) and, per section, the sorted
    set of field names; all values are dropped."""
    text = text_payload(node)
    if text is None:
        return node.raw
    out = [b"<info " + node.kind.encode() + b">"]
    section = None
    fields = []

    def flush():
        if section is not None or fields:
            out.append((section or b"<no section>") + b": " + b" ".join(sorted(set(fields))))

    for line in text.split(b"\r\n"):
        if not line:
            continue
        if line.startswith(b"#"):
            flush()
            section = line
            fields = []
        else:
            fields.append(line.split(b":", 1)[0])
    flush()
    return b"\n".join(out)


# CLIENT INFO / CLIENT LIST fields whose values are the same on both servers
# for an identical command history on a fresh connection.
CLIENT_STABLE_FIELDS = {b"name", b"db", b"sub", b"psub", b"ssub", b"multi",
                        b"flags", b"user", b"resp", b"cmd", b"redir"}


def norm_client(node):
    """CLIENT INFO / CLIENT LIST: keep the field names of every line, in
    order, plus the values of CLIENT_STABLE_FIELDS."""
    text = text_payload(node)
    if text is None:
        return node.raw
    out = [b"<client " + node.kind.encode() + b">"]
    for line in text.split(b"\n"):
        if not line.strip():
            continue
        parts = []
        for field in line.strip().split(b" "):
            name, eq, value = field.partition(b"=")
            if name in CLIENT_STABLE_FIELDS:
                parts.append(name + eq + value)
            else:
                parts.append(name + eq)
        out.append(b" ".join(parts))
    return b"\n".join(out)


def norm_time(node):
    """TIME: a two-element array of decimal bulk strings.  Keep the shape,
    and keep the seconds only as a marker for approx comparison."""
    if (node.kind == "*" and node.children and len(node.children) == 2
            and all(c.kind == "$" and c.value is not None
                    and re.fullmatch(rb"[0-9]+", c.value) for c in node.children)
            and int(node.children[1].value) < 1000000):
        return b"<time seconds=%s usec=<integer>>" % node.children[0].value
    return node.raw


def time_equal(a, b):
    ma = re.fullmatch(rb"<time seconds=([0-9]+) usec=<integer>>", a)
    mb = re.fullmatch(rb"<time seconds=([0-9]+) usec=<integer>>", b)
    if ma and mb:
        return abs(int(ma.group(1)) - int(mb.group(1))) <= 2
    return a == b


# ---------------------------------------------------------------------------
# Running steps
# ---------------------------------------------------------------------------

def read_one(conn):
    """Read one reply; returns a Node, or a marker Node for EOF/timeout."""
    try:
        return conn.read_reply()
    except Closed:
        return Node("<", CLOSED)
    except ReplyTimeout:
        conn.close()  # out of step with the stream: give up on this connection
        return Node("<", TIMEOUT)
    except ProtocolError as e:
        conn.close()
        return Node("<", b"<protocol error from server: " + str(e).encode() + b">")


def run_scan(conn, args):
    """Iterate a SCAN-like command to completion.  Returns the bytes to
    compare: the sorted, de-duplicated union of the elements (pairs for
    HSCAN/ZSCAN), or the raw reply if any round is not a normal reply."""
    args = list(args)
    idx = 1 if args[0].upper() == b"SCAN" else 2
    pairs = args[0].upper() in (b"HSCAN", b"ZSCAN")
    seen = set()
    for _ in range(100000):
        try:
            conn.send(encode_command(args))
        except Closed:
            return CLOSED
        node = read_one(conn)
        if (node.kind not in "*>" or not node.children or len(node.children) != 2
                or node.children[0].kind != "$" or not node.children[1].is_aggregate()):
            return node.raw
        elems = [c.raw for c in node.children[1].children]
        if pairs:
            elems = [b"".join(elems[i:i + 2]) for i in range(0, len(elems), 2)]
        seen.update(elems)
        cursor = node.children[0].value
        if cursor == b"0":
            return b"<scan complete> " + b"".join(sorted(seen))
        args[idx] = cursor
    return b"<scan did not terminate>"


ID_ARG = re.compile(rb"^\{id:([1-9])\}$")


def client_id(conn):
    """conn's client id (CLIENT ID, asked once and not compared)."""
    if getattr(conn, "client_id", None) is None:
        conn.send(encode_command([b"CLIENT", b"ID"]))
        node = read_one(conn)
        conn.client_id = node.raw[1:-2] if node.raw.startswith(b":") else b"-1"
    return conn.client_id


def with_ids(step, conns):
    """step with every {id:N} argument replaced by the client id of the
    case's connection N in conns (the same server's), or step itself."""
    if step.kind != "cmd" or not any(ID_ARG.match(a) for a in step.payload):
        return step
    out = copy.copy(step)
    out.payload = [client_id(conns[int(ID_ARG.match(a).group(1))]) if ID_ARG.match(a) else a
                   for a in step.payload]
    return out


def run_step(conn, step):
    """Run step on one connection.  Returns (compared bytes, raw bytes)."""
    if step.kind == "eof":
        r = conn.expect_eof(1.0)
        return r, r
    if step.scan:
        r = run_scan(conn, step.payload)
        return r, r
    data = encode_command(step.payload) if step.kind == "cmd" else step.payload
    try:
        conn.send(data)
    except Closed:
        return CLOSED, CLOSED
    if step.nreplies == 0:
        # Nothing should come back; give a wrongly sent reply a moment to
        # show up so that it is reported here rather than further on.
        extra = conn.unexpected_data(0.05)
        if extra == CLOSED:
            return CLOSED, CLOSED
        if extra:
            return b"<unexpected reply " + repr(extra).encode() + b">", extra
        return b"<no reply>", b""
    shown, raws = [], []
    for _ in range(step.nreplies):
        node = read_one(conn)
        raws.append(node.raw)
        shown.append(node.raw if node.kind == "<" else normalise(step, node))
        if node.kind == "<":
            break
    return b"".join(shown), b"".join(raws)


def replies_equal(step, a, b):
    if step.approx is not None:
        return approx_equal(a, b, step.approx)
    if step.norm and step.norm[0] == "time":
        return time_equal(a, b)
    return a == b


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Servers set SO_REUSEADDR, so a port held only by TIME_WAIT
    # connections from an earlier run is usable: test it the same way.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class StopRun(Exception):
    """A server cannot be brought back; the remaining cases count as failed."""


class PortTaken(Exception):
    """The chosen port was taken by another process before we could use it."""


def port_owned_by(port, pid):
    """Whether the socket listening on 127.0.0.1:port belongs to pid or to
    one of its children.  Returns True, False (someone else listens, or
    nobody yet), or None if /proc cannot tell (then PING alone decides)."""
    try:
        inodes = set()
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    inodes.add(inode)
        if not inodes:
            return False
        pids = [pid]
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    pids.extend(int(p) for p in f.read().split())
        except OSError:
            pass
        for p in pids:
            try:
                for fd in os.listdir("/proc/%d/fd" % p):
                    try:
                        link = os.readlink("/proc/%d/fd/%s" % (p, fd))
                    except OSError:
                        continue
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return True
            except OSError:
                continue
        return False
    except (OSError, ValueError, IndexError, StopIteration):
        return None


class Server:
    def __init__(self, label, binary, port, extra_args=()):
        self.label = label
        self.binary = binary
        self.port = port
        self.extra_args = list(extra_args)
        self.proc = None
        self.dir = None
        self.log = None

    def start(self):
        """Start the server and wait until it answers PING on its port.
        Raises PortTaken if the port turned out to be in use by someone
        else, RuntimeError on any other startup failure."""
        self.dir = tempfile.mkdtemp(prefix="compat-%s-" % self.label)
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no",
               "--enable-debug-command", "local",
               "--dir", self.dir] + self.extra_args
        # Its own session and process group, so that stop() also reaches
        # the children of a wrapper script given as --target.
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if not port_is_free(self.port):
                    raise PortTaken(self.port)
                raise RuntimeError("%s exited with status %s at startup; log:\n%s"
                                   % (self.label, self.proc.returncode, self.log_tail()))
            if port_owned_by(self.port, self.proc.pid) is False:
                # Not listening yet, or someone else listens there (then
                # our server fails to bind and exits, caught above): a
                # PONG now would not be from our server.
                time.sleep(0.02)
                continue
            try:
                c = Conn(self.port, 1.0)
                c.send(b"*1\r\n$4\r\nPING\r\n")
                r = c.read_reply()
                c.close()
                if r.raw == b"+PONG\r\n":
                    return
            except (OSError, Closed, ReplyTimeout, ProtocolError):
                pass
            time.sleep(0.02)
        raise RuntimeError("%s did not answer PING on port %d within 10 s"
                           % (self.label, self.port))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def death(self):
        """How the server ended, for the restart message."""
        return "status %s" % (self.proc.returncode if self.proc else None)

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except OSError:
            pass

    def stop(self):
        """Stop the server by PID: SIGTERM to the process group it leads,
        SIGKILL after 5 s; then remove its directory."""
        if self.proc is not None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
            # Children of a wrapper may outlive it by a moment.
            for _ in range(50):
                try:
                    os.killpg(self.proc.pid, 0)
                except OSError:
                    break
                time.sleep(0.02)
            else:
                self._signal_group(signal.SIGKILL)
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


# ---------------------------------------------------------------------------
# Ring mode (--ring N): the target is one node of an N-node ring
# ---------------------------------------------------------------------------

RING_ARGS = ["--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
             "--cluster-replicas", "0"]


def ask(port, args, timeout=10.0):
    """Send one command on a fresh connection; return the reply Node."""
    conn = Conn(port, timeout)
    try:
        conn.send(encode_command(args))
        return conn.read_reply()
    finally:
        conn.close()


class Ring:
    """N ringcached nodes forming one ring (cluster-replicas 0).  It looks
    like a Server to the rest of the harness: port is the first node's,
    the one every case talks to; the other nodes own most of the keys."""

    def __init__(self, binary, ports):
        self.label = "target"
        self.nodes = [Server("ring%d" % i, binary, p, RING_ARGS)
                      for i, p in enumerate(ports)]
        self.port = ports[0]

    def start(self):
        """Start every node, RING CREATE on the first, which then CLUSTER
        MEETs each other node into its ring, and wait (bounded) until every node reports the
        whole ring: all N members known and every slot served."""
        for node in self.nodes:
            node.start()
        first = self.nodes[0].port
        steps = [(first, [b"RING", b"CREATE", b"0"])]
        steps += [(first, [b"CLUSTER", b"MEET", b"127.0.0.1", str(n.port).encode()])
                  for n in self.nodes[1:]]
        for port, args in steps:
            r = ask(port, args, 10.0)
            if r.raw != b"+OK\r\n":
                raise RuntimeError("ring: %s on port %d replied %r"
                                   % (b" ".join(args).decode(), port, r.raw))
        want = b"cluster_known_nodes:%d\r\n" % len(self.nodes)
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline:
            infos = []
            for n in self.nodes:
                try:
                    infos.append(text_payload(ask(n.port, [b"CLUSTER", b"INFO"])) or b"")
                except (OSError, Closed, ReplyTimeout, ProtocolError):
                    infos.append(b"")
            if all(b"cluster_state:ok\r\n" in i and want in i for i in infos):
                return
            time.sleep(0.1)
        raise RuntimeError("ring did not form within 20 s; CLUSTER INFO: %r" % infos)

    def alive(self):
        return all(n.alive() for n in self.nodes)

    def death(self):
        return ", ".join("%s %s" % (n.label, n.death()) for n in self.nodes if not n.alive())

    def log_tail(self, n=20):
        dead = [s for s in self.nodes if not s.alive()] or self.nodes[:1]
        return "\n".join("[%s]\n%s" % (s.label, s.log_tail(n)) for s in dead)

    def stop(self):
        for n in self.nodes:
            n.stop()

    def owners(self):
        """slot -> node index, from the first node's CLUSTER SLOTS."""
        reply = ask(self.port, [b"CLUSTER", b"SLOTS"])
        index = {n.port: i for i, n in enumerate(self.nodes)}
        table = {}
        for rng in reply.children or []:
            lo, hi, primary = rng.children[0], rng.children[1], rng.children[2]
            port = int(primary.children[1].value)
            owner = index.get(port, index.get(port - CLUSTER_CLIENT_OFFSET, -1))
            for s in range(int(lo.value), int(hi.value) + 1):
                table[s] = owner
        return table


def _crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
        table.append(crc)
    return table


CRC16_TABLE = _crc16_table()


def key_slot(key):
    """Redis Cluster's slot of a key: CRC16 (XMODEM) of the key, or of the
    non-empty {hash tag} in it, modulo 16384."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    crc = 0
    for b in key:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc % 16384


# Cases that cannot give a single node's replies through a ring node, by
# nature rather than by a bug: what they compare is one node's own state.
# Each is listed, with its reason, at the start of a --ring run.
RING_PER_NODE = [
    ("notify.txt::*",
     "keyspace events are published on the node that owns the key, as in Redis Cluster; "
     "a client on another node hears none (tests/integration/test_notify.py checks the ring)"),
    ("connection.txt::client info and list",
     "CLIENT LIST also lists the ring's node links, which use the client port (flags=N)"),
    ("multi.txt::multi client info flags",
     "CLIENT INFO's flags=d (a WATCHed key changed) is known to the node serving the key, "
     "not to the node the client is connected to"),
    ("connection.txt::info sections field names",
     "a ring node's INFO says redis_mode:cluster, as Redis Cluster's does, and its cluster "
     "section has the ring's ring_* fields besides cluster_enabled"),
    ("debug.txt::debug node *",
     "DEBUG DIGEST, POPULATE and RELOAD act on the node's own keyspace, as on a Redis "
     "Cluster node; through a ring node the case's keys live on several nodes"),
    ("sort.txt::sort patterns*",
     "Redis Cluster 7.0 refuses SORT's BY patterns with '*' and GET (-ERR ... denied in "
     "Cluster mode), as the ring does; test_sort.py compares that with a cluster-mode "
     "redis-server"),
    ("acl.txt::requirepass is the default user's password",
     "requirepass is each node's own setting, as in Redis Cluster; the harness sets it on the "
     "other nodes over unauthenticated connections, which then cannot set it back"),
]


# Ring bugs the ring pass finds and that are not fixed yet: the case runs,
# and a mismatch is printed in full but reported as KNOWN-BUG, not as a
# failure (it may pass when the ring's random layout hides the bug).
RING_KNOWN_BUGS = []


def ring_listed(case, table):
    """The reason case is in table (RING_PER_NODE, RING_KNOWN_BUGS), or None."""
    for pattern, why in table:
        if fnmatch.fnmatch(case.fullname, pattern):
            return why
    return None


def ring_normalise(cases):
    """Ring mode: a SCAN from cursor 0 that the case compares as a plain
    reply (an empty database: Redis answers cursor 0 at once) is compared
    as !scan, the whole iteration.  The ring walks slot ranges node by
    node, so its first page may be empty with a non-zero cursor, as SCAN's
    contract allows.  Returns the cases so changed, for the report."""
    changed = []
    for case in cases:
        for step in case.steps:
            if (step.kind == "cmd" and not step.scan and len(step.payload) >= 2
                    and step.payload[0].upper() == b"SCAN" and step.payload[1] == b"0"):
                step.scan = True
                changed.append("%s line %d" % (case.fullname, step.lineno))
    return changed


def print_ring_exclusions(scans):
    print("ring: cases excluded as inherently per-node (%d):" % len(RING_PER_NODE))
    for pattern, why in RING_PER_NODE:
        print("  %s: %s" % (pattern, why))
    print("ring: known ring bugs, reported as KNOWN-BUG when they show (%d):"
          % len(RING_KNOWN_BUGS))
    for pattern, why in RING_KNOWN_BUGS:
        print("  %s: %s" % (pattern, why))
    print("ring: SCAN 0 compared as !scan (the whole iteration; see ring_normalise): %s"
          % (", ".join(scans) or "none"))
    print("ring: cases whose keys Redis Cluster refuses with -CROSSSLOT (or that WATCH "
          "keys of two other nodes) are compared up to that command, which must be "
          "refused; they are listed as CROSSSLOT")


# Multi-key commands the ring splits over its members (DESIGN.md "Request
# routing"); their replies must equal a single node's whatever the slots.
RING_SPLIT = {b"MGET", b"MSET", b"DEL", b"UNLINK", b"EXISTS", b"TOUCH"}


class KeyFinder:
    """The keys of a command line, as the reference server finds them
    (COMMAND GETKEYS), so that no key-position table is duplicated here."""

    def __init__(self, server, timeout):
        self.server = server
        self.timeout = timeout
        self.conn = None
        self.cache = {}

    def keys(self, args):
        k = tuple(args)
        if k not in self.cache:
            if self.conn is None or self.conn.closed:
                self.conn = Conn(self.server.port, self.timeout)  # the reference may restart
            try:
                self.conn.send(encode_command([b"COMMAND", b"GETKEYS"] + list(args)))
                node = self.conn.read_reply()
            except (Closed, ReplyTimeout, ProtocolError):
                self.conn.close()
                raise RuntimeError("reference: COMMAND GETKEYS failed")
            self.cache[k] = ([c.value for c in node.children]
                             if node.kind == "*" and node.children else [])
        return self.cache[k]

    def close(self):
        if self.conn is not None:
            self.conn.close()


def crossslot_step(case, finder, owner):
    """The first step of case that Redis Cluster (and so the ring) answers
    with -CROSSSLOT, as (step, description), or None.  A command outside
    MULTI crosses slots when its keys are in several slots and the ring
    does not split it; inside MULTI, when its keys are not all in the slot
    of the transaction's earlier keys (ringcache checks this as each
    command is queued).  Keys are what the reference's COMMAND GETKEYS
    says; slots are CRC16 as in Redis Cluster.  Also returns every key
    the case names, for the spread report.

    WATCH follows the client's keys to the node serving them (owner: slot
    -> node, the client is on node 0): WATCHing keys of two other nodes,
    or an EXEC whose keys another node serves than the WATCHed ones, is
    refused as well (the expected error is the third element)."""
    multi = {}  # connection -> slot of the open transaction (None: no key yet)
    watch = {}  # connection -> the other node whose keys it WATCHes
    conn = 1
    seen = set()
    found = None
    for step in case.steps:
        if step.kind == "conn":
            conn = step.payload
            continue
        if step.kind == "cmd" and step.payload:
            commands = [step.payload]
        elif step.kind == "raw":
            commands = parse_multibulks(step.payload)
        else:
            continue
        for args in commands:
            if found is None:
                why = crossslot_command(args, conn, multi, watch, owner, finder, seen)
                if why:
                    found = (step,) + why
            else:
                seen.update(finder.keys(args))
    return found, seen


def parse_multibulks(data):
    """The commands in a !raw payload that are complete RESP multibulks
    (inline commands and fragments are left out)."""
    out = []
    pos = 0
    while pos < len(data) and data[pos:pos + 1] == b"*":
        m = re.match(rb"\*([0-9]+)\r\n", data[pos:])
        if not m:
            break
        pos += m.end()
        args = []
        for _ in range(int(m.group(1))):
            b = re.match(rb"\$([0-9]+)\r\n", data[pos:])
            if not b:
                return out
            start = pos + b.end()
            end = start + int(b.group(1))
            if data[end:end + 2] != b"\r\n":
                return out
            args.append(data[start:end])
            pos = end + 2
        if args:
            out.append(args)
    return out


def tag_keys(args, finder, tag):
    """args with every key (as the reference finds them) prefixed by the
    hash tag {tag}, or None if a key cannot be placed in args."""
    keys = finder.keys(args)
    out = list(args)
    pos = 1
    for k in keys:
        while pos < len(out) and out[pos] != k:
            pos += 1
        if pos >= len(out):
            return None
        out[pos] = b"{" + tag + b"}" + k
        pos += 1
    return out


def tagged_case(case, finder, tag):
    """A copy of case whose keys all carry the hash tag {tag}, so that they
    are in one slot; None if some step cannot be rewritten (a !raw step
    that is not a run of complete multibulk commands)."""
    new = Case(case.path, "%s [keys tagged {%s}]" % (case.name, tag.decode()), case.lineno)
    for step in case.steps:
        st = copy.copy(step)
        if step.kind == "cmd" and step.payload:
            st.payload = tag_keys(step.payload, finder, tag)
        elif step.kind == "raw" and step.payload:
            commands = parse_multibulks(step.payload)
            if b"".join(encode_command(c) for c in commands) != step.payload:
                return None
            tagged = [tag_keys(c, finder, tag) for c in commands]
            st.payload = None if None in tagged else b"".join(encode_command(c) for c in tagged)
        if st.kind in ("cmd", "raw") and st.payload is None:
            return None
        new.steps.append(st)
    return new


CROSSSLOT_ERROR = b"-CROSSSLOT "
WATCH_TWO_NODES_ERROR = CROSSSLOT_ERROR   # keys watched on two other nodes


def crossslot_command(args, conn, multi, watch, owner, finder, seen):
    """One command of crossslot_step: updates the MULTI and WATCH state and
    the keys seen; returns (why, expected error prefix) for a command the
    ring refuses, or None."""
    name = args[0].upper()
    if name == b"MULTI" and conn not in multi:
        multi[conn] = None
        return None
    if name == b"EXEC" and conn in multi:
        txn = multi.pop(conn)
        node = watch.pop(conn, None)
        if node is not None and txn is not None and owner.get(txn) != node:
            return ("EXEC of keys in slot %d on node %d, WATCHed keys on node %d"
                    % (txn, owner.get(txn), node), CROSSSLOT_ERROR)
        return None
    if name == b"RESET" or (name == b"DISCARD" and conn in multi) or (
            name == b"UNWATCH" and conn not in multi):
        multi.pop(conn, None)
        watch.pop(conn, None)
        return None
    keys = finder.keys(args)
    seen.update(keys)
    slots = sorted({key_slot(k) for k in keys})
    if not slots:
        return None
    if conn in multi:
        if name in (b"WATCH", b"MULTI"):
            return None  # refused inside MULTI, never queued
        txn = multi[conn]
        if len(slots) > 1 or (txn is not None and slots[0] != txn):
            return ("queued in MULTI with keys in slots %s"
                    % ", ".join(map(str, sorted(set(slots) | ({txn} - {None})))),
                    CROSSSLOT_ERROR)
        multi[conn] = slots[0]
    elif len(slots) > 1 and name not in RING_SPLIT:
        return "keys in slots %s" % ", ".join(map(str, slots)), CROSSSLOT_ERROR
    elif name == b"WATCH" and owner.get(slots[0], 0) != 0:
        node = owner[slots[0]]
        if watch.get(conn, node) != node:
            return ("WATCH of keys on node %d after keys on node %d" % (node, watch[conn]),
                    WATCH_TWO_NODES_ERROR)
        watch[conn] = node
    return None


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

SETUP = [(b"FLUSHALL", b"+OK\r\n"), (b"SELECT 0", b"+OK\r\n")]


def prepare(server, timeout):
    """Open a fresh connection, FLUSHALL and SELECT 0.  Returns the Conn,
    or raises RuntimeError describing what went wrong."""
    if not server.alive():
        raise RuntimeError("%s is not running" % server.label)
    try:
        conn = Conn(server.port, timeout)
    except OSError as e:
        raise RuntimeError("%s: cannot connect: %s" % (server.label, e))
    for cmd, want in SETUP:
        try:
            conn.send(encode_command(cmd.split()))
        except Closed:
            raise RuntimeError("%s closed the connection during setup" % server.label)
        node = read_one(conn)
        if node.raw != want:
            conn.close()
            raise RuntimeError("%s: setup %s replied %r" % (server.label, cmd.decode(), node.raw))
    return conn


def show(b, limit=400):
    r = repr(b)
    return r if len(r) <= limit else r[:limit] + "...(%d bytes)" % len(b)


def describe_diff(a, b):
    """A readable comparison of two compared byte strings."""
    if len(a) + len(b) < 300:
        return ["      reference: " + show(a), "      target:    " + show(b)]
    la = [repr(x) for x in re.split(rb"(?<=\n)", a)]
    lb = [repr(x) for x in re.split(rb"(?<=\n)", b)]
    diff = list(difflib.unified_diff(la, lb, "reference", "target", lineterm="", n=2))
    return ["      " + d for d in diff[:60]] + (["      ..."] if len(diff) > 60 else [])


def run_case(case, ref, tgt, timeout, verbose, xslot=None):
    """Run one case on both servers.  Returns (passed, report lines).
    xslot is (step, error prefix): the step the target must refuse with
    that error (ring mode); the steps before it are compared as usual, and
    the case ends there."""
    lines = []
    conns = []
    try:
        try:
            conns.append(prepare(ref, timeout))
            conns.append(prepare(tgt, timeout))
        except RuntimeError as e:
            return False, ["    setup failed: %s" % e]
        cref, ctgt = conns
        extra = {1: (cref, ctgt)}  # !conn N: further connections, opened on first use
        ok = True
        for step in case.steps:
            if step.kind == "sleep":
                time.sleep(step.payload)
                continue
            if step.kind == "conn":
                if step.payload not in extra:
                    try:
                        pair = (Conn(ref.port, timeout), Conn(tgt.port, timeout))
                    except OSError as e:
                        lines.append("    line %d: %s: cannot connect: %s"
                                     % (step.lineno, step.text, e))
                        return False, lines
                    conns.extend(pair)
                    extra[step.payload] = pair

                cref, ctgt = extra[step.payload]
                continue
            if xslot is not None and step is xslot[0]:
                rb, rawb = run_step(ctgt, step)
                same = xslot[1] in rawb
                if not same or verbose:
                    lines.append("    line %d: %s  [%s]" % (step.lineno, step.text,
                                                          "refused" if same else "MISMATCH"))
                    lines.append("      target: %s (wanted %s)" % (show(rawb), show(xslot[1])))
                # The rest of the case is not compared, but the settings
                # it would restore must still be restored on both sides.
                after = case.steps[case.steps.index(step) + 1:]
                for srv in (ref, tgt):
                    for s in after:
                        if is_config_set(s):
                            config_everywhere(srv, s.payload, timeout)
                return ok and same, lines
            ra, rawa = run_step(cref, with_ids(step, {n: p[0] for n, p in extra.items()}))
            rb, rawb = run_step(ctgt, with_ids(step, {n: p[1] for n, p in extra.items()}))
            if is_config_set(step) and isinstance(tgt, Ring):
                # Like an operator configuring a cluster, a ring node gets
                # each setting: CONFIG SET applies only to the node it is
                # sent to, and the case's keys live on the other nodes.
                for i, r in enumerate(config_everywhere(tgt, step.payload, timeout, skip_first=True)):
                    if r != rawb:
                        ok = False
                        lines.append("    line %d: %s  [MISMATCH on ring node %d]"
                                     % (step.lineno, step.text, i + 1))
                        lines.extend(describe_diff(rawb, r))
            if TIMEOUT in (ra, rb):
                same = False  # never a pass, even when both time out
            else:
                same = step.ignore or replies_equal(step, ra, rb)
            if not same or verbose:
                mark = "ok" if same else "MISMATCH"
                lines.append("    line %d: %s  [%s%s]" % (step.lineno, step.text, mark,
                                                       ", ignored" if step.ignore else ""))
                if same:
                    lines.append("      reply: " + show(rawa))
                else:
                    lines.extend(describe_diff(ra, rb))
                    if (ra, rb) != (rawa, rawb) and not step.scan:
                        lines.append("      (raw reference: %s)" % show(rawa, 200))
                        lines.append("      (raw target:    %s)" % show(rawb, 200))
            if not same:
                ok = False
                if TIMEOUT in (ra, rb) or (ctgt.closed and cref.closed):
                    break  # streams are out of step; nothing after is meaningful
        return ok, lines
    finally:
        for c in conns:
            c.close()


def is_config_set(step):
    return (step.kind == "cmd" and len(step.payload) >= 2
            and step.payload[0].upper() == b"CONFIG" and step.payload[1].upper() == b"SET")


def config_everywhere(srv, args, timeout, skip_first=False):
    """Send a CONFIG SET to srv, or to every node of a Ring (but the first
    if skip_first); returns the raw replies."""
    nodes = srv.nodes if isinstance(srv, Ring) else [srv]
    out = []
    for node in nodes[1 if skip_first else 0:]:
        try:
            out.append(ask(node.port, args, timeout).raw)
        except (OSError, Closed, ReplyTimeout, ProtocolError) as e:
            out.append(("<%s>" % type(e).__name__).encode())
    return out


def command_names(server, timeout):
    """Lower-case names of the commands a server knows (COMMAND LIST)."""
    conn = Conn(server.port, timeout)
    try:
        conn.send(encode_command([b"COMMAND", b"LIST"]))
        node = conn.read_reply()
        return {c.value.decode("latin-1").lower() for c in (node.children or [])
                if c.value is not None}
    finally:
        conn.close()


def missing_commands(case, ref_cmds, tgt_cmds):
    """Commands a case uses that the reference has and the target lacks.
    Such a case is reported as skipped, by name, instead of run: it tests
    a command family ringcache does not have yet."""
    need = set()
    for step in case.steps:
        if step.kind == "cmd" and step.payload:
            name = step.payload[0].decode("latin-1").lower()
            if name in ref_cmds and name not in tgt_cmds:
                need.add(name)
    return sorted(need)


def select_cases(cases, pattern):
    if not pattern:
        return cases
    if any(ch in pattern for ch in "*?["):
        return [c for c in cases if fnmatch.fnmatch(c.fullname, pattern)
                or fnmatch.fnmatch(c.name, pattern)]
    p = pattern.lower()
    return [c for c in cases if p in c.fullname.lower()]


# A ring node also listens on port + cluster-client-port-offset (default
# 10000): the port CLUSTER SLOTS shows to cluster-aware clients.
CLUSTER_CLIENT_OFFSET = 10000


def pick_ports(base, count=2, cluster=False):
    """count free ports from base upwards (another run may hold base); with
    cluster, each port + CLUSTER_CLIENT_OFFSET is free as well."""
    ports = []
    p = base
    while len(ports) < count and p < base + 200:
        if port_is_free(p) and (not cluster or port_is_free(p + CLUSTER_CLIENT_OFFSET)):
            ports.append(p)
        p += 1
    if len(ports) < count:
        raise RuntimeError("no %d free ports in %d..%d" % (count, base, base + 199))
    return ports


def main(argv):
    ap = argparse.ArgumentParser(
        description="Compare raw replies of a target server with redis-server.")
    ap.add_argument("--target", default=DEFAULT_TARGET,
                    help="server binary under test (default: %(default)s)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE,
                    help="reference redis-server binary (default: %(default)s)")
    ap.add_argument("--port-base", type=int, default=23000,
                    help="reference listens on the first free port from here, "
                         "target on the next (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="seconds to wait for one reply (default: %(default)s)")
    ap.add_argument("-k", dest="pattern",
                    help="only cases whose 'file.txt::name' contains PATTERN "
                         "(or matches it, if it has glob characters)")
    ap.add_argument("--ring", type=int, default=0, metavar="N",
                    help="run the target as an N-node ring (cluster-replicas 0) "
                         "and talk to its first node")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="show every command and reply, not only mismatches")
    ap.add_argument("files", nargs="*", help="case files (default: cases/*.txt)")
    opts = ap.parse_args(argv)

    files = opts.files or sorted(glob.glob(os.path.join(HERE, "cases", "*.txt")))
    if not files:
        print("no case files", file=sys.stderr)
        return 2
    cases = []
    try:
        for f in files:
            cases.extend(parse_case_file(f))
    except (OSError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    cases = select_cases(cases, opts.pattern)
    for b in (opts.reference, opts.target):
        if not os.access(b, os.X_OK):
            print("error: %s is not an executable" % b, file=sys.stderr)
            return 2

    # SIGTERM (and SIGHUP) unwind like Ctrl-C so that the finally block
    # below stops both servers.
    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    ref = tgt = None
    passed = failed = skipped = excluded = crossslot = known_bugs = tagged = 0
    spread = finder = None
    started = time.monotonic()
    try:
        next_port = opts.port_base
        for attempt in range(10):
            ports = pick_ports(next_port, 1 + max(1, opts.ring), cluster=opts.ring > 0)
            p_ref, p_tgt = ports[0], ports[1]
            ref = Server("reference", opts.reference, p_ref)
            if opts.ring:
                tgt = Ring(opts.target, ports[1:])
            else:
                tgt = Server("target", opts.target, p_tgt)
            try:
                ref.start()
                tgt.start()
                break
            except PortTaken:
                # Another process grabbed the port between our check and
                # the server's bind: move on to higher ports.
                ref.stop()
                tgt.stop()
                ref = tgt = None
                next_port = max(ports) + 1
            except RuntimeError as e:
                print("error: %s" % e, file=sys.stderr)
                return 2
        else:
            print("error: could not find free ports from %d" % opts.port_base, file=sys.stderr)
            return 2
        print("reference %s on port %d, target %s on port %d, %d cases"
              % (opts.reference, p_ref, opts.target, p_tgt, len(cases)))
        ref_cmds = command_names(ref, opts.timeout)
        tgt_cmds = command_names(tgt, opts.timeout)
        if opts.ring:
            print("ring of %d nodes on ports %s; cases talk to port %d"
                  % (opts.ring, ", ".join(str(n.port) for n in tgt.nodes), tgt.port))
            print_ring_exclusions(ring_normalise(cases))
            finder = KeyFinder(ref, opts.timeout)
            owner = tgt.owners()
            spread = [0] * opts.ring
            # The hash tag for cross-slot cases rerun in one slot: the
            # first whose slot the last node serves.
            tag = next(t for t in (b"t%d" % i for i in range(100000))
                       if owner.get(key_slot(t)) == opts.ring - 1)
        for n, case in enumerate(cases):
            for srv in (ref, tgt):
                if not srv.alive():
                    print("  %s died (%s), restarting; log tail:\n%s"
                          % (srv.label, srv.death(), srv.log_tail(10)))
                    srv.stop()
                    try:
                        srv.start()
                    except (RuntimeError, PortTaken) as e:
                        print("error: cannot restart %s: %s" % (srv.label, e))
                        failed += len(cases) - n
                        raise StopRun()
            need = missing_commands(case, ref_cmds, tgt_cmds)
            if need:
                print("SKIP %s (uses %s, which the target does not have)"
                      % (case.fullname, " ".join(need)))
                skipped += 1
                continue
            xslot = None
            if opts.ring:
                why = ring_listed(case, RING_PER_NODE)
                if why:
                    print("EXCLUDED %s (%s)" % (case.fullname, why))
                    excluded += 1
                    continue
                found, keys = crossslot_step(case, finder, owner)
                for k in keys:
                    spread[owner.get(key_slot(k), 0)] += 1
                if found:
                    xslot = (found[0], found[2])
            ok, lines = run_case(case, ref, tgt, opts.timeout, opts.verbose, xslot)
            if ok and xslot is not None:
                print("CROSSSLOT %s (line %d: %s; %s)"
                      % (case.fullname, found[0].lineno, found[0].text[:60], found[1]))
                crossslot += 1
                # Run it again whole with every key in one slot, served by
                # another node than the one the case talks to.
                case = tagged_case(case, finder, tag)
                if case is None or crossslot_step(case, finder, owner)[0] is not None:
                    continue
                ok, lines = run_case(case, ref, tgt, opts.timeout, opts.verbose)
                tagged += 1
            known = None if ok or not opts.ring else ring_listed(case, RING_KNOWN_BUGS)
            if known:
                print("KNOWN-BUG %s (%s)" % (case.fullname, known))
                for l in lines:
                    print(l)
                known_bugs += 1
                continue
            print("%s %s" % ("PASS" if ok else "FAIL", case.fullname))
            for l in lines:
                print(l)
            if ok:
                passed += 1
            else:
                failed += 1
            sys.stdout.flush()
    except StopRun:
        pass
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        failed = failed or 1
    finally:
        if finder is not None:
            finder.close()
        for srv in (tgt, ref):
            if srv is not None:
                srv.stop()
    elapsed = time.monotonic() - started
    print("(%.1f s)" % elapsed)
    if spread:
        print("ring: keys named by the cases, by owning node: %s"
              % ", ".join("node %d %d" % (i, n) for i, n in enumerate(spread)))
    if opts.ring:
        print("ring: %d of the crossslot cases run again whole with their keys in one "
              "slot (counted as passed or failed)" % tagged)
        print("%d passed, %d failed, %d skipped, %d crossslot, %d excluded, %d known-bug"
              % (passed, failed, skipped, crossslot, excluded, known_bugs))
    elif skipped:
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    else:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
