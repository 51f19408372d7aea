"""Replay buffers that sample sequences with stored RNN states (R2D1)."""
