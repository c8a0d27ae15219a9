"""LoRA (diffusers ``train_text_to_image_lora.py``, through ``peft``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .base import Strategy, freeze_all, trainable

if TYPE_CHECKING:
    import torch

    from ..models import Components

#: the attention projections diffusers' recipe adapts
TARGET_MODULES = ("to_k", "to_q", "to_v", "to_out.0")


class LoRA(Strategy):
    """Low-rank adapters on the UNet's attention projections, Gaussian-initialised as in diffusers'
    recipe; everything else frozen. After training the adapters are merged into the UNet's
    weights, so the saved model loads like any other."""

    name = "lora"
    title = "LoRA"
    trains = "rank-r adapters on the UNet's attention projections, merged into its weights after training"
    finetuning = True
    table_rank = 5
    options_schema: ClassVar[dict] = {
        "rank": {"type": "integer", "minimum": 1, "maximum": 1024, "default": 4, "description": "adapter rank r (diffusers' --rank)"},
        "alpha": {"type": ["number", "null"], "exclusiveMinimum": 0, "default": None,
                  "description": "LoRA scaling numerator (scale alpha / r); null: alpha = r, as diffusers' recipe"},
    }

    def prepare(self, components: Components) -> None:
        from peft import LoraConfig

        unet = components.unet
        if getattr(unet, "peft_config", None):  # resuming: the adapters exist already
            return
        rank = self.options["rank"]
        alpha = self.options["alpha"] or rank
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=list(TARGET_MODULES)))

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        freeze_all(components)
        adapters = [param for name, param in components.unet.named_parameters() if ".lora_" in name]
        if not adapters:
            raise ValueError(f"LoRA found none of the attention projections {TARGET_MODULES} in the UNet")
        return trainable(adapters)

    def finalize(self, components: Components) -> None:
        unet = components.unet
        unet.fuse_lora()
        unet.unload_lora()
