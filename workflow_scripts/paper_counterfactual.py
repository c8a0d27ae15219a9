"""Rule paper_counterfactual: the counterfactual-editing, ground-truth and ageing tables."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.counterfactual import counterfactual_frame, write_ageing_table, write_counterfactual_tables

with stage(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output
    frame, summaries = counterfactual_frame({tuple(key): Path(path) for key, path in zip(p.result_keys, i.results)})
    write_counterfactual_tables(frame, summaries, Path(out.edit[0]).with_suffix(""), Path(out.truth[0]).with_suffix(""))
    write_ageing_table({tuple(key): Path(path) for key, path in zip(p.ageing_keys, i.ageing)}, Path(out.ageing[0]).with_suffix(""))
