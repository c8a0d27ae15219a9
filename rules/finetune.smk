# The four fine-tuning methods × {without, with} Latent Drifting, one engine.


rule encode_latents:
    input:
        slices="results/data/{dataset}/slices.csv",
        base=base_model_input,
    output:
        "results/latents/{dataset}.pt",
    log:
        "results/logs/encode_latents/{dataset}.log",
    benchmark:
        "results/benchmarks/encode_latents/{dataset}.tsv"
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        base_model=base_model_path(),
    script:
        "../workflow_scripts/encode_latents.py"


rule finetune:
    input:
        slices="results/data/{dataset}/slices.csv",
        latents="results/latents/{dataset}.pt",
        base=base_model_input,
    output:
        directory("results/models/{dataset}/{method}/{ld}"),
    log:
        "results/logs/finetune/{dataset}/{method}/{ld}.log",
    benchmark:
        "results/benchmarks/finetune/{dataset}/{method}/{ld}.tsv"
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=GPU_PER_JOB,
    params:
        base_model=base_model_path(),
        work_dir="results/checkpoints/{dataset}/{method}/{ld}",
    script:
        "../workflow_scripts/finetune.py"
