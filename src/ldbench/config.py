"""The config: read YAML files, fill the schema's defaults, validate, cross-check.

:func:`validate_config` is the one validation both the workflow (``rules/common.smk``) and
``ldbench check-config`` run, so a config the command accepts is a config the workflow accepts.
The schema file (``schemas/config.schema.yaml``) holds every default; the method and dataset-kind
choices and their own config blocks come from the registries (``ldbench.methods``,
``ldbench.kinds``), so adding a method or a kind never touches the schema file.

Standard library, PyYAML and jsonschema only: the Snakefile imports this when it parses.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .utils import LdbenchError

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(LdbenchError):
    """The config is invalid; the message names every bad key."""


def schema_defaults(properties: Mapping[str, Mapping]) -> dict[str, Any]:
    """The ``default`` of each property of a JSON-schema ``properties`` mapping that has one."""
    return {key: copy.deepcopy(spec["default"]) for key, spec in properties.items() if "default" in spec}


def merge(base: dict, update: Mapping) -> dict:
    """``update`` over ``base`` as Snakemake merges ``--configfile``s: dictionaries merge, the rest replaces."""
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


def read_config_files(paths: Sequence[str | Path]) -> dict:
    """Merge YAML files left to right; a missing or malformed file is named in the error."""
    import yaml

    config: dict = {}
    for path in paths:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except FileNotFoundError as err:
            raise ConfigError(f"{path}: config file not found") from err
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({err})") from err
        if loaded is not None and not isinstance(loaded, Mapping):
            raise ConfigError(f"{path}: a config file must be a mapping of keys to values, got {type(loaded).__name__}")
        config = merge(config, loaded or {})
    return config


def config_schema() -> dict:
    """The schema file with the registries' parts filled in: method and kind choices, method blocks."""
    import yaml

    from .data.drops import REASONS
    from .kinds import kinds
    from .methods import finetuning_methods

    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    definitions = schema["definitions"]
    definitions["method"]["enum"] = list(finetuning_methods())
    definitions["dataset"]["properties"]["kind"]["enum"] = list(kinds())
    definitions["dataset"]["properties"]["max_dropped_fraction_by_reason"]["propertyNames"] = {"enum": list(REASONS)}
    finetune = schema["properties"]["finetune"]["properties"]
    for name, strategy in finetuning_methods().items():
        finetune[name] = strategy.config_schema()
    return schema


def dataset_schema(schema: Mapping, kind: str) -> dict:
    """A ``datasets.<name>`` block of ``kind``: the shared keys, the kind's own keys and its phantom block."""
    from .kinds import get_kind

    dataset_kind = get_kind(kind)
    block = copy.deepcopy(schema["definitions"]["dataset"])
    props = block["properties"]
    props["source"] = {**props["source"], "enum": list(dataset_kind.sources)}
    props["phantom"] = {**props["phantom"], "additionalProperties": False, "properties": copy.deepcopy(dataset_kind.phantom_schema)}
    props.update(copy.deepcopy(dataset_kind.options_schema))
    block["additionalProperties"] = False
    block["definitions"] = schema["definitions"]
    return block


def _validator(schema: Mapping):
    """A Draft 2020-12 validator that fills in defaults as it descends (as Snakemake's ``validate`` does)."""
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, spec in properties.items():
                if isinstance(spec, Mapping) and "default" in spec:
                    instance.setdefault(key, copy.deepcopy(spec["default"]))
        yield from validate_properties(validator, properties, instance, subschema)

    return validators.extend(Draft202012Validator, {"properties": properties_with_defaults})(schema)


def _errors(schema: Mapping, instance: Any, prefix: str = "") -> list[str]:
    found = sorted(_validator(schema).iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    return [f"{'.'.join([*filter(None, prefix.split('.')), *map(str, e.path)]) or '<top>'}: {e.message}" for e in found]


def validate_config(config: dict) -> dict:
    """Fill defaults into ``config`` in place, validate it and cross-check its fields; return it.

    Raises ConfigError listing every problem, each with its key.
    """
    schema = config_schema()
    errors = _errors(schema, config)
    if not errors:
        for name, block in config["datasets"].items():
            errors += _errors(dataset_schema(schema, block["kind"]), block, prefix=f"datasets.{name}")
    if not errors:
        errors = cross_field_errors(config)
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
    return config


def cross_field_errors(config: Mapping) -> list[str]:
    """What the schema cannot express: sums, references between sections, required blocks."""
    errors = []
    for name, ds in config["datasets"].items():
        total = sum(ds["split"].values())
        if abs(total - 1.0) > 1e-6:
            errors.append(f"datasets.{name}.split: fractions must sum to 1, got {total:g}")
        if ds["source"] != "phantom" and not ds.get("root"):
            errors.append(f"datasets.{name}.root: required for source '{ds['source']}' (the dataset folder)")
    methods = list(config["finetune"]["methods"])
    for method in methods:
        if method not in config["finetune"]:
            errors.append(f"finetune.{method}: block missing (the method is listed in finetune.methods); it needs at least lr")
    if config["counterfactual"]["method"] not in methods:
        errors.append(f"counterfactual.method: '{config['counterfactual']['method']}' is not in finetune.methods {methods}")
    rps = config["paper"]["real_plus_synthetic"]["method"]
    if rps not in methods:
        errors.append(f"paper.real_plus_synthetic.method: '{rps}' is not in finetune.methods {methods}")
    for key in ("loss_target_ablation", "ld_2x2"):
        unknown = sorted(set(config["drift"][key]) - set(methods))
        if unknown:
            errors.append(f"drift.{key}: {unknown} are not in finetune.methods {methods}")
    unknown = sorted(set(config["ageing"]["datasets"]) - set(config["datasets"]))
    if unknown:
        errors.append(f"ageing.datasets: {unknown} are not in datasets {list(config['datasets'])}")
    unknown = sorted(set(config["prompt_ablation"]["datasets"]) - set(config["datasets"]))
    if unknown:
        errors.append(f"prompt_ablation.datasets: {unknown} are not in datasets {list(config['datasets'])}")
    unknown = sorted(set(config["ageing"]["methods"]) - set(methods))
    if unknown:
        errors.append(f"ageing.methods: {unknown} are not in finetune.methods {methods}")
    if not str(config["base_model"]["source"]).strip():
        errors.append("base_model.source: empty")
    else:
        from .model_check import compatibility_errors

        errors += compatibility_errors(config)
    return errors


def load_config(paths: Sequence[str | Path]) -> dict:
    """Read, merge and validate config files, as the workflow would with ``--configfile``."""
    return validate_config(read_config_files(paths))
