"""The evaluator network: FID / KID / precision–recall features that nothing else in the DAG uses.

A benchmark that grades images with the classifier whose AUC it reports (or that picks δ, or scores
an edit) lets one network grade its own task. The evaluator is trained for evaluation only, on the
real training split, with its own seed; no table reports it, no search consults it, no edit is
scored by it. It is multi-task so that its features describe an image broadly, not one label:

* every ``label_*`` column of the slice table (BCE; NaN labels masked), age (standardised, MSE),
  sex (BCE);
* a reconstruction head (a linear map from the feature vector to the image at 16 × 16, MSE): the
  features must also carry what the image looks like, not only what it is.

Features are the trunk's pooled vector standardised by the real training split's mean and sd
(stored with the weights), so KID's cubic kernel (x·y/d + 1)³ sees unit-scale features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .classifier import build, extract_features, fit, read_network, restored, save_network
from .settings import EvaluatorSettings
from .utils import LdbenchError

RECONSTRUCTION_SIZE = 16
DESCRIPTION = ("evaluator: penultimate layer of a multi-task network (labels, age, sex, 16×16 reconstruction) trained on the "
               "real training split for evaluation only, standardised by that split's statistics")


class Evaluator(nn.Module):
    def __init__(self, arch: str, width: int, n_labels: int):
        super().__init__()
        self.trunk = build(arch, 1, width)  # the classifier architecture; only its feature layers are used
        dim = self.trunk.feature_dim
        self.labels, self.age, self.sex = nn.Linear(dim, n_labels), nn.Linear(dim, 1), nn.Linear(dim, 1)
        self.reconstruction = nn.Linear(dim, RECONSTRUCTION_SIZE**2)
        self.register_buffer("feature_mean", torch.zeros(dim))
        self.register_buffer("feature_std", torch.ones(dim))

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk.features(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return (self.pooled(x) - self.feature_mean) / self.feature_std


def _targets(rows: pd.DataFrame) -> dict[str, torch.Tensor]:
    labels = [c for c in rows.columns if c.startswith("label_")]
    if not labels:
        raise LdbenchError("the evaluator needs label_* columns in the slice table; none found")
    age = pd.to_numeric(rows["age"], errors="coerce").to_numpy(dtype=np.float32)
    sex = rows["sex"].astype(str).str.upper().str[0].map({"M": 1.0, "F": 0.0}).to_numpy(dtype=np.float32)
    return {"labels": torch.from_numpy(rows[labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)),
            "age": torch.from_numpy((age - np.nanmean(age)) / (np.nanstd(age) or 1.0)), "sex": torch.from_numpy(sex)}


def _masked(loss, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    keep = ~torch.isnan(target)
    return loss(prediction[keep], target[keep]) if keep.any() else prediction.sum() * 0.0


def train_evaluator(images: torch.Tensor, rows: pd.DataFrame, settings: EvaluatorSettings, seed: int) -> Evaluator:
    """Multi-task training on real training slices (``images``: (N, 1, H, W) in [0, 1]) for ``epochs``."""
    if len(images) < 2:
        raise LdbenchError(f"the evaluator needs at least 2 real training images, got {len(images)}")
    targets = _targets(rows)
    torch.manual_seed(seed)
    model = Evaluator(settings.arch, settings.width, targets["labels"].shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr)
    small = F.interpolate(images, size=(RECONSTRUCTION_SIZE, RECONSTRUCTION_SIZE), mode="area").flatten(1)
    steps = settings.epochs * max(1, len(images) // settings.batch_size)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        h = model.pooled(images[idx])
        return (_masked(F.binary_cross_entropy_with_logits, model.labels(h), targets["labels"][idx])
                + _masked(F.mse_loss, model.age(h)[:, 0], targets["age"][idx])
                + _masked(F.binary_cross_entropy_with_logits, model.sex(h)[:, 0], targets["sex"][idx])
                + F.mse_loss(model.reconstruction(h), small[idx]) * 10.0)  # pixels in [0, 1]: scaled to weigh like the others

    fit(model, optimizer, batch_loss, len(images), settings.batch_size, steps, seed, "evaluator")
    raw = torch.from_numpy(extract_features(model, images)).float()  # still the identity standardisation here
    model.feature_mean.copy_(raw.mean(0))
    model.feature_std.copy_(raw.std(0).clamp_min(1e-6))
    return model


def save_evaluator(model: Evaluator, path: str | Path, settings: EvaluatorSettings) -> None:
    save_network(model, path, settings, n_labels=model.labels.out_features)


def load_evaluator(path: str | Path) -> Evaluator:
    blob = read_network(path, "evaluator (rule train_evaluator writes it)")
    settings = EvaluatorSettings(**blob["settings"])
    return restored(Evaluator(settings.arch, settings.width, blob["n_labels"]), blob)
