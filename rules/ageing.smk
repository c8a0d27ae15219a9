# The ageing task with ground truth: InstructPix2Pix trained on longitudinal pairs (earlier →
# later visit) from the editing model without and with LD, scored against the real follow-up.


rule ageing:
    input:
        model=f"results/models/{{dataset}}/{CF['method']}/{{ld}}",
        chosen=chosen_delta(CF["method"]),
        pairs="results/data/{dataset}/pairs.csv",
    output:
        directory("results/ageing/{dataset}/{ld}"),
    log:
        "results/logs/ageing/{dataset}/{ld}.log",
    benchmark:
        "results/benchmarks/ageing/{dataset}/{ld}.tsv"
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(AgeingSettings, "dataset", "ld"),
        work_dir="results/checkpoints/ageing/{dataset}/{ld}",
        code=code_stamp("ldbench.stages.ageing"),
    script:
        "../workflow_scripts/ageing.py"
