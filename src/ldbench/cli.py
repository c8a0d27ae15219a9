"""``ldbench``: the pipeline's stages outside Snakemake, and config checks.

    ldbench check-config [config.yaml configs/smoke.yaml ...]
    ldbench finetune --dataset brain --method basic_ft --ld LD --slices results/data/brain/slices.csv \
        --base results/models/base --out /tmp/model
    ldbench sample --model results/models/brain/basic_ft/LD --prompt "a brain MRI of ..." --delta 0.05 --out x.png

Config files are merged left to right like Snakemake's ``--configfile``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .utils import LdbenchError, setup_logging
from .variants import LOSS_TARGETS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(paths: list[str]) -> dict:
    """Merge YAML files left to right and validate against the schema."""
    import jsonschema

    config: dict = {}
    for path in paths:
        try:
            config = _merge(config, yaml.safe_load(Path(path).read_text()) or {})
        except FileNotFoundError as err:
            raise LdbenchError(f"{path}: config file not found") from err
    schema = yaml.safe_load(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'.'.join(map(str, e.path)) or '<top>'}: {e.message}" for e in errors]
        raise LdbenchError("invalid config:\n  " + "\n  ".join(lines))
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ldbench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate config files against the schema")
    check.add_argument("configs", nargs="*", default=["config.yaml"])

    ft = sub.add_parser("finetune", help="fine-tune one method with or without LD")
    ft.add_argument("--config", nargs="+", default=["config.yaml"])
    ft.add_argument("--dataset", required=True)
    ft.add_argument("--method", required=True)
    ft.add_argument("--ld", choices=["noLD", "LD", *(f"LD_{t}" for t in LOSS_TARGETS)], required=True,
                    help="LD_<target>: LD with the loss target that drift.loss_target does not pick (the δ ablation's)")
    ft.add_argument("--slices", required=True)
    ft.add_argument("--base", required=True, help="base model folder or hub id")
    ft.add_argument("--latents", help="the dataset's latent cache (rule encode_latents); default: encode the slices here")
    ft.add_argument("--out", required=True)

    sm = sub.add_parser("sample", help="generate one image per prompt at a drift δ")
    sm.add_argument("--config", nargs="+", default=["config.yaml"])
    sm.add_argument("--model", required=True)
    sm.add_argument("--prompt", action="append", required=True)
    sm.add_argument("--delta", type=float, default=0.0)
    sm.add_argument("--out", required=True, help="PNG path (a grid when several prompts)")
    args = parser.parse_args(argv)

    setup_logging()
    try:
        if args.command == "check-config":
            load_config(args.configs)
            print("config OK:", " + ".join(args.configs))
        elif args.command == "finetune":
            from .stages.finetune import finetune

            cfg = load_config(args.config)
            finetune(cfg, args.dataset, args.method, args.ld, Path(args.slices), Path(args.latents) if args.latents else None, args.base, Path(args.out), Path(args.out + ".work"))
        elif args.command == "sample":
            from .images import image_grid, save_png, to_gray_uint8
            from .sample import generate
            from .stages.common import inference_model, sampling_kwargs

            cfg = load_config(args.config)
            images = to_gray_uint8(generate(inference_model(cfg, args.model), args.prompt, args.delta, cfg["seed"], **sampling_kwargs(cfg)))
            save_png(args.out, image_grid(list(images), ncols=min(len(images), 8)))
    except LdbenchError as err:
        print(f"ldbench: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
