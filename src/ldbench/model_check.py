"""Does the base model fit the config? Checked when the config is validated, before any job trains.

Training encodes slices at ``image_size`` while sampling draws latents at the UNet's
``sample_size``; a mismatch surfaces only after fine-tuning (on SD 1.5, after GPU-hours). The base
model's shapes are read from its JSON configs (a local ``save_pretrained`` folder or a hub id in the
Hugging Face cache) or from ``base_model.embedded``, and compared with the config: image size
against ``sample_size`` × the VAE's downsampling, the VAE's latent channels against the UNet's
input channels, the text encoder's width against the UNet's cross-attention width.

Standard library only (``huggingface_hub`` for a hub id's cached files): the Snakefile runs it
when it parses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The tiny model (``base_model.embedded`` of config.yaml); cfg keys override these.
DEFAULT_TINY_CONFIG: dict[str, Any] = {
    "image_size": 64,
    "vae": {"block_out_channels": [32, 64, 64], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 16},
    "text_encoder": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128},
    "unet": {
        "block_out_channels": [32, 64, 64],
        "layers_per_block": 1,
        "attention_head_dim": 8,
        "norm_num_groups": 16,
        "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    },
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def is_hub_id(source: str | Path) -> bool:
    """A string like ``runwayml/stable-diffusion-v1-5`` that is not a local path.

    ``results/base`` where ``results/`` exists locally is taken as a (missing) folder, not a hub id.
    """
    if not isinstance(source, str) or Path(source).exists():
        return False
    if not _HUB_ID.match(source):
        return False
    return not Path(source.split("/")[0]).exists()


def _read(source: str, part: str) -> dict | None:
    """``<part>/config.json`` of a model folder or of a hub id's cached snapshot; None when not found."""
    if is_hub_id(source):
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            return None
        cached = try_to_load_from_cache(source, f"{part}/config.json")
        path = Path(cached) if isinstance(cached, str) else None
    else:
        path = Path(source) / part / "config.json"
    if path is None or not path.is_file():
        return None  # a missing model is reported, with its layout, by the job that loads it
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def model_shapes(base_model: Mapping[str, Any], image_size: int) -> dict[str, Any] | None:
    """Shapes of the configured base model (None when its configs cannot be read here)."""
    if base_model["source"] == "embedded":
        emb = {key: {**DEFAULT_TINY_CONFIG[key], **base_model.get("embedded", {}).get(key, {})} for key in ("vae", "unet", "text_encoder")}
        vae_factor = 2 ** (len(emb["vae"]["block_out_channels"]) - 1)
        return {"where": "base_model.embedded", "embedded": True, "vae_factor": vae_factor,
                "unet_factor": 2 ** (len(emb["unet"]["block_out_channels"]) - 1),
                "sample_size": None, "latent_channels": emb["vae"].get("latent_channels", 4)}
    source = str(base_model["source"])
    vae, unet, text = (_read(source, part) for part in ("vae", "unet", "text_encoder"))
    if vae is None or unet is None or text is None:
        return None
    return {"where": f"base model {source}", "embedded": False, "vae_factor": 2 ** (len(vae.get("block_out_channels", [0])) - 1),
            "unet_factor": 2 ** (len(unet.get("block_out_channels", [0])) - 1), "sample_size": unet.get("sample_size"),
            "latent_channels": vae.get("latent_channels"), "unet_in_channels": unet.get("in_channels"),
            "cross_attention_dim": unet.get("cross_attention_dim"), "text_hidden_size": text.get("hidden_size")}


def compatibility_errors(config: Mapping[str, Any]) -> list[str]:
    """Every mismatch between the config and its base model, each naming both values and the fix."""
    image_size = int(config["image_size"])
    shapes = model_shapes(config["base_model"], image_size)
    if shapes is None:
        return []
    where, vae_factor, unet_factor = shapes["where"], shapes["vae_factor"], shapes["unet_factor"]
    errors = []
    if shapes["embedded"]:
        step = vae_factor * unet_factor
        if image_size % step:
            fits = ", ".join(str(step * k) for k in range(max(1, image_size // step), image_size // step + 3))
            errors.append(f"image_size: {image_size} is not a multiple of {step} ({where}: the VAE downsamples {vae_factor}×, the UNet "
                          f"{unet_factor}× more); use e.g. {fits}, or change the embedded model's block_out_channels")
        return errors
    sample_size = shapes["sample_size"]
    if sample_size is not None:
        native = int(sample_size) * vae_factor
        if image_size != native:
            errors.append(f"image_size: {image_size} does not match {where}, whose UNet samples {sample_size}×{sample_size} latents "
                          f"(× the VAE's {vae_factor}× = {native} px); set image_size: {native}")
    if shapes["latent_channels"] is not None and shapes["unet_in_channels"] is not None and shapes["latent_channels"] != shapes["unet_in_channels"]:
        errors.append(f"base_model.source: {where} has a VAE with {shapes['latent_channels']} latent channels but a UNet with "
                      f"{shapes['unet_in_channels']} input channels; use a text-to-image model whose VAE and UNet belong together")
    cross, hidden = shapes["cross_attention_dim"], shapes["text_hidden_size"]
    if cross is not None and hidden is not None and cross != hidden:
        errors.append(f"base_model.source: {where} has a UNet with cross-attention width {cross} but a text encoder of width {hidden}; "
                      "use a text encoder that matches the UNet")
    return errors
