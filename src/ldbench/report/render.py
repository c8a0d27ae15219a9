"""Render a DataFrame as Markdown and LaTeX (booktabs) without extra dependencies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..utils import write_csv, write_text

LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "±": r"$\pm$", "δ": r"$\delta$", "–": "--"}


def _latex(text: str) -> str:
    for raw, escaped in LATEX_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def to_markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def to_latex(frame: pd.DataFrame, caption: str, label: str) -> str:
    cols = "l" * len(frame.columns)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{_latex(caption)}}}", rf"\label{{{label}}}", rf"\begin{{tabular}}{{{cols}}}", r"\toprule"]
    lines.append(" & ".join(_latex(str(c)) for c in frame.columns) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(_latex(str(v)) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(stem: Path, data: pd.DataFrame, display: pd.DataFrame, caption: str, note: str) -> None:
    """``stem``.csv holds the numbers; ``stem``.md / ``stem``.tex the formatted display table."""
    write_csv(stem.with_suffix(".csv"), data)
    write_text(stem.with_suffix(".md"), f"**{caption}**\n\n" + to_markdown(display) + f"\n{note}\n")
    write_text(stem.with_suffix(".tex"), to_latex(display, caption, f"tab:{stem.name}") + f"% {note}\n")
