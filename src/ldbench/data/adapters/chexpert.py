"""CheXpert (v1.0-small) reader.

Layout: ``root/CheXpert-v1.0-small/{train.csv, valid.csv, train/patientNNNNN/studyK/viewJ_frontal.jpg, …}``;
the ``Path`` column of the CSVs is relative to ``root`` (it starts with ``CheXpert-v1.0-small/``).

Label values as in the real files: 1.0 positive, 0.0 negative, −1.0 uncertain, blank unmentioned.
Blank → 0; uncertain → ``uncertain_policy``: ``zeros`` (U-Zeros) → 0, ``ones`` (U-Ones) → 1,
``ignore`` → NaN (to be masked out of a loss).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ...utils import LdbenchError
from ._common import read_table, require_dir

#: CheXpert's 14 label columns, in the order of the real CSV.
CHEXPERT_LABELS = (
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other",
    "Fracture", "Support Devices",
)
#: the real CheXpert CSV header
CHEXPERT_COLUMNS = ("Path", "Sex", "Age", "Frontal/Lateral", "AP/PA") + CHEXPERT_LABELS
POLICIES = ("zeros", "ones", "ignore")
log_ = logging.getLogger("ldbench")


def read_chexpert(root: Path, uncertain_policy: str = "zeros", frontal_only: bool = True,
                  splits=("train", "valid"), log=None) -> pd.DataFrame:
    """One row per image: path, subject, visit, age, sex, view, label_<Finding> (+ source_split)."""
    log = log or log_
    if uncertain_policy not in POLICIES:
        raise LdbenchError(f"uncertain_policy must be one of {POLICIES}, got {uncertain_policy!r}")
    if isinstance(splits, str):
        splits = (splits,)
    root = require_dir(Path(root), "CheXpert")
    base = root / "CheXpert-v1.0-small"
    if not base.is_dir():
        raise LdbenchError(f"{root}: no CheXpert-v1.0-small/ folder inside (root must be the folder that contains it)")
    frames = []
    for split in splits:
        csv = base / f"{split}.csv"
        t = read_table(csv, f"CheXpert {split} table")
        missing = [c for c in CHEXPERT_COLUMNS if c not in t.columns]
        if missing:
            raise LdbenchError(f"{csv}: required column(s) missing: {missing}")
        t = t.assign(source_split=split)
        frames.append(t)
    t = pd.concat(frames, ignore_index=True)
    if frontal_only:
        t = t[t["Frontal/Lateral"].astype(str).str.strip().str.lower() == "frontal"]
    sex = t["Sex"].astype(str).str.strip().str.lower().map({"female": "F", "male": "M"})
    bad_sex = sex.isna().sum()
    if bad_sex:
        log.warning("CheXpert: %d images with sex other than Male/Female (e.g. 'Unknown') skipped", int(bad_sex))
    parts = t["Path"].astype(str).str.split("/")
    out = pd.DataFrame({
        "path": [str(root / p) for p in t["Path"].astype(str)],
        "subject": parts.str[-3].values,
        "visit": parts.str[-2].values,
        "age": pd.to_numeric(t["Age"], errors="coerce").astype(float).values,
        "sex": sex.values,
        "view": np.where(t["Frontal/Lateral"].astype(str).str.lower() == "frontal",
                         t["AP/PA"].fillna("").astype(str), "Lateral"),
        "source_split": t["source_split"].values,
    })
    for name in CHEXPERT_LABELS:
        raw = pd.to_numeric(t[name], errors="coerce").values
        lab = np.where(np.isnan(raw), 0.0, raw)
        uncertain = lab == -1.0
        if uncertain_policy == "zeros":
            lab[uncertain] = 0.0
        elif uncertain_policy == "ones":
            lab[uncertain] = 1.0
        else:
            lab[uncertain] = np.nan
        bad = ~np.isnan(lab) & ~np.isin(lab, (0.0, 1.0))
        if bad.any():
            raise LdbenchError(f"{base}: column {name!r} has values other than 1.0/0.0/-1.0/blank, e.g. {raw[bad][0]!r}")
        out[f"label_{name}"] = lab
    out = out[out["sex"].notna() & out["age"].notna()].reset_index(drop=True)
    if out.empty:
        raise LdbenchError(f"{base}: no usable images (splits {list(splits)}, frontal_only={frontal_only})")
    return out
