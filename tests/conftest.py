"""Shared fixtures: a tiny SD-architecture model that builds in well under a second, one local run
of the smoke DAG that the end-to-end, SLURM and interruption tests compare against, and a second
one killed in mid-fine-tuning and recovered (the end-to-end determinism and interruption tests)."""

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

TINY = {
    "image_size": 16,
    "vae": {"block_out_channels": [8, 16], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 4},
    "text_encoder": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32},
    "unet": {
        "block_out_channels": [16, 32],
        "layers_per_block": 1,
        "attention_head_dim": 4,
        "norm_num_groups": 8,
        "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    },
}


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One torch thread: fast and free of oversubscription on a 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def _tiny_components():
    from ldbench.models import build_tiny_components

    return build_tiny_components(TINY, seed=0)


@pytest.fixture
def tiny_components(_tiny_components):
    """A fresh deep copy per test, so tests may train it in place."""
    return copy.deepcopy(_tiny_components)


@pytest.fixture
def latent_set(tiny_components):
    from ldbench.train import LatentSet

    size = tiny_components.unet.config.sample_size
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(6, 4, size, size, generator=g)
    prompts = [f"a brain MRI of a {70 + i} year old female with no cognitive impairment" for i in range(6)]
    return LatentSet(mean, torch.full_like(mean, 0.01), prompts)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke DAG run locally once per test session, in a fresh working directory."""
    from workflow_helpers import SMOKE, prepare_workdir, snakemake

    workdir = prepare_workdir(tmp_path_factory.mktemp("smoke_local"))
    snakemake(workdir, *SMOKE)
    yield workdir
    shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class ResumedRun:
    workdir: Path
    killed_model: Path  # <dataset>/<method>/<ld> of the fine-tuning killed between checkpoints
    finished_before: dict  # files of jobs finished before the kill, with their mtimes
    plan: str  # the dry run after `snakemake --unlock`


#: jobs Snakemake must have recorded as finished before the kill, to check that recovery keeps them
FINISHED_FIRST = {"preprocess": 2, "pretrain_base": 1}


@pytest.fixture(scope="session")
def resumed_run(tmp_path_factory):
    """The smoke DAG in a fresh working directory, killed (SIGKILL, Snakemake and every job) in
    mid-fine-tuning, then recovered as the README says: `snakemake --unlock`, then the same command
    with `--rerun-incomplete` (the workstation profile's default)."""
    from workflow_helpers import SMOKE, files_with_mtimes, kill_between_checkpoints, prepare_workdir, snakemake

    workdir = prepare_workdir(tmp_path_factory.mktemp("resumed"))
    checkpoint = kill_between_checkpoints(workdir, *SMOKE, finished_first=FINISHED_FIRST)
    finished = files_with_mtimes(workdir / "results" / "data", workdir / "results" / "models" / "base")
    snakemake(workdir, "--unlock", *SMOKE)
    plan = snakemake(workdir, "-n", "--rerun-incomplete", *SMOKE).stdout
    snakemake(workdir, "--rerun-incomplete", *SMOKE)
    yield ResumedRun(workdir, checkpoint.parent.relative_to(workdir / "results" / "checkpoints"), finished, plan)
    shutil.rmtree(workdir, ignore_errors=True)
