"""Embedded phantom generators with ground-truth counterfactuals."""
