"""Chest X-ray: CheXpert radiographs (or the CheXpert-layout phantom) → square grayscale images."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import CounterfactualTask, DatasetKind, GroundTruth

if TYPE_CHECKING:
    from ..data.drops import DropLog

NO_FINDING = "No Finding"
#: CheXpert's 13 findings (its label columns but "No Finding"), in the order of its CSV: the slice
#: table's label columns, and the findings a prompt names
FINDINGS = ("Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema", "Consolidation", "Pneumonia",
            "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture", "Support Devices")
#: the rows of the data overview figure besides "No Finding"
OVERVIEW_FINDINGS = ("Cardiomegaly", "Pleural Effusion", "Consolidation", "Pneumonia", "Support Devices")


class Cxr(DatasetKind):
    name = "cxr"
    real_sources = ("chexpert",)
    options_schema: ClassVar[dict] = {
        "uncertain_policy": {"enum": ["zeros", "ones", "ignore"], "default": "zeros",
                             "description": "CheXpert's uncertain (−1) labels: U-Zeros, U-Ones, or ignored (NaN, masked out of the loss)"},
        "frontal_only": {"type": "boolean", "default": True, "description": "drop lateral views"},
    }
    phantom_schema: ClassVar[dict] = {
        "n_patients": {"type": "integer", "minimum": 8, "default": 600, "description": "phantom patients"},
    }
    age_bins = (0, 45, 65, 200)
    modality_synonyms: ClassVar[dict] = {"chest x-ray": ("chest x-ray", "chest radiograph", "frontal chest X-ray", "CXR")}
    condition_synonyms: ClassVar[dict] = {
        "no finding": ("no finding", "no acute findings", "a normal chest"),
        "cardiomegaly": ("cardiomegaly", "an enlarged heart", "an enlarged cardiac silhouette"),
        "pleural effusion": ("pleural effusion", "fluid in the pleural space"),
        "consolidation": ("consolidation", "airspace consolidation"),
        "pneumonia": ("pneumonia", "a pneumonic infiltrate"),
        "edema": ("edema", "pulmonary edema"),
        "support devices": ("support devices", "lines and tubes"),
    }
    counterfactual_tasks = (
        CounterfactualTask("No Finding → Cardiomegaly", "`label_No Finding` == 1", {"label_Cardiomegaly": 1, "label_No Finding": 0},
                           {"cardiomegaly": 0.8}, "label_Cardiomegaly", 1, "label_Cardiomegaly == 1"),
        CounterfactualTask("Cardiomegaly → No Finding", "label_Cardiomegaly == 1", {"label_Cardiomegaly": 0}, {"cardiomegaly": 0.0},
                           "label_Cardiomegaly", 0, "label_Cardiomegaly == 0"),
    )

    def phantom_arguments(self, phantom: Mapping[str, Any], seed: int, image_size: int) -> dict[str, Any]:
        # rendered at 4× the model size (at least 128 px) and downsampled by preprocessing, as real radiographs are
        return {"n": phantom["n_patients"], "seed": seed, "image_size": max(4 * image_size, 128)}

    def make_phantom(self, out_root: Path, arguments: Mapping[str, Any]) -> None:
        from ..data.phantoms.cxr import make_cxr_phantom_dataset

        make_cxr_phantom_dataset(Path(out_root), n_patients=arguments["n"], seed=arguments["seed"], image_size=arguments["image_size"])

    def read_source(self, source: str, root: Path, options: Mapping[str, Any], drops: DropLog | None = None) -> Any:
        from ..utils import LdbenchError

        if source in ("phantom", "chexpert"):  # the phantom is written in CheXpert-v1.0-small's layout
            from ..data.adapters.chexpert import read_chexpert

            return read_chexpert(Path(root), uncertain_policy=options["uncertain_policy"], frontal_only=options["frontal_only"], drops=drops)
        raise LdbenchError(f"unknown cxr source {source!r}; expected one of {self.sources}")

    def slice_name(self, row: Any) -> str:
        return f"{row.subject}_{row.visit}_{Path(str(row.path)).stem}"

    def load_pixels(self, path: str, image_size: int, options: Mapping[str, Any]) -> Any:
        from ..data.preprocess import cxr_image

        return cxr_image(path, image_size)

    def add_labels(self, table: Any, raw: Any) -> Any:
        """The findings' labels, and "No Finding" as CheXpert gives it (never derived: a support device
        does not make a study abnormal, and findings outside any list still do)."""
        for f in FINDINGS:
            col = f"label_{f}"
            table[col] = raw[col].astype(float) if col in raw.columns else 0.0
        present = table[[f"label_{f}" for f in FINDINGS]].fillna(0.0).to_numpy() == 1.0
        no_finding = f"label_{NO_FINDING}"
        table[no_finding] = raw[no_finding].astype(float) if no_finding in raw.columns else (~present.any(axis=1)).astype(float)
        table["findings"] = ["|".join(f for f, p in zip(FINDINGS, row) if p) or (NO_FINDING if nf == 1 else "")
                             for row, nf in zip(present, table[no_finding])]
        if "view" in raw.columns:
            table["view"] = raw["view"].astype(str)
        for f in (*FINDINGS, NO_FINDING):  # integers where no label is NaN (policy "ignore" keeps NaN)
            col = f"label_{f}"
            if table[col].notna().all():
                table[col] = table[col].astype(int)
        return table

    def condition_text(self, row: Mapping[str, Any]) -> str:
        # an uncertain label that the "ignore" policy left as NaN is not named in the prompt
        present = [f.lower() for f in FINDINGS if float(row.get(f"label_{f}", 0)) == 1.0]
        if not present:
            return NO_FINDING.lower()
        return " and ".join([", ".join(present[:-1]), present[-1]] if len(present) > 1 else present)

    def overview_classes(self, slices: Any) -> list:
        rows = [(NO_FINDING, slices[f"label_{NO_FINDING}"].fillna(0) == 1)]
        for f in OVERVIEW_FINDINGS:
            rows.append((f, slices[f"label_{f}"].fillna(0) == 1))
        return rows

    def phantom_specs(self, arguments: Mapping[str, Any]) -> Any:
        import pandas as pd

        from ..data.phantoms.cxr import draw_studies

        s = draw_studies(arguments["n"], arguments["seed"], arguments["image_size"])
        parts = s["Path"].str.split("/")
        return pd.DataFrame({"subject": parts.str[-3], "visit": parts.str[-2], "age": s["Age"].astype(float),
                             "sex": s["Sex"].map({"Female": "F", "Male": "M"}), "spec": s["spec"]})

    def rerender(self, spec: Any, changes: Mapping[str, Any], image_size: int, options: Mapping[str, Any]) -> GroundTruth:
        from ..data.groundtruth import cxr_counterfactual

        return GroundTruth(*cxr_counterfactual(spec, image_size, **changes))

    effect_measure = "non-lung fraction of the lower thorax (cardiothoracic-ratio proxy)"

    def measure_effect(self, image: Any) -> float:
        """Of the lower thorax (rows from apex + 0.5 to apex + 0.9 thoracic widths, between the lungs' outer
        borders), the fraction that is not lung: heart, mediastinum and diaphragm. The lungs are the two largest
        regions darker than Otsu's threshold inside the body. An enlarged heart displaces lung there while the
        apex and the thoracic width stay, so the fraction rises with the cardiothoracic ratio
        (tests/test_data_phantoms.py). The ratio's own width is not read off the lung masks: the heart is widest
        where the lung bases end, so at 32–128 px that width follows the bases rather than the heart."""
        import numpy as np
        from scipy import ndimage
        from skimage.filters import threshold_otsu

        img = ndimage.gaussian_filter(np.asarray(image, dtype=np.float32), 0.02 * image.shape[0])
        if np.ptp(img) == 0:
            return float("nan")
        body = ndimage.binary_fill_holes(img > 0.5 * threshold_otsu(img))
        core = ndimage.binary_erosion(body, iterations=max(1, round(0.08 * img.shape[1])))  # off the skin and arms
        if not core.any() or np.ptp(img[core]) == 0:
            return float("nan")
        dark = (img < threshold_otsu(img[core])) & core
        labels, n = ndimage.label(dark)
        sizes = np.bincount(labels.ravel())[1:]
        if n < 2 or np.sort(sizes)[-2] < 0.01 * img.size:
            return float("nan")  # not two lungs: no chest radiograph to measure
        lungs = np.isin(labels, np.argsort(sizes)[-2:] + 1)
        top = np.nonzero(lungs.any(1))[0].min()
        columns = np.nonzero(lungs.any(0))[0]
        width = columns.max() - columns.min() + 1
        zone = lungs[top + int(0.5 * width): top + int(0.9 * width) + 1, columns.min(): columns.max() + 1]
        return float(1.0 - zone.mean()) if zone.size else float("nan")
