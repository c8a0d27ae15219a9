"""Table 1 is assembled only from metric files and refuses non-finite cells."""

import json

import pandas as pd
import pytest

from ldbench.report.tables import table1_frame, write_table1
from ldbench.utils import LdbenchError

METHODS = ["basic_ft", "dreambooth"]


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def _files(tmp_path, fid=12.5):
    metric, auc = {}, {}
    for d in ("brain", "cxr"):
        for m in METHODS:
            for ld in ("noLD", "LD"):
                metric[(d, m, ld)] = _write(tmp_path / f"{d}_{m}_{ld}.json", {"fid": fid, "kid": 0.01, "n_generated": 10, "n_real": 8, "delta": 0.05 if ld == "LD" else 0.0, "feature_extractor": "domain: penultimate"})
                auc[(d, f"{m}-{ld}")] = _write(tmp_path / f"auc_{d}_{m}_{ld}.json", {"auc_mean": 0.6, "auc_std": 0.01, "n_test": 8})
        for source in ("real", "real+basic_ft-LD"):
            auc[(d, source)] = _write(tmp_path / f"auc_{d}_{source}.json", {"auc_mean": 0.9, "auc_std": 0.0, "n_test": 8})
    return metric, auc


def test_table1_has_a_row_per_model_and_the_real_rows(tmp_path):
    frame = table1_frame(*_files(tmp_path))
    assert len(frame) == 2 * len(METHODS) * 2 + 4
    write_table1(frame, tmp_path / "table1")
    csv = pd.read_csv(tmp_path / "table1.csv")
    assert csv.shape[0] == len(frame)
    assert {"FID", "KID", "AUC"} <= set(csv.columns)
    md = (tmp_path / "table1.md").read_text()
    assert "FID (domain features)" in md and "12.50 / 0.0100 / 0.600" in md and "Real + synthetic" in md
    tex = (tmp_path / "table1.tex").read_text()
    assert r"\toprule" in tex and "Basic FT" in tex


def test_table1_refuses_a_nan_cell(tmp_path):
    with pytest.raises(LdbenchError, match="FID"):
        table1_frame(*_files(tmp_path, fid=float("nan")))
