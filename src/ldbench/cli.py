"""``ldbench``: the pipeline's stages outside Snakemake, and config checks.

    ldbench check-config [config.yaml configs/smoke.yaml ...]
    ldbench finetune --dataset brain --method basic_ft --ld LD --slices results/data/brain/slices.csv \
        --base results/models/base --out /tmp/model
    ldbench sample --model results/models/brain/basic_ft/LD --prompt "a brain MRI of ..." --delta 0.05 --out x.png

Config files are merged left to right like Snakemake's ``--configfile`` and validated by the very
function the workflow runs (``ldbench.config.validate_config``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import load_config
from .utils import LdbenchError, setup_logging
from .variants import LOSS_TARGETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ldbench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate config files exactly as the workflow does")
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
    ft.add_argument("--class-images", help="the dataset's class images (rule class_images); default: sample them here when needed")
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
            _finetune(args)
        elif args.command == "sample":
            from .images import image_grid, save_png, to_gray_uint8
            from .sample import generate
            from .settings import PerformanceSettings, Sampling
            from .stages.common import inference_model

            cfg = load_config(args.config)
            model = inference_model(PerformanceSettings.from_config(cfg), args.model)
            images = to_gray_uint8(generate(model, args.prompt, args.delta, cfg["seed"], **Sampling.from_config(cfg).kwargs()))
            save_png(args.out, image_grid(list(images), ncols=min(len(images), 8)))
    except LdbenchError as err:
        print(f"ldbench: error: {err}", file=sys.stderr)
        return 1
    return 0


def _finetune(args: argparse.Namespace) -> None:
    from .settings import ClassImagesSettings, FinetuneSettings
    from .stages.class_images import class_images
    from .stages.finetune import finetune

    cfg = load_config(args.config)
    if args.dataset not in cfg["datasets"]:
        raise LdbenchError(f"--dataset {args.dataset!r} is not in the config's datasets {sorted(cfg['datasets'])}")
    if args.method not in cfg["finetune"]:
        raise LdbenchError(f"--method {args.method!r} has no finetune.{args.method} block in the config")
    settings = FinetuneSettings.from_config(cfg, args.dataset, args.method, args.ld)
    class_file = Path(args.class_images) if args.class_images else None
    if settings.uses_class_images and class_file is None:
        class_file = Path(args.out + ".class_images.pt")
        class_images(ClassImagesSettings.from_config(cfg, args.dataset), args.base, class_file, class_file.with_suffix(".png"))
    finetune(settings, Path(args.slices), Path(args.latents) if args.latents else None, class_file, args.base, Path(args.out),
             Path(args.out + ".work"))


if __name__ == "__main__":
    sys.exit(main())
