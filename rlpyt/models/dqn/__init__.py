"""DQN-family models: Q-networks (conv and MLP, feed-forward and recurrent), dueling and
distributional heads, noisy-net layers."""
