"""What a fine-tuning method is to the training engine: which parameters train, which tokens exist.

One engine (``ldbench.train``) runs every method; a method only answers the questions below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from ..models import Components


@dataclass
class MethodConfig:
    """Per-method knobs from ``config.yaml: finetune.<method>``."""

    lr: float
    identifier: str = "sks"  # DreamBooth's rare token
    class_prompt: str = "a {modality}"  # DreamBooth's prior-preservation prompt
    prior_loss_weight: float = 1.0
    num_class_images: int = 32
    placeholder_token: str = "<ld-concept>"  # Textual Inversion / Custom Diffusion
    initializer_token: str = "scan"
    extra: dict = field(default_factory=dict)


class Strategy:
    """Base strategy: nothing trains. Subclasses choose parameters and the prompt phrase."""

    name = "base"
    #: True when the text encoder runs in the training graph (token embeddings train); else
    #: text embeddings are computed once and cached.
    text_encoder_in_graph = False
    #: fraction of captions replaced by "" (classifier-free guidance training)
    caption_dropout = 0.0
    #: fraction of input-image latents zeroed (image-conditioned methods only)
    image_dropout = 0.0

    def __init__(self, cfg: MethodConfig):
        self.cfg = cfg

    def modality_phrase(self, modality: str) -> str:
        return modality

    def prepare(self, components: Components) -> None:
        """Add tokens or processors; called once before training (and before resuming)."""

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        raise NotImplementedError

    def after_optimizer_step(self, components: Components) -> None:
        """Hook for restoring parameters that must stay bit-identical."""

    def prior_prompt(self, modality: str) -> str | None:
        """Prompt of prior-preservation class images (DreamBooth), else None."""
        return None

    def metadata(self, modality: str) -> dict:
        return {"method": self.name, "modality_phrase": self.modality_phrase(modality)}


def freeze_all(components: Components) -> None:
    for module in (components.vae, components.unet, components.text_encoder):
        module.requires_grad_(False)


def trainable(params: Iterable[torch.nn.Parameter]) -> list[torch.nn.Parameter]:
    out = []
    for p in params:
        p.requires_grad_(True)
        out.append(p)
    return out


class NewTokenMixin:
    """Adds one placeholder token whose embedding row alone trains (Textual Inversion, Custom Diffusion).

    Gradients of every other row are zeroed by a hook and, as diffusers' textual_inversion example
    does, the other rows are restored after each optimizer step, so they stay bit-identical even
    under weight decay.
    """

    token_ids: list[int]

    def add_placeholder(self, components: Components, placeholder: str, initializer: str) -> None:
        tokenizer, text_encoder = components.tokenizer, components.text_encoder
        if placeholder not in tokenizer.get_vocab():
            tokenizer.add_tokens([placeholder])
        init_ids = tokenizer.encode(initializer, add_special_tokens=False)
        if len(init_ids) != 1:
            from ..utils import LdbenchError

            raise LdbenchError(
                f"finetune.{self.name}.initializer_token: {initializer!r} is {len(init_ids)} tokens for the CLIP tokenizer; "
                "choose a word that is a single token (e.g. 'scan')"
            )
        self.token_ids = [tokenizer.convert_tokens_to_ids(placeholder)]
        if text_encoder.get_input_embeddings().num_embeddings < len(tokenizer):
            text_encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
            with torch.no_grad():
                emb = text_encoder.get_input_embeddings().weight
                emb[self.token_ids] = emb[init_ids[0]].clone()
        self._frozen_rows = text_encoder.get_input_embeddings().weight.detach().clone()

    def embedding_parameter(self, components: Components) -> torch.nn.Parameter:
        weight = components.text_encoder.get_input_embeddings().weight
        weight.requires_grad_(True)
        if getattr(self, "_masked_weight", None) is not weight:  # once per weight (a strategy may train several models)
            weight.register_hook(lambda grad: grad * self._trained_rows(grad))
            self._masked_weight = weight
        return weight

    def _trained_rows(self, like: torch.Tensor) -> torch.Tensor:
        """(vocab, 1) mask of the trained rows on ``like``'s device, built once per device."""
        mask = getattr(self, "_row_mask", None)
        if mask is None or mask.device != like.device:
            mask = torch.zeros(len(self._frozen_rows), 1, dtype=torch.bool)
            mask[self.token_ids] = True
            self._row_mask = mask = mask.to(like.device)
        return mask

    def restore_frozen_rows(self, components: Components) -> None:
        """Without a boolean-mask index, so the step stays free of host–device syncs on a GPU."""
        weight = components.text_encoder.get_input_embeddings().weight
        if self._frozen_rows.device != weight.device or self._frozen_rows.dtype != weight.dtype:
            self._frozen_rows = self._frozen_rows.to(weight.device, weight.dtype)
        with torch.no_grad():
            weight.copy_(torch.where(self._trained_rows(weight), weight, self._frozen_rows))
