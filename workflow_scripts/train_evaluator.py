"""Rule train_evaluator: the evaluation-only feature network on the real training split."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import EvaluatorSettings
from ldbench.stages.evaluate import train_evaluator_stage
from ldbench.workflow import stage

with stage(snakemake, EvaluatorSettings) as settings:
    train_evaluator_stage(settings, snakemake.input.slices, snakemake.output[0])
