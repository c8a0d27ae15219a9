"""The warm worker runs a job script in a forked child with the client's cwd, env, streams and exit status."""

import os
import subprocess
import sys
import textwrap

import pytest

from ldbench import worker

pytestmark = pytest.mark.skipif(not hasattr(__import__("socket"), "send_fds"), reason="needs socket.send_fds")

CLIENT = textwrap.dedent(
    """
    import os, sys, types
    from ldbench.workflow import warm_start

    snakemake = types.SimpleNamespace(rule="demo")  # stands in for Snakemake's pickled job object
    warm_start(snakemake, {script!r})
    print("client ran the script itself", file=sys.stderr)
    sys.exit(99)
    """
)

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from ldbench.workflow import warm_start
    warm_start(snakemake, __file__)  # inside the worker: a no-op
    print("pid", os.getpid(), "rule", snakemake.rule, "cwd", os.getcwd(), "var", os.environ["DEMO_VAR"])
    print("to stderr", file=sys.stderr)
    sys.exit(int(os.environ["DEMO_EXIT"]))
    """
)


@pytest.fixture
def isolated_socket(tmp_path, monkeypatch):
    path = tmp_path / "w.sock"
    monkeypatch.setattr(worker, "socket_path", lambda: path)
    yield path


def _client(tmp_path, exit_code: int):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    client = tmp_path / "client.py"
    client.write_text(
        "from ldbench import worker\nfrom pathlib import Path\nworker.socket_path = lambda: Path(%r)\n" % str(tmp_path / "w.sock")
        + CLIENT.format(script=str(script))
    )
    env = {**os.environ, "DEMO_VAR": "hello", "DEMO_EXIT": str(exit_code), "LDBENCH_WARM_WORKER": "1"}
    env.pop("SLURM_JOB_ID", None)
    return subprocess.run([sys.executable, str(client)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_worker_runs_script_with_client_context(tmp_path, isolated_socket, monkeypatch):
    monkeypatch.setattr(worker, "PRELOAD", ())
    server = subprocess.Popen([sys.executable, "-c", f"from ldbench import worker; from pathlib import Path; worker.PRELOAD=(); worker.PRELOAD_ATTRIBUTES={{}}; worker.IDLE_SECONDS=30; worker.serve(Path({str(isolated_socket)!r}))"])
    try:
        first = _client(tmp_path, 0)
        assert first.returncode == 0, first.stderr
        assert "client ran the script itself" not in first.stderr
        assert f"rule demo cwd {tmp_path} var hello" in first.stdout
        assert "to stderr" in first.stderr
        second = _client(tmp_path, 3)
        assert second.returncode == 3
        pid_first = int(first.stdout.split()[1])
        assert pid_first != server.pid  # a forked child, not the server itself
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_worker_disabled_runs_inline(monkeypatch):
    monkeypatch.setenv("LDBENCH_WARM_WORKER", "0")
    assert not worker.enabled()
    monkeypatch.setenv("LDBENCH_WARM_WORKER", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert not worker.enabled()
