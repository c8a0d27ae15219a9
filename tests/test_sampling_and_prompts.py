"""Sampling with δ under DDIM and DDPM, shared noise across δ, gradient accumulation, prompts."""

import re

import pytest
import torch

from ldbench.methods import MethodConfig, get_strategy
from ldbench.prompts import DIVERSE_FRAMES, build_prompt
from ldbench.sample import generate, initial_noise
from ldbench.settings import PromptWording
from ldbench.train import TrainSettings, train


@pytest.mark.parametrize("scheduler", ["ddim", "ddpm"])
def test_generate_is_deterministic_and_delta_changes_output(tiny_components, scheduler):
    prompts = ["a brain MRI of a 70 year old female with Alzheimer's disease"] * 3
    kwargs = {"seed": 1, "scheduler_name": scheduler, "steps": 3, "guidance_scale": 2.0, "batch_size": 2}
    a = generate(tiny_components, prompts, delta=0.0, **kwargs)
    assert a.shape == (3, 3, 16, 16) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, generate(tiny_components, prompts, delta=0.0, **kwargs))
    assert not torch.equal(a, generate(tiny_components, prompts, delta=0.1, **kwargs))


def _reference_generate(components, prompts, delta, mode, scheduler_name, steps, guidance_scale, seed):
    """The drifted reverse process written out with diffusers' own scheduler.step: z_T = noise + δ, then
    per step the posterior draw plus δ_step (δ, 0 or δ/N); δ = 0 adds nothing at all."""
    from ldbench.encoding import PromptTable
    from ldbench.sample import decode, latent_shape, make_scheduler
    from ldbench.seeds import derive_seed

    scheduler = make_scheduler(components, scheduler_name)
    scheduler.set_timesteps(steps)
    step_delta = {"per_step": delta, "initial": 0.0, "per_step_total": delta / steps}[mode]
    embed = PromptTable(components, prompts)
    z = initial_noise(len(prompts), latent_shape(components), seed)
    per_channel = isinstance(delta, torch.Tensor)
    z = z + delta if per_channel or delta else z
    context = torch.cat([embed.uncond.expand(len(prompts), -1, -1), embed.embeddings(prompts)])
    generator = torch.Generator().manual_seed(derive_seed(seed, "step_noise", 0))
    with torch.no_grad():
        for t in scheduler.timesteps:
            eps_uncond, eps_cond = components.unet(scheduler.scale_model_input(torch.cat([z, z]), t), t, context).sample.chunk(2)
            z = scheduler.step(eps_uncond + guidance_scale * (eps_cond - eps_uncond), t, z, generator=generator).prev_sample
            z = z + step_delta if per_channel or step_delta else z
        return decode(components, z)


@pytest.mark.parametrize("scheduler", ["ddim", "ddpm"])
@pytest.mark.parametrize("mode", ["per_step", "initial", "per_step_total"])
@pytest.mark.parametrize("delta", [0.0, 0.1])
def test_every_sampling_path_is_the_drifted_reverse_process(tiny_components, scheduler, mode, delta):
    """generate (fast DDIM path or diffusers' step) against the process written out; δ = 0 bit-identical."""
    prompts = ["a brain MRI of a 70 year old female with Alzheimer's disease", "a brain MRI of a 60 year old male"]
    kwargs = {"scheduler_name": scheduler, "steps": 4, "guidance_scale": 2.0, "seed": 5}
    ours = generate(tiny_components, prompts, delta=delta, batch_size=2, inference_shift=mode, **kwargs)
    reference = _reference_generate(tiny_components, prompts, delta, mode, **kwargs)
    if delta == 0:
        assert torch.equal(ours, reference)
    else:
        torch.testing.assert_close(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scheduler", ["ddim", "ddpm"])
@pytest.mark.parametrize("mode", ["per_step", "initial", "per_step_total"])
def test_a_per_channel_delta_takes_the_same_reverse_process(tiny_components, scheduler, mode):
    """drift.shape channel: a (C, 1, 1) δ, alone or in a list beside a scalar (the δ search's batches), against the
    process written out; a per-channel δ with every channel equal is bit-identical to the scalar δ."""
    prompts = ["a brain MRI of a 70 year old female with Alzheimer's disease", "a brain MRI of a 60 year old male"]
    kwargs = {"scheduler_name": scheduler, "steps": 4, "guidance_scale": 2.0, "seed": 5}
    channels = tiny_components.unet.config.in_channels
    vector = torch.linspace(-0.1, 0.1, channels).view(-1, 1, 1)
    reference = _reference_generate(tiny_components, prompts, vector, mode, **kwargs)
    alone = generate(tiny_components, prompts, delta=vector, batch_size=2, inference_shift=mode, **kwargs)
    in_list = generate(tiny_components, prompts, delta=[0.05, vector], batch_size=3, inference_shift=mode, **kwargs)
    torch.testing.assert_close(alone, reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(in_list[1], reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(in_list[0], generate(tiny_components, prompts, delta=0.05, batch_size=2, inference_shift=mode, **kwargs), atol=1e-5, rtol=0)
    flat = generate(tiny_components, prompts, delta=torch.full((channels, 1, 1), 0.05), batch_size=2, inference_shift=mode, **kwargs)
    assert torch.equal(flat, generate(tiny_components, prompts, delta=0.05, batch_size=2, inference_shift=mode, **kwargs))


def test_initial_noise_is_independent_of_batching():
    whole = initial_noise(4, (4, 2, 2), seed=3)
    assert torch.equal(whole[2:], initial_noise(2, (4, 2, 2), seed=3, offset=2))


def test_gradient_accumulation_steps_the_optimizer_every_k_micro_batches(tiny_components, latent_set, tmp_path):
    strategy = get_strategy("basic_ft", MethodConfig(lr=1e-2))
    calls = []
    strategy.after_optimizer_step = lambda components: calls.append(1)
    settings = TrainSettings(steps=4, batch_size=2, lr=1e-2, seed=0, gradient_accumulation_steps=2, log_every=1)
    train(tiny_components, strategy, latent_set, settings, tmp_path / "w")
    assert len(calls) == 2


def test_prompts_carry_the_attributes_the_paper_varies():
    brain = {"age": 71.4, "sex": "F", "diagnosis": "AD"}
    assert build_prompt(brain, "brain", "brain MRI") == "a brain MRI of a 71 year old female with Alzheimer's disease"
    cxr = {"age": 64, "sex": "Male", "label_Cardiomegaly": 1, "label_Pleural Effusion": 1}
    assert build_prompt(cxr, "cxr", "<ld-cxr>") == "a <ld-cxr> of a 64 year old male with cardiomegaly and pleural effusion"
    assert build_prompt({"age": 30, "sex": "F"}, "cxr", "chest x-ray").endswith("with no finding")
    ignored = {"age": 30, "sex": "F", "label_Cardiomegaly": float("nan"), "label_Pleural Effusion": 1.0}  # uncertain_policy: ignore
    assert build_prompt(ignored, "cxr", "chest x-ray").endswith("with pleural effusion")
    with pytest.raises(ValueError, match="sex"):
        build_prompt({"age": 30, "sex": "unknown", "diagnosis": "CN"}, "brain", "brain MRI")


BRAIN_ROWS = [{"image": f"slices/{i}.png", "age": 60 + i, "sex": "FM"[i % 2], "diagnosis": ("CN", "MCI", "AD")[i % 3]} for i in range(60)]


def test_without_patient_information_a_prompt_states_the_finding_but_no_age_or_sex():
    for style in ("simple", "diverse"):
        for row in BRAIN_ROWS[:12]:
            prompt = build_prompt(row, "brain", "<ld-brain>", PromptWording(style, patient_info=False, seed=0))
            assert "<ld-brain>" in prompt and str(row["age"]) not in prompt
            assert not {"female", "male", "woman", "man"} & set(prompt.replace(",", " ").split())
    assert build_prompt(BRAIN_ROWS[2], "brain", "brain MRI", PromptWording("simple", False, seed=0)) == "a brain MRI with Alzheimer's disease"


def test_diverse_wording_is_seeded_per_image_keeps_the_modality_phrase_and_names_the_finding():
    from ldbench.kinds import get_kind

    diverse = PromptWording("diverse", patient_info=True, seed=3)
    prompts = [build_prompt(row, "brain", "sks brain MRI", diverse) for row in BRAIN_ROWS]
    assert prompts == [build_prompt(row, "brain", "sks brain MRI", diverse) for row in BRAIN_ROWS]  # same row, same words
    assert prompts != [build_prompt(row, "brain", "sks brain MRI", PromptWording("diverse", True, seed=4)) for row in BRAIN_ROWS]
    assert len(set(prompts)) == len(prompts) and all("sks brain MRI" in p and str(row["age"]) in p for p, row in zip(prompts, BRAIN_ROWS))
    synonyms = get_kind("brain").condition_synonyms
    for p, row in zip(prompts, BRAIN_ROWS):
        truth = get_kind("brain").condition_text(row)
        assert any(s in p for s in synonyms[truth])
    # every frame and more than one phrasing of each finding occur over 60 rows
    def pattern(frame: str) -> str:
        return re.escape(frame).replace(re.escape("{modality}"), re.escape("sks brain MRI")).replace(re.escape("{patient}"), ".+") \
            .replace(re.escape("{condition}"), ".+")
    assert all(any(re.fullmatch(pattern(f), p) for p in prompts) for f in DIVERSE_FRAMES)
    for truth, words in synonyms.items():
        used = {w for w in words for p, row in zip(prompts, BRAIN_ROWS) if get_kind("brain").condition_text(row) == truth and w in p}
        assert len(used) >= 2, truth
    # the dataset's own modality phrase (Basic FT's) gets synonyms too; a method's phrase ("sks brain MRI" above) never does
    plain = [build_prompt(row, "brain", "brain MRI", diverse) for row in BRAIN_ROWS]
    used = {m for m in get_kind("brain").modality_synonyms["brain MRI"] if any(m in p for p in plain)}
    assert len(used) >= 3 and all(any(m in p for m in used) for p in plain)
    # a counterfactual's source and target prompts (same image, new diagnosis) differ only in the finding
    source, target = BRAIN_ROWS[0], {**BRAIN_ROWS[0], "diagnosis": "AD"}
    a, b = (build_prompt(r, "brain", "brain MRI", diverse) for r in (source, target))
    assert a != b and a.replace(next(s for s in synonyms["no cognitive impairment"] if s in a), "X") == \
        b.replace(next(s for s in synonyms["Alzheimer's disease"] if s in b), "X")


def test_ageing_instructions_state_the_years_as_a_number_a_word_or_a_bin():
    from ldbench.stages.ageing import instruction, null_instruction, years_asked, years_phrase
    from ldbench.utils import LdbenchError

    pair = {"age_young": 71.2, "age_old": 74.4}  # a 3.2-year gap: 3 years asked
    assert years_asked(pair) == 3 and years_asked({"age_young": 70.0, "age_old": 70.3}) == 1  # never 0: the null edit asks for that
    assert instruction(pair, "brain MRI", "number") == "make the brain MRI 3 years older"
    assert instruction(pair, "brain MRI", "word") == "make the brain MRI three years older"
    assert instruction(pair, "brain MRI", "bin") == "make the brain MRI 3 to 4 years older"
    assert [years_phrase(y, "bin") for y in (1, 2, 5, 9, 10, 25)] == ["1 to 2 years"] * 2 + ["5 to 9 years"] * 2 + ["10 or more years"] * 2
    assert years_phrase(1, "word") == "one year" and years_phrase(1, "number") == "1 year" and years_phrase(23, "word") == "23 years"
    assert {null_instruction("brain MRI", e) for e in ("number", "word", "bin")} == {
        "make the brain MRI 0 years older", "make the brain MRI zero years older"}
    with pytest.raises(LdbenchError, match="ageing.encodings"):
        years_phrase(3, "roman")


def test_a_model_samples_in_the_wording_it_was_fine_tuned_in():
    import pandas as pd

    from ldbench.stages.common import model_prompts, prompts_for

    rows = pd.DataFrame(BRAIN_ROWS[:6])
    diverse = PromptWording("diverse", patient_info=False, seed=0)
    recorded = {"modality_phrase": "<ld-brain>", "prompts": diverse.to_params()}  # what finetune writes into the model's metadata
    assert model_prompts(rows, "brain", recorded) == prompts_for(rows, "brain", "<ld-brain>", diverse)
    older = {"modality_phrase": "brain MRI"}  # fine-tuned before wordings existed: the one template of then
    assert model_prompts(rows, "brain", older)[0] == "a brain MRI of a 60 year old female with no cognitive impairment"
