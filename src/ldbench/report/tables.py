"""Table 1 of the paper: fine-tuning methods × LD → FID, KID, AUC per dataset, plus real rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..utils import LdbenchError, read_json
from .render import write_table

METHOD_NAMES = {
    "custom_diffusion": "Custom Diffusion",
    "dreambooth": "DreamBooth",
    "textual_inversion": "Textual Inversion",
    "basic_ft": "Basic FT",
}


METRIC_KEYS = ("fid", "fid_ci95", "kid", "kid_std", "fid_real_floor", "kid_real_floor", "feature_extractor", "n_generated", "n_real", "delta")


def _finite(value: float, what: str) -> float:
    if value is None or not math.isfinite(value):
        raise LdbenchError(f"{what} is not a finite number ({value!r}); refusing to write a table with it")
    return float(value)


def table1_frame(metric_files: Mapping[tuple[str, str, str], Path], auc_files: Mapping[tuple[str, str], Path]) -> pd.DataFrame:
    """Long table: one row per (dataset, method, LD) and the real / real+synthetic AUC rows.

    ``metric_files[(dataset, method, ld)]`` are ``evaluate`` JSONs; ``auc_files[(dataset, source)]``
    are ``train_classifier`` JSONs with source "real", "<method>-<ld>", "real+<method>-<ld>".
    """
    rows = []
    extractors = set()
    for (dataset, method, ld), path in sorted(metric_files.items()):
        m = read_json(path)
        missing = [k for k in METRIC_KEYS if k not in m]
        if missing:
            raise LdbenchError(f"{path} lacks {missing}: written by an older ldbench; re-run it with `snakemake -R evaluate`")
        auc = read_json(auc_files[(dataset, f"{method}-{ld}")])
        extractors.add(m["feature_extractor"].split(":")[0])
        rows.append({
            "dataset": dataset, "method": METHOD_NAMES[method], "LD": ld == "LD", "delta": m["delta"],
            "FID": _finite(m["fid"], f"FID in {path}"), "FID_ci_low": m["fid_ci95"][0], "FID_ci_high": m["fid_ci95"][1],
            "KID": _finite(m["kid"], f"KID in {path}"), "KID_std": m["kid_std"],
            "AUC": _finite(auc["auc_mean"], f"AUC of {dataset}/{method}-{ld}"), "AUC_std": auc["auc_std"],
            "n_generated": m["n_generated"], "n_real_test": m["n_real"],
            "FID_real_floor": m["fid_real_floor"], "KID_real_floor": m["kid_real_floor"],
        })
    for (dataset, source), path in sorted(auc_files.items()):
        if source == "real" or source.startswith("real+"):
            auc = read_json(path)
            rows.append({
                "dataset": dataset, "method": "Real data" if source == "real" else "Real + synthetic",
                "LD": None if source == "real" else source.endswith("-LD"), "delta": None, "FID": None, "KID": None,
                "AUC": _finite(auc["auc_mean"], f"AUC in {path}"), "AUC_std": auc["auc_std"], "n_generated": None, "n_real_test": auc["n_test"],
            })
    if len(extractors) > 1:
        raise LdbenchError(f"Table 1 mixes feature extractors {sorted(extractors)}; FID/KID cells would not be comparable")
    frame = pd.DataFrame(rows)
    frame.attrs["extractor"] = extractors.pop() if extractors else "domain"
    return frame


def _cell(row: pd.Series) -> str:
    if pd.isna(row["FID"]):
        return f"AUC {row['AUC']:.3f}"
    return (f"{row['FID']:.2f} [{row['FID_ci_low']:.2f}, {row['FID_ci_high']:.2f}] / "
            f"{row['KID']:.4f} ± {row['KID_std']:.4f} / {row['AUC']:.3f}")


def display_table1(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per method × LD, one "FID / KID / AUC" column per dataset."""
    extractor = frame.attrs.get("extractor", "domain")
    frame = frame.assign(ld_text=frame["LD"].map({True: "yes", False: "no"}).fillna("–"), cell=frame.apply(_cell, axis=1))
    order = list(METHOD_NAMES.values()) + ["Real data", "Real + synthetic"]
    frame["order"] = frame["method"].map(order.index)
    wide = frame.pivot_table(index=["order", "method", "ld_text"], columns="dataset", values="cell", aggfunc="first").reset_index()
    wide = wide.sort_values(["order", "ld_text"]).drop(columns="order")
    label = "FID (Inception)" if extractor == "inception" else "FID (domain features)"
    wide.columns = ["Method", "LD"] + [f"{d}: {label} / KID / AUC" for d in wide.columns[2:]]
    return wide.fillna("–")


def write_table1(frame: pd.DataFrame, stem: Path) -> None:
    data = frame.round({"FID": 4, "FID_ci_low": 4, "FID_ci_high": 4, "KID": 6, "KID_std": 6, "AUC": 4, "AUC_std": 4, "delta": 4,
                        "FID_real_floor": 4, "KID_real_floor": 6})
    features = ("clean-fid's InceptionV3 features ('clean' mode, resized to 299²)" if frame.attrs.get("extractor") == "inception"
                else "the penultimate-layer features of the classifier trained on real data (domain features, not Inception)")
    note = (
        f"FID/KID: clean-fid distances on {features}; AUC: macro ROC AUC on the real test split, mean over classifier seeds. "
        "Generated by ldbench from the metric JSON files of this run."
    )
    models = frame.dropna(subset=["FID"])
    counts = models.groupby("dataset")[["n_generated", "n_real_test", "FID_real_floor", "KID_real_floor"]].first()
    note += " FID with a 95 % bootstrap interval; KID as mean ± std over subsets. Sample counts: " + "; ".join(
        f"{d}: {int(r.n_generated)} generated vs {int(r.n_real_test)} real test images" for d, r in counts.iterrows()) + "."
    note += " Real-vs-real floor (FID / KID between two disjoint halves of the real test split, what a perfect model would score at this size): " + "; ".join(
        f"{d}: {r.FID_real_floor:.2f} / {r.KID_real_floor:.4f}" for d, r in counts.iterrows()) + "."
    write_table(stem, data, display_table1(frame), "Table 1: fine-tuning methods with and without Latent Drifting", note)
