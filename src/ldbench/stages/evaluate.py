"""Stage ``evaluate``: FID and KID of a synthetic set against the real test split.

Features: clean-fid's Inception when ``metrics.inception_weights`` names a local copy of its
torchscript, otherwise the penultimate layer of the classifier trained on real data ("domain
features"); distances: clean-fid's ``frechet_distance`` and ``kernel_distance``. Every JSON says
which extractor, library, resize and sample counts were used.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import extract_features, load_classifier
from ..images import load_classifier_inputs
from ..metrics import fid_bootstrap_ci, fid_from_features, inception_features, kid_from_features, kid_subsets, real_split_half
from ..seeds import derive_seed
from ..settings import EvaluateSettings
from ..utils import LdbenchError, write_json
from .common import read_slices, split_rows

log = logging.getLogger("ldbench")


def _features(classifier, paths) -> np.ndarray:
    return extract_features(classifier, load_classifier_inputs(paths))


def feature_extractor(settings: EvaluateSettings) -> str:
    """"inception" or "domain" from ``metrics.feature_extractor`` / ``metrics.inception_weights``."""
    choice, weights = settings.feature_extractor, settings.inception_weights
    if choice == "inception" and not weights:
        raise LdbenchError("metrics.feature_extractor is 'inception' but metrics.inception_weights is not set")
    return "inception" if choice == "inception" or (choice == "auto" and weights) else "domain"


def evaluate(settings: EvaluateSettings, samples_csv: Path, slices_csv: Path, classifier_path: Path, out_json: Path) -> dict:
    real = split_rows(read_slices(slices_csv), "test")
    fake = pd.read_csv(samples_csv)
    if feature_extractor(settings) == "inception":
        real_f = inception_features(real["image"], settings.inception_weights)
        fake_f = inception_features(fake["image"], settings.inception_weights)
        extractor = f"inception: clean-fid InceptionV3 torchscript ({settings.inception_weights}), 'clean' mode, PIL bicubic resize to 299"
        resize = "PIL bicubic to 299×299 (clean-fid 'clean' mode)"
    else:
        classifier, _ = load_classifier(classifier_path)
        real_f, fake_f = _features(classifier, real["image"]), _features(classifier, fake["image"])
        extractor = f"domain: penultimate layer ({real_f.shape[1]}-d) of the real-data {settings.classifier_arch} classifier"
        resize = "none (images at model resolution)"
    subset = min(settings.kid_subset_size, len(real_f), len(fake_f))
    kids = kid_subsets(real_f, fake_f, subset_size=subset, num_subsets=settings.kid_subsets, seed=derive_seed(settings.seed, "evaluate", "kid"))
    fid_lo, fid_hi = fid_bootstrap_ci(real_f, fake_f, settings.fid_bootstrap, seed=derive_seed(settings.seed, "evaluate", "fid_bootstrap"))
    half_a, half_b = real_split_half(real_f, seed=derive_seed(settings.seed, "evaluate", "real_halves"))
    floor_subset = min(subset, len(half_a))
    result = {
        "fid": fid_from_features(real_f, fake_f), "fid_ci95": [fid_lo, fid_hi], "fid_bootstrap": settings.fid_bootstrap,
        "kid": float(kids.mean()), "kid_std": float(kids.std(ddof=1)) if len(kids) > 1 else 0.0,
        "fid_real_floor": fid_from_features(half_a, half_b),
        "kid_real_floor": kid_from_features(half_a, half_b, subset_size=floor_subset, num_subsets=settings.kid_subsets, seed=derive_seed(settings.seed, "evaluate", "kid")),
        "real_floor": f"two disjoint random halves of the real test split ({len(half_a)} images each)",
        "feature_extractor": extractor,
        "library": f"clean-fid {version('clean-fid')} (frechet_distance, kernel_distance)",
        "kid_subset_size": subset, "kid_subsets": settings.kid_subsets,
        "n_real": len(real_f), "n_generated": len(fake_f), "seed": settings.seed, "delta": float(fake["delta"].iloc[0]),
        "resize": resize, "dtype": "float64",
    }
    log.info("FID %.3f  KID %.4f  (%s; n_real=%d, n_generated=%d)", result["fid"], result["kid"], extractor.split(":")[0], len(real_f), len(fake_f))
    write_json(out_json, result)
    return result
