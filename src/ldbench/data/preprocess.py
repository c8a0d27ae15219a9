"""Volumes and radiographs → one 2-D slice table (PNG + ``slices.csv``) with splits and prompts.

Brain (``kind="brain"``), per T1w volume:

1. load with nibabel, reorient to the closest canonical (RAS+) orientation; a missing, corrupt or
   non-3-D file is an :class:`LdbenchError` naming the file;
2. find the axial level of the lateral ventricles: with an MNI/Talairach sform (codes 3, 4) at
   world z = ``VENTRICLE_Z_MNI``; otherwise from intensities — per axial slice, the area of dark
   (CSF-like, below half the 95th percentile of the head) voxels inside the central box of the
   head (middle 40 % left–right, 50 % front–back), over slices whose head cross-section is at least
   70 % of the largest; the level is the (3-slice smoothed) maximum.  Then move ``slice_offset_mm``;
3. take that axial slice (linear between neighbouring slices), mask the brain (foreground above an
   Otsu threshold, opened by 3 mm to cut the skull off, largest component, holes filled),
   normalise the 1st–99th percentile inside the mask to 0–255 (background 0);
4. resample a square field of view (``BRAIN_FOV_MM``, centred on the mask, larger if the brain is)
   to ``image_size``² in radiological orientation (anterior up, patient right on the image left),
   save as 8-bit grayscale PNG.

Chest X-ray (``kind="cxr"``): each image → grayscale, longest side resized to ``image_size``
(Lanczos), centred on a black square canvas, PNG.

Splits are drawn by subject with ``seed``: ``round(f_test·n)`` subjects for test,
``round(f_val·n)`` for val, the rest train.  Unreadable inputs are skipped and recorded, with the
adapter's dropped rows, in ``dropped.csv`` (``ldbench.data.drops``); a reason above its cap is an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from ..config import schema_defaults
from ..prompts import build_prompt
from ..seeds import derive_seed
from ..utils import LdbenchError, atomic_dir, atomic_path, progress, write_csv
from .drops import DropLog

#: MNI z (mm) of the largest lateral-ventricle cross-section of the MNI152 template: the axial
#: level of a volume registered to MNI/Talairach space (sform code 3 or 4).
VENTRICLE_Z_MNI = 20.0
BRAIN_FOV_MM = 180.0
MAX_BAD_FRACTION = 0.10  # default cap per drop reason (a fraction of the raw inputs)
DROPPED_CSV = "dropped.csv"
SPLITS = ("train", "val", "test")

_log = logging.getLogger("ldbench")


# ------------------------------------------------------------------------------------------ volumes


def load_volume(path: str | Path) -> tuple[np.ndarray, np.ndarray, int]:
    """A 3-D volume reoriented to RAS+: (float32 data, affine, sform code)."""
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    path = Path(path)
    if not path.exists():
        raise LdbenchError(f"{path}: volume file not found")
    try:
        img = nib.load(str(path))
        img = nib.as_closest_canonical(img)
        data = np.asarray(img.dataobj, dtype=np.float32)
    except (ImageFileError, OSError, EOFError, ValueError, TypeError) as err:
        raise LdbenchError(f"{path}: not a readable NIfTI volume ({type(err).__name__}: {err})") from err
    except Exception as err:  # zlib.error, struct.error, … from a truncated file
        raise LdbenchError(f"{path}: not a readable NIfTI volume ({type(err).__name__}: {err})") from err
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3 or min(data.shape) < 2:
        raise LdbenchError(f"{path}: expected a 3-D volume, got shape {tuple(data.shape)}")
    if not np.isfinite(data).all():
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    if float(data.max()) <= float(data.min()):
        raise LdbenchError(f"{path}: volume is constant (no image content)")
    try:
        code = int(img.header["sform_code"])
    except (KeyError, TypeError, ValueError):
        code = 0
    return data, img.affine, code


def _otsu(values: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values))


def ventricle_level(data: np.ndarray, affine: np.ndarray, sform_code: int = 0) -> float:
    """Axial voxel index (float) of the lateral ventricles in a RAS+ volume (see module doc)."""
    if sform_code in (3, 4):
        inv = np.linalg.inv(affine)
        centre = affine @ np.array([*(np.array(data.shape) / 2.0), 1.0])
        k = (inv @ np.array([centre[0], centre[1], VENTRICLE_Z_MNI, 1.0]))[2]
        if 0 <= k <= data.shape[2] - 1:
            return float(k)
    sample = data[::2, ::2, ::2].ravel()
    t_bg = _otsu(sample[sample > np.percentile(sample, 1)])
    head = data > t_bg
    p95 = float(np.percentile(data[head], 95)) if head.any() else float(data.max())
    t_csf = 0.5 * p95
    areas = np.zeros(data.shape[2])
    dark = np.zeros(data.shape[2])
    for k in range(data.shape[2]):
        m = ndimage.binary_fill_holes(head[:, :, k])
        areas[k] = m.sum()
        if areas[k] < 10:
            continue
        xs, ys = np.nonzero(m)
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0), (y1 - y0)
        box = np.zeros_like(m)
        box[int(cx - 0.2 * wx): int(cx + 0.2 * wx) + 1, int(cy - 0.25 * wy): int(cy + 0.25 * wy) + 1] = True
        dark[k] = np.count_nonzero(m & box & (data[:, :, k] < t_csf))
    ok = areas >= 0.7 * areas.max()
    score = np.convolve(np.where(ok, dark, 0.0), np.ones(3) / 3, mode="same") * ok
    if score.max() <= 0:
        return float(np.argmax(areas))
    return float(np.argmax(score))


def _brain_mask_2d(sl: np.ndarray, t_bg: float, voxel_mm: float) -> np.ndarray:
    m = sl > t_bg
    r = max(1, int(round(3.0 / voxel_mm)))
    opened = ndimage.binary_opening(m, structure=np.ones((3, 3)), iterations=r)
    lab, n = ndimage.label(opened if opened.any() else m)
    if n == 0:
        return m
    sizes = ndimage.sum(np.ones_like(lab), lab, np.arange(1, n + 1))
    keep = lab == (int(np.argmax(sizes)) + 1)
    keep = ndimage.binary_dilation(keep, structure=np.ones((3, 3)), iterations=r) & m
    return ndimage.binary_fill_holes(keep)


def brain_slice(path: str | Path, image_size: int, slice_offset_mm: float = 0.0) -> np.ndarray:
    """The uint8 (image_size, image_size) ventricle-level axial slice of one T1w volume file."""
    data, affine, code = load_volume(path)
    return brain_slice_from_array(data, affine, image_size, slice_offset_mm, sform_code=code, name=str(path))


def brain_slice_from_array(data: np.ndarray, affine: np.ndarray, image_size: int, slice_offset_mm: float = 0.0,
                           sform_code: int = 0, level: float | None = None, name: str = "volume",
                           return_level: bool = False):
    """As :func:`brain_slice` for a RAS+ array; ``level`` (axial voxel index) skips the ventricle search."""
    vox = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    if level is None:
        level = ventricle_level(data, affine, sform_code)
    k = float(level) + float(slice_offset_mm) / float(vox[2])
    if k < 0 or k > data.shape[2] - 1:
        raise LdbenchError(
            f"{name}: slice at offset {slice_offset_mm} mm lies outside the volume ({data.shape[2]} axial slices)"
        )
    k0 = int(np.floor(k))
    k1 = min(k0 + 1, data.shape[2] - 1)
    w = k - k0
    sl = (1 - w) * data[:, :, k0] + w * data[:, :, k1]
    sample = data[::2, ::2, ::2].ravel()
    t_bg = _otsu(sample[sample > np.percentile(sample, 1)])
    mask = _brain_mask_2d(sl, t_bg, float(min(vox[0], vox[1])))
    if mask.sum() < 20:
        raise LdbenchError(f"{name}: no brain found at the ventricle level")
    lo, hi = np.percentile(sl[mask], [1, 99])
    norm = np.clip((sl - lo) / max(hi - lo, 1e-6), 0, 1) * 255.0 * mask
    # square field of view centred on the brain, radiological orientation
    xs, ys = np.nonzero(mask)
    cx, cy = (xs.min() + xs.max()) / 2.0, (ys.min() + ys.max()) / 2.0
    extent = max((xs.max() - xs.min() + 1) * vox[0], (ys.max() - ys.min() + 1) * vox[1]) * 1.05
    fov = max(BRAIN_FOV_MM, extent)
    step = fov / image_size
    offs = (np.arange(image_size) - (image_size - 1) / 2.0) * step
    sigma = [max(0.0, 0.5 * (step / vox[a] - 1.0)) for a in range(2)]
    if max(sigma) > 0:
        norm = ndimage.gaussian_filter(norm, sigma)
    rows_y = cy + offs[::-1] / vox[1]  # image row 0 = most anterior
    cols_x = cx + offs[::-1] / vox[0]  # image column 0 = patient right (largest x)
    yy, xx = np.meshgrid(rows_y, cols_x, indexing="ij")
    out = ndimage.map_coordinates(norm.astype(np.float32), [xx, yy], order=1, mode="constant", cval=0.0)
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return (out, float(level)) if return_level else out


def cxr_image(path: str | Path, image_size: int) -> np.ndarray:
    """The uint8 (image_size, image_size) grayscale radiograph, aspect kept, black padding."""
    path = Path(path)
    if not path.exists():
        raise LdbenchError(f"{path}: image file not found")
    try:
        with Image.open(path) as img:
            img.load()
            gray = img.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise LdbenchError(f"{path}: not a readable image ({err})") from err
    w, h = gray.size
    if w < 2 or h < 2:
        raise LdbenchError(f"{path}: image too small ({w}×{h})")
    return fit_square(gray, image_size)


def fit_square(gray: Image.Image | np.ndarray, image_size: int) -> np.ndarray:
    """Longest side → ``image_size`` (Lanczos), centred on a black square canvas."""
    if isinstance(gray, np.ndarray):
        gray = Image.fromarray(gray, mode="L")
    w, h = gray.size
    scale = image_size / max(w, h)
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    small = gray.resize((nw, nh), Image.LANCZOS)
    canvas = Image.new("L", (image_size, image_size), 0)
    canvas.paste(small, ((image_size - nw) // 2, (image_size - nh) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def save_png(path: Path, pixels: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(pixels, mode="L").save(tmp, format="PNG", optimize=False, compress_level=6)


# ------------------------------------------------------------------------------------------ splits


def assign_splits(subjects, split_fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Subject → split; test and val get round(fraction · n_subjects) subjects, train the rest."""
    fr = {("val" if k == "valid" else k): float(v) for k, v in dict(split_fractions).items()}
    unknown = set(fr) - set(SPLITS)
    if unknown:
        raise LdbenchError(f"split_fractions: unknown split(s) {sorted(unknown)}; expected {SPLITS}")
    if any(v < 0 for v in fr.values()) or abs(sum(fr.values()) - 1.0) > 1e-6:
        raise LdbenchError(f"split_fractions must be non-negative and sum to 1, got {split_fractions}")
    uniq = sorted(set(map(str, subjects)))
    n = len(uniq)
    n_test = int(round(fr.get("test", 0.0) * n))
    n_val = int(round(fr.get("val", 0.0) * n))
    if n_test + n_val > n:
        raise LdbenchError(f"split_fractions {split_fractions} leave no room with {n} subjects")
    order = np.random.default_rng(derive_seed(seed, "preprocess", "split")).permutation(n)
    out = {}
    for rank, i in enumerate(order):
        out[uniq[i]] = "test" if rank < n_test else ("val" if rank < n_test + n_val else "train")
    return out


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in str(text))


# ------------------------------------------------------------------------------------------ table


def build_slice_table(kind: str, volumes: pd.DataFrame, out_dir: Path, image_size: int, modality: str, seed: int,
                      split_fractions: dict[str, float], options: Mapping[str, Any] | None = None, log=None,
                      drops: DropLog | None = None, max_dropped: float = MAX_BAD_FRACTION,
                      max_dropped_by_reason: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Write ``out_dir/images/*.png``, ``out_dir/slices.csv``, the longitudinal ``pairs.csv`` and
    ``dropped.csv`` (every input left out, with its reason: the adapter's ``drops`` and the files
    that cannot be read here).

    ``options``: the dataset's kind-specific settings (e.g. brain ``slice_offset_mm``); missing
    ones take the kind's schema defaults. A drop reason above its cap (``max_dropped``, or its
    entry in ``max_dropped_by_reason``; fractions of the raw inputs) is an error. The images are
    written into a temporary folder that replaces ``images/`` only when every slice is done, so a
    failed run leaves no partial folder.
    """
    from ..kinds import get_kind

    log = log or _log
    dataset_kind = get_kind(kind)
    options = {**schema_defaults(dataset_kind.options_schema), **(options or {})}
    missing = [c for c in dataset_kind.required_columns if c not in volumes.columns]
    if missing:
        raise LdbenchError(f"{kind} input table lacks column(s) {missing}")
    if len(volumes) == 0:
        raise LdbenchError(f"{kind} input table is empty")
    image_size = int(image_size)
    out_dir = Path(out_dir)
    img_dir = out_dir / "images"
    if drops is None:
        drops = DropLog(inputs=len(volumes))

    vols = volumes.reset_index(drop=True)
    names, used = [], set()
    for r in vols.itertuples(index=False):
        base = _safe(dataset_kind.slice_name(r))
        name, k = base, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        names.append(name + ".png")

    rows = []
    with atomic_dir(img_dir) as tmp_dir:
        for i, r in enumerate(progress(vols.itertuples(index=False), total=len(vols), desc=f"{kind} slices", unit="img")):
            try:
                pix = dataset_kind.load_pixels(r.path, image_size, options)
            except LdbenchError as err:
                drops.add(r.path, r.subject, "unreadable_file", str(err))
                continue
            save_png(tmp_dir / names[i], pix)
            rows.append((i, str(img_dir / names[i])))
        unreadable = drops.counts()["unreadable_file"]
        if unreadable:
            bad = [row["detail"] for row in drops.rows if row["reason"] == "unreadable_file"]
            log.warning("%s: %d of %d inputs unreadable and skipped: %s%s", kind, unreadable, len(vols), "; ".join(bad[:5]),
                        " …" if unreadable > 5 else "")
        drops.check(max_dropped, max_dropped_by_reason or {}, f"{kind} ({out_dir})")
    keep = vols.iloc[[i for i, _ in rows]].reset_index(drop=True)
    table = pd.DataFrame({
        "image": [p for _, p in rows],
        "subject": keep["subject"].astype(str),
        "visit": keep["visit"].astype(str),
        "age": keep["age"].astype(float).round(2),
        "sex": keep["sex"].map(lambda s: "F" if str(s).upper().startswith("F") else "M"),
    })
    splits = assign_splits(table["subject"], split_fractions, seed)
    table["split"] = table["subject"].map(splits)
    table = dataset_kind.add_labels(table, keep)
    table["source"] = keep["path"].astype(str)
    table["prompt"] = [build_prompt(row, kind, modality) for row in table.to_dict("records")]
    first = ["image", "subject", "visit", "age", "sex", "split", "prompt"]
    table = table[first + [c for c in table.columns if c not in first]]
    write_csv(out_dir / "slices.csv", table)
    write_csv(out_dir / "pairs.csv", longitudinal_pairs(table))
    write_csv(out_dir / DROPPED_CSV, drops.frame())
    log.info("%s: %d slices (%s) written to %s", kind, len(table),
             ", ".join(f"{s} {int((table['split'] == s).sum())}" for s in SPLITS), out_dir)
    return table


def longitudinal_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """All (earlier, later) visit pairs of each subject with increasing age."""
    rows = []
    for subject, g in table.sort_values(["subject", "age"], kind="mergesort").groupby("subject", sort=True):
        recs = g.to_dict("records")
        for i in range(len(recs)):
            for j in range(i + 1, len(recs)):
                a, b = recs[i], recs[j]
                if b["age"] <= a["age"]:
                    continue
                rows.append({"subject": subject, "image_young": a["image"], "image_old": b["image"],
                             "age_young": a["age"], "age_old": b["age"], "split": a["split"],
                             "diagnosis_young": a.get("diagnosis"), "diagnosis_old": b.get("diagnosis"),
                             "visit_young": a["visit"], "visit_old": b["visit"]})
    cols = ["subject", "image_young", "image_old", "age_young", "age_old", "split", "diagnosis_young", "diagnosis_old", "visit_young", "visit_old"]
    return pd.DataFrame(rows, columns=cols)
