# Synthetic sets from every fine-tuned model: δ = 0 without LD, the searched δ with LD; for the
# 2×2 also LD@zero (the LD model at δ = 0) and noLD@searched (the noLD model at its own searched δ),
# and with drift.shape channel LD@channel (the LD model at the per-channel δ its search fitted).
# Table 1's sets (noLD, LD) are also sampled with evaluation.seeds − 1 further generation seeds.


rule synthesize:
    input:
        model=trained_model,
        slices="results/data/{dataset}/slices.csv",
        chosen=chosen_delta(),
    output:
        directory("results/samples/{dataset}/{method}/{ld}"),
    log:
        "results/logs/synthesize/{dataset}/{method}/{ld}.log",
    benchmark:
        "results/benchmarks/synthesize/{dataset}/{method}/{ld}.tsv"
    priority: 5
    conda:
        "../envs/ldbench-gpu.yaml"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=GPU_PER_JOB,
    params:
        settings=settings_of(SynthesizeSettings, "dataset"),
        per_channel=lambda wildcards: wildcards.ld.partition("@")[2] == "channel",
        generation_seeds=generation_seeds,
        code=code_stamp("ldbench.stages.synthesize"),
    script:
        "../workflow_scripts/synthesize.py"
