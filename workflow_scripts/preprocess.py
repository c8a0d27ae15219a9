"""Rule preprocess: raw volumes / X-rays → slice table, PNGs and a data overview figure."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import start_in_background

start_in_background()  # no torch here: this job runs in its own process while the warm worker starts (or finishes starting)

from pathlib import Path

from ldbench.settings import PreprocessSettings
from ldbench.stages.data import preprocess
from ldbench.workflow import stage

with stage(snakemake, PreprocessSettings, uses_torch=False) as settings:
    out = snakemake.output
    preprocess(settings, raw_root=Path(snakemake.params.raw_root), out_dir=Path(out.slices).parent, overview_png=Path(out.overview))
