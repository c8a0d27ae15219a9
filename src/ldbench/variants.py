"""Model variants, the ``{ld}`` wildcard: what each one is fine-tuned with.

- ``noLD``: δ = 0;
- ``LD``: δ = ``drift.train_delta`` and the loss target ``drift.loss_target``;
- ``LD_<target>``: LD with the *other* loss target, trained for the methods listed in
  ``drift.loss_target_ablation`` only, so that the δ ablation reports both readings of the
  unpublished loss (DESIGN §4).

Standard library only: the Snakefile imports this module at parse time.
"""

from __future__ import annotations

from typing import Literal

LossTarget = Literal["drifted_noise", "noise"]
LOSS_TARGETS: tuple[str, ...] = ("drifted_noise", "noise")


def loss_target(cfg: dict) -> str:
    """``drift.loss_target``: what the ``LD`` models regress."""
    target = cfg["drift"]["loss_target"]
    if target not in LOSS_TARGETS:
        raise ValueError(f"drift.loss_target must be one of {LOSS_TARGETS}, got {target!r}")
    return target


def ablation_variant(cfg: dict) -> str:
    """The ``{ld}`` of the loss-target ablation's models: ``LD_`` + the loss target ``LD`` does not use."""
    (other,) = (t for t in LOSS_TARGETS if t != loss_target(cfg))
    return f"LD_{other}"


def ld_variants(cfg: dict) -> tuple[str, ...]:
    """Every variant trained with a drift (each has a δ grid search)."""
    return ("LD", ablation_variant(cfg))


def training_drift(cfg: dict, ld: str) -> tuple[float, str]:
    """(δ of the forward process, loss target) that variant ``ld`` is fine-tuned with.

    Without drift ε + δ is ε, so both targets are the same: ``noLD`` records the plain noise and
    does not depend on the ``drift`` section (editing it re-runs only the models trained with drift).
    """
    if ld == "noLD":
        return 0.0, "noise"
    if ld == "LD":
        return float(cfg["drift"]["train_delta"]), loss_target(cfg)
    if ld == ablation_variant(cfg):
        return float(cfg["drift"]["train_delta"]), ld.removeprefix("LD_")
    raise ValueError(f"model variant {ld!r}: expected noLD, LD or {ablation_variant(cfg)} (drift.loss_target is {loss_target(cfg)!r})")
