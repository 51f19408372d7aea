"""Policy-gradient configs for Atari (A2C, PPO; feed-forward and LSTM agents)."""
