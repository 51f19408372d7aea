"""Tests for rlpyt.utils.seed."""

import io
import random

import numpy as np
import pytest
import torch

from rlpyt.utils.seed import (
    get_rng_states,
    get_seed,
    make_seed,
    set_envs_seeds,
    set_rng_states,
    set_seed,
)


def _draws():
    # np.random.normal exercises NumPy's cached-gaussian state; random.gauss Python's.
    return (
        [random.random() for _ in range(3)] + [random.gauss(0, 1)],
        np.random.rand(3).tolist() + [float(np.random.normal())],
        torch.rand(3),
    )


def _assert_same(a, b):
    assert a[0] == b[0]
    assert a[1] == b[1]
    torch.testing.assert_close(a[2], b[2], rtol=0, atol=0)


def test_set_seed_repeats_draws_and_is_stored():
    assert set_seed(123) == 123
    assert get_seed() == 123
    first = _draws()
    set_seed(123)
    _assert_same(first, _draws())
    set_seed(124)
    assert _draws()[1] != first[1]


def test_set_seed_reduces_large_seeds():
    seed = set_seed(2**40 + 5)
    assert 0 <= seed < 2**32
    assert get_seed() == seed
    set_seed(-3)  # Negative seeds are reduced too, so NumPy accepts them.
    assert 0 <= get_seed() < 2**32


def test_make_seed_varies_and_ignores_global_seeding():
    seeds = set()
    for _ in range(20):
        set_seed(0)
        seeds.add(make_seed())
    assert len(seeds) == 20
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)


class _SeedableEnv:
    def __init__(self):
        self.seeds = []

    def seed(self, seed):
        self.seeds.append(seed)


def test_set_envs_seeds():
    envs = [_SeedableEnv(), object(), _SeedableEnv()]
    set_envs_seeds(envs, 10)
    assert envs[0].seeds == [10]
    assert envs[2].seeds == [12]


@pytest.mark.parametrize("via_file", [False, True])
def test_rng_states_round_trip(via_file):
    set_seed(7)
    _draws()  # Move the generators (and NumPy's gaussian cache) off the fresh state.
    np.random.normal()
    random.gauss(0, 1)
    states = get_rng_states()
    if via_file:
        buf = io.BytesIO()
        torch.save(states, buf)
        buf.seek(0)
        states = torch.load(buf, weights_only=True)
    expected = _draws()
    set_seed(999)  # Scramble everything.
    _draws()
    set_rng_states(states)
    _assert_same(expected, _draws())


def test_rng_states_partial_restore_leaves_others():
    set_seed(1)
    states = get_rng_states()
    expected_torch = torch.rand(2)
    set_seed(2)
    numpy_before = np.random.get_state()[1].copy()
    set_rng_states({"torch": states["torch"]})
    torch.testing.assert_close(torch.rand(2), expected_torch, rtol=0, atol=0)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)
