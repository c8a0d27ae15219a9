"""Stage ``base_delta_sweep``: the paper's Fig. 2 setting, the *base* model at every δ of each mode.

The paper shows Stable Diffusion's samples changing smoothly over δ with identical noise, on
natural-image prompts. Here the base model (the embedded one, or the configured hub / local model)
samples the same prompts from the same noise at every δ of ``drift.grid[mode]``, for each
``drift.inference_shift`` mode, so a reader sees what a δ value does in each mode before any
fine-tuning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..drift import INFERENCE_SHIFTS
from ..sample import generate
from ..seeds import derive_seed
from ..settings import BaseSweepSettings
from ..utils import atomic_path
from .common import inference_model

log = logging.getLogger("ldbench")


def to_rgb_uint8(images: torch.Tensor) -> np.ndarray:
    """Model output (..., 3, H, W) in [−1, 1] → (..., H, W, 3) uint8."""
    rgb = ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return rgb.movedim(-3, -1).cpu().numpy()


def base_delta_sweep(settings: BaseSweepSettings, model_source: str | Path, out_npz: Path) -> None:
    components = inference_model(settings.performance, model_source)
    prompts = list(settings.prompts)
    arrays: dict[str, np.ndarray] = {"prompts": np.asarray(prompts), "steps": np.array(settings.sampling.steps)}
    for mode in INFERENCE_SHIFTS:
        grid = list(settings.grids[mode])
        kwargs = {**settings.sampling.kwargs(), "inference_shift": mode}
        images = generate(components, prompts, delta=grid, seed=derive_seed(settings.seed, "base_delta_sweep", "noise"),
                          desc=f"base model δ sweep ({mode})", **kwargs)
        arrays[f"images_{mode}"] = to_rgb_uint8(images)  # (δ, prompt, H, W, 3)
        arrays[f"deltas_{mode}"] = np.asarray(grid, dtype=np.float64)
        log.info("%s: %d prompts × δ in %s", mode, len(prompts), grid)
    with atomic_path(Path(out_npz)) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
