"""Stage ``encode_latents``: a dataset's training slices through the base model's VAE, once.

Every method freezes the VAE, so the eight fine-tunings of a dataset train on the same latents;
encoding them once per dataset (the VAE costs 45 % of an SD 1.5 training step at 512 px) and
reading them from disk is the first speed lever of DESIGN §8. The file keeps each slice's image
path beside its posterior mean and std, so a reader checks that it got the slices it asked for.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch

from ..encoding import encode_images
from ..images import load_images
from ..models import load_components
from ..runtime import compute_device
from ..settings import LatentsSettings
from ..utils import LdbenchError, atomic_path
from .common import read_slices, split_rows

log = logging.getLogger("ldbench")

SPLIT = "train"


def encode_latents(settings: LatentsSettings, slices_csv: Path, base_model: str, out_path: Path) -> None:
    rows = split_rows(read_slices(slices_csv), SPLIT)
    components = load_components(base_model).to(compute_device())
    mean, std = encode_images(components, load_images(rows["image"], settings.image_size), desc="encode slices")
    log.info("%d %s slices → latents %s", len(rows), SPLIT, tuple(mean.shape[1:]))
    with atomic_path(out_path, suffix=".pt") as tmp:
        torch.save({"image": list(rows["image"]), "mean": mean, "std": std, "base_model": str(base_model),
                    "image_size": settings.image_size}, tmp)


def load_latents(path: Path, rows: pd.DataFrame, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and std of ``rows`` (in their order) from an ``encode_latents`` file."""
    try:
        cache = torch.load(path, weights_only=True)
    except FileNotFoundError as err:
        raise LdbenchError(f"{path}: latent cache not found (rule encode_latents writes it)") from err
    except Exception as err:  # a truncated or foreign file
        raise LdbenchError(f"{path}: not a latent cache written by encode_latents ({err})") from err
    if cache.get("image_size") != image_size:
        raise LdbenchError(f"{path}: latents of {cache.get('image_size')}-px images, the config asks for {image_size} px; delete it to re-encode")
    index = {image: i for i, image in enumerate(cache["image"])}
    missing = [image for image in rows["image"] if image not in index]
    if missing:
        raise LdbenchError(f"{path}: no latents for {len(missing)} slice(s), e.g. {missing[0]}; the slice table changed since, delete it to re-encode")
    order = torch.tensor([index[image] for image in rows["image"]])
    return cache["mean"][order], cache["std"][order]
