"""Training and sampling throughput: the diffusers recipe against ldbench, side by side (issue 7).

    # what CI runs (CPU, tiny shapes, seconds)
    python benchmarks/throughput.py --preset tiny --batch-size 4 --train-steps 3 --warmup-steps 1 --sample-steps 4
    # the measurement of benchmarks/RESULTS.md (one GPU, SD 1.5 shapes, 512 px, batch 16)
    python benchmarks/throughput.py --preset sd15 --batch-size 16 --json benchmarks/h100.json
    # FLOPs per image and the limits they set (meta tensors: instant, no GPU needed)
    python benchmarks/throughput.py --preset sd15 --flops-only
    # memory: Basic FT at SD 1.5 shapes, batch 1, gradient checkpointing, plain AdamW
    python benchmarks/throughput.py --preset sd15 --batch-size 1 --gradient-checkpointing --methods basic_ft --only train
    # the same, counted on fake tensors (any machine, minutes): an estimate, not a GPU reading
    python benchmarks/throughput.py --preset sd15 --batch-size 1 --gradient-checkpointing --methods basic_ft --memory-estimate

The logic lives in ``harness.py`` beside this file; this file only parses arguments and writes the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from harness import FINETUNING_METHODS, PRESETS, BenchSettings, estimate_training_memory, flop_budget, markdown, run

from ldbench.utils import write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model shapes: sd15 (SD 1.5, 512 px) or tiny")
    parser.add_argument("--batch-size", type=int, default=16, help="UNet batch of every variant (DreamBooth: half instance, half class)")
    parser.add_argument("--train-steps", type=int, default=20, help="timed training steps per variant")
    parser.add_argument("--warmup-steps", type=int, default=5, help="untimed steps first (compilation, allocator)")
    parser.add_argument("--sample-steps", type=int, default=50, help="DDIM steps per image")
    parser.add_argument("--guidance-scale", type=float, default=7.5)
    parser.add_argument("--sample-batches", type=int, default=2, help="timed sampling calls of --batch-size images")
    parser.add_argument("--methods", nargs="+", choices=FINETUNING_METHODS, default=list(FINETUNING_METHODS))
    parser.add_argument("--levers", choices=["auto", "on", "off"], default="auto", help="compile / CUDA graphs / channels_last of our variants (auto: on with a GPU)")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="our training variants recompute activations")
    parser.add_argument("--only", choices=["all", "train", "sample"], default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--flops-only", action="store_true", help="print the FLOP budget per image (meta tensors: instant, any machine) and stop")
    parser.add_argument("--memory-estimate", action="store_true",
                        help="count each method's training peak memory on fake tensors (torch's MemTracker; any machine) and stop")
    parser.add_argument("--peak-tflops", type=float, default=777.0, help="dense bf16 matmul TFLOP/s for --flops-only's limits (H100 SXM: about 777)")
    args = parser.parse_args(argv)

    if args.flops_only:
        budget = flop_budget(args.preset, args.sample_steps, args.guidance_scale > 1, args.peak_tflops)
        for key, value in budget.items():
            print(f"{key:40s} {value:14.2f} images/s" if key.endswith("_at_peak") else f"{key:40s} {value / 1e12:14.4f} TFLOP/image")
        if args.json:
            write_json(args.json, {"preset": args.preset, "sample_steps": args.sample_steps, "peak_tflops": args.peak_tflops, "budget": budget})
        return 0

    if args.memory_estimate:
        estimates = []
        for method in args.methods:
            estimates.append(estimate_training_memory(args.preset, method, args.batch_size, args.gradient_checkpointing, args.seed))
            parts = ", ".join(f"{k} {v:.2f}" for k, v in estimates[-1]["at_peak_gib"].items() if v >= 0.005)
            print(f"{method:20s} batch {args.batch_size:3d}  gradient checkpointing {args.gradient_checkpointing!s:5s}  "
                  f"peak {estimates[-1]['peak_gib']:6.2f} GiB  ({parts})")
        if args.json:
            write_json(args.json, {"estimates": estimates})
        return 0

    try:
        settings = BenchSettings(
            preset=args.preset, batch_size=args.batch_size, train_steps=args.train_steps, warmup_steps=args.warmup_steps,
            sample_steps=args.sample_steps, guidance_scale=args.guidance_scale, sample_batches=args.sample_batches,
            methods=tuple(args.methods), levers=args.levers, gradient_checkpointing=args.gradient_checkpointing, seed=args.seed,
            only=args.only,
        )
    except ValueError as err:
        parser.error(str(err))
    report = run(settings)
    print()
    print(markdown(report))
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
