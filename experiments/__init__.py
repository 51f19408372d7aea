"""Experiment configs and train/launch scripts built on rlpyt (not part of the rlpyt package)."""
