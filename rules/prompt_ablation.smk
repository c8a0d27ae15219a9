# The paper's prompt ablation: Basic FT + LD fine-tuned once per prompt wording (simple | diverse)
# × patient information (with | without), each sampled at δ = 0 from the same training rows and
# initial noise, and scored like Table 1 (the table's paired differences are against the cell of
# the run's own `prompts`).


rule finetune_prompt_cell:
    input:
        slices="results/data/{dataset}/slices.csv",
        latents="results/latents/{dataset}.pt",
        class_images=[],  # Basic FT has no prior-preservation loss
        base=base_model_input,
    output:
        directory("results/prompt_ablation/{dataset}/{cell}/model"),
    log:
        "results/logs/prompt_ablation/finetune/{dataset}/{cell}.log",
    benchmark:
        "results/benchmarks/prompt_ablation/finetune/{dataset}/{cell}.tsv"
    priority: 6
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(PromptCellFinetuneSettings, "dataset", "cell"),
        base_model=base_model_path(),
        work_dir="results/checkpoints/prompt_ablation/{dataset}/{cell}",
        code=code_stamp("ldbench.stages.finetune"),
    script:
        "../workflow_scripts/finetune.py"


rule synthesize_prompt_cell:
    input:
        model="results/prompt_ablation/{dataset}/{cell}/model",
        slices="results/data/{dataset}/slices.csv",
        chosen=[],  # δ = 0 in every cell: no cell gets a δ search the others lack
    output:
        directory("results/prompt_ablation/{dataset}/{cell}/samples"),
    log:
        "results/logs/prompt_ablation/synthesize/{dataset}/{cell}.log",
    benchmark:
        "results/benchmarks/prompt_ablation/synthesize/{dataset}/{cell}.tsv"
    priority: 4
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(PromptCellSynthesizeSettings, "dataset"),
        per_channel=False,
        generation_seeds=None,
        code=code_stamp("ldbench.stages.synthesize"),
    script:
        "../workflow_scripts/synthesize.py"


rule evaluate_prompt_cell:
    input:
        samples="results/prompt_ablation/{dataset}/{cell}/samples",
        slices="results/data/{dataset}/slices.csv",
        real="results/metrics/{dataset}/features/real.npz",
        evaluator="results/evaluator/{dataset}/model.pt",
        baseline=[],
    output:
        metrics="results/prompt_ablation/{dataset}/{cell}/fid_kid.json",
        features="results/prompt_ablation/{dataset}/{cell}/features.npz",
    log:
        "results/logs/prompt_ablation/evaluate/{dataset}/{cell}.log",
    benchmark:
        "results/benchmarks/prompt_ablation/evaluate/{dataset}/{cell}.tsv"
    priority: 3
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


rule table_prompt_ablation:
    input:
        metrics=prompt_cell_files("fid_kid.json"),
        features=prompt_cell_files("features.npz"),
        real=expand(
            "results/metrics/{dataset}/features/real.npz",
            dataset=PROMPT_ABLATION["datasets"],
        ),
    output:
        report(
            multiext("results/paper/table_prompt_ablation", ".csv", ".md", ".tex"),
            caption="../report/table_prompt_ablation.rst",
            category="Tables",
        ),
    log:
        "results/logs/paper_tables/table_prompt_ablation.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        cell_keys=PROMPT_CELL_KEYS,
        datasets=PROMPT_ABLATION["datasets"],
        reference=PROMPT_REFERENCE_CELL,
        settings=settings_of(DistanceSettings),
        code=code_stamp("ldbench.report.prompt_ablation"),
    script:
        "../workflow_scripts/table_prompt_ablation.py"
