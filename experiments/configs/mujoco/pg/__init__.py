"""Policy-gradient configs for MuJoCo (PPO)."""
