"""Ground-truth counterfactual images of the phantom datasets, as the slice table would show them.

The phantom datasets are pure functions of ``(n, seed)``: each kind's ``phantom_specs``
(``ldbench.kinds``) recovers the render spec of every image, keyed by the slice table's ``subject``
and ``visit``.  The ``*_counterfactual`` functions render the factual image exactly as
preprocessing produced it (same slice level, normalisation, resize; for X-rays the same JPEG round
trip) and the same subject with attributes changed (``diagnosis="AD"``, ``age=80``,
``pleural_effusion=0.8`` …), everything else identical.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .phantoms import brain as brain_phantom
from .phantoms import cxr as cxr_phantom
from .preprocess import brain_slice_from_array, fit_square


def _as_stored(volume: np.ndarray) -> np.ndarray:
    """The voxel values as written to (and read back from) the int16 NIfTI file."""
    return np.clip(np.rint(volume), -32768, 32767).astype(np.int16).astype(np.float32)


def brain_counterfactual(spec: brain_phantom.BrainVisitSpec, image_size: int, slice_offset_mm: float = 0.0,
                         **changed) -> tuple[np.ndarray, np.ndarray]:
    """(factual, counterfactual) uint8 slices at the factual scan's ventricle level."""
    fac = brain_phantom.render(spec)
    x, level = brain_slice_from_array(_as_stored(fac.volume), fac.affine, image_size, slice_offset_mm,
                                      sform_code=1, name=spec.subject, return_level=True)
    cf = brain_phantom.render(spec, **changed)
    y = brain_slice_from_array(_as_stored(cf.volume), cf.affine, image_size, slice_offset_mm, sform_code=1,
                               level=level, name=spec.subject)
    return x, y


def _via_jpeg(pixels: np.ndarray) -> np.ndarray:
    with Image.open(io.BytesIO(cxr_phantom.jpeg_bytes(pixels))) as im:
        return np.asarray(im.convert("L"))


def cxr_counterfactual(spec: cxr_phantom.CxrSpec, image_size: int, jpeg: bool = True,
                       **changed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(factual, counterfactual, changed-region mask) at ``image_size``.

    With ``jpeg`` the images pass through the dataset's JPEG encoding first, so the factual image
    equals the slice-table PNG; the region mask (union of the changed findings' regions) is
    resized with "any pixel" pooling.
    """
    fac = cxr_phantom.render(spec)
    cf = cxr_phantom.render(spec, **changed)
    a, b = fac.to_uint8(), cf.to_uint8()
    if jpeg:
        a, b = _via_jpeg(a), _via_jpeg(b)
    before, after = dict(fac.spec.findings), dict(cf.spec.findings)
    region = np.zeros(a.shape, dtype=bool)
    for name in set(before) | set(after):
        if before.get(name) != after.get(name):
            for r in (fac, cf):
                if name in r.regions:
                    region |= r.regions[name]
    if (fac.spec.age, fac.spec.sex, fac.spec.view) != (cf.spec.age, cf.spec.sex, cf.spec.view):
        region[:] = True  # anatomy-wide change
    small = np.asarray(Image.fromarray(region.astype(np.uint8) * 255).resize(
        (image_size, image_size), Image.BOX)) > 0
    return fit_square(a, image_size), fit_square(b, image_size), small
