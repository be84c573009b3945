"""A small RESP2 client for the backup tools: binary-safe, pipelined,
standard library only.

    c = Conn("127.0.0.1", 7000, password=None, timeout=30)
    c.call("PING")                       # -> "PONG"
    c.send(("SET", "k", b"v"), ("GET", "k"))
    c.read(2)                            # -> ["OK", b"v"]

Simple strings come back as str, bulk strings as bytes (text() decodes
them), integers as int, arrays as lists, nil as None.  call() raises
RespError for an error reply; read() returns RespError objects in place,
so that a pipeline's other replies are not lost.
"""

import socket


class RespError(Exception):
    """An error reply (its text, without the '-')."""

    @property
    def code(self):
        return str(self).split(" ", 1)[0]


def text(v):
    """A reply decoded for display and comparison: bytes as UTF-8 text,
    lists element by element."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [text(x) for x in v]
    return v


def pairs(flat):
    """A flat [k, v, k, v ...] reply as a dict with text keys."""
    return {text(k): v for k, v in zip(flat[0::2], flat[1::2])}


def encode(words):
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        if not isinstance(w, bytes):
            w = str(w).encode()
        out.append(b"$%d\r\n" % len(w))
        out.append(w)
        out.append(b"\r\n")
    return b"".join(out)


class Conn:
    """One connection to a node at host:port, or at the Unix socket unix
    (AUTH with password when given)."""

    def __init__(self, host, port, password=None, timeout=30.0, unix=None):
        self.host, self.port = (unix, 0) if unix else (host, port)
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(unix)
            except OSError:
                self.sock.close()
                raise
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=1 << 16)
        if password is not None:
            self.call("AUTH", password)

    def __repr__(self):
        return self.host if self.port == 0 else "%s:%d" % (self.host, self.port)

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *commands):
        """Write the commands (each a sequence of words) without reading."""
        self.sock.sendall(b"".join(encode(c) for c in commands))

    def read(self, n=1):
        """The next n replies, errors as RespError objects."""
        return [self._reply() for _ in range(n)]

    def call(self, *words):
        """One command's reply; RespError raised for an error reply."""
        self.send(words)
        r = self._reply()
        if isinstance(r, RespError):
            raise r
        return r

    def _line(self):
        line = self.rfile.readline(1 << 20)
        if not line.endswith(b"\r\n"):
            raise ConnectionError("%s closed the connection" % self)
        return line[:-2]

    def _reply(self):
        line = self._line()
        kind, body = line[:1], line[1:]
        if kind == b"+":
            return body.decode("utf-8", "replace")
        if kind == b"-":
            return RespError(body.decode("utf-8", "replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("%s closed the connection" % self)
            return data[:-2]
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError("%s: unexpected reply %r" % (self, line[:40]))
