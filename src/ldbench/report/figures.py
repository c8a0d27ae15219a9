"""Figures of the paper from files the DAG produced (matplotlib, PNG + PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..images import read_gray  # noqa: E402
from ..utils import atomic_path  # noqa: E402
from .tables import METHOD_NAMES  # noqa: E402


def save_figure(fig, png: Path) -> None:
    """PNG and a PDF beside it, both atomically; fixed metadata so reruns give identical files."""
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    with atomic_path(Path(png).with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)


def delta_sweep(sweeps: Mapping[str, Path], method: str, png: Path, n_prompts: int = 4) -> None:
    """Paper Fig. 2: the same initial noise and prompt sampled at every δ (one panel per dataset)."""
    fig, axes = plt.subplots(len(sweeps), 1, figsize=(8, 2.4 * n_prompts * len(sweeps) / 2 + 0.5), squeeze=False)
    for ax, (dataset, path) in zip(axes[:, 0], sweeps.items()):
        blob = np.load(path)
        images, deltas, real = blob["images"], blob["deltas"], blob["real"]
        k = min(n_prompts, images.shape[1])
        rows = [np.concatenate([real[i]] + [images[j, i] for j in range(len(deltas))], axis=1) for i in range(k)]
        ax.imshow(np.concatenate(rows, axis=0), cmap="gray", vmin=0, vmax=255)
        w = images.shape[-1]
        ax.set_xticks([w / 2 + w * c for c in range(len(deltas) + 1)])
        ax.set_xticklabels(["real"] + [f"δ={d:+.2f}" for d in deltas], fontsize=8)
        ax.set_yticks([])
        ax.set_title(f"{dataset}: {METHOD_NAMES[method]} + LD, identical noise per row", fontsize=9)
    save_figure(fig, png)


def samples_per_method(sample_csvs: Mapping[tuple[str, str, str], Path], datasets: Sequence[str], methods: Sequence[str], png: Path, n: int = 4) -> None:
    """Paper Figs. 4–5: samples per fine-tuning method, without (left) and with (right) LD."""
    fig, axes = plt.subplots(len(methods), 2 * len(datasets), figsize=(3.2 * 2 * len(datasets), 1.0 * len(methods) + 0.8), squeeze=False)
    for d, dataset in enumerate(datasets):
        for m, method in enumerate(methods):
            for j, ld in enumerate(("noLD", "LD")):
                ax = axes[m, 2 * d + j]
                table = pd.read_csv(sample_csvs[(dataset, method, ld)])
                strip = np.concatenate([read_gray(p) for p in table["image"].iloc[:n]], axis=1)
                ax.imshow(strip, cmap="gray", vmin=0, vmax=255)
                ax.set_xticks([])
                ax.set_yticks([])
                if m == 0:
                    ax.set_title(f"{dataset} – {'with' if ld == 'LD' else 'without'} LD (δ={table['delta'].iloc[0]:+.2f})", fontsize=8)
                if d == 0 and j == 0:
                    ax.set_ylabel(METHOD_NAMES[method], fontsize=8, rotation=0, ha="right", va="center")
    fig.tight_layout()
    save_figure(fig, png)
