"""Stage ``train_classifier``: train on real / synthetic / real+synthetic data, AUC on the real test split.

``real+synthetic`` uses every real training image plus as many synthetic ones (drawn with the
seed), i.e. a 50 % / 50 % mix as in the paper's "real + synthetic" row.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..auc import SUBJECT_BOOTSTRAP, macro_auc, save_predictions, subject_bootstrap_auc
from ..classifier import predict, save_classifier, train_classifier
from ..images import load_classifier_inputs
from ..seeds import derive_seed
from ..settings import ClassifySettings
from ..utils import LdbenchError, write_json
from .common import draw_rows, read_slices, split_rows, target_matrix, task_rows

log = logging.getLogger("ldbench")


def training_rows(settings: ClassifySettings, source: str, slices: pd.DataFrame, sample_csvs: list[Path]) -> pd.DataFrame:
    real = task_rows(split_rows(slices, "train"), settings.task)
    synthetic = [task_rows(pd.read_csv(p), settings.task) for p in sample_csvs]
    if source == "real":
        return real
    if not synthetic:
        raise LdbenchError(f"classifier source {source!r} needs a synthetic sample set")
    if source.startswith("real+"):
        return pd.concat([real, draw_rows(synthetic[0], len(real), derive_seed(settings.seed, "train_classifier", "synthetic_rows"))], ignore_index=True)
    return synthetic[0]


def train_and_score(settings: ClassifySettings, dataset: str, source: str, slices_csv: Path, sample_csvs: list[Path],
                    out_model: Path, out_json: Path, out_predictions: Path) -> dict:
    """Train one classifier per seed; AUC on the real test split with a subject-level interval.

    The test predictions of every seed are saved (``out_predictions``) so that two training sources
    can be compared as a paired difference on the same test subjects (``ldbench.auc``).
    """
    targets = list(settings.task.targets)
    slices = read_slices(slices_csv)
    train_rows = training_rows(settings, source, slices, sample_csvs)
    test_rows = task_rows(split_rows(slices, "test"), settings.task)
    x_train, y_train = load_classifier_inputs(train_rows["image"]), target_matrix(train_rows, targets)
    x_test, y_test = load_classifier_inputs(test_rows["image"]), target_matrix(test_rows, targets)
    log.info("%s/%s: %d training images, %d real test images of %d subjects, targets %s", dataset, source, len(train_rows), len(test_rows),
             test_rows["subject"].nunique(), targets)

    per_seed, probs_by_seed = [], []
    for k, seed in enumerate(settings.seeds):
        model = train_classifier(x_train, y_train, settings.classifier, seed=derive_seed(settings.seed, "train_classifier", "init", seed), desc=f"classifier seed {seed}")
        probs = predict(model, x_test)
        auc, per_target = macro_auc(probs, y_test)
        per_seed.append({"seed": seed, "auc": auc, "per_target": dict(zip(targets, per_target))})
        probs_by_seed.append(probs)
        log.info("seed %d: macro AUC %.4f", seed, auc)
        if k == 0:
            save_classifier(model, out_model, settings.classifier, targets)
    probs_by_seed = np.stack(probs_by_seed)
    subjects = np.asarray(test_rows["subject"].astype(str), dtype=str)  # fixed-width text: loadable without pickle
    save_predictions(out_predictions, probs_by_seed, y_test, subjects, np.asarray(test_rows["image"].astype(str), dtype=str))
    interval = subject_bootstrap_auc(probs_by_seed, y_test, subjects, settings.bootstrap, derive_seed(settings.seed, "train_classifier", "bootstrap"))
    aucs = np.array([s["auc"] for s in per_seed])
    result = {
        "dataset": dataset, "source": source, "auc_mean": float(np.nanmean(aucs)), "auc_std": float(np.nanstd(aucs)),
        "auc_ci95": [interval.low, interval.high], "interval": SUBJECT_BOOTSTRAP.format(n_boot=settings.bootstrap),
        "per_seed": per_seed, "targets": targets, "metric": "macro one-vs-rest ROC AUC (Mann–Whitney statistic, equal to scikit-learn's roc_auc_score) on the real test split",
        "n_train": len(train_rows), "n_test": len(test_rows), "n_test_subjects": int(test_rows["subject"].nunique()),
        "classifier": dataclasses.asdict(settings.classifier),
    }
    log.info("macro AUC %.4f (seed mean), subject-level 95%% interval [%.4f, %.4f]", result["auc_mean"], interval.low, interval.high)
    write_json(out_json, result)
    return result
