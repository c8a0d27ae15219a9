"""InstructPix2Pix (diffusers ``train_instruct_pix2pix.py``): the ageing editor, not a Table 1 method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .basic_ft import BasicFT

if TYPE_CHECKING:
    from ..models import Components


class InstructPix2Pix(BasicFT):
    """The whole UNet learns to edit an input image (its latents as 4 extra input channels,
    zero-initialised) following an instruction. Text and image conditioning are each dropped 5 %
    of the time, for the two guidance scales."""

    name = "instruct_pix2pix"
    title = "InstructPix2Pix"
    trains = "the whole UNet, with the input image's latents as extra input channels"
    finetuning = False
    caption_dropout = 0.05
    image_dropout = 0.05

    def prepare(self, components: Components) -> None:
        import torch

        unet = components.unet
        if unet.config.in_channels == 8:  # resuming, or already an InstructPix2Pix model
            return
        old = unet.conv_in
        new = torch.nn.Conv2d(8, old.out_channels, old.kernel_size, old.stride, old.padding)
        with torch.no_grad():
            new.weight.zero_()
            new.weight[:, :4] = old.weight
            new.bias.copy_(old.bias)
        unet.conv_in = new
        unet.register_to_config(in_channels=8)
