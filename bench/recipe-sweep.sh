#!/usr/bin/env bash
# Usage: bench/recipe-sweep.sh OUTDIR [DATA]
# Issue 16's GPU sweep, one command: candidate recipes (bench/recipes/candidates.ts) x 1 seed on the
# CUDA backend, two of them beside the same recipe in PyTorch (bench/pytorch/recipe.py), every epoch
# evaluated on the test split outside the training time; everything under OUTDIR (runs/*.jsonl,
# summary.json, table.md), the table printed last. A hard budget of 450 s (--budget-s) keeps it under
# 8 minutes on one H100/H200 whatever the speeds: a run still going then is cut, later ones are listed
# as not run, and the table is written anyway.
# Expected on an H200 at the speeds of 2026-12-04 (TF32 VGG16-BN 34,000 images/s at batch 512, bf16
# 11,000; PyTorch bf16 70,000; ~8 s of start-up a run): fast-b512-lr0.4 ~60 s + PyTorch ~35 s,
# speed-tf32 ~45 s, speed (bf16) ~115 s + PyTorch ~30 s, fast-b512-lr0.2 ~60 s, fast-b256-lr0.2 ~70 s:
# ~415 s. DATA: a folder with cifar-10-batches-bin/ (default: made from ../shared/cifar10 into OUTDIR/data).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/recipe-sweep.sh OUTDIR [DATA]}
source bench/recipe-data.sh
recipe_data "$out" "${2:-}"
[[ -f dist/bench/time-to-accuracy.js ]] || { echo "recipe-sweep: dist/ is not built (npm run build:ts)" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || true
exec node dist/bench/time-to-accuracy.js --data "$data" --out "$out" --backend cuda --seeds 1 --budget-s "${BUDGET_S:-450}" \
  --recipes "${RECIPES:-fast-b512-lr0.4,speed-tf32,speed,fast-b512-lr0.2,fast-b256-lr0.2}" \
  --pytorch "${PYTORCH:-fast-b512-lr0.4,speed}"
