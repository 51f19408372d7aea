"""`AtariMixin` for DQN-family agents (the same mixin as the policy-gradient Atari agents')."""

from rlpyt.agents.pg.atari import AtariMixin

__all__ = ["AtariMixin"]
