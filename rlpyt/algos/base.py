"""The algorithm interface: a loss plus an update loop, driven by a runner."""

from __future__ import annotations

from typing import Any

__all__ = ["RlAlgorithm"]


class RlAlgorithm:
    """Base class of every algorithm; owns the optimizer(s) and turns samples into updates.

    Runners call :meth:`initialize` once (after the sampler has built the agent and reported
    ``examples``), then :meth:`optimize_agent` every iteration with the latest samples, and
    :meth:`optim_state_dict` when saving a snapshot. Samplers read :attr:`bootstrap_value` to
    decide whether to store the value of the observation after the last step of each batch.

    Attributes:
        opt_info_fields: names of the diagnostics in the ``OptInfo`` returned by
            :meth:`optimize_agent` (each a list of values, one per update).
        bootstrap_value: the sampler must store ``samples.agent.bootstrap_value``.
        update_counter: number of gradient updates made so far.
    """

    opt_info_fields: tuple[str, ...] = ()
    bootstrap_value: bool = False
    update_counter: int = 0

    def initialize(
        self,
        agent: Any,
        n_itr: int,
        batch_spec: Any,
        mid_batch_reset: bool = False,
        examples: Any = None,
        world_size: int = 1,
        rank: int = 0,
    ) -> None:
        """Build optimizers (and replay buffers) once the agent exists.

        Args:
            agent: the initialized agent (its parameters go into the optimizer).
            n_itr: total number of training iterations the runner will make.
            batch_spec: ``BatchSpec(T, B)`` of the sampler.
            mid_batch_reset: True if the collector resets envs mid-batch (Reset collectors);
                False if finished envs wait for the batch end (WaitReset).
            examples: dict of single-step examples from ``sampler.initialize``.
            world_size: number of synchronous replicas (``SyncRl``).
            rank: this replica's rank.
        """
        raise NotImplementedError

    def async_initialize(
        self,
        agent: Any,
        sampler_n_itr: int,
        batch_spec: Any,
        mid_batch_reset: bool,
        examples: Any,
        world_size: int = 1,
    ) -> Any:
        """Initialize for the async runner (replay buffer in shared memory); off-policy only."""
        raise NotImplementedError

    def optim_initialize(self, rank: int = 0) -> None:
        """Build the optimizer in the optimizer process (async runner)."""
        raise NotImplementedError

    def optimize_agent(self, itr: int, samples: Any = None, sampler_itr: int | None = None) -> Any:
        """Make this iteration's updates from ``samples``.

        Args:
            itr: training iteration.
            samples: ``Samples`` namedarraytuple, leaves ``[T, B, ...]`` torch tensors.
            sampler_itr: the sampler's iteration (async runner only).

        Returns:
            ``OptInfo``: a namedtuple with fields :attr:`opt_info_fields`, each a list.
        """
        raise NotImplementedError

    def optim_state_dict(self) -> Any:
        """Optimizer state for snapshots (loadable by :meth:`load_optim_state_dict`)."""
        return self.optimizer.state_dict()

    def load_optim_state_dict(self, state_dict: Any) -> None:
        """Restore the state returned by :meth:`optim_state_dict`."""
        self.optimizer.load_state_dict(state_dict)

    @property
    def batch_size(self) -> int:
        """Samples per gradient update (for logging)."""
        return self._batch_size
