# Raw data → slice table: phantoms in the real on-disk layouts, then the real preprocessing path.


rule make_phantoms:
    output:
        directory("results/raw/{dataset}"),
    log:
        "results/logs/make_phantoms/{dataset}.log",
    benchmark:
        "results/benchmarks/make_phantoms/{dataset}.tsv"
    priority: 9
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(PhantomSettings, "dataset"),
        code=code_stamp("ldbench.stages.data"),
    script:
        "../workflow_scripts/make_phantoms.py"


rule preprocess:
    input:
        raw_input,
    output:
        slices="results/data/{dataset}/slices.csv",
        pairs="results/data/{dataset}/pairs.csv",
        overview=report(
            "results/figures/data_{dataset}.png",
            caption="../report/data_overview.rst",
            category="Data",
        ),
    log:
        "results/logs/preprocess/{dataset}.log",
    benchmark:
        "results/benchmarks/preprocess/{dataset}.tsv"
    priority: 9
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=settings_of(PreprocessSettings, "dataset"),
        raw_root=raw_root,
        code=code_stamp("ldbench.stages.data"),
    script:
        "../workflow_scripts/preprocess.py"
