"""kill -9 of a whole run in mid-training, then the documented recovery, gives the same tables.

Recovery is what the README tells users: `snakemake --unlock`, then the same command again
(`--rerun-incomplete` is in the workstation profile). Jobs finished before the kill are not
re-run; the killed fine-tuning resumes from its last checkpoint. The killed run is the session's
``resumed_run`` (conftest.py), also the second run of the end-to-end determinism test.
"""

import pytest
from workflow_helpers import TABLE, files_with_mtimes

pytestmark = pytest.mark.slow


def test_killed_run_resumes_and_matches_uninterrupted(smoke_run, resumed_run):
    workdir = resumed_run.workdir
    assert resumed_run.finished_before
    assert "rule pretrain_base:" not in resumed_run.plan and "rule preprocess:" not in resumed_run.plan  # finished jobs stay done
    log = (workdir / "results" / "logs" / "finetune" / f"{resumed_run.killed_model}.log").read_text()
    assert "resumed from" in log, log[-2000:]
    assert files_with_mtimes(workdir / "results" / "data", workdir / "results" / "models" / "base") == resumed_run.finished_before
    for ext in (".csv", ".md", ".tex"):
        assert (workdir / f"{TABLE}{ext}").read_bytes() == (smoke_run / f"{TABLE}{ext}").read_bytes(), ext
