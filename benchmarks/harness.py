"""Training and sampling throughput: the diffusers recipe against this package, on one model.

``benchmarks/throughput.py`` is the command line; this harness lives beside it, outside the
library, because nothing in the pipeline uses it. Every variant runs in the same process, on the
same device, on copies of the same random-weight model:

- ``recipe``: the inner loop of diffusers' ``examples/text_to_image/train_text_to_image.py``,
  copied step for step (VAE encode and text encoder every step, ``torch.optim.AdamW``,
  ``loss.item()`` every step, weights of the frozen VAE/text encoder in the autocast dtype);
- ``ours/<method>``: :func:`ldbench.train.train` itself, timed through its ``on_step`` hook;
- ``pipeline``: ``StableDiffusionPipeline.__call__`` with a ``DDIMScheduler`` (VAE decode included);
- ``ours/sample``: :func:`ldbench.sample.generate`.

FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` on one eager step
(matmuls, convolutions and attention; elementwise ops are not FLOPs there); achieved TFLOP/s is
that count times the measured rate. Memory is the CUDA allocator's peak per variant; on CPU it is
the process's peak resident set so far (cumulative, so only the first variant's is its own).
"""

from __future__ import annotations

import contextlib
import copy
import resource
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F

from ldbench.encoding import tokenize
from ldbench.methods import MethodConfig, finetuning_methods, get_strategy
from ldbench.models import Components, build_tiny_components
from ldbench.runtime import Performance, prepare_for_inference
from ldbench.sample import generate
from ldbench.settings import PerformanceSettings, TrainSettings
from ldbench.train import LatentSet, train

FINETUNING_METHODS = tuple(finetuning_methods())

#: Stable Diffusion 1.5's shapes (random weights): UNet 859.5 M, VAE 83.7 M, text encoder 123 M parameters.
SD15_SHAPES = {
    "image_size": 512,
    "vae": {"block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "latent_channels": 4, "norm_num_groups": 32},
    "text_encoder": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "unet": {
        "block_out_channels": [320, 640, 1280, 1280],
        "layers_per_block": 2,
        "attention_head_dim": 8,
        "norm_num_groups": 32,
        "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    },
}
#: ``models.DEFAULT_TINY_CONFIG`` at 32 px: what CI runs the benchmark on.
TINY_SHAPES = {"image_size": 32}

PRESETS = {"sd15": SD15_SHAPES, "tiny": TINY_SHAPES}
PROMPTS = ["a brain MRI of a 71 year old female with Alzheimer's disease", "a chest x-ray of a 54 year old male with cardiomegaly"]


@dataclass
class Measurement:
    name: str
    kind: str  # train | sample
    images_per_s: float
    images: int
    seconds: float
    flop_per_image: float
    peak_memory_gib: float
    memory_kind: str
    extra: dict = field(default_factory=dict)

    @property
    def tflops(self) -> float:
        return self.flop_per_image * self.images_per_s / 1e12


@dataclass
class BenchSettings:
    preset: str = "tiny"
    batch_size: int = 16
    train_steps: int = 20
    warmup_steps: int = 5
    sample_steps: int = 50
    guidance_scale: float = 7.5
    sample_batches: int = 2
    methods: tuple[str, ...] = FINETUNING_METHODS
    levers: str = "auto"  # auto | on | off: the ``performance`` switches of our variants
    gradient_checkpointing: bool = False
    seed: int = 0
    only: str = "all"  # all | train | sample

    def __post_init__(self) -> None:
        if self.warmup_steps < 1 or self.train_steps < 2 or self.sample_batches < 1 or self.batch_size < 1:
            raise ValueError("need --warmup-steps ≥ 1 (the first step compiles), --train-steps ≥ 2 (the last one reads the loss), "
                             "--sample-batches ≥ 1 and --batch-size ≥ 1")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak_memory(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30, f"CUDA peak allocated ({torch.cuda.max_memory_reserved(device) / 2**30:.2f} GiB reserved)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "process peak RSS (cumulative)"


@contextlib.contextmanager
def _library_defaults():
    """The baselines run with PyTorch's default backend flags, whatever our variants set before."""
    saved = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = False, False, True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _timed(fn: Callable[[], object], repeats: int, device: torch.device) -> tuple[float, float, str]:
    """Seconds for ``repeats`` calls of ``fn`` (the device drained before and after), and peak memory."""
    _reset_memory(device)
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return time.perf_counter() - start, *_peak_memory(device)


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of ``fn()`` by torch's flop counter, CPU flash attention included (torch counts only GPU SDPA kernels)."""
    from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

    aten = torch.ops.aten
    cpu_attention = {
        aten._scaled_dot_product_flash_attention_for_cpu: lambda q, k, v, *a, out_shape=None, **kw: sdpa_flop_count(q, k, v),
        aten._scaled_dot_product_flash_attention_for_cpu_backward: lambda g, q, k, v, *a, out_shape=None, **kw: sdpa_backward_flop_count(g, q, k, v),
    }
    with FlopCounterMode(display=False, custom_mapping=cpu_attention) as counter:
        fn()
    return counter.get_total_flops()


def build_model(preset: str, seed: int) -> Components:
    """The pristine model, kept on the CPU so that it never counts in a variant's device memory."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return build_tiny_components(PRESETS[preset], seed=seed)


def _fresh(model: Components, device: torch.device) -> Components:
    """A copy of the pristine model on ``device``: every variant starts from the same weights."""
    return copy.deepcopy(model).to(device)


def _prompts(n: int) -> list[str]:
    return [PROMPTS[i % len(PROMPTS)] for i in range(n)]


def flop_budget(preset: str, sample_steps: int = 50, guidance: bool = True, peak_tflops: float | None = None) -> dict[str, float]:
    """FLOPs per image of each network and each variant's step at a preset's shapes.

    Counted on meta tensors: nothing is computed, so SD 1.5's budget comes out in seconds on any
    machine. With ``peak_tflops`` (a GPU's dense bf16 matmul rate) it adds the images/s that rate
    would allow if every FLOP ran at it.
    """
    with torch.device("meta"):
        model = build_tiny_components(PRESETS[preset], seed=0)
        size, latent = model.vae.config.sample_size, model.unet.config.sample_size
        pixels = torch.zeros(1, 3, size, size)
        z = torch.zeros(1, model.unet.config.in_channels, latent, latent)
        context = torch.zeros(1, 77, model.text_encoder.config.hidden_size)
        ids = torch.zeros(1, 77, dtype=torch.long)
        t = torch.tensor([500])
        budget = {
            "unet_forward": count_flops(lambda: model.unet(z, t, context).sample),
            "unet_forward_backward": count_flops(lambda: model.unet(z, t, context).sample.sum().backward()),
            "vae_encode": count_flops(lambda: model.vae.encode(pixels).latent_dist.mean),
            "vae_decode": count_flops(lambda: model.vae.decode(z).sample),
            "text_encoder": count_flops(lambda: model.text_encoder(ids)[0]),
        }
    unet_calls = sample_steps * (2 if guidance else 1)
    budget["recipe_step"] = budget["vae_encode"] + budget["text_encoder"] + budget["unet_forward_backward"]
    budget["our_step"] = budget["unet_forward_backward"]
    budget["sampling"] = unet_calls * budget["unet_forward"] + budget["vae_decode"] + 2 * budget["text_encoder"]
    if peak_tflops:
        for key in ("recipe_step", "our_step", "sampling"):
            budget[f"{key}_images_per_s_at_peak"] = peak_tflops * 1e12 / budget[key]
    return budget


# --------------------------------------------------------------------------------------------------
# training


def _autocast_dtype(device: torch.device) -> torch.dtype | None:
    return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None


def recipe_step_fn(model: Components, batch_size: int, device: torch.device, seed: int) -> Callable[[], float]:
    """One step of diffusers' ``train_text_to_image.py`` (its defaults, no EMA, no SNR weighting)."""
    from accelerate import Accelerator

    dtype = _autocast_dtype(device)
    accelerator = Accelerator(mixed_precision="bf16" if dtype else "no", cpu=device.type != "cuda")
    weight_dtype = dtype or torch.float32
    vae, text_encoder, unet, scheduler = model.vae, model.text_encoder, model.unet, model.noise_scheduler
    vae.requires_grad_(False)
    text_encoder.requires_grad_(False)
    unet.requires_grad_(True)
    unet.train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    vae.to(accelerator.device, dtype=weight_dtype)
    text_encoder.to(accelerator.device, dtype=weight_dtype)
    generator = torch.Generator(device=accelerator.device).manual_seed(seed)
    size = vae.config.sample_size
    pixel_values = torch.rand((batch_size, 3, size, size), generator=generator, device=accelerator.device) * 2 - 1
    input_ids = tokenize(model.tokenizer, _prompts(batch_size)).to(accelerator.device)

    def step() -> float:
        with accelerator.accumulate(unet):
            latents = vae.encode(pixel_values.to(weight_dtype)).latent_dist.sample()
            latents = latents * vae.config.scaling_factor
            noise = torch.randn_like(latents)
            bsz = latents.shape[0]
            timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (bsz,), device=latents.device).long()
            noisy_latents = scheduler.add_noise(latents, noise, timesteps)
            encoder_hidden_states = text_encoder(input_ids, return_dict=False)[0]
            model_pred = unet(noisy_latents, timesteps, encoder_hidden_states, return_dict=False)[0]
            loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
            avg_loss = accelerator.gather(loss.repeat(batch_size)).mean()
            train_loss = avg_loss.item()
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(unet.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        return train_loss

    return step


def measure_recipe(model: Components, s: BenchSettings, device: torch.device) -> Measurement:
    flops = count_flops(recipe_step_fn(_fresh(model, device), s.batch_size, device, s.seed))
    step = recipe_step_fn(_fresh(model, device), s.batch_size, device, s.seed)
    for _ in range(s.warmup_steps):
        step()
    seconds, memory, memory_kind = _timed(step, s.train_steps, device)
    images = s.train_steps * s.batch_size
    return Measurement("recipe (diffusers train_text_to_image)", "train", images / seconds, images, seconds, flops / s.batch_size, memory, memory_kind)


def _training_inputs(model: Components, method: str, s: BenchSettings):
    """Strategy, cached latents and (DreamBooth, Custom Diffusion) prior set whose UNet batch is ``s.batch_size``."""
    strategy = get_strategy(method, MethodConfig(lr=1e-5, prior_loss_weight=1.0))
    latent_size = model.unet.config.sample_size
    gen = torch.Generator().manual_seed(s.seed)
    n_latents = max(64, s.batch_size)
    shape = (n_latents, model.unet.config.in_channels, latent_size, latent_size)
    phrase = strategy.modality_phrase("brain MRI")
    prompts = [p.replace("brain MRI", phrase) for p in _prompts(n_latents)]
    data = LatentSet(torch.randn(shape, generator=gen), torch.rand(shape, generator=gen) * 0.1, prompts)
    batch_size, prior = s.batch_size, None
    if strategy.uses_class_images:  # half instance, half class images, as train_dreambooth.py
        batch_size = max(1, s.batch_size // 2)
        prior = LatentSet(torch.randn(shape, generator=gen), torch.rand(shape, generator=gen) * 0.1, ["a brain MRI"] * n_latents)
    return strategy, data, prior, batch_size


def _our_settings(s: BenchSettings, batch_size: int, steps: int, perf: Performance, compile: bool) -> TrainSettings:
    return TrainSettings(
        steps=steps, batch_size=batch_size, lr=1e-5, seed=s.seed, log_every=10**9,
        compile=compile, channels_last=perf.channels_last, gradient_checkpointing=s.gradient_checkpointing,
    )


def measure_ours(model: Components, method: str, s: BenchSettings, device: torch.device, perf: Performance) -> Measurement:
    strategy, data, prior, batch_size = _training_inputs(model, method, s)
    unet_batch = batch_size * (2 if prior is not None else 1)
    with tempfile.TemporaryDirectory() as work:
        def run_steps(n: int) -> Callable[[], dict]:
            return lambda: train(_fresh(model, device), strategy, data, _our_settings(s, batch_size, n, perf, False), Path(work) / f"flops{n}", prior=prior)

        flops = count_flops(run_steps(2)) - count_flops(run_steps(1))  # one step, without the run's setup (prompt embeddings)
        marks: dict[str, float] = {}
        total = s.warmup_steps + s.train_steps

        def on_step(done: int) -> None:
            if done == s.warmup_steps:
                _sync(device)
                _reset_memory(device)
                marks["start"] = time.perf_counter()
                if device.type == "cuda":
                    torch.cuda.set_sync_debug_mode("warn")
            elif done == total - 1 and device.type == "cuda":
                torch.cuda.set_sync_debug_mode("default")  # the last step logs its loss: one sync by design
            if done == total:
                _sync(device)
                marks["stop"] = time.perf_counter()

        with warnings.catch_warnings(record=True) as syncs:
            warnings.simplefilter("always")
            train(_fresh(model, device), strategy, data, _our_settings(s, batch_size, total, perf, perf.compile), Path(work) / "run", prior=prior, on_step=on_step)
    seconds = marks["stop"] - marks["start"]
    memory, memory_kind = _peak_memory(device)
    images = s.train_steps * unet_batch
    n_syncs = sum("synchroniz" in str(w.message) for w in syncs)
    extra = {"unet_batch": unet_batch, "host_syncs_in_timed_steps": n_syncs if device.type == "cuda" else None}
    return Measurement(f"ours/{method}", "train", images / seconds, images, seconds, flops / unet_batch, memory, memory_kind, extra)


# --------------------------------------------------------------------------------------------------
# sampling


def _inference_copy(model: Components, perf: Performance) -> Components:
    return prepare_for_inference(_fresh(model, perf.device), perf)


def measure_pipeline(model: Components, s: BenchSettings, device: torch.device, perf: Performance) -> Measurement:
    from diffusers import DDIMScheduler

    plain = Performance(device=device, inference_dtype=perf.inference_dtype)  # same precision, no levers
    components = _inference_copy(model, plain)
    pipe = components.pipeline()
    pipe.scheduler = DDIMScheduler.from_config(components.noise_scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    size = components.vae.config.sample_size
    prompts = _prompts(s.batch_size)

    def call() -> object:
        generator = torch.Generator(device=device).manual_seed(s.seed)
        return pipe(prompt=prompts, height=size, width=size, num_inference_steps=s.sample_steps, guidance_scale=s.guidance_scale, generator=generator, output_type="pt").images

    return _time_sampler("pipeline (diffusers StableDiffusionPipeline, DDIM)", call, s, device)


def measure_our_sampling(model: Components, s: BenchSettings, device: torch.device, perf: Performance) -> Measurement:
    components = _inference_copy(model, perf)
    prompts = _prompts(s.batch_size)

    def call() -> object:
        return generate(components, prompts, delta=0.05, seed=s.seed, scheduler_name="ddim", steps=s.sample_steps, guidance_scale=s.guidance_scale, batch_size=s.batch_size)

    return _time_sampler("ours/sample (ldbench.sample.generate, DDIM, δ=0.05)", call, s, device, eager_flops=not perf.compile)


def _time_sampler(name: str, call: Callable[[], object], s: BenchSettings, device: torch.device, eager_flops: bool = True) -> Measurement:
    call()  # warm-up: compilation, CUDA graph capture, allocator
    flops = count_flops(call) if eager_flops else None
    seconds, memory, memory_kind = _timed(call, s.sample_batches, device)
    images = s.sample_batches * s.batch_size
    return Measurement(name, "sample", images / seconds, images, seconds, (flops or 0) / s.batch_size, memory, memory_kind)


# --------------------------------------------------------------------------------------------------
# memory, counted on fake tensors


class _NoHook:
    def remove(self) -> None:
        pass


def _memory_tracker():
    """torch's ``MemTracker``, taught that frozen parameters (the text encoder) take no gradient hook.

    As shipped it registers a gradient hook on every parameter of every module that runs, and
    ``register_hook`` refuses parameters that do not require gradients.
    """
    from torch.distributed._tools.mem_tracker import MemTracker

    class FrozenAwareMemTracker(MemTracker):
        def _track_module_params_and_buffers(self, module: torch.nn.Module, install_grad_hooks: bool = True) -> tuple[int, int]:
            no_hook = _NoHook()
            for param in module.parameters():
                if not param.requires_grad:
                    self._param_to_grad_hook_handles.setdefault(param, (no_hook, no_hook))  # "hooked already": skipped
            return super()._track_module_params_and_buffers(module, install_grad_hooks)

    return FrozenAwareMemTracker()


class _TrackedStepsDone(Exception):
    """Ends the estimate's run after its tracked steps, before the run reads a (valueless) fake loss."""


def estimate_training_memory(preset: str, method: str, batch_size: int, gradient_checkpointing: bool, seed: int = 0, fake: bool = True) -> dict:
    """Peak memory of our training step at a preset's shapes, counted rather than allocated.

    :func:`ldbench.train.train` itself runs two steps on fake tensors (``FakeTensorMode``: shapes
    and dtypes, no data) under torch's ``MemTracker``, with bf16 autocast and the fused AdamW of the
    GPU path, so SD 1.5's figure comes out on any machine. What it is not:

    - a GPU reading. Fake CUDA tensors cannot run a backward pass without a GPU, so the tensors are
      CPU tensors and autocast is CPU autocast. That casts the same convolutions, matmuls and
      attention to bf16, but keeps normalisations and softmax in bf16 where CUDA's autocast
      returns fp32, so the activation share is a lower bound. CPU flash attention saves what
      CUDA's does (output and log-sum-exp).
    - the allocator's view. It counts live tensors, not the CUDA caching allocator's rounding and
      fragmentation or cuBLAS/cuDNN workspaces: ``torch.cuda.max_memory_reserved`` reads higher.

    ``fake=False`` runs the same on real CPU tensors (the test that fake and real agree).
    Returns GiB per category (parameters, gradients, optimizer state, activations, temporaries)
    at the peak, the peak itself, and the steps tracked.
    """
    from accelerate.state import AcceleratorState
    from torch._subclasses.fake_tensor import FakeTensorMode

    settings = BenchSettings(preset=preset, batch_size=batch_size, methods=(method,), gradient_checkpointing=gradient_checkpointing, seed=seed)
    tracked_steps = 2  # the second step runs with the optimizer state the first one created
    tracker = _memory_tracker()

    def on_step(done: int) -> None:
        if done == tracked_steps:
            raise _TrackedStepsDone
        tracker.reset_mod_stats()  # the tracker keeps per-module statistics of one step only

    AcceleratorState._reset_state(True)  # accelerate allows one mixed-precision setting per process
    try:
        with FakeTensorMode() if fake else contextlib.nullcontext(), tempfile.TemporaryDirectory() as work:
            model = build_model(preset, seed)
            strategy, data, prior, per_set = _training_inputs(model, method, settings)
            run_settings = TrainSettings(steps=tracked_steps + 1, batch_size=per_set, lr=1e-5, seed=seed, log_every=10**9, mixed_precision="bf16",
                                         fused_optimizer=True, gradient_checkpointing=gradient_checkpointing)
            tracker.track_external(model.unet, model.text_encoder)
            # every module already sits on the CPU, where ``Module.to`` (accelerate's device
            # placement) is a no-op, but one that fake parameters cannot go through: skip it
            same_place = mock.patch.object(torch.nn.Module, "to", lambda module, *args, **kwargs: module) if fake else contextlib.nullcontext()
            with tracker, same_place, contextlib.suppress(_TrackedStepsDone):
                train(model, strategy, data, run_settings, Path(work), prior=prior, on_step=on_step)
    finally:
        AcceleratorState._reset_state(True)
    peak = tracker.get_tracker_snapshot("peak")
    ((device, categories),) = peak.items()  # one device: the CPU the tensors (fake or real) live on
    gib = {name.lower(): size / 2**30 for name, size in categories.items()}
    return {"preset": preset, "method": method, "batch_size": batch_size, "gradient_checkpointing": gradient_checkpointing,
            "tracked_steps": tracked_steps, "tensors": f"{'fake' if fake else 'real'} {device}", "peak_gib": gib.pop("total"), "at_peak_gib": gib}


# --------------------------------------------------------------------------------------------------


def run(s: BenchSettings, log: Callable[[str], None] = print) -> dict:
    """Every variant in turn; returns a JSON-ready report."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    levers = {"auto": None, "on": True, "off": False}[s.levers]
    switch = "auto" if levers is None else levers
    perf = Performance.from_settings(PerformanceSettings(compile=switch, cuda_graphs=switch, channels_last=switch, inference_precision="auto",
                                                         gradient_checkpointing=s.gradient_checkpointing), device)
    model = build_model(s.preset, s.seed)
    log(f"model: preset {s.preset}, {model.vae.config.sample_size} px, UNet {sum(p.numel() for p in model.unet.parameters()) / 1e6:.1f} M parameters, on {device}")
    results = []
    if s.only in ("all", "train"):
        with _library_defaults():
            recipe = measure_recipe(model, s, device)
        results.append(recipe)
        log(_line(recipe, recipe))
        for method in s.methods:
            results.append(measure_ours(model, method, s, device, perf))
            log(_line(results[-1], recipe))
    if s.only in ("all", "sample"):
        with _library_defaults():
            pipeline = measure_pipeline(model, s, device, perf)
        log(_line(pipeline, pipeline))
        ours = measure_our_sampling(model, s, device, perf)
        if not ours.flop_per_image:  # compiled: the eager path does the same math
            ours.flop_per_image = pipeline.flop_per_image
        log(_line(ours, pipeline))
        results += [pipeline, ours]
    baseline = {r.kind: r for r in results if r.name.startswith(("recipe", "pipeline"))}
    return {
        "settings": asdict(s),
        "performance": {k: str(v) for k, v in asdict(perf).items()},
        "environment": environment(device),
        "results": [{**asdict(r), "tflops": r.tflops, "ratio": r.images_per_s / baseline[r.kind].images_per_s} for r in results],
    }


def _line(m: Measurement, baseline: Measurement) -> str:
    return (f"{m.name:58s} {m.images_per_s:9.2f} images/s  ×{m.images_per_s / baseline.images_per_s:5.2f}  "
            f"{m.flop_per_image / 1e12:8.4f} TFLOP/image  {m.tflops:8.3f} TFLOP/s  {m.peak_memory_gib:6.2f} GiB ({m.memory_kind})")


def environment(device: torch.device) -> dict:
    import platform

    import accelerate
    import diffusers
    import transformers

    env = {"torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__,
           "accelerate": accelerate.__version__, "python": platform.python_version(), "device": str(device),
           "cpu_threads": torch.get_num_threads()}
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    else:
        env["cpu"] = platform.processor() or platform.machine()
    return env


def markdown(report: dict) -> str:
    """The report as a Markdown table (what ``benchmarks/RESULTS.md`` records)."""
    rows = ["| variant | images/s | × baseline | TFLOP/image | TFLOP/s | peak memory (GiB) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in report["results"]:
        rows.append(f"| {r['name']} | {r['images_per_s']:.2f} | {r['ratio']:.2f} | {r['flop_per_image'] / 1e12:.4f} | {r['tflops']:.3f} | {r['peak_memory_gib']:.2f} |")
    return "\n".join(rows)
