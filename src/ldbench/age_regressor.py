"""The age regressor: how many years older does an ageing edit make a scan look?

The ageing table asks InstructPix2Pix for N years; pixel scores against a follow-up scan cannot say
whether the edit aged the anatomy by N years. A regressor trained on the real training split (MSE
on the standardised age, its own seed) predicts the age of the source and of each output, and the
predicted gain is set beside the years asked for. It grades this and nothing else: no FID, no δ
selection, no counterfactual classifier reads it, so no network grades a number it also produced.
Its accuracy on the real test split is reported with it (``train_age_regressor``), beside the
error of always predicting the training mean, so a reader knows how far to trust a gain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .classifier import build, fit, read_network, restored, save_network
from .settings import AgeRegressorSettings
from .utils import LdbenchError


class AgeRegressor(nn.Module):
    def __init__(self, arch: str, width: int):
        super().__init__()
        self.trunk = build(arch, 1, width)  # the classifier architecture; only its feature layers are used
        self.head = nn.Linear(self.trunk.feature_dim, 1)
        self.register_buffer("age_mean", torch.zeros(()))
        self.register_buffer("age_std", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised age (the training target)."""
        return self.head(self.trunk.features(x))[:, 0]


def train_age_regressor(images: torch.Tensor, ages: np.ndarray, settings: AgeRegressorSettings, seed: int) -> AgeRegressor:
    """``images``: (N, 1, H, W) in [0, 1]; ``ages`` in years (rows without an age are left out)."""
    ages = np.asarray(ages, dtype=np.float64)
    keep = np.isfinite(ages)
    if keep.sum() < 2:
        raise LdbenchError(f"the age regressor needs at least 2 training images with an age, got {int(keep.sum())}")
    images, ages = images[torch.from_numpy(keep)], ages[keep]
    torch.manual_seed(seed)
    model = AgeRegressor(settings.arch, settings.width)
    model.age_mean.fill_(float(ages.mean()))
    model.age_std.fill_(float(ages.std()) or 1.0)
    target = (torch.from_numpy(ages).float() - model.age_mean) / model.age_std
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr)
    steps = settings.epochs * max(1, len(images) // settings.batch_size)
    fit(model, optimizer, lambda idx: F.mse_loss(model(images[idx]), target[idx]), len(images), settings.batch_size, steps, seed, "age regressor")
    return model


@torch.no_grad()
def predict_age(model: AgeRegressor, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Predicted age in years of (N, 1, H, W) images in [0, 1]."""
    model.eval()
    out = [model(images[i : i + batch_size]) * model.age_std + model.age_mean for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy().astype(np.float64)


def save_age_regressor(model: AgeRegressor, path: str | Path, settings: AgeRegressorSettings) -> None:
    save_network(model, path, settings)


def load_age_regressor(path: str | Path) -> AgeRegressor:
    blob = read_network(path, "age regressor (rule train_age_regressor writes it)")
    settings = AgeRegressorSettings(**blob["settings"])
    return restored(AgeRegressor(settings.arch, settings.width), blob)
