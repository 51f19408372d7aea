"""Q-function policy-gradient configs for classic control (SAC, TD3 on Pendulum)."""
