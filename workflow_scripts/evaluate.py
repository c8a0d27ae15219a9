"""Rule evaluate: FID / KID of a synthetic set against the real test split."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # noqa: F821 (injected by Snakemake); skips heavy imports

from pathlib import Path  # noqa: E402

from ldbench.stages.evaluate import evaluate  # noqa: E402

with stage(snakemake) as config:  # noqa: F821 (injected by Snakemake)
    i = snakemake.input
    evaluate(config, snakemake.wildcards.dataset, Path(i.samples) / "samples.csv", i.slices, i.classifier, snakemake.output[0])
