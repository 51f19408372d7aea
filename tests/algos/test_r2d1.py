"""R2D1: value rescaling, burn-in, targets and valid steps by hand, priorities, input
priorities, replay choice and runs with resume of the optimizer state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlpyt.agents.dqn.r2d1_agent import AgentInfo, R2d1Agent
from rlpyt.algos.dqn.r2d1 import R2D1, inv_value_rescale, value_rescale
from rlpyt.envs.pomdp import masked_gym_make
from rlpyt.models.utils import RnnState
from rlpyt.replays.base import PrioritiesSamplesToBuffer
from rlpyt.replays.sequence.n_step import SamplesFromReplayPri
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.collections import AgentSamples, EnvSamples, Samples
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

# --- value rescaling -------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [1e-3, 1e-2, 0.0])
def test_value_rescale_inverse_round_trips(eps):
    x = torch.cat([torch.linspace(-1e4, 1e4, 2001), torch.randn(100) * 3, torch.zeros(1)])
    x = x.double()
    torch.testing.assert_close(inv_value_rescale(value_rescale(x, eps), eps), x)
    y = torch.linspace(-50, 50, 1001).double()
    torch.testing.assert_close(value_rescale(inv_value_rescale(y, eps), eps), y)


def test_value_rescale_known_values():
    x = torch.tensor([0.0, 3.0, -8.0, 99.0])
    torch.testing.assert_close(value_rescale(x, 0.0), torch.tensor([0.0, 1.0, -2.0, 9.0]))
    torch.testing.assert_close(value_rescale(x, 1e-3), torch.tensor([0.0, 1.003, -2.008, 9.099]))
    assert torch.all(torch.diff(value_rescale(torch.linspace(-100, 100, 401))) > 0)  # monotone


# --- a recurrent table agent -----------------------------------------------------------------

Q_ONLINE = torch.tensor([[1.0, 2.0], [3.0, 0.5], [0.0, -1.0], [2.0, 2.5]])
Q_TARGET = torch.tensor([[0.5, 4.0], [1.0, 2.0], [7.0, 0.0], [-1.0, 3.0]])


class TableRnnAgent:
    """Q-values from tables indexed by observation (online, target); the "state" counts steps:
    the state after a call is ``init + T``. Every call is recorded."""

    recurrent = True

    def __init__(self):
        self.q_online = torch.nn.Parameter(Q_ONLINE.clone())
        self.q_target = Q_TARGET.clone()
        self.calls = []

    def _run(self, name, table, observation, init_rnn_state):
        self.calls.append(
            dict(
                net=name,
                obs=observation.clone(),
                grad=torch.is_grad_enabled(),
                init=None if init_rnn_state is None else init_rnn_state.h.clone(),
            )
        )
        T, B = observation.shape[:2]
        h = torch.zeros(1, B, 1) if init_rnn_state is None else init_rnn_state.h
        return table[observation.long()], RnnState(h=h + T, c=h + T)

    def __call__(self, observation, prev_action, prev_reward, init_rnn_state):
        return self._run("online", self.q_online, observation, init_rnn_state)

    def target(self, observation, prev_action, prev_reward, init_rnn_state):
        return self._run("target", self.q_target, observation, init_rnn_state)

    def parameters(self):
        return iter([self.q_online])


def _algo(**kwargs):
    kwargs.setdefault("discount", 0.9)
    algo = R2D1(**kwargs)
    algo.agent = TableRnnAgent()
    return algo


def _sequence_batch(obs, action, return_, done, done_n, is_weights=None, init_h=None):
    """Sequence batch from [L, B] observations/actions (``action[k]`` is step k's prev_action)
    and [wT + bT, B] returns and flags."""
    obs = torch.as_tensor(obs)
    L, B = obs.shape
    init_h = torch.arange(B, dtype=torch.float32).reshape(B, 1, 1) if init_h is None else init_h
    fields = dict(
        all_observation=obs,
        all_action=torch.as_tensor(action),
        all_reward=torch.zeros(L, B),
        return_=torch.as_tensor(return_, dtype=torch.float32),
        done=torch.as_tensor(done, dtype=torch.bool),
        done_n=torch.as_tensor(done_n, dtype=torch.bool),
        init_rnn_state=RnnState(h=init_h, c=init_h.clone()),  # batch-major, as stored
    )
    is_weights = torch.ones(B) if is_weights is None else torch.as_tensor(is_weights)
    return SamplesFromReplayPri(**fields, is_weights=is_weights)


def expected_by_loop(algo, batch):
    """Per-step targets, TD errors and valid flags written out one step at a time."""
    wT, bT, n, eps = algo.warmup_T, algo.batch_T, algo.n_step_return, algo.value_scale_eps
    h = (lambda x: value_rescale(torch.tensor(x), eps).item()) if eps is not None else float
    h_inv = (lambda x: inv_value_rescale(torch.tensor(x), eps).item()) if eps is not None else float
    B = batch.all_observation.shape[1]
    deltas, valid = np.zeros((bT, B)), np.zeros((bT, B))
    for b in range(B):
        for t in range(bT):
            k = wT + t
            obs = int(batch.all_observation[k, b])
            q = Q_ONLINE[obs, int(batch.all_action[k + 1, b])].item()
            next_obs = int(batch.all_observation[k + n, b])
            chooser = Q_ONLINE if algo.double_dqn else Q_TARGET
            next_q = Q_TARGET[next_obs, int(torch.argmax(chooser[next_obs]))].item()
            bootstrap = 0.0 if batch.done_n[k, b] else algo.discount**n * h_inv(next_q)
            y = h(float(batch.return_[k, b]) + bootstrap)
            deltas[t, b] = y - q
            valid[t, b] = float(not bool(batch.done[:k, b].any()))
    return deltas, valid


def test_burn_in_runs_without_grad_from_the_stored_state():
    algo = _algo(warmup_T=2, batch_T=3, n_step_return=1, store_rnn_state_interval=1)
    L, B = 2 + 3 + 1, 2
    obs = torch.arange(L * B).reshape(L, B) % 4
    zeros = torch.zeros(5, B)
    init_h = torch.tensor([5.0, 7.0]).reshape(2, 1, 1)
    batch = _sequence_batch(
        obs, torch.zeros(L, B, dtype=torch.long), zeros, zeros, zeros, init_h=init_h
    )
    loss, _, _ = algo.loss(batch)
    calls = algo.agent.calls
    assert [(c["net"], c["grad"]) for c in calls] == [
        ("online", False),
        ("target", False),
        ("online", True),
        ("target", False),
    ]
    stored = torch.tensor([5.0, 7.0]).reshape(1, 2, 1)  # transposed to [N, B, H]
    for c in calls[:2]:  # burn-in: the first warmup_T steps, from the stored state
        torch.testing.assert_close(c["obs"], obs[:2])
        torch.testing.assert_close(c["init"], stored)
    for c in calls[2:]:  # then the rest, from the state the burn-in reached
        torch.testing.assert_close(c["obs"], obs[2:])
        torch.testing.assert_close(c["init"], stored + 2)
    loss.backward()
    # Only the trained steps' observations (2..4, not the burn-in's) got gradient.
    grad_rows = set(torch.nonzero(algo.agent.q_online.grad.abs().sum(-1)).flatten().tolist())
    assert grad_rows <= set(obs[2:5].flatten().tolist())


def test_no_warmup_starts_training_from_the_stored_state():
    algo = _algo(warmup_T=0, batch_T=2, n_step_return=1, store_rnn_state_interval=1)
    zeros = torch.zeros(2, 1)
    batch = _sequence_batch(
        torch.zeros(3, 1), torch.zeros(3, 1, dtype=torch.long), zeros, zeros, zeros
    )
    algo.loss(batch)
    assert [c["net"] for c in algo.agent.calls] == ["online", "target"]
    torch.testing.assert_close(algo.agent.calls[0]["init"], torch.zeros(1, 1, 1))


@pytest.mark.parametrize("double_dqn", [False, True])
@pytest.mark.parametrize("value_scale_eps", [None, 1e-3])
def test_loss_targets_and_priorities_match_a_step_by_step_computation(double_dqn, value_scale_eps):
    wT, bT, n, B = 1, 4, 2, 3
    L = wT + bT + n
    gen = torch.Generator().manual_seed(3)
    obs = torch.randint(0, 4, (L, B), generator=gen)
    action = torch.randint(0, 2, (L, B), generator=gen)
    return_ = torch.randn(wT + bT, B, generator=gen) * 3
    done = torch.zeros(wT + bT, B, dtype=torch.bool)
    done[2, 1] = True  # column 1: an episode ends at training step 1 (steps 0, 1 valid)
    done[0, 2] = True  # column 2: the episode ends in the burn-in (nothing valid)
    done_n = done.clone()
    done_n[1, 1] = True  # the n-step window of step 1 reaches the end
    is_weights = torch.tensor([1.0, 0.5, 0.25])
    batch = _sequence_batch(obs, action, return_, done, done_n, is_weights)
    eta = 0.7
    algo = _algo(
        warmup_T=wT,
        batch_T=bT,
        n_step_return=n,
        double_dqn=double_dqn,
        value_scale_eps=value_scale_eps,
        pri_eta=eta,
        delta_clip=None,
    )
    loss, td_abs, priorities = algo.loss(batch)
    deltas, valid = expected_by_loop(algo, batch)
    assert valid[:, 0].all() and valid[:, 1].tolist() == [1, 1, 0, 0] and not valid[:, 2].any()
    deltas = torch.tensor(deltas, dtype=torch.float32)
    valid_t = torch.tensor(valid, dtype=torch.float32)
    expected_loss = (0.5 * deltas**2 * is_weights * valid_t).sum() / valid_t.sum()
    torch.testing.assert_close(loss, expected_loss)
    abs_d = deltas.abs() * valid_t
    expected_pri = eta * abs_d.max(0).values + (1 - eta) * abs_d.sum(0) / valid_t.sum(0).clamp(
        min=1
    )
    torch.testing.assert_close(priorities, expected_pri)
    assert priorities[2] == 0  # nothing valid: never drawn again
    assert td_abs.shape == (int(valid.sum()),)


def test_huber_loss_and_clipped_priorities():
    algo = _algo(warmup_T=0, batch_T=1, n_step_return=1, delta_clip=1.0, value_scale_eps=None)
    # obs 0 action 1: q = 2; terminal return 10: delta = 8.
    batch = _sequence_batch([[0], [0]], [[0], [1]], [[10.0]], [[False]], [[True]])
    loss, td_abs, priorities = algo.loss(batch)
    torch.testing.assert_close(loss, torch.tensor(8.0 - 0.5))
    torch.testing.assert_close(td_abs, torch.tensor([1.0]))
    torch.testing.assert_close(priorities, torch.tensor([1.0]))


# --- input priorities ------------------------------------------------------------------------


def _sampler_batch(q, action, reward, done):
    T, B = reward.shape
    prev_rnn_state = RnnState(h=torch.zeros(T, B, 1, 2), c=torch.zeros(T, B, 1, 2))
    return Samples(
        agent=AgentSamples(
            action=action,
            prev_action=torch.zeros_like(action),
            agent_info=AgentInfo(q=q, prev_rnn_state=prev_rnn_state),
        ),
        env=EnvSamples(
            observation=torch.zeros(T, B, 3),
            reward=reward,
            prev_reward=torch.zeros_like(reward),
            done=done,
            env_info=None,
        ),
    )


@pytest.mark.parametrize("mid_batch_reset", [True, False])
def test_input_priorities_by_hand(mid_batch_reset):
    B = 2
    q = torch.tensor(
        [[[1.0, 2.0], [0.0, 1.0]], [[0.5, 0.0], [3.0, 1.0]], [[2.0, 1.0], [1.0, 1.0]],
         [[0.0, 4.0], [2.0, 0.0]]]
    )  # fmt: skip
    action = torch.tensor([[1, 0], [0, 0], [1, 1], [0, 1]])
    reward = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]])
    done = torch.tensor([[False, False], [False, True], [False, False], [False, False]])
    algo = R2D1(discount=0.5, n_step_return=2, value_scale_eps=None, pri_eta=0.9)
    algo.mid_batch_reset = mid_batch_reset
    priorities = algo.compute_input_priorities(_sampler_batch(q, action, reward, done))
    assert priorities.shape == (B,) and priorities.dtype == np.float64
    # Env 0: y_t = r_t + 0.5 r_{t+1} + 0.25 max q_{t+2}, t = 0, 1.
    d0 = [abs(1.0 + 0 + 0.25 * 2.0 - 2.0), abs(0.0 + 0.5 + 0.25 * 4.0 - 0.5)]
    # Env 1: done at step 1: y_0 = 0 + 0.5 * 2 (no bootstrap), y_1 = 2 (terminal).
    d1 = [abs(1.0 - 0.0), abs(2.0 - 3.0)]
    mix = lambda d: 0.9 * max(d) + 0.1 * np.mean(d)  # noqa: E731
    # WaitReset batches: steps after a done are blank; only up to the first done counts.
    expected = [mix(d0), mix(d1)]
    np.testing.assert_allclose(priorities, expected, rtol=1e-6)
    short = _sampler_batch(q[:1], action[:1], reward[:1], done[:1])
    assert algo.compute_input_priorities(short) is None  # one step: nothing to compare


def test_samples_to_buffer_wraps_input_priorities():
    T, B = 3, 2
    action, done = torch.zeros(T, B, dtype=torch.long), torch.zeros(T, B, dtype=torch.bool)
    batch = _sampler_batch(torch.zeros(T, B, 2), action, torch.ones(T, B), done)
    algo = R2D1(n_step_return=1)
    wrapped = algo.samples_to_buffer(batch)
    assert isinstance(wrapped, PrioritiesSamplesToBuffer) and wrapped.priorities.shape == (B,)
    assert wrapped.samples.prev_rnn_state.h.shape == (T, B, 1, 2)
    plain = R2D1(input_priorities=False).samples_to_buffer(batch)
    assert type(plain).__name__ == "SamplesToBufferRnn"
    assert R2D1(warmup_T=40, store_rnn_state_interval=20).input_priority_shift == 2


def test_invalid_arguments():
    with pytest.raises(ValueError, match="batch_T"):
        R2D1(batch_T=0)
    with pytest.raises(ValueError, match="warmup_T"):
        R2D1(warmup_T=-1)


# --- runs ------------------------------------------------------------------------------------


@pytest.fixture
def quiet():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


def _run(n_steps=480, initial_optim_state_dict=None, **algo_kwargs):
    sampler = SerialSampler(
        EnvCls=masked_gym_make,
        env_kwargs=dict(id="CartPole-v1", keep_indices=[0, 2]),
        batch_T=8,
        batch_B=2,
    )
    agent = R2d1Agent(model_kwargs=dict(hidden_sizes=[16], lstm_size=16, head_size=16))
    kwargs = dict(
        batch_T=8,
        batch_B=4,
        warmup_T=4,
        store_rnn_state_interval=4,
        min_steps_learn=96,
        replay_size=256,
        replay_ratio=2,
        target_update_interval=5,
        n_step_return=3,
        initial_optim_state_dict=initial_optim_state_dict,
    )
    kwargs.update(algo_kwargs)
    algo = R2D1(**kwargs)
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=4,
        log_interval_steps=n_steps,
        progress_bar=False,
    )
    runner.train()
    return algo, agent


@pytest.mark.usefixtures("quiet")
@pytest.mark.parametrize("prioritized", [True, False])
def test_runs_counts_updates_and_resumes_optimizer_state(prioritized):
    algo, agent = _run(prioritized_replay=prioritized)
    # 16 steps per iteration, 2 * 16 / (4 * 8) = 1 update per iteration from itr 6 on.
    assert algo.updates_per_optimize == 1 and algo.min_itr_learn == 6
    assert algo.update_counter == 480 // 16 - 6
    name = type(algo.replay_buffer).__name__
    assert name == ("Prioritized" if prioritized else "Uniform") + "SequenceReplayBuffer"
    assert algo.replay_buffer.batch_T == 12 and algo.replay_buffer.rnn_state_interval == 4
    if prioritized:  # input priorities and sequence priorities replaced the default
        values = algo.replay_buffer.priority_tree.values
        assert np.any((values > 0) & (np.abs(values - 1) > 1e-6))
    state = algo.optim_state_dict()
    resumed, _ = _run(n_steps=16, initial_optim_state_dict=state, prioritized_replay=prioritized)
    assert resumed.update_counter == state["update_counter"]
    saved_step = state["optimizer"]["state"][0]["step"]
    assert resumed.optimizer.state_dict()["state"][0]["step"] == saved_step


def test_frame_replay_for_image_observations():
    from rlpyt.samplers.collections import BatchSpec

    algo = R2D1(batch_T=4, batch_B=2, warmup_T=2, store_rnn_state_interval=2, replay_size=64)
    h = np.zeros((1, 5), np.float32)
    examples = dict(
        observation=np.zeros((4, 8, 8), np.uint8),
        action=np.int64(0),
        reward=np.float32(0),
        done=False,
        agent_info=AgentInfo(q=np.zeros(3, np.float32), prev_rnn_state=RnnState(h=h, c=h)),
    )
    buffer = algo.initialize_replay_buffer(examples, BatchSpec(T=4, B=2))
    assert type(buffer).__name__ == "PrioritizedSequenceReplayFrameBuffer"
    assert buffer.n_frames == 4 and buffer.sampler.input_priority_shift == 1
    async_buffer = algo.initialize_replay_buffer(examples, BatchSpec(T=4, B=2), async_=True)
    assert type(async_buffer).__name__ == "AsyncPrioritizedSequenceReplayFrameBuffer"
