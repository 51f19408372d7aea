"""Action distributions: sampling, log-likelihoods, entropies, KL."""
