"""One device per GPU job on a workstation: jobs never share a GPU, whatever the profile's limit."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from ldbench import gpus

CLAIM = textwrap.dedent(
    """
    import os, sys, time
    from ldbench import gpus
    got = gpus.claim_gpus(int(sys.argv[1]), poll_seconds=0.05)
    print(",".join(got), os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


@pytest.fixture
def private_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # lock_dir() lives under the temp folder
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    yield tmp_path


def _claim(count: int, hold_seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLAIM, str(count), str(hold_seconds)], stdout=subprocess.PIPE, text=True, env=os.environ.copy())


def test_visible_gpus_follows_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    assert gpus.visible_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpus.visible_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert gpus.visible_gpus() == []


def test_concurrent_jobs_get_distinct_devices_and_a_third_waits(private_locks):
    first, second = _claim(1, 3), _claim(1, 3)
    devices = {first.stdout.readline().split()[0], second.stdout.readline().split()[0]}
    assert devices == {"0", "1"}  # each sees only its own device
    start = time.monotonic()
    third = _claim(1, 0)
    out, _ = third.communicate(timeout=60)
    assert time.monotonic() - start > 1.0, "the third job must wait for a device to free up"
    assert out.split()[0] in {"0", "1"}
    for proc in (first, second):
        proc.wait(timeout=30)


def test_too_many_gpus_is_a_clear_error(private_locks):
    from ldbench.utils import LdbenchError

    with pytest.raises(LdbenchError, match="asks for 3 GPUs but only 2 are visible"):
        gpus.claim_gpus(3)


def test_no_gpus_claims_nothing(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpus.claim_gpus(1) == []
