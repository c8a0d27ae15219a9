# Shared definitions: config validation, the experiment grid, wildcard constraints, paths, and
# the params every rule hands its job (its typed settings and the version stamp of its code).
import sys
from pathlib import Path

# This workflow's own library, as in workflow_scripts/_ldbench_src.py.
sys.path.insert(0, f"{workflow.basedir}/src")
from ldbench.config import validate_config
from ldbench.gpus import visible_gpus
from ldbench.settings import (
    AgeingSettings,
    AgeRegressorSettings,
    BaseSweepSettings,
    ClassImagesSettings,
    ClassifySettings,
    CounterfactualSettings,
    DistanceSettings,
    DriftSearchSettings,
    EditRealismSettings,
    EvaluateSettings,
    EvaluatorSettings,
    FigureSettings,
    FinetuneSettings,
    GenerationSeeds,
    LatentsSettings,
    PhantomSettings,
    PreprocessSettings,
    PretrainSettings,
    PROMPT_CELLS,
    PromptCellFinetuneSettings,
    PromptCellSynthesizeSettings,
    PromptWording,
    REAL_DOUBLE_STEPS,
    SynthesizeSettings,
    TrajectoriesSettings,
)
from ldbench.stamps import library_stamp
from ldbench.variants import ablation_variant, ld_variants

# Fills the schema's defaults in and checks the config exactly as `ldbench check-config` does.
validate_config(config)

DATASETS = list(config["datasets"])
METHODS = list(config["finetune"]["methods"])
LDS = ["noLD", "LD"]
# the 2×2 of training drift × inference drift (table_ld_2x2): besides noLD at δ = 0 and LD at its
# searched δ (Table 1's rows), LD sampled at δ = 0 and noLD at its own searched δ (inference-only LD)
CROSSED = ["LD@zero", "noLD@searched"]
# beyond the paper (drift.shape: channel): the LD model at the per-channel δ its search fitted
CROSSED += ["LD@channel"] if config["drift"]["shape"] == "channel" else []
CROSSED_METHODS = list(config["drift"]["ld_2x2"])
# the δ ablation's second loss target: these methods are also fine-tuned as LD_<other target>
ABLATION_LD = ablation_variant(config)
ABLATION_METHODS = list(config["drift"]["loss_target_ablation"])
EMBEDDED_BASE = config["base_model"]["source"] == "embedded"
RPS = config["paper"]["real_plus_synthetic"]
CF = config["counterfactual"]
AGEING = config["ageing"]
PROMPT_ABLATION = config["prompt_ablation"]


def settings_of(settings_type, *wildcard_names):
    """params: the job's typed settings (ldbench.settings) as plain data, built from the config for
    its wildcards, so that Snakemake's params trigger re-runs the job when a value it uses changes.
    """

    def params(wildcards):
        names = [wildcards[name] for name in wildcard_names]
        return settings_type.from_config(config, *names).to_params()

    return params


def generation_seeds(wildcards):
    """params: evaluation's generation seeds for Table 1's sets (noLD, LD), None for the others, so
    that an evaluation edit re-runs only those sets' sampling."""
    if wildcards.ld not in LDS:
        return None
    return GenerationSeeds.from_config(config).to_params()


def figure_settings(figure):
    """params: a figure's options (figures.<figure>) and the shared dpi, as plain data."""
    return FigureSettings.from_config(config, figure).to_params()


def code_stamp(*modules):
    """params: a hash of the library code the job runs (ldbench.stamps), so a library edit re-runs it.
    Accept an edit as not changing results with `snakemake --touch` (README)."""
    return library_stamp("ldbench.workflow", *modules)


wildcard_constraints:
    dataset="|".join(DATASETS),
    method="|".join(METHODS),
    ld="|".join(["noLD", *ld_variants(config), *CROSSED]),
    editor="|".join(CF["editors"]),
    encoding="|".join(AGEING["encodings"]),
    cell="|".join(PROMPT_CELLS),
    source="real|real-2x|((real|mixed)\\+)?(" + "|".join(METHODS) + ")-(noLD|LD)",


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


def class_images_input(wildcards):
    """The dataset's class images, for the methods trained with a prior-preservation loss."""
    ft = FinetuneSettings.from_config(
        config, wildcards.dataset, wildcards.method, wildcards.ld
    )
    return (
        [f"results/class_images/{wildcards.dataset}.pt"] if ft.uses_class_images else []
    )


def samples_for_source(wildcards):
    """Synthetic sample sets a classifier source trains on (none for the real-only ones)."""
    if wildcards.source in ("real", REAL_DOUBLE_STEPS):
        return []
    method, ld = wildcards.source.split("+")[-1].rsplit("-", 1)
    return [f"results/samples/{wildcards.dataset}/{method}/{ld}"]


def chosen_delta(method=None):
    """Input function: the searched δ a set is sampled at ({method} wildcard unless given): the LD
    model's for LD and LD@channel, the noLD model's own for noLD@searched, none (δ = 0) for noLD and LD@zero.
    """

    def inputs(wildcards):
        variant, _, at = wildcards.ld.partition("@")
        if at == "zero" or (variant == "noLD" and at != "searched"):
            return []
        return [
            f"results/drift/{wildcards.dataset}/{method or wildcards.method}/{variant}/chosen.json"
        ]

    return inputs


def trained_model(wildcards):
    """Input function: the model a sample set comes from (the 2×2's LD@zero is the LD model)."""
    variant = wildcards.ld.partition("@")[0]
    return f"results/models/{wildcards.dataset}/{wildcards.method}/{variant}"


# The aggregate rules' inputs, each beside the keys its script files them under (params), so the
# scripts never parse wildcards back out of paths.
FID_KID_KEYS = [(d, m, ld) for d in DATASETS for m in METHODS for ld in LDS]
# real; the paper's real + synthetic (mixed 50/50 at the real size); real + the whole synthetic set
# (twice the data and steps) beside its control, real for the same steps; each synthetic set alone
RPS_SOURCE = f"{RPS['method']}-{RPS['ld']}"
CLASSIFIER_SOURCES = [
    "real",
    f"mixed+{RPS_SOURCE}",
    f"real+{RPS_SOURCE}",
    REAL_DOUBLE_STEPS,
] + [f"{m}-{ld}" for m in METHODS for ld in LDS]
AUC_KEYS = [(d, source) for d in DATASETS for source in CLASSIFIER_SOURCES]
# every δ grid search: each method's LD model, the noLD models of drift.ld_2x2's methods (the
# 2×2's inference-only LD) and the loss-target ablation's models
DRIFT_KEYS = (
    [(d, m, "LD") for d in DATASETS for m in METHODS]
    + [(d, m, "noLD") for d in DATASETS for m in CROSSED_METHODS]
    + [(d, m, ABLATION_LD) for d in DATASETS for m in ABLATION_METHODS]
)
CROSSED_KEYS = [(d, m, ld) for d in DATASETS for m in CROSSED_METHODS for ld in CROSSED]
SAMPLE_KEYS = FID_KID_KEYS
COUNTERFACTUAL_KEYS = [(d, editor) for d in DATASETS for editor in CF["editors"]]
AGEING_KEYS = [
    (d, m, ld, enc)
    for d in AGEING["datasets"]
    for m in AGEING["methods"]
    for ld in LDS
    for enc in AGEING["encodings"]
]

# the prompt ablation's cells per dataset, and the cell its paired differences are against: the
# wording of the run's own prompts
PROMPT_CELL_KEYS = [
    (d, cell) for d in PROMPT_ABLATION["datasets"] for cell in PROMPT_CELLS
]
PROMPT_REFERENCE_CELL = PromptWording.from_config(config).cell


def prompt_cell_files(filename):
    return [
        f"results/prompt_ablation/{d}/{cell}/{filename}" for d, cell in PROMPT_CELL_KEYS
    ]


def fid_kid_files(keys=None):
    return [
        f"results/metrics/{d}/fid_kid/{m}-{ld}.json"
        for d, m, ld in (keys or FID_KID_KEYS)
    ]


def real_floor_files():
    return [f"results/metrics/{d}/fid_kid/real_floor.json" for d in DATASETS]


def no_ld_baseline(wildcards):
    """Input function: an LD model's no-LD twin (features and metrics), for the paired LD effect."""
    if wildcards.ld == "noLD":
        return []
    stem = f"results/metrics/{wildcards.dataset}"
    return [
        f"{stem}/features/{wildcards.method}-noLD.npz",
        f"{stem}/fid_kid/{wildcards.method}-noLD.json",
    ]


def feature_files():
    return [f"results/metrics/{d}/features/{m}-{ld}.npz" for d, m, ld in FID_KID_KEYS]


def auc_files(ext="json"):
    return [f"results/metrics/{d}/auc/{source}.{ext}" for d, source in AUC_KEYS]


def drift_search_files(filename):
    return [f"results/drift/{d}/{m}/{ld}/{filename}" for d, m, ld in DRIFT_KEYS]


def sample_dirs():
    return [f"results/samples/{d}/{m}/{ld}" for d, m, ld in SAMPLE_KEYS]


def counterfactual_dirs():
    return [f"results/counterfactual/{d}/{editor}" for d, editor in COUNTERFACTUAL_KEYS]


def edit_realism_files():
    return [
        f"results/metrics/{d}/edit_realism/{editor}.json"
        for d, editor in COUNTERFACTUAL_KEYS
    ]


def ageing_realism_files():
    return [
        f"results/metrics/{d}/ageing_realism/{m}/{ld}/{enc}.json"
        for d, m, ld, enc in AGEING_KEYS
    ]


def ageing_dirs():
    return [f"results/ageing/{d}/{m}/{ld}/{enc}" for d, m, ld, enc in AGEING_KEYS]


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


def paper_outputs():
    return [
        multiext("results/paper/table1_finetuning", ".csv", ".md", ".tex"),
        multiext("results/paper/fig2_delta_sweep", ".png", ".pdf"),
        multiext("results/paper/fig2_delta_sweep_base", ".png", ".pdf"),
        multiext("results/paper/fig5_samples_per_method", ".png", ".pdf"),
        expand("results/figures/data_{dataset}.png", dataset=DATASETS),
        "results/paper/paper_comparison.md",
        multiext("results/paper/table_delta_ablation", ".csv", ".md", ".tex"),
        multiext("results/paper/table_ld_effect", ".csv", ".md", ".tex"),
        multiext("results/paper/table_memorisation", ".csv", ".md", ".tex"),
        multiext("results/paper/table_ld_2x2", ".csv", ".md", ".tex"),
        multiext("results/paper/fig_memorisation", ".png", ".pdf"),
        multiext("results/paper/fig_metric_vs_n", ".png", ".pdf", ".csv"),
        multiext("results/paper/table_counterfactual", ".csv", ".md", ".tex"),
        multiext("results/paper/table_cf_groundtruth", ".csv", ".md", ".tex"),
        multiext("results/paper/table_cf_gain", ".csv", ".md", ".tex"),
        multiext("results/paper/table_cf_realism", ".csv", ".md", ".tex"),
        multiext("results/paper/table_ageing", ".csv", ".md", ".tex"),
        multiext("results/paper/table_prompt_ablation", ".csv", ".md", ".tex"),
        expand(
            "results/paper/fig1_counterfactuals_{editor}.{ext}",
            editor=CF["editors"],
            ext=["png", "pdf"],
        ),
        multiext("results/paper/fig3_latent_distributions", ".png", ".pdf"),
    ]


THREADS = config["threads"]
# GPU rules ask for one GPU where there are GPUs. On a host without any (a CPU-only workstation,
# CI) they ask for none, so the workstation profile's gpu limit does not serialise them; the SLURM
# profile sets gpu per rule itself.
GPU_PER_JOB = 1 if visible_gpus() else 0
