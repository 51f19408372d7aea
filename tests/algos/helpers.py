"""Tiny agents and synthetic ``Samples`` for testing policy-gradient algorithms."""

from __future__ import annotations

import numpy as np
import torch

from rlpyt.distributions.categorical import Categorical, DistInfo
from rlpyt.models.utils import RnnState
from rlpyt.samplers.collections import AgentSamplesBsv, EnvSamples, Samples
from rlpyt.utils.buffer import buffer_from_example, torchify_buffer
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims

AgentInfo = namedarraytuple("AgentInfo", ["dist_info", "value"])
AgentInfoRnn = namedarraytuple("AgentInfoRnn", ["dist_info", "value", "prev_rnn_state"])
EnvInfo = namedarraytuple("EnvInfo", ["timeout", "traj_done"])
EnvInfoNoTimeout = namedarraytuple("EnvInfoNoTimeout", ["traj_done"])

OBS_DIM, N_ACTIONS, HIDDEN = 3, 2, 8


class TinyAgent:
    """Feed-forward categorical policy + value; records the observations of every forward."""

    recurrent = False

    def __init__(self, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.trunk = torch.nn.Sequential(torch.nn.Linear(OBS_DIM, HIDDEN), torch.nn.Tanh())
        self.pi = torch.nn.Linear(HIDDEN, N_ACTIONS)
        self.v = torch.nn.Linear(HIDDEN, 1)
        self.modules = torch.nn.ModuleList([self.trunk, self.pi, self.v])
        self.distribution = Categorical(dim=N_ACTIONS)
        self.calls: list[dict] = []

    def parameters(self):
        return self.modules.parameters()

    def __call__(self, observation, prev_action, prev_reward):
        self.calls.append({"observation": observation.detach().clone()})
        lead_dim, T, B, _ = infer_leading_dims(observation, 1)
        h = self.trunk(observation.reshape(T * B, OBS_DIM))
        prob = torch.softmax(self.pi(h), dim=-1)
        value = self.v(h).squeeze(-1)
        prob, value = restore_leading_dims((prob, value), lead_dim, T, B)
        return DistInfo(prob=prob), value


class TinyRnnAgent(TinyAgent):
    """LSTM version: ``__call__(..., init_rnn_state)`` on ``[T, B]`` inputs, state ``[1, B, H]``."""

    recurrent = True

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.lstm = torch.nn.LSTM(HIDDEN, HIDDEN)
        self.modules.append(self.lstm)

    def __call__(self, observation, prev_action, prev_reward, init_rnn_state):
        self.calls.append(
            {"observation": observation.detach().clone(), "init_rnn_state": init_rnn_state}
        )
        T, B = observation.shape[:2]
        h = self.trunk(observation)
        out, (hn, cn) = self.lstm(h, tuple(init_rnn_state))
        prob = torch.softmax(self.pi(out), dim=-1)
        return DistInfo(prob=prob), self.v(out).squeeze(-1), RnnState(h=hn, c=cn)


def make_samples(
    agent: TinyAgent,
    T: int,
    B: int,
    done: list[tuple[int, int]] = (),
    timeout: list[tuple[int, int]] = (),
    timeout_field: bool = True,
    seed: int = 0,
) -> Samples:
    """A ``Samples`` batch with ``obs[t, b] = [t, b, noise]``, the agent's own ``dist_info``/
    ``value``, and ``done`` (and ``timeout``, which implies ``done``) at the given ``(t, b)``.

    For recurrent agents ``prev_rnn_state[t, b]`` is ``RnnState`` filled with ``100 * t + b``
    (batch-major ``[T, B, 1, H]``, as samplers store it).
    """
    g = torch.Generator().manual_seed(seed)
    info = EnvInfo(timeout=False, traj_done=False) if timeout_field else EnvInfoNoTimeout(False)
    agent_info = AgentInfo(DistInfo(np.zeros(N_ACTIONS, np.float32)), np.float32(0))
    if agent.recurrent:
        zero = np.zeros((1, HIDDEN), np.float32)
        agent_info = AgentInfoRnn(*agent_info, prev_rnn_state=RnnState(h=zero, c=zero))
    example = Samples(
        agent=AgentSamplesBsv(
            action=np.int64(0),
            prev_action=np.int64(0),
            agent_info=agent_info,
            bootstrap_value=np.float32(0),
        ),
        env=EnvSamples(
            observation=np.zeros(OBS_DIM, np.float32),
            reward=np.float32(0),
            prev_reward=np.float32(0),
            done=False,
            env_info=info,
        ),
    )
    s = torchify_buffer(buffer_from_example(example, (T, B)))
    s = s._replace(agent=s.agent._replace(bootstrap_value=torch.randn(1, B, generator=g)))
    s.env.observation[..., 0] = torch.arange(T, dtype=torch.float32)[:, None]
    s.env.observation[..., 1] = torch.arange(B, dtype=torch.float32)[None, :]
    s.env.observation[..., 2] = torch.randn(T, B, generator=g)
    s.agent.action[:] = torch.randint(N_ACTIONS, (T, B), generator=g)
    s.agent.prev_action[1:] = s.agent.action[:-1]
    s.env.reward[:] = torch.randn(T, B, generator=g)
    s.env.prev_reward[1:] = s.env.reward[:-1]
    for t, b in done:
        s.env.done[t, b] = True
    for t, b in timeout:
        s.env.done[t, b] = True
        s.env.env_info.timeout[t, b] = True
    with torch.no_grad():
        if agent.recurrent:
            ids = 100.0 * torch.arange(T)[:, None] + torch.arange(B)[None, :]
            s.agent.agent_info.prev_rnn_state.h[:] = ids[..., None, None]
            s.agent.agent_info.prev_rnn_state.c[:] = -ids[..., None, None]
            state = RnnState(
                h=s.agent.agent_info.prev_rnn_state.h[0].transpose(0, 1).contiguous(),
                c=s.agent.agent_info.prev_rnn_state.c[0].transpose(0, 1).contiguous(),
            )
            dist_info, value, _ = agent(
                s.env.observation, s.agent.prev_action, s.env.prev_reward, state
            )
        else:
            dist_info, value = agent(s.env.observation, s.agent.prev_action, s.env.prev_reward)
    s.agent.agent_info.dist_info[:] = dist_info
    s.agent.agent_info.value[:] = value
    agent.calls.clear()
    return s
