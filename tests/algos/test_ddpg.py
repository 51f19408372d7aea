"""DDPG and the parts every Q-function policy-gradient algorithm shares: constructor defaults,
replay choice, critic targets by hand (termination, time-limit truncation, n-step windows),
update schedules, optimizer state round trips, the fast optimizer step and gradient clipping,
host-sync-free updates, and training with the serial and parallel samplers.

The helpers here (``make_algo``, ``append_stream``, ``batch_at``, ...) are shared with the TD3
and SAC tests.
"""

import copy
import inspect
import io

import numpy as np
import pytest
import torch
from torch.testing import assert_close
from torch.utils._python_dispatch import TorchDispatchMode

from rlpyt.agents.qpg.ddpg_agent import DdpgAgent
from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.algos.optim import GradientStep
from rlpyt.algos.qpg.base import EnsembleGradClip, FastAdamStep, pack_to_device
from rlpyt.algos.qpg.ddpg import DDPG
from rlpyt.algos.qpg.sac import SAC
from rlpyt.algos.qpg.td3 import TD3
from rlpyt.envs.base import EnvSpaces
from rlpyt.envs.gym import gym_make
from rlpyt.models.qpg.ensemble import QofMuEnsembleMlpModel, SeparateQEnsemble
from rlpyt.models.qpg.mlp import QofMuMlpModel
from rlpyt.replays.base import SamplesToBuffer, SamplesToBufferTl
from rlpyt.replays.non_sequence.n_step import extract_batch
from rlpyt.replays.non_sequence.time_limit import TlUniformReplayBuffer
from rlpyt.replays.non_sequence.uniform import UniformReplayBuffer
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.collections import BatchSpec
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.spaces.float_box import FloatBox
from rlpyt.utils.buffer import torchify_buffer
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.logging import logger
from tests.fakes import CountingEnvInfo

GAMMA = 0.9
# Pendulum-like bounds [-2, 2]: the critics see env units, SAC's log_pi is shifted by log 2.
SPACES = EnvSpaces(observation=FloatBox(-100, 100, (2,)), action=FloatBox(-2.0, 2.0, (1,)))
EXAMPLES = dict(
    observation=np.zeros(2, np.float32),
    action=np.zeros(1, np.float32),
    reward=np.float32(0),
    done=False,
    env_info=CountingEnvInfo(timeout=False, traj_done=False, k=np.int64(0)),
)
NoTimeoutInfo = namedarraytuple("NoTimeoutInfo", ["traj_done"])

# The appended stream (one env): episode A is steps 0-3 and terminates at step 3; episode B is
# steps 4-8 and is truncated by its time limit at step 8; episode C starts at step 9.
N_STEPS = 14
TERMINAL, TIMEOUT = 3, 8


def make_algo(AlgoCls, AgentCls, examples=EXAMPLES, hidden=16, seed=0, **kwargs):
    """An initialized agent and algorithm for ``SPACES`` (batch spec ``[1, 1]``)."""
    torch.manual_seed(seed)
    nets = dict(hidden_sizes=[hidden, hidden])
    agent = AgentCls(model_kwargs=nets, q_model_kwargs=nets)
    agent.initialize(SPACES)
    settings = dict(
        discount=GAMMA, batch_size=8, min_steps_learn=0, replay_size=100, replay_ratio=8
    )
    algo = AlgoCls(**{**settings, **kwargs})
    algo.initialize(agent, n_itr=100, batch_spec=BatchSpec(1, 1), mid_batch_reset=True,
                    examples=examples)  # fmt: skip
    return algo, agent


def stream(n=N_STEPS):
    """``SamplesToBufferTl`` leaves ``[n, 1]``: observation ``[t, t / 10]``, reward
    ``t + 1``, actions in (-2, 2)."""
    t = np.arange(n, dtype=np.float32)
    done = np.isin(np.arange(n), [TERMINAL, TIMEOUT])
    return SamplesToBufferTl(
        observation=np.stack([t, t / 10], -1)[:, None],
        action=(1.9 * np.sin(t))[:, None, None].astype(np.float32),
        reward=(t + 1)[:, None],
        done=done[:, None],
        timeout=(np.arange(n) == TIMEOUT)[:, None],
    )


def append_stream(algo, n=N_STEPS):
    data = stream(n)
    if not algo.time_limit:
        data = SamplesToBuffer(data.observation, data.action, data.reward, data.done)
    algo.replay_buffer.append_samples(data)
    return data


def batch_at(algo, steps):
    """The prepared batch of the replay's steps ``steps`` (env 0)."""
    steps = np.asarray(steps)
    samples = extract_batch(algo.replay_buffer, steps, np.zeros_like(steps))
    return algo.prepare_batch(torchify_buffer(samples))


def obs(t):
    """The observation of step ``t`` (``[1, 2]``)."""
    return torch.tensor([[t, t / 10]], dtype=torch.float32)


def expected_targets(n_step_return, time_limit):
    """``{step: (return_, bootstrap, bootstrap state, weight > 0)}`` by hand for the stream."""
    r = lambda t: t + 1.0  # noqa: E731
    g = GAMMA
    if n_step_return == 1:
        out = {
            2: (r(2), g, 3, True),
            TERMINAL: (r(3), 0.0, None, True),
            7: (r(7), g, 8, True),
            9: (r(9), g, 10, True),
        }
        if time_limit:
            out[TIMEOUT] = (None, None, None, False)  # its successor is the next episode's
        else:
            out[TIMEOUT] = (r(8), 0.0, None, True)  # the limit treated as termination
        return out
    assert n_step_return == 3
    out = {
        1: (r(1) + g * r(2) + g**2 * r(3), 0.0, None, True),  # terminates inside the window
        4: (r(4) + g * r(5) + g**2 * r(6), g**3, 7, True),
        9: (r(9) + g * r(10) + g**2 * r(11), g**3, 12, True),
    }
    if time_limit:
        # Windows reaching the time-limit step stop there and bootstrap from its state.
        out[5] = (r(5) + g * r(6) + g**2 * r(7), g**3, 8, True)
        out[6] = (r(6) + g * r(7), g**2, 8, True)
        out[7] = (r(7), g, 8, True)
    else:
        out[6] = (r(6) + g * r(7) + g**2 * r(8), 0.0, None, True)
    return out


def check_critic_targets(algo, n_step_return, time_limit, target_value):
    """Compare ``algo.critic_target`` and the batch's bootstrap and weights with the hand
    values; ``target_value(observation [1, 2]) -> [1]`` is the algorithm's bootstrap value
    (called right after a ``torch.manual_seed(0)``, as is ``critic_target``)."""
    expected = expected_targets(n_step_return, time_limit)
    for step, (ret, boot, state, valid) in expected.items():
        batch = batch_at(algo, [step])
        weight = 1.0 if batch.weight is None else float(batch.weight[0])
        assert (weight > 0) == valid, step
        if not valid:
            continue
        assert_close(batch.return_, torch.tensor([ret]), rtol=1e-6, atol=1e-5)
        assert_close(batch.bootstrap, torch.tensor([boot]), rtol=1e-6, atol=1e-7)
        torch.manual_seed(0)
        y = algo.critic_target(batch)
        if state is None:
            assert_close(y, torch.tensor([ret]), rtol=1e-6, atol=1e-5)  # no bootstrap
        else:
            assert_close(batch.target_inputs.observation, obs(state))
            torch.manual_seed(0)
            value = target_value(obs(state))
            assert_close(y, ret + boot * value, rtol=1e-5, atol=1e-5)


class NoSyncMode(TorchDispatchMode):
    """Fails on any op that reads a tensor's value on the host (``.item()``, ``bool()``...)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            raise AssertionError("host synchronisation (_local_scalar_dense) inside an update")
        return func(*args, **(kwargs or {}))


def defaults(cls):
    return {
        k: p.default
        for k, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# --- constructor and set-up -------------------------------------------------------------------


def test_defaults_are_rlpyts():
    d = defaults(DDPG)
    assert {k: d[k] for k in list(d)[:20]} == dict(
        discount=0.99, batch_size=64, min_steps_learn=int(1e4), replay_size=int(1e6),
        replay_ratio=64, target_update_tau=0.01, target_update_interval=1,
        policy_update_interval=1, learning_rate=1e-4, q_learning_rate=1e-3,
        OptimCls=torch.optim.Adam, optim_kwargs=None, initial_optim_state_dict=None,
        clip_grad_norm=1e8, q_target_clip=1e6, n_step_return=1, updates_per_sync=1,
        bootstrap_timelimit=True, ReplayBufferCls=None, compile_update=False,
    )  # fmt: skip
    params = list(inspect.signature(DDPG.__init__).parameters)[1:]
    assert params[:19] == list(d)[:19]  # rlpyt's order (compile_update is new, last)
    assert DDPG().batch_size == 64


@pytest.mark.parametrize(
    "kwargs", [dict(batch_size=0), dict(replay_ratio=0), dict(target_update_tau=0),
               dict(target_update_tau=1.5), dict(policy_update_interval=0)]
)  # fmt: skip
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        DDPG(**kwargs)


def test_replay_choice_follows_time_limits():
    algo, _ = make_algo(DDPG, DdpgAgent)
    assert type(algo.replay_buffer) is TlUniformReplayBuffer and algo.time_limit
    algo, _ = make_algo(DDPG, DdpgAgent, bootstrap_timelimit=False)
    assert type(algo.replay_buffer) is UniformReplayBuffer and not algo.time_limit
    no_timeout = dict(EXAMPLES, env_info=NoTimeoutInfo(traj_done=False))
    algo, _ = make_algo(DDPG, DdpgAgent, examples=no_timeout)
    assert type(algo.replay_buffer) is UniformReplayBuffer and not algo.time_limit
    algo, _ = make_algo(DDPG, DdpgAgent, ReplayBufferCls=UniformReplayBuffer)
    assert type(algo.replay_buffer) is UniformReplayBuffer


def test_schedule_from_replay_ratio_and_min_steps():
    agent = DdpgAgent(model_kwargs=dict(hidden_sizes=[8]), q_model_kwargs=dict(hidden_sizes=[8]))
    agent.initialize(SPACES)
    algo = DDPG(batch_size=32, replay_ratio=64, min_steps_learn=100)
    algo.initialize(agent, n_itr=10, batch_spec=BatchSpec(4, 2), mid_batch_reset=True,
                    examples=EXAMPLES)  # fmt: skip
    assert algo.updates_per_optimize == 16  # 64 * 8 / 32
    assert algo.min_itr_learn == 12 and agent.min_itr_learn == 12  # 100 // 8


# --- critic targets by hand -------------------------------------------------------------------


@pytest.mark.parametrize("n_step_return", [1, 3])
@pytest.mark.parametrize("time_limit", [True, False])
def test_critic_target_by_hand(n_step_return, time_limit):
    algo, agent = make_algo(
        DDPG, DdpgAgent, n_step_return=n_step_return, bootstrap_timelimit=time_limit
    )
    append_stream(algo)

    def target_value(o):
        with torch.no_grad():
            mu = agent.target_model(o, None, None)
            return agent.target_q_model(o, None, None, 2.0 * mu)  # env units: bounds [-2, 2]

    check_critic_targets(algo, n_step_return, time_limit, target_value)


def test_q_target_clip():
    algo, _ = make_algo(DDPG, DdpgAgent, q_target_clip=1.5)
    append_stream(algo)
    y = algo.critic_target(batch_at(algo, [2, 9, TERMINAL]))
    assert y.abs().max() <= 1.5 and y.min() == 1.5  # rewards are >= 1


def test_losses_weight_out_timeout_steps():
    algo, agent = make_algo(DDPG, DdpgAgent)
    append_stream(algo)
    both = algo.q_loss(batch_at(algo, [2, TIMEOUT]))
    alone = algo.q_loss(batch_at(algo, [2]))
    assert_close(both, alone)  # the timeout step contributes nothing
    assert_close(algo.mu_loss(batch_at(algo, [2, TIMEOUT])), algo.mu_loss(batch_at(algo, [2])))


# --- updates -------------------------------------------------------------------------------


def test_update_steps_both_networks_and_targets():
    algo, agent = make_algo(DDPG, DdpgAgent, target_update_tau=0.5)
    append_stream(algo)
    before = {k: {n: t.clone() for n, t in v.items()} for k, v in agent.state_dict().items()}
    info = algo.optimize_agent(0)
    after = agent.state_dict()
    for key in ("model", "q_model", "target_model", "target_q_model"):
        assert any(not torch.equal(before[key][n], after[key][n]) for n in after[key]), key
    assert algo.update_counter == algo.updates_per_optimize == 1
    assert all(len(v) == 1 and np.isfinite(v[0]) for v in info), info
    # The diagnostics are the update's own numbers.
    assert info.qGradNorm[0] > 0 and info.muGradNorm[0] > 0


def test_no_updates_before_min_steps_learn():
    algo, agent = make_algo(DDPG, DdpgAgent, min_steps_learn=20)
    append_stream(algo)
    info = algo.optimize_agent(N_STEPS - 1)
    assert all(v == [] for v in info) and algo.update_counter == 0
    # A replay emptied by resuming holds updates back until it is refilled.
    algo, _ = make_algo(DDPG, DdpgAgent, min_steps_learn=10)
    append_stream(algo, n=5)
    assert all(v == [] for v in algo.optimize_agent(50))
    append_stream(algo, n=6)
    assert all(len(v) == 1 for v in algo.optimize_agent(51))


def test_policy_and_target_update_intervals():
    algo, agent = make_algo(DDPG, DdpgAgent, policy_update_interval=3, target_update_interval=2)
    append_stream(algo)
    policy, targets = [], []
    for itr in range(6):
        mu = [p.clone() for p in agent.model.parameters()]
        target = [p.clone() for p in agent.target_q_models.parameters()]
        info = algo.optimize_agent(itr)
        policy.append(not torch.equal(mu[0], next(agent.model.parameters())))
        targets.append(not torch.equal(target[0], next(agent.target_q_models.parameters())))
        assert len(info.qLoss) == 1 and len(info.muLoss) == int(policy[-1])
    assert policy == [False, False, True, False, False, True]
    assert targets == [False, True, False, True, False, True]


def test_update_has_no_host_sync():
    algo, _ = make_algo(DDPG, DdpgAgent)
    append_stream(algo)
    batch = algo.prepare_batch(algo.replay_buffer.sample_batch(8))
    with NoSyncMode():
        algo.update(batch)
        algo.update(batch)


def optimizer_round_trip(AlgoCls, AgentCls, **kwargs):
    """Train, save agent and optimizer state, restore into fresh objects: the next update
    is identical. Returns the two algorithms."""
    algo, agent = make_algo(AlgoCls, AgentCls, **kwargs)
    append_stream(algo)
    for itr in range(3):
        algo.optimize_agent(itr)
    agent_state = {k: {n: t.clone() for n, t in v.items()} for k, v in agent.state_dict().items()}
    optim_state = algo.optim_state_dict()
    buf = io.BytesIO()
    torch.save(optim_state, buf)  # snapshots load with weights_only=True
    buf.seek(0)
    optim_state = torch.load(buf, weights_only=True)
    twin, twin_agent = make_algo(AlgoCls, AgentCls, seed=1, **kwargs)
    twin_agent.load_state_dict(agent_state)
    twin.load_optim_state_dict(optim_state)
    append_stream(twin)
    assert twin.update_counter == algo.update_counter == 3
    batch = algo.prepare_batch(algo.replay_buffer.sample_batch(8))
    for a in (algo, twin):
        torch.manual_seed(5)
        a.update(batch)
        torch.manual_seed(5)
        a.update(batch)
    for key, state in agent.state_dict().items():
        for name, tensor in state.items():
            assert torch.equal(tensor, twin_agent.state_dict()[key][name]), (key, name)
    return algo, twin


def test_optimizer_state_round_trip():
    algo, twin = optimizer_round_trip(DDPG, DdpgAgent, policy_update_interval=2)
    assert set(algo.optim_state_dict()) == {"q", "mu", "update_counter"}
    # rlpyt's snapshots (no update count) load too.
    twin.load_optim_state_dict({"q": algo.q_optimizer.state_dict(),
                                "mu": algo.mu_optimizer.state_dict()})  # fmt: skip
    assert twin.update_counter == 0


def test_initial_optim_state_dict():
    algo, _ = make_algo(DDPG, DdpgAgent)
    append_stream(algo)
    algo.optimize_agent(0)
    twin, _ = make_algo(DDPG, DdpgAgent, initial_optim_state_dict=algo.optim_state_dict())
    assert twin.update_counter == 1
    assert twin.q_optimizer.state_dict()["state"][0]["step"] == 1


# --- shared parts: optimizer step, clipping, device copies ---------------------------------


def _adam_twins(**optim_kwargs):
    torch.manual_seed(0)
    a = QofMuMlpModel((3,), [8, 8], 2)
    b = QofMuMlpModel((3,), [8, 8], 2)
    b.load_state_dict(a.state_dict())
    steps = [GradientStep(torch.optim.Adam, list(m.parameters()), 1e-2, optim_kwargs)
             for m in (a, b)]  # fmt: skip
    return a, b, steps


def _grads(model, seed):
    torch.manual_seed(seed)
    for p in model.parameters():
        p.grad = torch.randn_like(p)


@pytest.mark.parametrize("optim_kwargs", [{}, dict(weight_decay=0.1, eps=1e-3), dict(fused=False)])
def test_fast_adam_step_equals_adam_step(optim_kwargs):
    a, b, (step_a, step_b) = _adam_twins(**optim_kwargs)
    fast = FastAdamStep(step_b)
    assert fast.eligible == (optim_kwargs.get("fused", True) is True)
    for i in range(4):
        _grads(a, i)
        _grads(b, i)
        step_a.optimizer.step()
        fast()
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q)
    # After load_state_dict (new state tensors) it keeps stepping the optimizer's own state.
    step_b.optimizer.load_state_dict(copy.deepcopy(step_a.optimizer.state_dict()))
    for i in range(4, 6):
        _grads(a, i)
        _grads(b, i)
        step_a.optimizer.step()
        fast()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert_close(step_b.optimizer.state_dict()["state"][0]["step"], torch.tensor(6.0))
    # Adam's own step and the fast one count every parameter's steps alike.
    step_b.optimizer.step()
    fast()
    counts = [s["step"] for s in step_b.optimizer.state_dict()["state"].values()]
    assert len(counts) == len(list(b.parameters()))
    assert all(c.dim() == 0 and c.item() == 8.0 for c in counts)


def test_fast_adam_step_runs_hooks():
    a, b, (_, step_b) = _adam_twins()
    fast = FastAdamStep(step_b)
    calls = []
    step_b.optimizer.register_step_post_hook(lambda *args: calls.append(1))
    for i in range(3):
        _grads(b, i)
        fast()
    assert len(calls) == 3


@pytest.mark.parametrize("fused", [True, False])
def test_ensemble_grad_clip_clips_each_critic_on_its_own(fused):
    torch.manual_seed(0)
    singles = [QofMuMlpModel((3,), [8, 8], 2) for _ in range(2)]
    if fused:
        ensemble = QofMuEnsembleMlpModel((3,), [8, 8], 2, ensemble_size=2)
        for j, m in enumerate(singles):
            ensemble.member(j).load_state_dict(m.state_dict())
    else:
        ensemble = SeparateQEnsemble([QofMuMlpModel((3,), [8, 8], 2) for _ in range(2)])
        for j, m in enumerate(singles):
            ensemble.member(j).load_state_dict(m.state_dict())
    obs, act = torch.randn(16, 3), torch.randn(16, 2)
    q1, q2 = ensemble(obs, None, None, act)
    (q1.square().mean() + 10 * q2.square().mean()).backward()
    norms = EnsembleGradClip(ensemble)(max_norm=0.5)
    for j, (m, scale) in enumerate(zip(singles, (1, 10))):
        (scale * m(obs, None, None, act).square().mean()).backward()
        norm = torch.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        assert_close(norms[j], norm)
        clipped = ensemble.member(j)
        if fused:
            layers = clipped._layers()
            grads = [g for w, b in zip(ensemble.mlp.weights, ensemble.mlp.biases)
                     for g in (w.grad[j].t(), b.grad[j, 0])]  # fmt: skip
            assert len(grads) == 2 * len(layers)
        else:
            grads = [p.grad for p in clipped.parameters()]
        for g, p in zip(grads, m.parameters()):
            assert_close(g, p.grad)


def test_pack_to_device_round_trip():
    Pair = namedarraytuple("Pair", ["a", "b", "c", "d"])
    batch = Pair(torch.randn(4, 3), torch.arange(4), None, torch.ones(4, dtype=torch.bool))
    moved = pack_to_device(batch, torch.device("cpu"))
    assert moved.c is None
    for x, y in ((batch.a, moved.a), (batch.b, moved.b), (batch.d, moved.d)):
        assert torch.equal(x, y) and x.dtype == y.dtype and x.shape == y.shape


# --- with samplers and runners ----------------------------------------------------------------


def pendulum_run(AlgoCls, AgentCls, SamplerCls=SerialSampler, n_steps=96, **algo_kwargs):
    """Train briefly on Pendulum-v1 with tiny networks; returns the runner."""
    nets = dict(hidden_sizes=[16, 16])
    agent = AgentCls(model_kwargs=nets, q_model_kwargs=nets)
    kwargs = dict(batch_size=16, replay_ratio=16, min_steps_learn=32, replay_size=1000)
    algo = AlgoCls(**{**kwargs, **algo_kwargs})
    sampler_kwargs = dict(EnvCls=gym_make, env_kwargs=dict(id="Pendulum-v1"), batch_T=4,
                          batch_B=2, max_decorrelation_steps=0)  # fmt: skip
    affinity = None
    if SamplerCls is not SerialSampler:
        sampler_kwargs["start_method"] = "fork"
        affinity = dict(workers_cpus=[None, None])
    runner = MinibatchRl(algo=algo, agent=agent, sampler=SamplerCls(**sampler_kwargs),
                         n_steps=n_steps, seed=0, affinity=affinity, log_interval_steps=n_steps,
                         progress_bar=False)  # fmt: skip
    stored = []
    store = runner.store_diagnostics

    def store_and_keep(itr, traj_infos, opt_info):
        stored.append(opt_info)
        store(itr, traj_infos, opt_info)

    runner.store_diagnostics = store_and_keep
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # idle OpenMP threads would spin on the cores workers need
    with logger.preserved_state():
        logger.disable()
        try:
            runner.train()
        finally:
            torch.set_num_threads(threads)
    runner.opt_infos = stored
    return runner


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "AlgoCls, AgentCls, SamplerCls",
    [
        (DDPG, DdpgAgent, SerialSampler),
        (TD3, Td3Agent, SerialSampler),
        (SAC, SacAgent, SerialSampler),
        (SAC, SacAgent, CpuSampler),
        (SAC, SacAgent, GpuSampler),
        (TD3, Td3Agent, CpuSampler),
    ],
)
def test_trains_with_reset_collectors_of_serial_and_parallel_samplers(
    AlgoCls, AgentCls, SamplerCls
):
    runner = pendulum_run(AlgoCls, AgentCls, SamplerCls)
    assert runner.sampler.mid_batch_reset
    algo = runner.algo
    n_itr = runner.n_itr
    first = algo.min_itr_learn
    assert algo.update_counter == (n_itr - first) * algo.updates_per_optimize > 0
    learned = [info for info in runner.opt_infos[first:]]
    assert all(len(getattr(info, algo.opt_info_fields[0])) > 0 for info in learned)
    assert all(np.isfinite(v).all() for info in learned for v in info if v)
