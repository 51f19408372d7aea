"""Atari configs (ale-py through ``AtariEnv``)."""
