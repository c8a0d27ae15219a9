"""Rule paper_counterfactual: the counterfactual-editing tables and Fig. 1."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.counterfactual import counterfactual_figure, counterfactual_frame, write_ageing_table, write_counterfactual_tables

with stage(snakemake) as config:
    results = {(Path(p).parts[-2], Path(p).parts[-1]): Path(p) for p in snakemake.input.results}
    frame, summaries = counterfactual_frame(results)
    out = snakemake.output
    write_counterfactual_tables(frame, summaries, Path(out.edit[0]).with_suffix(""), Path(out.truth[0]).with_suffix(""))
    for editor in snakemake.params.editors:
        counterfactual_figure(results, Path(f"results/paper/fig1_counterfactuals_{editor}.png"), editor)
    ageing = {(Path(p).parts[-2], Path(p).parts[-1]): Path(p) for p in snakemake.input.ageing}
    write_ageing_table(ageing, Path(out.ageing[0]).with_suffix(""))
