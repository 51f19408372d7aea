"""R2D1 configs for Atari (recurrent replay DQN, Kapturowski et al. 2019)."""
