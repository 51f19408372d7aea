"""Policy-gradient configs for classic control (PPO)."""
