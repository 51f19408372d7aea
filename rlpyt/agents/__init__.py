"""Agents: a model plus a distribution, acting in samplers and training in algorithms."""
