"""Stage ``synthesize``: a synthetic training set from a fine-tuned model at its chosen δ.

Prompts are those of training-split slices: by default every slice once, so the synthetic set is the
training set's twin (as many unique images, the same label and age/sex mix), otherwise
``sampling.n_images`` slices drawn with the config seed; each image's labels are those of the
prompt it came from.

Table 1's sets (``generation_seeds``) are also sampled with generation seeds 1 … ``evaluation.seeds`` − 1:
the first ``evaluation.images`` prompts again, each seed with its own initial noise, into
``seeds/<seed>/``; ``seeds.csv`` lists them with seed 0 (the set's own first images), so
``evaluate`` reports each metric as a mean ± sd over seeds. Every model draws seed s's noise from
the same stream, so LD and no-LD sets stay paired per seed.
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
from ..settings import TRAIN_SPLIT, GenerationSeeds, SampleSetSettings
from ..utils import atomic_dir, write_csv
from .common import draw_rows, inference_delta, inference_model, model_prompts, read_slices, split_rows

log = logging.getLogger("ldbench")

SAMPLE_COLUMNS_DROPPED = ("image", "split", "prompt")


def synthesis_rows(train: pd.DataFrame, settings: SampleSetSettings) -> pd.DataFrame:
    """The training rows whose prompts are sampled: every one, in order ("train_split": image i is the
    synthetic twin of training slice i), or ``n_images`` drawn with the seed."""
    if settings.n_images == TRAIN_SPLIT:
        return train.reset_index(drop=True)
    return draw_rows(train, settings.n_images, derive_seed(settings.seed, "synthesize", "prompts"))


def synthesize(settings: SampleSetSettings, model_dir: Path, slices_csv: Path, chosen_json: Path | None, out_dir: Path,
               per_channel: bool = False, generation_seeds: GenerationSeeds | None = None) -> None:
    """A sample set at the model's δ (``per_channel``: the per-channel δ its search fitted, ``drift.shape: channel``),
    and with ``generation_seeds`` its further seeds."""
    delta = inference_delta(chosen_json, per_channel)
    components = inference_model(settings.performance, model_dir)
    meta = read_metadata(model_dir)
    rows = synthesis_rows(split_rows(read_slices(slices_csv), "train"), settings)
    prompts = model_prompts(rows, settings.dataset.kind, meta)
    log.info("%d samples at δ=%s, e.g. %r", len(prompts), format_delta(delta_record(delta)), prompts[0])
    sample = lambda prompts, *noise: to_gray_uint8(generate(components, prompts, delta=delta, seed=derive_seed(settings.seed, "synthesize", "noise", *noise),
                                                            **settings.sampling.kwargs()))
    images = sample(prompts)
    n_seed = generation_seeds.count(len(prompts)) if generation_seeds else 0
    seeds = range(1, generation_seeds.seeds) if generation_seeds else range(0)
    if seeds:
        log.info("generation seeds %s: %d images each", list(seeds), n_seed)
    seed_images = {seed: sample(prompts[:n_seed], "generation_seed", seed) for seed in seeds}

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
        if seed_images:
            listing = [pd.DataFrame({"seed": 0, "image": table["image"].iloc[:n_seed], "prompt": prompts[:n_seed]})]
            for seed, pixels in seed_images.items():
                paths = [out_dir / "seeds" / str(seed) / name for name in names[:n_seed]]
                for path, image in zip(paths, pixels):
                    save_png(tmp / path.relative_to(out_dir), image)
                listing.append(pd.DataFrame({"seed": seed, "image": list(map(str, paths)), "prompt": prompts[:n_seed]}))
            write_csv(tmp / "seeds.csv", pd.concat(listing, ignore_index=True))
