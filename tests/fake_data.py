"""Tiny fake datasets in exactly the real on-disk layouts, for adapter and preprocessing tests.

* OASIS-3: ``sub-OAS3xxxx/ses-dNNNN/anat/sub-OAS3xxxx_ses-dNNNN[_run-01]_T1w.nii.gz`` + clinical CSV
  (either the normalised columns the phantom writes or the real OASIS-3 export names);
* ADNI: Clinica BIDS (``sub-ADNI002S0295/ses-M06/anat/…_T1w.nii.gz``) or flat
  (``002_S_0295_m06.nii.gz``) + an ADNIMERGE-style CSV with its real column names;
* CheXpert-v1.0-small: ``train.csv``/``valid.csv`` with the real header and label coding
  (1.0 / 0.0 / -1.0 / blank), frontal and lateral JPGs of the real (non-square) shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

CHEXPERT_HEADER = (
    "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,"
    "Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,"
    "Fracture,Support Devices"
)


def fake_brain_volume(rng: np.random.Generator, shape=(40, 48, 36), voxel_mm: float = 4.0,
                      ventricle_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A head-like int16 volume: ellipsoid brain (GM rim, WM core) with two dark lateral ventricles.

    The ventricles sit at 60 % of the height; returns (data, affine) in RAS+.
    """
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    r = np.sqrt((x / 0.8) ** 2 + (y / 0.9) ** 2 + (z / 0.8) ** 2)
    vol = np.where(r < 1.0, 550.0, 0.0)
    vol = np.where(r < 0.85, 800.0, vol)
    zc = 0.2
    for s in (-1, 1):
        v = ((x - s * 0.15) / (0.08 * ventricle_scale)) ** 2 + (y / (0.35 * ventricle_scale)) ** 2 + ((z - zc) / 0.15) ** 2
        vol = np.where(v < 1.0, 150.0, vol)
    vol = vol + rng.normal(0, 15.0, shape)
    vol = np.clip(vol, 0, None)
    affine = np.diag([voxel_mm, voxel_mm, voxel_mm, 1.0])
    affine[:3, 3] = [-(shape[0] - 1) * voxel_mm / 2, -(shape[1] - 1) * voxel_mm / 2, -(shape[2] - 1) * voxel_mm / 2]
    return vol.astype(np.int16), affine


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> Path:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def write_fake_oasis3(root: Path, n_subjects: int = 3, visits: int = 2, real_columns: bool = False,
                      seed: int = 0) -> Path:
    """OASIS-3 BIDS layout; clinical table normalised (like the phantom) or with real export names."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        sub = f"OAS3{s + 1:04d}"
        sex = "F" if s % 2 == 0 else "M"
        age0 = 65.0 + 5 * s
        for v in range(visits):
            day = 30 + 700 * v
            run = "_run-01" if (s + v) % 2 else ""
            ses = f"ses-d{day:04d}"
            data, aff = fake_brain_volume(rng, ventricle_scale=1.0 + 0.1 * v)
            write_nifti(root / f"sub-{sub}" / ses / "anat" / f"sub-{sub}_{ses}{run}_T1w.nii.gz", data, aff)
            cday = day + 20
            cdr = [0.0, 0.5, 1.0][(s + v) % 3]
            rows.append({"subject": sub, "days_since_entry": cday, "age": round(age0 + cday / 365.25, 2), "sex": sex,
                         "cdr": cdr, "diagnosis": {0.0: "CN", 0.5: "MCI", 1.0: "AD"}[cdr]})
    clin = pd.DataFrame(rows)
    if real_columns:
        clin = pd.DataFrame({
            "OASIS_session_label": [f"{r['subject']}_ClinicalData_d{r['days_since_entry']:04d}" for r in rows],
            "OASISID": clin["subject"], "days_to_visit": clin["days_since_entry"], "age at visit": clin["age"],
            "GENDER": clin["sex"].map({"M": 1, "F": 2}), "CDRTOT": clin["cdr"],
        })
    root.mkdir(parents=True, exist_ok=True)
    clin.to_csv(root / "clinical.csv", index=False)
    return root


ADNIMERGE_COLUMNS = ["RID", "PTID", "VISCODE", "SITE", "EXAMDATE", "DX_bl", "AGE", "PTGENDER", "PTEDUCAT", "APOE4",
                     "MMSE", "DX", "Years_bl", "Month_bl"]


def write_fake_adni(root: Path, csv_path: Path, layout: str = "bids", seed: int = 0) -> tuple[Path, Path]:
    """Two subjects × (bl, m12) in Clinica-BIDS or flat layout + ADNIMERGE.csv (real column names)."""
    rng = np.random.default_rng(seed)
    rows = []
    subjects = [("002_S_0295", 295, 84.8, "Male", "CN"), ("011_S_0003", 3, 81.3, "Female", "AD")]
    for ptid, rid, age, sex, dx_bl in subjects:
        for vis, months in (("bl", 0), ("m12", 12)):
            data, aff = fake_brain_volume(rng)
            site = ptid[:3]
            if layout == "bids":
                sub = f"sub-ADNI{site}S{rid:04d}"
                ses = f"ses-M{months:02d}"
                write_nifti(root / sub / ses / "anat" / f"{sub}_{ses}_T1w.nii.gz", data, aff)
            else:
                write_nifti(root / ptid / f"{ptid}_{vis}.nii.gz", data, aff)
            dx = {"CN": "CN", "AD": "Dementia"}[dx_bl] if vis == "bl" else ("MCI" if dx_bl == "CN" else "")
            rows.append({"RID": rid, "PTID": ptid, "VISCODE": vis, "SITE": int(site), "EXAMDATE": f"2006-0{1 + months // 12}-15",
                         "DX_bl": dx_bl, "AGE": age, "PTGENDER": sex, "PTEDUCAT": 16, "APOE4": 0, "MMSE": 28,
                         "DX": dx, "Years_bl": months / 12.0 + 0.01, "Month_bl": months})
    # a visit without image, as in the real table
    rows.append({**rows[0], "VISCODE": "m24", "Years_bl": 2.0, "Month_bl": 24})
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=ADNIMERGE_COLUMNS).to_csv(csv_path, index=False)
    return root, csv_path


def _jpg(path: Path, rng: np.random.Generator, size=(32, 39)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pix = (rng.random((size[1], size[0])) * 255).astype(np.uint8)
    Image.fromarray(pix, mode="L").save(path, format="JPEG", quality=90)


def write_fake_chexpert(root: Path, seed: int = 0) -> Path:
    """``root/CheXpert-v1.0-small/`` with 4 train patients (one lateral view) and 2 valid patients.

    Train rows (label columns abbreviated; blank = unmentioned):
      patient00001/study1 frontal: Cardiomegaly 1.0, Pleural Effusion -1.0, Support Devices 1.0
      patient00001/study1 lateral: same labels
      patient00002/study1 frontal: No Finding 1.0, Pneumothorax 0.0
      patient00003/study1 frontal: Consolidation -1.0, Pneumonia 1.0, Edema 0.0
      patient00003/study2 frontal: Pleural Effusion 1.0
      patient00004/study1 frontal: Sex Unknown (skipped)
    """
    rng = np.random.default_rng(seed)
    base = root / "CheXpert-v1.0-small"
    header = CHEXPERT_HEADER.split(",")
    labels = header[5:]

    def row(path, sex, age, fl, appa, **lab):
        vals = {name: "" for name in labels}
        for k, v in lab.items():
            vals[k.replace("_", " ")] = v
        return [path, sex, age, fl, appa] + [vals[n] for n in labels]

    train = [
        row("CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Female", 68, "Frontal", "AP",
            Cardiomegaly="1.0", Pleural_Effusion="-1.0", Support_Devices="1.0"),
        row("CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg", "Female", 68, "Lateral", "",
            Cardiomegaly="1.0", Pleural_Effusion="-1.0", Support_Devices="1.0"),
        row("CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg", "Male", 87, "Frontal", "PA",
            No_Finding="1.0", Pneumothorax="0.0"),
        row("CheXpert-v1.0-small/train/patient00003/study1/view1_frontal.jpg", "Male", 41, "Frontal", "AP",
            Consolidation="-1.0", Pneumonia="1.0", Edema="0.0"),
        row("CheXpert-v1.0-small/train/patient00003/study2/view1_frontal.jpg", "Male", 42, "Frontal", "AP",
            Pleural_Effusion="1.0"),
        row("CheXpert-v1.0-small/train/patient00004/study1/view1_frontal.jpg", "Unknown", 50, "Frontal", "PA"),
    ]
    valid = [
        row("CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg", "Male", 73, "Frontal", "AP",
            **{n.replace(" ", "_"): "0.0" for n in labels} | {"Cardiomegaly": "1.0", "Support_Devices": "1.0"}),
        row("CheXpert-v1.0-small/valid/patient64542/study1/view1_frontal.jpg", "Female", 70, "Frontal", "PA",
            **{n.replace(" ", "_"): "0.0" for n in labels} | {"No_Finding": "1.0"}),
    ]
    for split, rows in (("train", train), ("valid", valid)):
        base.mkdir(parents=True, exist_ok=True)
        lines = [CHEXPERT_HEADER] + [",".join(str(x) for x in r) for r in rows]
        (base / f"{split}.csv").write_text("\n".join(lines) + "\n")
        for r in rows:
            _jpg(root / r[0], rng)
    return root
