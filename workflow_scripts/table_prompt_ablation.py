"""Rule table_prompt_ablation: the prompt ablation table from the cells' metric and feature files."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.prompt_ablation import prompt_ablation_frame, write_prompt_ablation
from ldbench.settings import DistanceSettings
from ldbench.workflow import stage

with stage(snakemake, DistanceSettings) as settings:
    i, p = snakemake.input, snakemake.params
    keys = [tuple(key) for key in p.cell_keys]
    frame = prompt_ablation_frame(dict(zip(keys, map(Path, i.metrics))), dict(zip(keys, map(Path, i.features))),
                                  dict(zip(p.datasets, map(Path, i.real))), p.reference, settings)
    write_prompt_ablation(frame, Path(snakemake.output[0]).with_suffix(""), p.reference)
