"""The δ ablation table: every model's grid search, scores and FID per inference δ.

Rows come from the ``drift_search`` outputs only (``grid.csv`` and ``chosen.json`` per model):
every method's ``noLD`` model (inference-only LD) and ``LD`` model, and for
``drift.loss_target_ablation``'s methods the model trained with the other loss target too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..drift import INFERENCE_SHIFT_TEXT
from ..methods import method_title
from ..utils import LdbenchError, read_json
from .render import write_table

LOSS_TARGET_NAMES = {"drifted_noise": "ε + δ (drifted_noise)", "noise": "ε (noise)"}
NO_DRIFT = "no LD (trained without drift)"
SELECTION_NAMES = {"energy": "the energy distance", "paired_l1": "the paired L1"}


def delta_ablation_frame(grids: Mapping[tuple[str, str, str], Path]) -> pd.DataFrame:
    """Long table (dataset, method, loss target, δ, energy, paired L1, ℓ_in, ℓ_o, score, FID, chosen) from
    ``grids[(dataset, method, ld)]`` = the folder holding ``grid.csv`` and ``chosen.json``."""
    frames = []
    for (dataset, method, ld), folder in sorted(grids.items()):
        grid = pd.read_csv(Path(folder) / "grid.csv")
        missing = {"delta", "energy", "paired_l1", "l_in", "l_out", "score", "fid_domain", "n"} - set(grid.columns)
        if missing:
            raise LdbenchError(f"{folder}/grid.csv lacks column(s) {sorted(missing)}: written by an older ldbench; rerun drift_search")
        chosen = read_json(Path(folder) / "chosen.json")
        if chosen.get("inference_shift") not in INFERENCE_SHIFT_TEXT:
            raise LdbenchError(f"{folder}/chosen.json: inference_shift must be one of {sorted(INFERENCE_SHIFT_TEXT)}, got "
                               f"{chosen.get('inference_shift')!r} (drift_search writes it; rerun it for results older than this field)")
        if chosen.get("selection") not in SELECTION_NAMES:
            raise LdbenchError(f"{folder}/chosen.json: selection must be one of {sorted(SELECTION_NAMES)}, got {chosen.get('selection')!r} "
                               "(drift_search writes it; rerun it for results older than this field)")
        if (chosen.get("loss_target") not in LOSS_TARGET_NAMES or not isinstance(chosen.get("train_delta"), (int, float))
                or not isinstance(chosen.get("sampling_steps"), int)):
            raise LdbenchError(f"{folder}/chosen.json: needs loss_target (one of {sorted(LOSS_TARGET_NAMES)}), a numeric "
                               f"train_delta and the integer sampling_steps, got {chosen.get('loss_target')!r}, "
                               f"{chosen.get('train_delta')!r} and {chosen.get('sampling_steps')!r} (drift_search writes them; "
                               f"rerun it for results older than these fields)")
        trained = NO_DRIFT if not chosen["train_delta"] else f"LD, {LOSS_TARGET_NAMES[chosen['loss_target']]}"
        grid = grid.assign(shape=grid.get("shape", "scalar"))  # files written before drift.shape: scalar rows only
        scalar = grid["shape"] == "scalar"
        channel_pick = (chosen.get("channel") or {}).get("scale")
        picked = (scalar & (grid["delta"] == chosen["delta"])) | (~scalar & (grid.get("channel_scale") == channel_pick))
        frames.append(grid.assign(dataset=dataset, method=method_title(method), variant=ld, trained=trained,
                                  loss_target=LOSS_TARGET_NAMES[chosen["loss_target"]],
                                  train_delta=float(chosen["train_delta"]), chosen=picked,
                                  steps=int(chosen["sampling_steps"]), selection=chosen["selection"], shift=chosen["inference_shift"],
                                  **{"lambda": chosen["lambda"]}))
    if not frames:
        raise LdbenchError("no δ grid-search results to tabulate")
    frame = pd.concat(frames, ignore_index=True)
    for column, what in (("steps", "sampling step counts"), ("selection", "selection scores"), ("shift", "inference shifts")):
        if frame[column].nunique() > 1:
            raise LdbenchError(f"δ grid searches used different {what} {sorted(frame[column].unique())}; their choices are not comparable")
    extra = [c for c in ("channel_scale", "delta_channels") if c in frame]  # drift.shape: channel
    table = frame[["dataset", "method", "variant", "trained", "loss_target", "train_delta", "shape", "delta", *extra, "energy", "paired_l1", "l_in",
                   "l_out", "score", "fid_domain", "n", "chosen", "lambda"]]
    table.attrs["steps"] = int(frame["steps"].iloc[0])
    table.attrs["selection"] = frame["selection"].iloc[0]
    table.attrs["inference_shift"] = frame["shift"].iloc[0]
    return table


def write_delta_ablation(frame: pd.DataFrame, stem: Path) -> None:
    def cell(row) -> str:
        mark = " *" if row["chosen"] else ""
        return f"{row['energy']:.4f} / {row['paired_l1']:.4f} / {row['fid_domain']:.4g}{mark}"

    # rows of one method: without drift, then the configured loss target (variant LD), then the ablation's
    variants = sorted(frame["variant"].unique(), key=lambda v: (v != "noLD", v != "LD", v))
    order = pd.Categorical(frame["trained"], categories=list(dict.fromkeys(frame.set_index("variant").loc[variants, "trained"])))
    shown = frame.assign(cell=frame.apply(cell, axis=1), trained=order)
    index = ["dataset", "method", "trained"]
    # one column per scalar δ, then (drift.shape: channel) one per multiple of the fitted per-channel δ
    channel = shown["shape"] == "channel"
    labels = {d: f"δ = {d:+g}" for d in sorted(shown.loc[~channel, "delta"].unique())}
    scales = {v: f"per-channel δ ×{v:g}" for v in sorted(shown.loc[channel, "channel_scale"].unique())} if channel.any() else {}
    shown["column"] = [scales[r.channel_scale] if c else labels[r.delta] for r, c in zip(shown.itertuples(), channel)]
    order = [*labels.values(), *scales.values()]
    wide = shown.pivot_table(index=index, columns="column", values="cell", aggfunc="first", observed=True)[order].reset_index()
    wide.columns = ["dataset", "method", "fine-tuned", *order]
    lam = float(frame["lambda"].iloc[0])
    train_deltas = ", ".join(f"{d:g}" for d in sorted(frame["train_delta"].unique()) if d)
    selection = frame.attrs["selection"]
    note = (f"Each cell: energy distance between the samples and the real validation slices (2E|X−Y| − E|X−X′| − E|Y−Y′|, "
            f"per-image L1 in [0, 1]) / paired L1 (each sample against the real validation slice its prompt came from: the "
            f"paper's reading, which the blurry per-pixel median minimises) / FID (domain features) of the same samples against "
            f"the real test split; * marks the δ chosen: the lowest L(δ) = {lam:g}·ℓ_o + ℓ_in with ℓ_in = {SELECTION_NAMES[selection]} "
            f"(drift.selection; ℓ_o: the real-data classifier's BCE on the prompt's labels). "
            f"Every δ samples from identical initial noise. The LD models were fine-tuned with δ = {train_deltas}, the noLD models "
            f"without drift (their search is inference-only LD); at inference "
            f"(drift.inference_shift: {frame.attrs['inference_shift']}) {INFERENCE_SHIFT_TEXT[frame.attrs['inference_shift']].format(steps=frame.attrs['steps'])}. The LD models' loss target: what the denoiser regressed while "
            f"fine-tuning with LD, the noise actually added (ε + δ) or the plain noise (ε); the paper does not say which. "
            f"n = {int(frame['n'].iloc[0])} samples per δ.")
    if channel.any():
        note += (" Beyond the paper (drift.shape: channel): 'per-channel δ ×k' is k times the δ vector fitted per latent channel "
                 "(a line per channel through the channel means of the scalar grid's samples, solved for the real validation slices' "
                 "mean); * there marks the multiple the per-channel row of table_ld_2x2 uses (its values: delta_channels in the CSV).")
    write_table(stem, frame, wide.fillna("–"), "δ ablation: inference drift per model (noLD: inference-only LD)", note)
