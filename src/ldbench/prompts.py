"""One documented prompt template, built from a slice-table row.

The paper's prompt ablation found "patient information (age, sex, diagnosis)" best; the exact
strings are unpublished, so the template below is this pipeline's documented choice:

    "a {modality} of a {age} year old {sex} with {condition}"
    e.g. "a brain MRI of a 71 year old female with Alzheimer's disease"
         "a chest x-ray of a 64 year old male with cardiomegaly and pleural effusion"

``condition`` is the dataset kind's (``ldbench.kinds``): the diagnosis for brain MRI, the findings
for chest X-ray. ``modality`` is the dataset's phrase ("brain MRI", "chest x-ray"); fine-tuning
methods replace it by their own phrase (DreamBooth's "sks brain MRI", Textual Inversion's
placeholder token, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

from .kinds import get_kind

TEMPLATE = "a {modality} of a {age} year old {sex} with {condition}"


def _sex_word(sex: str) -> str:
    s = str(sex).strip().lower()
    if s in {"f", "female"}:
        return "female"
    if s in {"m", "male"}:
        return "male"
    raise ValueError(f"sex must be one of F/M/Female/Male, got {sex!r}")


def build_prompt(row: Mapping, kind: str, modality: str) -> str:
    """Prompt for one slice-table row of a dataset of ``kind`` with the given modality phrase."""
    return TEMPLATE.format(
        modality=modality,
        age=int(round(float(row["age"]))),
        sex=_sex_word(row["sex"]),
        condition=get_kind(kind).condition_text(row),
    )
