"""Which δ grid does each ``drift.inference_shift`` mode need? Measure it on a finished run.

For each fine-tuned LD model given, runs the δ grid search (``ldbench.stages.drift_search``, the
DAG's own code) on a wide grid per mode and prints, per δ, the energy distance to the real
validation slices, the paired L1 and FID (domain features) against the real test split. A grid is
usable near 0 when its first neighbours of 0 score about as well as δ = 0 (a sample set that is
already destroyed there leaves the search nothing to find).

    python benchmarks/delta_grid.py --workdir WORKDIR --model results/models/brain/basic_ft/LD

WORKDIR is a finished default run (``snakemake --cores 2``) whose models, slices and real-data
classifier are read; the settings are this checkout's ``config.yaml`` plus any ``--config`` files.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GRIDS = {
    "per_step": [-0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02],
    "initial": [-0.4, -0.2, -0.1, 0.0, 0.1, 0.2, 0.4],
    "per_step_total": [-0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2],
}


def main() -> None:
    from ldbench.config import load_config
    from ldbench.settings import DriftSearchSettings
    from ldbench.stages.drift_search import drift_search

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--model", action="append", required=True, help="a model folder relative to WORKDIR (repeatable)")
    parser.add_argument("--config", action="append", default=[], help="extra config files, as given to snakemake")
    args = parser.parse_args()
    config = load_config([ROOT / "config.yaml", *args.config])
    rows = []
    for model in args.model:
        dataset = Path(model).parts[-3]
        for mode, grid in GRIDS.items():
            base = DriftSearchSettings.from_config(config, dataset)
            settings = dataclasses.replace(base, grid=tuple(grid), sampling=dataclasses.replace(base.sampling, inference_shift=mode))
            with tempfile.TemporaryDirectory() as out:
                out = Path(out)
                drift_search(settings, args.workdir / model, args.workdir / f"results/data/{dataset}/slices.csv",
                             args.workdir / f"results/classifiers/{dataset}/real/model.pt", out / "grid.csv", out / "chosen.json", out / "sweep.npz")
                table = pd.read_csv(out / "grid.csv")
            rows.append(table.assign(model=model, mode=mode, steps=settings.sampling.steps))
    result = pd.concat(rows, ignore_index=True)[["model", "mode", "steps", "delta", "energy", "paired_l1", "fid_domain", "n"]]
    print(result.to_string(index=False, float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
