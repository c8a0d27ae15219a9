"""Pre-training of the embedded base model (not a fine-tuning method of the paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Strategy, freeze_all, trainable

if TYPE_CHECKING:
    import torch

    from ..models import Components


class Pretrain(Strategy):
    """UNet and text encoder from scratch. Captions are dropped 10 % of the time, as in Stable
    Diffusion's training, so that classifier-free guidance works for every model fine-tuned from it."""

    name = "pretrain"
    title = "Pre-training"
    trains = "the UNet and the text encoder from scratch"
    text_encoder_in_graph = True
    caption_dropout = 0.1

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        freeze_all(components)
        return trainable(list(components.unet.parameters()) + list(components.text_encoder.parameters()))
