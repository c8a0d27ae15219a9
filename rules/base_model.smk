# The embedded base model: a small SD-architecture model pre-trained on natural images that ship
# inside PyPI wheels (only when base_model.source is "embedded").


rule pretrain_base:
    output:
        directory("results/models/base"),
    log:
        "results/logs/pretrain_base/base.log",
    benchmark:
        "results/benchmarks/pretrain_base/base.tsv"
    priority: 9
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: max(THREADS, config["base_model"]["embedded"]["threads"])
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(PretrainSettings),
        work_dir="results/checkpoints/base",
        code=code_stamp("ldbench.stages.base_model"),
    script:
        "../workflow_scripts/pretrain_base.py"
