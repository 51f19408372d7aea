"""Launching experiments: affinity codes, variants and the experiment queue."""
