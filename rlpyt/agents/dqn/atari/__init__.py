"""DQN-family agents for Atari: conv models sized from the image and action spaces."""
