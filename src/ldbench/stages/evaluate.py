"""Stage ``evaluate``: FID and KID of a synthetic set against the real test split.

Features: the penultimate layer of the classifier trained on real data ("domain features"), the
distances: clean-fid's ``frechet_distance`` and ``kernel_distance``. Every JSON says so.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import extract_features, load_classifier
from ..images import load_classifier_inputs
from ..metrics import fid_from_features, kid_from_features
from ..utils import write_json
from .common import read_slices, split_rows

log = logging.getLogger("ldbench")


def _features(classifier, paths) -> np.ndarray:
    return extract_features(classifier, load_classifier_inputs(paths))


def evaluate(cfg: dict, dataset: str, samples_csv: Path, slices_csv: Path, classifier_path: Path, out_json: Path) -> dict:
    mcfg = cfg["metrics"]
    classifier, _ = load_classifier(classifier_path)
    real = split_rows(read_slices(slices_csv), "test")
    fake = pd.read_csv(samples_csv)
    real_f, fake_f = _features(classifier, real["image"]), _features(classifier, fake["image"])
    subset = min(mcfg["kid_subset_size"], len(real_f), len(fake_f))
    result = {
        "fid": fid_from_features(real_f, fake_f),
        "kid": kid_from_features(real_f, fake_f, subset_size=subset, num_subsets=mcfg["kid_subsets"], seed=cfg["seed"]),
        "feature_extractor": f"domain: penultimate layer ({real_f.shape[1]}-d) of the real-data {cfg['classifier']['arch']} classifier",
        "library": f"clean-fid {version('clean-fid')} (frechet_distance, kernel_distance)",
        "kid_subset_size": subset, "kid_subsets": mcfg["kid_subsets"],
        "n_real": len(real_f), "n_generated": len(fake_f), "seed": cfg["seed"], "delta": float(fake["delta"].iloc[0]),
        "resize": "none (images at model resolution)", "dtype": "float64",
    }
    log.info("FID %.3f  KID %.4f  (n_real=%d, n_generated=%d)", result["fid"], result["kid"], len(real_f), len(fake_f))
    write_json(out_json, result)
    return result
