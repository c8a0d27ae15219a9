"""Rule drift_search: the δ grid for one LD model, loaded once."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # noqa: F821 (injected by Snakemake); skips heavy imports

from ldbench.stages.drift_search import drift_search  # noqa: E402

with stage(snakemake) as config:  # noqa: F821 (injected by Snakemake)
    i, o = snakemake.input, snakemake.output
    drift_search(config, snakemake.wildcards.dataset, i.model, i.slices, i.classifier, o.grid, o.chosen, o.sweep)
