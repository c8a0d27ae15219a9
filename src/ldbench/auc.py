"""AUC intervals (and paired per-image means) that respect subjects: the test split holds several visits
(slices) per subject.

Visits of one subject are correlated, so resampling *images* treats them as independent and gives
intervals that are too narrow. Here the bootstrap resamples *subjects* (with all their images),
the statistic is the macro AUC averaged over classifier seeds, and two classifiers scored on the
same test images are compared on the same resamples (a paired difference).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from scipy.stats import t as t_distribution

from .metrics import Interval
from .utils import LdbenchError, atomic_path

SUBJECT_BOOTSTRAP = ("95 % percentile interval over {n_boot} bootstrap resamples of test subjects (each with all its images), "
                     "of the macro AUC averaged over classifier seeds")


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann–Whitney statistic (ties count one half): the value of scikit-learn's
    ``roc_auc_score`` (tests/test_metrics.py checks), at a fraction of its cost inside bootstraps."""
    ranks = rankdata(scores)
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def macro_auc(probs: np.ndarray, labels: np.ndarray) -> tuple[float, list[float]]:
    """Mean one-vs-rest ROC AUC over targets that have both classes in ``labels`` (NaN when none has)."""
    per_target = []
    for j in range(labels.shape[1]):
        keep = ~np.isnan(labels[:, j])
        y = labels[keep, j]
        per_target.append(roc_auc(y, probs[keep, j]) if 0 < y.sum() < len(y) else float("nan"))
    valid = [a for a in per_target if not np.isnan(a)]
    return (float(np.mean(valid)) if valid else float("nan")), per_target


def subject_resamples(subjects: np.ndarray, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices of ``n_boot`` resamples: subjects drawn with replacement, each bringing all its rows."""
    _, inverse = np.unique(np.asarray(subjects).astype(str), return_inverse=True)
    rows = [np.flatnonzero(inverse == k) for k in range(inverse.max() + 1)]
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield np.concatenate([rows[k] for k in rng.integers(0, len(rows), len(rows))])


def seed_mean_auc(probs_by_seed: np.ndarray, labels: np.ndarray, rows: np.ndarray | None = None) -> float:
    """Macro AUC of each seed's predictions (seeds × images × targets), averaged over seeds."""
    rows = np.arange(len(labels)) if rows is None else rows
    values = [macro_auc(probs[rows], labels[rows])[0] for probs in probs_by_seed]
    return float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")


def _percentile_interval(value: float, draws: list[float]) -> Interval:
    draws = np.array([d for d in draws if not np.isnan(d)])
    if len(draws) < 2:
        return Interval(value, float("nan"), float("nan"), float("nan"))
    return Interval(value, float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5)), float(draws.std(ddof=1)))


def subject_bootstrap_auc(probs_by_seed: np.ndarray, labels: np.ndarray, subjects: np.ndarray, n_boot: int, seed: int) -> Interval:
    """The seed-mean macro AUC with its subject-level percentile bootstrap interval."""
    draws = [seed_mean_auc(probs_by_seed, labels, rows) for rows in subject_resamples(subjects, n_boot, seed)]
    return _percentile_interval(seed_mean_auc(probs_by_seed, labels), draws)


def paired_auc_difference(probs_a: np.ndarray, probs_b: np.ndarray, labels: np.ndarray, subjects: np.ndarray, n_boot: int,
                          seed: int) -> Interval:
    """AUC(a) − AUC(b) for two classifiers scored on the same test images, on shared subject resamples."""
    if probs_a.shape[1:] != probs_b.shape[1:]:
        raise LdbenchError(f"paired AUC: the two classifiers were scored on different test sets ({probs_a.shape} vs {probs_b.shape})")
    value = seed_mean_auc(probs_a, labels) - seed_mean_auc(probs_b, labels)
    draws = [seed_mean_auc(probs_a, labels, rows) - seed_mean_auc(probs_b, labels, rows) for rows in subject_resamples(subjects, n_boot, seed)]
    return _percentile_interval(value, draws)


def paired_mean_difference(a: np.ndarray, b: np.ndarray, subjects: np.ndarray, n_boot: int, seed: int) -> Interval:
    """mean(a − b) over paired per-image scores, ± t(g − 1) × the subject-bootstrap SD × √(g / (g − 1)) for g
    subjects: the percentile interval undercovers with the dozen or so subjects an edit table has
    (tests/test_intervals.py, 200 simulated tables of 12 subjects: percentile 0.88, this form 0.935)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.shape != np.shape(subjects):
        raise LdbenchError(f"paired mean: {a.shape} and {b.shape} scores for {np.shape(subjects)} subjects; expected one pair per image")
    difference = a - b
    value, n_subjects = float(difference.mean()), len(np.unique(np.asarray(subjects).astype(str)))
    if n_subjects < 2:
        return Interval(value, float("nan"), float("nan"), float("nan"))
    draws = np.array([difference[rows].mean() for rows in subject_resamples(subjects, n_boot, seed)])
    sd = float(draws.std(ddof=1)) * np.sqrt(n_subjects / (n_subjects - 1))
    half = float(t_distribution.ppf(0.975, n_subjects - 1)) * sd
    return Interval(value, value - half, value + half, sd)


def save_predictions(path: Path, probs_by_seed: np.ndarray, labels: np.ndarray, subjects: np.ndarray, images: np.ndarray) -> None:
    """A classifier's test predictions per seed, beside the labels, subjects and images they belong to."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, probs=probs_by_seed.astype(np.float64), labels=labels, subjects=subjects, images=images)


def load_predictions(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as data:
            return {key: data[key] for key in ("probs", "labels", "subjects", "images")}
    except (OSError, KeyError, ValueError) as err:
        raise LdbenchError(f"{path}: not a prediction file written by train_classifier ({err})") from err


def auc_interval(predictions: Path, n_boot: int, seed: int) -> Interval:
    """Seed-mean macro AUC of one classifier (its prediction file) with the subject-level interval."""
    p = load_predictions(predictions)
    return subject_bootstrap_auc(p["probs"], p["labels"], p["subjects"], n_boot, seed)


def auc_difference(predictions_a: Path, predictions_b: Path, n_boot: int, seed: int) -> Interval:
    """AUC of classifier a minus classifier b (prediction files of train_classifier), paired by test subject."""
    a, b = load_predictions(predictions_a), load_predictions(predictions_b)
    if not (np.array_equal(a["images"], b["images"]) and np.array_equal(a["labels"], b["labels"], equal_nan=True)):
        raise LdbenchError(f"{predictions_a} and {predictions_b} score different test images; re-run train_classifier for both")
    return paired_auc_difference(a["probs"], b["probs"], a["labels"], a["subjects"], n_boot, seed)
