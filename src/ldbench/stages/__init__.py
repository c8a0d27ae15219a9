"""One function per pipeline stage: what a Snakemake rule (or the ``ldbench`` CLI) runs.

Each takes the validated config and explicit paths, reads the previous stage's files and
writes its own outputs atomically.
"""
