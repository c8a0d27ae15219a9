"""Rule ageing_realism: FID / KID of one ageing output against the real follow-up scans."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.settings import DistanceSettings
from ldbench.stages.edit_realism import ageing_realism
from ldbench.workflow import stage

with stage(snakemake, DistanceSettings) as settings:
    i = snakemake.input
    ageing_realism(settings, Path(i.results) / "per_image.csv", i.pairs, i.evaluator, snakemake.output[0])
