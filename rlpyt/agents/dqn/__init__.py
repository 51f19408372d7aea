"""DQN-family agents: epsilon-greedy acting on Q-values or return distributions, with target
networks (DQN, categorical DQN, R2D1)."""
