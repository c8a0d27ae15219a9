"""Stages ``make_phantoms`` and ``preprocess``: raw data (phantom or real) → slice table + PNGs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..kinds import get_kind
from ..settings import PhantomSettings, PreprocessSettings

log = logging.getLogger("ldbench")


def make_phantoms(settings: PhantomSettings, out_root: Path) -> None:
    """Write the embedded phantom dataset of ``settings.kind`` in its real on-disk layout under ``out_root``."""
    get_kind(settings.kind).make_phantom(Path(out_root), settings.arguments)


def preprocess(settings: PreprocessSettings, raw_root: Path, out_dir: Path, overview_png: Path) -> pd.DataFrame:
    from ..data.overview import plot_data_overview
    from ..data.preprocess import build_slice_table

    table = get_kind(settings.kind).read_source(settings.source, Path(raw_root), settings.options)
    log.info("%d raw images/volumes from %s", len(table), raw_root)
    slices = build_slice_table(settings.kind, table, Path(out_dir), settings.image_size, settings.modality, settings.seed,
                               settings.split, options=settings.options, log=log)
    log.info("slice table: %d rows; split sizes %s", len(slices), slices["split"].value_counts().to_dict())
    plot_data_overview(slices, settings.kind, Path(overview_png))
    return slices
