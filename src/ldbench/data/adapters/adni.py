"""ADNI reader: T1w NIfTI files plus an ADNIMERGE table.

Expected file naming under ``root`` (either):

1. Clinica's ADNI-to-BIDS layout (``clinica convert adni-to-bids``)::

       root/sub-ADNI<site>S<rid>/ses-M<months>/anat/sub-ADNI<site>S<rid>_ses-M<months>[_…]_T1w.nii[.gz]
       e.g. sub-ADNI002S0295/ses-M06/anat/sub-ADNI002S0295_ses-M06_T1w.nii.gz   (PTID 002_S_0295, VISCODE m06)

2. a flat folder of files named by PTID and VISCODE (any sub-folders are searched)::

       root/<PTID>_<VISCODE>[_anything].nii[.gz]      e.g. 002_S_0295_bl.nii.gz, 002_S_0295_m12_T1.nii.gz

ADNIMERGE columns used: ``RID``, ``VISCODE``, ``AGE`` (age at baseline), ``PTGENDER``, ``DX``;
optional ``PTID`` (else matched by RID = the last 4 digits), ``Years_bl`` (else months from the
VISCODE: bl → 0, m06 → 0.5 years), ``DX_bl`` (used where ``DX`` is blank).  Diagnoses map
CN → CN, MCI → MCI, Dementia/AD → AD (DX_bl: SMC → CN, EMCI/LMCI → MCI).  The age at a visit is
AGE + years since baseline.  ``ses-M00`` is VISCODE ``bl``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from ...utils import LdbenchError
from ..drops import DropLog
from ._common import finish, normalise_sex, read_table, require_dir, resolve_columns

_BIDS = re.compile(r"^sub-ADNI(?P<site>\d{3})S(?P<rid>\d{4})_ses-M(?P<m>\d+)(?:_[A-Za-z]+-[A-Za-z0-9]+)*_T1w\.nii(?:\.gz)?$")
_FLAT = re.compile(r"^(?P<site>\d{3})_S_(?P<rid>\d{4})_(?P<vis>bl|sc|m\d+)(?:[_.].*)?\.nii(?:\.gz)?$", re.IGNORECASE)
_DX = {"CN": "CN", "MCI": "MCI", "DEMENTIA": "AD", "AD": "AD", "SMC": "CN", "EMCI": "MCI", "LMCI": "MCI",
       "NL": "CN", "NL TO MCI": "MCI", "MCI TO DEMENTIA": "AD", "DEMENTIA TO MCI": "MCI", "MCI TO NL": "CN"}

COLUMNS = {
    "RID": ("RID",),
    "VISCODE": ("VISCODE",),
    "AGE": ("AGE",),
    "PTGENDER": ("PTGENDER",),
    "DX": ("DX", "DX_bl"),
}

log_ = logging.getLogger("ldbench")


def _viscode_months(vis: str) -> int:
    vis = str(vis).strip().lower()
    if vis in {"bl", "sc", "m0", "m00"}:
        return 0
    m = re.fullmatch(r"m(\d+)", vis)
    return int(m[1]) if m else -1


def read_adni(root: Path, adnimerge_csv: Path, log=None, drops: DropLog | None = None) -> pd.DataFrame:
    """One row per T1w volume: path, subject (PTID), visit (VISCODE), age, sex, diagnosis."""
    log = log or log_
    root = require_dir(Path(root), "ADNI")
    adnimerge_csv = Path(adnimerge_csv)
    table = read_table(adnimerge_csv, "ADNIMERGE table")
    cols = resolve_columns(table, adnimerge_csv, COLUMNS)
    t = pd.DataFrame({
        "rid": pd.to_numeric(table[cols["RID"]], errors="coerce"),
        "months": table[cols["VISCODE"]].map(_viscode_months),
        "viscode": table[cols["VISCODE"]].astype(str).str.lower(),
        "age_bl": pd.to_numeric(table[cols["AGE"]], errors="coerce"),
        "sex": table[cols["PTGENDER"]].map(normalise_sex),
    })
    dx = table[cols["DX"]].astype(str).str.strip().str.upper().map(_DX)
    if "DX_bl" in table.columns and cols["DX"] != "DX_bl":
        dx = dx.fillna(table["DX_bl"].astype(str).str.strip().str.upper().map(_DX))
    t["diagnosis"] = dx
    t["years"] = pd.to_numeric(table["Years_bl"], errors="coerce") if "Years_bl" in table.columns else t["months"] / 12.0
    t["years"] = t["years"].fillna(t["months"] / 12.0)
    t = t.dropna(subset=["rid"])
    index = {(int(r.rid), int(r.months)): r for r in t.itertuples()}

    scans = []
    for path in sorted(p for p in root.rglob("*.nii*") if p.is_file()):
        m = _BIDS.match(path.name)
        if m:
            months = int(m["m"])
            vis = "bl" if months == 0 else f"m{months:02d}"
            scans.append((path, f"{m['site']}_S_{m['rid']}", int(m["rid"]), months, vis))
            continue
        m = _FLAT.match(path.name)
        if m:
            months = _viscode_months(m["vis"])
            scans.append((path, f"{m['site']}_S_{m['rid']}", int(m["rid"]), months, m["vis"].lower()))
    if not scans:
        raise LdbenchError(
            f"{root}: no ADNI T1w volumes found (expected sub-ADNI<site>S<rid>/ses-M<mm>/anat/…_T1w.nii.gz "
            "or <PTID>_<VISCODE>.nii.gz, e.g. 002_S_0295_bl.nii.gz)"
        )
    drops = drops if drops is not None else DropLog()
    drops.inputs += len(scans)
    rows = []
    for path, ptid, rid, months, vis in scans:
        r = index.get((rid, months))
        if r is None:
            drops.add(path, ptid, "no_clinical_visit", f"no ADNIMERGE row for RID {rid}, VISCODE {vis}")
        elif pd.isna(r.age_bl):
            drops.add(path, ptid, "missing_age", "AGE blank")
        elif r.sex is None:
            drops.add(path, ptid, "missing_sex", "PTGENDER not Male/Female")
        elif not isinstance(r.diagnosis, str):
            drops.add(path, ptid, "missing_diagnosis", "DX and DX_bl blank")
        else:
            rows.append({"path": str(path), "subject": ptid, "visit": vis, "age": float(r.age_bl) + float(r.years),
                         "sex": r.sex, "diagnosis": r.diagnosis})
    unmatched = len(scans) - len(rows)
    if unmatched:
        log.warning("ADNI: %d of %d volumes have no ADNIMERGE row with age, sex and diagnosis; skipped", unmatched, len(scans))
    if not rows:
        raise LdbenchError(f"{root}: none of the {len(scans)} volumes matches a visit in {adnimerge_csv}")
    return finish(pd.DataFrame(rows))
