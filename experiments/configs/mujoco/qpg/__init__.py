"""Q-function policy-gradient configs for MuJoCo (DDPG, TD3, SAC)."""
