"""Prompts built from a slice-table row, in the wordings of the paper's prompt ablation.

The paper's prompt ablation crossed simple vs diverse wording with and without patient
information (age, sex) and found "diverse wording + patient information" best. Its strings are
unpublished, so the templates below are this pipeline's documented choice (``prompts.style`` and
``prompts.patient_info``; the ablation runs all four):

* simple, with patient information (the default):
  "a {modality} of a {age} year old {sex} with {condition}",
  e.g. "a brain MRI of a 71 year old female with Alzheimer's disease"
* simple, without: "a {modality} with {condition}"
* diverse: per row, one of the :data:`DIVERSE_FRAMES` (with or without the patient), with the
  modality, age, sex and condition each phrased by one of their synonyms (the kind's
  ``modality_synonyms``, :data:`PATIENT_PHRASES`, :data:`SEX_WORDS`, the kind's
  ``condition_synonyms``). The choice is seeded by ``prompts.seed`` and the row's
  image, so a slice gets the same wording when fine-tuning and when its prompt is sampled, and the
  source and target prompts of a counterfactual edit share their frame.

``condition`` is the dataset kind's (``ldbench.kinds``): the diagnosis for brain MRI, the findings
for chest X-ray; every wording keeps it, since it is the class a sample is generated for.
``modality`` is the phrase of the fine-tuning method (the dataset's "brain MRI", DreamBooth's
"sks brain MRI", Textual Inversion's placeholder token, ...). Diverse wording replaces it by a
synonym only where the kind lists the phrase itself (``modality_synonyms``: "brain MRI" → "MRI of
the brain", ...: Basic FT's and LoRA's phrase); a method's own phrase is kept verbatim, so a learned
token stays in every prompt, and only the frame around it varies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from .kinds import get_kind
from .seeds import derive_seed
from .settings import PromptWording

#: ``prompts``' defaults (simple wording with the patient): the one template of models fine-tuned before wordings existed
DEFAULT_WORDING = PromptWording(style="simple", patient_info=True, seed=0)
TEMPLATE = "a {modality} of a {age} year old {sex} with {condition}"
TEMPLATE_NO_PATIENT = "a {modality} with {condition}"

#: diverse wording: frames with the patient ({patient} is one of :data:`PATIENT_PHRASES`)
DIVERSE_FRAMES = (
    "a {modality} of a {patient} with {condition}",
    "{modality} of a {patient}, showing {condition}",
    "a {modality} showing {condition} in a {patient}",
    "{condition}: {modality} of a {patient}",
)
#: diverse wording without the patient
DIVERSE_FRAMES_NO_PATIENT = (
    "a {modality} with {condition}",
    "a {modality} showing {condition}",
    "{modality}, {condition}",
    "{condition} on a {modality}",
)
#: ways to state the patient's age ({n} years) and sex
PATIENT_PHRASES = ("{n} year old {sex}", "{n}-year-old {sex}", "{sex} aged {n}")
#: ways to state the sex, per sex
SEX_WORDS = {"female": ("female", "woman", "female patient"), "male": ("male", "man", "male patient")}


def _sex_word(sex: str) -> str:
    s = str(sex).strip().lower()
    if s in {"f", "female"}:
        return "female"
    if s in {"m", "male"}:
        return "male"
    raise ValueError(f"sex must be one of F/M/Female/Male, got {sex!r}")


def _diverse(row: Mapping, kind: str, modality: str, wording: PromptWording) -> str:
    key = row.get("image", "|".join(str(row.get(c, "")) for c in ("subject", "visit", "age", "sex")))
    rng = np.random.default_rng(derive_seed(wording.seed, "prompt", key))
    # every draw is made whatever the wording, so a row's frame does not depend on patient_info or its labels
    frame_index, patient_index, sex_index = (int(rng.integers(n)) for n in (len(DIVERSE_FRAMES), len(PATIENT_PHRASES), 3))
    modalities = get_kind(kind).modality_synonyms.get(modality, (modality,))  # a method's own phrase ("sks brain MRI", a token) stays
    modality = modalities[int(rng.integers(len(modalities)))]
    synonyms = get_kind(kind).condition_synonyms
    condition = get_kind(kind).condition_text(row)
    if synonyms:  # one pass, longest term first, so a synonym is never rewritten again
        terms = "|".join(map(re.escape, sorted(synonyms, key=len, reverse=True)))
        condition = re.sub(terms, lambda m: synonyms[m.group(0)][int(rng.integers(len(synonyms[m.group(0)])))], condition)
    if not wording.patient_info:
        return DIVERSE_FRAMES_NO_PATIENT[frame_index].format(modality=modality, condition=condition)
    patient = PATIENT_PHRASES[patient_index].format(n=int(round(float(row["age"]))), sex=SEX_WORDS[_sex_word(row["sex"])][sex_index])
    return DIVERSE_FRAMES[frame_index].format(modality=modality, patient=patient, condition=condition)


def build_prompt(row: Mapping, kind: str, modality: str, wording: PromptWording = DEFAULT_WORDING) -> str:
    """Prompt for one slice-table row of a dataset of ``kind`` with the given modality phrase and wording."""
    if wording.style == "diverse":
        return _diverse(row, kind, modality, wording)
    condition = get_kind(kind).condition_text(row)
    if not wording.patient_info:
        return TEMPLATE_NO_PATIENT.format(modality=modality, condition=condition)
    return TEMPLATE.format(modality=modality, age=int(round(float(row["age"]))), sex=_sex_word(row["sex"]), condition=condition)
