# FID and KID against the real test split (clean-fid distances), each with a half-sampling
# interval; the real floor at the generated sets' size; an LD model's metrics also hold LD minus
# no LD as a paired difference (its no-LD twin's features are an input).


rule real_features:
    input:
        slices="results/data/{dataset}/slices.csv",
        classifier="results/classifiers/{dataset}/real/model.pt",
    output:
        features="results/metrics/{dataset}/features/real.npz",
        floor="results/metrics/{dataset}/fid_kid/real_floor.json",
    log:
        "results/logs/real_features/{dataset}.log",
    benchmark:
        "results/benchmarks/real_features/{dataset}.tsv"
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(EvaluateSettings),
        code=code_stamp("ldbench.stages.evaluate"),
    script:
        "../workflow_scripts/real_features.py"


rule evaluate:
    input:
        samples="results/samples/{dataset}/{method}/{ld}",
        slices="results/data/{dataset}/slices.csv",
        real="results/metrics/{dataset}/features/real.npz",
        classifier="results/classifiers/{dataset}/real/model.pt",
        baseline=no_ld_baseline,
    output:
        metrics="results/metrics/{dataset}/fid_kid/{method}-{ld}.json",
        features="results/metrics/{dataset}/features/{method}-{ld}.npz",
    log:
        "results/logs/evaluate/{dataset}/{method}-{ld}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{method}-{ld}.tsv"
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(EvaluateSettings),
        code=code_stamp("ldbench.stages.evaluate"),
    script:
        "../workflow_scripts/evaluate.py"
