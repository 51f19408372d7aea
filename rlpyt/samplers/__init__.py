"""Samplers and collectors: gather [T, B] batches of experience."""
