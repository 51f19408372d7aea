"""DQN configs for classic control."""
