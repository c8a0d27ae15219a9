"""The whole DAG on configs/smoke.yaml, twice: a complete, finite Table 1 and byte-identical reruns.

The second run is the session's interrupted one (conftest.py: killed in mid-fine-tuning, then
recovered as the README says), so one run checks determinism and recovery together."""

import json
import math

import pandas as pd
import pytest
from workflow_helpers import REPO, SMOKE, TABLE, smoke_config, snakemake

from ldbench.editing import EDITORS as EDITOR_TITLES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_runs(smoke_run, resumed_run):
    """The session's smoke run and a second, independent one, killed and recovered on the way."""
    return [smoke_run, resumed_run.workdir]


def test_table1_is_complete_and_finite(smoke_runs):
    table = pd.read_csv(smoke_runs[0] / f"{TABLE}.csv")
    real = table[table["method"].str.startswith("Real")]
    models = table.drop(real.index)
    assert len(models) == 2 * 4 * 2  # dataset × method × {noLD, LD}
    assert set(models["method"]) == {"Basic FT", "DreamBooth", "Textual Inversion", "Custom Diffusion"}
    assert models.groupby(["dataset", "method"])["LD"].nunique().eq(2).all()
    for column in ("FID", "FID_ci_low", "FID_ci_high", "KID", "KID_ci_low", "KID_ci_high", "AUC"):
        assert models[column].map(math.isfinite).all(), column
    assert (models["FID"] >= 0).all() and models["AUC"].between(0, 1).all()
    over_seeds = ["FID_seeds_mean", "FID_seeds_sd", "KID_seeds_mean", "KID_seeds_sd"]
    assert models[over_seeds].map(math.isfinite).all().all() and (models["seeds"] == smoke_config()["evaluation"]["seeds"]).all()
    assert not [c for c in table.columns if "FRD" in c]  # FRD off in the smoke run: absent, not NaN (test_frd_end_to_end turns it on)
    assert (models["FID_ci_low"] <= models["FID"]).all() and (models["FID"] <= models["FID_ci_high"]).all()
    assert sorted(set(real["method"])) == ["Real + all synthetic, 2× steps", "Real + synthetic", "Real data", "Real data, 2× steps"]
    assert len(real) == 2 * 4
    assert real["AUC"].between(0, 1).all()
    floor = real[real["method"] == "Real data"]  # the real floor at the generated sets' size
    assert floor["FID"].map(math.isfinite).all()
    assert floor.set_index("dataset")["n_generated"].to_dict() == models.groupby("dataset")["n_generated"].max().to_dict()
    effects = pd.read_csv(smoke_runs[0] / "results/paper/table_ld_effect.csv")
    assert len(effects) == 2 * 4 and set(effects["FID_verdict"]) <= {"LD lower", "LD higher", "inconclusive"}
    assert ((effects["dFID_ci_low"] <= effects["dFID"]) & (effects["dFID"] <= effects["dFID_ci_high"])).all()
    assert effects["dAUC"].map(math.isfinite).all() and effects[["dFID_seeds_mean", "dFID_seeds_sd"]].map(math.isfinite).all().all()
    memorised = pd.read_csv(smoke_runs[0] / "results/paper/table_memorisation.csv")
    assert len(memorised) == 2 * 4 * 2 and memorised["pixel_fraction_below"].between(0, 1).all()
    md = (smoke_runs[0] / f"{TABLE}.md").read_text()
    assert "FID (evaluator features)" in md and md.count("\n| ") == 2 + 8 + 4  # header, rule, models, data-utility rows


def test_every_stage_left_its_outputs_and_logs(smoke_runs):
    workdir = smoke_runs[0]
    for png in ("results/paper/fig_metric_vs_n.png", "results/paper/fig_memorisation.png", "results/paper/fig2_delta_sweep.png", "results/paper/fig2_delta_sweep_base.png", "results/paper/fig3_latent_distributions.png", "results/paper/fig5_samples_per_method.png", "results/figures/data_brain.png", "results/figures/data_cxr.png"):
        assert (workdir / png).stat().st_size > 10_000, png
    chosen = pd.read_csv(workdir / "results/drift/brain/basic_ft/LD/grid.csv")
    assert list(chosen["shape"]) == ["scalar"] * 3 + ["channel"] * 2 and chosen["score"].map(math.isfinite).all()  # drift.shape: channel
    ablation = pd.read_csv(workdir / "results/paper/table_delta_ablation.csv")
    # dataset × (LD models + Basic FT's noLD model, drift.ld_2x2, + Basic FT with the other loss target) × (3 δ + 2 per-channel multiples)
    assert len(ablation) == 2 * (4 + 1 + 1) * (3 + 2)
    two_by_two = pd.read_csv(workdir / "results/paper/table_ld_2x2.csv")
    assert list(two_by_two["cell"]) == ["noLD", "LD@zero", "noLD@searched", "LD", "LD@channel"] * 2
    vector = json.loads(two_by_two.loc[two_by_two["cell"] == "LD@channel", "delta"].iloc[0].replace("'", '"'))
    assert len(vector) == 4 and two_by_two["FID"].map(math.isfinite).all()
    by_method = ablation.groupby("method")["trained"].unique().map(sorted).to_dict()
    assert by_method.pop("Basic FT") == ["LD, ε (noise)", "LD, ε + δ (drifted_noise)", "no LD (trained without drift)"]
    assert all(list(trained) == ["LD, ε + δ (drifted_noise)"] for trained in by_method.values())
    logs = {p.parts[len(workdir.parts) + 2] for p in (workdir / "results/logs").rglob("*.log")}
    assert {"make_phantoms", "preprocess", "pretrain_base", "class_images", "finetune", "drift_search", "synthesize", "train_classifier", "real_features",
            "evaluate", "counterfactual", "trajectories", "ageing", "paper_tables", "paper_figures", "paper_counterfactual"} <= logs
    rerun = snakemake(workdir, *SMOKE, "-n")
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_counterfactual_tables_cover_every_task_editor_and_ld(smoke_runs):
    edits = pd.read_csv(smoke_runs[0] / "results/paper/table_counterfactual.csv")
    editors = smoke_config()["counterfactual"]["editors"]
    assert len(edits) == 2 * len(editors) * 2 * 2 * 3  # dataset × editor × task × {noLD, LD} × {edit, null edit, reconstruction}
    assert set(edits["editor"]) == {EDITOR_TITLES[editor] for editor in editors}
    assert edits.groupby("variant")["reversibility_l1"].apply(lambda r: r.notna().all()).to_dict() == {"edit": True, "null edit": False, "reconstruction": False}
    assert edits["ssim_to_source"].between(-1, 1).all() and edits["flipped"].between(0, 1).all()
    assert edits["lpips"].str.startswith("unavailable").all() and edits["lpips_to_source"].isna().all()  # no stand-in
    truth = pd.read_csv(smoke_runs[0] / "results/paper/table_cf_groundtruth.csv")
    assert len(truth) == len(edits) and truth["l1_to_truth"].map(math.isfinite).all() and truth["locality_ratio"].map(math.isfinite).all()
    assert truth["effect_true"].map(math.isfinite).all()  # both kinds measure their effect on the true counterfactual
    by_dataset = dict(tuple(truth.groupby("dataset")))
    # the brain measure reads any slice; the X-ray one declines (NaN) on an output without two lungs to segment
    assert by_dataset["brain"]["effect_error"].map(math.isfinite).all() and by_dataset["cxr"]["effect_error"].notna().mean() >= 0.5
    gain = pd.read_csv(smoke_runs[0] / "results/paper/table_cf_gain.csv")
    assert len(gain.drop_duplicates(["dataset", "editor", "task", "LD"])) == 2 * len(editors) * 2 * 2
    assert {"p_target_edit", "l1_to_truth", "locality_ratio"} <= set(gain["score"])
    with_interval = gain[gain["n_subjects"] >= 2]  # a smoke task may draw its few images from one subject: no interval
    assert len(with_interval) and (with_interval["gain_low"] <= with_interval["gain"]).all() and (with_interval["gain"] <= with_interval["gain_high"]).all()
    assert gain.loc[gain["n_subjects"] < 2, "verdict"].isin(["inconclusive", "no difference"]).all()  # never a direction
    assert set(gain["verdict"]) <= {"edit higher", "edit lower", "inconclusive", "no difference"}
    for editor in editors:
        assert (smoke_runs[0] / f"results/paper/fig1_counterfactuals_{editor}.png").stat().st_size > 10_000
    realism = pd.read_csv(smoke_runs[0] / "results/paper/table_cf_realism.csv", keep_default_na=False)
    scored = realism[realism["variant"] != ""]  # a smoke task with fewer than 2 real target-class test images is listed as skipped
    assert len(scored) and set(scored["variant"]) <= {"edit", "null edit", "reconstruction", "source (unedited)", "real floor"}
    fid, low = (pd.to_numeric(scored[c], errors="coerce") for c in ("fid", "fid_low"))
    too_few = scored[["n", "n_reference"]].astype(int).min(axis=1) < 3  # half-samples of 2 images cannot vary: no interval
    assert fid.map(math.isfinite).all() and ((low <= fid) | (too_few & low.isna())).all()
    edit_rows = scored[scored["variant"] == "edit"]
    assert len(edit_rows) and edit_rows["delta_fid"].astype(float).map(math.isfinite).all()  # the paired gain over the null edit
    same_n = scored[scored["variant"] != "real floor"].groupby(["dataset", "editor", "task"])["n"].nunique()
    assert (same_n == 1).all()  # the edits and their controls of a task are scored at one n
    ageing = pd.read_csv(smoke_runs[0] / "results/paper/table_ageing.csv")
    assert list(ageing["LD"]) == [False] * 3 + [True] * 3 and ageing["ssim_to_truth"].between(-1, 1).all()
    assert list(ageing["years as"]) == ["bin"] * 6 and list(ageing["model"]) == ["Basic FT"] * 6
    assert list(ageing["variant"]) == ["edit", "null edit", "reconstruction"] * 2
    assert ageing.loc[ageing["variant"] == "edit", "gain_l1_to_truth_verdict"].isin(["edit higher", "edit lower", "inconclusive", "no difference"]).all()
    assert (ageing["l1_source_to_truth"] > 0).all()  # the follow-up differs from the earlier scan
    # the years each output adds, read by the age regressor: the edit asks for the pair's gap, the controls for none
    assert (ageing.loc[ageing["variant"] == "edit", "years_asked"] >= 1).all() and (ageing.loc[ageing["variant"] != "edit", "years_asked"] == 0).all()
    assert ageing["age_gain_pred"].map(math.isfinite).all() and ageing["age_gain_follow_up"].map(math.isfinite).all()
    assert "years read" in (smoke_runs[0] / "results/paper/table_ageing.md").read_text()
    # the paper's ageing FID: every set against the real follow-ups, the edit beside its controls and the paired gain
    assert ageing["fid"].map(math.isfinite).all() and (ageing["fid_low"] <= ageing["fid"]).all()
    edits_aged = ageing[ageing["variant"] == "edit"]
    assert edits_aged[["fid_unedited", "fid_real_floor", "delta_fid"]].map(math.isfinite).all().all()
    comparison = (smoke_runs[0] / "results/paper/paper_comparison.md").read_text()
    assert "## Ageing side by side" in comparison and "| brain | Basic FT + LD | bin | 15.39 |" in comparison
    # the clean truth (earlier scan re-rendered at the later age) differs from it by the ageing alone: less than the follow-up
    assert (ageing["l1_source_to_clean_truth"] > 0).all() and (ageing["l1_source_to_clean_truth"] < ageing["l1_source_to_truth"]).all()
    assert ageing.loc[ageing["variant"] == "edit", "gain_l1_to_clean_truth_verdict"].isin(["edit higher", "edit lower", "inconclusive", "no difference"]).all()
    # the prompt ablation: four wordings of Basic FT + LD on brain, each against the run's own wording (simple + patient info)
    prompts = pd.read_csv(smoke_runs[0] / "results/paper/table_prompt_ablation.csv")
    assert sorted(prompts["cell"]) == ["diverse-info", "diverse-noinfo", "simple-info", "simple-noinfo"] and set(prompts["dataset"]) == {"brain"}
    assert prompts["FID"].map(math.isfinite).all() and (prompts["n_generated"] == 8).all() and (prompts["delta"] == 0).all()
    others = prompts[prompts["cell"] != "simple-info"]
    assert others["dFID"].map(math.isfinite).all() and prompts.loc[prompts["cell"] == "simple-info", "dFID"].isna().all()
    samples = {cell: pd.read_csv(smoke_runs[0] / f"results/prompt_ablation/brain/{cell}/samples/samples.csv") for cell in prompts["cell"]}
    assert samples["simple-noinfo"]["prompt"].str.fullmatch(r"a brain MRI with .+").all()
    assert samples["diverse-info"]["prompt"].nunique() > 1 and not samples["diverse-info"]["prompt"].str.fullmatch(r"a brain MRI of a .+").all()
    assert "51.35" in (smoke_runs[0] / "results/paper/table_prompt_ablation.md").read_text()


def test_two_runs_give_byte_identical_tables(smoke_runs):
    first, second = smoke_runs
    for table in (TABLE, "results/paper/table_counterfactual", "results/paper/table_cf_groundtruth", "results/paper/table_cf_gain",
                  "results/paper/table_cf_realism", "results/paper/table_delta_ablation",
                  "results/paper/table_ageing", "results/paper/table_ld_effect", "results/paper/table_memorisation",
                  "results/paper/table_prompt_ablation"):
        for ext in (".csv", ".md", ".tex"):
            a, b = (run / f"{table}{ext}" for run in (first, second))
            assert a.read_bytes() == b.read_bytes(), _first_difference(a, b)
    a, b = (run / "results/paper/fig_metric_vs_n.csv" for run in (first, second))
    assert a.read_bytes() == b.read_bytes(), _first_difference(a, b)


def _first_difference(a, b) -> str:
    """Which file and line differ, so that a failure says where the two runs part."""
    for i, (x, y) in enumerate(zip(a.read_text().splitlines(), b.read_text().splitlines(), strict=False)):
        if x != y:
            return f"{a.name} line {i + 1}:\n  {x}\n  {y}"
    return f"{a.name}: one is longer"


def test_snakefmt_and_lint_pass():
    import subprocess
    import sys

    fmt = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO, capture_output=True, text=True, check=False)
    assert fmt.returncode == 0, fmt.stderr
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    lint = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--workflow-profile", "none"], cwd=REPO, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_report_is_self_contained_with_every_table_and_figure(smoke_runs):
    workdir = smoke_runs[0]
    snakemake(workdir, *SMOKE, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text()
    for name in ("table1_finetuning", "table_ld_effect", "table_memorisation", "fig_metric_vs_n", "fig_memorisation", "paper_comparison", "table_counterfactual", "table_cf_groundtruth", "table_cf_gain", "table_cf_realism", "table_delta_ablation", "table_ageing",
                 "table_prompt_ablation", "fig1_counterfactuals_sdedit", "fig2_delta_sweep", "fig2_delta_sweep_base", "fig5_samples_per_method"):
        assert name in html, name
    assert '<script src="http' not in html and '<link href="http' not in html  # nothing fetched when opened
    comparison = (workdir / "results/paper/paper_comparison.md").read_text()
    assert "LD lowers FID for every method" in comparison and "49.68" in comparison
