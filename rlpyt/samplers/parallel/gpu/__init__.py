"""GPU sampling: workers step envs; the master selects actions for all envs in one batch."""
