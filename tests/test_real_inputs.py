"""Real-layout inputs that are partly broken: every dropped row is counted with its reason and capped,
a failed preprocess leaves no partial output, and outputs get the umask's mode."""

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from fake_data import write_fake_chexpert, write_fake_oasis3

from ldbench.config import load_config
from ldbench.settings import PreprocessSettings
from ldbench.stages.data import preprocess
from ldbench.utils import LdbenchError, atomic_dir, write_csv

REPO = Path(__file__).resolve().parents[1]


def _settings(dataset: str, source: str, **overrides) -> PreprocessSettings:
    config = load_config([REPO / "config.yaml"])
    config["datasets"][dataset].update(source=source, split={"train": 1.0, "val": 0.0, "test": 0.0}, **overrides)
    config["image_size"] = 16
    return PreprocessSettings.from_config(config, dataset)


def _preprocess(settings, root, out):
    return preprocess(settings, root, out, out / "overview.png")


def test_blank_ages_and_text_labels_are_dropped_with_their_reason_and_capped(tmp_path):
    root = write_fake_chexpert(tmp_path / "c")
    csv = root / "CheXpert-v1.0-small" / "train.csv"
    table = pd.read_csv(csv)
    table.loc[table["Path"].str.contains("patient00003"), "Age"] = None  # two studies without an age
    table["Edema"] = table["Edema"].astype(object)
    table.loc[table["Path"].str.contains("patient00002"), "Edema"] = "uncertain"  # text where a number belongs
    table.to_csv(csv, index=False)
    with pytest.raises(LdbenchError, match=r"(?s)2 of 7 inputs dropped for missing_age .*patient00003: Age blank"):
        _preprocess(_settings("cxr", "chexpert"), root, tmp_path / "out")
    assert not (tmp_path / "out" / "images").exists()  # nothing half-written

    generous = _settings("cxr", "chexpert", max_dropped_fraction=0.5)
    slices = _preprocess(generous, root, tmp_path / "out")
    dropped = pd.read_csv(tmp_path / "out" / "dropped.csv")
    assert dict(dropped["reason"].value_counts()) == {"missing_age": 2, "bad_label": 1, "missing_sex": 1}
    assert "Edema = 'uncertain'" in dropped.loc[dropped["reason"] == "bad_label", "detail"].iloc[0]
    assert len(slices) == 7 - 4 and "patient00002" not in set(slices["subject"])


def test_a_clinical_table_missing_a_subject_names_it(tmp_path):
    root = write_fake_oasis3(tmp_path / "o", n_subjects=3, visits=2)
    clinical = pd.read_csv(root / "clinical.csv")
    clinical[clinical["subject"] != "OAS30002"].to_csv(root / "clinical.csv", index=False)
    with pytest.raises(LdbenchError, match=r"(?s)2 of 6 inputs dropped for subject_not_in_clinical_table .*OAS30002"):
        _preprocess(_settings("brain", "oasis3", root=str(root)), root, tmp_path / "out")
    _preprocess(_settings("brain", "oasis3", root=str(root), max_dropped_fraction_by_reason={"subject_not_in_clinical_table": 0.5}),
                root, tmp_path / "out")
    dropped = pd.read_csv(tmp_path / "out" / "dropped.csv")
    assert set(dropped["subject"]) == {"OAS30002"} and set(dropped["reason"]) == {"subject_not_in_clinical_table"}


def test_a_truncated_volume_leaves_no_partial_images_folder(tmp_path):
    root = write_fake_oasis3(tmp_path / "o", n_subjects=3, visits=2)
    volume = max(root.glob("sub-*/ses-*/anat/*.nii.gz"))
    volume.write_bytes(volume.read_bytes()[:200])  # truncated download
    with pytest.raises(LdbenchError, match="unreadable_file"):  # 1 of 6 > 10 %
        _preprocess(_settings("brain", "oasis3", root=str(root)), root, tmp_path / "out")
    out = tmp_path / "out"
    assert not (out / "images").exists() and not any(p.name.startswith(".images") for p in out.iterdir())


def test_outputs_get_the_umask_mode_not_a_temporary_files(tmp_path):
    old = os.umask(0o022)
    try:
        write_csv(tmp_path / "t.csv", pd.DataFrame({"a": [1]}))
        with atomic_dir(tmp_path / "d") as folder:
            (folder / "x").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "t.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_a_stage_summary_reaches_the_terminal_as_well_as_the_rule_log(tmp_path):
    """A job's output goes to its rule log; what it logs to ``ldbench.console`` (dropped inputs) is shown too."""
    import subprocess
    import sys
    import textwrap

    log = tmp_path / "rule.log"
    code = textwrap.dedent(f"""
        import logging, types
        from ldbench.workflow import stage
        job = types.SimpleNamespace(log=[{str(log)!r}], resources={{}}, threads=1, wildcards={{}}, rule="preprocess", params=None)
        with stage(job):
            logging.getLogger("ldbench").info("detail only in the log")
            logging.getLogger("ldbench.console").warning("3 of 10 inputs dropped")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "[preprocess] WARNING 3 of 10 inputs dropped" in proc.stderr and "detail only" not in proc.stderr
    assert "3 of 10 inputs dropped" in log.read_text() and "detail only in the log" in log.read_text()


def test_a_stage_without_torch_does_not_import_it(tmp_path):
    """make_phantoms runs beside the warm worker's start: importing torch there cost it seconds."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys, types
        from ldbench.workflow import stage
        job = types.SimpleNamespace(log=[{str(tmp_path / "rule.log")!r}], resources={{}}, threads=1, wildcards={{}}, rule="make_phantoms", params=None)
        with stage(job, uses_torch=False):
            from ldbench.stages.data import make_phantoms  # the stage's own imports
        open({str(tmp_path / "imported")!r}, "w").write(str("torch" in sys.modules))  # stdout goes to the rule log
    """)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert (tmp_path / "imported").read_text() == "False"
