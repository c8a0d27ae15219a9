"""Table 1 is assembled only from metric files and refuses non-finite cells."""

import json

import pandas as pd
import pytest

from ldbench.metrics import Interval
from ldbench.report.tables import table1_frame, write_table1
from ldbench.utils import LdbenchError

METHODS = ["basic_ft", "dreambooth"]


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def _metrics(fid, delta, **extra):
    return {"fid": fid, "fid_ci95": [fid - 1, fid + 1], "kid": 0.01, "kid_ci95": [0.008, 0.012], "n_generated": 10, "n_real": 8,
            "delta": delta, "feature_extractor": "evaluator: multi-task", "interval": "half-sampling",
            "prdc": {"precision": 0.8, "recall": 0.6, "density": 0.9, "coverage": 0.7, "nearest_k": 5}, **extra}


def _effect(delta_fid, low, high):
    return {"delta_fid": delta_fid, "delta_fid_ci95": [low, high], "delta_kid": -0.001, "delta_kid_ci95": [-0.002, 0.001], "pairing": "index-paired"}


def _files(tmp_path, fid=12.5):
    metric, auc, floors, intervals = {}, {}, {}, {}
    for d in ("brain", "cxr"):
        for m in METHODS:
            for ld in ("noLD", "LD"):
                extra = {"ld_effect": _effect(-1.0, -2.0, 0.5)} if ld == "LD" else {}
                metric[(d, m, ld)] = _write(tmp_path / f"{d}_{m}_{ld}.json", _metrics(fid, 0.05 if ld == "LD" else 0.0, **extra))
                auc[(d, f"{m}-{ld}")] = _write(tmp_path / f"auc_{d}_{m}_{ld}.json", {"auc_mean": 0.6, "auc_std": 0.01, "n_test": 8})
                intervals[(d, f"{m}-{ld}")] = Interval(0.6, 0.5, 0.7, 0.05)
        for source in ("real", "real-2x", "mixed+basic_ft-LD", "real+basic_ft-LD"):
            auc[(d, source)] = _write(tmp_path / f"auc_{d}_{source}.json", {"auc_mean": 0.9, "auc_std": 0.0, "n_test": 8})
            intervals[(d, source)] = Interval(0.9, 0.8, 1.0, 0.05)
        floors[d] = _write(tmp_path / f"floor_{d}.json", {k: v for k, v in _metrics(3.0, 0.0, n_pool=10).items() if k != "delta"})
    return metric, auc, floors, intervals


AUC_EFFECT = Interval(0.02, -0.01, 0.05, 0.015)


def _effects(metric, auc_effect=AUC_EFFECT):
    from ldbench.report.ld_effect import ld_effect_frame

    return ld_effect_frame({(d, m): path for (d, m, ld), path in metric.items() if ld == "LD"},
                           {(d, m): auc_effect for (d, m, ld) in metric if ld == "LD"})


def test_table1_has_a_row_per_model_and_the_real_rows(tmp_path):
    frame = table1_frame(*_files(tmp_path))
    assert len(frame) == 2 * len(METHODS) * 2 + 2 * 4
    assert set(frame["method"]) >= {"Real data", "Real data, 2× steps", "Real + synthetic", "Real + all synthetic, 2× steps"}
    write_table1(frame, tmp_path / "table1")
    csv = pd.read_csv(tmp_path / "table1.csv")
    assert csv.shape[0] == len(frame)
    assert {"FID", "KID", "AUC"} <= set(csv.columns)
    md = (tmp_path / "table1.md").read_text()
    assert "FID (evaluator features)" in md and "12.50 [11.50, 13.50] / 0.0100 [0.0080, 0.0120] / 0.600 [0.500, 0.700]" in md and "Real + synthetic" in md
    assert "| Real data | – | – | 3.00 [2.00, 4.00] / 0.0100 [0.0080, 0.0120] / 0.900 [0.800, 1.000] | 0.80 / 0.60 / 0.90 / 0.70 |" in md  # the real floor at equal n
    assert "brain: P / R / D / C" in md and "| Real data, 2× steps | – | – | – / – / 0.900 [0.800, 1.000] | – |" in md
    assert "| Basic FT | yes | +0.05 | 12.50 [11.50, 13.50]" in md  # the δ each LD row was sampled at
    assert "half-sampling" in md and "real floor" in md
    tex = (tmp_path / "table1.tex").read_text()
    assert r"\toprule" in tex and "Basic FT" in tex


def test_table1_shows_frd_beside_fid_where_the_run_computed_it(tmp_path):
    metric, auc, floors, intervals = _files(tmp_path)
    frd = {"frd": 2.5, "frd_ci95": [2.25, 2.75], "frd_n_generated": 10, "frd_n_real": 8}
    for path in [*metric.values(), *floors.values()]:
        path.write_text(json.dumps({**json.loads(path.read_text()), **frd}))
    frame = table1_frame(metric, auc, floors, intervals)
    write_table1(frame, tmp_path / "table1")
    md = (tmp_path / "table1.md").read_text()
    assert "brain: FRD" in md and "| Basic FT | yes | +0.05 | 12.50 [11.50, 13.50] / 0.0100 [0.0080, 0.0120] / 0.600 [0.500, 0.700] | 2.50 [2.25, 2.75] |" in md
    assert "Fréchet Radiomics Distance" in md and "10 generated vs 8 real test images (brain)" in md
    assert {"FRD", "FRD_ci_low", "FRD_ci_high"} <= set(pd.read_csv(tmp_path / "table1.csv").columns)
    write_table1(table1_frame(*_files(tmp_path / "off")), tmp_path / "off")
    assert "FRD" not in (tmp_path / "off.md").read_text()  # a run without FRD has no FRD column, not a blank one
    # the paired LD effect carries FRD too, as a log ratio with its verdict
    from ldbench.report.ld_effect import write_ld_effect

    for (_d, _m, ld), path in metric.items():
        if ld == "LD":
            m = json.loads(path.read_text())
            m["ld_effect"] |= {"delta_frd": -0.4, "delta_frd_ci95": [-0.7, -0.1]}
            path.write_text(json.dumps(m))
    effects = _effects(metric)
    assert (effects["FRD_verdict"] == "LD lower").all()
    write_ld_effect(effects, tmp_path / "table_ld_effect", n_boot=50)
    shown = (tmp_path / "table_ld_effect.md").read_text()
    assert "ΔFRD (LD − no LD)" in shown and "-0.4 [-0.7, -0.1]" in shown and "log of the ratio" in shown


def test_table1_and_the_ld_effect_show_the_spread_over_generation_seeds(tmp_path):
    metric, auc, floors, intervals = _files(tmp_path)
    seeds = {"seeds": [0, 1, 2], "n_generated": 4, "fid": {"per_seed": [11.0, 12.0, 13.0], "mean": 12.0, "sd": 1.0},
             "kid": {"per_seed": [0.01, 0.02, 0.03], "mean": 0.02, "sd": 0.01}}
    for (_d, _m, ld), path in metric.items():
        m = json.loads(path.read_text()) | {"generation_seeds": seeds}
        if ld == "LD":
            m["ld_effect"]["over_seeds"] = {"delta_fid": {"per_seed": [-1.0, -2.0, -3.0], "mean": -2.0, "sd": 1.0},
                                            "delta_kid": {"per_seed": [0.0, 0.0, 0.0], "mean": 0.0, "sd": 0.0}}
        path.write_text(json.dumps(m))
    frame = table1_frame(metric, auc, floors, intervals)
    write_table1(frame, tmp_path / "table1")
    md = (tmp_path / "table1.md").read_text()
    assert "brain: FID / KID over seeds (mean ± sd)" in md and "| 12.00 ± 1.00 / 0.0200 ± 0.0100 |" in md
    assert "3 seeds × 4 images (brain)" in md
    assert {"FID_seeds_mean", "FID_seeds_sd", "KID_seeds_mean"} <= set(pd.read_csv(tmp_path / "table1.csv").columns)
    from ldbench.report.ld_effect import write_ld_effect

    write_ld_effect(_effects(metric), tmp_path / "table_ld_effect", n_boot=50)
    shown = (tmp_path / "table_ld_effect.md").read_text()
    assert "ΔFID over seeds (mean ± sd)" in shown and "-2 ± 1" in shown and "seed-paired" in shown


def test_table1_refuses_a_nan_cell(tmp_path):
    with pytest.raises(LdbenchError, match="FID"):
        table1_frame(*_files(tmp_path, fid=float("nan")))


def test_paper_comparison_verdicts_come_from_intervals(tmp_path):
    """brain: every paired interval below 0; cxr: one above 0 and one containing it. Overlapping
    FID intervals make "lowest FID" inconclusive, separated ones decide it."""
    from ldbench.report.comparison import comparison_markdown
    from ldbench.report.ld_effect import DOUBLED_VS_CONTROL, MIXED_VS_REAL

    metric, auc, floors, intervals = _files(tmp_path)
    fids = {("brain", "LD"): 10.0, ("brain", "noLD"): 20.0, ("cxr", "LD"): 30.0, ("cxr", "noLD"): 20.0}
    effects = {("brain", "basic_ft"): (-10, -12, -8), ("brain", "dreambooth"): (-10, -12, -8),
               ("cxr", "basic_ft"): (10, 8, 12), ("cxr", "dreambooth"): (0.5, -1, 2)}
    for (d, m, ld), path in metric.items():
        obj = json.loads(path.read_text())
        obj["fid"] = fids[(d, ld)] + (0.5 if m == "dreambooth" else 0.0)
        obj["fid_ci95"] = [obj["fid"] - 1, obj["fid"] + 1]
        if ld == "LD":
            obj["ld_effect"] = _effect(*effects[(d, m)])
        path.write_text(json.dumps(obj))
    _write(auc[("cxr", "mixed+basic_ft-LD")], {"auc_mean": 0.85, "auc_std": 0.0, "n_test": 8})
    intervals[("cxr", "mixed+basic_ft-LD")] = Interval(0.85, 0.75, 0.95, 0.05)
    utility = {("brain", MIXED_VS_REAL): Interval(0.05, 0.01, 0.09, 0.02), ("cxr", MIXED_VS_REAL): Interval(-0.05, -0.10, 0.01, 0.03),
               ("brain", DOUBLED_VS_CONTROL): Interval(-0.05, -0.09, -0.01, 0.02)}
    md = comparison_markdown(table1_frame(metric, auc, floors, intervals), _effects(metric), utility)
    assert "**brain: LD lowers FID for every method** — holds" in md and "Basic FT -10 [-12, -8]" in md
    assert "**cxr: LD lowers FID for every method** — does not hold" in md
    assert "**brain: LD lowers KID for every method** — inconclusive" in md  # [-0.002, 0.001] contains 0
    assert "**brain: Basic FT + LD has the lowest FID** — inconclusive" in md  # DreamBooth + LD 10.5 ± 1 overlaps 10 ± 1
    assert "**cxr: Basic FT + LD has the lowest FID** — does not hold" in md and "lower beyond overlap: Basic FT, DreamBooth" in md
    assert "**brain: real + synthetic training (50/50 at the real size) beats real only (AUC)** — holds (mixed − real, paired by test subject: +0.050 [+0.010, +0.090])" in md
    assert "**cxr: real + synthetic training (50/50 at the real size) beats real only (AUC)** — inconclusive" in md
    assert "**brain: adding the synthetic set to the real one beats training longer on real only (AUC)** — does not hold" in md
    assert "| brain | Basic FT | yes | 49.68 | 10.000 |" in md  # the paper's cell beside this run's
    assert "FID (evaluator features)" in md


def test_ld_effect_table_reads_verdicts_off_the_intervals(tmp_path):
    from ldbench.report.ld_effect import interval_verdict, write_ld_effect

    assert [interval_verdict(*ci) for ci in ((-2, -1), (1, 2), (-1, 1))] == ["LD lower", "LD higher", "inconclusive"]
    metric, *_ = _files(tmp_path)
    frame = _effects(metric)
    assert len(frame) == 4 and set(frame["FID_verdict"]) == {"inconclusive"}
    write_ld_effect(frame, tmp_path / "table_ld_effect", n_boot=50)
    md = (tmp_path / "table_ld_effect.md").read_text()
    assert "-1 [-2, +0.5]" in md and "index-paired" in md and "+0.020 [-0.010, +0.050] | inconclusive" in md and "50 bootstrap resamples of test subjects" in md
    stale = metric[("brain", "basic_ft", "LD")]
    _write(stale, {k: v for k, v in json.loads(stale.read_text()).items() if k != "ld_effect"})
    with pytest.raises(LdbenchError, match="ld_effect lacks"):
        _effects(metric)


def test_delta_ablation_marks_the_chosen_delta_for_both_loss_targets(tmp_path):
    from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation

    grids = {}
    for method, ld, target, best in (("basic_ft", "LD", "drifted_noise", 0.05), ("dreambooth", "LD", "drifted_noise", -0.05),
                                     ("basic_ft", "LD_noise", "noise", 0.0), ("basic_ft", "noLD", "noise", -0.05)):
        folder = tmp_path / method / ld
        folder.mkdir(parents=True)
        scores = {d: 0.1 + 0.1 * round(abs(d - best) / 0.05) for d in (-0.05, 0.0, 0.05)}
        pd.DataFrame([{"delta": d, "energy": s, "paired_l1": 0.5, "l_in": s, "l_out": 0.7, "score": s, "fid_domain": 10 * s, "n": 4}
                      for d, s in scores.items()]).to_csv(folder / "grid.csv", index=False)
        _write(folder / "chosen.json", {"delta": best, "lambda": 0.0, "score": 0.1, "train_delta": 0.0 if ld == "noLD" else 0.05, "loss_target": target,
                                        "sampling_steps": 20, "selection": "energy", "inference_shift": "per_step"})
        grids[("brain", method, ld)] = folder
    frame = delta_ablation_frame(grids)
    assert len(frame) == 12 and frame["chosen"].sum() == 4
    write_delta_ablation(frame, tmp_path / "ablation")
    md = (tmp_path / "ablation.md").read_text()
    assert "| brain | Basic FT | no LD (trained without drift) | 0.1000 / 0.5000 / 1 * |" in md  # inference-only LD, its own search
    assert md.index("no LD (trained without drift)") < md.index("LD, ε + δ (drifted_noise)") < md.index("LD, ε (noise)")
    assert "| brain | Basic FT | LD, ε + δ (drifted_noise) | 0.3000 / 0.5000 / 3 | 0.2000 / 0.5000 / 2 | 0.1000 / 0.5000 / 1 * |" in md
    assert "| brain | Basic FT | LD, ε (noise) | 0.2000 / 0.5000 / 2 | 0.1000 / 0.5000 / 1 * | 0.2000 / 0.5000 / 2 |" in md
    assert "| brain | DreamBooth | LD, ε + δ (drifted_noise) | 0.1000 / 0.5000 / 1 * |" in md
    assert "each of the 20 reverse steps" in md and "fine-tuned with δ = 0.05, the noLD models without drift" in md and "ℓ_in = the energy distance" in md

    _write(tmp_path / "basic_ft" / "LD_noise" / "chosen.json", {"delta": 0.0, "lambda": 0.0, "score": 0.1, "selection": "energy", "inference_shift": "per_step"})  # written before the fields existed
    with pytest.raises(LdbenchError, match=r"LD_noise/chosen.json: needs loss_target"):
        delta_ablation_frame(grids)


def test_ld_2x2_separates_training_from_inference_drift(tmp_path):
    from ldbench.report.ld_2x2 import ld_2x2_frame, write_ld_2x2

    cells = {"noLD": (0.0, None), "LD@zero": (0.0, (-2.0, -3.0, -1.0)), "noLD@searched": (0.01, (0.5, -0.5, 1.5)), "LD": (0.005, (-2.5, -3.5, -1.5))}
    files = {}
    for ld, (delta, effect) in cells.items():
        extra = {"ld_effect": _effect(*effect)} if effect else {}
        files[("brain", "basic_ft", ld)] = _write(tmp_path / f"{ld}.json", {**_metrics(12.5, delta, **extra), "inference_shift": "per_step"})
    frame = ld_2x2_frame(files)
    assert list(frame["cell"]) == ["noLD", "LD@zero", "noLD@searched", "LD"]
    write_ld_2x2(frame, tmp_path / "ld_2x2", "FID (evaluator features)")
    md = (tmp_path / "ld_2x2.md").read_text()
    assert "| brain | Basic FT | no | δ = 0 | +0 | 12.50 [11.50, 13.50] | 0.0100 [0.0080, 0.0120] | (reference) | (reference) |" in md
    assert "| brain | Basic FT | yes | δ = 0 | +0 | 12.50 [11.50, 13.50] | 0.0100 [0.0080, 0.0120] | -2 [-3, -1] drift lower |" in md
    assert "| brain | Basic FT | no | searched δ | +0.01 |" in md and "+0.5 [-0.5, +1.5] inconclusive" in md
    assert "inference drift only" in md and "per_step" in md
    files[("brain", "basic_ft", "noLD@searched")].write_text(json.dumps(_metrics(12.5, 0.01)))  # written before the paired effect
    with pytest.raises(LdbenchError, match="ld_effect"):
        ld_2x2_frame(files)
    files[("brain", "basic_ft", "noLD@searched")].write_text(json.dumps(_metrics(12.5, 0.01, ld_effect=_effect(0.5, -0.5, 1.5))))
    del files[("brain", "basic_ft", "LD@zero")]
    with pytest.raises(LdbenchError, match=r"incomplete for \[\('brain', 'basic_ft'\)\]"):
        ld_2x2_frame(files)


def _counterfactual_result(folder, edit_gain, rng, n_subjects=8, visits=2):
    """A counterfactual rule's output: per-image scores of the edit, its null edit and the reconstruction."""

    rows = []
    for ld, gain in edit_gain.items():
        null = rng.uniform(0.2, 0.6, n_subjects * visits)
        scores = {"edit": null + gain + rng.normal(scale=0.02, size=len(null)), "null edit": null, "reconstruction": null * 0 + 0.1}
        for variant, p in scores.items():
            for i, value in enumerate(p):
                rows.append({"task": "CN → AD", "ld": ld, "variant": variant, "delta": 0.0 if ld == "noLD" else 0.01, "image": f"img{i}.png",
                             "subject": f"s{i // visits}", "p_target_edit": value, "flipped": value > 0.5, "l1_to_truth": 1 - value})
    folder.mkdir(parents=True)
    table = pd.DataFrame(rows)  # controls in another image order than the edits: pairing must go by image
    table = pd.concat([table[table["variant"] == "edit"], table[table["variant"] != "edit"].sample(frac=1.0, random_state=1)])
    table.to_csv(folder / "per_image.csv", index=False)
    _write(folder / "summary.json", {"editor_name": "SDEdit (img2img)"})
    return folder


def test_edit_gain_over_the_null_edit_has_a_subject_level_interval_and_an_honest_verdict(tmp_path):
    import numpy as np

    from ldbench.report.counterfactual import counterfactual_gain_frame, write_gain_table

    folder = _counterfactual_result(tmp_path / "cf", {"noLD": 0.0, "LD": 0.2}, np.random.default_rng(0))
    per_image = pd.read_csv(folder / "per_image.csv")
    unreadable = (per_image["variant"] == "edit") & (per_image["ld"] == "LD") & (per_image["image"] == "img0.png")
    per_image.loc[unreadable, "l1_to_truth"] = np.nan  # a score its measure could not read on one edited image
    per_image.to_csv(folder / "per_image.csv", index=False)
    gain = counterfactual_gain_frame({("brain", "sdedit"): folder}, n_boot=200, seed=0)
    p = gain[gain["score"] == "p_target_edit"].set_index("LD")
    assert p.loc[True, "gain"] == pytest.approx(0.2, abs=0.02) and p.loc[True, "verdict"] == "edit higher"
    assert p.loc[False, "verdict"] == "inconclusive" and p.loc[False, "gain_low"] < 0 < p.loc[False, "gain_high"]
    assert ((gain["n"] + gain["n_missing"]) == 16).all() and (gain["n_subjects"] == 8).all()
    assert gain.loc[gain["n_missing"] > 0, ["LD", "score"]].values.tolist() == [[True, "l1_to_truth"]]
    assert p.loc[True, "reconstruction"] == pytest.approx(0.1)
    l1 = gain[gain["score"] == "l1_to_truth"].set_index("LD")
    assert l1.loc[True, "verdict"] == "edit lower"  # closer to the truth than the null edit
    write_gain_table(gain, tmp_path / "table_cf_gain", n_boot=200)
    shown = (tmp_path / "table_cf_gain.md").read_text()
    assert "edit higher" in shown and "inconclusive" in shown and "Δ p(target)↑" in shown
    assert shown.count("| brain |") == 2 and "(1 unscored)" in shown  # one row per edit setting, the gap said in its cell


def test_edit_gain_refuses_an_edit_without_its_null_edit(tmp_path):
    import numpy as np

    from ldbench.report.counterfactual import counterfactual_gain_frame

    folder = _counterfactual_result(tmp_path / "cf", {"LD": 0.2}, np.random.default_rng(0))
    per_image = pd.read_csv(folder / "per_image.csv")
    per_image[~((per_image["variant"] == "null edit") & (per_image["image"] == "img3.png"))].to_csv(folder / "per_image.csv", index=False)
    with pytest.raises(LdbenchError, match="has no null edit"):
        counterfactual_gain_frame({("brain", "sdedit"): folder}, n_boot=50, seed=0)


def test_edit_gain_skips_unscored_pairs_and_says_no_difference_only_when_every_pair_is_equal():
    import numpy as np

    from ldbench.report.counterfactual import paired_gain

    subjects = np.repeat(["a", "b", "c", "d"], 2)
    flips = paired_gain(np.array([1, 0, 1, 0, 1, 1, 0, 0.0]), np.array([0, 1, 0, 1, 1, 1, 0, 0.0]), subjects, 100, 0)
    assert flips["gain"] == 0 and flips["verdict"] == "inconclusive"  # differences cancel within subjects: not "no difference"
    same = paired_gain(np.ones(8), np.ones(8), subjects, 100, 0)
    assert same["verdict"] == "no difference"
    partial = paired_gain(np.array([0.5, np.nan, 0.6, 0.7, 0.5, 0.6, 0.7, 0.8]), np.full(8, 0.4), subjects, 100, 0)
    assert partial["n"] == 7 and partial["n_missing"] == 1 and not np.isnan(partial["gain_low"])


def test_prompt_ablation_reads_each_cell_against_the_runs_own_wording_as_a_paired_difference(tmp_path):
    import numpy as np

    from ldbench.report.prompt_ablation import prompt_ablation_frame, write_prompt_ablation
    from ldbench.settings import PROMPT_CELLS, DistanceSettings
    from ldbench.stages.evaluate import save_features

    rng = np.random.default_rng(0)
    extractor = "evaluator: multi-task"
    # radiomics: 9 columns, one of them NaN in one image (dropped from every set)
    real_radiomics = rng.normal(size=(40, 9))
    save_features(tmp_path / "real.npz", extractor, test=rng.normal(size=(80, 6)), radiomics_test=real_radiomics)
    shifts = {"simple-noinfo": 1.0, "simple-info": 1.0, "diverse-noinfo": 1.0, "diverse-info": 0.0}  # diverse-info matches the real set
    noise, radiomic_noise = rng.normal(size=(60, 6)), rng.normal(size=(30, 9))  # index-paired sets: one noise, one shift per cell
    radiomic_noise[3, 4] = np.nan
    metrics, features = {}, {}
    frd = {"frd": 1.5, "frd_ci95": [1.0, 2.0], "frd_n_generated": 30, "frd_n_real": 40}
    for cell in PROMPT_CELLS:
        features[("brain", cell)] = tmp_path / f"{cell}.npz"
        save_features(features[("brain", cell)], extractor, generated=noise + shifts[cell], radiomics_generated=radiomic_noise + shifts[cell])
        metrics[("brain", cell)] = _write(tmp_path / f"{cell}.json", _metrics(10.0 * shifts[cell] + 1, 0.0, **frd))
    settings = DistanceSettings(feature_extractor="evaluator", inception_weights=None, kid_subset_size=50, kid_subsets=10,
                                frd_images=30, interval_draws=50, seed=0)
    frame = prompt_ablation_frame(metrics, features, {"brain": tmp_path / "real.npz"}, "simple-info", settings)
    by_cell = frame.set_index("cell")
    assert len(frame) == 4 and by_cell.loc["simple-info", "dFID"] != by_cell.loc["simple-info", "dFID"]  # the reference: no Δ (NaN)
    assert by_cell.loc["diverse-info", "dFID_ci_high"] < 0 and by_cell.loc["diverse-info", "FID_verdict"] == "cell lower"
    assert by_cell.loc["simple-noinfo", "FID_verdict"] == "inconclusive"  # the same images as the reference: Δ = 0
    assert by_cell.loc["diverse-info", "FRD_verdict"] == "cell lower" and by_cell.loc["simple-noinfo", "dFRD"] == 0
    write_prompt_ablation(frame, tmp_path / "table_prompt_ablation", "simple-info")
    md = (tmp_path / "table_prompt_ablation.md").read_text()
    assert "(reference)" in md and "51.35" in md and "0.0351" in md and "cell lower" in md
    assert "ΔFRD vs reference" in md and "1.50 [1.00, 2.00]" in md and "first 30 images" in md
    rows = [line for line in md.splitlines() if line.startswith("| brain")]
    assert sum("51.35" in line for line in rows) == 1 and "diverse | yes" in next(line for line in rows if "51.35" in line)
