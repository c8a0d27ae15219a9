"""Rule counterfactual: edit test images to the opposite label with one editor, without and with LD."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import CounterfactualSettings
from ldbench.stages.counterfactual import counterfactual
from ldbench.workflow import stage

with stage(snakemake, CounterfactualSettings) as settings:
    i = snakemake.input
    counterfactual(
        settings,
        model_dirs={"noLD": i.model_noLD, "LD": i.model_LD},
        chosen_json=i.chosen, slices_csv=i.slices, classifier_path=i.classifier,
        out_dir=snakemake.output[0],
    )
