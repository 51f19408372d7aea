"""Runners: the training loop tying sampler, agent and algorithm together."""
