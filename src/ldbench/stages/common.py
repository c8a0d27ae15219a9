"""Helpers shared by the stages: slice tables, task rows, prompts per model, models for inference."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..drift import Delta, as_delta
from ..metrics import l1_distance, psnr, ssim
from ..prompts import DEFAULT_WORDING, build_prompt
from ..settings import PromptWording
from ..utils import LdbenchError, read_json

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..kinds import DatasetKind, GroundTruth
    from ..models import Components
    from ..settings import ClassifierTask, GroundTruthSettings, PerformanceSettings

REQUIRED_SLICE_COLUMNS = ("image", "subject", "age", "sex", "split", "prompt")


def read_slices(path: str | Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError as err:
        raise LdbenchError(f"{path}: slice table not found") from err
    missing = [c for c in REQUIRED_SLICE_COLUMNS if c not in frame.columns]
    if missing:
        raise LdbenchError(f"{path}: slice table lacks column(s) {missing}")
    return frame


def split_rows(slices: pd.DataFrame, split: str) -> pd.DataFrame:
    rows = slices[slices["split"] == split].reset_index(drop=True)
    if rows.empty:
        raise LdbenchError(f"slice table has no rows in split {split!r}; check datasets.*.split and the dataset size")
    return rows


def task_mask(rows: pd.DataFrame, task: ClassifierTask) -> np.ndarray:
    """Which rows belong to the classification task (``classifier_rows`` query); the targets must be columns."""
    missing = [t for t in task.targets if t not in rows.columns]
    if missing:
        raise LdbenchError(f"classifier_targets {missing} are not columns of the slice table (columns: {sorted(rows.columns)})")
    if not task.rows_query:
        return np.ones(len(rows), dtype=bool)
    try:
        return rows.eval(task.rows_query).to_numpy(dtype=bool)
    except Exception as err:  # pandas raises many types for a bad expression
        raise LdbenchError(f"datasets.*.classifier_rows: cannot evaluate {task.rows_query!r} on the slice table ({err})") from err


def task_rows(rows: pd.DataFrame, task: ClassifierTask) -> pd.DataFrame:
    """Rows of the classification task (``classifier_rows`` query), with the target columns present."""
    return rows[task_mask(rows, task)].reset_index(drop=True)


def target_matrix(rows: pd.DataFrame, targets: list[str]) -> np.ndarray:
    return rows[targets].to_numpy(dtype=np.float32, copy=True)


def prompts_for(rows: pd.DataFrame, kind: str, modality_phrase: str, wording: PromptWording) -> list[str]:
    return [build_prompt(row, kind, modality_phrase, wording) for row in rows.to_dict("records")]


def model_prompts(rows: pd.DataFrame, kind: str, metadata: Mapping) -> list[str]:
    """The prompts of ``rows`` in a fine-tuned model's own phrase and wording, as it was trained on them."""
    wording = metadata.get("prompts")  # None: fine-tuned before prompts had wordings, in the one template of then
    return prompts_for(rows, kind, metadata["modality_phrase"], PromptWording.from_params(wording) if wording else DEFAULT_WORDING)


def inference_model(performance: PerformanceSettings, source, compile: bool = True) -> Components:
    """A model for sampling or editing: on the compute device, in ``performance.inference_precision``.

    ``compile=False`` for callers whose UNet calls change shape or need gradients (the editors).
    """
    from ..models import load_components
    from ..runtime import Performance, prepare_for_inference

    perf = Performance.from_settings(performance)
    if not compile:
        perf = dataclasses.replace(perf, compile=False, cuda_graphs=False)
    return prepare_for_inference(load_components(source, dtype=perf.inference_dtype), perf)


def training_levers(performance: PerformanceSettings) -> dict[str, bool]:
    """``TrainSettings`` keywords of the ``performance`` section, resolved for this device."""
    from ..runtime import Performance

    perf = Performance.from_settings(performance)
    return {"compile": perf.compile, "channels_last": perf.channels_last, "gradient_checkpointing": bool(performance.gradient_checkpointing)}


def draw_rows(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows drawn with a seeded generator (with replacement only when n exceeds the rows)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(rows), size=n, replace=n > len(rows))
    return rows.iloc[idx].reset_index(drop=True)


def inference_delta(chosen_json: str | Path | None, per_channel: bool = False) -> Delta:
    """The δ a model samples at: its grid-searched δ (``chosen.json``) with LD, 0 without; with
    ``per_channel`` the per-channel δ the same search fitted (``drift.shape: channel``)."""
    if not chosen_json:
        return 0.0
    chosen = read_json(chosen_json)
    if not per_channel:
        return float(chosen["delta"])
    if not chosen.get("channel"):
        raise LdbenchError(f"{chosen_json}: no per-channel δ (drift.shape was {chosen.get('shape', 'scalar')!r} when it was searched); re-run drift_search")
    return as_delta(chosen["channel"]["delta"])


def phantom_truths(truth: GroundTruthSettings, kind: DatasetKind, subjects: Sequence, visits: Sequence, images: Sequence[str],
                   changes: Sequence[Mapping]) -> list[GroundTruth]:
    """Each stored phantom image re-rendered with its ``changes`` (:meth:`DatasetKind.rerender`), after checking
    that the re-render of the image itself equals the stored file, so a truth never belongs to another image."""
    from ..images import read_gray

    specs = kind.phantom_specs(truth.phantom.arguments)
    by_key = {(str(s), str(v)): spec for s, v, spec in zip(specs["subject"], specs["visit"], specs["spec"])}
    truths = []
    for subject, visit, image, change in zip(subjects, visits, images, changes, strict=True):
        spec = by_key.get((str(subject), str(visit)))
        if spec is None:
            raise LdbenchError(f"no phantom spec for subject {subject} visit {visit}: was the phantom made with another config?")
        gt = kind.rerender(spec, change, truth.image_size, truth.options)
        if np.abs(read_gray(image).astype(int) - gt.factual.astype(int)).max() > 1:
            raise LdbenchError(f"{image}: differs from its phantom re-render; the ground truth would not match")
        truths.append(gt)
    return truths


def similarity_to(reference: np.ndarray, out: np.ndarray, lpips, suffix: str) -> dict[str, float]:
    """SSIM, PSNR, L1 and LPIPS (NaN where ``lpips`` is None) of an output to a reference image, named ``*_to_{suffix}``."""
    return {f"ssim_to_{suffix}": ssim(reference, out), f"psnr_to_{suffix}": psnr(reference, out), f"l1_to_{suffix}": l1_distance(reference, out),
            f"lpips_to_{suffix}": lpips(reference, out) if lpips else float("nan")}


def output_png(set_name: str, index: int) -> str:
    """Where an edited output is saved inside its stage's folder (the realism rules read it back)."""
    return f"images/{set_name.replace(' ', '_')}/{index:03d}.png"
