"""Version stamps of the library code a stage runs, for Snakemake's ``params`` rerun trigger.

Snakemake re-runs a ``script:`` job when its script changes, but not when the library the script
calls changes. Each rule therefore gets, as a param, a hash of the source of every ``ldbench``
module its stage can import: the stage module and, transitively, every ``ldbench`` module named in
an import statement anywhere in those files (function-level imports included). A package whose
``__init__`` discovers its modules at run time (the method and dataset-kind registries) counts
with all its modules. Editing the figure code then re-runs the figures and nothing upstream.

Standard library only: the Snakefile computes the stamps when it parses.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "ldbench"
ROOT = Path(__file__).resolve().parent


def _file(module: str) -> Path | None:
    parts = module.split(".")[1:]
    base = ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _is_package(module: str) -> bool:
    path = _file(module)
    return path is not None and path.name == "__init__.py"


@functools.cache
def _direct_imports(module: str) -> frozenset[str]:
    """``ldbench`` modules named by the import statements of ``module``'s file."""
    path = _file(module)
    source = path.read_text()
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # ``from . import drift``
    if _is_package(module) and "pkgutil" in source:  # a registry: its modules are imported by discovery
        found.update(f"{module}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__")
    return frozenset(m for m in found if m.split(".")[0] == PACKAGE and _file(m) is not None)


def dependencies(module: str) -> list[str]:
    """``module`` and every ``ldbench`` module it can import, with the packages along their paths."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_direct_imports(current))
        parts = current.split(".")
        todo.extend(".".join(parts[:k]) for k in range(1, len(parts)) if _file(".".join(parts[:k])))  # parent packages run first
    return sorted(seen)


@functools.cache
def library_stamp(*modules: str) -> str:
    """A short hash of the source of ``modules`` and everything they import from ``ldbench``."""
    digest = hashlib.sha256()
    for name in sorted({dep for module in modules for dep in dependencies(module)}):
        digest.update(name.encode() + b"\0" + _file(name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]
