"""Make the rule scripts import this workflow's own library (``../src/ldbench``).

Every rule script imports this module first. A conda environment built from ``envs/*.yaml``
holds only the dependencies, and Snakemake clears PYTHONPATH inside conda environments, so the
library is put on ``sys.path`` here; an ldbench installed elsewhere (another checkout, another
version) never runs in place of the workflow's own code.
"""

import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
if sys.path[:1] != [SRC]:
    sys.path.insert(0, SRC)
