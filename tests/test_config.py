"""config.yaml is validated at parse time; bad values stop the run naming the key."""

import pytest
import yaml
from workflow_helpers import prepare_workdir, snakemake


@pytest.fixture
def workdir(tmp_path):
    return prepare_workdir(tmp_path)


def _dry_run_with(workdir, override: dict):
    (workdir / "override.yaml").write_text(yaml.safe_dump(override))
    return snakemake(workdir, "-n", "--workflow-profile", "none", "--configfile", "override.yaml", check=False)


def test_default_config_parses(workdir):
    proc = snakemake(workdir, "-n", "--workflow-profile", "none", "--quiet", "rules")
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"finetune": {"stepz": 3}}, "stepz"),  # unknown key
        ({"finetune": {"steps": "many"}}, "'many' is not of type 'integer'"),  # wrong type
        ({"drift": {"grid": {"per_step": [0.0, 5.0]}}}, "5.0 is greater than the maximum of 1"),  # out of range
        ({"drift": {"grid": [0.0, 0.05]}}, "drift.grid: [0.0, 0.05] is not of type 'object'"),  # one grid for every mode
        ({"sampling": {"scheduler": "euler"}}, "'euler' is not one of ['ddim', 'ddpm']"),  # not allowed
        ({"datasets": {"brain": {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}}}, "datasets.brain.split"),
        ({"datasets": {"cxr": {"source": "chexpert"}}}, "datasets.cxr.root"),
        ({"paper": {"real_plus_synthetic": {"method": "dreambooth", "ld": "LD"}}, "finetune": {"methods": ["basic_ft"]}}, "paper.real_plus_synthetic.method"),
        ({"drift": {"ld_2x2": ["lora"]}}, "drift.ld_2x2: ['lora'] are not in finetune.methods"),
    ],
)
def test_bad_config_is_rejected_naming_the_key(workdir, override, expected):
    proc = _dry_run_with(workdir, override)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"datasets": {"brain": {"uncertain_policy": "zeros"}}}, "datasets.brain: Additional properties are not allowed ('uncertain_policy'"),
        ({"datasets": {"cxr": {"phantom": {"n_subjects": 10}}}}, "datasets.cxr.phantom: Additional properties are not allowed"),
        ({"datasets": {"cxr": {"source": "oasis3", "root": "/x"}}}, "datasets.cxr.source: 'oasis3' is not one of ['phantom', 'chexpert']"),
        ({"finetune": {"methods": ["basic_ft", "lora2"]}}, "finetune.methods.1: 'lora2' is not one of"),
        ({"finetune": {"lora": {"rank": 0}}}, "finetune.lora.rank: 0 is less than the minimum of 1"),
        ({"finetune": {"textual_inversion": {"identifier": "sks"}}}, "finetune.textual_inversion: Additional properties are not allowed ('identifier'"),
        ({"counterfactual": {"method": "lora"}}, "counterfactual.method: 'lora' is not in finetune.methods"),
    ],
)
def test_cli_check_config_refuses_what_the_workflow_refuses(workdir, override, expected):
    """`ldbench check-config` and the Snakefile run one validation (ldbench.config.validate_config)."""
    from ldbench.cli import main

    (workdir / "override.yaml").write_text(yaml.safe_dump(override))
    workflow = _dry_run_with(workdir, override)
    assert workflow.returncode != 0 and expected in workflow.stdout + workflow.stderr
    assert main(["check-config", str(workdir / "config.yaml"), str(workdir / "override.yaml")]) == 1


def test_cli_names_a_malformed_config_file(workdir, capsys):
    from ldbench.cli import main

    (workdir / "broken.yaml").write_text("finetune:\n  steps: [1, 2\n")
    assert main(["check-config", str(workdir / "config.yaml"), str(workdir / "broken.yaml")]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml: not valid YAML" in err and "Traceback" not in err
    assert main(["check-config", str(workdir / "config.yaml"), str(workdir / "configs" / "smoke.yaml")]) == 0
