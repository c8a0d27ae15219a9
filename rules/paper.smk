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
        grids=drift_searches("grid.csv"),
        chosen=drift_searches("chosen.json"),
    output:
        table1=report(
            multiext("results/paper/table1_finetuning", ".csv", ".md", ".tex"),
            caption="../report/table1.rst",
            category="Tables",
        ),
        comparison=report(
            "results/paper/paper_comparison.md",
            caption="../report/paper_comparison.rst",
            category="Tables",
        ),
        ablation=report(
            multiext("results/paper/table_delta_ablation", ".csv", ".md", ".tex"),
            caption="../report/table_delta_ablation.rst",
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
        trajectories=expand(
            "results/drift/{dataset}/{method}/trajectories.npz",
            dataset=DATASETS,
            method=RPS["method"],
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
        fig3=report(
            multiext("results/paper/fig3_latent_distributions", ".png", ".pdf"),
            caption="../report/fig3.rst",
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


rule paper_counterfactual:
    input:
        results=counterfactual_results(),
        ageing=ageing_results(),
    output:
        edit=report(
            multiext("results/paper/table_counterfactual", ".csv", ".md", ".tex"),
            caption="../report/table_counterfactual.rst",
            category="Tables",
        ),
        truth=report(
            multiext("results/paper/table_cf_groundtruth", ".csv", ".md", ".tex"),
            caption="../report/table_cf_groundtruth.rst",
            category="Tables",
        ),
        ageing=report(
            multiext("results/paper/table_ageing", ".csv", ".md", ".tex"),
            caption="../report/table_ageing.rst",
            category="Tables",
        ),
        figures=report(
            expand(
                "results/paper/fig1_counterfactuals_{editor}.{ext}",
                editor=CF["editors"],
                ext=["png", "pdf"],
            ),
            caption="../report/fig1.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_counterfactual/counterfactual.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        editors=CF["editors"],
    script:
        "../workflow_scripts/paper_counterfactual.py"
