"""The δ ablation table: every LD model's grid search, score and FID per inference δ.

Rows come from the ``drift_search`` outputs only (``grid.csv`` and ``chosen.json`` per model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd

from ..utils import LdbenchError, read_json
from .render import write_table
from .tables import METHOD_NAMES


def delta_ablation_frame(grids: Mapping[tuple[str, str], Path]) -> pd.DataFrame:
    """Long table (dataset, method, δ, ℓ_in, ℓ_o, score, FID, chosen) from ``grids[(dataset, method)]``
    = the folder holding ``grid.csv`` and ``chosen.json``."""
    frames = []
    for (dataset, method), folder in sorted(grids.items()):
        grid = pd.read_csv(Path(folder) / "grid.csv")
        missing = {"delta", "l_in", "l_out", "score", "fid_domain", "n"} - set(grid.columns)
        if missing:
            raise LdbenchError(f"{folder}/grid.csv lacks column(s) {sorted(missing)}")
        chosen = read_json(Path(folder) / "chosen.json")
        frames.append(grid.assign(dataset=dataset, method=METHOD_NAMES[method], chosen=grid["delta"] == chosen["delta"],
                                  **{"lambda": chosen["lambda"]}))
    if not frames:
        raise LdbenchError("no δ grid-search results to tabulate")
    frame = pd.concat(frames, ignore_index=True)
    return frame[["dataset", "method", "delta", "l_in", "l_out", "score", "fid_domain", "n", "chosen", "lambda"]]


def write_delta_ablation(frame: pd.DataFrame, stem: Path, train_delta: float, steps: int) -> None:
    def cell(row) -> str:
        mark = " *" if row["chosen"] else ""
        return f"{row['score']:.4f} / {row['fid_domain']:.4g}{mark}"

    shown = frame.assign(cell=frame.apply(cell, axis=1))
    wide = shown.pivot_table(index=["dataset", "method"], columns="delta", values="cell", aggfunc="first").reset_index()
    wide.columns = ["dataset", "method"] + [f"δ = {d:+.2f}" for d in wide.columns[2:]]
    lam = float(frame["lambda"].iloc[0])
    note = (f"Each cell: the grid-search score L(δ) = {lam:g}·ℓ_o + ℓ_in (ℓ_in: mean L1 between a sample and the real "
            f"validation slice its prompt came from; ℓ_o: the real-data classifier's BCE on the prompt's labels) / FID "
            f"(domain features) of the same samples against the real test split; * marks the δ chosen (lowest score). "
            f"Every δ samples from identical initial noise. The models were fine-tuned with δ = {train_delta:g}; at inference "
            f"δ is added at each of the {steps} reverse steps. n = {int(frame['n'].iloc[0])} samples per δ.")
    write_table(stem, frame, wide.fillna("–"), "δ ablation: inference drift per LD model", note)
