"""Rule fig1_counterfactuals: each editor's edits with difference maps, added green and removed red (paper Fig. 1)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.counterfactual import counterfactual_figure
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    p = snakemake.params
    results = {tuple(key): Path(path) for key, path in zip(p.result_keys, snakemake.input.results)}
    pngs = [Path(path) for path in snakemake.output if path.endswith(".png")]  # one per editor, in the editors' order
    for editor, png in zip(p.editors, pngs, strict=True):
        counterfactual_figure(results, png, editor, per_task=figure.options["per_task"], dpi=figure.dpi)
