"""Rule finetune: one method, with or without LD, on one dataset."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import FinetuneSettings
from ldbench.stages.finetune import finetune
from ldbench.workflow import stage

with stage(snakemake, FinetuneSettings) as settings:
    i = snakemake.input
    finetune(
        settings,
        slices_csv=i.slices,
        latents=i.latents,
        class_images=i.class_images[0] if i.class_images else None,
        base_model=snakemake.params.base_model,
        out_dir=snakemake.output[0],
        work_dir=snakemake.params.work_dir,
    )
