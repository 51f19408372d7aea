"""Observation and action spaces (IntBox, FloatBox, Composite) and the Gymnasium adapter."""
