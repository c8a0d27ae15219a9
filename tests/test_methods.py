"""Each method trains exactly the parameters it should; the engine resumes bit-exactly."""

import pytest
import torch

from ldbench.methods import MethodConfig, get_strategy
from ldbench.train import TrainSettings, train


def _snapshot(components):
    return {
        f"{part}.{name}": p.detach().clone()
        for part in ("vae", "unet", "text_encoder")
        for name, p in getattr(components, part).named_parameters()
    }


def _changed(before, components):
    after = _snapshot(components)
    return {name for name, value in before.items() if name in after and (after[name].shape != value.shape or not torch.equal(after[name], value))}


def _run(components, method, data, tmp_path, steps=3, **cfg):
    strategy = get_strategy(method, MethodConfig(lr=1e-2, **cfg, options={"placeholder_token": "<ld-brain>", "initializer_token": "scan"} if method != "basic_ft" else {}))
    settings = TrainSettings(steps=steps, batch_size=2, lr=1e-2, seed=0, delta=0.1, log_every=1)
    return strategy, train(components, strategy, data, settings, tmp_path / "work")


def test_basic_ft_trains_whole_unet_only(tiny_components, latent_set, tmp_path):
    before = _snapshot(tiny_components)
    _run(tiny_components, "basic_ft", latent_set, tmp_path)
    changed = _changed(before, tiny_components)
    assert changed and all(name.startswith("unet.") for name in changed)
    assert len(changed) > 0.9 * sum(1 for n in before if n.startswith("unet."))


def test_textual_inversion_changes_only_the_new_embedding_row(tiny_components, latent_set, tmp_path):
    emb_before = tiny_components.text_encoder.get_input_embeddings().weight.detach().clone()
    before = _snapshot(tiny_components)
    strategy, _ = _run(tiny_components, "textual_inversion", latent_set, tmp_path)
    emb_after = tiny_components.text_encoder.get_input_embeddings().weight.detach()
    new_id = strategy.token_ids[0]
    assert new_id == emb_before.shape[0]  # one row appended
    assert torch.equal(emb_after[:new_id], emb_before)  # every other embedding bit-identical
    assert not torch.equal(emb_after[new_id], emb_before[tiny_components.tokenizer.convert_tokens_to_ids("scan</w>")])
    changed = _changed(before, tiny_components)
    assert len(changed) == 1 and next(iter(changed)).endswith("embeddings.token_embedding.weight")


def test_custom_diffusion_changes_only_cross_attention_kv_and_new_token(tiny_components, latent_set, tmp_path):
    emb_before = tiny_components.text_encoder.get_input_embeddings().weight.detach().clone()
    before = _snapshot(tiny_components)
    strategy, _ = _run(tiny_components, "custom_diffusion", latent_set, tmp_path)
    changed = {n for n in _changed(before, tiny_components) if not n.endswith("embeddings.token_embedding.weight")}
    assert changed and all(".attn2.to_k." in n or ".attn2.to_v." in n for n in changed)
    emb_after = tiny_components.text_encoder.get_input_embeddings().weight.detach()
    assert torch.equal(emb_after[: strategy.token_ids[0]], emb_before)


def test_dreambooth_with_prior_trains_unet_only(tiny_components, latent_set, tmp_path):
    before = _snapshot(tiny_components)
    strategy = get_strategy("dreambooth", MethodConfig(lr=1e-2, prior_loss_weight=1.0))
    assert strategy.modality_phrase("brain MRI") == "sks brain MRI"  # the identifier's schema default
    assert strategy.uses_class_images
    settings = TrainSettings(steps=2, batch_size=2, lr=1e-2, seed=0, log_every=1)
    summary = train(tiny_components, strategy, latent_set, settings, tmp_path / "work", prior=latent_set)
    assert torch.isfinite(torch.tensor(summary["final_loss"]))
    assert all(name.startswith("unet.") for name in _changed(before, tiny_components))


class _Killed(Exception):
    pass


def test_resume_from_checkpoint_equals_uninterrupted_run(_tiny_components, latent_set, tmp_path):
    import copy

    settings = TrainSettings(steps=4, batch_size=2, lr=1e-2, seed=0, delta=0.05, checkpoint_every=2, log_every=1)
    reference = copy.deepcopy(_tiny_components)
    train(reference, get_strategy("basic_ft", MethodConfig(lr=1e-2)), latent_set, settings, tmp_path / "ref")

    interrupted = copy.deepcopy(_tiny_components)
    strategy = get_strategy("basic_ft", MethodConfig(lr=1e-2))
    calls = {"n": 0}

    def die_at_step_3(components):
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Killed

    strategy.after_optimizer_step = die_at_step_3
    with pytest.raises(_Killed):
        train(interrupted, strategy, latent_set, settings, tmp_path / "work")
    assert (tmp_path / "work" / "checkpoint-2").is_dir()

    resumed = copy.deepcopy(_tiny_components)
    summary = train(resumed, get_strategy("basic_ft", MethodConfig(lr=1e-2)), latent_set, settings, tmp_path / "work")
    assert summary["resumed_from_step"] == 2
    for (name, a), (_, b) in zip(reference.unet.named_parameters(), resumed.unet.named_parameters()):
        assert torch.equal(a, b), name


def test_lora_trains_adapters_and_merges_them_into_the_attention_projections(tiny_components, latent_set, tmp_path):
    before = _snapshot(tiny_components)
    strategy = get_strategy("lora", MethodConfig(lr=1e-2, options={"rank": 2}))
    settings = TrainSettings(steps=3, batch_size=2, lr=1e-2, seed=0, delta=0.1, log_every=1)
    train(tiny_components, strategy, latent_set, settings, tmp_path / "work")
    after = _snapshot(tiny_components)
    assert set(after) == set(before)  # adapters merged and removed: the UNet saves and loads as before
    changed = _changed(before, tiny_components)
    assert changed and all(n.startswith("unet.") and any(f".{m}." in n for m in ("to_q", "to_k", "to_v", "to_out.0")) for n in changed)
    assert all(n.endswith(".weight") for n in changed)  # LoRA adapts weights, never biases


def test_registry_derives_methods_titles_and_config_blocks():
    from ldbench.config import config_schema
    from ldbench.methods import finetuning_methods

    methods = finetuning_methods()
    assert list(methods) == ["custom_diffusion", "dreambooth", "textual_inversion", "basic_ft", "lora"]  # Table 1's order
    schema = config_schema()
    assert schema["definitions"]["method"]["enum"] == list(methods)
    assert schema["properties"]["finetune"]["properties"]["lora"]["properties"]["rank"]["default"] == 4
    # the recipes' own defaults: Textual Inversion scales its rate and does not clip; Custom Diffusion keeps a prior
    ti = schema["properties"]["finetune"]["properties"]["textual_inversion"]["properties"]
    assert ti["scale_lr"]["default"] is True and ti["max_grad_norm"]["default"] is None
    cd = schema["properties"]["finetune"]["properties"]["custom_diffusion"]["properties"]
    assert cd["scale_lr"]["default"] is True and cd["prior_loss_weight"]["default"] == 1.0
