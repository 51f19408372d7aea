"""Q-function policy-gradient models (DDPG, TD3, SAC): deterministic and Gaussian policies,
action-value and state-value MLPs, and fused critic ensembles."""
