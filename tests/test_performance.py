"""The GPU speed levers keep the numbers: each optimised path is compared with the plain one on CPU.

On a GPU the same switches are on by default (``performance: auto``); these tests are what CI can
check of them without one. ``benchmarks/throughput.py`` measures their speed.
"""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from diffusers import DDIMScheduler

from ldbench.drift import FastDDIM
from ldbench.methods import MethodConfig, get_strategy
from ldbench.runtime import Performance, prepare_for_inference
from ldbench.sample import generate
from ldbench.settings import PerformanceSettings
from ldbench.train import TrainSettings, train
from ldbench.utils import LdbenchError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the throughput harness lives beside its command line
SD15_DDIM = {"num_train_timesteps": 1000, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
                 "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 1}


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("steps", [2, 20, 50])
def test_fast_ddim_step_is_bit_identical_to_diffusers(prediction_type, steps):
    scheduler = DDIMScheduler(prediction_type=prediction_type, **SD15_DDIM)
    scheduler.set_timesteps(steps)
    fast = FastDDIM(scheduler, scheduler.timesteps)
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(3, 4, 8, 8, generator=g)
    for t in scheduler.timesteps:
        eps = torch.randn(3, 4, 8, 8, generator=g)
        expected = scheduler.step(eps, t, sample).prev_sample
        assert torch.equal(fast.step(eps, int(t), sample), expected)
        sample = expected


def test_fast_ddim_declines_what_it_does_not_implement():
    assert FastDDIM.applies(DDIMScheduler(**SD15_DDIM))
    assert not FastDDIM.applies(DDIMScheduler(**{**SD15_DDIM, "clip_sample": True}))
    assert not FastDDIM.applies(DDIMScheduler(**SD15_DDIM, thresholding=True))


PROMPTS = ["a brain MRI of a 70 year old female", "a brain MRI of a 80 year old male with Alzheimer's disease", "a brain MRI of a 75 year old male"]


@pytest.mark.parametrize("mode", ["per_step", "initial", "per_step_total"])
def test_delta_grid_in_shared_batches_equals_one_delta_at_a_time(tiny_components, mode):
    deltas = [-0.1, 0.0, 0.1]
    kwargs = {"seed": 3, "scheduler_name": "ddim", "steps": 3, "guidance_scale": 2.0, "inference_shift": mode}
    grid = generate(tiny_components, PROMPTS, deltas, batch_size=4, **kwargs)  # batches mix δ values
    assert grid.shape == (3, len(PROMPTS), 3, 16, 16)
    for delta, images in zip(deltas, grid):
        alone = generate(tiny_components, PROMPTS, delta, batch_size=2, **kwargs)
        torch.testing.assert_close(images, alone, atol=1e-5, rtol=0)
    assert not torch.allclose(grid[0], grid[2])  # δ does act


def test_delta_grid_under_ddpm_shares_the_per_step_noise_too(tiny_components):
    kwargs = {"seed": 3, "scheduler_name": "ddpm", "steps": 3, "guidance_scale": 2.0, "batch_size": 2}
    grid = generate(tiny_components, PROMPTS, [0.0, 0.1], **kwargs)
    assert torch.equal(grid[1], generate(tiny_components, PROMPTS, 0.1, **kwargs))


def _train(components, data, tmp_path, name, method="basic_ft", steps=3, **levers):
    options = {"placeholder_token": "<ld-brain>", "initializer_token": "scan"} if method == "textual_inversion" else {}
    strategy = get_strategy(method, MethodConfig(lr=1e-3, options=options))
    settings = TrainSettings(steps=steps, batch_size=4, lr=1e-3, seed=0, delta=0.05, log_every=10**6, **levers)
    return train(components, strategy, data, settings, tmp_path / name)


def _unet_output(components, seed=1):
    g = torch.Generator().manual_seed(seed)
    size = components.unet.config.sample_size
    x = torch.randn(2, 4, size, size, generator=g)
    context = torch.randn(2, 77, components.text_encoder.config.hidden_size, generator=g)
    with torch.no_grad():  # .forward: the eager module even when compiled (no second compilation)
        return components.unet.forward(x, torch.tensor([500, 20]), context).sample


@pytest.mark.parametrize("method", ["basic_ft", "textual_inversion"])
def test_channels_last_and_gradient_checkpointing_match_the_plain_path(_tiny_components, latent_set, tmp_path, method):
    plain, fast = copy.deepcopy(_tiny_components), copy.deepcopy(_tiny_components)
    loss_plain = _train(plain, latent_set, tmp_path, "plain", method)["final_loss"]
    loss_fast = _train(fast, latent_set, tmp_path, "fast", method, channels_last=True, gradient_checkpointing=True)["final_loss"]
    assert loss_fast == pytest.approx(loss_plain, rel=1e-5)
    torch.testing.assert_close(_unet_output(fast), _unet_output(plain), atol=1e-5, rtol=1e-5)
    emb = lambda c: c.text_encoder.get_input_embeddings().weight
    torch.testing.assert_close(emb(fast), emb(plain), atol=1e-6, rtol=1e-5)
    assert not fast.unet.is_gradient_checkpointing  # switched off again for sampling


@pytest.fixture
def fresh_accelerate_state():
    """accelerate keeps one mixed-precision setting per process; these tests use two."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def test_compiled_bf16_training_stays_within_bf16_tolerance(_tiny_components, latent_set, tmp_path, fresh_accelerate_state):
    """The GPU configuration (torch.compile, channels_last, bf16 autocast) against eager fp32."""
    from accelerate.state import AcceleratorState

    plain, fast = copy.deepcopy(_tiny_components), copy.deepcopy(_tiny_components)
    loss_plain = _train(plain, latent_set, tmp_path, "plain", steps=2)["final_loss"]
    AcceleratorState._reset_state(True)
    loss_fast = _train(fast, latent_set, tmp_path, "fast", steps=2, compile=True, channels_last=True, mixed_precision="bf16")["final_loss"]
    assert loss_fast == pytest.approx(loss_plain, rel=2e-2)
    reference = _unet_output(plain)
    difference = (_unet_output(fast) - reference).abs().max() / reference.abs().max()
    assert difference < 2e-2  # bf16 has 8 significant bits: about 4e-3 relative per rounding


def test_bf16_inference_matches_fp32_sampling_and_editing(tiny_components):
    """``inference_precision: bf16`` (the GPU default) runs every sampler and stays close to fp32."""
    from ldbench.editing import EditSettings, edit

    fp32 = tiny_components
    bf16 = prepare_for_inference(copy.deepcopy(tiny_components), Performance(device=torch.device("cpu"), inference_dtype=torch.bfloat16))
    assert bf16.unet.dtype == torch.bfloat16
    kwargs = {"seed": 0, "scheduler_name": "ddim", "steps": 4, "guidance_scale": 2.0}
    images = generate(fp32, PROMPTS, 0.05, **kwargs)
    images_bf16 = generate(bf16, PROMPTS, 0.05, **kwargs)
    assert images_bf16.dtype == torch.float32
    assert (images_bf16 - images).abs().mean() < 0.05  # images in [−1, 1]
    for editor in ("sdedit", "ddim_inversion"):
        settings = EditSettings(steps=4, strength=0.5, guidance_scale=2.0, batch_size=2)
        edited = edit(fp32, images, PROMPTS, PROMPTS[::-1], editor, 0.05, 0, settings)
        edited_bf16 = edit(bf16, images, PROMPTS, PROMPTS[::-1], editor, 0.05, 0, settings)
        assert (edited_bf16 - edited).abs().mean() < 0.05, editor


def _performance(**section) -> PerformanceSettings:
    """The ``performance`` section with the schema's defaults where ``section`` says nothing."""
    from ldbench.config import config_schema, schema_defaults

    defaults = schema_defaults(config_schema()["properties"]["performance"]["properties"])
    return PerformanceSettings.from_config({"performance": {**defaults, **section}})


def test_performance_switches_resolve_per_device():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    auto = Performance.from_settings(_performance(), cpu)
    assert (auto.compile, auto.cuda_graphs, auto.channels_last, auto.inference_dtype) == (False, False, False, torch.float32)
    on_gpu = Performance.from_settings(_performance(inference_precision="fp16"), cuda)
    assert (on_gpu.compile, on_gpu.cuda_graphs, on_gpu.channels_last, on_gpu.inference_dtype) == (True, True, True, torch.float16)
    forced = Performance.from_settings(_performance(compile=True, cuda_graphs=True), cpu)
    assert forced.compile and not forced.cuda_graphs  # CUDA graphs need a CUDA device
    with pytest.raises(LdbenchError, match="performance.channels_last"):
        Performance.from_settings(_performance(channels_last="yes"), cpu)
    with pytest.raises(LdbenchError, match="performance.inference_precision"):
        Performance.from_settings(_performance(inference_precision="int8"), cpu)


def test_throughput_benchmark_runs_on_cpu_at_tiny_shapes(tmp_path):
    out = tmp_path / "report.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--preset", "tiny", "--batch-size", "4", "--train-steps", "2",
           "--warmup-steps", "1", "--sample-steps", "3", "--sample-batches", "1", "--json", str(out)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    names = [r["name"] for r in report["results"]]
    from ldbench.methods import finetuning_methods

    expected = ["recipe", *(f"ours/{m}" for m in finetuning_methods()), "pipeline", "ours/sample"]
    assert [n.split(" ")[0] for n in names] == expected
    for r in report["results"]:
        assert r["images_per_s"] > 0 and r["flop_per_image"] > 0 and r["tflops"] > 0, r
    recipe = report["results"][0]
    (ours,) = (r for r in report["results"] if r["name"].startswith("ours/basic_ft"))
    assert recipe["ratio"] == 1.0
    # the recipe also runs the VAE encoder and the text encoder: more FLOPs per image than ours
    assert recipe["flop_per_image"] > ours["flop_per_image"]
    # what was counted while running equals the budget counted on meta tensors at the same shapes,
    # up to attention's backward: CPU flash attention recomputes the scores, meta tensors take the
    # math path, which stores them (one matmul of five)
    from harness import flop_budget

    budget = flop_budget("tiny", sample_steps=3)
    assert recipe["flop_per_image"] == pytest.approx(budget["recipe_step"], rel=2e-2)
    assert ours["flop_per_image"] == pytest.approx(budget["our_step"], rel=2e-2)
    pipeline, sampling = report["results"][-2:]
    assert pipeline["flop_per_image"] == pytest.approx(budget["sampling"], rel=1e-3)  # no backward
    assert sampling["flop_per_image"] == pytest.approx(pipeline["flop_per_image"], rel=0.05)  # same math
    assert "| ours/basic_ft |" in result.stdout
    assert report["environment"]["torch"] == torch.__version__


def test_memory_estimate_on_fake_tensors_counts_what_real_tensors_take():
    """``--memory-estimate`` counts SD 1.5's peak without allocating it: it must equal a real run's count."""
    from harness import build_model, estimate_training_memory

    fake = estimate_training_memory("tiny", "basic_ft", 2, gradient_checkpointing=True)
    real = estimate_training_memory("tiny", "basic_ft", 2, gradient_checkpointing=True, fake=False)
    assert fake["tensors"].startswith("fake") and real["tensors"].startswith("real")
    assert fake["peak_gib"] == pytest.approx(real["peak_gib"], rel=1e-3)
    model = build_model("tiny", 0)
    unet, text_encoder = ([p.numel() * 4 / 2**30 for p in m.parameters()] for m in (model.unet, model.text_encoder))
    at_peak = fake["at_peak_gib"]
    assert at_peak["parameter"] == pytest.approx(sum(unet) + sum(text_encoder))  # fp32 UNet + frozen text encoder, no VAE
    assert 2 * sum(unet) <= at_peak["optstate"] <= 2.01 * sum(unet)  # AdamW's two moments (and a step count per tensor)
    assert 0 < at_peak["gradient"] <= sum(unet)  # Basic FT: gradients of the UNet only
    assert fake["peak_gib"] == pytest.approx(sum(v for k, v in at_peak.items()))
