"""Rule drift_search: the δ grid for one LD model, loaded once."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import DriftSearchSettings
from ldbench.stages.drift_search import drift_search
from ldbench.workflow import stage

with stage(snakemake, DriftSearchSettings) as settings:
    i, o = snakemake.input, snakemake.output
    drift_search(settings, i.model, i.slices, i.classifier, o.grid, o.chosen, o.sweep)
