# δ grid search for every model, noLD included (inference-only LD, the 2×2), and the loss-target
# ablation's: identical noise for every δ, the model loaded once.


rule drift_search:
    input:
        model="results/models/{dataset}/{method}/{ld}",
        slices="results/data/{dataset}/slices.csv",
        classifier="results/classifiers/{dataset}/real/model.pt",
    output:
        grid="results/drift/{dataset}/{method}/{ld}/grid.csv",
        chosen="results/drift/{dataset}/{method}/{ld}/chosen.json",
        sweep="results/drift/{dataset}/{method}/{ld}/sweep.npz",
    log:
        "results/logs/drift_search/{dataset}/{method}/{ld}.log",
    benchmark:
        "results/benchmarks/drift_search/{dataset}/{method}/{ld}.tsv"
    wildcard_constraints:
        ld="|".join(["noLD", *ld_variants(config)]),
    priority: 6
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(DriftSearchSettings, "dataset"),
        code=code_stamp("ldbench.stages.drift_search"),
    script:
        "../workflow_scripts/drift_search.py"


rule base_delta_sweep:
    input:
        base=base_model_input,
    output:
        "results/drift/base/sweep.npz",
    log:
        "results/logs/base_delta_sweep/base.log",
    benchmark:
        "results/benchmarks/base_delta_sweep/base.tsv"
    priority: 4
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(BaseSweepSettings),
        base_model=base_model_path(),
        code=code_stamp("ldbench.stages.base_sweep"),
    script:
        "../workflow_scripts/base_delta_sweep.py"


rule trajectories:
    input:
        unpack(model_pair()),
        slices="results/data/{dataset}/slices.csv",
    output:
        "results/drift/{dataset}/{method}/trajectories.npz",
    log:
        "results/logs/trajectories/{dataset}/{method}.log",
    benchmark:
        "results/benchmarks/trajectories/{dataset}/{method}.tsv"
    priority: 3
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(TrajectoriesSettings, "dataset"),
        code=code_stamp("ldbench.stages.trajectories"),
    script:
        "../workflow_scripts/trajectories.py"
