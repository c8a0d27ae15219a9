"""Rows and files left out of a slice table, each with its reason, counted and capped.

Adapters and preprocessing record every raw row or file they cannot use in a :class:`DropLog`
instead of skipping it quietly. ``preprocess`` writes the log to
``results/data/{dataset}/dropped.csv`` (file, subject, reason, detail), prints a summary on the
console, and stops, naming the reason, when one reason drops more than its cap (a fraction of the
raw inputs; ``datasets.<name>.max_dropped_fraction``, per reason in
``max_dropped_fraction_by_reason``): losing a third of a dataset to a blank column should be a
decision, not a surprise.

Standard library at import (the config schema lists the reasons).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

#: every reason a row or file can be dropped for
REASONS = {
    "unreadable_file": "the image or volume file is missing, truncated or not an image",
    "missing_age": "the age is blank or not a number",
    "missing_sex": "the sex is blank or not male/female",
    "bad_label": "a label is text or a number other than 1.0 / 0.0 / -1.0 / blank",
    "missing_diagnosis": "no diagnosis (or CDR) at the matched visit",
    "subject_not_in_clinical_table": "the scan's subject has no row in the clinical table",
    "no_clinical_visit": "no clinical visit of the subject within the matching window",
}


@dataclass
class DropLog:
    """The dropped rows of one dataset; ``inputs``: how many raw rows or files there were to start with."""

    inputs: int = 0
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, file: str, subject: str, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown drop reason {reason!r}; expected one of {sorted(REASONS)}")
        self.rows.append({"file": str(file), "subject": str(subject), "reason": reason, "detail": str(detail)})

    def counts(self) -> Counter:
        return Counter(row["reason"] for row in self.rows)

    def check(self, default_cap: float, caps: Mapping[str, float], where: str) -> None:
        """LdbenchError naming every reason whose drops exceed its cap, with examples."""
        from ..utils import LdbenchError

        over = []
        for reason, n in sorted(self.counts().items()):
            cap = caps.get(reason, default_cap)
            if n > cap * max(self.inputs, 1):
                examples = "; ".join(f"{r['file']} ({r['subject']}{': ' + r['detail'] if r['detail'] else ''})"
                                     for r in self.rows if r["reason"] == reason)
                over.append(f"{n} of {self.inputs} inputs dropped for {reason} ({REASONS[reason]}), more than its cap of {cap:.0%}; "
                            f"e.g. {examples[:400]}")
        if over:
            raise LdbenchError(f"{where}: " + "\n  ".join(over) + "\n(raise a cap with datasets.<name>.max_dropped_fraction "
                               "or max_dropped_fraction_by_reason.<reason> if these inputs may be left out)")

    def summary(self, where: str) -> str:
        if not self.rows:
            return f"{where}: all {self.inputs} inputs used"
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.counts().items()))
        return f"{where}: {len(self.rows)} of {self.inputs} inputs dropped ({parts}); see dropped.csv"

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["file", "subject", "reason", "detail"])
