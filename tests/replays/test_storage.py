"""Ring helpers: writes that wrap, gathers over structures."""

from __future__ import annotations

import numpy as np

from rlpyt.replays.storage import ring_gather, ring_write
from rlpyt.utils.collections import namedarraytuple

Pair = namedarraytuple("Pair", ["x", "y"])


def test_ring_write_wraps_with_offset():
    dest = np.zeros((2 + 5, 1), int)
    ring_write(dest, 3, np.arange(1, 5)[:, None], offset=2)  # ring rows 3, 4, 0, 1
    np.testing.assert_array_equal(dest[2:, 0], [3, 4, 0, 1, 2])
    assert np.all(dest[:2] == 0)


def test_ring_gather_structures_and_layouts():
    rng = np.random.default_rng(0)
    buf = Pair(x=rng.random((6, 3, 2, 2)), y=rng.random((6, 3)))
    steps, b = np.array([[0, 5], [2, 3]]), np.array([[1, 2]])
    got = ring_gather(buf, steps, b)
    assert isinstance(got, Pair)
    np.testing.assert_array_equal(got.x, buf.x[steps, b])
    np.testing.assert_array_equal(got.y, buf.y[steps, b])
    strided = buf.x[:, :, :, ::-1]  # not contiguous: the fancy-index path
    np.testing.assert_array_equal(ring_gather(strided, steps, b), strided[steps, b])
    assert ring_gather(None, steps, b) is None
