"""Policy-gradient models: ``(policy, value)`` networks, feed-forward and recurrent."""
