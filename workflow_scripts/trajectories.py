"""Rule trajectories: latents and images along reverse sampling without and with LD (Fig. 3)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # noqa: F821 (injected by Snakemake); skips heavy imports

from ldbench.stages.trajectories import trajectories  # noqa: E402

with stage(snakemake) as config:  # noqa: F821 (injected by Snakemake)
    i = snakemake.input
    trajectories(config, snakemake.wildcards.dataset, {"noLD": i.model_noLD, "LD": i.model_LD}, i.chosen, i.slices, snakemake.output[0])
