"""``table_prompt_ablation``: the paper's prompt ablation, wording × patient information.

Every cell is Basic FT + LD fine-tuned for the same steps on the same training slices, only the
prompts' wording differing (``ldbench.prompts``); each is sampled at δ = 0 (no cell gets a δ
search) from the same training rows and initial noise, so image i of every cell shares its row
and noise. FID / KID (and FRD) are Table 1's (same features, real test split, half-sampling intervals),
and each cell minus the reference cell (the wording of the run's own ``prompts``) is a paired
difference, so "which wording is better" is a verdict with an interval, not a ranking of points.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..settings import DistanceSettings, PromptWording
from ..stages.evaluate import load_features, paired_fid_kid, paired_frd
from ..utils import LdbenchError
from .ld_effect import paired_effect_columns
from .render import write_table
from .tables import distance_columns, fid_label, read_metrics

#: the paper's best cell (diverse wording + patient information; dataset not stated in what is
#: known of the paper: ../shared/paper/paper-digest.md), Inception features at 512 px
PAPER_BEST = {"cell": "diverse-info", "FID": 51.35, "KID": 0.0351}


def prompt_ablation_frame(metric_files: Mapping[tuple[str, str], Path], feature_files: Mapping[tuple[str, str], Path],
                          real_files: Mapping[str, Path], reference: str, settings: DistanceSettings) -> pd.DataFrame:
    """One row per (dataset, cell): FID / KID with intervals, and the paired difference to the ``reference`` cell."""
    real = {dataset: load_features(path) for dataset, path in real_files.items()}  # each file read once, not per cell
    generated = {key: load_features(path) for key, path in feature_files.items()}
    rows = []
    for (dataset, cell), path in sorted(metric_files.items()):
        m = read_metrics(path)
        wording = PromptWording.from_cell(cell, 0)
        row = {"dataset": dataset, "cell": cell, "wording": wording.style, "patient_info": wording.patient_info,
               "delta": m["delta"], **distance_columns(m, path), "extractor": m["feature_extractor"].split(":")[0]}
        if cell != reference:
            if (dataset, reference) not in generated:
                raise LdbenchError(f"the prompt ablation's reference cell {reference!r} (the run's prompts) has no samples for {dataset}")
            ours, theirs = generated[(dataset, cell)], generated[(dataset, reference)]
            if len(ours["generated"]) != len(theirs["generated"]):
                raise LdbenchError(f"{feature_files[(dataset, cell)]}: {len(ours['generated'])} images, but the reference cell has "
                                   f"{len(theirs['generated'])}; re-run")
            purpose = ("prompt_ablation", dataset, cell)
            effect = {**paired_fid_kid(settings, real[dataset]["test"], ours["generated"], theirs["generated"], *purpose),
                      **paired_frd(settings, real[dataset].get("radiomics_test"), ours.get("radiomics_generated"),
                                   theirs.get("radiomics_generated"), *purpose)}
            row |= paired_effect_columns(effect, subject="cell")
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.get("extractor", pd.Series(dtype=str)).nunique() > 1:
        raise LdbenchError(f"the prompt ablation's cells were scored on different features {sorted(set(frame['extractor']))}; re-run evaluate_prompt_cell")
    return frame


def write_prompt_ablation(frame: pd.DataFrame, stem: Path, reference: str) -> None:
    caption = "Prompt ablation: wording × patient information (Basic FT + LD)"
    if frame.empty:
        write_table(stem, frame, frame, caption, "prompt_ablation.datasets lists none: nothing to tabulate.")
        return

    def effect(r, metric: str) -> str:
        if r.cell == reference:
            return "(reference)"
        value, low, high = (getattr(r, f"d{metric}{s}") for s in ("", "_ci_low", "_ci_high"))
        return f"{value:+.3g} [{low:+.3g}, {high:+.3g}] {getattr(r, f'{metric}_verdict')}"

    def paper(r, metric: str) -> str:
        return f"{PAPER_BEST[metric]:g}" if r.cell == PAPER_BEST["cell"] else ""

    display = pd.DataFrame({
        "Dataset": frame["dataset"], "Wording": frame["wording"], "Patient info": frame["patient_info"].map({True: "yes", False: "no"}),
        fid_label(frame["extractor"].iloc[0]): [f"{r.FID:.2f} [{r.FID_ci_low:.2f}, {r.FID_ci_high:.2f}]" for r in frame.itertuples()],
        "KID": [f"{r.KID:.4f} [{r.KID_ci_low:.4f}, {r.KID_ci_high:.4f}]" for r in frame.itertuples()],
        "ΔFID vs reference": [effect(r, "FID") for r in frame.itertuples()],
        "ΔKID vs reference": [effect(r, "KID") for r in frame.itertuples()],
        **({"FRD": [f"{r.FRD:.2f} [{r.FRD_ci_low:.2f}, {r.FRD_ci_high:.2f}]" for r in frame.itertuples()],
            "ΔFRD vs reference": [effect(r, "FRD") for r in frame.itertuples()]} if "FRD" in frame else {}),
        "Paper FID (Inception)": [paper(r, "FID") for r in frame.itertuples()],
        "Paper KID": [paper(r, "KID") for r in frame.itertuples()],
    })
    n = ", ".join(sorted({str(v) for v in frame["n_generated"]}))
    note = (f"Each cell fine-tunes Basic FT + LD for the same steps on the same training slices; only the prompts' wording differs "
            "(ldbench.prompts: simple = one template; diverse = seeded frames and synonyms for the modality, age, sex and finding; without "
            "patient info the age and sex are left out, the diagnosis or findings stay). Every cell is sampled at δ = 0 (no cell gets "
            f"a δ search) from the same training rows and initial noise (n = {n} per cell) and scored as in Table 1 against the real "
            "test split, with 95 % half-sampling intervals. Δ: the cell minus the reference cell (the wording of this run's own "
            f"prompts, {reference}) as a paired difference (same real half-samples, index-paired sets); 'cell lower' / 'cell higher' "
            "when its interval excludes 0, else inconclusive. The paper reports only its best cell (diverse wording + patient "
            "information), on Inception features of 512-px images: its scale is not this table's. "
            + ("FRD: Fréchet Radiomics Distance v1 (frd-score radiomics, no network; ΔFRD a log ratio), on the first "
               f"{int(frame['FRD_n'].max())} images of each cell. " if "FRD" in frame else "")
            + "Generated by ldbench from this run's metric files.")
    write_table(stem, frame.round(6), display, caption, note)
