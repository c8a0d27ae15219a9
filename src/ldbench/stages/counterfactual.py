"""Stage ``counterfactual``: edit real test images to the opposite label, with and without LD.

Tasks (one attribute changed, the prompt changed accordingly):
  brain  CN → AD (disease addition) and AD → CN (removal);
  cxr    No Finding → Cardiomegaly (addition) and Cardiomegaly → No Finding (removal).
Each source image is edited by the fine-tuned ``counterfactual.method`` model without LD (δ = 0)
and with LD (its searched δ). Beside each edit stand two controls, scored the same way: the *null
edit* (same editor, seed and noise, target prompt = source prompt: whatever it changes, the editing
pipeline changes by itself, blur included) and the *reconstruction* (VAE encode → decode: the
ceiling of anything that passes through the VAE). Scores per image and variant:

* identity: SSIM and PSNR between source and edit;
* LPIPS to the source (and to the truth): only with ``metrics.lpips_backbone`` (AlexNet weights,
  not downloadable offline); otherwise reported as unavailable, never replaced by another
  distance under its name;
* effectiveness: the probability of the target label on the edit by a real-data classifier that the
  δ search does not consult (``real-2x``: the real training split, twice the steps), and the flip
  rate (probability on the target side of 0.5);
* reversibility (edits only): L1 between the source and the edit edited back (target → source prompt);
* against the ground truth, where the dataset is a phantom (``ldbench.data.groundtruth`` renders the
  same subject with the attribute changed, everything else identical): SSIM, PSNR and L1 between
  edit and true counterfactual, the same L1 for the unedited source (what doing nothing scores),
  the mean change inside and outside the region the true counterfactual changes, and locality,
  their ratio (above 1: the change concentrates where the truth changes); the kind's effect measure
  (brain: lateral-ventricle area; X-ray: non-lung fraction of the lower thorax; fixed segmentations),
  the change it measures on the output against the change it measures on the truth: direction
  correct, and the error.

Every output is also saved as a PNG (``images/<task>-<LD>-<variant>/``, its path in the ``output``
column), so that ``edit_realism`` can score the edited sets' realism against real target-class images.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import load_classifier, predict
from ..editing import EDITORS, edit, reconstruct
from ..images import gray_uint8_to_unit, load_images, save_png, to_gray_uint8
from ..kinds import CounterfactualTask, DatasetKind, get_kind
from ..metrics import l1_distance, lpips_or_none, lpips_status, masked_l1
from ..models import read_metadata
from ..seeds import derive_seed
from ..settings import CounterfactualSettings, GroundTruthSettings
from ..utils import LdbenchError, atomic_dir, write_csv, write_json
from .common import (
    draw_rows,
    inference_delta,
    inference_model,
    model_prompts,
    output_png,
    phantom_truths,
    read_slices,
    similarity_to,
    split_rows,
)

log = logging.getLogger("ldbench")

#: what each source image becomes: the edit and its two controls (the null edit, the VAE alone)
VARIANTS = ("edit", "null edit", "reconstruction")


def _ground_truth(truth: GroundTruthSettings | None, kind: DatasetKind, rows: pd.DataFrame, task: CounterfactualTask) -> tuple[list, list]:
    """(true counterfactuals, changed-region masks) for phantom rows; empty lists for real data."""
    if truth is None:
        return [], []
    found = phantom_truths(truth, kind, rows["subject"], rows["visit"], rows["image"], [task.truth] * len(rows))
    return [gt.truth for gt in found], [gt.region for gt in found]


def _scores(source_u8: np.ndarray, out_u8: np.ndarray, truths: list, regions: list, lpips, measure: Callable | None,
            measured: tuple[list, list]) -> list[dict]:
    """Per image: identity to the source and, on phantoms, agreement with the true counterfactual, locality
    and the measured effect (``measure``: the kind's fixed image analysis; ``measured``: its values on the
    sources and the truths) against the true one."""
    scores = []
    for i, (source, out) in enumerate(zip(source_u8, out_u8, strict=True)):
        rec = similarity_to(source, out, lpips, "source")
        if truths:
            inside, outside = masked_l1(out, source, regions[i]), masked_l1(out, source, ~regions[i])
            rec.update({**similarity_to(truths[i], out, lpips, "truth"), "l1_source_to_truth": l1_distance(truths[i], source),
                        "change_outside_region": outside, "change_inside_region": inside,
                        "locality_ratio": inside / outside if outside > 0 else float("nan")})
            if measure is not None:
                before, after = measured[0][i], measured[1][i]
                effect, true_effect = measure(out) - before, after - before
                right = float(true_effect != 0 and np.sign(effect) == np.sign(true_effect))
                rec.update({"effect_measured": effect, "effect_true": true_effect, "effect_error": abs(effect - true_effect),
                            "effect_direction_correct": right if np.isfinite(effect) and np.isfinite(true_effect) else float("nan")})
        scores.append(rec)
    return scores


def counterfactual(settings: CounterfactualSettings, model_dirs: dict[str, Path], chosen_json: Path, slices_csv: Path,
                   classifier_path: Path, out_dir: Path) -> pd.DataFrame:
    ds, editor, edit_settings = settings.dataset, settings.editor, settings.edit
    kind = get_kind(ds.kind)
    deltas = {"noLD": 0.0, "LD": inference_delta(chosen_json)}
    classifier, targets = load_classifier(classifier_path)
    lpips = lpips_or_none(settings.lpips_backbone)
    measure = kind.measure_effect if kind.effect_measure else None
    test = split_rows(read_slices(slices_csv), "test")
    models = {ld: inference_model(settings.performance, model_dir, compile=False) for ld, model_dir in model_dirs.items()}  # loaded once, not per task
    metadata = {ld: read_metadata(model_dir) for ld, model_dir in model_dirs.items()}

    records, examples, pngs = [], {}, {}
    for t_index, task in enumerate(kind.counterfactual_tasks):
        if task.target_label not in targets:
            raise LdbenchError(f"counterfactual task {task.name!r} needs a classifier for {task.target_label}; classifier_targets are {targets}")
        pool = test.query(task.rows_query)
        if pool.empty:
            log.warning("%s: no test images for task %s; skipped", ds.name, task.name)
            continue
        rows = draw_rows(pool.drop_duplicates("image"), min(settings.n_images, len(pool)), derive_seed(settings.seed, "counterfactual", "rows", task.name))
        rows = rows.drop_duplicates("image").reset_index(drop=True)
        target_rows = rows.assign(**task.changes)
        truths, regions = _ground_truth(settings.ground_truth, kind, rows, task)
        sources = load_images(rows["image"])
        source_u8 = to_gray_uint8(sources)
        column = targets.index(task.target_label)
        p_source = predict(classifier, gray_uint8_to_unit(source_u8))[:, column]
        measured = ([measure(s) for s in source_u8], [measure(t) for t in truths]) if measure and truths else ([], [])
        for ld, components in models.items():
            src_prompts, tgt_prompts = model_prompts(rows, ds.kind, metadata[ld]), model_prompts(target_rows, ds.kind, metadata[ld])
            seed = derive_seed(settings.seed, "counterfactual", "edit", task.name)
            outputs = {
                "edit": edit(components, sources, src_prompts, tgt_prompts, editor, deltas[ld], seed, edit_settings, desc=f"{task.name} {ld}"),
                # the same editor, seed and noise with nothing asked: what the editing pipeline does by itself
                "null edit": edit(components, sources, src_prompts, src_prompts, editor, deltas[ld], seed, edit_settings, desc=f"{task.name} {ld} null"),
                "reconstruction": reconstruct(components, sources, edit_settings.batch_size),
            }
            back_u8 = to_gray_uint8(edit(components, outputs["edit"], tgt_prompts, src_prompts, editor, deltas[ld], derive_seed(seed, "back"),
                                         edit_settings, desc=f"{task.name} {ld} back"))
            reversibility = [l1_distance(back_u8[i], source_u8[i]) for i in range(len(rows))]
            context = {"task": task.name, "ld": ld, "delta": deltas[ld], "inference_shift": edit_settings.inference_shift,
                       "sampling_steps": edit_settings.steps}
            for variant, images in outputs.items():
                out_u8 = to_gray_uint8(images)
                names = [output_png(f"{t_index}-{ld}-{variant}", i) for i in range(len(rows))]
                pngs.update(zip(names, out_u8))
                p_out = predict(classifier, gray_uint8_to_unit(out_u8))[:, column]
                p_target = p_out if task.target_value else 1 - p_out
                for i, rec in enumerate(_scores(source_u8, out_u8, truths, regions, lpips, measure, measured)):
                    rec.update(context, variant=variant, image=rows["image"][i], subject=str(rows["subject"][i]),
                               p_target_source=float(p_source[i] if task.target_value else 1 - p_source[i]), p_target_edit=float(p_target[i]),
                               flipped=bool(p_target[i] > 0.5), reversibility_l1=reversibility[i] if variant == "edit" else float("nan"),
                               output=str(Path(out_dir) / names[i]))
                    records.append(rec)
            examples[f"{t_index}_{ld}"] = to_gray_uint8(outputs["edit"])[:4]
            examples[f"{t_index}_{ld}_null"] = to_gray_uint8(outputs["null edit"])[:4]
        examples[f"{t_index}_source"] = source_u8[:4]
        if truths:
            examples[f"{t_index}_truth"] = np.stack(truths[:4])
        log.info("%s: %d images edited both ways, null-edited and reconstructed, with and without LD", task.name, len(rows))
    if not records:
        raise LdbenchError(f"{ds.name}: no test image fits any counterfactual task")

    per_image = pd.DataFrame(records)
    first = ["task", "ld", "variant", "delta", "inference_shift", "sampling_steps", "image", "subject"]
    per_image = per_image[first + [c for c in per_image.columns if c not in first]]
    edits = per_image[(per_image["variant"] == "edit") & (per_image["ld"] == "noLD")]
    summary = {
        "dataset": ds.name, "editor": editor, "editor_name": EDITORS[editor], "method": settings.method,
        "deltas": deltas, "strength": edit_settings.strength, "steps": edit_settings.steps, "guidance_scale": edit_settings.guidance_scale,
        "seed": settings.seed, "tasks": [t.name for t in kind.counterfactual_tasks], "ground_truth": settings.ground_truth is not None,
        "classifier": str(classifier_path), "lpips": lpips_status(lpips), "effect_measure": kind.effect_measure,
        "ssim": "scikit-image structural_similarity, data range 255", "psnr": "scikit-image peak_signal_noise_ratio, dB, data range 255",
        "l1": "mean absolute pixel difference in [0, 1] units",
        "variants": list(VARIANTS),
        "n_images": {task: int((edits["task"] == task).sum()) for task in edits["task"].unique()},
    }
    with atomic_dir(Path(out_dir)) as tmp:
        write_csv(tmp / "per_image.csv", per_image)
        write_json(tmp / "summary.json", summary)
        np.savez_compressed(tmp / "examples.npz", **examples)
        for name, pixels in pngs.items():
            save_png(tmp / name, pixels)
    return per_image
