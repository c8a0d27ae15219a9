"""Rule class_images: prior-preservation images of a dataset from the base model, once for all methods."""

import _ldbench_src  # noqa: F401 (this workflow's library first on sys.path)

from ldbench.worker import warm_start

warm_start(snakemake, __file__)  # a warm worker may take the job here; then the imports below never run

from ldbench.settings import ClassImagesSettings
from ldbench.stages.class_images import class_images
from ldbench.workflow import stage

with stage(snakemake, ClassImagesSettings) as settings:
    out = snakemake.output
    class_images(settings, base_model=snakemake.params.base_model, out_path=out.images, preview_png=out.preview)
