"""Glue between a Snakemake ``script:`` and the library: logging, threads, seeding, clean errors."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from .gpus import claim_gpus
from .seeds import derive_seed
from .settings import Settings
from .utils import LdbenchError, configure_torch, seed_everything, setup_logging

S = TypeVar("S", bound=Settings)


def _redirect_output(log_file: str) -> None:
    """Send everything the job prints (progress bars, warnings, tracebacks) to the rule's log,
    as ``shell: "... > {log} 2>&1"`` would; Snakemake points to the log when a job fails."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(log_file, "w") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)


def _to_terminal(stream, rule: str) -> None:
    """What a stage logs to ``ldbench.console`` (summaries a user must see, such as dropped inputs)
    goes to the terminal as well as to the rule's log."""
    console = logging.getLogger("ldbench.console")
    console.handlers.clear()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(f"[{rule}] %(levelname)s %(message)s"))
    console.addHandler(handler)


@contextlib.contextmanager
def stage(snakemake, settings_type: type[S] | None = None, *, uses_torch: bool = True) -> Iterator[S | None]:
    """Run a stage inside a rule: log to the rule's ``log:``, use its threads and its own GPU
    (on a workstation, see ``ldbench.gpus``), seed, and yield the rule's typed settings, rebuilt
    from ``params.settings`` (what ``rules/common.smk`` built from the config).

    ``uses_torch=False`` (a stage that never imports torch, such as ``make_phantoms``) skips torch's
    thread, determinism and seed setup, so the job does not pay torch's import (seconds when the
    warm worker is importing it beside the job).
    A user-facing problem (LdbenchError) ends the job with its message and no traceback.
    """
    terminal = os.fdopen(os.dup(2), "w", buffering=1)  # the job's own stderr: Snakemake's terminal
    if snakemake.log:
        _redirect_output(snakemake.log[0])
    log = setup_logging()
    _to_terminal(terminal, snakemake.rule)
    if int(snakemake.resources.get("gpu", 0) or 0) > 0 and "SLURM_JOB_ID" not in os.environ:
        claim_gpus(int(snakemake.resources.get("gpu")))  # before anything starts CUDA
    if uses_torch:
        configure_torch(snakemake.threads)
    settings = settings_type.from_params(snakemake.params.settings) if settings_type is not None else None
    seed_everything(derive_seed(getattr(settings, "seed", 0), snakemake.rule, "global"), torch=uses_torch)
    wildcards = dict(snakemake.wildcards.items())
    log.info("rule %s %s", snakemake.rule, wildcards or "")
    try:
        yield settings
    except LdbenchError as err:
        log.error("%s", err)
        sys.exit(1)
    except Exception:
        log.exception("rule %s failed", snakemake.rule)
        raise
    log.info("done")
    logging.shutdown()
