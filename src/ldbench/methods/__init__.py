"""Fine-tuning methods as small strategies on one training engine (``ldbench.train``).

The registry is this package: every module in it that defines a :class:`Strategy` subclass with
its own ``name`` registers that strategy. Adding a method is one new module here plus its block
in ``config.yaml`` (``finetune.<name>``): the config schema's method lists, the DAG's method
wildcard and the tables' titles all come from :func:`strategies`.

Importing this package imports no torch (the Snakefile reads the registry when it parses).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from .base import MethodConfig, Strategy


@functools.cache
def strategies() -> dict[str, type[Strategy]]:
    """Every strategy of this package by name: the fine-tuning methods, pre-training and editors."""
    found: dict[str, type[Strategy]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        for value in vars(importlib.import_module(f"{__name__}.{module}")).values():
            if isinstance(value, type) and issubclass(value, Strategy) and value is not Strategy and "name" in vars(value):
                if found.get(value.name, value) is not value:
                    raise TypeError(f"two strategies are named {value.name!r}: {found[value.name]} and {value}")
                found[value.name] = value
    return dict(sorted(found.items(), key=lambda item: (item[1].table_rank, item[0])))


def finetuning_methods() -> dict[str, type[Strategy]]:
    """The methods ``finetune.methods`` may list, in Table 1's row order."""
    return {name: cls for name, cls in strategies().items() if cls.finetuning}


def method_title(name: str) -> str:
    return strategies()[name].title


def get_strategy(name: str, cfg: MethodConfig) -> Strategy:
    if name not in strategies():
        raise ValueError(f"unknown method {name!r}; expected one of {sorted(strategies())}")
    return strategies()[name](cfg)


__all__ = ["MethodConfig", "Strategy", "finetuning_methods", "get_strategy", "method_title", "strategies"]
