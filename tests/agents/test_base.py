"""BaseAgent: state dicts, initial parameters, shared memory, devices, DDP, pickling."""

import pickle

import pytest
import torch
import torch.distributed as dist
from torch.testing import assert_close

from rlpyt.agents.base import BaseAgent
from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.envs.base import EnvSpaces
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox

SPACES = EnvSpaces(observation=FloatBox(-1, 1, (4,)), action=IntBox(0, 2))


def _agent(**kwargs):
    agent = CategoricalPgAgent(**kwargs)
    agent.initialize(SPACES, share_memory=kwargs.pop("share_memory", False))
    return agent


def _outputs(agent):
    """``(prob, value)`` of the training forward on fixed inputs (a plain tuple of tensors;
    namedarraytuples index their fields, so assert_close must not walk them)."""
    obs = torch.linspace(-1, 1, 12).reshape(3, 4)
    dist_info, value = agent(obs, torch.zeros(3, dtype=torch.long), torch.zeros(3))
    return dist_info.prob, value


def test_state_dict_round_trip_and_initial_state_dict():
    torch.manual_seed(0)
    agent = _agent()
    torch.manual_seed(1)
    other = _agent()
    assert not torch.equal(_outputs(agent)[1], _outputs(other)[1])
    other.load_state_dict(agent.state_dict())
    assert_close(_outputs(other), _outputs(agent))
    third = _agent(initial_model_state_dict=agent.state_dict())
    assert_close(_outputs(third), _outputs(agent))


def test_shared_memory_sync():
    agent = CategoricalPgAgent()
    agent.initialize(SPACES, share_memory=True)
    shared = agent.shared_model
    assert shared is not agent.model
    assert all(p.is_shared() for p in shared.parameters())
    with torch.no_grad():
        for p in agent.model.parameters():
            p.add_(1.0)
    assert not all(torch.equal(a, b) for a, b in zip(agent.parameters(), shared.parameters()))
    agent.sync_shared_memory()
    for a, b in zip(agent.parameters(), shared.parameters()):
        assert torch.equal(a, b)
    assert shared is agent.shared_model  # same shared tensors, updated in place
    with torch.no_grad():
        for p in shared.parameters():
            p.mul_(0.5)
    agent.recv_shared_memory()
    for a, b in zip(agent.parameters(), shared.parameters()):
        assert torch.equal(a, b)


def test_without_shared_memory_sync_is_a_no_op():
    agent = _agent()
    assert agent.shared_model is None
    agent.sync_shared_memory()
    agent.send_shared_memory()
    agent.recv_shared_memory()
    agent.async_cpu(share_memory=True)
    assert all(p.is_shared() for p in agent.shared_model.parameters())


def test_modes_set_model_training_flag():
    agent = _agent()
    agent.train_mode(0)
    assert agent.model.training
    agent.sample_mode(0)
    assert not agent.model.training
    agent.eval_mode(0)
    assert not agent.model.training


class _SwitchRecorder(torch.nn.Linear):
    """A submodule that overrides ``train``: the agent must then call ``Module.train``."""

    def train(self, mode=True):
        self.switches = getattr(self, "switches", 0) + 1
        return super().train(mode)


@pytest.mark.parametrize("override", [False, True])
def test_mode_switch_sets_every_submodule_flag(override):
    agent = _agent()
    if override:
        agent.model.extra = _SwitchRecorder(2, 2)
    for mode, expected in (("train", True), ("sample", False), ("train", True), ("eval", False)):
        getattr(agent, f"{mode}_mode")(0)
        assert all(m.training is expected for m in agent.model.modules())
    if override:
        assert agent.model.extra.switches == 3  # called by Module.train, once per real switch
    assert "_cached_modules" not in pickle.loads(pickle.dumps(agent)).__dict__


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_to_device_without_cuda_raises():
    agent = _agent()
    agent.to_device(None)  # stays on CPU
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        agent.to_device(0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_to_device_cuda_outputs_on_cpu():
    agent = _agent()
    agent.to_device(0)
    step = agent.step(torch.zeros(3, 4), torch.zeros(3, dtype=torch.long), torch.zeros(3))
    assert step.action.device.type == "cpu" and step.agent_info.value.device.type == "cpu"
    assert next(agent.parameters()).device.type == "cuda"


def test_data_parallel_on_cpu(tmp_path):
    agent = _agent()
    assert agent.data_parallel() is False  # no process group
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    try:
        expected = agent.state_dict()
        assert agent.data_parallel() is True
        assert agent.data_parallel() is False  # already wrapped
        assert isinstance(agent.model, torch.nn.parallel.DistributedDataParallel)
        assert list(agent.state_dict()) == list(expected)
        agent.load_state_dict(expected)
        prob, value = _outputs(agent)
        (prob.sum() + value.sum()).backward()
        step = agent.step(torch.zeros(3, 4), torch.zeros(3, dtype=torch.long), torch.zeros(3))
        assert step.action.shape == (3,)
        agent.update_obs_rms(torch.zeros(2, 4))
    finally:
        dist.destroy_process_group()


def test_agents_pickle_before_and_after_initialize():
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[8]))
    clone = pickle.loads(pickle.dumps(agent))
    assert clone.model_kwargs == {"hidden_sizes": [8]} and clone.model is None
    agent.initialize(SPACES)
    clone = pickle.loads(pickle.dumps(agent))
    assert_close(_outputs(clone), _outputs(agent))


def test_base_agent_needs_a_model_class():
    with pytest.raises(ValueError, match="no ModelCls"):
        BaseAgent().initialize(SPACES)
