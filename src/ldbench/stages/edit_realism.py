"""Stage ``edit_realism``: do the counterfactual edits look like real images of the class they were edited into?

The ``counterfactual`` scores say whether an edit changed the right thing; they do not say whether
the result looks real. This stage answers that the way Table 1 answers it for synthetic sets
(``ldbench.stages.evaluate``: the same feature extractor, clean-fid distances and half-sampling
intervals): FID / KID of each task's edited set against the real *test* images of the target class.

FID and KID are biased by n, and an edit starts from a real image of the other class, so beside
every edit set stand, all at the same n and against the same reference:

* ``null edit`` and ``reconstruction``: what the editing pipeline and the VAE alone do to realism;
* ``source (unedited)``: the sources themselves, how far the source class already is from the target;
* ``real floor``: n real target-class images from the train + val splits (disjoint from the test
  reference, drawn without replacement): what a perfect edit would score at this n.

The edit's realism gain over its null edit is a paired difference: edit i and null edit i come from
the same source image with the same noise, and every half-sample shares its indices between the two.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..editing import EDITORS
from ..kinds import get_kind
from ..seeds import derive_seed
from ..settings import EditRealismSettings
from ..utils import LdbenchError, write_json
from .common import read_slices, split_rows
from .evaluate import Extractor, fid_kid, paired_fid_kid, provenance

log = logging.getLogger("ldbench")

SOURCE, FLOOR = "source (unedited)", "real floor"
#: the per-image variants of ``counterfactual`` scored here, in table order
EDITED = ("edit", "null edit", "reconstruction")


def _aligned(group: pd.DataFrame, path: Path) -> dict[str, pd.DataFrame]:
    """Each variant's rows in the edit's image order, so that index i is one source image throughout."""
    edits = group[group["variant"] == "edit"].set_index("image")
    aligned = {}
    for variant in EDITED:
        rows = group[group["variant"] == variant].set_index("image").reindex(edits.index)
        if rows["output"].isna().any():
            raise LdbenchError(f"{path}: {group['task'].iloc[0]} {group['ld'].iloc[0]}: an edited image has no {variant} output")
        aligned[variant] = rows.reset_index()
    return aligned


def _floor_rows(pool: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    chosen = np.random.default_rng(seed).choice(len(pool), min(n, len(pool)), replace=False)
    return pool.iloc[np.sort(chosen)]


def edit_realism(settings: EditRealismSettings, per_image_csv: Path, slices_csv: Path, evaluator_path: Path, out_json: Path) -> dict:
    """FID / KID of every (task, LD, variant) set of one ``counterfactual`` output, with its controls."""
    per_image = pd.read_csv(per_image_csv)
    if "output" not in per_image:
        raise LdbenchError(f"{per_image_csv}: no 'output' column (written by an older counterfactual rule); re-run it")
    tasks = {task.name: task for task in get_kind(settings.dataset.kind).counterfactual_tasks}
    unknown = set(per_image["task"]) - set(tasks)
    if unknown:
        raise LdbenchError(f"{per_image_csv}: tasks {sorted(unknown)} are not {settings.dataset.kind} counterfactual tasks {sorted(tasks)}")
    slices = read_slices(slices_csv)
    test, pool = split_rows(slices, "test"), slices[slices["split"].isin(["train", "val"])].reset_index(drop=True)
    extractor = Extractor(settings.distances, evaluator_path)
    sets, gains = [], []
    for task_name, group in per_image.groupby("task", sort=False):
        task = tasks[task_name]
        reference_rows = test.query(task.target_query)
        by_ld = {ld: _aligned(g, per_image_csv) for ld, g in group.groupby("ld", sort=False)}
        n = len(next(iter(by_ld.values()))["edit"])
        floor_rows = _floor_rows(pool.query(task.target_query), n, derive_seed(settings.distances.seed, "edit_realism", "floor", task_name))
        context = {"task": task_name, "target_class": task.target_query, "n_reference": len(reference_rows)}
        if len(reference_rows) < 2 or n < 2:
            log.warning("%s: %d real test images of the target class and %d edits; realism needs at least 2 of each, skipped",
                        task_name, len(reference_rows), n)
            sets.append({**context, "ld": "", "variant": "", "n": n, "skipped": "fewer than 2 real target-class test images or edits"})
            continue
        reference = extractor(reference_rows["image"])
        source = extractor(next(iter(by_ld.values()))["edit"]["image"])
        controls = {SOURCE: source}
        if len(floor_rows) >= 2:
            controls[FLOOR] = extractor(floor_rows["image"])
        for variant, features in controls.items():
            sets.append({**context, "ld": "", "variant": variant, "n": len(features), "delta": float("nan"),
                         **fid_kid(settings.distances, reference, features, "edit_realism", task_name, variant)})
        for ld, aligned in by_ld.items():
            features = {variant: extractor(rows["output"]) for variant, rows in aligned.items()}
            delta = float(aligned["edit"]["delta"].iloc[0])
            for variant, f in features.items():
                sets.append({**context, "ld": ld, "variant": variant, "n": len(f), "delta": delta,
                             **fid_kid(settings.distances, reference, f, "edit_realism", task_name, ld, variant)})
            gains.append({**context, "ld": ld, "delta": delta, "n": n,
                          **paired_fid_kid(settings.distances, reference, features["edit"], features["null edit"], "edit_realism", task_name, ld)})
            by_variant = {row["variant"]: row for row in sets if row["task"] == task_name and row["ld"] in ("", ld)}
            log.info("%s %s: FID edit %.3f, null edit %.3f, unedited source %.3f, real floor %.3f (n=%d; %d real target-class test images)",
                     task_name, ld, *(by_variant.get(v, {}).get("fid", float("nan")) for v in ("edit", "null edit", SOURCE, FLOOR)), n,
                     len(reference_rows))
    result = {
        "dataset": settings.dataset.name, "editor": settings.editor, "editor_name": EDITORS[settings.editor], "sets": sets, "gain_over_null_edit": gains,
        "reference": "real test-split images of the task's target class (the kind's target_query)",
        "real_floor": "n real target-class images from the train + val splits, drawn without replacement, disjoint from the reference",
        "pairing": ("edit minus null edit on the same reference features; index-paired sets (same source image, seed and noise per "
                    "index), each half-sample shares its reference and edited indices between the two"),
        **provenance(settings.distances, extractor.description, extractor.resize),
    }
    write_json(out_json, result)
    return result
