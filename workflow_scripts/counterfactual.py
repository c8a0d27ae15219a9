"""Rule counterfactual: edit test images to the opposite label with one editor, without and with LD."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from ldbench.stages.counterfactual import counterfactual

with stage(snakemake) as config:
    i, w = snakemake.input, snakemake.wildcards
    counterfactual(
        config, w.dataset, w.editor,
        model_dirs={"noLD": i.model_noLD, "LD": i.model_LD},
        chosen_json=i.chosen, slices_csv=i.slices, classifier_path=i.classifier,
        out_dir=snakemake.output[0],
    )
