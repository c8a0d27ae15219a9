"""A warm worker that runs rule scripts in forked children, so each job skips the heavy imports.

Importing torch, diffusers and transformers costs 8–10 s of CPU per process on a small
machine, more than the whole computation of most jobs in a tiny run. The first job of a
workstation run therefore starts this server, which imports the library once and then forks a
child per job. The child gets the client's working directory, environment (including
``CUDA_VISIBLE_DEVICES``) and standard streams, runs the rule's script exactly as Snakemake
would, and its exit status becomes the client's. The server never runs a torch operation itself
(no thread pools, no CUDA context before the fork) and exits after ``IDLE_SECONDS`` without jobs.

Disabled (each job imports everything itself) when ``LDBENCH_WARM_WORKER=0`` or inside a SLURM
job, where every job is its own allocation.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

IDLE_SECONDS = 120
STARTUP_SECONDS = 180
IN_WORKER = "LDBENCH_IN_WORKER"
LOCK_FD = "LDBENCH_WORKER_LOCK_FD"  # the start lock a new server holds until it listens
PRELOAD = (
    "ldbench.stages.data",
    "ldbench.stages.base_model",
    "ldbench.stages.latents",
    "ldbench.stages.class_images",
    "ldbench.stages.finetune",
    "ldbench.stages.drift_search",
    "ldbench.stages.synthesize",
    "ldbench.stages.classify",
    "ldbench.stages.evaluate",
    "ldbench.stages.counterfactual",
    "ldbench.stages.trajectories",
    "ldbench.stages.ageing",
    "ldbench.report.tables",
    "ldbench.report.figures",
    "ldbench.report.counterfactual",
    "ldbench.report.comparison",
    "ldbench.report.ablation",
)
#: work done once in the server so that every forked job inherits it (module, function)
PRELOAD_CALLS = (("ldbench.data.phantoms.brain", "warm_template"), ("ldbench.radiomics", "warm_extractor"))
#: lazily imported classes (diffusers and transformers load them on first attribute access)
PRELOAD_ATTRIBUTES = {
    "diffusers": ("AutoencoderKL", "UNet2DConditionModel", "DDPMScheduler", "DDIMScheduler", "DDIMInverseScheduler",
                  "StableDiffusionPipeline", "StableDiffusionPix2PixZeroPipeline"),
    "transformers": ("CLIPTextModel", "CLIPTokenizer", "CLIPTokenizerFast", "CLIPTextConfig"),
}


def enabled() -> bool:
    if os.environ.get(IN_WORKER) == "1":
        return False
    if os.environ.get("LDBENCH_WARM_WORKER", "1") == "0" or "SLURM_JOB_ID" in os.environ:
        return False
    return hasattr(socket, "send_fds")


def _library_fingerprint() -> str:
    """Changes whenever a file of the library changes, so an edited library never meets a stale server."""
    package = Path(__file__).resolve().parent
    stamps = sorted((str(p.relative_to(package)), p.stat().st_mtime_ns, p.stat().st_size) for p in package.rglob("*.py"))
    return repr(stamps)


#: environment variables the preloaded libraries read when they are imported (cache folders, offline
#: mode, hash seed): a job whose values differ gets a server of its own, never one that imported
#: torch, transformers and diffusers under another environment
IMPORT_TIME_ENVIRONMENT = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "DIFFUSERS_", "TORCH", "PYTORCH_", "XDG_CACHE_HOME", "PYTHONHASHSEED")


def _environment_fingerprint(environ: dict[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return repr(sorted((k, v) for k, v in environ.items() if k.startswith(IMPORT_TIME_ENVIRONMENT)))


def socket_path() -> Path:
    """One server per user, Python, library state and import-time environment (AF_UNIX paths must stay short)."""
    key = f"{sys.executable}|{Path(__file__).resolve()}|{os.getuid()}|{_library_fingerprint()}|{_environment_fingerprint()}".encode()
    return Path("/tmp") / f"ldbench-worker-{hashlib.sha1(key).hexdigest()[:12]}.sock"


# ---------------------------------------------------------------------------------- framing


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("!Q", len(payload)) + payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("worker connection closed")
        buf += chunk
    return buf


def _recv(sock: socket.socket) -> bytes:
    (n,) = struct.unpack("!Q", _recv_exact(sock, 8))
    return _recv_exact(sock, n)


# ---------------------------------------------------------------------------------- client


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except OSError:
        sock.close()
        return None


def _lock_path(path: Path) -> Path:
    return Path(f"{path}.lock")


def _start_server(path: Path, lock) -> None:
    """Start a server that inherits the held start lock and releases it once it listens (or when it
    dies): clients that queue on the lock meanwhile wait for this server instead of starting another."""
    log = open(f"{path}.log", "ab")  # noqa: SIM115 (handed to the server process, which outlives this call)
    src = str(Path(__file__).resolve().parents[1])  # the server imports this very library
    env = {**os.environ, LOCK_FD: str(lock.fileno()), "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    subprocess.Popen(
        [sys.executable, "-m", "ldbench.worker", str(path)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, env=env, pass_fds=(lock.fileno(),),
    )
    log.close()


def _start_unless_running(path: Path, wait: bool = True) -> socket.socket | None:
    """The running server's connection; otherwise start one (only one: under the start lock) and return None.

    The lock is held while another client's server is still importing: ``wait`` waits for it, otherwise
    that server is left to start and None is returned at once.
    """
    with open(_lock_path(path), "a") as lock:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or time.monotonic() > deadline:
                    return None
                time.sleep(0.1)
        sock = _connect(path)
        if sock is None:
            _start_server(path, lock)
        return sock


def _connect_or_start(path: Path) -> socket.socket | None:
    """Connect to the running server, starting one if needed and waiting until it listens."""
    sock = _connect(path)
    if sock is not None:
        return sock
    sock = _start_unless_running(path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while sock is None and time.monotonic() < deadline:
        time.sleep(0.1)
        sock = _connect(path)
    return sock


def start_in_background() -> None:
    """Start the server for the jobs to come without waiting for it.

    For the first jobs of a run that need no torch (``make_phantoms``): they run in their own
    process while the server imports the heavy libraries beside them. A server another job is
    already starting is left to start: this job does not wait for it either.
    """
    if not enabled():
        return
    path = socket_path()
    sock = _connect(path) or _start_unless_running(path, wait=False)
    if sock is not None:
        sock.close()


def warm_start(snakemake, script: str) -> None:
    """Hand this job to the warm worker and exit with its status.

    Returns without doing anything inside the worker's child, when the worker is disabled, or
    when none can be reached; the script then runs in its own process as usual. Rule scripts call
    it before their heavy imports and import nothing but this module before it: each import here is
    paid once per job.
    """
    if not enabled():
        return
    status = run_in_worker(snakemake, script)
    if status is not None:
        sys.exit(status)


def run_in_worker(snakemake, script: str) -> int | None:
    """Run ``script`` for this job in the warm worker; None when no worker could be reached."""
    sock = _connect_or_start(socket_path())
    if sock is None:
        return None
    with sock:
        request = pickle.dumps({"script": script, "snakemake": snakemake, "cwd": os.getcwd(), "env": dict(os.environ), "argv": sys.argv, "path": sys.path}, protocol=4)
        socket.send_fds(sock, [b"J"], [0, 1, 2])
        _send(sock, request)
        (child,) = struct.unpack("!q", _recv_exact(sock, 8))

        def forward(signum, _frame):
            os.kill(child, signum)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            (status,) = struct.unpack("!q", _recv_exact(sock, 8))
        except ConnectionError:
            return 1
    return status


# ---------------------------------------------------------------------------------- server


def _run_child(payload: bytes, fds: list[int]) -> None:
    """In the forked child: become the job process and run the script. Never returns."""
    code = 1
    try:
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        request = pickle.loads(payload)
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[IN_WORKER] = "1"
        sys.argv = request["argv"]
        sys.path[:] = request["path"]  # as the client had it: Snakemake's preamble extends it
        import runpy

        runpy.run_path(request["script"], init_globals={"snakemake": request["snakemake"]}, run_name="__main__")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - report any failure as the job's own traceback
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _kill_orphans(children: dict[int, socket.socket], ready: list) -> None:
    """A client that vanished (SIGKILLed with its Snakemake) takes its job with it.

    Clients send nothing after the request, so a readable connection means end of file. Without
    this, a job of a killed run would keep writing its outputs while the rerun starts it afresh.
    """
    for pid, conn in children.items():
        if conn in ready:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # the child called setsid: its group is its pid


def serve(path: Path) -> None:
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    for module, names in PRELOAD_ATTRIBUTES.items():
        for name in names:
            getattr(importlib.import_module(module), name)
    for module, name in PRELOAD_CALLS:
        getattr(importlib.import_module(module), name)()
    if path.exists():
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)  # requests are pickles: only this user may connect
    listener.listen(64)
    if LOCK_FD in os.environ:
        os.close(int(os.environ.pop(LOCK_FD)))  # clients waiting on the start lock may connect now
    children: dict[int, socket.socket] = {}
    last_activity = time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([listener, *children.values()], [], [], 0.2)
            _kill_orphans(children, ready)
            if listener in ready:
                conn, _ = listener.accept()
                try:
                    _, fds, _, _ = socket.recv_fds(conn, 1, 3)
                    request = _recv(conn)  # unpickled in the child: nothing of the job's runs here
                except (OSError, ConnectionError, struct.error):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    for other in (listener, conn, *children.values()):
                        other.close()
                    _run_child(request, fds)
                for fd in fds:
                    os.close(fd)
                conn.sendall(struct.pack("!q", pid))
                children[pid] = conn
                last_activity = time.monotonic()
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                conn = children.pop(pid, None)
                if conn is not None:
                    code = os.waitstatus_to_exitcode(status)
                    with contextlib.suppress(OSError):
                        conn.sendall(struct.pack("!q", code if code >= 0 else 128 - code))
                    conn.close()
                last_activity = time.monotonic()
            if not children and time.monotonic() - last_activity > IDLE_SECONDS:
                return
    finally:
        listener.close()
        for leftover in (path, _lock_path(path)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
