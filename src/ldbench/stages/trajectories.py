"""Stage ``trajectories``: latents and images along reverse sampling, without and with LD (Fig. 3).

The same prompts (test-split slices) and the same initial noise are sampled by a method's model
without LD (δ = 0) and with LD (its searched δ); the latents after every reverse step and the
decoded images at five points of the schedule are kept, beside the real slices' latents and
pixels, so the figure can show how LD moves both distributions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..encoding import PromptTable, encode_images
from ..images import load_images
from ..models import read_metadata
from ..sample import decode, denoise, initial_noise, latent_shape, make_scheduler
from ..seeds import derive_seed
from ..settings import TrajectoriesSettings
from ..utils import atomic_path
from .common import draw_rows, inference_delta, inference_model, model_prompts, read_slices, split_rows

log = logging.getLogger("ldbench")

DECODED_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)  # where along the schedule images are decoded


def trajectories(settings: TrajectoriesSettings, model_dirs: dict[str, Path], chosen_json: Path, slices_csv: Path, out_npz: Path) -> None:
    sampling = settings.sampling
    rows = draw_rows(split_rows(read_slices(slices_csv), "test"), settings.n_images, derive_seed(settings.seed, "trajectories", "prompts"))
    deltas = {"noLD": 0.0, "LD": inference_delta(chosen_json)}
    real_images = load_images(rows["image"])
    arrays: dict[str, np.ndarray] = {"img_real": real_images.numpy().astype(np.float16)}
    steps = sampling.steps
    decode_at = sorted({min(steps - 1, round(f * (steps - 1))) for f in DECODED_FRACTIONS})
    for ld, model_dir in model_dirs.items():
        components = inference_model(settings.performance, model_dir)
        if ld == "noLD":  # the real latents through the same VAE (it is frozen by every method)
            arrays["lat_real"] = encode_images(components, real_images, desc="encode real")[0].numpy()
        prompts = model_prompts(rows, settings.dataset.kind, read_metadata(model_dir))
        noise = initial_noise(len(prompts), latent_shape(components), derive_seed(settings.seed, "trajectories", "noise"))
        kept: list[torch.Tensor] = []
        embed = PromptTable(components, prompts)
        denoise(components, noise, embed.embeddings(prompts), embed.uncond, deltas[ld],
                make_scheduler(components, sampling.scheduler), steps, sampling.guidance_scale,
                torch.Generator().manual_seed(derive_seed(settings.seed, "trajectories", "step_noise")), on_step=lambda _k, z, kept=kept: kept.append(z.detach().cpu().clone()), inference_shift=sampling.inference_shift)
        latents = torch.stack(kept)  # (steps, n, C, h, w)
        arrays[f"lat_{ld}"] = latents.numpy()
        arrays[f"img_{ld}"] = torch.stack([decode(components, latents[k]) for k in decode_at]).numpy().astype(np.float16)
        log.info("%s: %d trajectories at δ=%+.3f", ld, len(prompts), deltas[ld])
    arrays.update(deltas=np.array([deltas["noLD"], deltas["LD"]]), decoded_steps=np.array(decode_at), steps=np.array(steps),
                  inference_shift=np.array(sampling.inference_shift))
    with atomic_path(Path(out_npz)) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
