"""DQN-family configs for Atari (DQN, Double/Dueling/prioritized DQN, C51, Rainbow)."""
