"""Rule fig5_samples_per_method: samples per fine-tuning method, without and with LD (paper Figs. 4–5)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.figures import samples_per_method
from ldbench.settings import FigureSettings
from ldbench.workflow import stage

with stage(snakemake, FigureSettings) as figure:
    p = snakemake.params
    sample_csvs = {tuple(key): Path(d) / "samples.csv" for key, d in zip(p.sample_keys, snakemake.input.samples)}
    samples_per_method(sample_csvs, p.datasets, p.methods, Path(snakemake.output[0]), per_cell=figure.options["per_cell"], dpi=figure.dpi)
