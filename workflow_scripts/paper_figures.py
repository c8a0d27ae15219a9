"""Rule paper_figures: the δ sweep (Fig. 2) and samples per method ± LD (Figs. 4–5)."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.figures import delta_sweep, latent_distributions, samples_per_method

with stage(snakemake) as config:
    p = snakemake.params
    sweeps = {Path(path).parts[-4]: Path(path) for path in snakemake.input.sweeps}
    delta_sweep(sweeps, p.sweep_method, Path(snakemake.output.fig2[0]))
    sample_csvs = {tuple(Path(d).parts[-3:]): Path(d) / "samples.csv" for d in snakemake.input.samples}
    samples_per_method(sample_csvs, p.datasets, p.methods, Path(snakemake.output.fig5[0]))
    trajectories = {Path(path).parts[-3]: Path(path) for path in snakemake.input.trajectories}
    latent_distributions(trajectories, p.sweep_method, Path(snakemake.output.fig3[0]))
