"""Stages ``make_phantoms`` and ``preprocess``: raw data (phantom or real) → slice table + PNGs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..data.drops import DropLog
from ..kinds import get_kind
from ..settings import PhantomSettings, PreprocessSettings

log = logging.getLogger("ldbench")
console = logging.getLogger("ldbench.console")  # the rule's log and, in a workflow job, the terminal


def make_phantoms(settings: PhantomSettings, out_root: Path) -> None:
    """Write the embedded phantom dataset of ``settings.kind`` in its real on-disk layout under ``out_root``."""
    get_kind(settings.kind).make_phantom(Path(out_root), settings.arguments)


def preprocess(settings: PreprocessSettings, raw_root: Path, out_dir: Path, overview_png: Path) -> pd.DataFrame:
    from ..data.overview import plot_data_overview
    from ..data.preprocess import build_slice_table

    drops = DropLog()
    table = get_kind(settings.kind).read_source(settings.source, Path(raw_root), settings.options, drops)
    log.info("%d raw images/volumes from %s", len(table), raw_root)
    slices = build_slice_table(settings.kind, table, Path(out_dir), settings.image_size, settings.modality, settings.seed,
                               settings.split, options=settings.options, log=log, drops=drops,
                               max_dropped=settings.max_dropped_fraction, max_dropped_by_reason=settings.max_dropped_fraction_by_reason)
    console.info("%s; split sizes %s", drops.summary(f"{settings.kind} {raw_root}"), slices["split"].value_counts().to_dict())
    plot_data_overview(slices, settings.kind, Path(overview_png))
    return slices
