"""Environments: the Env interface, the Gymnasium wrapper and Atari."""
