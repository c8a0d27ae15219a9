"""Rule paper_tables: Table 1, the LD-effect, 2×2, memorisation and δ ablation tables and the comparison with the paper, from this run's files."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from pathlib import Path

import pandas as pd

from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation
from ldbench.report.comparison import write_comparison
from ldbench.report.ld_2x2 import ld_2x2_frame, write_ld_2x2
from ldbench.report.ld_effect import DOUBLED_VS_CONTROL, MIXED_VS_REAL, ld_effect_frame, paired_auc_effects, write_ld_effect
from ldbench.report.memorisation import memorisation_frame, write_memorisation
from ldbench.report.tables import auc_intervals, fid_label, table1_frame, write_table1
from ldbench.workflow import stage

with stage(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output
    predictions = {tuple(key): Path(path) for key, path in zip(p.auc_keys, i.predictions)}
    frame = table1_frame(
        {tuple(key): Path(path) for key, path in zip(p.fid_kid_keys, i.fid_kid)},
        {tuple(key): Path(path) for key, path in zip(p.auc_keys, i.auc)},
        dict(zip(p.datasets, map(Path, i.floors))),
        auc_intervals(predictions, p.auc_bootstrap, p.seed),
    )
    auc_effects = paired_auc_effects(predictions, p.auc_bootstrap, p.seed)
    effects = ld_effect_frame({(d, m): Path(path) for (d, m, ld), path in zip(p.fid_kid_keys, i.fid_kid) if ld == "LD"}, auc_effects)
    write_table1(frame, Path(out.table1[0]).with_suffix(""))
    write_ld_effect(effects, Path(out.ld_effect[0]).with_suffix(""), p.auc_bootstrap)
    utility = {key: diff for key, diff in auc_effects.items() if key[1] in (MIXED_VS_REAL, DOUBLED_VS_CONTROL)}
    ageing = pd.read_csv(i.ageing) if i.ageing else None
    write_comparison(frame, effects, utility, Path(out.comparison), ageing)  # verdicts from the unrounded numbers
    write_memorisation(memorisation_frame({tuple(key): Path(path) for key, path in zip(p.fid_kid_keys, i.fid_kid)}),
                       Path(out.memorisation[0]).with_suffix(""))
    metric_files = {tuple(key): Path(path) for key, path in zip([*p.fid_kid_keys, *p.crossed_keys], [*i.fid_kid, *i.crossed])
                    if key[1] in p.crossed_methods}
    write_ld_2x2(ld_2x2_frame(metric_files), Path(out.ld_2x2[0]).with_suffix(""), fid_label(frame.attrs["extractor"]))
    grids = {tuple(key): Path(path).parent for key, path in zip(p.drift_keys, i.grids)}
    write_delta_ablation(delta_ablation_frame(grids), Path(out.ablation[0]).with_suffix(""))
