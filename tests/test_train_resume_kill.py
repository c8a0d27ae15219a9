"""A training process killed with SIGKILL mid-way resumes from its last checkpoint and ends
with exactly the weights of an uninterrupted run."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import torch

SCRIPT = textwrap.dedent(
    """
    import sys, time, torch
    sys.path.insert(0, {tests!r})
    from conftest import TINY
    from ldbench.methods import MethodConfig, get_strategy
    from ldbench.models import build_tiny_components
    from ldbench.train import LatentSet, TrainSettings, train

    work, out, slow = sys.argv[1], sys.argv[2], sys.argv[3] == "slow"
    torch.set_num_threads(1)
    components = build_tiny_components(TINY, seed=0)
    size = components.unet.config.sample_size
    mean = torch.randn(6, 4, size, size, generator=torch.Generator().manual_seed(0))
    data = LatentSet(mean, torch.full_like(mean, 0.01), ["a brain MRI of a 70 year old male with no cognitive impairment"] * 6)
    strategy = get_strategy("basic_ft", MethodConfig(lr=1e-2))
    if slow:  # give the test time to kill the process between checkpoints
        strategy.after_optimizer_step = lambda components: time.sleep(0.4)
    settings = TrainSettings(steps=8, batch_size=2, lr=1e-2, seed=0, delta=0.05, checkpoint_every=2, log_every=1)
    summary = train(components, strategy, data, settings, work)
    torch.save({{"unet": components.unet.state_dict(), "resumed_from_step": summary["resumed_from_step"]}}, out)
    """
)


def _run(script, work, out, mode):
    return subprocess.Popen([sys.executable, str(script), str(work), str(out), mode], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_mid_training_then_resume_equals_uninterrupted(tmp_path):
    script = tmp_path / "train_job.py"
    script.write_text(SCRIPT.format(tests=os.path.dirname(__file__)))

    reference = _run(script, tmp_path / "ref_work", tmp_path / "ref.pt", "fast")
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()

    victim = _run(script, tmp_path / "work", tmp_path / "killed.pt", "slow")
    deadline = time.monotonic() + 300
    while not (tmp_path / "work" / "checkpoint-4").exists():
        assert victim.poll() is None, victim.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    assert not (tmp_path / "killed.pt").exists()

    resumed = _run(script, tmp_path / "work", tmp_path / "resumed.pt", "fast")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    ref, res = torch.load(tmp_path / "ref.pt"), torch.load(tmp_path / "resumed.pt")
    assert res["resumed_from_step"] in (4, 6)
    assert ref["resumed_from_step"] == 0
    for name, value in ref["unet"].items():
        assert torch.equal(value, res["unet"][name]), name
