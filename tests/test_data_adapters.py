"""Dataset adapters on tiny fake files in the real on-disk layouts (tests/fake_data.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fake_data import CHEXPERT_HEADER, write_fake_adni, write_fake_chexpert, write_fake_oasis3

from ldbench.data.adapters.adni import read_adni
from ldbench.data.adapters.chexpert import CHEXPERT_COLUMNS, read_chexpert
from ldbench.data.adapters.oasis3 import read_oasis3
from ldbench.utils import LdbenchError

VOLUME_COLUMNS = ["path", "subject", "visit", "age", "sex", "diagnosis"]


# ----------------------------------------------------------------------------------------- OASIS-3


@pytest.mark.parametrize("real_columns", [False, True])
def test_oasis3_reads_bids_layout(tmp_path, real_columns):
    root = write_fake_oasis3(tmp_path / "oasis", n_subjects=3, visits=2, real_columns=real_columns)
    df = read_oasis3(root)
    assert list(df.columns[:6]) == VOLUME_COLUMNS
    assert len(df) == 6
    assert set(df["subject"]) == {"OAS30001", "OAS30002", "OAS30003"}
    assert set(df["visit"]) == {"d0030", "d0730"}
    assert set(df["sex"]) == {"F", "M"}
    assert set(df["diagnosis"]) <= {"CN", "MCI", "AD"}
    row = df[(df.subject == "OAS30001") & (df.visit == "d0030")].iloc[0]
    # clinical visit at day 50 with age 65 + 50/365.25 → scan 20 days earlier
    assert row["age"] == pytest.approx(65.0 + 50 / 365.25 - 20 / 365.25, abs=0.02)
    assert row["sex"] == "F" and row["diagnosis"] == "CN"
    assert all(p.endswith("_T1w.nii.gz") for p in df["path"])


def test_oasis3_cdr_only_and_unmatched(tmp_path, caplog):
    root = write_fake_oasis3(tmp_path / "oasis", n_subjects=2, visits=2)
    clin = pd.read_csv(root / "clinical.csv").drop(columns=["diagnosis"])
    clin = clin[clin["subject"] != "OAS30002"]
    clin.to_csv(root / "clinical.csv", index=False)
    with caplog.at_level("WARNING", logger="ldbench"):
        df = read_oasis3(root)
    assert set(df["subject"]) == {"OAS30001"}
    assert list(df["diagnosis"]) == ["CN", "MCI"]  # from CDR 0 and 0.5
    assert "2 of 4" in caplog.text


def test_oasis3_errors(tmp_path):
    with pytest.raises(LdbenchError, match="not found"):
        read_oasis3(tmp_path / "missing")
    root = write_fake_oasis3(tmp_path / "oasis", n_subjects=1, visits=1)
    pd.read_csv(root / "clinical.csv").drop(columns=["age"]).to_csv(root / "clinical.csv", index=False)
    with pytest.raises(LdbenchError, match=r"clinical.csv.*age"):
        read_oasis3(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    pd.DataFrame({"subject": ["x"], "days_since_entry": [0], "age": [70], "sex": ["F"], "cdr": [0]}).to_csv(
        empty / "clinical.csv", index=False)
    with pytest.raises(LdbenchError, match="no T1w volumes"):
        read_oasis3(empty)


# ----------------------------------------------------------------------------------------- ADNI


@pytest.mark.parametrize("layout", ["bids", "flat"])
def test_adni_layouts(tmp_path, layout):
    root, csv = write_fake_adni(tmp_path / "adni", tmp_path / "ADNIMERGE.csv", layout=layout)
    df = read_adni(root, csv)
    assert list(df.columns[:6]) == VOLUME_COLUMNS
    assert len(df) == 4
    assert set(df["subject"]) == {"002_S_0295", "011_S_0003"}
    assert set(df["visit"]) == {"bl", "m12"}
    a = df.set_index(["subject", "visit"])
    assert a.loc[("002_S_0295", "bl"), "diagnosis"] == "CN"
    assert a.loc[("002_S_0295", "m12"), "diagnosis"] == "MCI"
    assert a.loc[("011_S_0003", "bl"), "diagnosis"] == "AD"  # "Dementia"
    assert a.loc[("011_S_0003", "m12"), "diagnosis"] == "AD"  # blank DX → DX_bl
    assert a.loc[("002_S_0295", "m12"), "age"] == pytest.approx(84.8 + 1.01)
    assert a.loc[("011_S_0003", "bl"), "sex"] == "F"


def test_adni_errors(tmp_path):
    root, csv = write_fake_adni(tmp_path / "adni", tmp_path / "ADNIMERGE.csv")
    with pytest.raises(LdbenchError, match="not found"):
        read_adni(tmp_path / "nope", csv)
    with pytest.raises(LdbenchError, match="ADNIMERGE table not found"):
        read_adni(root, tmp_path / "missing.csv")
    pd.read_csv(csv).drop(columns=["PTGENDER"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(LdbenchError, match=r"bad.csv.*PTGENDER"):
        read_adni(root, tmp_path / "bad.csv")


# ----------------------------------------------------------------------------------------- CheXpert


def test_chexpert_header_is_real():
    assert ",".join(CHEXPERT_COLUMNS) == CHEXPERT_HEADER


@pytest.mark.parametrize("policy,expected", [("zeros", 0.0), ("ones", 1.0), ("ignore", None)])
def test_chexpert_uncertain_policies(tmp_path, policy, expected):
    root = write_fake_chexpert(tmp_path)
    df = read_chexpert(root, uncertain_policy=policy)
    p1 = df[(df.subject == "patient00001") & (df.visit == "study1")]
    assert len(p1) == 1  # lateral dropped (frontal_only)
    eff = p1["label_Pleural Effusion"].iloc[0]
    if expected is None:
        assert math.isnan(eff)
    else:
        assert eff == expected
    assert p1["label_Cardiomegaly"].iloc[0] == 1.0
    # blank → 0 under every policy; explicit 0.0 stays 0
    assert p1["label_Edema"].iloc[0] == 0.0
    p3 = df[(df.subject == "patient00003") & (df.visit == "study1")].iloc[0]
    assert p3["label_Pneumonia"] == 1.0 and p3["label_Edema"] == 0.0


def test_chexpert_columns_paths_and_filters(tmp_path, caplog):
    root = write_fake_chexpert(tmp_path)
    with caplog.at_level("WARNING", logger="ldbench"):
        df = read_chexpert(root)
    assert "Unknown" in caplog.text or "sex" in caplog.text
    for col in ["path", "subject", "visit", "age", "sex", "view"]:
        assert col in df.columns
    for name in CHEXPERT_COLUMNS[5:]:
        assert f"label_{name}" in df.columns
    assert "label_Pleural Effusion" in df.columns
    assert len(df) == 6  # 4 usable train frontals + 2 valid
    assert set(df["sex"]) == {"F", "M"}
    assert all((tmp_path / "CheXpert-v1.0-small").as_posix() in p for p in df["path"])
    assert all(pd.io.common.file_exists(p) for p in df["path"])
    assert set(df["view"]) == {"AP", "PA"}
    lat = read_chexpert(root, frontal_only=False)
    assert "Lateral" in set(lat["view"]) and len(lat) == 7
    valid = read_chexpert(root, splits=("valid",))
    assert set(valid["subject"]) == {"patient64541", "patient64542"}
    assert np.isin(valid.filter(like="label_").to_numpy(), [0.0, 1.0]).all()


def test_chexpert_errors(tmp_path):
    with pytest.raises(LdbenchError, match="not found"):
        read_chexpert(tmp_path / "missing")
    (tmp_path / "x").mkdir()
    with pytest.raises(LdbenchError, match="CheXpert-v1.0-small"):
        read_chexpert(tmp_path / "x")
    root = write_fake_chexpert(tmp_path / "c")
    csv = root / "CheXpert-v1.0-small" / "train.csv"
    pd.read_csv(csv).drop(columns=["Cardiomegaly"]).to_csv(csv, index=False)
    with pytest.raises(LdbenchError, match=r"train.csv.*Cardiomegaly"):
        read_chexpert(root)
    with pytest.raises(LdbenchError, match="uncertain_policy"):
        read_chexpert(root, uncertain_policy="maybe")
