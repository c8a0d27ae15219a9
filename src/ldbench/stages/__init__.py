"""One function per pipeline stage: what a Snakemake rule (or the ``ldbench`` CLI) runs.

Each takes its typed settings (``ldbench.settings``, built from the config in one place) and
explicit paths, reads the previous stage's files and writes its own outputs atomically.
"""
