"""LOLWUT VERSION 6 (the skyline) against a live redis-server 7.0.

Redis places, sizes and lights the buildings with rand(), so two drawings
of the same size are never the same; redis-compat/cases/lolwut.txt
compares the one-row drawing (plain sky), the clamping and the errors byte
for byte.  Here real drawings of both servers, for several sizes, must
have the same shape:

- the same number of lines, each canvas line as many cells wide;
- cells made only of the escape sequences redis-server's drawings use;
- the same top line (always sky: no building reaches it) and the same
  credit lines after the canvas;
- in every column the sky is a run from the top: buildings stand on the
  ground and nothing paints sky over them.
"""

import re

import pytest

from conftest import HOST, launch_node, reference_server, stop_node

redis = pytest.importorskip("redis")

CELL = re.compile(rb"\x1b\[[0-9;]+m \x1b\[0m")
SKY = b"\x1b[0;97;107m \x1b[0m"
SAMPLES = 3

# (arguments, columns, rows): the default, small and odd sizes, and sizes
# clamped to 1000.
SIZES = [
    ((), 80, 20),
    ((80, 20), 80, 20),
    ((1, 2), 1, 2),
    ((2, 3), 2, 3),
    ((7, 5), 7, 5),
    ((33, 9), 33, 9),
    ((120, 40), 120, 40),
    ((5000, 4), 1000, 4),
    ((4, 5000), 4, 1000),
]


@pytest.fixture(scope="module")
def clients():
    """(ringcached client, redis-server client), replies as bytes."""
    port, proc = launch_node()
    try:
        with reference_server("ringcache-lolwut-ref-") as rport:
            yield (redis.Redis(host=HOST, port=port, socket_timeout=30),
                   redis.Redis(host=HOST, port=rport, socket_timeout=30))
    finally:
        stop_node(proc)


def shape(reply, cols, rows):
    """Checks one drawing's own rules; returns its cells, its top row and
    its lines after the canvas."""
    lines = reply.split(b"\n")
    canvas, credit = lines[:rows], lines[rows:]
    grid = []
    for line in canvas:
        cells = CELL.findall(line)
        assert b"".join(cells) == line, "not only cells: %r" % line[:200]
        assert len(cells) == cols
        grid.append(cells)
    # In every column the sky is a run from the top.
    for x in range(cols):
        column = [row[x] == SKY for row in grid]
        ground = column.index(False) if False in column else rows
        assert not any(column[ground:]), "sky under a building in column %d" % x
    return set(c for row in grid for c in row), grid[0], credit


def drawings(r, args, n):
    return [r.execute_command("LOLWUT", "VERSION", 6, *args) for _ in range(n)]


@pytest.fixture(scope="module")
def palette(clients):
    """The cells redis-server draws with, from a few default drawings (a
    small drawing may lack some of them by chance)."""
    return set().union(*(shape(d, 80, 20)[0] for d in drawings(clients[1], (), 5)))


@pytest.mark.parametrize("args,cols,rows", SIZES)
def test_skyline_shape_matches_redis(clients, palette, args, cols, rows):
    ours, ref = clients
    for reply in drawings(ref, args, SAMPLES):
        cells, ref_top, ref_credit = shape(reply, cols, rows)
        assert cells <= palette
    assert ref_top == [SKY] * cols
    for reply in drawings(ours, args, SAMPLES):
        cells, top, credit = shape(reply, cols, rows)
        assert cells <= palette
        assert top == ref_top
        assert credit == ref_credit


def test_skyline_uses_redis_greys(clients, palette):
    """Over a few default drawings both servers use the same four cells."""
    ours = set().union(*(shape(d, 80, 20)[0] for d in drawings(clients[0], (), 5)))
    assert ours == palette
    assert len(palette) == 4
