"""Base model building, saving and loading (models.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from ldbench.models import (
    build_sd_tokenizer,
    build_tiny_components,
    load_components,
    read_metadata,
)
from ldbench.utils import LdbenchError

MEDICAL_SENTENCES = [
    "a brain MRI of a 71 year old female with Alzheimer's disease",
    "Chest X-ray: cardiomegaly, pleural effusion; support devices!!",
    "an axial T1-weighted slice, mild cognitive impairment (MCI), age 83",
    "  several   spaces\tand CAPITALS, 12.5 mm ventricles ",
]


@pytest.fixture(scope="module")
def tokenizer():
    return build_sd_tokenizer()


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_components({}, seed=0)


@pytest.fixture(scope="module")
def saved(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "base"
    tiny.save_pretrained(out, metadata={"kind": "tiny", "seed": 0})
    return out


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_tokenizer_matches_sd15_ids(tokenizer):
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert len(tokenizer) == 49408
    assert tokenizer.model_max_length == 77
    assert tokenizer.pad_token == "<|endoftext|>" and tokenizer.pad_token_id == 49407
    assert tokenizer.bos_token_id == 49406 and tokenizer.eos_token_id == 49407
    padded = tokenizer("a photo of a cat", padding="max_length", max_length=77, truncation=True).input_ids
    assert len(padded) == 77 and padded[7:] == [49407] * 70


def test_tokenizer_matches_open_clip(tokenizer):
    from open_clip.tokenizer import SimpleTokenizer

    reference = SimpleTokenizer()
    for text in MEDICAL_SENTENCES:
        expected = [reference.sot_token_id] + reference.encode(text) + [reference.eot_token_id]
        assert tokenizer(text).input_ids == expected, text


def test_tokenizer_cache_dir(tmp_path):
    cache = tmp_path / "tok"
    first = build_sd_tokenizer(cache)
    assert (cache / "vocab.json").is_file()
    merges = (cache / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert merges[0] == "#version: 0.2" and len(merges) == 1 + 49152 - 256 - 2
    vocab = json.loads((cache / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407 and vocab["cat</w>"] == 2368
    second = build_sd_tokenizer(cache)  # reuses the files
    assert first("a cat").input_ids == second("a cat").input_ids


def test_build_is_deterministic(tiny):
    again = build_tiny_components({}, seed=0)
    other = build_tiny_components({}, seed=1)
    assert _same_weights(tiny.unet, again.unet)
    assert _same_weights(tiny.vae, again.vae)
    assert _same_weights(tiny.text_encoder, again.text_encoder)
    assert not _same_weights(tiny.unet, other.unet)


def test_tiny_architecture(tiny):
    assert type(tiny.unet).__name__ == "UNet2DConditionModel"
    assert type(tiny.vae).__name__ == "AutoencoderKL"
    assert type(tiny.text_encoder).__name__ == "CLIPTextModel"
    assert type(tiny.noise_scheduler).__name__ == "DDPMScheduler"
    assert tiny.unet.config.cross_attention_dim == tiny.text_encoder.config.hidden_size == 64
    assert tiny.unet.config.sample_size == 16 and tiny.vae.config.latent_channels == 4
    sched = tiny.noise_scheduler.config
    assert (sched.beta_start, sched.beta_end, sched.beta_schedule) == (0.00085, 0.012, "scaled_linear")
    assert sched.num_train_timesteps == 1000 and sched.prediction_type == "epsilon"
    with torch.no_grad():
        latents = tiny.vae.encode(torch.zeros(1, 3, 64, 64)).latent_dist.mode()
    assert latents.shape == (1, 4, 16, 16)


def test_bad_tiny_config():
    with pytest.raises(LdbenchError, match="base_model.embedded"):
        build_tiny_components({"unet": {"no_such_option": 3}}, seed=0)


def test_saved_folder_loads_in_stable_diffusion_pipeline(saved):
    from diffusers import StableDiffusionPipeline

    for sub in ("vae", "unet", "text_encoder", "tokenizer", "scheduler"):
        assert (saved / sub).is_dir()
    index = json.loads((saved / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert index["safety_checker"] == [None, None]
    pipe = StableDiffusionPipeline.from_pretrained(saved)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        "a photo of a cat",
        num_inference_steps=2,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    ).images
    assert out.shape == (1, 64, 64, 3)
    assert read_metadata(saved) == {"kind": "tiny", "seed": 0}


def test_load_components_roundtrip(tiny, saved):
    loaded = load_components(saved)
    assert _same_weights(tiny.unet, loaded.unet)
    assert _same_weights(tiny.vae, loaded.vae)
    assert _same_weights(tiny.text_encoder, loaded.text_encoder)
    assert loaded.tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert loaded.tokenizer.model_max_length == 77
    assert type(loaded.noise_scheduler).__name__ == "DDPMScheduler"
    assert loaded.noise_scheduler.config.beta_schedule == "scaled_linear"
    assert _same_weights(load_components(str(saved)).unet, tiny.unet)  # and as str


def test_load_components_missing_parts(saved, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(saved, broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(LdbenchError, match="unet") as err:
        load_components(broken)
    assert "vae" not in str(err.value).split("missing:")[1].split("\n")[0]
    assert "expected a Stable Diffusion 1.5 folder" in str(err.value)

    shutil.copytree(saved / "unet", broken / "unet")
    (broken / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(LdbenchError, match="vae/diffusion_pytorch_model"):
        load_components(broken)

    with pytest.raises(LdbenchError, match="does not exist"):
        load_components(tmp_path / "nowhere" / "model")
    assert read_metadata(tmp_path / "nowhere") == {}
    assert read_metadata("runwayml/stable-diffusion-v1-5") == {}


def test_added_token_survives_save_and_load(tmp_path):
    comps = build_tiny_components({}, seed=3)
    assert comps.tokenizer.add_tokens(["<sks>"]) == 1
    comps.text_encoder.resize_token_embeddings(len(comps.tokenizer))
    token_id = comps.tokenizer.convert_tokens_to_ids("<sks>")
    assert token_id == 49408
    with torch.no_grad():
        comps.text_encoder.get_input_embeddings().weight[token_id] = 0.5
    comps.save_pretrained(tmp_path / "ti", metadata={"method": "ti"})
    loaded = load_components(tmp_path / "ti")
    assert len(loaded.tokenizer) == 49409
    ids = loaded.tokenizer("a <sks> brain").input_ids
    assert ids == [49406, 320, 49408, 4812, 49407]
    weight = loaded.text_encoder.get_input_embeddings().weight
    assert weight.shape[0] == 49409 and torch.all(weight[token_id] == 0.5)

    # tokenizer saved with the token, text encoder without it: the embedding is resized on load
    comps2 = build_tiny_components({}, seed=3)
    comps2.tokenizer.add_tokens(["<sks>"])
    comps2.save_pretrained(tmp_path / "partial")
    loaded2 = load_components(tmp_path / "partial")
    assert loaded2.text_encoder.get_input_embeddings().weight.shape[0] == len(loaded2.tokenizer) == 49409


def test_config_is_checked_against_the_model_before_any_training(tmp_path, _tiny_components):
    """A user model folder (SD layout, save_pretrained) whose native size is not image_size stops at validation."""
    from ldbench.config import read_config_files, validate_config

    folder = tmp_path / "user_model"
    _tiny_components.save_pretrained(folder)  # 16 px: 8×8 latents, VAE factor 2
    config = read_config_files([Path(__file__).resolve().parents[1] / "config.yaml"])
    config["base_model"] = {"source": str(folder)}
    config["image_size"] = 32
    with pytest.raises(LdbenchError, match=r"image_size: 32 does not match .* 8×8 latents .* set image_size: 16"):
        validate_config(json.loads(json.dumps(config)))
    config["image_size"] = 16
    validate_config(json.loads(json.dumps(config)))
    unet_config = folder / "unet" / "config.json"
    unet_config.write_text(json.dumps({**json.loads(unet_config.read_text()), "cross_attention_dim": 768}))
    with pytest.raises(LdbenchError, match="cross-attention width 768 but a text encoder of width 16"):
        validate_config(json.loads(json.dumps(config)))
