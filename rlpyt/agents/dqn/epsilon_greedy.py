"""`EpsilonGreedyAgentMixin`: the exploration schedule of DQN-family agents (linear anneal by
sampler iteration, evaluation epsilon, per-env epsilons as in Ape-X)."""

from __future__ import annotations

import math
from typing import Any

import torch


class EpsilonGreedyAgentMixin:
    """Sets the epsilon of an agent's ``EpsilonGreedy`` distribution by sampler iteration.

    Put it before the agent class (``class MyAgent(EpsilonGreedyAgentMixin, BaseAgent)``);
    the agent makes ``self.distribution`` (an ``EpsilonGreedy``) in ``initialize``.

    Schedule. :meth:`sample_mode` (called by the sampler before each batch) sets
    ``eps = eps_init`` up to iteration ``eps_itr_min``, ``eps_final`` from ``eps_itr_max``
    on, and the linear interpolation between. DQN algorithms convert their schedule in env
    steps to iterations and call :meth:`set_epsilon_itr_min_max`. :meth:`eval_mode` sets
    ``eps_eval``.

    Per-env epsilon (Ape-X, Horgan et al. 2018). With ``eps_final_min`` set, the
    ``global_B`` sampler envs get final epsilons log-spaced from ``eps_final_min`` (env 0)
    to ``eps_final`` (env ``global_B - 1``); each copy of the agent takes the entries of the
    envs it steps (``env_ranks``, given by the sampler through ``initialize`` /
    ``collector_initialize``) and anneals each from ``eps_init`` to its own final value. The
    sampling epsilon is then a tensor ``[len(env_ranks)]``. Alternating samplers step the
    agent on the first and second half of its envs in turn; the mixin follows, giving each
    half its entries (:meth:`_epsilon_for_batch`).

    Args:
        eps_init: epsilon at the start of the schedule.
        eps_final: epsilon at the end (the largest final epsilon, with ``eps_final_min``).
        eps_final_min: smallest per-env final epsilon; ``None`` for one epsilon for all envs.
        eps_itr_min: last iteration at ``eps_init``.
        eps_itr_max: first iteration at ``eps_final``.
        eps_eval: epsilon during evaluation.
    """

    def __init__(
        self,
        *args: Any,
        eps_init: float = 1.0,
        eps_final: float = 0.01,
        eps_final_min: float | None = None,
        eps_itr_min: int = 50,
        eps_itr_max: int = 1000,
        eps_eval: float = 0.001,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.eps_init = eps_init
        self.eps_final = eps_final
        self.eps_final_min = eps_final_min
        self.eps_itr_min = eps_itr_min
        self.eps_itr_max = eps_itr_max
        self.eps_eval = eps_eval
        # Per-env start and end of the schedule: floats, or tensors [len(env_ranks)].
        self._eps_start: float | torch.Tensor = eps_init
        self._eps_end: float | torch.Tensor = eps_final
        self.eps_sample: float | torch.Tensor = eps_init
        self._eps_next_half = 0  # which half of the envs an alternating sampler steps next

    # --- configuration (samplers and algorithms call these) --------------------------------

    def collector_initialize(self, global_B: int = 1, env_ranks: list[int] | None = None) -> None:
        """Record the envs this copy steps and make their per-env epsilons."""
        super().collector_initialize(global_B=global_B, env_ranks=env_ranks)
        self.make_vec_eps(global_B, env_ranks)

    def make_vec_eps(self, global_B: int, env_ranks: list[int] | None) -> None:
        """Per-env final epsilons for envs ``env_ranks`` out of ``global_B`` (no-op unless
        ``eps_final_min`` is set). ``env_ranks=None`` means all ``global_B`` envs; a single
        env gets ``eps_final``."""
        if self.eps_final_min is None:
            self._eps_start, self._eps_end = self.eps_init, self.eps_final
        else:
            ranks = list(range(global_B)) if env_ranks is None else list(env_ranks)
            if global_B > 1:
                exponents = torch.linspace(
                    math.log10(self.eps_final_min), math.log10(self.eps_final), global_B
                )
                finals = torch.pow(10.0, exponents)
            else:
                finals = torch.tensor([float(self.eps_final)])
            self._eps_end = finals[torch.as_tensor(ranks, dtype=torch.long)]
            self._eps_start = torch.full((len(ranks),), float(self.eps_init))
        self.eps_sample = self._eps_start

    def set_epsilon_itr_min_max(self, eps_itr_min: int, eps_itr_max: int) -> None:
        """Set the iterations where the anneal starts and ends (DQN algorithms call it)."""
        self.eps_itr_min = eps_itr_min
        self.eps_itr_max = eps_itr_max

    def set_sample_epsilon_greedy(self, epsilon: float | torch.Tensor) -> None:
        """Use ``epsilon`` (float or per-env tensor) for sampling until the next
        :meth:`sample_mode`, which applies the schedule again."""
        self.eps_sample = epsilon
        self.distribution.set_epsilon(epsilon)

    def give_eval_epsilon_greedy(self, epsilon: float) -> None:
        """Set the evaluation epsilon (used from the next :meth:`eval_mode`)."""
        self.eps_eval = epsilon

    def epsilon_at(self, itr: int) -> float | torch.Tensor:
        """The scheduled sampling epsilon at iteration ``itr`` (float or per-env tensor)."""
        itr_min, itr_max = self.eps_itr_min, self.eps_itr_max
        if itr <= itr_min:
            return self._eps_start
        if itr >= itr_max:
            return self._eps_end
        progress = (itr - itr_min) / (itr_max - itr_min)
        return progress * self._eps_end + (1 - progress) * self._eps_start

    # --- modes -----------------------------------------------------------------------------

    def sample_mode(self, itr: int) -> None:
        """Model to sampling mode and epsilon to the schedule's value at ``itr``."""
        super().sample_mode(itr)
        self.eps_sample = self.epsilon_at(itr)
        self.distribution.set_epsilon(self.eps_sample)
        self._eps_next_half = 0

    def eval_mode(self, itr: int) -> None:
        """Model to evaluation mode and epsilon to ``eps_eval``."""
        super().eval_mode(itr)
        self.distribution.set_epsilon(self.eps_eval)

    # --- acting ----------------------------------------------------------------------------

    def _epsilon_for_batch(self, n: int) -> None:
        """Make the distribution's per-env epsilon fit a batch of ``n`` envs.

        A full batch (or a scalar epsilon) needs nothing. Alternating samplers step the first
        ``ceil(E/2)`` envs and then the other ``floor(E/2)``, in turn, every step: a batch of
        one half's size gets that half's entries. Recurrent alternating agents say which half
        is served (``next_half``); feed-forward agents follow the turn themselves (by size
        when the halves differ, else in turn, restarting with the first half at each
        :meth:`sample_mode`). Before any mode is set (the samplers' one-env example step) a
        batch that fits neither gets the scalar ``eps_init``.

        Raises:
            ValueError: in sample or train mode, for a batch that is neither all envs nor
                one half of them.
        """
        full = self.eps_sample
        if not isinstance(full, torch.Tensor) or self._mode == "eval":
            return
        E = full.numel()
        if n == E or E == 1:
            eps = full
        else:
            first = (E + 1) // 2
            sizes = (first, E - first)
            half = getattr(self, "next_half", None) if self.alternating else None
            if half is None:
                half = self._eps_next_half
                if n != sizes[half] and n == sizes[1 - half]:
                    half = 1 - half
                self._eps_next_half = 1 - half
            if n == sizes[half]:
                eps = full[:first] if half == 0 else full[first:]
            elif self._mode is None:
                eps = float(self.eps_init)
            else:
                raise ValueError(
                    f"{type(self).__name__}: per-env epsilon for {E} envs, but a batch of {n} "
                    f"(neither all envs nor the half served next, of sizes {sizes})"
                )
        if self.distribution.epsilon is not eps:
            self.distribution.set_epsilon(eps)
