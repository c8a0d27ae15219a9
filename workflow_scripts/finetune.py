"""Rule finetune: one method, with or without LD, on one dataset."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from ldbench.stages.finetune import finetune

with stage(snakemake) as config:
    w = snakemake.wildcards
    finetune(
        config, w.dataset, w.method, w.ld,
        slices_csv=snakemake.input.slices,
        latents=snakemake.input.latents,
        base_model=snakemake.params.base_model,
        out_dir=snakemake.output[0],
        work_dir=snakemake.params.work_dir,
    )
