"""rllab-style tabular logger, snapshots and the logger context."""
