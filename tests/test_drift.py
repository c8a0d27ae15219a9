"""Latent Drifting math: δ = 0 is the unmodified diffusers path; δ shifts means exactly."""

import math

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from ldbench import drift

SD_SCHEDULER = {"num_train_timesteps": 1000, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}


@pytest.fixture(params=[DDPMScheduler, DDIMScheduler])
def scheduler(request):
    return request.param(**SD_SCHEDULER)


def test_forward_delta_zero_is_bit_identical(scheduler):
    g = torch.Generator().manual_seed(0)
    z0, noise = torch.randn(4, 4, 8, 8, generator=g), torch.randn(4, 4, 8, 8, generator=g)
    t = torch.tensor([0, 10, 500, 999])
    noisy, target = drift.add_drifted_noise(scheduler, z0, noise, t, 0.0)
    assert torch.equal(noisy, scheduler.add_noise(z0, noise, t))
    assert torch.equal(target, noise)


@pytest.mark.parametrize("delta", [-0.1, 0.05, 0.2])
def test_forward_marginal_matches_formula(delta):
    """z_t = sqrt(ᾱ_t) z_0 + sqrt(1−ᾱ_t)(ε+δ): mean sqrt(ᾱ)z0 + sqrt(1−ᾱ)δ, std sqrt(1−ᾱ), on 10^5 draws."""
    scheduler = DDPMScheduler(**SD_SCHEDULER)
    n, t = 100_000, 600
    z0 = torch.full((n,), 0.7)
    noise = torch.randn(n, generator=torch.Generator().manual_seed(1))
    noisy, target = drift.add_drifted_noise(scheduler, z0, noise, torch.full((n,), t), delta)
    abar = scheduler.alphas_cumprod[t].item()
    expected_mean = math.sqrt(abar) * 0.7 + math.sqrt(1 - abar) * delta
    assert noisy.double().mean().item() == pytest.approx(expected_mean, abs=4 * math.sqrt(1 - abar) / math.sqrt(n))
    assert noisy.double().std().item() == pytest.approx(math.sqrt(1 - abar), rel=0.01)
    assert torch.allclose(target, noise + delta)


def test_loss_target_noise_regresses_plain_epsilon(scheduler):
    z0, noise = torch.zeros(2, 4, 4, 4), torch.randn(2, 4, 4, 4, generator=torch.Generator().manual_seed(2))
    t = torch.tensor([100, 900])
    noisy, target = drift.add_drifted_noise(scheduler, z0, noise, t, 0.1, loss_target="noise")
    assert torch.equal(target, noise)
    assert torch.allclose(noisy, scheduler.add_noise(z0, noise + 0.1, t))
    with pytest.raises(ValueError, match="loss_target"):
        drift.add_drifted_noise(scheduler, z0, noise, t, 0.1, loss_target="bogus")


def test_initial_latents():
    noise = torch.randn(3, 4, 2, 2, generator=torch.Generator().manual_seed(3))
    assert drift.initial_latents(noise, 0.0) is noise
    assert torch.equal(drift.initial_latents(noise, 0.1), noise + 0.1)


def _step_args(scheduler):
    scheduler.set_timesteps(10)
    g = torch.Generator().manual_seed(4)
    return torch.randn(2, 4, 8, 8, generator=g), scheduler.timesteps[3], torch.randn(2, 4, 8, 8, generator=g)


MODES = drift.INFERENCE_SHIFTS


@pytest.mark.parametrize("mode", MODES)
def test_reverse_step_delta_zero_is_bit_identical(scheduler, mode):
    eps, t, sample = _step_args(scheduler)
    ours = drift.DriftedScheduler(scheduler, 0.0, mode).step(eps, t, sample, generator=torch.Generator().manual_seed(5))
    ref = scheduler.step(eps, t, sample, generator=torch.Generator().manual_seed(5)).prev_sample
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("delta", [-0.1, 0.05])
def test_reverse_step_mean_shifted_by_the_modes_step_delta(scheduler, mode, delta):
    """Same model output and same step noise: the drifted step differs from the plain one by δ_step everywhere
    (δ per step, 0, or δ/N over the scheduler's N = 10 steps)."""
    eps, t, sample = _step_args(scheduler)
    plain = scheduler.step(eps, t, sample, generator=torch.Generator().manual_seed(6)).prev_sample
    drifted = drift.DriftedScheduler(scheduler, delta, mode).step(eps, t, sample, generator=torch.Generator().manual_seed(6))
    expected = {"per_step": delta, "initial": 0.0, "per_step_total": delta / 10}[mode]
    assert torch.allclose(drifted - plain, torch.full_like(plain, expected), atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_fast_ddim_path_with_a_shift_equals_diffusers_step_plus_the_shift(mode):
    """The fast DDIM coefficients inside DriftedScheduler against diffusers' own step at δ ≠ 0, with a δ per batch element."""
    fast_scheduler = DDIMScheduler(**SD_SCHEDULER, clip_sample=False)
    slow_scheduler = DDIMScheduler(**SD_SCHEDULER, clip_sample=False)
    for s in (fast_scheduler, slow_scheduler):
        s.set_timesteps(7)
    delta = torch.tensor([-0.1, 0.07]).view(2, 1, 1, 1)
    drifted = drift.DriftedScheduler(fast_scheduler, delta, mode)
    assert drifted._fast is not None
    g = torch.Generator().manual_seed(7)
    sample = drifted.initial_latents(torch.randn(2, 4, 8, 8, generator=g))
    reference = sample.clone()
    for t in fast_scheduler.timesteps:
        eps = torch.randn(2, 4, 8, 8, generator=g)
        sample = drifted.step(eps, int(t), sample)
        reference = slow_scheduler.step(eps, t, reference).prev_sample + drift.step_shift(delta, mode, 7)
        assert torch.allclose(sample, reference, atol=1e-5)


def _output_shift(steps: int, mode: str, delta: float = 0.01) -> float:
    """Output mean / δ of DDIM with the ideal denoiser of unit-variance latents, E[ε | z_t] = √(1 − ᾱ_t) z_t, from z_T = 0 + δ."""
    scheduler = DDIMScheduler(**SD_SCHEDULER, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    scheduler.set_timesteps(steps)
    drifted = drift.DriftedScheduler(scheduler, delta, mode)
    z = drifted.initial_latents(torch.zeros(1, dtype=torch.float64))
    for t in scheduler.timesteps:
        z = drifted.step((1 - scheduler.alphas_cumprod[int(t)]).sqrt() * z, int(t), z)
    return float(z) / delta


def test_what_a_delta_means_depends_on_the_step_count_only_under_per_step():
    """per_step moves the output by about Nδ (20δ at 20 steps, 50δ at 50); initial by about δ; per_step_total by
    about 2δ (z_T's δ plus δ spread over the steps) at any N."""
    assert _output_shift(20, "per_step") == pytest.approx(20, rel=0.05) and _output_shift(50, "per_step") == pytest.approx(50, rel=0.05)
    assert _output_shift(20, "initial") == pytest.approx(1, rel=0.1) and _output_shift(50, "initial") == pytest.approx(1, rel=0.1)
    assert _output_shift(20, "per_step_total") == pytest.approx(_output_shift(50, "per_step_total"), rel=0.05)


def test_per_step_total_adds_delta_in_all_whatever_the_step_count():
    """With a denoiser that predicts no change the per-step shifts are the whole effect: Nδ, 0 or δ."""
    for steps in (5, 20, 50):
        totals = {}
        for mode in MODES:
            added = sum(drift.step_shift(0.03, mode, steps) for _ in range(steps))
            totals[mode] = added
        assert totals["per_step"] == pytest.approx(0.03 * steps) and totals["initial"] == 0.0
        assert totals["per_step_total"] == pytest.approx(0.03)
    with pytest.raises(ValueError, match="inference_shift"):
        drift.step_shift(0.1, "everywhere", 10)


def test_model_variants_train_with_their_own_drift_and_loss_target():
    from ldbench.variants import ablation_variant, training_drift

    cfg = {"drift": {"train_delta": 0.05, "loss_target": "drifted_noise"}}
    assert training_drift(cfg, "noLD") == (0.0, "noise")  # without drift ε + δ = ε: both targets coincide
    assert training_drift(cfg, "LD") == (0.05, "drifted_noise")
    assert ablation_variant(cfg) == "LD_noise" and training_drift(cfg, "LD_noise") == (0.05, "noise")
    flipped = {"drift": {"train_delta": 0.1, "loss_target": "noise"}}
    assert ablation_variant(flipped) == "LD_drifted_noise" and training_drift(flipped, "LD_drifted_noise") == (0.1, "drifted_noise")
    with pytest.raises(ValueError, match="model variant 'LD_noise': expected noLD, LD or LD_drifted_noise"):
        training_drift(flipped, "LD_noise")


def test_per_channel_delta_fit_solves_each_channels_line_for_the_real_mean():
    """drift.shape channel: channel means that move linearly with δ (each channel its own response, one not at
    all) are brought onto the real means; beyond the grid the δ is clipped; a δ round-trips through files."""
    grid = [-0.1, -0.05, 0.05, 0.1]  # no δ = 0 needed
    slope, intercept = np.array([10.0, -4.0, 0.0, 2.0]), np.array([0.3, -0.2, 0.5, 0.0])
    means = intercept + np.outer(grid, slope)
    target = np.array([0.8, 0.0, 9.0, -1.0])
    fitted = drift.fit_channel_delta(grid, means, target)
    np.testing.assert_allclose(fitted, [0.05, -0.05, 0.0, -0.1], atol=1e-9)  # channel 3 wants −0.5: clipped to the grid
    with pytest.raises(ValueError, match="2 distinct grid values"):
        drift.fit_channel_delta([0.1, 0.1], means[:2], target)
    delta = drift.as_delta(list(fitted))
    assert delta.shape == (4, 1, 1)
    cell = drift.delta_cell(delta)
    assert drift.parse_delta(cell) == pytest.approx(list(fitted)) and drift.format_delta(cell) == "(+0.05, -0.05, +0, -0.1)"
    assert drift.delta_cell(0.02) == 0.02 and drift.format_delta(0.02) == "+0.02" and drift.parse_delta(0.02) == 0.02
