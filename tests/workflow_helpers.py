"""Run the workflow's command line in a temporary working directory, as a user would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# greedy: as profiles/default; Snakemake's ILP scheduler solves a CBC problem per scheduling round
SMOKE = ["--cores", "2", "--workflow-profile", "none", "--scheduler", "greedy", "--configfile", "configs/smoke.yaml"]
TABLE = "results/paper/table1_finetuning"


def smoke_config() -> dict:
    """config.yaml with configs/smoke.yaml merged over it, as the smoke run reads it."""
    from ldbench.config import load_config

    return load_config([REPO / "config.yaml", REPO / "configs" / "smoke.yaml"])


def prepare_workdir(tmp: Path) -> Path:
    """A working directory with the default config and the test configs, outside the repo."""
    shutil.copy(REPO / "config.yaml", tmp / "config.yaml")
    shutil.copytree(REPO / "configs", tmp / "configs")
    return tmp


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 1800, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def job_counts(output: str) -> Counter:
    """Jobs per rule in the "Job stats" table of a (dry) run's output (without its total); empty when there is nothing to do."""
    if "Job stats:" not in output:
        return Counter()
    table = output.split("Job stats:")[1].split("total")[0]
    return Counter({m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)})


def files_with_mtimes(*folders: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for folder in folders for p in folder.rglob("*") if p.is_file()}


def _finished(log: str, rule: str) -> int:
    return log.count(f"(Rule: {rule})")


def _checkpoints(workdir: Path) -> list[Path]:
    """Fine-tuning checkpoints on disk: ``results/checkpoints/<dataset>/<method>/<ld>/checkpoint-<step>``."""
    root = workdir / "results" / "checkpoints"
    return sorted([*root.glob("brain/*/*/checkpoint-*"), *root.glob("cxr/*/*/checkpoint-*")])


def kill_between_checkpoints(workdir: Path, *args: str, finished_first: dict[str, int], attempts: int = 6) -> Path:
    """Run ``snakemake *args`` and SIGKILL it with all its jobs as soon as a fine-tuning checkpoint
    appears, once Snakemake has recorded ``finished_first`` ({rule: jobs}) as done; returns the
    checkpoint the kill left behind.

    A fine-tuning removes its checkpoints when it finishes, so a checkpoint still on disk once the
    killed jobs are gone belongs to a fine-tuning killed in mid-training. When the kill came too late
    (the fine-tuning finished in between), the run is unlocked and started again (``--rerun-incomplete``),
    as a user would, and killed at the next fine-tuning's checkpoint.
    """
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    for attempt in range(attempts):
        log_path = workdir / f"killed_run_{attempt}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([*cmd, *(["--rerun-incomplete"] if attempt else [])], cwd=workdir, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        deadline = time.monotonic() + 900
        while True:
            assert proc.poll() is None, f"the run ended before a fine-tuning checkpoint could be caught ({log_path})"
            assert time.monotonic() < deadline, "no fine-tuning checkpoint within 15 minutes"
            ready = attempt or all(_finished(log_path.read_text(), rule) >= n for rule, n in finished_first.items())
            if ready and _checkpoints(workdir):
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(2)  # the warm worker ends a job whose client died: let it, before reading what is left
        left = [p for p in _checkpoints(workdir) if (p / "ldbench_step.txt").is_file()]
        if left:
            return left[0]
        snakemake(workdir, "--unlock", *args)
    raise AssertionError(f"every one of {attempts} kills came after its fine-tuning had finished")
