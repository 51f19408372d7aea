"""CPU-parallel sampling: each worker steps its envs with its own CPU copy of the agent."""
