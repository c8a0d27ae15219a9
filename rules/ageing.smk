# The ageing task with ground truth: InstructPix2Pix trained on longitudinal pairs (earlier →
# later visit) from each of ageing.methods' models without and with LD, scored against the real follow-up;
# the years each edit adds are read by an age regressor trained on the real training split.


rule train_age_regressor:
    input:
        slices="results/data/{dataset}/slices.csv",
    output:
        model="results/age_regressor/{dataset}/model.pt",
        validation="results/age_regressor/{dataset}/validation.json",
    log:
        "results/logs/train_age_regressor/{dataset}.log",
    benchmark:
        "results/benchmarks/train_age_regressor/{dataset}.tsv"
    priority: 5
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(AgeRegressorSettings),
        code=code_stamp("ldbench.stages.age_regressor"),
    script:
        "../workflow_scripts/train_age_regressor.py"


rule ageing:
    input:
        model="results/models/{dataset}/{method}/{ld}",
        chosen=chosen_delta(),
        pairs="results/data/{dataset}/pairs.csv",
        age_regressor="results/age_regressor/{dataset}/model.pt",
        age_regressor_validation="results/age_regressor/{dataset}/validation.json",
    output:
        directory("results/ageing/{dataset}/{method}/{ld}/{encoding}"),
    log:
        "results/logs/ageing/{dataset}/{method}/{ld}/{encoding}.log",
    benchmark:
        "results/benchmarks/ageing/{dataset}/{method}/{ld}/{encoding}.tsv"
    priority: 5
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(AgeingSettings, "dataset", "method", "ld", "encoding"),
        work_dir="results/checkpoints/ageing/{dataset}/{method}/{ld}/{encoding}",
        code=code_stamp("ldbench.stages.ageing"),
    script:
        "../workflow_scripts/ageing.py"


# The paper's ageing FID: each ageing output's edited sets against the real follow-up scans of the
# edited pairs, beside the null edit, reconstruction, unedited earlier scans and a real floor.


rule ageing_realism:
    input:
        results="results/ageing/{dataset}/{method}/{ld}/{encoding}",
        pairs="results/data/{dataset}/pairs.csv",
        evaluator="results/evaluator/{dataset}/model.pt",
    output:
        "results/metrics/{dataset}/ageing_realism/{method}/{ld}/{encoding}.json",
    log:
        "results/logs/ageing_realism/{dataset}/{method}/{ld}/{encoding}.log",
    benchmark:
        "results/benchmarks/ageing_realism/{dataset}/{method}/{ld}/{encoding}.tsv"
    priority: 3
    conda:
        "../envs/ldbench-cpu.yaml"
    threads: THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        settings=settings_of(DistanceSettings),
        code=code_stamp("ldbench.stages.edit_realism", "ldbench.evaluator"),
    script:
        "../workflow_scripts/ageing_realism.py"
