"""Helpers of the SyncRl tests: runner builders, a recording runner, a training script."""
