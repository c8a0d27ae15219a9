"""Rule ageing: InstructPix2Pix on longitudinal pairs, without or with LD, against the real follow-up."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import AgeingSettings
from ldbench.stages.ageing import ageing
from ldbench.workflow import stage

with stage(snakemake, AgeingSettings) as settings:
    i = snakemake.input
    ageing(
        settings, snakemake.wildcards.dataset,
        model_dir=i.model, chosen_json=i.chosen[0] if i.chosen else None, pairs_csv=i.pairs, age_regressor=i.age_regressor,
        age_regressor_validation=i.age_regressor_validation,
        work_dir=snakemake.params.work_dir, out_dir=snakemake.output[0],
    )
