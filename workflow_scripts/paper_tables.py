"""Rule paper_tables: Table 1 from the metric JSON files of this run."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from pathlib import Path

from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation
from ldbench.report.comparison import write_comparison
from ldbench.report.tables import table1_frame, write_table1

with stage(snakemake) as config:
    metric_files = {}
    for path in snakemake.input.fid_kid:
        dataset, stem = Path(path).parts[-3], Path(path).stem
        method, ld = stem.rsplit("-", 1)
        metric_files[(dataset, method, ld)] = Path(path)
    auc_files = {(Path(path).parts[-3], Path(path).stem): Path(path) for path in snakemake.input.auc}
    frame = table1_frame(metric_files, auc_files)
    write_table1(frame, Path(snakemake.output.table1[0]).with_suffix(""))
    write_comparison(frame, Path(snakemake.output.comparison))  # verdicts from the unrounded numbers
    grids = {Path(p).parts[-4:-1]: Path(p).parent for p in snakemake.input.grids}  # (dataset, method, ld)
    write_delta_ablation(delta_ablation_frame(grids), Path(snakemake.output.ablation[0]).with_suffix(""), config["sampling"]["steps"])
