"""rlpyt's replay API: module paths, class names and constructor arguments."""

from __future__ import annotations

import importlib
import inspect

import pytest

BASE = ["example", "size", "B", "discount", "n_step_return"]
PRIORITY = [
    "alpha",
    "beta",
    "default_priority",
    "unique",
    "input_priorities",
    "input_priority_shift",
]
SEQ = ["example", "size", "B", "rnn_state_interval", "batch_T", "discount", "n_step_return"]

CLASSES = {
    "non_sequence.uniform": {"UniformReplayBuffer": BASE},
    "non_sequence.prioritized": {"PrioritizedReplayBuffer": BASE + PRIORITY},
    "non_sequence.time_limit": {
        "TlUniformReplayBuffer": BASE,
        "TlPrioritizedReplayBuffer": BASE + PRIORITY,
    },
    "non_sequence.frame": {
        "UniformReplayFrameBuffer": BASE,
        "PrioritizedReplayFrameBuffer": BASE + PRIORITY,
    },
    "sequence.uniform": {"UniformSequenceReplayBuffer": SEQ},
    "sequence.prioritized": {"PrioritizedSequenceReplayBuffer": SEQ + PRIORITY},
    "sequence.frame": {
        "UniformSequenceReplayFrameBuffer": SEQ,
        "PrioritizedSequenceReplayFrameBuffer": SEQ + PRIORITY,
    },
}
CASES = [(m, name, args) for m, classes in CLASSES.items() for name, args in classes.items()]


@pytest.mark.parametrize("module, name, args", CASES, ids=[c[1] for c in CASES])
def test_class_and_async_twin(module, name, args):
    mod = importlib.import_module(f"rlpyt.replays.{module}")
    cls = getattr(mod, name)
    twin = getattr(mod, "Async" + name)
    assert issubclass(twin, cls) and twin.async_ and not cls.async_
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert params == args
    defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
    assert defaults["discount"] == 1 and defaults["n_step_return"] == 1
    if "alpha" in args:
        assert (defaults["alpha"], defaults["beta"], defaults["default_priority"]) == (0.6, 0.4, 1)
        assert defaults["unique"] is False and defaults["input_priorities"] is False
        assert defaults["input_priority_shift"] == 0


def test_sample_types_importable():
    from rlpyt.replays.base import (  # noqa: F401
        PrioritiesSamplesToBuffer,
        SamplesToBuffer,
        SamplesToBufferRnn,
        SamplesToBufferTl,
    )
    from rlpyt.replays.non_sequence.n_step import SamplesFromReplay, SamplesFromReplayPri
    from rlpyt.replays.non_sequence.time_limit import SamplesFromReplayPriTL, SamplesFromReplayTL
    from rlpyt.replays.sequence.n_step import SamplesFromReplay as SeqSamples

    assert SamplesFromReplay._fields == (
        "agent_inputs",
        "action",
        "return_",
        "done",
        "done_n",
        "target_inputs",
    )
    assert SamplesFromReplayPri._fields[-1] == "is_weights"
    assert SamplesFromReplayTL._fields[-3:] == ("timeout", "timeout_n", "bootstrap_discount")
    assert SamplesFromReplayPriTL._fields[-1] == "is_weights"
    assert SeqSamples._fields == (
        "all_observation",
        "all_action",
        "all_reward",
        "return_",
        "done",
        "done_n",
        "init_rnn_state",
    )
    assert SamplesToBufferTl._fields == SamplesToBuffer._fields + ("timeout",)
    assert SamplesToBufferRnn._fields == SamplesToBuffer._fields + ("prev_rnn_state",)
