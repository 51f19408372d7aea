"""Serial sampling: all envs stepped in the training process."""
