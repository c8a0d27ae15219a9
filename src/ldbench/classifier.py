"""Classifiers trained from scratch on real, synthetic or mixed images, scored by AUC on real test data.

The real-data classifier (``real``) also gives the δ search's classifier term; ``real-2x`` (the same
data, twice the steps) scores counterfactual edits; FID/KID use the evaluator network
(``ldbench.evaluator``), so no reported classifier grades generated images.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .settings import ClassifierSettings
from .utils import LdbenchError, atomic_path, progress


class SmallCNN(nn.Module):
    """Four conv blocks and global pooling: enough for 32–128 px grayscale slices, fast on CPU."""

    def __init__(self, n_outputs: int, width: int = 32):
        super().__init__()
        chans = [1, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise(chans):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(chans[-1], n_outputs)
        self.feature_dim = chans[-1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ResNet18(nn.Module):
    """torchvision's ResNet-18, random init, one input channel (its widths are fixed; ``width`` is unused)."""

    def __init__(self, n_outputs: int, width: int = 32):
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None, num_classes=n_outputs)
        net.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
        self.head = net.fc
        net.fc = nn.Identity()
        self.body = net
        self.feature_dim = 512

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ARCHS = {"small_cnn": SmallCNN, "resnet18": ResNet18}


def build(arch: str, n_outputs: int, width: int = 32) -> nn.Module:
    if arch not in ARCHS:
        raise LdbenchError(f"classifier.arch must be one of {sorted(ARCHS)}, got {arch!r}")
    return ARCHS[arch](n_outputs, width)


def _batches(n: int, batch_size: int, steps: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """``steps`` mini-batches of indices, a fresh permutation every pass over the data."""
    n_batches, done = max(1, n // batch_size), 0
    while True:
        order = torch.randperm(n, generator=gen)
        for b in range(n_batches):
            if done == steps:
                return
            yield order[b * batch_size : (b + 1) * batch_size]
            done += 1


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, batch_loss: Callable[[torch.Tensor], torch.Tensor], n: int, batch_size: int,
        steps: int, seed: int, desc: str) -> None:
    """``steps`` optimiser steps on seeded mini-batches of ``n`` examples (``batch_loss(indices)``: one batch's
    loss); the training loop of the classifiers, the evaluator and the age regressor. Leaves the model in eval mode."""
    model.train()
    for idx in progress(_batches(n, batch_size, steps, torch.Generator().manual_seed(seed)), total=steps, desc=desc):
        loss = batch_loss(idx)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()


def train_classifier(images: torch.Tensor, labels: np.ndarray, settings: ClassifierSettings, seed: int, desc: str = "classifier",
                     steps: int | None = None) -> nn.Module:
    """Multi-label BCE training for ``steps`` optimiser steps (``epochs`` over ``images`` if None);
    NaN labels (CheXpert's "ignore" policy) are masked out of the loss."""
    if len(images) == 0:
        raise LdbenchError("classifier training set is empty")
    torch.manual_seed(seed)
    model = build(settings.arch, labels.shape[1], settings.width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    y = torch.from_numpy(np.asarray(labels, dtype=np.float32))

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        t = y[idx]
        mask = ~torch.isnan(t)
        return F.binary_cross_entropy_with_logits(model(images[idx])[mask], t[mask])

    steps = steps or settings.epochs * max(1, len(images) // settings.batch_size)
    fit(model, optimizer, batch_loss, len(images), settings.batch_size, steps, seed, desc)
    return model


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    model.eval()
    return torch.cat([torch.sigmoid(model(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]).numpy()


@torch.no_grad()
def extract_features(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    model.eval()
    return torch.cat([model.features(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]).double().numpy()


def save_network(model: nn.Module, path: str | Path, settings, **extra) -> None:
    """A small network's weights and settings (and ``extra`` entries), written atomically."""
    with atomic_path(path) as tmp:
        torch.save({"state_dict": model.state_dict(), "settings": asdict(settings), **extra}, tmp)


def read_network(path: str | Path, what: str) -> dict:
    """The checkpoint :func:`save_network` wrote; a missing file names ``what`` (and the rule that writes it)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise LdbenchError(f"{path}: {what} checkpoint not found") from err


def restored(model: nn.Module, blob: Mapping) -> nn.Module:
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def save_classifier(model: nn.Module, path: str | Path, settings: ClassifierSettings, targets: Sequence[str]) -> None:
    save_network(model, path, settings, targets=list(targets))


def load_classifier(path: str | Path) -> tuple[nn.Module, list[str]]:
    blob = read_network(path, "classifier")
    settings = ClassifierSettings(**blob["settings"])
    return restored(build(settings.arch, len(blob["targets"]), settings.width), blob), blob["targets"]
