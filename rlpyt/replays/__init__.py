"""Replay buffers for off-policy algorithms."""
