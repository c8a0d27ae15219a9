"""Does a model reproduce its training images? Nearest-neighbour distances to the training split.

The paper's TL;DR says the approach preserves data privacy; this measures the part of that claim
a benchmark can: how close each generated image comes to its nearest training image, against how
close *real* held-out images come. The reference is the real test images' own nearest-training
distances: by construction 5 % of them fall below their 5th percentile, so a model that copies no
more than unseen real images do has about 5 % of its samples below it, and a memorising model
has more. Distances are computed in two spaces: pixels (L2 over [0, 1] intensities, resolution
independent via a per-pixel RMS) and the evaluation features (L2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The test images' quantile that defines "too close" (``REFERENCE_QUANTILE`` of them are, by construction).
REFERENCE_QUANTILE = 0.05


def nearest_neighbours(queries: np.ndarray, references: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each query row to its nearest reference row, and that row's index."""
    queries, references = queries.reshape(len(queries), -1).astype(np.float64), references.reshape(len(references), -1).astype(np.float64)
    ref_sq = (references**2).sum(1)
    dist, idx = np.empty(len(queries)), np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        d2 = (q**2).sum(1)[:, None] + ref_sq[None, :] - 2.0 * q @ references.T
        idx[start : start + chunk] = d2.argmin(1)
    # the expanded form above cancels badly near 0; the distance to the chosen row is taken directly,
    # so an exact copy is at exactly 0
    dist[:] = np.linalg.norm(queries - references[idx], axis=1)
    return dist, idx


def pixel_space(images: np.ndarray) -> np.ndarray:
    """uint8 images → rows whose L2 distance is the per-pixel RMS difference in [0, 1] units."""
    flat = images.reshape(len(images), -1).astype(np.float64) / 255.0
    return flat / np.sqrt(flat.shape[1])


@dataclass(frozen=True)
class Memorisation:
    """One space's summary: how many generated images sit closer to a training image than real test images do."""

    threshold: float  # the test images' REFERENCE_QUANTILE nearest-training distance
    fraction_below: float  # generated images nearer than it (about REFERENCE_QUANTILE when nothing is copied)
    median_generated: float
    median_test: float
    exact_copies: int  # generated images identical to a training image (distance exactly 0)

    def to_dict(self) -> dict[str, float | int]:
        return {"threshold": self.threshold, "fraction_below": self.fraction_below, "median_nn_generated": self.median_generated,
                "median_nn_test": self.median_test, "exact_copies": self.exact_copies, "reference_quantile": REFERENCE_QUANTILE}


def memorisation(generated_nn: np.ndarray, test_nn: np.ndarray) -> Memorisation:
    threshold = float(np.quantile(test_nn, REFERENCE_QUANTILE))
    return Memorisation(threshold=threshold, fraction_below=float(np.mean(generated_nn < threshold)),
                        median_generated=float(np.median(generated_nn)), median_test=float(np.median(test_nn)),
                        exact_copies=int(np.sum(generated_nn == 0.0)))


def wilson_interval(fraction: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion (sensible near 0, unlike fraction ± z·se)."""
    centre = (fraction + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(fraction * (1 - fraction) / n + z**2 / (4 * n**2))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
