"""Policy-gradient agents: categorical and Gaussian policies with a value head."""
