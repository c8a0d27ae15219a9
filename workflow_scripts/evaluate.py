"""Rule evaluate: FID / KID of a synthetic set against the real test split, with intervals."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.settings import EvaluateSettings
from ldbench.stages.evaluate import evaluate
from ldbench.workflow import stage

with stage(snakemake, EvaluateSettings) as settings:
    i, o = snakemake.input, snakemake.output
    baseline = tuple(map(Path, i.baseline)) if i.baseline else None  # an LD model's no-LD twin: features, metrics
    evaluate(settings, Path(i.samples) / "samples.csv", i.slices, i.real, i.evaluator, o.metrics, o.features, baseline)
