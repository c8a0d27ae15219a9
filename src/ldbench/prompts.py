"""One documented prompt template per dataset, built from a slice-table row.

The paper's prompt ablation found "patient information (age, sex, diagnosis)" best; the exact
strings are unpublished, so the template below is this pipeline's documented choice:

    brain:  "a {modality} of a {age} year old {sex} with {diagnosis}"
            e.g. "a brain MRI of a 71 year old female with Alzheimer's disease"
    cxr:    "a {modality} of a {age} year old {sex} with {findings}"
            e.g. "a chest x-ray of a 64 year old male with cardiomegaly and pleural effusion"

``modality`` is the dataset's phrase ("brain MRI", "chest x-ray"); fine-tuning methods replace it
by their own phrase (DreamBooth's "sks brain MRI", Textual Inversion's placeholder token, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

DIAGNOSIS_TEXT = {
    "CN": "no cognitive impairment",
    "MCI": "mild cognitive impairment",
    "AD": "Alzheimer's disease",
}

#: CheXpert findings rendered by the phantom and used as classifier targets, in prompt order.
CXR_FINDINGS = ("Cardiomegaly", "Pleural Effusion", "Consolidation", "Pneumonia", "Support Devices")

TEMPLATE = "a {modality} of a {age} year old {sex} with {condition}"


def _sex_word(sex: str) -> str:
    s = str(sex).strip().lower()
    if s in {"f", "female"}:
        return "female"
    if s in {"m", "male"}:
        return "male"
    raise ValueError(f"sex must be one of F/M/Female/Male, got {sex!r}")


def condition_text(row: Mapping, kind: str) -> str:
    """The disease part of the prompt: diagnosis for brain, findings for chest X-ray."""
    if kind == "brain":
        return DIAGNOSIS_TEXT[str(row["diagnosis"])]
    if kind == "cxr":
        present = [f.lower() for f in CXR_FINDINGS if int(row.get(f"label_{f}", 0)) == 1]
        if not present:
            return "no finding"
        return " and ".join([", ".join(present[:-1]), present[-1]] if len(present) > 1 else present)
    raise ValueError(f"unknown dataset kind {kind!r} (expected 'brain' or 'cxr')")


def build_prompt(row: Mapping, kind: str, modality: str) -> str:
    """Prompt for one slice-table row with the given modality phrase."""
    return TEMPLATE.format(
        modality=modality,
        age=int(round(float(row["age"]))),
        sex=_sex_word(row["sex"]),
        condition=condition_text(row, kind),
    )
