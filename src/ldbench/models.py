"""Base models: Stable Diffusion 1.5 from a hub id or a local folder, or the embedded tiny one.

Every model this package trains or samples from goes through :func:`load_components`, whether it is
SD 1.5 (``runwayml/stable-diffusion-v1-5`` or a local copy) or the tiny random-init model that the
embedded default pre-trains itself.  Both use the same classes (AutoencoderKL, UNet2DConditionModel,
CLIPTextModel, CLIPTokenizer, DDPMScheduler) and the same folder layout (``save_pretrained`` of a
``StableDiffusionPipeline``), so every later stage runs Stable Diffusion's own code path.

The tiny model uses Stable Diffusion's own CLIP tokenizer, rebuilt offline from the BPE merges file
that ships inside the open-clip-torch wheel (:func:`build_sd_tokenizer`): identical ids, identical
special tokens, so token-adding methods (Textual Inversion, DreamBooth, Custom Diffusion) behave as
they do on SD 1.5.
"""

from __future__ import annotations

import copy
import gzip
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .model_check import DEFAULT_TINY_CONFIG, is_hub_id
from .utils import LdbenchError, atomic_dir, write_json

logger = logging.getLogger("ldbench")

METADATA_FILE = "ldbench.json"

# Stable Diffusion 1.5's training noise schedule (scheduler/scheduler_config.json of the release).
SD15_SCHEDULER_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "skip_prk_steps": True,
}


# What a model folder must contain (SD 1.5 save_pretrained layout). Each entry: a list of
# alternatives, any one of which satisfies the requirement.
_CONFIG_FILES = {
    "vae": [["config.json"]],
    "unet": [["config.json"]],
    "text_encoder": [["config.json"]],
    "tokenizer": [["tokenizer.json"], ["vocab.json", "merges.txt"]],
    "scheduler": [["scheduler_config.json"]],
}
_DIFFUSERS_WEIGHTS = [
    "diffusion_pytorch_model.safetensors",
    "diffusion_pytorch_model.bin",
    "diffusion_pytorch_model.safetensors.index.json",
    "diffusion_pytorch_model.bin.index.json",
    "diffusion_pytorch_model.fp16.safetensors",
    "diffusion_pytorch_model.fp16.bin",
]
_TRANSFORMERS_WEIGHTS = [
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
    "model.fp16.safetensors",
    "pytorch_model.fp16.bin",
]
_WEIGHT_FILES = {"vae": _DIFFUSERS_WEIGHTS, "unet": _DIFFUSERS_WEIGHTS, "text_encoder": _TRANSFORMERS_WEIGHTS}

EXPECTED_LAYOUT = """\
expected a Stable Diffusion 1.5 folder (StableDiffusionPipeline.save_pretrained layout):
  model_index.json
  vae/config.json           + vae/diffusion_pytorch_model.safetensors (or .bin)
  unet/config.json          + unet/diffusion_pytorch_model.safetensors (or .bin)
  text_encoder/config.json  + text_encoder/model.safetensors (or pytorch_model.bin)
  tokenizer/tokenizer_config.json + tokenizer/tokenizer.json (or vocab.json + merges.txt)
  scheduler/scheduler_config.json"""


@dataclass
class Components:
    """The parts of a Stable Diffusion model that fine-tuning and sampling need."""

    vae: Any  # diffusers.AutoencoderKL
    unet: Any  # diffusers.UNet2DConditionModel
    text_encoder: Any  # transformers.CLIPTextModel
    tokenizer: Any  # transformers.CLIPTokenizer
    noise_scheduler: Any  # diffusers.DDPMScheduler (training schedule)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Components:
        """Move the three networks (and optionally cast them); returns ``self``."""
        for module in (self.vae, self.unet, self.text_encoder):
            module.to(device=device)
            if dtype is not None and module.dtype != dtype:
                module.to(dtype=dtype)
        return self

    def pipeline(self):
        """A ``StableDiffusionPipeline`` sharing these modules (no safety checker)."""
        from diffusers import StableDiffusionPipeline

        return StableDiffusionPipeline(
            vae=self.vae,
            text_encoder=self.text_encoder,
            tokenizer=self.tokenizer,
            unet=self.unet,
            scheduler=self.noise_scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )

    def save_pretrained(self, out_dir: str | os.PathLike, metadata: dict | None = None) -> None:
        """Write a complete ``StableDiffusionPipeline`` folder plus ``ldbench.json`` (atomically).

        ``StableDiffusionPipeline.from_pretrained(out_dir)`` and :func:`load_components` both load it.
        The tokenizer folder gets ``vocab.json`` + ``merges.txt`` beside ``tokenizer.json`` so older
        transformers versions (slow tokenizer) read it too, as they read SD 1.5's.
        """
        out_dir = Path(out_dir)
        with atomic_dir(out_dir) as tmp:
            self.pipeline().save_pretrained(tmp, safe_serialization=True)
            tok_dir = tmp / "tokenizer"
            try:
                self.tokenizer.backend_tokenizer.model.save(str(tok_dir))
            except Exception as err:  # noqa: BLE001 - the fast files alone already load
                logger.debug("could not write vocab.json/merges.txt: %s", err)
            write_json(tmp / METADATA_FILE, metadata or {})


# --------------------------------------------------------------------------------------------------
# tokenizer


def _open_clip_bpe_path() -> Path:
    try:
        from open_clip.tokenizer import default_bpe
    except ImportError as err:
        raise LdbenchError(
            "open-clip-torch is not installed; it ships Stable Diffusion's CLIP BPE vocabulary "
            "(bpe_simple_vocab_16e6.txt.gz) that the embedded tiny model's tokenizer is built from"
        ) from err
    path = Path(default_bpe())
    if not path.is_file():
        raise LdbenchError(f"open-clip-torch is installed but {path} is missing")
    return path


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte → printable unicode character table (same as CLIP's and open_clip's)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def write_sd_tokenizer_files(out_dir: str | os.PathLike) -> Path:
    """Write ``vocab.json`` and ``merges.txt`` of openai/clip-vit-large-patch14 (SD 1.5's tokenizer).

    Built the way CLIP itself builds its vocabulary from the BPE merges file: 256 byte characters,
    the same with ``</w>``, one entry per merge (the first 49152-256-2 merges), then
    ``<|startoftext|>`` = 49406 and ``<|endoftext|>`` = 49407.
    """
    out_dir = Path(out_dir)
    with gzip.open(_open_clip_bpe_path()) as fh:
        lines = fh.read().decode("utf-8").split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]
    byte_chars = list(_bytes_to_unicode().values())
    vocab = byte_chars + [c + "</w>" for c in byte_chars]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    encoder = {tok: i for i, tok in enumerate(vocab)}
    if len(encoder) != 49408:
        raise LdbenchError(f"unexpected CLIP BPE file: built {len(encoder)} tokens, expected 49408")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(json.dumps(encoder, ensure_ascii=False), encoding="utf-8")
    (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return out_dir


def build_sd_tokenizer(cache_dir: str | os.PathLike | None = None):
    """Stable Diffusion 1.5's CLIP tokenizer, built offline from open_clip's BPE file.

    ``cache_dir``, when given, keeps ``vocab.json`` + ``merges.txt`` there (written once).
    Ids are those of openai/clip-vit-large-patch14: "a photo of a cat" →
    [49406, 320, 1125, 539, 320, 2368, 49407]; 49408 tokens; model_max_length 77; pad = eos =
    unk = ``<|endoftext|>`` as in SD 1.5's ``tokenizer/`` folder.
    """
    from transformers import CLIPTokenizer

    kwargs = {
        "model_max_length": 77,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
    }
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        if not ((cache_dir / "vocab.json").is_file() and (cache_dir / "merges.txt").is_file()):
            cache_dir.parent.mkdir(parents=True, exist_ok=True)
            with atomic_dir(cache_dir) as tmp:
                write_sd_tokenizer_files(tmp)
        return CLIPTokenizer.from_pretrained(str(cache_dir), **kwargs)
    with tempfile.TemporaryDirectory(prefix="ldbench-tok-") as tmp:
        write_sd_tokenizer_files(tmp)
        return CLIPTokenizer.from_pretrained(tmp, **kwargs)


# --------------------------------------------------------------------------------------------------
# the tiny model


def _merged_tiny_config(cfg: dict | None) -> dict:
    merged = copy.deepcopy(DEFAULT_TINY_CONFIG)
    for key, value in (cfg or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def build_tiny_components(cfg: dict | None, seed: int) -> Components:
    """A random-init small Stable-Diffusion-architecture model; the same for the same (cfg, seed).

    ``cfg`` is ``base_model.embedded`` of the config (keys ``image_size``, ``vae``, ``text_encoder``,
    ``unet``; missing keys take :data:`DEFAULT_TINY_CONFIG`); extra keys in the three model sections
    go to the model constructors unchanged.  The global torch RNG is left untouched.
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    c = _merged_tiny_config(cfg)
    image_size = int(c["image_size"])
    vae_cfg = dict(c["vae"])
    te_cfg = dict(c["text_encoder"])
    unet_cfg = dict(c["unet"])
    n_vae_blocks = len(vae_cfg["block_out_channels"])
    vae_factor = 2 ** (n_vae_blocks - 1)
    if image_size % vae_factor:
        raise LdbenchError(f"base_model.embedded.image_size={image_size} is not divisible by the VAE's factor {vae_factor}")
    latent_size = image_size // vae_factor
    unet_factor = 2 ** (len(unet_cfg["block_out_channels"]) - 1)
    if latent_size % unet_factor:
        raise LdbenchError(
            f"latent size {latent_size} (image_size {image_size} / VAE factor {vae_factor}) is not divisible "
            f"by the UNet's downsampling factor {unet_factor}"
        )
    tokenizer = build_sd_tokenizer()
    vocab_size = len(tokenizer)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            vae = AutoencoderKL(
                in_channels=3,
                out_channels=3,
                down_block_types=["DownEncoderBlock2D"] * n_vae_blocks,
                up_block_types=["UpDecoderBlock2D"] * n_vae_blocks,
                sample_size=image_size,
                scaling_factor=vae_cfg.pop("scaling_factor", 0.18215),
                **vae_cfg,
            )
            text_encoder = CLIPTextModel(
                CLIPTextConfig(
                    vocab_size=vocab_size,
                    max_position_embeddings=tokenizer.model_max_length,
                    hidden_act=te_cfg.pop("hidden_act", "quick_gelu"),
                    bos_token_id=tokenizer.bos_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=1,
                    **te_cfg,
                )
            )
            unet = UNet2DConditionModel(
                sample_size=latent_size,
                in_channels=vae.config.latent_channels,
                out_channels=vae.config.latent_channels,
                cross_attention_dim=text_encoder.config.hidden_size,
                **unet_cfg,
            )
    except (TypeError, ValueError) as err:
        raise LdbenchError(f"base_model.embedded: invalid model settings: {err}") from err
    ddpm_keys = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type", "clip_sample", "steps_offset")
    noise_scheduler = DDPMScheduler(**{k: SD15_SCHEDULER_CONFIG[k] for k in ddpm_keys})
    # kept in the saved config so DDIM/PNDM .from_config(...) give SD 1.5's inference schedulers
    noise_scheduler.register_to_config(set_alpha_to_one=False, skip_prk_steps=True)
    for model in (vae, text_encoder, unet):
        model.eval()
    return Components(vae=vae, unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, noise_scheduler=noise_scheduler)


# --------------------------------------------------------------------------------------------------
# loading


def missing_parts(folder: str | os.PathLike) -> list[str]:
    """What a local model folder lacks compared with the SD 1.5 layout (empty list: complete)."""
    folder = Path(folder)
    missing: list[str] = []
    for sub, alternatives in _CONFIG_FILES.items():
        d = folder / sub
        if not d.is_dir():
            missing.append(f"{sub}/")
            continue
        if not any(all((d / f).is_file() for f in alt) for alt in alternatives):
            missing.append(" or ".join(" + ".join(f"{sub}/{f}" for f in alt) for alt in alternatives))
        if sub in _WEIGHT_FILES and not any((d / f).is_file() for f in _WEIGHT_FILES[sub]):
            missing.append(f"{sub}/{_WEIGHT_FILES[sub][0]} (or {_WEIGHT_FILES[sub][1]})")
    return missing


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise LdbenchError(f"model folder {folder} does not exist\n{EXPECTED_LAYOUT}")
    if not folder.is_dir():
        raise LdbenchError(f"model source {folder} is a file, not a folder\n{EXPECTED_LAYOUT}")
    missing = missing_parts(folder)
    if missing:
        raise LdbenchError(f"model folder {folder} is incomplete; missing: {', '.join(missing)}\n{EXPECTED_LAYOUT}")


_HUB_IGNORE = ["*.ckpt", "*.msgpack", "*.onnx", "*.onnx_data", "*.h5", "*.pb", "*fp16*", "*non_ema*", "*.bin"]
_HUB_ALLOW = ["model_index.json", "vae/*", "unet/*", "text_encoder/*", "tokenizer/*", "scheduler/*"]


def resolve_source(source: str | os.PathLike) -> Path:
    """A local model folder for ``source``: the folder itself, or the hub snapshot of a hub id.

    Hub ids are fetched with one ``snapshot_download`` (or found in the Hugging Face cache; set
    ``HF_HUB_OFFLINE=1`` to use the cache without any network call), safetensors weights only, with
    ``.bin`` weights as the fallback for repositories that have no safetensors.  Either way the
    folder is checked against the SD 1.5 layout and a missing part raises ``LdbenchError``.
    """
    if not is_hub_id(source):
        folder = Path(source)
        _check_folder(folder)
        return folder
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(str(source), allow_patterns=_HUB_ALLOW, ignore_patterns=_HUB_IGNORE))
        if missing_parts(folder):
            ignore = [p for p in _HUB_IGNORE if p != "*.bin"]
            folder = Path(snapshot_download(str(source), allow_patterns=_HUB_ALLOW, ignore_patterns=ignore))
    except Exception as err:
        raise LdbenchError(
            f"could not fetch hub model {source} ({type(err).__name__}: {err}); without network access, "
            "download it elsewhere and set the model source to the local folder"
        ) from err
    _check_folder(folder)
    return folder


def load_components(source: str | os.PathLike, dtype: torch.dtype = torch.float32) -> Components:
    """Load a Stable Diffusion model: a local ``save_pretrained`` folder or a hub id.

    The training scheduler is read as a ``DDPMScheduler`` from ``scheduler/`` whatever class was
    saved there (SD 1.5 ships a PNDMScheduler config), as diffusers' training scripts do.  When the
    tokenizer has more tokens than the text encoder's embedding (placeholder tokens added but the
    text encoder saved without them) the embedding is resized; a text encoder with more rows than
    the tokenizer has tokens is an error (the token strings are lost).
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = resolve_source(source)
    where = f"hub model {source} ({folder})" if is_hub_id(source) else f"model folder {folder}"
    location = str(folder)
    try:
        tokenizer = CLIPTokenizer.from_pretrained(location, subfolder="tokenizer")
        text_encoder = CLIPTextModel.from_pretrained(location, subfolder="text_encoder", dtype=dtype)
        vae = AutoencoderKL.from_pretrained(location, subfolder="vae", torch_dtype=dtype)
        unet = UNet2DConditionModel.from_pretrained(location, subfolder="unet", torch_dtype=dtype)
        noise_scheduler = DDPMScheduler.from_pretrained(location, subfolder="scheduler")
    except LdbenchError:
        raise
    except Exception as err:
        raise LdbenchError(f"could not load {where}: {err}\n{EXPECTED_LAYOUT}") from err

    n_tokens = len(tokenizer)
    n_rows = text_encoder.get_input_embeddings().weight.shape[0]
    if n_tokens > n_rows:
        logger.warning("%s: tokenizer has %d tokens, text encoder %d embeddings; resizing", where, n_tokens, n_rows)
        text_encoder.resize_token_embeddings(n_tokens)
    elif n_tokens < n_rows:
        raise LdbenchError(
            f"{where}: the text encoder has {n_rows} token embeddings but the tokenizer only {n_tokens} tokens; "
            "save the tokenizer together with the text encoder after adding tokens"
        )
    for model in (vae, text_encoder, unet):
        model.eval()
    return Components(vae=vae, unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, noise_scheduler=noise_scheduler)


def read_metadata(source: str | os.PathLike) -> dict:
    """``ldbench.json`` of a local model folder, or ``{}`` (hub ids, folders without it)."""
    if is_hub_id(source):
        return {}
    path = Path(source) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise LdbenchError(f"{path}: not valid JSON ({err})") from err


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
