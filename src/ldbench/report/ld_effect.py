"""``table_ld_effect``: LD minus no LD per method, as paired differences with their intervals (FID, KID, AUC).

The verdict of each cell is read off its interval, never off the point estimate: "LD lower" or
"LD higher" when the 95 % interval excludes 0, "inconclusive" when it contains 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..auc import SUBJECT_BOOTSTRAP, auc_difference
from ..methods import method_title
from ..metrics import Interval
from ..seeds import derive_seed
from ..settings import REAL_DOUBLE_STEPS
from ..utils import LdbenchError, read_json
from .render import write_table

EFFECT_KEYS = ("delta_fid", "delta_fid_ci95", "delta_kid", "delta_kid_ci95", "pairing")


def interval_verdict(low: float, high: float, subject: str = "LD") -> str:
    """"LD lower" / "LD higher" (``subject``) when the interval of LD − no LD excludes 0, else "inconclusive"."""
    return f"{subject} lower" if high < 0 else f"{subject} higher" if low > 0 else "inconclusive"


def paired_effect_columns(effect: Mapping, subject: str = "LD") -> dict:
    """dFID / dKID / dFRD with their intervals and verdicts from a paired-effect dict (``delta_fid``, ``delta_fid_ci95``, …);
    FRD only where the run computed it (``metrics.frd_images``)."""
    columns = {}
    for metric in ("fid", "kid", "frd"):
        if f"delta_{metric}" in effect:
            low, high = effect[f"delta_{metric}_ci95"]
            name = metric.upper()
            columns |= {f"d{name}": effect[f"delta_{metric}"], f"d{name}_ci_low": low, f"d{name}_ci_high": high,
                        f"{name}_verdict": interval_verdict(low, high, subject=subject)}
    return columns


#: keys of :func:`paired_auc_effects` for the data-utility comparisons
MIXED_VS_REAL, DOUBLED_VS_CONTROL = "mixed − real", "real + all synthetic − real at 2× steps"


def paired_auc_effects(predictions: Mapping[tuple[str, str], Path], n_boot: int, seed: int) -> dict[tuple[str, str], Interval]:
    """Paired AUC differences on the same test subjects, from ``train_classifier``'s prediction files:
    (dataset, method) → classifier trained on the LD model's images minus the noLD model's;
    (dataset, MIXED_VS_REAL) → the paper's real + synthetic (50/50 at the real size) minus real;
    (dataset, DOUBLED_VS_CONTROL) → real + the whole synthetic set minus real trained as many steps."""
    effects = {}
    for (dataset, source), path in sorted(predictions.items()):
        if source.startswith("mixed+"):
            key, baseline = (dataset, MIXED_VS_REAL), predictions[(dataset, "real")]
        elif source.startswith("real+"):
            key, baseline = (dataset, DOUBLED_VS_CONTROL), predictions[(dataset, REAL_DOUBLE_STEPS)]
        elif source.endswith("-LD"):
            key, baseline = (dataset, source.removesuffix("-LD")), predictions[(dataset, source.replace("-LD", "-noLD"))]
        else:
            continue
        effects[key] = auc_difference(path, baseline, n_boot, derive_seed(seed, "paired_auc", *key))
    return effects


def ld_effect_frame(ld_metric_files: Mapping[tuple[str, str], Path], auc_effects: Mapping[tuple[str, str], Interval]) -> pd.DataFrame:
    """One row per (dataset, method): FID / KID from the LD model's ``evaluate`` JSON (its ``ld_effect``
    block), AUC of the classifiers trained on each model's synthetic set (:func:`paired_auc_effects`)."""
    rows, pairing = [], ""
    for (dataset, method), path in sorted(ld_metric_files.items()):
        metrics = read_json(path)
        e = metrics.get("ld_effect", {})
        missing = [k for k in EFFECT_KEYS if k not in e]
        if missing:
            raise LdbenchError(f"{path}: its ld_effect lacks {missing}: written by an older ldbench; re-run it with `snakemake -R evaluate`")
        pairing = e["pairing"]
        row = {"dataset": dataset, "method": method_title(method), "delta_LD": metrics["delta"]}
        row |= paired_effect_columns(e)
        for metric, stats in e.get("over_seeds", {}).items():  # delta_fid, ...: the same difference per generation seed
            row |= {f"d{metric.removeprefix('delta_').upper()}_seeds_{stat}": stats[stat] for stat in ("mean", "sd")}
        auc = auc_effects[(dataset, method)]
        row |= {"dAUC": auc.value, "dAUC_ci_low": auc.low, "dAUC_ci_high": auc.high, "AUC_verdict": interval_verdict(auc.low, auc.high)}
        rows.append(row | {"n_generated": metrics["n_generated"], "n_real_test": metrics["n_real"]})
    frame = pd.DataFrame(rows)
    frame.attrs["pairing"] = pairing
    return frame


def write_ld_effect(frame: pd.DataFrame, stem: Path, n_boot: int) -> None:
    display = pd.DataFrame({
        "Dataset": frame["dataset"], "Method": frame["method"], "δ (LD)": frame["delta_LD"].map(lambda d: f"{d:+.3f}"),
        "ΔFID (LD − no LD)": [f"{r.dFID:+.3g} [{r.dFID_ci_low:+.3g}, {r.dFID_ci_high:+.3g}]" for r in frame.itertuples()],
        "FID verdict": frame["FID_verdict"],
        "ΔKID (LD − no LD)": [f"{r.dKID:+.3g} [{r.dKID_ci_low:+.3g}, {r.dKID_ci_high:+.3g}]" for r in frame.itertuples()],
        "KID verdict": frame["KID_verdict"],
        **({"ΔFRD (LD − no LD)": [f"{r.dFRD:+.3g} [{r.dFRD_ci_low:+.3g}, {r.dFRD_ci_high:+.3g}]" for r in frame.itertuples()],
            "FRD verdict": frame["FRD_verdict"]} if "dFRD" in frame else {}),
        **{f"Δ{m} over seeds (mean ± sd)": [f"{mean:+.3g} ± {sd:.2g}" for mean, sd in zip(frame[f"d{m}_seeds_mean"], frame[f"d{m}_seeds_sd"])]
           for m in ("FID", "KID", "FRD") if f"d{m}_seeds_mean" in frame},
        "ΔAUC (LD − no LD)": [f"{r.dAUC:+.3f} [{r.dAUC_ci_low:+.3f}, {r.dAUC_ci_high:+.3f}]" for r in frame.itertuples()],
        "AUC verdict": frame["AUC_verdict"],
    })
    note = (f"FID / KID{' / FRD' if 'dFRD' in frame else ''}: paired differences with 95 % intervals (half-sampling without replacement): {frame.attrs.get('pairing', '')}. "
            "AUC: classifier trained on the LD model's synthetic set minus the one trained on the noLD model's, on the same real "
            f"test images; {SUBJECT_BOOTSTRAP.format(n_boot=n_boot)}, the same resamples for both. "
            + ("FRD is a log, so ΔFRD is the log of the ratio of the two Fréchet distances. " if "dFRD" in frame else "")
            + ("Over seeds: the same difference per generation seed (seed-paired: both models' seed s share prompts and noise; "
               "Table 1 gives the images per seed), mean ± sample SD over seeds. " if "dFID_seeds_mean" in frame else "")
            + "A verdict is 'inconclusive' when its interval contains 0. Generated by ldbench from this run's metric and prediction files.")
    write_table(stem, frame.round(6), display, f"LD minus no LD: paired FID, KID{', FRD' if 'dFRD' in frame else ''} and AUC differences", note)
