"""Pre-train the embedded tiny model's AutoencoderKL on natural crops.

The objective is Stable Diffusion's first-stage loss without its perceptual (LPIPS) and GAN terms,
whose weights cannot be had offline: L1 reconstruction plus a KL term with SD's tiny weight
(1e-6, applied as in the LDM code: KL summed over latent elements against the L1 summed over
pixels; here both are divided by the pixel count).  Afterwards ``scaling_factor`` is set the way
SD's 0.18215 was obtained: 1 / std of sampled latents over a fixed batch.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .seeds import derive_seed
from .utils import LdbenchError, progress


def _logger(log: Any) -> Callable[[str], None]:
    if log is None:
        return logging.getLogger("ldbench").info
    if isinstance(log, logging.Logger):
        return log.info
    if callable(log):
        return log
    raise TypeError("log must be None, a logging.Logger or a callable taking a string")


def _batch(dataset, indices) -> torch.Tensor:
    return torch.stack([dataset[int(j)]["pixel_values"] for j in indices]).float()


def _lr_factor(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress_ = (step - warmup) / max(1, steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress_))


def held_indices(n_items: int, n: int) -> np.ndarray:
    """A fixed spread of dataset indices used for the scaling factor and the final L1."""
    return np.unique(np.linspace(0, n_items - 1, num=min(n, n_items)).round().astype(int))


@torch.no_grad()
def evaluate_vae(vae, pixel_values: torch.Tensor, seed: int = 0, chunk: int = 32) -> dict:
    """Reconstruction L1 (posterior mode, [-1, 1] units) and latent statistics (sampled latents)."""
    was_training = vae.training
    vae.eval()
    gen = torch.Generator().manual_seed(int(seed))
    param = next(vae.parameters())
    l1s, latents = [], []
    for start in range(0, len(pixel_values), chunk):
        x = pixel_values[start : start + chunk].to(param.device, param.dtype)
        post = vae.encode(x).latent_dist
        rec = vae.decode(post.mode()).sample
        l1s.append((rec.float() - x.float()).abs().mean(dim=(1, 2, 3)).cpu())
        eps = torch.randn(post.mean.shape, generator=gen).to(post.mean.device, post.mean.dtype)
        latents.append((post.mean + post.std * eps).float().cpu())
    vae.train(was_training)
    z = torch.cat(latents)
    return {
        "l1": float(torch.cat(l1s).mean()),
        "latent_mean": float(z.mean()),
        "latent_std": float(z.std()),
        "latent_channel_std": [float(s) for s in z.transpose(0, 1).reshape(z.shape[1], -1).std(dim=1)],
    }


def pretrain_vae(
    vae,
    dataset,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    kl_weight: float = 1e-6,
    log=None,
    held_size: int = 64,
    grad_clip: float = 1.0,
) -> dict:
    """Train ``vae`` (in place) on ``dataset`` items' ``pixel_values`` in [-1, 1]; set its scaling factor.

    AdamW (no weight decay), linear warm-up over 5 % of the steps then cosine decay to 10 % of
    ``lr``, gradient clipping at ``grad_clip``.  Batches are drawn from a seeded permutation of the
    dataset; the posterior is sampled with a seeded generator, so a rerun on CPU with the same
    arguments and thread count gives the same weights.  ``held_size`` items spread evenly over
    the dataset give the final L1 (posterior mode) and the scaling factor 1/std(latents), written
    with ``vae.register_to_config(scaling_factor=...)``.

    Returns ``{"final_l1", "scaling_factor", "steps", "train_l1", "kl", "latent_std", "latent_mean",
    "latent_channel_std", "seconds"}``.
    """
    info = _logger(log)
    steps, batch_size = int(steps), int(batch_size)
    if steps < 0 or batch_size < 1:
        raise LdbenchError(f"pretrain_vae: steps ({steps}) must be >= 0 and batch_size ({batch_size}) >= 1")
    n_items = len(dataset)
    if n_items < 1:
        raise LdbenchError("pretrain_vae: empty dataset")
    param = next(vae.parameters())
    device, dtype = param.device, param.dtype
    rng = np.random.default_rng(derive_seed(seed, "vae", "batches"))
    gen = torch.Generator().manual_seed(derive_seed(seed, "vae", "posterior"))
    optimizer = torch.optim.AdamW(vae.parameters(), lr=float(lr), weight_decay=0.0)
    warmup = max(1, steps // 20)
    order = rng.permutation(n_items)
    cursor = 0
    recent_l1: list[float] = []
    kl_value = float("nan")
    t0 = time.time()
    vae.train()
    bar = progress(range(steps), desc="vae pretrain", unit="step")
    for step in bar:
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(n_items), 0
            if batch_size > n_items:
                order = np.resize(order, batch_size)
        idx = order[cursor : cursor + batch_size]
        cursor += batch_size
        x = _batch(dataset, idx).to(device, dtype)
        for group in optimizer.param_groups:
            group["lr"] = float(lr) * _lr_factor(step, steps, warmup)
        post = vae.encode(x).latent_dist
        eps = torch.randn(post.mean.shape, generator=gen).to(device, post.mean.dtype)
        z = post.mean + post.std * eps
        rec = vae.decode(z).sample
        l1 = (rec.float() - x.float()).abs().mean()
        kl = post.kl().float().mean()  # summed over latent elements, mean over the batch
        loss = l1 + kl_weight * kl / float(x[0].numel())
        if not torch.isfinite(loss):
            raise LdbenchError(f"pretrain_vae: loss became {float(loss)} at step {step}; lower the learning rate")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip and grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(vae.parameters(), grad_clip)
        optimizer.step()
        recent_l1.append(float(l1.detach()))
        recent_l1 = recent_l1[-50:]
        kl_value = float(kl.detach())
        if step % 10 == 0 or step == steps - 1:
            bar.set_postfix(l1=f"{np.mean(recent_l1):.4f}", kl=f"{kl_value:.1f}", refresh=False)
        if steps >= 10 and (step + 1) % max(1, steps // 10) == 0:
            info(f"vae pretrain step {step + 1}/{steps}: l1 {np.mean(recent_l1):.4f} kl {kl_value:.1f}")
    bar.close()
    vae.eval()

    held = _batch(dataset, held_indices(n_items, int(held_size)))
    stats = evaluate_vae(vae, held, seed=derive_seed(seed, "vae", "evaluation"))
    if not math.isfinite(stats["latent_std"]) or stats["latent_std"] <= 0:
        raise LdbenchError(f"pretrain_vae: latent std is {stats['latent_std']}; cannot set the scaling factor")
    scaling_factor = 1.0 / stats["latent_std"]
    vae.register_to_config(scaling_factor=float(scaling_factor))
    result = {
        "final_l1": stats["l1"],
        "scaling_factor": float(scaling_factor),
        "steps": steps,
        "train_l1": float(np.mean(recent_l1)) if recent_l1 else float("nan"),
        "kl": kl_value,
        "latent_mean": stats["latent_mean"],
        "latent_std": stats["latent_std"],
        "latent_channel_std": stats["latent_channel_std"],
        "held_items": len(held),
        "seconds": round(time.time() - t0, 2),
    }
    info(f"vae pretrain done: {steps} steps, held L1 {result['final_l1']:.4f}, scaling_factor {scaling_factor:.4f} ({result['seconds']} s)")
    return result
