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
                metric[(d, m, ld)] = _write(tmp_path / f"{d}_{m}_{ld}.json", {"fid": fid, "fid_ci95": [fid - 1, fid + 1], "kid": 0.01, "kid_std": 0.002, "fid_real_floor": 3.0, "kid_real_floor": 0.001, "n_generated": 10, "n_real": 8, "delta": 0.05 if ld == "LD" else 0.0, "feature_extractor": "domain: penultimate"})
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
    assert "FID (domain features)" in md and "12.50 [11.50, 13.50] / 0.0100 ± 0.0020 / 0.600" in md and "brain: 3.00 / 0.0010" in md and "Real + synthetic" in md
    tex = (tmp_path / "table1.tex").read_text()
    assert r"\toprule" in tex and "Basic FT" in tex


def test_table1_refuses_a_nan_cell(tmp_path):
    with pytest.raises(LdbenchError, match="FID"):
        table1_frame(*_files(tmp_path, fid=float("nan")))


def test_paper_comparison_verdicts_are_computed_from_the_run(tmp_path):
    from ldbench.report.comparison import comparison_markdown

    metric, auc = _files(tmp_path)
    fids = {("brain", "LD"): 10.0, ("brain", "noLD"): 20.0, ("cxr", "LD"): 30.0, ("cxr", "noLD"): 20.0}
    for (d, m, ld), path in metric.items():
        obj = json.loads(path.read_text())
        obj["fid"] = fids[(d, ld)] + (0.5 if m == "dreambooth" else 0.0)
        path.write_text(json.dumps(obj))
    _write(auc[("cxr", "real+basic_ft-LD")], {"auc_mean": 0.85, "auc_std": 0.0, "n_test": 8})
    md = comparison_markdown(table1_frame(metric, auc))
    assert "**brain: LD lowers FID for every method** — holds" in md
    assert "**cxr: LD lowers FID for every method** — does not hold" in md and "not for Basic FT, DreamBooth" in md
    assert "**brain: Basic FT + LD has the lowest FID** — holds" in md
    assert "**cxr: Basic FT + LD has the lowest FID** — does not hold" in md
    assert "**brain: real + synthetic training beats real only (AUC)** — does not hold" in md  # 0.9 vs 0.9: not better
    assert "**cxr: real + synthetic training beats real only (AUC)** — does not hold" in md
    assert "| brain | Basic FT | yes | 49.68 | 10.000 |" in md  # the paper's cell beside this run's
    assert "FID (domain features)" in md


def test_delta_ablation_marks_the_chosen_delta_for_both_loss_targets(tmp_path):
    from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation

    grids = {}
    for method, ld, target, best in (("basic_ft", "LD", "drifted_noise", 0.05), ("dreambooth", "LD", "drifted_noise", -0.05),
                                     ("basic_ft", "LD_noise", "noise", 0.0)):
        folder = tmp_path / method / ld
        folder.mkdir(parents=True)
        scores = {d: 0.1 + 0.1 * round(abs(d - best) / 0.05) for d in (-0.05, 0.0, 0.05)}
        pd.DataFrame([{"delta": d, "l_in": s, "l_out": 0.7, "score": s, "fid_domain": 10 * s, "n": 4} for d, s in scores.items()]).to_csv(folder / "grid.csv", index=False)
        _write(folder / "chosen.json", {"delta": best, "lambda": 0.0, "score": 0.1, "train_delta": 0.05, "loss_target": target,
                                        "sampling_steps": 20})
        grids[("brain", method, ld)] = folder
    frame = delta_ablation_frame(grids)
    assert len(frame) == 9 and frame["chosen"].sum() == 3
    write_delta_ablation(frame, tmp_path / "ablation")
    md = (tmp_path / "ablation.md").read_text()
    assert "| brain | Basic FT | ε + δ (drifted_noise) | 0.3000 / 3 | 0.2000 / 2 | 0.1000 / 1 * |" in md
    assert "| brain | Basic FT | ε (noise) | 0.2000 / 2 | 0.1000 / 1 * | 0.2000 / 2 |" in md
    assert "| brain | DreamBooth | ε + δ (drifted_noise) | 0.1000 / 1 * |" in md
    assert "each of the 20 reverse steps" in md and "fine-tuned with δ = 0.05;" in md

    _write(tmp_path / "basic_ft" / "LD_noise" / "chosen.json", {"delta": 0.0, "lambda": 0.0, "score": 0.1})  # written before the fields existed
    with pytest.raises(LdbenchError, match=r"LD_noise/chosen.json: needs loss_target"):
        delta_ablation_frame(grids)
