"""What a dataset kind (brain MRI, chest X-ray, …) is to the pipeline.

Everything that differs between kinds is answered by one :class:`DatasetKind` object: which
adapters read its real sources and which layout its phantom writes, how a raw image becomes a
slice, the label columns of its slice table, the condition phrase of its prompts, the classes of
its overview figure, its counterfactual tasks and their ground truth.

Nothing here imports torch or the heavy data modules at import time: the Snakefile validates
datasets against the registry when it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from ..data.drops import DropLog


@dataclass(frozen=True)
class CounterfactualTask:
    """One attribute changed: the prompt's change, the phantom's change and the classifier target."""

    name: str
    rows_query: str  # pandas query selecting the source rows
    changes: Mapping[str, Any]  # slice-table columns set on the target row (what the prompt says)
    truth: Mapping[str, Any]  # attributes changed in the phantom render (ground truth)
    target_label: str  # classifier column whose probability should move
    target_value: int  # 1: the edit should show it, 0: the edit should remove it
    target_query: str  # pandas query selecting real rows of the target class (the realism reference)


@dataclass(frozen=True)
class GroundTruth:
    """A phantom image as preprocessing stored it, the same subject with the task's change, and the
    pixels that change may touch."""

    factual: np.ndarray
    truth: np.ndarray
    region: np.ndarray


class DatasetKind:
    """Base class; one subclass per kind in this package (``ldbench.kinds``) registers itself."""

    name: ClassVar[str] = "base"
    #: real sources (adapter names) besides "phantom"
    real_sources: ClassVar[tuple[str, ...]] = ()
    #: columns the adapter's table must have
    required_columns: ClassVar[tuple[str, ...]] = ("path", "subject", "visit", "age", "sex")
    #: JSON schema of the kind's own keys in ``datasets.<name>`` and of its ``phantom`` block
    options_schema: ClassVar[dict[str, dict]] = {}
    phantom_schema: ClassVar[dict[str, dict]] = {}
    #: overview figure: age-group bin edges
    age_bins: ClassVar[tuple[int, ...]] = (0, 200)
    counterfactual_tasks: ClassVar[tuple[CounterfactualTask, ...]] = ()
    #: diverse prompt wording (``ldbench.prompts``): words of :meth:`condition_text` → the synonyms one is drawn from
    condition_synonyms: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: diverse prompt wording: a dataset's modality phrase → its synonyms (a method's own phrase is never replaced)
    modality_synonyms: ClassVar[dict[str, tuple[str, ...]]] = {}

    @property
    def sources(self) -> tuple[str, ...]:
        return ("phantom", *self.real_sources)

    # ------------------------------------------------------------------ raw data
    def phantom_arguments(self, phantom: Mapping[str, Any], seed: int, image_size: int) -> dict[str, Any]:
        """Everything that determines a phantom dataset: what :meth:`make_phantom` writes and what
        :meth:`phantom_specs` recovers the ground truth from."""
        raise NotImplementedError

    def make_phantom(self, out_root: Path, arguments: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def read_source(self, source: str, root: Path, options: Mapping[str, Any], drops: DropLog | None = None) -> pd.DataFrame:
        """The adapter's table (one row per raw image or volume) of ``source`` under ``root``; rows it
        leaves out are recorded in ``drops``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ slices
    def slice_name(self, row: Any) -> str:
        """File stem of a raw row's slice (unique suffixes are added by the caller)."""
        raise NotImplementedError

    def load_pixels(self, path: str, image_size: int, options: Mapping[str, Any]) -> np.ndarray:
        """The uint8 (image_size, image_size) image of one raw file; LdbenchError if unreadable."""
        raise NotImplementedError

    def add_labels(self, table: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
        """The slice table with this kind's label columns from the adapter rows ``raw`` (same order)."""
        raise NotImplementedError

    def condition_text(self, row: Mapping[str, Any]) -> str:
        """The disease part of a prompt ("Alzheimer's disease", "cardiomegaly and pleural effusion")."""
        raise NotImplementedError

    def overview_classes(self, slices: pd.DataFrame) -> list[tuple[str, pd.Series]]:
        """(class name, row mask) of the rows of the data overview figure."""
        raise NotImplementedError

    # ------------------------------------------------------------------ ground truth
    def phantom_specs(self, arguments: Mapping[str, Any]) -> pd.DataFrame:
        """subject, visit (as in the slice table) and ``spec`` of every image of a phantom dataset."""
        raise NotImplementedError

    def rerender(self, spec: Any, changes: Mapping[str, Any], image_size: int, options: Mapping[str, Any]) -> GroundTruth:
        """The phantom image of ``spec`` as stored, and the same image with the render attributes ``changes``
        (``age``, ``diagnosis``, a finding's severity …) and nothing else changed: same anatomy, same scan."""
        raise NotImplementedError

    #: what :meth:`measure_effect` measures, or None where the kind has no validated measurement
    effect_measure: ClassVar[str | None] = None

    def measure_effect(self, image: np.ndarray) -> float:
        """The counterfactual tasks' effect, measured on a uint8 image by fixed image analysis (no network),
        so an edit's change can be compared with the true counterfactual's."""
        raise NotImplementedError
