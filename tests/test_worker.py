"""The warm worker runs a job script in a forked child with the client's cwd, env, streams and exit status."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ldbench import worker

pytestmark = pytest.mark.skipif(not hasattr(__import__("socket"), "send_fds"), reason="needs socket.send_fds")

CLIENT = textwrap.dedent(
    """
    import os, sys, types
    from ldbench.worker import warm_start

    snakemake = types.SimpleNamespace(rule="demo")  # stands in for Snakemake's pickled job object
    warm_start(snakemake, {script!r})
    print("client ran the script itself", file=sys.stderr)
    sys.exit(99)
    """
)

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from ldbench.worker import warm_start
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
        f"from ldbench import worker\nfrom pathlib import Path\nworker.socket_path = lambda: Path({str(tmp_path / 'w.sock')!r})\n"
        + CLIENT.format(script=str(script))
    )
    env = {**os.environ, "DEMO_VAR": "hello", "DEMO_EXIT": str(exit_code), "LDBENCH_WARM_WORKER": "1"}
    env.pop("SLURM_JOB_ID", None)
    return subprocess.run([sys.executable, str(client)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_worker_runs_script_with_client_context(tmp_path, isolated_socket, monkeypatch):
    monkeypatch.setattr(worker, "PRELOAD", ())
    server = _start_server(isolated_socket)
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


def _start_server(path):
    code = f"from ldbench import worker; from pathlib import Path; worker.PRELOAD=(); worker.PRELOAD_ATTRIBUTES={{}}; worker.IDLE_SECONDS=30; worker.serve(Path({str(path)!r}))"
    return subprocess.Popen([sys.executable, "-c", code])


def test_job_dies_with_its_killed_client(tmp_path, isolated_socket):
    """kill -9 of a Snakemake run must not leave its jobs running inside the worker."""
    server = _start_server(isolated_socket)
    script = tmp_path / "job.py"
    script.write_text("import os, time\nopen('job.pid', 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    client = tmp_path / "client.py"
    client.write_text(
        f"from ldbench import worker\nfrom pathlib import Path\nworker.socket_path = lambda: Path({str(isolated_socket)!r})\n"
        + CLIENT.format(script=str(script))
    )
    env = {**os.environ, "LDBENCH_WARM_WORKER": "1"}
    env.pop("SLURM_JOB_ID", None)
    proc = subprocess.Popen([sys.executable, str(client)], cwd=tmp_path, env=env)
    try:
        pid_file = tmp_path / "job.pid"
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        job_pid = int(pid_file.read_text())
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _alive(job_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(job_pid), "the job outlived its client"
        assert server.poll() is None, "the server itself must survive"
    finally:
        proc.kill()
        server.terminate()
        server.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_worker_disabled_runs_inline(monkeypatch):
    monkeypatch.setenv("LDBENCH_WARM_WORKER", "0")
    assert not worker.enabled()
    monkeypatch.setenv("LDBENCH_WARM_WORKER", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert not worker.enabled()


def test_a_job_with_another_import_time_environment_gets_its_own_server(monkeypatch):
    """Libraries read HF_HOME, HF_HUB_OFFLINE, … when imported: a server started under other values
    must not take the job (it would look in the wrong cache, or stay offline)."""
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    plain = worker.socket_path()
    monkeypatch.setenv("HF_HOME", "/data/hf")
    with_home = worker.socket_path()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = worker.socket_path()
    assert len({plain, with_home, offline}) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # set per rule by Snakemake; each job sets its threads itself
    assert worker.socket_path() == offline


def test_a_client_waits_for_the_server_another_job_started_in_the_background(tmp_path, isolated_socket, monkeypatch):
    """A light first job starts the server without waiting; a job that comes while that server is still
    importing waits for it (the start lock passes to the server until it listens) instead of starting a
    second one."""
    monkeypatch.setenv("LDBENCH_WARM_WORKER", "1")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    started = time.monotonic()
    worker.start_in_background()
    worker.start_in_background()  # the second phantom job, while the first one's server is still importing
    assert time.monotonic() - started < 2, "start_in_background must not wait for the server's imports"
    sock = worker._connect_or_start(isolated_socket)
    try:
        assert sock is not None
        assert time.monotonic() - started > 1, "the server imports torch, diffusers and transformers first"
        servers = subprocess.run(["pgrep", "-f", f"ldbench.worker {isolated_socket}"], capture_output=True, text=True, check=False)
        assert len(servers.stdout.split()) == 1, servers.stdout
    finally:
        if sock is not None:
            sock.close()
        subprocess.run(["pkill", "-f", f"ldbench.worker {isolated_socket}"], check=False)
