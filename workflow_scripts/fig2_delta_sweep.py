"""Rule fig2_delta_sweep: the δ sweep with identical noise per row (paper Fig. 2)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.figures import base_delta_sweep, delta_sweep
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    p = snakemake.params
    delta_sweep(dict(zip(p.datasets, map(Path, snakemake.input.sweeps))), p.method, Path(snakemake.output[0]),
                rows=figure.options["rows"], dpi=figure.dpi)
    base_delta_sweep(Path(snakemake.input.base), Path(snakemake.output[2]), dpi=figure.dpi)
