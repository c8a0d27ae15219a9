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
        ({"drift": {"grid": [0.0, 5.0]}}, "5.0 is greater than the maximum of 1"),  # out of range
        ({"sampling": {"scheduler": "euler"}}, "'euler' is not one of ['ddim', 'ddpm']"),  # not allowed
        ({"datasets": {"brain": {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}}}, "datasets.brain.split"),
        ({"datasets": {"cxr": {"source": "chexpert"}}}, "datasets.cxr.root"),
        ({"paper": {"real_plus_synthetic": {"method": "dreambooth", "ld": "LD"}}, "finetune": {"methods": ["basic_ft"]}}, "paper.real_plus_synthetic.method"),
    ],
)
def test_bad_config_is_rejected_naming_the_key(workdir, override, expected):
    proc = _dry_run_with(workdir, override)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr
