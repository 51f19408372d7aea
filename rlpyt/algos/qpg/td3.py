"""TD3 (Fujimoto et al. 2018): DDPG with twin critics, delayed policy and target updates, and
target policy smoothing."""

from __future__ import annotations

from typing import Any

from rlpyt.algos.qpg.ddpg import DDPG

__all__ = ["TD3"]


class TD3(DDPG):
    """Twin delayed DDPG. The update is ``DDPG``'s, with ``Td3Agent``'s twin critics:

    * the critic target uses the smaller of the two target critics, evaluated at the target
      policy's action plus clipped Gaussian noise (the agent's ``target_q_at_mu``: target
      policy smoothing, ``target_noise_std``/``target_noise_clip`` on the agent);
    * the loss is the sum of both critics' losses, under one optimizer (``q_parameters()``
      covers both; with the default critic class they are one fused module);
    * the policy (through the first critic only) and the targets are updated every second
      update (``policy_update_interval``, ``target_update_interval``).

    Arguments are ``DDPG``'s, with TD3's defaults. The policy's learning rate is
    ``mu_learning_rate`` (rlpyt's TD3 took this argument but its optimizer read DDPG's
    ``learning_rate``, so the policy trained at 1e-4; here the argument is used).
    ``learning_rate``, DDPG's name for the same rate, is accepted as an alias.

    Args:
        batch_size: transitions per update.
        replay_ratio: average number of updates each transition takes part in.
        target_update_tau: Polyak rate of the target networks.
        target_update_interval: updates between target updates.
        policy_update_interval: updates between policy updates.
        mu_learning_rate: the policy's learning rate.
        q_learning_rate: the critics' learning rate.
        learning_rate: alias of ``mu_learning_rate`` (give one of the two).
        **kwargs: the other ``DDPG`` arguments.
    """

    def __init__(
        self,
        batch_size: int = 100,
        replay_ratio: float = 100,
        target_update_tau: float = 0.005,
        target_update_interval: int = 2,
        policy_update_interval: int = 2,
        mu_learning_rate: float = 1e-3,
        q_learning_rate: float = 1e-3,
        learning_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        if learning_rate is not None:
            if mu_learning_rate not in (1e-3, learning_rate):
                raise ValueError(
                    f"TD3: learning_rate ({learning_rate}) and mu_learning_rate "
                    f"({mu_learning_rate}) both set the policy's learning rate; give one"
                )
            mu_learning_rate = learning_rate
        super().__init__(
            batch_size=batch_size,
            replay_ratio=replay_ratio,
            target_update_tau=target_update_tau,
            target_update_interval=target_update_interval,
            policy_update_interval=policy_update_interval,
            learning_rate=mu_learning_rate,
            q_learning_rate=q_learning_rate,
            **kwargs,
        )
        self.mu_learning_rate = mu_learning_rate
