"""UpdateSchedule: updates per iteration from a replay ratio, exact below one per iteration."""

import pytest

from rlpyt.algos.update_schedule import UpdateSchedule


@pytest.mark.parametrize(
    "ratio, sampler_bs, batch_size, per_itr", [(8, 4, 32, 1), (4, 16, 16, 4), (2.5, 2, 2, 2)]
)
def test_at_least_one_per_iteration_rounds_as_rlpyt(ratio, sampler_bs, batch_size, per_itr):
    schedule = UpdateSchedule(ratio, sampler_bs, batch_size)
    assert not schedule.fractional and schedule.per_itr == per_itr
    assert [schedule(k) for k in range(5)] == [per_itr] * 5


@pytest.mark.parametrize("ratio, sampler_bs, batch_size", [(1, 320, 5120), (0.1, 10, 3), (1, 3, 7)])
def test_below_one_per_iteration_keeps_the_ratio_exactly(ratio, sampler_bs, batch_size):
    schedule = UpdateSchedule(ratio, sampler_bs, batch_size)
    assert schedule.fractional and schedule.per_itr == 1
    counts = [schedule(k) for k in range(10 * batch_size)]
    assert counts[0] == 1 and set(counts) == {0, 1}
    trained = sum(counts) * batch_size
    assert trained == pytest.approx(ratio * sampler_bs * len(counts), abs=batch_size)


def test_one_every_sixteen_iterations():
    schedule = UpdateSchedule(1, 320, 64 * 80)
    assert [k for k in range(64) if schedule(k)] == [0, 16, 32, 48]
    assert schedule.describe() == "one update every 16 iterations"


@pytest.mark.parametrize("args", [(0, 4, 32), (-1, 4, 32), (1, 0, 32), (1, 4, 0)])
def test_bad_arguments(args):
    with pytest.raises(ValueError, match="replay_ratio"):
        UpdateSchedule(*args)
