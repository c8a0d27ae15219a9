# FID and KID against the real test split (clean-fid distances), each with a half-sampling
# interval, and precision / recall / density / coverage, on the evaluator network's features;
# the real floor at the generated sets' size; an LD model's metrics also hold LD minus no LD as a
# paired difference (its no-LD twin's features are an input).


rule train_evaluator:
    input:
        slices="results/data/{dataset}/slices.csv",
    output:
        "results/evaluator/{dataset}/model.pt",
    log:
        "results/logs/train_evaluator/{dataset}.log",
    benchmark:
        "results/benchmarks/train_evaluator/{dataset}.tsv"
    priority: 6
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(EvaluatorSettings),
        code=code_stamp("ldbench.stages.evaluate", "ldbench.evaluator"),
    script:
        "../workflow_scripts/train_evaluator.py"


rule real_features:
    input:
        slices="results/data/{dataset}/slices.csv",
        evaluator="results/evaluator/{dataset}/model.pt",
    output:
        features="results/metrics/{dataset}/features/real.npz",
        floor="results/metrics/{dataset}/fid_kid/real_floor.json",
    log:
        "results/logs/real_features/{dataset}.log",
    benchmark:
        "results/benchmarks/real_features/{dataset}.tsv"
    priority: 6
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(EvaluateSettings),
        code=code_stamp(
            "ldbench.stages.evaluate", "ldbench.evaluator", "ldbench.radiomics"
        ),
    script:
        "../workflow_scripts/real_features.py"


rule evaluate:
    input:
        samples="results/samples/{dataset}/{method}/{ld}",
        slices="results/data/{dataset}/slices.csv",
        real="results/metrics/{dataset}/features/real.npz",
        evaluator="results/evaluator/{dataset}/model.pt",
        baseline=no_ld_baseline,
    output:
        metrics="results/metrics/{dataset}/fid_kid/{method}-{ld}.json",
        features="results/metrics/{dataset}/features/{method}-{ld}.npz",
    log:
        "results/logs/evaluate/{dataset}/{method}-{ld}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{method}-{ld}.tsv"
    priority: 4
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(EvaluateSettings),
        code=code_stamp(
            "ldbench.stages.evaluate", "ldbench.evaluator", "ldbench.radiomics"
        ),
    script:
        "../workflow_scripts/evaluate.py"
