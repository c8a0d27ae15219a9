"""envs/*.yaml (for --sdm conda) install exactly pyproject.toml's pinned dependencies."""

import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _pip_requirements(env_file: Path) -> list[str]:
    env = yaml.safe_load(env_file.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [r for r in pip if not r.startswith("-")]


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_match_pyproject(env_file):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # Snakemake runs the job; its pickled `snakemake` object is read with Snakemake's own path.
    wanted = [d for d in project["dependencies"] if not d.startswith("snakemake")]
    assert _pip_requirements(env_file) == wanted
    python = next(d for d in yaml.safe_load(env_file.read_text())["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert python == "python=" + project["requires-python"].removeprefix(">=")


def test_every_rule_names_an_env_that_exists():
    rules = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    named = {line.split('"')[1] for line in rules.splitlines() if line.strip().startswith('"../envs/')}
    assert named == {"../envs/ldbench-cpu.yaml", "../envs/ldbench-gpu.yaml"}
    assert rules.count("conda:") == rules.count("\nrule ")  # lint also requires it (test_end_to_end)
