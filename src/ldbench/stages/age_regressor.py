"""Stage ``train_age_regressor``: the age regressor on the real training split, and its accuracy on the test split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..age_regressor import predict_age, save_age_regressor, train_age_regressor
from ..images import load_classifier_inputs
from ..seeds import derive_seed
from ..settings import AgeRegressorSettings
from ..utils import write_json
from .common import read_slices, split_rows

log = logging.getLogger("ldbench")


def train_age_regressor_stage(settings: AgeRegressorSettings, slices_csv: Path, out_model: Path, out_json: Path) -> dict:
    """Train, save, and score on the real test split: mean absolute error, correlation, and the error of
    always predicting the training mean (what a regressor that learned nothing scores)."""
    slices = read_slices(slices_csv)
    train, test = split_rows(slices, "train"), split_rows(slices, "test")
    train_age = pd.to_numeric(train["age"], errors="coerce").to_numpy(dtype=np.float64)
    model = train_age_regressor(load_classifier_inputs(train["image"]), train_age, settings, derive_seed(settings.seed, "train_age_regressor"))
    save_age_regressor(model, out_model, settings)
    test_age = pd.to_numeric(test["age"], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.isfinite(test_age)
    predicted = predict_age(model, load_classifier_inputs(test["image"][keep]))
    truth = test_age[keep]
    validation = {
        "n_train": int(np.isfinite(train_age).sum()), "n_test": int(keep.sum()),
        "test_mae_years": float(np.abs(predicted - truth).mean()),
        "test_mae_years_training_mean": float(np.abs(np.nanmean(train_age) - truth).mean()),
        "test_pearson_r": float(np.corrcoef(predicted, truth)[0, 1]) if keep.sum() > 2 and truth.std() > 0 else float("nan"),
        "test_age_range": [float(truth.min()), float(truth.max())],
        "model": f"{settings.arch} (width {settings.width}), MSE on the standardised age, {settings.epochs} epochs, real training split",
    }
    log.info("age regressor: test MAE %.2f years (predicting the training mean: %.2f), r = %.2f, n = %d", validation["test_mae_years"],
             validation["test_mae_years_training_mean"], validation["test_pearson_r"], validation["n_test"])
    write_json(out_json, validation)
    return validation
