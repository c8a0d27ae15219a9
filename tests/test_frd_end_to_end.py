"""FRD end to end: turned on over a finished smoke run, it re-runs exactly the jobs that measure
image sets, and every FRD column of the paper's tables fills in.

The smoke run leaves FRD off (``metrics.frd_images: null``: radiomics took a sixth of its time);
this test is where radiomics, the FRD intervals, the seed spread and the paired LD effect on FRD
run through the whole DAG. It works on a copy of the session's smoke run (outputs hard-linked:
every stage writes a new file and renames it over the old one, so the original stays as it was),
and doubles as a rerun test: a changed ``metrics`` option must re-run the evaluations and the
reports, and nothing upstream of them."""

import math
import os
import shutil
from collections import Counter

import pandas as pd
import pytest
from workflow_helpers import SMOKE, TABLE, job_counts, snakemake

pytestmark = pytest.mark.slow

FRD_ON = "metrics: {frd_images: 3}  # the fewest images whose half-samples vary (an interval)\n"
#: the jobs that compute distances between image sets (each reads metrics.*), and the reports built from them
RERUN = Counter({"real_features": 2, "evaluate": 22, "edit_realism": 2, "ageing_realism": 2, "evaluate_prompt_cell": 4, "paper_tables": 1,
                 "paper_counterfactual": 1, "table_prompt_ablation": 1, "fig_metric_vs_n": 1, "fig_memorisation": 1, "all": 1})


def _copy_run(source, target):
    """Outputs hard-linked; logs, benchmarks and Snakemake's records copied (those are rewritten in place)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("logs", "benchmarks", ".snakemake"), copy_function=os.link, symlinks=True)
    for folder in ("results/logs", "results/benchmarks", ".snakemake"):
        shutil.copytree(source / folder, target / folder, symlinks=True, dirs_exist_ok=True)


@pytest.fixture(scope="module")
def frd_run(smoke_run, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("frd") / "run"
    _copy_run(smoke_run, workdir)
    (workdir / "frd_on.yaml").write_text(FRD_ON)
    args = [*SMOKE, "frd_on.yaml"]
    plan = job_counts(snakemake(workdir, "-n", *args).stdout)
    snakemake(workdir, *args)
    yield workdir, plan
    shutil.rmtree(workdir, ignore_errors=True)


def test_frd_reruns_the_evaluations_and_reports_only(frd_run):
    _, plan = frd_run
    assert plan == RERUN


def test_frd_fills_every_frd_column(frd_run, smoke_run):
    workdir, _ = frd_run
    table = pd.read_csv(workdir / f"{TABLE}.csv")
    models = table[~table["method"].str.startswith("Real")]
    for column in ("FRD", "FRD_ci_low", "FRD_ci_high", "FRD_seeds_mean", "FRD_seeds_sd"):
        assert models[column].map(math.isfinite).all(), column
    assert ((models["FRD_ci_low"] <= models["FRD"]) & (models["FRD"] <= models["FRD_ci_high"])).all()
    assert (models["FRD_n"] == 3).all()
    floor = table[table["method"] == "Real data"]
    assert floor["FRD"].map(math.isfinite).all()  # the real floor has its FRD too
    assert "Fréchet Radiomics Distance v1" in (workdir / f"{TABLE}.md").read_text()
    effects = pd.read_csv(workdir / "results/paper/table_ld_effect.csv")
    assert effects[["dFRD", "dFRD_seeds_mean", "dFRD_seeds_sd"]].map(math.isfinite).all().all()
    assert set(effects["FRD_verdict"]) <= {"LD lower", "LD higher", "inconclusive"}
    realism = pd.read_csv(workdir / "results/paper/table_cf_realism.csv", keep_default_na=False)
    scored = realism[realism["variant"] != ""]
    assert pd.to_numeric(scored["frd"]).map(math.isfinite).all()
    prompts = pd.read_csv(workdir / "results/paper/table_prompt_ablation.csv")
    assert prompts["FRD"].map(math.isfinite).all()
    before = pd.read_csv(smoke_run / f"{TABLE}.csv")
    assert not [c for c in before.columns if "FRD" in c]  # the original run is untouched
    pd.testing.assert_frame_equal(table[before.columns], before)  # and FRD changed no other number
