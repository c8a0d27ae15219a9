"""Table 1 of the paper: fine-tuning methods × LD → FID, KID, AUC per dataset, plus real rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..auc import auc_interval
from ..methods import finetuning_methods, method_title
from ..metrics import Interval
from ..seeds import derive_seed
from ..settings import REAL_DOUBLE_STEPS
from ..utils import LdbenchError, read_json
from .render import write_table

#: how tables name FID by the extractor of its features (the part of ``feature_extractor`` before ":")
FID_LABELS = {"inception": "FID (Inception)", "evaluator": "FID (evaluator features)"}


def fid_label(extractor: str) -> str:
    if extractor not in FID_LABELS:
        raise LdbenchError(f"features of extractor {extractor!r}: written by an older ldbench; re-run `snakemake -R real_features evaluate`")
    return FID_LABELS[extractor]


METRIC_KEYS = ("fid", "fid_ci95", "kid", "kid_ci95", "prdc", "feature_extractor", "n_generated", "n_real", "interval")
PRDC = ("precision", "recall", "density", "coverage")


def _finite(value: float, what: str) -> float:
    if value is None or not math.isfinite(value):
        raise LdbenchError(f"{what} is not a finite number ({value!r}); refusing to write a table with it")
    return float(value)


def read_metrics(path: Path, keys: tuple[str, ...] = METRIC_KEYS) -> dict:
    m = read_json(path)
    missing = [k for k in keys if k not in m]
    if missing:
        raise LdbenchError(f"{path} lacks {missing}: written by an older ldbench; re-run it with `snakemake -R evaluate real_features`")
    return m


def distance_columns(m: dict, path: Path) -> dict:
    """FID / KID / P R D C of a metric file, and its FRD where the run computed one (``metrics.frd_images``)."""
    frd = {}
    if "frd" in m:
        frd = {"FRD": _finite(m["frd"], f"FRD in {path}"), "FRD_ci_low": m["frd_ci95"][0], "FRD_ci_high": m["frd_ci95"][1],
               "FRD_n": m["frd_n_generated"], "FRD_n_real": m["frd_n_real"]}
    return {
        "FID": _finite(m["fid"], f"FID in {path}"), "FID_ci_low": m["fid_ci95"][0], "FID_ci_high": m["fid_ci95"][1],
        "KID": _finite(m["kid"], f"KID in {path}"), "KID_ci_low": m["kid_ci95"][0], "KID_ci_high": m["kid_ci95"][1],
        "n_generated": m["n_generated"], "n_real_test": m["n_real"], **{k: m["prdc"][k] for k in PRDC}, **frd,
    }


def seed_columns(m: dict) -> dict:
    """FID / KID / FRD over generation seeds (``evaluate``'s ``generation_seeds``): mean and SD, seeds and images per seed."""
    seeds = m.get("generation_seeds")
    if not seeds:
        return {}
    return {"seeds": len(seeds["seeds"]), "seeds_n": seeds["n_generated"],
            **{f"{name.upper()}_seeds_{stat}": seeds[name][stat] for name in ("fid", "kid", "frd") if name in seeds for stat in ("mean", "sd")}}


def mean_sd(mean: float, sd: float, digits: int) -> str:
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


#: Table 1's data-utility rows, by classifier source prefix (see ``stages.classify.training_rows``)
DATA_UTILITY_ROWS = {"real": "Real data", REAL_DOUBLE_STEPS: "Real data, 2× steps", "mixed+": "Real + synthetic",
                     "real+": "Real + all synthetic, 2× steps"}


def data_utility_row(source: str) -> str | None:
    """Table 1's label of a classifier source trained on real data (alone or with synthetic), else None."""
    if source in DATA_UTILITY_ROWS:
        return DATA_UTILITY_ROWS[source]
    prefix = source.split("+")[0] + "+" if "+" in source else None
    return DATA_UTILITY_ROWS.get(prefix)


def auc_intervals(predictions: Mapping[tuple[str, str], Path], n_boot: int, seed: int) -> dict[tuple[str, str], Interval]:
    """Each classifier's seed-mean AUC with its subject-level interval, from ``train_classifier``'s prediction files."""
    return {key: auc_interval(path, n_boot, derive_seed(seed, "train_classifier", "bootstrap")) for key, path in predictions.items()}


def _auc_columns(auc: dict, interval: Interval, what: str) -> dict:
    return {"AUC": _finite(auc["auc_mean"], what), "AUC_ci_low": interval.low, "AUC_ci_high": interval.high, "AUC_std": auc["auc_std"]}


def table1_frame(metric_files: Mapping[tuple[str, str, str], Path], auc_files: Mapping[tuple[str, str], Path],
                 floor_files: Mapping[str, Path], intervals: Mapping[tuple[str, str], Interval]) -> pd.DataFrame:
    """Long table: one row per (dataset, method, LD) and the real / real+synthetic rows.

    ``metric_files[(dataset, method, ld)]`` are ``evaluate`` JSONs; ``auc_files[(dataset, source)]``
    are ``train_classifier`` JSONs with source "real", "<method>-<ld>", "real+<method>-<ld>", and
    ``intervals`` their subject-level AUC intervals (:func:`auc_intervals`); ``floor_files[dataset]``
    the ``real_features`` floor: FID / KID of real images at the generated sets' size, shown in the
    "Real data" row.
    """
    rows = []
    extractors = set()
    for (dataset, method, ld), path in sorted(metric_files.items()):
        m = read_metrics(path, (*METRIC_KEYS, "delta"))
        auc = read_json(auc_files[(dataset, f"{method}-{ld}")])
        extractors.add(m["feature_extractor"].split(":")[0])
        rows.append({
            "dataset": dataset, "method": method_title(method), "LD": ld == "LD", "delta": m["delta"], **distance_columns(m, path),
            **seed_columns(m),
            **_auc_columns(auc, intervals[(dataset, f"{method}-{ld}")], f"AUC of {dataset}/{method}-{ld}"),
        })
    for (dataset, source), path in sorted(auc_files.items()):
        if data_utility_row(source):
            auc = read_json(path)
            floor = {}
            if source == "real":
                m = read_metrics(floor_files[dataset], (*METRIC_KEYS, "n_pool"))
                extractors.add(m["feature_extractor"].split(":")[0])
                floor = {**distance_columns(m, floor_files[dataset]), "n_generated": m["n_pool"]}
            rows.append({
                "dataset": dataset, "method": data_utility_row(source),
                "LD": source.endswith("-LD") if "+" in source else None, "delta": None, "FID": None, "KID": None,
                **_auc_columns(auc, intervals[(dataset, source)], f"AUC in {path}"), "n_real_test": auc["n_test"], **floor,
            })
    if len(extractors) > 1:
        raise LdbenchError(f"Table 1 mixes feature extractors {sorted(extractors)}; FID/KID cells would not be comparable")
    frame = pd.DataFrame(rows)
    frame.attrs["extractor"] = extractors.pop() if extractors else "evaluator"
    return frame


def _prdc_cell(row: pd.Series) -> str:
    return "–" if pd.isna(row["FID"]) else " / ".join(f"{row[k]:.2f}" for k in PRDC)


def _frd_cell(row: pd.Series) -> str:
    return "–" if pd.isna(row.get("FRD")) else f"{row['FRD']:.2f} [{row['FRD_ci_low']:.2f}, {row['FRD_ci_high']:.2f}]"


def _seeds_cell(row: pd.Series) -> str:
    if pd.isna(row.get("FID_seeds_mean")):
        return "–"
    cells = [mean_sd(row["FID_seeds_mean"], row["FID_seeds_sd"], 2), mean_sd(row["KID_seeds_mean"], row["KID_seeds_sd"], 4)]
    if not pd.isna(row.get("FRD_seeds_mean")):
        cells.append(mean_sd(row["FRD_seeds_mean"], row["FRD_seeds_sd"], 2))
    return " / ".join(cells)


def _cell(row: pd.Series) -> str:
    auc = f"{row['AUC']:.3f} [{row['AUC_ci_low']:.3f}, {row['AUC_ci_high']:.3f}]"
    if pd.isna(row["FID"]):
        return f"– / – / {auc}"
    return (f"{row['FID']:.2f} [{row['FID_ci_low']:.2f}, {row['FID_ci_high']:.2f}] / "
            f"{row['KID']:.4f} [{row['KID_ci_low']:.4f}, {row['KID_ci_high']:.4f}] / {auc}")


def display_table1(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per method × LD, one "FID / KID / AUC" column per dataset."""
    extractor = frame.attrs.get("extractor", "evaluator")
    frame = frame.assign(ld_text=frame["LD"].map({True: "yes", False: "no"}).fillna("–"), cell=frame.apply(_cell, axis=1),
                         prdc=frame.apply(_prdc_cell, axis=1), frd=frame.apply(_frd_cell, axis=1),
                         delta_text=frame["delta"].map(lambda d: "–" if pd.isna(d) else f"{d:+g}"))
    order = [cls.title for cls in finetuning_methods().values()] + list(DATA_UTILITY_ROWS.values())
    frame["order"] = frame["method"].map(order.index)
    values = ("delta_text", "cell", *(("frd",) if "FRD" in frame else ()), *(("seeds_cell",) if "FID_seeds_mean" in frame else ()), "prdc")
    frame["seeds_cell"] = frame.apply(_seeds_cell, axis=1)
    wide = frame.pivot_table(index=["order", "method", "ld_text"], columns="dataset", values=list(values), aggfunc="first")
    datasets = list(dict.fromkeys(frame["dataset"]))
    wide = wide[[(v, d) for d in datasets for v in values]].reset_index().sort_values(["order", "ld_text"]).drop(columns="order")
    label = fid_label(extractor)
    over_seeds = f"FID / KID{' / FRD' if 'FRD_seeds_mean' in frame else ''} over seeds (mean ± sd)"
    names = {"delta_text": "δ", "cell": f"{label} / KID / AUC", "frd": "FRD", "seeds_cell": over_seeds, "prdc": "P / R / D / C"}
    wide.columns = ["Method", "LD"] + [f"{d}: {names[v]}" for d in datasets for v in values]
    return wide.fillna("–")


def write_table1(frame: pd.DataFrame, stem: Path) -> None:
    data = frame.round({"FID": 4, "FID_ci_low": 4, "FID_ci_high": 4, "FRD": 4, "FRD_ci_low": 4, "FRD_ci_high": 4, "KID": 6, "KID_ci_low": 6, "KID_ci_high": 6, "AUC": 4, "AUC_ci_low": 4, "AUC_ci_high": 4, "AUC_std": 4, "delta": 4,
                        **{f"{m}_seeds_{stat}": 6 for m in ("FID", "KID", "FRD") for stat in ("mean", "sd")}})
    features = ("clean-fid's InceptionV3 features ('clean' mode, resized to 299²)" if frame.attrs.get("extractor") == "inception"
                else "the evaluator network's features (a multi-task network trained on the real training split for evaluation only: "
                "no reported classifier, δ search or edit score uses it; not Inception)")
    note = (
        f"FID/KID: clean-fid distances to the real test split on {features}, each with a 95 % interval of its expected value at "
        "these sample sizes (half-sampling without replacement; tests/test_intervals.py checks its coverage); "
        f"P / R / D / C: precision, recall, density and coverage (Naeem et al. 2020, the prdc package, k nearest neighbours "
        "on the same features); "
        "AUC: macro ROC AUC on the real test split, mean over classifier seeds, with a 95 % interval from resampling test "
        "subjects (each with all its images: the test split holds several visits per subject). "
        "Generated by ldbench from the metric JSON files of this run."
    )
    if "FRD" in frame:
        frd_counts = frame.dropna(subset=["FRD"]).groupby("dataset")[["FRD_n", "FRD_n_real"]].max()
        note += (" FRD: Fréchet Radiomics Distance v1 (frd-score: pyradiomics features of the original, LoG and wavelet images, "
                 "z-scored by the real test images, log of the Fréchet distance; lower is better; no network involved) with the "
                 "same kind of interval, on the first " + "; ".join(
                     f"{int(r.FRD_n)} generated vs {int(r.FRD_n_real)} real test images ({d})" for d, r in frd_counts.iterrows()) + ".")
    if "FID_seeds_mean" in frame:
        seeds = frame.dropna(subset=["FID_seeds_mean"]).groupby("dataset")[["seeds", "seeds_n"]].max()
        note += (" Over seeds: each model's set sampled again with further generation seeds (evaluation.seeds), the first n prompts "
                 "each, every model with the same noise per seed; the metrics per seed at that n, mean ± sample SD over seeds "
                 "(the spread a rerun with other noise gives; at n below the set's size the values carry more small-sample "
                 "bias than the full-set ones): " + "; ".join(f"{int(r.seeds)} seeds × {int(r.seeds_n)} images ({d})"
                                                            for d, r in seeds.iterrows()) + ".")
    counts = frame.dropna(subset=["FID"]).groupby("dataset")[["n_generated", "n_real_test"]].max()
    note += " Sample counts: " + "; ".join(
        f"{d}: {int(r.n_generated)} generated vs {int(r.n_real_test)} real test images" for d, r in counts.iterrows()) + "."
    note += (" The Real data row's FID / KID is the real floor: the test split against as many real train + val images as each model "
             "generated, disjoint from it (what a perfect model would score at this size; FID is biased by n, see fig_metric_vs_n). "
             "LD minus no LD, paired: table_ld_effect. Classifiers train for steps counted in epochs of the real training set: "
             "Real + synthetic is the paper's 50 % real + 50 % synthetic at the real set's size (no image twice); Real + all synthetic "
             "adds every synthetic image to the real set and trains twice as many steps, beside Real data trained for those steps.")
    write_table(stem, data, display_table1(frame), "Table 1: fine-tuning methods with and without Latent Drifting", note)
