"""Longitudinal brain-MRI phantom on the MNI152 (ICBM 2009c sym) T1 template shipped in the nilearn wheel.

Every subject is the real template anatomy seen through its own smooth deformation, scanned at 2–5
visits over several years by a scanner with its own contrast, bias field and noise.  Ageing and
Alzheimer's disease change the anatomy by the documented amounts below; everything else (the
subject's anatomy, each visit's contrast, bias field and noise) is a pure function of the seeds in
:class:`BrainVisitSpec`, so :func:`render` re-renders the *same* scan with one attribute changed —
a ground-truth counterfactual.

Anatomy model (template space, MNI mm)
--------------------------------------
* Tissue maps: the template's GM and WM probability maps; CSF = brain − GM − WM.
* Lateral ventricles: the two large CSF components beside the midline around MNI z ≈ +18 mm
  (≈ 16 ml in the young-adult template).  Their volume relative to the template is

      V(age, dx) / V_template = (1 + VENTRICLE_GROWTH_PER_YEAR) ** (age − REF_AGE) · VENTRICLE_DX_FACTOR[dx]

  i.e. +3 %/year of age after 55 (healthy-ageing longitudinal rates are 2–4 %/year) and ×1.2 for
  MCI, ×1.5 for AD (cross-sectional AD/CN ventricle ratios of 1.4–1.8 are typical).  The ventricles
  grow outwards along the level sets of their Gaussian-smoothed mask; the level is calibrated on the
  template so the stated ratio holds (tests measure it on rendered volumes).
* Sulcal widening (cortical atrophy): a fraction

      f(age, dx) = GM_LOSS_PER_YEAR · (age − REF_AGE) + GM_DX_LOSS[dx]

  of the grey-matter volume (0.4 %/year; MCI +3 %, AD +8 % of GM) turns into CSF, taken from the
  grey matter that borders sulcal CSF, so sulci widen from the outside in.
* Skull and scalp: the template is skull-stripped, so shells at fixed distances from the brain
  surface add subarachnoid CSF, the skull's inner table, diploë and outer table, and the scalp
  (``SHELL_MM``/``SHELL_LEVEL``), so preprocessing must mask the brain as on real scans.
* Subject deformation: head size (women 3.5 % smaller linearly, ±4 % individual), rotation ±3°,
  translation ±2 mm, and a smooth random displacement field (≈2.5 mm RMS, 24 mm control grid).

Scan model (per visit): a monotone contrast curve with jittered CSF/GM/WM levels, a scanner gain,
a smooth multiplicative bias field (±15 %) and Rician noise (σ 2–4 % of white matter).

Volumes are written as int16 NIfTI on a 2 mm grid in MNI orientation.  To stay inside the CPU
budget only an axial *slab* (MNI z ∈ [SLAB_Z_MM]) around the lateral ventricles is rendered and
written by :func:`make_brain_phantom_dataset`; :func:`render` can give the full volume
(``slab=False``).  Preprocessing does not rely on the slab: it finds the ventricle level from image
intensities, as it does on real whole-brain scans.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from ...seeds import derive_seed
from ...utils import LdbenchError, atomic_dir, progress

REF_AGE = 55.0
VENTRICLE_GROWTH_PER_YEAR = 0.03
VENTRICLE_DX_FACTOR = {"CN": 1.0, "MCI": 1.2, "AD": 1.5}
GM_LOSS_PER_YEAR = 0.004
GM_DX_LOSS = {"CN": 0.0, "MCI": 0.03, "AD": 0.08}
#: axial slab written to disk (MNI z range, mm).
SLAB_Z_MM = (-4.0, 40.0)
#: output field of view (MNI mm, inclusive) — the standard 91×109×91 grid at 2 mm.
GRID_MIN_MM = (-90.0, -126.0, -72.0)
GRID_MAX_MM = (90.0, 90.0, 108.0)
DIAGNOSES = ("CN", "MCI", "AD")
#: T1 level of the tissue outside the brain by distance (mm) from its surface: subarachnoid CSF,
#: inner table, diploë (marrow, bright), outer table, scalp (fat, bright), air
SHELL_MM = (0.0, 1.5, 2.5, 3.5, 5.5, 6.5, 8.0, 9.0, 13.0, 14.5, 1e6)
SHELL_LEVEL = (0.25, 0.25, 0.06, 0.06, 0.50, 0.06, 0.06, 0.75, 0.70, 0.0, 0.0)
#: annual conversion hazards of the diagnosis trajectory
CONVERSION_RATE = {"CN": 0.05, "MCI": 0.15}
_VENT_SIGMA_MM = 4.0
_VENT_EDGE = 0.04


def ventricle_volume_factor(age: float, diagnosis: str) -> float:
    """Documented lateral-ventricle volume relative to the template for an age and diagnosis."""
    return (1.0 + VENTRICLE_GROWTH_PER_YEAR) ** (float(age) - REF_AGE) * VENTRICLE_DX_FACTOR[diagnosis]


def gm_loss_fraction(age: float, diagnosis: str) -> float:
    """Documented fraction of grey-matter volume turned into sulcal CSF."""
    return max(0.0, GM_LOSS_PER_YEAR * (float(age) - REF_AGE)) + GM_DX_LOSS[diagnosis]


@dataclass(frozen=True)
class BrainVisitSpec:
    """Everything that determines one phantom scan; :func:`render` is a pure function of it."""

    subject: str
    anatomy_seed: int  # the subject's deformation (same at every visit)
    scan_seed: int  # this visit's contrast, bias field and noise
    sex: str  # "F" / "M"
    age: float
    diagnosis: str  # "CN" / "MCI" / "AD"
    voxel_mm: float = 2.0


@dataclass
class BrainRender:
    volume: np.ndarray  # float32, scanner units (≥ 0)
    affine: np.ndarray  # voxel → MNI-like world mm
    ventricles: np.ndarray  # float32 partial-volume map of the lateral ventricles
    grey_matter: np.ndarray  # float32 partial-volume map of grey matter after atrophy
    voxel_mm: float
    brain: np.ndarray | None = None  # float32 brain mask (partial volume) of this subject


    def ventricle_volume_ml(self) -> float:
        return float(self.ventricles.sum(dtype=np.float64) * self.voxel_mm**3 / 1000.0)

    def grey_matter_volume_ml(self) -> float:
        return float(self.grey_matter.sum(dtype=np.float64) * self.voxel_mm**3 / 1000.0)


# --------------------------------------------------------------------------------------------
# template (cached per voxel size)


def _nilearn_data_dir() -> Path:
    try:
        import nilearn
    except ImportError as err:  # pragma: no cover
        raise LdbenchError("the brain phantom needs nilearn (its wheel ships the MNI152 template)") from err
    return Path(nilearn.__file__).parent / "datasets" / "data"


def _load_template_1mm(name: str) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    path = _nilearn_data_dir() / f"mni_icbm152_{name}_tal_nlin_sym_09a_converted.nii.gz"
    if not path.exists():
        raise LdbenchError(f"{path}: MNI152 template not found in the installed nilearn package")
    img = nib.load(str(path))
    return np.asarray(img.dataobj, dtype=np.float32) / 255.0, img.affine


class _Template:
    """Template maps resampled to the output grid plus derived fields, at one voxel size."""

    def __init__(self, voxel_mm: float):
        self.voxel_mm = float(voxel_mm)
        t1, aff = _load_template_1mm("t1")
        gm, _ = _load_template_1mm("gm")
        wm, _ = _load_template_1mm("wm")
        brain = t1 > 0.05
        csf = np.clip(1.0 - gm - wm, 0.0, 1.0) * brain
        # lateral ventricles: large dark CSF components off the midline around the ventricle level
        lo_mm, hi_mm = np.array([-35.0, -50.0, -25.0]), np.array([35.0, 40.0, 40.0])
        i0 = np.floor((lo_mm - aff[:3, 3]) / np.diag(aff)[:3]).astype(int)
        i1 = np.ceil((hi_mm - aff[:3, 3]) / np.diag(aff)[:3]).astype(int) + 1
        crop = tuple(slice(a, b) for a, b in zip(i0, i1))
        cand = (csf[crop] > 0.5) & (t1[crop] < 0.45)
        lab, n = ndimage.label(cand)
        sizes = ndimage.sum(cand, lab, np.arange(1, n + 1))
        centres = ndimage.center_of_mass(cand, lab, np.arange(1, n + 1))
        keep = [
            i + 1
            for i in np.argsort(sizes)[::-1][:6]
            if abs((centres[i][0] + i0[0]) * aff[0, 0] + aff[0, 3]) > 5 and sizes[i] > 1000
        ]
        vent = np.zeros_like(csf)
        vent_crop = np.isin(lab, keep)
        vent[crop] = vent_crop * csf[crop]
        sulcal_csf = csf.copy()
        sulcal_csf[crop] *= ndimage.binary_dilation(vent_crop, iterations=3) == 0
        del cand, lab

        # output grid (voxel → MNI mm)
        v = self.voxel_mm
        lo = np.array(GRID_MIN_MM)
        self.shape = tuple(int(math.floor((GRID_MAX_MM[a] - GRID_MIN_MM[a]) / v + 1e-6)) + 1 for a in range(3))
        self.affine = np.diag([v, v, v, 1.0])
        self.affine[:3, 3] = lo
        self.tmpl_affine = aff
        sigma_aa = max(0.0, 0.42 * (v - 1.0))  # anti-aliasing before down-sampling
        grid_mm = [lo[a] + v * np.arange(self.shape[a], dtype=np.float32) for a in range(3)]
        idx = [(grid_mm[a] - aff[a, 3]) / aff[a, a] for a in range(3)]

        def resample(vol: np.ndarray) -> np.ndarray:
            if sigma_aa > 0:
                vol = ndimage.gaussian_filter(vol, sigma_aa)
            coords = np.meshgrid(*idx, indexing="ij")
            return ndimage.map_coordinates(vol, coords, order=1, mode="constant", cval=0.0).astype(np.float32)

        self.t1 = resample(t1)
        self.gm = resample(gm)
        self.vent = np.clip(resample(vent), 0, 1)
        brain_r = resample(brain.astype(np.float32))
        self.brain = brain_r
        # skull and scalp (the template is skull-stripped): shells at a distance d (mm) from the brain
        d = ndimage.distance_transform_edt(brain_r < 0.5) * v
        shell = np.interp(d, SHELL_MM, SHELL_LEVEL).astype(np.float32)
        shell = ndimage.gaussian_filter(shell, 0.5) * (brain_r < 0.5)
        self.t1 = (self.t1 + shell).astype(np.float32)
        # smoothed ventricle mask: its level sets are the grown ventricles
        self.vent_smooth = ndimage.gaussian_filter(self.vent, _VENT_SIGMA_MM / v).astype(np.float32)
        # grey matter bordering sulcal CSF (proximity in [0, 1]) — the part sulcal widening removes
        prox = ndimage.gaussian_filter(resample(sulcal_csf), 1.5 / v)
        prox = np.clip(prox / max(float(np.percentile(prox[self.gm > 0.3], 99)), 1e-6), 0, 1)
        self.gm_border = (self.gm * prox).astype(np.float32)
        self.gm_border_fraction = float(self.gm_border.sum() / self.gm.sum())
        # calibration: ventricle level t → volume ratio
        ts = np.concatenate([np.linspace(0.6, 0.1, 26), np.geomspace(0.1, 0.004, 30)[1:]])
        base = self.vent.sum()
        ratios = [float(_grown_ventricles(self.vent, self.vent_smooth, t, self.brain).sum() / base) for t in ts]
        self.cal_t = ts
        self.cal_ratio = np.maximum.accumulate(np.array(ratios))
        self.csf_level = float(np.median(self.t1[(self.vent > 0.9)]))

    def level_for_ratio(self, ratio: float) -> float:
        if ratio > self.cal_ratio[-1] + 1e-6:
            raise LdbenchError(
                f"ventricle enlargement ×{ratio:.2f} exceeds the phantom's range (×{self.cal_ratio[-1]:.2f})"
            )
        ratio = max(ratio, self.cal_ratio[0])
        # ratio increases as t decreases; interpolate in log t
        return float(np.exp(np.interp(ratio, self.cal_ratio, np.log(self.cal_t))))


def _grown_ventricles(vent: np.ndarray, smooth: np.ndarray, t: float, brain: np.ndarray) -> np.ndarray:
    grown = np.clip((smooth - t) / (_VENT_EDGE * t) + 0.5, 0.0, 1.0) * np.minimum(brain, 1.0)
    return np.maximum(vent, grown)


@functools.lru_cache(maxsize=4)
def _template(voxel_mm: float) -> _Template:
    return _Template(voxel_mm)


def warm_template() -> None:
    """Build the template at the default voxel size now (a few seconds): the warm worker calls this once, so
    the jobs it forks (counterfactual and ageing ground truths re-render phantoms) inherit it instead of each
    building its own."""
    _template(float(BrainVisitSpec.voxel_mm))


# --------------------------------------------------------------------------------------------
# subject anatomy (cached: all visits of a subject share it)


def _smooth_field(rng: np.random.Generator, coords: list[np.ndarray], spacing: float) -> np.ndarray:
    """Smooth random field of about unit RMS on the grid with axis coordinates ``coords`` (mm).

    Gaussian radial basis functions on a control grid of ``spacing`` mm with N(0, 1) weights,
    evaluated separably (cheap, and identical for a slab and the full grid at the same mm).
    """
    bases, ks = [], []
    for axis_mm in coords:
        centres = np.arange(-120.0, 120.0 + 1e-6, spacing)
        b = np.exp(-0.5 * ((axis_mm[:, None] - centres[None, :]) / (0.6 * spacing)) ** 2)
        bases.append((b / 1.2).astype(np.float32))
        ks.append(len(centres))
    w = rng.standard_normal(tuple(ks)).astype(np.float32)
    return np.einsum("abc,ia,jb,kc->ijk", w, *bases, optimize=True).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _subject_maps(anatomy_seed: int, sex: str, voxel_mm: float, slab: bool) -> dict[str, np.ndarray]:
    tp = _template(voxel_mm)
    rng = np.random.default_rng([int(anatomy_seed), 1])
    z0, z1 = 0, tp.shape[2]
    if slab:
        z0 = int(round((SLAB_Z_MM[0] - GRID_MIN_MM[2]) / voxel_mm))
        z1 = int(round((SLAB_Z_MM[1] - GRID_MIN_MM[2]) / voxel_mm)) + 1
    shape = (tp.shape[0], tp.shape[1], z1 - z0)
    # world mm of every output voxel
    g = np.meshgrid(
        *[GRID_MIN_MM[a] + voxel_mm * np.arange(n, dtype=np.float32) + (z0 * voxel_mm if a == 2 else 0.0)
          for a, n in enumerate(shape)],
        indexing="ij",
    )
    world = np.stack(g)  # (3, X, Y, Z)
    # global similarity: head size by sex and individual, rotation, translation
    scale = (0.965 if sex == "F" else 1.0) * (1.0 + 0.04 * float(np.clip(rng.standard_normal(), -2, 2)))
    aniso = 1.0 + 0.02 * rng.standard_normal(3)
    angles = np.deg2rad(3.0 * np.clip(rng.standard_normal(3), -2, 2))
    shift = 2.0 * rng.standard_normal(3)
    rot = _rotation(*angles)
    m_inv = np.linalg.inv(rot @ np.diag(scale * aniso))
    centre = np.array([0.0, -18.0, 18.0])
    p = np.einsum("ij,j...->i...", m_inv.astype(np.float32), world - (centre + shift)[:, None, None, None].astype(np.float32))
    p += centre[:, None, None, None].astype(np.float32)
    # smooth non-linear displacement, defined in mm so slab and full renders agree
    axes = [GRID_MIN_MM[a] + voxel_mm * np.arange(n, dtype=np.float32) + (z0 * voxel_mm if a == 2 else 0.0)
            for a, n in enumerate(shape)]
    for a in range(3):
        p[a] += 2.5 * _smooth_field(rng, axes, 24.0)
    idx = [(p[a] - tp.affine[a, 3]) / voxel_mm for a in range(3)]
    sample = lambda vol: ndimage.map_coordinates(vol, idx, order=1, mode="constant", cval=0.0).astype(np.float32)
    affine = tp.affine.copy()
    affine[2, 3] += z0 * voxel_mm
    return {
        "t1": sample(tp.t1),
        "vent": sample(tp.vent),
        "vent_smooth": sample(tp.vent_smooth),
        "gm": sample(tp.gm),
        "gm_border": sample(tp.gm_border),
        "brain": sample(tp.brain),
        "affine": affine,
        "norm": (world[0] / 90.0, world[1] / 110.0, (world[2] - 18.0) / 90.0),
    }


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


# --------------------------------------------------------------------------------------------
# rendering


def render(spec: BrainVisitSpec, slab: bool = True, **changed) -> BrainRender:
    """Render one scan; keyword arguments replace fields of ``spec`` (age=…, diagnosis=…).

    With nothing changed the result is identical on every call.  Changing ``age`` or ``diagnosis``
    changes only the atrophy (ventricles, sulci); anatomy, contrast, bias field and noise stay.
    """
    if changed:
        spec = dataclasses.replace(spec, **changed)
    if spec.diagnosis not in VENTRICLE_DX_FACTOR:
        raise LdbenchError(f"diagnosis must be one of {DIAGNOSES}, got {spec.diagnosis!r}")
    if spec.sex not in ("F", "M"):
        raise LdbenchError(f"sex must be 'F' or 'M', got {spec.sex!r}")
    tp = _template(float(spec.voxel_mm))
    maps = _subject_maps(int(spec.anatomy_seed), spec.sex, float(spec.voxel_mm), bool(slab))

    # atrophy: ventricles grow along smoothed level sets, border grey matter turns into CSF
    t = tp.level_for_ratio(ventricle_volume_factor(spec.age, spec.diagnosis))
    vent = _grown_ventricles(maps["vent"], maps["vent_smooth"], t, maps["brain"])
    k = min(1.0, gm_loss_fraction(spec.age, spec.diagnosis) / tp.gm_border_fraction)
    gm_lost = k * maps["gm_border"] * (maps["brain"] > 0)
    to_csf = np.clip((vent - maps["vent"]) + gm_lost, 0.0, 1.0) * (maps["brain"] > 0)
    x = maps["t1"] * (1.0 - to_csf) + tp.csf_level * to_csf * np.minimum(maps["brain"] * 1.5, 1.0)
    gm_after = np.clip(maps["gm"] - gm_lost - np.clip(vent - maps["vent"], 0, 1) * maps["gm"], 0, 1)

    # scanner: contrast curve, gain, bias field, Rician noise
    rng = np.random.default_rng([int(spec.scan_seed), 2])
    levels = np.array([0.0, tp.csf_level, 0.65, 0.86, 1.0])
    jit = levels + np.array([0.0, 0.06, 0.05, 0.03, 0.0]) * rng.uniform(-1, 1, 5)
    jit = np.maximum.accumulate(jit + np.arange(5) * 1e-3)
    y = np.interp(x, levels, jit).astype(np.float32)
    gain = float(rng.uniform(600.0, 1000.0))
    nx, ny, nz = maps["norm"]
    coef = rng.normal(0.0, 0.06, 9)
    logb = (coef[0] * nx + coef[1] * ny + coef[2] * nz + coef[3] * nx * ny + coef[4] * ny * nz
            + coef[5] * nx * nz + coef[6] * nx**2 + coef[7] * ny**2 + coef[8] * nz**2)
    y = y * np.exp(logb).astype(np.float32) * gain
    sigma = float(rng.uniform(0.02, 0.04)) * 0.86 * gain
    n1 = rng.standard_normal(y.shape, dtype=np.float32) * sigma
    n2 = rng.standard_normal(y.shape, dtype=np.float32) * sigma
    vol = np.sqrt((y + n1) ** 2 + n2**2).astype(np.float32)
    return BrainRender(vol, maps["affine"].copy(), vent.astype(np.float32), gm_after.astype(np.float32),
                       float(spec.voxel_mm), maps["brain"])


# --------------------------------------------------------------------------------------------
# NIfTI writing (byte-stable: gzip header mtime = 0)


def nifti_bytes(volume: np.ndarray, affine: np.ndarray, dtype=np.int16) -> bytes:
    """Uncompressed NIfTI-1 bytes of ``volume`` (rounded to ``dtype``) with qform/sform = affine."""
    import nibabel as nib

    data = np.clip(np.rint(volume), np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    return img.to_bytes()


def write_nifti_gz(path: Path, volume: np.ndarray, affine: np.ndarray, dtype=np.int16) -> None:
    raw = nifti_bytes(volume, affine, dtype)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=1, mtime=0) as gz:
        gz.write(raw)
    Path(path).write_bytes(buf.getvalue())


# --------------------------------------------------------------------------------------------
# dataset


def draw_cohort(n_subjects: int, seed: int, visits: tuple[int, int] = (2, 4), voxel_mm: float = 2.0) -> pd.DataFrame:
    """The cohort's visit table (one row per scan) with its render specs; deterministic in ``seed``."""
    lo, hi = int(visits[0]), int(visits[1])
    if not (1 <= lo <= hi):
        raise LdbenchError(f"visits must be (min, max) with 1 ≤ min ≤ max, got {visits}")
    rng = np.random.default_rng(derive_seed(seed, "brain_phantom", "cohort"))
    rows = []
    for s in range(int(n_subjects)):
        subject = f"OAS3{s + 1:04d}"
        sex = "F" if rng.random() < 0.56 else "M"
        age0 = float(np.clip(rng.normal(72.0, 8.0), 55.0, 90.0))
        p_ad = 0.10 + 0.20 * (age0 - 55.0) / 35.0
        u = rng.random()
        dx = "AD" if u < p_ad else ("MCI" if u < p_ad + 0.25 else "CN")
        anatomy_seed = int(rng.integers(0, 2**31 - 1))
        n_vis = int(rng.integers(lo, hi + 1))
        day = int(rng.integers(0, 120))
        for v in range(n_vis):
            if v > 0:
                dt_years = float(rng.uniform(1.0, 3.0))
                day += int(round(dt_years * 365.25))
                if dx in CONVERSION_RATE and rng.random() < 1.0 - math.exp(-CONVERSION_RATE[dx] * dt_years):
                    dx = "MCI" if dx == "CN" else "AD"
            age = age0 + day / 365.25
            cdr = {"CN": 0.0, "MCI": 0.5, "AD": 1.0}[dx]
            if dx == "AD" and rng.random() < 0.25:
                cdr = 2.0
            clin_day = max(0, day + int(rng.integers(-60, 61)))
            rows.append(
                {
                    "subject": subject,
                    "days": day,
                    "clinical_days": clin_day,
                    "age": age,
                    "clinical_age": age0 + clin_day / 365.25,
                    "sex": sex,
                    "diagnosis": dx,
                    "cdr": cdr,
                    "anatomy_seed": anatomy_seed,
                    "scan_seed": int(rng.integers(0, 2**31 - 1)),
                }
            )
    frame = pd.DataFrame(rows)
    frame["spec"] = [
        BrainVisitSpec(r.subject, r.anatomy_seed, r.scan_seed, r.sex, float(r.age), r.diagnosis, float(voxel_mm))
        for r in frame.itertuples()
    ]
    return frame


def make_brain_phantom_dataset(
    out_root: Path, n_subjects: int, seed: int, visits: tuple[int, int] = (2, 4), voxel_mm: float = 2.0
) -> None:
    """Write an OASIS-3-like phantom: ``sub-OAS3XXXX/ses-dNNNN/anat/sub-OAS3XXXX_ses-dNNNN_T1w.nii.gz``.

    ``NNNN`` is the number of days since the subject's entry.  ``clinical.csv`` (subject,
    days_since_entry, age, sex, cdr, diagnosis) holds one clinical assessment per scan, dated up to
    60 days away from it, as in OASIS-3 where MR sessions and clinical visits are matched by date.
    """
    if n_subjects < 1:
        raise LdbenchError(f"n_subjects must be ≥ 1, got {n_subjects}")
    cohort = draw_cohort(n_subjects, seed, visits, voxel_mm)
    out_root = Path(out_root)
    with atomic_dir(out_root) as tmp:
        for row in progress(cohort.itertuples(), total=len(cohort), desc="brain phantom", unit="scan"):
            ses = f"ses-d{row.days:04d}"
            anat = tmp / f"sub-{row.subject}" / ses / "anat"
            anat.mkdir(parents=True, exist_ok=True)
            r = render(row.spec)
            write_nifti_gz(anat / f"sub-{row.subject}_{ses}_T1w.nii.gz", r.volume, r.affine)
        clinical = pd.DataFrame(
            {
                "subject": cohort["subject"],
                "days_since_entry": cohort["clinical_days"],
                "age": cohort["clinical_age"].round(2),
                "sex": cohort["sex"],
                "cdr": cohort["cdr"],
                "diagnosis": cohort["diagnosis"],
            }
        )
        clinical.to_csv(tmp / "clinical.csv", index=False, lineterminator="\n")
    _subject_maps.cache_clear()
