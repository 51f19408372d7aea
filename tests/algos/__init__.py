"""Tests of rlpyt.algos."""
