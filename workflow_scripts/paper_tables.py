"""Rule paper_tables: Table 1 from the metric JSON files of this run."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # noqa: F821 (injected by Snakemake); skips heavy imports

from pathlib import Path  # noqa: E402

from ldbench.report.tables import table1_frame, write_table1  # noqa: E402

with stage(snakemake) as config:  # noqa: F821 (injected by Snakemake)
    metric_files = {}
    for path in snakemake.input.fid_kid:
        dataset, stem = Path(path).parts[-3], Path(path).stem
        method, ld = stem.rsplit("-", 1)
        metric_files[(dataset, method, ld)] = Path(path)
    auc_files = {(Path(path).parts[-3], Path(path).stem): Path(path) for path in snakemake.input.auc}
    write_table1(table1_frame(metric_files, auc_files), Path(snakemake.output[0]).with_suffix(""))
