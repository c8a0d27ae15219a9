"""Rule fig_metric_vs_n: FID / KID against n for the real floor and every model."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.sample_size import write_metric_vs_n
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    i, p = snakemake.input, snakemake.params
    png, _, csv = map(Path, snakemake.output)
    write_metric_vs_n(dict(zip(p.datasets, map(Path, i.real))), {tuple(k): Path(f) for k, f in zip(p.feature_keys, i.features)},
                      figure.options["sizes"], figure.options["repeats"], p.seed, png, csv, figure.dpi)
