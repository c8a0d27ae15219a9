"""Stage ``finetune``: one method, with or without LD, on one dataset's training split."""

from __future__ import annotations

import logging
from pathlib import Path

from ..encoding import encode_images
from ..images import load_images
from ..methods import get_strategy
from ..models import load_components
from ..runtime import compute_device
from ..settings import FinetuneSettings
from ..train import LatentSet, train
from ..utils import LdbenchError
from .class_images import load_class_images
from .common import prompts_for, read_slices, split_rows, training_levers
from .latents import load_latents

log = logging.getLogger("ldbench")


def finetune(settings: FinetuneSettings, slices_csv: Path, latents: Path | None, class_images: Path | None, base_model: str,
             out_dir: Path, work_dir: Path) -> None:
    """``latents``: the dataset's ``encode_latents`` file; None encodes the slices here (the CLI).
    ``class_images``: the dataset's ``class_images`` file, for methods with prior preservation."""
    ds = settings.dataset
    components = load_components(base_model).to(compute_device())  # fp32 master weights; autocast trains in bf16
    strategy = get_strategy(settings.method, settings.method_config)

    rows = split_rows(read_slices(slices_csv), "train")
    prompts = prompts_for(rows, ds.kind, strategy.modality_phrase(ds.modality), settings.prompts)
    log.info("%s/%s/%s: %d training slices; e.g. %r", ds.name, settings.method, settings.variant, len(rows), prompts[0])
    if latents is None:
        mean, std = encode_images(components, load_images(rows["image"], settings.image_size), desc="encode slices")
    else:
        mean, std = load_latents(latents, rows, settings.image_size)

    prior = None
    if strategy.uses_class_images:
        if class_images is None:
            raise LdbenchError(f"finetune.{settings.method}: prior_loss_weight > 0 needs class images (rule class_images)")
        images, class_prompt = load_class_images(class_images)
        log.info("prior preservation: %d class images of %r", len(images), class_prompt)
        p_mean, p_std = encode_images(components, images, desc="encode class images")
        prior = LatentSet(p_mean, p_std, [class_prompt] * len(images))

    train_settings = settings.train_settings(training_levers(settings.training.performance))
    summary = train(components, strategy, LatentSet(mean, std, prompts), train_settings, Path(work_dir), prior=prior)
    metadata = {**strategy.metadata(ds.modality), "dataset": ds.name, "kind": ds.kind, "ld": settings.variant,
                "train_delta": train_settings.delta, "prompts": settings.prompts.to_params(), "training": summary, "base_model": str(base_model)}
    components.save_pretrained(Path(out_dir), metadata=metadata)
