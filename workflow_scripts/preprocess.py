"""Rule preprocess: raw volumes / X-rays → slice table, PNGs and a data overview figure."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.stages.data import preprocess

with stage(snakemake) as config:
    out = snakemake.output
    preprocess(
        config["datasets"][snakemake.wildcards.dataset],
        raw_root=Path(snakemake.params.raw_root),
        out_dir=Path(out.slices).parent,
        image_size=config["image_size"],
        seed=config["seed"],
        overview_png=Path(out.overview),
    )
