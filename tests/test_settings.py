"""Typed settings built once from the config, their round trip through ``params:``, seeds, stamps."""

import dataclasses
import subprocess
import sys

import pytest
from workflow_helpers import REPO

from ldbench import settings as S
from ldbench.config import load_config
from ldbench.seeds import derive_seed

BUILDERS = {
    "make_phantoms": lambda c: S.PhantomSettings.from_config(c, "brain"),
    "preprocess": lambda c: S.PreprocessSettings.from_config(c, "cxr"),
    "pretrain_base": S.PretrainSettings.from_config,
    "encode_latents": S.LatentsSettings.from_config,
    "class_images": lambda c: S.ClassImagesSettings.from_config(c, "brain"),
    "finetune": lambda c: S.FinetuneSettings.from_config(c, "cxr", "textual_inversion", "LD"),
    "train_classifier": lambda c: S.ClassifySettings.from_config(c, "brain"),
    "drift_search": lambda c: S.DriftSearchSettings.from_config(c, "brain"),
    "synthesize": lambda c: S.SynthesizeSettings.from_config(c, "cxr"),
    "finetune_prompt_cell": lambda c: S.PromptCellFinetuneSettings.from_config(c, "brain", "diverse-noinfo"),
    "synthesize_prompt_cell": lambda c: S.PromptCellSynthesizeSettings.from_config(c, "brain"),
    "evaluate": S.EvaluateSettings.from_config,
    "counterfactual": lambda c: S.CounterfactualSettings.from_config(c, "brain", "sdedit"),
    "ageing": lambda c: S.AgeingSettings.from_config(c, "brain", "basic_ft", "LD", "word"),
    "train_age_regressor": S.AgeRegressorSettings.from_config,
    "edit_realism": lambda c: S.EditRealismSettings.from_config(c, "cxr", "sdedit"),
    "trajectories": lambda c: S.TrajectoriesSettings.from_config(c, "cxr"),
    "figure": lambda c: S.FigureSettings.from_config(c, "delta_sweep"),
}


@pytest.fixture(scope="module")
def config():
    return load_config([REPO / "config.yaml"])


def _plain(value) -> bool:
    """What Snakemake's params trigger records (anything else it silently ignores)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


@pytest.mark.parametrize("stage", sorted(BUILDERS))
def test_settings_round_trip_through_plain_params(config, stage):
    settings = BUILDERS[stage](config)
    params = settings.to_params()
    assert _plain(params), params
    assert type(settings).from_params(params) == settings


def test_finetune_settings_follow_the_recipes(config):
    ti = S.FinetuneSettings.from_config(config, "brain", "textual_inversion", "LD")
    train = ti.train_settings({})
    assert train.lr == pytest.approx(config["finetune"]["textual_inversion"]["lr"] * config["finetune"]["batch_size"])  # scale_lr
    assert train.max_grad_norm is None  # diffusers' textual_inversion.py does not clip
    assert ti.method_block["placeholder_token"] == "<ld-brain>"  # {dataset} filled in
    assert ti.delta == config["drift"]["train_delta"]
    assert S.FinetuneSettings.from_config(config, "brain", "custom_diffusion", "noLD").uses_class_images
    basic = S.FinetuneSettings.from_config(config, "brain", "basic_ft", "noLD")
    assert not basic.uses_class_images and basic.train_settings({}).lr == config["finetune"]["basic_ft"]["lr"]
    assert basic.delta == 0.0
    # noLD models do not depend on the drift settings: those edits re-run only models trained with drift
    drifted = load_config([REPO / "config.yaml"])
    drifted["drift"]["train_delta"], drifted["drift"]["loss_target"] = 0.2, "noise"
    assert S.FinetuneSettings.from_config(drifted, "brain", "basic_ft", "noLD") == basic


def test_library_core_imports_without_torch():
    """The Snakefile imports these while it parses: they must stay light."""
    code = ("import sys; import ldbench.config, ldbench.settings, ldbench.stamps, ldbench.seeds, ldbench.methods, ldbench.kinds; "
            "ldbench.methods.strategies(); ldbench.kinds.kinds(); "
            "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers', 'pandas', 'scipy') if m in sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_seed_streams_are_stable_distinct_and_in_range():
    assert derive_seed(0, "synthesize", "noise") == derive_seed(0, "synthesize", "noise")
    streams = {derive_seed(seed, stage, purpose) for seed in (0, 1) for stage in ("synthesize", "drift_search") for purpose in ("noise", "rows")}
    assert len(streams) == 8
    assert derive_seed(0, "a", 1) != derive_seed(0, "a", 2) != derive_seed(0, "a1")
    assert all(0 <= s < 2**63 for s in streams)


def test_no_stage_adds_offsets_to_the_config_seed():
    import re

    stages = sorted((REPO / "src" / "ldbench").rglob("*.py"))
    offsets = [f"{p.name}: {m.group(0)}" for p in stages for m in re.finditer(r"seed\s*[+*]\s*\d+", p.read_text())]
    assert not offsets


def test_library_stamp_covers_what_a_stage_imports(tmp_path, monkeypatch):
    from ldbench import stamps

    package = tmp_path / "ldbench"
    (package / "reg").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "stage.py").write_text("from .helper import f\n\ndef run():\n    from . import lazy\n")
    (package / "helper.py").write_text("import numpy\nf = 1\n")
    (package / "lazy.py").write_text("from .reg import thing\n")
    (package / "other.py").write_text("x = 1\n")
    (package / "reg" / "__init__.py").write_text("import pkgutil\nthing = 1\n")
    (package / "reg" / "member.py").write_text("y = 1\n")
    monkeypatch.setattr(stamps, "ROOT", package)
    for cached in (stamps._direct_imports, stamps.library_stamp):
        cached.cache_clear()
        monkeypatch.setattr(stamps, cached.__name__, cached)
    deps = stamps.dependencies("ldbench.stage")
    assert deps == ["ldbench", "ldbench.helper", "ldbench.lazy", "ldbench.reg", "ldbench.reg.member", "ldbench.stage"]
    before = stamps.library_stamp("ldbench.stage")
    (package / "other.py").write_text("x = 2\n")  # not imported by the stage
    stamps.library_stamp.cache_clear()
    assert stamps.library_stamp("ldbench.stage") == before
    (package / "reg" / "member.py").write_text("y = 2\n")  # discovered by the registry
    stamps.library_stamp.cache_clear()
    assert stamps.library_stamp("ldbench.stage") != before
    stamps._direct_imports.cache_clear()
    stamps.library_stamp.cache_clear()


def test_dataclass_fields_of_settings_have_no_config_defaults():
    """Defaults live in the schema alone: every stage settings field is filled from the config."""
    engine_only = {"TrainSettings", "EditSettings", "ClassifierSettings"}  # library APIs also used without a config
    for name, cls in vars(S).items():
        if isinstance(cls, type) and issubclass(cls, S.Settings) and cls is not S.Settings and name not in engine_only:
            defaults = [f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING]
            assert not defaults, (name, defaults)
