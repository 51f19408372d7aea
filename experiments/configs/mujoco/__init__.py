"""MuJoCo configs (Gymnasium v5 tasks)."""
