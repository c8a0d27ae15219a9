"""OASIS-3 reader: BIDS-style T1w NIfTI sessions matched to clinical visits by day.

Expected layout (as in the OASIS-3 BIDS download and the embedded phantom)::

    root/sub-<ID>/ses-d<NNNN>/anat/sub-<ID>_ses-d<NNNN>[_acq-…][_run-<k>]_T1w.nii[.gz]
    root/clinical.csv        (or pass clinical_csv=)

``NNNN`` is the number of days since the subject's entry into the study.  The clinical table has
one row per clinical assessment with the columns ``subject, days_since_entry, age, sex, cdr,
diagnosis``; the real OASIS-3 export names are accepted too (``OASISID``/``Subject``,
``days_to_visit``, ``age at visit``/``AgeatEntry``, ``GENDER``/``M/F`` (1 = M, 2 = F), ``CDRTOT``/``cdr``,
``dx1``).  When ``diagnosis`` is absent it is derived from the CDR (0 → CN, 0.5 → MCI, ≥ 1 → AD).
Each scan takes the nearest clinical assessment of its subject within ``max_days`` (365, the
window OASIS-3 papers use); its age is the assessment's age plus the day difference.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...utils import LdbenchError
from ..drops import DropLog
from ._common import finish, normalise_sex, read_table, require_dir, resolve_columns

_NAME = re.compile(r"^sub-(?P<sub>[A-Za-z0-9]+)_ses-d(?P<day>\d+)(?:_[A-Za-z]+-[A-Za-z0-9]+)*_T1w\.nii(?:\.gz)?$")

CLINICAL_COLUMNS = {
    "subject": ("subject", "OASISID", "Subject", "OASIS_ID"),
    "days_since_entry": ("days_since_entry", "days_to_visit", "days"),
    "age": ("age", "age at visit", "ageAtVisit", "AgeatEntry", "ageAtEntry"),
    "sex": ("sex", "GENDER", "M/F", "gender"),
    "cdr": ("cdr", "CDRTOT", "CDR"),
    "diagnosis": ("diagnosis", "dx", "DX"),
}

log_ = logging.getLogger("ldbench")


def cdr_to_diagnosis(cdr: float) -> str | None:
    if pd.isna(cdr):
        return None
    return "CN" if cdr == 0 else ("MCI" if cdr == 0.5 else "AD")


def _dx(value) -> str | None:
    s = str(value).strip().upper()
    if s in {"CN", "NORMAL", "COGNITIVELY NORMAL", "HC", "CONTROL"}:
        return "CN"
    if s in {"MCI", "EMCI", "LMCI", "0.5"}:
        return "MCI"
    if s in {"AD", "DEMENTIA", "AD DEMENTIA", "DAT"} or s.startswith("AD DEMENTIA"):
        return "AD"
    return None


def read_oasis3(root: Path, clinical_csv: Path | None = None, max_days: int = 365, log=None,
                drops: DropLog | None = None) -> pd.DataFrame:
    """One row per T1w volume: path, subject, visit (``d<NNNN>``), age, sex, diagnosis (+ days, cdr)."""
    log = log or log_
    root = require_dir(Path(root), "OASIS-3")
    clinical_csv = Path(clinical_csv) if clinical_csv is not None else root / "clinical.csv"
    clin = read_table(clinical_csv, "OASIS-3 clinical table")
    cols = resolve_columns(clin, clinical_csv, CLINICAL_COLUMNS, optional=("cdr", "diagnosis"))
    if cols["cdr"] is None and cols["diagnosis"] is None:
        raise LdbenchError(f"{clinical_csv}: needs a 'diagnosis' or a 'cdr' column; columns present: {list(clin.columns)}")
    c = pd.DataFrame({
        "subject": clin[cols["subject"]].astype(str).str.replace(r"^sub-", "", regex=True),
        "days": pd.to_numeric(clin[cols["days_since_entry"]].astype(str).str.extract(r"(\d+)")[0], errors="coerce"),
        "age": pd.to_numeric(clin[cols["age"]], errors="coerce"),
        "sex": clin[cols["sex"]].map(normalise_sex),
        "cdr": pd.to_numeric(clin[cols["cdr"]], errors="coerce") if cols["cdr"] else np.nan,
    })
    dx = clin[cols["diagnosis"]].map(_dx) if cols["diagnosis"] else pd.Series([None] * len(clin))
    c["diagnosis"] = [d if d is not None else cdr_to_diagnosis(k) for d, k in zip(dx, c["cdr"])]
    c = c.dropna(subset=["days", "age"])

    scans = []
    for path in sorted(root.glob("sub-*/ses-d*/anat/*_T1w.nii*")):
        m = _NAME.match(path.name)
        if not m:
            continue
        scans.append({"path": str(path), "subject": m["sub"], "days": int(m["day"])})
    if not scans:
        raise LdbenchError(
            f"{root}: no T1w volumes found (expected sub-<ID>/ses-d<NNNN>/anat/sub-<ID>_ses-d<NNNN>_T1w.nii.gz)"
        )
    drops = drops if drops is not None else DropLog()
    drops.inputs += len(scans)
    rows = []
    by_subject = {s: g for s, g in c.groupby("subject")}
    for scan in scans:
        g = by_subject.get(scan["subject"])
        if g is None:
            drops.add(scan["path"], scan["subject"], "subject_not_in_clinical_table", f"{clinical_csv} has no row with an age for it")
            continue
        delta = (g["days"] - scan["days"]).abs()
        k = delta.idxmin()
        if delta[k] > max_days:
            drops.add(scan["path"], scan["subject"], "no_clinical_visit", f"nearest visit {int(delta[k])} days away (> {max_days})")
            continue
        hit = g.loc[k]
        sex = hit["sex"] if hit["sex"] is not None else g["sex"].dropna().iloc[0] if g["sex"].notna().any() else None
        if sex is None:
            drops.add(scan["path"], scan["subject"], "missing_sex")
            continue
        if hit["diagnosis"] is None:
            drops.add(scan["path"], scan["subject"], "missing_diagnosis", f"visit at day {int(hit['days'])}")
            continue
        rows.append({
            "path": scan["path"], "subject": scan["subject"], "visit": f"d{scan['days']:04d}",
            "age": float(hit["age"]) + (scan["days"] - float(hit["days"])) / 365.25,
            "sex": sex, "diagnosis": hit["diagnosis"], "days": scan["days"], "cdr": hit["cdr"],
        })
    unmatched = len(scans) - len(rows)
    if unmatched:
        missing = sorted({r["subject"] for r in drops.rows if r["reason"] == "subject_not_in_clinical_table"})
        log.warning("OASIS-3: %d of %d T1w volumes have no usable clinical visit (sex, age, diagnosis) within %d days; skipped%s",
                    unmatched, len(scans), max_days, f" (subjects not in {clinical_csv}: {', '.join(missing[:10])}"
                    f"{' …' if len(missing) > 10 else ''})" if missing else "")
    if not rows:
        raise LdbenchError(f"{root}: none of the {len(scans)} T1w volumes matches a visit in {clinical_csv}")
    return finish(pd.DataFrame(rows))
