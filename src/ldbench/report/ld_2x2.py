"""``table_ld_2x2``: training drift × inference drift, so the two parts of LD are told apart.

Table 1's "LD" row differs from "no LD" twice: the model was fine-tuned with drift, and it samples
at a searched δ. Here every method gets four sets, all sampled from the same prompts and initial
noise: no drift (noLD, δ = 0), training drift only (LD model at δ = 0), inference drift only (the
noLD model at its *own* searched δ: the paper's "LD at inference as a condition"), and both (LD at
its searched δ). Each drift is compared with no drift as a paired difference (``evaluate``'s
``ld_effect`` block), so a reader sees which part moves FID and KID. Both searched δ come from the
same grid search, so neither side gets more tuning than the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..drift import format_delta
from ..methods import method_title
from ..utils import LdbenchError, read_json
from .ld_effect import interval_verdict
from .render import write_table

#: the four cells, by the sample sets' ``ld`` names: (training drift, inference drift)
CELLS = {"noLD": ("no", "δ = 0"), "LD@zero": ("yes", "δ = 0"), "noLD@searched": ("no", "searched δ"), "LD": ("yes", "searched δ")}
#: beyond the paper (``drift.shape: channel``): a fifth row, the LD model at its fitted per-channel δ
CHANNEL_CELL = {"LD@channel": ("yes", "per-channel δ")}
ROWS = {**CELLS, **CHANNEL_CELL}


def ld_2x2_frame(metric_files: Mapping[tuple[str, str, str], Path]) -> pd.DataFrame:
    """One row per (dataset, method, cell) from the ``evaluate`` JSONs of the four sets (empty: drift.ld_2x2 lists none)."""
    if not metric_files:
        return pd.DataFrame()
    rows = []
    for (dataset, method, ld), path in sorted(metric_files.items()):
        if ld not in ROWS:
            continue
        m = read_json(path)
        row = {"dataset": dataset, "method": method_title(method), "cell": ld, "training drift": ROWS[ld][0],
               "inference drift": ROWS[ld][1], "delta": m["delta"], "FID": m["fid"], "FID_ci_low": m["fid_ci95"][0],
               "FID_ci_high": m["fid_ci95"][1], "KID": m["kid"], "KID_ci_low": m["kid_ci95"][0], "KID_ci_high": m["kid_ci95"][1],
               "n_generated": m["n_generated"], "inference_shift": m.get("inference_shift")}
        if ld != "noLD":
            e = m.get("ld_effect")
            if not e:
                raise LdbenchError(f"{path}: no paired effect against the noLD set (ld_effect): written by an older ldbench; re-run evaluate")
            for metric in ("fid", "kid"):
                low, high = e[f"delta_{metric}_ci95"]
                row |= {f"d{metric.upper()}": e[f"delta_{metric}"], f"d{metric.upper()}_ci_low": low, f"d{metric.upper()}_ci_high": high,
                        f"{metric.upper()}_verdict": interval_verdict(low, high, subject="drift")}
        rows.append(row)
    incomplete = sorted({(d, m) for d, m, _ in metric_files if any((d, m, cell) not in metric_files for cell in CELLS)})
    if incomplete:
        raise LdbenchError(f"the 2×2 needs the four sample sets {list(CELLS)} of every method; incomplete for {incomplete}")
    frame = pd.DataFrame(rows)
    frame["order"] = frame["cell"].map(list(ROWS).index)
    return frame.sort_values(["dataset", "method", "order"]).drop(columns="order").reset_index(drop=True)


def write_ld_2x2(frame: pd.DataFrame, stem: Path, extractor_label: str) -> None:
    if frame.empty:
        write_table(stem, frame, frame, "Training drift × inference drift (LD 2×2)", "drift.ld_2x2 lists no method: nothing to tabulate.")
        return
    def effect(r, metric: str) -> str:
        if r.cell == "noLD":
            return "(reference)"
        value, low, high = (getattr(r, f"d{metric}{s}") for s in ("", "_ci_low", "_ci_high"))
        return f"{value:+.3g} [{low:+.3g}, {high:+.3g}] {getattr(r, f'{metric}_verdict')}"

    display = pd.DataFrame({
        "Dataset": frame["dataset"], "Method": frame["method"], "Training drift": frame["training drift"],
        "Inference drift": frame["inference drift"], "δ": frame["delta"].map(format_delta),
        extractor_label: [f"{r.FID:.2f} [{r.FID_ci_low:.2f}, {r.FID_ci_high:.2f}]" for r in frame.itertuples()],
        "KID": [f"{r.KID:.4f} [{r.KID_ci_low:.4f}, {r.KID_ci_high:.4f}]" for r in frame.itertuples()],
        "ΔFID vs no drift": [effect(r, "FID") for r in frame.itertuples()],
        "ΔKID vs no drift": [effect(r, "KID") for r in frame.itertuples()],
    })
    shifts = ", ".join(sorted({str(s) for s in frame["inference_shift"].dropna()}))
    note = ("Four sample sets per method, all from the same prompts and initial noise: the noLD model at δ = 0 and the LD model at "
            "its searched δ (Table 1's two rows), the LD model at δ = 0 (training drift only), and the noLD model at the δ its own "
            f"grid search chose (inference drift only: the paper's LD at inference; drift.inference_shift: {shifts}). FID / KID as in "
            "Table 1, with 95 % half-sampling intervals; each drift minus no drift is a paired difference (same real half-samples, "
            "index-paired generated sets); 'drift lower' / 'drift higher' when its interval excludes 0, else inconclusive. Both "
            "searches use the same grid, samples and score. Generated by ldbench from this run's metric files.")
    if (frame["cell"] == "LD@channel").any():
        note += (" Beyond the paper (drift.shape: channel): the LD model at a per-channel δ, one value per latent channel, fitted by "
                 "the same search (a line per channel through the channel means of the grid's samples, solved for the real validation "
                 "slices' mean, then the multiple in drift.channel_scales with the lowest L(δ)); δ lists the channels' values.")
    write_table(stem, frame.round(6), display, "Training drift × inference drift (LD 2×2)", note)
