"""Text-to-image generation with Latent Drifting, sharing the initial noise across δ values.

Image ``i`` of a call always starts from the same standard-normal draw (seeded by ``(seed, i)``)
whatever δ, batch size or prompt order, so a δ sweep shows the effect of δ alone (paper Fig. 2).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from diffusers import DDIMScheduler, DDPMScheduler

from . import drift
from .models import Components
from .train import encode_prompts
from .utils import progress

SCHEDULERS = {"ddim": DDIMScheduler, "ddpm": DDPMScheduler}


def make_scheduler(components: Components, name: str):
    """An inference scheduler built from the model's own training-scheduler config."""
    if name not in SCHEDULERS:
        raise ValueError(f"sampling.scheduler must be one of {sorted(SCHEDULERS)}, got {name!r}")
    return SCHEDULERS[name].from_config(components.noise_scheduler.config)


def latent_shape(components: Components) -> tuple[int, int, int]:
    size = components.unet.config.sample_size
    return (components.unet.config.in_channels, size, size)


def initial_noise(n: int, shape: tuple[int, int, int], seed: int, offset: int = 0) -> torch.Tensor:
    """Standard-normal z_T draws, one generator per image index (independent of batching)."""
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(seed * 100_003 + offset + i)) for i in range(n)])


@torch.no_grad()
def denoise(
    components: Components,
    noise: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    delta: float,
    scheduler,
    steps: int,
    guidance_scale: float,
    generator: torch.Generator | None = None,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Reverse process from z_T = noise + δ with the drifted step; returns z_0 (scaled latents)."""
    device = next(components.unet.parameters()).device
    scheduler.set_timesteps(steps, device=device)
    latents = drift.initial_latents(noise.to(device), delta, scheduler.init_noise_sigma)
    return reverse_process(components, latents, scheduler.timesteps, cond, uncond, delta, scheduler, guidance_scale, generator, on_step)


@torch.no_grad()
def reverse_process(
    components: Components,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    delta: float,
    scheduler,
    guidance_scale: float,
    generator: torch.Generator | None = None,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Drifted reverse steps over ``timesteps`` (a tail of the scheduler's, for editing) from ``latents``."""
    unet = components.unet
    device = next(unet.parameters()).device
    latents = latents.to(device)
    use_cfg = guidance_scale > 1.0 and uncond is not None
    context = torch.cat([uncond.expand(len(cond), -1, -1), cond]) if use_cfg else cond
    context = context.to(device, unet.dtype)
    for k, t in enumerate(timesteps):
        model_in = torch.cat([latents, latents]) if use_cfg else latents
        model_in = scheduler.scale_model_input(model_in, t)
        eps = unet(model_in, t, context).sample
        if use_cfg:
            eps_uncond, eps_cond = eps.chunk(2)
            eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond)
        latents = drift.drifted_step(scheduler, eps, t, latents, delta, generator=generator)
        if on_step is not None:
            on_step(k, latents)
    return latents


@torch.no_grad()
def decode(components: Components, latents: torch.Tensor) -> torch.Tensor:
    vae = components.vae
    device = next(vae.parameters()).device
    return vae.decode(latents.to(device, vae.dtype) / vae.config.scaling_factor).sample.float().clamp(-1, 1).cpu()


@torch.no_grad()
def generate(
    components: Components,
    prompts: Sequence[str],
    delta: float,
    seed: int,
    scheduler_name: str = "ddim",
    steps: int = 25,
    guidance_scale: float = 3.0,
    batch_size: int = 32,
    desc: str = "sample",
) -> torch.Tensor:
    """Images (N, 3, H, W) in [−1, 1] for ``prompts`` at drift δ; image i's noise depends on (seed, i) only."""
    scheduler = make_scheduler(components, scheduler_name)
    uncond = encode_prompts(components, [""])
    shape = latent_shape(components)
    out = []
    for start in progress(range(0, len(prompts), batch_size), desc=desc):
        batch = list(prompts[start : start + batch_size])
        noise = initial_noise(len(batch), shape, seed, offset=start)
        generator = torch.Generator().manual_seed(seed * 7_919 + start)
        cond = encode_prompts(components, batch)
        z0 = denoise(components, noise, cond, uncond, delta, scheduler, steps, guidance_scale, generator)
        out.append(decode(components, z0))
    return torch.cat(out)
