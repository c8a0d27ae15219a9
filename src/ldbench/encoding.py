"""Text and image encoding shared by training and inference: prompts through the tokenizer and text
encoder, images through the VAE.

Training caches latents and prompt embeddings once per run; sampling and editing embed each
distinct prompt once per call. Both go through the functions here, so a prompt or an image is
encoded the same way wherever it is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .models import Components
from .utils import progress


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


class PromptTable:
    """Every distinct prompt of a run or a sampling call ("" included), embedded once — or, when the
    text encoder trains (``in_graph``), tokenized once.

    Batches then carry prompt *indices*, so conditioning a step is one gather on the device.
    """

    def __init__(self, components: Components, prompts: Sequence[str], in_graph: bool = False, device: torch.device | str = "cpu"):
        self.unique = sorted(set(prompts) | {""})
        self.index = {p: i for i, p in enumerate(self.unique)}
        self.empty = self.index[""]
        self.in_graph = in_graph
        if in_graph:
            self.table = tokenize(components.tokenizer, self.unique).to(device)
        else:
            self.table = encode_prompts(components, self.unique).to(device)

    def ids(self, prompts: Sequence[str], device: torch.device | str | None = None) -> torch.Tensor:
        return torch.tensor([self.index[p] for p in prompts], device=device or self.table.device)

    def __call__(self, text_encoder, prompt_ids: torch.Tensor) -> torch.Tensor:
        if self.in_graph:
            return text_encoder(self.table[prompt_ids])[0]
        return self.table[prompt_ids]

    def embeddings(self, prompts: Sequence[str]) -> torch.Tensor:
        """Text embeddings of ``prompts`` (frozen text encoder only)."""
        return self.table[self.ids(prompts)]

    @property
    def uncond(self) -> torch.Tensor:
        """The empty prompt's embedding, (1, tokens, width), for classifier-free guidance."""
        return self.table[self.empty][None]
