# Shared definitions: config validation, the experiment grid, wildcard constraints, paths.
import sys
from pathlib import Path

from snakemake.utils import validate

# This workflow's own library, as in workflow_scripts/_ldbench_src.py.
sys.path.insert(0, f"{workflow.basedir}/src")
from ldbench.gpus import visible_gpus
from ldbench.variants import ablation_variant, ld_variants

validate(config, "../schemas/config.schema.yaml")

DATASETS = list(config["datasets"])
METHODS = list(config["finetune"]["methods"])
LDS = ["noLD", "LD"]
# the δ ablation's second loss target: these methods are also fine-tuned as LD_<other target>
ABLATION_LD = ablation_variant(config)
ABLATION_METHODS = list(config["drift"].get("loss_target_ablation", []))
EMBEDDED_BASE = config["base_model"]["source"] == "embedded"
RPS = config["paper"]["real_plus_synthetic"]
CF = config["counterfactual"]
AGEING = config["ageing"]


def check_config():
    """Cross-field checks the JSON schema cannot express, with messages naming the key."""
    for name, ds in config["datasets"].items():
        total = sum(ds["split"].values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"datasets.{name}.split: fractions must sum to 1, got {total:g}"
            )
        if ds["source"] != "phantom" and not ds.get("root"):
            raise ValueError(
                f"datasets.{name}.root: required for source '{ds['source']}' (the dataset folder)"
            )
        allowed = {
            "brain": {"phantom", "oasis3", "adni"},
            "cxr": {"phantom", "chexpert"},
        }[ds["kind"]]
        if ds["source"] not in allowed:
            raise ValueError(
                f"datasets.{name}.source: '{ds['source']}' is not a {ds['kind']} source; allowed: {sorted(allowed)}"
            )
    if CF["method"] not in METHODS:
        raise ValueError(
            f"counterfactual.method: '{CF['method']}' is not in finetune.methods {METHODS}"
        )
    unknown = sorted(set(AGEING["datasets"]) - set(DATASETS))
    if unknown:
        raise ValueError(f"ageing.datasets: {unknown} are not in datasets {DATASETS}")
    if RPS["method"] not in METHODS:
        raise ValueError(
            f"paper.real_plus_synthetic.method: '{RPS['method']}' is not in finetune.methods {METHODS}"
        )
    unknown = sorted(set(ABLATION_METHODS) - set(METHODS))
    if unknown:
        raise ValueError(
            f"drift.loss_target_ablation: {unknown} are not in finetune.methods {METHODS}"
        )
    if not EMBEDDED_BASE and not config["base_model"]["source"].strip():
        raise ValueError("base_model.source: empty")


check_config()


wildcard_constraints:
    dataset="|".join(DATASETS),
    method="|".join(METHODS),
    ld="|".join(["noLD", *ld_variants(config)]),
    editor="|".join(CF["editors"]),
    source="real|(real\\+)?(" + "|".join(METHODS) + ")-(noLD|LD)",


def base_model_path():
    """The base model folder or hub id every fine-tuning starts from."""
    return "results/models/base" if EMBEDDED_BASE else config["base_model"]["source"]


def base_model_input(wildcards):
    return ["results/models/base"] if EMBEDDED_BASE else []


def raw_input(wildcards):
    """Phantom datasets come from make_phantoms; real ones are read in place from `root`."""
    ds = config["datasets"][wildcards.dataset]
    return [f"results/raw/{wildcards.dataset}"] if ds["source"] == "phantom" else []


def raw_root(wildcards):
    ds = config["datasets"][wildcards.dataset]
    return (
        f"results/raw/{wildcards.dataset}" if ds["source"] == "phantom" else ds["root"]
    )


def samples_for_source(wildcards):
    """Synthetic sample sets a classifier source trains on (none for 'real')."""
    if wildcards.source == "real":
        return []
    method, ld = wildcards.source.removeprefix("real+").rsplit("-", 1)
    return [f"results/samples/{wildcards.dataset}/{method}/{ld}"]


def chosen_delta(method=None):
    """Input function: the searched δ of an LD model ({method} wildcard unless given), none for noLD."""

    def inputs(wildcards):
        if wildcards.ld == "noLD":
            return []
        return [
            f"results/drift/{wildcards.dataset}/{method or wildcards.method}/LD/chosen.json"
        ]

    return inputs


def drift_searches(filename):
    """``filename`` of every δ grid search: each method's LD model and the loss-target ablation's."""
    return expand(
        "results/drift/{dataset}/{method}/LD/{filename}",
        dataset=DATASETS,
        method=METHODS,
        filename=filename,
    ) + expand(
        "results/drift/{dataset}/{method}/{ld}/{filename}",
        dataset=DATASETS,
        method=ABLATION_METHODS,
        ld=ABLATION_LD,
        filename=filename,
    )


def classifier_sources():
    return ["real", f"real+{RPS['method']}-{RPS['ld']}"] + [
        f"{m}-{ld}" for m in METHODS for ld in LDS
    ]


def model_pair(method=None):
    """Input function: a method's models without and with LD and the LD model's searched δ
    ({method} wildcard unless given)."""

    def inputs(wildcards):
        chosen_method = method or wildcards.method
        models = f"results/models/{wildcards.dataset}/{chosen_method}"
        return {
            "model_noLD": f"{models}/noLD",
            "model_LD": f"{models}/LD",
            "chosen": f"results/drift/{wildcards.dataset}/{chosen_method}/LD/chosen.json",
        }

    return inputs


def ageing_results():
    return expand("results/ageing/{dataset}/{ld}", dataset=AGEING["datasets"], ld=LDS)


def counterfactual_results():
    return expand(
        "results/counterfactual/{dataset}/{editor}",
        dataset=DATASETS,
        editor=CF["editors"],
    )


def paper_outputs():
    return [
        multiext("results/paper/table1_finetuning", ".csv", ".md", ".tex"),
        multiext("results/paper/fig2_delta_sweep", ".png", ".pdf"),
        multiext("results/paper/fig5_samples_per_method", ".png", ".pdf"),
        expand("results/figures/data_{dataset}.png", dataset=DATASETS),
        "results/paper/paper_comparison.md",
        multiext("results/paper/table_delta_ablation", ".csv", ".md", ".tex"),
        multiext("results/paper/table_counterfactual", ".csv", ".md", ".tex"),
        multiext("results/paper/table_cf_groundtruth", ".csv", ".md", ".tex"),
        multiext("results/paper/table_ageing", ".csv", ".md", ".tex"),
        expand("results/paper/fig1_counterfactuals_{editor}.png", editor=CF["editors"]),
        multiext("results/paper/fig3_latent_distributions", ".png", ".pdf"),
    ]


THREADS = config.get("threads", 1)
# GPU rules ask for one GPU where there are GPUs. On a host without any (a CPU-only workstation,
# CI) they ask for none, so the workstation profile's gpu limit does not serialise them; the SLURM
# profile sets gpu per rule itself.
GPU_PER_JOB = 1 if visible_gpus() else 0
