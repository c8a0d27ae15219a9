"""Rule make_phantoms: write the embedded phantom dataset in its real on-disk layout."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from ldbench.stages.data import make_phantoms

with stage(snakemake) as config:
    ds = config["datasets"][snakemake.wildcards.dataset]
    make_phantoms(ds["kind"], ds, snakemake.output[0], seed=config["seed"], image_size=config["image_size"])
