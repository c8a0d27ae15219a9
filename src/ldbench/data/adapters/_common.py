"""Shared helpers of the dataset adapters: clear errors for missing folders, files and columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ...utils import LdbenchError

VOLUME_COLUMNS = ("path", "subject", "visit", "age", "sex", "diagnosis")


def require_dir(root: Path, what: str) -> Path:
    root = Path(root)
    if not root.exists():
        raise LdbenchError(f"{root}: {what} folder not found")
    if not root.is_dir():
        raise LdbenchError(f"{root}: {what} root must be a folder")
    return root


def read_table(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV with an error that names the file for a missing, empty or unparsable table."""
    path = Path(path)
    if not path.exists():
        raise LdbenchError(f"{path}: {what} not found")
    try:
        return pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as err:
        raise LdbenchError(f"{path}: {what} is empty") from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise LdbenchError(f"{path}: {what} is not a readable CSV ({err})") from err


def resolve_columns(frame: pd.DataFrame, path: Path, wanted: Mapping[str, Iterable[str]],
                    optional: Iterable[str] = ()) -> dict[str, str | None]:
    """Map canonical names to the first matching alias (case-insensitive); error naming what is missing."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found: dict[str, str | None] = {}
    missing = []
    for name, aliases in wanted.items():
        hit = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
        found[name] = hit
        if hit is None and name not in set(optional):
            missing.append(f"{name} (any of: {', '.join(aliases)})")
    if missing:
        raise LdbenchError(
            f"{path}: required column(s) missing: {'; '.join(missing)}; columns present: {list(frame.columns)}"
        )
    return found


def normalise_sex(value) -> str | None:
    s = str(value).strip().lower()
    if s in {"f", "female", "2", "2.0", "woman"}:
        return "F"
    if s in {"m", "male", "1", "1.0", "man"}:
        return "M"
    return None


def finish(frame: pd.DataFrame, log=None, what: str = "") -> pd.DataFrame:
    frame = frame[list(VOLUME_COLUMNS) + [c for c in frame.columns if c not in VOLUME_COLUMNS]]
    frame = frame.sort_values(["subject", "age", "path"], kind="mergesort").reset_index(drop=True)
    frame["age"] = frame["age"].astype(float)
    return frame
