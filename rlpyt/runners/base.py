"""The `BaseRunner` interface: a runner owns the training loop of one experiment."""

from __future__ import annotations


class BaseRunner:
    """Ties a sampler, an agent and an algorithm into a training run.

    User scripts build the three components, hand them to a runner and call :meth:`train`,
    usually inside ``logger_context`` so that diagnostics and snapshots land in a run
    directory. Runners decide the process layout (serial, synchronous multi-process,
    asynchronous) and own logging, snapshots and resuming.
    """

    def train(self) -> None:
        """Run the experiment to completion."""
        raise NotImplementedError
