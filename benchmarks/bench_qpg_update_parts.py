"""Cost of the parts of one SAC update: fused twin critics against two separate critic MLPs.

Times, at batch 256 with 256x256 networks (SAC's defaults), the critic forward/backward
(online twin Q, target policy and target twin Q without grad, TD loss), the actor
forward/backward (reparameterised policy sample, twin Q at the new action, backward into the
policy's parameters only: ``loss.backward(inputs=pi_params)``), and a whole update
(both, plus fused Adam steps and the Polyak target update), for two agents with the same
settings: `SacAgent()` (the twin critics fused into one `QofMuEnsembleMlpModel`) and
`SacAgent(QModelCls=<QofMuMlpModel subclass>)` (two separate `QofMuMlpModel` MLPs, evaluated
one after the other). The two are timed interleaved, repeat by repeat (CPU: thread CPU time;
GPU: synchronised wall time); the table gives medians and the ratio separate / fused. This is a
printout, not a test.

    python benchmarks/bench_qpg_update_parts.py [--batch 256] [--obs-dim 17] [--action-dim 6]
        [--hidden 256] [--threads 1] [--repeats 7] [--number 50] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.envs.base import EnvSpaces
from rlpyt.models.qpg.mlp import QofMuMlpModel
from rlpyt.spaces.float_box import FloatBox


class SeparateQofMuMlpModel(QofMuMlpModel):
    """The same critic; a subclass is not fused, so the agent builds two instances."""


def make_agent(q_cls, spaces, device, hidden):
    torch.manual_seed(0)
    sizes = dict(hidden_sizes=[hidden, hidden])
    agent = SacAgent(QModelCls=q_cls, model_kwargs=sizes, q_model_kwargs=sizes)
    agent.initialize(spaces)
    if device.type == "cuda":
        agent.to_device(device.index or 0)
    agent.train_mode(1)
    return agent


def make_update(agent, batch, gamma=0.99, alpha=0.2, tau=0.005):
    """The parts of one SAC update on a fixed batch, as closures."""
    q_params, pi_params = list(agent.q_parameters()), list(agent.pi_parameters())
    q_opt = torch.optim.Adam(q_params, lr=3e-4, fused=True)
    pi_opt = torch.optim.Adam(pi_params, lr=3e-4, fused=True)
    obs, prev_action, prev_reward, action, reward, done, next_obs = batch

    def critic():
        for p in q_params:
            p.grad = None
        q1, q2 = agent.q(obs, prev_action, prev_reward, action)
        with torch.no_grad():
            next_action, next_log_pi, _ = agent.pi(next_obs, action, reward)
            tq1, tq2 = agent.target_q(next_obs, action, reward, next_action)
            y = reward + gamma * (1 - done) * (torch.min(tq1, tq2) - alpha * next_log_pi)
        loss = 0.5 * ((q1 - y).square().mean() + (q2 - y).square().mean())
        loss.backward()

    def actor():
        for p in pi_params:
            p.grad = None
        new_action, log_pi, _ = agent.pi(obs, prev_action, prev_reward)
        q1, q2 = agent.q(obs, prev_action, prev_reward, new_action)
        loss = (alpha * log_pi - torch.min(q1, q2)).mean()
        # Gradients for the policy only: the critics' weight gradients are not computed.
        loss.backward(inputs=pi_params)

    def update():
        critic()
        q_opt.step()
        actor()
        pi_opt.step()
        agent.update_target(tau)

    return {"critic fwd+bwd": critic, "actor fwd+bwd": actor, "whole update": update}


def time_us(fn, number, device):
    """Microseconds per call: wall time with a synchronised GPU, else this thread's CPU time
    (less disturbed by other processes on a shared machine than wall time)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        clock = time.perf_counter
    else:
        clock = time.thread_time
    start = clock()
    for _ in range(number):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (clock() - start) / number * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--obs-dim", type=int, default=17)
    parser.add_argument("--action-dim", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=256, help="hidden layer size (two layers)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=50)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    spaces = EnvSpaces(
        observation=FloatBox(-10, 10, (args.obs_dim,)),
        action=FloatBox(-1, 1, (args.action_dim,)),
    )
    gen = torch.Generator().manual_seed(0)
    n, o, a = args.batch, args.obs_dim, args.action_dim
    batch = [
        torch.randn(n, o, generator=gen),
        torch.rand(n, a, generator=gen) * 2 - 1,
        torch.randn(n, generator=gen),
        torch.rand(n, a, generator=gen) * 2 - 1,
        torch.randn(n, generator=gen),
        (torch.rand(n, generator=gen) < 0.01).float(),
        torch.randn(n, o, generator=gen),
    ]
    batch = [x.to(device) for x in batch]
    variants = {
        "fused": make_update(make_agent(QofMuMlpModel, spaces, device, args.hidden), batch),
        "separate": make_update(
            make_agent(SeparateQofMuMlpModel, spaces, device, args.hidden), batch
        ),
    }
    times = {(v, part): [] for v in variants for part in variants[v]}
    for parts in variants.values():  # warm up
        for fn in parts.values():
            time_us(fn, 5, device)
    for _ in range(args.repeats):
        for part in variants["fused"]:
            for name, parts in variants.items():
                times[(name, part)].append(time_us(parts[part], args.number, device))

    print(
        f"SAC update parts, batch {n}, obs {o}, action {a}, {args.hidden}x{args.hidden} MLPs, "
        f"device {device}, "
        f"{torch.get_num_threads()} thread(s), torch {torch.__version__}; median of "
        f"{args.repeats} x {args.number} calls"
    )
    print("| part | fused twin (us) | two separate MLPs (us) | separate / fused |")
    print("|------|---------------:|----------------------:|-----------------:|")
    for part in variants["fused"]:
        fused = statistics.median(times[("fused", part)])
        separate = statistics.median(times[("separate", part)])
        print(f"| {part} | {fused:.0f} | {separate:.0f} | {separate / fused:.2f}x |")


if __name__ == "__main__":
    main()
