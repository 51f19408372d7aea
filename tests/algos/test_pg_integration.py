"""A2C/PPO on real samples: the serial sampler, a counting env and rlpyt's PG agents."""

import pytest
import torch

from rlpyt.agents.pg.categorical import CategoricalPgAgent, RecurrentCategoricalPgAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.algos.pg.ppo import PPO
from rlpyt.algos.utils import valid_from_done
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.serial.sampler import SerialSampler
from tests.fakes import CountingEnv


@pytest.mark.parametrize("AgentCls", [CategoricalPgAgent, RecurrentCategoricalPgAgent])
@pytest.mark.parametrize("CollectorCls", [CpuResetCollector, CpuWaitResetCollector])
@pytest.mark.parametrize("env_kwargs", [dict(done_every=3), dict(timeout_every=5)])
@pytest.mark.parametrize("AlgoCls", [A2C, PPO])
def test_pg_on_sampled_batches(AgentCls, CollectorCls, env_kwargs, AlgoCls):
    T, B = 8, 4
    sampler = SerialSampler(
        EnvCls=CountingEnv,
        env_kwargs=dict(obs_shape=(3,), n_actions=2, **env_kwargs),
        batch_T=T,
        batch_B=B,
        CollectorCls=CollectorCls,
        max_decorrelation_steps=0,
    )
    agent = AgentCls(model_kwargs=dict(hidden_sizes=[8]) if not agent_is_rnn(AgentCls) else None)
    algo = AlgoCls(discount=0.9)
    assert algo.bootstrap_value
    examples = sampler.initialize(agent, seed=0, bootstrap_value=True)
    algo.initialize(agent, 2, sampler.batch_spec, sampler.mid_batch_reset, examples)
    try:
        for itr in range(2):
            agent.sample_mode(itr)
            samples, _ = sampler.obtain_samples(itr)
            agent.train_mode(itr)
            opt_info = algo.optimize_agent(itr, samples)
    finally:
        sampler.shutdown()
    n_updates = 1 if AlgoCls is A2C else algo.epochs * algo.minibatches
    assert all(len(v) == n_updates for v in opt_info)
    assert all(torch.isfinite(torch.tensor(v)).all() for v in opt_info)

    done, timeout = samples.env.done, samples.env.env_info.timeout
    return_, advantage, valid = algo.process_returns(samples)
    expected = torch.ones(T, B)
    if not sampler.mid_batch_reset or agent.recurrent:
        expected *= valid_from_done(done)
    expected *= 1 - timeout.float()
    if valid is None:
        assert expected.eq(1).all()
    else:
        torch.testing.assert_close(valid, expected)
    # a step right before a timeout bootstraps through the value at the timeout step
    value = samples.agent.agent_info.value
    for t, b in zip(*torch.nonzero(timeout[1:], as_tuple=True)):
        torch.testing.assert_close(return_[t, b], samples.env.reward[t, b] + 0.9 * value[t + 1, b])


def agent_is_rnn(AgentCls):
    return getattr(AgentCls, "recurrent", False)
