"""The counterfactual-editing tables and Fig. 1, from the ``counterfactual`` rule's outputs only.

Every table has one row per dataset, editor, task, LD and *variant*: the edit, the null edit (the
same editor and noise asked for no change) and the VAE reconstruction (``ldbench.stages.counterfactual``).

``table_counterfactual``: what any dataset can score — identity (SSIM / PSNR to the source), LPIPS
(as available), effectiveness (target-label probability and flip rate of the real-data classifier)
and reversibility (edits only).
``table_cf_groundtruth``: the phantom rows against the true counterfactual — SSIM / PSNR / L1 of
the output and, for reference, the L1 of the unedited source, the change inside and outside the
truly changed region and locality, their ratio.
``table_cf_gain``: the edit minus its null edit, per image, with the subject-level paired
bootstrap interval; its verdict is read off the interval ("inconclusive" when it contains 0).
``table_cf_realism``: FID / KID of the edited sets and their controls against real target-class
images (``edit_realism``), the edit's paired gain over its null edit.
Cells are means over the edited images, with n.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..auc import paired_mean_difference
from ..methods import method_title
from ..metrics import REALISM_FLOOR, REALISM_SOURCE, Interval
from ..seeds import derive_seed
from ..utils import LdbenchError, read_json
from .ld_effect import interval_verdict
from .render import write_table

MEANS = {
    "ssim_to_source": "SSIM↑ to source", "psnr_to_source": "PSNR↑ to source", "lpips_to_source": "LPIPS↓ to source",
    "p_target_edit": "p(target)↑",
    "flipped": "flip rate↑", "reversibility_l1": "L1↓ edit back",
    "ssim_to_truth": "SSIM↑ to truth", "psnr_to_truth": "PSNR↑ to truth", "lpips_to_truth": "LPIPS↓ to truth", "l1_to_truth": "L1↓ to truth",
    "l1_source_to_truth": "L1 source→truth", "change_outside_region": "L1 change outside↓", "change_inside_region": "L1 change inside",
    "locality_ratio": "locality↑ (inside / outside)",
    "effect_measured": "effect (measured)", "effect_true": "true effect", "effect_direction_correct": "effect direction right↑",
    "effect_error": "effect error↓",
}
IDENTITY = ["ssim_to_source", "psnr_to_source", "lpips_to_source", "p_target_edit", "flipped", "reversibility_l1"]
TRUTH = ["ssim_to_truth", "psnr_to_truth", "lpips_to_truth", "l1_to_truth", "l1_source_to_truth", "change_outside_region", "change_inside_region",
         "locality_ratio", "effect_measured", "effect_true", "effect_direction_correct", "effect_error"]
#: per-image scores whose edit − null edit difference gets an interval (where the run has them)
GAIN = ["p_target_edit", "flipped", "l1_to_truth", "ssim_to_truth", "psnr_to_truth", "change_inside_region", "locality_ratio",
        "effect_direction_correct", "effect_error"]
KEYS = ["dataset", "editor", "task", "LD", "variant", "delta", "n"]


def _read_result(folder: Path, rule: str) -> tuple[dict, pd.DataFrame]:
    """(summary, per-image scores) of one ``counterfactual`` or ``ageing`` output folder."""
    summary = read_json(Path(folder) / "summary.json")
    per_image = pd.read_csv(Path(folder) / "per_image.csv")
    if per_image.empty:
        raise LdbenchError(f"{folder}/per_image.csv: no edited images")
    if "variant" not in per_image:
        raise LdbenchError(f"{folder}/per_image.csv: no 'variant' column (written by an older {rule} rule); re-run it")
    return summary, per_image


def counterfactual_frame(results: Mapping[tuple[str, str], Path]) -> tuple[pd.DataFrame, dict]:
    """Mean scores per (dataset, editor, task, LD, variant) from ``results[(dataset, editor)]`` folders."""
    rows, summaries = [], {}
    for (dataset, editor), folder in sorted(results.items()):
        summary, per_image = _read_result(folder, "counterfactual")
        summaries[(dataset, editor)] = summary
        for (task, ld, variant), group in per_image.groupby(["task", "ld", "variant"], sort=False):
            row = {"dataset": dataset, "editor": summary["editor_name"], "task": task, "LD": ld == "LD", "variant": variant,
                   "delta": float(group["delta"].iloc[0]), "n": len(group), "lpips": summary["lpips"]}
            for column in MEANS:
                row[column] = float(group[column].astype(float).mean()) if column in group else np.nan
            rows.append(row)
    return pd.DataFrame(rows), summaries


def _display(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    shown = frame[KEYS].copy()
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
                f"{some['steps']} DDIM steps, guidance {some['guidance_scale']}, SDEdit strength {some['strength']}, seed {some['seed']}. "
                "Variants: the edit; the null edit (the same editor, seed and noise with the target prompt equal to the source prompt); "
                "the reconstruction (VAE encode → decode of the source).")
    lpips = f"LPIPS: {some['lpips']}."
    write_table(stem_edit, frame.drop(columns=TRUTH), _display(frame, IDENTITY),
                "Counterfactual editing, with and without LD: identity, effectiveness, reversibility",
                f"{settings} p(target) and flip rate: the classifier trained on the real training split for twice the steps (real-2x; "
                f"not consulted by the δ search, not behind FID) on each output. {lpips} SSIM: {some['ssim']}; PSNR: {some['psnr']}; L1: {some['l1']}.")
    truth = frame[frame["ssim_to_truth"].notna()]
    if truth.empty:
        truth = frame.iloc[0:0]
    write_table(stem_truth, truth.drop(columns=IDENTITY), _display(truth, TRUTH),
                "Counterfactuals against the phantom ground truth (same subject re-rendered with the attribute changed)",
                f"{settings} 'L1 source→truth' is what leaving the image unedited scores. Change outside / inside: mean |output − source| "
                f"outside / inside the region the true counterfactual changes; locality: their ratio per image, averaged. "
                f"Effect: {_effect_note(summaries)} {lpips} "
                + ("" if len(truth) else "No dataset of this run is a phantom: no ground truth."))


def paired_gain(edit: np.ndarray, null: np.ndarray, subjects: np.ndarray, n_boot: int, seed: int) -> dict:
    """Edit − null edit over the pairs where both scores exist, its subject-level interval and verdict:
    "no difference" only where every paired difference is exactly 0 (e.g. both flip), else read off the interval."""
    edit, null = np.asarray(edit, dtype=np.float64), np.asarray(null, dtype=np.float64)
    keep = ~(np.isnan(edit) | np.isnan(null))
    subjects = np.asarray(subjects).astype(str)[keep]
    if keep.any():
        gain = paired_mean_difference(edit[keep], null[keep], subjects, n_boot, seed)
    else:
        gain = Interval(float("nan"), float("nan"), float("nan"), float("nan"))
    same = bool(keep.any() and np.array_equal(edit[keep], null[keep]))
    return {"n": int(keep.sum()), "n_missing": int((~keep).sum()), "n_subjects": len(set(subjects)), "gain": gain.value, "gain_low": gain.low,
            "gain_high": gain.high, "verdict": "no difference" if same else interval_verdict(gain.low, gain.high, subject="edit")}


def _gain_cell(gain: Mapping) -> str:
    if not np.isnan(gain["gain_low"]):
        interval = f"[{gain['gain_low']:+.3f}, {gain['gain_high']:+.3f}]"
    else:
        interval = "[no interval: one subject]" if gain["n_subjects"] < 2 else "[no interval: no scored pair]"
    missing = f" ({gain['n_missing']} unscored)" if gain["n_missing"] else ""
    return f"{gain['gain']:+.3f} {interval} {gain['verdict']}{missing}"


def _effect_note(summaries: dict) -> str:
    measures = {dataset: s.get("effect_measure") for (dataset, _), s in sorted(summaries.items())}
    said = "; ".join(f"{d}: {m} (fixed segmentation, no network)" if m else f"{d}: none (no validated measurement)" for d, m in measures.items())
    return (f"{said}. 'effect (measured)': measure(output) − measure(source); 'true effect': measure(truth) − measure(source); "
            "direction right: the two have the same sign; error: their absolute difference; an output the measure cannot segment is "
            "left unscored (not counted as wrong).")


def counterfactual_gain_frame(results: Mapping[tuple[str, str], Path], n_boot: int, seed: int) -> pd.DataFrame:
    """Edit − null edit per (dataset, editor, task, LD, score): paired per image, resampled by subject."""
    rows = []
    for (dataset, editor), folder in sorted(results.items()):
        summary, per_image = _read_result(folder, "counterfactual")
        for (task, ld), group in per_image.groupby(["task", "ld"], sort=False):
            edited = group[group["variant"] == "edit"].set_index("image")
            controls = {variant: group[group["variant"] == variant].set_index("image").reindex(edited.index)
                        for variant in ("null edit", "reconstruction")}
            for variant, rows_of in controls.items():
                if rows_of["task"].isna().any():
                    raise LdbenchError(f"{folder}/per_image.csv: {task} {ld}: an edited image has no {variant}")
            null, recon = controls["null edit"], controls["reconstruction"]
            for score in GAIN:
                if score not in edited or edited[score].isna().all():
                    continue
                a, b = edited[score].astype(float).to_numpy(), null[score].astype(float).to_numpy()
                gain = paired_gain(a, b, edited["subject"].to_numpy(), n_boot, derive_seed(seed, "cf_gain", dataset, editor, task, ld, score))
                rows.append({"dataset": dataset, "editor": summary["editor_name"], "task": task, "LD": ld == "LD",
                             "delta": float(edited["delta"].iloc[0]), "score": score,
                             "edit": float(np.nanmean(a)), "null_edit": float(np.nanmean(b)),
                             "reconstruction": float(np.nanmean(recon[score].astype(float))), **gain})
    return pd.DataFrame(rows)


def write_gain_table(gain: pd.DataFrame, stem: Path, n_boot: int) -> None:
    """``table_cf_gain``: one row per edit setting, one column per score, each cell the gain, its interval and verdict."""
    caption = "What the edit does beyond its null edit: edit − null edit, paired per image"
    note = (f"Each cell: mean over images of (edit − null edit) for that score, [95 % interval: ± t(subjects − 1) × the SD over "
            f"{n_boot} bootstrap resamples of test subjects (each with all its images), small-sample corrected], and the verdict read off the interval ('edit higher' / "
            "'edit lower' when it excludes 0, 'no difference' when every paired difference is 0, else 'inconclusive'). The null edit is the same editor, seed and noise asked for no "
            "change, so blur and other pipeline effects cancel. Arrows: the better direction of each score. "
            "The CSV also holds each score's mean for the edit, the null edit and the VAE reconstruction.")
    if gain.empty:
        write_table(stem, gain, pd.DataFrame({"edit − null edit": ["no counterfactual results"]}), caption, note)
        return
    # n: the edited images; a score the measure could not read on some of them says so in its cell
    cells = gain.assign(cell=[_gain_cell(row) for row in gain.to_dict("records")], n=gain["n"] + gain["n_missing"])
    keys = ["dataset", "editor", "task", "LD", "delta", "n"]
    shown = cells.pivot_table(index=keys, columns="score", values="cell", aggfunc="first", sort=False).reset_index()
    shown = shown[keys + [s for s in GAIN if s in shown.columns]]
    shown["LD"] = np.where(shown["LD"], "yes", "no")
    shown["delta"] = shown["delta"].map(lambda d: f"{d:+g}")
    shown = shown.rename(columns={"delta": "δ", **{s: "Δ " + MEANS[s] for s in GAIN}})
    write_table(stem, gain, shown, caption, note)


def realism_frame(files: Mapping[tuple[str, str], Path]) -> tuple[pd.DataFrame, dict]:
    """One row per (dataset, editor, task, LD, set) from the ``edit_realism`` JSONs, the edit rows with
    their paired gain over the null edit; and the provenance of the first file (extractor, interval)."""
    rows, about = [], {}
    for (dataset, editor), path in sorted(files.items()):
        result = read_json(path)
        about = about or result
        gains = {(g["task"], g["ld"]): g for g in result["gain_over_null_edit"]}
        for entry in result["sets"]:
            row = {"dataset": dataset, "editor": result.get("editor_name", editor), **{k: v for k, v in entry.items() if not k.endswith("_ci95")}}
            for name in ("fid", "kid", "frd"):  # FRD where the run computed it
                row[f"{name}_low"], row[f"{name}_high"] = entry.get(f"{name}_ci95", (np.nan, np.nan))
            gain = gains.get((entry["task"], entry["ld"])) if entry["variant"] == "edit" else None
            for name in ("delta_fid", "delta_kid", "delta_frd"):
                row[name] = gain.get(name, np.nan) if gain else np.nan
                row[f"{name}_low"], row[f"{name}_high"] = gain.get(f"{name}_ci95", (np.nan, np.nan)) if gain else (np.nan, np.nan)
            rows.append(row)
    return pd.DataFrame(rows), about


def _value_cell(row: Mapping, name: str, digits: int) -> str:
    if pd.isna(row.get(name, np.nan)):
        return "n/a"
    return f"{row[name]:.{digits}f} [{row[f'{name}_low']:.{digits}f}, {row[f'{name}_high']:.{digits}f}]"


def _realism_gain_cell(row: Mapping) -> str:
    if pd.isna(row["delta_fid"]):
        return ""
    return "; ".join(f"Δ{name.upper()} {row[f'delta_{name}']:+.{d}f} [{row[f'delta_{name}_low']:+.{d}f}, {row[f'delta_{name}_high']:+.{d}f}] "
                     + interval_verdict(row[f"delta_{name}_low"], row[f"delta_{name}_high"], subject="edit")
                     for name, d in (("fid", 2), ("kid", 4), ("frd", 2)) if not pd.isna(row.get(f"delta_{name}", np.nan)))


def write_realism_table(frame: pd.DataFrame, about: Mapping, stem: Path) -> None:
    """``table_cf_realism``: FID / KID of each edited set and its controls against real target-class test images."""
    caption = "Realism of the counterfactual edits: FID / KID against real test images of the target class"
    if frame.empty:
        write_table(stem, frame, pd.DataFrame({"realism": ["no counterfactual results"]}), caption, "")
        return
    with_frd = "frd" in frame and frame["frd"].notna().any()
    shown = pd.DataFrame({
        "Dataset": frame["dataset"], "Editor": frame["editor"], "Task": frame["task"],
        "LD": frame["ld"].map({"LD": "yes", "noLD": "no"}).fillna("—"), "Set": frame["variant"].replace("", "skipped"),
        "n": frame["n"], "n real (target)": frame["n_reference"],
        "FID↓ [95 % interval]": [_value_cell(r, "fid", 2) for r in frame.to_dict("records")],
        "KID↓ [95 % interval]": [_value_cell(r, "kid", 4) for r in frame.to_dict("records")],
        **({"FRD↓ [95 % interval]": [_value_cell(r, "frd", 2) for r in frame.to_dict("records")]} if with_frd else {}),
        "edit − null edit": [_realism_gain_cell(r) for r in frame.to_dict("records")],
    })
    note = (f"Reference: {about['reference']}. Every set is scored against it at its own n: the edits with and without LD, their null edits "
            "and VAE reconstructions, the unedited sources (how far the source class already is from the target class) and the real floor "
            f"({about['real_floor']}: what a perfect edit would score at this n; FID and KID are biased by n). "
            f"Features: {about['feature_extractor']}. Distances: {about['library']}. Interval: {about['interval']}. "
            f"edit − null edit: {about['pairing']}; 'edit lower' / 'edit higher' when the interval excludes 0, else 'inconclusive'.")
    if with_frd:
        note += f" FRD: {frame['frd_computation'].dropna().iloc[0]}; ΔFRD is a log ratio."
    write_table(stem, frame, shown, caption, note)


def counterfactual_figure(results: Mapping[tuple[str, str], Path], png: Path, editor: str, per_task: int = 1, dpi: int = 150) -> None:
    """Fig. 1: source, edit without / with LD, truth; difference maps (added green, removed red), the LD
    null edit's beside them: what the editing pipeline changes when asked for nothing."""
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
                    null = ex[f"{t_index}_LD_null"][k]
                    truth = ex[f"{t_index}_truth"][k] if f"{t_index}_truth" in ex else None
                    panels.append((f"{dataset}: {task}", source, edits, null, truth, summary["deltas"]["LD"]))
    if not panels:
        raise LdbenchError(f"no counterfactual examples for editor {editor!r}")
    titles = ["source", "edit, no LD", "edit, LD", "true counterfactual", "difference, no LD", "difference, LD",
              "difference, null edit (LD)", "true difference"]
    fig, axes = plt.subplots(len(panels), len(titles), figsize=(1.7 * len(titles), 1.9 * len(panels)), squeeze=False)
    for r, (name, source, edits, null, truth, delta) in enumerate(panels):
        images = [source, *edits, truth]
        diffs = [_difference_rgb(source, e) for e in [*edits, null]] + [_difference_rgb(source, truth) if truth is not None else None]
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
#: phantoms only: the same scores against the clean truth (the earlier scan re-rendered at the later age)
AGEING_CLEAN_MEANS = {"ssim_to_clean_truth": "SSIM↑ clean", "psnr_to_clean_truth": "PSNR↑ clean", "lpips_to_clean_truth": "LPIPS↓ clean",
                      "l1_to_clean_truth": "L1↓ clean", "l1_source_to_clean_truth": "L1 unedited→clean"}


def _edit_gain_cell(per_image: pd.DataFrame, score: str, key: str, n_boot: int, seed: int) -> tuple[dict, str]:
    """Edit − null edit of one score, paired by test pair (columns for the CSV, the displayed cell)."""
    pair = ["image_young", "image_old"]
    edited = per_image[per_image["variant"] == "edit"].set_index(pair)
    null = per_image[per_image["variant"] == "null edit"].set_index(pair).reindex(edited.index)
    if null["variant"].isna().any():
        raise LdbenchError(f"{key}: an ageing edit has no null edit of the same test pair; re-run the ageing rule")
    gain = paired_gain(edited[score].astype(float).to_numpy(), null[score].astype(float).to_numpy(), edited["subject"].to_numpy(),
                       n_boot, derive_seed(seed, "ageing_gain", key, score))
    return {f"gain_{score}{'' if k == 'gain' else '_' + k.removeprefix('gain_')}": v for k, v in gain.items()}, _gain_cell(gain)


#: the years an output adds, read by the age regressor (ldbench.age_regressor)
AGEING_YEARS = {"years_asked": "years asked", "age_gain_pred": "years read", "age_gain_error": "|read − asked|↓",
                "age_gain_follow_up": "years read on follow-up"}
AGEING_GAIN = ("l1_to_truth", "ssim_to_truth", "age_gain_pred")
AGEING_CLEAN_GAIN = ("l1_to_clean_truth", "ssim_to_clean_truth")


def _ageing_realism(path: Path | None, variant: str) -> dict:
    """FID / KID columns of one ageing row from its ``ageing_realism`` file; on the edit row also the controls'
    FID (unedited earlier scans, real floor) and the paired edit − null edit difference."""
    if path is None:
        return {}
    result = read_json(path)
    sets = {entry["variant"]: entry for entry in result["sets"]}
    if variant not in sets:
        return {}
    found = {}
    for name in ("fid", "kid"):
        found[name], (found[f"{name}_low"], found[f"{name}_high"]) = sets[variant][name], sets[variant][f"{name}_ci95"]
    if variant == "edit":
        found["fid_unedited"] = sets.get(REALISM_SOURCE, {}).get("fid", np.nan)
        found["fid_real_floor"] = sets.get(REALISM_FLOOR, {}).get("fid", np.nan)
        for gain in result["gain_over_null_edit"]:
            found["delta_fid"], (found["delta_fid_low"], found["delta_fid_high"]) = gain["delta_fid"], gain["delta_fid_ci95"]
    return found


def write_ageing_table(results: Mapping[tuple[str, str], Path], stem: Path, n_boot: int, seed: int,
                       realism: Mapping[tuple[str, str], Path] | None = None) -> None:
    """The ageing table: InstructPix2Pix without and with LD against the real follow-up scans, each beside its
    null edit ("… 0 years older") and the VAE reconstruction, with the edit's gain over the null edit; with
    ``realism`` (``ageing_realism`` files under the same keys) also FID / KID against the follow-ups."""
    rows, summaries = [], []
    realism = realism or {}
    order = {encoding: i for i, encoding in enumerate(("bin", "word", "number"))}  # the paper's row order
    for (dataset, method, ld, encoding), folder in sorted(results.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] == "LD",
                                                                                             order[item[0][3]])):
        summary, per_image = _read_result(folder, "ageing")
        summaries.append(summary)
        clean = summary.get("clean_truth") is not None
        means = {**AGEING_MEANS, **(AGEING_CLEAN_MEANS if clean else {}), **{c: label for c, label in AGEING_YEARS.items() if c in per_image}}
        gains, cells = {}, {}
        for score in [g for g in AGEING_GAIN if g in per_image] + list(AGEING_CLEAN_GAIN if clean else ()):
            columns, cells[score] = _edit_gain_cell(per_image, score, f"{dataset}/{method}/{ld}/{encoding}", n_boot, seed)
            gains.update(columns)
        for variant, group in per_image.groupby("variant", sort=False):
            row = {"dataset": dataset, "editor": summary["editor"], "model": method_title(method), "LD": ld == "LD", "years as": encoding,
                   "variant": variant, "delta": summary["delta"],
                   "n": len(group), "years_mean": float(group["years"].mean()), "lpips": summary["lpips"]}
            row.update({c: float(group[c].astype(float).mean()) for c in means})
            row.update(gains if variant == "edit" else {})
            row.update(_ageing_realism(realism.get((dataset, method, ld, encoding)), variant))
            row.update({f"shown_{score}": cells[score] if variant == "edit" else "" for score in cells})
            rows.append(row)
    caption = "Ageing with ground truth: InstructPix2Pix on longitudinal pairs, with and without LD"
    if not rows:
        write_table(stem, pd.DataFrame(), pd.DataFrame({"ageing": ["not run (ageing.datasets is empty)"]}), caption, "")
        return
    frame = pd.DataFrame(rows)
    shown = frame[["dataset", "editor", "model", "years as", "variant", "n"]].copy()
    shown.insert(3, "LD", np.where(frame["LD"], "yes", "no"))
    shown.insert(4, "δ", frame["delta"].map(lambda d: f"{d:+g}"))
    shown["follow-up gap (years)"] = frame["years_mean"].map(lambda y: f"{y:.1f}")
    labels = {**AGEING_MEANS, **AGEING_CLEAN_MEANS, **AGEING_YEARS}
    for column, label in labels.items():
        if column in frame:
            digits = 2 if column.startswith("psnr") else 1 if column in AGEING_YEARS else 3
            shown[label] = frame[column].map(lambda x, d=digits: "n/a" if pd.isna(x) else f"{x:.{d}f}")
    if "fid" in frame:
        records = frame.to_dict("records")
        shown["FID↓ vs follow-ups [95 %]"] = [_value_cell(r, "fid", 2) for r in records]
        shown["FID unedited / real floor"] = [f"{r['fid_unedited']:.2f} / {r['fid_real_floor']:.2f}" if r["variant"] == "edit" else ""
                                              for r in records]
        shown["Δ FID vs null edit"] = [f"{r['delta_fid']:+.2f} [{r['delta_fid_low']:+.2f}, {r['delta_fid_high']:+.2f}] "
                                       + interval_verdict(r["delta_fid_low"], r["delta_fid_high"], subject="edit")
                                       if r["variant"] == "edit" and not pd.isna(r.get("delta_fid", np.nan)) else "" for r in records]
    for score in AGEING_GAIN + AGEING_CLEAN_GAIN:
        if f"shown_{score}" in frame:
            shown[f"Δ {labels[score]} vs null edit"] = frame.pop(f"shown_{score}").fillna("")
    some = summaries[0]
    trained_with = "; ".join(dict.fromkeys(f"{method_title(s['method'])} {s['ld']}: trained at δ = {s['delta_train']:g}, "
                                           f"sampled at δ = {s['delta']:+g}" for s in summaries))
    note = ("Earlier visit edited with the instruction 'make the <modality> <years> years older' ('years as': a number, '3 years'; a "
            "word, 'three years'; or a bin of the gap, '3 to 4 years', bins 1–2, 3–4, 5–9, 10 or more, our reading of the paper's "
            "unpublished bins; one InstructPix2Pix training each) and compared with the same "
            "subject's later visit (the real follow-up), another scan with its own contrast, bias field, noise and head position. "
            "On phantoms, '… clean' columns compare with the clean truth instead: the earlier scan re-rendered at the later "
            "visit's age and diagnosis, scan and position unchanged, so only the ageing differs. "
            "'L1 unedited→follow-up' ('→clean') is what leaving the scan unedited scores. "
            "Controls: the null edit (the same noise, 'make the <modality> 0 years older'; training shows 1 year or more, so "
            "'0 years' is asked, not taught) and the reconstruction (VAE encode → "
            "decode of the earlier scan). Δ vs null edit: mean over pairs of (edit − null edit), [95 % interval: ± t(subjects − 1) × "
            f"the SD over {n_boot} bootstrap resamples of test subjects, small-sample corrected], verdict read off the interval. "
            f"InstructPix2Pix fine-tuned for {some['steps']} steps from the model in 'model' ({trained_with}), sampled with "
            f"{some['sampling_steps']} DDIM steps, text guidance {some['text_guidance']}, image guidance {some['image_guidance']}. "
            f"LPIPS: {some['lpips']}."
            + (f" {_years_note(some['age_regressor_validation'])}" if "age_regressor_validation" in some else "")
            + (" FID vs follow-ups: each set against the real follow-up scans of the edited pairs at the same n (Table 1's features "
               "and half-sampling intervals), beside the unedited earlier scans' FID and a real floor (as many follow-ups of training "
               "pairs); Δ FID: edit − null edit, index-paired." if "fid" in frame else ""))
    write_table(stem, frame, shown, caption, note)


def _years_note(validation: Mapping) -> str:
    return ("Years read: the age regressor's predicted age of the output minus that of the earlier scan (the regressor is trained on "
            f"the real training split and used for nothing else; on the real test split its error is {validation['test_mae_years']:.1f} years, "
            f"{validation['test_mae_years_training_mean']:.1f} for always predicting the training mean, r = {validation['test_pearson_r']:.2f}, "
            f"n = {validation['n_test']}); years asked: the instruction's (0 for the controls); 'years read on follow-up': the same "
            "reading on the real follow-up scan, what the regressor sees in these subjects' real ageing.")
