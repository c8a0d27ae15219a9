# Counterfactual editing of real test images (disease addition / removal), without and with LD,
# scored against the source and, on the phantoms, against the true counterfactual.


rule counterfactual:
    input:
        unpack(model_pair(CF["method"])),
        slices="results/data/{dataset}/slices.csv",
        # effectiveness: a real-data classifier the δ search does not consult (it reads `real`)
        classifier=f"results/classifiers/{{dataset}}/{REAL_DOUBLE_STEPS}/model.pt",
    output:
        directory("results/counterfactual/{dataset}/{editor}"),
    log:
        "results/logs/counterfactual/{dataset}/{editor}.log",
    benchmark:
        "results/benchmarks/counterfactual/{dataset}/{editor}.tsv"
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(CounterfactualSettings, "dataset", "editor"),
        code=code_stamp("ldbench.stages.counterfactual"),
    script:
        "../workflow_scripts/counterfactual.py"
