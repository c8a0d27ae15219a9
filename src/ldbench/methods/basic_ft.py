"""Basic fine-tuning (diffusers ``train_text_to_image.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Strategy, freeze_all, trainable

if TYPE_CHECKING:
    import torch

    from ..models import Components


class BasicFT(Strategy):
    """The whole UNet; VAE and text encoder frozen."""

    name = "basic_ft"
    title = "Basic FT"
    trains = "the whole UNet (VAE and text encoder frozen)"
    finetuning = True
    table_rank = 4

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        freeze_all(components)
        return trainable(components.unet.parameters())
