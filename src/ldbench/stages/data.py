"""Stages ``make_phantoms`` and ``preprocess``: raw data (phantom or real) → slice table + PNGs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..utils import LdbenchError

log = logging.getLogger("ldbench")


def phantom_arguments(ds_cfg: dict, seed: int, image_size: int) -> dict:
    """Everything that determines a phantom dataset besides its kind (also what recovers its
    ground-truth counterfactuals, ``ldbench.data.groundtruth``)."""
    phantom = ds_cfg.get("phantom", {})
    if ds_cfg["kind"] == "brain":
        return {"n": phantom.get("n_subjects", 160), "seed": seed, "visits": tuple(phantom.get("visits", (2, 4)))}
    if ds_cfg["kind"] == "cxr":
        return {"n": phantom.get("n_patients", 600), "seed": seed, "image_size": max(4 * image_size, 128)}
    raise LdbenchError(f"unknown dataset kind {ds_cfg['kind']!r}")


def make_phantoms(kind: str, ds_cfg: dict, out_root: Path, seed: int, image_size: int) -> None:
    """Write the embedded phantom dataset of ``kind`` in its real on-disk layout under ``out_root``."""
    args = phantom_arguments({**ds_cfg, "kind": kind}, seed, image_size)
    if kind == "brain":
        from ..data.phantoms.brain import make_brain_phantom_dataset

        make_brain_phantom_dataset(Path(out_root), n_subjects=args["n"], seed=args["seed"], visits=args["visits"])
    else:
        from ..data.phantoms.cxr import make_cxr_phantom_dataset

        make_cxr_phantom_dataset(Path(out_root), n_patients=args["n"], seed=args["seed"], image_size=args["image_size"])


def read_source(ds_cfg: dict, raw_root: Path) -> pd.DataFrame:
    """The adapter's table of raw images/volumes for the dataset's ``source``."""
    source = ds_cfg["source"]
    root = Path(raw_root)
    if source == "phantom":
        source = "oasis3" if ds_cfg["kind"] == "brain" else "chexpert"
        clinical = root / "clinical.csv" if ds_cfg["kind"] == "brain" else None
    else:
        clinical = Path(ds_cfg["clinical_csv"]) if ds_cfg.get("clinical_csv") else None
    if source == "oasis3":
        from ..data.adapters.oasis3 import read_oasis3

        return read_oasis3(root, clinical)
    if source == "adni":
        from ..data.adapters.adni import read_adni

        if clinical is None:
            raise LdbenchError("datasets.*.clinical_csv must name the ADNIMERGE CSV for source: adni")
        return read_adni(root, clinical)
    if source == "chexpert":
        from ..data.adapters.chexpert import read_chexpert

        return read_chexpert(root, uncertain_policy=ds_cfg.get("uncertain_policy", "zeros"), frontal_only=ds_cfg.get("frontal_only", True))
    raise LdbenchError(f"unknown dataset source {source!r}")


def preprocess(ds_cfg: dict, raw_root: Path, out_dir: Path, image_size: int, seed: int, overview_png: Path) -> pd.DataFrame:
    from ..data.overview import plot_data_overview
    from ..data.preprocess import build_slice_table

    split = ds_cfg["split"]
    if abs(sum(split.values()) - 1.0) > 1e-6:
        raise LdbenchError(f"datasets.*.split fractions must sum to 1, got {split}")
    table = read_source(ds_cfg, raw_root)
    log.info("%d raw images/volumes from %s", len(table), raw_root)
    slices = build_slice_table(
        ds_cfg["kind"], table, Path(out_dir), image_size, ds_cfg["modality"], seed, split,
        slice_offset_mm=ds_cfg.get("slice_offset_mm", 0.0), log=log,
    )
    log.info("slice table: %d rows; split sizes %s", len(slices), slices["split"].value_counts().to_dict())
    plot_data_overview(slices, ds_cfg["kind"], Path(overview_png))
    return slices
