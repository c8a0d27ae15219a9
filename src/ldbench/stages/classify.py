"""Stage ``train_classifier``: train on real / synthetic / mixed data, AUC on the real test split.

Every source is trained for a number of optimiser steps counted in epochs of the real training set,
so data size and training length are compared separately (:func:`training_rows`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..auc import macro_auc, save_predictions
from ..classifier import predict, save_classifier, train_classifier
from ..images import load_classifier_inputs
from ..seeds import derive_seed
from ..settings import REAL_DOUBLE_STEPS, ClassifySettings
from ..utils import LdbenchError, write_json
from .common import read_slices, split_rows, target_matrix, task_rows

log = logging.getLogger("ldbench")


def training_rows(settings: ClassifySettings, source: str, slices: pd.DataFrame, sample_csvs: list[Path]) -> tuple[pd.DataFrame, int]:
    """A source's training rows and its optimiser steps, counted in epochs of the *real* training set.

    ``real`` and ``<method>-<ld>`` (synthetic: the training set's twin by default) train on sets of
    the real size; ``mixed+<method>-<ld>`` is the paper's "real + synthetic": half real, half
    synthetic, at the real size (the synthetic half are twins of the *other* real slices);
    ``real+<method>-<ld>`` adds the whole synthetic set to the real one and trains twice as many
    steps, beside ``real-2x``, the real set trained for those same steps (its control).
    """
    real = task_rows(split_rows(slices, "train"), settings.task)
    steps = settings.classifier.epochs * max(1, len(real) // settings.classifier.batch_size)
    if source in ("real", REAL_DOUBLE_STEPS):
        return real, steps * (2 if source == REAL_DOUBLE_STEPS else 1)
    if not sample_csvs:
        raise LdbenchError(f"classifier source {source!r} needs a synthetic sample set")
    synthetic = task_rows(pd.read_csv(sample_csvs[0]), settings.task)
    if source.startswith("real+"):
        return pd.concat([real, synthetic], ignore_index=True), 2 * steps
    if source.startswith("mixed+"):
        return mixed_rows(real, synthetic, derive_seed(settings.seed, "train_classifier", "mixed_rows")), steps
    return synthetic, steps


def mixed_rows(real: pd.DataFrame, synthetic: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Half real, half synthetic, at the real set's size, without duplicates.

    When the synthetic set is the training set's twin (same length, row i generated from real
    slice i's prompt), the synthetic half comes from the slices not in the real half.
    """
    n, half = len(real), len(real) // 2
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    if len(synthetic) == n:
        synthetic_half = synthetic.iloc[order[half:]]
    else:
        synthetic_half = synthetic.iloc[rng.choice(len(synthetic), n - half, replace=n - half > len(synthetic))]
    return pd.concat([real.iloc[order[:half]], synthetic_half], ignore_index=True)


def train_and_score(settings: ClassifySettings, dataset: str, source: str, slices_csv: Path, sample_csvs: list[Path],
                    out_model: Path, out_json: Path, out_predictions: Path) -> dict:
    """Train one classifier per seed; AUC on the real test split.

    The test predictions of every seed are saved (``out_predictions``): ``paper_tables`` draws the
    subject-level intervals and paired differences from them (``ldbench.auc``), so that changing
    ``classifier.bootstrap`` re-runs the tables, not the classifiers and everything they feed.
    """
    targets = list(settings.task.targets)
    slices = read_slices(slices_csv)
    train_rows, steps = training_rows(settings, source, slices, sample_csvs)
    test_rows = task_rows(split_rows(slices, "test"), settings.task)
    x_train, y_train = load_classifier_inputs(train_rows["image"]), target_matrix(train_rows, targets)
    x_test, y_test = load_classifier_inputs(test_rows["image"]), target_matrix(test_rows, targets)
    log.info("%s/%s: %d training images (%d unique), %d optimiser steps, %d real test images of %d subjects, targets %s", dataset, source,
             len(train_rows), train_rows["image"].nunique(), steps, len(test_rows), test_rows["subject"].nunique(), targets)

    per_seed, probs_by_seed = [], []
    for k, seed in enumerate(settings.seeds):
        model = train_classifier(x_train, y_train, settings.classifier, seed=derive_seed(settings.seed, "train_classifier", "init", seed),
                                 desc=f"classifier seed {seed}", steps=steps)
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
    aucs = np.array([s["auc"] for s in per_seed])
    result = {
        "dataset": dataset, "source": source, "auc_mean": float(np.nanmean(aucs)), "auc_std": float(np.nanstd(aucs)),
        "predictions": str(out_predictions),
        "per_seed": per_seed, "targets": targets, "metric": "macro one-vs-rest ROC AUC (Mann–Whitney statistic, equal to scikit-learn's roc_auc_score) on the real test split",
        "n_train": len(train_rows), "n_train_unique": int(train_rows["image"].nunique()), "steps": steps, "n_test": len(test_rows), "n_test_subjects": int(test_rows["subject"].nunique()),
        "classifier": dataclasses.asdict(settings.classifier),
    }
    log.info("macro AUC %.4f (seed mean over %d seeds)", result["auc_mean"], len(per_seed))
    write_json(out_json, result)
    return result
