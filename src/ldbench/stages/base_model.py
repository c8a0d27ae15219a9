"""Stage ``pretrain_base``: the embedded SD-architecture model, pre-trained on natural images.

Stable Diffusion's weights cannot be downloaded here, so the pipeline pre-trains its own small
model with the same classes (AutoencoderKL, UNet2DConditionModel, CLIPTextModel, SD's CLIP
tokenizer) on photos shipped inside PyPI wheels, and saves it with ``save_pretrained`` so later
stages load it exactly as they would load SD 1.5.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import torch

from ..encoding import encode_images
from ..methods import MethodConfig, get_strategy
from ..models import build_tiny_components
from ..natural_images import NaturalCropDataset, load_natural_images
from ..runtime import compute_device
from ..seeds import derive_seed
from ..settings import PretrainSettings, TrainSettings
from ..train import LatentSet, train
from ..vae_pretrain import pretrain_vae
from .common import training_levers

log = logging.getLogger("ldbench")


def pretrain_base(settings: PretrainSettings, out_dir: Path, work_dir: Path) -> None:
    emb, size = settings.embedded, settings.image_size
    seed = functools.partial(derive_seed, settings.seed, "pretrain_base")
    components = build_tiny_components({**emb, "image_size": size}, seed=seed("init")).to(compute_device())
    images = load_natural_images()
    crops = NaturalCropDataset(images, size=size, length=emb["natural_crops"], seed=seed("unet_crops"))
    log.info("%d natural images → %d crops of %d px", len(images), len(crops), size)

    vt = emb["vae_training"]
    vae_crops = NaturalCropDataset(images, size=vt.get("crop_size", size), length=emb["natural_crops"], seed=seed("vae_crops"))
    vae_summary = pretrain_vae(components.vae, vae_crops, steps=vt["steps"], batch_size=vt["batch_size"], lr=vt["lr"], seed=seed("vae"), log=log)
    log.info("VAE: %s", vae_summary)
    components.vae.eval().requires_grad_(False)

    items = [crops[i] for i in range(len(crops))]
    pixels = torch.stack([item["pixel_values"] for item in items])
    mean, std = encode_images(components, pixels, desc="encode crops")
    data = LatentSet(mean, std, [item["caption"] for item in items])

    ut = emb["unet_training"]
    train_settings = TrainSettings(
        steps=ut["steps"], batch_size=ut["batch_size"], lr=ut["lr"], seed=seed("unet"),
        mixed_precision=settings.training.mixed_precision, checkpoint_every=settings.training.checkpoint_every,
        **training_levers(settings.training.performance),
    )
    summary = train(components, get_strategy("pretrain", MethodConfig(lr=ut["lr"])), data, train_settings, Path(work_dir))
    components.save_pretrained(Path(out_dir), metadata={"model": "ldbench embedded base", "vae": vae_summary, "unet": summary, "image_size": size})
