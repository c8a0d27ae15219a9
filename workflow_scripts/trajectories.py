"""Rule trajectories: latents and images along reverse sampling without and with LD (Fig. 3)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import TrajectoriesSettings
from ldbench.stages.trajectories import trajectories
from ldbench.workflow import stage

with stage(snakemake, TrajectoriesSettings) as settings:
    i = snakemake.input
    trajectories(settings, {"noLD": i.model_noLD, "LD": i.model_LD}, i.chosen, i.slices, snakemake.output[0])
