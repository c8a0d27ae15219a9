"""Textual Inversion (diffusers ``textual_inversion.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .base import NewTokenMixin, Strategy, freeze_all, trainable

if TYPE_CHECKING:
    import torch

    from ..models import Components


class TextualInversion(NewTokenMixin, Strategy):
    """One new token embedding, all else frozen. The placeholder replaces the modality phrase:
    "a <ld-brain> of a 70 year old female with …".

    As in diffusers' recipe (its README trains with ``--scale_lr``), the learning rate is scaled by
    the batch size and gradients are not clipped."""

    name = "textual_inversion"
    title = "Textual Inversion"
    trains = "one new token embedding (everything else frozen)"
    finetuning = True
    table_rank = 3
    text_encoder_in_graph = True
    engine_defaults: ClassVar[dict] = {"scale_lr": True, "max_grad_norm": None}
    options_schema: ClassVar[dict] = {**NewTokenMixin.TOKEN_OPTIONS,
                      "placeholder_token": {**NewTokenMixin.TOKEN_OPTIONS["placeholder_token"], "default": "<ld-{dataset}>"}}

    def modality_phrase(self, modality: str) -> str:
        return self.placeholder_token

    def prepare(self, components: Components) -> None:
        self.add_placeholder(components)

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        freeze_all(components)
        return trainable([self.embedding_parameter(components)])

    def after_optimizer_step(self, components: Components) -> None:
        self.restore_frozen_rows(components)
