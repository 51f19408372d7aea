"""Tests for MinibatchRl / MinibatchRlEval: logged columns, snapshots, exact resume, shutdown."""

import csv
import os

import numpy as np
import pytest
import torch

from rlpyt.agents.pg.categorical import CategoricalPgAgent, RecurrentCategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl, MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context

T, B = 16, 2


def make_runner(
    cls=MinibatchRl, n_itr=6, log_every=1, seed=3, eval_n_envs=0, recurrent=False, **kw
):
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=5,
        eval_n_envs=eval_n_envs,
        eval_max_steps=200,
    )
    if recurrent:
        agent = RecurrentCategoricalPgAgent(model_kwargs=dict(hidden_sizes=[16], lstm_size=8))
    else:
        agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[16]))
    algo = PPO(epochs=2, minibatches=2, learning_rate=1e-3)
    return cls(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_itr * T * B,
        seed=seed,
        log_interval_steps=log_every * T * B,
        progress_bar=False,
        **kw,
    )


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def params(agent):
    return {k: v.clone() for k, v in agent.state_dict().items()}


@pytest.fixture(autouse=True)
def quiet_logger():
    with logger.preserved_state():
        logger.set_log_tabular_only(False)
        logger.disable()
        yield


class TestMinibatchRl:
    def test_logs_rlpyt_columns_and_counts(self, tmp_path):
        runner = make_runner(n_itr=6, log_every=2)
        with logger_context(str(tmp_path), 0, "test", snapshot_mode="last") as run_dir:
            runner.train()
        rows = read_csv(os.path.join(run_dir, "progress.csv"))
        assert len(rows) == 3  # one row per log interval of 2 iterations
        assert [int(r["Diagnostics/Iteration"]) for r in rows] == [1, 3, 5]
        assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [64, 128, 192]
        for key in ("ReturnAverage", "LengthMax", "lossAverage", "entropyAverage",
                    "Diagnostics/StepsPerSecond", "Diagnostics/CumUpdates"):  # fmt: skip
            assert key in rows[-1], key
        assert int(rows[-1]["Diagnostics/CumUpdates"]) == 6 * 2 * 2  # itrs x epochs x minibatches
        assert os.path.exists(os.path.join(run_dir, "params.pkl"))

    def test_threads_and_cpu_affinity_are_put_back_after_training(self):
        import psutil

        process = psutil.Process()
        cpus, threads = process.cpu_affinity(), torch.get_num_threads()
        pinned = cpus[:1]
        seen = {}
        runner = make_runner(
            n_itr=1, affinity=dict(master_cpus=pinned, master_torch_threads=threads + 1)
        )
        obtain = runner.sampler.obtain_samples

        def spy(itr):
            seen.update(cpus=process.cpu_affinity(), threads=torch.get_num_threads())
            return obtain(itr)

        runner.sampler.obtain_samples = spy
        runner.train()
        assert seen == dict(cpus=pinned, threads=threads + 1)
        assert process.cpu_affinity() == cpus and torch.get_num_threads() == threads

    def test_n_itr_rounds_up_to_log_intervals(self):
        runner = make_runner(n_itr=5, log_every=2)
        runner.itr_batch_size = T * B
        assert runner.get_n_itr() == 6 and runner.log_interval_itrs == 2

    @pytest.mark.parametrize("bad", [dict(n_steps=0), dict(log_interval_steps=0.5)])
    def test_bad_arguments(self, bad):
        kw = dict(algo=PPO(), agent=CategoricalPgAgent(), sampler=None, n_steps=100)
        kw.update(bad)
        with pytest.raises(ValueError, match="must be >= 1"):
            MinibatchRl(**kw)

    @pytest.mark.parametrize("recurrent", [False, True])
    def test_resume_continues_exactly(self, tmp_path, recurrent):
        straight = make_runner(n_itr=6, recurrent=recurrent)
        with logger_context(str(tmp_path / "a"), 0, "test", snapshot_mode="all") as run_a:
            straight.train()
        first = make_runner(n_itr=6, recurrent=recurrent)
        resumed = make_runner(n_itr=6, recurrent=recurrent)
        with logger_context(str(tmp_path / "b"), 0, "test", snapshot_mode="all") as run_b:
            first.train()
            resumed.train(resume_from=os.path.join(run_b, "itr_2.pkl"))
        expected, got = params(straight.agent), params(resumed.agent)
        assert expected.keys() == got.keys()
        for k in expected:
            torch.testing.assert_close(got[k], expected[k], rtol=0, atol=0)
        rows_a = read_csv(os.path.join(run_a, "progress.csv"))
        rows_b = read_csv(os.path.join(run_b, "progress.csv"))[6:]  # the resumed session's rows
        assert [r["Diagnostics/Iteration"] for r in rows_b] == ["3", "4", "5"]
        for ra, rb in zip(rows_a[3:], rows_b):
            for key in ("ReturnAverage", "lossAverage", "Diagnostics/CumSteps",
                        "Diagnostics/CumCompletedTrajs"):  # fmt: skip
                assert ra[key] == rb[key], key

    def test_resume_from_run_directory_uses_last_snapshot(self, tmp_path):
        first = make_runner(n_itr=4)
        with logger_context(str(tmp_path), 0, "test", snapshot_mode="last") as run_dir:
            first.train()
        resumed = make_runner(n_itr=6)
        with logger_context(str(tmp_path), 0, "test", snapshot_mode="last"):
            resumed.train(resume_from=run_dir)
        rows = read_csv(os.path.join(run_dir, "progress.csv"))
        assert [int(r["Diagnostics/Iteration"]) for r in rows] == [0, 1, 2, 3, 4, 5]

    def test_interrupt_keeps_last_snapshot_and_shuts_down(self, tmp_path, monkeypatch):
        runner = make_runner(n_itr=6)
        calls = {"n": 0}
        real_optimize = runner.algo.optimize_agent

        def optimize_then_interrupt(itr, samples):
            calls["n"] += 1
            if itr == 3:
                raise KeyboardInterrupt
            return real_optimize(itr, samples)

        monkeypatch.setattr(runner.algo, "optimize_agent", optimize_then_interrupt)
        closed = []
        with logger_context(str(tmp_path), 0, "test", snapshot_mode="last") as run_dir:
            with pytest.raises(KeyboardInterrupt):
                runner.sampler.shutdown = lambda: closed.append(True)
                runner.train()
        assert closed == [True]
        snapshot = logger.load_snapshot(run_dir)
        assert snapshot["itr"] == 2 and snapshot["next_itr"] == 3


class TestMinibatchRlEval:
    def test_evaluates_before_training_and_at_each_interval(self, tmp_path):
        runner = make_runner(MinibatchRlEval, n_itr=4, log_every=2, eval_n_envs=2)
        with logger_context(str(tmp_path), 0, "test", snapshot_mode="last") as run_dir:
            runner.train()
        rows = read_csv(os.path.join(run_dir, "progress.csv"))
        assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [0, 64, 128]
        for r in rows:
            assert int(r["Diagnostics/TrajsInEval"]) >= 1
            assert 1 <= float(r["ReturnAverage"]) <= 200  # eval returns, capped by max steps
        assert float(rows[-1]["Diagnostics/CumEvalTime"]) > 0
        assert np.isfinite(float(rows[-1]["Diagnostics/CumTrainTime"]))
