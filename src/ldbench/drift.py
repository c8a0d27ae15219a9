"""Latent Drifting (LD): a scalar shift δ of the diffusion process, for any diffusers scheduler.

Forward process during fine-tuning with LD (DESIGN §4)::

    ε_δ = ε + δ,   z_t = sqrt(ᾱ_t) z_0 + sqrt(1 − ᾱ_t) ε_δ

and the denoiser regresses the noise actually added, ε_δ (``loss_target="drifted_noise"``), or
the plain ε (``loss_target="noise"``, the reading of the one public unofficial reimplementation;
the paper does not say which, so it is a config switch reported in the δ ablation).

Reverse process at inference (the paper's Eq. 4)::

    z_T ~ N(δ, I),   p(z_{t−1} | z_t) = N(μ_θ(z_t, t) + δ, Σ_t)

implemented by adding δ to the scheduler's ``prev_sample``: for DDPM ``prev_sample = μ + σ·n``,
so ``prev_sample + δ`` is a draw from N(μ + δ, Σ); for deterministic DDIM it is μ + δ.

δ = 0 takes exactly the unmodified diffusers code path (no addition at all), so results are
bit-identical to running without LD.
"""

from __future__ import annotations

import torch

from .variants import LOSS_TARGETS, LossTarget

Delta = float | torch.Tensor  # a scalar, or one δ per batch element broadcastable to the latents


def shift(x: torch.Tensor, delta: Delta) -> torch.Tensor:
    """x + δ; ``x`` itself when δ is the number 0, so δ = 0 runs the unmodified code path."""
    if isinstance(delta, torch.Tensor):
        return x + delta
    return x + delta if delta != 0 else x


def drifted_noise(noise: torch.Tensor, delta: Delta) -> torch.Tensor:
    """ε_δ = ε + δ; returns ``noise`` itself when δ = 0."""
    return shift(noise, delta)


def add_drifted_noise(
    scheduler,
    latents: torch.Tensor,
    noise: torch.Tensor,
    timesteps: torch.Tensor,
    delta: Delta,
    loss_target: LossTarget = "drifted_noise",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise ``latents`` to ``timesteps`` with drifted noise; return (noisy latents, training target).

    The target follows the scheduler's ``prediction_type`` ("epsilon" or "v_prediction").
    """
    if loss_target not in LOSS_TARGETS:
        raise ValueError(f"drift.loss_target must be one of {LOSS_TARGETS}, got {loss_target!r}")
    added = drifted_noise(noise, delta)
    noisy = scheduler.add_noise(latents, added, timesteps)
    regressed = added if loss_target == "drifted_noise" else noise
    prediction_type = scheduler.config.prediction_type
    if prediction_type == "epsilon":
        target = regressed
    elif prediction_type == "v_prediction":
        target = scheduler.get_velocity(latents, regressed, timesteps)
    else:
        raise ValueError(f"unsupported prediction_type {prediction_type!r} (expected epsilon or v_prediction)")
    return noisy, target


def initial_latents(noise: torch.Tensor, delta: Delta, init_noise_sigma: float = 1.0) -> torch.Tensor:
    """z_T ~ N(δ, I) from a standard-normal draw ``noise`` (shared across δ values for sweeps)."""
    latents = noise * init_noise_sigma if init_noise_sigma != 1.0 else noise
    return shift(latents, delta)


def drifted_step(scheduler, model_output: torch.Tensor, timestep, sample: torch.Tensor, delta: Delta, **kwargs) -> torch.Tensor:
    """One reverse step whose mean is the scheduler's posterior mean plus δ."""
    prev = scheduler.step(model_output, timestep, sample, return_dict=True, **kwargs).prev_sample
    return shift(prev, delta)
