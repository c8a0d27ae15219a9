"""Procedural frontal chest X-ray phantom with CheXpert labels and ground-truth counterfactuals.

The image is a projection: every structure adds (bone, soft tissue, fluid) or removes (air in the
lungs) attenuation ``A`` along the ray, and the detector shows ``1 − exp(−k·A)`` windowed with a
per-image exposure and gamma, plus detector noise.  Anatomy: body outline with neck and shoulders,
two lungs (apices, costophrenic angles, hemidiaphragm domes — the right one higher), heart and
mediastinum with aortic knob, gastric bubble, posterior and anterior ribs, clavicles, humeral heads,
spine with vertebral bodies, hilar vessels and lung markings, breast shadows in women; bones lose
density with age.  Orientation is the radiological one (patient's right on the image left).

Findings, each confined to its own region (``CxrRender.regions``):

* Cardiomegaly — the heart widens so the cardiothoracic ratio (CTR) goes from its normal 0.40–0.48
  to CTR_normal + 0.08 + 0.14·severity (> 0.5 at any severity ≥ 0.5, the clinical threshold).
* Enlarged Cardiomediastinum — the upper mediastinum widens by up to 0.06 of the image width.
* Pleural Effusion — dependent fluid at one or both bases with a meniscus rising laterally; the
  costophrenic angle is blunted and the hemidiaphragm silhouette lost.
* Consolidation — dense lobar opacity with irregular margin and air bronchograms.
* Pneumonia — patchy multifocal airspace opacity within one zone.
* Lung Opacity — hazy opacity (drawn only when no other opacity explains the label).
* Edema — bilateral perihilar ("bat-wing") haze.   * Atelectasis — plate-like basal band.
* Pneumothorax — apical/lateral lucent rim without lung markings and a visceral pleural line.
* Lung Lesion — a round nodule/mass.   * Pleural Other — lateral pleural thickening.
* Fracture — a rib with a gap and callus.   * Support Devices — ET tube, central line, ECG leads,
  pacemaker with lead.

A :class:`CxrSpec` fixes the patient's anatomy (``anatomy_seed``), the exposure and noise
(``noise_seed``) and the severity of each finding; :func:`render` is a pure function of it, so
``render(spec, pleural_effusion=0.8)`` is the same radiograph with an effusion added.

:func:`make_cxr_phantom_dataset` draws age, sex, view (AP/PA) and the 14 label values of real
patients from the CheXpert train table that ships with torchxrayvision (``chexpert_train.csv.gz``)
and renders each study accordingly: positive (1.0) findings at severity 0.55–1, uncertain (−1.0)
ones subtly (0.2–0.4), negative and blank ones not at all.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ...seeds import derive_seed
from ...utils import LdbenchError, atomic_dir, progress
from ..adapters.chexpert import CHEXPERT_COLUMNS, CHEXPERT_LABELS

#: findings the phantom renders (all CheXpert labels except "No Finding")
FINDINGS = CHEXPERT_LABELS[1:]
JPEG_QUALITY = 90
NORMAL_CTR = (0.40, 0.48)


def finding_key(name: str) -> str:
    """'Pleural Effusion' → 'pleural_effusion' (keyword form used by :func:`render`)."""
    return name.lower().replace(" ", "_")


_KEY_TO_FINDING = {finding_key(f): f for f in FINDINGS}


@dataclass(frozen=True)
class CxrSpec:
    """Everything that determines one phantom radiograph."""

    patient: str
    anatomy_seed: int
    noise_seed: int
    age: float
    sex: str  # "F" / "M"
    view: str = "PA"  # "PA" / "AP"
    findings: tuple[tuple[str, float], ...] = ()  # (CheXpert finding, severity in (0, 1])
    image_size: int = 256

    def severity(self, finding: str) -> float:
        return dict(self.findings).get(finding, 0.0)


@dataclass
class CxrRender:
    image: np.ndarray  # float32 in [0, 1], (H, W)
    regions: dict[str, np.ndarray] = field(default_factory=dict)  # finding → bool mask where it acts
    lungs: np.ndarray | None = None  # bool mask of the lung fields
    ctr: float = 0.0  # cardiothoracic ratio as drawn
    spec: CxrSpec | None = None  # the spec rendered (after the changes)

    def to_uint8(self) -> np.ndarray:
        return np.rint(np.clip(self.image, 0, 1) * 255.0).astype(np.uint8)


def _ss(x):
    """Smoothstep on [0, 1] (0 below, 1 above)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@functools.lru_cache(maxsize=4)
def _base_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    c = (np.arange(n, dtype=np.float32) + 0.5) / n * 2.0 - 1.0
    v, u = np.meshgrid(c, c, indexing="ij")
    return u, v


def _polyline_dist(u, v, pts: np.ndarray, reach: float = 0.05) -> np.ndarray:
    """Distance of every pixel to the polyline through ``pts`` ((K, 2) in (u, v)).

    Only pixels within ``reach`` of the points' bounding box are computed; the rest get ``inf``.
    """
    d2 = np.full(u.shape, np.inf, dtype=np.float32)
    rows, cols = _window(u, v, pts[:, 0].min() - reach, pts[:, 0].max() + reach,
                         pts[:, 1].min() - reach, pts[:, 1].max() + reach)
    uw, vw, dw = u[rows, cols], v[rows, cols], d2[rows, cols]
    for (au, av), (bu, bv) in itertools.pairwise(pts):
        eu, ev = bu - au, bv - av
        t = np.clip(((uw - au) * eu + (vw - av) * ev) / max(eu * eu + ev * ev, 1e-12), 0.0, 1.0)
        np.minimum(dw, (uw - au - t * eu) ** 2 + (vw - av - t * ev) ** 2, out=dw)
    return np.sqrt(d2)


def _window(u, v, umin, umax, vmin, vmax) -> tuple[slice, slice]:
    """Row and column slices that contain every pixel with u in [umin, umax] and v in [vmin, vmax]."""
    rmask = (v.max(axis=1) >= vmin) & (v.min(axis=1) <= vmax)
    cmask = (u.max(axis=0) >= umin) & (u.min(axis=0) <= umax)
    if not rmask.any() or not cmask.any():
        return slice(0, 0), slice(0, 0)
    r = np.flatnonzero(rmask)
    c = np.flatnonzero(cmask)
    return slice(int(r[0]), int(r[-1]) + 1), slice(int(c[0]), int(c[-1]) + 1)


def _bezier(p0, p1, p2, n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t**2 * np.array(p2)


def _smooth_noise(rng: np.random.Generator, n: int, sigma_px: float) -> np.ndarray:
    from scipy import ndimage

    f = ndimage.gaussian_filter(rng.standard_normal((n, n)).astype(np.float32), sigma_px, mode="wrap")
    return f / max(float(f.std()), 1e-6)


class _Anatomy:
    """Geometry of one patient (seeded); findings modify it through explicit parameters."""

    def __init__(self, spec: CxrSpec):
        rng = np.random.default_rng([int(spec.anatomy_seed), 0])
        n = spec.image_size
        self.n = n
        u0, v0 = _base_grid(n)
        ang = math.radians(1.5 * float(np.clip(rng.standard_normal(), -2, 2)))
        du, dv = 0.03 * rng.uniform(-1, 1), 0.03 * rng.uniform(-1, 1)
        zoom = 1.0 + 0.04 * rng.uniform(-1, 1)
        if spec.view == "AP":
            zoom *= 1.04
        uu, vv = (u0 - du) / zoom, (v0 - dv) / zoom
        self.u = (math.cos(ang) * uu - math.sin(ang) * vv).astype(np.float32)
        self.v = (math.sin(ang) * uu + math.cos(ang) * vv).astype(np.float32)
        female = spec.sex == "F"
        self.w0 = (0.72 if female else 0.77) * (1.0 + 0.035 * rng.uniform(-1, 1))
        self.v_top = -0.70 + 0.03 * rng.uniform(-1, 1)
        insp = 0.05 * rng.uniform(-1, 1) - (0.05 if spec.view == "AP" else 0.0)  # AP films: shallower inspiration
        self.v_cp = 0.56 + insp  # costophrenic angles
        self.dome = {-1: self.v_cp - 0.20 + 0.03 * rng.uniform(-1, 1), 1: self.v_cp - 0.15 + 0.03 * rng.uniform(-1, 1)}
        self.mediast = 0.085 + 0.01 * rng.uniform(-1, 1)
        self.knob = 0.04 + 0.015 * rng.uniform(0, 1) + 0.0006 * max(0.0, spec.age - 40)
        self.ctr_normal = float(rng.uniform(*NORMAL_CTR))
        self.heart_cx = 0.06 + 0.02 * rng.uniform(-1, 1)
        self.heart_cy = self.v_cp - 0.36 + 0.02 * rng.uniform(-1, 1)  # cardiac level (hila sit above it)
        self.heart_b = 0.27 + 0.02 * rng.uniform(-1, 1)
        # The heart sits on the diaphragm: its silhouette is the upper part of a shape whose lower
        # half hides in the subdiaphragmatic soft tissue (no lung under it), widest near the domes.
        self.heart_base_v = self.heart_cy + 0.16
        self.heart_half_h = self.heart_b + 0.09
        self.rib_phase = 0.02 * rng.uniform(-1, 1)
        self.rib_jitter = 0.012 * rng.standard_normal((2, 12))
        self.rib_curv = 0.30 + 0.05 * rng.uniform(-1, 1)
        self.breast = female
        self.breast_size = 0.7 + 0.3 * rng.uniform(0, 1)
        self.bone = float(np.clip(1.05 - 0.006 * (spec.age - 30.0), 0.6, 1.05))
        self.marking = _smooth_noise(rng, n, 1.6 * n / 256)
        self.marking_coarse = _smooth_noise(rng, n, 3.0 * n / 256)
        self.stomach = (0.32 + 0.05 * rng.uniform(-1, 1), self.dome[1] + 0.13, 0.08 + 0.03 * rng.uniform(0, 1))
        self.view = spec.view

    # --- geometry helpers (x = lateral coordinate on side s, > 0 outward)
    def width(self, v):
        t = np.clip((v - self.v_top) / (self.v_cp - self.v_top), 0, 1)
        return self.w0 * (0.50 + 0.50 * np.sqrt(t))

    def heart_extent(self, s: int, v, ctr: float):
        """How far the cardiac silhouette reaches on side ``s`` (image coordinates) at height ``v``.

        The right border (right atrium) is a short convexity just right of the spine; the left
        border runs from the hilum down and out to the apex on the left hemidiaphragm.
        """
        hw = ctr * 2.0 * self.w0
        if s < 0:
            a, cy, b = 0.36 * hw, self.heart_base_v - 0.02, 0.85 * self.heart_half_h
        else:
            a, cy, b = 0.64 * hw, self.heart_base_v + 0.04, 1.10 * self.heart_half_h
        r = np.clip(1.0 - ((v - cy) / b) ** 2, 0, 1) ** 0.4  # convex borders, a rounded top
        taper = 0.65 + 0.35 * np.clip((v - cy + b) / b, 0, 1)  # narrower at the top, widest at the base
        return a * r * taper + s * self.heart_cx

    def diaphragm(self, s: int, x):
        xc = 0.40 * self.w0
        dome = self.dome[s]
        lat = np.clip((x - xc) / (self.w0 - xc), 0, None)
        med = np.clip((xc - x) / xc, 0, None)
        return dome + (self.v_cp - dome) * lat**2 + 0.08 * med**2


def _lung_margins(an: _Anatomy, s: int, ctr: float, med_extra) -> dict[str, np.ndarray]:
    u, v = an.u, an.v
    x = s * u
    med = an.mediast + (an.knob * np.exp(-(((v + 0.42) / 0.06) ** 2)) if s > 0 else 0.0) + med_extra
    med = np.maximum(med, an.heart_extent(s, v, ctr))
    apex_x = 0.42 * an.w0
    return {
        "lat": an.width(v) - x,
        "med": x - med,
        "top": v - (an.v_top + 1.5 * (x - apex_x) ** 2),
        "dia": an.diaphragm(s, x) - v,
    }


def render(spec: CxrSpec, **changed) -> CxrRender:
    """Render a radiograph; keywords change spec fields (age=, sex=, view=) or finding severities.

    Findings are given by keyword in snake case (``pleural_effusion=0.8``; 0 removes it) or as
    ``findings={...}`` (replaces all).  Anatomy, exposure and noise stay identical, so each finding
    changes pixels only inside its region.
    """
    fields = {f.name for f in dataclasses.fields(CxrSpec)}
    sev = dict(spec.findings)
    rest = {}
    for key, value in changed.items():
        if key in _KEY_TO_FINDING or key in FINDINGS:
            name = _KEY_TO_FINDING.get(key, key)
            if float(value) > 0:
                sev[name] = float(value)
            else:
                sev.pop(name, None)
        elif key == "findings":
            sev = {k: float(x) for k, x in dict(value).items() if float(x) > 0}
        elif key in fields:
            rest[key] = value
        else:
            raise LdbenchError(f"render: unknown attribute {key!r} (fields: {sorted(fields)}, findings: {sorted(_KEY_TO_FINDING)})")
    for name in sev:
        if name not in FINDINGS:
            raise LdbenchError(f"unknown CheXpert finding {name!r}; expected one of {FINDINGS}")
    spec = dataclasses.replace(spec, findings=tuple(sorted(sev.items())), **rest)
    if spec.sex not in ("F", "M"):
        raise LdbenchError(f"sex must be 'F' or 'M', got {spec.sex!r}")
    return _render(spec)


def _frng(spec: CxrSpec, finding: str) -> np.random.Generator:
    return np.random.default_rng([int(spec.anatomy_seed), 100 + FINDINGS.index(finding)])


@dataclass(eq=False)
class _Canvas:
    """State the anatomy leaves for the findings.

    ``A`` is only ever updated in place: the order of the sums and its float32 dtype fix the image
    bit for bit, so painters must keep them.
    """

    spec: CxrSpec
    an: _Anatomy
    e: float  # edge softness of organ boundaries
    sev: dict[str, float]
    ctr_big: float  # cardiothoracic ratio as drawn (enlarged by Cardiomegaly)
    ecm_band: np.ndarray  # heights an enlarged cardiomediastinum widens
    med_extra: np.ndarray  # that widening, which pushes the medial lung borders out
    A: np.ndarray = field(init=False)  # attenuation along each ray
    heart_soft: np.ndarray = field(init=False)
    margins: dict[int, dict[str, np.ndarray]] = field(init=False)  # per side: signed distances to the lung borders
    lung_mask: np.ndarray = field(init=False)
    markings: np.ndarray = field(init=False)  # vessels; added after the in-lung findings
    rib_layers: list[tuple[int, int, float, np.ndarray]] = field(init=False)  # (side, index, height, band)

    @property
    def u(self) -> np.ndarray:
        return self.an.u

    @property
    def v(self) -> np.ndarray:
        return self.an.v

    @property
    def n(self) -> int:
        return self.spec.image_size


def _render(spec: CxrSpec) -> CxrRender:
    c = _canvas(spec)
    for paint in _ANATOMY:
        paint(c)
    regions = _draw_findings(c, _UNDER_MARKINGS)
    c.A += c.markings
    regions |= _draw_findings(c, _OVER_MARKINGS)
    return CxrRender(_detector(spec, c.A), regions, c.lung_mask, float(c.ctr_big), spec)


def _draw_findings(c: _Canvas, table: dict[str, _Draw]) -> dict[str, np.ndarray]:
    regions: dict[str, np.ndarray] = {}
    for name, draw in table.items():
        if name in c.sev and (region := draw(c, c.sev[name])) is not None:
            regions[name] = region
    return regions


# ------------------------------------------------------------------------------------ anatomy


def _canvas(spec: CxrSpec) -> _Canvas:
    """Heart size and mediastinal width are set up front: the lung borders are cut along them."""
    an = _Anatomy(spec)
    v = an.v
    px = 2.0 / spec.image_size  # one pixel in (u, v) units
    e = max(0.025, 1.5 * px)
    sev = dict(spec.findings)
    ctr = an.ctr_normal + (0.04 if spec.view == "AP" else 0.0)
    ctr_big = ctr + 0.08 + 0.14 * sev.get("Cardiomegaly", 0.0) if "Cardiomegaly" in sev else ctr
    ecm = sev.get("Enlarged Cardiomediastinum", 0.0)
    ecm_band = np.where((v > an.v_top - 0.05) & (v < an.heart_cy - 0.1), 1.0, 0.0).astype(np.float32)
    med_extra = 0.06 * ecm * ecm_band * _ss((v - an.v_top + 0.05) / 0.1) * _ss((an.heart_cy - 0.1 - v) / 0.1)
    return _Canvas(spec, an, e, sev, ctr_big, ecm_band, med_extra)


def _body(c: _Canvas) -> None:
    """Body outline and soft tissue, out of which the lungs are carved."""
    an, u, v = c.an, c.u, c.v
    bv = [-1.2, -0.90, -0.80, -0.66, -0.50, -0.3, 0.2, 0.6, 1.2]
    bw = [0.17, 0.19, 0.55, 0.93, 1.02, an.w0 + 0.13, an.w0 + 0.11, an.w0 + 0.09, an.w0 + 0.11]
    bwidth = np.interp(v, bv, bw).astype(np.float32)
    body = np.sqrt(np.clip(1.0 - (u / bwidth) ** 2, 0, 1))
    c.A = 0.62 * body * _ss((1.0 - np.abs(u) / bwidth) / 0.04)
    # mediastinum (great vessels, trachea) and abdomen below the diaphragm
    c.A += 0.22 * _ss((an.mediast + 0.03 - np.abs(u)) / 0.05) * _ss((an.heart_cy - v) / 0.1) * _ss((v + 0.95) / 0.2)
    trachea = _ss((0.028 - np.abs(u - 0.004 * (v + 0.4))) / 0.012) * _ss((-0.30 - v) / 0.06) * _ss((v + 0.95) / 0.1)
    c.A -= 0.10 * trachea
    c.heart_soft = _heart_mask(an, c.ctr_big, 2 * c.e)
    for s in (-1, 1):
        # the heart and the left hemidiaphragm are one silhouette: no edge where they meet
        c.A += 0.20 * _ss((v - an.diaphragm(s, s * u)) / 0.08) * _ss((s * u + 0.02) / 0.04) * (1 - c.heart_soft)
    # humeral heads, scapulae
    for s in (-1, 1):
        r = np.sqrt((u - s * 0.90) ** 2 + (v + 0.68) ** 2) / 0.11
        c.A += 0.22 * an.bone * np.sqrt(np.clip(1 - r**2, 0, 1))
        sc = np.sqrt(((s * u - 0.64) / 0.14) ** 2 + ((v + 0.36) / 0.30) ** 2)
        c.A += (0.08 if c.spec.view == "AP" else 0.04) * an.bone * _ss((1 - sc) / 0.3)
    if an.breast:
        for s in (-1, 1):
            r2 = ((s * u - 0.45) / (0.28 * an.breast_size + 0.05)) ** 2 + ((v - 0.40) / 0.24) ** 2
            c.A += 0.16 * an.breast_size * _ss((1 - r2) / 0.6) * _ss((0.64 - v) / 0.05)


def _lungs(c: _Canvas) -> None:
    """Aerated lungs; their markings are kept aside so a pneumothorax can erase them first."""
    an, u, v, e = c.an, c.u, c.v, c.e
    lungs_thick = np.zeros_like(u)
    c.lung_mask = np.zeros(u.shape, dtype=bool)
    c.margins = {}
    for s in (-1, 1):
        m = _lung_margins(an, s, c.ctr_big, c.med_extra)
        c.margins[s] = m
        mm = np.minimum.reduce(list(m.values()))
        m["min"] = mm
        # thickness grows away from the chest wall and diaphragm; the medial (heart, mediastinum)
        # border only cuts the lung off, so a larger heart changes nothing beyond its own border
        wall = np.minimum(np.minimum(m["lat"], m["top"]), m["dia"])
        lungs_thick += _ss(mm / e) * (0.45 + 0.55 * _ss(wall / 0.25))
        c.lung_mask |= mm > 0
    c.A -= 0.50 * lungs_thick
    # hilar vessels and lung markings (fade towards the periphery)
    c.markings = np.zeros_like(u)
    for s in (-1, 1):
        rh = np.sqrt((u - s * 0.16) ** 2 + ((v - an.heart_cy + 0.22) / 1.4) ** 2)
        c.markings += 0.10 * np.exp(-(rh / 0.07) ** 2)
        c.markings += lungs_thick * np.clip(1 - rh / 0.8, 0, 1) ** 1.2 * (
            0.030 * np.clip(an.marking, -1.0, 3) + 0.015 * an.marking_coarse)


def _gastric_bubble(c: _Canvas) -> None:
    """Air under the left hemidiaphragm: a landmark for situs and for free air."""
    u, v = c.u, c.v
    sx, sy, sr = c.an.stomach
    rb = np.sqrt(((u - sx) / sr) ** 2 + ((v - sy) / (0.6 * sr)) ** 2)
    c.A -= 0.18 * _ss((1 - rb) / 0.3) * (v > c.an.diaphragm(1, u) + 0.02)


def _heart(c: _Canvas) -> None:
    """Soft tissue exactly between the lung borders, so a larger heart shows only within its own."""
    c.A += 0.20 * c.heart_soft


def _bones(c: _Canvas) -> None:
    """Spine, ribs and clavicles, summed first so age scales their density together."""
    an, u, v = c.an, c.u, c.v
    bones = np.zeros_like(u)
    period = 0.085
    phase = (v - an.rib_phase) / period
    dist_disc = 0.5 - np.abs(phase - np.round(phase))
    vert = 0.8 + 0.2 * _ss(dist_disc / 0.1)
    bones += 0.06 * _ss((0.06 - np.abs(u)) / 0.02) * vert * _ss((v + 0.95) / 0.1)
    for s in (-1, 1):
        ped = np.sqrt(((u - s * 0.04) / 0.011) ** 2 + ((phase - np.round(phase) + 0.2) / 0.13) ** 2)
        bones += 0.04 * _ss((1 - ped) / 0.4) * (v > -0.75)
    c.rib_layers = _ribs(an, bones)
    # clavicles
    clav_tilt = 0.09 if c.spec.view == "PA" else 0.02
    for s in (-1, 1):
        pts = _bezier((s * 0.06, -0.64), (s * 0.34, -0.64 - clav_tilt), (s * 0.68, -0.74 - clav_tilt / 2), 12)
        d = _polyline_dist(u, v, pts) / 0.026
        bones += 0.22 * _ss((1 - d) / 0.3) * (0.75 + 0.25 * np.minimum(d, 1) ** 2)
    c.A += an.bone * bones


def _ribs(an: _Anatomy, bones: np.ndarray) -> list[tuple[int, int, float, np.ndarray]]:
    """Adds the ribs to ``bones``; returns the posterior ones so a fracture can break one."""
    u, v = an.u, an.v
    rib_layers = []
    L = an.w0 + 0.05
    for s in (-1, 1):
        x = s * u
        for i in range(11):
            v_i = an.v_top - 0.05 + 0.095 * i + an.rib_phase + an.rib_jitter[(s + 1) // 2, i]
            hw = 0.017 + 0.0015 * i
            rows, cols = _window(u, v, -1.1, 1.1, v_i - 0.12, v_i + an.rib_curv + 0.1)
            xw, vw = x[rows, cols], v[rows, cols]
            t = np.clip((xw - 0.04) / L, 0, 1.3)
            centre = v_i - 0.05 * np.sin(np.pi * np.clip(t, 0, 1)) + an.rib_curv * t**2
            d = np.abs(vw - centre) / hw
            along = _ss((xw - 0.04) / 0.03) * _ss((an.width(vw) + 0.06 - xw) / 0.04)
            band = np.zeros_like(u)
            band[rows, cols] = _ss((1 - d) / 0.35) * (0.65 + 0.35 * np.minimum(d, 1) ** 2) * along
            rib_layers.append((s, i, v_i, band))
            bones += 0.11 * band
            # anterior rib: faint, from the lateral chest wall medially downwards
            c_ant = v_i + 0.24 + 0.22 * (1 - np.clip(xw / L, 0, 1))
            d_a = np.abs(vw - c_ant) / (hw * 1.4)
            bones[rows, cols] += 0.035 * _ss((1 - d_a) / 0.5) * _ss((xw - 0.22) / 0.06) * along
    return rib_layers


#: painted in this order (the order of the sums is part of the image)
_ANATOMY: tuple[Callable[[_Canvas], None], ...] = (_body, _lungs, _gastric_bubble, _heart, _bones)


# ------------------------------------------------------------------------------------ findings
# Each adds its attenuation to ``c.A`` and returns the mask where it may change pixels (None: not drawn).


def _cardiomegaly(c: _Canvas, sev: float) -> np.ndarray:
    """The heart was already drawn at ``ctr_big`` (the lungs are cut along it); only the region is left."""
    return _heart_region(c.an, c.ctr_big, c.e)


def _enlarged_cardiomediastinum(c: _Canvas, sev: float) -> np.ndarray:
    """The widening is already in the medial lung margins (``med_extra``); only the region is left."""
    return (c.ecm_band > 0) & (np.abs(c.u) < c.an.mediast + c.an.knob + 0.08 + c.e)


def _pleural_effusion(c: _Canvas, sev: float) -> np.ndarray:
    """Fluid layers dependently, so it blunts the costophrenic angle and climbs the lateral wall."""
    an, u, v, e = c.an, c.u, c.v, c.e
    rng = _frng(c.spec, "Pleural Effusion")
    r = rng.random()
    sides = (-1,) if r < 0.4 else ((1,) if r < 0.7 else (-1, 1))
    reg = np.zeros(u.shape, dtype=bool)
    for s in sides:
        m = c.margins[s]
        x = s * u
        h = (0.10 + 0.25 * sev) * (0.85 + 0.3 * rng.random())
        frac = np.clip((x - 0.1) / an.w0, 0, 1)
        meniscus = an.v_cp - h - 0.10 * sev * frac**2
        # density rises over ~0.1 below the meniscus (layering fluid, thicker towards the base)
        fluid = _ss((v - meniscus) / 0.10) * _ss(m["min"] / e) * _ss((s * u - 0.02) / 0.02)
        c.A += (0.40 + 0.15 * _ss((v - meniscus - 0.1) / 0.2)) * fluid
        reg |= fluid > 0
    return reg


def _consolidation(c: _Canvas, sev: float) -> np.ndarray:
    """Dense lobar opacity; the spared bronchi stay dark (air bronchograms)."""
    an, u, v, n = c.an, c.u, c.v, c.n
    rng = _frng(c.spec, "Consolidation")
    s = -1 if rng.random() < 0.6 else 1
    cx, cy = s * an.w0 * rng.uniform(0.35, 0.65), rng.uniform(-0.2, 0.35)
    rx, ry = rng.uniform(0.13, 0.2), rng.uniform(0.12, 0.2)
    zone = ((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2
    edge = _smooth_noise(rng, n, 4.0 * n / 256)
    dens = _ss((1.0 - zone + 0.25 * edge) / 0.6)
    bronch = np.clip(_smooth_noise(rng, n, 0.8 * n / 256), 0, None)
    dens = dens * (1.0 - 0.25 * _ss(bronch - 1.2))
    layer = 0.30 * sev * dens * (0.85 + 0.15 * np.clip(an.marking, -1, 1)) * _ss(c.margins[s]["min"] / c.e)
    c.A += layer
    return layer > 0


def _pneumonia(c: _Canvas, sev: float) -> np.ndarray:
    """Patchy, ill-defined airspace opacity (unlike a consolidation's solid lobe), denser centrally."""
    an, u, v, n = c.an, c.u, c.v, c.n
    rng = _frng(c.spec, "Pneumonia")
    s = -1 if rng.random() < 0.55 else 1
    cx, cy = s * an.w0 * rng.uniform(0.3, 0.7), rng.uniform(-0.3, 0.35)
    zone = ((u - cx) / 0.26) ** 2 + ((v - cy) / 0.24) ** 2
    patch = _ss((_smooth_noise(rng, n, 5.0 * n / 256) + 0.2) / 1.2)
    layer = 0.32 * sev * _ss((1 - zone) / 0.8) * (0.2 + 0.8 * patch) * _ss(c.margins[s]["min"] / c.e)
    c.A += layer
    return layer > 0


def _lung_opacity(c: _Canvas, sev: float) -> np.ndarray | None:
    """Drawn only when no more specific opacity already explains the label."""
    if any(k in c.sev for k in ("Consolidation", "Pneumonia", "Edema", "Atelectasis")):
        return None
    an, u, v = c.an, c.u, c.v
    rng = _frng(c.spec, "Lung Opacity")
    s = -1 if rng.random() < 0.5 else 1
    cx, cy = s * an.w0 * rng.uniform(0.3, 0.7), rng.uniform(-0.35, 0.35)
    zone = ((u - cx) / 0.2) ** 2 + ((v - cy) / 0.2) ** 2
    layer = 0.25 * sev * _ss((1 - zone) / 0.6) * (0.7 + 0.3 * np.clip(an.marking_coarse, -1, 1)) * _ss(c.margins[s]["min"] / c.e)
    c.A += layer
    return layer > 0


def _edema(c: _Canvas, sev: float) -> np.ndarray:
    """Bilateral perihilar ("bat-wing") haze: no random draw, edema is symmetric."""
    u, v = c.u, c.v
    layer = np.zeros_like(u)
    for s in (-1, 1):
        rh = ((u - s * 0.2) / 0.45) ** 2 + ((v + 0.02) / 0.55) ** 2
        layer += 0.30 * sev * np.clip(1 - rh, 0, None) ** 2 * _ss(c.margins[s]["min"] / c.e)
    c.A += layer
    return layer > 0


def _atelectasis(c: _Canvas, sev: float) -> np.ndarray:
    """Plate-like band just above a hemidiaphragm, where collapse is commonest."""
    an, u, v = c.an, c.u, c.v
    rng = _frng(c.spec, "Atelectasis")
    s = -1 if rng.random() < 0.5 else 1
    cx = s * an.w0 * rng.uniform(0.35, 0.6)
    cy = an.dome[s] - rng.uniform(0.06, 0.14)
    slope = rng.uniform(-0.25, 0.25)
    d = np.abs((v - cy) - slope * (u - cx)) / (0.012 + 0.012 * sev)
    band = _ss((1 - d) / 0.9) * _ss((1 - np.abs(u - cx) / 0.17) / 0.4)
    layer = 0.25 * sev * band * _ss(c.margins[s]["min"] / c.e)
    c.A += layer
    return layer > 0


def _pneumothorax(c: _Canvas, sev: float) -> np.ndarray:
    """Apical/lateral rim without lung markings (so drawn before they are added) and a pleural line."""
    an, v = c.an, c.v
    rng = _frng(c.spec, "Pneumothorax")
    s = -1 if rng.random() < 0.5 else 1
    m = c.margins[s]
    depth = 0.04 + 0.12 * sev
    rim_d = np.minimum(m["lat"], m["top"])
    upper = _ss((an.heart_cy - v) / 0.15)
    rim = _ss((depth - rim_d) / 0.02) * _ss(m["min"] / c.e) * upper
    # no lung markings in the rim, a little more lucent, and a thin visceral pleural line
    c.A -= rim * (c.markings + 0.08)
    line = _ss((1 - np.abs(rim_d - depth) / 0.008) / 0.5) * _ss(m["min"] / c.e) * upper
    c.A += 0.10 * line
    return (rim > 0) | (line > 0)


def _lung_lesion(c: _Canvas, sev: float) -> np.ndarray:
    """A round, slightly lobulated nodule or mass; it grows with severity."""
    an, u, v = c.an, c.u, c.v
    rng = _frng(c.spec, "Lung Lesion")
    s = -1 if rng.random() < 0.5 else 1
    cx, cy = s * an.w0 * rng.uniform(0.35, 0.7), rng.uniform(-0.45, 0.25)
    rad = 0.025 + 0.05 * sev
    lob = 1 + 0.08 * np.sin(5 * np.arctan2(v - cy, u - cx) + rng.uniform(0, 6.3))
    r = np.sqrt((u - cx) ** 2 + (v - cy) ** 2) / (rad * lob)
    layer = (0.25 + 0.35 * sev) * np.sqrt(np.clip(1 - r**2, 0, 1))
    c.A += layer
    return layer > 0


def _pleural_other(c: _Canvas, sev: float) -> np.ndarray:
    """Pleural thickening along the lateral chest wall, not confined to the lung field."""
    v = c.v
    rng = _frng(c.spec, "Pleural Other")
    s = -1 if rng.random() < 0.5 else 1
    m = c.margins[s]
    cy = rng.uniform(-0.4, 0.2)
    band = _ss((0.02 + 0.03 * sev - np.abs(m["lat"])) / 0.01) * _ss((1 - np.abs(v - cy) / 0.25) / 0.3)
    layer = 0.35 * sev * band * (v > c.an.v_top)
    c.A += layer
    return layer > 0


def _fracture(c: _Canvas, sev: float) -> np.ndarray:
    """A gap across one posterior rib with callus beside it."""
    an, u, v, n = c.an, c.u, c.v, c.n
    rng = _frng(c.spec, "Fracture")
    s, i = (-1 if rng.random() < 0.5 else 1), int(rng.integers(3, 8))
    rl = next(r for r in c.rib_layers if r[0] == s and r[1] == i)
    fx = s * an.w0 * rng.uniform(0.55, 0.85)
    col = int(np.clip((fx + 1) / 2 * n, 0, n - 1))
    fy = float(rl[2][n // 2, col]) if np.ndim(rl[2]) else float(rl[2])
    gap = _ss((1 - np.abs(u - fx) / (0.006 + 0.006 * sev)) / 0.5)
    callus = np.exp(-(((u - fx) ** 2 + (v - fy) ** 2) / (0.02**2)))
    callus = callus * (callus > 0.01)
    layer = an.bone * (-0.20 * rl[3] * gap + 0.10 * sev * callus)
    c.A += layer
    return layer != 0


def _support_devices(c: _Canvas, sev: float) -> np.ndarray:
    """Devices are present or not: severity does not scale them."""
    dev = _devices(_frng(c.spec, "Support Devices"), c.u, c.v, c.an)
    c.A += dev
    return dev > 0


_Draw = Callable[[_Canvas, float], "np.ndarray | None"]

#: Findings in drawing order (the order of the sums is part of the image).  These go in before the
#: lung markings are added, so opacities lie beneath the vessels and a pneumothorax can erase them …
_UNDER_MARKINGS: dict[str, _Draw] = {
    "Cardiomegaly": _cardiomegaly,
    "Enlarged Cardiomediastinum": _enlarged_cardiomediastinum,
    "Pleural Effusion": _pleural_effusion,
    "Consolidation": _consolidation,
    "Pneumonia": _pneumonia,
    "Lung Opacity": _lung_opacity,
    "Edema": _edema,
    "Atelectasis": _atelectasis,
    "Pneumothorax": _pneumothorax,
}
#: … and these on top of them.
_OVER_MARKINGS: dict[str, _Draw] = {
    "Lung Lesion": _lung_lesion,
    "Pleural Other": _pleural_other,
    "Fracture": _fracture,
    "Support Devices": _support_devices,
}
assert sorted([*_UNDER_MARKINGS, *_OVER_MARKINGS]) == sorted(FINDINGS), "every finding needs exactly one painter"


def _detector(spec: CxrSpec, A: np.ndarray) -> np.ndarray:
    """Exposure, window, gamma and noise come from ``noise_seed`` alone, so findings never change them."""
    n = spec.image_size
    nrng = np.random.default_rng([int(spec.noise_seed), 1])
    k = 1.7 * (1.0 + 0.08 * nrng.uniform(-1, 1))
    img = 1.0 - np.exp(-k * np.clip(A, 0, None))
    lo, hi = 0.08 + 0.04 * nrng.uniform(-1, 1), 0.97 + 0.03 * nrng.uniform(-1, 1)
    gamma = 1.0 + 0.15 * nrng.uniform(-1, 1)
    img = np.clip((img - lo) / (hi - lo), 0, 1) ** gamma
    sigma = float(nrng.uniform(0.008, 0.02))
    noise = nrng.standard_normal((n, n)).astype(np.float32)
    return np.clip(img + sigma * noise * (0.5 + 0.5 * np.sqrt(img)), 0, 1).astype(np.float32)


def _heart_mask(an: _Anatomy, ctr: float, e: float) -> np.ndarray:
    """Soft cardiac silhouette in [0, 1], exactly between the borders the lungs are cut at."""
    u, v = an.u, an.v
    return _ss((an.heart_extent(1, v, ctr) - u) / e) * _ss((u + an.heart_extent(-1, v, ctr)) / e)


def _heart_region(an: _Anatomy, ctr_big: float, e: float) -> np.ndarray:
    """Where a heart of CTR ``ctr_big`` (or any smaller one) can change the image."""
    u, v = an.u, an.v
    within = np.abs(v - an.heart_base_v) < 1.3 * an.heart_half_h
    reg = np.zeros(u.shape, dtype=bool)
    for s in (-1, 1):
        reg |= within & (s * u < an.heart_extent(s, v, ctr_big) + e) & (s * u > -0.25)
    return reg | (_heart_mask(an, ctr_big, e) > 0)


def _devices(rng: np.random.Generator, u, v, an: _Anatomy) -> np.ndarray:
    """Radiopaque support devices: at least one of ET tube, central line, ECG leads, pacemaker."""
    kinds = [k for k, p in (("ett", 0.45), ("line", 0.6), ("ecg", 0.45), ("pacer", 0.2)) if rng.random() < p]
    if not kinds:
        kinds = ["line"]
    out = np.zeros_like(u)

    def tube(pts, width, amp):
        d = _polyline_dist(u, v, pts) / width
        return amp * _ss((1 - d) / 0.4)

    if "ett" in kinds:
        tip = -0.42 + 0.08 * rng.uniform(-1, 1)
        for off in (-0.012, 0.012):
            pts = np.stack([np.full(30, off + 0.005 * rng.uniform(-1, 1)), np.linspace(-1.05, tip, 30)], 1)
            out += tube(pts, 0.005, 0.35)
    if "line" in kinds:
        s = -1 if rng.random() < 0.6 else 1
        pts = _bezier((s * 0.55, -0.78), (s * 0.12, -0.66), (-0.03 + 0.02 * rng.uniform(-1, 1), -0.18 + 0.06 * rng.uniform(-1, 1)), 60)
        out += tube(pts, 0.006, 0.55)
    if "ecg" in kinds:
        for _ in range(int(rng.integers(2, 5))):
            cx, cy = rng.uniform(-0.7, 0.7), rng.uniform(-0.75, 0.3)
            r = np.sqrt((u - cx) ** 2 + (v - cy) ** 2)
            out += 0.5 * _ss((1 - np.abs(r - 0.022) / 0.006) / 0.4)
            pts = _bezier((cx, cy), (cx + rng.uniform(-0.3, 0.3), cy + rng.uniform(-0.3, 0.3)),
                          (np.sign(cx) * 1.05 if cx != 0 else 1.05, cy + rng.uniform(-0.4, 0.4)), 50)
            out += tube(pts, 0.003, 0.25)
    if "pacer" in kinds:
        cx, cy = 0.42 + 0.05 * rng.uniform(-1, 1), -0.55 + 0.05 * rng.uniform(-1, 1)
        box = np.maximum(np.abs(u - cx) / 0.07, np.abs(v - cy) / 0.045)
        out += 1.2 * _ss((1 - box) / 0.15)
        apex = (an.heart_cx + 0.15, an.heart_cy + 0.1)
        pts = _bezier((cx, cy), (0.05, -0.35), apex, 60)
        out += tube(pts, 0.005, 0.6)
    return out


# --------------------------------------------------------------------------------------------
# real CheXpert label table


def chexpert_label_table() -> pd.DataFrame:
    """The real CheXpert train table shipped with torchxrayvision (223k rows, real header).

    Located without importing torchxrayvision (which would import torch).
    """
    import importlib.util

    spec = importlib.util.find_spec("torchxrayvision")
    if spec is None or not spec.origin:
        raise LdbenchError(
            "the chest X-ray phantom draws labels from torchxrayvision's data/chexpert_train.csv.gz; "
            "install torchxrayvision (pip install torchxrayvision)"
        )
    path = Path(spec.origin).parent / "data" / "chexpert_train.csv.gz"
    if not path.exists():
        raise LdbenchError(f"{path}: CheXpert label table not found in the installed torchxrayvision package")
    return _read_label_table(str(path))


@functools.lru_cache(maxsize=1)
def _read_label_table(path: str) -> pd.DataFrame:
    table = pd.read_csv(path)
    missing = [c for c in CHEXPERT_COLUMNS if c not in table.columns]
    if missing:
        raise LdbenchError(f"{path}: missing CheXpert columns {missing}")
    return table


def _severity(label, rng: np.random.Generator) -> float:
    if label == 1.0:
        return float(rng.uniform(0.55, 1.0))
    if label == -1.0:
        return float(rng.uniform(0.2, 0.4))
    return 0.0


def draw_studies(n_patients: int, seed: int, image_size: int = 256, valid_fraction: float = 0.1) -> pd.DataFrame:
    """One row per phantom study: CSV columns (real CheXpert values) plus its :class:`CxrSpec`."""
    table = chexpert_label_table()
    frontal = table[(table["Frontal/Lateral"] == "Frontal") & table["Sex"].isin(["Male", "Female"])]
    # "CheXpert-v1.0-small/train/patient00001/study1/…": the patient id is a fixed-width field
    patient_col = frontal["Path"].str.slice(26, 38)
    patients = np.array(sorted(patient_col.unique()))
    rng = np.random.default_rng(derive_seed(seed, "cxr_phantom", "studies"))
    chosen = rng.choice(patients, size=min(int(n_patients), len(patients)), replace=False)
    sub = frontal[patient_col.isin(set(chosen)).values]
    parts = sub["Path"].str.split("/", expand=True)
    sub = sub.assign(_patient=parts[2].values, _study=parts[3].values)
    by_patient = {p: g for p, g in sub.groupby("_patient", sort=True)}
    n_valid = max(1, int(round(valid_fraction * len(chosen)))) if len(chosen) > 1 else 0
    rows = []
    for k, real_patient in enumerate(chosen):
        split = "valid" if k >= len(chosen) - n_valid else "train"
        pid = f"patient{k + 1:05d}"
        studies = by_patient[real_patient].drop_duplicates("_study").sort_values("_study", key=lambda s: s.str[5:].astype(int))
        studies = studies.iloc[: (1 if split == "valid" else 2)]
        anatomy_seed = int(rng.integers(0, 2**31 - 1))
        for j, (_, real) in enumerate(studies.iterrows()):
            labels = {c: real[c] for c in CHEXPERT_LABELS}
            if split == "valid":  # the real valid set has radiologist consensus labels, 0/1 only
                labels = {c: (1.0 if x in (1.0, -1.0) else 0.0) for c, x in labels.items()}
            sev_rng = np.random.default_rng(derive_seed(seed, "cxr_phantom", "severity", k, j))
            findings = tuple(
                sorted((f, s) for f in FINDINGS if (s := _severity(labels[f], sev_rng)) > 0)
            )
            sex = "F" if real["Sex"] == "Female" else "M"
            view = real["AP/PA"] if real["AP/PA"] in ("AP", "PA") else "AP"
            spec = CxrSpec(pid, anatomy_seed, int(rng.integers(0, 2**31 - 1)), float(real["Age"]), sex, view, findings, int(image_size))
            path = f"CheXpert-v1.0-small/{split}/{pid}/study{j + 1}/view1_frontal.jpg"
            rows.append({"Path": path, "Sex": real["Sex"], "Age": int(real["Age"]), "Frontal/Lateral": "Frontal",
                         "AP/PA": view, **labels, "split": split, "spec": spec})
    return pd.DataFrame(rows)


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
    return buf.getvalue()


def make_cxr_phantom_dataset(out_root: Path, n_patients: int, seed: int, image_size: int = 256) -> None:
    """Write ``out_root/CheXpert-v1.0-small/{train.csv, valid.csv, train/…, valid/…}`` like the real download."""
    if n_patients < 2:
        raise LdbenchError(f"n_patients must be ≥ 2 (train and valid), got {n_patients}")
    studies = draw_studies(n_patients, seed, image_size)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_root / "CheXpert-v1.0-small") as tmp:
        for row in progress(studies.itertuples(index=False), total=len(studies), desc="cxr phantom", unit="image"):
            rel = Path(row.Path).relative_to("CheXpert-v1.0-small")
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(jpeg_bytes(render(row.spec).to_uint8()))
        for split in ("train", "valid"):
            part = studies[studies["split"] == split][list(CHEXPERT_COLUMNS)]
            part.to_csv(tmp / f"{split}.csv", index=False, lineterminator="\n", float_format="%.1f")
