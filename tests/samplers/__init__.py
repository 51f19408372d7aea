"""Tests for samplers, collectors and sample buffers."""
