"""Rule paper_counterfactual: the counterfactual-editing, ground-truth, edit − null edit, realism and ageing tables."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

from ldbench.report.counterfactual import (
    counterfactual_frame,
    counterfactual_gain_frame,
    realism_frame,
    write_ageing_table,
    write_counterfactual_tables,
    write_gain_table,
    write_realism_table,
)
from ldbench.workflow import stage

with stage(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output
    results = {tuple(key): Path(path) for key, path in zip(p.result_keys, i.results)}
    frame, summaries = counterfactual_frame(results)
    write_counterfactual_tables(frame, summaries, Path(out.edit[0]).with_suffix(""), Path(out.truth[0]).with_suffix(""))
    write_gain_table(counterfactual_gain_frame(results, p.bootstrap, p.seed), Path(out.gain[0]).with_suffix(""), p.bootstrap)
    write_realism_table(*realism_frame(dict(zip(results, map(Path, i.realism)))), Path(out.realism[0]).with_suffix(""))
    keys = [tuple(key) for key in p.ageing_keys]
    write_ageing_table(dict(zip(keys, map(Path, i.ageing))), Path(out.ageing[0]).with_suffix(""), p.bootstrap, p.seed,
                       realism=dict(zip(keys, map(Path, i.ageing_realism))))
