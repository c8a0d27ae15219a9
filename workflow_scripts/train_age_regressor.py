"""Rule train_age_regressor: the network that reads how many years an ageing edit adds."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import AgeRegressorSettings
from ldbench.stages.age_regressor import train_age_regressor_stage
from ldbench.workflow import stage

with stage(snakemake, AgeRegressorSettings) as settings:
    o = snakemake.output
    train_age_regressor_stage(settings, snakemake.input.slices, o.model, o.validation)
