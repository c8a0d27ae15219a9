"""The one training engine: every fine-tuning method (and the base model's pre-training) runs here.

Built on accelerate (mixed precision on GPU, gradient accumulation, ``save_state``/``load_state``
checkpoints). Latents are encoded once per dataset (the VAE never runs in the loop) and, when
the text encoder is frozen, prompt embeddings too. Every random draw of step ``k`` comes from a
generator seeded with ``(seed, k)``, so a run resumed from a checkpoint takes exactly the steps an
uninterrupted run would have taken.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from . import drift
from .encoding import PromptTable
from .methods import Strategy
from .models import Components
from .runtime import compile_unet, configure_cuda, use_channels_last
from .seeds import derive_seed
from .settings import TrainSettings
from .utils import atomic_dir, progress

log = logging.getLogger("ldbench")


@dataclass
class LatentSet:
    """Cached VAE posterior (mean, std, already scaled) and prompts of a training set.

    ``source``: for image-conditioned methods (InstructPix2Pix), the latents of each example's
    input image, concatenated to the noisy latents as extra UNet input channels.
    """

    mean: torch.Tensor
    std: torch.Tensor
    prompts: list[str]
    source: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.prompts)


def _step_generator(seed: int, step: int, stream: int, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(derive_seed(seed, "train_step", step, stream))


def _latest_checkpoint(work_dir: Path) -> tuple[int, Path] | None:
    found = []
    for path in work_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and (path / "ldbench_step.txt").exists():
            found.append((int(match.group(1)), path))
    return max(found) if found else None


def _mixed_precision(setting: str) -> str:
    if setting == "auto":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    return setting


class _Draws:
    """A training set resident on the training device, drawn from with a device generator.

    Nothing in a draw copies to or from the host, so the GPU never waits for Python between
    steps. The order of the random calls is fixed: a resumed run repeats an uninterrupted one.
    """

    def __init__(self, latents: LatentSet, conditioning: PromptTable, strategy: Strategy, batch_size: int, device: torch.device):
        self.mean, self.std = latents.mean.to(device), latents.std.to(device)
        self.source = latents.source.to(device) if latents.source is not None else None
        self.prompt_ids = conditioning.ids(latents.prompts, device)
        self.empty = conditioning.empty
        self.caption_dropout, self.image_dropout = strategy.caption_dropout, strategy.image_dropout
        self.batch_size, self.device = batch_size, device

    def __call__(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(z_0 sampled from the cached posterior, prompt indices, input-image latents or None)."""
        idx = torch.randint(len(self.mean), (self.batch_size,), generator=gen, device=self.device)
        eps = torch.randn((self.batch_size, *self.mean.shape[1:]), generator=gen, device=self.device)
        z0 = self.mean[idx] + self.std[idx] * eps
        prompt_ids = self.prompt_ids[idx]
        if self.caption_dropout > 0:
            drop = torch.rand(self.batch_size, generator=gen, device=self.device) < self.caption_dropout
            prompt_ids = torch.where(drop, self.empty, prompt_ids)
        source = None
        if self.source is not None:  # InstructPix2Pix: drop the input image as often as the caption
            keep = (torch.rand(self.batch_size, generator=gen, device=self.device) >= self.image_dropout).to(self.source.dtype)
            source = self.source[idx] * keep[:, None, None, None]
        return z0, prompt_ids, source


def train(
    components: Components,
    strategy: Strategy,
    data: LatentSet,
    settings: TrainSettings,
    work_dir: Path,
    prior: LatentSet | None = None,
    on_step: Callable[[int], None] | None = None,
) -> dict:
    """Train ``components`` in place with ``strategy``; checkpoints go to ``work_dir``.

    ``on_step(done)`` is called after every step (the throughput benchmark times steps with it).
    Returns a summary (final loss, steps, settings) for the model's metadata.
    """
    from accelerate import Accelerator

    work_dir = Path(work_dir)
    accelerator = Accelerator(
        mixed_precision=_mixed_precision(settings.mixed_precision),
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        cpu=not torch.cuda.is_available(),
    )
    device = accelerator.device
    if device.type == "cuda":
        configure_cuda()
    strategy.prepare(components)
    params = strategy.select_parameters(components)
    n_trainable = sum(p.numel() for p in params)
    log.info("method %s: %d trainable parameters, %d training latents, δ=%g (%s)", strategy.name, n_trainable, len(data), settings.delta, settings.loss_target)

    unet = components.unet
    if settings.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    if settings.channels_last:
        use_channels_last(unet)
    fused = device.type == "cuda" if settings.fused_optimizer is None else settings.fused_optimizer
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay, fused=fused)
    components.vae.to("cpu")  # latents are cached: the VAE is not needed in the loop
    unet, text_encoder, optimizer = accelerator.prepare(unet, components.text_encoder, optimizer)
    unet.train()
    text_encoder.train(strategy.text_encoder_in_graph)
    if settings.compile:
        compile_unet(unet)
    scheduler = components.noise_scheduler

    all_prompts = list(data.prompts) + (list(prior.prompts) if prior else [])
    conditioning = PromptTable(components, all_prompts, strategy.text_encoder_in_graph, device)
    draw = _Draws(data, conditioning, strategy, settings.batch_size, device)
    draw_prior = _Draws(prior, conditioning, strategy, settings.batch_size, device) if prior is not None else None

    start_step = 0
    latest = _latest_checkpoint(work_dir)
    if latest is not None:
        accelerator.load_state(str(latest[1]))
        start_step = latest[0]
        log.info("resumed from %s (step %d of %d)", latest[1], start_step, settings.steps)

    losses: list[torch.Tensor] = []
    n_instance = settings.batch_size
    bar = progress(range(start_step, settings.steps), desc=f"train {strategy.name}", initial=start_step, total=settings.steps)
    for step in bar:
        gen = _step_generator(settings.seed, step, 0, device)
        z0, prompt_ids, source = draw(gen)
        if draw_prior is not None:
            pz0, pprompt_ids, _ = draw_prior(gen)
            z0, prompt_ids = torch.cat([z0, pz0]), torch.cat([prompt_ids, pprompt_ids])
        noise = torch.randn(z0.shape, generator=gen, device=device)
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (len(z0),), generator=gen, device=device)
        noisy, target = drift.add_drifted_noise(scheduler, z0, noise, timesteps, settings.delta, settings.loss_target)
        if source is not None:
            noisy = torch.cat([noisy, source], dim=1)
        if settings.channels_last:
            noisy = noisy.contiguous(memory_format=torch.channels_last)
        with accelerator.accumulate(unet, text_encoder):
            with accelerator.autocast():
                pred = unet(noisy, timesteps, conditioning(text_encoder, prompt_ids)).sample
            loss = F.mse_loss(pred[:n_instance].float(), target[:n_instance].float())
            if draw_prior is not None:
                loss = loss + settings.prior_loss_weight * F.mse_loss(pred[n_instance:].float(), target[n_instance:].float())
            accelerator.backward(loss)
            if accelerator.sync_gradients and settings.max_grad_norm:
                accelerator.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if accelerator.sync_gradients:
            strategy.after_optimizer_step(components)
        losses.append(loss.detach())
        done = step + 1
        if done % settings.log_every == 0 or done == settings.steps:  # the loop's only host–device sync
            recent = torch.stack(losses[-settings.log_every :]).mean().item()
            bar.set_postfix(loss=f"{recent:.4f}")
            log.info("step %d/%d loss %.5f", done, settings.steps, recent)
        if settings.checkpoint_every and done % settings.checkpoint_every == 0 and done < settings.steps:
            _save_checkpoint(accelerator, work_dir, done)
        if on_step is not None:
            on_step(done)

    final = torch.stack(losses[-settings.log_every :]).mean().item() if losses else math.nan
    components.unet = accelerator.unwrap_model(unet)
    components.text_encoder = accelerator.unwrap_model(text_encoder)
    components.unet.eval()
    components.text_encoder.eval()
    if settings.gradient_checkpointing:
        components.unet.disable_gradient_checkpointing()
    strategy.finalize(components)
    if not settings.keep_checkpoints and work_dir.exists():
        shutil.rmtree(work_dir)
    return {"final_loss": final, "trainable_parameters": n_trainable, "resumed_from_step": start_step, **asdict(settings)}


def _save_checkpoint(accelerator, work_dir: Path, step: int) -> None:
    """Atomic checkpoint: a killed job never leaves a half-written ``checkpoint-N``; older ones are removed."""
    target = work_dir / f"checkpoint-{step}"
    with atomic_dir(target) as tmp:
        accelerator.save_state(str(tmp))
        (tmp / "ldbench_step.txt").write_text(str(step))
    for old in work_dir.glob("checkpoint-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    log.info("checkpoint saved: %s", target)
