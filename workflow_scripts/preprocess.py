"""Rule preprocess: raw volumes / X-rays → slice table, PNGs and a data overview figure."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.settings import PreprocessSettings
from ldbench.stages.data import preprocess
from ldbench.workflow import stage

with stage(snakemake, PreprocessSettings) as settings:
    out = snakemake.output
    preprocess(settings, raw_root=Path(snakemake.params.raw_root), out_dir=Path(out.slices).parent, overview_png=Path(out.overview))
