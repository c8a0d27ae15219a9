"""Rule make_phantoms: write the embedded phantom dataset in its real on-disk layout."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.workflow import stage, warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the heavy imports below never run

from ldbench.settings import PhantomSettings
from ldbench.stages.data import make_phantoms

with stage(snakemake, PhantomSettings) as settings:
    make_phantoms(settings, snakemake.output[0])
