"""Q-function policy-gradient agents: DDPG, TD3 and SAC (continuous actions, target networks)."""
