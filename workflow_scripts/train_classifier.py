"""Rule train_classifier: real / synthetic / real+synthetic training, AUC on real test data."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.settings import ClassifySettings
from ldbench.stages.classify import train_and_score
from ldbench.workflow import stage

with stage(snakemake, ClassifySettings) as settings:
    train_and_score(
        settings, snakemake.wildcards.dataset, snakemake.wildcards.source,
        slices_csv=snakemake.input.slices,
        sample_csvs=[Path(d) / "samples.csv" for d in snakemake.input.samples],
        out_model=snakemake.output.model,
        out_json=snakemake.output.metrics,
        out_predictions=snakemake.output.predictions,
    )
