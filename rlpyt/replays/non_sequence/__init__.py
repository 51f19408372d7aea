"""Replay buffers that sample single steps (DQN, CatDQN, SAC, TD3, DDPG)."""
