"""Parallel samplers: environments stepped in worker processes."""
