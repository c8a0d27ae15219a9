"""Dry runs of the DAG: every stage is wired, the grid has the expected size."""

import re
from collections import Counter

import pytest

from workflow_helpers import prepare_workdir, snakemake


def _job_counts(output: str) -> Counter:
    table = output.split("Job stats:")[1]
    return Counter({m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)})


@pytest.mark.parametrize("configfile", [None, "configs/smoke.yaml"])
def test_default_dag_has_every_stage(tmp_path, configfile):
    workdir = prepare_workdir(tmp_path)
    args = ["-n", "--workflow-profile", "none"] + (["--configfile", configfile] if configfile else [])
    counts = _job_counts(snakemake(workdir, *args).stdout)
    assert counts["make_phantoms"] == 2 and counts["preprocess"] == 2 and counts["pretrain_base"] == 1
    assert counts["finetune"] == 16  # 2 datasets × 4 methods × {noLD, LD}
    assert counts["drift_search"] == 8  # every LD model
    assert counts["synthesize"] == 16 and counts["evaluate"] == 16
    assert counts["train_classifier"] == 2 * (1 + 1 + 8)  # real, real+synthetic, each synthetic set
    assert counts["paper_tables"] == 1 and counts["paper_figures"] == 1


def test_every_rule_logs_and_declares_resources(tmp_path):
    workdir = prepare_workdir(tmp_path)
    out = snakemake(workdir, "-n", "--workflow-profile", "none", "-p", "--forceall").stdout
    assert "results/logs/" in out
    for rule in ("pretrain_base", "finetune", "drift_search", "synthesize", "train_classifier"):
        block = out.split(f"rule {rule}:")[1].split("\n\n")[0]
        assert re.search(r"resources:.*mem_mb=\d+", block) and "gpu=1" in block and "runtime=" in block, block


def test_paper_config_uses_real_data_and_sd_weights(tmp_path):
    """configs/paper.yaml: no phantoms, no embedded pre-training; the rest of the DAG is unchanged."""
    workdir = prepare_workdir(tmp_path)
    counts = _job_counts(snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "configs/paper.yaml").stdout)
    assert "make_phantoms" not in counts and "pretrain_base" not in counts
    assert counts["finetune"] == 16 and counts["preprocess"] == 2
