"""Typed settings of every stage, each built from the validated config in one place.

A rule hands its job the settings as plain data through ``params:`` (:meth:`Settings.to_params`),
so Snakemake's ``params`` rerun trigger sees every value the job uses: a config edit re-runs the
jobs it affects and no other. The job rebuilds the typed object (:meth:`Settings.from_params`)
and the stage functions take it, never the whole config. The config's defaults live in the
schema alone (``ldbench.config`` fills them in before anything here runs).

Standard library only: the Snakefile builds these when it parses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .methods import MethodConfig, strategies
from .seeds import derive_seed
from .variants import training_drift

#: ``sampling.n_images`` value: one synthetic image per training slice
TRAIN_SPLIT = "train_split"
#: classifier source: the real training set trained for as many steps as real + the whole synthetic set
REAL_DOUBLE_STEPS = "real-2x"

@dataclass(frozen=True)
class Settings:
    """Base of every settings object: plain-data round trip for Snakemake's ``params:``."""

    def to_params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]):
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            value = params[f.name]
            nested = _settings_type(hints[f.name])
            values[f.name] = nested.from_params(value) if nested is not None and value is not None else value
        return cls(**values)


def _settings_type(hint) -> type[Settings] | None:
    """The Settings class in ``hint`` (``X`` or ``X | None``), else None."""
    if isinstance(hint, type) and issubclass(hint, Settings):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        found = [a for a in typing.get_args(hint) if isinstance(a, type) and issubclass(a, Settings)]
        return found[0] if found else None
    return None


# ---------------------------------------------------------------------------------- shared parts


@dataclass(frozen=True)
class Sampling(Settings):
    """Text-to-image sampling (``sampling``): scheduler, steps, classifier-free guidance, batch size, and
    where the inference δ enters (``drift.inference_shift``)."""

    scheduler: str
    steps: int
    guidance_scale: float
    batch_size: int
    inference_shift: str

    @classmethod
    def from_config(cls, config: Mapping) -> Sampling:
        s = config["sampling"]
        return cls(scheduler=s["scheduler"], steps=s["steps"], guidance_scale=s["guidance_scale"], batch_size=s["batch_size"],
                   inference_shift=config["drift"]["inference_shift"])

    def kwargs(self) -> dict[str, Any]:
        """Keywords of ``ldbench.sample.generate``."""
        return {"scheduler_name": self.scheduler, "steps": self.steps, "guidance_scale": self.guidance_scale, "batch_size": self.batch_size,
                "inference_shift": self.inference_shift}


@dataclass(frozen=True)
class PerformanceSettings(Settings):
    """The ``performance`` section as written (``auto`` is resolved per device inside the job,
    ``ldbench.runtime.Performance``)."""

    compile: bool | str
    cuda_graphs: bool | str
    channels_last: bool | str
    inference_precision: str
    gradient_checkpointing: bool

    @classmethod
    def from_config(cls, config: Mapping) -> PerformanceSettings:
        p = config["performance"]
        return cls(compile=p["compile"], cuda_graphs=p["cuda_graphs"], channels_last=p["channels_last"],
                   inference_precision=p["inference_precision"], gradient_checkpointing=p["gradient_checkpointing"])


@dataclass(frozen=True)
class DatasetSettings(Settings):
    """What a stage downstream of preprocessing knows of its dataset: name, kind, prompt phrase."""

    name: str
    kind: str
    modality: str

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> DatasetSettings:
        ds = config["datasets"][dataset]
        return cls(name=dataset, kind=ds["kind"], modality=ds["modality"])


@dataclass(frozen=True)
class PromptWording(Settings):
    """How prompts are worded (``prompts``; ``ldbench.prompts``): simple | diverse, with or without the patient's age and sex."""

    style: str
    patient_info: bool
    seed: int  # draws the diverse wording of each row

    @classmethod
    def from_config(cls, config: Mapping) -> PromptWording:
        return cls(style=config["prompts"]["style"], patient_info=config["prompts"]["patient_info"], seed=config["seed"])

    @property
    def cell(self) -> str:
        """The prompt ablation's name of this wording ("simple-info", "diverse-noinfo", ...)."""
        return f"{self.style}-{'info' if self.patient_info else 'noinfo'}"

    @classmethod
    def from_cell(cls, cell: str, seed: int) -> PromptWording:
        style, _, info = cell.partition("-")
        if style not in PROMPT_STYLES or info not in ("info", "noinfo"):
            raise ValueError(f"prompt ablation cell {cell!r}: expected <{'|'.join(PROMPT_STYLES)}>-<info|noinfo>")
        return cls(style=style, patient_info=info == "info", seed=seed)


#: ``prompts.style`` values
PROMPT_STYLES = ("simple", "diverse")
#: the prompt ablation's cells: wording × patient information
PROMPT_CELLS = tuple(PromptWording(style, info, seed=0).cell for style in PROMPT_STYLES for info in (False, True))


@dataclass(frozen=True)
class ClassifierTask(Settings):
    """A dataset's classification task: target columns and the rows that belong to it."""

    targets: tuple[str, ...]
    rows_query: str | None

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> ClassifierTask:
        ds = config["datasets"][dataset]
        return cls(targets=tuple(ds["classifier_targets"]), rows_query=ds["classifier_rows"])


@dataclass(frozen=True)
class TrainSettings:
    """The training engine's settings (``ldbench.train.train``)."""

    steps: int
    batch_size: int
    lr: float
    seed: int
    delta: float = 0.0
    loss_target: str = "drifted_noise"
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "auto"  # auto | no | bf16 | fp16
    checkpoint_every: int = 0  # 0: no intermediate checkpoints
    keep_checkpoints: bool = False
    max_grad_norm: float | None = 1.0  # None: no clipping
    weight_decay: float = 1e-2
    prior_loss_weight: float = 1.0
    log_every: int = 25
    # speed and memory levers (``ldbench.runtime``; resolved for the job's device)
    gradient_checkpointing: bool = False
    compile: bool = False
    channels_last: bool = False
    fused_optimizer: bool | None = None  # None: fused AdamW on CUDA, foreach elsewhere


@dataclass(frozen=True)
class Training(Settings):
    """The engine settings a stage takes from config (``finetune``'s shared keys, ``performance``)."""

    mixed_precision: str
    checkpoint_every: int
    performance: PerformanceSettings

    @classmethod
    def from_config(cls, config: Mapping) -> Training:
        ft = config["finetune"]
        return cls(mixed_precision=ft["mixed_precision"], checkpoint_every=ft["checkpoint_every"],
                   performance=PerformanceSettings.from_config(config))


# ---------------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class PhantomSettings(Settings):
    """``make_phantoms``: everything that determines a phantom dataset."""

    kind: str
    arguments: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> PhantomSettings:
        from .kinds import get_kind

        ds = config["datasets"][dataset]
        seed = derive_seed(config["seed"], "make_phantoms", ds["kind"])
        return cls(kind=ds["kind"], arguments=get_kind(ds["kind"]).phantom_arguments(ds["phantom"], seed, config["image_size"]))


@dataclass(frozen=True)
class PreprocessSettings(Settings):
    """``preprocess``: raw images or volumes → slice table."""

    kind: str
    source: str
    modality: str
    split: dict[str, float]
    options: dict[str, Any]  # the kind's own keys (``ldbench.kinds``)
    max_dropped_fraction: float
    max_dropped_fraction_by_reason: dict[str, float]
    image_size: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> PreprocessSettings:
        from .kinds import get_kind

        ds = config["datasets"][dataset]
        options = {key: ds[key] for key in get_kind(ds["kind"]).options_schema}
        return cls(kind=ds["kind"], source=ds["source"], modality=ds["modality"], split=dict(ds["split"]), options=options,
                   max_dropped_fraction=ds["max_dropped_fraction"], max_dropped_fraction_by_reason=dict(ds["max_dropped_fraction_by_reason"]),
                   image_size=config["image_size"], seed=config["seed"])


@dataclass(frozen=True)
class PretrainSettings(Settings):
    """``pretrain_base``: the embedded base model's architecture and pre-training."""

    embedded: dict[str, Any]
    image_size: int
    seed: int
    training: Training

    @classmethod
    def from_config(cls, config: Mapping) -> PretrainSettings:
        return cls(embedded=dict(config["base_model"]["embedded"]), image_size=config["image_size"], seed=config["seed"],
                   training=Training.from_config(config))


@dataclass(frozen=True)
class LatentsSettings(Settings):
    """``encode_latents``: the resolution slices are encoded at."""

    image_size: int

    @classmethod
    def from_config(cls, config: Mapping) -> LatentsSettings:
        return cls(image_size=config["image_size"])


@dataclass(frozen=True)
class ClassImagesSettings(Settings):
    """``class_images``: prior-preservation images of a dataset, sampled from the base model."""

    prompt: str
    n_images: int
    sampling: Sampling
    seed: int
    performance: PerformanceSettings

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> ClassImagesSettings:
        prior = config["finetune"]["prior_preservation"]
        modality = config["datasets"][dataset]["modality"]
        sampling = Sampling(scheduler="ddim", steps=prior["steps"], guidance_scale=prior["guidance_scale"],
                            batch_size=config["sampling"]["batch_size"], inference_shift=config["drift"]["inference_shift"])
        return cls(prompt=prior["class_prompt"].format(modality=modality), n_images=prior["num_class_images"], sampling=sampling,
                   seed=config["seed"], performance=PerformanceSettings.from_config(config))


@dataclass(frozen=True)
class FinetuneSettings(Settings):
    """``finetune``: one method, with or without LD, on one dataset."""

    dataset: DatasetSettings
    method: str
    method_block: dict[str, Any]  # ``finetune.<method>``, ``{dataset}`` filled in
    variant: str  # the ``{ld}`` wildcard
    steps: int
    batch_size: int
    gradient_accumulation_steps: int
    delta: float
    loss_target: str
    image_size: int
    seed: int
    training: Training
    prompts: PromptWording

    @classmethod
    def from_config(cls, config: Mapping, dataset: str, method: str, ld: str) -> FinetuneSettings:
        ft = config["finetune"]
        block = {key: value.replace("{dataset}", dataset) if isinstance(value, str) else value for key, value in ft[method].items()}
        delta, loss_target = training_drift(config, ld)
        return cls(dataset=DatasetSettings.from_config(config, dataset), method=method, method_block=block, variant=ld,
                   steps=ft["steps"], batch_size=ft["batch_size"], gradient_accumulation_steps=ft["gradient_accumulation_steps"],
                   delta=delta, loss_target=loss_target, image_size=config["image_size"], seed=config["seed"],
                   training=Training.from_config(config), prompts=PromptWording.from_config(config))

    @property
    def method_config(self) -> MethodConfig:
        return MethodConfig.from_block(self.method_block)

    @property
    def uses_class_images(self) -> bool:
        return strategies()[self.method](self.method_config).uses_class_images

    def train_settings(self, levers: Mapping[str, bool]) -> TrainSettings:
        """The engine's settings; ``levers``: the performance switches resolved for this device."""
        cfg = self.method_config
        return TrainSettings(
            steps=self.steps, batch_size=self.batch_size, seed=derive_seed(self.seed, "finetune"),  # shared by every method and variant
            lr=cfg.effective_lr(self.batch_size, self.gradient_accumulation_steps),
            delta=self.delta, loss_target=self.loss_target, gradient_accumulation_steps=self.gradient_accumulation_steps,
            mixed_precision=self.training.mixed_precision, checkpoint_every=self.training.checkpoint_every,
            max_grad_norm=cfg.max_grad_norm, prior_loss_weight=cfg.prior_loss_weight, **levers,
        )


#: the prompt ablation fine-tunes this method with LD in every cell (the paper: Basic FT + LD)
PROMPT_ABLATION_METHOD = "basic_ft"


@dataclass(frozen=True)
class PromptCellFinetuneSettings(FinetuneSettings):
    """``finetune_prompt_cell``: the prompt ablation's Basic FT + LD in one cell's wording, for ``prompt_ablation.steps``."""

    @classmethod
    def from_config(cls, config: Mapping, dataset: str, cell: str) -> FinetuneSettings:
        base = FinetuneSettings.from_config(config, dataset, PROMPT_ABLATION_METHOD, "LD")
        return dataclasses.replace(base, steps=config["prompt_ablation"]["steps"], prompts=PromptWording.from_cell(cell, config["seed"]))


@dataclass(frozen=True)
class ClassifierSettings(Settings):
    """A classifier's architecture and optimisation (``classifier``)."""

    arch: str
    width: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 1e-4

    @classmethod
    def from_config(cls, config: Mapping) -> ClassifierSettings:
        c = config["classifier"]
        return cls(arch=c["arch"], width=c["width"], epochs=c["epochs"], batch_size=c["batch_size"], lr=c["lr"])


@dataclass(frozen=True)
class ClassifySettings(Settings):
    """``train_classifier``: real / synthetic / mixed training set, AUC on the real test split."""

    task: ClassifierTask
    classifier: ClassifierSettings
    seeds: tuple[int, ...]
    seed: int

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> ClassifySettings:
        c = config["classifier"]
        return cls(task=ClassifierTask.from_config(config, dataset), classifier=ClassifierSettings.from_config(config),
                   seeds=tuple(c["seeds"]), seed=config["seed"])


@dataclass(frozen=True)
class DriftSearchSettings(Settings):
    """``drift_search``: the δ grid, its sample count and the objective L(δ) = λ·ℓ_o + ℓ_in."""

    dataset: DatasetSettings
    task: ClassifierTask
    grid: tuple[float, ...]
    n_samples: int
    classifier_weight: float  # λ
    selection: str  # ℓ_in: "energy" | "paired_l1"
    shape: str  # "scalar" | "channel": also fit one δ per latent channel
    channel_scales: tuple[float, ...]  # the fitted per-channel δ is tried at these multiples
    sampling: Sampling
    seed: int
    performance: PerformanceSettings

    @classmethod
    def from_config(cls, config: Mapping, dataset: str) -> DriftSearchSettings:
        d = config["drift"]
        return cls(dataset=DatasetSettings.from_config(config, dataset), task=ClassifierTask.from_config(config, dataset),
                   grid=tuple(d["grid"][d["inference_shift"]]), n_samples=d["n_samples"], classifier_weight=d["lambda"], selection=d["selection"],
                   shape=d["shape"], channel_scales=tuple(float(s) for s in d["channel_scales"]),
                   sampling=Sampling.from_config(config), seed=config["seed"], performance=PerformanceSettings.from_config(config))


@dataclass(frozen=True)
class BaseSweepSettings(Settings):
    """``base_delta_sweep``: natural-image prompts on the base model at every δ of each mode's grid (Fig. 2)."""

    prompts: tuple[str, ...]
    grids: dict[str, tuple[float, ...]]
    sampling: Sampling
    seed: int
    performance: PerformanceSettings

    @classmethod
    def from_config(cls, config: Mapping) -> BaseSweepSettings:
        return cls(prompts=tuple(config["figures"]["delta_sweep"]["base_prompts"]),
                   grids={mode: tuple(grid) for mode, grid in config["drift"]["grid"].items()},
                   sampling=Sampling.from_config(config), seed=config["seed"], performance=PerformanceSettings.from_config(config))


@dataclass(frozen=True)
class SampleSetSettings(Settings):
    """A stage that samples ``n_images`` prompts of a dataset with the ``sampling`` settings."""

    dataset: DatasetSettings
    n_images: int | str  # or "train_split": one image per training slice (synthesize only)
    sampling: Sampling
    seed: int
    performance: PerformanceSettings
    #: where the config says how many images
    count_key: ClassVar[tuple[str, str]] = ("sampling", "n_images")

    @classmethod
    def from_config(cls, config: Mapping, dataset: str):
        section, key = cls.count_key
        return cls(dataset=DatasetSettings.from_config(config, dataset), n_images=config[section][key],
                   sampling=Sampling.from_config(config), seed=config["seed"], performance=PerformanceSettings.from_config(config))


@dataclass(frozen=True)
class GenerationSeeds(Settings):
    """``evaluation``: Table 1's sets are sampled again with seeds 1 … ``seeds`` − 1, ``images`` prompts each
    (``synthesize``'s ``generation_seeds`` param: only those sets re-run when it changes)."""

    seeds: int
    images: int | str  # or "train_split": the whole set

    @classmethod
    def from_config(cls, config: Mapping) -> GenerationSeeds:
        return cls(seeds=config["evaluation"]["seeds"], images=config["evaluation"]["images"])

    def count(self, n_set: int) -> int:
        """Images per seed for a set of ``n_set`` images."""
        return n_set if self.images == TRAIN_SPLIT else min(int(self.images), n_set)


@dataclass(frozen=True)
class SynthesizeSettings(SampleSetSettings):
    """``synthesize``: a synthetic set of ``sampling.n_images`` from training-split prompts ("train_split": one per slice)."""


@dataclass(frozen=True)
class PromptCellSynthesizeSettings(SampleSetSettings):
    """``synthesize_prompt_cell``: ``prompt_ablation.n_images`` training-split prompts, in the model's wording, at δ = 0."""

    count_key: ClassVar[tuple[str, str]] = ("prompt_ablation", "n_images")


@dataclass(frozen=True)
class TrajectoriesSettings(SampleSetSettings):
    """``trajectories``: ``drift.n_samples`` prompts sampled without and with LD, from identical noise (Fig. 3)."""

    count_key: ClassVar[tuple[str, str]] = ("drift", "n_samples")


@dataclass(frozen=True)
class SmallNetworkSettings(Settings):
    """A small image network trained on the real training split (``ldbench.classifier.build``) with the run's seed."""

    arch: str
    width: int
    epochs: int
    batch_size: int
    lr: float
    seed: int

    @classmethod
    def from_block(cls, block: Mapping, config: Mapping):
        return cls(arch=block["arch"], width=block["width"], epochs=block["epochs"], batch_size=block["batch_size"], lr=block["lr"],
                   seed=config["seed"])


@dataclass(frozen=True)
class EvaluatorSettings(SmallNetworkSettings):
    """``train_evaluator``: the evaluation-only feature network (``metrics.evaluator``, ``ldbench.evaluator``)."""

    @classmethod
    def from_config(cls, config: Mapping) -> EvaluatorSettings:
        return cls.from_block(config["metrics"]["evaluator"], config)


@dataclass(frozen=True)
class DistanceSettings(Settings):
    """FID / KID / FRD between image sets (``metrics``): the feature extractor, KID's subsets, FRD's images, the intervals."""

    feature_extractor: str
    inception_weights: str | None
    kid_subset_size: int
    kid_subsets: int
    frd_images: int | None  # FRD on the first this many images of each set (radiomics cost ~0.15 s per image); None: no FRD
    interval_draws: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping) -> DistanceSettings:
        m = config["metrics"]
        return cls(feature_extractor=m["feature_extractor"], inception_weights=m["inception_weights"], kid_subset_size=m["kid_subset_size"],
                   kid_subsets=m["kid_subsets"], frd_images=m["frd_images"], interval_draws=m["interval_draws"], seed=config["seed"])


@dataclass(frozen=True)
class EvaluateSettings(DistanceSettings):
    """``real_features``, ``evaluate``, ``ld_effect``: the distances, and what only synthetic sets need."""

    n_generated: int | str  # the real floor's pool size: the synthetic sets' size (sampling.n_images; "train_split")
    prdc_k: int  # nearest neighbours of precision / recall / density / coverage

    @classmethod
    def from_config(cls, config: Mapping) -> EvaluateSettings:
        return cls(**DistanceSettings.from_config(config).to_params(), n_generated=config["sampling"]["n_images"],
                   prdc_k=config["metrics"]["prdc_nearest_k"])


@dataclass(frozen=True)
class EditRealismSettings(Settings):
    """``edit_realism``: FID / KID of one editor's counterfactual sets against real target-class images."""

    dataset: DatasetSettings
    editor: str
    distances: DistanceSettings

    @classmethod
    def from_config(cls, config: Mapping, dataset: str, editor: str) -> EditRealismSettings:
        return cls(dataset=DatasetSettings.from_config(config, dataset), editor=editor, distances=DistanceSettings.from_config(config))


@dataclass(frozen=True)
class EditSettings(Settings):
    """How an editor runs (``ldbench.editing``)."""

    steps: int = 20  # DDIM steps of the full schedule (SDEdit runs the last strength·steps of them)
    guidance_scale: float = 3.0
    strength: float = 0.6  # SDEdit: fraction of the schedule the source is noised to
    batch_size: int = 32
    inference_shift: str = "per_step"  # ``drift.inference_shift``: where δ enters the reverse steps


@dataclass(frozen=True)
class GroundTruthSettings(Settings):
    """What re-renders a phantom dataset's true counterfactuals (None for real data)."""

    phantom: PhantomSettings
    options: dict[str, Any]  # the kind's own keys, as preprocessing used them
    image_size: int

    @classmethod
    def for_dataset(cls, config: Mapping, dataset: str) -> GroundTruthSettings | None:
        """The dataset's ground truth where it is a phantom; None for real data."""
        if config["datasets"][dataset]["source"] != "phantom":
            return None
        pre = PreprocessSettings.from_config(config, dataset)
        return cls(phantom=PhantomSettings.from_config(config, dataset), options=pre.options, image_size=pre.image_size)


@dataclass(frozen=True)
class CounterfactualSettings(Settings):
    """``counterfactual``: one editor on the dataset's tasks, without and with LD."""

    dataset: DatasetSettings
    editor: str
    method: str
    n_images: int
    edit: EditSettings
    lpips_backbone: str | None
    ground_truth: GroundTruthSettings | None
    seed: int
    performance: PerformanceSettings

    @classmethod
    def from_config(cls, config: Mapping, dataset: str, editor: str) -> CounterfactualSettings:
        cf, s = config["counterfactual"], config["sampling"]
        return cls(dataset=DatasetSettings.from_config(config, dataset), editor=editor, method=cf["method"], n_images=cf["n_images"],
                   edit=EditSettings(steps=s["steps"], guidance_scale=s["guidance_scale"], strength=cf["strength"], batch_size=s["batch_size"],
                                      inference_shift=config["drift"]["inference_shift"]),
                   lpips_backbone=config["metrics"]["lpips_backbone"], ground_truth=GroundTruthSettings.for_dataset(config, dataset), seed=config["seed"],
                   performance=PerformanceSettings.from_config(config))


@dataclass(frozen=True)
class AgeRegressorSettings(SmallNetworkSettings):
    """``train_age_regressor``: the network that reads an ageing edit's years (``ageing.age_regressor``, ``ldbench.age_regressor``)."""

    @classmethod
    def from_config(cls, config: Mapping) -> AgeRegressorSettings:
        return cls.from_block(config["ageing"]["age_regressor"], config)


@dataclass(frozen=True)
class AgeingSettings(Settings):
    """``ageing``: InstructPix2Pix trained on longitudinal pairs and its edits of test pairs."""

    modality: str
    method: str  # the fine-tuned model InstructPix2Pix starts from (ageing.methods)
    variant: str
    encoding: str  # how the instruction states the years (ageing.encodings)
    steps: int
    batch_size: int
    lr: float
    n_images: int
    text_guidance: float
    image_guidance: float
    delta: float
    loss_target: str
    sampling_steps: int
    sampling_batch_size: int
    inference_shift: str
    lpips_backbone: str | None
    ground_truth: GroundTruthSettings | None  # phantoms: the earlier scan re-rendered at the later visit's age
    seed: int
    training: Training

    @classmethod
    def from_config(cls, config: Mapping, dataset: str, method: str, ld: str, encoding: str) -> AgeingSettings:
        a = config["ageing"]
        delta, loss_target = training_drift(config, ld)
        return cls(modality=config["datasets"][dataset]["modality"], method=method, variant=ld, encoding=encoding, steps=a["steps"], batch_size=a["batch_size"], lr=a["lr"],
                   n_images=a["n_images"], text_guidance=a["text_guidance"], image_guidance=a["image_guidance"], delta=delta,
                   loss_target=loss_target, sampling_steps=config["sampling"]["steps"], sampling_batch_size=config["sampling"]["batch_size"],
                   inference_shift=config["drift"]["inference_shift"], lpips_backbone=config["metrics"]["lpips_backbone"],
                   ground_truth=GroundTruthSettings.for_dataset(config, dataset), seed=config["seed"], training=Training.from_config(config))


@dataclass(frozen=True)
class FigureSettings(Settings):
    """One figure's options (``figures.<name>``) and the shared resolution."""

    dpi: int
    options: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping, figure: str) -> FigureSettings:
        return cls(dpi=config["figures"]["dpi"], options=dict(config["figures"][figure]))
