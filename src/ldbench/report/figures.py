"""Figures of the paper from files the DAG produced (matplotlib, PNG + PDF)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..images import read_gray
from ..methods import method_title
from ..utils import atomic_path
from .memorisation import memorisation_block


def save_figure(fig, png: Path, dpi: int = 150) -> None:
    """PNG and a PDF beside it, both atomically; fixed metadata so reruns give identical files."""
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    with atomic_path(Path(png).with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)


def delta_sweep(sweeps: Mapping[str, Path], method: str, png: Path, rows: int = 4, dpi: int = 150) -> None:
    """Paper Fig. 2: the same initial noise and prompt sampled at every δ (one panel per dataset)."""
    fig, axes = plt.subplots(len(sweeps), 1, figsize=(8, 2.4 * rows * len(sweeps) / 2 + 0.5), squeeze=False)
    for ax, (dataset, path) in zip(axes[:, 0], sweeps.items()):
        blob = np.load(path)
        images, deltas, real = blob["images"], blob["deltas"], blob["real"]
        k = min(rows, images.shape[1])
        strips = [np.concatenate([real[i]] + [images[j, i] for j in range(len(deltas))], axis=1) for i in range(k)]
        ax.imshow(np.concatenate(strips, axis=0), cmap="gray", vmin=0, vmax=255)
        w = images.shape[-1]
        ax.set_xticks([w / 2 + w * c for c in range(len(deltas) + 1)])
        ax.set_xticklabels(["real"] + [f"δ={d:+g}" for d in deltas], fontsize=8)
        ax.set_yticks([])
        ax.set_title(f"{dataset}: {method_title(method)} + LD, identical noise per row", fontsize=9)
    save_figure(fig, png, dpi)


def base_delta_sweep(sweep: Path, png: Path, dpi: int = 150) -> None:
    """Paper Fig. 2's setting: the base model on natural-image prompts, one panel per ``drift.inference_shift``
    mode, identical noise per row, one column per δ of that mode's grid."""
    from ..drift import INFERENCE_SHIFT_TEXT, INFERENCE_SHIFTS

    blob = np.load(sweep)
    prompts, steps = [str(p) for p in blob["prompts"]], int(blob["steps"])
    fig, axes = plt.subplots(len(INFERENCE_SHIFTS), 1, figsize=(8, 1.3 * len(prompts) * len(INFERENCE_SHIFTS) + 0.6), squeeze=False)
    for ax, mode in zip(axes[:, 0], INFERENCE_SHIFTS):
        images, deltas = blob[f"images_{mode}"], blob[f"deltas_{mode}"]  # (δ, prompt, H, W, 3)
        rows = [np.concatenate(list(images[:, i]), axis=1) for i in range(images.shape[1])]
        ax.imshow(np.concatenate(rows, axis=0))
        h, w = images.shape[2:4]
        ax.set_xticks([w / 2 + w * c for c in range(len(deltas))])
        ax.set_xticklabels([f"δ={d:+g}" for d in deltas], fontsize=8)
        ax.set_yticks([h / 2 + h * r for r in range(len(prompts))])
        ax.set_yticklabels([p.removeprefix("a photo of ") for p in prompts], fontsize=7)
        ax.set_title(f"base model, inference_shift = {mode}: {INFERENCE_SHIFT_TEXT[mode].format(steps=steps)}", fontsize=8)
    save_figure(fig, png, dpi)


def samples_per_method(sample_csvs: Mapping[tuple[str, str, str], Path], datasets: Sequence[str], methods: Sequence[str], png: Path,
                       per_cell: int = 4, dpi: int = 150) -> None:
    """Paper Figs. 4–5: samples per fine-tuning method, without (left) and with (right) LD."""
    fig, axes = plt.subplots(len(methods), 2 * len(datasets), figsize=(3.2 * 2 * len(datasets), 1.0 * len(methods) + 0.8), squeeze=False)
    for d, dataset in enumerate(datasets):
        for m, method in enumerate(methods):
            for j, ld in enumerate(("noLD", "LD")):
                ax = axes[m, 2 * d + j]
                table = pd.read_csv(sample_csvs[(dataset, method, ld)])
                strip = np.concatenate([read_gray(p) for p in table["image"].iloc[:per_cell]], axis=1)
                ax.imshow(strip, cmap="gray", vmin=0, vmax=255)
                ax.set_xticks([])
                ax.set_yticks([])
                if m == 0:
                    ax.set_title(f"{dataset} – {'with' if ld == 'LD' else 'without'} LD (δ={table['delta'].iloc[0]:+g})", fontsize=8)
                if d == 0 and j == 0:
                    ax.set_ylabel(method_title(method), fontsize=8, rotation=0, ha="right", va="center")
    fig.tight_layout()
    save_figure(fig, png, dpi)


def latent_distributions(trajectories: Mapping[str, Path], method: str, png: Path, bins: int = 60, dpi: int = 150) -> None:
    """Paper Fig. 3: how the latents and images move along reverse sampling, without and with LD.

    Per dataset: (a) per-channel mean of the latents after each reverse step, (b) the final z_0
    distribution, (c) the decoded images' per-channel pixel distribution at the end, each beside
    the real test slices' latents / pixels; (d) the decoded images' mean along the schedule.
    """
    colours = {"noLD": "tab:blue", "LD": "tab:red"}
    fig, axes = plt.subplots(len(trajectories), 4, figsize=(15, 3.1 * len(trajectories)), squeeze=False)
    for r, (dataset, path) in enumerate(trajectories.items()):
        with np.load(path) as blob:
            t = {k: blob[k] for k in blob.files}
        delta_ld = float(t["deltas"][1])
        labels = {"noLD": "without LD (δ=0)", "LD": f"with LD (δ={delta_ld:+g})"}
        ax = axes[r, 0]
        steps = np.arange(1, int(t["steps"]) + 1)
        for ld in ("noLD", "LD"):
            means = t[f"lat_{ld}"].mean(axis=(1, 3, 4))  # (steps, C)
            for c in range(means.shape[1]):
                ax.plot(steps, means[:, c], color=colours[ld], alpha=0.4 + 0.15 * c, lw=1.2, label=labels[ld] if c == 0 else None)
        for c, m in enumerate(t["lat_real"].mean(axis=(0, 2, 3))):
            ax.axhline(m, color="k", ls=":", lw=0.8, label="real slices (VAE latents)" if c == 0 else None)
        ax.set(xlabel="reverse step", ylabel="latent mean per channel", title=f"{dataset}: (a) latent channel means along sampling")
        ax.legend(fontsize=7)
        ax = axes[r, 1]
        edges = np.linspace(-4, 4, bins + 1)
        ax.hist(t["lat_real"].ravel(), bins=edges, density=True, histtype="step", color="k", ls=":", label="real")
        for ld in ("noLD", "LD"):
            ax.hist(t[f"lat_{ld}"][-1].ravel(), bins=edges, density=True, histtype="step", color=colours[ld], label=labels[ld])
        ax.set(xlabel="z₀ value (all channels)", ylabel="density", title="(b) final latent z₀")
        ax.legend(fontsize=7)
        ax = axes[r, 2]
        pixel_edges = np.linspace(-1, 1, 51)
        ax.hist(t["img_real"][:, 0].astype(np.float32).ravel(), bins=pixel_edges, density=True, histtype="step", color="k", ls=":", label="real")
        for ld in ("noLD", "LD"):
            final = t[f"img_{ld}"][-1].astype(np.float32)
            for c, style in zip(range(final.shape[1]), ("-", "--", "-.")):
                ax.hist(final[:, c].ravel(), bins=pixel_edges, density=True, histtype="step", color=colours[ld], ls=style,
                        label=f"{labels[ld]}, RGB" if c == 0 else None)
        ax.set(xlabel="pixel value", ylabel="density", title="(c) image channels at the end")
        ax.legend(fontsize=7)
        ax = axes[r, 3]
        at = t["decoded_steps"] + 1
        for ld in ("noLD", "LD"):
            imgs = t[f"img_{ld}"].astype(np.float32)  # (points, n, 3, H, W)
            for c, style in zip(range(imgs.shape[2]), ("-", "--", "-.")):
                ax.plot(at, imgs[:, :, c].mean(axis=(1, 2, 3)), style, color=colours[ld], marker="o", ms=3, label=labels[ld] if c == 0 else None)
        ax.axhline(float(t["img_real"].astype(np.float32).mean()), color="k", ls=":", lw=0.8, label="real")
        ax.set(xlabel="reverse step (decoded)", ylabel="mean pixel value per channel", title="(d) decoded images along sampling")
        ax.legend(fontsize=7)
    fig.suptitle(f"{method_title(method)}: identical prompts and noise without and with LD", fontsize=10)
    fig.tight_layout()
    save_figure(fig, png, dpi)


def closest_pairs(metric_files: Mapping[tuple[str, str, str], Path], png: Path, dpi: int, per_model: int = 5) -> None:
    """One row per model: its ``per_model`` generated images nearest a training image (pixels), each beside that image.

    Each row is one image (pairs side by side, a gap between pairs): a figure of 16 models × 10
    panels as separate axes took 10 s to lay out and save, longer than the rest of a tiny run's figures.
    """
    models = sorted(metric_files.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] == "LD"))  # no LD first
    pairs = [memorisation_block(path)["closest"][:per_model] for _, path in models]
    columns = max(len(p) for p in pairs)
    fig, axes = plt.subplots(len(models), 1, figsize=(1.15 * 2 * columns + 1.2, 1.3 * len(models) + 0.6), squeeze=False)
    for ax, (((dataset, method, ld), _), closest) in zip(axes[:, 0], zip(models, pairs)):
        row, distances = _pair_strip(closest, columns)
        ax.imshow(row, cmap="gray", vmin=0, vmax=255)
        width = row.shape[1] / columns
        for col, distance in enumerate(distances):
            ax.text(width * col + width * 0.25, -1, f"d={distance:.3f}", ha="center", va="bottom", fontsize=6)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
        ax.set_ylabel(f"{dataset}\n{method_title(method)}{' + LD' if ld == 'LD' else ''}", fontsize=7)
    fig.suptitle("Each model's generated images nearest a training image (pixel RMS distance d):\n"
                 "in each pair the generated image (left) beside its nearest training image (right)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save_figure(fig, png, dpi)


def _pair_strip(closest: Sequence[Mapping], columns: int) -> tuple[np.ndarray, list[float]]:
    """Generated | training pairs in one row, white between pairs, white where a model has fewer pairs."""
    images = [(read_gray(pair["generated"]), read_gray(pair["training"])) for pair in closest]
    h, w = images[0][0].shape
    gap = max(2, w // 8)
    tiles = []
    for col in range(columns):
        generated, training = images[col] if col < len(images) else (np.full((h, w), 255, np.uint8),) * 2
        tiles += [generated, np.full((h, 1), 255, np.uint8), training, np.full((h, gap), 255, np.uint8)]
    return np.concatenate(tiles, axis=1), [float(pair["pixel_distance"]) for pair in closest]
