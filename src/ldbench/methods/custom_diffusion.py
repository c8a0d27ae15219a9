"""Custom Diffusion (diffusers ``train_custom_diffusion.py``, ``freeze_model=crossattn_kv``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .base import NewTokenMixin, Strategy, freeze_all, trainable

if TYPE_CHECKING:
    import torch

    from ..models import Components


class CustomDiffusion(NewTokenMixin, Strategy):
    """The cross-attention key/value projections of the UNet and a new modifier token, which
    precedes the modality phrase: "a <new1> brain MRI of …". diffusers' recipe (its README)
    trains with ``--scale_lr`` and ``--with_prior_preservation``, so both are on by default."""

    name = "custom_diffusion"
    title = "Custom Diffusion"
    trains = "the UNet's cross-attention key/value projections and a new modifier token, with prior preservation on class images"
    finetuning = True
    table_rank = 1
    text_encoder_in_graph = True
    supports_prior_preservation = True
    engine_defaults: ClassVar[dict] = {"scale_lr": True, "prior_loss_weight": 1.0}
    options_schema: ClassVar[dict] = {**NewTokenMixin.TOKEN_OPTIONS,
                      "placeholder_token": {**NewTokenMixin.TOKEN_OPTIONS["placeholder_token"], "default": "<new1>"}}

    def modality_phrase(self, modality: str) -> str:
        return f"{self.placeholder_token} {modality}"

    def prepare(self, components: Components) -> None:
        self.add_placeholder(components)

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        freeze_all(components)
        kv = [
            param
            for name, param in components.unet.named_parameters()
            if ".attn2.to_k." in name or ".attn2.to_v." in name
        ]
        if not kv:
            raise ValueError("Custom Diffusion found no cross-attention (attn2.to_k / attn2.to_v) in the UNet")
        return trainable(kv + [self.embedding_parameter(components)])

    def after_optimizer_step(self, components: Components) -> None:
        self.restore_frozen_rows(components)
