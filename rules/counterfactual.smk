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
    priority: 6
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


# Realism of the edits: FID / KID of each edited set against real test images of the target class,
# beside its null edit, reconstruction, unedited sources and a real floor at the same n.


rule edit_realism:
    input:
        results="results/counterfactual/{dataset}/{editor}",
        slices="results/data/{dataset}/slices.csv",
        evaluator="results/evaluator/{dataset}/model.pt",
    output:
        "results/metrics/{dataset}/edit_realism/{editor}.json",
    log:
        "results/logs/edit_realism/{dataset}/{editor}.log",
    benchmark:
        "results/benchmarks/edit_realism/{dataset}/{editor}.tsv"
    priority: 5
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(EditRealismSettings, "dataset", "editor"),
        code=code_stamp("ldbench.stages.edit_realism", "ldbench.evaluator"),
    script:
        "../workflow_scripts/edit_realism.py"
