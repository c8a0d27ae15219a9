"""Stage ``finetune``: one of the four methods, with or without LD, on one dataset's training split."""

from __future__ import annotations

import logging
from pathlib import Path

from ..images import load_images
from ..methods import get_strategy
from ..models import load_components
from ..runtime import compute_device
from ..sample import generate
from ..train import LatentSet, TrainSettings, encode_images, train
from ..variants import training_drift
from .common import method_config, prompts_for, read_slices, sampling_kwargs, split_rows, training_levers
from .latents import load_latents

log = logging.getLogger("ldbench")


def finetune(cfg: dict, dataset: str, method: str, ld: str, slices_csv: Path, latents: Path | None, base_model: str, out_dir: Path, work_dir: Path) -> None:
    """``latents``: the dataset's ``encode_latents`` file; None encodes the slices here (the CLI)."""
    ds_cfg = cfg["datasets"][dataset]
    ft = cfg["finetune"]
    components = load_components(base_model).to(compute_device())  # fp32 master weights; autocast trains in bf16
    strategy = get_strategy(method, method_config(cfg, method, dataset))
    modality = ds_cfg["modality"]

    rows = split_rows(read_slices(slices_csv), "train")
    prompts = prompts_for(rows, ds_cfg["kind"], strategy.modality_phrase(modality))
    log.info("%s/%s/%s: %d training slices; e.g. %r", dataset, method, ld, len(rows), prompts[0])
    if latents is None:
        mean, std = encode_images(components, load_images(rows["image"], cfg["image_size"]), desc="encode slices")
    else:
        mean, std = load_latents(latents, rows, cfg["image_size"])

    prior = None
    prior_prompt = strategy.prior_prompt(modality)
    if prior_prompt is not None:
        n_class = strategy.cfg.num_class_images
        log.info("DreamBooth prior preservation: %d class images of %r from the base model", n_class, prior_prompt)
        class_images = generate(components, [prior_prompt] * n_class, delta=0.0, seed=cfg["seed"] + 1, desc="class images", **sampling_kwargs(cfg))
        p_mean, p_std = encode_images(components, class_images, desc="encode class images")
        prior = LatentSet(p_mean, p_std, [prior_prompt] * n_class)

    delta, loss_target = training_drift(cfg, ld)
    settings = TrainSettings(
        steps=ft["steps"],
        batch_size=ft["batch_size"],
        lr=strategy.cfg.lr,
        seed=cfg["seed"],
        delta=delta,
        loss_target=loss_target,
        gradient_accumulation_steps=ft.get("gradient_accumulation_steps", 1),
        mixed_precision=ft.get("mixed_precision", "auto"),
        checkpoint_every=ft.get("checkpoint_every", 0),
        prior_loss_weight=strategy.cfg.prior_loss_weight,
        **training_levers(cfg),
    )
    summary = train(components, strategy, LatentSet(mean, std, prompts), settings, Path(work_dir), prior=prior)
    metadata = {**strategy.metadata(modality), "dataset": dataset, "kind": ds_cfg["kind"], "ld": ld, "train_delta": settings.delta, "training": summary, "base_model": str(base_model)}
    components.save_pretrained(Path(out_dir), metadata=metadata)
