"""Counterfactual editing of real images with a fine-tuned model, with or without Latent Drifting.

Two editors, both run on our own model and DDIM scheduler (no pipeline download):

* ``sdedit`` (img2img, Meng et al. 2022): the source latents are noised to ``strength``·T with the
  drifted forward process (z_t = √ᾱ z₀ + √(1−ᾱ)(ε + δ)) and denoised with the target prompt by the
  drifted reverse process (``ldbench.drift.DriftedScheduler``: δ_step added to every posterior mean,
  as ``drift.inference_shift`` says).
* ``ddim_inversion`` (DDIM inversion + prompt swap): the source latents are inverted
  deterministically under the source prompt — each DDIM step run backwards, δ_step removed before it,
  so that the drifted reverse process under the source prompt returns to the source — and the
  inverted z_T is denoised under the target prompt: the inversion half of Pix2Pix-Zero without
  its cross-attention guidance, named as such in every table (an ablation of the next editor).
* ``pix2pix_zero`` (Parmar et al. 2023): diffusers' ``StableDiffusionPix2PixZeroPipeline`` on our
  model — regularised DDIM inversion, then denoising along the edit direction with
  cross-attention guidance. LD enters through its schedulers (:class:`DriftedDDIMScheduler`,
  :class:`DriftedDDIMInverseScheduler`). The edit direction is the mean text embedding of the
  edited images' target prompts minus that of their source prompts (the paper averages many
  sentences per concept; these prompts vary in age and sex).

A third editor needs a model trained for it: :func:`instruct_edit` runs an InstructPix2Pix model
(``methods.strategies.InstructPix2Pix``) from z_T ~ N(δ, I), with the input image's latents as
extra channels and separate text and image guidance.

Edits are deterministic given the seed: the forward noise of image i depends on (seed, i) only.
Two controls stand beside every edit (``ldbench.stages.counterfactual``): the *null edit*, the same
editor, seed and noise with the target prompt equal to the source prompt, and the *reconstruction*
:func:`reconstruct`, the VAE alone (encode → decode), the ceiling of any edit that passes through it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from diffusers import DDIMInverseScheduler, DDIMScheduler

from . import drift
from .encoding import PromptTable, encode_images, encode_prompts
from .models import Components
from .sample import decode, initial_noise, make_scheduler, reverse_process
from .seeds import derive_seed
from .settings import EditSettings
from .utils import LdbenchError, progress

EDITORS = {
    "sdedit": "SDEdit (img2img)",
    "ddim_inversion": "DDIM inversion + prompt swap",
    "pix2pix_zero": "Pix2Pix-Zero (diffusers pipeline)",
}
INSTRUCT_EDITOR = "InstructPix2Pix"


class DriftedDDIMScheduler(DDIMScheduler):
    """DDIM whose every reverse step adds δ_step (:func:`ldbench.drift.step_shift`), for diffusers pipelines."""

    delta: float = 0.0
    inference_shift: str = "per_step"

    def step(self, model_output, timestep, sample, *args, **kwargs):
        out = super().step(model_output, timestep, sample, *args, **kwargs)
        step_delta = drift.step_shift(self.delta, self.inference_shift, self.num_inference_steps)
        if step_delta == 0:
            return out
        if isinstance(out, tuple):
            return (drift.shift(out[0], step_delta), *out[1:])
        out.prev_sample = drift.shift(out.prev_sample, step_delta)
        return out


class DriftedDDIMInverseScheduler(DDIMInverseScheduler):
    """The inverse of :class:`DriftedDDIMScheduler`'s step: δ_step is removed before stepping up."""

    delta: float = 0.0
    inference_shift: str = "per_step"

    def step(self, model_output, timestep, sample, *args, **kwargs):
        step_delta = drift.step_shift(self.delta, self.inference_shift, self.num_inference_steps)
        return super().step(model_output, timestep, drift.shift(sample, -step_delta) if step_delta else sample, *args, **kwargs)


def pix2pix_zero_pipeline(components: Components, delta: float, inference_shift: str = "per_step"):
    """diffusers' Pix2Pix-Zero pipeline on our components, drifted by δ; no captioner, no safety checker."""
    from diffusers import StableDiffusionPix2PixZeroPipeline

    config = {k: v for k, v in components.noise_scheduler.config.items() if k != "skip_prk_steps"}
    scheduler, inverse = DriftedDDIMScheduler.from_config(config), DriftedDDIMInverseScheduler.from_config(config)
    scheduler.delta = inverse.delta = float(delta)
    scheduler.inference_shift = inverse.inference_shift = inference_shift
    pipe = StableDiffusionPix2PixZeroPipeline(
        vae=components.vae, text_encoder=components.text_encoder, tokenizer=components.tokenizer, unet=components.unet,
        scheduler=scheduler, feature_extractor=None, safety_checker=None, inverse_scheduler=inverse,
        caption_generator=None, caption_processor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _pix2pix_zero(components: Components, images: torch.Tensor, source_prompts: Sequence[str], target_prompts: Sequence[str],
                  delta: float, seed: int, settings: EditSettings, desc: str) -> torch.Tensor:
    pipe = pix2pix_zero_pipeline(components, delta, settings.inference_shift)
    source_embeds = encode_prompts(components, sorted(set(source_prompts))).mean(0, keepdim=True)
    target_embeds = encode_prompts(components, sorted(set(target_prompts))).mean(0, keepdim=True)
    out = []
    for start in progress(range(0, len(images), settings.batch_size), desc=desc):
        batch, prompts = images[start : start + settings.batch_size], list(source_prompts[start : start + settings.batch_size])
        generator = torch.Generator().manual_seed(derive_seed(seed, "step_noise", start))
        inverted = pipe.invert(prompt=prompts, image=batch, num_inference_steps=settings.steps, generator=generator, output_type="pt").latents
        edited = pipe(prompt=prompts, source_embeds=source_embeds, target_embeds=target_embeds, latents=inverted,
                      num_inference_steps=settings.steps, guidance_scale=settings.guidance_scale, generator=generator, output_type="pt").images
        out.append(edited.float().cpu() * 2 - 1)
    return torch.cat(out)


def _encode(components: Components, images: torch.Tensor) -> torch.Tensor:
    means, _ = encode_images(components, images, desc="encode")
    return means


@torch.no_grad()
def reconstruct(components: Components, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """The VAE's encode → decode of ``images`` (N, 3, H, W) in [−1, 1], from the posterior mean."""
    means, _ = encode_images(components, images, batch_size, desc="reconstruct")
    return torch.cat([decode(components, means[start : start + batch_size]) for start in range(0, len(means), batch_size)])


@torch.no_grad()
def ddim_invert(components: Components, latents: torch.Tensor, cond: torch.Tensor, delta: float, scheduler,
                inference_shift: str = "per_step") -> torch.Tensor:
    """z_T whose drifted DDIM reverse pass (η = 0, no guidance) under ``cond`` returns ``latents``.

    Uses the usual approximation ε̂(z_t) ≈ ε̂(z_{t−1}); ``scheduler.set_timesteps`` must be called.
    """
    if scheduler.config.prediction_type != "epsilon":
        raise LdbenchError(f"DDIM inversion needs an epsilon-prediction model, this one predicts {scheduler.config.prediction_type!r}")
    unet = components.unet
    device = next(unet.parameters()).device
    alphas = scheduler.alphas_cumprod.to(device)
    stride = scheduler.config.num_train_timesteps // scheduler.num_inference_steps
    z = latents.to(device)
    context = cond.to(device, unet.dtype)
    step_delta = drift.step_shift(delta, inference_shift, scheduler.num_inference_steps)
    for t in reversed(scheduler.timesteps):
        prev = int(t) - stride
        a_prev = alphas[prev] if prev >= 0 else scheduler.final_alpha_cumprod.to(device)
        a_t = alphas[int(t)]
        eps = unet(z.to(unet.dtype), t, context).sample.to(z.dtype)
        x0 = (z - step_delta - (1 - a_prev).sqrt() * eps) / a_prev.sqrt()
        z = a_t.sqrt() * x0 + (1 - a_t).sqrt() * eps
    return z


@torch.no_grad()
def edit(
    components: Components,
    images: torch.Tensor,
    source_prompts: Sequence[str],
    target_prompts: Sequence[str],
    editor: str,
    delta: float,
    seed: int,
    settings: EditSettings,
    desc: str = "edit",
) -> torch.Tensor:
    """Edited images (N, 3, H, W) in [−1, 1] of ``images`` (same layout), source → target prompt."""
    if editor not in EDITORS:
        raise LdbenchError(f"counterfactual.editors: unknown editor {editor!r}; expected one of {sorted(EDITORS)}")
    if not 0.0 < settings.strength <= 1.0:
        raise LdbenchError(f"counterfactual.strength must lie in (0, 1], got {settings.strength}")
    if editor == "pix2pix_zero":
        return _pix2pix_zero(components, images, source_prompts, target_prompts, delta, seed, settings, desc)
    scheduler = make_scheduler(components, "ddim")
    device = next(components.unet.parameters()).device
    scheduler.set_timesteps(settings.steps, device=device)
    drifted = drift.DriftedScheduler(scheduler, delta, settings.inference_shift)
    embed = PromptTable(components, list(source_prompts) + list(target_prompts))
    out = []
    for start in progress(range(0, len(images), settings.batch_size), desc=desc):
        stop = start + settings.batch_size
        z0 = _encode(components, images[start:stop])
        target = embed.embeddings(target_prompts[start:stop])
        if editor == "sdedit":
            n_run = max(1, round(settings.strength * settings.steps))
            timesteps = scheduler.timesteps[settings.steps - n_run :]
            noise = initial_noise(len(z0), tuple(z0.shape[1:]), seed, offset=start).to(device)
            t_start = timesteps[:1].repeat(len(z0))
            zt = scheduler.add_noise(z0.to(device), drift.drifted_noise(noise, delta), t_start)
        else:
            timesteps = scheduler.timesteps
            zt = ddim_invert(components, z0, embed.embeddings(source_prompts[start:stop]), delta, scheduler, settings.inference_shift)
        z = reverse_process(components, zt, timesteps, target, embed.uncond, drifted, settings.guidance_scale)
        out.append(decode(components, z))
    return torch.cat(out)


@torch.no_grad()
def instruct_edit(
    components: Components,
    images: torch.Tensor,
    instructions: Sequence[str],
    delta: float,
    seed: int,
    steps: int = 20,
    text_guidance: float = 3.0,
    image_guidance: float = 1.5,
    batch_size: int = 32,
    desc: str = "instruct-pix2pix",
    inference_shift: str = "per_step",
) -> torch.Tensor:
    """InstructPix2Pix edits (N, 3, H, W) in [−1, 1]: ε = ε(∅,∅) + s_I·(ε(∅,I) − ε(∅,∅)) + s_T·(ε(T,I) − ε(∅,I))."""
    unet = components.unet
    if unet.config.in_channels != 8:
        raise LdbenchError(f"an InstructPix2Pix model has 8 UNet input channels, this one has {unet.config.in_channels}")
    device = next(unet.parameters()).device
    scheduler = make_scheduler(components, "ddim")
    scheduler.set_timesteps(steps, device=device)
    drifted = drift.DriftedScheduler(scheduler, delta, inference_shift)
    embed = PromptTable(components, instructions)
    uncond = embed.uncond.to(device, unet.dtype)
    out = []
    for start in progress(range(0, len(images), batch_size), desc=desc):
        source = _encode(components, images[start : start + batch_size]).to(device)
        n = len(source)
        text = embed.embeddings(instructions[start : start + n]).to(device, unet.dtype)
        context = torch.cat([text, uncond.expand(n, -1, -1), uncond.expand(n, -1, -1)])
        image = torch.cat([source, source, torch.zeros_like(source)])
        z = drifted.initial_latents(initial_noise(n, tuple(source.shape[1:]), seed, offset=start).to(device))
        generator = torch.Generator().manual_seed(derive_seed(seed, "step_noise", start))
        for t in scheduler.timesteps:
            model_in = torch.cat([scheduler.scale_model_input(torch.cat([z] * 3), t), image], dim=1).to(unet.dtype)
            e_full, e_image, e_none = unet(model_in, t, context).sample.to(z.dtype).chunk(3)
            eps = e_none + image_guidance * (e_image - e_none) + text_guidance * (e_full - e_image)
            z = drifted.step(eps, t, z, generator)
        out.append(decode(components, z))
    return torch.cat(out)
