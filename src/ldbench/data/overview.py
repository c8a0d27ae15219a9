"""One overview figure per dataset: example slices per class and age group, with label counts."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from ..kinds import get_kind
from ..utils import LdbenchError, atomic_path


def _age_labels(bins) -> list[str]:
    out = []
    for lo, hi in itertools.pairwise(bins):
        out.append(f"< {hi}" if lo == 0 else (f"≥ {lo}" if hi >= 200 else f"{lo}–{hi - 1}"))
    return out


def plot_data_overview(slices: pd.DataFrame, kind: str, out_png: Path) -> None:
    """Example images (rows: class, columns: age group) and per-split label counts, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    dataset_kind = get_kind(kind)
    if len(slices) == 0:
        raise LdbenchError("plot_data_overview: the slice table is empty")
    bins = dataset_kind.age_bins
    labels = _age_labels(bins)
    age_group = pd.cut(slices["age"].astype(float), bins=list(bins), labels=labels, right=False)
    classes = dataset_kind.overview_classes(slices)
    n_rows, n_cols = len(classes), len(labels)
    fig = plt.figure(figsize=(1.45 * n_cols + 5.2, 1.45 * n_rows + 0.9), dpi=110)
    outer = fig.add_gridspec(1, 2, width_ratios=[1.45 * n_cols, 3.2], wspace=0.42, left=0.09, right=0.97,
                             top=0.9, bottom=0.07)
    gs = outer[0].subgridspec(n_rows, n_cols, wspace=0.08, hspace=0.3)
    for r, (name, mask) in enumerate(classes):
        for c, grp in enumerate(labels):
            ax = fig.add_subplot(gs[r, c])
            ax.set_xticks([])
            ax.set_yticks([])
            sel = slices[mask.values & (age_group == grp).values]
            if len(sel):
                pick = sel.sort_values(["subject", "visit"], kind="mergesort").iloc[len(sel) // 2]
                try:
                    with Image.open(pick["image"]) as im:
                        ax.imshow(np.asarray(im.convert("L")), cmap="gray", vmin=0, vmax=255)
                except (OSError, ValueError):
                    ax.text(0.5, 0.5, "unreadable", ha="center", va="center", fontsize=7)
            else:
                ax.set_facecolor("0.9")
                ax.text(0.5, 0.5, "none", ha="center", va="center", fontsize=7, color="0.4")
            ax.set_title(f"n={len(sel)}", fontsize=7, pad=2)
            if r == 0:
                ax.text(0.5, 1.25, f"age {grp}", transform=ax.transAxes, ha="center", fontsize=8, weight="bold")
            if c == 0:
                ax.set_ylabel(name.replace(" ", "\n", 1) if len(name) > 12 else name, fontsize=8)
    # label counts per split
    ax = fig.add_subplot(outer[1])
    names = [n for n, _ in classes]
    splits = [s for s in ("train", "val", "test") if s in set(slices["split"])]
    y = np.arange(len(names))
    h = 0.8 / max(1, len(splits))
    for i, s in enumerate(splits):
        in_split = (slices["split"] == s).values
        counts = [int((m.values & in_split).sum()) for _, m in classes]
        bars = ax.barh(y + (i - (len(splits) - 1) / 2) * h, counts, height=h, label=s)
        for b, cnt in zip(bars, counts):
            ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {cnt}", va="center", fontsize=6)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("images", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    n_subj = slices["subject"].nunique()
    ax.set_title(f"{kind}: {len(slices)} images, {n_subj} subjects", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    out_png = Path(out_png)
    with atomic_path(out_png, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
