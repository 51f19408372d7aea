"""Tests for affinity codes: encode/decode round trips, slot layouts, errors, machine detection."""

import itertools
import os

import psutil
import pytest
import torch

from rlpyt.utils.launching import affinity as aff
from rlpyt.utils.launching.affinity import (
    CODE_KEYS,
    affinity_from_code,
    decode_affinity,
    encode_affinity,
    get_n_run_slots,
    make_affinity,
    prepend_run_slot,
    quick_affinity_code,
    remove_run_slot,
)

RUN_KEYS = {
    "all_cpus",
    "master_cpus",
    "workers_cpus",
    "master_torch_threads",
    "worker_torch_threads",
    "cuda_idx",
    "alternating",
    "set_affinity",
}
OPT_KEYS = {"cpus", "cuda_idx", "torch_threads", "set_affinity"}


def encode(**kw):
    """encode_affinity with the machine-dependent arguments fixed unless given."""
    kw.setdefault("hyperthread_offset", 0)
    kw.setdefault("n_socket", 1)
    return encode_affinity(**kw)


def reencode(code):
    """Encode again from the decoded parameters (the decoding defaults filled in)."""
    p = decode_affinity(code)
    kw = {name: p[abbrev] for name, abbrev in CODE_KEYS.items() if abbrev in p}
    kw.setdefault("hyperthread_offset", p["cpu"])
    kw.setdefault("n_socket", 1)
    for flag in ("async_sample", "optim_sample_share_gpu", "alternating", "set_affinity"):
        if flag in kw:
            kw[flag] = bool(kw[flag])
    return encode_affinity(**kw)


def cpu_grid():
    for cpu, cpr, cpw, res, hto_mult, skt, alt, saf in itertools.product(
        [1, 2, 4, 8], [1, 2, 4], [1, 2], [0, 1], [0, 1, 2], [1, 2], [False, True], [True, False]
    ):
        yield dict(
            n_cpu_core=cpu, cpu_per_run=cpr, cpu_per_worker=cpw, cpu_reserved=res,
            hyperthread_offset=hto_mult * cpu, n_socket=skt, alternating=alt, set_affinity=saf,
        )  # fmt: skip


def gpu_grid():
    for cpu, gpu, cxg, gpr, hto_mult, skt, cpw in itertools.product(
        [4, 8, 16], [1, 2, 4, 8], [1, 2], [1, 2, 4], [0, 1], [1, 2], [1, 2]
    ):
        yield dict(
            n_cpu_core=cpu, n_gpu=gpu, contexts_per_gpu=cxg, gpu_per_run=gpr,
            hyperthread_offset=hto_mult * cpu, n_socket=skt, cpu_per_worker=cpw,
        )  # fmt: skip


def async_grid():
    for cpu, gpu, gpr, sgr, oss, res, skt in itertools.product(
        [8, 16], [1, 2, 4, 8], [1, 2], [0, 1, 2], [False, True], [0, 1, 2], [1, 2]
    ):
        yield dict(
            n_cpu_core=cpu, n_gpu=gpu, gpu_per_run=gpr, sample_gpu_per_run=0 if oss else sgr,
            optim_sample_share_gpu=oss, cpu_reserved=res, async_sample=True,
            hyperthread_offset=cpu, n_socket=skt,
        )  # fmt: skip
    for cpu, cpr, res in itertools.product([2, 4, 8], [2, 4], [0, 1, 2]):
        yield dict(
            n_cpu_core=cpu, cpu_per_run=cpr, cpu_reserved=res, async_sample=True,
            hyperthread_offset=0, n_socket=1,
        )  # fmt: skip


def valid_codes(grid):
    """(kwargs, code) for each combination that encodes; the rest must raise ValueError."""
    out = []
    for kw in grid:
        try:
            out.append((kw, encode_affinity(**kw)))
        except ValueError:
            pass
    return out


def parts_of(affinity):
    """Every sampling-run dict and optimizer dict of a slot's affinity."""
    if isinstance(affinity, list):
        return affinity, []
    if "optimizer" in affinity:
        smp = affinity["sampler"]
        return (smp if isinstance(smp, list) else [smp]), affinity["optimizer"]
    return [affinity], []


def check_layout(kw, code):
    """Round trip and slot properties of one valid code."""
    assert reencode(code) == code
    decoded = decode_affinity(code)
    for name, abbrev in CODE_KEYS.items():
        if abbrev in decoded and name in kw:
            assert decoded[abbrev] == int(kw[name]), (name, code)
    n_slots = get_n_run_slots(code)
    assert n_slots >= 1
    n_cpu, hto = kw["n_cpu_core"], kw["hyperthread_offset"]
    cpu_limit = max(n_cpu, hto) * (2 if hto else 1)
    seen_cpus, seen_gpus = set(), []
    for slot in range(n_slots):
        slot_code = prepend_run_slot(slot, code)
        affinity = affinity_from_code(slot_code)
        assert affinity == make_affinity(run_slot=slot, **kw)
        assert get_n_run_slots(slot_code) == n_slots
        runs, opts = parts_of(affinity)
        slot_cpus = set()
        for run in runs:
            assert set(run) == RUN_KEYS
            assert run["all_cpus"] == run["master_cpus"]
            assert run["workers_cpus"], "every sampler needs a worker"
            for w in run["workers_cpus"]:
                assert set(w) <= set(run["master_cpus"])
            assert run["set_affinity"] is bool(kw.get("set_affinity", True))
            slot_cpus |= set(run["master_cpus"])
        for opt in opts:
            assert set(opt) == OPT_KEYS and opt["torch_threads"] >= 1
            assert not set(opt["cpus"]) & slot_cpus, "optimizer and sampler share a core"
            slot_cpus |= set(opt["cpus"])
        if "optimizer" in affinity:
            assert set(affinity["all_cpus"]) == slot_cpus
        assert all(0 <= c < cpu_limit for c in slot_cpus)
        assert not slot_cpus & seen_cpus, f"slots of {code} share CPUs"
        seen_cpus |= slot_cpus
        seen_gpus += sorted({p["cuda_idx"] for p in runs + opts} - {None})
    if kw.get("n_gpu", 0):
        assert all(0 <= g < kw["n_gpu"] for g in seen_gpus)
        assert len(seen_gpus) == len(set(seen_gpus)) * kw.get("contexts_per_gpu", 1)
    return n_slots


class TestRoundTrips:
    @pytest.mark.parametrize("grid", [cpu_grid, gpu_grid, async_grid])
    def test_grid(self, grid):
        codes = valid_codes(grid())
        assert len(codes) > 30, "the grid should exercise many valid codes"
        for kw, code in codes:
            check_layout(kw, code)

    def test_known_codes(self):
        assert encode(n_cpu_core=2, cpu_per_run=1) == "2cpu_0gpu_1cpr_0hto"
        assert encode(n_cpu_core=8, n_gpu=2, contexts_per_gpu=2, hyperthread_offset=8) == (
            "8cpu_2gpu_2cxg"
        )
        code = encode(
            n_cpu_core=16, n_gpu=4, async_sample=True, sample_gpu_per_run=1, alternating=True,
            set_affinity=False, cpu_per_worker=2, n_socket=2, hyperthread_offset=16,
        )  # fmt: skip
        assert code == "16cpu_4gpu_2cpw_2skt_1ass_1sgr_1alt_0saf"
        assert encode(n_cpu_core=4, run_slot=3, cpu_per_run=1) == "3slt_4cpu_0gpu_1cpr_0hto"

    def test_cpu_slots(self):
        code = encode(n_cpu_core=4, cpu_per_run=2)
        assert get_n_run_slots(code) == 2
        a = affinity_from_code(prepend_run_slot(1, code))
        assert a == dict(
            all_cpus=(2, 3), master_cpus=(2, 3), workers_cpus=((2,), (3,)),
            master_torch_threads=2, worker_torch_threads=1, cuda_idx=None,
            alternating=False, set_affinity=True,
        )  # fmt: skip

    def test_hyperthreads_and_reserved(self):
        a = make_affinity(n_cpu_core=4, cpu_per_run=4, cpu_reserved=1, hyperthread_offset=4)
        assert a["master_cpus"] == (0, 1, 2, 3, 4, 5, 6, 7)
        assert a["workers_cpus"] == ((1, 5), (2, 6), (3, 7))
        assert a["master_torch_threads"] == 4

    def test_alternating_groups(self):
        a = make_affinity(n_cpu_core=2, cpu_per_run=2, alternating=True)
        assert a["workers_cpus"] == ((0,), (1,), (0,), (1,))  # two groups sharing the cores
        a = make_affinity(n_cpu_core=2, cpu_per_run=2, alternating=True, hyperthread_offset=2)
        assert a["workers_cpus"] == ((0,), (1,), (2,), (3,))  # second group on hyperthreads
        assert a["alternating"] is True

    def test_gpu_contexts_spread_over_gpus_first(self):
        code = encode(n_cpu_core=8, n_gpu=2, contexts_per_gpu=2, hyperthread_offset=8)
        got = [affinity_from_code(prepend_run_slot(s, code)) for s in range(4)]
        assert [a["cuda_idx"] for a in got] == [0, 1, 0, 1]
        assert [a["master_cpus"] for a in got] == [
            (0, 1, 8, 9), (4, 5, 12, 13), (2, 3, 10, 11), (6, 7, 14, 15),
        ]  # fmt: skip

    def test_original_code_without_hto_means_offset_n_cpu_core(self):
        a = affinity_from_code("0slt_4cpu_1gpu")
        assert a["cuda_idx"] == 0
        assert a["master_cpus"] == (0, 1, 2, 3, 4, 5, 6, 7)
        assert a["workers_cpus"] == ((0, 4), (1, 5), (2, 6), (3, 7))

    def test_sockets(self):
        code = encode(n_cpu_core=8, cpu_per_run=2, n_socket=2)
        cores = [affinity_from_code(prepend_run_slot(s, code))["master_cpus"] for s in range(4)]
        assert cores == [(0, 1), (2, 3), (4, 5), (6, 7)]
        # One run over two sockets takes half of each.
        a = make_affinity(n_cpu_core=8, cpu_per_run=4, n_socket=4, hyperthread_offset=0)
        assert a["master_cpus"] == (0, 1, 2, 3)
        a = make_affinity(run_slot=0, n_cpu_core=8, cpu_per_run=8, n_socket=2)
        assert a["master_cpus"] == tuple(range(8))

    def test_multi_gpu_run_is_a_list(self):
        code = encode(n_cpu_core=8, n_gpu=4, gpu_per_run=2)
        assert get_n_run_slots(code) == 2
        a = affinity_from_code(prepend_run_slot(1, code))
        assert isinstance(a, list) and [r["cuda_idx"] for r in a] == [2, 3]
        assert [r["master_cpus"] for r in a] == [(4, 5), (6, 7)]

    def test_async_layouts(self):
        a = make_affinity(
            n_cpu_core=8, n_gpu=2, async_sample=True, sample_gpu_per_run=1, cpu_reserved=2
        )
        assert set(a) == {"all_cpus", "optimizer", "sampler", "set_affinity"}
        assert a.optimizer == [dict(cpus=(0, 1), cuda_idx=0, torch_threads=2, set_affinity=True)]
        assert a.sampler["cuda_idx"] == 1 and a.sampler["master_cpus"] == (2, 3, 4, 5, 6, 7)
        assert a.sampler["workers_cpus"] == tuple((c,) for c in range(2, 8))
        # CPU async: one optimizer core reserved even when cpu_reserved=0.
        a = make_affinity(n_cpu_core=4, cpu_per_run=4, async_sample=True)
        assert a.optimizer[0]["cpus"] == (0,) and a.optimizer[0]["cuda_idx"] is None
        assert a.sampler["workers_cpus"] == ((1,), (2,), (3,))
        # Shared GPU: the sampler runs on the optimizer's GPU.
        a = make_affinity(n_cpu_core=4, n_gpu=1, async_sample=True, optim_sample_share_gpu=True)
        assert a.optimizer[0]["cuda_idx"] == 0 == a.sampler["cuda_idx"]
        assert get_n_run_slots(encode(n_cpu_core=8, n_gpu=8, gpu_per_run=2, async_sample=True,
                                      sample_gpu_per_run=2)) == 2  # fmt: skip


class TestCodeErrors:
    @pytest.mark.parametrize(
        "code",
        [
            "",
            "2cpu_0gpu_1xyz",
            "2cpu_2cpu",
            "0gpu_1cpr",
            "two_cpu",
            "2cpu_-1gpu",
            "2cpu__0gpu",
            "2cpu_1slt_0gpu",
        ],  # fmt: skip
    )
    def test_bad_codes(self, code):
        with pytest.raises(ValueError):
            get_n_run_slots(code)

    @pytest.mark.parametrize(
        "kw",
        [
            dict(n_cpu_core=3, cpu_per_run=2),  # does not divide
            dict(n_cpu_core=2, cpu_per_run=2, cpu_reserved=2),  # no worker core left
            dict(n_cpu_core=2, cpu_per_run=1, cpu_per_worker=2),
            dict(n_cpu_core=6, n_gpu=4),  # cores do not divide among GPUs
            dict(n_cpu_core=8, n_gpu=3, gpu_per_run=2),
            dict(n_cpu_core=8, n_gpu=2, contexts_per_gpu=2, gpu_per_run=2),
            dict(n_cpu_core=8, n_gpu=0, contexts_per_gpu=2),
            dict(n_cpu_core=8, n_gpu=1, sample_gpu_per_run=1),  # needs async
            dict(n_cpu_core=8, n_gpu=1, async_sample=True, sample_gpu_per_run=1),  # 2 GPUs
            dict(n_cpu_core=6, cpu_per_run=2, n_socket=2),  # 3 runs on 2 sockets
            dict(n_cpu_core=4, hyperthread_offset=2),  # hyperthreads overlap cores
            dict(n_cpu_core=4, cpu_per_run=4, run_slot=1),  # one slot only
            dict(n_cpu_core=-1),
            dict(n_cpu_core=2.0),
        ],
    )
    def test_bad_arguments(self, kw):
        with pytest.raises(ValueError):
            encode(**kw)

    def test_run_slot_required_and_checked(self):
        code = encode(n_cpu_core=2, cpu_per_run=1)
        with pytest.raises(ValueError, match="no run slot"):
            affinity_from_code(code)
        with pytest.raises(ValueError, match="out of range"):
            affinity_from_code(prepend_run_slot(2, code))
        with pytest.raises(ValueError):
            prepend_run_slot(-1, code)

    def test_prepend_and_remove_run_slot(self):
        code = encode(n_cpu_core=2, cpu_per_run=1)
        assert prepend_run_slot(1, code) == "1slt_" + code
        assert prepend_run_slot(0, prepend_run_slot(1, code)) == "0slt_" + code
        assert remove_run_slot(prepend_run_slot(1, code)) == (1, code)
        assert decode_affinity(prepend_run_slot(1, code))["slt"] == 1


def fake_sysfs(root, siblings, packages):
    for cpu, (sib, pkg) in enumerate(zip(siblings, packages)):
        d = root / f"cpu{cpu}" / "topology"
        d.mkdir(parents=True)
        (d / "thread_siblings_list").write_text(sib + "\n")
        (d / "physical_package_id").write_text(f"{pkg}\n")


class TestMachine:
    @pytest.mark.parametrize(
        "siblings, offset",
        [
            (["0,4", "1,5", "2,6", "3,7"] * 2, 4),  # offset numbering (most Intel/AMD Linux)
            (["0-1", "0-1", "2-3", "2-3", "4-5", "4-5", "6-7", "6-7"], 0),  # adjacent siblings
            ([str(c) for c in range(8)], 0),  # no SMT
        ],
    )
    def test_hyperthread_offset(self, tmp_path, monkeypatch, siblings, offset):
        fake_sysfs(tmp_path, siblings, [0] * 4 + [1] * 4)
        monkeypatch.setattr(aff, "_SYSFS_CPU", str(tmp_path))
        monkeypatch.setattr(os, "cpu_count", lambda: 8)
        monkeypatch.setattr(aff, "_available_cpus", lambda: list(range(8)))
        assert aff.get_hyperthread_offset() == offset
        assert aff.get_n_cpu_core() == (offset or 8)
        assert aff.get_n_socket() == 2
        monkeypatch.setattr(aff, "_available_cpus", lambda: [0, 1])  # a restricted cpuset
        assert aff.get_hyperthread_offset() == 0
        assert aff.get_n_cpu_core() == 2
        assert aff.get_n_socket() == 1

    def test_this_machine(self):
        hto = aff.get_hyperthread_offset()
        assert hto == 0 or hto >= aff.get_n_cpu_core() // 2
        assert aff.get_n_socket() >= 1
        assert 1 <= aff.get_n_cpu_core() <= (os.cpu_count() or 1)
        code = encode_affinity(n_cpu_core=1, cpu_per_run=1)  # detection filled in
        assert get_n_run_slots(code) == 1

    def test_quick_affinity_code_cpu(self, monkeypatch):
        monkeypatch.setattr(aff, "get_n_cpu_core", lambda: 6)
        monkeypatch.setattr(aff, "get_hyperthread_offset", lambda: 0)
        monkeypatch.setattr(aff, "get_n_socket", lambda: 1)
        code = quick_affinity_code(n_parallel=4, use_gpu=False)
        assert code == "4cpu_0gpu_1cpr_0hto" and get_n_run_slots(code) == 4
        assert get_n_run_slots(quick_affinity_code(n_parallel=2, use_gpu=False)) == 2
        with pytest.raises(ValueError):
            quick_affinity_code(use_gpu=False)
        with pytest.raises(ValueError):
            quick_affinity_code(n_parallel=7, use_gpu=False)

    def test_quick_affinity_code_gpu(self, monkeypatch):
        monkeypatch.setattr(aff, "get_n_cpu_core", lambda: 10)
        monkeypatch.setattr(aff, "get_hyperthread_offset", lambda: 10)
        monkeypatch.setattr(aff, "get_n_socket", lambda: 2)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
        code = quick_affinity_code()
        assert code == "8cpu_4gpu_10hto_2skt" and get_n_run_slots(code) == 4
        code = quick_affinity_code(n_parallel=2, contexts_per_gpu=2)
        assert get_n_run_slots(code) == 4 and decode_affinity(code)["gpu"] == 2
        monkeypatch.setattr(aff, "get_n_socket", lambda: 3)  # 4 GPUs on 3 sockets: ignored
        assert "skt" not in quick_affinity_code()


@pytest.fixture
def restore_process_settings():
    """The runner pins this process and sets torch threads: put both back afterwards."""
    proc = psutil.Process()
    cpus = proc.cpu_affinity() if hasattr(proc, "cpu_affinity") else None
    threads = torch.get_num_threads()
    yield
    if cpus is not None:
        proc.cpu_affinity(cpus)
    torch.set_num_threads(threads)


class TestConsumers:
    """The dicts fit what MinibatchRl and the parallel samplers read."""

    @pytest.mark.parametrize("alternating", [False, True])
    def test_runner_and_sampler_use_the_affinity(self, restore_process_settings, alternating):
        from rlpyt.agents.pg.categorical import CategoricalPgAgent
        from rlpyt.algos.pg.a2c import A2C
        from rlpyt.envs.gym import gym_make
        from rlpyt.runners.minibatch_rl import MinibatchRl
        from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
        from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler

        affinity = make_affinity(
            n_cpu_core=2, cpu_per_run=2, hyperthread_offset=0, n_socket=1, alternating=alternating
        )
        SamplerCls = AlternatingSampler if alternating else CpuSampler
        sampler = SamplerCls(
            EnvCls=gym_make, env_kwargs=dict(id="CartPole-v1"), batch_T=4, batch_B=4,
            max_decorrelation_steps=0,
        )  # fmt: skip
        runner = MinibatchRl(
            algo=A2C(), agent=CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[8])),
            sampler=sampler, n_steps=32, affinity=affinity, log_interval_steps=16,
            progress_bar=False,
        )  # fmt: skip
        try:
            runner.startup()
            assert len(sampler.workers) == len(affinity["workers_cpus"])
            assert torch.get_num_threads() == affinity["master_torch_threads"]
            pinnable = (
                {0, 1} <= set(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else False
            )
            if pinnable:
                assert psutil.Process().cpu_affinity() == [0, 1]
                got = [psutil.Process(w.process.pid).cpu_affinity() for w in sampler.workers]
                assert got == [list(c) for c in affinity["workers_cpus"]]
            sampler.obtain_samples(0)
        finally:
            runner.shutdown()
