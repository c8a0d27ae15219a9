"""Rule paper_tables: Table 1, the δ ablation table and the comparison with the paper, from this run's files."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation
from ldbench.report.comparison import write_comparison
from ldbench.report.tables import table1_frame, write_table1

with stage(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output
    frame = table1_frame(
        {tuple(key): Path(path) for key, path in zip(p.fid_kid_keys, i.fid_kid)},
        {tuple(key): Path(path) for key, path in zip(p.auc_keys, i.auc)},
    )
    write_table1(frame, Path(out.table1[0]).with_suffix(""))
    write_comparison(frame, Path(out.comparison))  # verdicts from the unrounded numbers
    grids = {tuple(key): Path(path).parent for key, path in zip(p.drift_keys, i.grids)}
    write_delta_ablation(delta_ablation_frame(grids), Path(out.ablation[0]).with_suffix(""))
