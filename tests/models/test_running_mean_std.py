"""RunningMeanStdModel: chunked updates equal the statistics of all data at once."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from rlpyt.models.running_mean_std import RunningMeanStdModel


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=5), st.integers(0, 1000))
def test_chunked_updates_equal_full_statistics(chunks, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(3.0, 2.0, size=(sum(chunks), 2, 3))
    rms = RunningMeanStdModel((2, 3))
    start = 0
    for n in chunks:
        rms.update(torch.as_tensor(data[start : start + n]))
        start += n
    assert_close(rms.mean, torch.as_tensor(data.mean(0)))
    assert_close(rms.var, torch.as_tensor(data.var(0)))
    assert rms.count.item() == sum(chunks)


def test_leading_dims_state_dict_and_normalize():
    rms = RunningMeanStdModel(2)
    x = torch.randn(4, 5, 2) * 3 + 1
    assert_close(rms.normalize(x), x)  # identity before any update
    rms.update(x)
    assert set(rms.state_dict()) == {"mean", "var", "count"}
    expected = (x - x.reshape(-1, 2).mean(0)) / x.reshape(-1, 2).var(0, unbiased=False).sqrt()
    assert_close(rms.normalize(x), expected, rtol=1e-4, atol=1e-5)
    assert rms.normalize(x * 1e6, clip=5.0).abs().max() <= 5.0
    other = RunningMeanStdModel(2)
    other.load_state_dict(rms.state_dict())
    assert_close(other.normalize(x), rms.normalize(x))
