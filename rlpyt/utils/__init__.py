"""Shared utilities: the data kernel (collections, buffers, tensors), seeding, logging."""
