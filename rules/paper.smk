# The paper's tables and figures, assembled only from metric and sample files of this run.


rule paper_tables:
    input:
        fid_kid=expand(
            "results/metrics/{dataset}/fid_kid/{method}-{ld}.json",
            dataset=DATASETS,
            method=METHODS,
            ld=LDS,
        ),
        auc=expand(
            "results/metrics/{dataset}/auc/{source}.json",
            dataset=DATASETS,
            source=classifier_sources(),
        ),
    output:
        report(
            multiext("results/paper/table1_finetuning", ".csv", ".md", ".tex"),
            caption="../report/table1.rst",
            category="Tables",
        ),
    log:
        "results/logs/paper_tables/table1.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        datasets=DATASETS,
        methods=METHODS,
        sources=classifier_sources(),
    script:
        "../workflow_scripts/paper_tables.py"


rule paper_figures:
    input:
        sweeps=expand(
            "results/drift/{dataset}/{method}/LD/sweep.npz",
            dataset=DATASETS,
            method=RPS["method"],
        ),
        samples=expand(
            "results/samples/{dataset}/{method}/{ld}",
            dataset=DATASETS,
            method=METHODS,
            ld=LDS,
        ),
    output:
        fig2=report(
            multiext("results/paper/fig2_delta_sweep", ".png", ".pdf"),
            caption="../report/fig2.rst",
            category="Figures",
        ),
        fig5=report(
            multiext("results/paper/fig5_samples_per_method", ".png", ".pdf"),
            caption="../report/fig5.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/figures.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        datasets=DATASETS,
        methods=METHODS,
        sweep_method=RPS["method"],
    script:
        "../workflow_scripts/paper_figures.py"
