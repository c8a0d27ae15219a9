# Classifiers on real, synthetic and real+synthetic training data; AUC on the real test split.
# The real-data classifier also scores edits and the δ search's classifier term; FID/KID use the
# evaluator network (rules/evaluate.smk), never a classifier that is reported.


rule train_classifier:
    input:
        slices="results/data/{dataset}/slices.csv",
        samples=samples_for_source,
    output:
        model="results/classifiers/{dataset}/{source}/model.pt",
        metrics="results/metrics/{dataset}/auc/{source}.json",
        predictions="results/metrics/{dataset}/auc/{source}.npz",
    log:
        "results/logs/train_classifier/{dataset}/{source}.log",
    benchmark:
        "results/benchmarks/train_classifier/{dataset}/{source}.tsv"
    priority: 3
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(ClassifySettings, "dataset"),
        code=code_stamp("ldbench.stages.classify"),
    script:
        "../workflow_scripts/train_classifier.py"
