"""Neural network models (torch.nn.Module) used by agents."""
