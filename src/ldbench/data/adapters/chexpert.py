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
from ..drops import DropLog
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
                  splits=("train", "valid"), log=None, drops: DropLog | None = None) -> pd.DataFrame:
    """One row per image: path, subject, visit, age, sex, view, label_<Finding> for CheXpert's 14
    labels ("No Finding" as CheXpert gives it), source_split.

    Rows without a usable age or sex, or with a label that is neither 1.0, 0.0, −1.0 nor blank, are
    left out and recorded in ``drops`` with their reason (and warned about).
    """
    log = log or log_
    drops = drops if drops is not None else DropLog()
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
        frontal = t["Frontal/Lateral"].astype(str).str.strip().str.lower() == "frontal"
        if (~frontal).any():
            log.info("CheXpert: %d lateral views left out (frontal_only: true)", int((~frontal).sum()))
        t = t[frontal]
    t = t.reset_index(drop=True)
    drops.inputs += len(t)
    parts = t["Path"].astype(str).str.split("/")
    out = pd.DataFrame({
        "path": [str(root / p) for p in t["Path"].astype(str)],
        "subject": parts.str[-3].values,
        "visit": parts.str[-2].values,
        "age": pd.to_numeric(t["Age"], errors="coerce").astype(float).values,
        "sex": t["Sex"].astype(str).str.strip().str.lower().map({"female": "F", "male": "M"}).values,
        "view": np.where(t["Frontal/Lateral"].astype(str).str.lower() == "frontal",
                         t["AP/PA"].fillna("").astype(str), "Lateral"),
        "source_split": t["source_split"].values,
    })
    keep = np.ones(len(t), dtype=bool)
    for name in CHEXPERT_LABELS:
        text = t[name]
        raw = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        unreadable = (np.isnan(raw) & text.notna().to_numpy()) | (~np.isnan(raw) & ~np.isin(raw, (0.0, 1.0, -1.0)))
        for i in np.flatnonzero(unreadable & keep):
            drops.add(out["path"][i], out["subject"][i], "bad_label", f"{name} = {text.iloc[i]!r}")
        keep &= ~unreadable
        lab = np.where(np.isnan(raw), 0.0, raw)
        uncertain = lab == -1.0
        lab[uncertain] = {"zeros": 0.0, "ones": 1.0, "ignore": np.nan}[uncertain_policy]
        out[f"label_{name}"] = lab
    for column, reason, what in (("sex", "missing_sex", "Sex"), ("age", "missing_age", "Age")):
        bad = out[column].isna().to_numpy() & keep
        for i in np.flatnonzero(bad):
            value = t[what].iloc[i]
            drops.add(out["path"][i], out["subject"][i], reason, f"{what} blank" if pd.isna(value) else f"{what} = {value!r}")
        keep &= ~bad
    if not keep.all():
        log.warning("CheXpert: %d of %d images left out: %s", int((~keep).sum()), len(keep),
                    ", ".join(f"{n} {r}" for r, n in sorted(drops.counts().items())))
    out = out[keep].reset_index(drop=True)
    if out.empty:
        raise LdbenchError(f"{base}: no usable images (splits {list(splits)}, frontal_only={frontal_only})")
    return out
