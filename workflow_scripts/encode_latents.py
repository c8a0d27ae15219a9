"""Rule encode_latents: a dataset's training slices through the base VAE, once for all methods."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import LatentsSettings
from ldbench.stages.latents import encode_latents
from ldbench.workflow import stage

with stage(snakemake, LatentsSettings) as settings:
    encode_latents(settings, slices_csv=snakemake.input.slices, base_model=snakemake.params.base_model, out_path=snakemake.output[0])
