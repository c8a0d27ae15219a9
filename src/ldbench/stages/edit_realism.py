"""Stage ``edit_realism``: do the counterfactual edits look like real images of the class they were edited into?

The ``counterfactual`` scores say whether an edit changed the right thing; they do not say whether
the result looks real. This stage answers that the way Table 1 answers it for synthetic sets
(``ldbench.stages.evaluate``: the same feature extractor, clean-fid distances, FRD on radiomics and
half-sampling intervals): FID / KID / FRD of each task's edited set against the real *test* images of
the target class.

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
from ..metrics import REALISM_FLOOR, REALISM_SOURCE
from ..seeds import derive_seed
from ..settings import DistanceSettings, EditRealismSettings
from ..utils import LdbenchError, write_json
from .common import read_slices, split_rows
from .evaluate import Extractor, fid_kid, frd, paired_fid_kid, paired_frd, provenance, radiomics_of

log = logging.getLogger("ldbench")

#: the per-image variants of ``counterfactual`` scored here, in table order
EDITED = ("edit", "null edit", "reconstruction")


def _aligned(group: pd.DataFrame, path: Path, key: str = "image") -> dict[str, pd.DataFrame]:
    """Each variant's rows in the edit's order of ``key`` (the source image), so that index i is one source throughout."""
    edits = group[group["variant"] == "edit"].set_index(key)
    aligned = {}
    for variant in EDITED:
        rows = group[group["variant"] == variant].set_index(key).reindex(edits.index)
        if rows["output"].isna().any():
            raise LdbenchError(f"{path}: {group['ld'].iloc[0]}: an edited image has no {variant} output")
        aligned[variant] = rows.reset_index()
    return aligned


def _floor_rows(pool: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    chosen = np.random.default_rng(seed).choice(len(pool), min(n, len(pool)), replace=False)
    return pool.iloc[np.sort(chosen)]


def _read_outputs(per_image_csv: Path, rule: str) -> pd.DataFrame:
    per_image = pd.read_csv(per_image_csv)
    if "output" not in per_image:
        raise LdbenchError(f"{per_image_csv}: no 'output' column (written by an older {rule} rule); re-run it")
    return per_image


def _measure(settings: DistanceSettings, extractor: Extractor, paths: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """One image set's evaluation features and, where the run computes FRD, its radiomics."""
    return extractor(paths), radiomics_of(settings, paths)


def _distances(settings: DistanceSettings, reference: tuple, measured: tuple, *purpose: str) -> dict:
    return {**fid_kid(settings, reference[0], measured[0], *purpose), **frd(settings, reference[1], measured[1], *purpose)}


def _task_realism(settings: DistanceSettings, extractor: Extractor, purpose: str, context: dict, reference_paths: pd.Series,
                  by_ld: dict[str, dict[str, pd.DataFrame]], source_column: str, floor_paths: pd.Series) -> tuple[list[dict], list[dict]]:
    """FID / KID of one task's edited sets (``by_ld``: LD → variant → rows with ``output``) and its controls against the
    reference images, and each edit's paired gain over its null edit."""
    n = len(next(iter(by_ld.values()))["edit"])
    name = context["task"]
    if len(reference_paths) < 2 or n < 2:
        log.warning("%s: %d reference images and %d edits; realism needs at least 2 of each, skipped", name, len(reference_paths), n)
        return [{**context, "ld": "", "variant": "", "n": n, "skipped": "fewer than 2 reference images or edits"}], []
    reference = _measure(settings, extractor, reference_paths)
    controls = {REALISM_SOURCE: _measure(settings, extractor, next(iter(by_ld.values()))["edit"][source_column])}
    if len(floor_paths) >= 2:
        controls[REALISM_FLOOR] = _measure(settings, extractor, floor_paths)
    sets = [{**context, "ld": "", "variant": variant, "n": len(measured[0]), "delta": float("nan"),
             **_distances(settings, reference, measured, purpose, name, variant)} for variant, measured in controls.items()]
    gains = []
    for ld, aligned in by_ld.items():
        measured = {variant: _measure(settings, extractor, rows["output"]) for variant, rows in aligned.items()}
        delta = float(aligned["edit"]["delta"].iloc[0])
        for variant, m in measured.items():
            sets.append({**context, "ld": ld, "variant": variant, "n": len(m[0]), "delta": delta, **_distances(settings, reference, m, purpose, name, ld, variant)})
        (edit, edit_r), (null, null_r) = measured["edit"], measured["null edit"]
        gains.append({**context, "ld": ld, "delta": delta, "n": n, **paired_fid_kid(settings, reference[0], edit, null, purpose, name, ld),
                      **paired_frd(settings, reference[1], edit_r, null_r, purpose, name, ld)})
        fid = {row["variant"]: row["fid"] for row in sets if row["ld"] in ("", ld)}
        log.info("%s %s: FID edit %.3f, null edit %.3f, unedited source %.3f, real floor %.3f (n=%d; %d reference images)", name, ld,
                 *(fid.get(v, float("nan")) for v in ("edit", "null edit", REALISM_SOURCE, REALISM_FLOOR)), n, len(reference_paths))
    return sets, gains


PAIRING = ("edit minus null edit on the same reference features; index-paired sets (same source image, seed and noise per index), "
           "each half-sample shares its reference and edited indices between the two")


def edit_realism(settings: EditRealismSettings, per_image_csv: Path, slices_csv: Path, evaluator_path: Path, out_json: Path) -> dict:
    """FID / KID of every (task, LD, variant) set of one ``counterfactual`` output, with its controls."""
    per_image = _read_outputs(per_image_csv, "counterfactual")
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
        floor = _floor_rows(pool.query(task.target_query), n, derive_seed(settings.distances.seed, "edit_realism", "floor", task_name))
        context = {"task": task_name, "target_class": task.target_query, "n_reference": len(reference_rows)}
        found = _task_realism(settings.distances, extractor, "edit_realism", context, reference_rows["image"], by_ld, "image", floor["image"])
        sets += found[0]
        gains += found[1]
    result = {
        "dataset": settings.dataset.name, "editor": settings.editor, "editor_name": EDITORS[settings.editor], "sets": sets, "gain_over_null_edit": gains,
        "reference": "real test-split images of the task's target class (the kind's target_query)",
        "real_floor": "n real target-class images from the train + val splits, drawn without replacement, disjoint from the reference",
        "pairing": PAIRING, **provenance(settings.distances, extractor.description, extractor.resize),
    }
    write_json(out_json, result)
    return result


def ageing_realism(settings: DistanceSettings, per_image_csv: Path, pairs_csv: Path, evaluator_path: Path, out_json: Path) -> dict:
    """FID / KID of one ``ageing`` output's edited sets against the real follow-up scans of the edited test pairs (the
    paper's ageing FID), beside the null edit, the reconstruction, the unedited earlier scans and a real floor (as many
    follow-up scans of training pairs)."""
    per_image = _read_outputs(per_image_csv, "ageing")
    pairs = pd.read_csv(pairs_csv)
    by_ld = {ld: _aligned(g, per_image_csv, key="image_young") for ld, g in per_image.groupby("ld", sort=False)}
    edited = next(iter(by_ld.values()))["edit"]
    n = len(edited)
    train_follow_ups = pairs.loc[pairs["split"] == "train", "image_old"].drop_duplicates().reset_index(drop=True)
    floor = _floor_rows(train_follow_ups.to_frame(), n, derive_seed(settings.seed, "ageing_realism", "floor"))["image_old"]
    extractor = Extractor(settings, evaluator_path)
    context = {"task": "ageing", "n_reference": n}
    sets, gains = _task_realism(settings, extractor, "ageing_realism", context, edited["image_old"], by_ld, "image_young", floor)
    result = {
        "sets": sets, "gain_over_null_edit": gains,
        "reference": "the real follow-up scans of the edited test pairs",
        "real_floor": "n follow-up scans of training pairs, drawn without replacement (other subjects than the reference)",
        "pairing": PAIRING, **provenance(settings, extractor.description, extractor.resize),
    }
    write_json(out_json, result)
    return result
