"""Text-to-image generation with Latent Drifting, sharing the initial noise across δ values.

Image ``i`` of a call always starts from the same standard-normal draw (seeded by ``(seed, i)``)
whatever δ, batch size or prompt order, so a δ sweep shows the effect of δ alone (paper Fig. 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from diffusers import DDIMScheduler, DDPMScheduler

from .drift import Delta, DriftedScheduler, FastDDIM, delta_record, format_delta
from .encoding import PromptTable
from .models import Components
from .seeds import derive_seed
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
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(derive_seed(seed, "initial_noise", offset + i))) for i in range(n)])


@torch.no_grad()
def denoise(
    components: Components,
    noise: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    delta: Delta,
    scheduler,
    steps: int,
    guidance_scale: float,
    generator: torch.Generator | None = None,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
    inference_shift: str = "per_step",
) -> torch.Tensor:
    """Reverse process from z_T = noise + δ with the drifted step; returns z_0 (scaled latents)."""
    device = next(components.unet.parameters()).device
    scheduler.set_timesteps(steps, device=device)
    drifted = DriftedScheduler(scheduler, delta, inference_shift)
    latents = drifted.initial_latents(noise.to(device))
    return reverse_process(components, latents, scheduler.timesteps, cond, uncond, drifted, guidance_scale, generator, on_step)


@torch.no_grad()
def reverse_process(
    components: Components,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    drifted: DriftedScheduler,
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
    for k, (t, t_int) in enumerate(zip(timesteps, timesteps.tolist())):  # t_int: no host–device sync inside the step
        model_in = torch.cat([latents, latents]) if use_cfg else latents
        model_in = drifted.scheduler.scale_model_input(model_in, t).to(unet.dtype)
        if model_in.is_cuda:  # a compiled UNet replaying CUDA graphs may reuse its last output's memory
            torch.compiler.cudagraph_mark_step_begin()
        eps = unet(model_in, t, context).sample.to(latents.dtype)
        if use_cfg:
            eps_uncond, eps_cond = eps.chunk(2)
            eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond)
        latents = drifted.step(eps, t_int, latents, generator)
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
    delta: Delta | Sequence[Delta],
    seed: int,
    scheduler_name: str = "ddim",
    steps: int = 25,
    guidance_scale: float = 3.0,
    batch_size: int = 32,
    desc: str = "sample",
    inference_shift: str = "per_step",
) -> torch.Tensor:
    """Images (N, 3, H, W) in [−1, 1] for ``prompts`` at drift δ; image i's noise depends on (seed, i) only.

    δ is a number or a per-channel (C, 1, 1) tensor (``drift.shape: channel``).
    With a list of δ values the result is (len(δ), N, 3, H, W): every δ starts from the same noise.
    Under deterministic DDIM the δ values share batches (a δ grid costs one pass of large batches);
    DDPM's per-step noise is drawn per batch, so there each δ runs on its own to keep that noise
    shared across δ as well.
    """
    scheduler = make_scheduler(components, scheduler_name)
    if isinstance(delta, (list, tuple)):
        deltas = [d if isinstance(d, torch.Tensor) else float(d) for d in delta]
        if not FastDDIM.applies(scheduler):
            return torch.stack([generate(components, prompts, d, seed, scheduler_name, steps, guidance_scale, batch_size, desc=f"{desc} δ={format_delta(delta_record(d))}",
                                         inference_shift=inference_shift) for d in deltas])
        return _generate_grid(components, prompts, deltas, seed, scheduler, steps, guidance_scale, batch_size, desc, inference_shift)
    embed = PromptTable(components, prompts)
    shape = latent_shape(components)
    out = []
    for start in progress(range(0, len(prompts), batch_size), desc=desc):
        batch = list(prompts[start : start + batch_size])
        noise = initial_noise(len(batch), shape, seed, offset=start)
        generator = torch.Generator().manual_seed(derive_seed(seed, "step_noise", start))
        z0 = denoise(components, noise, embed.embeddings(batch), embed.uncond, delta if isinstance(delta, torch.Tensor) else float(delta), scheduler,
                     steps, guidance_scale, generator,
                     inference_shift=inference_shift)
        out.append(decode(components, z0))
    return torch.cat(out)


def _generate_grid(components, prompts, deltas, seed, scheduler, steps, guidance_scale, batch_size, desc, inference_shift) -> torch.Tensor:
    """All (δ, prompt) pairs in shared batches; valid only for deterministic samplers."""
    embed = PromptTable(components, prompts)
    shape = latent_shape(components)
    noise = initial_noise(len(prompts), shape, seed)
    pairs = [(d, i) for d in range(len(deltas)) for i in range(len(prompts))]
    out = []
    for start in progress(range(0, len(pairs), batch_size), desc=f"{desc} ({len(deltas)} δ values)"):
        batch = pairs[start : start + batch_size]
        index = [i for _, i in batch]
        if any(isinstance(d, torch.Tensor) for d in deltas):  # per-channel δ values: (batch, C, 1, 1)
            delta = torch.stack([torch.as_tensor(deltas[d], dtype=noise.dtype).expand(shape[0], 1, 1) for d, _ in batch])
        else:
            delta = torch.tensor([deltas[d] for d, _ in batch], dtype=noise.dtype).view(-1, 1, 1, 1)
        z0 = denoise(components, noise[index], embed.embeddings([prompts[i] for i in index]), embed.uncond, delta, scheduler, steps, guidance_scale,
                     inference_shift=inference_shift)
        out.append(decode(components, z0))
    return torch.cat(out).view(len(deltas), len(prompts), *out[0].shape[1:])
