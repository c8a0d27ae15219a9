"""Run the workflow's command line in a temporary working directory, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["--cores", "2", "--workflow-profile", "none", "--configfile", "configs/smoke.yaml"]
TABLE = "results/paper/table1_finetuning"


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
