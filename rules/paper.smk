# The paper's tables and figures, assembled only from metric and sample files of this run.
# Each figure is its own rule, so changing one figure's option re-runs only that figure.


rule paper_tables:
    input:
        fid_kid=fid_kid_files(),
        crossed=fid_kid_files(CROSSED_KEYS),
        floors=real_floor_files(),
        auc=auc_files(),
        predictions=auc_files("npz"),
        grids=drift_search_files("grid.csv"),
        chosen=drift_search_files("chosen.json"),
        # the ageing rows of paper_comparison.md (none when ageing.datasets is empty)
        ageing=("results/paper/table_ageing.csv" if AGEING["datasets"] else []),
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
        ld_effect=report(
            multiext("results/paper/table_ld_effect", ".csv", ".md", ".tex"),
            caption="../report/table_ld_effect.rst",
            category="Tables",
        ),
        memorisation=report(
            multiext("results/paper/table_memorisation", ".csv", ".md", ".tex"),
            caption="../report/table_memorisation.rst",
            category="Tables",
        ),
        ld_2x2=report(
            multiext("results/paper/table_ld_2x2", ".csv", ".md", ".tex"),
            caption="../report/table_ld_2x2.rst",
            category="Tables",
        ),
    log:
        "results/logs/paper_tables/table1.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        fid_kid_keys=FID_KID_KEYS,
        crossed_keys=CROSSED_KEYS,
        crossed_methods=CROSSED_METHODS,
        datasets=DATASETS,
        auc_keys=AUC_KEYS,
        auc_bootstrap=config["classifier"]["bootstrap"],
        seed=config["seed"],
        drift_keys=DRIFT_KEYS,
        code=code_stamp(
            "ldbench.report.tables",
            "ldbench.report.comparison",
            "ldbench.report.ablation",
            "ldbench.report.ld_effect",
            "ldbench.report.memorisation",
            "ldbench.report.ld_2x2",
            "ldbench.auc",
        ),
    script:
        "../workflow_scripts/paper_tables.py"


rule fig_metric_vs_n:
    input:
        real=expand("results/metrics/{dataset}/features/real.npz", dataset=DATASETS),
        features=feature_files(),
    output:
        report(
            multiext("results/paper/fig_metric_vs_n", ".png", ".pdf", ".csv"),
            caption="../report/fig_metric_vs_n.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig_metric_vs_n.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        datasets=DATASETS,
        feature_keys=FID_KID_KEYS,
        settings=figure_settings("metric_vs_n"),
        seed=config["seed"],
        code=code_stamp("ldbench.report.sample_size", "ldbench.radiomics"),
    script:
        "../workflow_scripts/fig_metric_vs_n.py"


rule fig_memorisation:
    input:
        metrics=fid_kid_files(),
        samples=sample_dirs(),
        slices=expand("results/data/{dataset}/slices.csv", dataset=DATASETS),
    output:
        report(
            multiext("results/paper/fig_memorisation", ".png", ".pdf"),
            caption="../report/fig_memorisation.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig_memorisation.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        metric_keys=FID_KID_KEYS,
        settings=figure_settings("memorisation"),
        code=code_stamp("ldbench.report.figures"),
    script:
        "../workflow_scripts/fig_memorisation.py"


rule fig2_delta_sweep:
    input:
        sweeps=expand(
            "results/drift/{dataset}/{method}/LD/sweep.npz",
            dataset=DATASETS,
            method=RPS["method"],
        ),
        base="results/drift/base/sweep.npz",
    output:
        report(
            multiext("results/paper/fig2_delta_sweep", ".png", ".pdf"),
            caption="../report/fig2.rst",
            category="Figures",
        ),
        report(
            multiext("results/paper/fig2_delta_sweep_base", ".png", ".pdf"),
            caption="../report/fig2.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig2_delta_sweep.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        datasets=DATASETS,
        method=RPS["method"],
        settings=figure_settings("delta_sweep"),
        code=code_stamp("ldbench.report.figures"),
    script:
        "../workflow_scripts/fig2_delta_sweep.py"


rule fig3_latent_distributions:
    input:
        trajectories=expand(
            "results/drift/{dataset}/{method}/trajectories.npz",
            dataset=DATASETS,
            method=RPS["method"],
        ),
    output:
        report(
            multiext("results/paper/fig3_latent_distributions", ".png", ".pdf"),
            caption="../report/fig3.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig3_latent_distributions.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        datasets=DATASETS,
        method=RPS["method"],
        settings=figure_settings("latent_distributions"),
        code=code_stamp("ldbench.report.figures"),
    script:
        "../workflow_scripts/fig3_latent_distributions.py"


rule fig5_samples_per_method:
    input:
        samples=sample_dirs(),
    output:
        report(
            multiext("results/paper/fig5_samples_per_method", ".png", ".pdf"),
            caption="../report/fig5.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig5_samples_per_method.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        sample_keys=SAMPLE_KEYS,
        datasets=DATASETS,
        methods=METHODS,
        settings=figure_settings("samples_per_method"),
        code=code_stamp("ldbench.report.figures"),
    script:
        "../workflow_scripts/fig5_samples_per_method.py"


rule paper_counterfactual:
    input:
        results=counterfactual_dirs(),
        realism=edit_realism_files(),
        ageing=ageing_dirs(),
        ageing_realism=ageing_realism_files(),
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
        gain=report(
            multiext("results/paper/table_cf_gain", ".csv", ".md", ".tex"),
            caption="../report/table_cf_gain.rst",
            category="Tables",
        ),
        realism=report(
            multiext("results/paper/table_cf_realism", ".csv", ".md", ".tex"),
            caption="../report/table_cf_realism.rst",
            category="Tables",
        ),
        ageing=report(
            multiext("results/paper/table_ageing", ".csv", ".md", ".tex"),
            caption="../report/table_ageing.rst",
            category="Tables",
        ),
    log:
        "results/logs/paper_counterfactual/counterfactual.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        result_keys=COUNTERFACTUAL_KEYS,
        ageing_keys=AGEING_KEYS,
        bootstrap=config["counterfactual"]["bootstrap"],
        seed=config["seed"],
        code=code_stamp("ldbench.report.counterfactual"),
    script:
        "../workflow_scripts/paper_counterfactual.py"


rule fig1_counterfactuals:
    input:
        results=counterfactual_dirs(),
    output:
        report(
            expand(
                "results/paper/fig1_counterfactuals_{editor}.{ext}",
                editor=CF["editors"],
                ext=["png", "pdf"],
            ),
            caption="../report/fig1.rst",
            category="Figures",
        ),
    log:
        "results/logs/paper_figures/fig1_counterfactuals.log",
    localrule: True
    conda:
        "../envs/ldbench-cpu.yaml"
    params:
        result_keys=COUNTERFACTUAL_KEYS,
        editors=CF["editors"],
        settings=figure_settings("counterfactuals"),
        code=code_stamp("ldbench.report.counterfactual"),
    script:
        "../workflow_scripts/fig1_counterfactuals.py"
