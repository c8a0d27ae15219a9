"""Preprocessing to the slice table: ventricle level, PNGs, splits, pairs, bad inputs, overview figure."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_data import fake_brain_volume, write_fake_chexpert, write_fake_oasis3, write_nifti
from PIL import Image

from ldbench.data.adapters.chexpert import read_chexpert
from ldbench.data.adapters.oasis3 import read_oasis3
from ldbench.data.overview import plot_data_overview
from ldbench.data.phantoms import brain as brain_phantom
from ldbench.data.phantoms.brain import make_brain_phantom_dataset
from ldbench.data.phantoms.cxr import make_cxr_phantom_dataset
from ldbench.data.preprocess import VENTRICLE_Z_MNI, assign_splits, build_slice_table, load_volume, ventricle_level
from ldbench.kinds.cxr import FINDINGS as CXR_FINDINGS
from ldbench.utils import LdbenchError

FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


@pytest.fixture(scope="module")
def phantom_brain(tmp_path_factory):
    root = tmp_path_factory.mktemp("brain") / "raw"
    make_brain_phantom_dataset(root, n_subjects=5, seed=3, visits=(2, 3))
    return root


@pytest.fixture(scope="module")
def phantom_cxr(tmp_path_factory):
    root = tmp_path_factory.mktemp("cxr")
    make_cxr_phantom_dataset(root, n_patients=10, seed=3, image_size=64)
    return root


# ----------------------------------------------------------------------------------------- ventricle level


def test_ventricle_level_on_fake_and_template(tmp_path):
    data, aff = fake_brain_volume(np.random.default_rng(0))
    k = ventricle_level(data.astype(np.float32), aff)
    assert abs(k - 0.6 * (data.shape[2] - 1)) <= 2
    # the real whole-brain MNI template (1 mm, skull-stripped), located from intensities alone
    t1, taff = brain_phantom._load_template_1mm("t1")
    k = ventricle_level(t1, taff, sform_code=0)
    z_mm = taff[2, 2] * k + taff[2, 3]
    assert abs(z_mm - VENTRICLE_Z_MNI) <= 10


def test_ventricle_level_on_phantom_slab(phantom_brain):
    path = min(phantom_brain.rglob("*_T1w.nii.gz"))
    data, aff, code = load_volume(path)
    z_mm = aff[2, 2] * ventricle_level(data, aff, code) + aff[2, 3]
    assert abs(z_mm - VENTRICLE_Z_MNI) <= 10


# ----------------------------------------------------------------------------------------- brain table


def test_brain_slice_table(phantom_brain, tmp_path, monkeypatch):
    vols = read_oasis3(phantom_brain)
    monkeypatch.chdir(tmp_path)
    table = build_slice_table("brain", vols, Path("out"), 32, "brain MRI", 0, FRACTIONS)
    saved = pd.read_csv("out/slices.csv")
    assert list(saved.columns[:7]) == ["image", "subject", "visit", "age", "sex", "split", "prompt"]
    for col in ["diagnosis", "label_CN", "label_MCI", "label_AD"]:
        assert col in saved.columns
    assert (saved[["label_CN", "label_MCI", "label_AD"]].sum(axis=1) == 1).all()
    assert len(table) == len(vols) == len(saved)
    assert all(p.startswith(os.path.join("out", "images")) for p in saved["image"])  # relative as given
    img = Image.open(saved["image"][0])
    assert img.mode == "L" and img.size == (32, 32)
    # splits by subject: exact counts, no subject in two splits
    per_subject = saved.groupby("subject")["split"].nunique()
    assert (per_subject == 1).all()
    counts = saved.drop_duplicates("subject")["split"].value_counts()
    assert counts.get("test", 0) == 1 and counts.get("val", 0) == 1 and counts.get("train", 0) == 3
    assert saved["prompt"].str.startswith("a brain MRI of a ").all()
    pairs = pd.read_csv("out/pairs.csv")
    assert list(pairs.columns[:6]) == ["subject", "image_young", "image_old", "age_young", "age_old", "split"]
    assert (pairs["age_old"] > pairs["age_young"]).all()
    n_expected = sum(n * (n - 1) // 2 for n in saved.groupby("subject").size())
    assert len(pairs) == n_expected
    # determinism: a second build gives byte-identical files
    build_slice_table("brain", vols, Path("out2"), 32, "brain MRI", 0, FRACTIONS)
    for name in ("slices.csv", "pairs.csv"):
        assert Path("out", name).read_text().replace("out/", "X/") == Path("out2", name).read_text().replace("out2/", "X/")
    for p in sorted(Path("out/images").iterdir()):
        assert p.read_bytes() == Path("out2/images", p.name).read_bytes()


def test_brain_slice_shows_brain_with_ventricles(phantom_brain, tmp_path):
    vols = read_oasis3(phantom_brain).iloc[:2]
    table = build_slice_table("brain", vols, tmp_path, 64, "brain MRI", 0, {"train": 1.0})
    pix = np.asarray(Image.open(table["image"][0]), dtype=float)
    assert pix[0, 0] == 0 and pix.max() > 200  # black background, bright white matter
    centre = pix[24:40, 24:40]
    assert (centre < 60).mean() > 0.05  # dark ventricles in the middle
    assert (pix > 0).mean() > 0.4


def test_brain_bad_volumes_skipped_and_reported(tmp_path, caplog):
    root = write_fake_oasis3(tmp_path / "oasis", n_subjects=6, visits=2)
    vols = read_oasis3(root)
    assert len(vols) == 12
    bad = Path(vols["path"][3])
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with caplog.at_level(logging.WARNING, logger="ldbench"):
        table = build_slice_table("brain", vols, tmp_path / "out", 16, "brain MRI", 0, FRACTIONS,
                                  log=logging.getLogger("ldbench"))
    assert len(table) == 11
    assert "1 of 12" in caplog.text and bad.name in caplog.text
    # two more bad ones (a 2-D image and a missing file) → 3/12 > 10 % → error
    write_nifti(Path(vols["path"][5]), np.ones((8, 8), np.int16), np.eye(4))
    Path(vols["path"][7]).unlink()
    with pytest.raises(LdbenchError, match="3 of 12"):
        build_slice_table("brain", vols, tmp_path / "out", 16, "brain MRI", 0, FRACTIONS)


def test_load_volume_errors(tmp_path):
    with pytest.raises(LdbenchError, match="not found"):
        load_volume(tmp_path / "nope.nii.gz")
    p = write_nifti(tmp_path / "flat.nii.gz", np.ones((8, 8), np.int16), np.eye(4))
    with pytest.raises(LdbenchError, match=r"flat.nii.gz.*3-D"):
        load_volume(p)
    c = tmp_path / "corrupt.nii.gz"
    c.write_bytes(b"garbage")
    with pytest.raises(LdbenchError, match=r"corrupt.nii.gz.*not a readable NIfTI"):
        load_volume(c)


# ----------------------------------------------------------------------------------------- cxr table


def test_cxr_slice_table_from_phantom(phantom_cxr, tmp_path):
    rows = read_chexpert(phantom_cxr)
    table = build_slice_table("cxr", rows, tmp_path / "out", 32, "chest x-ray", 1, FRACTIONS)
    saved = pd.read_csv(tmp_path / "out" / "slices.csv")
    for f in CXR_FINDINGS:
        assert f"label_{f}" in saved.columns
    assert "label_No Finding" in saved.columns and "findings" in saved.columns
    none = saved["findings"] == "No Finding"
    assert (saved.loc[none, [f"label_{f}" for f in CXR_FINDINGS]].sum(axis=1) == 0).all()
    assert (saved["label_No Finding"] == rows["label_No Finding"].astype(int)).all()  # CheXpert's own column
    named = saved.loc[saved["findings"].fillna("").str.len() > 0, "findings"]
    assert named.str.split("|").apply(lambda fs: set(fs) <= {*CXR_FINDINGS, "No Finding"}).all()
    assert saved["prompt"].str.startswith("a chest x-ray of a ").all()
    assert (saved.groupby("subject")["split"].nunique() == 1).all()
    assert len(table) == len(rows)


def test_cxr_no_finding_is_read_from_chexpert_not_derived(tmp_path):
    """A support device does not make a study abnormal; a finding outside any short list does."""
    root = write_fake_chexpert(tmp_path / "c")
    csv = root / "CheXpert-v1.0-small" / "train.csv"
    table = pd.read_csv(csv)
    normal_with_line = table["Path"].str.contains("patient00002")
    table.loc[normal_with_line, "Support Devices"] = 1.0  # No Finding 1.0 stays
    opacity = table["Path"].str.contains("patient00003/study2")
    table.loc[opacity, ["Pleural Effusion", "Lung Opacity"]] = [0.0, 1.0]  # No Finding blank
    table.to_csv(csv, index=False)
    slices = build_slice_table("cxr", read_chexpert(root), tmp_path / "out", 16, "chest x-ray", 0, {"train": 1.0})
    normal = slices[slices["subject"] == "patient00002"].iloc[0]
    assert normal["label_No Finding"] == 1 and normal["prompt"].endswith("with support devices")
    lung = slices[(slices["subject"] == "patient00003") & (slices["visit"] == "study2")].iloc[0]
    assert lung["label_No Finding"] == 0 and lung["prompt"].endswith("with lung opacity") and lung["findings"] == "Lung Opacity"


def test_cxr_aspect_kept_with_padding(tmp_path):
    root = write_fake_chexpert(tmp_path / "c")  # 32×39 (w×h) JPGs, like CheXpert's portrait images
    rows = read_chexpert(root)
    table = build_slice_table("cxr", rows, tmp_path / "out", 16, "chest x-ray", 0, {"train": 0.5, "test": 0.5})
    pix = np.asarray(Image.open(table["image"][0]))
    assert pix.shape == (16, 16)
    assert (pix[:, 0] == 0).all() and (pix[:, -1] == 0).all()  # left/right padding
    assert pix[:, 4:12].mean() > 30
    ign = build_slice_table("cxr", read_chexpert(root, uncertain_policy="ignore"), tmp_path / "o2", 16,
                            "chest x-ray", 0, {"train": 1.0})
    assert ign["label_Pleural Effusion"].isna().any()  # NaN kept for the loss to mask
    # the stages rebuild prompts from the slice table: an ignored (NaN) label is simply not named
    from ldbench.prompts import DEFAULT_WORDING
    from ldbench.stages.common import prompts_for

    prompts = prompts_for(ign, "cxr", "chest x-ray", DEFAULT_WORDING)
    uncertain = ign["label_Pleural Effusion"].isna().to_numpy()
    assert not any("pleural effusion" in p for p, u in zip(prompts, uncertain) if u)


def test_cxr_unreadable_jpg(tmp_path, caplog):
    root = write_fake_chexpert(tmp_path / "c")
    rows = read_chexpert(root)
    bad = Path(rows["path"][0])
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(LdbenchError, match=bad.name):  # 1 of 6 > 10 %
        build_slice_table("cxr", rows, tmp_path / "out", 16, "chest x-ray", 0, {"train": 1.0})
    good = rows.iloc[1:]
    many = pd.concat([rows.iloc[[0]], good, good], ignore_index=True)  # 1 bad of 11 (9 %) → skipped
    with caplog.at_level(logging.WARNING, logger="ldbench"):
        table = build_slice_table("cxr", many, tmp_path / "o3", 16, "chest x-ray", 0, {"train": 1.0})
    assert len(table) == 10 and "1 of 11" in caplog.text and bad.name in caplog.text
    assert table["image"].nunique() == 10


def test_input_table_errors(tmp_path):
    with pytest.raises(LdbenchError, match="lacks column"):
        build_slice_table("brain", pd.DataFrame({"path": ["x"]}), tmp_path, 16, "brain MRI", 0, {"train": 1.0})
    with pytest.raises(LdbenchError, match="unknown dataset kind"):
        build_slice_table("ct", pd.DataFrame(), tmp_path, 16, "CT", 0, {"train": 1.0})


def test_assign_splits_counts_and_seed():
    subjects = [f"s{i:03d}" for i in range(50)]
    a = assign_splits(subjects, {"train": 0.7, "val": 0.1, "test": 0.2}, seed=0)
    assert sorted(a.values()).count("test") == 10 and sorted(a.values()).count("val") == 5
    assert a == assign_splits(list(reversed(subjects)), {"train": 0.7, "val": 0.1, "test": 0.2}, seed=0)
    assert a != assign_splits(subjects, {"train": 0.7, "val": 0.1, "test": 0.2}, seed=1)
    with pytest.raises(LdbenchError, match="sum to 1"):
        assign_splits(subjects, {"train": 0.7, "test": 0.2}, seed=0)


# ----------------------------------------------------------------------------------------- overview


def test_overview_figures(phantom_brain, phantom_cxr, tmp_path):
    b = build_slice_table("brain", read_oasis3(phantom_brain), tmp_path / "b", 32, "brain MRI", 0, FRACTIONS)
    c = build_slice_table("cxr", read_chexpert(phantom_cxr), tmp_path / "c", 32, "chest x-ray", 0, FRACTIONS)
    for kind, table in (("brain", b), ("cxr", c)):
        out = tmp_path / f"{kind}.png"
        plot_data_overview(table, kind, out)
        img = Image.open(out)
        assert img.format == "PNG" and img.size[0] > 300
