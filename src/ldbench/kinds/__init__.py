"""Dataset kinds (brain MRI, chest X-ray): one module each, one :class:`DatasetKind` object per kind.

The registry is this package: every module that defines a :class:`DatasetKind` subclass with its
own ``name`` registers it. Adding a kind is one new module here plus its ``datasets`` block in the
config; the schema's ``kind`` and ``source`` choices come from :func:`kinds`.

Importing this package imports no torch and no data-processing module.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from .base import CounterfactualTask, DatasetKind, GroundTruth


@functools.cache
def kinds() -> dict[str, DatasetKind]:
    found: dict[str, DatasetKind] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        for value in vars(importlib.import_module(f"{__name__}.{module}")).values():
            if isinstance(value, type) and issubclass(value, DatasetKind) and value is not DatasetKind and "name" in vars(value):
                if value.name in found and type(found[value.name]) is not value:
                    raise TypeError(f"two dataset kinds are named {value.name!r}")
                found[value.name] = value()
    return found


def get_kind(name: str) -> DatasetKind:
    from ..utils import LdbenchError

    if name not in kinds():
        raise LdbenchError(f"unknown dataset kind {name!r}; expected one of {sorted(kinds())}")
    return kinds()[name]


__all__ = ["CounterfactualTask", "DatasetKind", "GroundTruth", "get_kind", "kinds"]
