"""Rule pretrain_base: the embedded SD-architecture base model."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import PretrainSettings
from ldbench.stages.base_model import pretrain_base
from ldbench.workflow import stage

with stage(snakemake, PretrainSettings) as settings:
    pretrain_base(settings, out_dir=snakemake.output[0], work_dir=snakemake.params.work_dir)
