"""Distribution metrics on feature sets, with clean-fid's own Fréchet and kernel distances.

Which features go in is the caller's choice and is recorded beside every number
(``feature_extractor``): the domain extractor is the real-data classifier's penultimate layer.
"""

from __future__ import annotations

import numpy as np
from cleanfid import fid as cleanfid_fid

from .utils import LdbenchError


def _check(name: str, feats: np.ndarray) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or len(feats) < 2:
        raise LdbenchError(f"{name}: need a 2-D array of at least 2 feature vectors, got shape {feats.shape}")
    if not np.isfinite(feats).all():
        raise LdbenchError(f"{name}: features contain NaN or inf")
    return feats


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (clean-fid's ``frechet_distance``)."""
    real, fake = _check("real features", real), _check("generated features", fake)
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    return float(cleanfid_fid.frechet_distance(mu1, s1, mu2, s2))


def kid_from_features(real: np.ndarray, fake: np.ndarray, subset_size: int, num_subsets: int, seed: int) -> float:
    """Kernel Inception Distance (cubic polynomial kernel MMD², clean-fid's ``kernel_distance``).

    clean-fid draws subsets from NumPy's global generator, so it is seeded here for reproducibility.
    """
    real, fake = _check("real features", real), _check("generated features", fake)
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        return float(cleanfid_fid.kernel_distance(real, fake, num_subsets=num_subsets, max_subset_size=subset_size))
    finally:
        np.random.set_state(state)


def l1_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute pixel difference of paired uint8 images, in [0, 1] units."""
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))) / 255.0)
