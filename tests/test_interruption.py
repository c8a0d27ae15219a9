"""kill -9 of a whole run in mid-training, then the documented recovery, gives the same tables.

Recovery is what the README tells users: `snakemake --unlock`, then the same command again
(`--rerun-incomplete` is in the workstation profile). Jobs finished before the kill are not
re-run; the killed fine-tuning resumes from its last checkpoint.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from workflow_helpers import REPO, SMOKE, TABLE, prepare_workdir, snakemake

pytestmark = pytest.mark.slow

# Smoke config with fine-tunings long enough to be caught between checkpoints.
LONGER_FINETUNE = "finetune:\n  steps: 60\n  checkpoint_every: 5\n"
# Table 1 as the target (before the options: --configfile takes several values): the fine-tunings, sampling, metrics and
# classifiers it needs, not the edits, ageing and figures that do not depend on the killed job's recovery
ARGS = [f"{TABLE}.csv", *SMOKE, "longer_finetune.yaml"]  # a second file for --configfile, merged over smoke.yaml


def _workdir(tmp_path):
    workdir = prepare_workdir(tmp_path)
    (workdir / "longer_finetune.yaml").write_text(LONGER_FINETUNE)
    return workdir


#: jobs that must be finished, in Snakemake's own record, before the kill
FINISHED_FIRST = {"preprocess": 2, "pretrain_base": 1}


def _finished(log: str, rule: str) -> int:
    return log.count(f"(Rule: {rule})")


def _kill_at_first_checkpoint(workdir) -> list:
    """Start the run and SIGKILL Snakemake and all its jobs at a fine-tuning checkpoint, once
    Snakemake has recorded preprocessing and pre-training as finished."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *ARGS]
    log_path = workdir / "killed_run.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONHASHSEED": "0"})
    deadline = time.monotonic() + 900
    checkpoints: list = []
    while not checkpoints:
        assert proc.poll() is None, "the run ended before any checkpoint was written"
        assert time.monotonic() < deadline, "no checkpoint within 15 minutes"
        text = log_path.read_text()
        done = all(_finished(text, rule) >= n for rule, n in FINISHED_FIRST.items())
        root = workdir / "results" / "checkpoints"  # fine-tunings: <dataset>/<method>/<ld>/checkpoint-<step>
        checkpoints = [*root.glob("brain/*/*/checkpoint-*"), *root.glob("cxr/*/*/checkpoint-*")] if done else []
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return checkpoints


def _files_with_mtimes(*folders):
    return {p: p.stat().st_mtime_ns for folder in folders for p in folder.rglob("*") if p.is_file()}


def test_killed_run_resumes_and_matches_uninterrupted(tmp_path_factory):
    reference = _workdir(tmp_path_factory.mktemp("uninterrupted"))
    snakemake(reference, *ARGS)

    workdir = _workdir(tmp_path_factory.mktemp("interrupted"))
    checkpoints = _kill_at_first_checkpoint(workdir)
    killed_model = checkpoints[0].parent.relative_to(workdir / "results" / "checkpoints")  # dataset/method/ld
    assert not (workdir / TABLE).with_suffix(".csv").exists()
    finished = _files_with_mtimes(workdir / "results" / "data", workdir / "results" / "models" / "base")
    assert finished

    snakemake(workdir, "--unlock", *ARGS)
    plan = snakemake(workdir, "-n", "--rerun-incomplete", *ARGS).stdout
    assert "rule pretrain_base:" not in plan and "rule preprocess:" not in plan  # finished jobs stay done
    snakemake(workdir, "--rerun-incomplete", *ARGS)

    log = (workdir / "results" / "logs" / "finetune" / f"{killed_model}.log").read_text()
    assert "resumed from" in log, log[-2000:]
    assert _files_with_mtimes(workdir / "results" / "data", workdir / "results" / "models" / "base") == finished
    for ext in (".csv", ".md", ".tex"):
        assert (workdir / f"{TABLE}{ext}").read_bytes() == (reference / f"{TABLE}{ext}").read_bytes(), ext
