"""Algorithms: losses and update loops (policy gradient, DQN family, Q-function policy gradient)."""
