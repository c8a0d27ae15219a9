"""Stage ``drift_search``: choose the inference δ of an LD model on a grid.

For every δ on ``drift.grid`` the model (loaded once) generates images for the same validation
prompts from identical initial noise. Each δ is scored by the counterfactual objective
``L(δ) = λ·ℓ_o + ℓ_in`` (DESIGN §4). ℓ_in is ``drift.selection``:

* ``energy`` (default): the energy distance between the samples and the real validation slices,
  2E|X−Y| − E|X−X′| − E|Y−Y′| from the same per-image L1 terms; zero only when the two agree.
* ``paired_l1``: the paper's reading, the L1 between each sample and the real slice its prompt was
  built from. The per-pixel median image minimises it, so it rewards blurry, uniform samples.

Both are computed and tabulated for every δ (pixels in [0, 1]). ℓ_o is the binary cross-entropy of
the real-data classifier on the prompt's labels, over the prompts of the classification task's rows
(brain MCI prompts are neither class). FID (domain features) per δ is reported beside the score but
does not choose δ.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..classifier import extract_features, load_classifier
from ..drift import as_delta, delta_cell, delta_record, fit_channel_delta, format_delta, parse_delta
from ..encoding import encode_images
from ..images import gray_uint8_to_model, gray_uint8_to_unit, load_classifier_inputs, read_grays, to_gray_uint8
from ..metrics import energy_distance, fid_from_features, l1_distance
from ..models import read_metadata
from ..sample import generate
from ..seeds import derive_seed
from ..settings import DriftSearchSettings
from ..utils import LdbenchError, atomic_path, write_csv, write_json
from .common import draw_rows, inference_model, model_prompts, read_slices, split_rows, target_matrix, task_mask

log = logging.getLogger("ldbench")

SELECTION_TEXT = {
    "energy": "energy distance (2E|X−Y| − E|X−X′| − E|Y−Y′|, per-image L1) between samples and real validation slices",
    "paired_l1": "mean L1(generated, paired real slice)",
}


def drift_search(settings: DriftSearchSettings, model_dir: Path, slices_csv: Path, classifier_path: Path, out_csv: Path, out_json: Path,
                 out_sweep: Path) -> None:
    components = inference_model(settings.performance, model_dir)
    meta = read_metadata(model_dir)
    slices = read_slices(slices_csv)
    rows = draw_rows(split_rows(slices, "val"), settings.n_samples, derive_seed(settings.seed, "drift_search", "rows"))
    prompts = model_prompts(rows, settings.dataset.kind, meta)
    real = read_grays(rows["image"])
    classifier, targets = load_classifier(classifier_path)
    labels = torch.from_numpy(target_matrix(rows, targets))
    # ℓ_o scores only the rows of the classification task (brain: not MCI, which is neither class)
    in_task = torch.from_numpy(task_mask(rows, settings.task))[:, None]
    test = split_rows(slices, "test")
    real_features = extract_features(classifier, load_classifier_inputs(test["image"]))

    mask = ~torch.isnan(labels) & in_task
    if settings.classifier_weight and not mask.any():
        raise LdbenchError(f"drift.lambda > 0, but none of the {len(rows)} validation prompts belongs to the classification task")

    def scored(images: torch.Tensor) -> dict:
        """L(δ) and its terms for one δ's samples."""
        generated = to_gray_uint8(images)
        x = gray_uint8_to_unit(generated)
        with torch.no_grad():
            logits = classifier(x)
        l_out = float(F.binary_cross_entropy_with_logits(logits[mask], labels[mask])) if mask.any() else float("nan")
        distances = {"paired_l1": l1_distance(generated, real), "energy": energy_distance(generated, real)}
        l_in = distances[settings.selection]
        score = settings.classifier_weight * l_out + l_in if settings.classifier_weight else l_in
        return {**distances, "l_in": l_in, "l_out": l_out, "score": score, "fid_domain": fid_from_features(real_features, extract_features(classifier, x)),
                "n": len(prompts)}

    records, sweep = [], []
    grid = list(settings.grid)
    noise_seed = derive_seed(settings.seed, "drift_search", "noise")
    grid_images = generate(components, prompts, delta=grid, seed=noise_seed, desc="δ grid", **settings.sampling.kwargs())
    for delta, images in zip(grid, grid_images):
        sweep.append(to_gray_uint8(images))
        records.append({"shape": "scalar", "delta": float(delta), "channel_scale": float("nan"), **scored(images)})
        r = records[-1]
        log.info("δ=%+.3f  paired L1=%.4f  energy=%.4f  ℓ_o=%.4f  L=%.4f  FID(domain)=%.2f", delta, r["paired_l1"], r["energy"], r["l_out"], r["score"], r["fid_domain"])
    channel = None
    if settings.shape == "channel":
        channel = _fit_channel(components, settings, grid, sweep, real, prompts, noise_seed, scored, records)
    table = pd.DataFrame(records)
    scalar = table[table["shape"] == "scalar"]
    best = scalar.loc[scalar["score"].idxmin()]
    chosen = {
        "delta": float(best["delta"]), "score": float(best["score"]), "lambda": settings.classifier_weight,
        "selection": settings.selection, "criterion": f"L(δ) = λ·BCE(real-data classifier, prompt labels) + {SELECTION_TEXT[settings.selection]}",
        "n_samples": len(prompts), "split": "val", "seed": settings.seed,
        "sampling_steps": settings.sampling.steps, "scheduler": settings.sampling.scheduler,
        "inference_shift": settings.sampling.inference_shift,
        # what the model was fine-tuned with, for the δ ablation's rows
        "model": str(model_dir), "train_delta": meta["train_delta"], "loss_target": meta["training"]["loss_target"],
        "shape": settings.shape, "channel": channel,
    }
    write_csv(out_csv, table)
    write_json(out_json, chosen)
    with atomic_path(out_sweep, suffix=".npz") as tmp:
        np.savez_compressed(tmp, images=np.stack(sweep), deltas=np.asarray(grid, dtype=np.float64), real=real)
    log.info("chosen δ = %+.3f%s", chosen["delta"], f"; per-channel δ = {format_delta(channel['delta'])}" if channel else "")


def _fit_channel(components, settings: DriftSearchSettings, grid: list[float], sweep: list[np.ndarray], real: np.ndarray, prompts: list[str],
                 noise_seed: int, scored, records: list[dict]) -> dict:
    """``drift.shape: channel``: one δ per latent channel, from the channel means of the grid's samples against the real
    validation slices' (both through the VAE encoder, :func:`ldbench.drift.fit_channel_delta`), then the multiple
    of it (``drift.channel_scales``) with the lowest L(δ), scored on the same prompts and noise as the scalar grid."""
    def channel_means(gray: np.ndarray) -> np.ndarray:  # the saved 8-bit images, real and generated alike
        return encode_images(components, gray_uint8_to_model(gray), desc="encode")[0].mean(dim=(0, 2, 3)).numpy()

    generated_means, real_means = np.stack([channel_means(images) for images in sweep]), channel_means(real)
    fitted = fit_channel_delta(grid, generated_means, real_means)
    candidates = [as_delta([scale * v for v in fitted]) for scale in settings.channel_scales]
    images = generate(components, prompts, delta=candidates, seed=noise_seed, desc="per-channel δ", **settings.sampling.kwargs())
    start = len(records)
    for scale, delta, samples in zip(settings.channel_scales, candidates, images):
        records.append({"shape": "channel", "delta": float("nan"), "channel_scale": float(scale), "delta_channels": delta_cell(delta), **scored(samples)})
        log.info("per-channel δ=%s (×%g)  energy=%.4f  L=%.4f", format_delta(delta_record(delta)), scale, records[-1]["energy"], records[-1]["score"])
    best = min(records[start:], key=lambda r: r["score"])
    return {"delta": parse_delta(best["delta_channels"]), "scale": best["channel_scale"], "score": best["score"],
            "fitted": delta_record(as_delta(list(fitted))), "real_channel_means": real_means.round(6).tolist(),
            "criterion": "per latent channel, a line through the channel means of the scalar grid's samples solved for the real validation "
                         "slices' mean (VAE encoder, scaled latents), clipped to the grid's range; then the multiple in drift.channel_scales "
                         "with the lowest L(δ)"}
