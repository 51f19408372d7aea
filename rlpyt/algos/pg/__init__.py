"""Policy-gradient algorithms: A2C and PPO, on-policy, trained from fresh ``[T, B]`` batches."""
