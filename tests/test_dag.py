"""Dry runs of the DAG: every stage is wired, the grid has the expected size."""

import re

import pytest
from workflow_helpers import job_counts, prepare_workdir, snakemake

WITH_LORA = "finetune:\n  methods: [basic_ft, dreambooth, textual_inversion, custom_diffusion, lora]\n"


@pytest.mark.parametrize("configfile, n_methods, n_ablation, n_editors, n_channel, n_encodings, n_prompt_datasets", [
    # the default leaves out the loss-target ablation, Pix2Pix-Zero, the per-channel δ, two of the ageing wordings and the
    # chest X-ray prompt ablation, for its time budget; the smoke run keeps one editor (SDEdit)
    (None, 4, 0, 2, 0, 1, 1),
    ("configs/embedded_full.yaml", 4, 1, 3, 1, 3, 2),
    ("configs/smoke.yaml", 4, 1, 1, 1, 1, 1),
    ("configs/smoke.yaml with_lora.yaml", 5, 1, 1, 1, 1, 1),
])
def test_default_dag_has_every_stage(tmp_path, configfile, n_methods, n_ablation, n_editors, n_channel, n_encodings, n_prompt_datasets):
    workdir = prepare_workdir(tmp_path)
    (workdir / "with_lora.yaml").write_text(WITH_LORA)
    args = ["-n", "--workflow-profile", "none"] + (["--configfile", *configfile.split()] if configfile else [])
    counts = job_counts(snakemake(workdir, *args).stdout)
    assert counts["make_phantoms"] == 2 and counts["preprocess"] == 2 and counts["pretrain_base"] == 1
    assert counts["encode_latents"] == 2  # once per dataset, read by its 8 fine-tunings
    assert counts["class_images"] == 2  # once per dataset, for DreamBooth's and Custom Diffusion's prior preservation
    # 2 datasets × (methods × {noLD, LD} + Basic FT with LD and the other loss target, LD_noise)
    assert counts["finetune"] == 2 * (2 * n_methods + n_ablation)
    # every LD model, Basic FT's noLD model (drift.ld_2x2: inference-only LD), the loss-target ablation's
    assert counts["drift_search"] == 2 * (n_methods + 1 + n_ablation)
    # per dataset and method: noLD at δ = 0, LD at its δ (Table 1); for Basic FT also the 2×2's LD@zero and noLD@searched,
    # and with drift.shape channel LD@channel
    assert counts["synthesize"] == counts["evaluate"] == 2 * (2 * n_methods + 2 + n_channel)
    assert counts["real_features"] == 2  # real test and pool features, and the real floor, once per dataset
    assert counts["train_evaluator"] == 2  # the evaluation-only feature network, once per dataset
    assert counts["train_classifier"] == 2 * (4 + 2 * n_methods)  # real, real 2× steps, mixed, real + all synthetic, each synthetic set
    assert counts["counterfactual"] == counts["edit_realism"] == 2 * n_editors  # dataset × editor (each job: without and with LD)
    assert counts["trajectories"] == 2  # Fig. 3, per dataset
    assert counts["base_delta_sweep"] == 1  # Fig. 2's setting: the base model at every δ of each inference_shift mode
    assert counts["ageing"] == 2 * n_encodings  # InstructPix2Pix on brain pairs from Basic FT, without and with LD, per wording of the years
    assert counts["train_age_regressor"] == 1  # reads the years each brain ageing edit adds
    assert counts["ageing_realism"] == counts["ageing"]  # the paper's ageing FID, per ageing output
    assert counts["paper_tables"] == 1 and counts["paper_counterfactual"] == 1
    assert counts["fig2_delta_sweep"] == counts["fig3_latent_distributions"] == counts["fig5_samples_per_method"] == 1
    assert counts["fig1_counterfactuals"] == 1  # one figure per editor
    assert counts["fig_metric_vs_n"] == counts["fig_memorisation"] == 1
    # the prompt ablation: Basic FT + LD per wording × patient information, each sampled and scored once
    cells = 4 * n_prompt_datasets
    assert counts["finetune_prompt_cell"] == counts["synthesize_prompt_cell"] == counts["evaluate_prompt_cell"] == cells
    assert counts["table_prompt_ablation"] == 1


@pytest.mark.parametrize("devices,gpu", [("0,1", "gpu=1"), ("", "gpu=0")])
def test_every_rule_logs_and_declares_resources(tmp_path, devices, gpu):
    """GPU rules ask for a GPU where the host has some, and for none on a CPU-only host."""
    workdir = prepare_workdir(tmp_path)
    out = snakemake(workdir, "-n", "--workflow-profile", "none", "-p", "--forceall", env={"CUDA_VISIBLE_DEVICES": devices}).stdout
    assert "results/logs/" in out
    for rule in ("pretrain_base", "encode_latents", "class_images", "finetune", "drift_search", "synthesize", "train_classifier", "counterfactual", "trajectories", "ageing"):
        block = out.split(f"rule {rule}:")[1].split("\n\n")[0]
        assert re.search(r"resources:.*mem_mb=\d+", block) and gpu in block and "runtime=" in block, block


def test_workstation_profile_limits_gpus_and_resumes(tmp_path):
    """profiles/default is loaded when no profile is named; it caps GPU jobs and re-runs incomplete jobs."""
    import yaml
    from workflow_helpers import REPO

    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert profile["resources"]["gpu"] >= 1
    assert profile["keep-going"] and profile["rerun-incomplete"]
    out = snakemake(prepare_workdir(tmp_path), "-n", "--cores", "2", env={"CUDA_VISIBLE_DEVICES": "0"})
    assert f"Using workflow specific profile {REPO / 'profiles/default'}" in out.stderr


def test_paper_config_uses_real_data_and_sd_weights(tmp_path):
    """configs/paper.yaml: no phantoms, no embedded pre-training; the rest of the DAG is unchanged."""
    workdir = prepare_workdir(tmp_path)
    counts = job_counts(snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/paper.yaml").stdout)
    assert "make_phantoms" not in counts and "pretrain_base" not in counts
    assert counts["finetune"] == 18 and counts["preprocess"] == 2


def test_loss_target_ablation_follows_the_config(tmp_path):
    """drift.loss_target_ablation picks the methods trained with the other loss target; [] trains none."""
    workdir = prepare_workdir(tmp_path)
    (workdir / "flipped.yaml").write_text("drift:\n  loss_target: noise\n  loss_target_ablation: [basic_ft, dreambooth]\n")
    out = snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml", "flipped.yaml").stdout
    counts = job_counts(out)
    assert counts["finetune"] == 16 + 4 and counts["drift_search"] == 8 + 2 + 4
    assert "results/models/cxr/dreambooth/LD_drifted_noise" in out and "LD_noise" not in out
    (workdir / "none.yaml").write_text("drift:\n  loss_target_ablation: []\n")
    counts = job_counts(snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml", "none.yaml").stdout)
    assert counts["finetune"] == 16 and counts["drift_search"] == 8 + 2
    (workdir / "bad.yaml").write_text("drift:\n  loss_target_ablation: [lora]\n")
    bad = snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml", "bad.yaml", check=False)
    assert bad.returncode != 0 and "drift.loss_target_ablation: ['lora'] are not in finetune.methods" in bad.stderr + bad.stdout


def _resources_by_rule(output: str) -> dict[str, dict[str, str]]:
    found = {}
    for block in output.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        line = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if line:
            found.setdefault(rule, dict(kv.split("=", 1) for kv in line.group(1).split(", ")))
    return found


def test_slurm_profile_resources(tmp_path):
    """Dry run through profiles/slurm (the executor plugin must be installed, sbatch is not called)."""
    from workflow_helpers import REPO

    workdir = prepare_workdir(tmp_path)
    out = snakemake(workdir, "-n", "--workflow-profile", str(REPO / "profiles" / "slurm")).stdout
    resources = _resources_by_rule(out)
    for rule in ("pretrain_base", "encode_latents", "class_images", "finetune", "drift_search", "base_delta_sweep", "train_evaluator", "synthesize", "train_classifier",
                 "counterfactual", "trajectories", "ageing", "train_age_regressor", "finetune_prompt_cell", "synthesize_prompt_cell"):
        r = resources[rule]
        assert r["gpu"] == "1" and r["slurm_partition"] == "gpu", (rule, r)
        assert int(r["runtime"]) >= 120 and int(r["mem_mb"]) >= 16000 and int(r["cpus_per_task"]) >= 4, (rule, r)
    for rule in ("make_phantoms", "preprocess", "real_features", "evaluate", "edit_realism", "ageing_realism", "evaluate_prompt_cell"):
        r = resources[rule]
        assert "gpu" not in r and r["slurm_account"] and int(r["runtime"]) > 0, (rule, r)


def test_evaluation_features_come_from_a_network_used_for_nothing_else(tmp_path):
    """FID / KID / precision–recall read the evaluator; the evaluator feeds nothing but them. The real-data
    classifiers (reported in Table 1; `real` consulted by the δ search, `real-2x` scoring edits) feed no metric
    of Table 1, and the edits are not scored by the classifier the δ search consults."""
    out = snakemake(prepare_workdir(tmp_path), "-n", "--workflow-profile", "none").stdout
    inputs: dict[str, list[str]] = {}
    for block in re.findall(r"^rule (\w+):\n((?:    .*\n)+)", out, re.MULTILINE):
        rule, body = block
        line = re.search(r"^    input: (.*)$", body, re.MULTILINE)
        inputs.setdefault(rule, []).append(line.group(1) if line else "")
    readers = {rule for rule, lines in inputs.items() if any("results/evaluator/" in line for line in lines)}
    assert readers == {"real_features", "evaluate", "evaluate_prompt_cell", "edit_realism", "ageing_realism"}
    for rule in readers:
        assert not any("results/classifiers/" in line for line in inputs[rule]), inputs[rule]
    # the classifier that scores the edits' effect is not the one the δ search consults
    def classifiers(rule: str) -> set[str]:
        return {path for line in inputs[rule] for path in re.findall(r"results/classifiers/[^, ]+", line)}

    assert classifiers("counterfactual") and not classifiers("counterfactual") & classifiers("drift_search")


def test_ageing_runs_per_model_and_wording_and_refuses_an_untrained_model(tmp_path):
    """ageing.methods × {noLD, LD} × ageing.encodings trainings, each from its own fine-tuned model."""
    workdir = prepare_workdir(tmp_path)
    (workdir / "ageing.yaml").write_text("ageing: {methods: [basic_ft, custom_diffusion], encodings: [bin, word, number]}\n")
    out = snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml", "ageing.yaml").stdout
    assert job_counts(out)["ageing"] == 2 * 2 * 3
    for method in ("basic_ft", "custom_diffusion"):
        for encoding in ("bin", "word", "number"):
            assert f"results/ageing/brain/{method}/LD/{encoding}" in out
    block = out.split("output: results/ageing/brain/custom_diffusion/LD/number")[0].rsplit("rule ageing:", 1)[1]
    assert "results/models/brain/custom_diffusion/LD" in block and "results/drift/brain/custom_diffusion/LD/chosen.json" in block
    (workdir / "ageing.yaml").write_text("finetune: {methods: [basic_ft, dreambooth]}\nageing: {methods: [custom_diffusion]}\n")
    bad = snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml", "ageing.yaml", check=False)
    assert bad.returncode != 0 and "ageing.methods: ['custom_diffusion'] are not in finetune.methods" in bad.stdout + bad.stderr
