#!/usr/bin/env bash
# The GPU measurements of benchmarks/RESULTS.md: SD 1.5 shapes, 512 px, one CUDA GPU.
#
#   bash benchmarks/run_gpu_benchmarks.sh OUT_DIR [PART ...]
#
# PARTs (default: all, in this order; each one ends within about 10 minutes on an H100,
# torch.compile's first compilations included):
#   train_basic   recipe vs ours/basic_ft, batch 16
#   train_others  recipe vs DreamBooth, Textual Inversion, Custom Diffusion, batch 16
#   sample        StableDiffusionPipeline vs ours, 50 DDIM steps, CFG 7.5, batch 16
#   memory        Basic FT, batch 1, gradient checkpointing, plain AdamW (the 24 GB point)
#   levers_off    recipe vs ours/basic_ft and sampling with every lever off (what caching alone gives)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash benchmarks/run_gpu_benchmarks.sh OUT_DIR [PART ...]}
shift
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(train_basic train_others sample memory levers_off)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python3 -c "import torch; assert torch.cuda.is_available(), 'benchmarks/run_gpu_benchmarks.sh: no CUDA GPU is visible'"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv"

bench() {
    local name=$1
    shift
    python3 benchmarks/throughput.py --preset sd15 --json "$out/$name.json" "$@" 2>&1 | tee "$out/$name.log"
}
for part in "${parts[@]}"; do
    case $part in
        train_basic) bench train_basic --batch-size 16 --only train --methods basic_ft ;;
        train_others) bench train_others --batch-size 16 --only train --methods dreambooth textual_inversion custom_diffusion ;;
        sample) bench sample --batch-size 16 --only sample --sample-steps 50 --guidance-scale 7.5 ;;
        memory) bench memory --batch-size 1 --only train --methods basic_ft --gradient-checkpointing --train-steps 5 --warmup-steps 2 ;;
        levers_off) bench levers_off --batch-size 16 --methods basic_ft --levers off --sample-batches 1 ;;
        *) echo "unknown part $part" >&2; exit 2 ;;
    esac
done
