"""Q-function policy-gradient algorithms for continuous actions: DDPG, TD3, SAC."""
