"""``fig_metric_vs_n``: FID, KID and FRD against the number of images compared with the real test split.

FID is biased by the sample size (its expected value falls as n grows, even between two sets of
real images), so a model's FID is comparable only with others at the same n. The figure shows the
real floor (train + val images, disjoint from the test split) and every model at each n, so a
reader sees where the numbers of Table 1 sit and where they stop being comparable. FRD (where the
run computed radiomics, ``metrics.frd_images``) goes up to the number of images with radiomics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..methods import method_title
from ..metrics import frechet_distance, kid_from_features
from ..radiomics import finite_columns, frd_from_features
from ..seeds import derive_seed
from ..utils import write_csv
from .figures import plt, save_figure  # figures selects matplotlib's Agg backend

REAL_LABEL = "real (train + val)"


def sizes_for(n_available: int, sizes: Sequence[int]) -> list[int]:
    """The configured sizes a set can provide, then its own size (the n of Table 1)."""
    return sorted({s for s in sizes if s <= n_available} | {n_available})


def metric_vs_n(real_test: np.ndarray, sets: Mapping[str, np.ndarray], sizes: Sequence[int], repeats: int, seed: int,
                kid_subset_size: int = 100) -> pd.DataFrame:
    """FID / KID of random n-subsets (without replacement) of each set against the full test split."""
    rows = []
    for label, feats in sets.items():
        for n in sizes_for(len(feats), sizes):
            rng = np.random.default_rng(derive_seed(seed, "metric_vs_n", label, n))
            for repeat in range(repeats):
                subset = feats[rng.choice(len(feats), n, replace=False)]
                kid_size = min(kid_subset_size, n, len(real_test))
                rows.append({"set": label, "n": n, "repeat": repeat, "FID": frechet_distance(real_test, subset),
                             "KID": kid_from_features(real_test, subset, kid_size, 10, derive_seed(seed, "metric_vs_n", "kid"))})
    return pd.DataFrame(rows)


def frd_vs_n(real_test: np.ndarray, sets: Mapping[str, np.ndarray], sizes: Sequence[int], repeats: int, seed: int) -> pd.DataFrame:
    """FRD of random n-subsets (without replacement) of each radiomics set against the test split's radiomics."""
    rows = []
    for label, feats in sets.items():
        real, feats = finite_columns(real_test, feats)
        for n in sizes_for(len(feats), sizes):
            rng = np.random.default_rng(derive_seed(seed, "metric_vs_n", "frd", label, n))
            for repeat in range(repeats):
                rows.append({"set": label, "n": n, "repeat": repeat, "FRD": frd_from_features(real, feats[rng.choice(len(feats), n, replace=False)])})
    return pd.DataFrame(rows)


def plot_metric_vs_n(curves: Mapping[str, pd.DataFrame], n_test: Mapping[str, int], out_png: Path, dpi: int, extractor: str = "evaluator",
                     n_test_frd: Mapping[str, int] | None = None) -> None:
    metrics = [m for m in ("FID", "KID", "FRD") if any(m in f and f[m].notna().any() for f in curves.values())]
    fig, axes = plt.subplots(len(curves), len(metrics), figsize=(5.5 * len(metrics), 3.6 * len(curves)), squeeze=False)
    for row, (dataset, frame) in enumerate(curves.items()):
        for col, metric in enumerate(metrics):
            ax = axes[row, col]
            summary = frame.dropna(subset=[metric]).groupby(["set", "n"])[metric].agg(["mean", "std"]).reset_index() if metric in frame else frame.iloc[:0]
            for label, group in summary.groupby("set", sort=False):
                real = label == REAL_LABEL
                ax.errorbar(group["n"], group["mean"], yerr=group["std"].fillna(0), marker="o", capsize=3,
                            color="black" if real else None, linewidth=2.5 if real else 1.2, linestyle="--" if real else "-", label=label)
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(plt.NullLocator())
            ticks = sorted(summary["n"].unique())
            ax.set_xticks(ticks, labels=[str(n) for n in ticks])
            ax.set_xlabel(f"images compared with the {n_test[dataset] if metric != 'FRD' else n_test_frd[dataset]} real test images (n)")
            ax.set_ylabel("FRD (radiomics; log)" if metric == "FRD" else f"{metric} ({extractor} features)")
            ax.set_title(f"{dataset}: {metric} vs n")
            ax.grid(alpha=0.3)
        axes[row, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # beside the panel, never over a curve
    fig.suptitle(f"{' / '.join(metrics)} depend on n: compare models only at equal n, and against the real floor (black, dashed)", fontsize=11)
    fig.tight_layout()
    save_figure(fig, out_png, dpi)


def write_metric_vs_n(real_files: Mapping[str, Path], feature_files: Mapping[tuple[str, str, str], Path], sizes: Sequence[int],
                      repeats: int, seed: int, out_png: Path, out_csv: Path, dpi: int) -> pd.DataFrame:
    from ..stages.evaluate import load_features

    curves, n_test, n_test_frd, extractors = {}, {}, {}, set()
    for dataset, real_path in real_files.items():
        real = load_features(real_path)
        extractors.add(real["extractor"].split(":")[0])
        features = {REAL_LABEL: real}
        for (d, method, ld), path in sorted(feature_files.items()):
            if d == dataset:
                features[f"{method_title(method)}{' + LD' if ld == 'LD' else ''}"] = load_features(path)
        sets = {label: f["pool" if label == REAL_LABEL else "generated"] for label, f in features.items()}
        curve = metric_vs_n(real["test"], sets, sizes, repeats, seed)
        if "radiomics_test" in real:
            radiomic = {label: f["radiomics_pool" if label == REAL_LABEL else "radiomics_generated"] for label, f in features.items()}
            curve = pd.concat([curve, frd_vs_n(real["radiomics_test"], radiomic, sizes, repeats, seed)], ignore_index=True)
            n_test_frd[dataset] = len(real["radiomics_test"])
        curves[dataset] = curve.assign(dataset=dataset)
        n_test[dataset] = len(real["test"])
    plot_metric_vs_n(curves, n_test, out_png, dpi, extractor="/".join(sorted(extractors)), n_test_frd=n_test_frd)
    table = pd.concat(curves.values(), ignore_index=True)
    write_csv(out_csv, table.round(6))
    return table
