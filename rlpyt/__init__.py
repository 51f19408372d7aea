"""rlpyt: composable PyTorch components for deep reinforcement learning."""

__version__ = "0.2.0.dev0"
