"""Brain MRI: T1w volumes (OASIS-3, ADNI or the MNI152-based phantom) → ventricle-level axial slices."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import CounterfactualTask, DatasetKind, GroundTruth

if TYPE_CHECKING:
    from ..data.drops import DropLog

DIAGNOSES = ("CN", "MCI", "AD")
DIAGNOSIS_TEXT = {
    "CN": "no cognitive impairment",
    "MCI": "mild cognitive impairment",
    "AD": "Alzheimer's disease",
}
#: grey-level difference (0–255) above which a pixel counts as changed by a counterfactual
CHANGE_THRESHOLD = 8


class Brain(DatasetKind):
    name = "brain"
    real_sources = ("oasis3", "adni")
    required_columns = (*DatasetKind.required_columns, "diagnosis")
    options_schema: ClassVar[dict] = {
        "clinical_csv": {"type": ["string", "null"], "default": None,
                         "description": "OASIS-3 clinical CSV / ADNIMERGE CSV (real data; OASIS-3 default: <root>/clinical.csv)"},
        "slice_offset_mm": {"type": "number", "minimum": -40, "maximum": 40, "default": 0.0,
                            "description": "axial slice position relative to the lateral ventricles"},
    }
    phantom_schema: ClassVar[dict] = {
        "n_subjects": {"type": "integer", "minimum": 4, "default": 160, "description": "phantom subjects"},
        "visits": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 10}, "minItems": 2, "maxItems": 2,
                   "default": [2, 4], "description": "[min, max] visits per subject"},
    }
    age_bins = (0, 70, 80, 200)
    modality_synonyms: ClassVar[dict] = {"brain MRI": ("brain MRI", "MRI of the brain", "T1-weighted brain MRI", "brain MR image")}
    condition_synonyms: ClassVar[dict] = {
        "no cognitive impairment": ("no cognitive impairment", "normal cognition", "no signs of dementia"),
        "mild cognitive impairment": ("mild cognitive impairment", "MCI", "mild memory impairment"),
        "Alzheimer's disease": ("Alzheimer's disease", "Alzheimer's dementia", "AD"),
    }
    counterfactual_tasks = (
        CounterfactualTask("CN → AD", "diagnosis == 'CN'", {"diagnosis": "AD"}, {"diagnosis": "AD"}, "label_AD", 1, "diagnosis == 'AD'"),
        CounterfactualTask("AD → CN", "diagnosis == 'AD'", {"diagnosis": "CN"}, {"diagnosis": "CN"}, "label_AD", 0, "diagnosis == 'CN'"),
    )

    def phantom_arguments(self, phantom: Mapping[str, Any], seed: int, image_size: int) -> dict[str, Any]:
        return {"n": phantom["n_subjects"], "seed": seed, "visits": tuple(phantom["visits"])}

    def make_phantom(self, out_root: Path, arguments: Mapping[str, Any]) -> None:
        from ..data.phantoms.brain import make_brain_phantom_dataset

        make_brain_phantom_dataset(Path(out_root), n_subjects=arguments["n"], seed=arguments["seed"], visits=arguments["visits"])

    def read_source(self, source: str, root: Path, options: Mapping[str, Any], drops: DropLog | None = None) -> Any:
        from ..utils import LdbenchError

        clinical = Path(options["clinical_csv"]) if options.get("clinical_csv") else None
        if source in ("phantom", "oasis3"):  # the phantom is written in OASIS-3's layout
            from ..data.adapters.oasis3 import read_oasis3

            return read_oasis3(Path(root), clinical, drops=drops)
        if source == "adni":
            from ..data.adapters.adni import read_adni

            if clinical is None:
                raise LdbenchError("datasets.*.clinical_csv must name the ADNIMERGE CSV for source: adni")
            return read_adni(Path(root), clinical, drops=drops)
        raise LdbenchError(f"unknown brain source {source!r}; expected one of {self.sources}")

    def slice_name(self, row: Any) -> str:
        return f"{row.subject}_{row.visit}"

    def load_pixels(self, path: str, image_size: int, options: Mapping[str, Any]) -> Any:
        from ..data.preprocess import brain_slice

        return brain_slice(path, image_size, options["slice_offset_mm"])

    def add_labels(self, table: Any, raw: Any) -> Any:
        from ..utils import LdbenchError

        dx = raw["diagnosis"].astype(str)
        if not dx.isin(DIAGNOSES).all():
            raise LdbenchError(f"brain diagnoses must be in {DIAGNOSES}, got {sorted(set(dx) - set(DIAGNOSES))}")
        table["diagnosis"] = dx
        for d in DIAGNOSES:
            table[f"label_{d}"] = (dx == d).astype(int)
        return table

    def condition_text(self, row: Mapping[str, Any]) -> str:
        return DIAGNOSIS_TEXT[str(row["diagnosis"])]

    def overview_classes(self, slices: Any) -> list:
        return [(d, slices["diagnosis"] == d) for d in DIAGNOSES]

    def phantom_specs(self, arguments: Mapping[str, Any]) -> Any:
        import pandas as pd

        from ..data.phantoms.brain import draw_cohort

        c = draw_cohort(arguments["n"], arguments["seed"], arguments["visits"])
        return pd.DataFrame({"subject": c["subject"], "visit": [f"d{d:04d}" for d in c["days"]],
                             "age": c["age"], "sex": c["sex"], "diagnosis": c["diagnosis"], "spec": c["spec"]})

    def rerender(self, spec: Any, changes: Mapping[str, Any], image_size: int, options: Mapping[str, Any]) -> GroundTruth:
        import numpy as np
        from scipy import ndimage

        from ..data.groundtruth import brain_counterfactual

        factual, truth = brain_counterfactual(spec, image_size, options["slice_offset_mm"], **changes)
        changed = np.abs(truth.astype(int) - factual.astype(int)) > CHANGE_THRESHOLD
        return GroundTruth(factual, truth, ndimage.binary_dilation(changed, iterations=1))

    effect_measure = "lateral-ventricle area / brain area"

    def measure_effect(self, image: Any) -> float:
        """Lateral-ventricle area as a fraction of the brain's: CSF-dark pixels (below 0.55 × the brain's
        median) in the brain's central zone (deeper than 0.35 of its largest inset distance, which leaves
        out the sulci). Tracks the phantom's ventricle volume (tests/test_data_phantoms.py)."""
        import numpy as np
        from scipy import ndimage

        img = np.asarray(image, dtype=np.float32)
        labels, n = ndimage.label(img > 0.15 * np.percentile(img, 99))
        if n == 0:
            return float("nan")
        brain = ndimage.binary_fill_holes(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
        depth = ndimage.distance_transform_edt(brain)
        ventricles = (img < 0.55 * np.median(img[brain])) & (depth > 0.35 * depth.max())
        return float(ventricles.sum() / brain.sum())
