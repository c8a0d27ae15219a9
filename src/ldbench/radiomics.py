"""Fréchet Radiomics Distance (FRD v1; Konz, Osuala et al., Medical Image Analysis 2026) from cached features.

FRD compares two image sets by hand-crafted radiomics (intensity, texture, shape on the original
image, its Laplacian-of-Gaussian and wavelet filterings): no trained network, so no network both
produces a number and grades it, and no weights to download. ``frd-score`` computes features and
distance in one call on two folders; the pipeline needs each set's features once (real test split,
real pool, every synthetic set) and the distance many times (half-samples, paired LD effects), so it
extracts with frd-score's own v1 extractor, image by image, and computes the number frd-score's
``compute_frd`` computes: z-score both sets by the reference (real) set's mean and SD, drop the columns
that come out NaN or infinite, Fréchet distance of the Gaussians, natural log (``log d²``, frd-score's
default convention). One departure: frd-score drops *images* with a NaN feature; here such feature
*columns* are dropped, so index-paired sets (LD and no LD) stay paired.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .metrics import Distance, frechet_distance
from .utils import LdbenchError, progress

FRD_VERSION = "v1"


def describe() -> str:
    """What every FRD value in a metric file was computed with."""
    return (f"FRD {FRD_VERSION}: frd-score {version('frd-score')} radiomics (pyradiomics-bhklab {version('pyradiomics-bhklab')}; original, "
            "LoG σ 2–5 and wavelet images, whole-image mask), z-scored by the real set, log of the Fréchet distance "
            "(by symmetric eigendecomposition in the images' span: frd-score's compute_frd value without its slow singular sqrtm)")


@functools.cache
def warm_extractor():
    """frd-score's v1 extractor, built once per process (importing frd-score and pyradiomics takes seconds; the
    warm worker calls this before it forks, ``ldbench.worker``)."""
    from frd_score import frd

    extractor = frd.get_feature_extractor(frd_version=FRD_VERSION, image_dim=2)
    logging.getLogger("radiomics").setLevel(logging.ERROR)  # after frd-score sets pyradiomics' verbosity: not every filter it applies
    return extractor


def radiomics_features(paths: Sequence[str | Path]) -> np.ndarray:
    """(n, features) raw radiomics of grayscale image files, by frd-score's v1 extractor (NaN where pyradiomics gives none)."""
    from frd_score import frd

    extractor = warm_extractor()
    rows, names = [], None
    for path in progress(list(paths), desc="radiomics", unit="image"):
        if not Path(path).is_file():
            raise LdbenchError(f"radiomics: no image file {path}")
        result = frd.process_image_mask_pair((str(path), None), feature_extractor=extractor, frd_version=FRD_VERSION)
        if result is None:
            raise LdbenchError(f"radiomics: pyradiomics extracted nothing from {path}")
        values, named, _ = result
        if names is None:
            names = list(named)
        elif list(named) != names:
            raise LdbenchError(f"radiomics: {path} gave other features than the images before it")
        rows.append(np.asarray(values, dtype=np.float64))
    if not rows:
        raise LdbenchError("radiomics: no images given")
    return np.stack(rows)


def finite_columns(*sets: np.ndarray) -> tuple[np.ndarray, ...]:
    """The sets without the feature columns that are NaN or infinite in any image of any of them."""
    keep = np.logical_and.reduce([np.isfinite(np.asarray(s, dtype=np.float64)).all(0) for s in sets])
    if not keep.any():
        raise LdbenchError("FRD: every radiomics feature is NaN or infinite in some image")
    return tuple(np.asarray(s, dtype=np.float64)[:, keep] for s in sets)


def _standardised(real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets z-scored by the real set's mean and SD (ddof 0, as frd-score); columns not finite in either dropped."""
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1] or min(len(real), len(fake)) < 2:
        raise LdbenchError(f"FRD needs two sets of at least 2 radiomics vectors of one length, got {real.shape} and {fake.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, sd = real.mean(0), real.std(0)
        z_real, z_fake = (real - mean) / sd, (fake - mean) / sd
    keep = np.isfinite(z_real).all(0) & np.isfinite(z_fake).all(0)
    if not keep.any():
        raise LdbenchError("FRD: no radiomics feature varies across the real set")
    return z_real[:, keep], z_fake[:, keep]


def _log(d2: float) -> float:
    return float(np.log(d2)) if d2 > 0 else float("-inf")


def _squared_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """d² of the standardised sets by symmetric eigendecomposition in the images' span (``metrics.frechet_distance``).

    frd-score's ``calculate_frechet_distance`` takes scipy's ``sqrtm`` of a 400 × 400 product that is
    singular whenever a set holds fewer images than features: seconds per call and only approximate.
    The value is the same (tests/test_radiomics.py checks it against ``frd_score.compute_frd``)."""
    return frechet_distance(*_standardised(real, fake))


def frd_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """FRD v1 of a generated set against the real (reference) set: frd-score's ``compute_frd`` value."""
    return _log(_squared_distance(real, fake))


#: FRD with intervals (``ldbench.metrics``): computed on d², reported as log d²
FRD = Distance(reported=_squared_distance, resampled=_squared_distance, log=True)
