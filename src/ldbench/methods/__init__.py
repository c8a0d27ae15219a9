"""Fine-tuning methods as small strategies on one training engine."""

from .base import MethodConfig, Strategy
from .strategies import FINETUNING_METHODS, STRATEGIES


def get_strategy(name: str, cfg: MethodConfig) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown method {name!r}; expected one of {sorted(STRATEGIES)}")
    return STRATEGIES[name](cfg)


__all__ = ["FINETUNING_METHODS", "STRATEGIES", "MethodConfig", "Strategy", "get_strategy"]
