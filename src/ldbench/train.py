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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from . import drift
from .methods import Strategy
from .models import Components
from .utils import atomic_dir, progress

log = logging.getLogger("ldbench")


@dataclass
class TrainSettings:
    steps: int
    batch_size: int
    lr: float
    seed: int
    delta: float = 0.0
    loss_target: str = "drifted_noise"
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "auto"  # auto | no | bf16 | fp16
    checkpoint_every: int = 0  # 0: no intermediate checkpoints
    keep_checkpoints: bool = False
    max_grad_norm: float = 1.0
    weight_decay: float = 1e-2
    prior_loss_weight: float = 1.0
    log_every: int = 25


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


@torch.no_grad()
def encode_images(components: Components, images: torch.Tensor, batch_size: int = 64, desc: str = "encode") -> tuple[torch.Tensor, torch.Tensor]:
    """VAE posterior of images in [−1, 1]; scaled by the VAE's ``scaling_factor`` like SD training."""
    vae = components.vae
    device = next(vae.parameters()).device
    scale = vae.config.scaling_factor
    means, stds = [], []
    for start in progress(range(0, len(images), batch_size), desc=desc):
        dist = vae.encode(images[start : start + batch_size].to(device, vae.dtype)).latent_dist
        means.append(dist.mean.float().cpu() * scale)
        stds.append(dist.std.float().cpu() * scale)
    return torch.cat(means), torch.cat(stds)


def tokenize(tokenizer, prompts: Sequence[str]) -> torch.Tensor:
    return tokenizer(
        list(prompts), padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


@torch.no_grad()
def encode_prompts(components: Components, prompts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
    device = next(components.text_encoder.parameters()).device
    out = []
    for start in range(0, len(prompts), batch_size):
        ids = tokenize(components.tokenizer, prompts[start : start + batch_size]).to(device)
        out.append(components.text_encoder(ids)[0].float().cpu())
    return torch.cat(out)


def _step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 7919 + stream) % (2**63))


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


class _PromptCache:
    """Prompt → embedding lookup for strategies whose text encoder is frozen."""

    def __init__(self, components: Components, prompts: Sequence[str]):
        self.unique = sorted(set(prompts))
        self.index = {p: i for i, p in enumerate(self.unique)}
        self.embeddings = encode_prompts(components, self.unique)

    def __call__(self, prompts: Sequence[str]) -> torch.Tensor:
        return self.embeddings[[self.index[p] for p in prompts]]


def train(
    components: Components,
    strategy: Strategy,
    data: LatentSet,
    settings: TrainSettings,
    work_dir: Path,
    prior: LatentSet | None = None,
) -> dict:
    """Train ``components`` in place with ``strategy``; checkpoints go to ``work_dir``.

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
    strategy.prepare(components)
    params = strategy.select_parameters(components)
    n_trainable = sum(p.numel() for p in params)
    log.info("method %s: %d trainable parameters, %d training latents, δ=%g (%s)", strategy.name, n_trainable, len(data), settings.delta, settings.loss_target)

    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay, fused=device.type == "cuda")
    components.vae.to("cpu")  # latents are cached: the VAE is not needed in the loop
    unet, text_encoder, optimizer = accelerator.prepare(components.unet, components.text_encoder, optimizer)
    unet.train()
    text_encoder.train(strategy.text_encoder_in_graph)
    scheduler = components.noise_scheduler

    cache = None
    if not strategy.text_encoder_in_graph:
        cache = _PromptCache(components, list(data.prompts) + (list(prior.prompts) if prior else []) + [""])

    start_step = 0
    latest = _latest_checkpoint(work_dir)
    if latest is not None:
        accelerator.load_state(str(latest[1]))
        start_step = latest[0]
        log.info("resumed from %s (step %d of %d)", latest[1], start_step, settings.steps)

    def condition(prompts: list[str]) -> torch.Tensor:
        if cache is not None:
            return cache(prompts).to(device)
        ids = tokenize(components.tokenizer, prompts).to(device)
        return text_encoder(ids)[0]

    def draw(latents: LatentSet, gen: torch.Generator) -> tuple[torch.Tensor, list[str], torch.Tensor | None]:
        idx = torch.randint(len(latents), (settings.batch_size,), generator=gen)
        eps = torch.randn(latents.mean[idx].shape, generator=gen)
        z0 = latents.mean[idx] + latents.std[idx] * eps
        prompts = [latents.prompts[i] for i in idx.tolist()]
        if strategy.caption_dropout > 0:
            drop = torch.rand(len(prompts), generator=gen) < strategy.caption_dropout
            prompts = ["" if d else p for p, d in zip(prompts, drop.tolist())]
        source = None
        if latents.source is not None:  # InstructPix2Pix: drop the input image as often as the caption
            keep = (torch.rand(len(idx), generator=gen) >= strategy.image_dropout).float()
            source = latents.source[idx] * keep[:, None, None, None]
        return z0, prompts, source

    losses: list[float] = []
    bar = progress(range(start_step, settings.steps), desc=f"train {strategy.name}", initial=start_step, total=settings.steps)
    for step in bar:
        gen = _step_generator(settings.seed, step, 0)
        z0, prompts, source = draw(data, gen)
        n_instance = len(prompts)
        if prior is not None:
            pz0, pprompts, _ = draw(prior, gen)
            z0, prompts = torch.cat([z0, pz0]), prompts + pprompts
        noise = torch.randn(z0.shape, generator=gen)
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (len(z0),), generator=gen)
        noisy, target = drift.add_drifted_noise(scheduler, z0, noise, timesteps, settings.delta, settings.loss_target)
        if source is not None:
            noisy = torch.cat([noisy, source], dim=1)
        with accelerator.accumulate(unet, text_encoder):
            with accelerator.autocast():
                pred = unet(noisy.to(device), timesteps.to(device), condition(prompts)).sample
            target = target.to(device)
            loss = F.mse_loss(pred[:n_instance].float(), target[:n_instance].float())
            if prior is not None:
                loss = loss + settings.prior_loss_weight * F.mse_loss(pred[n_instance:].float(), target[n_instance:].float())
            accelerator.backward(loss)
            if accelerator.sync_gradients and settings.max_grad_norm > 0:
                accelerator.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if accelerator.sync_gradients:
            strategy.after_optimizer_step(components)
        losses.append(loss.detach())
        done = step + 1
        if done % settings.log_every == 0 or done == settings.steps:
            recent = torch.stack(losses[-settings.log_every :]).mean().item()
            bar.set_postfix(loss=f"{recent:.4f}")
            log.info("step %d/%d loss %.5f", done, settings.steps, recent)
        if settings.checkpoint_every and done % settings.checkpoint_every == 0 and done < settings.steps:
            _save_checkpoint(accelerator, work_dir, done)

    final = torch.stack(losses[-settings.log_every :]).mean().item() if losses else math.nan
    components.unet = accelerator.unwrap_model(unet)
    components.text_encoder = accelerator.unwrap_model(text_encoder)
    components.unet.eval()
    components.text_encoder.eval()
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
