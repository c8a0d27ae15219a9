"""The counterfactual-editing tables and Fig. 1, from the ``counterfactual`` rule's outputs only.

``table_counterfactual``: per dataset, editor, task and LD, what any dataset can score — identity
(SSIM / PSNR to the source), LPIPS (as available), effectiveness (target-label probability and
flip rate of the real-data classifier) and reversibility.
``table_cf_groundtruth``: the phantom rows against the true counterfactual — SSIM / PSNR / L1 of
the edit and, for reference, the L1 of the unedited source, plus minimality (mean change outside
the truly changed region) next to the change inside it.
Cells are means over the edited images, with n.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils import LdbenchError, read_json
from .render import write_table

MEANS = {
    "ssim_to_source": "SSIM↑ to source", "psnr_to_source": "PSNR↑ to source", "lpips_to_source": "LPIPS↓ to source",
    "p_target_edit": "p(target)↑",
    "flipped": "flip rate↑", "reversibility_l1": "L1↓ edit back",
    "ssim_to_truth": "SSIM↑ to truth", "psnr_to_truth": "PSNR↑ to truth", "lpips_to_truth": "LPIPS↓ to truth", "l1_to_truth": "L1↓ to truth",
    "l1_source_to_truth": "L1 source→truth", "change_outside_region": "L1 change outside↓", "change_inside_region": "L1 change inside",
}
IDENTITY = ["ssim_to_source", "psnr_to_source", "lpips_to_source", "p_target_edit", "flipped", "reversibility_l1"]
TRUTH = ["ssim_to_truth", "psnr_to_truth", "lpips_to_truth", "l1_to_truth", "l1_source_to_truth", "change_outside_region", "change_inside_region"]


def counterfactual_frame(results: Mapping[tuple[str, str], Path]) -> tuple[pd.DataFrame, dict]:
    """Mean scores per (dataset, editor, task, LD) from ``results[(dataset, editor)]`` folders."""
    rows, summaries = [], {}
    for (dataset, editor), folder in sorted(results.items()):
        summary = read_json(Path(folder) / "summary.json")
        per_image = pd.read_csv(Path(folder) / "per_image.csv")
        if per_image.empty:
            raise LdbenchError(f"{folder}/per_image.csv: no edited images")
        summaries[(dataset, editor)] = summary
        for (task, ld), group in per_image.groupby(["task", "ld"], sort=False):
            row = {"dataset": dataset, "editor": summary["editor_name"], "task": task, "LD": ld == "LD",
                   "delta": float(group["delta"].iloc[0]), "n": len(group), "lpips": summary["lpips"]}
            for column in MEANS:
                row[column] = float(group[column].astype(float).mean()) if column in group else np.nan
            rows.append(row)
    return pd.DataFrame(rows), summaries


def _display(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    shown = frame[["dataset", "editor", "task", "LD", "delta", "n"]].copy()
    shown["LD"] = np.where(frame["LD"], "yes", "no")
    shown["delta"] = frame["delta"].map(lambda d: f"{d:+g}")
    shown = shown.rename(columns={"delta": "δ"})
    for column in columns:
        digits = 2 if column.startswith("psnr") else 3
        shown[MEANS[column]] = frame[column].map(lambda x, d=digits: "n/a" if pd.isna(x) else f"{x:.{d}f}")
    return shown


def write_counterfactual_tables(frame: pd.DataFrame, summaries: dict, stem_edit: Path, stem_truth: Path) -> None:
    some = next(iter(summaries.values()))
    settings = (f"Editing model: {some['method']} without LD (δ = 0) and with LD (its searched δ); "
                f"{some['steps']} DDIM steps, guidance {some['guidance_scale']}, SDEdit strength {some['strength']}, seed {some['seed']}.")
    lpips = f"LPIPS: {some['lpips']}."
    write_table(stem_edit, frame.drop(columns=TRUTH), _display(frame, IDENTITY),
                "Counterfactual editing, with and without LD: identity, effectiveness, reversibility",
                f"{settings} p(target) and flip rate: the real-data classifier on the edit. {lpips} SSIM: {some['ssim']}; PSNR: {some['psnr']}; L1: {some['l1']}.")
    truth = frame[frame["ssim_to_truth"].notna()]
    if truth.empty:
        truth = frame.iloc[0:0]
    write_table(stem_truth, truth.drop(columns=IDENTITY), _display(truth, TRUTH),
                "Counterfactuals against the phantom ground truth (same subject re-rendered with the attribute changed)",
                f"{settings} 'L1 source→truth' is what leaving the image unedited scores. Minimality: mean |edit − source| "
                f"outside the region the true counterfactual changes (inside, for comparison). {lpips} "
                + ("" if len(truth) else "No dataset of this run is a phantom: no ground truth."))


def counterfactual_figure(results: Mapping[tuple[str, str], Path], png: Path, editor: str, per_task: int = 1, dpi: int = 150) -> None:
    """Fig. 1: source, edit without / with LD, truth; difference maps (added green, removed red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figures import save_figure

    panels = []
    for (dataset, ed), folder in sorted(results.items()):
        if ed != editor:
            continue
        summary = read_json(Path(folder) / "summary.json")
        editor_name = summary["editor_name"]
        with np.load(Path(folder) / "examples.npz") as ex:
            for t_index, task in enumerate(summary["tasks"]):
                if f"{t_index}_source" not in ex:
                    continue
                for k in range(min(per_task, len(ex[f"{t_index}_source"]))):
                    source = ex[f"{t_index}_source"][k]
                    edits = [ex[f"{t_index}_noLD"][k], ex[f"{t_index}_LD"][k]]
                    truth = ex[f"{t_index}_truth"][k] if f"{t_index}_truth" in ex else None
                    panels.append((f"{dataset}: {task}", source, edits, truth, summary["deltas"]["LD"]))
    if not panels:
        raise LdbenchError(f"no counterfactual examples for editor {editor!r}")
    titles = ["source", "edit, no LD", "edit, LD", "true counterfactual", "difference, no LD", "difference, LD", "true difference"]
    fig, axes = plt.subplots(len(panels), len(titles), figsize=(1.7 * len(titles), 1.9 * len(panels)), squeeze=False)
    for r, (name, source, edits, truth, delta) in enumerate(panels):
        images = [source, *edits, truth]
        diffs = [_difference_rgb(source, e) for e in edits] + [_difference_rgb(source, truth) if truth is not None else None]
        for c, img in enumerate(images + diffs):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            if img is None:
                ax.text(0.5, 0.5, "no ground truth", ha="center", va="center", fontsize=7, transform=ax.transAxes)
            elif img.ndim == 2:
                ax.imshow(img, cmap="gray", vmin=0, vmax=255)
            else:
                ax.imshow(img)
            if r == 0:
                ax.set_title(titles[c], fontsize=8)
        axes[r, 0].set_ylabel(name.replace(" → ", " →\n") + f"\n(LD: δ = {delta:+g})", fontsize=7)
    fig.suptitle(f"Counterfactuals by {editor_name}: added intensity green, removed red", fontsize=9)
    save_figure(fig, png, dpi)


def _difference_rgb(source: np.ndarray, edited: np.ndarray) -> np.ndarray:
    """Black background; green where the edit is brighter than the source, red where darker."""
    diff = edited.astype(np.float32) - source.astype(np.float32)
    scale = max(float(np.percentile(np.abs(diff), 99)), 1.0)
    rgb = np.zeros((*diff.shape, 3), dtype=np.float32)
    rgb[..., 1] = np.clip(diff / scale, 0, 1)
    rgb[..., 0] = np.clip(-diff / scale, 0, 1)
    return rgb


AGEING_MEANS = {"ssim_to_truth": "SSIM↑", "psnr_to_truth": "PSNR↑", "lpips_to_truth": "LPIPS↓", "l1_to_truth": "L1↓",
                "l1_source_to_truth": "L1 unedited→follow-up"}


def write_ageing_table(results: Mapping[tuple[str, str], Path], stem: Path) -> None:
    """The ageing table: InstructPix2Pix without and with LD against the real follow-up scans."""
    rows, summaries = [], []
    for (dataset, ld), folder in sorted(results.items(), key=lambda item: (item[0][0], item[0][1] == "LD")):
        summary = read_json(Path(folder) / "summary.json")
        per_image = pd.read_csv(Path(folder) / "per_image.csv")
        summaries.append(summary)
        row = {"dataset": dataset, "editor": summary["editor"], "LD": ld == "LD", "delta": summary["delta"],
               "n": len(per_image), "years_mean": float(per_image["years"].mean()), "lpips": summary["lpips"]}
        row.update({c: float(per_image[c].astype(float).mean()) for c in AGEING_MEANS})
        rows.append(row)
    caption = "Ageing with ground truth: InstructPix2Pix on longitudinal pairs, with and without LD"
    if not rows:
        write_table(stem, pd.DataFrame(), pd.DataFrame({"ageing": ["not run (ageing.datasets is empty)"]}), caption, "")
        return
    frame = pd.DataFrame(rows)
    shown = frame[["dataset", "editor", "n"]].copy()
    shown.insert(2, "LD", np.where(frame["LD"], "yes", "no"))
    shown.insert(3, "δ", frame["delta"].map(lambda d: f"{d:+g}"))
    shown["years"] = frame["years_mean"].map(lambda y: f"{y:.1f}")
    for column, label in AGEING_MEANS.items():
        digits = 2 if column.startswith("psnr") else 3
        shown[label] = frame[column].map(lambda x, d=digits: "n/a" if pd.isna(x) else f"{x:.{d}f}")
    some = summaries[0]
    trained_with = "; ".join(f"{s['ld']}: trained at δ = {s['delta_train']:g}, sampled at δ = {s['delta']:+g}" for s in summaries)
    note = ("Earlier visit edited with the instruction 'make the <modality> <years> years older' and compared with the same "
            "subject's later visit (the real follow-up). 'L1 unedited→follow-up' is what leaving the scan unedited scores. "
            f"InstructPix2Pix fine-tuned for {some['steps']} steps from the editing model ({trained_with}), sampled with "
            f"{some['sampling_steps']} DDIM steps, text guidance {some['text_guidance']}, image guidance {some['image_guidance']}. "
            f"LPIPS: {some['lpips']}.")
    write_table(stem, frame, shown, caption, note)
