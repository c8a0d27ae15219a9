"""Latent Drifting (LD): a scalar shift δ of the diffusion process, for any diffusers scheduler.

Forward process during fine-tuning with LD (DESIGN §4)::

    ε_δ = ε + δ,   z_t = sqrt(ᾱ_t) z_0 + sqrt(1 − ᾱ_t) ε_δ

and the denoiser regresses the noise actually added, ε_δ (``loss_target="drifted_noise"``), or
the plain ε (``loss_target="noise"``, the reading of the one public unofficial reimplementation;
the paper does not say which, so it is a config switch reported in the δ ablation).

Reverse process at inference (the paper's Eq. 4)::

    z_T ~ N(δ, I),   p(z_{t−1} | z_t) = N(μ_θ(z_t, t) + δ_step, Σ_t)

implemented by adding δ_step to the scheduler's ``prev_sample``: for DDPM ``prev_sample = μ + σ·n``,
so ``prev_sample + δ_step`` is a draw from N(μ + δ_step, Σ); for deterministic DDIM it is μ + δ_step.
Where δ enters is ``drift.inference_shift`` (:data:`INFERENCE_SHIFTS`):

* ``per_step``: Eq. 4 read literally, δ_step = δ at every step. The shift accumulates: with the
  ideal denoiser of unit-variance latents the DDIM output moves by about Nδ after N steps, so a δ
  value means something else at each step count (tests/test_drift.py).
* ``initial``: z_T ~ N(δ, I) only, δ_step = 0.
* ``per_step_total``: δ_step = δ / N over the N steps of the schedule, so the steps add δ in all
  whatever N (an edit that runs a tail of k steps adds k·δ/N).

z_T ~ N(δ, I) in every mode. :class:`DriftedScheduler` is the one drifted reverse step; every
sampler and editor steps through it (Pix2Pix-Zero's pipeline through its scheduler subclasses,
which add the same :func:`step_shift`). δ = 0 takes exactly the unmodified diffusers code path (no
addition at all), so results are bit-identical to running without LD in every mode.

Beyond the paper (its "future work": a drift *vector*): with ``drift.shape: channel`` the δ search
also fits one δ per latent channel (:func:`fit_channel_delta`); a per-channel δ is a tensor of shape
(C, 1, 1) and takes the same paths as a scalar one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import torch

from .variants import LOSS_TARGETS, LossTarget

Delta = float | torch.Tensor  # a scalar, one δ per latent channel (C, 1, 1), or one per batch element, broadcastable to the latents
DRIFT_SHAPES = ("scalar", "channel")
INFERENCE_SHIFTS = ("per_step", "initial", "per_step_total")
#: what each ``drift.inference_shift`` does, for table notes (format with ``steps``)
INFERENCE_SHIFT_TEXT = {
    "per_step": "z_T ~ N(δ, I) and δ added at each of the {steps} reverse steps (Eq. 4 read literally)",
    "initial": "z_T ~ N(δ, I) only (no per-step shift; {steps} reverse steps)",
    "per_step_total": "z_T ~ N(δ, I) and δ/{steps} added at each of the {steps} reverse steps",
}


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


def step_shift(delta: Delta, mode: str, steps: int) -> Delta:
    """δ_step, what one reverse step adds to the posterior mean under ``mode`` (``steps``: the schedule's N)."""
    if mode not in INFERENCE_SHIFTS:
        raise ValueError(f"drift.inference_shift must be one of {INFERENCE_SHIFTS}, got {mode!r}")
    if mode == "per_step":
        return delta
    if mode == "initial":
        return 0.0
    if isinstance(delta, torch.Tensor):
        return delta / steps
    return delta / steps if delta != 0 else 0.0


class FastDDIM:
    """Deterministic DDIM (η = 0) steps with every coefficient looked up before the loop.

    ``DDIMScheduler.step`` indexes its CPU ``alphas_cumprod`` with the device timestep and
    branches on it, which is two host–device syncs per step; here the per-step coefficients are
    0-dim CPU tensors computed with diffusers' own expressions, so results are bit-identical to
    ``scheduler.step`` and the GPU never waits. Other schedulers and settings keep ``scheduler.step``.
    """

    def __init__(self, scheduler, timesteps: torch.Tensor):
        cfg = scheduler.config
        stride = cfg.num_train_timesteps // scheduler.num_inference_steps
        self.prediction_type = cfg.prediction_type
        self.coefficients = {}
        for t in timesteps.tolist():
            alpha_t = scheduler.alphas_cumprod[t]
            alpha_prev = scheduler.alphas_cumprod[t - stride] if t - stride >= 0 else scheduler.final_alpha_cumprod
            beta_t = 1 - alpha_t
            self.coefficients[t] = (alpha_t**0.5, beta_t**0.5, alpha_prev**0.5, (1 - alpha_prev) ** 0.5)

    @staticmethod
    def applies(scheduler) -> bool:
        from diffusers import DDIMScheduler

        cfg = scheduler.config
        return isinstance(scheduler, DDIMScheduler) and not cfg.thresholding and not cfg.clip_sample and cfg.prediction_type in ("epsilon", "v_prediction")

    def step(self, model_output: torch.Tensor, t: int, sample: torch.Tensor) -> torch.Tensor:
        sqrt_alpha, sqrt_beta, sqrt_alpha_prev, direction = self.coefficients[t]
        if self.prediction_type == "epsilon":
            x0 = (sample - sqrt_beta * model_output) / sqrt_alpha
            eps = model_output
        else:  # v_prediction
            x0 = sqrt_alpha * sample - sqrt_beta * model_output
            eps = sqrt_alpha * model_output + sqrt_beta * sample
        return sqrt_alpha_prev * x0 + direction * eps


class DriftedScheduler:
    """A diffusers scheduler (``set_timesteps`` already called) whose reverse step adds the inference drift.

    Deterministic DDIM steps through :class:`FastDDIM` (bit-identical to ``scheduler.step``), any
    other scheduler through its own ``step``; then δ_step (:func:`step_shift`) is added.
    """

    def __init__(self, scheduler, delta: Delta, mode: str = "per_step"):
        if scheduler.num_inference_steps is None:
            raise ValueError("DriftedScheduler needs a scheduler whose set_timesteps was called")
        self.scheduler, self.delta = scheduler, delta
        self.step_delta = step_shift(delta, mode, scheduler.num_inference_steps)
        self._fast = FastDDIM(scheduler, scheduler.timesteps) if FastDDIM.applies(scheduler) else None

    def initial_latents(self, noise: torch.Tensor) -> torch.Tensor:
        """z_T ~ N(δ, I) (every mode)."""
        return initial_latents(noise, _on(self.delta, noise.device), self.scheduler.init_noise_sigma)

    def step(self, model_output: torch.Tensor, timestep: int | torch.Tensor, sample: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """z_{t−1}: the scheduler's step plus δ_step (pass ``timestep`` as an int to spare a GPU sync)."""
        if self._fast is not None:
            prev = self._fast.step(model_output, int(timestep), sample)
        else:
            prev = self.scheduler.step(model_output, timestep, sample, return_dict=True, generator=generator).prev_sample
        return shift(prev, _on(self.step_delta, prev.device))


def _on(delta: Delta, device: torch.device) -> Delta:
    return delta.to(device) if isinstance(delta, torch.Tensor) else delta


def fit_channel_delta(grid: Sequence[float], generated_means: np.ndarray, real_means: np.ndarray) -> np.ndarray:
    """One δ per latent channel that moves the channel's mean onto the real data's.

    ``generated_means`` (G, C): each channel's mean latent of the samples at each scalar δ of ``grid``
    (identical noise); ``real_means`` (C,): the same for real images. Per channel a line m_c(δ) is
    fitted over the grid and solved for m_c(δ_c) = real_c, so the fit needs no δ = 0 and takes the
    mode's response (how far the output moves per unit δ: ~Nδ under ``per_step``) from the samples
    themselves. Clipped to the grid's range; a channel that does not respond gets δ_c = 0.
    """
    x = np.asarray(grid, dtype=np.float64)
    y = np.asarray(generated_means, dtype=np.float64)
    target = np.asarray(real_means, dtype=np.float64)
    if x.ndim != 1 or len(np.unique(x)) < 2 or y.shape != (len(x), len(target)):
        raise ValueError(f"a per-channel fit needs ≥ 2 distinct grid values and (grid, channels) means, got grid {x.tolist()} and means {y.shape}")
    slope, intercept = np.polyfit(x, y, 1)
    responds = np.abs(slope) * np.ptp(x) > 1e-6 * (1.0 + np.abs(y).max())
    delta = np.where(responds, (target - intercept) / np.where(responds, slope, 1.0), 0.0)
    return np.clip(delta, x.min(), x.max())


def as_delta(value: float | Sequence[float]) -> Delta:
    """A δ read from a file: a number stays a number, a list becomes a per-channel (C, 1, 1) tensor."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return torch.tensor([float(v) for v in value], dtype=torch.float32).view(-1, 1, 1)
    return float(value)


def delta_record(delta: Delta) -> float | list[float]:
    """δ for a JSON file or a table cell: a number, or the list of per-channel values."""
    if isinstance(delta, torch.Tensor):
        return [round(float(v), 6) for v in delta.flatten()]
    return float(delta)


def parse_delta(cell: float | str) -> float | list[float]:
    """A δ cell of a CSV: a number, or the JSON list of a per-channel δ (see :func:`delta_cell`)."""
    if isinstance(cell, str) and cell.strip().startswith("["):
        return [float(v) for v in json.loads(cell)]
    return float(cell)


def delta_cell(delta: Delta) -> float | str:
    """δ for a CSV cell: a number, or a per-channel δ as a JSON list."""
    record = delta_record(delta)
    return json.dumps(record) if isinstance(record, list) else record


def format_delta(delta: float | str | Sequence[float]) -> str:
    """"+0.01", or "(+0.012, -0.004, …)" for a per-channel δ (also from a CSV cell)."""
    if isinstance(delta, str):
        delta = parse_delta(delta)
    if isinstance(delta, (list, tuple, np.ndarray)):
        return "(" + ", ".join(f"{float(v):+.3g}" for v in delta) + ")"
    return f"{float(delta):+g}"
