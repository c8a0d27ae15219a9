"""Counterfactual editors: DDIM inversion is exact where its approximation is, SDEdit is seeded."""

import dataclasses
import types

import pytest
import torch

from ldbench.drift import INFERENCE_SHIFTS, DriftedScheduler
from ldbench.editing import EditSettings, ddim_invert, edit
from ldbench.encoding import encode_prompts
from ldbench.sample import make_scheduler, reverse_process
from ldbench.utils import LdbenchError


class ConstantEps(torch.nn.Module):
    """A noise predictor that ignores z_t: the one case where ε̂(z_t) = ε̂(z_{t−1}) holds exactly."""

    def __init__(self, eps: torch.Tensor):
        super().__init__()
        self.eps = torch.nn.Parameter(eps, requires_grad=False)
        self.dtype = torch.float32

    def forward(self, z, t, context):
        return types.SimpleNamespace(sample=self.eps.expand_as(z))


@pytest.mark.parametrize("mode", INFERENCE_SHIFTS)
@pytest.mark.parametrize("delta", [0.0, 0.05])
def test_ddim_inversion_returns_to_source_with_matching_delta(tiny_components, delta, mode):
    size = tiny_components.unet.config.sample_size
    components = dataclasses.replace(tiny_components, unet=ConstantEps(torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(1))))
    scheduler = make_scheduler(tiny_components, "ddim")
    scheduler.set_timesteps(10)
    z0 = 0.5 * torch.randn(2, 4, size, size, generator=torch.Generator().manual_seed(2))
    cond = encode_prompts(tiny_components, ["a brain MRI", "a chest x-ray"])
    z_t = ddim_invert(components, z0, cond, delta, scheduler, mode)
    back = reverse_process(components, z_t, scheduler.timesteps, cond, None, DriftedScheduler(scheduler, delta, mode), 1.0)
    assert (back - z0).abs().max() < 1e-4
    if mode != "initial":  # inversion absorbs z_T's shift: under "initial" δ leaves no trace here
        other = reverse_process(components, z_t, scheduler.timesteps, cond, None, DriftedScheduler(scheduler, delta + 0.05, mode), 1.0)
        assert (other - z0).abs().max() > 0.01  # the reverse pass must use the δ_step the inversion removed


def test_sdedit_is_seeded_and_delta_matters(tiny_components):
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    settings = EditSettings(steps=4, guidance_scale=2.0, strength=0.5, batch_size=1)
    args = (tiny_components, images, ["a brain MRI"] * 2, ["a brain MRI with Alzheimer's disease"] * 2, "sdedit")
    first, again = edit(*args, 0.0, 7, settings), edit(*args, 0.0, 7, settings)
    assert first.shape == images.shape and torch.equal(first, again)
    assert not torch.equal(first, edit(*args, 0.0, 8, settings))
    assert not torch.equal(first, edit(*args, 0.1, 7, settings))


def test_bad_editor_and_strength_are_clear_errors(tiny_components):
    images = torch.zeros(1, 3, 16, 16)
    with pytest.raises(LdbenchError, match="unknown editor 'pix2pix'"):
        edit(tiny_components, images, ["a"], ["b"], "pix2pix", 0.0, 0, EditSettings())
    with pytest.raises(LdbenchError, match="strength"):
        edit(tiny_components, images, ["a"], ["b"], "sdedit", 0.0, 0, EditSettings(strength=1.5))


def test_instruct_pix2pix_starts_as_the_base_model_trains_and_edits(tiny_components, tmp_path):
    from ldbench.editing import instruct_edit
    from ldbench.methods import MethodConfig, get_strategy
    from ldbench.train import LatentSet, TrainSettings, train

    size = tiny_components.unet.config.sample_size
    z = torch.randn(2, 4, size, size, generator=torch.Generator().manual_seed(0))
    cond = encode_prompts(tiny_components, ["make the brain MRI 2 years older"] * 2)
    with torch.no_grad():
        before = tiny_components.unet(z, 500, cond).sample
    strategy = get_strategy("instruct_pix2pix", MethodConfig(lr=1e-3))
    strategy.prepare(tiny_components)
    assert tiny_components.unet.config.in_channels == 8
    with torch.no_grad():  # zero-initialised extra channels: an all-zero input image changes nothing
        after = tiny_components.unet(torch.cat([z, torch.zeros_like(z)], 1), 500, cond).sample
    assert torch.allclose(before, after, atol=1e-6)

    g = torch.Generator().manual_seed(1)
    data = LatentSet(torch.randn(4, 4, size, size, generator=g), torch.full((4, 4, size, size), 0.01),
                     ["make the brain MRI 2 years older"] * 4, source=torch.randn(4, 4, size, size, generator=g))
    summary = train(tiny_components, strategy, data, TrainSettings(steps=3, batch_size=2, lr=1e-3, seed=0, delta=0.05), tmp_path / "w")
    assert summary["final_loss"] > 0
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 2 - 1
    first = instruct_edit(tiny_components, images, ["make the brain MRI 2 years older"] * 2, 0.05, seed=3, steps=3)
    again = instruct_edit(tiny_components, images, ["make the brain MRI 2 years older"] * 2, 0.05, seed=3, steps=3)
    assert first.shape == images.shape and torch.equal(first, again)


def test_instruct_edit_refuses_a_plain_model(tiny_components):
    from ldbench.editing import instruct_edit

    with pytest.raises(LdbenchError, match="8 UNet input channels"):
        instruct_edit(tiny_components, torch.zeros(1, 3, 16, 16), ["x"], 0.0, seed=0)


@pytest.mark.parametrize("mode", INFERENCE_SHIFTS)
def test_drifted_schedulers_invert_each_other_and_step_as_the_one_drifted_step(mode):
    """diffusers' DDIM step and its inverse, both drifted by δ, undo each other for a fixed ε̂; the pipeline's
    drifted step equals ldbench.drift.DriftedScheduler's (Pix2Pix-Zero honours inference_shift)."""
    from diffusers import DDIMScheduler

    from ldbench.editing import DriftedDDIMInverseScheduler, DriftedDDIMScheduler

    config = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
              "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 1}
    forward, inverse = DriftedDDIMScheduler.from_config(config), DriftedDDIMInverseScheduler.from_config(config)
    forward.delta = inverse.delta = 0.05
    forward.inference_shift = inverse.inference_shift = mode
    forward.set_timesteps(10)
    inverse.set_timesteps(10)
    plain = DDIMScheduler.from_config(config)
    plain.set_timesteps(10)
    reference = DriftedScheduler(plain, 0.05, mode)
    eps = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    z0 = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    z = z0
    for t in inverse.timesteps:
        z = inverse.step(eps, t, z).prev_sample
    for t in forward.timesteps:
        expected = reference.step(eps, int(t), z)
        z = forward.step(eps, t, z).prev_sample
        assert torch.allclose(z, expected, atol=1e-5)
    assert (z - z0).abs().max() < 1e-4


def test_pix2pix_zero_runs_on_our_model_and_is_seeded(tiny_components):
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    settings = EditSettings(steps=2, guidance_scale=2.0, batch_size=2)
    args = (tiny_components, images, ["a brain MRI of a 70 year old female with no cognitive impairment"] * 2,
            ["a brain MRI of a 70 year old female with Alzheimer's disease"] * 2, "pix2pix_zero")
    first, again = edit(*args, 0.05, 1, settings), edit(*args, 0.05, 1, settings)
    assert first.shape == images.shape and torch.equal(first, again) and first.min() >= -1 and first.max() <= 1
