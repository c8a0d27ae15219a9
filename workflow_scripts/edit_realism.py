"""Rule edit_realism: FID / KID of one editor's counterfactual sets against real target-class images."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.settings import EditRealismSettings
from ldbench.stages.edit_realism import edit_realism
from ldbench.workflow import stage

with stage(snakemake, EditRealismSettings) as settings:
    i = snakemake.input
    edit_realism(settings, Path(i.results) / "per_image.csv", i.slices, i.evaluator, snakemake.output[0])
