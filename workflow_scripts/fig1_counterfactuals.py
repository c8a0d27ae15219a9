"""Rule fig1_counterfactuals: one editor's edits with difference maps, added green and removed red (paper Fig. 1)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.counterfactual import counterfactual_figure
from ldbench.settings import FigureSettings

with stage(snakemake, FigureSettings) as figure:
    editor = snakemake.wildcards.editor
    results = {(dataset, editor): Path(path) for dataset, path in zip(snakemake.params.datasets, snakemake.input.results)}
    counterfactual_figure(results, Path(snakemake.output[0]), editor, per_task=figure.options["per_task"], dpi=figure.dpi)
