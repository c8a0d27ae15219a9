"""ldbench: a reproducible benchmark of Latent Drifting (LD) for counterfactual medical image synthesis."""

__version__ = "0.1.0"
