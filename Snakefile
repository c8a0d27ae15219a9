# ldbench: Latent Drifting in diffusion models for counterfactual medical image synthesis
# (Yeganeh, Farshad et al., CVPR 2025) as a reproducible benchmark.
#
#   snakemake --cores 2                         the whole DAG on the embedded default (offline)
#   snakemake --cores 2 --configfile configs/smoke.yaml      a tiny run of the same DAG
#   snakemake --workflow-profile profiles/slurm --configfile configs/paper.yaml
from snakemake.utils import min_version

min_version("9.20")


report: "report/workflow.rst"


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/base_model.smk"
include: "rules/finetune.smk"
include: "rules/classify.smk"
include: "rules/drift_search.smk"
include: "rules/synthesize.smk"
include: "rules/evaluate.smk"
include: "rules/counterfactual.smk"
include: "rules/ageing.smk"
include: "rules/prompt_ablation.smk"
include: "rules/paper.smk"


rule all:
    default_target: True
    input:
        paper_outputs(),
