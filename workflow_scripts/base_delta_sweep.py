"""Rule base_delta_sweep: the base model sampled at every δ of each inference_shift mode (paper Fig. 2's setting)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import BaseSweepSettings
from ldbench.stages.base_sweep import base_delta_sweep
from ldbench.workflow import stage

with stage(snakemake, BaseSweepSettings) as settings:
    base_delta_sweep(settings, snakemake.params.base_model, snakemake.output[0])
