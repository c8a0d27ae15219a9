# FID and KID of every synthetic set against the real test split (clean-fid distances).


rule evaluate:
    input:
        samples="results/samples/{dataset}/{method}/{ld}",
        slices="results/data/{dataset}/slices.csv",
        classifier="results/classifiers/{dataset}/real/model.pt",
    output:
        "results/metrics/{dataset}/fid_kid/{method}-{ld}.json",
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
