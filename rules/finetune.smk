# The fine-tuning methods × {without, with} Latent Drifting, one engine; and what they share per
# dataset: the training slices' latents and the prior-preservation class images.


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
    priority: 8
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(LatentsSettings),
        base_model=base_model_path(),
        code=code_stamp("ldbench.stages.latents"),
    script:
        "../workflow_scripts/encode_latents.py"


rule class_images:
    input:
        base=base_model_input,
    output:
        images="results/class_images/{dataset}.pt",
        preview="results/class_images/{dataset}.png",
    log:
        "results/logs/class_images/{dataset}.log",
    benchmark:
        "results/benchmarks/class_images/{dataset}.tsv"
    priority: 8
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(ClassImagesSettings, "dataset"),
        base_model=base_model_path(),
        code=code_stamp("ldbench.stages.class_images"),
    script:
        "../workflow_scripts/class_images.py"


rule finetune:
    input:
        slices="results/data/{dataset}/slices.csv",
        latents="results/latents/{dataset}.pt",
        class_images=class_images_input,
        base=base_model_input,
    output:
        directory("results/models/{dataset}/{method}/{ld}"),
    log:
        "results/logs/finetune/{dataset}/{method}/{ld}.log",
    benchmark:
        "results/benchmarks/finetune/{dataset}/{method}/{ld}.tsv"
    priority: 7
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(FinetuneSettings, "dataset", "method", "ld"),
        base_model=base_model_path(),
        work_dir="results/checkpoints/{dataset}/{method}/{ld}",
        code=code_stamp("ldbench.stages.finetune"),
    script:
        "../workflow_scripts/finetune.py"
