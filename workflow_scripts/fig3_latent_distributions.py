"""Rule fig3_latent_distributions: latents and images along reverse sampling, without and with LD (paper Fig. 3)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.figures import latent_distributions
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    p = snakemake.params
    latent_distributions(dict(zip(p.datasets, map(Path, snakemake.input.trajectories))), p.method, Path(snakemake.output[0]),
                         bins=figure.options["bins"], dpi=figure.dpi)
