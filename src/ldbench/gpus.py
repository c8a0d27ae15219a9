"""GPUs on a workstation: how many there are, and one device per GPU job.

Snakemake only counts the ``gpu`` resource (the workstation profile caps it at the number of
GPUs); it never tells a job which device is its own. Each GPU job therefore claims free devices
with a file lock per device and restricts itself to them through ``CUDA_VISIBLE_DEVICES`` before
CUDA starts. Locks are released when the job's process ends, however it ends. Under SLURM the
scheduler binds devices itself and none of this runs.

Standard library only: the Snakefile imports this module at parse time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import tempfile
import time
from pathlib import Path

log = logging.getLogger("ldbench")

_held: list = []  # open lock files: the claim lasts as long as this process


def visible_gpus() -> list[str]:
    """Device ids this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else the driver's GPUs.

    Reads ``/proc/driver/nvidia/gpus`` instead of asking CUDA, so that nothing initialises CUDA
    before a job has chosen its device.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [d.strip() for d in env.split(",") if d.strip()]
        return [] if ids[:1] == ["-1"] else ids
    proc = Path("/proc/driver/nvidia/gpus")
    return [str(i) for i in range(len(list(proc.iterdir())))] if proc.is_dir() else []


def lock_dir() -> Path:
    """One lock folder per user and host: it guards the devices across concurrent runs too."""
    return Path(tempfile.gettempdir()) / f"ldbench-gpu-locks-{os.getuid()}"


def claim_gpus(count: int, devices: list[str] | None = None, poll_seconds: float = 1.0) -> list[str]:
    """Hold ``count`` devices no other job holds and make them the only ones this process sees.

    Waits (logging once) while all are taken: a profile whose ``gpu`` limit exceeds the real
    number of GPUs then queues jobs instead of stacking two on one device.
    """
    devices = visible_gpus() if devices is None else devices
    if count <= 0 or not devices:
        return []
    if count > len(devices):
        from .utils import LdbenchError

        raise LdbenchError(f"this job asks for {count} GPUs but only {len(devices)} are visible ({','.join(devices)})")
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        claimed: list[str] = []
        handles = []
        for device in devices:
            handle = open(folder / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.lock", "w")  # noqa: SIM115 (held: the lock lives with the process)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handles.append(handle)
            claimed.append(device)
            if len(claimed) == count:
                _held.extend(handles)
                os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(claimed)
                log.info("GPU job on device(s) %s (CUDA_VISIBLE_DEVICES)", ",".join(claimed))
                return claimed
        for handle in handles:  # all or nothing: two multi-GPU jobs never hold half each
            handle.close()
        if not waited:
            log.info("all %d GPU(s) are busy with other jobs; waiting for one to free up", len(devices))
            waited = True
        time.sleep(poll_seconds)
