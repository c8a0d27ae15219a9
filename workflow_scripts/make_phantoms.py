"""Rule make_phantoms: write the embedded phantom dataset in its real on-disk layout."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import start_in_background

start_in_background()  # no torch here: this job runs in its own process while the warm worker starts for the jobs to come

from ldbench.settings import PhantomSettings
from ldbench.stages.data import make_phantoms
from ldbench.workflow import stage

with stage(snakemake, PhantomSettings, uses_torch=False) as settings:
    make_phantoms(settings, snakemake.output[0])
