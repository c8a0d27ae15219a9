"""Rule real_features: features of the real test split and of a real pool; the real floor between them."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import EvaluateSettings
from ldbench.stages.evaluate import real_features
from ldbench.workflow import stage

with stage(snakemake, EvaluateSettings) as settings:
    i, o = snakemake.input, snakemake.output
    real_features(settings, i.slices, i.evaluator, o.features, o.floor)
