"""A config or library edit re-runs exactly the jobs it affects (Snakemake's params trigger).

Each rule hands its job its typed settings (``ldbench.settings``) and a stamp of the library code it
runs (``ldbench.stamps``) through ``params:``; these dry runs against the session's finished smoke
run check that Snakemake then schedules what an edit affects and nothing else.
"""

import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest
from workflow_helpers import REPO, SMOKE, job_counts, snakemake

pytestmark = pytest.mark.slow


def _scheduled(workdir, *overrides: str, snakefile=None) -> Counter:
    """Jobs per rule a dry run schedules with ``overrides`` (YAML texts) merged over the smoke config."""
    files = []
    for k, text in enumerate(overrides):
        (workdir / f"override{k}.yaml").write_text(text)
        files.append(f"override{k}.yaml")
    args = [*SMOKE, *files, "-n"]
    if snakefile is None:
        out = snakemake(workdir, *args).stdout
    else:
        cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), *args]
        out = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=True, timeout=600).stdout
    return job_counts(out)


def _finetuned_models(workdir, *overrides: str) -> set[str]:
    for k, text in enumerate(overrides):
        (workdir / f"override{k}.yaml").write_text(text)
    out = snakemake(workdir, *SMOKE, *(f"override{k}.yaml" for k in range(len(overrides))), "-n").stdout
    return set(re.findall(r"rule finetune:\n(?:    .*\n)*?    output: results/models/(\S+)", out))


def test_a_finished_run_has_nothing_to_do(smoke_run):
    assert _scheduled(smoke_run) == Counter()


def test_a_method_learning_rate_reruns_that_method_and_its_descendants_only(smoke_run):
    assert _finetuned_models(smoke_run, "finetune:\n  dreambooth: {lr: 3.0e-4}\n") == {
        f"{d}/dreambooth/{ld}" for d in ("brain", "cxr") for ld in ("noLD", "LD")}
    jobs = _scheduled(smoke_run, "finetune:\n  dreambooth: {lr: 3.0e-4}\n")
    assert jobs["drift_search"] == 2 and jobs["synthesize"] == jobs["evaluate"] == 4 and jobs["paper_tables"] == 1
    assert not {"pretrain_base", "class_images", "encode_latents", "preprocess", "counterfactual", "ageing"} & set(jobs)


def test_a_training_drift_change_reruns_only_models_trained_with_drift(smoke_run):
    models = _finetuned_models(smoke_run, "drift:\n  train_delta: 0.02\n")
    assert models and all(m.split("/")[-1].startswith("LD") for m in models)


def test_sampling_steps_rerun_sampling_evaluation_and_tables_but_no_training(smoke_run):
    jobs = _scheduled(smoke_run, "sampling:\n  steps: 3\n")
    assert jobs["synthesize"] and jobs["evaluate"] and jobs["drift_search"] and jobs["paper_tables"] == 1
    assert not {"finetune", "pretrain_base", "class_images", "encode_latents", "make_phantoms", "preprocess"} & set(jobs)


def test_generation_seeds_rerun_table_1_sets_only(smoke_run):
    """``evaluation`` reaches only the sampling of Table 1's sets (noLD, LD), not the 2×2's, the ablations' or any training."""
    jobs = _scheduled(smoke_run, "evaluation:\n  seeds: 3\n")
    assert jobs["synthesize"] == 2 * 4 * 2 and jobs["evaluate"] >= 16 and jobs["paper_tables"] == 1
    assert not {"finetune", "drift_search", "synthesize_prompt_cell", "finetune_prompt_cell"} & set(jobs)


def test_the_prompt_wording_reruns_every_model_and_the_ablation_only_its_cells(smoke_run):
    """``prompts`` words every fine-tuning prompt; ``prompt_ablation`` only trains the ablation's cells."""
    models = _finetuned_models(smoke_run, "prompts:\n  style: diverse\n")
    assert models == {f"{d}/{m}/{ld}" for d in ("brain", "cxr") for m in ("basic_ft", "dreambooth", "textual_inversion", "custom_diffusion")
                      for ld in ("noLD", "LD")} | {f"{d}/basic_ft/LD_noise" for d in ("brain", "cxr")}
    jobs = _scheduled(smoke_run, "prompt_ablation:\n  steps: 3\n")
    assert jobs == Counter({"finetune_prompt_cell": 4, "synthesize_prompt_cell": 4, "evaluate_prompt_cell": 4, "table_prompt_ablation": 1,
                            "all": 1})


def test_the_auc_bootstrap_count_reruns_the_tables_not_the_classifiers(smoke_run):
    """The subject-level AUC intervals are drawn in paper_tables from saved predictions; models stay."""
    assert _scheduled(smoke_run, "classifier:\n  bootstrap: 40\n") == Counter({"paper_tables": 1, "all": 1})


def test_a_figure_option_reruns_only_that_figure(smoke_run):
    assert _scheduled(smoke_run, "figures:\n  samples_per_method: {per_cell: 2}\n") == Counter({"fig5_samples_per_method": 1, "all": 1})
    assert set(_scheduled(smoke_run, "figures:\n  dpi: 100\n")) == {
        "fig1_counterfactuals", "fig2_delta_sweep", "fig3_latent_distributions", "fig5_samples_per_method", "fig_metric_vs_n", "fig_memorisation", "all"}


def test_a_library_edit_reruns_the_stages_that_import_it(smoke_run, tmp_path):
    """The workflow and library copied elsewhere unchanged: nothing to do; after a figure-code edit: the figures."""
    copy = tmp_path / "workflow"
    copy.mkdir()
    for part in ("Snakefile", "rules", "schemas", "workflow_scripts", "src", "report", "envs", "profiles"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, copy / part)
    assert _scheduled(smoke_run, snakefile=copy / "Snakefile") == Counter()
    figures = copy / "src" / "ldbench" / "report" / "figures.py"
    figures.write_text(figures.read_text() + "\n# an edit\n")
    # paper_counterfactual draws Fig. 1's helpers too; paper_tables reads its table_ageing.csv (paper_comparison.md's ageing rows)
    assert set(_scheduled(smoke_run, snakefile=copy / "Snakefile")) == {
        "fig1_counterfactuals", "fig2_delta_sweep", "fig3_latent_distributions", "fig5_samples_per_method", "fig_metric_vs_n",
        "fig_memorisation", "paper_counterfactual", "paper_tables", "all"}


def test_adding_the_fifth_method_runs_its_jobs_only_and_puts_it_in_table_1(smoke_run, tmp_path):
    """LoRA (one module, methods/lora.py, plus its config block) added to a finished run."""
    import pandas as pd

    work = tmp_path / "with_lora"
    shutil.copytree(smoke_run, work, symlinks=True)
    with_lora = "finetune:\n  methods: [basic_ft, dreambooth, textual_inversion, custom_diffusion, lora]\n"
    jobs = _scheduled(work, with_lora)
    assert jobs["finetune"] == 4 and jobs["drift_search"] == 2 and jobs["synthesize"] == jobs["evaluate"] == jobs["train_classifier"] == 4
    assert not {"pretrain_base", "class_images", "encode_latents", "counterfactual", "ageing", "trajectories"} & set(jobs)
    snakemake(work, *SMOKE, "override0.yaml")
    table = pd.read_csv(work / "results/paper/table1_finetuning.csv")
    lora = table[table["method"] == "LoRA"]
    assert len(lora) == 4 and set(lora["LD"]) == {True, False} and lora["FID"].notna().all()
