"""Rule fig_memorisation: each model's generated images nearest a training image, above that image."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.figures import closest_pairs
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    files = {tuple(key): Path(path) for key, path in zip(snakemake.params.metric_keys, snakemake.input.metrics)}
    closest_pairs(files, Path(snakemake.output[0]), figure.dpi, per_model=figure.options["per_model"])
