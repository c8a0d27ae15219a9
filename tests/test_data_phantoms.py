"""Phantoms: layout, determinism, and ground-truth counterfactuals with their documented effects."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pandas as pd
import pytest

from ldbench.data.phantoms import brain, cxr
from ldbench.utils import LdbenchError


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------------------- brain


@pytest.fixture(scope="module")
def brain_spec():
    return brain.BrainVisitSpec("OAS30001", anatomy_seed=7, scan_seed=11, sex="F", age=70.0, diagnosis="CN")


def test_brain_dataset_layout_and_determinism(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    brain.make_brain_phantom_dataset(a, n_subjects=2, seed=5, visits=(2, 3))
    brain.make_brain_phantom_dataset(b, n_subjects=2, seed=5, visits=(2, 3))
    assert _digest(a) == _digest(b)
    clin = pd.read_csv(a / "clinical.csv")
    assert list(clin.columns) == ["subject", "days_since_entry", "age", "sex", "cdr", "diagnosis"]
    assert set(clin["sex"]) <= {"F", "M"} and set(clin["diagnosis"]) <= {"CN", "MCI", "AD"}
    files = sorted(a.glob("sub-*/ses-d*/anat/sub-*_ses-d*_T1w.nii.gz"))
    assert 4 <= len(files) <= 6 and len(files) == len(clin)
    assert clin.groupby("subject")["age"].min().between(55, 91).all()
    with gzip.open(files[0]) as handle:
        assert handle.read(4) == (348).to_bytes(4, "little")  # NIfTI-1 header
    assert files[0].read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0 → byte-stable reruns
    other = brain.draw_cohort(2, seed=6, visits=(2, 3))
    assert not other["anatomy_seed"].equals(brain.draw_cohort(2, seed=5, visits=(2, 3))["anatomy_seed"])


def test_brain_cohort_is_longitudinal_and_plausible():
    c = brain.draw_cohort(200, seed=0, visits=(2, 5))
    n_vis = c.groupby("subject").size()
    assert n_vis.min() >= 2 and n_vis.max() <= 5
    first = c.groupby("subject").first()
    assert first["age"].between(55, 90.5).all()
    assert set(c["diagnosis"]) == {"CN", "MCI", "AD"}
    # diagnoses never improve over visits (CN → MCI → AD trajectories)
    rank = c["diagnosis"].map({"CN": 0, "MCI": 1, "AD": 2})
    assert (rank.groupby(c["subject"]).diff().fillna(0) >= 0).all()
    assert (c.groupby("subject")["age"].diff().dropna() >= 0.9).all()


def test_brain_render_unchanged_is_identical(brain_spec):
    r1 = brain.render(brain_spec)
    r2 = brain.render(brain_spec, age=70.0)
    assert np.array_equal(r1.volume, r2.volume)
    assert r1.volume.ndim == 3 and r1.volume.min() >= 0


def test_brain_counterfactual_diagnosis_enlarges_ventricles_by_documented_amount(brain_spec):
    cn = brain.render(brain_spec, slab=False)
    ad = brain.render(brain_spec, slab=False, diagnosis="AD")
    mci = brain.render(brain_spec, slab=False, diagnosis="MCI")
    expected = brain.VENTRICLE_DX_FACTOR["AD"] / brain.VENTRICLE_DX_FACTOR["CN"]
    assert ad.ventricle_volume_ml() / cn.ventricle_volume_ml() == pytest.approx(expected, rel=0.08)
    assert mci.ventricle_volume_ml() / cn.ventricle_volume_ml() == pytest.approx(1.2, rel=0.08)
    # sulcal widening: grey matter lost by the documented fraction (relative to the template's GM)
    assert ad.grey_matter_volume_ml() < cn.grey_matter_volume_ml()
    # the change is atrophy only: voxels far from CSF are untouched (same noise, contrast, bias)
    changed = ad.volume != cn.volume
    assert changed.any() and not changed[cn.brain == 0].any()


def test_brain_counterfactual_age(brain_spec):
    young = brain.render(brain_spec, slab=False)
    old = brain.render(brain_spec, slab=False, age=80.0)
    expected = (1 + brain.VENTRICLE_GROWTH_PER_YEAR) ** 10
    assert old.ventricle_volume_ml() / young.ventricle_volume_ml() == pytest.approx(expected, rel=0.08)


def test_brain_slab_matches_full_volume(brain_spec):
    full = brain.render(brain_spec, slab=False)
    slab = brain.render(brain_spec)
    z0 = int(round((slab.affine[2, 3] - full.affine[2, 3]) / brain_spec.voxel_mm))
    np.testing.assert_allclose(slab.ventricles, full.ventricles[:, :, z0:z0 + slab.volume.shape[2]], atol=1e-4)


def test_brain_render_rejects_bad_attributes(brain_spec):
    with pytest.raises(LdbenchError, match="diagnosis"):
        brain.render(brain_spec, diagnosis="FTD")


# ----------------------------------------------------------------------------------------- chest X-ray


@pytest.fixture(scope="module")
def cxr_spec():
    return cxr.CxrSpec("patient00001", anatomy_seed=3, noise_seed=4, age=60.0, sex="M", view="PA", image_size=128)


def test_cxr_dataset_layout_and_determinism(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    cxr.make_cxr_phantom_dataset(a, n_patients=8, seed=1, image_size=64)
    cxr.make_cxr_phantom_dataset(b, n_patients=8, seed=1, image_size=64)
    assert _digest(a) == _digest(b)
    base = a / "CheXpert-v1.0-small"
    for split in ("train", "valid"):
        header = (base / f"{split}.csv").read_text().splitlines()[0]
        assert header == ",".join(cxr.CHEXPERT_COLUMNS)
        t = pd.read_csv(base / f"{split}.csv")
        assert t["Path"].str.match(rf"CheXpert-v1.0-small/{split}/patient\d{{5}}/study\d+/view1_frontal.jpg").all()
        assert all((a / p).exists() for p in t["Path"])
        assert set(t["Sex"]) <= {"Male", "Female"}
        labels = t[list(cxr.CHEXPERT_LABELS)].to_numpy(dtype=float)
        assert np.isin(labels[~np.isnan(labels)], [1.0, 0.0, -1.0]).all()
        if split == "valid":
            assert not np.isnan(labels).any() and (labels != -1).all()


def test_cxr_labels_come_from_real_table():
    table = cxr.chexpert_label_table()
    assert len(table) > 200_000 and tuple(table.columns) == cxr.CHEXPERT_COLUMNS
    studies = cxr.draw_studies(20, seed=0, image_size=64)
    train = studies[studies.split == "train"]
    real_rows = table[list(cxr.CHEXPERT_LABELS)].fillna(9).astype(float).drop_duplicates()
    drawn = train[list(cxr.CHEXPERT_LABELS)].fillna(9).astype(float)
    assert len(drawn.merge(real_rows, how="inner").drop_duplicates()) == len(drawn.drop_duplicates())


def test_cxr_render_unchanged_is_identical(cxr_spec):
    a = cxr.render(cxr_spec).image
    b = cxr.render(cxr_spec).image
    c = cxr.render(cxr_spec, cardiomegaly=0.0).image
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert a.shape == (128, 128) and 0 <= a.min() and a.max() <= 1


@pytest.mark.parametrize("finding", cxr.FINDINGS)
def test_cxr_finding_changes_pixels_only_in_its_region(cxr_spec, finding):
    base = cxr.render(cxr_spec)
    with_f = cxr.render(cxr_spec, **{cxr.finding_key(finding): 0.9})
    region = with_f.regions[finding]
    diff = base.image != with_f.image
    assert diff.any(), finding
    assert not (diff & ~region).any(), f"{finding} changed pixels outside its region"
    assert region.mean() < 0.45
    # removing it again gives back the original exactly (reversibility)
    back = cxr.render(cxr_spec, findings={})
    assert np.array_equal(back.image, base.image)


def test_cxr_cardiomegaly_ctr(cxr_spec):
    normal = cxr.render(cxr_spec)
    big = cxr.render(cxr_spec, cardiomegaly=0.6)
    assert cxr.NORMAL_CTR[0] <= normal.ctr <= cxr.NORMAL_CTR[1]
    assert big.ctr > 0.5
    # the heart shadow (bright, between the lungs) is wider
    row = int(0.62 * cxr_spec.image_size)
    assert (big.image[row] > 0.6).sum() > (normal.image[row] > 0.6).sum()


def test_cxr_effusion_brightens_costophrenic_region(cxr_spec):
    base = cxr.render(cxr_spec)
    eff = cxr.render(cxr_spec, pleural_effusion=1.0)
    reg = eff.regions["Pleural Effusion"]
    assert eff.image[reg].mean() > base.image[reg].mean() + 0.05
    rows = np.nonzero(reg.any(axis=1))[0]
    assert rows.min() > cxr_spec.image_size * 0.5  # dependent: lower half


def test_cxr_render_rejects_unknown_attribute(cxr_spec):
    with pytest.raises(LdbenchError, match="unknown attribute"):
        cxr.render(cxr_spec, tumour=1.0)


# ----------------------------------------------------------------------------------------- ground truth


def test_groundtruth_factual_matches_slice_table(tmp_path):
    from PIL import Image

    from ldbench.data import groundtruth
    from ldbench.data.adapters.chexpert import read_chexpert
    from ldbench.data.adapters.oasis3 import read_oasis3
    from ldbench.data.preprocess import build_slice_table
    from ldbench.kinds import get_kind

    brain.make_brain_phantom_dataset(tmp_path / "b", n_subjects=1, seed=9, visits=(2, 2))
    table = build_slice_table("brain", read_oasis3(tmp_path / "b"), tmp_path / "bs", 32, "brain MRI", 0, {"train": 1.0})
    specs = get_kind("brain").phantom_specs({"n": 1, "seed": 9, "visits": (2, 2)}).drop(columns=["age", "sex", "diagnosis"])
    specs = specs.merge(table, on=["subject", "visit"])
    assert len(specs) == len(table)
    row = specs.iloc[0]
    x, y = groundtruth.brain_counterfactual(row["spec"], 32, diagnosis="AD" if row["diagnosis"] != "AD" else "CN")
    assert np.array_equal(x, np.asarray(Image.open(row["image"])))
    assert not np.array_equal(x, y)

    cxr.make_cxr_phantom_dataset(tmp_path / "c", n_patients=4, seed=9, image_size=64)
    ctab = build_slice_table("cxr", read_chexpert(tmp_path / "c"), tmp_path / "cs", 32, "chest x-ray", 0, {"train": 1.0})
    cspecs = get_kind("cxr").phantom_specs({"n": 4, "seed": 9, "image_size": 64}).drop(columns=["age", "sex"]).merge(ctab, on=["subject", "visit"])
    assert len(cspecs) == len(ctab)
    row = cspecs.iloc[0]
    a, _b, region = groundtruth.cxr_counterfactual(row["spec"], 32, lung_lesion=1.0)
    assert np.array_equal(a, np.asarray(Image.open(row["image"])))
    assert region.any() and region.mean() < 0.3


def test_brain_ventricle_measure_tracks_the_phantoms_ventricle_volume():
    """The fixed segmentation behind the brain edits' effect measure, on phantoms of known ventricle volume:
    it grows with the documented volume factor across subjects and moves the right way on every CN ↔ AD pair."""
    from scipy.stats import spearmanr

    from ldbench.data.groundtruth import brain_counterfactual
    from ldbench.kinds import get_kind

    measure = get_kind("brain").measure_effect
    cohort = brain.draw_cohort(6, 3, (2, 2))
    factors, measured = [], []
    for row in cohort.itertuples():
        target = "CN" if row.diagnosis == "AD" else "AD"
        factual, truth = brain_counterfactual(row.spec, 64, 0.0, diagnosis=target)
        factors += [brain.ventricle_volume_factor(row.age, row.diagnosis), brain.ventricle_volume_factor(row.age, target)]
        measured += [measure(factual), measure(truth)]
        assert (measured[-1] > measured[-2]) == (target == "AD"), (row.subject, row.diagnosis, measured[-2:])
    assert spearmanr(factors, measured).statistic > 0.8, list(zip(factors, measured, strict=True))
    assert 0.03 < min(measured) and max(measured) < 0.3


def test_cxr_heart_measure_tracks_the_phantoms_cardiothoracic_ratio():
    """The fixed segmentation behind the X-ray edits' effect measure, on phantoms of known cardiothoracic ratio
    (as drawn): it rises with the ratio across patients and moves the right way on every No Finding ↔
    Cardiomegaly pair, whatever else the radiograph shows."""
    from scipy.stats import spearmanr

    from ldbench.data.groundtruth import cxr_counterfactual
    from ldbench.kinds import get_kind

    measure = get_kind("cxr").measure_effect
    ratios, measured = [], []
    for spec in cxr.draw_studies(14, 11, 256)["spec"]:
        _, healthy, _ = cxr_counterfactual(spec, 64, cardiomegaly=0.0)
        _, enlarged, _ = cxr_counterfactual(spec, 64, cardiomegaly=0.8)
        ratios += [cxr.render(spec, cardiomegaly=0.0).ctr, cxr.render(spec, cardiomegaly=0.8).ctr]
        measured += [measure(healthy), measure(enlarged)]
        assert measured[-1] > measured[-2], (spec.patient, spec.findings, measured[-2:])
    assert spearmanr(ratios, measured).statistic > 0.5, list(zip(ratios, measured, strict=True))
    assert np.isnan(measure(np.zeros((64, 64), np.uint8)))  # no chest: no number


def test_clean_ageing_truth_changes_only_the_ageing(tmp_path):
    """The ageing stage's clean truth: the earlier scan re-rendered at the later visit's age and diagnosis. It differs
    from the earlier scan less than the real follow-up does (no new scan), by larger ventricles, and it belongs to
    the stored earlier image (the re-render of that image is checked against the file)."""
    from ldbench.data.adapters.oasis3 import read_oasis3
    from ldbench.data.preprocess import build_slice_table
    from ldbench.images import read_gray
    from ldbench.kinds import get_kind
    from ldbench.metrics import l1_distance
    from ldbench.settings import GroundTruthSettings, PhantomSettings
    from ldbench.stages.ageing import clean_truths

    brain.make_brain_phantom_dataset(tmp_path / "b", n_subjects=2, seed=9, visits=(3, 3))
    build_slice_table("brain", read_oasis3(tmp_path / "b"), tmp_path / "bs", 64, "brain MRI", 0, {"train": 1.0})
    pairs = pd.read_csv(tmp_path / "bs" / "pairs.csv")
    truth = GroundTruthSettings(phantom=PhantomSettings(kind="brain", arguments={"n": 2, "seed": 9, "visits": (3, 3)}),
                                options={"slice_offset_mm": 0.0}, image_size=64)
    clean = clean_truths(truth, pairs)
    assert clean.shape == (len(pairs), 64, 64) and len(pairs) == 6
    measure = get_kind("brain").measure_effect
    for i, pair in enumerate(pairs.itertuples()):
        young, old = read_gray(pair.image_young), read_gray(pair.image_old)
        assert 0 < l1_distance(clean[i], young) < 0.5 * l1_distance(old, young), pair
        assert measure(clean[i]) > measure(young), pair
    assert clean_truths(None, pairs) is None  # real data: no clean truth
    with pytest.raises(LdbenchError, match="no phantom spec for subject"):
        clean_truths(truth, pairs.assign(visit_young="d9999"))
    with pytest.raises(LdbenchError, match="re-run preprocess"):
        clean_truths(truth, pairs.drop(columns=["visit_young"]))
