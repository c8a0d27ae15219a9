"""Rule ageing: InstructPix2Pix on longitudinal pairs, without or with LD, against the real follow-up."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # noqa: F821 (injected by Snakemake); skips heavy imports

from ldbench.stages.ageing import ageing  # noqa: E402

with stage(snakemake) as config:  # noqa: F821 (injected by Snakemake)
    i, w = snakemake.input, snakemake.wildcards
    ageing(
        config, w.dataset, w.ld,
        model_dir=i.model, chosen_json=i.chosen[0] if i.chosen else None, pairs_csv=i.pairs,
        work_dir=snakemake.params.work_dir, out_dir=snakemake.output[0],
    )
