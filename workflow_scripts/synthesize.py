"""Rule synthesize: a synthetic training set at the model's δ."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import GenerationSeeds, SynthesizeSettings
from ldbench.stages.synthesize import synthesize
from ldbench.workflow import stage

with stage(snakemake, SynthesizeSettings) as settings:
    i = snakemake.input
    synthesize(settings, i.model, i.slices, i.chosen[0] if i.chosen else None, snakemake.output[0], per_channel=snakemake.params.per_channel,
               generation_seeds=GenerationSeeds.from_params(seeds) if (seeds := snakemake.params.generation_seeds) else None)
