"""Stage ``class_images``: the prior-preservation images of a dataset, sampled once from the base model.

DreamBooth's recipe (and Custom Diffusion's with ``--with_prior_preservation``) regularises
fine-tuning with images the *base* model generates for the class prompt ("a brain MRI"). They
depend on the dataset's modality phrase and the base model only, so every method and LD variant
of a dataset shares one set, as diffusers' scripts share a ``class_data_dir``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..images import image_grid, save_png, to_gray_uint8
from ..sample import generate
from ..seeds import derive_seed
from ..settings import ClassImagesSettings
from ..utils import LdbenchError, atomic_path
from .common import inference_model

log = logging.getLogger("ldbench")


def class_images(settings: ClassImagesSettings, base_model: str, out_path: Path, preview_png: Path) -> None:
    components = inference_model(settings.performance, base_model)
    log.info("%d class images of %r from the base model", settings.n_images, settings.prompt)
    images = generate(components, [settings.prompt] * settings.n_images, delta=0.0, seed=derive_seed(settings.seed, "class_images", "noise"), desc="class images",
                      **settings.sampling.kwargs())
    with atomic_path(out_path, suffix=".pt") as tmp:
        torch.save({"images": images.float(), "prompt": settings.prompt}, tmp)
    save_png(preview_png, image_grid(list(to_gray_uint8(images[:16])), ncols=8))


def load_class_images(path: Path) -> tuple[torch.Tensor, str]:
    """(images in [−1, 1], class prompt) of a ``class_images`` file."""
    try:
        blob = torch.load(path, weights_only=True)
        return blob["images"], blob["prompt"]
    except FileNotFoundError as err:
        raise LdbenchError(f"{path}: class images not found (rule class_images writes them)") from err
    except Exception as err:  # a truncated or foreign file
        raise LdbenchError(f"{path}: not a class-image file written by class_images ({err})") from err
