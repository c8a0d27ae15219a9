"""Stage ``synthesize``: a synthetic training set from a fine-tuned model at its chosen δ.

Prompts are those of training-split slices: by default every slice once, so the synthetic set is the
training set's twin (as many unique images, the same label and age/sex mix), otherwise
``sampling.n_images`` slices drawn with the config seed; each image's labels are those of the
prompt it came from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..drift import delta_cell, delta_record, format_delta
from ..images import save_png, to_gray_uint8
from ..models import read_metadata
from ..sample import generate
from ..seeds import derive_seed
from ..settings import TRAIN_SPLIT, SynthesizeSettings
from ..utils import atomic_dir, write_csv
from .common import draw_rows, inference_delta, inference_model, model_prompts, read_slices, split_rows

log = logging.getLogger("ldbench")

SAMPLE_COLUMNS_DROPPED = ("image", "split", "prompt")


def synthesis_rows(train: pd.DataFrame, settings: SynthesizeSettings) -> pd.DataFrame:
    """The training rows whose prompts are sampled: every one, in order ("train_split": image i is the
    synthetic twin of training slice i), or ``n_images`` drawn with the seed."""
    if settings.n_images == TRAIN_SPLIT:
        return train.reset_index(drop=True)
    return draw_rows(train, settings.n_images, derive_seed(settings.seed, "synthesize", "prompts"))


def synthesize(settings: SynthesizeSettings, model_dir: Path, slices_csv: Path, chosen_json: Path | None, out_dir: Path,
               per_channel: bool = False) -> None:
    """A sample set at the model's δ (``per_channel``: the per-channel δ its search fitted, ``drift.shape: channel``)."""
    delta = inference_delta(chosen_json, per_channel)
    components = inference_model(settings.performance, model_dir)
    meta = read_metadata(model_dir)
    rows = synthesis_rows(split_rows(read_slices(slices_csv), "train"), settings)
    prompts = model_prompts(rows, settings.dataset.kind, meta)
    log.info("%d samples at δ=%s, e.g. %r", len(prompts), format_delta(delta_record(delta)), prompts[0])
    images = to_gray_uint8(generate(components, prompts, delta=delta, seed=derive_seed(settings.seed, "synthesize", "noise"), **settings.sampling.kwargs()))

    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        table = rows.drop(columns=[c for c in SAMPLE_COLUMNS_DROPPED if c in rows.columns])
        names = [f"{i:05d}.png" for i in range(len(images))]
        for name, pixels in zip(names, images):
            save_png(tmp / "images" / name, pixels)
        table.insert(0, "image", [str(out_dir / "images" / n) for n in names])
        table.insert(1, "prompt", prompts)
        table["delta"] = delta_cell(delta)
        table["inference_shift"] = settings.sampling.inference_shift
        table["sampling_steps"] = settings.sampling.steps
        table["source_subject"] = table.pop("subject")
        write_csv(tmp / "samples.csv", table)
