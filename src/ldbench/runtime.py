"""Where and how the models run: compute device, inference precision and the GPU speed levers.

Every lever is a ``performance`` config key whose ``auto`` value turns it on exactly where it pays:
on a CUDA GPU. On CPU ``auto`` leaves the plain eager fp32 path, so CPU results (and the tests'
bit-equality checks) do not depend on these switches. ``benchmarks/throughput.py`` measures them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from .settings import PerformanceSettings
from .utils import LdbenchError

log = logging.getLogger("ldbench")

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def compute_device() -> torch.device:
    """The first visible CUDA device (``ldbench.gpus`` has already narrowed what is visible), else CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _switch(value: bool | str, name: str, device: torch.device) -> bool:
    if value == "auto":
        return device.type == "cuda"
    if isinstance(value, bool):
        return value
    raise LdbenchError(f"performance.{name}: expected true, false or auto, got {value!r}")


@dataclass(frozen=True)
class Performance:
    """Resolved ``performance`` settings for one device."""

    device: torch.device
    compile: bool = False  # torch.compile the UNet
    cuda_graphs: bool = False  # sampling: compile with mode="reduce-overhead" (CUDA graphs)
    channels_last: bool = False
    inference_dtype: torch.dtype = torch.float32

    @classmethod
    def from_settings(cls, settings: PerformanceSettings | None, device: torch.device | None = None) -> Performance:
        """Resolve the ``performance`` section (``auto`` and all) for ``device`` (default: the compute device)."""
        device = device or compute_device()
        if settings is None:
            settings = PerformanceSettings(compile="auto", cuda_graphs="auto", channels_last="auto", inference_precision="auto",
                                           gradient_checkpointing=False)
        precision = settings.inference_precision
        if precision == "auto":
            bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
            precision = "bf16" if bf16 else "fp32"
        if precision not in DTYPES:
            raise LdbenchError(f"performance.inference_precision: expected auto or one of {sorted(DTYPES)}, got {precision!r}")
        compiled = _switch(settings.compile, "compile", device)
        return cls(
            device=device,
            compile=compiled,
            cuda_graphs=compiled and device.type == "cuda" and _switch(settings.cuda_graphs, "cuda_graphs", device),
            channels_last=_switch(settings.channels_last, "channels_last", device),
            inference_dtype=DTYPES[precision],
        )


def configure_cuda() -> None:
    """Shapes are fixed within a job, so cuDNN may time its convolution algorithms once; matmuls and
    convolutions that bf16 autocast leaves in fp32 use TF32. GPU runs are therefore not
    bit-reproducible (neither are PyTorch's backward kernels); CPU runs are."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def use_channels_last(module: torch.nn.Module) -> None:
    module.to(memory_format=torch.channels_last)


def compile_unet(unet: torch.nn.Module, *, cuda_graphs: bool = False) -> None:
    """Compile in place (``nn.Module.compile``): the module, its class and its state-dict keys stay the same.

    ``cuda_graphs`` (sampling only) replays each step's kernels from a CUDA graph, which removes
    the launch overhead of the many small kernels of a UNet step.
    """
    unet.compile(mode="reduce-overhead" if cuda_graphs else None, dynamic=False)


def prepare_for_inference(components, perf: Performance):
    """Move a model to the device and precision of ``perf`` and apply its levers; returns ``components``."""
    components.to(perf.device, perf.inference_dtype)
    if perf.device.type == "cuda":
        configure_cuda()
    if perf.channels_last:
        use_channels_last(components.unet)
        use_channels_last(components.vae)
    if perf.compile:
        compile_unet(components.unet, cuda_graphs=perf.cuda_graphs)
    log.debug("inference on %s in %s (compile=%s, CUDA graphs=%s, channels_last=%s)", perf.device, perf.inference_dtype, perf.compile, perf.cuda_graphs, perf.channels_last)
    return components
